/**
 * What PipelineMonitoring watches: the items a flow hands it (Glue jobs, functions, dead-letter queues,
 * tables, state machines), the metrics the job-events handler publishes, and the alarm thresholds.
 */
import * as pulumi from "@pulumi/pulumi";
import { METRIC_NAMES } from "../../functions/glue-job-events/contract";
import { CSV_CONVERTER_CONTRACT as converterContract } from "../../functions/csv-converter/contract";

/** Every monitored item has a label: short, unique within its kind, used in alarm names and dashboard titles. */
export interface Labelled {
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

/**
 * A queue that feeds a triggered function (S3 → queue → event source mapping): its backlog. A burst waits
 * here by design, so depth alone is not news; a backlog whose oldest message keeps ageing is (the function
 * fails before it can answer, the mapping is disabled, or capacity never frees). A message re-sent to wait
 * for Glue capacity is a new message, so waiting does not age the queue.
 */
export interface MonitoredFeedQueue extends Labelled {
    readonly name: pulumi.Input<string>;
    /** The alarm: the oldest message older than this many seconds. @default 3600 */
    readonly maxAgeSeconds?: number;
}

export const DEFAULT_QUEUE_MAX_AGE_SECONDS = 3600;

/**
 * A fast path beside a Glue job (the CSV converter, functions/csv-converter): small files converted by a
 * Lambda, which falls back to the job for resource reasons. Its function's errors and throttles, its queue and
 * dead-letter queue are watched as any function's and queue's (list them there too); this item adds what is
 * particular to the path: its conversions, its fallbacks to Glue, and a duration close to the timeout.
 *
 * The converter publishes its metrics (functions/csv-converter/contract.ts CSV_CONVERTER_METRICS) with the
 * dimension CSV_CONVERTER_METRIC_DIMENSION = the function's name, in the pipeline's metric namespace.
 */
export interface MonitoredFastPath extends Labelled {
    /** The converter function's name (the dimension of its metrics). */
    readonly functionName: pulumi.Input<string>;
    /** The function's timeout: the duration alarm fires well before a run is killed. */
    readonly timeoutSeconds: number;
    /** The Glue job it falls back to (its label in the glueJobs list). */
    readonly fallbackJobLabel: string;
    /**
     * The converter's own queue (the one the trigger sends its requests to; list it in feedQueues too for its
     * age alarm): the fast-path row of the operations dashboard shows its backlog beside the conversions.
     * @default the backlog is shown only in the feed-queue widget
     */
    readonly queueName?: pulumi.Input<string>;
}

/** Bounds of a Lambda timeout: the duration alarm's threshold is a share of it. */
export const MAX_LAMBDA_TIMEOUT_SECONDS = 900;

export interface MonitoredTable extends Labelled {
    readonly name: pulumi.Input<string>;
    /** GSIs whose throttling counts too (a throttled GSI write throttles the table's writes). @default none */
    readonly globalSecondaryIndexes?: readonly string[];
}

export interface MonitoredStateMachine extends Labelled {
    readonly arn: pulumi.Input<string>;
}

/** The metrics the job-events handler publishes, as its contract names them (alarms and dashboards read these). */
export const PIPELINE_METRICS = METRIC_NAMES;

/** The metrics the fast path's converter publishes and their dimension, as its contract names them. */
export const FAST_PATH_METRICS = converterContract.metrics;
export const FAST_PATH_METRIC_DIMENSION = converterContract.functionDimension;

export interface AlarmThresholds {
    /** The requirements: job failure rate > 10 %. */
    readonly glueFailureRatePercent: number;
    /** The window the failure rate is computed over. */
    readonly glueFailureWindowMinutes: number;
    /** The requirements: duration > 2× average. */
    readonly glueDurationRatio: number;
    readonly glueDurationWindowMinutes: number;
    /** The requirements: Lambda error rate > 5 %. */
    readonly lambdaErrorRatePercent: number;
    readonly lambdaPeriodMinutes: number;
    readonly queuePeriodMinutes: number;
    readonly tablePeriodMinutes: number;
    readonly stateMachinePeriodMinutes: number;
    /** Window of the fast path's failed-file alarm (any file the converter recorded FAILED). */
    readonly fastPathPeriodMinutes: number;
    /**
     * Fallbacks to Glue tolerated within {@link fastPathFallbackWindowMinutes}: the alarm fires above it. One
     * fallback is a file too big for its size class (Glue runs it, nothing is lost); several in an hour mean
     * the routing limit does not fit the converter's memory, timeout or /tmp, and each of those files pays a
     * Lambda attempt and a Glue run.
     */
    readonly fastPathFallbacks: number;
    readonly fastPathFallbackWindowMinutes: number;
    /** The fast path's p95 duration alarm: this share of the converter's timeout. */
    readonly fastPathDurationPercentOfTimeout: number;
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
    fastPathPeriodMinutes: 5,
    fastPathFallbacks: 3,
    fastPathFallbackWindowMinutes: 60,
    fastPathDurationPercentOfTimeout: 80,
};

export const DEFAULT_THROTTLE_MINUTES = 15;
