/**
 * Replay against the AWS emulator: a poisoned S3 event fails every delivery and lands in the trigger's
 * dead-letter queue; once the cause is fixed, replay starts its file exactly once, and a second replay
 * does nothing. FAILED records, already-handled messages, messages nobody can read, the job-events DLQ and
 * the command line are covered too.
 *
 * Lambda's own part — two async retries after the first failure, then the on-failure destination — is AWS
 * behaviour moto does not run. The test does what Lambda does: it invokes the real trigger logic three
 * times with the event, then puts the invocation record Lambda's destination writes (its documented
 * shape, `requestPayload` holding the event) on the queue.
 */
import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GlueClient } from "@aws-sdk/client-glue";
import { DeleteObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { SNSClient } from "@aws-sdk/client-sns";
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import type { S3Event } from "aws-lambda";
import type { ReplayOutputs, ReplayReport } from "../../scripts/replay";
import { csv, s3Event } from "../fixtures/s3Events";
import { EMULATOR_REGION, emulatorEnv, useEmulator } from "../support/emulator";
import { createQueueWithDlq, EventSourceMapping, queueDepth as harnessDepth, until } from "../functions/queueHarness";
import { capturingTopic, glueStateChange, motoCloudWatchClient, motoGlueClient, scheduledEvent } from "./support";

type ReplayModule = typeof import("../../scripts/replay");
type TriggerModule = typeof import("../../functions/glue-trigger/trigger");

const ROOT = path.resolve(__dirname, "../..");
const INPUT = "glue-input-test-123456789012";
const OUTPUT = "glue-output-test-123456789012";
const TABLE = "etl-pipeline-metadata-test";
const JOB = "FileProcessorV2-test";

/** What Lambda's on-failure destination writes to SQS after the last retry of an async invocation. */
function destinationRecord(event: unknown, errorMessage: string) {
    return {
        version: "1.0",
        timestamp: "2026-03-01T12:40:05.568Z",
        requestContext: {
            requestId: "e4b46cbf-b738-xmpl-8880-a18cdf61200e",
            functionArn: `arn:aws:lambda:${EMULATOR_REGION}:123456789012:function:GlueTriggerLambda-test:$LATEST`,
            condition: "RetriesExhausted",
            approximateInvokeCount: 3,
        },
        requestPayload: event,
        responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
        responsePayload: { errorType: "TriggerBatchError", errorMessage },
    };
}

describe("replay against the emulator", function () {
    const aws = useEmulator();
    let replayModule: ReplayModule;
    let triggerModule: TriggerModule;
    let sqs: SQSClient;
    let dlqUrl: string;
    let eventsDlqUrl: string;
    let outputs: ReplayOutputs;

    before(() => {
        replayModule = require("../../scripts/replay");
        triggerModule = require("../../functions/glue-trigger/trigger");
    });

    beforeEach(async () => {
        sqs = new SQSClient({ endpoint: aws.endpoint, region: EMULATOR_REGION, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
        await aws.createBucket(INPUT, { versioned: true });
        await aws.createBucket(OUTPUT);
        await aws.createMetadataTable(TABLE);
        dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: "GlueTriggerLambda-test-dlq" }))).QueueUrl!;
        eventsDlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: "GlueJobEvents-test-dlq" }))).QueueUrl!;
        outputs = {
            region: EMULATOR_REGION,
            stage: "test",
            metadataTable: TABLE,
            fileProcessorJob: JOB,
            outputBucket: OUTPUT,
            triggerDeadLetterQueue: dlqUrl,
            glueJobEventsDeadLetterQueue: eventsDlqUrl,
        };
    });

    function clients() {
        const common = { endpoint: aws.endpoint, region: EMULATOR_REGION, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } };
        return {
            sqs,
            s3: new S3Client({ ...common, forcePathStyle: true }),
            glue: motoGlueClient(aws.endpoint) as GlueClient,
            dynamodb: new DynamoDBClient(common),
            sns: new SNSClient(common),
            cloudwatch: motoCloudWatchClient(aws.endpoint) as CloudWatchClient,
        };
    }

    const run = (extra: Partial<Parameters<ReplayModule["replay"]>[0]> = {}): Promise<ReplayReport> =>
        replayModule.replay({ outputs, visibilityTimeoutSeconds: 30, waitTimeSeconds: 0, ...extra }, clients());

    async function queueDepth(url: string): Promise<number> {
        const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"] }));
        return Number(out.Attributes!.ApproximateNumberOfMessages) + Number(out.Attributes!.ApproximateNumberOfMessagesNotVisible);
    }

    /** Delivers `event` as Lambda would: the first attempt and two retries, then the DLQ. */
    async function deliverAndDeadLetter(event: S3Event): Promise<void> {
        const deps = triggerModule.createTriggerDeps(
            { glueJobName: JOB, metadataTable: TABLE, outputBucket: OUTPUT, fileSuffix: ".csv", claimLeaseSeconds: 60, startAttempts: 1, logLevel: "ERROR" },
            { s3: clients().s3, glue: new GlueClient({ endpoint: aws.endpoint, region: EMULATOR_REGION, credentials: { accessKeyId: "testing", secretAccessKey: "testing" }, maxAttempts: 1 }), logSink: () => undefined },
        );
        let lastError = "";
        for (let attempt = 1; attempt <= 3; attempt++) {
            await assert.rejects(triggerModule.handleS3Event(event, undefined, deps), (err: Error) => {
                lastError = err.message;
                return err.name === "TriggerBatchError";
            });
        }
        await sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: JSON.stringify(destinationRecord(event, lastError)) }));
    }

    async function allRecords(): Promise<Record<string, any>[]> {
        return (await aws.clients.doc.send(new ScanCommand({ TableName: TABLE, ConsistentRead: true }))).Items ?? [];
    }

    async function upload(key: string, body: string = csv(3)) {
        const put = await aws.putObject(INPUT, key, body);
        return { bucket: INPUT, key, size: put.size, eTag: put.etag, versionId: put.versionId };
    }

    /** Writes the FAILED record a failed run of `object` leaves (plus `extra`); returns its file_id. */
    async function putFailedRecord(object: Awaited<ReturnType<typeof upload>>, extra: Record<string, unknown>): Promise<string> {
        const fileId = (await import("../../functions/shared/s3Events")).deriveFileId(INPUT, object.key, object.versionId!);
        await aws.putItem(TABLE, {
            file_id: fileId,
            processing_status: "FAILED",
            source_bucket: INPUT,
            source_key: object.key,
            source_version: object.versionId,
            source_file_path: `s3://${INPUT}/${object.key}`,
            attempts: 1,
            updated_at: "2026-03-01T12:00:00.000Z",
            ...extra,
        });
        return fileId;
    }

    describe("a poisoned event: the job did not exist when the file landed", () => {
        let fileId: string;
        beforeEach(async () => {
            const object = await upload("sales/2026/03/orders 1.csv");
            // Prepare: every delivery fails (StartJobRun: EntityNotFoundException) and the event is dead-lettered.
            await deliverAndDeadLetter(s3Event(object));
            const [item] = await allRecords();
            fileId = item.file_id;
            assert.equal(item.processing_status, "START_FAILED");
            assert.equal(item.attempts, 3);
            assert.equal(await queueDepth(dlqUrl), 1);
            // The cause is fixed: the job is deployed.
            await aws.createGlueJob(JOB);
        });

        it("replay starts the file's run once and empties the queue; a second replay does nothing", async () => {
            // Act
            const first = await run();

            // Assess
            assert.equal(first.started, 1);
            assert.deepEqual(first.items.map((i) => [i.source, i.result]), [["trigger-dlq", "started"]]);
            assert.equal(await queueDepth(dlqUrl), 0);
            const runs = await aws.jobRuns(JOB);
            assert.equal(runs.length, 1);
            assert.equal(runs[0].Arguments?.["--file_id"], fileId);
            assert.equal(runs[0].Arguments?.["--input_path"], `s3://${INPUT}/sales/2026/03/orders 1.csv`);
            assert.equal(runs[0].Arguments?.["--output_path"], `s3://${OUTPUT}/processed/sales/2026/03/orders 1/`);
            const item = await aws.getItem(TABLE, { file_id: fileId });
            assert.equal(item?.processing_status, "STARTED");
            assert.equal(item?.job_run_id, runs[0].Id);
            assert.equal(item?.attempts, 4);

            const second = await run();
            assert.deepEqual(second.items, []);
            assert.equal((await aws.jobRuns(JOB)).length, 1);
            assert.equal((await aws.getItem(TABLE, { file_id: fileId }))?.attempts, 4);
        });

        it("a dry run lists the message and changes nothing", async () => {
            const report = await run({ dryRun: true });
            // The START_FAILED record is the same file as the message: listed once.
            assert.deepEqual(report.items.map((i) => [i.source, i.result]), [["trigger-dlq", "would-replay"]]);
            assert.equal((await aws.jobRuns(JOB)).length, 0);
            assert.equal((await aws.getItem(TABLE, { file_id: fileId }))?.processing_status, "START_FAILED");
        });

        it("the command line reads the outputs file, replays, and reports what it did", async () => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "replay-"));
            const file = path.join(dir, "outputs.json");
            fs.writeFileSync(file, JSON.stringify(outputs));
            const exec = promisify(execFile);
            const cli = (...args: string[]) =>
                exec(path.join(ROOT, "node_modules/.bin/ts-node"), ["--transpile-only", "scripts/replay.ts", "--stack", "test", "--outputs", file, ...args], {
                    cwd: ROOT,
                    env: { ...process.env, ...emulatorEnv(aws.endpoint) },
                });

            const first = await cli();
            assert.match(first.stdout, /^replay of stack test\n/);
            assert.match(first.stdout, /\[trigger-dlq\] message \S+: started — s3:\/\/glue-input-test-123456789012\/sales\/2026\/03\/orders 1\.csv → run jr_\w+/);
            assert.match(first.stdout, /1 run\(s\) started, 0 failed, 0 left for a person/);

            const second = await cli();
            assert.match(second.stdout, /nothing to replay/);
            assert.equal((await aws.jobRuns(JOB)).length, 1);
        });
    });

    describe("the queue feed's dead-letter queue, next to the older async one", () => {
        it("replays a message its redrive policy moved there and an older destination record, drops S3's test event, then finds nothing", async () => {
            // Prepare: the trigger's queue with its DLQ after 2 receives, played by the event source mapping
            // harness while the job does not exist (StartJobRun: EntityNotFoundException, not capacity): the
            // message fails each receive and moto's redrive moves it to the DLQ.
            const queue = await createQueueWithDlq(sqs, "GlueTriggerLambda-test-queue", { maxReceiveCount: 2, visibilityTimeoutSeconds: 1 });
            const queued = await upload("queued/a.csv");
            await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: JSON.stringify(s3Event(queued)) }));
            await sqs.send(new SendMessageCommand({ QueueUrl: queue.deadLetterUrl, MessageBody: JSON.stringify({ Service: "Amazon S3", Event: "s3:TestEvent", Bucket: INPUT }) }));
            const deps = triggerModule.createTriggerDeps(
                { glueJobName: JOB, metadataTable: TABLE, outputBucket: OUTPUT, fileSuffix: ".csv", claimLeaseSeconds: 60, startAttempts: 1, logLevel: "ERROR", queueFeed: { queueUrl: queue.url, requeueBaseDelaySeconds: 0, requeueMaxDelaySeconds: 0, maxWaitAttempts: 5 } },
                { s3: clients().s3, glue: new GlueClient({ endpoint: aws.endpoint, region: EMULATOR_REGION, credentials: { accessKeyId: "testing", secretAccessKey: "testing" }, maxAttempts: 1 }), logSink: () => undefined },
            );
            const mapping = new EventSourceMapping(sqs, queue, async (event, context) => ({ batchItemFailures: [...(await triggerModule.handleQueueEvent(event, context, deps)).batchItemFailures] }), { batchSize: 10, maximumConcurrency: 2 });
            mapping.start();
            try {
                await until("the message in the queue's DLQ", async () => (await harnessDepth(sqs, queue.url)).total === 0 && (await harnessDepth(sqs, queue.deadLetterUrl)).total === 2, { timeoutMs: 20_000, everyMs: 200 });
            } finally {
                await mapping.stop();
            }
            // ... and one event left in the older async DLQ from before the queue feed.
            const older = await upload("older/b.csv");
            await deliverAndDeadLetter(s3Event(older));
            await aws.createGlueJob(JOB);
            outputs = { ...outputs, triggerQueueDeadLetterQueue: queue.deadLetterUrl };

            // Act
            const first = await run();

            // Assess
            assert.deepEqual(
                first.items.map((i) => [i.source, i.result]).sort(),
                [["trigger-dlq", "started"], ["trigger-queue-dlq", "dropped"], ["trigger-queue-dlq", "started"]],
            );
            assert.equal(await queueDepth(queue.deadLetterUrl), 0);
            assert.equal(await queueDepth(dlqUrl), 0);
            assert.deepEqual((await aws.jobRuns(JOB)).map((r) => r.Arguments?.["--source_file"]).sort(), ["older/b.csv", "queued/a.csv"]);
            assert.deepEqual((await run()).items, [], "a second replay finds nothing");
        });
    });

    it("replays a FAILED file once (a run that failed, whose cause was fixed)", async () => {
        await aws.createGlueJob(JOB);
        const object = await upload("exports/customers.csv");
        const fileId = await putFailedRecord(object, {
            file_size_bytes: object.size,
            job_run_id: "jr_old",
            error_message: "Glue run jr_old ended TIMEOUT: Job run timed out",
        });

        const first = await run();

        assert.deepEqual(first.items.map((i) => [i.source, i.what, i.result]), [["records", `s3://${INPUT}/exports/customers.csv`, "started"]]);
        const runs = await aws.jobRuns(JOB);
        assert.equal(runs.length, 1);
        assert.equal(runs[0].Arguments?.["--file_id"], fileId);
        const item = await aws.getItem(TABLE, { file_id: fileId });
        assert.equal(item?.processing_status, "STARTED");
        assert.equal(item?.error_message, undefined);
        assert.equal(item?.job_run_id, runs[0].Id);

        const second = await run();
        assert.deepEqual(second.items, []);
        assert.equal((await aws.jobRuns(JOB)).length, 1);
    });

    for (const change of ["overwritten", "deleted"] as const) {
        const status = change === "overwritten" ? "SUPERSEDED" : "SOURCE_DELETED";
        it(`does not re-run a FAILED file whose key was ${change} since: it records ${status}, and the next replay finds nothing`, async () => {
            // Prepare: a failed run of the first version; then the key changes.
            await aws.createGlueJob(JOB);
            const object = await upload("exports/changed.csv");
            const fileId = await putFailedRecord(object, { file_size_bytes: object.size, error_message: "Glue run jr_old ended FAILED" });
            if (change === "overwritten") await upload("exports/changed.csv");
            else await aws.clients.s3.send(new DeleteObjectCommand({ Bucket: INPUT, Key: object.key }));

            // Act
            const first = await run();
            const second = await run();

            // Assess
            assert.deepEqual(first.items.map((i) => [i.source, i.result]), [["records", "already-handled"]]);
            assert.match(first.items[0].detail ?? "", new RegExp(`${status}: `));
            assert.equal((await aws.jobRuns(JOB)).length, 0, "the old version is not run again");
            assert.equal((await aws.getItem(TABLE, { file_id: fileId }))?.processing_status, status);
            assert.deepEqual(second.items, []);
        });
    }

    it("leaves a FAILED file of another flow alone instead of starting FileProcessorV2 on it", async () => {
        await aws.createGlueJob(JOB);
        const object = await upload("raw-data/2024/01/15/trips.parquet");
        const fileId = await putFailedRecord(object, { job_name: "ParquetToJson-dev" });

        const report = await run();

        assert.deepEqual(report.items.map((i) => [i.source, i.result]), [["records", "unrecognised"]]);
        assert.match(report.items[0].detail ?? "", /a ParquetToJson-dev file; replay re-drives .* files only/);
        assert.equal((await aws.jobRuns(JOB)).length, 0);
        assert.equal((await aws.getItem(TABLE, { file_id: fileId }))?.processing_status, "FAILED");
    });

    describe("both engines (the CSV flow's fast path)", () => {
        const CONVERTER = "CsvConverter-test";
        let converterQueue: string;
        let converterDlq: string;

        beforeEach(async () => {
            await aws.createGlueJob(JOB);
            converterQueue = (await sqs.send(new CreateQueueCommand({ QueueName: `${CONVERTER}-queue` }))).QueueUrl!;
            converterDlq = (await sqs.send(new CreateQueueCommand({ QueueName: `${CONVERTER}-dlq` }))).QueueUrl!;
            outputs = { ...outputs, csvConverterFunction: CONVERTER, csvConverterQueue: converterQueue, csvConverterDeadLetterQueue: converterDlq, fastPathMaxBytes: 1024 };
        });

        async function requestsSent(): Promise<Record<string, any>[]> {
            const { ReceiveMessageCommand } = await import("@aws-sdk/client-sqs");
            const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: converterQueue, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
            return (out.Messages ?? []).map((m) => JSON.parse(m.Body!));
        }

        /** The request the trigger sent for `fileId`'s claim `attempt`, as it sits in the converter's DLQ. */
        function request(fileId: string, object: Awaited<ReturnType<typeof upload>>, runId: string, attempt = 1) {
            return {
                version: 1,
                fileId,
                attempt,
                runId,
                jobArguments: { "--input_path": `s3://${INPUT}/${object.key}`, "--output_path": `s3://${OUTPUT}/processed/x/`, "--quarantine_path": `s3://${OUTPUT}/quarantine/x/`, "--file_id": fileId },
                sizeBytes: object.size,
                routedBecause: "small",
            };
        }

        it("replays a file the converter recorded FAILED, routed again by size: a small one to the converter", async () => {
            const object = await upload("fast/failed.csv");
            const fileId = await putFailedRecord(object, { file_size_bytes: object.size, job_name: CONVERTER, job_run_id: "fast-old", engine: "fast", engine_reason: "small", error_message: "CsvProcessingError: ..." });

            const first = await run();

            assert.deepEqual(first.items.map((i) => [i.source, i.result]), [["records", "started"]]);
            assert.match(first.items[0].detail ?? "", /→ run fast-[0-9a-f-]{36} \(fast\)$/);
            const [sent] = await requestsSent();
            const item = await aws.getItem(TABLE, { file_id: fileId });
            assert.deepEqual([item?.processing_status, item?.engine, item?.job_name, item?.job_run_id, item?.attempts], ["STARTED", "fast", CONVERTER, sent.runId, 2]);
            assert.equal(sent.fileId, fileId);
            assert.equal((await aws.jobRuns(JOB)).length, 0);
            assert.deepEqual((await run()).items, [], "a second replay finds nothing");
        });

        it("replays a FAILED file over the limit on Glue, and every file on Glue when the outputs name no converter", async () => {
            const large = await upload("fast/large.csv", "id,name\n" + "1,x\n".repeat(300));
            const small = await upload("fast/small-no-fast-path.csv");
            await putFailedRecord(large, { file_size_bytes: large.size, error_message: "Glue run jr_old ended FAILED" });
            const report = await run();
            assert.deepEqual(report.items.map((i) => i.result), ["started"]);
            assert.equal((await aws.getItem(TABLE, { file_id: (await import("../../functions/shared/s3Events")).deriveFileId(INPUT, large.key, large.versionId!) }))?.engine, "glue");

            const smallId = await putFailedRecord(small, { file_size_bytes: small.size, job_name: CONVERTER, engine: "fast" });
            const { csvConverterQueue, csvConverterFunction, csvConverterDeadLetterQueue, fastPathMaxBytes, ...withoutFastPath } = outputs;
            const second = await replayModule.replay({ outputs: withoutFastPath, visibilityTimeoutSeconds: 30, waitTimeSeconds: 0 }, clients());

            assert.deepEqual(second.items.map((i) => [i.source, i.result]), [["records", "started"]]);
            const item = await aws.getItem(TABLE, { file_id: smallId });
            assert.deepEqual([item?.engine, item?.engine_reason], ["glue", "the fast path is not configured for this flow"]);
            assert.equal((await aws.jobRuns(JOB)).length, 2);
            assert.deepEqual(await requestsSent(), []);
        });

        it("drains a request whose fast run died (its record still RUNNING under it): FAILED with why, then replayed once", async () => {
            // Prepare: the converter's request kept returning (its Glue fallback refused) until the DLQ.
            const object = await upload("fast/dead-run.csv");
            const fileId = await putFailedRecord(object, { processing_status: "RUNNING", job_name: CONVERTER, job_run_id: "fast-dead", engine: "fast", file_size_bytes: object.size });
            await sqs.send(new SendMessageCommand({ QueueUrl: converterDlq, MessageBody: JSON.stringify(request(fileId, object, "fast-dead")) }));

            // Act
            const first = await run();
            const second = await run();

            // Assess: one new run (fast again, by size), the DLQ empty, and a second replay finds nothing.
            assert.deepEqual(first.items.map((i) => [i.source, i.result]), [["converter-dlq", "started"]]);
            assert.match(first.items[0].detail ?? "", /^fast run fast-dead is RUNNING with no result; /);
            assert.equal(await queueDepth(converterDlq), 0);
            const [sent] = await requestsSent();
            const item = await aws.getItem(TABLE, { file_id: fileId });
            assert.deepEqual([item?.processing_status, item?.job_run_id, item?.attempts], ["STARTED", sent.runId, 2]);
            assert.deepEqual(second.items, []);
        });

        it("re-drives a request whose trigger never recorded STARTED (record CLAIMED, lease expired)", async () => {
            const object = await upload("fast/claimed.csv");
            const fileId = await putFailedRecord(object, { processing_status: "CLAIMED", lease_expires_at: "2026-03-01T12:01:00.000Z", file_size_bytes: object.size, job_name: JOB });
            await sqs.send(new SendMessageCommand({ QueueUrl: converterDlq, MessageBody: JSON.stringify(request(fileId, object, "fast-never-started")) }));

            const report = await run();

            assert.deepEqual(report.items.map((i) => [i.source, i.result]), [["converter-dlq", "started"]]);
            assert.equal((await aws.getItem(TABLE, { file_id: fileId }))?.processing_status, "STARTED");
            assert.equal((await requestsSent()).length, 1);
            assert.equal(await queueDepth(converterDlq), 0);
        });

        it("deletes a stale request (the record moved on), keeps one it cannot read, and a dry run changes nothing", async () => {
            const done = await upload("fast/done.csv");
            const doneId = await putFailedRecord(done, { processing_status: "SUCCEEDED", job_run_id: "fast-newer", engine: "fast" });
            await sqs.send(new SendMessageCommand({ QueueUrl: converterDlq, MessageBody: JSON.stringify(request(doneId, done, "fast-older")) }));
            await sqs.send(new SendMessageCommand({ QueueUrl: converterDlq, MessageBody: JSON.stringify({ Records: [] }) }));

            const dry = await run({ dryRun: true, visibilityTimeoutSeconds: 0 });
            assert.deepEqual(dry.items.map((i) => [i.source, i.result]).sort(), [["converter-dlq", "already-handled"], ["converter-dlq", "unrecognised"]]);
            assert.equal(await queueDepth(converterDlq), 2, "a dry run deletes nothing");

            const report = await run({ visibilityTimeoutSeconds: 0 });

            assert.deepEqual(report.items.map((i) => [i.source, i.result]).sort(), [["converter-dlq", "already-handled"], ["converter-dlq", "unrecognised"]]);
            assert.match(report.items.find((i) => i.result === "already-handled")?.detail ?? "", /the record is SUCCEEDED under run fast-newer, not run fast-older: the request is stale/);
            assert.equal(await queueDepth(converterDlq), 1, "only the unreadable message stays");
            assert.equal((await aws.getItem(TABLE, { file_id: doneId }))?.processing_status, "SUCCEEDED");
            assert.deepEqual(await requestsSent(), []);
            assert.equal((await aws.jobRuns(JOB)).length, 0);
        });
    });

    it("deletes a dead-lettered event whose file is already handled, without starting it again", async () => {
        await aws.createGlueJob(JOB);
        const object = await upload("done.csv");
        const fileId = (await import("../../functions/shared/s3Events")).deriveFileId(INPUT, object.key, object.versionId!);
        await aws.putItem(TABLE, { file_id: fileId, processing_status: "SUCCEEDED", job_run_id: "jr_1", updated_at: "2026-03-01T12:00:00.000Z" });
        await sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: JSON.stringify(destinationRecord(s3Event(object), "timeout")) }));

        const report = await run();

        assert.deepEqual(report.items.map((i) => [i.result, i.detail]), [["already-handled", `s3://${INPUT}/done.csv: SUCCEEDED`]]);
        assert.equal(await queueDepth(dlqUrl), 0);
        assert.equal((await aws.jobRuns(JOB)).length, 0);
    });

    it("keeps a message it cannot read, and a file whose start fails again, for the next try", async () => {
        // No job: every start fails.
        const object = await upload("still-broken.csv");
        await sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: "not json" }));
        await sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: JSON.stringify(destinationRecord(s3Event(object), "boom")) }));

        const report = await run();

        assert.deepEqual(report.items.map((i) => i.result).sort(), ["failed", "unrecognised"]);
        assert.match(report.items.find((i) => i.result === "failed")!.detail!, /EntityNotFoundException|not found/i);
        assert.equal(report.failed, 1);
        assert.equal(report.unrecognised, 1);
        // Both kept (hidden for the visibility timeout), and the START_FAILED file was tried once, not twice.
        assert.equal(await queueDepth(dlqUrl), 2);
        const [item] = await allRecords();
        assert.equal(item.processing_status, "START_FAILED");
        assert.equal(item.attempts, 1);
    });

    it("re-handles a dead-lettered Glue failure event: one notification, then nothing", async () => {
        await aws.createGlueJob(JOB);
        const topic = await capturingTopic(aws.endpoint, "glue-pipeline-alerts-test");
        outputs = { ...outputs, alertsTopicArn: topic.topicArn };
        const runId = await aws.startJobRun(JOB, { "--file_id": "f".repeat(64), "--input_path": `s3://${INPUT}/a.csv` });
        await aws.putItem(TABLE, { file_id: "f".repeat(64), processing_status: "STARTED", job_run_id: runId, source_file_path: `s3://${INPUT}/a.csv`, updated_at: "2026-03-01T12:00:00.000Z" });
        const failure = glueStateChange(JOB, runId, "FAILED", "SystemExit: 1");
        await sqs.send(new SendMessageCommand({ QueueUrl: eventsDlqUrl, MessageBody: JSON.stringify(destinationRecord(failure, "SNS throttled")) }));
        // EventBridge's own target DLQ holds the bare event.
        await sqs.send(new SendMessageCommand({ QueueUrl: eventsDlqUrl, MessageBody: JSON.stringify(failure) }));
        await sqs.send(new SendMessageCommand({ QueueUrl: eventsDlqUrl, MessageBody: JSON.stringify(destinationRecord(scheduledEvent(), "x")) }));

        const first = await run({ skipRecords: true });

        assert.deepEqual(first.items.map((i) => i.result).sort(), ["already-handled", "dropped", "reported"]);
        const published = await topic.receive();
        assert.equal(published.length, 1);
        assert.equal(published[0].Subject, "[test] FileProcessorV2-test FAILED: a.csv");
        assert.equal((await aws.getItem(TABLE, { file_id: "f".repeat(64) }))?.processing_status, "FAILED");
        assert.equal(await queueDepth(eventsDlqUrl), 0);

        const second = await run({ skipRecords: true });
        assert.deepEqual(second.items, []);
    });

    describe("pure parts", () => {
        it("finds the event in a destination record or a bare message", () => {
            const event = { Records: [{ s3: { bucket: { name: "b" }, object: { key: "k.csv" } } }] };
            assert.deepEqual(replayModule.eventOfMessage(JSON.stringify(destinationRecord(event, "x"))), event);
            assert.deepEqual(replayModule.eventOfMessage(JSON.stringify(event)), event);
            assert.equal(replayModule.eventOfMessage("{"), undefined);
            assert.equal(replayModule.isS3Event({ Records: [] }), false);
        });

        it("rebuilds the S3 event of a record, version or ETag, key encoded as S3 does", () => {
            const base = { file_id: "x", processing_status: "FAILED" as const, source_bucket: "b", source_key: "dir/a b+c.csv", file_size_bytes: 5 };
            assert.deepEqual(replayModule.eventRecordOf({ ...base, source_version: "3HL4kqtJlcpXroDTDmjVBH40Nrjfkd" })?.s3.object, {
                key: "dir/a+b%2Bc.csv",
                versionId: "3HL4kqtJlcpXroDTDmjVBH40Nrjfkd",
                size: 5,
            });
            assert.deepEqual(replayModule.eventRecordOf({ ...base, source_version: "d41d8cd98f00b204e9800998ecf8427e-2" })?.s3.object, {
                key: "dir/a+b%2Bc.csv",
                eTag: "d41d8cd98f00b204e9800998ecf8427e-2",
                size: 5,
            });
            assert.equal(replayModule.eventRecordOf({ file_id: "x", processing_status: "FAILED" }), undefined);
        });

        it("names the outputs it misses, and the arguments it needs", () => {
            assert.throws(() => replayModule.parseReplayOutputs({ region: "eu-west-1" }), /lack metadataTable, fileProcessorJob, outputBucket, triggerDeadLetterQueue/);
            assert.throws(() => replayModule.parseCliArgs([]), /--stack is required/);
            assert.throws(() => replayModule.parseCliArgs(["--stack"]), /--stack needs a value/);
            assert.deepEqual(replayModule.parseCliArgs(["--stack", "prod", "--dry-run"]), { stack: "prod", outputsFile: undefined, dryRun: true, skipRecords: false, verbose: false });
        });

        it("decides what a dead-lettered conversion request needs from its file's record", () => {
            const req = { runId: "fast-a", attempt: 2 };
            const rec = (processing_status: string, extra: Record<string, unknown> = {}) => ({ file_id: "f", processing_status, attempts: 2, ...extra }) as any;
            const table: [string, ReturnType<typeof rec>, string][] = [
                ["STARTED under the request's run", rec("STARTED", { job_run_id: "fast-a" }), "dead-run"],
                ["RUNNING under the request's run", rec("RUNNING", { job_run_id: "fast-a" }), "dead-run"],
                ["CLAIMED for the request's attempt", rec("CLAIMED"), "redrive"],
                ["CLAIMED for a later attempt", rec("CLAIMED", { attempts: 3 }), "stale"],
                ["STARTED on Glue after a fallback", rec("STARTED", { job_run_id: "jr_1" }), "stale"],
                ["SUCCEEDED under the request's run", rec("SUCCEEDED", { job_run_id: "fast-a" }), "stale"],
                ["FAILED under the request's run (replayed with the records)", rec("FAILED", { job_run_id: "fast-a" }), "stale"],
            ];
            for (const [name, record, kind] of table) assert.equal(replayModule.converterRequestPlan(req, record).kind, kind, name);
        });

        it("takes the fast path from the outputs, and counts the converter's records as the CSV flow's", () => {
            const base = { region: "eu-west-1", metadataTable: "t", fileProcessorJob: "FileProcessorV2-dev", outputBucket: "o", triggerDeadLetterQueue: "q" };
            assert.deepEqual(replayModule.fastPathOf(base), {});
            assert.deepEqual(replayModule.fastPathOf({ ...base, csvConverterQueue: "https://sqs.eu-west-1.amazonaws.com/111111111111/c", csvConverterFunction: "CsvConverter-dev", fastPathMaxBytes: "1048576" }), {
                fastPath: { queueUrl: "https://sqs.eu-west-1.amazonaws.com/111111111111/c", functionName: "CsvConverter-dev", maxBytes: 1048576 },
            });
            assert.equal(replayModule.fastPathOf({ ...base, csvConverterQueue: "u", csvConverterFunction: "f" }).fastPath?.maxBytes, 268435456);
            assert.throws(() => replayModule.fastPathOf({ ...base, csvConverterQueue: "u", csvConverterFunction: "f", fastPathMaxBytes: "lots" }), /fastPathMaxBytes must be a whole number/);
            const record = (extra: Record<string, unknown>) => ({ file_id: "f", processing_status: "FAILED" as const, ...extra });
            assert.equal(replayModule.isCsvFlowRecord(record({ job_name: "CsvConverter-dev" }), { ...base, csvConverterFunction: "CsvConverter-dev" }), true);
            assert.equal(replayModule.isCsvFlowRecord(record({ job_name: "CsvConverter-dev", engine: "fast" }), base), true);
            assert.equal(replayModule.isCsvFlowRecord(record({ job_name: "ParquetToJson-dev", engine: "glue" }), base), false);
        });
    });
});
