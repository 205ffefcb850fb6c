/**
 * The job-events handler's contract with the component that deploys it (components/monitoring/
 * glueJobEventHandler.ts): the environment variables it reads, and the metric namespace both sides default
 * to. The component sets the variables through these names and ./config.ts reads them through the same
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
