/**
 * Backpressure for the queue-fed triggers: when Glue refuses a start for lack of room (its concurrency limit,
 * or throttling), the file is not failed. Its record becomes WAITING with the number of times it has waited,
 * and the queue batch loop (./s3Batch) sends the message again to the function's own queue with a growing
 * `DelaySeconds`, reporting the original handled.
 *
 * Why a re-send rather than a batch failure with a longer visibility timeout: the queue's redrive policy
 * counts every receive of a message, so a message kept waiting by returning it would reach the dead-letter
 * queue after maxReceiveCount refusals, healthy as it is. A re-sent message is a new message with a receive
 * count of zero; only failures of another kind are reported as batch item failures, so only a message that
 * keeps failing for another reason reaches the dead-letter queue.
 *
 * Under at-least-once delivery: the record is marked WAITING before the message is re-sent. If the re-send
 * fails, the original is reported failed and comes back (that receive counts, as any real failure does),
 * finds the record WAITING and claims it. If the invocation dies after the re-send, the original comes back
 * too and two copies circulate; each claims the record in turn (one claim at a time wins), so at most one
 * run starts, and whichever copy arrives after it finds the record STARTED and is skipped.
 */
import { EnvReader } from "./env";
import { ProcessingRecordStore, RecordWriteResult } from "./processingRecords";
import { MAX_SQS_DELAY_SECONDS, QUEUE_FEED_DEFAULTS, QUEUE_FEED_ENV } from "./queueFeed";

/** How a queue-fed function re-sends capacity-refused messages (env: ./queueFeed's QUEUE_FEED_ENV). */
export interface QueueFeedConfig {
    /** The queue to re-send to; absent: derived from each message's `eventSourceARN`. */
    readonly queueUrl?: string;
    readonly requeueBaseDelaySeconds: number;
    readonly requeueMaxDelaySeconds: number;
    /** Waits allowed per file; the next refusal after them fails the file (START_FAILED, batch failure). */
    readonly maxWaitAttempts: number;
}

export const DEFAULT_QUEUE_FEED: QueueFeedConfig = {
    requeueBaseDelaySeconds: QUEUE_FEED_DEFAULTS.requeueBaseDelaySeconds,
    requeueMaxDelaySeconds: MAX_SQS_DELAY_SECONDS,
    maxWaitAttempts: QUEUE_FEED_DEFAULTS.maxWaitAttempts,
};

/** An SQS queue URL (`https://sqs.<region>.amazonaws.com/<account>/<name>`; any host, for emulators). */
export const SQS_QUEUE_URL = /^https?:\/\/[^\s/]+\/\d{12}\/[A-Za-z0-9_-]{1,80}(\.fifo)?$/;

/** Reads the queue feed's variables (both functions' config loaders call this). */
export function readQueueFeedConfig(r: EnvReader): QueueFeedConfig {
    const queueUrl = r.string(QUEUE_FEED_ENV.queueUrl, { default: "", pattern: SQS_QUEUE_URL, describe: "an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>)" });
    return {
        ...(queueUrl ? { queueUrl } : {}),
        requeueBaseDelaySeconds: r.int(QUEUE_FEED_ENV.requeueBaseDelaySeconds, { default: DEFAULT_QUEUE_FEED.requeueBaseDelaySeconds, min: 0, max: MAX_SQS_DELAY_SECONDS }),
        requeueMaxDelaySeconds: r.int(QUEUE_FEED_ENV.requeueMaxDelaySeconds, { default: DEFAULT_QUEUE_FEED.requeueMaxDelaySeconds, min: 0, max: MAX_SQS_DELAY_SECONDS }),
        maxWaitAttempts: r.int(QUEUE_FEED_ENV.maxWaitAttempts, { default: DEFAULT_QUEUE_FEED.maxWaitAttempts, min: 1, max: 10_000 }),
    };
}

/** The delay before the message of a file's `waitAttempt`-th wait (1 = the first) comes back: base × 2^(n−1), capped. */
export function requeueDelaySeconds(waitAttempt: number, feed: Pick<QueueFeedConfig, "requeueBaseDelaySeconds" | "requeueMaxDelaySeconds">): number {
    if (!Number.isInteger(waitAttempt) || waitAttempt < 1) throw new RangeError(`waitAttempt must be an integer >= 1, got ${waitAttempt}`);
    const cap = Math.min(feed.requeueMaxDelaySeconds, MAX_SQS_DELAY_SECONDS);
    return Math.min(cap, feed.requeueBaseDelaySeconds * 2 ** Math.min(waitAttempt - 1, 30));
}

/**
 * The URL of the queue an SQS event source ARN names, in AWS's current form
 * (`arn:aws:sqs:eu-west-1:123456789012:q` → `https://sqs.eu-west-1.amazonaws.com/123456789012/q`).
 */
export function queueUrlOfArn(arn: string): string {
    const match = /^arn:aws[a-z-]*:sqs:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_.-]+)$/.exec(arn);
    if (!match) throw new Error(`not an SQS queue ARN: "${arn}"`);
    const [, region, account, name] = match;
    const domain = region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
    return `https://sqs.${region}.${domain}/${account}/${name}`;
}

/**
 * How a record reached the function. `queued`: from its SQS queue, where a capacity refusal waits (the
 * message is re-sent); otherwise (a direct S3 invocation, a replay) a refusal fails the record as before.
 */
export type Delivery =
    | { readonly queued: false }
    | {
          readonly queued: true;
          /** How many times this message's file has waited already (the message's wait_attempt attribute). */
          readonly waitAttempts: number;
          readonly feed: QueueFeedConfig;
      };

export const DIRECT_DELIVERY: Delivery = { queued: false };

/** A file put to wait: its record is WAITING, and the loop re-sends its message with `delaySeconds`. */
export interface Wait {
    readonly waitAttempt: number;
    readonly delaySeconds: number;
}

export type WaitDecision =
    | { readonly kind: "waiting"; readonly wait: Wait }
    /** Another invocation took the claim over meanwhile: it owns the file now; this delivery is done. */
    | { readonly kind: "claim-lost"; readonly existing: Extract<RecordWriteResult, { recorded: false }>["existing"] }
    /** Not queue-fed, or the file has waited its maximum: the caller fails the record (START_FAILED). */
    | { readonly kind: "fail" };

/**
 * Puts a claimed file whose start Glue refused for capacity to wait, when its delivery allows it: records
 * WAITING with the wait number (the larger of the message's and the record's count, so a duplicate message
 * does not restart the growth) and the time its message comes back.
 */
export async function waitForCapacity(
    records: ProcessingRecordStore,
    claim: { readonly fileId: string; readonly attempt: number; readonly recordedWaits?: number },
    reason: string,
    delivery: Delivery,
): Promise<WaitDecision> {
    if (!delivery.queued) return { kind: "fail" };
    const waitAttempt = Math.max(delivery.waitAttempts, claim.recordedWaits ?? 0) + 1;
    if (waitAttempt > delivery.feed.maxWaitAttempts) return { kind: "fail" };
    const delaySeconds = requeueDelaySeconds(waitAttempt, delivery.feed);
    const written = await records.markWaiting(claim.fileId, claim.attempt, { waitAttempt, delaySeconds, reason });
    if (!written.recorded) return { kind: "claim-lost", existing: written.existing };
    return { kind: "waiting", wait: { waitAttempt, delaySeconds } };
}
