/**
 * The trigger configured for the Parquet → JSON flow: the same handler as the CSV trigger, with
 * FILE_SUFFIX=.parquet, KEY_PREFIX=raw-data/, DATED_KEYS=true and OUTPUT_PREFIX=processed-data/. Pure
 * decisions first, then against the emulator (real S3 objects, metadata table and Glue job).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { DeleteObjectCommand } from "@aws-sdk/client-s3";
import type { TriggerConfig } from "../../functions/glue-trigger/config";
import { loadTriggerConfig } from "../../functions/glue-trigger/config";
import { EnvironmentError } from "../../functions/shared/env";
import { deriveJobPaths } from "../../functions/glue-trigger/trigger";
import { planRecord, startsWithDate } from "../../functions/shared/s3Events";
import type { TriggerSummary } from "../../functions/glue-trigger/trigger";
import { Logger } from "../../functions/shared/logger";
import { EventObject, lambdaContext, s3Event, s3Record } from "../fixtures/s3Events";
import { useEmulator } from "../support/emulator";

type TriggerModule = typeof import("../../functions/glue-trigger/trigger");

const INPUT = "glue-input-test-123456789012";
const OUTPUT = "glue-output-test-123456789012";
const TABLE = "etl-pipeline-metadata-test";
const JOB = "ParquetToJson-test";
const CSV_JOB = "FileProcessorV2-test";
const KEY = "raw-data/2024/01/15/yellow_tripdata_2024-01.parquet";
const PARQUET_ENV = {
    GLUE_JOB_NAME: JOB,
    METADATA_TABLE: TABLE,
    OUTPUT_BUCKET: OUTPUT,
    FILE_SUFFIX: ".parquet",
    KEY_PREFIX: "raw-data/",
    DATED_KEYS: "true",
    OUTPUT_PREFIX: "processed-data/",
};
const LAYOUT = { keyPrefix: "raw-data/", datedKeys: true, outputPrefix: "processed-data/" };

describe("Parquet trigger: configuration", () => {
    it("reads the layout variables", () => {
        const config = loadTriggerConfig({ ...PARQUET_ENV, DATED_KEYS: " TRUE " });
        assert.deepEqual(
            { suffix: config.fileSuffix, prefix: config.keyPrefix, dated: config.datedKeys, output: config.outputPrefix },
            { suffix: ".parquet", prefix: "raw-data/", dated: true, output: "processed-data/" },
        );
    });

    it("leaves them out when unset, so the CSV trigger's configuration is unchanged", () => {
        const config = loadTriggerConfig({ GLUE_JOB_NAME: CSV_JOB, METADATA_TABLE: TABLE, OUTPUT_BUCKET: OUTPUT });
        assert.equal("keyPrefix" in config || "datedKeys" in config || "outputPrefix" in config, false);
    });

    const invalid: [string, Record<string, string>, RegExp][] = [
        ["a prefix without its trailing slash", { KEY_PREFIX: "raw-data" }, /KEY_PREFIX must be a key prefix/],
        ["a leading slash", { OUTPUT_PREFIX: "/processed-data/" }, /OUTPUT_PREFIX must be a key prefix/],
        ["a non-boolean", { DATED_KEYS: "yes" }, /DATED_KEYS must be true or false, got "yes"/],
    ];
    for (const [name, env, message] of invalid) {
        it(`rejects ${name}`, () => {
            assert.throws(() => loadTriggerConfig({ ...PARQUET_ENV, ...env }), (e: Error) => e instanceof EnvironmentError && message.test(e.message));
        });
    }
});

describe("Parquet trigger: which keys it takes and where the output goes", () => {
    const cases: [key: string, action: "process" | "ignore", reason?: RegExp][] = [
        [KEY, "process"],
        ["raw-data/2024/02/29/leap.PARQUET", "process"],
        ["raw-data/2024/01/15/nested/deeper/trips.parquet", "process"],
        ["yellow_tripdata_2024-01.parquet", "ignore", /not under raw-data\//],
        ["archive/raw-data/2024/01/15/t.parquet", "ignore", /not under raw-data\//],
        ["raw-data/t.parquet", "ignore", /YYYY\/MM\/DD/],
        ["raw-data/2023/02/29/t.parquet", "ignore", /valid date/],
        ["raw-data/2024/13/01/t.parquet", "ignore", /valid date/],
        ["raw-data/2024/1/15/t.parquet", "ignore", /YYYY\/MM\/DD/],
        ["raw-data/2024/01/15/t.csv", "ignore", /does not end with \.parquet/],
    ];
    for (const [key, action, reason] of cases) {
        it(`${action}s ${key}`, () => {
            const plan = planRecord(s3Record({ bucket: INPUT, key }), ".parquet", LAYOUT);
            assert.equal(plan.action, action);
            if (plan.action === "ignore") assert.match(plan.reason, reason!);
        });
    }

    it("checks dates on the calendar", () => {
        assert.deepEqual(
            ["2024/02/29/x", "2023/02/29/x", "2024/04/31/x", "2024/12/31/x", "2024/00/10/x", "2024/01/15/"].map(startsWithDate),
            [true, false, false, true, false, false],
        );
    });

    it("writes JSON under processed-data/YYYY/MM/DD/<name>/ and quarantines under quarantine/<key stem>/", () => {
        assert.deepEqual(deriveJobPaths(INPUT, KEY, ".parquet", OUTPUT, LAYOUT), {
            inputPath: `s3://${INPUT}/${KEY}`,
            outputPath: `s3://${OUTPUT}/processed-data/2024/01/15/yellow_tripdata_2024-01/`,
            quarantinePath: `s3://${OUTPUT}/quarantine/raw-data/2024/01/15/yellow_tripdata_2024-01/`,
        });
    });
});

/** The contract's file_id, computed independently of the code under test. */
function expectedFileId(bucket: string, key: string, version: string): string {
    return createHash("sha256").update(`${bucket}/${key}#${version}`).digest("hex");
}

describe("Parquet trigger against the emulator", function () {
    const aws = useEmulator();
    let trigger: TriggerModule;

    before(() => {
        // After useEmulator's before hook: the module's SDK clients must see AWS_ENDPOINT_URL.
        trigger = require("../../functions/glue-trigger/trigger");
    });

    beforeEach(async () => {
        await aws.createBucket(INPUT);
        await aws.createBucket(OUTPUT);
        await aws.createMetadataTable(TABLE);
        await aws.createGlueJob(JOB, { defaultArguments: { "--metadata_table": TABLE } });
        await aws.createGlueJob(CSV_JOB, { defaultArguments: { "--metadata_table": TABLE } });
    });

    function deps(lines: Record<string, unknown>[] = []) {
        const config: TriggerConfig = loadTriggerConfig(PARQUET_ENV);
        return trigger.createTriggerDeps(config, {
            logger: new Logger({ service: "glue-trigger", level: "DEBUG", sink: (line) => lines.push(JSON.parse(line)) }),
            sleep: async () => {},
        });
    }

    async function upload(key: string, marker = 0): Promise<EventObject> {
        // The content is irrelevant to the trigger (the job reads it); a few bytes stand in for a Parquet file.
        const put = await aws.putObject(INPUT, key, new Uint8Array([0x50, 0x41, 0x52, 0x31, marker, 0, 0x50, 0x41, 0x52, 0x31]));
        return { bucket: INPUT, key, size: put.size, eTag: put.etag, ...(put.versionId ? { versionId: put.versionId } : {}) };
    }

    function counts(summary: TriggerSummary) {
        const { started, skipped, ignored, rejected, failed } = summary;
        return { started, skipped, ignored, rejected, failed };
    }

    it("starts the JSON job once for a .parquet under raw-data/YYYY/MM/DD/ and records the requirements' attributes", async () => {
        const object = await upload(KEY);
        const fileId = expectedFileId(INPUT, KEY, object.eTag!);

        const summary = await trigger.handleS3Event(s3Event(object), lambdaContext(), deps());

        assert.deepEqual(counts(summary), { started: 1, skipped: 0, ignored: 0, rejected: 0, failed: 0 });
        const runs = await aws.jobRuns(JOB);
        assert.equal(runs.length, 1);
        assert.equal((await aws.jobRuns(CSV_JOB)).length, 0, "the CSV job is not started");
        assert.deepEqual((await aws.jobRun(JOB, runs[0].Id)).Arguments, {
            "--metadata_table": TABLE,
            "--input_path": `s3://${INPUT}/${KEY}`,
            "--output_path": `s3://${OUTPUT}/processed-data/2024/01/15/yellow_tripdata_2024-01/`,
            "--quarantine_path": `s3://${OUTPUT}/quarantine/raw-data/2024/01/15/yellow_tripdata_2024-01/`,
            "--source_file": KEY,
            "--file_id": fileId,
            "--source_etag": object.eTag,
        });
        const item = await aws.getItem(TABLE, { file_id: fileId });
        assert.ok(item, "the metadata record exists");
        assert.equal(item.processing_status, "STARTED");
        assert.equal(item.job_run_id, runs[0].Id);
        assert.equal(item.job_name, JOB);
        assert.equal(item.source_file_path, `s3://${INPUT}/${KEY}`);
        assert.equal(item.output_file_path, `s3://${OUTPUT}/processed-data/2024/01/15/yellow_tripdata_2024-01/`);
        assert.equal(item.file_size_bytes, 10);
        for (const field of ["created_at", "updated_at", "start_time"]) {
            assert.match(String(item[field]), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, field);
        }
    });

    it("starts nothing for a duplicate delivery of the same event", async () => {
        const object = await upload(KEY);
        await trigger.handleS3Event(s3Event(object), lambdaContext(), deps());
        const lines: Record<string, unknown>[] = [];

        const again = await trigger.handleS3Event(s3Event(object), lambdaContext(), deps(lines));

        assert.deepEqual(counts(again), { started: 0, skipped: 1, ignored: 0, rejected: 0, failed: 0 });
        assert.equal((await aws.jobRuns(JOB)).length, 1);
        assert.ok(lines.some((l) => l.message === "duplicate delivery skipped" && l.existing_status === "STARTED"));
    });

    it("applies the same key and version rules as the CSV trigger: unsafe keys REJECTED, overwritten SUPERSEDED, deleted SOURCE_DELETED, glob characters literal", async () => {
        // Prepare: one object per rule, in the Parquet flow's layout.
        const unsafe = await upload("raw-data/2024/01/15/x/../t.parquet");
        const overwritten = await upload("raw-data/2024/01/15/daily.parquet");
        const current = await upload("raw-data/2024/01/15/daily.parquet", 1);
        const deleted = await upload("raw-data/2024/01/15/gone.parquet");
        await aws.clients.s3.send(new DeleteObjectCommand({ Bucket: INPUT, Key: deleted.key }));
        const glob = await upload("raw-data/2024/01/15/r[1]*.parquet");

        // Act
        const summary = await trigger.handleS3Event(s3Event(unsafe, overwritten, deleted, glob, current), lambdaContext(), deps());

        // Assess
        assert.deepEqual(counts(summary), { started: 2, skipped: 0, ignored: 0, rejected: 3, failed: 0 });
        const status = async (o: EventObject) => (await aws.getItem(TABLE, { file_id: expectedFileId(INPUT, o.key, o.eTag!) }))?.processing_status;
        assert.deepEqual(
            [await status(unsafe), await status(overwritten), await status(deleted), await status(glob), await status(current)],
            ["REJECTED", "SUPERSEDED", "SOURCE_DELETED", "STARTED", "STARTED"],
        );
        const runs = await aws.jobRuns(JOB);
        const args = await Promise.all(runs.map(async (r) => (await aws.jobRun(JOB, r.Id)).Arguments ?? {}));
        const globArgs = args.find((a) => a["--source_file"] === glob.key);
        assert.equal(globArgs?.["--input_path"], `s3://${INPUT}/raw-data/2024/01/15/r[1]*.parquet`);
        assert.equal(globArgs?.["--output_path"], `s3://${OUTPUT}/processed-data/2024/01/15/r[1]*/`);
    });

    it("ignores a .parquet outside raw-data/ (and an undated one) without a record or a run", async () => {
        const outside = await upload("landing/2024/01/15/yellow_tripdata_2024-01.parquet");
        const undated = await upload("raw-data/yellow_tripdata_2024-01.parquet");

        const summary = await trigger.handleS3Event(s3Event(outside, undated), lambdaContext(), deps());

        assert.deepEqual(counts(summary), { started: 0, skipped: 0, ignored: 2, rejected: 0, failed: 0 });
        assert.equal((await aws.jobRuns(JOB)).length, 0);
        for (const o of [outside, undated]) assert.equal(await aws.getItem(TABLE, { file_id: expectedFileId(INPUT, o.key, o.eTag!) }), undefined);
    });
});
