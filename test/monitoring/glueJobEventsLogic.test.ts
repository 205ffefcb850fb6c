/**
 * The job-events handler's pure parts, table-driven: configuration, DPU-hours, the duration baseline, the
 * data points of a run, and the notification's text.
 */
import * as assert from "node:assert/strict";
import { loadJobEventsConfig } from "../../functions/glue-job-events/config";
import { metricTimestamp } from "../../functions/glue-job-events/events";
import { dpuHours, durationBaseline, runMetrics, statusCountMetrics } from "../../functions/glue-job-events/metrics";
import { buildRunNotification, formatDuration, logEventsUrl, NotificationInput, notificationSubject } from "../../functions/glue-job-events/notification";
import { FILES_BY_STATUS } from "../../functions/glue-job-events/contract";
import { EnvironmentError } from "../../functions/shared/env";
import { IN_FLIGHT_STATUSES, REPLAYABLE_STATUSES } from "../../functions/shared/processingRecords";

const ENV = {
    METADATA_TABLE: "etl-pipeline-metadata-dev",
    ALERTS_TOPIC_ARN: "arn:aws:sns:eu-west-1:111111111111:glue-pipeline-alerts-dev",
    STAGE: "dev",
    GLUE_JOB_NAMES: "FileProcessorV2-dev, ProcessLegislators-dev",
};

describe("job-events handler logic", () => {
    it("publishes FilesByStatus for exactly the in-flight and replayable statuses of the record store (the dashboards read the contract's lists)", () => {
        assert.deepEqual([...FILES_BY_STATUS.inFlight], [...IN_FLIGHT_STATUSES]);
        assert.deepEqual([...FILES_BY_STATUS.replay], [...REPLAYABLE_STATUSES]);
    });

    describe("configuration", () => {
        it("reads the environment with defaults", () => {
            assert.deepEqual(loadJobEventsConfig(ENV), {
                metadataTable: "etl-pipeline-metadata-dev",
                alertsTopicArn: ENV.ALERTS_TOPIC_ARN,
                metricNamespace: "GluePipeline",
                stage: "dev",
                glueJobNames: ["FileProcessorV2-dev", "ProcessLegislators-dev"],
                jobLogGroups: {},
                replayCommand: "npm run replay -- --stack <stack>",
                baselineRuns: 10,
                baselineMinRuns: 3,
                logLevel: "INFO",
            });
        });

        it("reads each job's log groups", () => {
            const groups = { "FileProcessorV2-dev": { output: "/aws-glue/jobs/sc-role/r/output", error: "/aws-glue/jobs/sc-role/r/error" } };
            assert.deepEqual(loadJobEventsConfig({ ...ENV, JOB_LOG_GROUPS: JSON.stringify(groups) }).jobLogGroups, groups);
            assert.throws(() => loadJobEventsConfig({ ...ENV, JOB_LOG_GROUPS: JSON.stringify({ J: { output: "x" } }) }), /JOB_LOG_GROUPS: J needs "output" and "error"/);
        });

        it("names every bad variable at once", () => {
            assert.throws(
                () => loadJobEventsConfig({ ALERTS_TOPIC_ARN: "glue-pipeline-alerts", METRIC_NAMESPACE: "AWS/Glue", GLUE_JOB_NAMES: " , " }),
                (err: unknown) => {
                    assert.ok(err instanceof EnvironmentError);
                    const text = err.problems.join("\n");
                    assert.match(text, /METADATA_TABLE is required/);
                    assert.match(text, /ALERTS_TOPIC_ARN must be an SNS topic ARN/);
                    assert.match(text, /METRIC_NAMESPACE must be a custom CloudWatch namespace/);
                    assert.match(text, /STAGE is required/);
                    assert.match(text, /GLUE_JOB_NAMES is required/);
                    return true;
                },
            );
        });
    });

    describe("DPU-hours of a run", () => {
        const rows: Array<[string, Parameters<typeof dpuHours>[0], number | undefined]> = [
            ["Glue's own DPUSeconds (auto-scaled, Flex)", { DPUSeconds: 5400, MaxCapacity: 10, ExecutionTime: 9999 }, 1.5],
            ["max capacity × execution time", { MaxCapacity: 2, ExecutionTime: 1800 }, 1],
            ["workers × DPU per worker type", { NumberOfWorkers: 10, WorkerType: "G.2X", ExecutionTime: 360 }, 2],
            ["legacy allocated capacity", { AllocatedCapacity: 10, ExecutionTime: 720 }, 2],
            ["no execution time yet", { MaxCapacity: 2 }, undefined],
            ["no capacity at all", { ExecutionTime: 60 }, undefined],
        ];
        for (const [title, run, expected] of rows) {
            it(title, () => assert.equal(dpuHours(run), expected));
        }
    });

    describe("duration baseline", () => {
        const runs: Parameters<typeof durationBaseline>[0] = [
            { Id: "jr_now", JobRunState: "SUCCEEDED", ExecutionTime: 900 },
            { Id: "jr_4", JobRunState: "FAILED", ExecutionTime: 5 },
            { Id: "jr_3", JobRunState: "SUCCEEDED", ExecutionTime: 300 },
            { Id: "jr_2", JobRunState: "SUCCEEDED", ExecutionTime: 200 },
            { Id: "jr_1", JobRunState: "SUCCEEDED", ExecutionTime: 400 },
            { Id: "jr_0", JobRunState: "SUCCEEDED", ExecutionTime: 1000 },
        ];

        it("averages the most recent successful runs before this one, skipping failures", () => {
            assert.deepEqual(durationBaseline(runs, "jr_now", 3, 3), { meanSeconds: 300, runs: 3 });
            assert.deepEqual(durationBaseline(runs, "jr_now", 10, 3), { meanSeconds: 475, runs: 4 });
        });

        it("has no baseline until enough runs exist", () => {
            assert.equal(durationBaseline(runs.slice(0, 4), "jr_now", 10, 3), undefined);
        });
    });

    describe("data points of a run", () => {
        const at = new Date("2026-03-01T12:34:00Z");

        it("a success: outcome 0, duration, ratio to the baseline, DPU-hours, rows", () => {
            const data = runMetrics({
                jobName: "J",
                succeeded: true,
                executionSeconds: 900,
                dpuHours: 0.5,
                baseline: { meanSeconds: 300, runs: 3 },
                recordsWritten: 10,
                rowsQuarantined: 2,
                completedAt: at,
            });
            assert.deepEqual(
                data.map((d) => [d.MetricName, d.Value, d.Unit]),
                [
                    ["JobRunFailed", 0, "None"],
                    ["JobRunDurationSeconds", 900, "Seconds"],
                    ["JobRunDurationRatio", 3, "None"],
                    ["JobRunDpuHours", 0.5, "None"],
                    ["RecordsWritten", 10, "Count"],
                    ["RowsQuarantined", 2, "Count"],
                ],
            );
            for (const d of data) {
                assert.deepEqual(d.Dimensions, [{ Name: "JobName", Value: "J" }]);
                assert.equal(d.Timestamp, at);
            }
        });

        it("a failure: outcome 1, no ratio and no rows (how long it took to fail is not the work's duration)", () => {
            const data = runMetrics({ jobName: "J", succeeded: false, executionSeconds: 40, baseline: { meanSeconds: 10, runs: 5 }, recordsWritten: 3 });
            assert.deepEqual(data.map((d) => [d.MetricName, d.Value]), [
                ["JobRunFailed", 1],
                ["JobRunDurationSeconds", 40],
            ]);
        });

        it("status counts: only statuses with files (a zero costs a metric-hour and says nothing FILL does not)", () => {
            const data = statusCountMetrics({ CLAIMED: 0, STARTED: 2, RUNNING: 1, FAILED: 0 });
            assert.deepEqual(data.map((d) => [d.Dimensions[0].Value, d.Value]), [
                ["STARTED", 2],
                ["RUNNING", 1],
            ]);
        });

        it("stamps points with the run's end only where CloudWatch accepts it", () => {
            const now = new Date("2026-03-20T00:00:00Z");
            assert.equal(metricTimestamp(new Date("2026-03-19T23:00:00Z"), now)?.toISOString(), "2026-03-19T23:00:00.000Z");
            assert.equal(metricTimestamp(new Date("2026-03-01T00:00:00Z"), now), undefined);
            assert.equal(metricTimestamp(new Date("2026-03-20T03:00:00Z"), now), undefined);
            assert.equal(metricTimestamp(new Date("not a date"), now), undefined);
        });
    });

    describe("the notification", () => {
        const failed: NotificationInput = {
            stage: "prod",
            region: "eu-west-1",
            jobName: "FileProcessorV2-prod",
            jobRunId: "jr_ca2144d747b45ad412d3c66a1b6934b6",
            state: "FAILED",
            eventMessage: "SystemExit: 1",
            eventTime: "2026-03-01T12:34:06Z",
            run: {
                ErrorMessage: "AnalysisException: [UNRESOLVED_COLUMN] amount cannot be resolved",
                ExecutionTime: 192,
                LogGroupName: "/aws-glue/jobs/glue-pipeline-prod-role/FileProcessorV2-prod-role",
                Arguments: { "--file_id": "ab".repeat(32) },
            },
            record: {
                file_id: "ab".repeat(32),
                processing_status: "FAILED",
                source_file_path: "s3://glue-input-prod-222222222222/sales/2026/03/orders.csv",
                quarantine_path: "s3://glue-output-prod-222222222222/quarantine/sales/2026/03/orders/",
                output_file_path: "s3://glue-output-prod-222222222222/processed/sales/2026/03/orders/",
                attempts: 2,
            },
            recordUpdate: "marked-failed",
            tableName: "etl-pipeline-metadata-prod",
            replayCommand: "npm run replay -- --stack prod",
        };

        it("says which job, run, file, error, where the quarantine and logs are, and what to do", () => {
            const note = buildRunNotification(failed);
            assert.equal(note.subject, "[prod] FileProcessorV2-prod FAILED: orders.csv");
            const lines = note.message.split("\n");
            assert.equal(lines[0], "Glue job FileProcessorV2-prod (prod): run jr_ca2144d747b45ad412d3c66a1b6934b6 failed after 3 min 12 s.");
            for (const expected of [
                "  Error:       AnalysisException: [UNRESOLVED_COLUMN] amount cannot be resolved",
                "  File:        s3://glue-input-prod-222222222222/sales/2026/03/orders.csv",
                `  File id:     ${"ab".repeat(32)}`,
                "  Record:      etl-pipeline-metadata-prod, status now FAILED (the run ended before the job could record it), claim 2",
                "  Quarantine:  s3://glue-output-prod-222222222222/quarantine/sales/2026/03/orders/ (rows the job rejected, with the reason, if it got that far)",
                "  Error log:   log group /aws-glue/jobs/glue-pipeline-prod-role/FileProcessorV2-prod-role/error, stream jr_ca2144d747b45ad412d3c66a1b6934b6",
                "    npm run replay -- --stack prod",
            ]) {
                assert.ok(lines.includes(expected), `missing line ${JSON.stringify(expected)} in:\n${note.message}`);
            }
            assert.deepEqual(note.attributes, {
                event_type: "glue_job_run_not_succeeded",
                stage: "prod",
                job_name: "FileProcessorV2-prod",
                job_run_id: "jr_ca2144d747b45ad412d3c66a1b6934b6",
                state: "FAILED",
                file_id: "ab".repeat(32),
            });
            assert.ok(!note.message.includes('"detail-type"'), "no raw event dump");
        });

        it("falls back to the event's message, and explains a timeout", () => {
            const note = buildRunNotification({ ...failed, state: "TIMEOUT", eventMessage: "Job run timed out", run: { ...failed.run, ErrorMessage: undefined, Timeout: 60, ExecutionTime: 3600 } });
            assert.match(note.message, /run jr_\w+ timed out after 1 h \(the job's timeout is 60 min\)\./);
            assert.match(note.message, /Error: {7}Job run timed out/);
            assert.equal(note.subject, "[prod] FileProcessorV2-prod TIMEOUT: orders.csv");
        });

        it("names the log groups the infrastructure created when it knows them", () => {
            const note = buildRunNotification({ ...failed, logGroups: { output: "/aws-glue/jobs/sc-role/r/output", error: "/aws-glue/jobs/sc-role/r/error" } });
            assert.match(note.message, /Error log: {3}log group \/aws-glue\/jobs\/sc-role\/r\/error, stream jr_/);
            assert.match(note.message, /Output log: {2}log group \/aws-glue\/jobs\/sc-role\/r\/output, stream jr_/);
        });

        it("for a run the job recorded itself, says the record's status as it is", () => {
            const note = buildRunNotification({ ...failed, recordUpdate: "left-alone" });
            assert.match(note.message, /Record: {6}etl-pipeline-metadata-prod, status FAILED, claim 2/);
        });

        it("for a manual run without a file, says there is nothing to replay", () => {
            const note = buildRunNotification({ ...failed, record: undefined, recordUpdate: "none", run: { ExecutionTime: 20 } });
            assert.match(note.message, /not started for a tracked file/);
            assert.match(note.message, /start the run again by hand/);
            assert.ok(!note.message.includes("npm run replay"));
            assert.equal(note.subject, "[prod] FileProcessorV2-prod FAILED");
            assert.match(note.message, /log group \/aws-glue\/jobs\/error/);
        });

        it("keeps the subject one ASCII line under SNS's 100 characters, ending with the file name's tail", () => {
            const long = `s3://b/${"ü".repeat(3)}${"x".repeat(150)}-2026-03-01.csv`;
            const subject = notificationSubject("prod", "FileProcessorV2-prod", "FAILED", long);
            assert.ok(subject.length < 100, `${subject.length}`);
            assert.match(subject, /^[\x20-\x7E]+$/);
            assert.match(subject, /^\[prod\] FileProcessorV2-prod FAILED: \.\.\.x+-2026-03-01\.csv$/);
        });

        it("formats durations and console links", () => {
            assert.deepEqual([0, 45, 60, 192, 3600, 3725].map(formatDuration), ["0 s", "45 s", "1 min", "3 min 12 s", "1 h", "1 h 2 min"]);
            assert.equal(
                logEventsUrl("eu-west-1", "/aws-glue/jobs/error", "jr_1"),
                "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/$252Faws-glue$252Fjobs$252Ferror/log-events/jr_1",
            );
        });
    });
});
