import * as pulumi from "@pulumi/pulumi";

/**
 * The value of an Output under mocks, or its rejection. Uses the SDK's internal `promise()`, since
 * `apply` never runs its callback for a failed Output and a test must see the failure.
 */
export function valueOf<T>(output: pulumi.Input<T>): Promise<T> {
    return (pulumi.output(output) as any).promise() as Promise<T>;
}
