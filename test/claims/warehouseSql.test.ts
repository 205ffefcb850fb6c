/**
 * The warehouse load's statements as text (functions/claims-warehouse-load/sql.ts), and its configuration:
 * what goes into the SQL is checked and quoted (BatchExecuteStatement takes no parameters), the batch keeps the
 * order the transaction needs, and a bad environment fails the cold start naming each variable. Executing the
 * statements on PostgreSQL is test/claims/warehouseLoad.test.ts's part.
 */
import * as assert from "node:assert/strict";
import { loadWarehouseLoadConfig } from "../../functions/claims-warehouse-load/config";
import { CLAIMS_PARQUET_COLUMNS, copyStatement, loadStatements, replaceStatements, sqlLiteral } from "../../functions/claims-warehouse-load/sql";

const FILE = "e".repeat(64);
const RUN = `jr_${"9".repeat(64)}`;
const ROLE = "arn:aws:iam::111111111111:role/claims-warehouse-copy-role-1a2b3c4";
const AT = new Date("2026-01-02T03:04:05.000Z");

describe("claims warehouse SQL and configuration", () => {
    it("quotes literals by doubling single quotes", () => {
        assert.equal(sqlLiteral("it's"), "'it''s'");
    });

    it("refuses a file id, run id, manifest or role that is not of its form", () => {
        assert.throws(() => replaceStatements("x'; DROP TABLE public.claims; --", RUN, AT), /not a claims file id/);
        assert.throws(() => replaceStatements(FILE, "jr_1' OR '1'='1", AT), /not a Glue job run id/);
        assert.throws(() => copyStatement("s3://bucket/key' IAM_ROLE 'x", ROLE), /not a manifest s3:\/\/ URI/);
        assert.throws(() => copyStatement("s3://bucket/processed/m.manifest", "arn:aws:iam::1:role/x"), /not an IAM role ARN/);
    });

    it("orders the batch: DDL, staging, COPY, LOCK, DELETE, INSERT; the DELETE and INSERT positions are reported", () => {
        const batch = loadStatements({ fileId: FILE, jobRunId: RUN, manifestUri: "s3://glue-claims-dev-111111111111/processed/warehouse-manifests/e.manifest", copyRoleArn: ROLE, loadedAt: AT });
        assert.deepEqual(batch.sqls.map((s) => s.split(" ")[0]), ["CREATE", "CREATE", "COPY", "LOCK", "DELETE", "INSERT"]);
        assert.ok(batch.sqls[batch.deleteIndex].startsWith("DELETE FROM public.claims WHERE file_id = 'eeee"));
        assert.ok(batch.sqls[batch.insertIndex].startsWith("INSERT INTO public.claims"));
        assert.equal(
            batch.sqls[2],
            `COPY claims_load_stage FROM 's3://glue-claims-dev-111111111111/processed/warehouse-manifests/e.manifest' IAM_ROLE '${ROLE}' FORMAT AS PARQUET MANIFEST`,
        );
        assert.match(batch.sqls[batch.insertIndex], /CAST\('2026-01-02T03:04:05.000Z' AS TIMESTAMPTZ\) FROM claims_load_stage$/);
        const withoutManifest = loadStatements({ fileId: FILE, jobRunId: RUN, copyRoleArn: ROLE, loadedAt: AT });
        assert.deepEqual(withoutManifest.sqls.map((s) => s.split(" ")[0]), ["CREATE", "CREATE", "LOCK", "DELETE", "INSERT"]);
        assert.equal(withoutManifest.sqls[withoutManifest.insertIndex].split(" ")[0], "INSERT");
    });

    it("stages exactly the Parquet columns and keeps the file id and run on every row", () => {
        const [table] = loadStatements({ fileId: FILE, jobRunId: RUN, copyRoleArn: ROLE, loadedAt: AT }).sqls;
        for (const c of CLAIMS_PARQUET_COLUMNS) assert.ok(table.includes(`${c.name} ${c.type}`), c.name);
        assert.match(table, /file_id CHAR\(64\) NOT NULL, glue_job_run_id VARCHAR\(255\) NOT NULL, loaded_at TIMESTAMPTZ NOT NULL\)$/);
    });

    it("fails the cold start naming every missing or invalid variable", () => {
        assert.throws(
            () => loadWarehouseLoadConfig({ WORKGROUP_NAME: "Bad Name", DATABASE_NAME: "claims" }),
            (err: Error) =>
                /WORKGROUP_NAME must be a Redshift Serverless workgroup name/.test(err.message) &&
                /COPY_ROLE_ARN is required/.test(err.message) &&
                /DATA_BUCKET is required/.test(err.message) &&
                /METADATA_TABLE is required/.test(err.message) &&
                /ERROR_TOPIC_ARN is required/.test(err.message),
        );
        const ok = loadWarehouseLoadConfig({
            WORKGROUP_NAME: "healthcare-claims-dev",
            DATABASE_NAME: "claims",
            COPY_ROLE_ARN: ROLE,
            DATA_BUCKET: "glue-claims-dev-111111111111",
            METADATA_TABLE: "etl-pipeline-metadata-dev",
            ERROR_TOPIC_ARN: "arn:aws:sns:eu-west-1:111111111111:healthcare-claims-dev-errors",
        });
        assert.deepEqual([ok.leaseSeconds, ok.reserveMs], [960, 15000]);
    });
});
