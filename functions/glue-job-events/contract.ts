/**
 * The job-events handler's contract with the components that deploy and watch it (components/monitoring/):
 * the environment variables it reads, the metric namespace both sides default to, and the names of the
 * metrics it publishes, which the alarms and dashboards read. The component sets the variables through these names and ./config.ts reads them through the same
 * names, so the two sides cannot drift apart.
 *
 * Bundled into the Lambda: no Pulumi or AWS SDK imports here.
 */

/** Environment variable names, by the configuration field they fill. */
export const GLUE_JOB_EVENTS_ENV = {
    /** The processing-metadata table (required). */
    metadataTable: "METADATA_TABLE",
    /** The alerts topic failure notifications go to (required). */
    alertsTopicArn: "ALERTS_TOPIC_ARN",
    /** Namespace of the run-outcome metrics; unset: {@link DEFAULT_METRIC_NAMESPACE}. */
    metricNamespace: "METRIC_NAMESPACE",
    /** Stage name shown in notification subjects (required). */
    stage: "STAGE",
    /** Comma-separated names of the watched jobs (required). */
    glueJobNames: "GLUE_JOB_NAMES",
    /** JSON: job name → its output and error log groups. */
    jobLogGroups: "JOB_LOG_GROUPS",
    /** The command notifications tell the reader to run to replay failed files. */
    replayCommand: "REPLAY_COMMAND",
    baselineRuns: "DURATION_BASELINE_RUNS",
    baselineMinRuns: "DURATION_BASELINE_MIN_RUNS",
    logLevel: "LOG_LEVEL",
    /** Stamped by every stack so a deployed function says which release it runs; read by nothing at run time. */
    releaseId: "RELEASE_ID",
} as const;

export type GlueJobEventsEnvName = (typeof GLUE_JOB_EVENTS_ENV)[keyof typeof GLUE_JOB_EVENTS_ENV];

/** Namespace of the metrics the handler publishes and the alarms read, unless configured otherwise. */
export const DEFAULT_METRIC_NAMESPACE = "GluePipeline";

/** The metrics the handler publishes (./metrics.ts computes them); the alarms and dashboards read these names. */
export const METRIC_NAMES = {
    /** 1 for a run that did not succeed (FAILED, TIMEOUT, STOPPED, ERROR), 0 for a success. Average = failure rate. */
    jobRunFailed: "JobRunFailed",
    /** The run's execution time in seconds. */
    jobRunDurationSeconds: "JobRunDurationSeconds",
    /** A successful run's execution time ÷ the mean of the job's previous successful runs. */
    jobRunDurationRatio: "JobRunDurationRatio",
    /** DPU-hours the run consumed (before Glue's 1-minute billing minimum). */
    jobRunDpuHours: "JobRunDpuHours",
    /** Rows a successful run wrote (record_count of its metadata record). */
    recordsWritten: "RecordsWritten",
    /** Rows a successful run quarantined (rows_quarantined of its metadata record). */
    rowsQuarantined: "RowsQuarantined",
    /** Files per processing status (dimension Status), for CLAIMED/WAITING/STARTED/RUNNING/START_FAILED/FAILED (WAITING: the backlog of a burst). */
    filesByStatus: "FilesByStatus",
} as const;

/**
 * The statuses the handler publishes FilesByStatus for, as the dashboards show them: in flight (a burst's
 * WAITING backlog included) and waiting for replay. The same sets as functions/shared/processingRecords.ts's
 * IN_FLIGHT_STATUSES and REPLAYABLE_STATUSES (a test holds them equal: that module imports the SDK, so it
 * cannot be the contract).
 */
export const FILES_BY_STATUS = {
    inFlight: ["CLAIMED", "WAITING", "STARTED", "RUNNING"],
    replay: ["START_FAILED", "FAILED"],
} as const;

export const JOB_NAME_DIMENSION = "JobName";
export const STATUS_DIMENSION = "Status";
