/**
 * The whole S3-triggered path, offline, in one test: the smoke script uploads the bundled samples of the
 * CSV and Parquet flows to the emulated input bucket → each upload's S3 event goes to the trigger the
 * bucket notification routes it to (functions/glue-trigger, configured by the same environment variables
 * the stack sets) → the trigger claims the file and starts a run in the emulated Glue → the local Glue
 * runner executes every started run with the job's real script on local Spark (one Spark start) → the job
 * writes Parquet/JSON and quarantine to the emulated output bucket and its counts to the metadata record →
 * the run's job-state event goes to functions/glue-job-events → metrics in the emulated CloudWatch. Then
 * the smoke script's own checks run on what the pipeline wrote, and its release marker is written.
 *
 * This is the first proof that the pieces fit: the trigger's job arguments are what the jobs parse, the
 * jobs' record writes are what the job-events handler and smoke read, and the paths agree end to end.
 */
import * as assert from "node:assert/strict";
import { GetObjectCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import type { S3Event } from "aws-lambda";
import { ARTIFACT_SOURCES } from "../../stacks/artifacts";
import { CSV_PREFIXES as OUTPUT_PREFIXES, CSV_SUFFIX } from "../../stacks/flows/csv";
import { PARQUET_PREFIXES, PARQUET_SUFFIX } from "../../stacks/flows/parquetToJson";
import { METRIC_NAMES } from "../../functions/glue-job-events/metrics";
import type { TriggerSummary } from "../../functions/glue-trigger/trigger";
import type { Upload } from "../../scripts/smoke";
import { s3Event } from "../fixtures/s3Events";
import { useEmulator } from "../support/emulator";
import { createEmulatedStack, emulatedJobEvents, emulatedStackNames, METRIC_NAMESPACE as NAMESPACE, quietLogger } from "./emulatedStack";
import { judge, smokeScope } from "./smokeAccess";
import { runJobRunsLocally, LocalRunResult } from "../support/localGlueRunner";
import { metricStats, motoCloudWatchClient, capturingTopic } from "../monitoring/support";

const STAGE = "e2e";
const { inputBucket: INPUT, outputBucket: OUTPUT, metadataTable: TABLE } = emulatedStackNames(STAGE);
const CSV_JOB = `FileProcessorV2-${STAGE}`;
const PARQUET_JOB = `ParquetToJson-${STAGE}`;
const RELEASE = "r-0123456789ab";

describe("end to end, offline: S3 event → trigger → Glue run on local Spark → record → job-state event → metric → smoke checks", function () {
    // One Spark start for four files: 71 s on the two-core machine when quiet, 186 s at a load average of 19.
    // A guard against a hang, not a speed check (speed belongs in npm run bench).
    this.timeout(600_000);
    const aws = useEmulator();

    it("every sample of the CSV and Parquet flows is processed, recorded, measured and passes the smoke checks", async () => {
        // Prepare: what the stack creates, in the emulator.
        await createEmulatedStack(aws, STAGE, [CSV_JOB, PARQUET_JOB]);
        const topic = await capturingTopic(aws.endpoint, `glue-pipeline-alerts-${STAGE}`);
        const cloudwatch = motoCloudWatchClient(aws.endpoint);

        // The functions' modules, loaded after the emulator is up (their clients read AWS_ENDPOINT_URL).
        const triggerConfig: typeof import("../../functions/glue-trigger/config") = require("../../functions/glue-trigger/config");
        const trigger: typeof import("../../functions/glue-trigger/trigger") = require("../../functions/glue-trigger/trigger");
        const smoke: typeof import("../../scripts/smoke") = require("../../scripts/smoke");
        const { S3Client } = require("@aws-sdk/client-s3") as typeof import("@aws-sdk/client-s3");
        const { DynamoDBClient } = require("@aws-sdk/client-dynamodb") as typeof import("@aws-sdk/client-dynamodb");
        const { DynamoDBDocumentClient } = require("@aws-sdk/lib-dynamodb") as typeof import("@aws-sdk/lib-dynamodb");

        // Each trigger from the environment its stack sets (stacks/flows/).
        const csvTrigger = trigger.createTriggerDeps(
            triggerConfig.loadTriggerConfig({ GLUE_JOB_NAME: CSV_JOB, METADATA_TABLE: TABLE, OUTPUT_BUCKET: OUTPUT, FILE_SUFFIX: CSV_SUFFIX, RELEASE_ID: RELEASE }),
            { logger: quietLogger() },
        );
        const parquetTrigger = trigger.createTriggerDeps(
            triggerConfig.loadTriggerConfig({
                GLUE_JOB_NAME: PARQUET_JOB,
                METADATA_TABLE: TABLE,
                OUTPUT_BUCKET: OUTPUT,
                FILE_SUFFIX: PARQUET_SUFFIX,
                KEY_PREFIX: PARQUET_PREFIXES.raw,
                DATED_KEYS: "true",
                OUTPUT_PREFIX: PARQUET_PREFIXES.processed,
                RELEASE_ID: RELEASE,
            }),
            { logger: quietLogger() },
        );
        const jobEvents = emulatedJobEvents(aws, STAGE, [CSV_JOB, PARQUET_JOB], topic.topicArn, cloudwatch);

        const summaries: TriggerSummary[] = [];
        const runs: LocalRunResult[] = [];
        const handled: Awaited<ReturnType<typeof jobEvents.finished>>[] = [];
        /** What happens in AWS between the uploads and the records' final states. */
        const pipeline = async (uploads: readonly Upload[]) => {
            // S3 → the input bucket's notification: .csv anywhere to the CSV trigger, .parquet under raw-data/ to the Parquet trigger.
            for (const u of uploads) {
                // The event carries what S3 puts in it: size, ETag and version id of the object written.
                const head = await aws.clients.s3.send(new HeadObjectCommand({ Bucket: INPUT, Key: u.key }));
                const event: S3Event = s3Event({ bucket: INPUT, key: u.key, size: Number(head.ContentLength), eTag: head.ETag!.replace(/"/g, ""), versionId: head.VersionId });
                const deps = u.key.endsWith(CSV_SUFFIX) ? csvTrigger : u.key.startsWith(PARQUET_PREFIXES.raw) ? parquetTrigger : undefined;
                assert.ok(deps, `no trigger receives ${u.key}`);
                summaries.push(await trigger.handleS3Event(event, undefined, deps));
            }
            // Glue runs every started run (here: locally, all in one Spark start).
            const started = summaries.flatMap((s) => s.records).flatMap((r) => (r.outcome === "started" ? [r] : []));
            const jobOf = new Map(uploads.map((u) => [u.fileId, u.key.endsWith(CSV_SUFFIX) ? CSV_JOB : PARQUET_JOB]));
            runs.push(
                ...(await runJobRunsLocally(
                    aws,
                    { [CSV_JOB]: ARTIFACT_SOURCES.fileProcessorScript.path, [PARQUET_JOB]: ARTIFACT_SOURCES.parquetToJsonScript.path },
                    started.map((r) => ({ jobName: jobOf.get(r.fileId)!, jobRunId: r.jobRunId })),
                )),
            );
            // Glue → EventBridge → the job-events function, one state-change event per finished run.
            for (const run of runs) {
                handled.push(await jobEvents.finished(run));
            }
        };

        // Act: the smoke script, with the pipeline driven between its uploads and its wait.
        const progress: string[] = [];
        const result = await smoke.runSmoke(
            { stack: STAGE, inputBucket: INPUT, outputBucket: OUTPUT, metadataTable: TABLE, releaseId: RELEASE },
            {
                s3: new S3Client({ forcePathStyle: true }),
                doc: DynamoDBDocumentClient.from(new DynamoDBClient({})),
            },
            { afterUpload: pipeline, timeoutMs: 5_000, pollMs: 200, progress: (line) => progress.push(line) },
        );

        // Assess: the trigger started one run per file, with the arguments the jobs parse.
        const csvSamples = smoke.smokeSamples().filter((s) => s.flow === "csv").length;
        assert.deepEqual(
            summaries.map((s) => [s.started, s.failed, s.rejected, s.ignored]),
            Array.from({ length: csvSamples + 1 }, () => [1, 0, 0, 0]),
        );
        const detail = JSON.stringify(runs.map((r) => ({ job: r.jobName, state: r.state, error: r.error })), null, 1);
        assert.ok(runs.length === csvSamples + 1 && runs.every((r) => r.state === "SUCCEEDED"), detail);
        // Outputs landed where the trigger said: processed/ for CSV, processed-data/YYYY/MM/DD/ for Parquet.
        for (const run of runs) {
            const prefix = run.jobName === CSV_JOB ? OUTPUT_PREFIXES.processed : PARQUET_PREFIXES.processed;
            assert.ok(run.uploaded.some((k) => k.startsWith(prefix)), `${run.jobName} wrote nothing under ${prefix}: ${run.uploaded.join(", ")}`);
        }
        // The job-events function reported each run once, nothing failed, nothing was sent to the alerts topic.
        assert.deepEqual(
            handled.map((h) => h.kind),
            runs.map(() => "reported"),
        );
        assert.deepEqual(await topic.receive(), []);
        // Its metrics: rows written per job, summed from the records the jobs wrote.
        const expectedWritten = (flow: "csv" | "parquet") =>
            smoke.smokeSamples().filter((s) => s.flow === flow).reduce((sum, s) => sum + s.expected.record_count, 0);
        const written = async (job: string) => (await metricStats(cloudwatch, NAMESPACE, METRIC_NAMES.recordsWritten, { JobName: job })).sum;
        assert.equal(await written(CSV_JOB), expectedWritten("csv"));
        assert.equal(await written(PARQUET_JOB), expectedWritten("parquet"));
        const failedRuns = await metricStats(cloudwatch, NAMESPACE, METRIC_NAMES.jobRunFailed, { JobName: CSV_JOB });
        assert.deepEqual(failedRuns, { sum: 0, count: csvSamples });

        // The smoke checks passed on every file, showed progress, and recorded the release.
        assert.equal(result.passed, true, smoke.formatSmoke({ stack: STAGE, inputBucket: INPUT, outputBucket: OUTPUT, metadataTable: TABLE, releaseId: RELEASE }, result));
        assert.equal(result.reports.length, csvSamples + 1);
        assert.ok(progress.some((line) => /: SUCCEEDED$/.test(line)), progress.join("\n"));
        assert.equal(result.marker, `s3://${OUTPUT}/smoke/passed/${RELEASE}.json`);
        const marker = await aws.clients.s3.send(new GetObjectCommand({ Bucket: OUTPUT, Key: `smoke/passed/${RELEASE}.json` }));
        assert.deepEqual(JSON.parse(await marker.Body!.transformToString()), result.summary);
        // What `pulumi up` exports from smoke's --json line is this summary (components/delivery/smokeCheck.ts).
        const { parseSmokeStdout } = require("../../components/delivery/smokeCheck") as typeof import("../../components/delivery/smokeCheck");
        assert.deepEqual(parseSmokeStdout(`${JSON.stringify(result.summary)}\n`, RELEASE), {
            releaseId: RELEASE,
            passedAt: result.summary!.passedAt,
            files: result.reports.map((r) => r.key),
        });

        // The smoke role (SmokeRole-<stage>) may do what this run did: put each sample, list and read what
        // the real jobs wrote for it, read its record, put the marker. Judged by an IAM evaluator.
        const account = "123456789012";
        const scope = smokeScope(account, "eu-west-1", STAGE);
        assert.deepEqual([scope.inputBucket, scope.outputBucket, scope.tableArn.split("/").pop()], [INPUT, OUTPUT, TABLE]);
        const verdicts: string[] = [];
        const expectAllowed = async (action: string, resource: string, context: Record<string, string> = {}) => {
            const verdict = await judge(scope, action, resource, context);
            if (verdict !== "allow") verdicts.push(`${action} ${resource} ${JSON.stringify(context)}: ${verdict}`);
        };
        for (const r of result.reports) {
            await expectAllowed("s3:PutObject", `arn:aws:s3:::${INPUT}/${r.key}`);
            for (const uri of [r.record!.output_file_path!, r.record!.quarantine_path!]) {
                await expectAllowed("s3:ListBucket", `arn:aws:s3:::${OUTPUT}`, { "s3:prefix": uri.replace(`s3://${OUTPUT}/`, "") });
            }
        }
        for (const key of runs.flatMap((run) => run.uploaded)) await expectAllowed("s3:GetObject", `arn:aws:s3:::${OUTPUT}/${key}`);
        await expectAllowed("s3:PutObject", `arn:aws:s3:::${OUTPUT}/smoke/passed/${RELEASE}.json`);
        await expectAllowed("dynamodb:GetItem", `arn:aws:dynamodb:eu-west-1:${account}:table/${TABLE}`);
        assert.deepEqual(verdicts, []);
    });
});
