/**
 * The warehouse load step against the emulator (moto: the metadata table, the claims bucket) and the Redshift
 * Data API's wire protocol served by test/claims/support/redshiftDataOnPostgres.ts, which runs each batch on
 * PostgreSQL in one transaction (moto runs no SQL and lacks BatchExecuteStatement; that file says what is
 * emulated). Proven here: the call sequence, retries and polling with backoff, the bookkeeping on the file's
 * record, idempotency (a rerun loads nothing twice; a new run of the file replaces its rows), rollback of a
 * failed batch, and that a retry follows a batch already submitted instead of running a second one.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { RedshiftDataClient } from "@aws-sdk/client-redshift-data";
import { PGlite } from "@electric-sql/pglite";
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { replay } from "../../scripts/replay";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { GlueClient } from "@aws-sdk/client-glue";
import type { SNSClient } from "@aws-sdk/client-sns";
import { WarehouseLoadConfig } from "../../functions/claims-warehouse-load/config";
import {
    clientToken,
    createWarehouseLoadDeps,
    handleLoadEvent,
    LoadStillRunningError,
    WarehouseLoadDeps,
    WarehouseLoadError,
} from "../../functions/claims-warehouse-load/load";
import { manifestKey } from "../../functions/claims-warehouse-load/manifest";
import { WarehouseLoadRecords } from "../../functions/claims-warehouse-load/records";
import { CLAIMS_PARQUET_COLUMNS, QUALIFIED_TABLE } from "../../functions/claims-warehouse-load/sql";
import { emulatorEnv, EMULATOR_REGION, useEmulator } from "../support/emulator";
import { bundleFunction } from "../../components/compute/lambdaBundle";
import { RedshiftDataOnPostgres } from "./support/redshiftDataOnPostgres";

const TABLE = "etl-pipeline-metadata-test";
const BUCKET = "glue-claims-test-123456789012";
const FILE = "a".repeat(64);
const OTHER_FILE = "b".repeat(64);
const RUN = `jr_${"1".repeat(64)}`;
const RUN_2 = `jr_${"2".repeat(64)}`;
const CONFIG: WarehouseLoadConfig = {
    workgroupName: "healthcare-claims-test",
    databaseName: "claims",
    copyRoleArn: "arn:aws:iam::123456789012:role/healthcare-claims-test-redshift-copy",
    dataBucket: BUCKET,
    metadataTable: TABLE,
    errorTopicArn: "arn:aws:sns:eu-west-1:123456789012:healthcare-claims-test-errors",
    leaseSeconds: 960,
    reserveMs: 10_000,
    logLevel: "ERROR",
};

/** One row as the claims job writes it to Parquet (every column of the file). */
function claimRow(claimId: string, serviceDate: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
    const row: Record<string, unknown> = {
        claim_id: claimId,
        claim_version: 1,
        patient_id: "P0001",
        provider_npi: "1234567893",
        claim_type: "PROFESSIONAL",
        service_date: serviceDate,
        paid_date: null,
        diagnosis_code: "E11.9",
        procedure_code: "99213",
        billed_amount: "150.00",
        allowed_amount: "120.00",
        paid_amount: "100.00",
        units: 1,
        claim_status: "PAID",
        place_of_service: "11",
        processed_at: "2024-05-01T10:00:00Z",
        source_file: "s3://bucket/raw/claims/a.csv",
        processing_job: "healthcare-claims-test-etl",
        days_to_payment: null,
        risk_score: 20,
        payment_ratio: "0.6667",
        patient_responsibility: "20.00",
        service_category: "EVALUATION",
        diagnosis_category: "ENDOCRINE",
        cost_band: "LOW",
        risk_level: "LOW",
        ...overrides,
    };
    assert.deepEqual(Object.keys(row), CLAIMS_PARQUET_COLUMNS.map((c) => c.name));
    return row;
}

describe("claims warehouse load (Data API on PostgreSQL, records and bucket on the emulator)", () => {
    const aws = useEmulator();
    let redshift: RedshiftDataOnPostgres;
    let endpoint: string;
    let sleeps: number[];
    let published: Record<string, any>[];
    let remaining: number;
    let db: PGlite;

    before(() => {
        db = new PGlite();
    });
    after(() => db.close());

    beforeEach(async () => {
        await aws.createMetadataTable(TABLE);
        await aws.createBucket(BUCKET);
        await RedshiftDataOnPostgres.resetDatabase(db, QUALIFIED_TABLE);
        redshift = new RedshiftDataOnPostgres(aws.clients.s3, CONFIG.workgroupName, CONFIG.databaseName, db);
        endpoint = await redshift.start();
        sleeps = [];
        published = [];
        remaining = Number.POSITIVE_INFINITY;
    });

    afterEach(() => redshift.stop());

    function deps(overrides: Partial<WarehouseLoadDeps> = {}): WarehouseLoadDeps {
        const redshiftData = new RedshiftDataClient({ endpoint, region: EMULATOR_REGION, credentials: { accessKeyId: "testing", secretAccessKey: "testing" }, maxAttempts: 1 });
        return createWarehouseLoadDeps(CONFIG, {
            s3: aws.clients.s3,
            redshiftData,
            records: new WarehouseLoadRecords(DynamoDBDocumentClient.from(aws.clients.dynamodb), TABLE, () => new Date("2026-01-01T00:00:00Z")),
            sns: { send: async (cmd: { input: Record<string, any> }) => void published.push(cmd.input) } as unknown as SNSClient,
            glue: { send: async () => ({ JobRun: { Arguments: { "--file_id": FILE } } }) } as unknown as GlueClient,
            sleep: async (ms) => void sleeps.push(ms),
            random: () => 0.5,
            now: () => new Date("2026-01-01T00:00:00Z"),
            ...overrides,
        });
    }
    const context = { awsRequestId: "req-1", functionName: "healthcare-claims-test-warehouse-load", getRemainingTimeInMillis: () => remaining };

    /** The run's record as the ETL leaves it, and its Parquet objects in the bucket (the file's earlier ones removed, as the job does). */
    async function succeededRun(fileId: string, runId: string, parts: Record<string, Record<string, unknown>[]>): Promise<void> {
        const listed = await aws.clients.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "processed/claims/" }));
        for (const o of listed.Contents ?? []) {
            if (o.Key?.includes(`/file_id=${fileId}/`)) await aws.clients.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: o.Key }));
        }
        const count = Object.values(parts).reduce((n, rows) => n + rows.length, 0);
        await aws.putItem(TABLE, {
            file_id: fileId,
            processing_status: "SUCCEEDED",
            job_run_id: runId,
            record_count: count,
            source_key: `raw/claims/${fileId.slice(0, 4)}.csv`,
            attempts: 1,
            updated_at: "2025-12-31T00:00:00Z",
        });
        for (const [partition, rows] of Object.entries(parts)) {
            const key = `processed/claims/${partition}/file_id=${fileId}/part-00000-${runId.slice(3, 9)}.snappy.parquet`;
            await aws.putObject(BUCKET, key, `parquet bytes of ${rows.length} rows`);
            redshift.parquetRows.set(`s3://${BUCKET}/${key}`, rows);
        }
    }

    const warehouseRows = async (fileId: string) =>
        (await redshift.db.query<{ claim_id: string; year: string; month: string; glue_job_run_id: string }>(
            `SELECT claim_id, year, month, glue_job_run_id FROM public.claims WHERE file_id = $1 ORDER BY claim_id`,
            [fileId],
        )).rows;

    it("loads a file: manifest of its Parquet, one batch (COPY into staging, DELETE + INSERT by file id), record LOADED", async () => {
        // Prepare: the file spans two months; another file's objects sit beside it in the same months.
        await succeededRun(FILE, RUN, {
            "year=2024/month=03": [claimRow("C1", "2024-03-05"), claimRow("C2", "2024-03-09")],
            "year=2024/month=04": [claimRow("C3", "2024-04-01")],
        });
        await aws.putObject(BUCKET, `processed/claims/year=2024/month=03/file_id=${OTHER_FILE}/part-00000.snappy.parquet`, "other file");

        // Act
        const outcome = await handleLoadEvent({ fileId: FILE }, deps(), context);

        // Assess: the outcome and the rows, with the partition values the paths carried.
        assert.equal(outcome.kind, "loaded");
        assert.deepEqual(outcome.kind === "loaded" && [outcome.rowsLoaded, outcome.rowsReplaced, outcome.followed], [3, 0, false]);
        assert.deepEqual(await warehouseRows(FILE), [
            { claim_id: "C1", year: "2024", month: "03", glue_job_run_id: RUN },
            { claim_id: "C2", year: "2024", month: "03", glue_job_run_id: RUN },
            { claim_id: "C3", year: "2024", month: "04", glue_job_run_id: RUN },
        ]);
        // The manifest lists exactly the file's two objects, with their sizes.
        const manifest = JSON.parse(await (await aws.clients.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: manifestKey(FILE) }))).Body!.transformToString());
        assert.deepEqual(
            manifest.entries.map((e: any) => [e.url.replace(/part-.*/, ""), e.mandatory, e.meta.content_length]),
            [
                [`s3://${BUCKET}/processed/claims/year=2024/month=03/file_id=${FILE}/`, true, "parquet bytes of 2 rows".length],
                [`s3://${BUCKET}/processed/claims/year=2024/month=04/file_id=${FILE}/`, true, "parquet bytes of 1 rows".length],
            ],
        );
        // The call sequence: one batch on the workgroup with the client token of claim 1, then polling.
        assert.deepEqual(redshift.calls.map((c) => c.operation), ["BatchExecuteStatement", "DescribeStatement"]);
        const batch = redshift.calls[0].input;
        assert.equal(batch.WorkgroupName, CONFIG.workgroupName);
        assert.equal(batch.ClientToken, clientToken(FILE, RUN, 1));
        assert.equal(batch.ExecutionMode, "TRANSACTION");
        assert.deepEqual(
            batch.Sqls.map((s: string) => s.split(" ").slice(0, 2).join(" ")),
            ["CREATE TABLE", "CREATE TEMP", "COPY claims_load_stage", "LOCK TABLE", "DELETE FROM", "INSERT INTO"],
        );
        assert.match(batch.Sqls[2], new RegExp(`FROM 's3://${BUCKET}/processed/warehouse-manifests/${FILE}.manifest' IAM_ROLE '${CONFIG.copyRoleArn}' FORMAT AS PARQUET MANIFEST$`));
        const record = await aws.getItem(TABLE, { file_id: FILE });
        assert.deepEqual(
            [record?.warehouse_load_status, record?.warehouse_run_id, record?.warehouse_rows_loaded, record?.warehouse_rows_replaced, record?.warehouse_load_attempts],
            ["LOADED", RUN, 3, 0, 1],
        );
        assert.equal(record?.warehouse_statement_id, batch && redshift.calls[1].input.Id);
        assert.equal(record?.warehouse_lease_expires_at, undefined);
    });

    it("a redelivered event for a loaded run loads nothing twice", async () => {
        await succeededRun(FILE, RUN, { "year=2024/month=03": [claimRow("C1", "2024-03-05")] });
        await handleLoadEvent({ fileId: FILE }, deps(), context);

        const again = await handleLoadEvent({ source: "aws.glue", "detail-type": "Glue Job State Change", detail: { jobName: "etl", jobRunId: RUN, state: "SUCCEEDED" } }, deps(), context);

        assert.deepEqual(again, { kind: "skipped", fileId: FILE, jobRunId: RUN, reason: "already-loaded" });
        assert.equal(redshift.batchesRun, 1);
        assert.equal((await warehouseRows(FILE)).length, 1);
    });

    it("a new ETL run of the file replaces its rows and leaves other files' rows alone", async () => {
        // Prepare: two files loaded; then the first is processed again (a replay of its ETL: a new run).
        await succeededRun(OTHER_FILE, RUN, { "year=2024/month=03": [claimRow("X1", "2024-03-01")] });
        await handleLoadEvent({ fileId: OTHER_FILE }, deps(), context);
        await succeededRun(FILE, RUN, { "year=2024/month=03": [claimRow("C1", "2024-03-05"), claimRow("C2", "2024-03-06")] });
        await handleLoadEvent({ fileId: FILE }, deps(), context);
        await succeededRun(FILE, RUN_2, { "year=2024/month=05": [claimRow("C1", "2024-05-05", { claim_version: 2 })] });

        // Act
        const outcome = await handleLoadEvent({ fileId: FILE }, deps(), context);

        // Assess
        assert.deepEqual(outcome.kind === "loaded" && [outcome.rowsLoaded, outcome.rowsReplaced], [1, 2]);
        assert.deepEqual(await warehouseRows(FILE), [{ claim_id: "C1", year: "2024", month: "05", glue_job_run_id: RUN_2 }]);
        assert.deepEqual((await warehouseRows(OTHER_FILE)).map((r) => r.claim_id), ["X1"]);
    });

    it("an event of a run that is not the file's current SUCCEEDED run loads nothing", async () => {
        await succeededRun(FILE, RUN_2, { "year=2024/month=03": [claimRow("C1", "2024-03-05")] });

        const outcome = await handleLoadEvent({ source: "aws.glue", "detail-type": "Glue Job State Change", detail: { jobName: "etl", jobRunId: RUN, state: "SUCCEEDED" } }, deps(), context);

        assert.deepEqual(outcome, { kind: "skipped", fileId: FILE, jobRunId: RUN, reason: "not-current-run" });
        assert.equal(redshift.calls.length, 0);
    });

    it("retries a refused submission with jittered backoff; the client token keeps it one batch", async () => {
        await succeededRun(FILE, RUN, { "year=2024/month=03": [claimRow("C1", "2024-03-05")] });
        redshift.refuse(2, "ActiveStatementsExceededException");

        const outcome = await handleLoadEvent({ fileId: FILE }, deps(), context);

        assert.equal(outcome.kind, "loaded");
        assert.deepEqual(redshift.calls.map((c) => c.operation), ["BatchExecuteStatement", "BatchExecuteStatement", "BatchExecuteStatement", "DescribeStatement"]);
        // Full jitter with random() = 0.5 over ceilings of 1 s, 2 s.
        assert.deepEqual(sleeps, [500, 1000]);
        assert.equal(redshift.batchesRun, 1);
    });

    it("polls DescribeStatement with exponential backoff until the batch finishes", async () => {
        await succeededRun(FILE, RUN, { "year=2024/month=03": [claimRow("C1", "2024-03-05")] });
        redshift.pollsBeforeDone = 4;

        await handleLoadEvent({ fileId: FILE }, deps(), context);

        assert.deepEqual(sleeps, [500, 1000, 2000, 4000]);
        assert.equal(redshift.calls.filter((c) => c.operation === "DescribeStatement").length, 5);
    });

    it("a failed batch rolls back: the file's earlier rows stay, the record is LOAD_FAILED, an error is published, the error is rethrown", async () => {
        // Prepare: a loaded run, then a new run whose rows break the table (claim_status is NOT NULL).
        await succeededRun(FILE, RUN, { "year=2024/month=03": [claimRow("C1", "2024-03-05")] });
        await handleLoadEvent({ fileId: FILE }, deps(), context);
        await succeededRun(FILE, RUN_2, { "year=2024/month=03": [claimRow("C1", "2024-03-05", { claim_status: null })] });

        // Act
        await assert.rejects(handleLoadEvent({ fileId: FILE }, deps(), context), (err: Error) => err instanceof WarehouseLoadError && /FAILED/.test(err.message));

        // Assess: nothing of the batch happened; the old rows (run 1) are still the file's rows.
        assert.deepEqual((await warehouseRows(FILE)).map((r) => r.glue_job_run_id), [RUN]);
        const record = await aws.getItem(TABLE, { file_id: FILE });
        assert.equal(record?.warehouse_load_status, "LOAD_FAILED");
        assert.match(String(record?.warehouse_error), /claim_status/);
        assert.equal(published.length, 1);
        const message = JSON.parse(published[0].Message);
        assert.deepEqual([message.event_type, message.error_type, message.context.file], ["error", "WarehouseLoadError", `raw/claims/${FILE.slice(0, 4)}.csv`]);
        assert.equal(published[0].TopicArn, CONFIG.errorTopicArn);

        // A retry (Lambda's, or a replay) may claim a LOAD_FAILED load again.
        redshift.parquetRows.forEach((rows) => rows.forEach((r) => (r.claim_status = "PAID")));
        const retried = await handleLoadEvent({ fileId: FILE }, deps(), context);
        assert.deepEqual(retried.kind === "loaded" && [retried.rowsLoaded, retried.rowsReplaced], [1, 1]);
    });

    it("stops polling before the invocation's time runs out; the retry follows the submitted batch instead of running another", async () => {
        await succeededRun(FILE, RUN, { "year=2024/month=03": [claimRow("C1", "2024-03-05")] });
        redshift.pollsBeforeDone = 1_000;
        remaining = 10_600; // reserve 10 s: one 500 ms wait fits, the next 1 s does not

        await assert.rejects(handleLoadEvent({ fileId: FILE }, deps(), context), LoadStillRunningError);
        const record = await aws.getItem(TABLE, { file_id: FILE });
        assert.equal(record?.warehouse_load_status, "LOADING");
        assert.ok(record?.warehouse_statement_id);

        // Act: Lambda's retry, with time, once the batch has finished.
        redshift.pollsBeforeDone = 0;
        remaining = Number.POSITIVE_INFINITY;
        const outcome = await handleLoadEvent({ fileId: FILE }, deps(), context);

        assert.deepEqual(outcome.kind === "loaded" && [outcome.followed, outcome.statementId], [true, record?.warehouse_statement_id]);
        assert.equal(redshift.batchesRun, 1);
        assert.equal((await aws.getItem(TABLE, { file_id: FILE }))?.warehouse_load_status, "LOADED");
    });

    it("a file whose run wrote no rows loads none and removes the file's earlier rows (no COPY, no manifest)", async () => {
        await succeededRun(FILE, RUN, { "year=2024/month=03": [claimRow("C1", "2024-03-05")] });
        await handleLoadEvent({ fileId: FILE }, deps(), context);
        await succeededRun(FILE, RUN_2, {});

        const outcome = await handleLoadEvent({ fileId: FILE }, deps(), context);

        assert.deepEqual(outcome.kind === "loaded" && [outcome.rowsLoaded, outcome.rowsReplaced], [0, 1]);
        assert.ok(!redshift.calls.at(-2)?.input.Sqls.some((s: string) => s.startsWith("COPY")));
        assert.deepEqual(await warehouseRows(FILE), []);
    });

    it("npm run replay re-drives the load's dead-letter queue through the same logic, once", async () => {
        // Prepare: a load that failed every retry left its Glue event in the DLQ (Lambda's on-failure record).
        await succeededRun(FILE, RUN, { "year=2024/month=03": [claimRow("C1", "2024-03-05"), claimRow("C2", "2024-03-06")] });
        const common = { endpoint: aws.endpoint, region: EMULATOR_REGION, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } };
        const sqs = new SQSClient(common);
        const queue = async (name: string) => (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
        const loadDlq = await queue("healthcare-claims-test-warehouse-load-dlq");
        const glueEvent = { source: "aws.glue", "detail-type": "Glue Job State Change", detail: { jobName: "healthcare-claims-test-etl", jobRunId: RUN, state: "SUCCEEDED" } };
        await sqs.send(new SendMessageCommand({ QueueUrl: loadDlq, MessageBody: JSON.stringify({ requestContext: { condition: "RetriesExhausted" }, requestPayload: glueEvent }) }));
        const outputs = {
            region: EMULATOR_REGION,
            metadataTable: TABLE,
            fileProcessorJob: "FileProcessorV2-test",
            outputBucket: "glue-output-test",
            triggerDeadLetterQueue: await queue("GlueTriggerLambda-test-dlq"),
            claimsWarehouseLoadDeadLetterQueue: loadDlq,
            claimsWarehouseWorkgroup: CONFIG.workgroupName,
            claimsWarehouseDatabase: CONFIG.databaseName,
            claimsWarehouseCopyRoleArn: CONFIG.copyRoleArn,
            claimsBucket: BUCKET,
            claimsErrorTopicArn: CONFIG.errorTopicArn,
        };
        const d = deps();
        const clients = { sqs, s3: aws.clients.s3, glue: d.glue, dynamodb: aws.clients.dynamodb, sns: d.sns, cloudwatch: {} as CloudWatchClient, redshiftData: d.redshiftData };

        // Act
        const first = await replay({ outputs, skipRecords: true, visibilityTimeoutSeconds: 30, waitTimeSeconds: 0 }, clients);
        const second = await replay({ outputs, skipRecords: true, visibilityTimeoutSeconds: 30, waitTimeSeconds: 0 }, clients);

        // Assess
        assert.deepEqual(first.items.map((i) => [i.source, i.result]), [["warehouse-load-dlq", "loaded"]]);
        assert.match(first.items[0].detail ?? "", /2 rows loaded, 0 replaced/);
        assert.deepEqual(second.items, []);
        const left = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: loadDlq, AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"] }));
        assert.deepEqual([left.Attributes?.ApproximateNumberOfMessages, left.Attributes?.ApproximateNumberOfMessagesNotVisible], ["0", "0"]);
        assert.equal((await aws.getItem(TABLE, { file_id: FILE }))?.warehouse_load_status, "LOADED");
        assert.equal(redshift.batchesRun, 1);
    });

    it("the shipped esbuild bundle loads a file (clients from its environment) and fails its cold start naming bad variables", async () => {
        await succeededRun(FILE, RUN, { "year=2024/month=03": [claimRow("C1", "2024-03-05")] });
        const bundlePath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "warehouse-load-")), "index.js");
        fs.writeFileSync(bundlePath, bundleFunction("functions/claims-warehouse-load/handler.ts").code);
        const env: Record<string, string> = {
            WORKGROUP_NAME: CONFIG.workgroupName,
            DATABASE_NAME: CONFIG.databaseName,
            COPY_ROLE_ARN: CONFIG.copyRoleArn,
            DATA_BUCKET: BUCKET,
            METADATA_TABLE: TABLE,
            ERROR_TOPIC_ARN: CONFIG.errorTopicArn,
            LOG_LEVEL: "ERROR",
            // The SDK's service-specific endpoint variable: the Data API stand-in, everything else the emulator.
            AWS_ENDPOINT_URL_REDSHIFT_DATA: endpoint,
        };
        const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
        Object.assign(process.env, env);
        try {
            const { handler } = require(bundlePath) as typeof import("../../functions/claims-warehouse-load/handler");
            const outcome = await handler({ fileId: FILE });
            assert.deepEqual(outcome.kind === "loaded" && outcome.rowsLoaded, 1);
            const { WORKGROUP_NAME: _w, ...rest } = { ...process.env, ...emulatorEnv(aws.endpoint), ...env };
            const result = spawnSync(process.execPath, ["-e", `require(${JSON.stringify(bundlePath)})`], { env: { ...rest, COPY_ROLE_ARN: "copy", NODE_NO_WARNINGS: "1" }, encoding: "utf8" });
            assert.notEqual(result.status, 0);
            assert.match(result.stderr, /WORKGROUP_NAME is required but not set/);
            assert.match(result.stderr, /COPY_ROLE_ARN must be an IAM role ARN/);
        } finally {
            for (const [k, v] of Object.entries(saved)) {
                if (v === undefined) delete process.env[k];
                else process.env[k] = v;
            }
            fs.rmSync(path.dirname(bundlePath), { recursive: true, force: true });
        }
    });

    it("ignores events that ask for no load", async () => {
        const failed = await handleLoadEvent({ source: "aws.glue", "detail-type": "Glue Job State Change", detail: { jobName: "etl", jobRunId: RUN, state: "FAILED" } }, deps(), context);
        assert.equal(failed.kind, "ignored");
        const unsafe = await handleLoadEvent({ fileId: "x'; DROP TABLE public.claims; --" }, deps(), context);
        assert.equal(unsafe.kind, "ignored");
        assert.equal(redshift.calls.length, 0);
    });
});
