/**
 * The loop every S3-triggered function runs (the CSV/Parquet trigger, the claims validation), in its two
 * deliveries:
 *
 * - from the function's SQS queue ({@link processQueueMessages}): each message's body is an S3 event
 *   notification; the messages are handled one after another and the answer reports, per message, only those
 *   that failed (`batchItemFailures`, through @aws-lambda-powertools/batch), so the event source mapping
 *   deletes the others and only a failing message is received again — and, after the queue's
 *   maxReceiveCount, moved to its dead-letter queue. A message whose file Glue refused for capacity is sent
 *   again to the queue with a growing delay and counts as handled (./backpressure says why). S3's
 *   `s3:TestEvent` is dropped with a log line;
 * - as a direct S3 event ({@link processS3Records}: the asynchronous invocation of before the queues, still
 *   accepted so that events in flight during the change are not lost, and replay's path): every record
 *   handled, then one error naming the failed ones thrown, so Lambda's retries and its DLQ take over.
 *
 * Both run the same per-event step: the records handled in turn, a failing one not stopping the others, one
 * count per outcome logged. A redelivered record that already started is skipped by its claim
 * (./processingRecords), so handling a message or an event twice is safe.
 *
 * Sequential on purpose: S3 sends one record per notification in practice, and one after another the records
 * share the invocation's time budget predictably.
 */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { Context, SQSRecord } from "aws-lambda";
import { DEFAULT_QUEUE_FEED, Delivery, DIRECT_DELIVERY, QueueFeedConfig, queueUrlOfArn, Wait } from "./backpressure";
import { Logger } from "./logger";
import { WAIT_ATTEMPT_ATTRIBUTE } from "./queueFeed";
import { S3EventLike, S3EventRecordLike } from "./s3Events";

/** The part of the Lambda context the loop uses (all optional so tests and local runs can omit it). */
export interface BatchInvocationContext {
    readonly awsRequestId?: string;
    readonly getRemainingTimeInMillis?: () => number;
}

/** What handling one record returns: at least its outcome kind ("failed" for a record that failed). */
export interface RecordOutcomeLike {
    readonly outcome: string;
    /** Set on a `waiting` outcome: the file was put to wait for capacity and its message must come back. */
    readonly wait?: Wait;
}

export type FailedOutcome<O extends RecordOutcomeLike> = Extract<O, { outcome: "failed" }>;

export interface S3BatchOptions<O extends RecordOutcomeLike> {
    /** The function's logger; the invocation's request id is added to every line. */
    readonly logger: Logger;
    /** The outcome kinds counted (and logged) in this order; "failed" among them. */
    readonly outcomeKinds: readonly O["outcome"][];
    /**
     * Handles one record. Must not throw: a failure is returned as a `failed` outcome. `delivery` says whether
     * a capacity refusal may wait (queue-fed) and how often the file has waited already.
     */
    readonly processRecord: (record: S3EventRecordLike, remainingMs: () => number, log: Logger, delivery: Delivery) => Promise<O>;
    /** The error thrown when records failed, naming them. */
    readonly batchError: (failures: readonly FailedOutcome<O>[], total: number) => Error;
}

export interface S3BatchResult<O extends RecordOutcomeLike> {
    /** How many records ended in each of `outcomeKinds`. */
    readonly counts: Record<O["outcome"], number>;
    /** Every record's outcome, in event order. */
    readonly outcomes: readonly O[];
}

/** Milliseconds left in the invocation, or forever outside Lambda. */
export function remainingTime(context: BatchInvocationContext | undefined): () => number {
    const getRemaining = context?.getRemainingTimeInMillis;
    return getRemaining ? () => getRemaining.call(context) : () => Number.POSITIVE_INFINITY;
}

function requestLog(logger: Logger, context: BatchInvocationContext | undefined): Logger {
    return logger.child(context?.awsRequestId ? { aws_request_id: context.awsRequestId } : {});
}

function countOutcomes<O extends RecordOutcomeLike>(kinds: readonly O["outcome"][], outcomes: readonly O[]): Record<O["outcome"], number> {
    return Object.fromEntries(kinds.map((kind) => [kind, outcomes.filter((o) => o.outcome === kind).length])) as Record<O["outcome"], number>;
}

/** The one per-event step: every record of `event` handled in turn. */
async function handleRecords<O extends RecordOutcomeLike>(
    event: S3EventLike,
    options: S3BatchOptions<O>,
    remainingMs: () => number,
    log: Logger,
    delivery: Delivery,
): Promise<O[]> {
    const outcomes: O[] = [];
    for (const record of event.Records ?? []) outcomes.push(await options.processRecord(record, remainingMs, log, delivery));
    return outcomes;
}

/**
 * Handles every record of a direct S3 event with `processRecord`, logs the counts ("event handled"), and throws
 * `batchError` after all were handled when any failed.
 */
export async function processS3Records<O extends RecordOutcomeLike>(
    event: S3EventLike,
    context: BatchInvocationContext | undefined,
    options: S3BatchOptions<O>,
): Promise<S3BatchResult<O>> {
    const log = requestLog(options.logger, context);
    if ((event.Records ?? []).length === 0) log.info("event has no records (e.g. s3:TestEvent); nothing to do");
    const outcomes = await handleRecords(event, options, remainingTime(context), log, DIRECT_DELIVERY);

    const counts = countOutcomes(options.outcomeKinds, outcomes);
    log.info("event handled", counts);

    const failures = outcomes.filter((o): o is FailedOutcome<O> => o.outcome === "failed");
    if (failures.length > 0) throw options.batchError(failures, outcomes.length);
    return { counts, outcomes };
}

// ---------------------------------------------------------------------------------------------------------
// Queue delivery
// ---------------------------------------------------------------------------------------------------------

/** The SQS message fields the loop reads (@types/aws-lambda's SQSRecord, loosened for hand-made events). */
export type QueueMessageLike = Pick<SQSRecord, "messageId" | "body"> &
    Partial<Pick<SQSRecord, "eventSource" | "eventSourceARN" | "attributes">> & {
        readonly messageAttributes?: Readonly<Record<string, { readonly stringValue?: string; readonly dataType?: string } | undefined>>;
    };

export interface QueueEventLike {
    readonly Records: readonly QueueMessageLike[];
}

/** True for the event an SQS event source mapping sends (every record from `aws:sqs`). */
export function isQueueEvent(event: unknown): event is QueueEventLike {
    const records = (event as { Records?: unknown } | undefined)?.Records;
    return Array.isArray(records) && records.length > 0 && records.every((r) => (r as { eventSource?: unknown })?.eventSource === "aws:sqs");
}

/** What a message body holds: an S3 event, S3's test event, or something no S3 notification sends. */
export type MessageBody =
    | { readonly kind: "s3-event"; readonly event: S3EventLike }
    | { readonly kind: "test-event" }
    | { readonly kind: "unreadable"; readonly reason: string };

/** Reads a message body as S3 writes it to a queue. Pure. */
export function readMessageBody(body: string): MessageBody {
    let parsed: unknown;
    try {
        parsed = JSON.parse(body);
    } catch {
        return { kind: "unreadable", reason: "the body is not JSON" };
    }
    const value = parsed as { Event?: unknown; Records?: unknown } | null;
    if (value && typeof value === "object" && value.Event === "s3:TestEvent") return { kind: "test-event" };
    if (value && typeof value === "object" && Array.isArray(value.Records)) return { kind: "s3-event", event: value as S3EventLike };
    return { kind: "unreadable", reason: "the body is neither an S3 event notification nor S3's test event" };
}

/** How many times a message's file has waited: its wait_attempt attribute, 0 on a message S3 sent. */
export function waitAttemptsOf(message: QueueMessageLike): number {
    const raw = message.messageAttributes?.[WAIT_ATTEMPT_ATTRIBUTE]?.stringValue;
    const value = raw === undefined ? 0 : Number(raw);
    return Number.isSafeInteger(value) && value > 0 ? value : 0;
}

export interface QueueFeed {
    readonly sqs: SQSClient;
    /** @default ./backpressure's DEFAULT_QUEUE_FEED */
    readonly config?: QueueFeedConfig;
}

/** What a queue batch adds to the outcomes: the answer to the mapping and what became of the messages. */
export interface QueueBatchAnswer {
    /** What the function returns to the event source mapping: the messages to receive again. */
    readonly batchItemFailures: readonly { readonly itemIdentifier: string }[];
    /** Messages sent again to wait for capacity (their originals count as handled). */
    readonly requeued: number;
    /** Messages dropped: S3's test event. */
    readonly dropped: number;
}

export type QueueBatchResult<O extends RecordOutcomeLike> = S3BatchResult<O> & QueueBatchAnswer;

/** Thrown for one message whose records did not all succeed; it becomes that message's batch item failure. */
export class MessageFailedError extends Error {
    constructor(messageId: string, cause: Error) {
        super(`message ${messageId}: ${cause.message}`, { cause });
        this.name = "MessageFailedError";
    }
}

/**
 * Handles a batch of SQS messages from the function's queue: each message's S3 event goes through
 * `processRecord` (as a queued delivery), a message whose files wait for capacity is re-sent with the longest
 * delay they asked for and the largest wait number, and the answer names the messages that failed.
 */
export async function processQueueMessages<O extends RecordOutcomeLike>(
    event: QueueEventLike,
    context: BatchInvocationContext | undefined,
    options: S3BatchOptions<O> & { readonly queue: QueueFeed },
): Promise<QueueBatchResult<O>> {
    const log = requestLog(options.logger, context);
    const remainingMs = remainingTime(context);
    const feed = options.queue.config ?? DEFAULT_QUEUE_FEED;
    const outcomes: O[] = [];
    let requeued = 0;
    let dropped = 0;

    const handleMessage = async (message: QueueMessageLike): Promise<void> => {
        const messageLog = log.child({ message_id: message.messageId });
        const body = readMessageBody(message.body);
        if (body.kind === "test-event") {
            messageLog.info("s3:TestEvent dropped: S3 sends it when a notification configuration is saved");
            dropped++;
            return;
        }
        // Not something S3 sends: failing it lets the redrive policy put it where a person looks.
        if (body.kind === "unreadable") throw new MessageFailedError(message.messageId, new Error(body.reason));
        const delivery: Delivery = { queued: true, waitAttempts: waitAttemptsOf(message), feed };
        const handled = await handleRecords(body.event, options, remainingMs, messageLog, delivery);
        outcomes.push(...handled);
        const failures = handled.filter((o): o is FailedOutcome<O> => o.outcome === "failed");
        if (failures.length > 0) throw new MessageFailedError(message.messageId, options.batchError(failures, handled.length));
        const waits = handled.flatMap((o) => (o.wait ? [o.wait] : []));
        if (waits.length === 0) return;
        // The whole message comes back: its other records (if any) are skipped then by their claims.
        const delaySeconds = Math.max(...waits.map((w) => w.delaySeconds));
        const waitAttempt = Math.max(...waits.map((w) => w.waitAttempt));
        const queueUrl = feed.queueUrl ?? queueUrlOfArn(message.eventSourceARN ?? "");
        await options.queue.sqs.send(
            new SendMessageCommand({
                QueueUrl: queueUrl,
                MessageBody: message.body,
                DelaySeconds: delaySeconds,
                MessageAttributes: { [WAIT_ATTEMPT_ATTRIBUTE]: { DataType: "Number", StringValue: String(waitAttempt) } },
            }),
        );
        requeued++;
        messageLog.info("message sent back to wait for capacity", { wait_attempt: waitAttempt, delay_seconds: delaySeconds });
    };

    const processor = new BatchProcessor(EventType.SQS);
    // Powertools logs nothing of its own here; a failed message is logged with its error below.
    const response = await processPartialResponse(
        event as { Records: SQSRecord[] },
        async (message: SQSRecord) => {
            try {
                await handleMessage(message);
            } catch (err) {
                log.error("message failed; it will be received again", { message_id: message.messageId, error: err });
                throw err;
            }
        },
        processor,
        // One after another (the time budget); a batch that failed whole is answered, not thrown, so the
        // mapping sees the same per-message answer either way.
        { context: context as Context | undefined, processInParallel: false, throwOnFullBatchFailure: false },
    );

    const counts = countOutcomes(options.outcomeKinds, outcomes);
    log.info("batch handled", { ...counts, messages: event.Records.length, requeued, dropped, messages_failed: response.batchItemFailures.length });
    return { counts, outcomes, batchItemFailures: response.batchItemFailures, requeued, dropped };
}
