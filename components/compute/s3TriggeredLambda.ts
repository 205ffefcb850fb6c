/**
 * A TypeScript Lambda function fed by S3 object-created events through its own SQS queue (./triggerQueue),
 * with its own log group, least-privilege role and dead-letter queues. Used for `GlueTriggerLambda-{stage}`,
 * the Parquet trigger and the claims validation.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { PolicyStatement, sqsConsumeStatement } from "../iam/iamPolicies";
// The function's side of the queue feed: the variables through which it learns its queue and its waits.
import { QUEUE_FEED_ENV } from "../../functions/shared/queueFeed";
import {
    AsyncInvocationSettings,
    createLambdaFunctionResources,
    validateAsyncInvocation,
    validateEntryAndEnvironment,
    validateFunctionName,
    validateFunctionSettings,
} from "./lambdaFunctionResources";
import { createTriggerQueue, TRIGGER_QUEUE_DEFAULTS, TriggerQueueSettings, validateTriggerQueueSettings } from "./triggerQueue";

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

/**
 * With the async retry settings (`maximumRetryAttempts`, `maximumEventAgeSeconds`): S3 no longer invokes the
 * function, but the async path stays for events already in Lambda's async queue when a stack moves to the
 * queue, and for a direct asynchronous invocation (they still end in the old dead-letter queue, which replay
 * drains).
 */
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
    /** Account that owns the bucket, for the queue policy's `aws:SourceAccount`. @default the function's account */
    readonly bucketOwnerAccountId?: pulumi.Input<string>;
    /**
     * Whether to create the bucket's aws.s3.BucketNotification. S3 keeps one notification configuration per
     * bucket, so when several consumers share a bucket, pass false and put `queueNotification` of each into
     * one BucketNotification that `dependsOn` each component's `queuePolicy`. @default true
     */
    readonly createNotification?: boolean;
    /** The queue feed: batch size, maximum concurrency, receives before the DLQ, the waits. @default see TriggerQueueSettings */
    readonly queue?: TriggerQueueSettings;
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
    validateTriggerQueueSettings(LABEL, args.queue ?? {}, args.reservedConcurrency);
    if (args.environment !== undefined && !pulumi.Output.isInstance(args.environment)) {
        const set = Object.values(QUEUE_FEED_ENV).filter((key) => key in (args.environment as object));
        if (set.length > 0) throw new Error(`${LABEL}: environment sets ${set.join(", ")}; the component sets them from its queue and \`queue\``);
    }
}

/** The function's queue-feed variables (functions/shared/queueFeed.ts): its queue, and the waits when set. */
export function queueFeedEnvironment(queueUrl: pulumi.Input<string>, settings: TriggerQueueSettings = {}): Record<string, pulumi.Input<string>> {
    return {
        [QUEUE_FEED_ENV.queueUrl]: queueUrl,
        ...(settings.requeueBaseDelaySeconds !== undefined ? { [QUEUE_FEED_ENV.requeueBaseDelaySeconds]: String(settings.requeueBaseDelaySeconds) } : {}),
        ...(settings.maxWaitAttempts !== undefined ? { [QUEUE_FEED_ENV.maxWaitAttempts]: String(settings.maxWaitAttempts) } : {}),
    };
}

/**
 * The function and everything around it:
 *
 * - code: `entry` bundled by esbuild (`bundleFunction`) into `index.js`; `bundleSha256` is the bundle's hash,
 *   so a stack can export (and prod compare) exactly which code it runs;
 * - log group `/aws/lambda/<functionName>` created before the function, with retention and optional KMS;
 * - role with an inline least-privilege policy (`executionPolicy`);
 * - its queue (`<functionName>-queue`, SSE-SQS, TLS only, only S3 may send, for this bucket and its owner
 *   account) with its own dead-letter queue (`<functionName>-queue-dlq`) after `queue.maxReceiveCount`
 *   receives, and the event source mapping (batch size, maximum concurrency, partial batch failures); the
 *   role may receive, delete, re-send and change the visibility of messages of this queue only;
 * - the bucket notification (object-created, suffix/prefix filter) to the queue, after the queue's policy;
 * - the older path, kept: an SQS dead-letter queue (`<functionName>-dlq`) as the async on-failure
 *   destination, after `maximumRetryAttempts` retries or `maximumEventAgeSeconds`. S3 no longer invokes the
 *   function, but events Lambda still held in its async queue when the stack moved to the queue end there,
 *   and `npm run replay` drains it: removing it could lose them.
 *
 * Sharing a bucket: with `createNotification: false`, no notification is created; build one
 * `aws.s3.BucketNotification` with `queues: [a.queueNotification, b.queueNotification]` and
 * `dependsOn: [a.queuePolicy, b.queuePolicy]` (S3 sends a test message when the notification is saved).
 */
export class S3TriggeredLambda extends pulumi.ComponentResource {
    public readonly function: aws.lambda.Function;
    public readonly role: aws.iam.Role;
    public readonly rolePolicy: aws.iam.RolePolicy;
    public readonly logGroup: aws.cloudwatch.LogGroup;
    public readonly deadLetterQueue: aws.sqs.Queue;
    public readonly deadLetterQueuePolicy: aws.sqs.QueuePolicy;
    public readonly eventInvokeConfig: aws.lambda.FunctionEventInvokeConfig;
    /** The queue S3 sends the bucket's events to, and the function reads (and re-sends waiting files to). */
    public readonly queue: aws.sqs.Queue;
    public readonly queuePolicy: aws.sqs.QueuePolicy;
    /** Where a message goes after `queue.maxReceiveCount` failed receives. */
    public readonly queueDeadLetterQueue: aws.sqs.Queue;
    public readonly queueDeadLetterQueuePolicy: aws.sqs.QueuePolicy;
    public readonly eventSourceMapping: aws.lambda.EventSourceMapping;
    /** Undefined when `createNotification` is false. */
    public readonly notification?: aws.s3.BucketNotification;
    /** The entry of a BucketNotification's `queues` that feeds this function. */
    public readonly queueNotification: aws.types.input.s3.BucketNotificationQueue;
    /** Lowercase hex SHA-256 of the deployed `index.js`. */
    public readonly bundleSha256: pulumi.Output<string>;
    public readonly bundleBytes: number;

    constructor(name: string, args: S3TriggeredLambdaArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("glue-pipeline:compute:S3TriggeredLambda", name, {}, opts);

        validateS3TriggeredLambdaArgs(args);
        const bucketName = aws.s3.Bucket.isInstance(args.bucket) ? args.bucket.bucket : pulumi.output(args.bucket.name);
        const bucketArn = aws.s3.Bucket.isInstance(args.bucket) ? args.bucket.arn : pulumi.output(args.bucket.arn);

        const timeoutSeconds = args.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
        const settings = args.queue ?? {};
        // The account is known from the caller's identity without a function ARN (the queue comes first).
        const sourceAccount = args.bucketOwnerAccountId !== undefined ? pulumi.output(args.bucketOwnerAccountId) : aws.getCallerIdentityOutput({}, { parent: this }).accountId;
        const feed = createTriggerQueue(this, name, {
            functionName: args.functionName,
            functionTimeoutSeconds: timeoutSeconds,
            sender: { bucketArn, bucketOwnerAccountId: sourceAccount },
            maxReceiveCount: settings.maxReceiveCount,
            tags: args.tags,
        });
        this.queue = feed.queue;
        this.queuePolicy = feed.queuePolicy;
        this.queueDeadLetterQueue = feed.deadLetterQueue;
        this.queueDeadLetterQueuePolicy = feed.deadLetterQueuePolicy;

        const core = createLambdaFunctionResources(this, name, {
            ...args,
            environment: pulumi.output(args.environment ?? {}).apply((vars) => ({ ...vars, ...queueFeedEnvironment(this.queue.url, settings) })),
            policyStatements: pulumi
                .all([pulumi.output(args.policyStatements ?? []), this.queue.arn])
                .apply(([statements, queueArn]) => [...(statements as PolicyStatement[]), sqsConsumeStatement(queueArn, "ConsumeOwnQueue")]),
            label: LABEL,
            defaults: { timeoutSeconds: DEFAULT_TIMEOUT_SECONDS, memorySizeMb: DEFAULT_MEMORY_MB },
            // S3 invokes asynchronously: a failed event is retried, then kept in the DLQ, never dropped silently.
            asyncInvocation: { maximumRetryAttempts: args.maximumRetryAttempts, maximumEventAgeSeconds: args.maximumEventAgeSeconds },
            defaultDescription: `Fed by S3 object-created events (${args.filterSuffix}) through its queue`,
        });
        const bundle = core.bundle;
        this.logGroup = core.logGroup;
        this.deadLetterQueue = core.deadLetterQueue!;
        this.deadLetterQueuePolicy = core.deadLetterQueuePolicy!;
        this.eventInvokeConfig = core.eventInvokeConfig!;
        this.role = core.role;
        this.rolePolicy = core.rolePolicy;
        this.function = core.function;

        this.eventSourceMapping = new aws.lambda.EventSourceMapping(
            `${name}-queue-events`,
            {
                eventSourceArn: this.queue.arn,
                functionName: this.function.arn,
                batchSize: settings.batchSize ?? TRIGGER_QUEUE_DEFAULTS.batchSize,
                // The handler answers batchItemFailures: only the messages it names are received again.
                functionResponseTypes: ["ReportBatchItemFailures"],
                scalingConfig: { maximumConcurrency: settings.maximumConcurrency ?? TRIGGER_QUEUE_DEFAULTS.maximumConcurrency },
                tags: args.tags,
            },
            // Lambda checks that the role may receive from the queue when the mapping is created.
            { parent: this, dependsOn: [this.rolePolicy] },
        );

        const events = [...(args.events ?? OBJECT_CREATED_EVENTS)];
        this.queueNotification = {
            queueArn: this.queue.arn,
            events,
            filterSuffix: args.filterSuffix,
            ...(args.filterPrefix !== undefined ? { filterPrefix: args.filterPrefix } : {}),
        };
        if (args.createNotification ?? true) {
            this.notification = new aws.s3.BucketNotification(
                `${name}-notification`,
                { bucket: bucketName, queues: [this.queueNotification] },
                // S3 sends a test message when saving the configuration; without the queue policy it fails.
                { parent: this, dependsOn: [this.queuePolicy] },
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
            queueUrl: this.queue.url,
            queueDeadLetterQueueUrl: this.queueDeadLetterQueue.url,
            bundleSha256: this.bundleSha256,
        });
    }
}
