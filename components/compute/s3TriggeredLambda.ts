/**
 * A TypeScript Lambda function invoked asynchronously by S3 object-created events, with its own log group,
 * least-privilege role, dead-letter queue and retry policy. Used for `GlueTriggerLambda-{stage}`.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { PolicyStatement } from "../iam/iamPolicies";
import {
    AsyncInvocationSettings,
    accountOfArn,
    createLambdaFunctionResources,
    validateAsyncInvocation,
    validateEntryAndEnvironment,
    validateFunctionName,
    validateFunctionSettings,
} from "./lambdaFunctionResources";

// The shared parts live in ./lambdaFunctionResources; re-exported so existing imports keep working.
export {
    DEAD_LETTER_RETENTION_SECONDS,
    DEFAULT_LOG_RETENTION_DAYS,
    DEFAULT_MAXIMUM_EVENT_AGE_SECONDS,
    DEFAULT_MAXIMUM_RETRY_ATTEMPTS,
    LAMBDA_ARCHITECTURE,
    LAMBDA_HANDLER,
    LAMBDA_RUNTIME,
    LOG_RETENTION_DAYS,
    RESERVED_ENVIRONMENT_VARIABLES,
    accountOfArn,
    deadLetterQueuePolicy,
    executionPolicy,
    lambdaLogGroupName,
} from "./lambdaFunctionResources";
export type { ExecutionPolicyParams } from "./lambdaFunctionResources";

export const DEFAULT_TIMEOUT_SECONDS = 30;
export const DEFAULT_MEMORY_MB = 256;
export const OBJECT_CREATED_EVENTS: readonly string[] = ["s3:ObjectCreated:*"];

const LABEL = "S3TriggeredLambda";

/** A bucket given by name and ARN, when the caller does not hold the aws.s3.Bucket (e.g. another stack's). */
export interface BucketReference {
    readonly name: pulumi.Input<string>;
    readonly arn: pulumi.Input<string>;
}

/** With the async retry settings (`maximumRetryAttempts`, `maximumEventAgeSeconds`) of every S3-invoked function. */
export interface S3TriggeredLambdaArgs extends AsyncInvocationSettings {
    /** Function name (`GlueTriggerLambda-{stage}`); also names the log group and the DLQ. 1-64 of `A-Za-z0-9-_`. */
    readonly functionName: string;
    /** Handler source, relative to the repository root (e.g. `functions/glue-trigger/handler.ts`), exporting `handler`. */
    readonly entry: string;
    /** The bucket whose object-created events invoke the function. */
    readonly bucket: aws.s3.Bucket | BucketReference;
    /** Only keys ending in this suffix trigger the function (e.g. `.csv`). Required, so no function fires on every object. */
    readonly filterSuffix: string;
    /** Only keys under this prefix trigger the function. @default whole bucket */
    readonly filterPrefix?: string;
    /** Event types. @default ["s3:ObjectCreated:*"] */
    readonly events?: readonly string[];
    /** Account that owns the bucket, for the permission's `sourceAccount`. @default the function's account */
    readonly bucketOwnerAccountId?: pulumi.Input<string>;
    /**
     * Whether to create the bucket's aws.s3.BucketNotification. S3 keeps one notification configuration per
     * bucket, so when several consumers share a bucket, pass false and put `lambdaNotification` of each into
     * one BucketNotification that `dependsOn` each component's `permission`. @default true
     */
    readonly createNotification?: boolean;
    /** Environment variables of the function. @default none */
    readonly environment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /**
     * Statements added to the role's inline policy (e.g. glue:StartJobRun on the job, DynamoDB items on the
     * table, s3:GetObject on the input prefix). Build them with ./iamPolicies; Resource "*" is rejected for
     * S3, DynamoDB, Glue, KMS and SQS actions. @default none
     */
    readonly policyStatements?: pulumi.Input<readonly PolicyStatement[]>;
    /** @default 30 */
    readonly timeoutSeconds?: number;
    /**
     * Memory in MB. Default 256 rather than Lambda's 128: Lambda's CPU share scales with memory, and at 128 MB
     * the cold start of a bundle carrying AWS SDK v3 clients takes roughly twice as long; since the function runs
     * about twice as fast, the GB-seconds billed are about the same, and at this volume the cost is cents.
     * @default 256
     */
    readonly memorySizeMb?: number;
    /**
     * Reserved concurrency: caps parallel invocations (and guarantees them). 0 is a kill switch: events are
     * throttled, retried by Lambda for `maximumEventAgeSeconds`, then land in the DLQ. Unset by default because
     * a new account keeps only 10 unreserved executions and a reservation fails there. @default none
     */
    readonly reservedConcurrency?: number;
    /**
     * KMS key for environment variables, the log group and the DLQ. The key policy must let
     * `logs.<region>.amazonaws.com` use it for this log group (DataLakeBuckets' key does for `/aws/lambda/*`).
     * @default AWS-managed encryption (SQS-managed SSE for the DLQ)
     */
    readonly kmsKeyArn?: pulumi.Input<string>;
    /** Days the log group keeps events. @default 14 */
    readonly logRetentionDays?: number;
    readonly description?: string;
    readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** Checks the plain (non-Output) arguments; throws with a message naming the field. */
export function validateS3TriggeredLambdaArgs(args: S3TriggeredLambdaArgs): void {
    validateFunctionName(LABEL, args.functionName);
    if (typeof args.filterSuffix !== "string" || args.filterSuffix === "") {
        throw new Error(`${LABEL}: filterSuffix is required (e.g. ".csv"), so that the function does not fire on every object`);
    }
    if (args.filterPrefix !== undefined && (args.filterPrefix === "" || args.filterPrefix.startsWith("/"))) {
        throw new Error(`${LABEL}: filterPrefix ${JSON.stringify(args.filterPrefix)} must be non-empty and not start with '/' (omit it for the whole bucket)`);
    }
    const events = args.events ?? OBJECT_CREATED_EVENTS;
    if (events.length === 0 || events.some((e) => !/^s3:[A-Za-z]+:[A-Za-z*]+$/.test(e) && !/^s3:[A-Za-z]+$/.test(e))) {
        throw new Error(`${LABEL}: events ${JSON.stringify(events)} must be S3 event types such as s3:ObjectCreated:*`);
    }
    validateFunctionSettings(LABEL, args, { timeoutSeconds: DEFAULT_TIMEOUT_SECONDS, memorySizeMb: DEFAULT_MEMORY_MB });
    validateAsyncInvocation(LABEL, args);
    validateEntryAndEnvironment(LABEL, args);
}

/**
 * The function and everything around it:
 *
 * - code: `entry` bundled by esbuild (`bundleFunction`) into `index.js`; `bundleSha256` is the bundle's hash,
 *   so a stack can export (and prod compare) exactly which code it runs;
 * - log group `/aws/lambda/<functionName>` created before the function, with retention and optional KMS;
 * - role with an inline least-privilege policy (`executionPolicy`);
 * - SQS dead-letter queue as the async on-failure destination, after `maximumRetryAttempts` retries or
 *   `maximumEventAgeSeconds`: a failed S3 event is never dropped silently;
 * - permission for s3.amazonaws.com, scoped to the bucket and its owner account, and the bucket
 *   notification (object-created, suffix/prefix filter) that depends on it.
 *
 * Sharing a bucket: with `createNotification: false`, no notification is created; build one
 * `aws.s3.BucketNotification` with `lambdaFunctions: [a.lambdaNotification, b.lambdaNotification]` and
 * `dependsOn: [a.permission, b.permission]` (S3 validates the permission when the notification is saved).
 */
export class S3TriggeredLambda extends pulumi.ComponentResource {
    public readonly function: aws.lambda.Function;
    public readonly role: aws.iam.Role;
    public readonly rolePolicy: aws.iam.RolePolicy;
    public readonly logGroup: aws.cloudwatch.LogGroup;
    public readonly deadLetterQueue: aws.sqs.Queue;
    public readonly deadLetterQueuePolicy: aws.sqs.QueuePolicy;
    public readonly eventInvokeConfig: aws.lambda.FunctionEventInvokeConfig;
    public readonly permission: aws.lambda.Permission;
    /** Undefined when `createNotification` is false. */
    public readonly notification?: aws.s3.BucketNotification;
    /** The entry of a BucketNotification's `lambdaFunctions` that invokes this function. */
    public readonly lambdaNotification: aws.types.input.s3.BucketNotificationLambdaFunction;
    /** Lowercase hex SHA-256 of the deployed `index.js`. */
    public readonly bundleSha256: pulumi.Output<string>;
    public readonly bundleBytes: number;

    constructor(name: string, args: S3TriggeredLambdaArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("glue-pipeline:compute:S3TriggeredLambda", name, {}, opts);

        validateS3TriggeredLambdaArgs(args);
        const bucketName = aws.s3.Bucket.isInstance(args.bucket) ? args.bucket.bucket : pulumi.output(args.bucket.name);
        const bucketArn = aws.s3.Bucket.isInstance(args.bucket) ? args.bucket.arn : pulumi.output(args.bucket.arn);

        const core = createLambdaFunctionResources(this, name, {
            ...args,
            label: LABEL,
            defaults: { timeoutSeconds: DEFAULT_TIMEOUT_SECONDS, memorySizeMb: DEFAULT_MEMORY_MB },
            // S3 invokes asynchronously: a failed event is retried, then kept in the DLQ, never dropped silently.
            asyncInvocation: { maximumRetryAttempts: args.maximumRetryAttempts, maximumEventAgeSeconds: args.maximumEventAgeSeconds },
            defaultDescription: `Invoked by S3 object-created events (${args.filterSuffix})`,
        });
        const bundle = core.bundle;
        this.logGroup = core.logGroup;
        this.deadLetterQueue = core.deadLetterQueue!;
        this.deadLetterQueuePolicy = core.deadLetterQueuePolicy!;
        this.eventInvokeConfig = core.eventInvokeConfig!;
        this.role = core.role;
        this.rolePolicy = core.rolePolicy;
        this.function = core.function;

        const sourceAccount = args.bucketOwnerAccountId !== undefined ? pulumi.output(args.bucketOwnerAccountId) : this.function.arn.apply(accountOfArn);
        this.permission = new aws.lambda.Permission(
            `${name}-s3-invoke`,
            {
                action: "lambda:InvokeFunction",
                function: this.function.name,
                principal: "s3.amazonaws.com",
                sourceArn: bucketArn,
                sourceAccount,
            },
            { parent: this },
        );

        const events = [...(args.events ?? OBJECT_CREATED_EVENTS)];
        this.lambdaNotification = {
            lambdaFunctionArn: this.function.arn,
            events,
            filterSuffix: args.filterSuffix,
            ...(args.filterPrefix !== undefined ? { filterPrefix: args.filterPrefix } : {}),
        };
        if (args.createNotification ?? true) {
            this.notification = new aws.s3.BucketNotification(
                `${name}-notification`,
                { bucket: bucketName, lambdaFunctions: [this.lambdaNotification] },
                // S3 test-invokes the destination when saving the configuration; without the permission it fails.
                { parent: this, dependsOn: [this.permission] },
            );
        }

        this.bundleSha256 = pulumi.output(bundle.sha256);
        this.bundleBytes = bundle.bytes;

        this.registerOutputs({
            functionName: this.function.name,
            functionArn: this.function.arn,
            roleArn: this.role.arn,
            logGroupName: this.logGroup.name,
            deadLetterQueueUrl: this.deadLetterQueue.url,
            deadLetterQueueArn: this.deadLetterQueue.arn,
            bundleSha256: this.bundleSha256,
        });
    }
}
