/**
 * The CSV flow's fast path end to end, offline (test/support/fastPathLoop): an upload to the emulated input
 * bucket → S3's own event (moto's notification to the trigger's queue) → the trigger routes the claimed file
 * by size → its ConversionRequest on the converter's queue → the Python converter (functions/csv-converter/
 * handler.py, one warm process) → Parquet under processed/, quarantine under quarantine/, the record SUCCEEDED
 * with the counts a Glue run would record. The smoke script's own checks judge the result, as they judge a
 * deployed stack's. Speed is not asserted here (test/bench/fastPathLoop.ts measures it).
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { CSV_CONVERTER_CONTRACT as converterContract } from "../../functions/csv-converter/contract";
import { useEmulator } from "../support/emulator";
import { queueDepth } from "../functions/queueHarness";
import { createFastPathLoop, FastPathLoop } from "../support/fastPathLoop";

const ROOT = path.resolve(__dirname, "../..");
const STAGE = "fast";
const RELEASE = "r-fastpath0001";

/** The converter's embedded-metric documents: metric name → summed value. */
function emfTotals(lines: readonly unknown[]): Record<string, number> {
    const totals: Record<string, number> = {};
    for (const line of lines) {
        const doc = line as { _aws?: { CloudWatchMetrics?: { Metrics?: { Name: string }[] }[] } } & Record<string, unknown>;
        for (const group of doc?._aws?.CloudWatchMetrics ?? []) {
            for (const metric of group.Metrics ?? []) totals[metric.Name] = (totals[metric.Name] ?? 0) + Number(doc[metric.Name] ?? 0);
        }
    }
    return totals;
}

/** `columns` of the Parquet parts under an s3:// prefix, in order, read back by DuckDB in the project's venv. */
async function parquetRows(s3: S3Client, uri: string, columns: readonly string[]): Promise<Record<string, unknown>[]> {
    const [, bucket, prefix] = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri)!;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fast-path-parquet-"));
    try {
        const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
        const parts = (listed.Contents ?? []).map((o) => o.Key!).filter((k) => k.endsWith(".parquet")).sort();
        for (const [i, key] of parts.entries()) {
            const body = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray();
            fs.writeFileSync(path.join(dir, `part-${String(i).padStart(5, "0")}.parquet`), body);
        }
        const script = [
            "import duckdb, json, sys",
            "columns = sys.argv[2].split(',')",
            "rel = duckdb.sql(f\"SELECT {', '.join(columns)} FROM read_parquet('{sys.argv[1]}/*.parquet', file_row_number = true) ORDER BY filename, file_row_number\")",
            "print(json.dumps([dict(zip(columns, row)) for row in rel.fetchall()]))",
        ].join("\n");
        return JSON.parse(execFileSync(path.join(ROOT, ".venv/bin/python"), ["-c", script, dir, columns.join(",")], { encoding: "utf8" }));
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

describe("the fast path end to end, offline: upload → S3 event → trigger → converter queue → Python converter → Parquet, record SUCCEEDED", function () {
    // A guard against a hang, not a speed check: the converter's cold start (Python, DuckDB) and a few files.
    this.timeout(180_000);
    const aws = useEmulator();
    let loop: FastPathLoop | undefined;

    afterEach(async () => {
        await loop?.stop();
        loop = undefined;
    });

    const clients = () => ({ s3: new S3Client({ forcePathStyle: true }), doc: DynamoDBDocumentClient.from(new DynamoDBClient({})) });

    it("converts every CSV sample on the fast path and passes the smoke checks: counts, Parquet, quarantine, engine on the record", async () => {
        // Prepare: the CSV flow with its fast path, in the emulator.
        const running = (loop = await createFastPathLoop(aws, { stage: STAGE }));
        const smoke: typeof import("../../scripts/smoke") = require("../../scripts/smoke");
        const samples = smoke.smokeSamples().filter((s) => s.flow === "csv");

        // Act: the smoke script uploads; the loop runs the pipeline until every record is final.
        const result = await smoke.runSmoke(
            { stack: STAGE, inputBucket: running.inputBucket, outputBucket: running.outputBucket, metadataTable: running.metadataTable, releaseId: RELEASE },
            clients(),
            {
                samples,
                afterUpload: (uploads) =>
                    running.runUntil(
                        "every sample's record final",
                        async () => {
                            const final = new Set(smoke.FINAL_STATES);
                            const byId = new Map((await running.records()).map((r) => [r.file_id, r]));
                            return uploads.every((u) => final.has(byId.get(u.fileId)?.processing_status));
                        },
                        120_000,
                    ),
                timeoutMs: 5_000,
                pollMs: 200,
                progress: () => undefined,
            },
        );

        // Assess: the smoke checks pass on what the fast path wrote.
        assert.ok(result.passed, JSON.stringify(result.reports.map((r) => [r.key, r.problems]), null, 1));
        assert.equal(result.reports.length, samples.length);
        for (const report of result.reports) {
            const record = report.record!;
            assert.equal(record.engine, converterContract.engines.fast, report.key);
            assert.match(String(record.engine_reason), /<= the fast-path limit of 256 MiB \(268435456 bytes\)$/, report.key);
            assert.match(String(record.job_run_id), /^fast-[0-9a-f-]{36}$/, report.key);
            assert.equal(record.job_name, running.converterFunction, report.key);
            assert.match(String(record.output_file_path), new RegExp(`^s3://${running.outputBucket}/processed/`), report.key);
        }
        // Nothing ran on Glue; both queues are drained; nothing in a dead-letter queue; the converter counted its files.
        assert.deepEqual(await aws.jobRuns(running.glueJob), []);
        for (const url of [running.triggerQueue.url, running.converterQueue.url, running.triggerQueue.deadLetterUrl, running.converterQueue.deadLetterUrl]) {
            assert.equal((await queueDepth(running.sqs, url)).total, 0, url);
        }
        assert.equal(emfTotals(running.converter.output())[converterContract.metrics.filesConverted], samples.length);

        // The values, read back: the products sample's rows in source order, its multi-line and quoted fields intact.
        const products = result.reports.find((r) => r.key.endsWith("/products.csv"))!.record!;
        const rows = await parquetRows(clients().s3, products.output_file_path!, ["sku", "description"]);
        assert.deepEqual(
            rows.map((r) => r.sku),
            ["SKU-000187", "SKU-004411", "SKU-120034", "SKU-777001", "SKU-000999", "SKU-555123"],
        );
        assert.equal(rows[1].description, "15 bar pump\nMilk frother included");
        assert.equal(rows[3].description, '48 mm x 66 m, "low noise"');
    });

    it("routes by size in one burst: files at or below the limit convert on the fast path, a larger one starts Glue", async () => {
        // Prepare: a 200-byte limit.
        const running = (loop = await createFastPathLoop(aws, { stage: STAGE, maxBytes: 200 }));
        const small = "id,name\n1,a\n2,b\n";
        const large = `id,name\n${Array.from({ length: 40 }, (_, i) => `${i},name-${i}`).join("\n")}\n`;
        assert.ok(Buffer.byteLength(large) > 200);

        // Act
        await aws.putObject(running.inputBucket, "mixed/small.csv", small);
        await aws.putObject(running.inputBucket, "mixed/large.csv", large);
        const byKey = async () => new Map((await running.records()).map((r) => [r.source_key, r]));
        await running.runUntil(
            "the small file SUCCEEDED and the large one STARTED on Glue",
            async () => {
                const records = await byKey();
                return records.get("mixed/small.csv")?.processing_status === "SUCCEEDED" && records.get("mixed/large.csv")?.processing_status === "STARTED";
            },
            120_000,
        );

        // Assess
        const records = await byKey();
        const fast = records.get("mixed/small.csv")!;
        const glue = records.get("mixed/large.csv")!;
        assert.deepEqual([fast.engine, fast.rows_in, fast.record_count, fast.rows_quarantined], ["fast", 2, 2, 0]);
        assert.equal(glue.engine, "glue");
        assert.match(glue.engine_reason, /> the fast-path limit of 200 bytes$/);
        const runs = await aws.jobRuns(running.glueJob);
        assert.deepEqual(
            runs.map((r) => [r.Id, r.Arguments?.["--source_file"]]),
            [[glue.job_run_id, "mixed/large.csv"]],
        );
    });

    it("falls back to Glue when the converter runs out of time: the request's arguments unchanged, the record says why", async () => {
        // Prepare: a converter whose remaining time is all reserve (timeout = DEADLINE_RESERVE_SECONDS' default),
        // so its deadline has passed before it converts: ResourceExhausted, as a file too slow for the Lambda.
        const reserveMs = converterContract.defaults.deadlineReserveSeconds * 1000;
        const running = (loop = await createFastPathLoop(aws, { stage: STAGE, converterTimeoutMs: reserveMs }));
        const trigger: typeof import("../../functions/glue-trigger/trigger") = require("../../functions/glue-trigger/trigger");

        // Act
        await aws.putObject(running.inputBucket, "slow/orders.csv", "id,amount\n1,2.5\n2,3.5\n");
        await running.runUntil("the record STARTED on Glue", async () => (await running.records()).some((r) => r.engine === "glue"), 120_000);

        // Assess: one Glue run, started with exactly the arguments the trigger put in the request (its --file_id,
        // paths and version), the record now naming it, and the fallback counted.
        const [record] = await running.records();
        assert.equal(record.processing_status, "STARTED");
        assert.equal(record.job_name, running.glueJob);
        assert.match(String(record.engine_reason), /^fallback: /);
        const runs = await aws.jobRuns(running.glueJob);
        assert.equal(runs.length, 1);
        assert.equal(record.job_run_id, runs[0].Id);
        const paths = trigger.deriveJobPaths(running.inputBucket, "slow/orders.csv", ".csv", running.outputBucket);
        assert.equal(runs[0].Arguments?.["--file_id"], record.file_id);
        assert.equal(runs[0].Arguments?.["--output_path"], paths.outputPath);
        assert.equal(runs[0].Arguments?.["--source_version_id"], record.source_version);
        assert.equal(emfTotals(running.converter.output())[converterContract.metrics.fallbacks], 1);
        assert.equal((await queueDepth(running.sqs, running.converterQueue.url)).total, 0, "the request is consumed");
    });

    it("records a bad file FAILED on the fast path (replayable), counts FastPathFailed, and publishes nothing", async () => {
        // Prepare: a semicolon-delimited file in a comma flow (the data-fidelity rules reject it, naming the delimiter).
        const running = (loop = await createFastPathLoop(aws, { stage: STAGE }));

        // Act
        await aws.putObject(running.inputBucket, "bad/semicolons.csv", "id;name;amount\n1;a;2\n2;b;3\n");
        await running.runUntil("the record final", async () => (await running.records()).some((r) => r.processing_status === "FAILED" || r.processing_status === "SUCCEEDED"), 120_000);

        // Assess
        const [record] = await running.records();
        assert.equal(record.processing_status, "FAILED");
        assert.equal(record.engine, "fast");
        assert.match(String(record.error_message), /delimiter|;/i);
        assert.equal(emfTotals(running.converter.output())[converterContract.metrics.failed], 1);
        const written = await aws.clients.s3.send(new ListObjectsV2Command({ Bucket: running.outputBucket, Prefix: "processed/bad/" }));
        assert.deepEqual(written.Contents ?? [], []);
        assert.equal((await queueDepth(running.sqs, running.converterQueue.deadLetterUrl)).total, 0, "a bad file is FAILED, not retried into the DLQ");
    });
});
