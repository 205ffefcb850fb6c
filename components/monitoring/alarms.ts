/**
 * PipelineMonitoring's alarms as plain data (pure): which alarm exists for which monitored item, on which
 * metric or metric math, with which threshold and missing-data treatment, and the MetricAlarm arguments
 * each becomes. The component creates them; the tests assert on them.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
    AlarmThresholds,
    DEFAULT_THROTTLE_MINUTES,
    Labelled,
    DEFAULT_QUEUE_MAX_AGE_SECONDS,
    FAST_PATH_METRIC_DIMENSION,
    FAST_PATH_METRICS,
    MAX_LAMBDA_TIMEOUT_SECONDS,
    MonitoredFastPath,
    MonitoredFeedQueue,
    MonitoredFunction,
    MonitoredGlueJob,
    MonitoredQueue,
    MonitoredStateMachine,
    MonitoredTable,
    PIPELINE_METRICS,
} from "./monitoredResources";

export type AlarmKind =
    | "glue-failure-rate"
    | "glue-duration"
    | "lambda-error-rate"
    | "lambda-throttles"
    | "dlq-depth"
    | "queue-age"
    | "dynamodb-throttles"
    | "sfn-failed"
    | "fast-path-failed"
    | "fast-path-fallbacks"
    | "fast-path-duration";
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
    /** Queues feeding triggered functions: an age alarm each. @default none */
    readonly feedQueues?: readonly MonitoredFeedQueue[];
    readonly tables: readonly MonitoredTable[];
    readonly stateMachines: readonly MonitoredStateMachine[];
    /** Fast paths beside Glue jobs: failed files, fallbacks, duration against the timeout. @default none */
    readonly fastPaths?: readonly MonitoredFastPath[];
    readonly thresholds: AlarmThresholds;
}

const LABEL = /^[A-Za-z0-9._-]{1,120}$/;

/** Rejects what CloudWatch or the component cannot take: bad labels, duplicates, periods not whole minutes. */
export function validateMonitoringInputs(inputs: Omit<AlarmInputs, "stage" | "metricNamespace">): void {
    const kinds: Array<[string, readonly Labelled[]]> = [
        ["glueJobs", inputs.glueJobs],
        ["functions", inputs.functions],
        ["deadLetterQueues", inputs.queues],
        ["feedQueues", inputs.feedQueues ?? []],
        ["tables", inputs.tables],
        ["stateMachines", inputs.stateMachines],
        ["fastPaths", inputs.fastPaths ?? []],
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
    for (const queue of inputs.feedQueues ?? []) {
        const age = queue.maxAgeSeconds ?? DEFAULT_QUEUE_MAX_AGE_SECONDS;
        // Below a minute the alarm would fire on a message merely waiting for the next poll; SQS keeps 14 days at most.
        if (!Number.isInteger(age) || age < 60 || age > 1209600) {
            throw new Error(`PipelineMonitoring: feedQueues: ${queue.label}: maxAgeSeconds ${age} must be whole seconds from 60 to 1209600`);
        }
    }
    for (const table of inputs.tables) {
        for (const gsi of table.globalSecondaryIndexes ?? []) {
            if (!/^[A-Za-z0-9_.-]{3,255}$/.test(gsi)) throw new Error(`PipelineMonitoring: tables: ${table.label}: ${JSON.stringify(gsi)} is not an index name`);
        }
    }
    const jobLabels = new Set(inputs.glueJobs.map((j) => j.label));
    for (const fp of inputs.fastPaths ?? []) {
        if (!Number.isInteger(fp.timeoutSeconds) || fp.timeoutSeconds < 1 || fp.timeoutSeconds > MAX_LAMBDA_TIMEOUT_SECONDS) {
            throw new Error(`PipelineMonitoring: fastPaths: ${fp.label}: timeoutSeconds ${fp.timeoutSeconds} must be whole seconds from 1 to ${MAX_LAMBDA_TIMEOUT_SECONDS} (a Lambda timeout)`);
        }
        // A fast path without its Glue job watched would leave its fallbacks' runs unalarmed.
        if (!jobLabels.has(fp.fallbackJobLabel)) {
            throw new Error(`PipelineMonitoring: fastPaths: ${fp.label}: fallbackJobLabel ${JSON.stringify(fp.fallbackJobLabel)} names no job in glueJobs (${[...jobLabels].join(", ") || "none"})`);
        }
    }
    const t = inputs.thresholds;
    for (const [field, minutes] of Object.entries(t).filter(([k]) => k.endsWith("Minutes"))) {
        if (!Number.isInteger(minutes) || minutes < 1 || minutes > 1440) throw new Error(`PipelineMonitoring: thresholds.${field} must be whole minutes from 1 to 1440, got ${minutes}`);
    }
    if (!(t.glueFailureRatePercent > 0 && t.glueFailureRatePercent < 100)) throw new Error("PipelineMonitoring: thresholds.glueFailureRatePercent must be between 0 and 100");
    if (!(t.lambdaErrorRatePercent > 0 && t.lambdaErrorRatePercent < 100)) throw new Error("PipelineMonitoring: thresholds.lambdaErrorRatePercent must be between 0 and 100");
    if (!(t.glueDurationRatio > 1)) throw new Error("PipelineMonitoring: thresholds.glueDurationRatio must be greater than 1");
    if (!(Number.isInteger(t.fastPathFallbacks) && t.fastPathFallbacks >= 0)) throw new Error("PipelineMonitoring: thresholds.fastPathFallbacks must be a whole number of files, 0 or more");
    if (!(t.fastPathDurationPercentOfTimeout > 0 && t.fastPathDurationPercentOfTimeout < 100)) {
        throw new Error("PipelineMonitoring: thresholds.fastPathDurationPercentOfTimeout must be between 0 and 100");
    }
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
 * - Feed-queue age: `notBreaching`, for the same reason: a queue holding an old message reports its age.
 * - DynamoDB throttles and Step Functions failures: `notBreaching`. Those metrics exist only when the event
 *   happens.
 * - Fast path failed files, fallbacks and duration: `notBreaching`. The converter publishes a metric when a
 *   file fails or falls back, and Lambda a duration only when invoked: no data, nothing went wrong.
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

    for (const queue of inputs.feedQueues ?? []) {
        const age = queue.maxAgeSeconds ?? DEFAULT_QUEUE_MAX_AGE_SECONDS;
        specs.push({
            ...base,
            key: `queue-${queue.label}-age`,
            kind: "queue-age",
            subject: queue.label,
            name: `${queue.label}-backlog-age`,
            description:
                `The oldest message in ${queue.label} is older than ${age} s: files wait and are not being taken. A burst waits here by design ` +
                "(and a file waiting for Glue capacity is re-sent as a new message, so waiting does not age the queue); an ageing backlog means " +
                "the function fails before it answers, its event source mapping is disabled, or its concurrency is exhausted. Check the function's " +
                "errors and the mapping's state; messages that fail their receives move to the queue's dead-letter queue.",
            threshold: age,
            // Two periods: one old message caught between polls is not a backlog.
            evaluationPeriods: 2,
            datapointsToAlarm: 2,
            metric: {
                namespace: "AWS/SQS",
                metricName: "ApproximateAgeOfOldestMessage",
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
    for (const fp of inputs.fastPaths ?? []) specs.push(...fastPathAlarmSpecs(fp, inputs.metricNamespace, t));
    return specs;
}

/**
 * The alarms particular to a fast path (its function's errors, throttles, queue and DLQ are alarmed as any
 * function's and queue's): a file it recorded FAILED, fallbacks to Glue beyond a few, and a p95 duration
 * close to the timeout.
 */
export function fastPathAlarmSpecs(fp: MonitoredFastPath, metricNamespace: string, t: AlarmThresholds): AlarmSpec[] {
    const base = { comparisonOperator: "GreaterThanThreshold" as const, treatMissingData: "notBreaching" as const, evaluationPeriods: 1, datapointsToAlarm: 1 };
    const dimensions = { [FAST_PATH_METRIC_DIMENSION]: fp.functionName };
    const timeoutMs = fp.timeoutSeconds * 1000;
    const durationThresholdMs = Math.round((timeoutMs * t.fastPathDurationPercentOfTimeout) / 100);
    // Key, kind, subject and name of one of the three: the name says what fires, after the path's label.
    const id = (kind: "failed" | "fallbacks" | "duration", name: string) =>
        ({ ...base, key: `fast-path-${fp.label}-${kind}`, kind: `fast-path-${kind}` as const, subject: fp.label, name: `${fp.label}-${name}` });
    const sum = (metricName: string, periodMinutes: number): AlarmMetric => ({ namespace: metricNamespace, metricName, dimensions, stat: "Sum", period: minutes(periodMinutes) });
    return [
        {
            ...id("failed", "files-failed"),
            description:
                `The fast path ${fp.label} recorded a file FAILED within ${t.fastPathPeriodMinutes} min: the file itself is bad (e.g. the wrong ` +
                `delimiter or encoding), not too big — resource limits fall back to ${fp.fallbackJobLabel} instead. This is the fast path's ` +
                "data-failure alert (a Glue run's failure alerts through the job-events handler). The record holds the error; fix the file " +
                "or the flow's settings, then replay (npm run replay).",
            threshold: 0,
            metric: sum(FAST_PATH_METRICS.failed, t.fastPathPeriodMinutes),
        },
        {
            ...id("fallbacks", "fallbacks-to-glue"),
            description:
                `More than ${t.fastPathFallbacks} files fell back from the fast path ${fp.label} to ${fp.fallbackJobLabel} within ` +
                `${t.fastPathFallbackWindowMinutes} min (out of memory, /tmp or time, or a run killed and redelivered). Each still ran on Glue; ` +
                "one is a file too big for its size class, many mean the fast path's size limit does not fit its memory, timeout or ephemeral " +
                "storage: lower fastPath.maxBytes or raise the converter's resources. The records' engine_reason says why each fell back.",
            threshold: t.fastPathFallbacks,
            metric: sum(FAST_PATH_METRICS.fallbacks, t.fastPathFallbackWindowMinutes),
        },
        {
            ...id("duration", "duration-near-timeout"),
            description:
                `The fast path ${fp.label}'s p95 duration over ${t.fastPathPeriodMinutes} min exceeded ${t.fastPathDurationPercentOfTimeout} % of its ` +
                `${fp.timeoutSeconds} s timeout (${durationThresholdMs} ms): files at the size limit are close to being killed, and a killed ` +
                `run is retried on ${fp.fallbackJobLabel}. Lower fastPath.maxBytes, or raise the converter's memory (CPU scales with it) or timeout.`,
            threshold: durationThresholdMs,
            metric: { namespace: "AWS/Lambda", metricName: "Duration", dimensions: { FunctionName: fp.functionName }, stat: "p95", period: minutes(t.fastPathPeriodMinutes) },
        },
    ];
}

/** A percentile (`p95`, `p99.9`) goes in MetricAlarm's extendedStatistic, the others in statistic. */
const isPercentile = (stat: string) => /^p\d+(\.\d+)?$/.test(stat);

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
            ...(isPercentile(spec.metric.stat) ? { extendedStatistic: spec.metric.stat } : { statistic: spec.metric.stat }),
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
