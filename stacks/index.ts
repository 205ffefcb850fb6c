/**
 * Picks the composition for a stack. Every stack of this project is a workload account today (dev, prod);
 * a stack kind is chosen here, from configuration, never inside the compositions.
 */
import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig, StackConfig } from "./config";
import { createAwsProvider } from "./provider";
import { createWorkload } from "./workload";

export { parseStackConfig };
export type { StackConfig };

/** Builds the stack named `stackName` from the raw Pulumi config and returns its outputs. */
export function buildStack(stackName: string, rawConfig: Record<string, string>): Record<string, pulumi.Input<unknown>> {
    const config = parseStackConfig(stackName, rawConfig);
    const provider = createAwsProvider(config);
    return createWorkload(config, provider).outputs;
}
