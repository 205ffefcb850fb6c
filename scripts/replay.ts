/**
 * Replay: re-drives what failed, through the same code path that handles it live, exactly once per file.
 *
 *   npm run replay -- --stack <name> [--outputs FILE] [--dry-run] [--skip-records] [--verbose]
 *
 * 1. The trigger's dead-letter queues, each message an S3 event whose handling kept failing: the queue
 *    feed's (`triggerQueueDeadLetterQueue`: a message of the trigger's SQS queue moved there by its redrive
 *    policy after maxReceiveCount receives, its body the S3 event itself — a file that only waited for
 *    Glue capacity never gets there), and the older async-invoke one (`triggerDeadLetterQueue`: the
 *    invocation record Lambda's on-failure destination writes, or a bare event, left from before the queue).
 *    Each goes through the trigger's own logic (functions/glue-trigger: plan, claim, StartJobRun, record);
 *    when that succeeds — a run started, or the file turns out to be handled already — the message is
 *    deleted. S3's test event is dropped.
 * 2. The CSV converter's dead-letter queue (`csvConverterDeadLetterQueue`, stacks with the fast path): each
 *    message a ConversionRequest the converter kept returning (a Glue fallback refused, a record write that
 *    kept failing, a trigger that never recorded STARTED). While the record still names the request's fast
 *    run (STARTED/RUNNING) that run is dead — nothing else will ever finish it — so it is recorded FAILED and
 *    the file goes through the trigger again like any FAILED file; a record still CLAIMED for the request's
 *    attempt goes through the trigger directly; a record that moved on makes the request stale (deleted).
 * 3. The metadata table: files whose record is START_FAILED or FAILED (listed through the `by-status`
 *    index) are rebuilt into an S3 event and go through the same logic, whichever engine ran them (the CSV
 *    converter's failures included). WAITING files are left alone: their message is in the queue and will
 *    start them. Replay is the one caller allowed to claim a FAILED record; everything else about the claim
 *    rule is unchanged.
 *
 *    Both engines: the trigger's configuration carries the stack's fast path when its outputs name it
 *    (`csvConverterQueue`, `csvConverterFunction`, `fastPathMaxBytes`), so a replayed CSV file is routed by
 *    size exactly as a new upload is — at or below the limit to the converter, above it to Glue.
 * 4. The job-events handler's dead-letter queue: Glue state-change events whose handling failed (record
 *    update, metrics, notification) are handled again in-process; a scheduled count event is dropped (the
 *    next one supersedes it).
 *
 * Idempotent: the claim admits one start per file, so a file that a replay started is STARTED (then RUNNING,
 * SUCCEEDED) and the next replay finds neither a message nor a replayable record for it; a reported run is
 * not reported again (its record remembers it).
 *
 * Outputs come from `pulumi stack output --json --stack <name>` (credentials for that stack's account are
 * needed, with the permissions of the trigger and handler roles plus sqs:ReceiveMessage/DeleteMessage), or
 * from `--outputs FILE` (the same JSON, e.g. saved in CI, or written by a test).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GlueClient } from "@aws-sdk/client-glue";
import { S3Client } from "@aws-sdk/client-s3";
import { SNSClient } from "@aws-sdk/client-sns";
import { DeleteMessageCommand, Message, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createJobEventsDeps, EventBridgeEvent, GlueJobStateChangeDetail, handleEvent, JOB_STATE_CHANGE, SCHEDULED_EVENT } from "../functions/glue-job-events/events";
import { TriggerConfig } from "../functions/glue-trigger/config";
import { ENGINES, parseConversionRequest } from "../functions/glue-trigger/fastPath";
import { createTriggerDeps, handleS3Event, TriggerBatchError, TriggerSummary } from "../functions/glue-trigger/trigger";
import { CSV_CONVERTER_CONTRACT as converterContract } from "../functions/csv-converter/contract";
import { Logger, LogSink } from "../functions/shared/logger";
import { ClaimRequest, ClaimResult, ProcessingRecord, ProcessingRecordStore, ProcessingStatus, REPLAYABLE_STATUSES } from "../functions/shared/processingRecords";
import { decodeS3Key, deriveFileId, objectVersion, S3EventLike, S3EventRecordLike } from "../functions/shared/s3Events";
import { RedshiftDataClient } from "@aws-sdk/client-redshift-data";
import { describeLoadEvent, replayLoad, WarehouseReplayOutputs, warehouseReplayTarget } from "../functions/claims-warehouse-load/replayLoad";
import { walkFlags } from "./cliArgs";

/** The stack outputs replay reads (stacks/workload.ts exports them). */
/** The claims warehouse outputs (WarehouseReplayOutputs) are there only for stacks with `claims.warehouse`. */
export interface ReplayOutputs extends Partial<Omit<WarehouseReplayOutputs, "metadataTable">> {
    readonly region: string;
    readonly stage?: string;
    readonly metadataTable: string;
    readonly fileProcessorJob: string;
    readonly outputBucket: string;
    /** The older async-invoke dead-letter queue (kept: it may hold events from before the queue feed). */
    readonly triggerDeadLetterQueue: string;
    /** The dead-letter queue of the trigger's SQS queue (stacks with the queue feed). */
    readonly triggerQueueDeadLetterQueue?: string;
    readonly glueJobEventsDeadLetterQueue?: string;
    readonly alertsTopicArn?: string;
    /** Each Glue job's output and error log groups, named in notifications. */
    readonly glueJobLogGroups?: Readonly<Record<string, { readonly output: string; readonly error: string }>>;
    /** The CSV converter's function name (stacks with the fast path): its FAILED records are this flow's. */
    readonly csvConverterFunction?: string;
    /** The CSV converter's queue URL: replayed files at or below the limit are sent there, as the trigger does. */
    readonly csvConverterQueue?: string;
    /** The CSV converter's dead-letter queue URL: ConversionRequests the converter kept returning. */
    readonly csvConverterDeadLetterQueue?: string;
    /** The fast-path limit in bytes the stack gives the trigger (FAST_PATH_MAX_BYTES); absent: the contract's default. */
    readonly fastPathMaxBytes?: number | string;
}

const REQUIRED_OUTPUTS: readonly (keyof ReplayOutputs)[] = ["region", "metadataTable", "fileProcessorJob", "outputBucket", "triggerDeadLetterQueue"];

/** Checks that the outputs name what replay needs; the error lists every missing one. */
export function parseReplayOutputs(raw: Record<string, unknown>): ReplayOutputs {
    const missing = REQUIRED_OUTPUTS.filter((k) => typeof raw[k] !== "string" || raw[k] === "");
    if (missing.length > 0) {
        throw new Error(`stack outputs lack ${missing.join(", ")}; is this a workload stack, deployed with this version of the program?`);
    }
    return raw as unknown as ReplayOutputs;
}

/**
 * The claim replay uses: the trigger's own, plus FAILED records. Everything else (leases, attempts, the
 * conditional write) is the store's. The same holds for ending a record without a run: a FAILED file whose
 * version was overwritten or deleted since is recorded SUPERSEDED / SOURCE_DELETED (terminal, never
 * replayed) instead of staying FAILED and being listed by every replay.
 */
export class ReplayRecordStore extends ProcessingRecordStore {
    override claim(request: ClaimRequest): Promise<ClaimResult> {
        return super.claim({ ...request, allowFailed: true });
    }

    override reject(...[source, reason, options]: Parameters<ProcessingRecordStore["reject"]>): ReturnType<ProcessingRecordStore["reject"]> {
        return super.reject(source, reason, { ...options, allowFailed: true });
    }
}

// ---------------------------------------------------------------------------------------------------------
// Messages and records → events (pure)
// ---------------------------------------------------------------------------------------------------------

/**
 * The event inside a dead-letter message: Lambda's on-failure destination wraps it as `requestPayload` of
 * an invocation record; a Lambda DLQ or an EventBridge target DLQ holds the event itself.
 */
export function eventOfMessage(body: string): unknown {
    let parsed: unknown;
    try {
        parsed = JSON.parse(body);
    } catch {
        return undefined;
    }
    if (parsed && typeof parsed === "object" && "requestPayload" in parsed) return (parsed as { requestPayload: unknown }).requestPayload;
    return parsed;
}

/** S3's `s3:TestEvent` (sent when a notification configuration is saved): nothing to replay. */
export function isS3TestEvent(event: unknown): boolean {
    return (event as { Event?: unknown } | undefined)?.Event === "s3:TestEvent";
}

export function isS3Event(event: unknown): event is S3EventLike {
    const records = (event as S3EventLike | undefined)?.Records;
    return Array.isArray(records) && records.length > 0 && records.every((r) => typeof r?.s3?.bucket?.name === "string" && typeof r?.s3?.object?.key === "string");
}

/** Encodes a key the way S3 does in event notifications (the trigger decodes it). */
export function encodeEventKey(key: string): string {
    return key
        .split("/")
        .map((segment) => encodeURIComponent(segment).replace(/%20/g, "+"))
        .join("/");
}

/** An ETag (hex MD5, with a part count for multipart uploads), as opposed to an S3 version id. */
const ETAG = /^[0-9a-f]{32}(-\d+)?$/;

/**
 * The S3 event record that announced `record`'s object: same bucket, key, version and size, so the trigger
 * derives the same file_id and the same paths. Undefined when the record lacks what that needs.
 */
export function eventRecordOf(record: ProcessingRecord): S3EventRecordLike | undefined {
    const { source_bucket: bucket, source_key: key, source_version: version } = record;
    if (!bucket || !key || !version) return undefined;
    return {
        eventSource: "aws:s3",
        eventName: "ObjectCreated:Put",
        s3: {
            bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
            object: {
                key: encodeEventKey(key),
                ...(ETAG.test(version) ? { eTag: version } : { versionId: version }),
                ...(typeof record.file_size_bytes === "number" ? { size: record.file_size_bytes } : {}),
            },
        },
    };
}

/** The file ids an S3 event's records name (those whose version the event carries). */
export function fileIdsOf(event: S3EventLike): string[] {
    return (event.Records ?? []).flatMap((r) => {
        const version = objectVersion(r.s3.object.versionId, r.s3.object.eTag);
        try {
            return version ? [deriveFileId(r.s3.bucket.name, decodeS3Key(r.s3.object.key), version)] : [];
        } catch {
            return [];
        }
    });
}

function isJobEvent(event: unknown): event is EventBridgeEvent {
    const e = event as EventBridgeEvent | undefined;
    return typeof e?.source === "string" && typeof e?.["detail-type"] === "string" && e?.detail !== undefined;
}

/** The trigger's fast path as the stack configures it, when its outputs name the converter. */
export function fastPathOf(outputs: ReplayOutputs): Pick<TriggerConfig, "fastPath"> {
    if (!outputs.csvConverterQueue || !outputs.csvConverterFunction) return {};
    const maxBytes = outputs.fastPathMaxBytes === undefined ? converterContract.defaults.maxBytes : Number(outputs.fastPathMaxBytes);
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) throw new Error(`stack output fastPathMaxBytes must be a whole number of bytes, got ${JSON.stringify(outputs.fastPathMaxBytes)}`);
    return { fastPath: { queueUrl: outputs.csvConverterQueue, functionName: outputs.csvConverterFunction, maxBytes } };
}

/** A record of the CSV flow, whichever engine ran it: its Glue job, its converter, or (older records) no job name. */
export function isCsvFlowRecord(record: ProcessingRecord, outputs: Pick<ReplayOutputs, "fileProcessorJob" | "csvConverterFunction">): boolean {
    if (record.job_name === undefined || record.job_name === outputs.fileProcessorJob) return true;
    return record.engine === ENGINES.fast || (outputs.csvConverterFunction !== undefined && record.job_name === outputs.csvConverterFunction);
}

/** What to do with a ConversionRequest from the converter's dead-letter queue, given its file's record now. Pure. */
export type ConverterRequestPlan =
    /** The record still names the request's fast run, which will never finish: record it FAILED, then replay the file. */
    | { readonly kind: "dead-run"; readonly why: string }
    /** The trigger never recorded STARTED for the request's claim: the trigger takes the claim over. */
    | { readonly kind: "redrive"; readonly why: string }
    /** The record moved on (another run, a final status): the request is stale; a FAILED record is replayed with the records. */
    | { readonly kind: "stale"; readonly why: string };

export function converterRequestPlan(request: { readonly runId: string; readonly attempt: number }, record: ProcessingRecord): ConverterRequestPlan {
    const status = record.processing_status;
    if (record.job_run_id === request.runId && (status === ProcessingStatus.STARTED || status === ProcessingStatus.RUNNING)) {
        return { kind: "dead-run", why: `fast run ${request.runId} is ${status} with no result` };
    }
    if (status === ProcessingStatus.CLAIMED && record.attempts === request.attempt) {
        return { kind: "redrive", why: `claim ${request.attempt} never recorded STARTED` };
    }
    return { kind: "stale", why: `the record is ${status}${record.job_run_id ? ` under run ${record.job_run_id}` : ""}, not run ${request.runId}: the request is stale` };
}

// ---------------------------------------------------------------------------------------------------------
// The replay
// ---------------------------------------------------------------------------------------------------------

export interface ReplayClients {
    readonly sqs: SQSClient;
    readonly s3: S3Client;
    readonly glue: GlueClient;
    readonly dynamodb: DynamoDBClient;
    readonly sns: SNSClient;
    readonly cloudwatch: CloudWatchClient;
    /** Only for stacks with the claims warehouse. @default a client in the stack's region */
    readonly redshiftData?: RedshiftDataClient;
}

export function defaultClients(region: string): ReplayClients {
    return {
        sqs: new SQSClient({ region }),
        s3: new S3Client({ region }),
        // One attempt per call, as in the trigger: its own backoff decides what is safe to retry.
        glue: new GlueClient({ region, maxAttempts: 1 }),
        dynamodb: new DynamoDBClient({ region }),
        sns: new SNSClient({ region }),
        cloudwatch: new CloudWatchClient({ region }),
    };
}

export interface ReplayOptions {
    readonly outputs: ReplayOutputs;
    /** List what would be replayed; change nothing. */
    readonly dryRun?: boolean;
    /** Only the dead-letter queues, not the FAILED/START_FAILED records. */
    readonly skipRecords?: boolean;
    /** Where the trigger's and handler's log lines go. @default nowhere */
    readonly logSink?: LogSink;
    /** Seconds a received message stays hidden while it is replayed. @default 120 */
    readonly visibilityTimeoutSeconds?: number;
    /** Long-poll wait of each receive; short polls may miss messages on SQS's other servers. @default 2 */
    readonly waitTimeSeconds?: number;
    /** The stack's file suffix. @default ".csv" */
    readonly fileSuffix?: string;
}

export type ItemResult = "started" | "already-handled" | "failed" | "unrecognised" | "reported" | "dropped" | "would-replay" | "loaded";

export interface ReplayItem {
    readonly source: "trigger-queue-dlq" | "trigger-dlq" | "converter-dlq" | "records" | "job-events-dlq" | "warehouse-load-dlq";
    readonly what: string;
    readonly result: ItemResult;
    readonly detail?: string;
}

export interface ReplayReport {
    readonly items: readonly ReplayItem[];
    /** Files whose run a replay started. */
    readonly started: number;
    readonly failed: number;
    readonly unrecognised: number;
}

/** Receives every message currently visible, each once (a message kept for another try stays hidden). */
async function* drain(sqs: SQSClient, queueUrl: string, visibilityTimeout: number, waitSeconds: number): AsyncGenerator<Message> {
    const seen = new Set<string>();
    for (;;) {
        const out = await sqs.send(
            new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: waitSeconds, VisibilityTimeout: visibilityTimeout }),
        );
        const fresh = (out.Messages ?? []).filter((m) => !seen.has(m.MessageId ?? ""));
        if (fresh.length === 0) return;
        for (const m of fresh) {
            seen.add(m.MessageId ?? "");
            yield m;
        }
    }
}

function summarise(summary: TriggerSummary): { result: ItemResult; detail: string } {
    const started = summary.records.filter((r) => r.outcome === "started");
    if (started.length > 0) {
        return {
            result: "started",
            detail: started.map((r) => (r.outcome === "started" ? `${r.uri} → run ${r.jobRunId}${r.engine ? ` (${r.engine})` : ""}` : "")).join("; "),
        };
    }
    return {
        result: "already-handled",
        detail: summary.records
            .map((r) =>
                r.outcome === "skipped"
                    ? `${r.uri}: ${r.existingStatus ?? "handled"}`
                    : r.outcome === "ignored"
                      ? `${r.uri}: ${r.reason}`
                      : r.outcome === "rejected"
                        ? `${r.uri}: ${r.status}: ${r.reason}`
                        : `${r.uri}: ${r.outcome}`,
            )
            .join("; "),
    };
}

/** Runs the replay. Never throws for one bad item: each is reported, and the others still go. */
export async function replay(options: ReplayOptions, clients: ReplayClients = defaultClients(options.outputs.region)): Promise<ReplayReport> {
    const { outputs } = options;
    const visibility = options.visibilityTimeoutSeconds ?? 120;
    const wait = options.waitTimeSeconds ?? 2;
    const logger = new Logger({ service: "replay", level: "INFO", sink: options.logSink ?? (() => undefined) });
    const items: ReplayItem[] = [];
    const handledFiles = new Set<string>();

    const triggerConfig: TriggerConfig = {
        glueJobName: outputs.fileProcessorJob,
        metadataTable: outputs.metadataTable,
        outputBucket: outputs.outputBucket,
        fileSuffix: (options.fileSuffix ?? ".csv").toLowerCase(),
        claimLeaseSeconds: 60,
        startAttempts: 3,
        logLevel: "INFO",
        ...fastPathOf(outputs),
    };
    const records = new ReplayRecordStore(
        DynamoDBDocumentClient.from(clients.dynamodb, { marshallOptions: { removeUndefinedValues: true } }),
        outputs.metadataTable,
    );
    const triggerDeps = createTriggerDeps(triggerConfig, {
        s3: clients.s3,
        glue: clients.glue,
        sqs: clients.sqs,
        records,
        logger: logger.child({ component: "glue-trigger" }),
    });

    const runTrigger = async (event: S3EventLike): Promise<{ result: ItemResult; detail: string }> => {
        try {
            const summary = await handleS3Event(event, undefined, triggerDeps);
            for (const r of summary.records) if ("fileId" in r && r.fileId) handledFiles.add(r.fileId);
            return summarise(summary);
        } catch (err) {
            if (err instanceof TriggerBatchError) {
                for (const f of err.failures) if (f.fileId) handledFiles.add(f.fileId);
            }
            return { result: "failed", detail: err instanceof Error ? err.message : String(err) };
        }
    };

    // 1. The trigger's dead-letter queues: the queue feed's, then the older async-invoke one. Both hold S3
    //    events (eventOfMessage unwraps an on-failure destination's record), and both go through the
    //    trigger's direct path: a file Glue has no room for is START_FAILED and its message stays.
    const triggerDlqs: [ReplayItem["source"], string | undefined][] = [
        ["trigger-queue-dlq", outputs.triggerQueueDeadLetterQueue],
        ["trigger-dlq", outputs.triggerDeadLetterQueue],
    ];
    for (const [source, queueUrl] of triggerDlqs) {
        if (!queueUrl) continue;
        const remove = (message: Message) => clients.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
        for await (const message of drain(clients.sqs, queueUrl, visibility, wait)) {
            const event = eventOfMessage(message.Body ?? "");
            const what = `message ${message.MessageId}`;
            if (isS3TestEvent(event)) {
                if (!options.dryRun) await remove(message);
                items.push({ source, what, result: "dropped", detail: "S3's test event" });
                continue;
            }
            if (!isS3Event(event)) {
                items.push({ source, what, result: "unrecognised", detail: "not an S3 event; left in the queue for a person to look at" });
                continue;
            }
            const uris = event.Records!.map((r) => `s3://${r.s3.bucket.name}/${r.s3.object.key}`).join(", ");
            if (options.dryRun) {
                for (const id of fileIdsOf(event)) handledFiles.add(id);
                items.push({ source, what, result: "would-replay", detail: uris });
                continue;
            }
            const outcome = await runTrigger(event);
            items.push({ source, what, ...outcome });
            if (outcome.result !== "failed") await remove(message);
        }
    }

    // 2. The CSV converter's dead-letter queue: ConversionRequests, not S3 events.
    if (outputs.csvConverterDeadLetterQueue) {
        const queueUrl = outputs.csvConverterDeadLetterQueue;
        const source = "converter-dlq" as const;
        for await (const message of drain(clients.sqs, queueUrl, visibility, wait)) {
            const what = `message ${message.MessageId}`;
            const request = parseConversionRequest(message.Body ?? "");
            if (!request) {
                items.push({ source, what, result: "unrecognised", detail: "not a conversion request; left in the queue for a person to look at" });
                continue;
            }
            const record = await records.get(request.fileId);
            const label = record?.source_file_path ?? `file ${request.fileId}`;
            if (!record) {
                items.push({ source, what, result: "unrecognised", detail: `${label}: no record for the request's file; left in the queue` });
                continue;
            }
            const plan = converterRequestPlan(request, record);
            if (options.dryRun) {
                if (plan.kind !== "stale") handledFiles.add(request.fileId);
                items.push({ source, what, result: plan.kind === "stale" ? "already-handled" : "would-replay", detail: `${label}: ${plan.why}` });
                continue;
            }
            const remove = () => clients.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
            if (plan.kind === "stale") {
                await remove();
                items.push({ source, what, result: "already-handled", detail: `${label}: ${plan.why}` });
                continue;
            }
            if (plan.kind === "dead-run") {
                // The record is the dead run's: FAILED with why, so the trigger's replay claim may take it.
                const failed = await records.markRunFailed(request.fileId, request.runId, `the fast-path run ${request.runId} ended without a result: its request reached the converter's dead-letter queue`);
                if (!failed.recorded) {
                    items.push({ source, what, result: "failed", detail: `${label}: the record moved on while replaying (${failed.existing?.processing_status}); replay again` });
                    continue;
                }
            }
            const current = eventRecordOf((await records.get(request.fileId)) ?? record);
            if (!current) {
                items.push({ source, what, result: "unrecognised", detail: `${label}: record lacks source_bucket, source_key or source_version; left in the queue` });
                continue;
            }
            const outcome = await runTrigger({ Records: [current] });
            items.push({ source, what, ...outcome, detail: `${plan.why}; ${outcome.detail}` });
            if (outcome.result !== "failed") await remove();
        }
    }

    // 3. FAILED and START_FAILED records. Listed first, replayed after: replaying changes their status, and
    //    the index is read page by page.
    if (!options.skipRecords) {
        const replayable: ProcessingRecord[] = [];
        for (const status of REPLAYABLE_STATUSES) for await (const r of records.listByStatus(status)) replayable.push(r);
        for (const record of replayable) {
            const what = record.source_file_path ?? `file ${record.file_id}`;
            if (handledFiles.has(record.file_id)) continue;
            // This path re-drives through the CSV trigger, which starts FileProcessorV2 or its converter: a record
            // of another flow (Parquet→JSON, claims) must not be sent there. It is listed, untouched, for its own flow.
            if (!isCsvFlowRecord(record, outputs)) {
                items.push({ source: "records", what, result: "unrecognised", detail: `a ${record.job_name} file; replay re-drives ${outputs.fileProcessorJob} files only` });
                continue;
            }
            const eventRecord = eventRecordOf(record);
            if (!eventRecord) {
                items.push({ source: "records", what, result: "unrecognised", detail: "record lacks source_bucket, source_key or source_version" });
                continue;
            }
            if (options.dryRun) {
                items.push({ source: "records", what, result: "would-replay", detail: `${record.processing_status}: ${record.error_message ?? ""}`.trim() });
                continue;
            }
            items.push({ source: "records", what, ...(await runTrigger({ Records: [eventRecord] })) });
        }
    }

    // 4. The job-events handler's dead-letter queue.
    if (outputs.glueJobEventsDeadLetterQueue) {
        for await (const message of drain(clients.sqs, outputs.glueJobEventsDeadLetterQueue, visibility, wait)) {
            const event = eventOfMessage(message.Body ?? "");
            const what = `message ${message.MessageId}`;
            const remove = () => clients.sqs.send(new DeleteMessageCommand({ QueueUrl: outputs.glueJobEventsDeadLetterQueue, ReceiptHandle: message.ReceiptHandle }));
            if (!isJobEvent(event)) {
                items.push({ source: "job-events-dlq", what, result: "unrecognised", detail: "not an EventBridge event; left in the queue" });
                continue;
            }
            if (event["detail-type"] === SCHEDULED_EVENT) {
                if (!options.dryRun) await remove();
                items.push({ source: "job-events-dlq", what, result: "dropped", detail: "a scheduled count; the next one supersedes it" });
                continue;
            }
            if (event["detail-type"] !== JOB_STATE_CHANGE || !outputs.alertsTopicArn) {
                items.push({ source: "job-events-dlq", what, result: "unrecognised", detail: `cannot replay ${event["detail-type"]}${outputs.alertsTopicArn ? "" : " without the alertsTopicArn output"}` });
                continue;
            }
            const detail = event.detail as GlueJobStateChangeDetail;
            const label = `${detail.jobName} run ${detail.jobRunId} ${detail.state}`;
            if (options.dryRun) {
                items.push({ source: "job-events-dlq", what, result: "would-replay", detail: label });
                continue;
            }
            const deps = createJobEventsDeps(
                {
                    metadataTable: outputs.metadataTable,
                    alertsTopicArn: outputs.alertsTopicArn,
                    metricNamespace: "GluePipeline",
                    stage: outputs.stage ?? "unknown",
                    // The event came from our own rule's queue: its job is one we watch.
                    glueJobNames: [detail.jobName],
                    jobLogGroups: outputs.glueJobLogGroups ?? {},
                    replayCommand: "npm run replay -- --stack <stack>",
                    baselineRuns: 10,
                    baselineMinRuns: 3,
                    logLevel: "INFO",
                },
                { glue: clients.glue, cloudwatch: clients.cloudwatch, sns: clients.sns, records, region: outputs.region, logger: logger.child({ component: "glue-job-events" }) },
            );
            try {
                const handled = await handleEvent(event, deps);
                await remove();
                items.push({ source: "job-events-dlq", what, result: handled.kind === "duplicate" ? "already-handled" : "reported", detail: label });
            } catch (err) {
                items.push({ source: "job-events-dlq", what, result: "failed", detail: `${label}: ${err instanceof Error ? err.message : String(err)}` });
            }
        }
    }

    // 5. The claims warehouse load's dead-letter queue (stacks with claims.warehouse): each Glue event goes
    //    through the load's own logic (functions/claims-warehouse-load), which loads a run at most once.
    const warehouse = warehouseReplayTarget({ ...outputs, metadataTable: outputs.metadataTable });
    if (warehouse) {
        const redshiftData = clients.redshiftData ?? new RedshiftDataClient({ region: outputs.region });
        for await (const message of drain(clients.sqs, warehouse.queueUrl, visibility, wait)) {
            const event = eventOfMessage(message.Body ?? "");
            const what = `message ${message.MessageId}`;
            if (options.dryRun) {
                items.push({ source: "warehouse-load-dlq", what, result: "would-replay", detail: describeLoadEvent(event) ?? "not a load event" });
                continue;
            }
            const outcome = await replayLoad(event, warehouse, { ...clients, redshiftData }, logger.child({ component: "claims-warehouse-load" }));
            items.push({ source: "warehouse-load-dlq", what, ...outcome });
            if (outcome.result === "loaded" || outcome.result === "already-handled") {
                await clients.sqs.send(new DeleteMessageCommand({ QueueUrl: warehouse.queueUrl, ReceiptHandle: message.ReceiptHandle }));
            }
        }
    }

    const count = (r: ItemResult) => items.filter((i) => i.result === r).length;
    return { items, started: count("started"), failed: count("failed"), unrecognised: count("unrecognised") };
}

/** The report as the person who ran the command reads it. */
export function formatReport(stack: string, report: ReplayReport, dryRun: boolean): string {
    const lines = [`replay of stack ${stack}${dryRun ? " (dry run: nothing changed)" : ""}`];
    if (report.items.length === 0) lines.push("  nothing to replay: the dead-letter queues are empty and no file is FAILED or START_FAILED");
    for (const item of report.items) lines.push(`  [${item.source}] ${item.what}: ${item.result}${item.detail ? ` — ${item.detail}` : ""}`);
    lines.push(`  ${report.started} run(s) started, ${report.failed} failed, ${report.unrecognised} left for a person`);
    return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------------------------

interface CliArgs {
    readonly stack: string;
    readonly outputsFile?: string;
    readonly dryRun: boolean;
    readonly skipRecords: boolean;
    readonly verbose: boolean;
}

const USAGE = "usage: npm run replay -- --stack <name> [--outputs FILE] [--dry-run] [--skip-records] [--verbose]";

export function parseCliArgs(argv: readonly string[]): CliArgs {
    let stack: string | undefined;
    let outputsFile: string | undefined;
    let dryRun = false;
    let skipRecords = false;
    let verbose = false;
    walkFlags(argv, USAGE, (flag, value) => {
        if (flag === "--stack") stack = value();
        else if (flag === "--outputs") outputsFile = value();
        else if (flag === "--dry-run") dryRun = true;
        else if (flag === "--skip-records") skipRecords = true;
        else if (flag === "--verbose") verbose = true;
        else return false;
        return true;
    });
    if (!stack) throw new Error(`--stack is required; ${USAGE}`);
    return { stack, outputsFile, dryRun, skipRecords, verbose };
}

function readOutputs(args: CliArgs): Record<string, unknown> {
    if (args.outputsFile) return JSON.parse(fs.readFileSync(args.outputsFile, "utf8"));
    try {
        return JSON.parse(execFileSync("pulumi", ["stack", "output", "--json", "--stack", args.stack], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }));
    } catch (err) {
        const e = err as NodeJS.ErrnoException & { stderr?: string };
        if (e.code === "ENOENT") throw new Error("the pulumi CLI is not installed; install it, or pass the stack's outputs with --outputs FILE");
        throw new Error(`pulumi stack output --stack ${args.stack} failed: ${(e.stderr ?? e.message).trim()}`);
    }
}

if (require.main === module) {
    (async () => {
        const args = parseCliArgs(process.argv.slice(2));
        const outputs = parseReplayOutputs(readOutputs(args));
        const report = await replay({
            outputs,
            dryRun: args.dryRun,
            skipRecords: args.skipRecords,
            logSink: args.verbose ? (line) => process.stderr.write(`${line}\n`) : undefined,
        });
        console.log(formatReport(args.stack, report, args.dryRun));
        process.exitCode = report.failed > 0 || report.unrecognised > 0 ? 1 : 0;
    })().catch((err) => {
        console.error(`replay failed: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(2);
    });
}
