/**
 * The warehouse load step of the claims flow: a successful claims ETL run → its file's rows in Redshift.
 *
 * Events: a Glue "Job State Change" SUCCEEDED of the claims job (the EventBridge rule), or `{ "fileId": … }`
 * (a replay: loads the run the file's record names). For the file of that run:
 *
 *  1. claim the load on the file's metadata record (./records): one load per run; a redelivered event for a
 *     loaded run stops here, an event for a run that is not the record's current SUCCEEDED run too;
 *  2. if an earlier invocation already submitted this run's batch (it timed out or died while polling),
 *     follow that batch instead of submitting another;
 *  3. list the file's Parquet and write its COPY manifest (./manifest);
 *  4. BatchExecuteStatement (./sql: staging COPY, DELETE + INSERT by file_id, one transaction), retried with
 *     backoff while the workgroup refuses it (too many active statements, throttling, 5xx), with a client
 *     token so that a retried request is not a second batch;
 *  5. poll DescribeStatement with exponential backoff until it ends or the invocation's time runs short
 *     (then the error makes Lambda retry, and the retry follows the same batch: step 2);
 *  6. record LOADED with the rows loaded and replaced, checked against the rows the run wrote; or
 *     LOAD_FAILED with the error, an `error` on the claims error topic, and the error rethrown so Lambda
 *     retries (a serialization conflict heals that way) and finally keeps the event in the DLQ for replay.
 */
import { BatchExecuteStatementCommand, DescribeStatementCommand, DescribeStatementCommandOutput, RedshiftDataClient } from "@aws-sdk/client-redshift-data";
import { GetJobRunCommand, GlueClient } from "@aws-sdk/client-glue";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createHash } from "node:crypto";
import { errorNotification } from "../claims-validation/messages";
import { Logger, LogSink } from "../shared/logger";
import { createClientTracer } from "../shared/tracing";
import { ProcessingStatus } from "../shared/processingRecords";
import { awsErrorName, backoffCeilingMs, BackoffOptions, retryWithBackoff, sleep as defaultSleep } from "../shared/retry";
import { WarehouseLoadConfig } from "./config";
import { listFileParquet, manifestKey } from "./manifest";
import { WarehouseLoadRecords, WarehouseLoadStatus, WarehouseRecord } from "./records";
import { FILE_ID, LoadBatch, loadStatements } from "./sql";

export const SERVICE_NAME = "claims-warehouse-load";

export interface WarehouseLoadDeps {
    readonly config: WarehouseLoadConfig;
    readonly s3: S3Client;
    readonly glue: GlueClient;
    readonly redshiftData: RedshiftDataClient;
    readonly sns: SNSClient;
    readonly records: WarehouseLoadRecords;
    readonly logger: Logger;
    readonly now: () => Date;
    readonly sleep: (ms: number) => Promise<void>;
    readonly random: () => number;
    /** Delays between DescribeStatement calls: base × 2^n, capped (no jitter: one poller per batch). */
    readonly pollBackoff: BackoffOptions;
    /** Delays between refused submissions (full jitter: loads of many files may be refused together). */
    readonly submitBackoff: BackoffOptions;
    readonly submitAttempts: number;
}

export const DEFAULT_POLL_BACKOFF: BackoffOptions = { baseDelayMs: 500, maxDelayMs: 15000 };
export const DEFAULT_SUBMIT_BACKOFF: BackoffOptions = { baseDelayMs: 1000, maxDelayMs: 20000 };

export interface WarehouseLoadOverrides extends Partial<Omit<WarehouseLoadDeps, "config">> {
    readonly dynamodb?: DynamoDBClient;
    readonly logSink?: LogSink;
}

export function createWarehouseLoadDeps(config: WarehouseLoadConfig, overrides: WarehouseLoadOverrides = {}): WarehouseLoadDeps {
    const requestHandler = { connectionTimeout: 2000, requestTimeout: 15000 };
    const tracer = createClientTracer(SERVICE_NAME);
    const now = overrides.now ?? (() => new Date());
    return {
        config,
        s3: overrides.s3 ?? tracer.trace(new S3Client({ requestHandler })),
        glue: overrides.glue ?? tracer.trace(new GlueClient({ requestHandler })),
        redshiftData: overrides.redshiftData ?? tracer.trace(new RedshiftDataClient({ requestHandler })),
        sns: overrides.sns ?? tracer.trace(new SNSClient({ requestHandler })),
        records:
            overrides.records ??
            new WarehouseLoadRecords(
                DynamoDBDocumentClient.from(overrides.dynamodb ?? tracer.trace(new DynamoDBClient({ requestHandler })), { marshallOptions: { removeUndefinedValues: true } }),
                config.metadataTable,
                now,
            ),
        logger: overrides.logger ?? new Logger({ service: SERVICE_NAME, level: config.logLevel, sink: overrides.logSink }),
        now,
        sleep: overrides.sleep ?? defaultSleep,
        random: overrides.random ?? Math.random,
        pollBackoff: overrides.pollBackoff ?? DEFAULT_POLL_BACKOFF,
        submitBackoff: overrides.submitBackoff ?? DEFAULT_SUBMIT_BACKOFF,
        submitAttempts: overrides.submitAttempts ?? 5,
    };
}

/** What a Lambda context offers that the load uses. */
export interface InvocationContext {
    readonly awsRequestId?: string;
    readonly functionName?: string;
    readonly getRemainingTimeInMillis?: () => number;
}

export interface GlueSucceededEvent {
    readonly source: string;
    readonly "detail-type": string;
    readonly detail: { readonly jobName: string; readonly jobRunId: string; readonly state: string };
}

/** A replay: load the run the file's record names. */
export interface ReplayLoadEvent {
    readonly fileId: string;
}

export type LoadEvent = GlueSucceededEvent | ReplayLoadEvent;

export type SkipReason = "already-loaded" | "loading-elsewhere" | "not-current-run" | "no-record";

export type LoadOutcome =
    | { readonly kind: "ignored"; readonly reason: string }
    | { readonly kind: "skipped"; readonly fileId: string; readonly jobRunId?: string; readonly reason: SkipReason }
    | {
          readonly kind: "loaded";
          readonly fileId: string;
          readonly jobRunId: string;
          readonly statementId: string;
          readonly rowsLoaded: number;
          readonly rowsReplaced: number;
          /** True when an earlier invocation's batch was followed rather than a new one submitted. */
          readonly followed: boolean;
      };

/** The batch ended FAILED or ABORTED, or its rows do not match the run's; recorded and alerted before it is thrown. */
export class WarehouseLoadError extends Error {
    constructor(readonly fileId: string, readonly jobRunId: string, message: string) {
        super(message);
        this.name = "WarehouseLoadError";
    }
}

/** Polling stopped to stay within the invocation; the retry follows the same batch. */
export class LoadStillRunningError extends Error {
    constructor(readonly fileId: string, readonly statementId: string) {
        super(`warehouse load of ${fileId} (statement ${statementId}) still running when the invocation's time ran short; the retry follows it`);
        this.name = "LoadStillRunningError";
    }
}

/** Another invocation claimed this run's load moments ago and has not submitted yet; Lambda's retry looks again. */
export class LoadInProgressError extends Error {
    constructor(readonly fileId: string) {
        super(`warehouse load of ${fileId} was claimed by another invocation that has not submitted its batch yet`);
        this.name = "LoadInProgressError";
    }
}

const SUBMIT_RETRYABLE = new Set(["ActiveStatementsExceededException", "ActiveSessionsExceededException", "ThrottlingException", "InternalServerException"]);

export function isRetryableSubmitError(err: unknown): boolean {
    const status = (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
    return SUBMIT_RETRYABLE.has(awsErrorName(err) ?? "") || (status !== undefined && status >= 500);
}

/** Deterministic per claim: an SDK retry of the same submission is recognised by the Data API, a new claim is a new batch. */
export function clientToken(fileId: string, jobRunId: string, attempt: number): string {
    return createHash("sha256").update(`${fileId}/${jobRunId}/${attempt}`).digest("hex");
}

const TERMINAL = new Set(["FINISHED", "FAILED", "ABORTED"]);

function isGlueSucceeded(event: LoadEvent): event is GlueSucceededEvent {
    const e = event as Partial<GlueSucceededEvent>;
    return e.source === "aws.glue" && e["detail-type"] === "Glue Job State Change" && typeof e.detail?.jobRunId === "string";
}

/** The file and run an event asks to load, or why it asks for nothing. */
async function target(event: LoadEvent, deps: WarehouseLoadDeps): Promise<{ fileId: string; jobRunId?: string } | { ignored: string }> {
    if (isGlueSucceeded(event)) {
        if (event.detail.state !== "SUCCEEDED") return { ignored: `run ${event.detail.jobRunId} ended ${event.detail.state}` };
        const run = await deps.glue.send(new GetJobRunCommand({ JobName: event.detail.jobName, RunId: event.detail.jobRunId }));
        const fileId = run.JobRun?.Arguments?.["--file_id"];
        if (!fileId) return { ignored: `run ${event.detail.jobRunId} names no --file_id` };
        return { fileId, jobRunId: event.detail.jobRunId };
    }
    const fileId = (event as Partial<ReplayLoadEvent>)?.fileId;
    if (typeof fileId === "string") return { fileId };
    return { ignored: "neither a Glue state change nor a replay ({ fileId })" };
}

/** Handles one event. Errors are logged with context and rethrown, so Lambda retries and then keeps the event. */
export async function handleLoadEvent(event: LoadEvent, deps: WarehouseLoadDeps, context?: InvocationContext): Promise<LoadOutcome> {
    let log = deps.logger.child(context?.awsRequestId ? { aws_request_id: context.awsRequestId } : {});
    const getRemaining = context?.getRemainingTimeInMillis;
    const remainingMs = getRemaining ? () => getRemaining.call(context) : () => Number.POSITIVE_INFINITY;
    try {
        const t = await target(event, deps);
        if ("ignored" in t) {
            log.info("nothing to load", { reason: t.ignored });
            return { kind: "ignored", reason: t.ignored };
        }
        if (!FILE_ID.test(t.fileId)) return { kind: "ignored", reason: `file id ${JSON.stringify(t.fileId)} is not a claims file id` };
        log = log.child({ file_id: t.fileId });
        let jobRunId = t.jobRunId;
        if (jobRunId === undefined) {
            const record = await deps.records.get(t.fileId);
            if (!record) return { kind: "skipped", fileId: t.fileId, reason: "no-record" };
            if (record.processing_status !== ProcessingStatus.SUCCEEDED || !record.job_run_id) {
                log.warn("replay of a file whose ETL has not succeeded; nothing to load", { record_status: record.processing_status });
                return { kind: "skipped", fileId: t.fileId, reason: "not-current-run" };
            }
            jobRunId = record.job_run_id;
        }
        log = log.child({ job_run_id: jobRunId });
        return await load(t.fileId, jobRunId, deps, remainingMs, log, context?.functionName);
    } catch (err) {
        log.error("warehouse load did not complete", { error: err });
        throw err;
    }
}

async function load(fileId: string, jobRunId: string, deps: WarehouseLoadDeps, remainingMs: () => number, log: Logger, functionName?: string): Promise<LoadOutcome> {
    const claim = await deps.records.claim(fileId, jobRunId, deps.config.leaseSeconds);
    if (!claim.claimed) {
        const existing = claim.existing;
        if (!existing) return { kind: "skipped", fileId, jobRunId, reason: "no-record" };
        if (existing.processing_status !== ProcessingStatus.SUCCEEDED || existing.job_run_id !== jobRunId) {
            log.warn("the file's record is not this run's SUCCEEDED record; its current run loads it", {
                record_status: existing.processing_status,
                record_run_id: existing.job_run_id,
            });
            return { kind: "skipped", fileId, jobRunId, reason: "not-current-run" };
        }
        if (existing.warehouse_load_status === WarehouseLoadStatus.LOADED) {
            log.info("run already loaded; nothing loaded twice", { statement_id: existing.warehouse_statement_id, rows_loaded: existing.warehouse_rows_loaded });
            return { kind: "skipped", fileId, jobRunId, reason: "already-loaded" };
        }
        // LOADING under a live lease: follow its batch if it has one (its invocation may have run out of time).
        if (existing.warehouse_statement_id && existing.warehouse_load_attempts !== undefined) {
            log.info("following the batch an earlier invocation submitted", { statement_id: existing.warehouse_statement_id });
            return finish(fileId, jobRunId, existing.warehouse_load_attempts, existing.warehouse_statement_id, existing, true, deps, remainingMs, log, functionName);
        }
        throw new LoadInProgressError(fileId);
    }
    const { attempt, previous } = claim;
    log = log.child({ load_attempt: attempt });

    // A dead invocation's batch for this run: if it is still running or finished, it is this load.
    if (previous.warehouse_run_id === jobRunId && previous.warehouse_load_status === WarehouseLoadStatus.LOADING && previous.warehouse_statement_id) {
        const earlier = await describe(deps, previous.warehouse_statement_id);
        if (earlier.Status !== "FAILED" && earlier.Status !== "ABORTED") {
            await deps.records.markSubmitted(fileId, jobRunId, attempt, previous.warehouse_statement_id);
            return finish(fileId, jobRunId, attempt, previous.warehouse_statement_id, previous, true, deps, remainingMs, log, functionName);
        }
    }

    const entries = await listFileParquet(deps.s3, deps.config.dataBucket, fileId);
    let manifestUri: string | undefined;
    if (entries.length > 0) {
        const key = manifestKey(fileId);
        await deps.s3.send(new PutObjectCommand({ Bucket: deps.config.dataBucket, Key: key, Body: JSON.stringify({ entries }), ContentType: "application/json" }));
        manifestUri = `s3://${deps.config.dataBucket}/${key}`;
    }
    const batch = loadStatements({ fileId, jobRunId, manifestUri, copyRoleArn: deps.config.copyRoleArn, loadedAt: deps.now() });
    log.info("submitting the load", { parquet_objects: entries.length, manifest: manifestUri, statements: batch.sqls.length });

    let statementId: string;
    try {
        statementId = await submit(deps, batch, clientToken(fileId, jobRunId, attempt), remainingMs, log);
    } catch (err) {
        await fail(fileId, jobRunId, attempt, `BatchExecuteStatement refused: ${err instanceof Error ? err.message : String(err)}`, previous, deps, log, functionName);
        throw err;
    }
    await deps.records.markSubmitted(fileId, jobRunId, attempt, statementId);
    return finish(fileId, jobRunId, attempt, statementId, previous, false, deps, remainingMs, log, functionName, batch);
}

async function submit(deps: WarehouseLoadDeps, batch: LoadBatch, token: string, remainingMs: () => number, log: Logger): Promise<string> {
    const out = await retryWithBackoff(
        () =>
            deps.redshiftData.send(
                new BatchExecuteStatementCommand({
                    WorkgroupName: deps.config.workgroupName,
                    Database: deps.config.databaseName,
                    Sqls: [...batch.sqls],
                    // The default, pinned: all statements or none (AUTO_COMMIT would commit the DELETE alone).
                    ExecutionMode: "TRANSACTION",
                    StatementName: "claims-warehouse-load",
                    ClientToken: token,
                }),
            ),
        {
            operation: "BatchExecuteStatement",
            maxAttempts: deps.submitAttempts,
            backoff: deps.submitBackoff,
            isRetryable: isRetryableSubmitError,
            sleep: deps.sleep,
            random: deps.random,
            remainingMs,
            reserveMs: deps.config.reserveMs,
            onRetry: ({ attempt, delayMs, error }) => log.warn("load refused; retrying", { attempt, delay_ms: delayMs, error }),
        },
    );
    if (!out.Id) throw new Error("BatchExecuteStatement returned no statement id");
    return out.Id;
}

function describe(deps: WarehouseLoadDeps, id: string): Promise<DescribeStatementCommandOutput> {
    return deps.redshiftData.send(new DescribeStatementCommand({ Id: id }));
}

/** Polls until the batch ends or the invocation's time runs short. */
async function poll(deps: WarehouseLoadDeps, fileId: string, statementId: string, remainingMs: () => number): Promise<DescribeStatementCommandOutput> {
    for (let n = 1; ; n++) {
        const out = await describe(deps, statementId);
        if (TERMINAL.has(out.Status ?? "")) return out;
        const delay = backoffCeilingMs(n, deps.pollBackoff);
        if (remainingMs() - delay < deps.config.reserveMs) throw new LoadStillRunningError(fileId, statementId);
        await deps.sleep(delay);
    }
}

/** The rows the DELETE and the INSERT reported (positions: the batch's, or the last two statements of a followed batch). */
function rowCounts(out: DescribeStatementCommandOutput, batch: LoadBatch | undefined): { rowsLoaded: number; rowsReplaced: number } {
    const subs = out.SubStatements ?? [];
    const deleteIndex = batch?.deleteIndex ?? subs.length - 2;
    const insertIndex = batch?.insertIndex ?? subs.length - 1;
    return { rowsReplaced: Math.max(0, subs[deleteIndex]?.ResultRows ?? 0), rowsLoaded: Math.max(0, subs[insertIndex]?.ResultRows ?? 0) };
}

function failureText(out: DescribeStatementCommandOutput): string {
    const failed = (out.SubStatements ?? []).find((s) => s.Status === "FAILED" || s.Error);
    const where = failed ? ` (statement ${failed.Id}: ${(failed.QueryString ?? "").split(" ").slice(0, 3).join(" ")}…)` : "";
    return `warehouse load ${out.Status}${where}: ${failed?.Error ?? out.Error ?? "no error message from the Data API"}`;
}

async function finish(
    fileId: string,
    jobRunId: string,
    attempt: number,
    statementId: string,
    record: WarehouseRecord,
    followed: boolean,
    deps: WarehouseLoadDeps,
    remainingMs: () => number,
    log: Logger,
    functionName?: string,
    batch?: LoadBatch,
): Promise<LoadOutcome> {
    log = log.child({ statement_id: statementId });
    const out = await poll(deps, fileId, statementId, remainingMs);
    if (out.Status !== "FINISHED") {
        const message = failureText(out);
        await fail(fileId, jobRunId, attempt, message, record, deps, log, functionName);
        throw new WarehouseLoadError(fileId, jobRunId, message);
    }
    const { rowsLoaded, rowsReplaced } = rowCounts(out, batch);
    // The run counted what it wrote from its Parquet; the warehouse must hold exactly that many of the file's rows.
    const written = record.record_count;
    if (written !== undefined && written !== rowsLoaded) {
        const message = `warehouse load of ${fileId} inserted ${rowsLoaded} rows but run ${jobRunId} wrote ${written}; the warehouse now holds the ${rowsLoaded}`;
        await fail(fileId, jobRunId, attempt, message, record, deps, log, functionName);
        throw new WarehouseLoadError(fileId, jobRunId, message);
    }
    const recorded = await deps.records.markLoaded(fileId, jobRunId, attempt, { statementId, rowsLoaded, rowsReplaced });
    if (!recorded) log.warn("load finished but a newer load owns the record now; its outcome stands", { rows_loaded: rowsLoaded });
    log.info("file loaded into the warehouse", { rows_loaded: rowsLoaded, rows_replaced: rowsReplaced, duration_ms: out.Duration !== undefined ? Math.round(out.Duration / 1e6) : undefined, followed });
    return { kind: "loaded", fileId, jobRunId, statementId, rowsLoaded, rowsReplaced, followed };
}

/** Records LOAD_FAILED and publishes an `error` on the claims error topic; a publishing failure is logged, not thrown. */
async function fail(
    fileId: string,
    jobRunId: string,
    attempt: number,
    message: string,
    record: WarehouseRecord,
    deps: WarehouseLoadDeps,
    log: Logger,
    functionName?: string,
): Promise<void> {
    await deps.records.markFailed(fileId, jobRunId, attempt, message);
    const note = errorNotification({
        errorMessage: message,
        errorType: "WarehouseLoadError",
        functionName: functionName ?? SERVICE_NAME,
        // The requirements' error format names the claims file's key, as the validation's errors do.
        file: record.source_key ?? fileId,
        at: deps.now(),
        attributes: { file_id: fileId, job_run_id: jobRunId },
    });
    try {
        await deps.sns.send(new PublishCommand({ TopicArn: deps.config.errorTopicArn, Message: note.message, Subject: note.subject, MessageAttributes: note.attributes }));
    } catch (error) {
        log.error("load failure not published", { notification: note.message, error });
    }
}
