/** The claims validation function's configuration, read from its environment once per cold start. */
import { QueueFeedConfig, readQueueFeedConfig } from "../shared/backpressure";
import { Env, readEnv, S3_BUCKET_NAME } from "../shared/env";
import { LogLevel, parseLogLevel } from "../shared/logger";
import { CLAIMS_FILE_SUFFIX, CLAIMS_PREFIXES, CLAIMS_VALIDATION_ENV as ENV } from "./contract";

// The layout is shared with the component that grants it: it lives in the contract.
export { CLAIMS_PREFIXES };

export interface ClaimsValidationConfig {
    /** The claims Glue job, e.g. healthcare-claims-etl-dev. */
    readonly glueJobName: string;
    readonly metadataTable: string;
    /** The claims bucket: reports, quarantine and the job's output go here (the raw files land here too). */
    readonly dataBucket: string;
    readonly rawPrefix: string;
    readonly fileSuffix: string;
    readonly processingTopicArn: string;
    readonly errorTopicArn: string;
    /** Minimum quality score (0-100) for a file to be processed. */
    readonly minQualityScore: number;
    /** Sample issues kept in a report. */
    readonly maxIssueSamples: number;
    /** Lines a quoted value may span before its record counts as malformed (the job's max_record_lines). */
    readonly maxRecordLines: number;
    /** How long a claim protects a file; longer than the function's timeout (validation streams the file). */
    readonly claimLeaseSeconds: number;
    readonly startAttempts: number;
    /** Files this size or larger are copied to quarantine in parts (CopyObject stops at 5 GiB). */
    readonly multipartCopyThresholdBytes: number;
    readonly logLevel: LogLevel;
    /** How a capacity-refused start waits in the function's queue; absent: ../shared/backpressure's defaults. */
    readonly queueFeed?: QueueFeedConfig;
}

const GLUE_JOB_NAME = /^[^\r\n]{1,255}$/;
const DYNAMODB_TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;
const PREFIX = /^(?:[^/].*\/)?$/;

/** 5 GiB: the largest object a single CopyObject may copy. */
export const MAX_SINGLE_COPY_BYTES = 5 * 1024 ** 3;

function parseScore(raw: string | undefined): number {
    if (raw === undefined) return 95;
    const value = /^\d{1,3}(\.\d{1,2})?$/.test(raw) ? Number(raw) : Number.NaN;
    if (!(value >= 0 && value <= 100)) throw new Error(`MIN_QUALITY_SCORE must be a number from 0 to 100 with at most 2 decimals, got "${raw}"`);
    return value;
}

/**
 * Reads and validates the environment.
 * @throws EnvironmentError naming every missing or invalid variable.
 */
export function loadClaimsValidationConfig(env: Env): ClaimsValidationConfig {
    return readEnv(env, (r) => ({
        glueJobName: r.string(ENV.glueJobName, { pattern: GLUE_JOB_NAME, describe: "a Glue job name (1-255 characters)" }),
        metadataTable: r.string(ENV.metadataTable, { pattern: DYNAMODB_TABLE_NAME, describe: "a DynamoDB table name" }),
        dataBucket: r.string(ENV.dataBucket, { pattern: S3_BUCKET_NAME, describe: "an S3 bucket name (not an s3:// URI)" }),
        rawPrefix: r.string(ENV.rawPrefix, { default: CLAIMS_PREFIXES.raw, pattern: PREFIX, describe: "a key prefix ending in '/' (not starting with '/')" }),
        fileSuffix: r.string(ENV.fileSuffix, { default: CLAIMS_FILE_SUFFIX, pattern: /^[^/]+$/, describe: "a file name suffix such as .csv" }).toLowerCase(),
        processingTopicArn: r.string(ENV.processingTopicArn, { pattern: SNS_TOPIC_ARN, describe: "an SNS topic ARN" }),
        errorTopicArn: r.string(ENV.errorTopicArn, { pattern: SNS_TOPIC_ARN, describe: "an SNS topic ARN" }),
        minQualityScore: r.parse(ENV.minQualityScore, parseScore, 95),
        maxIssueSamples: r.int(ENV.maxIssueSamples, { default: 50, min: 0, max: 1000 }),
        maxRecordLines: r.int(ENV.maxRecordLines, { default: 1000, min: 1, max: 100_000 }),
        // Lambda's longest timeout is 900 s; the lease must outlive the invocation that holds it.
        claimLeaseSeconds: r.int(ENV.claimLeaseSeconds, { default: 960, min: 31, max: 3600 }),
        startAttempts: r.int(ENV.startAttempts, { default: 3, min: 1, max: 10 }),
        multipartCopyThresholdBytes: r.int(ENV.multipartCopyThresholdBytes, { default: MAX_SINGLE_COPY_BYTES, min: 5 * 1024 ** 2, max: MAX_SINGLE_COPY_BYTES }),
        logLevel: r.parse(ENV.logLevel, (raw) => parseLogLevel(raw), "INFO"),
        queueFeed: readQueueFeedConfig(r),
    }));
}
