/**
 * GlueTriggerLambda against the AWS emulator (moto over HTTP): real S3 objects, a real metadata table with
 * its GSI, a real Glue job whose runs are read back. Most scenarios call the logic (handleS3Event) with
 * clients built exactly as the handler builds them, from process.env, plus test-only overrides for the
 * backoff sleep and the logger; the last group runs handler.ts and the shipped esbuild bundle themselves.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as dgram from "node:dgram";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GlueClient } from "@aws-sdk/client-glue";
import { DeleteObjectCommand } from "@aws-sdk/client-s3";
import { QueryCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import type { TriggerConfig } from "../../functions/glue-trigger/config";
import type { DepsOverrides, TriggerDeps, TriggerSummary } from "../../functions/glue-trigger/trigger";
import { Logger } from "../../functions/shared/logger";
import { csv, EventObject, lambdaContext, s3Event, S3_TEST_EVENT } from "../fixtures/s3Events";
import { emulatorEnv, useEmulator } from "../support/emulator";

type TriggerModule = typeof import("../../functions/glue-trigger/trigger");

const INPUT = "glue-input-test-123456789012";
const OUTPUT = "glue-output-test-123456789012";
const TABLE = "etl-pipeline-metadata-test";
const JOB = "FileProcessorV2-test";
const JOB_DEFAULTS = { "--metadata_table": TABLE };
/** Bytes the trigger keeps free below a derived prefix (DERIVED_NAME_RESERVE_BYTES), restated: a change must be deliberate. */
const DERIVED_RESERVE = 128;

const CONFIG: TriggerConfig = {
    glueJobName: JOB,
    metadataTable: TABLE,
    outputBucket: OUTPUT,
    fileSuffix: ".csv",
    claimLeaseSeconds: 60,
    startAttempts: 3,
    logLevel: "DEBUG",
};

/** The contract's file_id, computed independently of the code under test. */
function expectedFileId(bucket: string, key: string, version: string): string {
    return createHash("sha256").update(`${bucket}/${key}#${version}`).digest("hex");
}

interface Harness {
    readonly deps: TriggerDeps;
    readonly lines: Record<string, unknown>[];
    readonly sleeps: number[];
}

describe("GlueTriggerLambda against the emulator", function () {
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
        await aws.createGlueJob(JOB, { maxConcurrentRuns: 3, defaultArguments: JOB_DEFAULTS });
    });

    /** Deps as production builds them, with a capturing logger and a sleep that only records its delay. */
    function harness(overrides: DepsOverrides & { readonly config?: Partial<TriggerConfig> } = {}): Harness {
        const lines: Record<string, unknown>[] = [];
        const sleeps: number[] = [];
        const { config, ...rest } = overrides;
        const deps = trigger.createTriggerDeps(
            { ...CONFIG, ...config },
            {
                logger: new Logger({ service: "glue-trigger", level: "DEBUG", sink: (line) => lines.push(JSON.parse(line)) }),
                backoff: { baseDelayMs: 40, maxDelayMs: 100 },
                sleep: async (ms) => {
                    sleeps.push(ms);
                },
                ...rest,
            },
        );
        return { deps, lines, sleeps };
    }

    async function upload(key: string, body: string = csv()): Promise<EventObject> {
        const put = await aws.putObject(INPUT, key, body);
        return { bucket: INPUT, key, size: put.size, eTag: put.etag, ...(put.versionId ? { versionId: put.versionId } : {}) };
    }

    async function record(fileId: string) {
        return aws.getItem(TABLE, { file_id: fileId });
    }

    async function allRecords() {
        const out = await aws.clients.doc.send(new ScanCommand({ TableName: TABLE, ConsistentRead: true }));
        return out.Items ?? [];
    }

    async function runArguments(runId: string) {
        return (await aws.jobRun(JOB, runId)).Arguments;
    }

    function counts(summary: TriggerSummary) {
        const { started, skipped, ignored, rejected, failed } = summary;
        return { started, skipped, ignored, rejected, failed };
    }

    describe("a valid CSV upload", () => {
        it("starts exactly one run with the file's arguments and records STARTED with the run id", async () => {
            // Prepare
            const object = await upload("incoming/2025/sales.csv");
            const fileId = expectedFileId(INPUT, "incoming/2025/sales.csv", object.eTag!);
            const { deps } = harness();

            // Act
            const summary = await trigger.handleS3Event(s3Event(object), lambdaContext(), deps);

            // Assess
            assert.deepEqual(counts(summary), { started: 1, skipped: 0, ignored: 0, rejected: 0, failed: 0 });
            const runs = await aws.jobRuns(JOB);
            assert.equal(runs.length, 1);
            assert.deepEqual(await runArguments(runs[0].Id), {
                ...JOB_DEFAULTS,
                "--input_path": `s3://${INPUT}/incoming/2025/sales.csv`,
                "--output_path": `s3://${OUTPUT}/processed/incoming/2025/sales/`,
                "--quarantine_path": `s3://${OUTPUT}/quarantine/incoming/2025/sales/`,
                "--source_file": "incoming/2025/sales.csv",
                "--file_id": fileId,
                // The version the run is for (an unversioned bucket: the ETag); the job checks it is current.
                "--source_etag": object.eTag,
            });
            const item = await record(fileId);
            assert.ok(item, "the metadata record exists");
            assert.equal(item.processing_status, "STARTED");
            assert.equal(item.job_run_id, runs[0].Id);
            assert.equal(item.attempts, 1);
            assert.equal(item.source_file_path, `s3://${INPUT}/incoming/2025/sales.csv`);
            assert.equal(item.source_bucket, INPUT);
            assert.equal(item.source_key, "incoming/2025/sales.csv");
            assert.equal(item.source_version, object.eTag);
            assert.equal(item.file_size_bytes, object.size);
            assert.equal(item.output_file_path, `s3://${OUTPUT}/processed/incoming/2025/sales/`);
            assert.equal(item.quarantine_path, `s3://${OUTPUT}/quarantine/incoming/2025/sales/`);
            assert.equal(item.job_name, JOB);
            assert.equal(item.lease_expires_at, undefined, "the lease is released once the run is recorded");
            for (const field of ["created_at", "updated_at", "start_time"]) {
                assert.match(String(item[field]), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, field);
            }
            // The by-status GSI lists it: what dashboards and replay use to find files in a given state.
            const byStatus = await aws.clients.doc.send(
                new QueryCommand({
                    TableName: TABLE,
                    IndexName: "by-status",
                    KeyConditionExpression: "processing_status = :s",
                    ExpressionAttributeValues: { ":s": "STARTED" },
                }),
            );
            assert.deepEqual(
                byStatus.Items?.map((i) => i.file_id),
                [fileId],
            );
        });

        it("identifies a versioned upload by its versionId and pins the run to it", async () => {
            // Prepare
            await aws.createBucket("glue-input-versioned", { versioned: true });
            const put = await aws.putObject("glue-input-versioned", "daily.csv", csv(3));
            assert.ok(put.versionId, "the emulator versions the bucket");
            const object: EventObject = { bucket: "glue-input-versioned", key: "daily.csv", size: put.size, eTag: put.etag, versionId: put.versionId };
            const { deps } = harness();

            // Act
            const summary = await trigger.handleS3Event(s3Event(object), lambdaContext(), deps);

            // Assess
            assert.equal(summary.started, 1);
            const fileId = expectedFileId("glue-input-versioned", "daily.csv", put.versionId);
            const item = await record(fileId);
            assert.equal(item?.processing_status, "STARTED");
            assert.equal(item?.source_version, put.versionId);
            assert.equal(item?.file_size_bytes, put.size);
            const runs = await aws.jobRuns(JOB);
            assert.equal(runs.length, 1);
            const args = await runArguments(runs[0].Id);
            assert.equal(args?.["--file_id"], fileId);
            assert.equal(args?.["--source_version_id"], put.versionId);
            assert.equal(args?.["--source_etag"], put.etag);
        });

        it("does nothing, successfully, for the s3:TestEvent S3 sends when notifications are configured", async () => {
            const { deps } = harness();
            const summary = await trigger.handleS3Event(S3_TEST_EVENT, lambdaContext(), deps);
            assert.deepEqual(counts(summary), { started: 0, skipped: 0, ignored: 0, rejected: 0, failed: 0 });
            assert.equal((await aws.jobRuns(JOB)).length, 0);
        });
    });

    describe("the version uploaded is the version processed (events shaped as S3 sends them: size, eTag, versionId, sequencer)", () => {
        const VERSIONED = "glue-input-versioned";

        beforeEach(() => aws.createBucket(VERSIONED, { versioned: true }));

        async function uploadVersioned(key: string, body: string): Promise<EventObject & { versionId: string }> {
            const put = await aws.putObject(VERSIONED, key, body);
            assert.ok(put.versionId, "the emulator versions the bucket");
            return { bucket: VERSIONED, key, size: put.size, eTag: put.etag, versionId: put.versionId };
        }

        async function deleteObject(bucket: string, key: string): Promise<void> {
            await aws.clients.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
        }

        it("records an object deleted before the trigger ran as SOURCE_DELETED and starts no run (unversioned bucket)", async () => {
            // Prepare: the event has the object's size and ETag, as every real ObjectCreated event does.
            const object = await upload("gone/deleted.csv");
            assert.ok(object.size && object.eTag);
            await deleteObject(INPUT, "gone/deleted.csv");
            const { deps, lines } = harness();

            // Act
            const summary = await trigger.handleS3Event(s3Event(object), lambdaContext(), deps);

            // Assess
            assert.deepEqual(counts(summary), { started: 0, skipped: 0, ignored: 0, rejected: 1, failed: 0 });
            assert.equal(summary.records[0].outcome === "rejected" && summary.records[0].status, "SOURCE_DELETED");
            const item = await record(expectedFileId(INPUT, "gone/deleted.csv", object.eTag!));
            assert.equal(item?.processing_status, "SOURCE_DELETED");
            assert.match(String(item?.error_message), new RegExp(`deleted before it was processed \\(the event named ETag ${object.eTag}\\)`));
            assert.equal(item?.file_size_bytes, object.size);
            assert.equal((await aws.jobRuns(JOB)).length, 0);
            assert.ok(lines.some((l) => l.message === "file not processed" && l.status === "SOURCE_DELETED" && l.level === "WARN"));
        });

        it("records a version whose key now holds a delete marker as SOURCE_DELETED; a duplicate of that event is skipped", async () => {
            const object = await uploadVersioned("gone/marker.csv", csv(2));
            await deleteObject(VERSIONED, "gone/marker.csv");
            const { deps } = harness();

            const first = await trigger.handleS3Event(s3Event(object), lambdaContext(), deps);
            const again = await trigger.handleS3Event(s3Event(object), lambdaContext(), deps);

            assert.equal(first.rejected, 1);
            assert.deepEqual(counts(again), { started: 0, skipped: 1, ignored: 0, rejected: 0, failed: 0 });
            const item = await record(expectedFileId(VERSIONED, "gone/marker.csv", object.versionId));
            assert.equal(item?.processing_status, "SOURCE_DELETED");
            assert.match(String(item?.error_message), new RegExp(`version ${object.versionId}`));
            assert.equal((await aws.jobRuns(JOB)).length, 0);
        });

        for (const order of ["older event first", "newer event first"] as const) {
            it(`records an overwritten version SUPERSEDED and runs only the newer one (${order}, versioned bucket)`, async () => {
                // Prepare: two uploads of one key; both events arrive after the second upload (S3 does not order them).
                const older = await uploadVersioned("daily/overwritten.csv", csv(1));
                const newer = await uploadVersioned("daily/overwritten.csv", csv(3));
                const events = order === "older event first" ? [older, newer] : [newer, older];
                const { deps } = harness();

                // Act: one event each, as S3 delivers them.
                for (const e of events) await trigger.handleS3Event(s3Event(e), lambdaContext(), deps);

                // Assess
                const olderItem = await record(expectedFileId(VERSIONED, "daily/overwritten.csv", older.versionId));
                assert.equal(olderItem?.processing_status, "SUPERSEDED");
                assert.match(String(olderItem?.error_message), new RegExp(`version ${older.versionId} is no longer current \\(version ${newer.versionId} is\\)`));
                assert.equal(olderItem?.job_run_id, undefined);
                const newerId = expectedFileId(VERSIONED, "daily/overwritten.csv", newer.versionId);
                assert.equal((await record(newerId))?.processing_status, "STARTED");
                const runs = await aws.jobRuns(JOB);
                assert.equal(runs.length, 1);
                const args = await runArguments(runs[0].Id);
                assert.equal(args?.["--file_id"], newerId);
                assert.equal(args?.["--source_version_id"], newer.versionId);
                assert.equal(args?.["--source_etag"], newer.eTag);
            });
        }

        it("compares ETags on an unversioned bucket: the overwritten upload is SUPERSEDED, the current one starts", async () => {
            const older = await upload("daily/etag.csv", csv(1));
            const newer = await upload("daily/etag.csv", csv(4));
            assert.notEqual(older.eTag, newer.eTag);
            const { deps } = harness();

            const summary = await trigger.handleS3Event(s3Event(older, newer), lambdaContext(), deps);

            assert.deepEqual(counts(summary), { started: 1, skipped: 0, ignored: 0, rejected: 1, failed: 0 });
            const olderItem = await record(expectedFileId(INPUT, "daily/etag.csv", older.eTag!));
            assert.equal(olderItem?.processing_status, "SUPERSEDED");
            assert.match(String(olderItem?.error_message), new RegExp(`ETag ${older.eTag} is no longer current \\(ETag ${newer.eTag} is\\)`));
            const runs = await aws.jobRuns(JOB);
            assert.equal(runs.length, 1);
            assert.equal((await runArguments(runs[0].Id))?.["--source_etag"], newer.eTag);
            assert.equal((await runArguments(runs[0].Id))?.["--source_version_id"], undefined, "no version id on an unversioned bucket");
        });

        it("does not downgrade a version that already started when its event is redelivered after an overwrite", async () => {
            // The first version ran; then the key was overwritten; then S3 redelivers the first event.
            const older = await uploadVersioned("daily/redelivered.csv", csv(1));
            const { deps } = harness();
            await trigger.handleS3Event(s3Event(older), lambdaContext(), deps);
            await uploadVersioned("daily/redelivered.csv", csv(2));

            const again = await trigger.handleS3Event(s3Event(older), lambdaContext(), deps);

            assert.deepEqual(counts(again), { started: 0, skipped: 1, ignored: 0, rejected: 0, failed: 0 });
            assert.equal((await record(expectedFileId(VERSIONED, "daily/redelivered.csv", older.versionId)))?.processing_status, "STARTED");
            assert.equal((await aws.jobRuns(JOB)).length, 1);
        });
    });

    describe("keys are data, never patterns or path tricks", () => {
        // Each key is stored in the emulator as S3 stores it, and the event carries it encoded as S3 sends it.
        // The quarantine prefix (`quarantine/` + stem) is the longer derived key, so it meets the limit first.
        const longStem = `long/${"a".repeat(1024 - "quarantine/long/".length - "/".length - DERIVED_RESERVE + 1)}`;
        const rejected: [name: string, key: string, reason: RegExp][] = [
            ["a '..' segment", "x/../../processed.csv", /'\.\.' path segment/],
            ["a '.' segment", "x/./y.csv", /'\.' path segment/],
            ["a leading '/'", "/abs/y.csv", /empty path segment/],
            ["'//'", "x//y.csv", /empty path segment/],
            ["a control character (BEL)", "x/bell\u0007.csv", /control character U\+0007/],
            // (A newline is refused by the same rule; the emulator cannot store such a key to test it with.)
            ["a control character (tab)", "x/tab\there.csv", /control character U\+0009/],
            ["a control character (C1, U+0085)", "x/next\u0085line.csv", /control character U\+0085/],
            ["a bidi override", "x/invoice\u202Evsc.csv", /bidirectional formatting character U\+202E/],
            ["a bidi isolate", "x/\u2066a\u2069.csv", /bidirectional formatting character U\+2066/],
            ["a derived quarantine key beyond S3's 1,024 bytes", `${longStem}.csv`, /derived quarantine key is 897 bytes.*1024-byte key limit/],
        ];

        it("the long key is itself a valid S3 key, and its derived output key crosses the limit by one byte", () => {
            const key = `${longStem}.csv`;
            assert.ok(Buffer.byteLength(key) <= 1024);
            assert.equal(Buffer.byteLength(`quarantine/${longStem}/`) + DERIVED_RESERVE, 1025);
        });

        for (const [name, key, reason] of rejected) {
            it(`rejects a key with ${name}: REJECTED with the reason, no run`, async () => {
                // Prepare: the object exists (it is the key, not the object, that is refused).
                const object = await upload(key);
                const { deps } = harness();

                // Act
                const summary = await trigger.handleS3Event(s3Event(object), lambdaContext(), deps);

                // Assess
                assert.deepEqual(counts(summary), { started: 0, skipped: 0, ignored: 0, rejected: 1, failed: 0 });
                const item = await record(expectedFileId(INPUT, key, object.eTag!));
                assert.equal(item?.processing_status, "REJECTED");
                assert.match(String(item?.error_message), reason);
                assert.equal(item?.source_key, key, "the record keeps the key exactly");
                assert.equal((await aws.jobRuns(JOB)).length, 0);
            });
        }

        it("accepts a key one byte shorter than the limit", async () => {
            const key = `${longStem.slice(0, -1)}.csv`;
            const object = await upload(key);
            const { deps } = harness();

            const summary = await trigger.handleS3Event(s3Event(object), lambdaContext(), deps);

            assert.equal(summary.started, 1);
        });

        const literal = ["in/r[1].csv", "in/s*.csv", "in/q?.csv", "in/a{b,c}.csv", "in/e\\f.csv", "in/[!x]{}.csv", "in/c:d.csv", "in/100% sure+.csv"];
        it("accepts glob characters and passes every key to its run literally", async () => {
            // Prepare: each key next to a neighbour its pattern would match.
            const objects = [];
            for (const key of literal) objects.push(await upload(key));
            await upload("in/r1.csv");
            const { deps } = harness();

            // Act
            const summary = await trigger.handleS3Event(s3Event(...objects), lambdaContext(), deps);

            // Assess
            assert.deepEqual(counts(summary), { started: literal.length, skipped: 0, ignored: 0, rejected: 0, failed: 0 });
            const runs = await aws.jobRuns(JOB);
            const byKey = new Map<string, Record<string, string> | undefined>();
            for (const run of runs) {
                const args = await runArguments(run.Id);
                byKey.set(String(args?.["--source_file"]), args);
            }
            assert.deepEqual([...byKey.keys()].sort(), [...literal].sort());
            for (const object of objects) {
                const stem = object.key.slice(0, -".csv".length);
                const args = byKey.get(object.key);
                assert.equal(args?.["--input_path"], `s3://${INPUT}/${object.key}`);
                assert.equal(args?.["--output_path"], `s3://${OUTPUT}/processed/${stem}/`);
                assert.equal(args?.["--quarantine_path"], `s3://${OUTPUT}/quarantine/${stem}/`);
                assert.equal(args?.["--file_id"], expectedFileId(INPUT, object.key, object.eTag!));
            }
        });
    });

    describe("duplicate deliveries", () => {
        it("starts one run when the same event is delivered twice, and logs the skip with the existing status", async () => {
            // Prepare
            const event = s3Event(await upload("dup/orders.csv"));
            const first = harness();
            await trigger.handleS3Event(event, lambdaContext(), first.deps);
            const second = harness();

            // Act
            const summary = await trigger.handleS3Event(event, lambdaContext(30_000, "test-request-2"), second.deps);

            // Assess
            assert.deepEqual(counts(summary), { started: 0, skipped: 1, ignored: 0, rejected: 0, failed: 0 });
            const runs = await aws.jobRuns(JOB);
            assert.equal(runs.length, 1);
            const skip = second.lines.find((l) => l.message === "duplicate delivery skipped");
            assert.ok(skip, "a skip line is logged");
            assert.equal(skip.existing_status, "STARTED");
            assert.equal(skip.existing_job_run_id, runs[0].Id);
            assert.equal(skip.aws_request_id, "test-request-2");
            assert.equal(skip.level, "INFO");
        });

        it("starts one run when one event holds two records for the same object", async () => {
            const object = await upload("dup/twice-in-one-event.csv");
            const { deps } = harness();

            const summary = await trigger.handleS3Event(s3Event(object, object), lambdaContext(), deps);

            assert.deepEqual(counts(summary), { started: 1, skipped: 1, ignored: 0, rejected: 0, failed: 0 });
            assert.equal((await aws.jobRuns(JOB)).length, 1);
            const item = await record(expectedFileId(INPUT, "dup/twice-in-one-event.csv", object.eTag!));
            assert.equal(item?.attempts, 1, "the second record did not claim it again");
        });
    });

    describe("key decoding", () => {
        const keys = [
            { name: "spaces (sent as +)", key: "daily reports/q1 sales.csv", rawKey: "daily+reports/q1+sales.csv" },
            { name: "UTF-8 (sent as %XX)", key: "données/été 2025/relevé.csv", rawKey: "donn%C3%A9es/%C3%A9t%C3%A9+2025/relev%C3%A9.csv" },
            { name: "a literal plus (sent as %2B)", key: "c++/a+b.csv", rawKey: "c%2B%2B/a%2Bb.csv" },
        ];

        it("decodes each key, finds the object (HeadObject when the event lacks its size) and passes the decoded key on", async () => {
            // Prepare: events without size force a HeadObject, which only finds the object under the decoded key.
            const objects: EventObject[] = [];
            for (const k of keys) {
                const put = await aws.putObject(INPUT, k.key, csv());
                objects.push({ bucket: INPUT, key: k.key, rawKey: k.rawKey, size: null, eTag: put.etag });
            }
            const { deps } = harness();

            // Act
            const summary = await trigger.handleS3Event(s3Event(...objects), lambdaContext(), deps);

            // Assess
            assert.equal(summary.started, keys.length);
            for (const [i, k] of keys.entries()) {
                const item = await record(expectedFileId(INPUT, k.key, objects[i].eTag!));
                assert.ok(item, `record for ${k.name}`);
                assert.equal(item.source_key, k.key, k.name);
                assert.equal(item.file_size_bytes, Buffer.byteLength(csv()), `${k.name}: size read with HeadObject`);
                const args = await runArguments(String(item.job_run_id));
                assert.equal(args?.["--input_path"], `s3://${INPUT}/${k.key}`, k.name);
                assert.equal(args?.["--source_file"], k.key, k.name);
            }
        });

        it("fails the record, not the batch silently, when a key is not validly encoded", async () => {
            const good = await upload("fine.csv");
            const { deps } = harness();

            await assert.rejects(
                trigger.handleS3Event(s3Event(good, { bucket: INPUT, key: "", rawKey: "bad%E0%A4%A.csv" }), lambdaContext(), deps),
                (err: Error) => err.name === "TriggerBatchError" && /bad%E0%A4%A\.csv: URIError/.test(err.message),
            );
            assert.equal((await aws.jobRuns(JOB)).length, 1, "the valid record still started");
        });
    });

    describe("files that are not processed", () => {
        it("ignores keys without the suffix (no record, no run) and logs why; the suffix match ignores case", async () => {
            // Prepare
            const json = await upload("exports/report.json", "{}");
            const folder = { bucket: INPUT, key: "exports/", size: 0 };
            const upper = await upload("exports/REPORT.CSV");
            const { deps, lines } = harness();

            // Act
            const summary = await trigger.handleS3Event(s3Event(json, folder, upper), lambdaContext(), deps);

            // Assess
            assert.deepEqual(counts(summary), { started: 1, skipped: 0, ignored: 2, rejected: 0, failed: 0 });
            const items = await allRecords();
            assert.deepEqual(
                items.map((i) => i.source_key),
                ["exports/REPORT.CSV"],
            );
            const runs = await aws.jobRuns(JOB);
            assert.equal(runs.length, 1);
            assert.equal((await runArguments(runs[0].Id))?.["--output_path"], `s3://${OUTPUT}/processed/exports/REPORT/`);
            const ignored = lines.filter((l) => l.message === "record ignored");
            assert.deepEqual(
                ignored.map((l) => l.s3_uri),
                [`s3://${INPUT}/exports/report.json`, `s3://${INPUT}/exports/`],
            );
            assert.match(String(ignored[0].reason), /does not end with \.csv/);
        });

        it("records a zero-byte object as REJECTED with the reason and starts no run", async () => {
            const empty = await upload("empty/nothing.csv", "");
            const { deps } = harness();

            const summary = await trigger.handleS3Event(s3Event(empty), lambdaContext(), deps);

            assert.deepEqual(counts(summary), { started: 0, skipped: 0, ignored: 0, rejected: 1, failed: 0 });
            const item = await record(expectedFileId(INPUT, "empty/nothing.csv", empty.eTag!));
            assert.equal(item?.processing_status, "REJECTED");
            assert.match(String(item?.error_message), /empty \(0 bytes\)/);
            assert.equal(item?.file_size_bytes, 0);
            assert.equal((await aws.jobRuns(JOB)).length, 0);
        });

        it("reads the size with HeadObject when the event lacks it, and still rejects an empty object once", async () => {
            const put = await aws.putObject(INPUT, "empty/no-size.csv", "");
            const object: EventObject = { bucket: INPUT, key: "empty/no-size.csv", size: null, eTag: null };
            const { deps } = harness();

            const first = await trigger.handleS3Event(s3Event(object), lambdaContext(), deps);
            const again = await trigger.handleS3Event(s3Event(object), lambdaContext(), deps);

            assert.equal(first.rejected, 1);
            assert.deepEqual(counts(again), { started: 0, skipped: 1, ignored: 0, rejected: 0, failed: 0 });
            const item = await record(expectedFileId(INPUT, "empty/no-size.csv", put.etag));
            assert.equal(item?.processing_status, "REJECTED");
            assert.equal((await aws.jobRuns(JOB)).length, 0);
        });
    });

    describe("when Glue refuses to start a run (ConcurrentRunsExceededException, enforced by moto)", () => {
        beforeEach(async () => {
            // A job allowing one run at a time, whose only slot is taken by a run that stays STARTING.
            await aws.createGlueJob("FileProcessorV2-busy", { maxConcurrentRuns: 1 });
            await aws.holdJobRuns();
            await aws.startJobRun("FileProcessorV2-busy");
        });

        describe("from its queue", () => {
            const sqsMessage = (id: string, body: unknown, waitAttempt?: number) => ({
                messageId: id,
                body: JSON.stringify(body),
                eventSource: "aws:sqs",
                eventSourceARN: "arn:aws:sqs:eu-west-1:123456789012:glue-trigger-test",
                ...(waitAttempt !== undefined ? { messageAttributes: { wait_attempt: { stringValue: String(waitAttempt), dataType: "Number" } } } : {}),
            });
            /** An SQS client that records what the trigger sends back to its queue. */
            const recordingSqs = () => {
                const sent: any[] = [];
                return { sent, client: { send: async (command: { input: unknown }) => (sent.push(command.input), {}) } as never };
            };

            it("puts the file to wait (WAITING, its wait counted) and sends its message back with the delay, without sleeping on the refusal", async () => {
                const object = await upload("queued/a.csv");
                const sqs = recordingSqs();
                const { deps, sleeps } = harness({
                    config: { glueJobName: "FileProcessorV2-busy", queueFeed: { requeueBaseDelaySeconds: 30, requeueMaxDelaySeconds: 900, maxWaitAttempts: 10, queueUrl: "http://localhost/123456789012/q" } },
                    sqs: sqs.client,
                });

                const summary = await trigger.handleQueueEvent({ Records: [sqsMessage("m1", s3Event(object), 2)] }, lambdaContext(), deps);

                assert.deepEqual(summary.batchItemFailures, []);
                assert.equal(summary.waiting, 1);
                assert.deepEqual(sleeps, [], "a full job is waited out in the queue, not in the invocation");
                const item = await record(expectedFileId(INPUT, "queued/a.csv", object.eTag!));
                assert.equal(item?.processing_status, "WAITING");
                assert.equal(item?.wait_attempts, 3, "the message had waited twice: this is its third wait");
                assert.equal(sqs.sent.length, 1);
                assert.equal(sqs.sent[0].DelaySeconds, 120, "30 s x 2^(3-1)");
                assert.equal(sqs.sent[0].MessageAttributes.wait_attempt.StringValue, "3");
                assert.equal(sqs.sent[0].MessageBody, JSON.stringify(s3Event(object)));
            });

            it("fails a file that has waited its most (START_FAILED, the message a batch item failure, so the redrive policy ends it in the DLQ)", async () => {
                const object = await upload("queued/b.csv");
                const sqs = recordingSqs();
                const { deps } = harness({
                    config: { glueJobName: "FileProcessorV2-busy", queueFeed: { requeueBaseDelaySeconds: 30, requeueMaxDelaySeconds: 900, maxWaitAttempts: 2 } },
                    sqs: sqs.client,
                });

                const summary = await trigger.handleQueueEvent({ Records: [sqsMessage("m1", s3Event(object), 2)] }, lambdaContext(), deps);

                assert.deepEqual(summary.batchItemFailures, [{ itemIdentifier: "m1" }]);
                assert.equal(sqs.sent.length, 0);
                const item = await record(expectedFileId(INPUT, "queued/b.csv", object.eTag!));
                assert.equal(item?.processing_status, "START_FAILED");
                assert.match(String(item?.error_message), /ConcurrentRunsExceededException|already running/);
            });
        });

        it("retries with backoff, then records START_FAILED and throws; a later delivery claims and starts it", async () => {
            // Prepare
            const object = await upload("busy/payments.csv");
            const event = s3Event(object);
            const fileId = expectedFileId(INPUT, "busy/payments.csv", object.eTag!);
            const first = harness({ config: { glueJobName: "FileProcessorV2-busy", startAttempts: 3 }, random: () => 0.5 });

            // Act
            await assert.rejects(trigger.handleS3Event(event, lambdaContext(), first.deps), (err: Error) => {
                assert.equal(err.name, "TriggerBatchError");
                assert.match(err.message, /^1 of 1 S3 record\(s\) failed: s3:\/\/glue-input-test-123456789012\/busy\/payments\.csv: /);
                assert.match(err.message, /ConcurrentRunsExceededException/);
                return true;
            });

            // Assess: 3 attempts = 2 backoff delays, full jitter at random()=0.5 of ceilings 40 and 80 ms.
            assert.deepEqual(first.sleeps, [20, 40]);
            assert.equal(first.lines.filter((l) => l.message === "StartJobRun failed; retrying after backoff").length, 2);
            let item = await record(fileId);
            assert.equal(item?.processing_status, "START_FAILED");
            assert.match(String(item?.error_message), /StartJobRun failed after 3 attempt\(s\): ConcurrentRunsExceededException/);
            assert.equal(item?.lease_expires_at, undefined);
            assert.equal((await aws.jobRuns("FileProcessorV2-busy")).length, 1, "only the run that holds the slot");

            // Act again: the occupying run finishes, then Lambda's async retry redelivers the event.
            await aws.releaseJobRuns();
            const retry = harness({ config: { glueJobName: "FileProcessorV2-busy" } });
            const summary = await trigger.handleS3Event(event, lambdaContext(), retry.deps);

            // Assess
            assert.equal(summary.started, 1);
            item = await record(fileId);
            assert.equal(item?.processing_status, "STARTED");
            assert.equal(item?.attempts, 2);
            assert.equal(item?.error_message, undefined, "the old error is cleared by the new claim");
            const runs = await aws.jobRuns("FileProcessorV2-busy");
            assert.equal(runs.length, 2);
            assert.equal(item?.job_run_id, runs.find((r) => r.Arguments?.["--file_id"] === fileId)?.Id);
        });

        it("stops retrying early rather than run past the invocation's time budget", async () => {
            const object = await upload("busy/late.csv");
            // 6 s left, 5 s must stay free, and the first delay would be ~1.9 s: no retry fits.
            const { deps, sleeps } = harness({
                config: { glueJobName: "FileProcessorV2-busy", startAttempts: 5 },
                backoff: { baseDelayMs: 2000, maxDelayMs: 8000 },
                reserveMs: 5000,
                random: () => 0.95,
            });

            await assert.rejects(trigger.handleS3Event(s3Event(object), lambdaContext(6000), deps), /time budget/);

            assert.deepEqual(sleeps, []);
            const item = await record(expectedFileId(INPUT, "busy/late.csv", object.eTag!));
            assert.equal(item?.processing_status, "START_FAILED");
            assert.match(String(item?.error_message), /after 1 attempt\(s\), stopping early/);
        });
    });

    describe("when Glue throttles StartJobRun (injected: moto never throttles)", () => {
        it("retries the throttled call and starts the run", async () => {
            // Prepare: a real client against the emulator whose first StartJobRun is answered with throttling.
            const glue = new GlueClient({ maxAttempts: 1 });
            let calls = 0;
            glue.middlewareStack.add(
                (next, context) => async (args) => {
                    if (context.commandName === "StartJobRunCommand" && ++calls === 1) {
                        throw Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException", $metadata: { httpStatusCode: 400 } });
                    }
                    return next(args);
                },
                { step: "initialize", name: "throttleOnce" },
            );
            const object = await upload("throttled/once.csv");
            const { deps, sleeps } = harness({ glue });

            // Act
            const summary = await trigger.handleS3Event(s3Event(object), lambdaContext(), deps);

            // Assess
            assert.equal(summary.started, 1);
            assert.equal(calls, 2);
            assert.equal(sleeps.length, 1);
            const item = await record(expectedFileId(INPUT, "throttled/once.csv", object.eTag!));
            assert.equal(item?.processing_status, "STARTED");
            assert.equal((await aws.jobRuns(JOB)).length, 1);
        });
    });

    describe("claims left behind", () => {
        it("takes over a CLAIMED record whose lease expired (the Lambda that claimed it died) and starts it", async () => {
            const object = await upload("orphan/claimed.csv");
            const fileId = expectedFileId(INPUT, "orphan/claimed.csv", object.eTag!);
            await aws.putItem(TABLE, {
                file_id: fileId,
                processing_status: "CLAIMED",
                attempts: 1,
                lease_expires_at: new Date(Date.now() - 1000).toISOString(),
                created_at: "2025-01-15T09:30:01.000Z",
                updated_at: "2025-01-15T09:30:01.000Z",
            });
            const { deps } = harness();

            const summary = await trigger.handleS3Event(s3Event(object), lambdaContext(), deps);

            assert.equal(summary.started, 1);
            const item = await record(fileId);
            assert.equal(item?.processing_status, "STARTED");
            assert.equal(item?.attempts, 2);
            assert.equal(item?.created_at, "2025-01-15T09:30:01.000Z", "created_at keeps the first claim's time");
            assert.equal((await aws.jobRuns(JOB)).length, 1);
        });

        it("leaves a CLAIMED record whose lease is live to its owner", async () => {
            const object = await upload("orphan/live.csv");
            const fileId = expectedFileId(INPUT, "orphan/live.csv", object.eTag!);
            const lease = new Date(Date.now() + 45_000).toISOString();
            await aws.putItem(TABLE, { file_id: fileId, processing_status: "CLAIMED", attempts: 1, lease_expires_at: lease });
            const { deps } = harness();

            const summary = await trigger.handleS3Event(s3Event(object), lambdaContext(), deps);

            assert.equal(summary.skipped, 1);
            assert.deepEqual(await record(fileId), { file_id: fileId, processing_status: "CLAIMED", attempts: 1, lease_expires_at: lease });
            assert.equal((await aws.jobRuns(JOB)).length, 0);
        });
    });

    describe("one bad record among good ones", () => {
        it("starts the good ones when an object is missing, then throws naming the missing one", async () => {
            // Prepare: the middle object was never uploaded (deleted before the event was handled).
            const a = await upload("batch/a.csv");
            const missing: EventObject = { bucket: INPUT, key: "batch/missing.csv", size: null, eTag: null };
            const c = await upload("batch/c.csv");
            const { deps } = harness();

            // Act
            let thrown: unknown;
            await trigger.handleS3Event(s3Event(a, missing, c), lambdaContext(), deps).catch((err) => (thrown = err));

            // Assess
            assert.ok(thrown instanceof trigger.TriggerBatchError, "a TriggerBatchError is thrown");
            assert.equal(thrown.failures.length, 1);
            assert.equal(thrown.failures[0].uri, `s3://${INPUT}/batch/missing.csv`);
            assert.match(thrown.message, /^1 of 3 S3 record\(s\) failed: s3:\/\/\S+\/batch\/missing\.csv: Error: object .* does not exist/);
            for (const put of [a, c]) {
                const item = await record(expectedFileId(INPUT, put.key, put.eTag!));
                assert.equal(item?.processing_status, "STARTED", put.key);
            }
            assert.equal((await aws.jobRuns(JOB)).length, 2);
        });

        it("starts the good ones when Glue refuses one start, records it START_FAILED and throws naming it", async () => {
            // Prepare: two slots, runs held in STARTING, three files in one event.
            await aws.createGlueJob("FileProcessorV2-two-slots", { maxConcurrentRuns: 2 });
            await aws.holdJobRuns();
            const files = [await upload("burst/1.csv"), await upload("burst/2.csv"), await upload("burst/3.csv")];
            const { deps } = harness({ config: { glueJobName: "FileProcessorV2-two-slots", startAttempts: 2 } });

            // Act
            let thrown: unknown;
            await trigger.handleS3Event(s3Event(...files), lambdaContext(), deps).catch((err) => (thrown = err));

            // Assess
            assert.ok(thrown instanceof trigger.TriggerBatchError);
            assert.deepEqual(
                thrown.failures.map((f) => f.uri),
                [`s3://${INPUT}/burst/3.csv`],
            );
            const statuses = [];
            for (const f of files) statuses.push((await record(expectedFileId(INPUT, f.key, f.eTag!)))?.processing_status);
            assert.deepEqual(statuses, ["STARTED", "STARTED", "START_FAILED"]);
            assert.equal((await aws.jobRuns("FileProcessorV2-two-slots")).length, 2);
        });
    });

    describe("handler.ts and the shipped bundle", () => {
        const handlerEnv = {
            GLUE_JOB_NAME: JOB,
            METADATA_TABLE: TABLE,
            OUTPUT_BUCKET: OUTPUT,
            // Quiet: these tests assert on effects, and the logger has its own tests.
            LOG_LEVEL: "ERROR",
        };
        const saved: Record<string, string | undefined> = {};
        let bundlePath: string;

        before(() => {
            for (const [name, value] of Object.entries(handlerEnv)) {
                saved[name] = process.env[name];
                process.env[name] = value;
            }
            const { bundleFunction } = require("../../components/compute/lambdaBundle") as typeof import("../../components/compute/lambdaBundle");
            const bundle = bundleFunction("functions/glue-trigger/handler.ts");
            bundlePath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "glue-trigger-")), "index.js");
            fs.writeFileSync(bundlePath, bundle.code);
        });

        after(() => {
            for (const [name, value] of Object.entries(saved)) {
                if (value === undefined) delete process.env[name];
                else process.env[name] = value;
            }
            fs.rmSync(path.dirname(bundlePath), { recursive: true, force: true });
        });

        it("handler.ts reads its environment at load and starts a run for an S3 event", async () => {
            const object = await upload("handler/ts.csv");
            const { handler } = require("../../functions/glue-trigger/handler") as typeof import("../../functions/glue-trigger/handler");

            const summary = (await handler(s3Event(object), lambdaContext() as never)) as TriggerSummary;

            assert.equal(summary.started, 1);
            const item = await record(expectedFileId(INPUT, "handler/ts.csv", object.eTag!));
            assert.equal(item?.processing_status, "STARTED");
        });

        it("the esbuild bundle takes a batch from its queue (Powertools batch bundled): starts the run, drops s3:TestEvent, answers no failures", async () => {
            const object = await upload("handler/queued.csv");
            const { handler } = require(bundlePath) as typeof import("../../functions/glue-trigger/handler");
            const message = (id: string, body: unknown) => ({
                messageId: id,
                receiptHandle: `rh-${id}`,
                body: JSON.stringify(body),
                attributes: {},
                messageAttributes: {},
                md5OfBody: "",
                eventSource: "aws:sqs",
                eventSourceARN: "arn:aws:sqs:eu-west-1:123456789012:glue-trigger-test",
                awsRegion: "eu-west-1",
            });

            const answer = await handler({ Records: [message("m1", s3Event(object)), message("m2", S3_TEST_EVENT)] } as never, lambdaContext() as never);

            assert.deepEqual(answer, { batchItemFailures: [] });
            assert.equal((await record(expectedFileId(INPUT, "handler/queued.csv", object.eTag!)))?.processing_status, "STARTED");
        });

        it("the esbuild bundle, as shipped, exports handler and starts a run against the emulator", async () => {
            const object = await upload("handler/bundle.csv");
            const { handler } = require(bundlePath) as typeof import("../../functions/glue-trigger/handler");

            const summary = (await handler(s3Event(object), lambdaContext() as never)) as TriggerSummary;

            assert.equal(summary.started, 1);
            const runs = await aws.jobRuns(JOB);
            assert.equal(runs.length, 1);
            assert.equal(runs[0].Arguments?.["--source_file"], "handler/bundle.csv");
        });

        it("the bundle, traced as in Lambda, starts the run and sends an X-Ray subsegment for each AWS call", async () => {
            // Prepare: a UDP socket in place of the X-Ray daemon, and the variables Lambda sets when active
            // tracing is on. The bundle runs in its own process: the X-Ray SDK keeps Lambda mode process-wide.
            const object = await upload("handler/traced.csv");
            const daemon = dgram.createSocket("udp4");
            const documents: Record<string, any>[] = [];
            daemon.on("message", (packet) => documents.push(JSON.parse(packet.toString("utf8").split("\n")[1])));
            await new Promise<void>((resolve) => daemon.bind(0, "127.0.0.1", resolve));
            const traceRoot = "1-67890abc-0123456789abcdef01234567";
            const env = {
                ...process.env,
                ...emulatorEnv(aws.endpoint),
                ...handlerEnv,
                AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x",
                LAMBDA_TASK_ROOT: path.dirname(bundlePath),
                _X_AMZN_TRACE_ID: `Root=${traceRoot};Parent=53995c3f42cd8ad8;Sampled=1`,
                AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${daemon.address().port}`,
                NODE_NO_WARNINGS: "1",
            };
            const invoke =
                `require(${JSON.stringify(bundlePath)}).handler(${JSON.stringify(s3Event(object))}, { awsRequestId: "traced", getRemainingTimeInMillis: () => 30000 })` +
                ".then((s) => process.stdout.write(JSON.stringify(s)), (e) => { console.error(e); process.exitCode = 1; })";

            // Act
            const child = spawn(process.execPath, ["-e", invoke], { env, stdio: ["ignore", "pipe", "pipe"] });
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (d) => (stdout += d));
            child.stderr.on("data", (d) => (stderr += d));
            const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
            await new Promise((resolve) => setTimeout(resolve, 200));
            daemon.close();

            // Assess: the run started, and every call is a subsegment of the invocation's trace.
            assert.equal(code, 0, stderr);
            assert.equal(JSON.parse(stdout.slice(stdout.lastIndexOf("{\"started\""))).started, 1);
            assert.equal((await aws.jobRuns(JOB)).filter((r) => r.Arguments?.["--source_file"] === "handler/traced.csv").length, 1);
            const calls = documents.filter((d) => d.trace_id === traceRoot && d.namespace === "aws").map((d) => `${d.name}.${d.aws?.operation}`);
            for (const call of ["S3.HeadObject", "DynamoDB.UpdateItem", "Glue.StartJobRun"]) assert.ok(calls.includes(call), `${call} not traced: ${calls.join(", ")}`);
        });

        it("the bundle fails its cold start with a message naming each missing or invalid variable", () => {
            const { GLUE_JOB_NAME: _job, OUTPUT_BUCKET: _out, ...env } = { ...process.env, ...emulatorEnv(aws.endpoint), ...handlerEnv };
            const result = spawnSync(process.execPath, ["-e", `require(${JSON.stringify(bundlePath)})`], {
                env: { ...env, START_ATTEMPTS: "zero", NODE_NO_WARNINGS: "1" },
                encoding: "utf8",
            });
            assert.notEqual(result.status, 0);
            assert.match(result.stderr, /EnvironmentError: Invalid environment: /);
            assert.match(result.stderr, /GLUE_JOB_NAME is required but not set/);
            assert.match(result.stderr, /OUTPUT_BUCKET is required but not set/);
            assert.match(result.stderr, /START_ATTEMPTS must be an integer between 1 and 10, got "zero"/);
        });
    });
});
