/**
 * The warehouse load's SQL: one file's claims into `public.claims`, idempotently.
 *
 * The statements run as ONE BatchExecuteStatement, which the Data API runs as one transaction: either the
 * file's rows are all replaced or nothing changed. In order:
 *
 *   1.   the table, if missing (the load owns its table; no separate migration step). In the PUBLIC schema:
 *        the load connects as its IAM role (database user `IAMR:<role>`, created on first use), and Redshift gives
 *        every user CREATE and USAGE there by default, while a schema of its own would need an admin's grant;
 *   2.   a session-scoped staging table with exactly the Parquet files' columns, in their order (COPY from
 *        Parquet maps columns by position and needs their number to match);
 *   3.   COPY into it, from the manifest listing the file's Parquet objects, with the namespace's COPY role;
 *   4.   LOCK the target: concurrent loads of different files would otherwise abort each other with
 *        Redshift's serializable-isolation error (1023) on DELETE + INSERT of the same table; the lock is
 *        taken after the COPY, so loads wait on one another only for the short DELETE + INSERT;
 *   5.   DELETE the file's previous rows (none the first time);
 *   6.   INSERT the staged rows with the partition values the Parquet layout carries only in its paths
 *        (year, month from service_date as the job derives them; file_id), the run and the load time.
 *
 * A rerun of the same file therefore leaves exactly one copy of its rows, and never touches other files'.
 *
 * Values put into the text (the file id, run id, manifest URI, role ARN, load time) are checked against
 * strict patterns and quoted: BatchExecuteStatement takes no parameters.
 *
 * Column types: Parquet string → VARCHAR (Redshift's VARCHAR counts bytes; the widths hold the declared code
 * formats with room), date32 → DATE, decimal(p,s) → DECIMAL(p,s), int32 → INTEGER, timestamp (UTC) →
 * TIMESTAMPTZ. No DISTKEY/SORTKEY: Redshift Serverless' automatic table optimisation picks them from the
 * queries it sees, and the DDL stays runnable on PostgreSQL, where the tests execute it.
 */

export interface WarehouseColumn {
    readonly name: string;
    /** Redshift type. */
    readonly type: string;
    readonly notNull?: boolean;
}

export const WAREHOUSE_SCHEMA = "public";
export const WAREHOUSE_TABLE = "claims";
export const QUALIFIED_TABLE = `${WAREHOUSE_SCHEMA}.${WAREHOUSE_TABLE}`;
export const STAGING_TABLE = "claims_load_stage";

/**
 * The columns of the claims job's Parquet files, in file order (glue/lib/glue_pipeline/claims_transforms.py's
 * `enrich`, less the partition columns year, month, file_id, which Spark keeps in the paths).
 * glue/tests/test_claims_warehouse_columns.py checks this list against the Parquet the job writes.
 */
export const CLAIMS_PARQUET_COLUMNS: readonly WarehouseColumn[] = [
    { name: "claim_id", type: "VARCHAR(64)" },
    { name: "claim_version", type: "INTEGER", notNull: true },
    { name: "patient_id", type: "VARCHAR(64)" },
    { name: "provider_npi", type: "VARCHAR(10)" },
    { name: "claim_type", type: "VARCHAR(32)" },
    { name: "service_date", type: "DATE" },
    { name: "paid_date", type: "DATE" },
    { name: "diagnosis_code", type: "VARCHAR(16)" },
    { name: "procedure_code", type: "VARCHAR(16)" },
    { name: "billed_amount", type: "DECIMAL(12,2)" },
    { name: "allowed_amount", type: "DECIMAL(12,2)" },
    { name: "paid_amount", type: "DECIMAL(12,2)" },
    { name: "units", type: "INTEGER", notNull: true },
    { name: "claim_status", type: "VARCHAR(32)", notNull: true },
    { name: "place_of_service", type: "VARCHAR(8)" },
    { name: "processed_at", type: "TIMESTAMPTZ" },
    { name: "source_file", type: "VARCHAR(2048)" },
    { name: "processing_job", type: "VARCHAR(255)" },
    { name: "days_to_payment", type: "INTEGER" },
    { name: "risk_score", type: "INTEGER", notNull: true },
    { name: "payment_ratio", type: "DECIMAL(7,4)" },
    { name: "patient_responsibility", type: "DECIMAL(12,2)" },
    { name: "service_category", type: "VARCHAR(64)", notNull: true },
    { name: "diagnosis_category", type: "VARCHAR(64)", notNull: true },
    { name: "cost_band", type: "VARCHAR(16)", notNull: true },
    { name: "risk_level", type: "VARCHAR(16)", notNull: true },
];

/** What the load adds to each row: the partition values, and which run and load put it there. */
export const LOAD_COLUMNS: readonly WarehouseColumn[] = [
    { name: "year", type: "CHAR(4)" },
    { name: "month", type: "CHAR(2)" },
    { name: "file_id", type: "CHAR(64)", notNull: true },
    { name: "glue_job_run_id", type: "VARCHAR(255)", notNull: true },
    { name: "loaded_at", type: "TIMESTAMPTZ", notNull: true },
];

/** The claims flow's file ids: SHA-256 hex of bucket, key and version (functions/shared/s3Events). */
export const FILE_ID = /^[0-9a-f]{64}$/;
/** Glue run ids: `jr_` and hex. */
export const JOB_RUN_ID = /^jr_[0-9a-f]{16,128}$/;
const MANIFEST_URI = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/[A-Za-z0-9._\/=-]{1,900}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@\/-]{1,512}$/;

export interface LoadStatementInputs {
    readonly fileId: string;
    readonly jobRunId: string;
    /** s3:// URI of the COPY manifest listing the file's Parquet objects. */
    readonly manifestUri: string;
    /** The role COPY assumes (the namespace's). */
    readonly copyRoleArn: string;
    readonly loadedAt: Date;
}

/** A SQL string literal. Inputs are pattern-checked before they get here; quoting is the second guard. */
export function sqlLiteral(value: string): string {
    return `'${value.replace(/'/g, "''")}'`;
}

function columnDefinitions(columns: readonly WarehouseColumn[]): string {
    return columns.map((c) => `${c.name} ${c.type}${c.notNull ? " NOT NULL" : ""}`).join(", ");
}

export function createTableStatements(): string[] {
    return [`CREATE TABLE IF NOT EXISTS ${QUALIFIED_TABLE} (${columnDefinitions([...CLAIMS_PARQUET_COLUMNS, ...LOAD_COLUMNS])})`];
}

export function stagingTableStatement(): string {
    return `CREATE TEMP TABLE ${STAGING_TABLE} (${columnDefinitions(CLAIMS_PARQUET_COLUMNS)})`;
}

/** Redshift's COPY of the manifest's Parquet objects into the staging table. Redshift-only syntax. */
export function copyStatement(manifestUri: string, copyRoleArn: string): string {
    if (!MANIFEST_URI.test(manifestUri)) throw new Error(`copyStatement: ${JSON.stringify(manifestUri)} is not a manifest s3:// URI`);
    if (!ROLE_ARN.test(copyRoleArn)) throw new Error(`copyStatement: ${JSON.stringify(copyRoleArn)} is not an IAM role ARN`);
    return `COPY ${STAGING_TABLE} FROM ${sqlLiteral(manifestUri)} IAM_ROLE ${sqlLiteral(copyRoleArn)} FORMAT AS PARQUET MANIFEST`;
}

/** Statements 4-6: replace the file's rows by the staged ones. Portable SQL (runs on PostgreSQL too). */
export function replaceStatements(fileId: string, jobRunId: string, loadedAt: Date): string[] {
    if (!FILE_ID.test(fileId)) throw new Error(`replaceStatements: file id ${JSON.stringify(fileId)} is not a claims file id (64 hex digits)`);
    if (!JOB_RUN_ID.test(jobRunId)) throw new Error(`replaceStatements: ${JSON.stringify(jobRunId)} is not a Glue job run id`);
    if (Number.isNaN(loadedAt.getTime())) throw new Error("replaceStatements: loadedAt is not a time");
    const columns = CLAIMS_PARQUET_COLUMNS.map((c) => c.name).join(", ");
    const target = [...CLAIMS_PARQUET_COLUMNS, ...LOAD_COLUMNS].map((c) => c.name).join(", ");
    return [
        `LOCK TABLE ${QUALIFIED_TABLE}`,
        `DELETE FROM ${QUALIFIED_TABLE} WHERE file_id = ${sqlLiteral(fileId)}`,
        `INSERT INTO ${QUALIFIED_TABLE} (${target}) ` +
            `SELECT ${columns}, TO_CHAR(service_date, 'YYYY'), TO_CHAR(service_date, 'MM'), ${sqlLiteral(fileId)}, ${sqlLiteral(jobRunId)}, ` +
            `CAST(${sqlLiteral(loadedAt.toISOString())} AS TIMESTAMPTZ) FROM ${STAGING_TABLE}`,
    ];
}

export interface LoadBatch {
    readonly sqls: readonly string[];
    /** Positions of the DELETE and the INSERT: their ResultRows are the rows replaced and the rows loaded. */
    readonly deleteIndex: number;
    readonly insertIndex: number;
}

/**
 * The whole batch, in the order the module comment gives. Without a manifest (the run wrote no rows: every
 * record was quarantined) there is nothing to COPY, and the batch only removes the file's earlier rows.
 */
export function loadStatements(p: Omit<LoadStatementInputs, "manifestUri"> & { readonly manifestUri?: string }): LoadBatch {
    const head = [...createTableStatements(), stagingTableStatement(), ...(p.manifestUri !== undefined ? [copyStatement(p.manifestUri, p.copyRoleArn)] : [])];
    const sqls = [...head, ...replaceStatements(p.fileId, p.jobRunId, p.loadedAt)];
    return { sqls, deleteIndex: head.length + 1, insertIndex: head.length + 2 };
}
