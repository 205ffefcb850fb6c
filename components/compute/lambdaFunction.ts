/**
 * LambdaFunction: a TypeScript Lambda function that another service invokes directly (Step Functions, a
 * schedule, another function), with the same bundle, log group, role and tracing as S3TriggeredLambda —
 * built by the same helper (./lambdaFunctionResources) — and none of the S3 wiring.
 *
 * A dead-letter queue applies only to asynchronous invocations; a function that Step Functions invokes
 * synchronously returns its errors to the state machine, which retries and catches them. So the DLQ and
 * the async retry configuration exist only when `asyncInvocation` is given.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
    AsyncInvocationSettings,
    LambdaFunctionBasics,
    createLambdaFunctionResources,
    validateAsyncInvocation,
    validateEntryAndEnvironment,
    validateFunctionName,
    validateFunctionSettings,
} from "./lambdaFunctionResources";

export type { AsyncInvocationSettings } from "./lambdaFunctionResources";

const LABEL = "LambdaFunction";
export const LAMBDA_FUNCTION_DEFAULTS = { timeoutSeconds: 30, memorySizeMb: 256 } as const;

export interface LambdaFunctionArgs extends LambdaFunctionBasics {
    /** @default 30 */
    readonly timeoutSeconds?: number;
    /** @default 256 */
    readonly memorySizeMb?: number;
    /**
     * Services allowed to invoke the function through a resource policy, e.g. `events.amazonaws.com` with
     * the rule's ARN. Step Functions needs none: its role's `lambda:InvokeFunction` is enough. @default none
     */
    readonly invokers?: readonly { readonly principal: string; readonly sourceArn: pulumi.Input<string> }[];
    /** Create a DLQ and an async retry policy, for functions invoked asynchronously. @default none */
    readonly asyncInvocation?: AsyncInvocationSettings;
}

/** Checks the plain (non-Output) arguments; throws with a message naming the field. */
export function validateLambdaFunctionArgs(args: LambdaFunctionArgs): void {
    validateFunctionName(LABEL, args.functionName);
    validateFunctionSettings(LABEL, args, LAMBDA_FUNCTION_DEFAULTS);
    if (args.asyncInvocation) validateAsyncInvocation(LABEL, args.asyncInvocation, "asyncInvocation.");
    for (const invoker of args.invokers ?? []) {
        if (!/^[a-z0-9.-]+\.amazonaws\.com$/.test(invoker.principal)) {
            throw new Error(`${LABEL}: invokers principal ${JSON.stringify(invoker.principal)} is not a service principal`);
        }
    }
    validateEntryAndEnvironment(LABEL, args);
}

export class LambdaFunction extends pulumi.ComponentResource {
    public readonly function: aws.lambda.Function;
    public readonly role: aws.iam.Role;
    public readonly rolePolicy: aws.iam.RolePolicy;
    public readonly logGroup: aws.cloudwatch.LogGroup;
    /** Only with `asyncInvocation`. */
    public readonly deadLetterQueue?: aws.sqs.Queue;
    public readonly deadLetterQueuePolicy?: aws.sqs.QueuePolicy;
    public readonly eventInvokeConfig?: aws.lambda.FunctionEventInvokeConfig;
    public readonly permissions: aws.lambda.Permission[];
    public readonly functionName: pulumi.Output<string>;
    public readonly functionArn: pulumi.Output<string>;
    /** Lowercase hex SHA-256 of the deployed `index.js`. */
    public readonly bundleSha256: pulumi.Output<string>;
    public readonly bundleBytes: number;

    constructor(name: string, args: LambdaFunctionArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("glue-pipeline:compute:LambdaFunction", name, {}, opts);

        validateLambdaFunctionArgs(args);
        const core = createLambdaFunctionResources(this, name, {
            ...args,
            label: LABEL,
            defaults: LAMBDA_FUNCTION_DEFAULTS,
            defaultDescription: `Function ${args.functionName}`,
        });
        this.function = core.function;
        this.role = core.role;
        this.rolePolicy = core.rolePolicy;
        this.logGroup = core.logGroup;
        this.deadLetterQueue = core.deadLetterQueue;
        this.deadLetterQueuePolicy = core.deadLetterQueuePolicy;
        this.eventInvokeConfig = core.eventInvokeConfig;
        this.permissions = (args.invokers ?? []).map(
            (invoker, i) =>
                new aws.lambda.Permission(
                    `${name}-invoke-${i}`,
                    { action: "lambda:InvokeFunction", function: this.function.name, principal: invoker.principal, sourceArn: invoker.sourceArn },
                    { parent: this },
                ),
        );

        this.functionName = this.function.name;
        this.functionArn = this.function.arn;
        this.bundleSha256 = pulumi.output(core.bundle.sha256);
        this.bundleBytes = core.bundle.bytes;

        this.registerOutputs({
            functionName: this.functionName,
            functionArn: this.functionArn,
            roleArn: this.role.arn,
            logGroupName: this.logGroup.name,
            bundleSha256: this.bundleSha256,
        });
    }
}
