/**
 * The contract of a queue-fed function (the CSV/Parquet trigger, the claims validation) with the stack that
 * feeds it: S3 event notification → its own SQS queue → a Lambda event source mapping → the handler. Both
 * functions' contracts include these names, so the infrastructure sets them through one spelling.
 *
 * What the mapping and the queue must be for the handler's behaviour to hold:
 * - the mapping reports partial batch failures (`FunctionResponseTypes: ["ReportBatchItemFailures"]`): the
 *   handler returns `batchItemFailures` for the messages that failed and only those are received again;
 * - a capacity refusal (Glue's concurrency limit) is NOT a failure: the handler sends the message again to the
 *   queue named by {@link QUEUE_FEED_ENV}.queueUrl with a growing `DelaySeconds` and reports the original
 *   handled, so the queue's redrive policy (maxReceiveCount) counts only real failures and a healthy file
 *   never reaches the dead-letter queue by waiting;
 * - the function therefore needs `sqs:SendMessage` on its own queue besides what the mapping needs
 *   (`sqs:ReceiveMessage`, `sqs:DeleteMessage`, `sqs:GetQueueAttributes`); the queues use SQS-managed
 *   encryption (components/compute/triggerQueue.ts says why), so no KMS permission is involved.
 *
 * Bundled into the Lambdas: no Pulumi or AWS SDK imports here.
 */

/** Environment variable names, by the configuration field they fill. */
export const QUEUE_FEED_ENV = {
    /**
     * The URL of the queue that feeds the function; a message whose start Glue refused for capacity is sent
     * again to it. Unset: derived from the message's `eventSourceARN` (the standard
     * `https://sqs.<region>.amazonaws.com/<account>/<name>` form).
     */
    queueUrl: "QUEUE_URL",
    /** The first re-send's delay in seconds; each later one doubles it, up to {@link MAX_SQS_DELAY_SECONDS}. */
    requeueBaseDelaySeconds: "REQUEUE_BASE_DELAY_SECONDS",
    /** The longest re-send delay in seconds; at most (and by default) {@link MAX_SQS_DELAY_SECONDS}. */
    requeueMaxDelaySeconds: "REQUEUE_MAX_DELAY_SECONDS",
    /**
     * How many times one file may wait for capacity before it counts as failed (START_FAILED, the message
     * reported as a batch failure, so the redrive policy moves it to the dead-letter queue in the end).
     */
    maxWaitAttempts: "MAX_WAIT_ATTEMPTS",
} as const;

/** SQS's largest `DelaySeconds`: 15 minutes. */
export const MAX_SQS_DELAY_SECONDS = 900;

/** What the function assumes when a variable is unset. */
export const QUEUE_FEED_DEFAULTS = {
    requeueBaseDelaySeconds: 30,
    /** 30 s doubling to the 900 s cap: about 24 hours of waiting before a file counts as failed. */
    maxWaitAttempts: 100,
} as const;

/**
 * The message attribute (a `Number`) carrying how many times the message's file has already waited for
 * capacity; absent on a message S3 sent. The record's `wait_attempts` says the same.
 */
export const WAIT_ATTEMPT_ATTRIBUTE = "wait_attempt";
