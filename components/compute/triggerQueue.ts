/**
 * The queue between S3 and a triggered function (issue: bursts absorbed without a person): S3 event
 * notification → this SQS queue → a Lambda event source mapping with a maximum concurrency → the function,
 * which reports per-message failures and re-sends a capacity-refused message with a growing delay
 * (functions/shared/queueFeed.ts holds the function's side of this contract).
 *
 * A burst of uploads therefore waits in the queue instead of failing: the mapping hands the function at
 * most `maximumConcurrency` batches at a time, a start Glue refuses for concurrency goes back to the queue
 * (a new message, so its receive count starts again), and only a message that keeps failing for another
 * reason reaches this queue's own dead-letter queue after `maxReceiveCount` receives.
 *
 * Encryption is SSE-SQS, not the stack's customer managed key: S3 can send to a queue under a customer
 * managed key only when that key's policy lets s3.amazonaws.com call kms:GenerateDataKey and kms:Decrypt
 * (the AWS managed key for SQS cannot be used at all) — "Granting permissions to publish event notification
 * messages to a destination", https://docs.aws.amazon.com/AmazonS3/latest/userguide/grant-destinations-permissions-to-s3.html
 * (AWS KMS key policy). The messages carry the event only (bucket, key, size, ETag, version id), never file
 * content, so SSE-SQS protects them at rest without admitting S3 to the data-lake key that encrypts the
 * data itself, and the consumer needs no KMS grant for the queue.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { PolicyDocument, PolicyStatement, denyInsecureQueueTransport, policyDocument } from "../iam/iamPolicies";
import { DEAD_LETTER_RETENTION_SECONDS, deadLetterQueuePolicy } from "./lambdaFunctionResources";

/** How the queue feeds the function. Every field has a default; the stack's `trigger.queue` sets them. */
export interface TriggerQueueSettings {
    /**
     * Messages (files) per invocation, 1-10 (beyond 10 SQS needs a batching window, which would delay every
     * file). @default 10
     */
    readonly batchSize?: number;
    /**
     * Most concurrent invocations the event source mapping makes (2-1000; AWS's minimum is 2): how many
     * batches are worked on at once, whatever the backlog. At most the function's reserved concurrency when it
     * has one, or the mapping is throttled. @default 2
     */
    readonly maximumConcurrency?: number;
    /** Receives of one message before SQS moves it to the dead-letter queue (1-1000). @default 5 */
    readonly maxReceiveCount?: number;
    /** The first re-send delay of a capacity-refused start, in seconds (1-900). @default the function's (30) */
    readonly requeueBaseDelaySeconds?: number;
    /** Waits for capacity before a file counts as failed (1-10000). @default the function's (100) */
    readonly maxWaitAttempts?: number;
}

export const TRIGGER_QUEUE_DEFAULTS = { batchSize: 10, maximumConcurrency: 2, maxReceiveCount: 5 } as const;

/** AWS's recommendation for an event source mapping: the queue's visibility timeout at least 6 × the function timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;
/**
 * Four days, SQS's default. A re-sent message is a new message, so retention never runs out while a file
 * waits for capacity (each wait is one delay of at most 900 s); it bounds only how long a message may sit
 * unreceived (a stopped mapping). Shorter than the dead-letter queue's 14 days on purpose: a message moved
 * to a dead-letter queue keeps its first enqueue time, so the DLQ must keep messages longer than the source.
 */
export const TRIGGER_QUEUE_RETENTION_SECONDS = 4 * 24 * 3600;
/** SQS's longest DelaySeconds: one wait lasts at most this (retention exceeds it by far). */
export const LONGEST_WAIT_SECONDS = 900;

/** The queue's visibility timeout for a function timeout (Lambda's 900 s at most: 5,400 s, within SQS's 12 h). */
export function visibilityTimeoutSeconds(functionTimeoutSeconds: number): number {
    return functionTimeoutSeconds * VISIBILITY_TIMEOUT_FACTOR;
}

function requireIntegerIn(label: string, value: number | undefined, min: number, max: number, field: string): void {
    if (value === undefined) return;
    if (!Number.isInteger(value) || value < min || value > max) {
        throw new Error(`${label}: ${field} must be a whole number from ${min} to ${max}, got ${value}`);
    }
}

/**
 * Checks the settings against AWS's limits and the function's reserved concurrency; throws with
 * a message naming the field (`queue.<field>`).
 */
export function validateTriggerQueueSettings(label: string, settings: TriggerQueueSettings, reservedConcurrency?: number): void {
    requireIntegerIn(label, settings.batchSize, 1, 10, "queue.batchSize");
    requireIntegerIn(label, settings.maximumConcurrency, 2, 1000, "queue.maximumConcurrency");
    requireIntegerIn(label, settings.maxReceiveCount, 1, 1000, "queue.maxReceiveCount");
    requireIntegerIn(label, settings.requeueBaseDelaySeconds, 1, LONGEST_WAIT_SECONDS, "queue.requeueBaseDelaySeconds");
    requireIntegerIn(label, settings.maxWaitAttempts, 1, 10000, "queue.maxWaitAttempts");
    const concurrency = settings.maximumConcurrency ?? TRIGGER_QUEUE_DEFAULTS.maximumConcurrency;
    // 0 is the kill switch: the mapping is throttled and messages wait (then reach the DLQ), as intended.
    if (reservedConcurrency !== undefined && reservedConcurrency > 0 && concurrency > reservedConcurrency) {
        throw new Error(`${label}: queue.maximumConcurrency ${concurrency} exceeds reservedConcurrency ${reservedConcurrency}; the mapping would be throttled`);
    }
}

/**
 * The queue's policy: refuse anything not sent over TLS, and let only S3 send, for this bucket in its
 * owner's account (S3 presents the bucket's ARN as aws:SourceArn).
 */
export function triggerQueuePolicy(queueArn: string, bucketArn: string, bucketOwnerAccountId: string): PolicyDocument {
    const allowS3: PolicyStatement = {
        Sid: "AllowS3EventNotifications",
        Effect: "Allow",
        Principal: { Service: "s3.amazonaws.com" },
        Action: "sqs:SendMessage",
        Resource: queueArn,
        Condition: { ArnEquals: { "aws:SourceArn": bucketArn }, StringEquals: { "aws:SourceAccount": bucketOwnerAccountId } },
    };
    return policyDocument([denyInsecureQueueTransport(queueArn), allowS3]);
}

/**
 * The queue's policy when a role sends (one function hands work to another, e.g. the trigger to the CSV
 * converter): refuse anything not sent over TLS, and admit that role. No deny for other principals: an
 * operator's own identity policy must still be able to send (`npm run replay` routes a replayed file to the
 * queue as the trigger would), and no other principal of the account is granted SendMessage by this stack.
 */
export function roleSenderQueuePolicy(queueArn: string, senderRoleArn: string): PolicyDocument {
    const allowRole: PolicyStatement = {
        Sid: "AllowSenderRole",
        Effect: "Allow",
        Principal: { AWS: senderRoleArn },
        Action: "sqs:SendMessage",
        Resource: queueArn,
    };
    return policyDocument([denyInsecureQueueTransport(queueArn), allowRole]);
}

/** Who sends to the queue: S3 for one bucket (event notifications), or one IAM role. */
export type TriggerQueueSender =
    | { readonly bucketArn: pulumi.Input<string>; readonly bucketOwnerAccountId: pulumi.Input<string> }
    | { readonly roleArn: pulumi.Input<string> };

export interface TriggerQueueArgs {
    /** Names the queues: `<functionName>-queue` and `<functionName>-queue-dlq`. */
    readonly functionName: string;
    readonly functionTimeoutSeconds: number;
    readonly sender: TriggerQueueSender;
    /**
     * A customer managed key for both queues. Only for a role sender with kms:GenerateDataKey on it (S3
     * cannot use the key; see the module comment). @default SSE-SQS
     */
    readonly kmsKeyArn?: pulumi.Input<string>;
    readonly maxReceiveCount?: number;
    readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export interface TriggerQueue {
    readonly queue: aws.sqs.Queue;
    readonly queuePolicy: aws.sqs.QueuePolicy;
    readonly deadLetterQueue: aws.sqs.Queue;
    readonly deadLetterQueuePolicy: aws.sqs.QueuePolicy;
}

/**
 * Creates the queue, its dead-letter queue and both policies as children of `parent`, named `${name}-queue`,
 * `-queue-policy`, `-queue-dlq`, `-queue-dlq-policy`.
 */
export function createTriggerQueue(parent: pulumi.Resource, name: string, args: TriggerQueueArgs): TriggerQueue {
    const sender = args.sender;
    if ("bucketArn" in sender && args.kmsKeyArn !== undefined) {
        throw new Error(`createTriggerQueue ${name}: a queue S3 sends to cannot use a customer managed key (SSE-SQS only)`);
    }
    const encryption = args.kmsKeyArn !== undefined ? { kmsMasterKeyId: args.kmsKeyArn } : { sqsManagedSseEnabled: true };
    const deadLetterQueue = new aws.sqs.Queue(
        `${name}-queue-dlq`,
        {
            name: `${args.functionName}-queue-dlq`,
            messageRetentionSeconds: DEAD_LETTER_RETENTION_SECONDS,
            ...encryption,
            tags: args.tags,
        },
        { parent },
    );
    const deadLetterQueuePolicyResource = new aws.sqs.QueuePolicy(
        `${name}-queue-dlq-policy`,
        { queueUrl: deadLetterQueue.url, policy: deadLetterQueue.arn.apply((arn) => JSON.stringify(deadLetterQueuePolicy(arn))) },
        { parent },
    );
    const queue = new aws.sqs.Queue(
        `${name}-queue`,
        {
            name: `${args.functionName}-queue`,
            visibilityTimeoutSeconds: visibilityTimeoutSeconds(args.functionTimeoutSeconds),
            messageRetentionSeconds: TRIGGER_QUEUE_RETENTION_SECONDS,
            ...encryption,
            redrivePolicy: deadLetterQueue.arn.apply((deadLetterTargetArn) =>
                JSON.stringify({ deadLetterTargetArn, maxReceiveCount: args.maxReceiveCount ?? TRIGGER_QUEUE_DEFAULTS.maxReceiveCount }),
            ),
            tags: args.tags,
        },
        { parent },
    );
    const queuePolicy = new aws.sqs.QueuePolicy(
        `${name}-queue-policy`,
        {
            queueUrl: queue.url,
            policy:
                "roleArn" in sender
                    ? pulumi.all([queue.arn, pulumi.output(sender.roleArn)]).apply(([queueArn, roleArn]) => JSON.stringify(roleSenderQueuePolicy(queueArn, roleArn)))
                    : pulumi
                          .all([queue.arn, pulumi.output(sender.bucketArn), pulumi.output(sender.bucketOwnerAccountId)])
                          .apply(([queueArn, bucketArn, account]) => JSON.stringify(triggerQueuePolicy(queueArn, bucketArn, account))),
        },
        { parent },
    );
    return { queue, queuePolicy, deadLetterQueue, deadLetterQueuePolicy: deadLetterQueuePolicyResource };
}
