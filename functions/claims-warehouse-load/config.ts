/** The warehouse load function's configuration, read from its environment once per cold start. */
import { Env, readEnv, S3_BUCKET_NAME } from "../shared/env";
import { LogLevel, parseLogLevel } from "../shared/logger";
import { WAREHOUSE_LOAD_ENV as ENV } from "./contract";

export interface WarehouseLoadConfig {
    /** The Redshift Serverless workgroup the Data API runs the load on. */
    readonly workgroupName: string;
    readonly databaseName: string;
    /** The namespace's COPY role (named in the COPY statement). */
    readonly copyRoleArn: string;
    /** The claims bucket: the Parquet under processed/claims/, the manifests under processed/warehouse-manifests/. */
    readonly dataBucket: string;
    readonly metadataTable: string;
    /** The claims error topic: failed loads are published there, like the other claims steps' errors. */
    readonly errorTopicArn: string;
    /** How long a load claim protects the record: longer than the function's timeout. */
    readonly leaseSeconds: number;
    /** Time kept back from the invocation for recording the outcome after polling stops. */
    readonly reserveMs: number;
    readonly logLevel: LogLevel;
}

const WORKGROUP = /^[a-z0-9-]{3,64}$/;
const DATABASE = /^[a-z][a-z0-9_]{0,63}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const DYNAMODB_TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;

/** @throws EnvironmentError naming every missing or invalid variable. */
export function loadWarehouseLoadConfig(env: Env): WarehouseLoadConfig {
    return readEnv(env, (r) => ({
        workgroupName: r.string(ENV.workgroupName, { pattern: WORKGROUP, describe: "a Redshift Serverless workgroup name" }),
        databaseName: r.string(ENV.databaseName, { pattern: DATABASE, describe: "a Redshift database name" }),
        copyRoleArn: r.string(ENV.copyRoleArn, { pattern: ROLE_ARN, describe: "an IAM role ARN" }),
        dataBucket: r.string(ENV.dataBucket, { pattern: S3_BUCKET_NAME, describe: "an S3 bucket name" }),
        metadataTable: r.string(ENV.metadataTable, { pattern: DYNAMODB_TABLE_NAME, describe: "a DynamoDB table name" }),
        errorTopicArn: r.string(ENV.errorTopicArn, { pattern: SNS_TOPIC_ARN, describe: "an SNS topic ARN" }),
        leaseSeconds: r.int(ENV.leaseSeconds, { default: 960, min: 60, max: 86400 }),
        reserveMs: r.int(ENV.reserveMs, { default: 15000, min: 0, max: 120000 }),
        logLevel: r.parse(ENV.logLevel, (raw) => parseLogLevel(raw), "INFO"),
    }));
}
