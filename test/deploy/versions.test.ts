/**
 * The version uploaded is the version processed, end to end and offline: S3 events shaped as S3 sends them
 * (size, eTag, versionId, sequencer) → the CSV trigger (functions/glue-trigger) claims each version and
 * starts a run pinned to it (--source_version_id, --source_etag) → the local Glue runner executes the runs
 * with FileProcessorV2's real script on local Spark, after the key has changed under them → the job's own
 * check (glue_pipeline/file_job.py, two HEADs of the emulator's versioned bucket around its read) decides →
 * each run's job-state event goes to functions/glue-job-events.
 *
 * The trigger's own check (a version already replaced or deleted when its event arrives) is proven in
 * test/functions/glueTrigger.test.ts; here the change happens after the run was started, while it waits in
 * Glue's queue, which only the job can see.
 */
import * as assert from "node:assert/strict";
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import type { S3Event } from "aws-lambda";
import { ARTIFACT_SOURCES } from "../../stacks/artifacts";
import { CSV_SUFFIX } from "../../stacks/workload";
import { METRIC_NAMES } from "../../functions/glue-job-events/metrics";
import type { RecordOutcome } from "../../functions/glue-trigger/trigger";
import { s3Event } from "../fixtures/s3Events";
import { useEmulator } from "../support/emulator";
import { readParquetRows, runJobRunsLocally } from "../support/localGlueRunner";
import { capturingTopic, metricStats, motoCloudWatchClient } from "../monitoring/support";
import { createEmulatedStack, emulatedJobEvents, emulatedStackNames, METRIC_NAMESPACE, quietLogger } from "./emulatedStack";

const STAGE = "versions";
const JOB = `FileProcessorV2-${STAGE}`;
const { inputBucket: INPUT, outputBucket: OUTPUT, metadataTable: TABLE } = emulatedStackNames(STAGE);

describe("end to end, offline: a version replaced or deleted after its run was started is not processed", function () {
    // One Spark start for three runs; a guard against a hang, not a speed check.
    this.timeout(600_000);
    const aws = useEmulator();

    it("the v1 run ends SUPERSEDED and writes nothing, the v2 run writes v2's rows, a deleted object's run ends SOURCE_DELETED", async () => {
        // Prepare: what the stack creates (a versioned input bucket among it), in the emulator.
        await createEmulatedStack(aws, STAGE, [JOB]);
        const triggerConfig: typeof import("../../functions/glue-trigger/config") = require("../../functions/glue-trigger/config");
        const trigger: typeof import("../../functions/glue-trigger/trigger") = require("../../functions/glue-trigger/trigger");
        const deps = trigger.createTriggerDeps(
            triggerConfig.loadTriggerConfig({ GLUE_JOB_NAME: JOB, METADATA_TABLE: TABLE, OUTPUT_BUCKET: OUTPUT, FILE_SUFFIX: CSV_SUFFIX, RELEASE_ID: "r-versions" }),
            { logger: quietLogger() },
        );
        const alerts = await capturingTopic(aws.endpoint, `glue-pipeline-alerts-${STAGE}`);
        const cloudwatch = motoCloudWatchClient(aws.endpoint);
        const jobEvents = emulatedJobEvents(aws, STAGE, [JOB], alerts.topicArn, cloudwatch);
        let sequencer = 0x0055aed6dcd90281e5n;
        /** Puts the object and hands S3's event for it to the trigger, as the bucket notification does. */
        const upload = async (key: string, body: string) => {
            const put = await aws.putObject(INPUT, key, body);
            assert.ok(put.versionId, "the emulator versions the bucket");
            const event: S3Event = s3Event({ bucket: INPUT, key, size: put.size, eTag: put.etag, versionId: put.versionId });
            // Each event of a key carries a larger sequencer (hexadecimal, S3's ordering hint).
            event.Records[0].s3.object.sequencer = (sequencer++).toString(16).toUpperCase().padStart(18, "0");
            const summary = await trigger.handleS3Event(event, undefined, deps);
            const [outcome] = summary.records;
            assert.equal(outcome.outcome, "started", JSON.stringify(outcome));
            return { ...put, run: outcome as Extract<RecordOutcome, { outcome: "started" }> };
        };
        const record = async (fileId: string) => (await aws.clients.doc.send(new GetCommand({ TableName: TABLE, Key: { file_id: fileId }, ConsistentRead: true }))).Item;

        // Act: v1 is uploaded and its run started; v2 replaces it before that run executes (it waits in
        // Glue's queue), and starts its own. Another object's run is started, then the object deleted.
        const v1 = await upload("daily/orders.csv", "id,name\n1,first upload\n");
        const v2 = await upload("daily/orders.csv", "id,name,amount\n1,second upload,10.50\n2,second upload,20.00\n");
        const gone = await upload("daily/withdrawn.csv", "id,name\n1,withdrawn\n");
        await aws.clients.s3.send(new DeleteObjectCommand({ Bucket: INPUT, Key: "daily/withdrawn.csv" }));
        const [r1, r2, r3] = await runJobRunsLocally(
            aws,
            { [JOB]: ARTIFACT_SOURCES.fileProcessorScript.path },
            [v1, v2, gone].map((u) => ({ jobName: JOB, jobRunId: u.run.jobRunId })),
        );
        const handled = [];
        for (const run of [r1, r2, r3]) handled.push(await jobEvents.finished(run));

        // Assess: each run was pinned to its version, and Glue saw three runs end normally (not a failure).
        for (const u of [v1, v2, gone]) {
            const args = (await aws.jobRun(JOB, u.run.jobRunId)).Arguments ?? {};
            assert.deepEqual([args["--source_version_id"], args["--source_etag"]], [u.versionId, u.etag]);
        }
        assert.deepEqual([r1, r2, r3].map((r) => r.state), ["SUCCEEDED", "SUCCEEDED", "SUCCEEDED"], JSON.stringify([r1, r2, r3].map((r) => r.error)));

        // The v1 run: SUPERSEDED, naming both versions, and nothing written for it.
        assert.equal(r1.summary?.processing_status, "SUPERSEDED");
        const first = await record(v1.run.fileId);
        assert.equal(first?.processing_status, "SUPERSEDED");
        assert.equal(first?.job_run_id, v1.run.jobRunId);
        assert.match(String(first?.error_message), new RegExp(`version ${v1.versionId} is no longer current \\(version ${v2.versionId} is\\)`));
        assert.deepEqual([r1.uploaded, r1.deleted], [[], []]);

        // The v2 run: SUCCEEDED with v2's counts, and the output holds v2's rows (read back with pyarrow).
        const second = await record(v2.run.fileId);
        assert.deepEqual([second?.processing_status, second?.rows_in, second?.record_count, second?.rows_quarantined], ["SUCCEEDED", 2, 2, 0]);
        const listed = await aws.clients.s3.send(new ListObjectsV2Command({ Bucket: OUTPUT, Prefix: "processed/daily/orders/" }));
        const parquetKeys = (listed.Contents ?? []).map((o) => o.Key!).filter((k) => k.endsWith(".parquet"));
        assert.ok(parquetKeys.length > 0 && parquetKeys.every((k) => r2.uploaded.includes(k)), JSON.stringify(r2.uploaded));
        const bytes = await Promise.all(
            parquetKeys.map(async (Key) => (await aws.clients.s3.send(new GetObjectCommand({ Bucket: OUTPUT, Key }))).Body!.transformToByteArray()),
        );
        const rows = readParquetRows(bytes).map((r) => [r.id, r.name, String(r.amount), r.source_file]);
        assert.deepEqual(rows.sort(), [
            [1, "second upload", "10.50", "daily/orders.csv"],
            [2, "second upload", "20.00", "daily/orders.csv"],
        ]);

        // The deleted object's run: SOURCE_DELETED, nothing written anywhere for it.
        assert.equal(r3.summary?.processing_status, "SOURCE_DELETED");
        const withdrawn = await record(gone.run.fileId);
        assert.equal(withdrawn?.processing_status, "SOURCE_DELETED");
        assert.match(String(withdrawn?.error_message), new RegExp(`version ${gone.versionId}\\) was deleted before it was processed`));
        assert.deepEqual([r3.uploaded, r3.deleted], [[], []]);
        const left = await aws.clients.s3.send(new ListObjectsV2Command({ Bucket: OUTPUT, Prefix: "processed/daily/withdrawn/" }));
        assert.equal(left.KeyCount ?? 0, 0);

        // The job-events function: each run reported once, none counted as failed, no alert sent (a version
        // that was not processed is the pipeline working, not failing), only v2's rows counted as written.
        assert.deepEqual(handled.map((h) => h.kind), ["reported", "reported", "reported"]);
        assert.deepEqual(await alerts.receive(), []);
        assert.deepEqual(await metricStats(cloudwatch, METRIC_NAMESPACE, METRIC_NAMES.jobRunFailed, { JobName: JOB }), { sum: 0, count: 3 });
        assert.equal((await metricStats(cloudwatch, METRIC_NAMESPACE, METRIC_NAMES.recordsWritten, { JobName: JOB })).sum, 2);
    });
});
