/**
 * The processing-record store against a real DynamoDB API (moto): the claim rule, exactly one winner among
 * concurrent claimers, and the outcome writes that must not clobber a newer claim or the job's own status.
 */
import assert from "node:assert/strict";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { ProcessingRecordStore, ProcessingStatus, SourceObject } from "../../functions/shared/processingRecords";
import { useEmulator } from "../support/emulator";

const TABLE = "etl-pipeline-metadata-test";
const NOW = new Date("2025-03-01T12:00:00.000Z");
const PAST = "2025-03-01T11:59:59.000Z";
const FUTURE = "2025-03-01T12:00:30.000Z";

const SOURCE: SourceObject = { fileId: "f".repeat(64), bucket: "in", key: "dir/a.csv", version: "v1", sizeBytes: 42 };

describe("ProcessingRecordStore against the emulator", () => {
    const aws = useEmulator();
    let store: ProcessingRecordStore;
    let clock: Date;

    beforeEach(async () => {
        await aws.createMetadataTable(TABLE);
        clock = NOW;
        store = new ProcessingRecordStore(DynamoDBDocumentClient.from(aws.clients.dynamodb), TABLE, () => clock);
    });

    const existing = (status: ProcessingStatus, extra: Record<string, unknown> = {}) => ({
        file_id: SOURCE.fileId,
        processing_status: status,
        attempts: 1,
        created_at: "2025-03-01T10:00:00.000Z",
        updated_at: "2025-03-01T10:00:00.000Z",
        ...extra,
    });

    describe("the claim rule", () => {
        const rows: { name: string; item?: Record<string, unknown>; allowFailed?: boolean; claimed: boolean }[] = [
            { name: "no record", claimed: true },
            { name: "START_FAILED", item: existing("START_FAILED", { error_message: "busy" }), claimed: true },
            { name: "CLAIMED, lease expired", item: existing("CLAIMED", { lease_expires_at: PAST }), claimed: true },
            { name: "CLAIMED, lease live", item: existing("CLAIMED", { lease_expires_at: FUTURE }), claimed: false },
            { name: "STARTED", item: existing("STARTED", { job_run_id: "jr_1" }), claimed: false },
            { name: "RUNNING", item: existing("RUNNING", { job_run_id: "jr_1" }), claimed: false },
            { name: "SUCCEEDED", item: existing("SUCCEEDED", { job_run_id: "jr_1" }), claimed: false },
            { name: "REJECTED", item: existing("REJECTED"), claimed: false },
            // Terminal: a newer version, or nothing, is left to process; a replay must not revive them.
            { name: "SUPERSEDED, even by a replay", item: existing("SUPERSEDED"), allowFailed: true, claimed: false },
            { name: "SOURCE_DELETED, even by a replay", item: existing("SOURCE_DELETED"), allowFailed: true, claimed: false },
            { name: "FAILED, by the trigger", item: existing("FAILED"), claimed: false },
            { name: "FAILED, by a replay", item: existing("FAILED", { error_message: "boom", job_run_id: "jr_1", rows_in: 3 }), allowFailed: true, claimed: true },
        ];

        for (const row of rows) {
            it(`${row.claimed ? "claims" : "does not claim"} a file whose record is: ${row.name}`, async () => {
                // Prepare
                if (row.item) await aws.putItem(TABLE, row.item);

                // Act
                const result = await store.claim({
                    source: SOURCE,
                    leaseSeconds: 60,
                    jobName: "FileProcessorV2-test",
                    outputPath: "s3://out/processed/dir/a/",
                    quarantinePath: "s3://out/quarantine/dir/a/",
                    allowFailed: row.allowFailed,
                });

                // Assess
                assert.equal(result.claimed, row.claimed);
                const item = await aws.getItem(TABLE, { file_id: SOURCE.fileId });
                if (!result.claimed) {
                    assert.deepEqual(result.existing, row.item, "the blocking record is returned");
                    assert.deepEqual(item, row.item, "a refused claim writes nothing");
                    return;
                }
                const attempts = row.item ? 2 : 1;
                assert.equal(result.attempt, attempts);
                assert.deepEqual(item, {
                    file_id: SOURCE.fileId,
                    processing_status: "CLAIMED",
                    attempts,
                    lease_expires_at: "2025-03-01T12:01:00.000Z",
                    created_at: row.item ? "2025-03-01T10:00:00.000Z" : NOW.toISOString(),
                    updated_at: NOW.toISOString(),
                    source_file_path: "s3://in/dir/a.csv",
                    source_bucket: "in",
                    source_key: "dir/a.csv",
                    source_version: "v1",
                    file_size_bytes: 42,
                    job_name: "FileProcessorV2-test",
                    output_file_path: "s3://out/processed/dir/a/",
                    quarantine_path: "s3://out/quarantine/dir/a/",
                });
            });
        }
    });

    it("lets exactly one of many concurrent claimers win", async () => {
        const results = await Promise.all(Array.from({ length: 8 }, () => store.claim({ source: SOURCE, leaseSeconds: 60 })));

        assert.equal(results.filter((r) => r.claimed).length, 1);
        const item = await aws.getItem(TABLE, { file_id: SOURCE.fileId });
        assert.equal(item?.attempts, 1);
    });

    describe("recording the start", () => {
        it("marks STARTED with the run id and releases the lease", async () => {
            const claim = await store.claim({ source: SOURCE, leaseSeconds: 60 });
            assert.ok(claim.claimed);
            clock = new Date(NOW.getTime() + 1500);

            const result = await store.markStarted(SOURCE.fileId, claim.attempt, "jr_abc");

            assert.deepEqual(result, { recorded: "STARTED" });
            const item = await aws.getItem(TABLE, { file_id: SOURCE.fileId });
            assert.equal(item?.processing_status, "STARTED");
            assert.equal(item?.job_run_id, "jr_abc");
            assert.equal(item?.start_time, "2025-03-01T12:00:01.500Z");
            assert.equal(item?.updated_at, "2025-03-01T12:00:01.500Z");
            assert.equal(item?.lease_expires_at, undefined);
        });

        it("keeps the job's RUNNING status when the job wrote it first, adding only the run id", async () => {
            const claim = await store.claim({ source: SOURCE, leaseSeconds: 60 });
            assert.ok(claim.claimed);
            await aws.putItem(TABLE, { ...(await aws.getItem(TABLE, { file_id: SOURCE.fileId })), processing_status: "RUNNING" });

            const result = await store.markStarted(SOURCE.fileId, claim.attempt, "jr_abc");

            assert.equal(result.recorded, "RUN_ID_ONLY");
            const item = await aws.getItem(TABLE, { file_id: SOURCE.fileId });
            assert.equal(item?.processing_status, "RUNNING");
            assert.equal(item?.job_run_id, "jr_abc");
        });

        it("records which engine runs the file, why, and the converter's name as the job (the fast path)", async () => {
            const claim = await store.claim({ source: SOURCE, leaseSeconds: 60, jobName: "FileProcessorV2-test" });
            assert.ok(claim.claimed);

            const result = await store.markStarted(SOURCE.fileId, claim.attempt, "fast-1", { jobName: "CsvConverter-test", engine: "fast", engineReason: "42 bytes <= the limit" });

            assert.deepEqual(result, { recorded: "STARTED" });
            const item = await aws.getItem(TABLE, { file_id: SOURCE.fileId });
            assert.equal(item?.job_run_id, "fast-1");
            assert.equal(item?.job_name, "CsvConverter-test");
            assert.equal(item?.engine, "fast");
            assert.equal(item?.engine_reason, "42 bytes <= the limit");
        });

        it("adds the engine, not the job name, when the job wrote RUNNING first; keeps an engine already there", async () => {
            const claim = await store.claim({ source: SOURCE, leaseSeconds: 60, jobName: "FileProcessorV2-test" });
            assert.ok(claim.claimed);
            await aws.putItem(TABLE, { ...(await aws.getItem(TABLE, { file_id: SOURCE.fileId })), processing_status: "RUNNING" });

            const result = await store.markStarted(SOURCE.fileId, claim.attempt, "jr_abc", { jobName: "other", engine: "glue", engineReason: "over the limit" });
            await store.markStarted(SOURCE.fileId, claim.attempt, "jr_abc", { engine: "fast", engineReason: "later, wrong" });

            assert.equal(result.recorded, "RUN_ID_ONLY");
            const item = await aws.getItem(TABLE, { file_id: SOURCE.fileId });
            assert.equal(item?.processing_status, "RUNNING");
            assert.equal(item?.job_name, "FileProcessorV2-test");
            assert.equal(item?.engine, "glue");
            assert.equal(item?.engine_reason, "over the limit");
        });

        it("clears the engine and its reason when the file is claimed again (a replay routes it anew)", async () => {
            await aws.putItem(TABLE, existing("FAILED", { job_run_id: "fast-1", engine: "fast", engine_reason: "small" }));

            const again = await store.claim({ source: SOURCE, leaseSeconds: 60, allowFailed: true });

            assert.ok(again.claimed);
            assert.equal(again.record.engine, undefined);
            assert.equal(again.record.engine_reason, undefined);
        });

        it("writes nothing when the claim was taken over by a newer one", async () => {
            const first = await store.claim({ source: SOURCE, leaseSeconds: 60 });
            assert.ok(first.claimed);
            clock = new Date(NOW.getTime() + 61_000);
            const second = await store.claim({ source: SOURCE, leaseSeconds: 60 });
            assert.ok(second.claimed, "the expired lease was taken over");
            const before = await aws.getItem(TABLE, { file_id: SOURCE.fileId });

            const started = await store.markStarted(SOURCE.fileId, first.attempt, "jr_stale");
            const failed = await store.markStartFailed(SOURCE.fileId, first.attempt, "stale failure");

            assert.equal(started.recorded, "CLAIM_LOST");
            assert.equal(failed.recorded, false);
            assert.deepEqual(await aws.getItem(TABLE, { file_id: SOURCE.fileId }), before);
        });

        it("marks START_FAILED, after which a new claim takes the record and clears the error", async () => {
            const claim = await store.claim({ source: SOURCE, leaseSeconds: 60 });
            assert.ok(claim.claimed);

            const result = await store.markStartFailed(SOURCE.fileId, claim.attempt, "ConcurrentRunsExceededException: busy");
            const again = await store.claim({ source: SOURCE, leaseSeconds: 60 });

            assert.deepEqual(result, { recorded: true });
            assert.ok(again.claimed);
            assert.equal(again.attempt, 2);
            const failedItem = again.record;
            assert.equal(failedItem.error_message, undefined, "a new claim clears the previous error");
        });

        it("stores START_FAILED's error message at most 2000 characters long", async () => {
            const claim = await store.claim({ source: SOURCE, leaseSeconds: 60 });
            assert.ok(claim.claimed);

            await store.markStartFailed(SOURCE.fileId, claim.attempt, "y".repeat(5000));

            const item = await aws.getItem(TABLE, { file_id: SOURCE.fileId });
            assert.equal(item?.processing_status, "START_FAILED");
            assert.equal(String(item?.error_message).length, 2000);
            assert.equal(item?.lease_expires_at, undefined);
        });
    });

    describe("waiting for Glue capacity", () => {
        it("marks WAITING with the wait number and when the message returns; the next delivery claims it, keeping the count", async () => {
            const claim = await store.claim({ source: SOURCE, leaseSeconds: 60 });
            assert.ok(claim.claimed);

            const written = await store.markWaiting(SOURCE.fileId, claim.attempt, { waitAttempt: 3, delaySeconds: 120, reason: "ConcurrentRunsExceededException" });

            assert.deepEqual(written, { recorded: true });
            const waiting = await aws.getItem(TABLE, { file_id: SOURCE.fileId });
            assert.equal(waiting?.processing_status, "WAITING");
            assert.equal(waiting?.wait_attempts, 3);
            assert.equal(waiting?.next_attempt_at, "2025-03-01T12:02:00.000Z");
            assert.equal(waiting?.error_message, "ConcurrentRunsExceededException");
            assert.equal(waiting?.lease_expires_at, undefined, "nobody owns a waiting file: any delivery may claim it");

            const again = await store.claim({ source: SOURCE, leaseSeconds: 60 });

            assert.ok(again.claimed);
            assert.equal(again.attempt, 2);
            assert.equal(again.record.wait_attempts, 3, "the claimer learns how often the file waited");
            const item = await aws.getItem(TABLE, { file_id: SOURCE.fileId });
            assert.equal(item?.processing_status, "CLAIMED");
            assert.equal(item?.next_attempt_at, undefined);
            assert.equal(item?.error_message, undefined);
        });

        it("lets exactly one of concurrent deliveries claim a waiting file", async () => {
            await aws.putItem(TABLE, existing("WAITING", { wait_attempts: 1, next_attempt_at: FUTURE }));

            const results = await Promise.all(Array.from({ length: 6 }, () => store.claim({ source: SOURCE, leaseSeconds: 60 })));

            assert.equal(results.filter((r) => r.claimed).length, 1);
        });

        it("writes no WAITING when the claim was taken over, and lets a waiting file be ended without a run", async () => {
            const first = await store.claim({ source: SOURCE, leaseSeconds: 60 });
            assert.ok(first.claimed);
            clock = new Date(NOW.getTime() + 61_000);
            const second = await store.claim({ source: SOURCE, leaseSeconds: 60 });
            assert.ok(second.claimed);

            const written = await store.markWaiting(SOURCE.fileId, first.attempt, { waitAttempt: 1, delaySeconds: 30, reason: "busy" });

            assert.equal(written.recorded, false);
            assert.equal((await aws.getItem(TABLE, { file_id: SOURCE.fileId }))?.processing_status, "CLAIMED");

            // A waiting file overwritten meanwhile is SUPERSEDED when its message comes back.
            assert.ok((await store.markWaiting(SOURCE.fileId, second.attempt, { waitAttempt: 1, delaySeconds: 30, reason: "busy" })).recorded);
            assert.deepEqual(await store.reject(SOURCE, "a newer version exists", { status: "SUPERSEDED" }), { recorded: true });
            const item = await aws.getItem(TABLE, { file_id: SOURCE.fileId });
            assert.equal(item?.processing_status, "SUPERSEDED");
            assert.equal(item?.next_attempt_at, undefined);
        });
    });

    describe("rejecting", () => {
        it("records REJECTED with the reason for a new file", async () => {
            const result = await store.reject({ ...SOURCE, sizeBytes: 0 }, "empty");

            assert.deepEqual(result, { recorded: true });
            const item = await aws.getItem(TABLE, { file_id: SOURCE.fileId });
            assert.equal(item?.processing_status, "REJECTED");
            assert.equal(item?.error_message, "empty");
            assert.equal(item?.file_size_bytes, 0);
            assert.equal(item?.end_time, NOW.toISOString());
        });

        for (const status of ["SUPERSEDED", "SOURCE_DELETED"] as const) {
            it(`records ${status} with the reason when asked to`, async () => {
                const result = await store.reject(SOURCE, `why ${status}`, { status, jobName: "FileProcessorV2-test" });

                assert.deepEqual(result, { recorded: true });
                const item = await aws.getItem(TABLE, { file_id: SOURCE.fileId });
                assert.equal(item?.processing_status, status);
                assert.equal(item?.error_message, `why ${status}`);
                assert.equal(item?.job_name, "FileProcessorV2-test");
            });
        }

        it("never downgrades a record that is already being processed", async () => {
            await aws.putItem(TABLE, existing("STARTED", { job_run_id: "jr_1" }));

            const result = await store.reject(SOURCE, "empty");

            assert.equal(result.recorded, false);
            assert.equal((await aws.getItem(TABLE, { file_id: SOURCE.fileId }))?.processing_status, "STARTED");
        });
    });
});
