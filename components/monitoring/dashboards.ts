/**
 * PipelineMonitoring's two CloudWatch dashboards as plain data (pure): the pipeline overview (files, records,
 * error rates, durations, DPU-hours) and the operational view (alarms, files in flight and waiting for
 * replay, the triggers' queue backlog, the fast path's row, dead-letter queues, throttling, recent failed runs), laid out on
 * CloudWatch's 24-column grid.
 */
import { AlarmThresholds, FAST_PATH_METRIC_DIMENSION, FAST_PATH_METRICS, PIPELINE_METRICS } from "./monitoredResources";
import { FILES_BY_STATUS } from "../../functions/glue-job-events/contract";

export interface DashboardInputs {
    readonly stage: string;
    readonly region: string;
    readonly metricNamespace: string;
    readonly glueJobs: readonly { label: string; name: string }[];
    readonly functions: readonly { label: string; name: string }[];
    readonly queues: readonly { label: string; name: string }[];
    /** Queues feeding triggered functions: their backlog. @default none */
    readonly feedQueues?: readonly { label: string; name: string }[];
    readonly tables: readonly { label: string; name: string }[];
    readonly stateMachines: readonly { label: string; arn: string }[];
    readonly alarmArns: readonly string[];
    /** Log group of the job-events handler (its "job run did not succeed" lines), when it exists. */
    readonly eventsLogGroup?: string;
    /** Fast paths beside Glue jobs, with names resolved (MonitoredFastPath). @default none */
    readonly fastPaths?: readonly DashboardFastPath[];
    readonly thresholds: AlarmThresholds;
}

export interface DashboardFastPath {
    readonly label: string;
    readonly functionName: string;
    readonly timeoutSeconds: number;
    /** The label of its Glue job in `glueJobs`. */
    readonly fallbackJobLabel: string;
    readonly queueName?: string;
}

export interface Widget {
    readonly type: "metric" | "text" | "alarm" | "log";
    readonly x: number;
    readonly y: number;
    readonly width: number;
    readonly height: number;
    readonly properties: Record<string, unknown>;
}

type Row = unknown[];

/** A widget before layout; `newRow` starts it at the left edge (a row of its own kind), and is not part of the body. */
type Unplaced = Omit<Widget, "x" | "y"> & { readonly newRow?: boolean };

/** Lays widgets out left to right on CloudWatch's 24-column grid. */
function layout(items: Array<Unplaced>): Widget[] {
    const out: Widget[] = [];
    let x = 0;
    let y = 0;
    let rowHeight = 0;
    for (const { newRow, ...item } of items) {
        if (x + item.width > 24 || (newRow && x > 0)) {
            x = 0;
            y += rowHeight;
            rowHeight = 0;
        }
        out.push({ ...item, x, y });
        x += item.width;
        rowHeight = Math.max(rowHeight, item.height);
    }
    return out;
}

function metricWidget(title: string, region: string, metrics: Row[], extra: Record<string, unknown> = {}): Omit<Widget, "x" | "y"> {
    return { type: "metric", width: 12, height: 6, properties: { title, region, view: "timeSeries", stacked: false, metrics, ...extra } };
}

const text = (markdown: string): Omit<Widget, "x" | "y"> => ({ type: "text", width: 24, height: 2, properties: { markdown } });

/** Dashboard body of the pipeline overview: files processed, records, error rates, durations, DPU-hours. */
export function overviewDashboard(d: DashboardInputs): { widgets: Widget[] } {
    const ns = d.metricNamespace;
    const hour = 3600;
    const items: Array<Omit<Widget, "x" | "y">> = [
        text(
            `# Glue pipeline (${d.stage}): overview\nFiles processed, records, error rates, durations and DPU-hours, from the run metrics the ` +
                `job-events handler publishes (namespace \`${ns}\`) and Lambda's own. Alarms, queues and failures: dashboard \`glue-pipeline-${d.stage}-operations\`.`,
        ),
    ];
    if (d.glueJobs.length > 0) {
        items.push(
            metricWidget(
                "Files processed per hour (succeeded / failed runs)",
                d.region,
                d.glueJobs.flatMap((j, i) => [
                    [ns, PIPELINE_METRICS.jobRunFailed, "JobName", j.name, { stat: "SampleCount", id: `runs${i}`, visible: false }],
                    [ns, PIPELINE_METRICS.jobRunFailed, "JobName", j.name, { stat: "Sum", id: `failed${i}`, label: `${j.label} failed` }],
                    [{ expression: `runs${i} - failed${i}`, id: `ok${i}`, label: `${j.label} succeeded` }],
                ]),
                { period: hour, stacked: true, view: "bar" },
            ),
            metricWidget(
                "Records written and quarantined per hour",
                d.region,
                d.glueJobs.flatMap((j) => [
                    [ns, PIPELINE_METRICS.recordsWritten, "JobName", j.name, { stat: "Sum", label: `${j.label} written` }],
                    [ns, PIPELINE_METRICS.rowsQuarantined, "JobName", j.name, { stat: "Sum", label: `${j.label} quarantined` }],
                ]),
                { period: hour },
            ),
        );
    }
    items.push(
        metricWidget(
            "Error rates (%)",
            d.region,
            [
                ...d.glueJobs.flatMap((j, i) => [
                    [ns, PIPELINE_METRICS.jobRunFailed, "JobName", j.name, { stat: "Average", id: `outcome${i}`, visible: false, period: hour }],
                    [{ expression: `100 * outcome${i}`, id: `glue_rate${i}`, label: `${j.label} failed runs %` }],
                ]),
                ...d.functions.flatMap((f, i) => [
                    ["AWS/Lambda", "Errors", "FunctionName", f.name, { stat: "Sum", id: `err${i}`, visible: false }],
                    ["AWS/Lambda", "Invocations", "FunctionName", f.name, { stat: "Sum", id: `inv${i}`, visible: false }],
                    [{ expression: `100 * FILL(err${i}, 0) / inv${i}`, id: `fn_rate${i}`, label: `${f.label} errors %` }],
                ]),
            ],
            {
                period: 300,
                yAxis: { left: { min: 0, max: 100 } },
                annotations: {
                    horizontal: [
                        ...(d.glueJobs.length > 0 ? [{ label: "Glue alarm", value: d.thresholds.glueFailureRatePercent }] : []),
                        ...(d.functions.length > 0 ? [{ label: "Lambda alarm", value: d.thresholds.lambdaErrorRatePercent }] : []),
                    ],
                },
            },
        ),
    );
    if (d.glueJobs.length > 0) {
        items.push(
            metricWidget(
                "Glue run duration (s)",
                d.region,
                d.glueJobs.flatMap((j) => [
                    [ns, PIPELINE_METRICS.jobRunDurationSeconds, "JobName", j.name, { stat: "Average", label: `${j.label} average` }],
                    [ns, PIPELINE_METRICS.jobRunDurationSeconds, "JobName", j.name, { stat: "Maximum", label: `${j.label} longest` }],
                ]),
                { period: hour },
            ),
            metricWidget(
                "Glue run duration ÷ recent average",
                d.region,
                d.glueJobs.map((j) => [ns, PIPELINE_METRICS.jobRunDurationRatio, "JobName", j.name, { stat: "Maximum", label: j.label }]),
                { period: hour, annotations: { horizontal: [{ label: "alarm", value: d.thresholds.glueDurationRatio }] } },
            ),
            metricWidget(
                "DPU-hours per day",
                d.region,
                d.glueJobs.map((j) => [ns, PIPELINE_METRICS.jobRunDpuHours, "JobName", j.name, { stat: "Sum", label: j.label }]),
                { period: 86400, view: "bar" },
            ),
        );
    }
    const fastPaths = d.fastPaths ?? [];
    if (fastPaths.length > 0) {
        // Which engine ran the files: Glue runs of the job (a fallback is one of them) beside the fast path's
        // files, from metrics already published (no metric of its own: it costs nothing more).
        items.push(
            metricWidget(
                "Files per engine per hour (Glue runs, fast path)",
                d.region,
                fastPaths.flatMap((fp, i) => {
                    const job = d.glueJobs.find((j) => j.label === fp.fallbackJobLabel);
                    const dim = [FAST_PATH_METRIC_DIMENSION, fp.functionName];
                    return [
                        ...(job ? [[ns, PIPELINE_METRICS.jobRunFailed, "JobName", job.name, { stat: "SampleCount", label: `${job.label} on Glue` }]] : []),
                        [ns, FAST_PATH_METRICS.filesConverted, ...dim, { stat: "Sum", id: `fast_ok${i}`, visible: false }],
                        [ns, FAST_PATH_METRICS.failed, ...dim, { stat: "Sum", id: `fast_failed${i}`, visible: false }],
                        [{ expression: `FILL(fast_ok${i}, 0) + FILL(fast_failed${i}, 0)`, id: `fast${i}`, label: `${fp.label} fast path` }],
                    ];
                }),
                { period: hour, stacked: true, view: "bar" },
            ),
        );
    }
    if (d.functions.length > 0) {
        items.push(
            metricWidget(
                "Lambda duration p95 (ms)",
                d.region,
                d.functions.map((f) => ["AWS/Lambda", "Duration", "FunctionName", f.name, { stat: "p95", label: f.label }]),
                { period: 300 },
            ),
        );
    }
    return { widgets: layout(items) };
}

/** Statuses shown as "in flight" and as "waiting for replay": the ones the handler publishes FilesByStatus for. */
export const IN_FLIGHT_STATUSES = FILES_BY_STATUS.inFlight;
export const REPLAY_STATUSES = FILES_BY_STATUS.replay;

/** Dashboard body of the operational view: alarms, runs in flight, queue depths, recent failures. */
export function operationsDashboard(d: DashboardInputs): { widgets: Widget[] } {
    const ns = d.metricNamespace;
    // The handler publishes a count only when it is not zero (cost); FILL turns the gaps back into zeros.
    const statusRows = (statuses: readonly string[], prefix: string): Row[] =>
        statuses.flatMap((s, i) => [
            [ns, PIPELINE_METRICS.filesByStatus, "Status", s, { stat: "Maximum", id: `${prefix}${i}`, visible: false }],
            [{ expression: `FILL(${prefix}${i}, 0)`, id: `${prefix}_filled${i}`, label: s }],
        ]);
    const items: Unplaced[] = [
        text(
            `# Glue pipeline (${d.stage}): operations\nAlarm states, files in flight and waiting for replay, dead-letter queues, throttling, and the latest failed runs. ` +
                `To re-run failed files once: \`npm run replay -- --stack <stack>\`.`,
        ),
        { type: "alarm", width: 24, height: 4, properties: { title: "Alarms", alarms: [...d.alarmArns], sortBy: "stateUpdatedTimestamp" } },
    ];
    if (d.glueJobs.length > 0) {
        items.push(
            metricWidget("Files in flight (claimed, waiting for Glue capacity, started, running)", d.region, statusRows(IN_FLIGHT_STATUSES, "live"), { period: 300, stacked: true }),
            metricWidget("Files waiting for replay (START_FAILED, FAILED)", d.region, statusRows(REPLAY_STATUSES, "replay"), { period: 300, stacked: true }),
        );
    }
    const feeds = d.feedQueues ?? [];
    if (feeds.length > 0) {
        // The backlog of a burst: files not yet taken (visible), being handled (in flight), waiting for Glue
        // capacity (delayed: re-sent with a delay), and how long the oldest has waited.
        items.push(
            metricWidget(
                "Trigger queue backlog: waiting, in flight, delayed for capacity; oldest message age (s)",
                d.region,
                feeds.flatMap((q) => [
                    ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", q.name, { stat: "Maximum", label: `${q.label} waiting` }],
                    ["AWS/SQS", "ApproximateNumberOfMessagesNotVisible", "QueueName", q.name, { stat: "Maximum", label: `${q.label} in flight` }],
                    ["AWS/SQS", "ApproximateNumberOfMessagesDelayed", "QueueName", q.name, { stat: "Maximum", label: `${q.label} delayed` }],
                    ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", q.name, { stat: "Maximum", label: `${q.label} oldest (s)`, yAxis: "right" }],
                ]),
                { period: 60, stacked: false },
            ),
        );
    }
    for (const fp of d.fastPaths ?? []) items.push(...fastPathRow(d, fp));
    if (d.queues.length > 0) {
        items.push(
            metricWidget(
                "Dead-letter queue depth and oldest message age (s)",
                d.region,
                d.queues.flatMap((q) => [
                    ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", q.name, { stat: "Maximum", label: `${q.label} messages` }],
                    ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", q.name, { stat: "Maximum", label: `${q.label} oldest (s)`, yAxis: "right" }],
                ]),
                { period: 300 },
            ),
        );
    }
    if (d.functions.length > 0) {
        items.push(
            metricWidget(
                "Lambda concurrency, throttles and errors",
                d.region,
                d.functions.flatMap((f) => [
                    ["AWS/Lambda", "ConcurrentExecutions", "FunctionName", f.name, { stat: "Maximum", label: `${f.label} concurrent` }],
                    ["AWS/Lambda", "Throttles", "FunctionName", f.name, { stat: "Sum", label: `${f.label} throttles` }],
                    ["AWS/Lambda", "Errors", "FunctionName", f.name, { stat: "Sum", label: `${f.label} errors` }],
                ]),
                { period: 300 },
            ),
        );
    }
    if (d.tables.length > 0) {
        items.push(
            metricWidget(
                "DynamoDB throttled requests",
                d.region,
                d.tables.flatMap((t) => [
                    ["AWS/DynamoDB", "ReadThrottleEvents", "TableName", t.name, { stat: "Sum", label: `${t.label} reads` }],
                    ["AWS/DynamoDB", "WriteThrottleEvents", "TableName", t.name, { stat: "Sum", label: `${t.label} writes` }],
                ]),
                { period: 300 },
            ),
        );
    }
    if (d.stateMachines.length > 0) {
        items.push(
            metricWidget(
                "Step Functions executions",
                d.region,
                d.stateMachines.flatMap((m) => [
                    ["AWS/States", "ExecutionsStarted", "StateMachineArn", m.arn, { stat: "Sum", label: `${m.label} started` }],
                    ["AWS/States", "ExecutionsFailed", "StateMachineArn", m.arn, { stat: "Sum", label: `${m.label} failed` }],
                    ["AWS/States", "ExecutionsTimedOut", "StateMachineArn", m.arn, { stat: "Sum", label: `${m.label} timed out` }],
                ]),
                { period: 300 },
            ),
        );
    }
    if (d.eventsLogGroup) {
        items.push({
            type: "log",
            width: 24,
            height: 6,
            properties: {
                title: "Recent runs that did not succeed",
                region: d.region,
                view: "table",
                query:
                    `SOURCE '${d.eventsLogGroup}' | fields @timestamp, job_name, job_run_id, state, file_id, source_file_path, error_message, record_update` +
                    " | filter event = 'job_run_not_succeeded' | sort @timestamp desc | limit 20",
            },
        });
    }
    return { widgets: layout(items) };
}

/**
 * The operations dashboard's row for one fast path: its files (converted, fallen back to Glue, failed), its
 * duration against the timeout, and its request queue's backlog when the queue is named.
 */
function fastPathRow(d: DashboardInputs, fp: DashboardFastPath): Unplaced[] {
    const ns = d.metricNamespace;
    const dim = [FAST_PATH_METRIC_DIMENSION, fp.functionName];
    const width = fp.queueName !== undefined ? 8 : 12;
    const timeoutMs = fp.timeoutSeconds * 1000;
    const row: Unplaced[] = [
        {
            newRow: true,
            ...metricWidget(
                `Fast path ${fp.label}: files converted, fallen back to ${fp.fallbackJobLabel}, failed`,
                d.region,
                [
                    [ns, FAST_PATH_METRICS.filesConverted, ...dim, { stat: "Sum", label: "converted" }],
                    [ns, FAST_PATH_METRICS.fallbacks, ...dim, { stat: "Sum", label: "fell back to Glue" }],
                    [ns, FAST_PATH_METRICS.failed, ...dim, { stat: "Sum", label: "failed" }],
                ],
                { period: 300, stacked: true, view: "bar" },
            ),
            width,
        },
        {
            ...metricWidget(
                `Fast path ${fp.label}: duration p50 / p95 (ms) against its ${fp.timeoutSeconds} s timeout`,
                d.region,
                [
                    ["AWS/Lambda", "Duration", "FunctionName", fp.functionName, { stat: "p50", label: "p50" }],
                    ["AWS/Lambda", "Duration", "FunctionName", fp.functionName, { stat: "p95", label: "p95" }],
                ],
                {
                    period: 300,
                    yAxis: { left: { min: 0, max: timeoutMs } },
                    annotations: {
                        horizontal: [
                            { label: "timeout", value: timeoutMs },
                            { label: "alarm", value: Math.round((timeoutMs * d.thresholds.fastPathDurationPercentOfTimeout) / 100) },
                        ],
                    },
                },
            ),
            width,
        },
    ];
    if (fp.queueName !== undefined) {
        row.push({
            ...metricWidget(
                `Fast path ${fp.label}: request queue backlog; oldest message age (s)`,
                d.region,
                [
                    ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", fp.queueName, { stat: "Maximum", label: "waiting" }],
                    ["AWS/SQS", "ApproximateNumberOfMessagesNotVisible", "QueueName", fp.queueName, { stat: "Maximum", label: "in flight" }],
                    ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", fp.queueName, { stat: "Maximum", label: "oldest (s)", yAxis: "right" }],
                ],
                { period: 60 },
            ),
            width,
        });
    }
    return row;
}

export const dashboardNames = (stage: string) => ({ overview: `glue-pipeline-${stage}-overview`, operations: `glue-pipeline-${stage}-operations` });
