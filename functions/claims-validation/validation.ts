/**
 * ClaimsValidationLambda's logic: for each claims CSV that lands under `raw/claims/` of the claims bucket,
 * claim the file's processing record, stream the file through the declared schema and rules, write the
 * validation report under `validation-reports/`, then either start the claims Glue job (and publish a
 * `job_status_update` STARTED) or move the file to `quarantine/files/` (and publish an `error`).
 *
 * Exactly once: the conditional claim on the metadata record (functions/shared/processingRecords) admits
 * one invocation per object version, as in the CSV trigger; duplicate deliveries are logged and skipped.
 * The file is read by version id, so a retry after the file was moved still validates the same bytes.
 *
 * Bursts: fed by its SQS queue, a start Glue refuses for capacity is not a failure: the record becomes WAITING,
 * no error is told to anyone, and the message comes back later with a growing delay (../shared/backpressure);
 * the file is then validated again (the same version, so the same verdict; the report is rewritten) before the
 * next try.
 *
 * Memory: the object is read as a stream and judged record by record (./csvRecords); only counts, a bounded
 * list of sample issues and at most one open multi-line record are held.
 */
import { GlueClient } from "@aws-sdk/client-glue";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { Logger, LogSink } from "../shared/logger";
import { createClientTracer } from "../shared/tracing";
import { NotProcessedStatus, ProcessingRecordStore, ProcessingStatus, SourceObject } from "../shared/processingRecords";
import { Delivery, DIRECT_DELIVERY, Wait, waitForCapacity } from "../shared/backpressure";
import { DEFAULT_START_BACKOFF, isCapacityRefusal, isRateLimitedStart, startJobRun } from "../shared/glueJobRuns";
import { BackoffOptions, retryWithBackoff, RetriesExhaustedError, sleep as realSleep } from "../shared/retry";
import { BatchInvocationContext, processQueueMessages, processS3Records, QueueBatchAnswer, QueueEventLike, S3BatchOptions } from "../shared/s3Batch";
import { deriveFileId, planRecord, S3EventLike, S3EventRecordLike, s3Uri, unsafeKeyReason } from "../shared/s3Events";
import { checkSourceVersion, SourceCheck } from "../shared/sourceVersion";
import { ClaimsRecordWriter } from "./claimsRecords";
import { CLAIMS_PREFIXES, ClaimsValidationConfig } from "./config";
import { CsvRecordReader } from "./csvRecords";
import { errorNotification, jobStatusUpdate, OutgoingMessage } from "./messages";
import { moveObjectVersion } from "./quarantine";
import { buildReport, ValidationAccumulator, ValidationReport } from "./report";
import { analyseHeader, checkRecord, FileIssue, HeaderAnalysis, RecordCheck, utcDate } from "./rules";
import { compileSchema, CompiledSchema } from "./schema";

export const SERVICE_NAME = "claims-validation";

/** Backoff between publish attempts. */
export const DEFAULT_PUBLISH_BACKOFF: BackoffOptions = { baseDelayMs: 200, maxDelayMs: 2000 };
/**
 * Time kept free once validation is done: report, record writes, the job start with its retries or the
 * quarantine copy, notifications. Validation that would eat into it stops, and the file is left in place
 * with an error notification, rather than the invocation being killed with the record left CLAIMED.
 */
export const DEFAULT_RESERVE_MS = 60_000;

// ---------------------------------------------------------------------------------------------------------
// Pure: paths and arguments
// ---------------------------------------------------------------------------------------------------------

export interface ClaimsPaths {
    readonly inputUri: string;
    /** s3:// URI of the report (JSON). */
    readonly reportKey: string;
    readonly reportUri: string;
    /** Where a failing file is moved. */
    readonly quarantineFileKey: string;
    /** Where the job writes the records it rejects. */
    readonly recordQuarantineUri: string;
    readonly outputUri: string;
    readonly aggregationUri: string;
    readonly stagingUri: string;
}

/**
 * The stem of a claims key: the key without the raw prefix and the suffix (`raw/claims/2024/03/a.csv` →
 * `2024/03/a`). Undefined when the key is not a claims file.
 */
export function claimsStem(key: string, rawPrefix: string, suffix: string): string | undefined {
    if (!key.startsWith(rawPrefix) || !key.toLowerCase().endsWith(suffix.toLowerCase())) return undefined;
    const stem = key.slice(rawPrefix.length, key.length - suffix.length);
    return stem === "" || stem.endsWith("/") ? undefined : stem;
}

/** Every location of one file version's journey (all in the claims bucket, the claims flow's layout). */
export function claimsPaths(bucket: string, key: string, stem: string, fileId: string): ClaimsPaths {
    const root = `s3://${bucket}/`;
    const reportKey = `${CLAIMS_PREFIXES.reports}${stem}/${fileId}.json`;
    return {
        inputUri: s3Uri(bucket, key),
        reportKey,
        reportUri: `${root}${reportKey}`,
        quarantineFileKey: `${CLAIMS_PREFIXES.quarantine}files/${stem}/${fileId}.csv`,
        recordQuarantineUri: `${root}${CLAIMS_PREFIXES.quarantine}records/${stem}/${fileId}/`,
        outputUri: `${root}${CLAIMS_PREFIXES.processed}`,
        aggregationUri: `${root}${CLAIMS_PREFIXES.aggregations}claims_monthly/`,
        stagingUri: `${root}${CLAIMS_PREFIXES.temp}staging/${fileId}/`,
    };
}

/**
 * Why a claims key is REJECTED, or undefined: the shared key rules (../shared/s3Events' unsafeKeyReason), the
 * same as the CSV and Parquet triggers', applied to the locations this flow derives from the key.
 */
export function rejectedClaimsKeyReason(key: string, paths: ClaimsPaths): string | undefined {
    return unsafeKeyReason(key, [
        ["report", paths.reportKey],
        ["quarantine", paths.quarantineFileKey],
        ["record quarantine", paths.recordQuarantineUri],
    ]);
}

/** The claims job's arguments for one file (`--name value`, as Glue passes them). */
export function claimsJobArguments(paths: ClaimsPaths, key: string, fileId: string, version: string): Record<string, string> {
    return {
        "--input_path": paths.inputUri,
        "--output_path": paths.outputUri,
        "--aggregation_path": paths.aggregationUri,
        "--quarantine_path": paths.recordQuarantineUri,
        "--staging_path": paths.stagingUri,
        "--source_file": key,
        "--source_version": version,
        "--file_id": fileId,
        "--validation_report": paths.reportUri,
    };
}

// ---------------------------------------------------------------------------------------------------------
// Pure-ish: validating a stream
// ---------------------------------------------------------------------------------------------------------

export interface StreamValidation {
    readonly header: readonly string[];
    readonly analysis?: HeaderAnalysis;
    readonly fileIssues: readonly FileIssue[];
    readonly accumulator: ValidationAccumulator;
    readonly linesRead: number;
    /** True when validation stopped early to stay within the time budget. */
    readonly stoppedEarly: boolean;
}

export interface StreamValidationOptions {
    readonly schema: CompiledSchema;
    readonly referenceDate: string;
    readonly maxRecordLines: number;
    readonly maxIssueSamples: number;
    /** Asked between chunks; returning true stops reading. @default never */
    readonly shouldStop?: () => boolean;
    /** Told every record's verdict and parsed values, in file order (the corpus test compares them with the job's). */
    readonly onRecord?: (lineNumber: number, check: RecordCheck, fields: readonly string[]) => void;
}

/**
 * Validates a CSV given as a stream of bytes (UTF-8, with or without a byte-order mark). Holds one chunk and
 * one record at a time. Bytes that are not UTF-8 are never replaced (U+FFFD would be written as if uploaded):
 * the file is rejected as a whole with INVALID_ENCODING, as the claims job rejects it (claims_job's encoding
 * check), and reading stops there.
 */
export async function validateStream(body: AsyncIterable<Uint8Array | string>, options: StreamValidationOptions): Promise<StreamValidation> {
    const { schema } = options;
    const reader = new CsvRecordReader(options.maxRecordLines);
    const decoder = new TextDecoder("utf-8", { fatal: true });
    let invalidEncoding: FileIssue | undefined;
    let bytesRead = 0;
    const decode = (chunk: Uint8Array | undefined): string | undefined => {
        try {
            return chunk === undefined ? decoder.decode() : decoder.decode(chunk, { stream: true });
        } catch (err) {
            if (!(err instanceof TypeError)) throw err;
            invalidEncoding = { rule: "INVALID_ENCODING", message: `the file is not UTF-8: an invalid byte sequence within bytes ${bytesRead}-${bytesRead + (chunk?.length ?? 0)}` };
            return undefined;
        }
    };
    const accumulator = new ValidationAccumulator(schema, options.maxIssueSamples);
    let header: readonly string[] | undefined;
    let analysis: HeaderAnalysis | undefined;
    let stoppedEarly = false;
    const consume = (records: ReturnType<CsvRecordReader["push"]>) => {
        for (const record of records) {
            if (analysis === undefined) {
                header = record.fields;
                analysis = analyseHeader(schema, record.fields);
                continue;
            }
            const check = checkRecord(schema, analysis, record.fields, record.closed, options.referenceDate);
            options.onRecord?.(record.lineNumber, check, record.fields);
            accumulator.add(record.lineNumber, check.issues);
        }
    };
    for await (const chunk of body) {
        const text = typeof chunk === "string" ? chunk : decode(chunk);
        if (text === undefined) break;
        bytesRead += typeof chunk === "string" ? 0 : chunk.length;
        consume(reader.push(text));
        if (options.shouldStop?.()) {
            stoppedEarly = true;
            break;
        }
    }
    const rest = stoppedEarly || invalidEncoding ? undefined : decode(undefined);
    // The encoding verdict replaces every other: no record of a file that is not UTF-8 is processed.
    const encodingIssue = invalidEncoding as FileIssue | undefined;
    if (encodingIssue) return { header: header ?? [], analysis, fileIssues: [encodingIssue], accumulator, linesRead: reader.linesRead, stoppedEarly };
    if (rest !== undefined) consume([...(rest ? reader.push(rest) : []), ...reader.end()]);
    const fileIssues: FileIssue[] = [];
    if (analysis === undefined) fileIssues.push({ rule: "EMPTY_FILE", message: "the file has no header (it is empty or blank)" });
    else {
        fileIssues.push(...analysis.issues);
        if (accumulator.totalRecords === 0 && !stoppedEarly) fileIssues.push({ rule: "NO_RECORDS", message: "the file has a header but no claim records" });
    }
    return { header: header ?? [], analysis, fileIssues, accumulator, linesRead: reader.linesRead, stoppedEarly };
}

// ---------------------------------------------------------------------------------------------------------
// Dependencies
// ---------------------------------------------------------------------------------------------------------

export interface ValidationDeps {
    readonly config: ClaimsValidationConfig;
    readonly schema: CompiledSchema;
    readonly s3: S3Client;
    readonly glue: GlueClient;
    readonly sns: SNSClient;
    /** Sends capacity-refused messages back to the function's queue. */
    readonly sqs: SQSClient;
    readonly records: ProcessingRecordStore;
    readonly claimsRecords: ClaimsRecordWriter;
    readonly logger: Logger;
    readonly now: () => Date;
    readonly startBackoff: BackoffOptions;
    readonly publishBackoff: BackoffOptions;
    readonly reserveMs: number;
    readonly sleep: (ms: number) => Promise<void>;
    readonly random: () => number;
    /** Name reported in error notifications' context.function_name. */
    readonly functionName: string;
    /**
     * Also claim FAILED records (whose job failed): only an explicit replay does this, as in the CSV
     * trigger. @default false
     */
    readonly allowFailedClaims: boolean;
}

export interface ValidationOverrides extends Partial<Omit<ValidationDeps, "config">> {
    readonly logSink?: LogSink;
    readonly dynamodb?: DynamoDBClient;
}

/** Builds clients once per cold start; tests replace what they need. */
export function createValidationDeps(config: ClaimsValidationConfig, overrides: ValidationOverrides = {}): ValidationDeps {
    // Reading a large object is one long request; only the connection set-up is bounded tightly.
    const requestHandler = { connectionTimeout: 3000, requestTimeout: 60_000 };
    const tracer = createClientTracer(SERVICE_NAME);
    const doc = DynamoDBDocumentClient.from(overrides.dynamodb ?? tracer.trace(new DynamoDBClient({ requestHandler })), {
        marshallOptions: { removeUndefinedValues: true },
    });
    const now = overrides.now ?? (() => new Date());
    return {
        config,
        schema: overrides.schema ?? compileSchema(),
        s3: overrides.s3 ?? tracer.trace(new S3Client({ requestHandler })),
        // One attempt per call: startJob owns retries (an ambiguous failure may have started a run).
        glue: overrides.glue ?? tracer.trace(new GlueClient({ maxAttempts: 1, requestHandler })),
        sns: overrides.sns ?? tracer.trace(new SNSClient({ requestHandler })),
        sqs: overrides.sqs ?? tracer.trace(new SQSClient({ requestHandler })),
        records: overrides.records ?? new ProcessingRecordStore(doc, config.metadataTable, now),
        claimsRecords: overrides.claimsRecords ?? new ClaimsRecordWriter(doc, config.metadataTable, now),
        logger: overrides.logger ?? new Logger({ service: SERVICE_NAME, level: config.logLevel, sink: overrides.logSink }),
        now,
        startBackoff: overrides.startBackoff ?? DEFAULT_START_BACKOFF,
        publishBackoff: overrides.publishBackoff ?? DEFAULT_PUBLISH_BACKOFF,
        reserveMs: overrides.reserveMs ?? DEFAULT_RESERVE_MS,
        sleep: overrides.sleep ?? realSleep,
        random: overrides.random ?? Math.random,
        functionName: overrides.functionName ?? process.env.AWS_LAMBDA_FUNCTION_NAME ?? SERVICE_NAME,
        allowFailedClaims: overrides.allowFailedClaims ?? false,
    };
}

export interface InvocationContext extends BatchInvocationContext {
    /** Named in error notifications. @default deps.functionName */
    readonly functionName?: string;
}

// ---------------------------------------------------------------------------------------------------------
// Effects
// ---------------------------------------------------------------------------------------------------------

export type FileOutcome =
    | {
          readonly outcome: "started";
          readonly uri: string;
          readonly fileId: string;
          readonly jobRunId: string;
          readonly report: ValidationReport;
      }
    | {
          readonly outcome: "quarantined";
          readonly uri: string;
          readonly fileId: string;
          readonly quarantineUri: string;
          readonly report: ValidationReport;
      }
    /** Recorded without validation or a run: REJECTED (an unsafe key), SUPERSEDED or SOURCE_DELETED (see `status`). */
    | { readonly outcome: "notProcessed"; readonly uri: string; readonly fileId: string; readonly status: NotProcessedStatus; readonly reason: string }
    /** Validation did not finish within the invocation; the file was left in place (START_FAILED). */
    | { readonly outcome: "incomplete"; readonly uri: string; readonly fileId: string; readonly reason: string }
    | { readonly outcome: "skipped"; readonly uri: string; readonly fileId: string; readonly existingStatus?: ProcessingStatus }
    /** Valid, but Glue refused the start for capacity: WAITING, and the message comes back after `wait.delaySeconds`. */
    | { readonly outcome: "waiting"; readonly uri: string; readonly fileId: string; readonly wait: Wait }
    | { readonly outcome: "ignored"; readonly uri: string; readonly reason: string }
    | { readonly outcome: "failed"; readonly uri: string; readonly fileId?: string; readonly error: Error };

export interface ValidationSummary {
    readonly started: number;
    readonly quarantined: number;
    readonly incomplete: number;
    readonly notProcessed: number;
    readonly skipped: number;
    readonly waiting: number;
    readonly ignored: number;
    readonly failed: number;
    readonly files: readonly FileOutcome[];
}

export class ValidationBatchError extends Error {
    constructor(
        readonly failures: readonly Extract<FileOutcome, { outcome: "failed" }>[],
        readonly total: number,
    ) {
        super(`${failures.length} of ${total} claims file(s) failed: ` + failures.map((f) => `${f.uri}: ${f.error.name}: ${f.error.message}`).join("; "));
        this.name = "ValidationBatchError";
    }
}

const PUBLISH_RETRYABLE = new Set(["ThrottledException", "ThrottlingException", "InternalErrorException", "KMSThrottlingException", "TimeoutError"]);

/**
 * Publishes with retries. A notification that still cannot be sent is logged in full (body included) and
 * not rethrown: the file's state is already recorded, and a retried invocation would skip the file.
 */
async function publish(deps: ValidationDeps, topicArn: string, message: OutgoingMessage, log: Logger): Promise<boolean> {
    try {
        await retryWithBackoff(
            () =>
                deps.sns.send(
                    new PublishCommand({ TopicArn: topicArn, Message: message.message, Subject: message.subject, MessageAttributes: message.attributes }),
                ),
            {
                operation: "Publish",
                maxAttempts: 3,
                backoff: deps.publishBackoff,
                isRetryable: (err) => err instanceof Error && (PUBLISH_RETRYABLE.has(err.name) || (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 500),
                sleep: deps.sleep,
                random: deps.random,
            },
        );
        return true;
    } catch (error) {
        log.error("notification not sent", { topic_arn: topicArn, notification: message.message, error });
        return false;
    }
}

/** A claims file whose version is current, on its way through the steps below. */
interface ClaimsFile {
    readonly uri: string;
    readonly bucket: string;
    readonly key: string;
    readonly fileId: string;
    /** The version being validated, as S3 reported it current. */
    readonly facts: Extract<SourceCheck, { state: "current" }>;
    readonly paths: ClaimsPaths;
    /** Named in error notifications. */
    readonly functionName: string;
}

/**
 * Handles one S3 record end to end, in named steps: which file it is, whether its version is still current,
 * the claim, validation and its report, then quarantine or the job start. Never throws: a failure is
 * returned as a `failed` outcome, and the claim given back.
 */
export async function processClaimsRecord(
    record: S3EventRecordLike,
    deps: ValidationDeps,
    remainingMs: () => number,
    baseLog: Logger,
    functionName: string,
    delivery: Delivery = DIRECT_DELIVERY,
): Promise<FileOutcome> {
    const { config } = deps;
    let uri = s3Uri(record.s3?.bucket?.name ?? "?", record.s3?.object?.key ?? "?");
    let fileId: string | undefined;
    let claimedAttempt: number | undefined;
    let log = baseLog.child({ s3_uri: uri });
    try {
        const plan = planRecord(record, config.fileSuffix);
        uri = s3Uri(plan.bucket, plan.key);
        log = baseLog.child({ s3_uri: uri });
        const stem = plan.action === "process" ? claimsStem(plan.key, config.rawPrefix, config.fileSuffix) : undefined;
        if (plan.action === "ignore" || plan.bucket !== config.dataBucket || stem === undefined) {
            const reason = plan.action === "ignore" ? plan.reason : `not a claims file: expected s3://${config.dataBucket}/${config.rawPrefix}<name>${config.fileSuffix}`;
            log.info("record ignored", { reason });
            return { outcome: "ignored", uri, reason };
        }

        // The version uploaded is the version validated: S3 says now whether the event's version is current.
        const facts = await checkSourceVersion(deps.s3, plan);
        fileId = deriveFileId(plan.bucket, plan.key, facts.version);
        log = log.child({ file_id: fileId });
        const source: SourceObject = { fileId, bucket: plan.bucket, key: plan.key, version: facts.version, sizeBytes: facts.sizeBytes };
        const paths = claimsPaths(plan.bucket, plan.key, stem, fileId);
        const notProcessed = (status: NotProcessedStatus, reason: string) => recordNotProcessed(deps, { uri, source, functionName }, status, reason, log);
        if (facts.state === "gone") return await notProcessed(ProcessingStatus.SOURCE_DELETED, facts.reason);
        const keyReason = rejectedClaimsKeyReason(plan.key, paths);
        if (keyReason) return await notProcessed(ProcessingStatus.REJECTED, keyReason);
        if (facts.state === "superseded") return await notProcessed(ProcessingStatus.SUPERSEDED, facts.reason);
        const file: ClaimsFile = { uri, bucket: plan.bucket, key: plan.key, fileId, facts, paths, functionName };

        const claim = await deps.records.claim({
            source,
            leaseSeconds: config.claimLeaseSeconds,
            jobName: config.glueJobName,
            outputPath: paths.outputUri,
            quarantinePath: paths.recordQuarantineUri,
            allowFailed: deps.allowFailedClaims,
        });
        if (!claim.claimed) {
            log.info("duplicate delivery skipped", { existing_status: claim.existing?.processing_status, existing_job_run_id: claim.existing?.job_run_id });
            return { outcome: "skipped", uri, fileId, existingStatus: claim.existing?.processing_status };
        }
        claimedAttempt = claim.attempt;
        log = log.child({ attempt: claim.attempt });

        const validated = await validateFile(deps, file, claim.attempt, remainingMs, log);
        if ("outcome" in validated) return validated;
        const { report } = validated;
        log = log.child({ quality_score: report.quality_score, validation_status: report.validation_status });
        log.info("file validated", { summary: report.summary, rule_counts: report.rule_counts, report_location: paths.reportUri });
        if (!(await deps.claimsRecords.recordValidation(fileId, claim.attempt, { reportPath: paths.reportUri, qualityScore: report.quality_score, recordsValidated: report.summary.total_records }))) {
            throw new Error("the claim on this file was taken over by another invocation while it was being validated");
        }

        return report.decision.passed
            ? await startClaimsJob(deps, file, { attempt: claim.attempt, recordedWaits: claim.record.wait_attempts }, report, remainingMs, log, delivery)
            : await quarantineFile(deps, file, claim.attempt, report, log);
    } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        if (fileId !== undefined && claimedAttempt !== undefined) {
            // Give the claim back (only if it is still CLAIMED and ours), so Lambda's retry of this event can
            // take the file again instead of finding it claimed until the lease runs out.
            await deps.records
                .markStartFailed(fileId, claimedAttempt, error.message)
                .catch((writeErr: unknown) => log.error("could not release the claim", { error: writeErr }));
        }
        log.error("record failed", {
            error,
            ...(error instanceof RetriesExhaustedError ? { start_attempts: error.attempts, gave_up_because: error.reason } : {}),
        });
        return { outcome: "failed", uri, ...(fileId ? { fileId } : {}), error };
    }
}

/**
 * Ends a file without validation or a run: SOURCE_DELETED, REJECTED (its key) or SUPERSEDED. The conditional
 * write skips a duplicate of an event already handled; a refused key is also told to the uploader.
 */
async function recordNotProcessed(
    deps: ValidationDeps,
    file: { readonly uri: string; readonly source: SourceObject; readonly functionName: string },
    status: NotProcessedStatus,
    reason: string,
    log: Logger,
): Promise<FileOutcome> {
    const { uri, source } = file;
    const written = await deps.records.reject(source, reason, { jobName: deps.config.glueJobName, status });
    if (!written.recorded) {
        log.info("duplicate delivery skipped", { existing_status: written.existing?.processing_status });
        return { outcome: "skipped", uri, fileId: source.fileId, existingStatus: written.existing?.processing_status };
    }
    // A newer version superseding an older one is ordinary; a refused key or a vanished object is not.
    (status === ProcessingStatus.SUPERSEDED ? log.info : log.warn).call(log, "file not processed", { status, reason });
    if (status === ProcessingStatus.REJECTED) {
        // Someone uploaded a file that will never be processed: tell them, as for a failed validation.
        await publish(
            deps,
            deps.config.errorTopicArn,
            errorNotification({ errorMessage: reason, errorType: "InvalidKey", functionName: file.functionName, file: source.key, at: deps.now(), attributes: { file_id: source.fileId } }),
            log,
        );
    }
    return { outcome: "notProcessed", uri, fileId: source.fileId, status, reason };
}

/**
 * Streams the claimed version through the schema and rules and writes the report. When the invocation's time
 * runs short first, the file is left in place (START_FAILED, claimable again) and the outcome is `incomplete`.
 */
async function validateFile(
    deps: ValidationDeps,
    file: ClaimsFile,
    attempt: number,
    remainingMs: () => number,
    log: Logger,
): Promise<{ readonly report: ValidationReport } | FileOutcome> {
    const { config } = deps;
    const { facts, paths, fileId } = file;
    const started = deps.now();
    const object = await deps.s3.send(
        new GetObjectCommand({ Bucket: file.bucket, Key: file.key, ...(facts.isVersionId ? { VersionId: facts.version } : { IfMatch: `"${facts.version}"` }) }),
    );
    const result = await validateStream(object.Body as AsyncIterable<Uint8Array>, {
        schema: deps.schema,
        referenceDate: utcDate(started),
        maxRecordLines: config.maxRecordLines,
        maxIssueSamples: config.maxIssueSamples,
        shouldStop: () => remainingMs() < deps.reserveMs,
    });
    if (result.stoppedEarly) {
        // Not a data problem: the file stays where it is, claimable again by a replay or redelivery.
        const reason =
            `validation stopped after ${result.accumulator.totalRecords} records (${result.linesRead} lines) to stay within ` +
            `the function's timeout; the file was left in place. Raise the function's timeout or memory, then replay it.`;
        await deps.records.markStartFailed(fileId, attempt, reason);
        await publish(
            deps,
            config.errorTopicArn,
            errorNotification({ errorMessage: reason, errorType: "ValidationTimeout", functionName: file.functionName, file: file.key, at: deps.now(), attributes: { file_id: fileId } }),
            log,
        );
        log.error("validation incomplete", { reason });
        return { outcome: "incomplete", uri: file.uri, fileId, reason };
    }
    const report = buildReport({
        schema: deps.schema,
        file: { bucket: file.bucket, key: file.key, version: facts.version, size_bytes: facts.sizeBytes, file_id: fileId },
        reportLocation: paths.reportUri,
        header: result.header,
        analysis: result.analysis,
        fileIssues: result.fileIssues,
        accumulator: result.accumulator,
        minQualityScore: config.minQualityScore,
        linesRead: result.linesRead,
        referenceDate: utcDate(started),
        validatedAt: started,
        durationMs: deps.now().getTime() - started.getTime(),
    });
    await deps.s3.send(
        new PutObjectCommand({
            Bucket: config.dataBucket,
            Key: paths.reportKey,
            Body: JSON.stringify(report, null, 2),
            ContentType: "application/json",
        }),
    );
    return { report };
}

/** What notifications about a validated file carry. */
const reportAttributes = (file: ClaimsFile, report: ValidationReport) => ({ file_id: file.fileId, quality_score: report.quality_score, report_location: file.paths.reportUri });

/** A file that failed validation: moved to quarantine, recorded REJECTED, and the uploader told why. */
async function quarantineFile(deps: ValidationDeps, file: ClaimsFile, attempt: number, report: ValidationReport, log: Logger): Promise<FileOutcome> {
    const { config } = deps;
    const { facts, paths, fileId } = file;
    const quarantineUri = s3Uri(config.dataBucket, paths.quarantineFileKey);
    const moved = await moveObjectVersion(
        deps.s3,
        { bucket: file.bucket, key: file.key, version: facts.version, isVersionId: facts.isVersionId, sizeBytes: facts.sizeBytes },
        { bucket: config.dataBucket, key: paths.quarantineFileKey },
        {
            multipartThresholdBytes: config.multipartCopyThresholdBytes,
            contentType: "text/csv",
            metadata: { "source-key": encodeURIComponent(file.key), "source-version": facts.version, "file-id": fileId, "validation-report": paths.reportKey },
        },
    );
    const reason = `failed validation: ${report.decision.reasons.join("; ")} (report ${paths.reportUri})`;
    if (!(await deps.claimsRecords.recordQuarantined(fileId, attempt, reason, quarantineUri))) {
        log.warn("REJECTED not recorded: the claim was taken over");
    }
    await publish(
        deps,
        config.errorTopicArn,
        errorNotification({ errorMessage: reason, errorType: "ValidationError", functionName: file.functionName, file: file.key, at: deps.now(), attributes: reportAttributes(file, report) }),
        log,
    );
    log.warn("file quarantined", { quarantine_uri: quarantineUri, source_deleted: moved.sourceDeleted, reasons: report.decision.reasons });
    return { outcome: "quarantined", uri: file.uri, fileId, quarantineUri, report };
}

/**
 * A file that passed: the claims job started for exactly this version, STARTED recorded, and a
 * `job_status_update` published. A start that fails is told to the uploader and rethrown (the caller gives
 * the claim back).
 */
async function startClaimsJob(
    deps: ValidationDeps,
    file: ClaimsFile,
    claim: { readonly attempt: number; readonly recordedWaits?: number },
    report: ValidationReport,
    remainingMs: () => number,
    log: Logger,
    delivery: Delivery,
): Promise<FileOutcome> {
    const { attempt } = claim;
    const { config } = deps;
    const { paths, fileId } = file;
    const attributes = reportAttributes(file, report);
    let jobRunId: string;
    try {
        jobRunId = await startJobRun(deps.glue, config.glueJobName, claimsJobArguments(paths, file.key, fileId, file.facts.version), {
            maxAttempts: config.startAttempts,
            backoff: deps.startBackoff,
            sleep: deps.sleep,
            random: deps.random,
            remainingMs,
            // One StartJobRun call and the record write: the validation's own reserve was spent before.
            reserveMs: 5000,
            log,
            // Queue-fed, a full job is waited out in the queue, not in this invocation.
            ...(delivery.queued ? { isRetryable: isRateLimitedStart } : {}),
        });
    } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (isCapacityRefusal(err)) {
            // Nothing is wrong with the file: nobody is told, and its message comes back.
            const decision = await waitForCapacity(deps.records, { fileId, ...claim }, message, delivery);
            if (decision.kind === "waiting") {
                log.info("Glue has no room for this run: waiting in the queue", { wait_attempt: decision.wait.waitAttempt, delay_seconds: decision.wait.delaySeconds, error: message });
                return { outcome: "waiting", uri: file.uri, fileId, wait: decision.wait };
            }
            if (decision.kind === "claim-lost") {
                log.warn("WAITING not recorded: the claim was taken over", { existing_status: decision.existing?.processing_status });
                return { outcome: "skipped", uri: file.uri, fileId, existingStatus: decision.existing?.processing_status };
            }
        }
        await publish(
            deps,
            config.errorTopicArn,
            errorNotification({ errorMessage: `the claims job could not be started: ${message}`, errorType: "StartJobError", functionName: file.functionName, file: file.key, at: deps.now(), attributes }),
            log,
        );
        throw err;
    }
    try {
        const written = await deps.records.markStarted(fileId, attempt, jobRunId);
        if (written.recorded === "CLAIM_LOST") log.error("job run started but the claim was taken over meanwhile", { job_run_id: jobRunId });
    } catch (writeErr) {
        // The run exists: report it started rather than let a retry start a second one.
        log.error("job run started but STARTED could not be recorded", { job_run_id: jobRunId, error: writeErr });
    }
    await publish(
        deps,
        config.processingTopicArn,
        jobStatusUpdate({ jobId: jobRunId, status: "STARTED", inputFile: paths.inputUri, at: deps.now(), attributes: { ...attributes, job_name: config.glueJobName } }),
        log,
    );
    log.info("claims job started", { job_run_id: jobRunId, job_name: config.glueJobName });
    return { outcome: "started", uri: file.uri, fileId, jobRunId, report };
}

/**
 * Handles every record of an S3 event in turn (../shared/s3Batch). A failing record does not stop the
 * others; when any failed, one ValidationBatchError naming them is thrown at the end so Lambda retries
 * (then the DLQ).
 */
export async function handleClaimsEvent(event: S3EventLike, context: InvocationContext | undefined, deps: ValidationDeps): Promise<ValidationSummary> {
    const { counts, outcomes } = await processS3Records<FileOutcome>(event, context, batchOptions(deps, context));
    return { ...counts, files: outcomes };
}

function batchOptions(deps: ValidationDeps, context: InvocationContext | undefined): S3BatchOptions<FileOutcome> {
    const functionName = context?.functionName ?? deps.functionName;
    return {
        logger: deps.logger,
        outcomeKinds: ["started", "quarantined", "incomplete", "notProcessed", "skipped", "waiting", "ignored", "failed"],
        processRecord: (record, remainingMs, log, delivery) => processClaimsRecord(record, deps, remainingMs, log, functionName, delivery),
        batchError: (failures, total) => new ValidationBatchError(failures, total),
    };
}

export type ValidationQueueSummary = ValidationSummary & QueueBatchAnswer;

/**
 * Handles a batch of messages from the claims validation's queue (../shared/s3Batch's processQueueMessages):
 * the messages whose files failed are named in `batchItemFailures`; a valid file Glue had no room for waits.
 */
export async function handleClaimsQueueEvent(event: QueueEventLike, context: InvocationContext | undefined, deps: ValidationDeps): Promise<ValidationQueueSummary> {
    const { counts, outcomes, ...answer } = await processQueueMessages(event, context, { ...batchOptions(deps, context), queue: { sqs: deps.sqs, config: deps.config.queueFeed } });
    return { ...counts, files: outcomes, ...answer };
}
