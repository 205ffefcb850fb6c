/** The trigger's configuration, read from its environment once per cold start. */
import { CSV_CONVERTER_CONTRACT as converterContract } from "../csv-converter/contract";
import { QueueFeedConfig, readQueueFeedConfig, SQS_QUEUE_URL } from "../shared/backpressure";
import { Env, EnvReader, readEnv, S3_BUCKET_NAME } from "../shared/env";
import { LogLevel, parseLogLevel } from "../shared/logger";
import { GLUE_TRIGGER_DEFAULTS, GLUE_TRIGGER_ENV as ENV } from "./contract";

export interface TriggerConfig {
    /** Glue job to start, e.g. FileProcessorV2-dev. */
    readonly glueJobName: string;
    /** The processing-metadata table, e.g. etl-pipeline-metadata-dev. */
    readonly metadataTable: string;
    /** Bucket for the job's Parquet output and quarantined rows (a name, not a URI). */
    readonly outputBucket: string;
    /** Keys that end with this (compared case-insensitively) are processed; stored lowercase. */
    readonly fileSuffix: string;
    /** How long a claim protects a file from other invocations; longer than the function's timeout. */
    readonly claimLeaseSeconds: number;
    /**
     * Only keys under this prefix are processed (e.g. `raw-data/`); the rest of the bucket is ignored.
     * Ends with `/`. Absent: the whole bucket (env KEY_PREFIX).
     */
    readonly keyPrefix?: string;
    /**
     * Where the job's output goes in the output bucket: this prefix, then the key below `keyPrefix` without
     * its suffix. Absent: `processed/` (env OUTPUT_PREFIX).
     */
    readonly outputPrefix?: string;
    /**
     * Keys must be `<keyPrefix>YYYY/MM/DD/<file>` with a real calendar date; others are ignored. Absent:
     * false (env DATED_KEYS=true|false).
     */
    readonly datedKeys?: boolean;
    /** StartJobRun attempts per file, including the first. */
    readonly startAttempts: number;
    readonly logLevel: LogLevel;
    /**
     * How a capacity-refused start waits in the function's queue (QUEUE_URL, REQUEUE_*_DELAY_SECONDS,
     * MAX_WAIT_ATTEMPTS). Absent (e.g. replay's configuration): ../shared/backpressure's defaults.
     */
    readonly queueFeed?: QueueFeedConfig;
    /**
     * The CSV flow's fast path (./fastPath): files at or below `maxBytes` go to the CSV converter's queue.
     * Absent (the Parquet flow, a stack with the fast path off): every file goes to Glue.
     */
    readonly fastPath?: FastPathConfig;
}

/** Where the trigger sends the files it routes to the CSV converter (env FAST_PATH_*). */
export interface FastPathConfig {
    /** The converter's SQS queue (the trigger sends ConversionRequests to it). */
    readonly queueUrl: string;
    /** Objects of at most this many bytes go to the converter; larger ones to Glue. */
    readonly maxBytes: number;
    /** The converter function's name: the fast run's `job_name` on the record. */
    readonly functionName: string;
}

/** Glue job names: 1–255 characters, single line. */
const GLUE_JOB_NAME = /^[^\r\n]{1,255}$/;
/** DynamoDB table names: 3–255 of letters, digits, `_`, `-`, `.`. */
const DYNAMODB_TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

/** Lambda function names: 1–64 letters, digits, `-`, `_`. */
const LAMBDA_FUNCTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** A key prefix: one or more path segments, each followed by `/`, no leading `/`. */
const KEY_PREFIX = /^([^/]+\/)+$/;

function parseBoolean(name: string, raw: string | undefined): boolean | undefined {
    if (raw === undefined) return undefined;
    if (/^true$/i.test(raw)) return true;
    if (/^false$/i.test(raw)) return false;
    throw new Error(`${name} must be true or false, got "${raw}"`);
}

/**
 * Reads and validates the trigger's environment. The layout variables (KEY_PREFIX, OUTPUT_PREFIX,
 * DATED_KEYS) appear in the result only when set, so one handler serves every flow: the CSV trigger sets
 * none of them, the Parquet trigger sets all three.
 * @throws EnvironmentError naming every missing or invalid variable.
 */
export function loadTriggerConfig(env: Env): TriggerConfig {
    return readEnv(env, (r) => ({
        glueJobName: r.string(ENV.glueJobName, { pattern: GLUE_JOB_NAME, describe: "a Glue job name (1-255 characters)" }),
        metadataTable: r.string(ENV.metadataTable, { pattern: DYNAMODB_TABLE_NAME, describe: "a DynamoDB table name" }),
        outputBucket: r.string(ENV.outputBucket, {
            pattern: S3_BUCKET_NAME,
            describe: "an S3 bucket name (not an s3:// URI)",
        }),
        fileSuffix: r
            .string(ENV.fileSuffix, { default: GLUE_TRIGGER_DEFAULTS.fileSuffix, pattern: /^[^/]+$/, describe: "a file name suffix such as .csv, without '/'" })
            .toLowerCase(),
        // The lease must outlive one invocation (30 s timeout), or a slow but live Lambda could be taken over.
        claimLeaseSeconds: r.int(ENV.claimLeaseSeconds, { default: 60, min: 31, max: 3600 }),
        startAttempts: r.int(ENV.startAttempts, { default: 3, min: 1, max: 10 }),
        logLevel: r.parse(ENV.logLevel, (raw) => parseLogLevel(raw), "INFO"),
        queueFeed: readQueueFeedConfig(r),
        ...readFastPath(r),
        ...optional("keyPrefix", r.string(ENV.keyPrefix, { default: "", pattern: KEY_PREFIX, describe: "a key prefix such as raw-data/ (ending with '/', no leading '/')" })),
        ...optional("outputPrefix", r.string(ENV.outputPrefix, { default: "", pattern: KEY_PREFIX, describe: "a key prefix such as processed-data/ (ending with '/', no leading '/')" })),
        ...optional("datedKeys", r.parse(ENV.datedKeys, (raw) => parseBoolean(ENV.datedKeys, raw), undefined)),
    }));
}

/**
 * The fast path is on when its queue URL is set; then the function name is required and the limit defaults to
 * the converter contract's. A limit or a function name without the queue is refused rather than ignored: it
 * says someone meant to turn the fast path on and did not.
 */
function readFastPath(r: EnvReader): { fastPath?: FastPathConfig } {
    const queueUrl = r.string(ENV.fastPathQueueUrl, { default: "", pattern: SQS_QUEUE_URL, describe: "an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>)" });
    const functionName = r.string(ENV.fastPathFunctionName, { default: "", pattern: LAMBDA_FUNCTION_NAME, describe: "a Lambda function name" });
    const maxBytes = r.int(ENV.fastPathMaxBytes, { default: 0, min: 1 });
    if (!queueUrl) {
        r.parse(ENV.fastPathQueueUrl, () => {
            const orphans = [functionName ? ENV.fastPathFunctionName : "", maxBytes ? ENV.fastPathMaxBytes : ""].filter(Boolean);
            if (orphans.length > 0) throw new Error(`${ENV.fastPathQueueUrl} is required when ${orphans.join(" or ")} is set (the fast path needs its queue)`);
        }, undefined);
        return {};
    }
    if (!functionName) r.string(ENV.fastPathFunctionName, { pattern: LAMBDA_FUNCTION_NAME }); // records "required but not set"
    return { fastPath: { queueUrl, functionName, maxBytes: maxBytes || converterContract.defaults.maxBytes } };
}

function optional<K extends string, V>(key: K, value: V | "" | undefined): Partial<Record<K, V>> {
    return value === "" || value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}
