/**
 * The job-events handler against the AWS emulator (moto over HTTP): real Glue job runs read back with
 * GetJobRun/GetJobRuns, a real metadata table, a real SNS topic (an SQS queue subscribed to it shows what
 * was published, subject included), real PutMetricData read back with GetMetricData. Events have the shape
 * EventBridge delivers for Glue job state changes.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import type { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import type { JobEventsConfig } from "../../functions/glue-job-events/config";
import type { HandledEvent, JobEventsDeps } from "../../functions/glue-job-events/events";
import { Logger } from "../../functions/shared/logger";
import { emulatorEnv, useEmulator } from "../support/emulator";
import { capturingTopic, glueStateChange, metricStats, motoCloudWatchClient, motoGlueClient, scheduledEvent, SnsEnvelope } from "./support";

type EventsModule = typeof import("../../functions/glue-job-events/events");

const TABLE = "etl-pipeline-metadata-test";
const JOB = "FileProcessorV2-test";
const NS = "GluePipeline";
const FILE_ID = "c0ffee".padEnd(64, "0");
const INPUT = "s3://glue-input-test-123456789012/sales/2026/03/orders.csv";
const QUARANTINE = "s3://glue-output-test-123456789012/quarantine/sales/2026/03/orders/";
const OUTPUT = "s3://glue-output-test-123456789012/processed/sales/2026/03/orders/";
const JOB_ARGS = { "--input_path": INPUT, "--output_path": OUTPUT, "--quarantine_path": QUARANTINE, "--source_file": "sales/2026/03/orders.csv", "--file_id": FILE_ID };

describe("job-events handler against the emulator", function () {
    const aws = useEmulator();
    let events: EventsModule;
    let cloudwatch: CloudWatchClient;
    let topic: Awaited<ReturnType<typeof capturingTopic>>;
    let lines: Record<string, unknown>[];

    before(() => {
        events = require("../../functions/glue-job-events/events");
    });

    beforeEach(async () => {
        await aws.createMetadataTable(TABLE);
        await aws.createGlueJob(JOB, { defaultArguments: { "--metadata_table": TABLE } });
        topic = await capturingTopic(aws.endpoint, "glue-pipeline-alerts-test");
        cloudwatch = motoCloudWatchClient(aws.endpoint);
        lines = [];
    });

    function deps(config: Partial<JobEventsConfig> = {}): JobEventsDeps {
        return events.createJobEventsDeps(
            {
                metadataTable: TABLE,
                alertsTopicArn: topic.topicArn,
                metricNamespace: NS,
                stage: "test",
                glueJobNames: [JOB],
                jobLogGroups: { [JOB]: { output: `/aws-glue/jobs/sc-role/${JOB}-role/output`, error: `/aws-glue/jobs/sc-role/${JOB}-role/error` } },
                replayCommand: "npm run replay -- --stack test",
                baselineRuns: 10,
                baselineMinRuns: 3,
                logLevel: "DEBUG",
                ...config,
            },
            {
                glue: motoGlueClient(aws.endpoint),
                cloudwatch,
                logger: new Logger({ service: "glue-job-events", level: "DEBUG", sink: (line) => lines.push(JSON.parse(line)) }),
            },
        );
    }

    const record = (extra: Record<string, unknown>) => ({
        file_id: FILE_ID,
        source_file_path: INPUT,
        output_file_path: OUTPUT,
        quarantine_path: QUARANTINE,
        job_name: JOB,
        attempts: 1,
        created_at: "2026-03-01T12:00:00.000Z",
        updated_at: "2026-03-01T12:00:05.000Z",
        ...extra,
    });
    const stats = (metric: string) => metricStats(cloudwatch, NS, metric, { JobName: JOB });

    describe("a FAILED run that died before the job recorded it", () => {
        let runId: string;
        let first: HandledEvent;
        let published: SnsEnvelope[];
        beforeEach(async () => {
            // Prepare: the trigger started the run and recorded STARTED.
            runId = await aws.startJobRun(JOB, JOB_ARGS);
            await aws.putItem(TABLE, record({ processing_status: "STARTED", job_run_id: runId, start_time: "2026-03-01T12:00:05.000Z" }));
            // Act
            first = await events.handleEvent(glueStateChange(JOB, runId, "FAILED", "SystemExit: 1"), deps());
            published = await topic.receive();
        });

        it("marks the record FAILED with the error and remembers the run was reported", async () => {
            assert.equal(first.kind, "reported");
            const item = await aws.getItem(TABLE, { file_id: FILE_ID });
            assert.equal(item?.processing_status, "FAILED");
            assert.equal(item?.error_message, `Glue run ${runId} ended FAILED: SystemExit: 1`);
            assert.equal(item?.reported_run_id, runId);
            assert.ok(typeof item?.end_time === "string" && !Number.isNaN(Date.parse(item.end_time as string)));
            assert.notEqual(item?.updated_at, "2026-03-01T12:00:05.000Z");
        });

        it("publishes one readable notification: job, run, file, error, quarantine, logs, replay", () => {
            assert.equal(published.length, 1);
            const [note] = published;
            assert.equal(note.Subject, "[test] FileProcessorV2-test FAILED: orders.csv");
            const text = note.Message;
            assert.match(text, new RegExp(`^Glue job ${JOB} \\(test\\): run ${runId} failed after 2 min 3 s\\.`));
            assert.match(text, /Error: {7}SystemExit: 1/);
            assert.match(text, new RegExp(`File: {8}${INPUT.replace(/\//g, "\\/")}`));
            assert.match(text, new RegExp(`File id: {5}${FILE_ID}`));
            assert.match(text, /Record: {6}etl-pipeline-metadata-test, status now FAILED/);
            assert.ok(text.includes(`Quarantine:  ${QUARANTINE}`));
            assert.ok(text.includes(`Error log:   log group /aws-glue/jobs/sc-role/${JOB}-role/error, stream ${runId}`));
            assert.ok(text.includes("npm run replay -- --stack test"));
            assert.equal(note.MessageAttributes?.job_run_id?.Value, runId);
            assert.equal(note.MessageAttributes?.state?.Value, "FAILED");
        });

        it("publishes the failed outcome for the failure-rate alarm", async () => {
            assert.deepEqual(await stats("JobRunFailed"), { sum: 1, count: 1 });
            assert.deepEqual(await stats("JobRunDurationRatio"), { sum: 0, count: 0 });
            // moto reports every run's ExecutionTime as 123 s
            assert.deepEqual(await stats("JobRunDurationSeconds"), { sum: 123, count: 1 });
        });

        it("logs one line the 'recent failures' widget can query", () => {
            const failures = lines.filter((l) => l.event === "job_run_not_succeeded");
            assert.equal(failures.length, 1);
            assert.equal(failures[0].job_name, JOB);
            assert.equal(failures[0].job_run_id, runId);
            assert.equal(failures[0].file_id, FILE_ID);
            assert.equal(failures[0].source_file_path, INPUT);
            assert.equal(failures[0].state, "FAILED");
        });

        it("reports a redelivered event only once", async () => {
            const again = await events.handleEvent(glueStateChange(JOB, runId, "FAILED", "SystemExit: 1"), deps());
            assert.deepEqual(again, { kind: "duplicate", jobName: JOB, jobRunId: runId, fileId: FILE_ID });
            assert.deepEqual(await topic.receive(), []);
            assert.deepEqual(await stats("JobRunFailed"), { sum: 1, count: 1 });
        });
    });

    it("leaves a record the job already finalised as it is, and still notifies once", async () => {
        const runId = await aws.startJobRun(JOB, JOB_ARGS);
        await aws.putItem(TABLE, record({ processing_status: "FAILED", job_run_id: runId, error_message: "CSV header is missing" }));

        const out = await events.handleEvent(glueStateChange(JOB, runId, "FAILED", "SystemExit: 1"), deps());

        assert.equal(out.kind === "reported" && out.recordUpdate, "left-alone");
        const item = await aws.getItem(TABLE, { file_id: FILE_ID });
        assert.equal(item?.error_message, "CSV header is missing");
        const [note] = await topic.receive();
        assert.match(note.Message, /Record: {6}etl-pipeline-metadata-test, status FAILED, claim 1/);
    });

    it("marks a RUNNING record FAILED when Glue killed the run at its timeout", async () => {
        const runId = await aws.startJobRun(JOB, JOB_ARGS);
        await aws.putItem(TABLE, record({ processing_status: "RUNNING", job_run_id: runId }));

        await events.handleEvent(glueStateChange(JOB, runId, "TIMEOUT"), deps());

        const item = await aws.getItem(TABLE, { file_id: FILE_ID });
        assert.equal(item?.processing_status, "FAILED");
        assert.match(String(item?.error_message), /ended TIMEOUT: Job run timed out/);
        const [note] = await topic.receive();
        assert.equal(note.Subject, "[test] FileProcessorV2-test TIMEOUT: orders.csv");
        assert.match(note.Message, /timed out after 2 min 3 s/);
    });

    it("does not touch a record a newer claim owns (a late event for an old run)", async () => {
        const oldRun = await aws.startJobRun(JOB, JOB_ARGS);
        const newRun = await aws.startJobRun(JOB, JOB_ARGS);
        await aws.putItem(TABLE, record({ processing_status: "STARTED", job_run_id: newRun, attempts: 2 }));

        await events.handleEvent(glueStateChange(JOB, oldRun, "FAILED"), deps());

        const item = await aws.getItem(TABLE, { file_id: FILE_ID });
        assert.equal(item?.processing_status, "STARTED");
        assert.equal(item?.job_run_id, newRun);
    });

    it("a SUCCEEDED run publishes outcome 0, its rows and its duration ratio, and notifies nobody", async () => {
        for (let i = 0; i < 3; i++) await aws.startJobRun(JOB, {});
        const runId = await aws.startJobRun(JOB, JOB_ARGS);
        await aws.putItem(TABLE, record({ processing_status: "SUCCEEDED", job_run_id: runId, record_count: 10, rows_quarantined: 2, rows_in: 12 }));

        const out = await events.handleEvent(glueStateChange(JOB, runId, "SUCCEEDED"), deps());

        assert.equal(out.kind === "reported" && out.notified, false);
        assert.deepEqual(await topic.receive(), []);
        assert.deepEqual(await stats("JobRunFailed"), { sum: 0, count: 1 });
        assert.deepEqual(await stats("RecordsWritten"), { sum: 10, count: 1 });
        assert.deepEqual(await stats("RowsQuarantined"), { sum: 2, count: 1 });
        // Every moto run takes 123 s, so this run is exactly as long as the mean of the three before it.
        assert.deepEqual(await stats("JobRunDurationRatio"), { sum: 1, count: 1 });
        const item = await aws.getItem(TABLE, { file_id: FILE_ID });
        assert.equal(item?.processing_status, "SUCCEEDED");
        assert.equal(item?.reported_run_id, runId);
    });

    for (const status of ["SUPERSEDED", "SOURCE_DELETED"]) {
        it(`a SUCCEEDED run whose job recorded ${status} (it published nothing) is left as it is, notifies nobody and warns of nothing`, async () => {
            const runId = await aws.startJobRun(JOB, JOB_ARGS);
            await aws.putItem(TABLE, record({ processing_status: status, job_run_id: runId, error_message: "version v1 is no longer current" }));

            const out = await events.handleEvent(glueStateChange(JOB, runId, "SUCCEEDED"), deps());

            assert.equal(out.kind === "reported" && out.notified, false);
            assert.deepEqual(await topic.receive(), []);
            assert.equal((await aws.getItem(TABLE, { file_id: FILE_ID }))?.processing_status, status);
            assert.deepEqual(lines.filter((l) => l.level === "WARN" || l.level === "ERROR"), []);
            assert.ok(lines.some((l) => l.message === "run ended without publishing: its source version is no longer current" && l.record_status === status));
        });
    }

    it("asks for a retry when the run failed before the trigger recorded its start", async () => {
        const runId = await aws.startJobRun(JOB, JOB_ARGS);
        await aws.putItem(TABLE, record({ processing_status: "CLAIMED", lease_expires_at: "2999-01-01T00:00:00.000Z" }));

        await assert.rejects(events.handleEvent(glueStateChange(JOB, runId, "FAILED"), deps()), { name: "RecordNotStartedError" });

        assert.deepEqual(await topic.receive(), []);
        const item = await aws.getItem(TABLE, { file_id: FILE_ID });
        assert.equal(item?.processing_status, "CLAIMED");
        assert.equal(item?.reported_run_id, undefined);
    });

    it("gives the report back when publishing fails, so the retried event notifies", async () => {
        const runId = await aws.startJobRun(JOB, JOB_ARGS);
        await aws.putItem(TABLE, record({ processing_status: "STARTED", job_run_id: runId }));
        const missingTopic = topic.topicArn.replace(/[^:]+$/, "deleted-topic");

        await assert.rejects(events.handleEvent(glueStateChange(JOB, runId, "FAILED"), deps({ alertsTopicArn: missingTopic })), /not ?found|does not exist/i);
        const afterFailure = await aws.getItem(TABLE, { file_id: FILE_ID });
        assert.equal(afterFailure?.processing_status, "FAILED");
        assert.equal(afterFailure?.reported_run_id, undefined);

        const retried = await events.handleEvent(glueStateChange(JOB, runId, "FAILED"), deps());
        assert.equal(retried.kind, "reported");
        assert.equal((await topic.receive()).length, 1);
    });

    it("reports a manual run without a file id, saying there is no file to replay", async () => {
        const runId = await aws.startJobRun(JOB, {});

        const out = await events.handleEvent(glueStateChange(JOB, runId, "STOPPED"), deps());

        assert.equal(out.kind === "reported" && out.recordUpdate, "none");
        const [note] = await topic.receive();
        assert.equal(note.Subject, "[test] FileProcessorV2-test STOPPED");
        assert.match(note.Message, /was stopped after 2 min 3 s/);
        assert.match(note.Message, /not started for a tracked file/);
    });

    it("ignores events of jobs it does not watch", async () => {
        const out = await events.handleEvent(glueStateChange("SomeoneElsesJob", "jr_x", "FAILED"), deps());
        assert.deepEqual(out, { kind: "ignored", reason: "job SomeoneElsesJob is not watched" });
        assert.deepEqual(await topic.receive(), []);
    });

    it("publishes file counts for the statuses that have files, on schedule", async () => {
        const put = (id: string, status: string, at: string) => aws.putItem(TABLE, { file_id: id, processing_status: status, updated_at: at });
        await put("a", "STARTED", "2026-03-01T12:00:00Z");
        await put("b", "STARTED", "2026-03-01T12:01:00Z");
        await put("c", "RUNNING", "2026-03-01T12:02:00Z");
        await put("d", "FAILED", "2026-03-01T12:03:00Z");
        await put("e", "SUCCEEDED", "2026-03-01T12:04:00Z");
        // A file waiting in its queue for Glue capacity is in flight: the backlog a burst leaves is counted.
        await put("f", "WAITING", "2026-03-01T12:05:00Z");

        const out = await events.handleEvent(scheduledEvent(), deps());

        assert.deepEqual(out, { kind: "status-counts", counts: { CLAIMED: 0, WAITING: 1, STARTED: 2, RUNNING: 1, START_FAILED: 0, FAILED: 1 } });
        const count = (status: string) => metricStats(cloudwatch, NS, "FilesByStatus", { Status: status });
        assert.deepEqual(await count("STARTED"), { sum: 2, count: 1 });
        assert.deepEqual(await count("RUNNING"), { sum: 1, count: 1 });
        assert.deepEqual(await count("FAILED"), { sum: 1, count: 1 });
        assert.deepEqual(await count("WAITING"), { sum: 1, count: 1 });
        assert.deepEqual(await count("CLAIMED"), { sum: 0, count: 0 });
    });

    describe("the shipped handler", () => {
        it("bundles, starts with a valid environment, and refuses an invalid one naming the variables", async () => {
            const { bundleFunction } = await import("../../components/compute/lambdaBundle");
            const bundle = bundleFunction("functions/glue-job-events/handler.ts");
            const script = [
                "const m = new module.constructor();",
                "m.paths = module.paths;",
                "m._compile(require('fs').readFileSync(0, 'utf8'), 'index.js');",
                "m.exports.handler({ source: 'aws.glue', 'detail-type': 'Glue Job State Change', detail: { jobName: 'Other', jobRunId: 'jr', state: 'FAILED' } })",
                "  .then((r) => console.log(JSON.stringify(r)));",
            ].join("\n");
            const env = {
                PATH: process.env.PATH,
                ...emulatorEnv(aws.endpoint),
                METADATA_TABLE: TABLE,
                ALERTS_TOPIC_ARN: topic.topicArn,
                STAGE: "test",
                GLUE_JOB_NAMES: JOB,
            };
            const ok = spawnSync(process.execPath, ["-e", script], { input: bundle.code, env, encoding: "utf8", cwd: path.resolve(__dirname, "../..") });
            assert.equal(ok.status, 0, ok.stderr);
            assert.deepEqual(JSON.parse(ok.stdout.trim().split("\n").pop()!), { kind: "ignored", reason: "job Other is not watched" });

            const bad = spawnSync(process.execPath, ["-e", script], { input: bundle.code, env: { ...env, GLUE_JOB_NAMES: "", ALERTS_TOPIC_ARN: "alerts" }, encoding: "utf8" });
            assert.notEqual(bad.status, 0);
            assert.match(bad.stderr, /Invalid environment: ALERTS_TOPIC_ARN must be an SNS topic ARN, got "alerts"; GLUE_JOB_NAMES is required/);
        });
    });
});
