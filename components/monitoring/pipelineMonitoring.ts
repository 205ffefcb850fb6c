/**
 * PipelineMonitoring: alarms that mean something, dashboards, and where alerts go, for whatever the pipeline
 * is made of. Given the pipeline's Glue jobs, Lambda functions, dead-letter queues, DynamoDB tables and
 * Step Functions state machines, it creates:
 *
 * - an SNS alerts topic, encrypted with a key whose policy lets CloudWatch alarms publish to it, with the
 *   configured email subscriptions; every alarm uses it as alarm and OK action;
 * - for the Glue jobs, the GlueJobEventHandler (state-change events → record, run metrics, notification);
 * - per Glue job: failure rate > 10 % of runs over a window, and a successful run > 2× the recent average;
 * - per function: error rate (errors ÷ invocations) > 5 %, and throttling that persists;
 * - per dead-letter queue: depth > 0; per table: throttled requests; per state machine: failed executions;
 * - two dashboards: the pipeline overview and the operational one.
 *
 * Later flows plug in by passing more items. The handler it creates (function and DLQ) is monitored too.
 * Every alarm's missing-data treatment is deliberate and stated in {@link alarmSpecs}.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { KEY_ADMIN_ACTIONS, KEY_USE_ACTIONS } from "../storage/dataLakeBuckets";
import { DEFAULT_METRIC_NAMESPACE, GlueJobEventHandler } from "./glueJobEventHandler";
import { PolicyDocument, PolicyStatement, policyDocument } from "../iam/iamPolicies";
import { EncryptedTopic, denyInsecureTopicTransport, emailSubscriptionId, validateEmails } from "../messaging/encryptedTopic";

// ---------------------------------------------------------------------------------------------------------
// What is monitored
// ---------------------------------------------------------------------------------------------------------

/** Every monitored item has a label: short, unique within its kind, used in alarm names and dashboard titles. */
interface Labelled {
    /** e.g. the resource's physical name when it is known at preview (`FileProcessorV2-dev`). */
    readonly label: string;
}

export interface MonitoredGlueJob extends Labelled {
    readonly name: pulumi.Input<string>;
    readonly arn: pulumi.Input<string>;
    /** Where its runs log, for notifications (GlueEtlJob's outputLogGroup/errorLogGroup names). @default derived from the run */
    readonly logGroups?: { readonly output: pulumi.Input<string>; readonly error: pulumi.Input<string> };
}

export interface MonitoredFunction extends Labelled {
    readonly name: pulumi.Input<string>;
    /**
     * Minutes of continuous throttling before the alarm fires. A function with reserved concurrency is
     * throttled by design during a burst (its async events wait and are retried), so a brief throttle is
     * not news; a backlog that does not drain is. @default 15
     */
    readonly throttleMinutes?: number;
}

export interface MonitoredQueue extends Labelled {
    readonly name: pulumi.Input<string>;
}

export interface MonitoredTable extends Labelled {
    readonly name: pulumi.Input<string>;
    /** GSIs whose throttling counts too (a throttled GSI write throttles the table's writes). @default none */
    readonly globalSecondaryIndexes?: readonly string[];
}

export interface MonitoredStateMachine extends Labelled {
    readonly arn: pulumi.Input<string>;
}

/** The metrics the job-events handler publishes (functions/glue-job-events/metrics.ts; a test keeps them equal). */
export const PIPELINE_METRICS = {
    jobRunFailed: "JobRunFailed",
    jobRunDurationSeconds: "JobRunDurationSeconds",
    jobRunDurationRatio: "JobRunDurationRatio",
    jobRunDpuHours: "JobRunDpuHours",
    recordsWritten: "RecordsWritten",
    rowsQuarantined: "RowsQuarantined",
    filesByStatus: "FilesByStatus",
} as const;

export interface AlarmThresholds {
    /** Seed 000: job failure rate > 10 %. */
    readonly glueFailureRatePercent: number;
    /** The window the failure rate is computed over. */
    readonly glueFailureWindowMinutes: number;
    /** Seed 000: duration > 2× average. */
    readonly glueDurationRatio: number;
    readonly glueDurationWindowMinutes: number;
    /** Seed 000: Lambda error rate > 5 %. */
    readonly lambdaErrorRatePercent: number;
    readonly lambdaPeriodMinutes: number;
    readonly queuePeriodMinutes: number;
    readonly tablePeriodMinutes: number;
    readonly stateMachinePeriodMinutes: number;
}

export const DEFAULT_THRESHOLDS: AlarmThresholds = {
    glueFailureRatePercent: 10,
    glueFailureWindowMinutes: 60,
    glueDurationRatio: 2,
    glueDurationWindowMinutes: 60,
    lambdaErrorRatePercent: 5,
    lambdaPeriodMinutes: 5,
    queuePeriodMinutes: 5,
    tablePeriodMinutes: 5,
    stateMachinePeriodMinutes: 5,
};

export const DEFAULT_THROTTLE_MINUTES = 15;

// ---------------------------------------------------------------------------------------------------------
// Alarm specifications (pure)
// ---------------------------------------------------------------------------------------------------------

export type AlarmKind = "glue-failure-rate" | "glue-duration" | "lambda-error-rate" | "lambda-throttles" | "dlq-depth" | "dynamodb-throttles" | "sfn-failed";
export type MissingData = "notBreaching" | "breaching" | "ignore" | "missing";

type Dimensions = Record<string, pulumi.Input<string>>;

export interface AlarmMetric {
    readonly namespace: string;
    readonly metricName: string;
    readonly dimensions: Dimensions;
    readonly stat: string;
    readonly period: number;
}

export interface AlarmQuery {
    readonly id: string;
    readonly metric?: AlarmMetric;
    readonly expression?: string;
    readonly label?: string;
    readonly returnData: boolean;
}

/** One alarm as plain data: what the component creates, what the tests assert on. */
export interface AlarmSpec {
    /** Unique key within the component, also the logical name's suffix. */
    readonly key: string;
    readonly kind: AlarmKind;
    /** The monitored item's label. */
    readonly subject: string;
    /** The alarm's name in CloudWatch. */
    readonly name: string;
    readonly description: string;
    readonly threshold: number;
    readonly comparisonOperator: "GreaterThanThreshold";
    readonly evaluationPeriods: number;
    readonly datapointsToAlarm: number;
    readonly treatMissingData: MissingData;
    /** Either a single metric ... */
    readonly metric?: AlarmMetric;
    /** ... or metric math (exactly one query returns data). */
    readonly queries?: readonly AlarmQuery[];
}

export interface AlarmInputs {
    readonly stage: string;
    readonly metricNamespace: string;
    readonly glueJobs: readonly MonitoredGlueJob[];
    readonly functions: readonly MonitoredFunction[];
    readonly queues: readonly MonitoredQueue[];
    readonly tables: readonly MonitoredTable[];
    readonly stateMachines: readonly MonitoredStateMachine[];
    readonly thresholds: AlarmThresholds;
}

const LABEL = /^[A-Za-z0-9._-]{1,120}$/;

/** Rejects what CloudWatch or the component cannot take: bad labels, duplicates, periods not whole minutes. */
export function validateMonitoringInputs(inputs: Omit<AlarmInputs, "stage" | "metricNamespace">): void {
    const kinds: Array<[string, readonly Labelled[]]> = [
        ["glueJobs", inputs.glueJobs],
        ["functions", inputs.functions],
        ["deadLetterQueues", inputs.queues],
        ["tables", inputs.tables],
        ["stateMachines", inputs.stateMachines],
    ];
    for (const [field, items] of kinds) {
        const seen = new Set<string>();
        for (const item of items) {
            if (!LABEL.test(item.label ?? "")) throw new Error(`PipelineMonitoring: ${field}: label ${JSON.stringify(item.label)} must be 1-120 letters, digits, '.', '_' or '-'`);
            if (seen.has(item.label)) throw new Error(`PipelineMonitoring: ${field}: label ${item.label} is used twice`);
            seen.add(item.label);
        }
    }
    for (const fn of inputs.functions) {
        const minutes = fn.throttleMinutes ?? DEFAULT_THROTTLE_MINUTES;
        if (!Number.isInteger(minutes) || minutes < inputs.thresholds.lambdaPeriodMinutes || minutes % inputs.thresholds.lambdaPeriodMinutes !== 0 || minutes > 1440) {
            throw new Error(`PipelineMonitoring: functions: ${fn.label}: throttleMinutes ${minutes} must be a multiple of lambdaPeriodMinutes (${inputs.thresholds.lambdaPeriodMinutes}) up to 1440`);
        }
    }
    for (const table of inputs.tables) {
        for (const gsi of table.globalSecondaryIndexes ?? []) {
            if (!/^[A-Za-z0-9_.-]{3,255}$/.test(gsi)) throw new Error(`PipelineMonitoring: tables: ${table.label}: ${JSON.stringify(gsi)} is not an index name`);
        }
    }
    const t = inputs.thresholds;
    for (const [field, minutes] of Object.entries(t).filter(([k]) => k.endsWith("Minutes"))) {
        if (!Number.isInteger(minutes) || minutes < 1 || minutes > 1440) throw new Error(`PipelineMonitoring: thresholds.${field} must be whole minutes from 1 to 1440, got ${minutes}`);
    }
    if (!(t.glueFailureRatePercent > 0 && t.glueFailureRatePercent < 100)) throw new Error("PipelineMonitoring: thresholds.glueFailureRatePercent must be between 0 and 100");
    if (!(t.lambdaErrorRatePercent > 0 && t.lambdaErrorRatePercent < 100)) throw new Error("PipelineMonitoring: thresholds.lambdaErrorRatePercent must be between 0 and 100");
    if (!(t.glueDurationRatio > 1)) throw new Error("PipelineMonitoring: thresholds.glueDurationRatio must be greater than 1");
}

const minutes = (m: number) => m * 60;

/**
 * Every alarm, as data. Thresholds are strict (`GreaterThanThreshold`). Missing data:
 *
 * - Glue failure rate and duration ratio: `notBreaching`. The handler publishes one point per finished run,
 *   so no data means no run finished in the window — nothing failed, nothing was slow — and the alarm
 *   returns to OK (sending the OK notification) in the first quiet window after a failure.
 * - Lambda error rate and throttles: `notBreaching`. Lambda emits Invocations/Errors/Throttles only when
 *   invoked; a function nobody invoked has no errors.
 * - DLQ depth: `notBreaching`. SQS reports metrics of a queue that holds messages (it counts as active), so
 *   a waiting message always shows up as data; only an empty, idle queue goes quiet.
 * - DynamoDB throttles and Step Functions failures: `notBreaching`. Those metrics exist only when the event
 *   happens.
 *
 * `breaching` would page on every quiet hour of a pipeline that processes ten files a month, which trains
 * people to ignore the alerts.
 */
export function alarmSpecs(inputs: AlarmInputs): AlarmSpec[] {
    const t = inputs.thresholds;
    const specs: AlarmSpec[] = [];
    const base = { comparisonOperator: "GreaterThanThreshold" as const, treatMissingData: "notBreaching" as const };

    for (const job of inputs.glueJobs) {
        specs.push({
            ...base,
            key: `glue-${job.label}-failure-rate`,
            kind: "glue-failure-rate",
            subject: job.label,
            name: `${job.label}-failure-rate`,
            description:
                `More than ${t.glueFailureRatePercent} % of ${job.label}'s runs that finished within ${t.glueFailureWindowMinutes} min did not succeed ` +
                "(FAILED, TIMEOUT, STOPPED). Each failed run also sent its own notification naming the file and the error; " +
                "fix the cause, then replay (npm run replay). No finished runs = no data = OK.",
            threshold: t.glueFailureRatePercent,
            evaluationPeriods: 1,
            datapointsToAlarm: 1,
            queries: [
                {
                    id: "outcome",
                    metric: {
                        namespace: inputs.metricNamespace,
                        metricName: PIPELINE_METRICS.jobRunFailed,
                        dimensions: { JobName: job.name },
                        // 0 per success, 1 per failure: the average over the window is the failure rate.
                        stat: "Average",
                        period: minutes(t.glueFailureWindowMinutes),
                    },
                    returnData: false,
                },
                { id: "failure_rate", expression: "100 * outcome", label: "Failed runs (%)", returnData: true },
            ],
        });
        specs.push({
            ...base,
            key: `glue-${job.label}-duration`,
            kind: "glue-duration",
            subject: job.label,
            name: `${job.label}-duration-over-${t.glueDurationRatio}x-average`,
            description:
                `A successful run of ${job.label} took more than ${t.glueDurationRatio}× the mean of the job's previous successful runs ` +
                "(the ratio is computed per run by the job-events handler from GetJobRuns). Look for an unusually large file, data skew, or " +
                "a run that waited for Flex capacity. No finished runs = no data = OK.",
            threshold: t.glueDurationRatio,
            evaluationPeriods: 1,
            datapointsToAlarm: 1,
            metric: {
                namespace: inputs.metricNamespace,
                metricName: PIPELINE_METRICS.jobRunDurationRatio,
                dimensions: { JobName: job.name },
                stat: "Maximum",
                period: minutes(t.glueDurationWindowMinutes),
            },
        });
    }

    for (const fn of inputs.functions) {
        const period = minutes(t.lambdaPeriodMinutes);
        const lambdaMetric = (metricName: string): AlarmMetric => ({
            namespace: "AWS/Lambda",
            metricName,
            dimensions: { FunctionName: fn.name },
            stat: "Sum",
            period,
        });
        specs.push({
            ...base,
            key: `lambda-${fn.label}-error-rate`,
            kind: "lambda-error-rate",
            subject: fn.label,
            name: `${fn.label}-error-rate`,
            description:
                `More than ${t.lambdaErrorRatePercent} % of ${fn.label}'s invocations failed within ${t.lambdaPeriodMinutes} min (errors ÷ invocations). ` +
                "Failed async events are retried twice, then kept in the function's dead-letter queue for replay. No invocations = no data = OK.",
            threshold: t.lambdaErrorRatePercent,
            evaluationPeriods: 1,
            datapointsToAlarm: 1,
            queries: [
                { id: "errors", metric: lambdaMetric("Errors"), returnData: false },
                { id: "invocations", metric: lambdaMetric("Invocations"), returnData: false },
                { id: "error_rate", expression: "100 * FILL(errors, 0) / invocations", label: "Error rate (%)", returnData: true },
            ],
        });
        const throttleMinutes = fn.throttleMinutes ?? DEFAULT_THROTTLE_MINUTES;
        const periods = throttleMinutes / t.lambdaPeriodMinutes;
        specs.push({
            ...base,
            key: `lambda-${fn.label}-throttles`,
            kind: "lambda-throttles",
            subject: fn.label,
            name: `${fn.label}-throttled`,
            description:
                `${fn.label} has been throttled in every ${t.lambdaPeriodMinutes}-min period for ${throttleMinutes} min: events are queuing faster ` +
                "than its concurrency drains them. Throttled async events are retried for up to 6 h, then dead-lettered. No invocations = OK.",
            threshold: 0,
            evaluationPeriods: periods,
            datapointsToAlarm: periods,
            metric: lambdaMetric("Throttles"),
        });
    }

    for (const queue of inputs.queues) {
        specs.push({
            ...base,
            key: `dlq-${queue.label}-depth`,
            kind: "dlq-depth",
            subject: queue.label,
            name: `${queue.label}-not-empty`,
            description:
                `The dead-letter queue ${queue.label} holds messages: events that failed every retry. Nothing is lost — messages are kept ` +
                "14 days — but nothing happens to them until the cause is fixed and they are replayed (npm run replay).",
            threshold: 0,
            evaluationPeriods: 1,
            datapointsToAlarm: 1,
            metric: {
                namespace: "AWS/SQS",
                metricName: "ApproximateNumberOfMessagesVisible",
                dimensions: { QueueName: queue.name },
                stat: "Maximum",
                period: minutes(t.queuePeriodMinutes),
            },
        });
    }

    for (const table of inputs.tables) {
        const period = minutes(t.tablePeriodMinutes);
        const sources: Array<{ suffix: string; dimensions: Dimensions }> = [
            { suffix: "", dimensions: { TableName: table.name } },
            ...(table.globalSecondaryIndexes ?? []).map((gsi, i) => ({
                suffix: `_gsi${i}`,
                dimensions: { TableName: table.name, GlobalSecondaryIndexName: gsi },
            })),
        ];
        const queries: AlarmQuery[] = sources.flatMap(({ suffix, dimensions }) => [
            { id: `read${suffix}`, metric: { namespace: "AWS/DynamoDB", metricName: "ReadThrottleEvents", dimensions, stat: "Sum", period }, returnData: false },
            { id: `write${suffix}`, metric: { namespace: "AWS/DynamoDB", metricName: "WriteThrottleEvents", dimensions, stat: "Sum", period }, returnData: false },
        ]);
        queries.push({
            id: "throttled",
            expression: queries.map((q) => `FILL(${q.id}, 0)`).join(" + "),
            label: "Throttled requests",
            returnData: true,
        });
        specs.push({
            ...base,
            key: `dynamodb-${table.label}-throttles`,
            kind: "dynamodb-throttles",
            subject: table.label,
            name: `${table.label}-throttled-requests`,
            description:
                `DynamoDB throttled reads or writes on ${table.label}${(table.globalSecondaryIndexes ?? []).length > 0 ? " or its indexes" : ""} ` +
                "(on-demand tables throttle on sudden peaks above twice the previous peak, or per-partition hot keys). Writers retry with backoff; " +
                "a claim that still fails leaves its event to Lambda's retries and the DLQ.",
            threshold: 0,
            evaluationPeriods: 1,
            datapointsToAlarm: 1,
            queries,
        });
    }

    for (const machine of inputs.stateMachines) {
        const period = minutes(t.stateMachinePeriodMinutes);
        const sfnMetric = (metricName: string): AlarmMetric => ({
            namespace: "AWS/States",
            metricName,
            dimensions: { StateMachineArn: machine.arn },
            stat: "Sum",
            period,
        });
        specs.push({
            ...base,
            key: `sfn-${machine.label}-failed`,
            kind: "sfn-failed",
            subject: machine.label,
            name: `${machine.label}-executions-failed`,
            description: `Executions of ${machine.label} failed or timed out. Open the execution's event history for the failing state.`,
            threshold: 0,
            evaluationPeriods: 1,
            datapointsToAlarm: 1,
            queries: [
                { id: "failed", metric: sfnMetric("ExecutionsFailed"), returnData: false },
                { id: "timed_out", metric: sfnMetric("ExecutionsTimedOut"), returnData: false },
                { id: "not_succeeded", expression: "FILL(failed, 0) + FILL(timed_out, 0)", label: "Failed or timed-out executions", returnData: true },
            ],
        });
    }
    return specs;
}

/** The spec as MetricAlarm arguments (without actions). */
export function metricAlarmArgs(spec: AlarmSpec): aws.cloudwatch.MetricAlarmArgs {
    const common = {
        name: spec.name,
        alarmDescription: spec.description,
        comparisonOperator: spec.comparisonOperator,
        threshold: spec.threshold,
        evaluationPeriods: spec.evaluationPeriods,
        datapointsToAlarm: spec.datapointsToAlarm,
        treatMissingData: spec.treatMissingData,
    };
    if (spec.metric) {
        return {
            ...common,
            namespace: spec.metric.namespace,
            metricName: spec.metric.metricName,
            dimensions: spec.metric.dimensions,
            statistic: spec.metric.stat,
            period: spec.metric.period,
        };
    }
    return {
        ...common,
        metricQueries: (spec.queries ?? []).map((q) => ({
            id: q.id,
            returnData: q.returnData,
            ...(q.label ? { label: q.label } : {}),
            ...(q.expression ? { expression: q.expression } : {}),
            ...(q.metric
                ? { metric: { namespace: q.metric.namespace, metricName: q.metric.metricName, dimensions: q.metric.dimensions, stat: q.metric.stat, period: q.metric.period } }
                : {}),
        })),
    };
}

// ---------------------------------------------------------------------------------------------------------
// Topic, key and subscriptions (pure)
// ---------------------------------------------------------------------------------------------------------

export function validateAlertEmails(emails: readonly string[]): void {
    validateEmails(emails, "PipelineMonitoring", "alertEmails");
}

/** A logical-name-safe, stable id for a subscription: reordering the list must not replace subscriptions. */
export const subscriptionId = emailSubscriptionId;

export const alertsTopicName = (stage: string): string => `glue-pipeline-alerts-${stage}`;

/**
 * Policy of the key that encrypts the alerts topic. CloudWatch alarms publish to an encrypted topic only if
 * the key lets `cloudwatch.amazonaws.com` generate and decrypt data keys (the AWS-managed `alias/aws/sns`
 * cannot be given that, so a customer key is required). The key encrypts nothing but alert messages (which
 * is why it is not the data-lake key); the service grant is held to this account's alarms by aws:SourceAccount.
 */
export function alertsKeyPolicy(accountId: string, partition = "aws"): PolicyDocument {
    if (!/^\d{12}$/.test(accountId)) throw new Error(`alertsKeyPolicy: ${JSON.stringify(accountId)} is not an account id`);
    const root = `arn:${partition}:iam::${accountId}:root`;
    return policyDocument([
        { Sid: "AccountAdministersKey", Effect: "Allow", Principal: { AWS: root }, Action: [...KEY_ADMIN_ACTIONS], Resource: "*" },
        { Sid: "AccountDelegatesUseToIam", Effect: "Allow", Principal: { AWS: root }, Action: [...KEY_USE_ACTIONS], Resource: "*" },
        {
            Sid: "CloudWatchAlarmsPublishEncrypted",
            Effect: "Allow",
            Principal: { Service: "cloudwatch.amazonaws.com" },
            Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
            Resource: "*",
            // Confused deputy: only CloudWatch acting for this account's alarms, not another account's.
            Condition: { StringEquals: { "aws:SourceAccount": accountId } },
        },
    ]);
}

/**
 * The topic's access policy (it replaces SNS's default one): CloudWatch alarms of this account may publish,
 * and nothing reaches the topic except over TLS. The account's own principals publish through their IAM
 * policies (the job-events handler's role names this topic).
 */
export function alertsTopicPolicy(topicArn: string): PolicyDocument {
    return policyDocument([cloudWatchAlarmsPublishStatement(topicArn), denyInsecureTopicTransport(topicArn)]);
}

/** CloudWatch alarms of the topic's account (and only those) may publish to it. */
export function cloudWatchAlarmsPublishStatement(topicArn: string): PolicyStatement {
    const [, partition, , region, account] = topicArn.split(":");
    if (!/^\d{12}$/.test(account ?? "")) throw new Error(`alertsTopicPolicy: ${JSON.stringify(topicArn)} is not a topic ARN`);
    return {
        Sid: "CloudWatchAlarmsPublish",
        Effect: "Allow",
        Principal: { Service: "cloudwatch.amazonaws.com" },
        Action: "sns:Publish",
        Resource: topicArn,
        Condition: { ArnLike: { "aws:SourceArn": `arn:${partition}:cloudwatch:${region}:${account}:alarm:*` } },
    };
}

// ---------------------------------------------------------------------------------------------------------
// Dashboards (pure)
// ---------------------------------------------------------------------------------------------------------

export interface DashboardInputs {
    readonly stage: string;
    readonly region: string;
    readonly metricNamespace: string;
    readonly glueJobs: readonly { label: string; name: string }[];
    readonly functions: readonly { label: string; name: string }[];
    readonly queues: readonly { label: string; name: string }[];
    readonly tables: readonly { label: string; name: string }[];
    readonly stateMachines: readonly { label: string; arn: string }[];
    readonly alarmArns: readonly string[];
    /** Log group of the job-events handler (its "job run did not succeed" lines), when it exists. */
    readonly eventsLogGroup?: string;
    readonly thresholds: AlarmThresholds;
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

/** Lays widgets out left to right on CloudWatch's 24-column grid. */
function layout(items: Array<Omit<Widget, "x" | "y">>): Widget[] {
    const out: Widget[] = [];
    let x = 0;
    let y = 0;
    let rowHeight = 0;
    for (const item of items) {
        if (x + item.width > 24) {
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

/** Statuses shown as "in flight" and as "waiting for replay" (the handler publishes FilesByStatus for these). */
export const IN_FLIGHT_STATUSES = ["CLAIMED", "STARTED", "RUNNING"] as const;
export const REPLAY_STATUSES = ["START_FAILED", "FAILED"] as const;

/** Dashboard body of the operational view: alarms, runs in flight, queue depths, recent failures. */
export function operationsDashboard(d: DashboardInputs): { widgets: Widget[] } {
    const ns = d.metricNamespace;
    // The handler publishes a count only when it is not zero (cost); FILL turns the gaps back into zeros.
    const statusRows = (statuses: readonly string[], prefix: string): Row[] =>
        statuses.flatMap((s, i) => [
            [ns, PIPELINE_METRICS.filesByStatus, "Status", s, { stat: "Maximum", id: `${prefix}${i}`, visible: false }],
            [{ expression: `FILL(${prefix}${i}, 0)`, id: `${prefix}_filled${i}`, label: s }],
        ]);
    const items: Array<Omit<Widget, "x" | "y">> = [
        text(
            `# Glue pipeline (${d.stage}): operations\nAlarm states, files in flight and waiting for replay, dead-letter queues, throttling, and the latest failed runs. ` +
                `To re-run failed files once: \`npm run replay -- --stack <stack>\`.`,
        ),
        { type: "alarm", width: 24, height: 4, properties: { title: "Alarms", alarms: [...d.alarmArns], sortBy: "stateUpdatedTimestamp" } },
    ];
    if (d.glueJobs.length > 0) {
        items.push(
            metricWidget("Files in flight (claimed, started, running in Glue)", d.region, statusRows(IN_FLIGHT_STATUSES, "live"), { period: 300, stacked: true }),
            metricWidget("Files waiting for replay (START_FAILED, FAILED)", d.region, statusRows(REPLAY_STATUSES, "replay"), { period: 300, stacked: true }),
        );
    }
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

export const dashboardNames = (stage: string) => ({ overview: `glue-pipeline-${stage}-overview`, operations: `glue-pipeline-${stage}-operations` });

// ---------------------------------------------------------------------------------------------------------
// The component
// ---------------------------------------------------------------------------------------------------------

export interface PipelineMonitoringArgs {
    /** Stage name (`dev`, `prod`): part of the topic, key alias, dashboard and handler names. */
    readonly stage: string;
    /** Addresses subscribed to the alerts topic (each must confirm the subscription email). @default none */
    readonly alertEmails?: readonly string[];
    /** Glue jobs: failure-rate and duration alarms, and the job-events handler watches their runs. @default none */
    readonly glueJobs?: readonly MonitoredGlueJob[];
    /** Lambda functions: error-rate and throttle alarms. @default none */
    readonly functions?: readonly MonitoredFunction[];
    /** Dead-letter queues: depth alarms. @default none */
    readonly deadLetterQueues?: readonly MonitoredQueue[];
    /** DynamoDB tables: throttled-request alarms. @default none */
    readonly tables?: readonly MonitoredTable[];
    /** Step Functions state machines: failed-execution alarms. @default none */
    readonly stateMachines?: readonly MonitoredStateMachine[];
    /** The processing-metadata table the job-events handler updates. Required with `glueJobs`. */
    readonly metadataTable?: { readonly name: pulumi.Input<string>; readonly arn: pulumi.Input<string> };
    /** Key for the handler's environment and log group (the stack's key). @default AWS-managed encryption */
    readonly kmsKeyArn?: pulumi.Input<string>;
    /**
     * Key that encrypts the alerts topic; its policy must let cloudwatch.amazonaws.com use it
     * ({@link alertsKeyPolicy}). @default a key created here with that policy
     */
    readonly alertsKmsKeyArn?: pulumi.Input<string>;
    /** @default DEFAULT_THRESHOLDS (seed 000's values) */
    readonly thresholds?: Partial<AlarmThresholds>;
    /** @default "GluePipeline" */
    readonly metricNamespace?: string;
    /** Passed to the handler's notifications. @default `npm run replay -- --stack <this stack>` */
    readonly replayCommand?: string;
    /** Release id stamped on the job-events handler (`RELEASE_ID`). @default none */
    readonly releaseId?: pulumi.Input<string>;
    /** @default "rate(5 minutes)" */
    readonly statusCountSchedule?: string | false;
    /** Handler log retention. @default 14 */
    readonly logRetentionDays?: number;
    /** The job-events handler's reserved concurrency, opt-in as for the other functions. @default none */
    readonly eventHandlerReservedConcurrency?: number;
    readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export class PipelineMonitoring extends pulumi.ComponentResource {
    public readonly alertsKey?: aws.kms.Key;
    public readonly alertsKeyAlias?: aws.kms.Alias;
    /** The alerts topic with its policy and subscriptions. */
    public readonly alerts: EncryptedTopic;
    public readonly alertsTopic: aws.sns.Topic;
    public readonly alertsTopicPolicy: aws.sns.TopicPolicy;
    public readonly subscriptions: aws.sns.TopicSubscription[];
    /** Undefined when no Glue job is monitored. */
    public readonly eventHandler?: GlueJobEventHandler;
    /** Alarms by spec key. */
    public readonly alarms: Record<string, aws.cloudwatch.MetricAlarm>;
    public readonly alarmSpecs: readonly AlarmSpec[];
    public readonly overviewDashboard: aws.cloudwatch.Dashboard;
    public readonly operationsDashboard: aws.cloudwatch.Dashboard;

    public readonly alertsTopicArn: pulumi.Output<string>;
    public readonly alertsKmsKeyArn: pulumi.Output<string>;
    public readonly dashboardNames: { readonly overview: string; readonly operations: string };

    constructor(name: string, args: PipelineMonitoringArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("glue-pipeline:monitoring:PipelineMonitoring", name, {}, opts);

        if (!/^[a-z][a-z0-9-]{0,30}$/.test(args.stage ?? "")) throw new Error(`PipelineMonitoring: stage ${JSON.stringify(args.stage)} must be lowercase letters, digits and '-'`);
        const stage = args.stage;
        const thresholds: AlarmThresholds = { ...DEFAULT_THRESHOLDS, ...args.thresholds };
        const glueJobs = args.glueJobs ?? [];
        const emails = args.alertEmails ?? [];
        validateAlertEmails(emails);
        if (glueJobs.length > 0 && args.metadataTable === undefined) {
            throw new Error("PipelineMonitoring: glueJobs needs metadataTable (the job-events handler records failed runs on it)");
        }
        const namespace = args.metricNamespace ?? DEFAULT_METRIC_NAMESPACE;
        validateMonitoringInputs({
            glueJobs,
            functions: args.functions ?? [],
            queues: args.deadLetterQueues ?? [],
            tables: args.tables ?? [],
            stateMachines: args.stateMachines ?? [],
            thresholds,
        });
        const tags = args.tags;

        // --- where alerts go ----------------------------------------------------------------------------
        if (args.alertsKmsKeyArn !== undefined) {
            this.alertsKmsKeyArn = pulumi.output(args.alertsKmsKeyArn);
        } else {
            const identity = aws.getCallerIdentityOutput({}, { parent: this });
            const partition = aws.getPartitionOutput({}, { parent: this }).partition;
            this.alertsKey = new aws.kms.Key(
                `${name}-alerts-key`,
                {
                    description: `Encrypts the glue pipeline alerts topic (${stage}); CloudWatch alarms may use it to publish`,
                    enableKeyRotation: true,
                    deletionWindowInDays: 30,
                    policy: pulumi.all([identity.accountId, partition]).apply(([account, p]) => JSON.stringify(alertsKeyPolicy(account, p))),
                    tags,
                },
                { parent: this },
            );
            this.alertsKeyAlias = new aws.kms.Alias(
                `${name}-alerts-key-alias`,
                { name: `alias/glue-pipeline-alerts-${stage}`, targetKeyId: this.alertsKey.keyId },
                { parent: this },
            );
            this.alertsKmsKeyArn = this.alertsKey.arn;
        }

        this.alerts = new EncryptedTopic(
            `${name}-alerts`,
            {
                topicName: alertsTopicName(stage),
                displayName: `Glue pipeline ${stage} alerts`,
                kmsKeyArn: this.alertsKmsKeyArn,
                // The topic's policy replaces SNS's default one: CloudWatch alarms of this account may publish.
                policyStatements: (arn) => [cloudWatchAlarmsPublishStatement(arn)],
                subscriptions: emails.map((email) => ({ email, logicalName: `${name}-email-${subscriptionId(email)}` })),
                tags,
                // These resources sat directly under this component before EncryptedTopic existed.
                formerParent: this,
            },
            { parent: this },
        );
        this.alertsTopic = this.alerts.topic;
        this.alertsTopicArn = this.alertsTopic.arn;
        this.alertsTopicPolicy = this.alerts.topicPolicy;
        this.subscriptions = this.alerts.subscriptions;

        // --- the job-events handler, itself monitored --------------------------------------------------------
        const functions = [...(args.functions ?? [])];
        const queues = [...(args.deadLetterQueues ?? [])];
        if (glueJobs.length > 0) {
            const handlerName = `GlueJobEvents-${stage}`;
            this.eventHandler = new GlueJobEventHandler(
                `${name}-glue-events`,
                {
                    functionName: handlerName,
                    stage,
                    jobs: glueJobs.map((j) => ({ name: j.name, arn: j.arn, logGroups: j.logGroups })),
                    metadataTable: args.metadataTable!,
                    alertsTopicArn: this.alertsTopic.arn,
                    alertsKmsKeyArn: this.alertsKmsKeyArn,
                    kmsKeyArn: args.kmsKeyArn,
                    metricNamespace: namespace,
                    replayCommand: args.replayCommand,
                    releaseId: args.releaseId,
                    statusCountSchedule: args.statusCountSchedule,
                    logRetentionDays: args.logRetentionDays,
                    reservedConcurrency: args.eventHandlerReservedConcurrency,
                    tags,
                },
                // The topic policy first: a notification published before it exists would still work, but an
                // alarm's first action would not.
                { parent: this, dependsOn: [this.alertsTopicPolicy] },
            );
            functions.push({ label: handlerName, name: this.eventHandler.function.name });
            queues.push({ label: `${handlerName}-dlq`, name: this.eventHandler.deadLetterQueue.name });
        }

        // --- alarms ------------------------------------------------------------------------------------------
        const alarmInputs: AlarmInputs = {
            stage,
            metricNamespace: namespace,
            glueJobs,
            functions,
            queues,
            tables: args.tables ?? [],
            stateMachines: args.stateMachines ?? [],
            thresholds,
        };
        validateMonitoringInputs(alarmInputs);
        this.alarmSpecs = alarmSpecs(alarmInputs);
        this.alarms = {};
        for (const spec of this.alarmSpecs) {
            this.alarms[spec.key] = new aws.cloudwatch.MetricAlarm(
                `${name}-${spec.key}`,
                { ...metricAlarmArgs(spec), alarmActions: [this.alertsTopic.arn], okActions: [this.alertsTopic.arn], tags },
                // Alarm actions to an encrypted topic need the topic policy and the key policy in place.
                { parent: this, dependsOn: [this.alertsTopicPolicy] },
            );
        }

        // --- dashboards --------------------------------------------------------------------------------------
        this.dashboardNames = dashboardNames(stage);
        const named = <T extends { label: string }>(items: readonly T[], pick: (t: T) => pulumi.Input<string>) =>
            pulumi.all(items.map((i) => pulumi.output(pick(i)).apply((value) => ({ label: i.label, name: value }))));
        const dashboardInputs = pulumi
            .all([
                aws.getRegionOutput({}, { parent: this }).region,
                named(glueJobs, (j) => j.name),
                named(functions, (f) => f.name),
                named(queues, (q) => q.name),
                named(args.tables ?? [], (t) => t.name),
                named(args.stateMachines ?? [], (m) => m.arn),
                pulumi.all(Object.values(this.alarms).map((a) => a.arn)),
                this.eventHandler ? this.eventHandler.logGroup.name : pulumi.output(undefined),
            ])
            .apply(
                ([region, jobs, fns, qs, tables, machines, alarmArns, eventsLogGroup]): DashboardInputs => ({
                    stage,
                    region,
                    metricNamespace: namespace,
                    glueJobs: jobs,
                    functions: fns,
                    queues: qs,
                    tables,
                    stateMachines: machines.map((m) => ({ label: m.label, arn: m.name })),
                    alarmArns,
                    eventsLogGroup,
                    thresholds,
                }),
            );
        this.overviewDashboard = new aws.cloudwatch.Dashboard(
            `${name}-overview`,
            { dashboardName: this.dashboardNames.overview, dashboardBody: dashboardInputs.apply((d) => JSON.stringify(overviewDashboard(d))) },
            { parent: this },
        );
        this.operationsDashboard = new aws.cloudwatch.Dashboard(
            `${name}-operations`,
            { dashboardName: this.dashboardNames.operations, dashboardBody: dashboardInputs.apply((d) => JSON.stringify(operationsDashboard(d))) },
            { parent: this },
        );

        this.registerOutputs({
            alertsTopicArn: this.alertsTopicArn,
            alertsKmsKeyArn: this.alertsKmsKeyArn,
            dashboardNames: this.dashboardNames,
            alarmNames: this.alarmSpecs.map((s) => s.name),
            eventHandlerFunction: this.eventHandler?.function.name,
            eventHandlerDeadLetterQueue: this.eventHandler?.deadLetterQueue.url,
        });
    }
}
