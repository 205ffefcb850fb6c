/**
 * GlueTriggerLambda's logic: for each S3 record, decide whether the object is a file to process, claim its
 * processing record, start the configured Glue job for it, and record the outcome.
 *
 * One handler, several flows: FileProcessorV2 (any `.csv`, output under `processed/`) and ParquetToJson
 * (`.parquet` under `raw-data/YYYY/MM/DD/`, output under `processed-data/YYYY/MM/DD/`) differ only in their
 * configuration (FILE_SUFFIX, KEY_PREFIX, DATED_KEYS, OUTPUT_PREFIX, GLUE_JOB_NAME); see ./config.
 *
 * Exactly-once start: S3 delivers at least once and Lambda's async retries may redeliver, so nothing here
 * trusts delivery counts. The conditional claim on the metadata record is what admits one start per
 * object version; every other delivery is logged and skipped.
 *
 * The version uploaded is the version processed, and keys are data: before claiming, S3 is asked for the key's
 * current version (../shared/sourceVersion), so an overwritten version is SUPERSEDED and a deleted object
 * SOURCE_DELETED without a run, and a key unsafe as a path is REJECTED (../shared/s3Events' unsafeKeyReason).
 * The run carries the version it is for; the job checks it again around its read.
 *
 * Bursts: fed by its SQS queue (../shared/s3Batch's processQueueMessages), a start Glue refuses for capacity
 * is not a failure: the file's record becomes WAITING and its message comes back later with a growing
 * delay (../shared/backpressure), until a run starts.
 *
 * Two engines (the CSV flow): after the claim, a file at or below the fast-path limit is handed to the CSV
 * converter through its queue instead of Glue (./fastPath says how, and in which order, so no failure loses
 * the file); the record says which engine and why (`engine`, `engine_reason`). Without FAST_PATH_QUEUE_URL
 * (the Parquet flow) every file goes to Glue, as before.
 */
import { GlueClient } from "@aws-sdk/client-glue";
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { Logger, LogSink } from "../shared/logger";
import { createClientTracer } from "../shared/tracing";
import { NotProcessedStatus, ProcessingRecordStore, ProcessingStatus, SourceObject } from "../shared/processingRecords";
import { Delivery, DIRECT_DELIVERY, Wait, waitForCapacity } from "../shared/backpressure";
import { DEFAULT_START_BACKOFF, isCapacityRefusal, isRateLimitedStart, startJobRun } from "../shared/glueJobRuns";
import { BackoffOptions, RetriesExhaustedError, sleep as realSleep } from "../shared/retry";
import { BatchInvocationContext, processQueueMessages, processS3Records, QueueBatchAnswer, QueueEventLike, S3BatchOptions } from "../shared/s3Batch";
import { deriveFileId, planRecord, S3EventLike, S3EventRecordLike, s3Uri, unsafeKeyReason } from "../shared/s3Events";
import { checkSourceVersion, RunVersion } from "../shared/sourceVersion";
import { FastPathConfig, TriggerConfig } from "./config";
import { chooseEngine, conversionRequest, ENGINES, newFastRunId, Route, sendConversionRequest } from "./fastPath";

export const SERVICE_NAME = "glue-trigger";

/**
 * Time kept free after a backoff delay: one StartJobRun call, the record write and the summary, with
 * margin. A retry that would leave less is not made, so the invocation ends on our terms (START_FAILED
 * recorded, error thrown) instead of being killed by the 30 s timeout with the record left CLAIMED.
 */
export const DEFAULT_RESERVE_MS = 5000;

export interface TriggerDeps {
    readonly config: TriggerConfig;
    readonly s3: S3Client;
    readonly glue: GlueClient;
    /** Sends capacity-refused messages back to the function's queue. */
    readonly sqs: SQSClient;
    readonly records: ProcessingRecordStore;
    readonly logger: Logger;
    readonly backoff: BackoffOptions;
    readonly reserveMs: number;
    readonly sleep: (ms: number) => Promise<void>;
    readonly random: () => number;
    /** Makes a fast run's id (tests pin it). @default ./fastPath's newFastRunId */
    readonly newFastRunId: () => string;
}

export interface DepsOverrides extends Partial<Omit<TriggerDeps, "config">> {
    /** Where log lines go when no `logger` is given. */
    readonly logSink?: LogSink;
    /** A DynamoDB client to build the record store on, when no `records` is given. */
    readonly dynamodb?: DynamoDBClient;
}

/**
 * Builds the clients and collaborators the handler uses. Production calls it once at module scope with
 * no overrides; tests replace what they need (a capturing logger, short backoff, a faulty client).
 */
export function createTriggerDeps(config: TriggerConfig, overrides: DepsOverrides = {}): TriggerDeps {
    // Each call gets its own socket timeout so one hung request cannot eat the whole 30 s budget.
    const requestHandler = { connectionTimeout: 2000, requestTimeout: 5000 };
    const tracer = createClientTracer(SERVICE_NAME);
    const records =
        overrides.records ??
        new ProcessingRecordStore(
            DynamoDBDocumentClient.from(overrides.dynamodb ?? tracer.trace(new DynamoDBClient({ requestHandler })), {
                marshallOptions: { removeUndefinedValues: true },
            }),
            config.metadataTable,
        );
    return {
        config,
        s3: overrides.s3 ?? tracer.trace(new S3Client({ requestHandler })),
        // maxAttempts 1: the SDK would otherwise retry throttling and 5xx on its own, outside our time
        // budget, and retry ambiguous failures that may have started a run. startJobWithRetry owns retries.
        glue: overrides.glue ?? tracer.trace(new GlueClient({ maxAttempts: 1, requestHandler })),
        sqs: overrides.sqs ?? tracer.trace(new SQSClient({ requestHandler })),
        records,
        logger: overrides.logger ?? new Logger({ service: SERVICE_NAME, level: config.logLevel, sink: overrides.logSink }),
        backoff: overrides.backoff ?? DEFAULT_START_BACKOFF,
        reserveMs: overrides.reserveMs ?? DEFAULT_RESERVE_MS,
        sleep: overrides.sleep ?? realSleep,
        random: overrides.random ?? Math.random,
        newFastRunId: overrides.newFastRunId ?? (() => newFastRunId()),
    };
}

/** The part of the Lambda context the trigger uses (all optional so tests and local runs can omit it). */
export type InvocationContext = BatchInvocationContext;

// ---------------------------------------------------------------------------------------------------------
// Pure decisions
// ---------------------------------------------------------------------------------------------------------

export interface JobPaths {
    readonly inputPath: string;
    readonly outputPath: string;
    readonly quarantinePath: string;
}

/** Where a trigger's job writes. */
export interface OutputLayout {
    /** The input prefix, removed from the key before it is placed under `outputPrefix`. @default "" */
    readonly keyPrefix?: string;
    /** @default "processed/" */
    readonly outputPrefix?: string;
}

export const DEFAULT_OUTPUT_PREFIX = "processed/";
export const QUARANTINE_PREFIX = "quarantine/";

/**
 * Where the job reads and writes for one file, with the key's stem (the key without its suffix, the suffix
 * as it appears in the key, whatever its case): output under `outputPrefix` + the stem below `keyPrefix`
 * (`raw-data/2024/01/15/t.parquet` → `processed-data/2024/01/15/t/`), quarantine under `quarantine/` + the
 * whole stem, so a quarantined row always names the exact key it came from.
 */
export function deriveJobPaths(bucket: string, key: string, suffix: string, outputBucket: string, layout: OutputLayout = {}): JobPaths {
    const stem = key.slice(0, key.length - suffix.length);
    const prefix = layout.keyPrefix ?? "";
    const relative = stem.startsWith(prefix) ? stem.slice(prefix.length) : stem;
    return {
        inputPath: s3Uri(bucket, key),
        outputPath: `s3://${outputBucket}/${layout.outputPrefix ?? DEFAULT_OUTPUT_PREFIX}${relative}/`,
        quarantinePath: `s3://${outputBucket}/${QUARANTINE_PREFIX}${stem}/`,
    };
}

/**
 * Why a key is REJECTED, or undefined: the shared key rules (./s3Events' unsafeKeyReason) applied to this
 * flow's derived output and quarantine prefixes.
 */
export function rejectedKeyReason(key: string, paths: JobPaths): string | undefined {
    return unsafeKeyReason(key, [
        ["output", paths.outputPath],
        ["quarantine", paths.quarantinePath],
    ]);
}

/**
 * The job arguments that pin a run to the object version it was started for. The file jobs accept exactly
 * these names (glue/lib/glue_pipeline/file_job.py, RECORDING_ARGS; a test compares both lists).
 */
export const VERSION_ARGUMENTS = { versionId: "--source_version_id", etag: "--source_etag" } as const;

/** The job arguments for one file (the contract's `--name value` pairs; FileProcessorV2 and ParquetToJson share them). */
export function buildJobArguments(paths: JobPaths, sourceKey: string, fileId: string, version: RunVersion = {}): Record<string, string> {
    return {
        "--input_path": paths.inputPath,
        "--output_path": paths.outputPath,
        "--quarantine_path": paths.quarantinePath,
        "--source_file": sourceKey,
        "--file_id": fileId,
        ...(version.versionId && version.versionId !== "null" ? { [VERSION_ARGUMENTS.versionId]: version.versionId } : {}),
        ...(version.etag ? { [VERSION_ARGUMENTS.etag]: version.etag } : {}),
    };
}

// ---------------------------------------------------------------------------------------------------------
// Effects
// ---------------------------------------------------------------------------------------------------------

export type RecordOutcome =
    /** A run started: on Glue (`jobRunId` Glue's), or on the fast path (the request sent, `jobRunId` `fast-<uuid>`). */
    | { readonly outcome: "started"; readonly uri: string; readonly fileId: string; readonly jobRunId: string; readonly attempt: number; readonly engine?: Route["engine"] }
    | { readonly outcome: "skipped"; readonly uri: string; readonly fileId: string; readonly existingStatus?: ProcessingStatus }
    /** Glue refused the start for capacity: WAITING, and the message comes back after `wait.delaySeconds`. */
    | { readonly outcome: "waiting"; readonly uri: string; readonly fileId: string; readonly wait: Wait }
    | { readonly outcome: "ignored"; readonly uri: string; readonly reason: string }
    /** Recorded without a run: REJECTED (the file or its key), SUPERSEDED or SOURCE_DELETED (see `status`). */
    | { readonly outcome: "rejected"; readonly uri: string; readonly fileId: string; readonly status: NotProcessedStatus; readonly reason: string }
    | { readonly outcome: "failed"; readonly uri: string; readonly fileId?: string; readonly error: Error };

export interface TriggerSummary {
    readonly started: number;
    readonly skipped: number;
    readonly waiting: number;
    readonly ignored: number;
    readonly rejected: number;
    readonly failed: number;
    readonly records: readonly RecordOutcome[];
}

/** Thrown after all records were handled when any of them failed, so Lambda retries the event. */
export class TriggerBatchError extends Error {
    constructor(
        readonly failures: readonly Extract<RecordOutcome, { outcome: "failed" }>[],
        readonly total: number,
    ) {
        super(
            `${failures.length} of ${total} S3 record(s) failed: ` +
                failures.map((f) => `${f.uri}: ${f.error.name}: ${f.error.message}`).join("; "),
        );
        this.name = "TriggerBatchError";
    }
}

/** Handles one record end to end. Never throws: a failure is returned as a `failed` outcome. */
export async function processRecord(
    record: S3EventRecordLike,
    deps: TriggerDeps,
    remainingMs: () => number,
    baseLog: Logger,
    delivery: Delivery = DIRECT_DELIVERY,
): Promise<RecordOutcome> {
    const rawUri = s3Uri(record.s3?.bucket?.name ?? "?", record.s3?.object?.key ?? "?");
    let uri = rawUri;
    let fileId: string | undefined;
    let log = baseLog.child({ s3_uri: rawUri });
    try {
        const plan = planRecord(record, deps.config.fileSuffix, deps.config);
        uri = s3Uri(plan.bucket, plan.key);
        log = baseLog.child({ s3_uri: uri });
        if (plan.action === "ignore") {
            log.info("record ignored", { reason: plan.reason });
            return { outcome: "ignored", uri, reason: plan.reason };
        }

        const paths = deriveJobPaths(plan.bucket, plan.key, deps.config.fileSuffix, deps.config.outputBucket, deps.config);
        // The version uploaded is the version processed: S3 says now whether the event's version is current.
        const object = await checkSourceVersion(deps.s3, plan);
        fileId = deriveFileId(plan.bucket, plan.key, object.version);
        log = log.child({ file_id: fileId });
        const source: SourceObject = { fileId, bucket: plan.bucket, key: plan.key, version: object.version, sizeBytes: object.sizeBytes };

        /** Ends the record without a run (the conditional write skips a duplicate of an event already handled). */
        const notProcessed = async (status: NotProcessedStatus, reason: string): Promise<RecordOutcome> => {
            const written = await deps.records.reject(source, reason, { jobName: deps.config.glueJobName, status });
            if (!written.recorded) {
                log.info("duplicate delivery skipped", { existing_status: written.existing?.processing_status });
                return { outcome: "skipped", uri, fileId: source.fileId, existingStatus: written.existing?.processing_status };
            }
            // A newer version superseding an older one is ordinary; a refused key or a vanished object is not.
            (status === ProcessingStatus.SUPERSEDED ? log.info : log.warn).call(log, "file not processed", { status, reason });
            return { outcome: "rejected", uri, fileId: source.fileId, status, reason };
        };

        if (object.state === "gone") return await notProcessed(ProcessingStatus.SOURCE_DELETED, object.reason);
        // A key unsafe as a path is refused whichever version this is: the job never sees it.
        const keyReason = rejectedKeyReason(plan.key, paths);
        if (keyReason) return await notProcessed(ProcessingStatus.REJECTED, keyReason);
        if (object.state === "superseded") return await notProcessed(ProcessingStatus.SUPERSEDED, object.reason);
        if (object.sizeBytes === 0) {
            return await notProcessed(ProcessingStatus.REJECTED, "object is empty (0 bytes): there is no header to parse and nothing to process");
        }

        const claim = await deps.records.claim({
            source,
            leaseSeconds: deps.config.claimLeaseSeconds,
            jobName: deps.config.glueJobName,
            outputPath: paths.outputPath,
            quarantinePath: paths.quarantinePath,
        });
        if (!claim.claimed) {
            log.info("duplicate delivery skipped", {
                existing_status: claim.existing?.processing_status,
                existing_job_run_id: claim.existing?.job_run_id,
                existing_lease_expires_at: claim.existing?.lease_expires_at,
            });
            return { outcome: "skipped", uri, fileId, existingStatus: claim.existing?.processing_status };
        }
        log = log.child({ attempt: claim.attempt });

        const jobArguments = buildJobArguments(paths, plan.key, fileId, object.runVersion);
        const route = chooseEngine(object.sizeBytes, deps.config.fastPath);
        const started: StartedFile = { uri, fileId, attempt: claim.attempt, recordedWaits: claim.record.wait_attempts, sizeBytes: object.sizeBytes, jobArguments, route };
        if (route.engine === ENGINES.fast && deps.config.fastPath) return await startOnFastPath(started, deps.config.fastPath, deps, log);
        return await startOnGlue(started, deps, remainingMs, log, delivery);
    } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        log.error("record failed", {
            error,
            ...(error instanceof RetriesExhaustedError ? { start_attempts: error.attempts, gave_up_because: error.reason } : {}),
        });
        return { outcome: "failed", uri, ...(fileId ? { fileId } : {}), error };
    }
}

/** A claimed file about to start, on the engine its size chose. */
interface StartedFile {
    readonly uri: string;
    readonly fileId: string;
    readonly attempt: number;
    /** The record's wait count when it was claimed (a capacity refusal continues from it). */
    readonly recordedWaits?: number;
    readonly sizeBytes: number;
    readonly jobArguments: Record<string, string>;
    readonly route: Route;
}

/**
 * After a start failed: START_FAILED on our claim, so the retried delivery (or a replay) may claim it again.
 * If even that write fails, the record stays CLAIMED; its lease expires and the retried delivery takes it over.
 */
async function recordStartFailed(file: StartedFile, message: string, deps: TriggerDeps, log: Logger): Promise<void> {
    try {
        const written = await deps.records.markStartFailed(file.fileId, file.attempt, message);
        if (!written.recorded) {
            log.warn("START_FAILED not recorded: the claim was taken over", { existing_status: written.existing?.processing_status });
        }
    } catch (writeErr) {
        log.error("could not record START_FAILED", { error: writeErr });
    }
}

/** Starts the Glue job for a claimed file and records STARTED (engine glue), or WAITING when Glue has no room. */
async function startOnGlue(file: StartedFile, deps: TriggerDeps, remainingMs: () => number, log: Logger, delivery: Delivery): Promise<RecordOutcome> {
    const { uri, fileId, attempt } = file;
    let jobRunId: string;
    try {
        jobRunId = await startJobRun(deps.glue, deps.config.glueJobName, file.jobArguments, {
            maxAttempts: deps.config.startAttempts,
            backoff: deps.backoff,
            sleep: deps.sleep,
            random: deps.random,
            remainingMs,
            reserveMs: deps.reserveMs,
            log,
            // Queue-fed, a full job is waited out in the queue, not in this invocation.
            ...(delivery.queued ? { isRetryable: isRateLimitedStart } : {}),
        });
    } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (isCapacityRefusal(err)) {
            const decision = await waitForCapacity(deps.records, { fileId, attempt, recordedWaits: file.recordedWaits }, message, delivery);
            if (decision.kind === "waiting") {
                log.info("Glue has no room for this run: waiting in the queue", { wait_attempt: decision.wait.waitAttempt, delay_seconds: decision.wait.delaySeconds, error: message });
                return { outcome: "waiting", uri, fileId, wait: decision.wait };
            }
            if (decision.kind === "claim-lost") {
                log.warn("WAITING not recorded: the claim was taken over", { existing_status: decision.existing?.processing_status });
                return { outcome: "skipped", uri, fileId, existingStatus: decision.existing?.processing_status };
            }
        }
        await recordStartFailed(file, message, deps, log);
        throw err;
    }

    try {
        const written = await deps.records.markStarted(fileId, attempt, jobRunId, { engine: file.route.engine, engineReason: file.route.reason });
        if (written.recorded === "CLAIM_LOST") {
            log.error("job run started but the claim was taken over meanwhile: the file may be processed twice", {
                job_run_id: jobRunId,
                existing_status: written.existing?.processing_status,
                existing_job_run_id: written.existing?.job_run_id,
            });
        }
    } catch (writeErr) {
        // The run exists, so the file is not lost: report it started. Rethrowing would make Lambda retry
        // and, once the lease expired, start a second run for the same file.
        log.error("job run started but STARTED could not be recorded", { job_run_id: jobRunId, error: writeErr });
    }
    log.info("job run started", { job_run_id: jobRunId, job_name: deps.config.glueJobName, engine: file.route.engine, engine_reason: file.route.reason });
    return { outcome: "started", uri, fileId, jobRunId, attempt, engine: file.route.engine };
}

/**
 * Hands a claimed file to the CSV converter: sends its ConversionRequest, then records STARTED under the
 * request's run id (engine fast, job_name the converter). Send first, record second (./fastPath says why).
 */
async function startOnFastPath(file: StartedFile, fastPath: FastPathConfig, deps: TriggerDeps, log: Logger): Promise<RecordOutcome> {
    const { uri, fileId, attempt } = file;
    const runId = deps.newFastRunId();
    const request = conversionRequest({ fileId, attempt, runId, jobArguments: file.jobArguments, sizeBytes: file.sizeBytes, routedBecause: file.route.reason });
    try {
        await sendConversionRequest(deps.sqs, fastPath.queueUrl, request);
    } catch (err) {
        // No request exists: the claim is given back as START_FAILED and the S3 message is retried.
        await recordStartFailed(file, `could not send the conversion request to the fast path: ${err instanceof Error ? err.message : String(err)}`, deps, log);
        throw err;
    }
    // A failed write throws (the message is retried): unlike a Glue run, the converter never runs without STARTED,
    // so reporting the file started would leave its request returning to the queue until the dead-letter queue.
    const written = await deps.records.markStarted(fileId, attempt, runId, { jobName: fastPath.functionName, engine: file.route.engine, engineReason: file.route.reason });
    if (written.recorded === "CLAIM_LOST") {
        // Another invocation owns the file now; the converter finds another claim and drops this request.
        log.warn("conversion request sent but the claim was taken over meanwhile: the request will be ignored", {
            job_run_id: runId,
            existing_status: written.existing?.processing_status,
            existing_job_run_id: written.existing?.job_run_id,
        });
        return { outcome: "skipped", uri, fileId, existingStatus: written.existing?.processing_status };
    }
    log.info("sent to the fast path", { job_run_id: runId, job_name: fastPath.functionName, engine: file.route.engine, engine_reason: file.route.reason });
    return { outcome: "started", uri, fileId, jobRunId: runId, attempt, engine: file.route.engine };
}

/**
 * Handles every record of an S3 event (../shared/s3Batch: one after another, a failing record not stopping
 * the others); when any failed, one TriggerBatchError naming them is thrown after all were handled, so
 * Lambda's async retries and then the DLQ take over. Redelivered records that already started are skipped
 * by their claim.
 */
export async function handleS3Event(event: S3EventLike, context: InvocationContext | undefined, deps: TriggerDeps): Promise<TriggerSummary> {
    const { counts, outcomes } = await processS3Records<RecordOutcome>(event, context, batchOptions(deps));
    return { ...counts, records: outcomes };
}

function batchOptions(deps: TriggerDeps): S3BatchOptions<RecordOutcome> {
    return {
        logger: deps.logger,
        outcomeKinds: ["started", "skipped", "waiting", "ignored", "rejected", "failed"],
        processRecord: (record, remainingMs, log, delivery) => processRecord(record, deps, remainingMs, log, delivery),
        batchError: (failures, total) => new TriggerBatchError(failures, total),
    };
}

export type TriggerQueueSummary = TriggerSummary & QueueBatchAnswer;

/**
 * Handles a batch of messages from the trigger's queue (../shared/s3Batch's processQueueMessages): the
 * messages whose records failed are named in `batchItemFailures`; a file Glue had no room for waits (its
 * message is sent back with a delay) and counts as handled.
 */
export async function handleQueueEvent(event: QueueEventLike, context: InvocationContext | undefined, deps: TriggerDeps): Promise<TriggerQueueSummary> {
    const { counts, outcomes, ...answer } = await processQueueMessages(event, context, { ...batchOptions(deps), queue: { sqs: deps.sqs, config: deps.config.queueFeed } });
    return { ...counts, records: outcomes, ...answer };
}
