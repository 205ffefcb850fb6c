/**
 * The processing-metadata table (`etl-pipeline-metadata-{stage}`): one item per uploaded object version,
 * keyed by `file_id`, moved through its statuses with conditional writes so that duplicate S3 deliveries
 * and concurrent Lambdas cannot start a file twice.
 *
 * Shared by every flow that starts work for a file (CSV trigger, Parquet→JSON, claims validation, replay):
 * each one claims the record first, starts its work, then records the outcome of the start.
 *
 * Why not Powertools' idempotency utility (the functions use its Logger and Tracer): it remembers that a
 * handler already ran for a payload — a record keyed by the payload's hash, INPROGRESS then COMPLETED with the
 * cached return value, expiring after a TTL, deleted when the handler throws so a retry runs afresh. Ours is
 * not a cache of one function's result but the file's lasting state, shared by several writers:
 *
 * - the key is the object version (`file_id` from bucket, key and version id or ETag), known only after S3 says
 *   which version is current, not any hash of the event (two differently-shaped deliveries of one version
 *   must meet on one record);
 * - it never expires: the Glue job moves it on (RUNNING → SUCCEEDED/FAILED), the job-events handler marks runs
 *   that died, the monitors count it by status through the `by-status` index, and operators read its history;
 * - it has more states than "in progress / done": terminal ones written without any run (REJECTED, SUPERSEDED,
 *   SOURCE_DELETED), START_FAILED that stays recorded (with its error) yet may be claimed again, FAILED that
 *   only an explicit replay may reset and claim;
 * - a claim is a lease with an attempt number: an expired lease is taken over, and every later write is
 *   conditional on the attempt, so a Lambda that lost its claim learns it (CLAIM_LOST) instead of overwriting.
 */
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import {
    DynamoDBDocumentClient,
    GetCommand,
    QueryCommand,
    QueryCommandInput,
    QueryCommandOutput,
    UpdateCommand,
    UpdateCommandInput,
    UpdateCommandOutput,
} from "@aws-sdk/lib-dynamodb";
import type { Engine } from "../csv-converter/contract";

export const ProcessingStatus = {
    /** A trigger won the claim and is starting the job; `lease_expires_at` says until when it owns it. */
    CLAIMED: "CLAIMED",
    /** StartJobRun returned; `job_run_id` is set (the run may still be WAITING in Glue's queue). */
    STARTED: "STARTED",
    /** StartJobRun failed after the in-Lambda retries; `error_message` set; may be claimed again. */
    START_FAILED: "START_FAILED",
    /**
     * Glue refused the start for capacity (its concurrency limit, or throttling) and the file's message was
     * sent back to its queue with a delay (../shared/backpressure): `wait_attempts` says how many times it has
     * waited, `next_attempt_at` when its message comes back, `error_message` the last refusal. Claimable by
     * any delivery, like START_FAILED: the message that comes back, a duplicate, or a replay.
     *
     * What the readers do with it: it is in flight ({@link IN_FLIGHT_STATUSES}: its message is in the queue,
     * and the job-events handler counts it with the others), not replayable (replay would only race the
     * queued message; the claim would keep that to one run anyway), and not a not-processed ending. A stuck
     * check must judge it by `next_attempt_at`, not by `updated_at`: in a burst a file may rightly wait hours.
     */
    WAITING: "WAITING",
    /**
     * Not processable (e.g. zero-byte object, or a key that is unsafe as a path: `.`/`..` segments, `//`,
     * control or bidi characters, a derived key beyond S3's 1,024 bytes); `error_message` says why. Terminal.
     */
    REJECTED: "REJECTED",
    /**
     * Not processed because a newer version of the key exists (written by the trigger when the version in
     * the event is no longer current, or by the job when it changes during the run); the newer version's
     * own event starts its own run. `error_message` says which version is current. Terminal.
     */
    SUPERSEDED: "SUPERSEDED",
    /** Not processed because the key was deleted before it could be read; `error_message` says so. Terminal. */
    SOURCE_DELETED: "SOURCE_DELETED",
    /** The job began (written by the job). */
    RUNNING: "RUNNING",
    /** The job finished (written by the job). */
    SUCCEEDED: "SUCCEEDED",
    /**
     * The job failed: written by the job, or by the job-events handler when the run died (timeout, stop,
     * crash) without writing. Claimable again only by an explicit replay.
     */
    FAILED: "FAILED",
} as const;
export type ProcessingStatus = (typeof ProcessingStatus)[keyof typeof ProcessingStatus];

/** The statuses that end a record without a run: the object was never processed, and `error_message` says why. */
export type NotProcessedStatus = typeof ProcessingStatus.REJECTED | typeof ProcessingStatus.SUPERSEDED | typeof ProcessingStatus.SOURCE_DELETED;
export const NOT_PROCESSED_STATUSES: readonly NotProcessedStatus[] = [ProcessingStatus.REJECTED, ProcessingStatus.SUPERSEDED, ProcessingStatus.SOURCE_DELETED];

/** Name of the GSI that lists records by status, newest last (range key `updated_at`). */
export const BY_STATUS_INDEX = "by-status";

/** One item of the metadata table. Attribute names are the contract's snake_case names. */
export interface ProcessingRecord {
    readonly file_id: string;
    readonly processing_status: ProcessingStatus;
    readonly source_file_path?: string;
    readonly source_bucket?: string;
    readonly source_key?: string;
    readonly source_version?: string;
    readonly file_size_bytes?: number;
    readonly output_file_path?: string;
    readonly quarantine_path?: string;
    readonly job_name?: string;
    readonly job_run_id?: string;
    readonly start_time?: string;
    readonly end_time?: string;
    readonly rows_in?: number;
    readonly record_count?: number;
    readonly rows_quarantined?: number;
    readonly output_size_bytes?: number;
    readonly outcome?: string;
    readonly error_message?: string;
    readonly attempts?: number;
    /** How many times Glue refused this file's start for capacity and its message was re-sent (WAITING). */
    readonly wait_attempts?: number;
    /** While WAITING: when the re-sent message becomes visible again. */
    readonly next_attempt_at?: string;
    readonly lease_expires_at?: string;
    readonly created_at?: string;
    readonly updated_at?: string;
    /**
     * The Glue run whose outcome was last reported (metrics published, failure notified). Written by the
     * job-events handler so a redelivered state-change event is reported once.
     */
    readonly reported_run_id?: string;
    /**
     * Which engine runs (or ran) the file: `glue`, or `fast` (the CSV flow's converter). Written with STARTED
     * by the trigger, rewritten by the converter when it falls back to Glue (functions/csv-converter/converter-contract.json
     * recordAttributes). Absent on records from before the fast path.
     */
    readonly engine?: Engine;
    /** Why that engine: the routing decision ("12.3 MiB ... <= ... fast-path limit") or "fallback: <why>". */
    readonly engine_reason?: string;
}

/** What a started run is, besides its id: recorded with STARTED. */
export interface StartedRun {
    /** The job or function that runs the file, when it is not the one the claim recorded (the converter's name). */
    readonly jobName?: string;
    readonly engine?: Engine;
    readonly engineReason?: string;
}

/** The object a record is about. */
export interface SourceObject {
    readonly fileId: string;
    readonly bucket: string;
    readonly key: string;
    /** versionId, else the ETag without quotes. */
    readonly version: string;
    readonly sizeBytes?: number;
}

export interface ClaimRequest {
    readonly source: SourceObject;
    /** How long the claimer owns the record; after that another invocation may take it over. */
    readonly leaseSeconds: number;
    /** Written on the record so that readers see where the output will go before the job runs. */
    readonly jobName?: string;
    readonly outputPath?: string;
    readonly quarantinePath?: string;
    /**
     * Also claim a FAILED record. Only an explicit replay does this: a redelivered S3 event for a file
     * whose job failed must not silently rerun it.
     * @default false
     */
    readonly allowFailed?: boolean;
}

export type ClaimResult =
    | { readonly claimed: true; readonly attempt: number; readonly record: ProcessingRecord }
    /** `existing` is the record that blocked the claim (undefined only if it vanished in between). */
    | { readonly claimed: false; readonly existing: ProcessingRecord | undefined };

export type RecordWriteResult =
    | { readonly recorded: true }
    | { readonly recorded: false; readonly existing: ProcessingRecord | undefined };

/** Result of recording a started run. */
export type StartedWriteResult =
    /** Status is now STARTED with the run id. */
    | { readonly recorded: "STARTED" }
    /** The job got there first (status already RUNNING or later); only the run id was added. */
    | { readonly recorded: "RUN_ID_ONLY"; readonly existing: ProcessingRecord | undefined }
    /** Our claim is no longer the current one (another invocation took it over): nothing written. */
    | { readonly recorded: "CLAIM_LOST"; readonly existing: ProcessingRecord | undefined };

/** Result of recording that a run ended without the job writing its own outcome. */
export type RunFailedWriteResult =
    /** Status is now FAILED; `record` is the record as written. */
    | { readonly recorded: true; readonly record: ProcessingRecord }
    /** The record is not this run's STARTED/RUNNING record (the job wrote its outcome, or a newer claim owns it). */
    | { readonly recorded: false; readonly existing: ProcessingRecord | undefined };

/** Result of claiming the right to report a run's outcome. */
export type RunReportClaim = "claimed" | "already-reported" | "no-record";

/** Statuses in which a file is being worked on: claimed, waiting in its queue for Glue capacity, started, or running in Glue. */
export const IN_FLIGHT_STATUSES: readonly ProcessingStatus[] = ["CLAIMED", "WAITING", "STARTED", "RUNNING"];
/**
 * Statuses a replay re-drives (a START_FAILED record is also re-claimed by a redelivered event). Not WAITING:
 * its message is still in the queue and will start it.
 */
export const REPLAYABLE_STATUSES: readonly ProcessingStatus[] = ["START_FAILED", "FAILED"];

/** Longest error message stored on a record; items are limited to 400 KB and this field is for humans. */
export const MAX_ERROR_MESSAGE_LENGTH = 2000;

/** Record attributes describing a finished or failed run; cleared when a record is claimed again. */
const RUN_RESULT_ATTRIBUTES = [
    "job_run_id",
    "start_time",
    "end_time",
    "rows_in",
    "record_count",
    "rows_quarantined",
    "output_size_bytes",
    "outcome",
    "error_message",
    // A new claim routes the file again: the previous run's engine and reason no longer describe it.
    "engine",
    "engine_reason",
] as const;

export function isConditionalCheckFailed(err: unknown): boolean {
    return err instanceof ConditionalCheckFailedException || (err instanceof Error && err.name === "ConditionalCheckFailedException");
}

export function truncateErrorMessage(message: string): string {
    return message.length <= MAX_ERROR_MESSAGE_LENGTH ? message : `${message.slice(0, MAX_ERROR_MESSAGE_LENGTH - 1)}…`;
}

/**
 * The claim rule: a record may be claimed when none exists, when its start failed, when it waits for Glue
 * capacity (WAITING: its message came back, or another delivery of it arrived first — either way one claim
 * wins), when the invocation that claimed it died (CLAIMED with an expired lease), and — for a replay only —
 * when its job failed.
 * ISO-8601 UTC strings from Date#toISOString compare correctly as strings.
 */
export function claimCondition(allowFailed: boolean): string {
    const clauses = [
        "attribute_not_exists(file_id)",
        "processing_status = :start_failed",
        "processing_status = :waiting",
        "(processing_status = :claimed AND lease_expires_at < :now)",
    ];
    if (allowFailed) clauses.push("processing_status = :failed");
    return clauses.join(" OR ");
}

/** An UpdateItem without its table and key. */
export type ConditionalUpdate = Omit<UpdateCommandInput, "TableName" | "Key">;

/**
 * One conditional UpdateItem on the record of `fileId`: its output, or undefined when the condition failed.
 * Every write to a record is conditional: that is how claims, leases and run ids are enforced.
 */
export async function updateRecordIf(
    doc: DynamoDBDocumentClient,
    tableName: string,
    fileId: string,
    update: ConditionalUpdate,
): Promise<UpdateCommandOutput | undefined> {
    try {
        return await doc.send(new UpdateCommand({ TableName: tableName, Key: { file_id: fileId }, ...update }));
    } catch (err) {
        if (!isConditionalCheckFailed(err)) throw err;
        return undefined;
    }
}

export class ProcessingRecordStore {
    constructor(
        private readonly doc: DynamoDBDocumentClient,
        readonly tableName: string,
        private readonly now: () => Date = () => new Date(),
    ) {}

    private updateIf(fileId: string, update: ConditionalUpdate): Promise<UpdateCommandOutput | undefined> {
        return updateRecordIf(this.doc, this.tableName, fileId, update);
    }

    /** Reads a record with a strongly consistent read (a claim decision must not act on a stale copy). */
    async get(fileId: string): Promise<ProcessingRecord | undefined> {
        const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { file_id: fileId }, ConsistentRead: true }));
        return out.Item as ProcessingRecord | undefined;
    }

    /**
     * Claims the record for `source`: one conditional UpdateItem that creates it or takes it over under the
     * claim rule, sets CLAIMED with a lease, and counts the claim in `attempts`. Exactly one of any number
     * of concurrent callers wins; the others get the record that blocked them.
     */
    async claim(request: ClaimRequest): Promise<ClaimResult> {
        if (!(request.leaseSeconds > 0)) throw new RangeError(`leaseSeconds must be > 0, got ${request.leaseSeconds}`);
        const now = this.now();
        const nowIso = now.toISOString();
        const { source } = request;
        const values: Record<string, unknown> = {
            ":claimed": ProcessingStatus.CLAIMED,
            ":start_failed": ProcessingStatus.START_FAILED,
            ":waiting": ProcessingStatus.WAITING,
            ":now": nowIso,
            ":lease": new Date(now.getTime() + request.leaseSeconds * 1000).toISOString(),
            ":one": 1,
            ...sourceValues(source),
        };
        const sets = [
            "processing_status = :claimed",
            "lease_expires_at = :lease",
            "updated_at = :now",
            "created_at = if_not_exists(created_at, :now)",
            ...sourceSets(source),
        ];
        if (request.allowFailed) values[":failed"] = ProcessingStatus.FAILED;
        if (request.jobName !== undefined) {
            sets.push("job_name = :job_name");
            values[":job_name"] = request.jobName;
        }
        if (request.outputPath !== undefined) {
            sets.push("output_file_path = :output_path");
            values[":output_path"] = request.outputPath;
        }
        if (request.quarantinePath !== undefined) {
            sets.push("quarantine_path = :quarantine_path");
            values[":quarantine_path"] = request.quarantinePath;
        }
        const out = await this.updateIf(source.fileId, {
            // wait_attempts stays: how long a file waited is part of its history, and the growth of its delay.
            UpdateExpression: `SET ${sets.join(", ")} ADD attempts :one REMOVE ${RUN_RESULT_ATTRIBUTES.join(", ")}, next_attempt_at`,
            ConditionExpression: claimCondition(request.allowFailed ?? false),
            ExpressionAttributeValues: values,
            ReturnValues: "ALL_NEW",
        });
        if (!out) return { claimed: false, existing: await this.get(source.fileId) };
        const record = out.Attributes as ProcessingRecord;
        return { claimed: true, attempt: Number(record.attempts), record };
    }

    /**
     * Records the run that claim number `attempt` started, and (when given) which engine runs it, why, and
     * the job or function name. Conditional on the claim still being ours, so a slow invocation whose lease
     * was taken over cannot overwrite the newer claim's state.
     */
    async markStarted(fileId: string, attempt: number, jobRunId: string, run: StartedRun = {}): Promise<StartedWriteResult> {
        const nowIso = this.now().toISOString();
        const sets = ["processing_status = :started", "job_run_id = :run_id", "start_time = :now", "updated_at = :now"];
        const runValues: Record<string, unknown> = {};
        if (run.jobName !== undefined) {
            sets.push("job_name = :job_name");
            runValues[":job_name"] = run.jobName;
        }
        const engineSets: string[] = [];
        if (run.engine !== undefined) {
            engineSets.push("engine = :engine");
            runValues[":engine"] = run.engine;
        }
        if (run.engineReason !== undefined) {
            engineSets.push("engine_reason = :engine_reason");
            runValues[":engine_reason"] = truncateErrorMessage(run.engineReason);
        }
        const started = await this.updateIf(fileId, {
            UpdateExpression: `SET ${[...sets, ...engineSets].join(", ")} REMOVE lease_expires_at`,
            ConditionExpression: "attempts = :attempt AND processing_status = :claimed",
            ExpressionAttributeValues: {
                ":started": ProcessingStatus.STARTED,
                ":claimed": ProcessingStatus.CLAIMED,
                ":run_id": jobRunId,
                ":now": nowIso,
                ":attempt": attempt,
                ...runValues,
            },
        });
        if (started) return { recorded: "STARTED" };
        // Either the job already wrote RUNNING (or later) for this claim — keep its status and job name, add the
        // run id and the engine — or another invocation owns the record now, and we must not touch it.
        const engineValues = Object.fromEntries(Object.entries(runValues).filter(([name]) => name !== ":job_name"));
        const runIdAdded = await this.updateIf(fileId, {
            UpdateExpression: `SET ${["job_run_id = if_not_exists(job_run_id, :run_id)", "updated_at = :now", ...engineSets.map((set) => set.replace(/^(\w+) = (:\w+)$/, "$1 = if_not_exists($1, $2)"))].join(", ")} REMOVE lease_expires_at`,
            ConditionExpression: "attempts = :attempt",
            ExpressionAttributeValues: { ":run_id": jobRunId, ":now": nowIso, ":attempt": attempt, ...engineValues },
        });
        return { recorded: runIdAdded ? "RUN_ID_ONLY" : "CLAIM_LOST", existing: await this.get(fileId) };
    }

    /** Records that claim number `attempt` could not start its run; the record becomes claimable again. */
    async markStartFailed(fileId: string, attempt: number, errorMessage: string): Promise<RecordWriteResult> {
        const nowIso = this.now().toISOString();
        const done = await this.updateIf(fileId, {
            UpdateExpression: "SET processing_status = :start_failed, error_message = :error, updated_at = :now REMOVE lease_expires_at",
            ConditionExpression: "attempts = :attempt AND processing_status = :claimed",
            ExpressionAttributeValues: {
                ":start_failed": ProcessingStatus.START_FAILED,
                ":claimed": ProcessingStatus.CLAIMED,
                ":error": truncateErrorMessage(errorMessage),
                ":now": nowIso,
                ":attempt": attempt,
            },
        });
        if (!done) return { recorded: false, existing: await this.get(fileId) };
        return { recorded: true };
    }

    /**
     * Records that claim number `attempt` was refused a start for capacity and its message was sent back to
     * the queue: WAITING, with the wait number and when the message returns. Conditional on the claim still
     * being ours, like every write after a claim.
     */
    async markWaiting(fileId: string, attempt: number, wait: { readonly waitAttempt: number; readonly delaySeconds: number; readonly reason: string }): Promise<RecordWriteResult> {
        const now = this.now();
        const nowIso = now.toISOString();
        const done = await this.updateIf(fileId, {
            UpdateExpression:
                "SET processing_status = :waiting, wait_attempts = :wait, next_attempt_at = :next, error_message = :error, updated_at = :now REMOVE lease_expires_at",
            ConditionExpression: "attempts = :attempt AND processing_status = :claimed",
            ExpressionAttributeValues: {
                ":waiting": ProcessingStatus.WAITING,
                ":claimed": ProcessingStatus.CLAIMED,
                ":wait": wait.waitAttempt,
                ":next": new Date(now.getTime() + wait.delaySeconds * 1000).toISOString(),
                ":error": truncateErrorMessage(wait.reason),
                ":now": nowIso,
                ":attempt": attempt,
            },
        });
        if (!done) return { recorded: false, existing: await this.get(fileId) };
        return { recorded: true };
    }

    /**
     * Records that run `jobRunId` ended (failed, timed out, was stopped) without the job writing its own
     * outcome: only while the record is STARTED or RUNNING with that run id. A record the job already
     * finalised, or one a newer claim owns, is left alone. Such a record is claimable by a replay only.
     */
    async markRunFailed(fileId: string, jobRunId: string, errorMessage: string, endTime?: string): Promise<RunFailedWriteResult> {
        const nowIso = this.now().toISOString();
        const out = await this.updateIf(fileId, {
            UpdateExpression:
                "SET processing_status = :failed, error_message = :error, end_time = :end, updated_at = :now REMOVE lease_expires_at",
            ConditionExpression: "job_run_id = :run_id AND processing_status IN (:started, :running)",
            ExpressionAttributeValues: {
                ":failed": ProcessingStatus.FAILED,
                ":started": ProcessingStatus.STARTED,
                ":running": ProcessingStatus.RUNNING,
                ":run_id": jobRunId,
                ":error": truncateErrorMessage(errorMessage),
                ":end": endTime ?? nowIso,
                ":now": nowIso,
            },
            ReturnValues: "ALL_NEW",
        });
        if (!out) return { recorded: false, existing: await this.get(fileId) };
        return { recorded: true, record: out.Attributes as ProcessingRecord };
    }

    /**
     * Claims the right to report run `jobRunId` of this file (publish its metrics, send its notification):
     * the first caller for a run gets "claimed", every later one (a redelivered event) "already-reported".
     * `updated_at` is left alone: reporting does not change the file's state.
     */
    async claimRunReport(fileId: string, jobRunId: string): Promise<RunReportClaim> {
        const done = await this.updateIf(fileId, {
            UpdateExpression: "SET reported_run_id = :run_id",
            ConditionExpression: "attribute_exists(file_id) AND (attribute_not_exists(reported_run_id) OR reported_run_id <> :run_id)",
            ExpressionAttributeValues: { ":run_id": jobRunId },
        });
        if (!done) return (await this.get(fileId)) === undefined ? "no-record" : "already-reported";
        return "claimed";
    }

    /** Gives a report claim back (reporting failed), so the retried event reports the run. */
    async releaseRunReport(fileId: string, jobRunId: string): Promise<boolean> {
        const released = await this.updateIf(fileId, {
            UpdateExpression: "REMOVE reported_run_id",
            ConditionExpression: "reported_run_id = :run_id",
            ExpressionAttributeValues: { ":run_id": jobRunId },
        });
        return released !== undefined;
    }

    /** Pages of a query of the `by-status` index for `status`, followed to the end. */
    private async *statusPages(status: ProcessingStatus, page: Pick<QueryCommandInput, "Limit" | "Select">): AsyncGenerator<QueryCommandOutput> {
        let startKey: Record<string, unknown> | undefined;
        do {
            const out = await this.doc.send(
                new QueryCommand({
                    TableName: this.tableName,
                    IndexName: BY_STATUS_INDEX,
                    KeyConditionExpression: "processing_status = :status",
                    ExpressionAttributeValues: { ":status": status },
                    ...page,
                    ExclusiveStartKey: startKey,
                }),
            );
            yield out;
            startKey = out.LastEvaluatedKey;
        } while (startKey);
    }

    /** Records with `status`, oldest update first, through the `by-status` index (eventually consistent). */
    async *listByStatus(status: ProcessingStatus, pageSize = 100): AsyncGenerator<ProcessingRecord> {
        for await (const out of this.statusPages(status, { Limit: pageSize })) {
            for (const item of out.Items ?? []) yield item as ProcessingRecord;
        }
    }

    /** How many records have `status`, counted through the `by-status` index (eventually consistent). */
    async countByStatus(status: ProcessingStatus): Promise<number> {
        let count = 0;
        for await (const out of this.statusPages(status, { Select: "COUNT" })) count += out.Count ?? 0;
        return count;
    }

    /**
     * Records that `source` will not be processed, and why. Written only where a claim would be allowed,
     * so a redelivered event for a file already being handled never downgrades its record.
     */
    async reject(
        source: SourceObject,
        reason: string,
        options: {
            readonly jobName?: string;
            /** Which terminal not-processed status to record. @default "REJECTED" */
            readonly status?: NotProcessedStatus;
            /**
             * Also end a FAILED record, as replay may claim one: a failed file whose version is no longer
             * current is SUPERSEDED rather than run again on the old version. @default false
             */
            readonly allowFailed?: boolean;
        } = {},
    ): Promise<RecordWriteResult> {
        const nowIso = this.now().toISOString();
        const values: Record<string, unknown> = {
            ":rejected": options.status ?? ProcessingStatus.REJECTED,
            ":claimed": ProcessingStatus.CLAIMED,
            ":start_failed": ProcessingStatus.START_FAILED,
            ":waiting": ProcessingStatus.WAITING,
            ":reason": truncateErrorMessage(reason),
            ":now": nowIso,
            ...sourceValues(source),
        };
        if (options.allowFailed) values[":failed"] = ProcessingStatus.FAILED;
        const sets = [
            "processing_status = :rejected",
            "error_message = :reason",
            "updated_at = :now",
            "end_time = :now",
            "created_at = if_not_exists(created_at, :now)",
            ...sourceSets(source),
        ];
        if (options.jobName !== undefined) {
            sets.push("job_name = :job_name");
            values[":job_name"] = options.jobName;
        }
        const done = await this.updateIf(source.fileId, {
            UpdateExpression: `SET ${sets.join(", ")} REMOVE lease_expires_at, next_attempt_at`,
            ConditionExpression: claimCondition(options.allowFailed ?? false),
            ExpressionAttributeValues: values,
        });
        if (!done) return { recorded: false, existing: await this.get(source.fileId) };
        return { recorded: true };
    }
}

function sourceValues(source: SourceObject): Record<string, unknown> {
    return {
        ":source_path": `s3://${source.bucket}/${source.key}`,
        ":source_bucket": source.bucket,
        ":source_key": source.key,
        ":source_version": source.version,
        ...(source.sizeBytes !== undefined ? { ":size": source.sizeBytes } : {}),
    };
}

function sourceSets(source: SourceObject): string[] {
    return [
        "source_file_path = :source_path",
        "source_bucket = :source_bucket",
        "source_key = :source_key",
        "source_version = :source_version",
        ...(source.sizeBytes !== undefined ? ["file_size_bytes = :size"] : []),
    ];
}
