/**
 * What PipelineMonitoring watches: the items a flow hands it (Glue jobs, functions, dead-letter queues,
 * tables, state machines), the metrics the job-events handler publishes, and the alarm thresholds.
 */
import * as pulumi from "@pulumi/pulumi";
import { METRIC_NAMES } from "../../functions/glue-job-events/contract";

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
 */
export interface MonitoredFastPath extends Labelled {
    /** The converter function's name (the dimension of its metrics). */
    readonly functionName: pulumi.Input<string>;
    /** The function's timeout: the duration alarm fires well before a run is killed. */
    readonly timeoutSeconds: number;
    /** The Glue job it falls back to (its label in the glueJobs list). */
    readonly fallbackJobLabel: string;
}

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
