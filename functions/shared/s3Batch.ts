/**
 * The loop every S3-triggered function runs over an event's records (the CSV/Parquet trigger, the claims
 * validation): each record handled in turn, a failing one not stopping the others, one count per outcome
 * logged, and — when any record failed — one error naming them thrown after all were handled, so Lambda's
 * async retries and then the dead-letter queue take the event over. A redelivered record that already
 * succeeded is skipped by its claim (./processingRecords), so retrying the whole event is safe.
 *
 * Sequential on purpose: S3 sends one record per event in practice, and one after another the records share
 * the invocation's time budget predictably.
 */
import { Logger } from "./logger";
import { S3EventLike, S3EventRecordLike } from "./s3Events";

/** The part of the Lambda context the loop uses (all optional so tests and local runs can omit it). */
export interface BatchInvocationContext {
    readonly awsRequestId?: string;
    readonly getRemainingTimeInMillis?: () => number;
}

/** What handling one record returns: at least its outcome kind ("failed" for a record that failed). */
export interface RecordOutcomeLike {
    readonly outcome: string;
}

export type FailedOutcome<O extends RecordOutcomeLike> = Extract<O, { outcome: "failed" }>;

export interface S3BatchOptions<O extends RecordOutcomeLike> {
    /** The function's logger; the invocation's request id is added to every line. */
    readonly logger: Logger;
    /** The outcome kinds counted (and logged) in this order; "failed" among them. */
    readonly outcomeKinds: readonly O["outcome"][];
    /** Handles one record. Must not throw: a failure is returned as a `failed` outcome. */
    readonly processRecord: (record: S3EventRecordLike, remainingMs: () => number, log: Logger) => Promise<O>;
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

/**
 * Handles every record of `event` with `processRecord`, logs the counts ("event handled"), and throws
 * `batchError` after all were handled when any failed.
 */
export async function processS3Records<O extends RecordOutcomeLike>(
    event: S3EventLike,
    context: BatchInvocationContext | undefined,
    options: S3BatchOptions<O>,
): Promise<S3BatchResult<O>> {
    const log = options.logger.child(context?.awsRequestId ? { aws_request_id: context.awsRequestId } : {});
    const remainingMs = remainingTime(context);
    const records = event.Records ?? [];
    if (records.length === 0) log.info("event has no records (e.g. s3:TestEvent); nothing to do");

    const outcomes: O[] = [];
    for (const record of records) outcomes.push(await options.processRecord(record, remainingMs, log));

    const counts = Object.fromEntries(options.outcomeKinds.map((kind) => [kind, outcomes.filter((o) => o.outcome === kind).length])) as Record<O["outcome"], number>;
    log.info("event handled", counts);

    const failures = outcomes.filter((o): o is FailedOutcome<O> => o.outcome === "failed");
    if (failures.length > 0) throw options.batchError(failures, outcomes.length);
    return { counts, outcomes };
}
