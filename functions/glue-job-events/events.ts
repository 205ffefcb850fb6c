/**
 * The job-events handler's logic. Two kinds of EventBridge events arrive:
 *
 * - "Glue Job State Change" (source aws.glue) for SUCCEEDED, FAILED, TIMEOUT, STOPPED (ERROR handled too):
 *   the run is read with GetJobRun (its --file_id, paths, error, duration, capacity); when it did not
 *   succeed and the job could not record that itself (killed by a timeout, stopped, crashed before its own
 *   write), the file's metadata record is set FAILED; then the run's metrics are published and, for a run
 *   that did not succeed, one readable notification goes to the alerts topic.
 * - "Scheduled Event" (source aws.events, every few minutes): the number of files per in-flight and
 *   replayable status is published, for the operational dashboard.
 *
 * Delivery is at least once (EventBridge, then Lambda's async retries). A run is reported once: the first
 * handler to report it marks `reported_run_id` on the file's record, a redelivery finds it and stops. If
 * publishing fails, the mark is removed again and the error rethrown, so the retry reports the run: a
 * notification may then be sent twice, never not at all.
 */
import { CloudWatchClient, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GetJobRunCommand, GetJobRunsCommand, GlueClient, JobRun } from "@aws-sdk/client-glue";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { Logger, LogSink } from "../shared/logger";
import { createClientTracer } from "../shared/tracing";
import {
    NOT_PROCESSED_STATUSES,
    ProcessingRecord,
    ProcessingRecordStore,
    ProcessingStatus,
} from "../shared/processingRecords";
import { JobEventsConfig } from "./config";
import { FILES_BY_STATUS } from "./contract";
import { Datum, dpuHours, durationBaseline, runMetrics, statusCountMetrics } from "./metrics";
import { buildRunNotification, RecordUpdate } from "./notification";

export const SERVICE_NAME = "glue-job-events";
export const JOB_STATE_CHANGE = "Glue Job State Change";
export const SCHEDULED_EVENT = "Scheduled Event";
/** Final states of a run; only these end a file's processing. */
export const TERMINAL_STATES: readonly string[] = ["SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED", "ERROR"];

/** The envelope EventBridge delivers to a Lambda target. */
export interface EventBridgeEvent<D = unknown> {
    readonly version?: string;
    readonly id?: string;
    readonly "detail-type": string;
    readonly source: string;
    readonly account?: string;
    readonly time?: string;
    readonly region?: string;
    readonly resources?: readonly string[];
    readonly detail: D;
}

/** `detail` of a "Glue Job State Change" event. */
export interface GlueJobStateChangeDetail {
    readonly jobName: string;
    readonly jobRunId: string;
    readonly state: string;
    readonly severity?: string;
    readonly message?: string;
}

export interface JobEventsDeps {
    readonly config: JobEventsConfig;
    readonly glue: GlueClient;
    readonly cloudwatch: CloudWatchClient;
    readonly sns: SNSClient;
    readonly records: ProcessingRecordStore;
    readonly logger: Logger;
    /** Region for console links when the event does not say. */
    readonly region: string;
}

export interface JobEventsOverrides extends Partial<Omit<JobEventsDeps, "config">> {
    readonly logSink?: LogSink;
    readonly dynamodb?: DynamoDBClient;
}

/** Builds clients once (module scope in production); tests replace what they need. */
export function createJobEventsDeps(config: JobEventsConfig, overrides: JobEventsOverrides = {}): JobEventsDeps {
    const requestHandler = { connectionTimeout: 2000, requestTimeout: 10000 };
    const tracer = createClientTracer(SERVICE_NAME);
    return {
        config,
        glue: overrides.glue ?? tracer.trace(new GlueClient({ requestHandler })),
        cloudwatch: overrides.cloudwatch ?? tracer.trace(new CloudWatchClient({ requestHandler })),
        sns: overrides.sns ?? tracer.trace(new SNSClient({ requestHandler })),
        records:
            overrides.records ??
            new ProcessingRecordStore(
                DynamoDBDocumentClient.from(overrides.dynamodb ?? tracer.trace(new DynamoDBClient({ requestHandler })), {
                    marshallOptions: { removeUndefinedValues: true },
                }),
                config.metadataTable,
            ),
        logger: overrides.logger ?? new Logger({ service: SERVICE_NAME, level: config.logLevel, sink: overrides.logSink }),
        region: overrides.region ?? process.env.AWS_REGION ?? "us-east-1",
    };
}

export type HandledEvent =
    | { readonly kind: "ignored"; readonly reason: string }
    | {
          readonly kind: "reported";
          readonly jobName: string;
          readonly jobRunId: string;
          readonly state: string;
          readonly fileId?: string;
          readonly recordUpdate: RecordUpdate;
          readonly notified: boolean;
          readonly metrics: readonly Datum[];
      }
    | { readonly kind: "duplicate"; readonly jobName: string; readonly jobRunId: string; readonly fileId: string }
    | { readonly kind: "status-counts"; readonly counts: Readonly<Record<string, number>> };

/**
 * Thrown when a failed run's record is still CLAIMED without a run id: the trigger has not recorded the
 * start yet (a run that failed within moments of starting). Lambda retries the event a minute later, by
 * which time the record names the run and can be marked FAILED.
 */
export class RecordNotStartedError extends Error {
    constructor(readonly fileId: string, readonly jobRunId: string) {
        super(`record ${fileId} is CLAIMED and names no run yet; run ${jobRunId} cannot be recorded as FAILED before the trigger records its start`);
        this.name = "RecordNotStartedError";
    }
}

function isGlueStateChange(event: EventBridgeEvent): event is EventBridgeEvent<GlueJobStateChangeDetail> {
    const d = event.detail as Partial<GlueJobStateChangeDetail> | undefined;
    return (
        event.source === "aws.glue" &&
        event["detail-type"] === JOB_STATE_CHANGE &&
        typeof d?.jobName === "string" &&
        typeof d?.jobRunId === "string" &&
        typeof d?.state === "string"
    );
}

/** The run, or undefined when Glue no longer knows it (run history is kept for a limited time). */
async function readRun(deps: JobEventsDeps, jobName: string, runId: string, log: Logger): Promise<JobRun | undefined> {
    try {
        const out = await deps.glue.send(new GetJobRunCommand({ JobName: jobName, RunId: runId }));
        return out.JobRun;
    } catch (err) {
        if (err instanceof Error && err.name === "EntityNotFoundException") {
            log.warn("GetJobRun does not know the run; reporting from the event alone", { error: err });
            return undefined;
        }
        throw err;
    }
}

/** Previous runs for the duration baseline; a failure here costs the ratio, never the report. */
async function recentRuns(deps: JobEventsDeps, jobName: string, log: Logger): Promise<JobRun[]> {
    try {
        const out = await deps.glue.send(new GetJobRunsCommand({ JobName: jobName, MaxResults: 50 }));
        return out.JobRuns ?? [];
    } catch (err) {
        log.warn("GetJobRuns failed; no duration baseline for this run", { error: err });
        return [];
    }
}

/** CloudWatch accepts data points from up to two weeks ago and two hours ahead. */
const MAX_METRIC_AGE_MS = 13 * 24 * 3600 * 1000;
const MAX_METRIC_LEAD_MS = 2 * 3600 * 1000;

/**
 * When the run finished, as the data points' timestamp, so that a late delivery (retries, a replay) still
 * lands in the hour the run ended. Outside what CloudWatch accepts (a replay weeks later), undefined: the
 * point is then stamped with the time it is published rather than rejected.
 */
export function metricTimestamp(at: Date | undefined, now: Date = new Date()): Date | undefined {
    if (!at || Number.isNaN(at.getTime())) return undefined;
    const age = now.getTime() - at.getTime();
    return age <= MAX_METRIC_AGE_MS && -age <= MAX_METRIC_LEAD_MS ? at : undefined;
}

function failureText(state: string, run: JobRun | undefined, eventMessage: string | undefined): string {
    const why = run?.ErrorMessage?.trim() || eventMessage?.trim() || "no error message from Glue";
    return `Glue run ${run?.Id ?? "?"} ended ${state}: ${why}`;
}

async function handleStateChange(event: EventBridgeEvent<GlueJobStateChangeDetail>, deps: JobEventsDeps): Promise<HandledEvent> {
    const { jobName, jobRunId, state, message } = event.detail;
    let log = deps.logger.child({ job_name: jobName, job_run_id: jobRunId, state });
    if (!deps.config.glueJobNames.includes(jobName)) {
        log.info("event of a job this handler does not watch; ignored");
        return { kind: "ignored", reason: `job ${jobName} is not watched` };
    }
    if (!TERMINAL_STATES.includes(state)) {
        log.info("not a final state; ignored");
        return { kind: "ignored", reason: `state ${state} is not final` };
    }
    const succeeded = state === "SUCCEEDED";

    const run = await readRun(deps, jobName, jobRunId, log);
    const fileId = run?.Arguments?.["--file_id"];
    if (fileId) log = log.child({ file_id: fileId });

    // 1. The record: a run that died without the job's own write leaves it STARTED/RUNNING forever otherwise.
    let record: ProcessingRecord | undefined = fileId ? await deps.records.get(fileId) : undefined;
    let recordUpdate: RecordUpdate = "none";
    if (fileId && record) {
        recordUpdate = "left-alone";
        if (!succeeded) {
            const completed = run?.CompletedOn instanceof Date ? run.CompletedOn.toISOString() : event.time;
            const written = await deps.records.markRunFailed(fileId, jobRunId, failureText(state, run ?? { Id: jobRunId }, message), completed);
            if (written.recorded) {
                record = written.record;
                recordUpdate = "marked-failed";
                log.info("record marked FAILED: the run ended before the job recorded its outcome");
            } else {
                record = written.existing;
                if (record?.processing_status === ProcessingStatus.CLAIMED && record.job_run_id === undefined) {
                    throw new RecordNotStartedError(fileId, jobRunId);
                }
            }
        } else if (record.job_run_id === jobRunId && (NOT_PROCESSED_STATUSES as readonly string[]).includes(record.processing_status)) {
            // The job found its source version overwritten or deleted and published nothing, as it should.
            log.info("run ended without publishing: its source version is no longer current", {
                record_status: record.processing_status,
                reason: record.error_message,
            });
        } else if (record.job_run_id === jobRunId && record.processing_status !== ProcessingStatus.SUCCEEDED) {
            log.warn("run succeeded but its record is not SUCCEEDED: the job's final write did not happen", {
                record_status: record.processing_status,
            });
        }
    } else if (fileId) {
        log.warn("the run names a file id that has no record", { metadata_table: deps.config.metadataTable });
    }

    // 2. Report once per run.
    if (fileId && record) {
        const claim = await deps.records.claimRunReport(fileId, jobRunId);
        if (claim === "already-reported") {
            log.info("run already reported (redelivered event); nothing more to do");
            return { kind: "duplicate", jobName, jobRunId, fileId };
        }
    }

    try {
        const baseline = succeeded
            ? durationBaseline(await recentRuns(deps, jobName, log), jobRunId, deps.config.baselineRuns, deps.config.baselineMinRuns)
            : undefined;
        const completedAt = metricTimestamp(run?.CompletedOn instanceof Date ? run.CompletedOn : event.time ? new Date(event.time) : undefined);
        const metrics = runMetrics({
            jobName,
            succeeded,
            executionSeconds: run?.ExecutionTime,
            dpuHours: run ? dpuHours(run) : undefined,
            baseline,
            recordsWritten: record?.job_run_id === jobRunId ? record?.record_count : undefined,
            rowsQuarantined: record?.job_run_id === jobRunId ? record?.rows_quarantined : undefined,
            completedAt,
        });
        await deps.cloudwatch.send(new PutMetricDataCommand({ Namespace: deps.config.metricNamespace, MetricData: metrics }));

        let notified = false;
        if (!succeeded) {
            const note = buildRunNotification({
                stage: deps.config.stage,
                region: event.region ?? deps.region,
                jobName,
                jobRunId,
                state,
                eventMessage: message,
                eventTime: event.time,
                run,
                record,
                recordUpdate,
                tableName: deps.config.metadataTable,
                replayCommand: deps.config.replayCommand,
                logGroups: deps.config.jobLogGroups[jobName],
            });
            await deps.sns.send(
                new PublishCommand({
                    TopicArn: deps.config.alertsTopicArn,
                    Subject: note.subject,
                    Message: note.message,
                    MessageAttributes: Object.fromEntries(
                        Object.entries(note.attributes).map(([k, v]) => [k, { DataType: "String", StringValue: v }]),
                    ),
                }),
            );
            notified = true;
            // One line per failure with the fields an operator filters on: the operational dashboard's
            // "recent failures" widget queries exactly these.
            log.error("job run did not succeed", {
                event: "job_run_not_succeeded",
                source_file_path: record?.source_file_path ?? run?.Arguments?.["--input_path"],
                error_message: run?.ErrorMessage ?? message,
                record_update: recordUpdate,
            });
        } else {
            log.info("job run succeeded", {
                execution_seconds: run?.ExecutionTime,
                duration_ratio: metrics.find((m) => m.MetricName === "JobRunDurationRatio")?.Value,
            });
        }
        return { kind: "reported", jobName, jobRunId, state, ...(fileId ? { fileId } : {}), recordUpdate, notified, metrics };
    } catch (err) {
        if (fileId && record) {
            await deps.records.releaseRunReport(fileId, jobRunId).catch((releaseErr: unknown) => {
                log.error("could not release the report claim; the retried event will not report this run", { error: releaseErr });
            });
        }
        throw err;
    }
}

async function publishStatusCounts(event: EventBridgeEvent, deps: JobEventsDeps): Promise<HandledEvent> {
    const statuses = [...FILES_BY_STATUS.inFlight, ...FILES_BY_STATUS.replay];
    const counts: Record<string, number> = {};
    for (const status of statuses) counts[status] = await deps.records.countByStatus(status);
    const data = statusCountMetrics(counts, metricTimestamp(event.time ? new Date(event.time) : undefined));
    if (data.length > 0) await deps.cloudwatch.send(new PutMetricDataCommand({ Namespace: deps.config.metricNamespace, MetricData: data }));
    deps.logger.info("file counts by status", { counts });
    return { kind: "status-counts", counts };
}

/** Handles one EventBridge event. Errors are logged with context and rethrown, so Lambda retries. */
export async function handleEvent(event: EventBridgeEvent, deps: JobEventsDeps): Promise<HandledEvent> {
    try {
        if (isGlueStateChange(event)) return await handleStateChange(event, deps);
        if (event?.source === "aws.events" && event["detail-type"] === SCHEDULED_EVENT) return await publishStatusCounts(event, deps);
        deps.logger.warn("unexpected event; ignored", { source: event?.source, detail_type: event?.["detail-type"] });
        return { kind: "ignored", reason: `unexpected event ${event?.source}/${event?.["detail-type"]}` };
    } catch (err) {
        deps.logger.error("event handling failed; Lambda will retry it", { error: err, event_id: event?.id });
        throw err;
    }
}
