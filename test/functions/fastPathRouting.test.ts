/**
 * The trigger's routing between the CSV converter (the fast path) and Glue: the pure decision, the
 * configuration, and the trigger against the emulator (moto over HTTP: real S3 objects, the metadata table,
 * a Glue job, the converter's SQS queue) with events in AWS's real shape. What the converter does with the
 * request is functions/csv-converter's (glue/tests/test_csv_converter.py); the whole loop is
 * test/deploy/fastPath.test.ts.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { SQSEvent } from "aws-lambda";
import { CSV_CONVERTER_CONTRACT as converterContract } from "../../functions/csv-converter/contract";
import type { ConversionRequest } from "../../functions/csv-converter/contract";
import { loadTriggerConfig, TriggerConfig } from "../../functions/glue-trigger/config";
import { GLUE_TRIGGER_ENV } from "../../functions/glue-trigger/contract";
import { chooseEngine, formatBytes, parseConversionRequest } from "../../functions/glue-trigger/fastPath";
import type { DepsOverrides, TriggerDeps } from "../../functions/glue-trigger/trigger";
import { EnvironmentError } from "../../functions/shared/env";
import { Logger } from "../../functions/shared/logger";
import { ProcessingRecordStore, StartedRun, StartedWriteResult } from "../../functions/shared/processingRecords";
import { csv, EventObject, lambdaContext, s3Event } from "../fixtures/s3Events";
import { EMULATOR_REGION, useEmulator } from "../support/emulator";

type TriggerModule = typeof import("../../functions/glue-trigger/trigger");

const INPUT = "glue-input-test-123456789012";
const OUTPUT = "glue-output-test-123456789012";
const TABLE = "etl-pipeline-metadata-test";
const JOB = "FileProcessorV2-test";
const CONVERTER = "CsvConverter-test";
const MiB = 1024 * 1024;

describe("fast-path routing: the decision", () => {
    const limit = { maxBytes: 256 * MiB };

    it("sends a file at or below the limit to the converter, naming its size and the limit", () => {
        assert.deepEqual(chooseEngine(12_897_484, limit), {
            engine: "fast",
            reason: "12.3 MiB (12897484 bytes) <= the fast-path limit of 256 MiB (268435456 bytes)",
        });
        assert.equal(chooseEngine(256 * MiB, limit).engine, "fast", "the limit itself is on the fast path");
    });

    it("sends a file one byte over the limit to Glue, saying so exactly", () => {
        assert.deepEqual(chooseEngine(256 * MiB + 1, limit), {
            engine: "glue",
            reason: "256.0 MiB (268435457 bytes) > the fast-path limit of 256 MiB (268435456 bytes)",
        });
    });

    it("sends every file to Glue when the flow has no fast path", () => {
        assert.deepEqual(chooseEngine(10, undefined), { engine: "glue", reason: "the fast path is not configured for this flow" });
    });

    it("writes sizes for people", () => {
        assert.deepEqual([0, 900, 1024, 1536, 10 * MiB, 3 * 1024 * MiB].map(formatBytes), ["0 bytes", "900 bytes", "1 KiB", "1.5 KiB", "10 MiB", "3 GiB"]);
    });

    it("uses the engine names and run-id prefix of the converter's contract", () => {
        assert.deepEqual(converterContract.engines, { fast: "fast", glue: "glue" });
        assert.equal(chooseEngine(1, limit).engine, converterContract.engines.fast);
    });

    it("reads back only messages that are conversion requests (what replay finds in the converter's DLQ)", () => {
        const request: ConversionRequest = { version: 1, fileId: "f", attempt: 2, runId: "fast-1", jobArguments: { "--input_path": "s3://b/k.csv" }, sizeBytes: 3, routedBecause: "3 bytes <= ..." };
        assert.deepEqual(parseConversionRequest(JSON.stringify(request)), request);
        for (const body of ["not json", "[]", JSON.stringify({ ...request, version: 2 }), JSON.stringify({ ...request, runId: "jr_1" }), JSON.stringify({ ...request, jobArguments: { a: 1 } }), JSON.stringify({ Records: [] })]) {
            assert.equal(parseConversionRequest(body), undefined, body);
        }
    });
});

describe("fast-path routing: the trigger's configuration", () => {
    const valid = { GLUE_JOB_NAME: "FileProcessorV2-dev", METADATA_TABLE: "etl-pipeline-metadata-dev", OUTPUT_BUCKET: "glue-output-dev-111111111111" };
    const queueUrl = "https://sqs.eu-west-1.amazonaws.com/111111111111/CsvConverter-dev-queue";

    it("has no fast path without FAST_PATH_QUEUE_URL (the Parquet flow)", () => {
        assert.equal(loadTriggerConfig(valid).fastPath, undefined);
    });

    it("reads the queue, the limit and the function name", () => {
        const config = loadTriggerConfig({ ...valid, FAST_PATH_QUEUE_URL: queueUrl, FAST_PATH_MAX_BYTES: "1048576", FAST_PATH_FUNCTION_NAME: "CsvConverter-dev" });
        assert.deepEqual(config.fastPath, { queueUrl, maxBytes: 1048576, functionName: "CsvConverter-dev" });
    });

    it("takes the converter contract's default limit when FAST_PATH_MAX_BYTES is unset", () => {
        const config = loadTriggerConfig({ ...valid, FAST_PATH_QUEUE_URL: queueUrl, FAST_PATH_FUNCTION_NAME: "CsvConverter-dev" });
        assert.equal(config.fastPath?.maxBytes, converterContract.defaults.maxBytes);
    });

    it("names the variables in the contract", () => {
        assert.deepEqual([GLUE_TRIGGER_ENV.fastPathQueueUrl, GLUE_TRIGGER_ENV.fastPathMaxBytes, GLUE_TRIGGER_ENV.fastPathFunctionName], ["FAST_PATH_QUEUE_URL", "FAST_PATH_MAX_BYTES", "FAST_PATH_FUNCTION_NAME"]);
    });

    const invalid: [string, Record<string, string>, RegExp][] = [
        ["the function name is missing", { FAST_PATH_QUEUE_URL: queueUrl }, /FAST_PATH_FUNCTION_NAME is required but not set/],
        ["the queue is an ARN", { FAST_PATH_QUEUE_URL: "arn:aws:sqs:eu-west-1:111111111111:q", FAST_PATH_FUNCTION_NAME: "f" }, /FAST_PATH_QUEUE_URL must be an SQS queue URL/],
        ["the limit is zero", { FAST_PATH_QUEUE_URL: queueUrl, FAST_PATH_FUNCTION_NAME: "f", FAST_PATH_MAX_BYTES: "0" }, /FAST_PATH_MAX_BYTES must be an integer between 1/],
        ["the limit is not a number", { FAST_PATH_QUEUE_URL: queueUrl, FAST_PATH_FUNCTION_NAME: "f", FAST_PATH_MAX_BYTES: "256MB" }, /FAST_PATH_MAX_BYTES must be an integer/],
        ["a limit is set without the queue", { FAST_PATH_MAX_BYTES: "10" }, /FAST_PATH_QUEUE_URL is required when FAST_PATH_MAX_BYTES is set/],
        ["a function name is set without the queue", { FAST_PATH_FUNCTION_NAME: "f" }, /FAST_PATH_QUEUE_URL is required when FAST_PATH_FUNCTION_NAME is set/],
        ["the function name is an ARN", { FAST_PATH_QUEUE_URL: queueUrl, FAST_PATH_FUNCTION_NAME: "arn:aws:lambda:eu-west-1:111111111111:function:f" }, /FAST_PATH_FUNCTION_NAME must be a Lambda function name/],
    ];
    for (const [name, env, message] of invalid) {
        it(`fails naming the variable when ${name}`, () => {
            assert.throws(() => loadTriggerConfig({ ...valid, ...env }), (err: Error) => err instanceof EnvironmentError && message.test(err.message));
        });
    }
});

/** The contract's file_id, computed independently of the code under test. */
function expectedFileId(bucket: string, key: string, version: string): string {
    return createHash("sha256").update(`${bucket}/${key}#${version}`).digest("hex");
}

describe("fast-path routing: the trigger against the emulator", function () {
    const aws = useEmulator();
    let trigger: TriggerModule;
    let sqs: SQSClient;
    let queueUrl: string;

    before(() => {
        trigger = require("../../functions/glue-trigger/trigger");
    });

    beforeEach(async () => {
        sqs = new SQSClient({ endpoint: aws.endpoint, region: EMULATOR_REGION, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
        await aws.createBucket(INPUT, { versioned: true });
        await aws.createBucket(OUTPUT);
        await aws.createMetadataTable(TABLE);
        await aws.createGlueJob(JOB, { maxConcurrentRuns: 3 });
        queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `${CONVERTER}-queue` }))).QueueUrl!;
    });

    function config(fastPath: Partial<NonNullable<TriggerConfig["fastPath"]>> | null = {}): TriggerConfig {
        return {
            glueJobName: JOB,
            metadataTable: TABLE,
            outputBucket: OUTPUT,
            fileSuffix: ".csv",
            claimLeaseSeconds: 60,
            startAttempts: 2,
            logLevel: "DEBUG",
            ...(fastPath === null ? {} : { fastPath: { queueUrl, maxBytes: 1024, functionName: CONVERTER, ...fastPath } }),
        };
    }

    function deps(cfg: TriggerConfig, overrides: DepsOverrides = {}): { deps: TriggerDeps; lines: Record<string, unknown>[] } {
        const lines: Record<string, unknown>[] = [];
        let n = 0;
        const built = trigger.createTriggerDeps(cfg, {
            logger: new Logger({ service: "glue-trigger", level: "DEBUG", sink: (line) => lines.push(JSON.parse(line)) }),
            backoff: { baseDelayMs: 1, maxDelayMs: 2 },
            sleep: async () => undefined,
            newFastRunId: () => `fast-00000000-0000-4000-8000-${String(++n).padStart(12, "0")}`,
            ...overrides,
        });
        return { deps: built, lines };
    }

    async function upload(key: string, body: string): Promise<EventObject> {
        const put = await aws.putObject(INPUT, key, body);
        return { bucket: INPUT, key, size: put.size, eTag: put.etag, versionId: put.versionId };
    }

    async function requests(): Promise<ConversionRequest[]> {
        const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
        return (out.Messages ?? []).map((m) => JSON.parse(m.Body!));
    }

    const record = (fileId: string) => aws.getItem(TABLE, { file_id: fileId });

    /** A body of exactly `bytes` bytes: a header and rows, padded in the last field. */
    function csvOfSize(bytes: number): string {
        const head = "id,name\n1,";
        assert.ok(bytes > head.length + 1);
        return `${head}${"x".repeat(bytes - head.length - 1)}\n`;
    }

    it("sends a small file to the converter's queue: one request in the contract's shape, STARTED with engine fast", async () => {
        // Prepare
        const object = await upload("incoming/small.csv", csv(3));
        const fileId = expectedFileId(INPUT, object.key, object.versionId!);
        const { deps: d } = deps(config());

        // Act
        const summary = await trigger.handleS3Event(s3Event(object), lambdaContext(), d);

        // Assess
        assert.equal(summary.started, 1);
        const runId = "fast-00000000-0000-4000-8000-000000000001";
        const reason = `${object.size} bytes <= the fast-path limit of 1 KiB (1024 bytes)`;
        assert.deepEqual(await requests(), [
            {
                version: converterContract.requestVersion,
                fileId,
                attempt: 1,
                runId,
                // Exactly the Glue job's arguments for this file: a fallback starts Glue with them unchanged.
                jobArguments: {
                    "--input_path": `s3://${INPUT}/incoming/small.csv`,
                    "--output_path": `s3://${OUTPUT}/processed/incoming/small/`,
                    "--quarantine_path": `s3://${OUTPUT}/quarantine/incoming/small/`,
                    "--source_file": "incoming/small.csv",
                    "--file_id": fileId,
                    "--source_version_id": object.versionId,
                    "--source_etag": object.eTag,
                },
                sizeBytes: object.size,
                routedBecause: reason,
            },
        ]);
        const item = await record(fileId);
        assert.equal(item?.processing_status, "STARTED");
        assert.equal(item?.job_run_id, runId);
        assert.equal(item?.job_name, CONVERTER);
        assert.equal(item?.engine, "fast");
        assert.equal(item?.engine_reason, reason);
        assert.equal(item?.attempts, 1);
        assert.equal(item?.lease_expires_at, undefined, "the lease is released once the run is recorded");
        assert.equal((await aws.jobRuns(JOB)).length, 0, "no Glue run");
    });

    it("starts Glue for a file over the limit and records engine glue with the sizes", async () => {
        const object = await upload("incoming/large.csv", csvOfSize(1025));
        const fileId = expectedFileId(INPUT, object.key, object.versionId!);
        const { deps: d } = deps(config());

        const summary = await trigger.handleS3Event(s3Event(object), lambdaContext(), d);

        assert.equal(summary.started, 1);
        const runs = await aws.jobRuns(JOB);
        assert.equal(runs.length, 1);
        const item = await record(fileId);
        assert.equal(item?.processing_status, "STARTED");
        assert.equal(item?.job_run_id, runs[0].Id);
        assert.equal(item?.job_name, JOB);
        assert.equal(item?.engine, "glue");
        assert.equal(item?.engine_reason, "1.0 KiB (1025 bytes) > the fast-path limit of 1 KiB (1024 bytes)");
        assert.deepEqual(await requests(), []);
    });

    it("routes a file of exactly the limit to the converter, and one byte more to Glue", async () => {
        const atLimit = await upload("edge/at.csv", csvOfSize(1024));
        const over = await upload("edge/over.csv", csvOfSize(1025));
        const { deps: d } = deps(config());

        await trigger.handleS3Event(s3Event(atLimit, over), lambdaContext(), d);

        assert.equal((await record(expectedFileId(INPUT, atLimit.key, atLimit.versionId!)))?.engine, "fast");
        assert.equal((await record(expectedFileId(INPUT, over.key, over.versionId!)))?.engine, "glue");
        assert.deepEqual((await requests()).map((r) => r.jobArguments["--source_file"]), ["edge/at.csv"]);
        assert.equal((await aws.jobRuns(JOB)).length, 1);
    });

    it("starts Glue for every file when the flow has no fast path, saying so on the record", async () => {
        const object = await upload("incoming/tiny.csv", csv(1));
        const fileId = expectedFileId(INPUT, object.key, object.versionId!);
        const { deps: d } = deps(config(null));

        await trigger.handleS3Event(s3Event(object), lambdaContext(), d);

        const item = await record(fileId);
        assert.equal(item?.engine, "glue");
        assert.equal(item?.engine_reason, "the fast path is not configured for this flow");
        assert.equal((await aws.jobRuns(JOB)).length, 1);
        assert.deepEqual(await requests(), []);
    });

    it("sends one request for an event delivered twice", async () => {
        const object = await upload("dup/once.csv", csv(2));
        const { deps: d, lines } = deps(config());

        const first = await trigger.handleS3Event(s3Event(object), lambdaContext(), d);
        const second = await trigger.handleS3Event(s3Event(object), lambdaContext(), d);

        assert.equal(first.started, 1);
        assert.equal(second.skipped, 1);
        assert.equal((await requests()).length, 1);
        assert.ok(lines.some((l) => l.message === "duplicate delivery skipped" && l.existing_status === "STARTED"));
    });

    it("gives the claim back as START_FAILED when the request cannot be sent, and the retried delivery sends it", async () => {
        // Prepare: the converter's queue does not exist (deleted, or a wrong URL): SendMessage fails.
        const object = await upload("send/fails.csv", csv(2));
        const fileId = expectedFileId(INPUT, object.key, object.versionId!);
        const missingQueue = queueUrl.replace(/-queue$/, "-gone");
        const { deps: broken } = deps(config({ queueUrl: missingQueue }));

        // Act
        const failed = await trigger.handleS3Event(s3Event(object), lambdaContext(), broken).catch((err) => err);

        // Assess: nothing was sent and nothing started; the record is claimable again, the error thrown for a retry.
        assert.ok(failed instanceof trigger.TriggerBatchError, String(failed));
        const item = await record(fileId);
        assert.equal(item?.processing_status, "START_FAILED");
        assert.match(String(item?.error_message), /^could not send the conversion request to the fast path: /);
        assert.equal(item?.job_run_id, undefined);
        assert.equal(item?.lease_expires_at, undefined);
        assert.equal((await aws.jobRuns(JOB)).length, 0);

        // The retried delivery, the queue back: claimed again, sent, STARTED.
        const { deps: fixed } = deps(config());
        const retried = await trigger.handleS3Event(s3Event(object), lambdaContext(), fixed);
        assert.equal(retried.started, 1);
        const [request] = await requests();
        assert.equal(request.attempt, 2);
        assert.equal((await record(fileId))?.processing_status, "STARTED");
        assert.equal((await record(fileId))?.job_run_id, request.runId);
    });

    it("retries the delivery when STARTED cannot be written after the send; the retry's request is the one recorded", async () => {
        // Prepare: a store whose STARTED write fails once (DynamoDB unavailable), with a short lease.
        class FailingOnce extends ProcessingRecordStore {
            failures = 1;
            override async markStarted(fileId: string, attempt: number, jobRunId: string, run?: StartedRun): Promise<StartedWriteResult> {
                if (this.failures-- > 0) throw Object.assign(new Error("Service unavailable"), { name: "ServiceUnavailable" });
                return super.markStarted(fileId, attempt, jobRunId, run);
            }
        }
        const { DynamoDBDocumentClient } = await import("@aws-sdk/lib-dynamodb");
        const store = new FailingOnce(DynamoDBDocumentClient.from(aws.clients.dynamodb, { marshallOptions: { removeUndefinedValues: true } }), TABLE);
        const object = await upload("started/write-fails.csv", csv(2));
        const fileId = expectedFileId(INPUT, object.key, object.versionId!);
        const { deps: d } = deps({ ...config(), claimLeaseSeconds: 1 }, { records: store });

        // Act: the first delivery sends, then fails to record; the record stays CLAIMED under its lease.
        const first = await trigger.handleS3Event(s3Event(object), lambdaContext(), d).catch((err) => err);
        assert.ok(first instanceof trigger.TriggerBatchError, "the delivery is retried");
        const afterFirst = await record(fileId);
        assert.equal(afterFirst?.processing_status, "CLAIMED", "the converter will not run a CLAIMED file");
        assert.equal(afterFirst?.attempts, 1);

        // The retry after the lease: claimed again, a second request sent and recorded.
        await new Promise((resolve) => setTimeout(resolve, 1100));
        const second = await trigger.handleS3Event(s3Event(object), lambdaContext(), d);

        // Assess: two requests, the record names the second; the first finds another run and is dropped by the converter.
        assert.equal(second.started, 1);
        const sent = await requests();
        assert.deepEqual(sent.map((r) => [r.attempt, r.runId]), [
            [1, "fast-00000000-0000-4000-8000-000000000001"],
            [2, "fast-00000000-0000-4000-8000-000000000002"],
        ]);
        const item = await record(fileId);
        assert.equal(item?.processing_status, "STARTED");
        assert.equal(item?.job_run_id, "fast-00000000-0000-4000-8000-000000000002");
        assert.equal(item?.attempts, 2);
    });

    it("routes queue-fed deliveries with the configuration the stack sets (environment → loadTriggerConfig → handleQueueEvent)", async () => {
        const object = await upload("queued/small.csv", csv(2));
        const env = {
            [GLUE_TRIGGER_ENV.glueJobName]: JOB,
            [GLUE_TRIGGER_ENV.metadataTable]: TABLE,
            [GLUE_TRIGGER_ENV.outputBucket]: OUTPUT,
            [GLUE_TRIGGER_ENV.fastPathQueueUrl]: queueUrl,
            [GLUE_TRIGGER_ENV.fastPathMaxBytes]: "1048576",
            [GLUE_TRIGGER_ENV.fastPathFunctionName]: CONVERTER,
            LOG_LEVEL: "ERROR",
        };
        const { deps: d } = deps(loadTriggerConfig(env));
        const event: SQSEvent = {
            Records: [
                {
                    messageId: "m-1",
                    receiptHandle: "r-1",
                    body: JSON.stringify(s3Event(object)),
                    attributes: { ApproximateReceiveCount: "1", SentTimestamp: "0", SenderId: "s3", ApproximateFirstReceiveTimestamp: "0" },
                    messageAttributes: {},
                    md5OfBody: "",
                    eventSource: "aws:sqs",
                    eventSourceARN: `arn:aws:sqs:${EMULATOR_REGION}:123456789012:GlueTriggerLambda-test-queue`,
                    awsRegion: EMULATOR_REGION,
                },
            ],
        };

        const answer = await trigger.handleQueueEvent(event, lambdaContext(), d);

        assert.deepEqual(answer.batchItemFailures, []);
        assert.equal(answer.started, 1);
        const [request] = await requests();
        assert.equal(request.jobArguments["--source_file"], "queued/small.csv");
        assert.match(request.routedBecause, /<= the fast-path limit of 1 MiB \(1048576 bytes\)$/);
    });
});
