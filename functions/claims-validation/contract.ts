/**
 * The claims validation function's contract with the component that deploys it
 * (components/claims/claimsPipeline.ts): the environment variables it reads and the claims bucket's layout
 * the two share (the function writes reports and quarantined files where the component grants it, and is
 * notified for the raw prefix only). ./config.ts reads the variables through these names; the component sets
 * them through the same names.
 *
 * Bundled into the Lambda: no Pulumi or AWS SDK imports here.
 */
import { QUEUE_FEED_ENV } from "../shared/queueFeed";

export { MAX_SQS_DELAY_SECONDS, QUEUE_FEED_DEFAULTS, WAIT_ATTEMPT_ATTRIBUTE } from "../shared/queueFeed";

/** Environment variable names, by the configuration field they fill. */
export const CLAIMS_VALIDATION_ENV = {
    glueJobName: "GLUE_JOB_NAME",
    metadataTable: "METADATA_TABLE",
    dataBucket: "DATA_BUCKET",
    rawPrefix: "RAW_PREFIX",
    fileSuffix: "FILE_SUFFIX",
    processingTopicArn: "PROCESSING_TOPIC_ARN",
    errorTopicArn: "ERROR_TOPIC_ARN",
    minQualityScore: "MIN_QUALITY_SCORE",
    maxIssueSamples: "MAX_ISSUE_SAMPLES",
    maxRecordLines: "MAX_RECORD_LINES",
    claimLeaseSeconds: "CLAIM_LEASE_SECONDS",
    startAttempts: "START_ATTEMPTS",
    multipartCopyThresholdBytes: "MULTIPART_COPY_THRESHOLD_BYTES",
    logLevel: "LOG_LEVEL",
    /** Stamped by the stack so a deployed function says which release it runs; read by nothing at run time. */
    releaseId: "RELEASE_ID",
    /** The queue feed (../shared/queueFeed): the queue to re-send capacity-refused messages to, their delay, the cap. */
    ...QUEUE_FEED_ENV,
} as const;

export type ClaimsValidationEnvName = (typeof CLAIMS_VALIDATION_ENV)[keyof typeof CLAIMS_VALIDATION_ENV];

/** The variables without a default: a deployment that leaves one unset fails at cold start. */
export const CLAIMS_VALIDATION_REQUIRED_ENV: readonly ClaimsValidationEnvName[] = [
    CLAIMS_VALIDATION_ENV.glueJobName,
    CLAIMS_VALIDATION_ENV.metadataTable,
    CLAIMS_VALIDATION_ENV.dataBucket,
    CLAIMS_VALIDATION_ENV.processingTopicArn,
    CLAIMS_VALIDATION_ENV.errorTopicArn,
];

/** Where the claims flow keeps things in its bucket (the claims flow's layout). */
export const CLAIMS_PREFIXES = {
    /** Claims files land here; only these keys are validated. */
    raw: "raw/claims/",
    /** The Glue job's partitioned Parquet (`year=/month=/file_id=`). */
    processed: "processed/claims/",
    /** The Glue job's aggregation table. */
    aggregations: "processed/aggregations/",
    /** One JSON report per validated file version. */
    reports: "validation-reports/",
    /** Whole files that failed validation (`files/`) and single records the job rejected (`records/`). */
    quarantine: "quarantine/",
    /** The Glue job's intermediate files (expire after days). */
    temp: "temp/",
} as const;

/** The claims files the function validates (compared case-insensitively). */
export const CLAIMS_FILE_SUFFIX = ".csv";
