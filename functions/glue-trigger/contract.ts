/**
 * The glue trigger's contract with the stacks that deploy it: the environment variables it reads, and the
 * defaults the file-triggered flows rely on when they leave a variable unset. The flows set the variables
 * through these names (stacks/flows/fileTriggeredFlow.ts) and ./config.ts reads them through the same
 * names, so the two sides cannot drift apart.
 *
 * Bundled into the Lambda: no Pulumi or AWS SDK imports here.
 */
import { QUEUE_FEED_ENV } from "../shared/queueFeed";

export { MAX_SQS_DELAY_SECONDS, QUEUE_FEED_DEFAULTS, WAIT_ATTEMPT_ATTRIBUTE } from "../shared/queueFeed";

/** Environment variable names, by the configuration field they fill. */
export const GLUE_TRIGGER_ENV = {
    /** The Glue job to start (required). */
    glueJobName: "GLUE_JOB_NAME",
    /** The processing-metadata table (required). */
    metadataTable: "METADATA_TABLE",
    /** The bucket the job writes to, a name not a URI (required). */
    outputBucket: "OUTPUT_BUCKET",
    fileSuffix: "FILE_SUFFIX",
    /** Only keys under this prefix are processed; unset: the whole bucket. */
    keyPrefix: "KEY_PREFIX",
    /** Where in the output bucket the job writes; unset: {@link GLUE_TRIGGER_DEFAULTS}.outputPrefix. */
    outputPrefix: "OUTPUT_PREFIX",
    /** `true`: keys must be `<keyPrefix>YYYY/MM/DD/<file>`. */
    datedKeys: "DATED_KEYS",
    claimLeaseSeconds: "CLAIM_LEASE_SECONDS",
    startAttempts: "START_ATTEMPTS",
    logLevel: "LOG_LEVEL",
    /** Stamped by every stack so a deployed function says which release it runs; read by nothing at run time. */
    releaseId: "RELEASE_ID",
    /** The queue feed (../shared/queueFeed): the queue to re-send capacity-refused messages to, their delay, the cap. */
    ...QUEUE_FEED_ENV,
    /**
     * The fast path (the CSV flow only; ./fastPath): the CSV converter's SQS queue. Set: a claimed file at or
     * below {@link GLUE_TRIGGER_ENV.fastPathMaxBytes} is sent there as a ConversionRequest
     * (functions/csv-converter/contract.ts) instead of starting Glue; the function needs sqs:SendMessage on it.
     * Unset: every file goes to Glue, and the other two FAST_PATH_* variables must be unset too.
     */
    fastPathQueueUrl: "FAST_PATH_QUEUE_URL",
    /** The largest object (bytes) routed to the converter; unset: the converter contract's default (256 MiB). */
    fastPathMaxBytes: "FAST_PATH_MAX_BYTES",
    /** The converter function's name, recorded as the fast run's `job_name` (required with the queue URL). */
    fastPathFunctionName: "FAST_PATH_FUNCTION_NAME",
} as const;

export type GlueTriggerEnvName = (typeof GLUE_TRIGGER_ENV)[keyof typeof GLUE_TRIGGER_ENV];

/** The variables without a default: a deployment that leaves one unset fails at cold start. */
export const GLUE_TRIGGER_REQUIRED_ENV: readonly GlueTriggerEnvName[] = [GLUE_TRIGGER_ENV.glueJobName, GLUE_TRIGGER_ENV.metadataTable, GLUE_TRIGGER_ENV.outputBucket];

/** What the function assumes when a layout variable is unset. */
export const GLUE_TRIGGER_DEFAULTS = {
    fileSuffix: ".csv",
    /** The CSV flow's output prefix: it sets no OUTPUT_PREFIX (trigger.ts applies this default). */
    outputPrefix: "processed/",
} as const;
