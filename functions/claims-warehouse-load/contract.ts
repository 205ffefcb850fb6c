/**
 * The warehouse load function's contract with the component that deploys it
 * (components/claims/claimsWarehouse.ts): the environment variables it reads, and where in the claims bucket
 * it writes the COPY manifests (the component grants exactly that prefix). ./config.ts reads the variables
 * through these names; the component sets them through the same names.
 *
 * Bundled into the Lambda: no Pulumi or AWS SDK imports here.
 */

/** Environment variable names, by the configuration field they fill. */
export const WAREHOUSE_LOAD_ENV = {
    workgroupName: "WORKGROUP_NAME",
    databaseName: "DATABASE_NAME",
    copyRoleArn: "COPY_ROLE_ARN",
    dataBucket: "DATA_BUCKET",
    metadataTable: "METADATA_TABLE",
    errorTopicArn: "ERROR_TOPIC_ARN",
    leaseSeconds: "LOAD_LEASE_SECONDS",
    reserveMs: "RESERVE_MS",
    logLevel: "LOG_LEVEL",
    /** Stamped by the stack so a deployed function says which release it runs; read by nothing at run time. */
    releaseId: "RELEASE_ID",
} as const;

export type WarehouseLoadEnvName = (typeof WAREHOUSE_LOAD_ENV)[keyof typeof WAREHOUSE_LOAD_ENV];

/** The variables without a default: a deployment that leaves one unset fails at cold start. */
export const WAREHOUSE_LOAD_REQUIRED_ENV: readonly WarehouseLoadEnvName[] = [
    WAREHOUSE_LOAD_ENV.workgroupName,
    WAREHOUSE_LOAD_ENV.databaseName,
    WAREHOUSE_LOAD_ENV.copyRoleArn,
    WAREHOUSE_LOAD_ENV.dataBucket,
    WAREHOUSE_LOAD_ENV.metadataTable,
    WAREHOUSE_LOAD_ENV.errorTopicArn,
];

/**
 * Where the load function writes the COPY manifests: under processed/, the only prefix the COPY role reads.
 * (./manifest.ts still spells it as a literal of its own; test/claims keeps the two equal.)
 */
export const WAREHOUSE_MANIFEST_PREFIX = "processed/warehouse-manifests/";
