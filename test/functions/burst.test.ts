/**
 * Bursts absorbed without a person, against the emulator (moto over HTTP): uploads to a bucket whose
 * notification targets the flow's SQS queue (moto sends the S3 events, and the s3:TestEvent when the
 * notification is saved), the queue's redrive policy to its dead-letter queue, a Glue job with
 * MaxConcurrentRuns 3 whose runs the test holds and releases a few at a time, and the real handler module
 * (handler.ts, its environment as the stack sets it) invoked by ./queueHarness playing the event source
 * mapping. Nothing here replays anything.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { PutBucketNotificationConfigurationCommand } from "@aws-sdk/client-s3";
import { GlueClient } from "@aws-sdk/client-glue";
import { CreateTopicCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import { CLAIMS_VALIDATION_ENV } from "../../functions/claims-validation/contract";
import { GLUE_TRIGGER_ENV } from "../../functions/glue-trigger/contract";
import { Logger } from "../../functions/shared/logger";
import { WAIT_ATTEMPT_ATTRIBUTE } from "../../functions/shared/queueFeed";
import { csv } from "../fixtures/s3Events";
import { EMULATOR_ACCOUNT_ID, EMULATOR_REGION, useEmulator } from "../support/emulator";
import { createQueueWithDlq, EventSourceMapping, queueDepth, SqsHandler, TestQueue, until } from "./queueHarness";

const INPUT = "glue-input-burst-123456789012";
const OUTPUT = "glue-output-burst-123456789012";
const TABLE = "etl-pipeline-metadata-burst";
const JOB = "FileProcessorV2-burst";
const FILES = 50;
const MAX_RECEIVE_COUNT = 3;

type Item = Record<string, any>;

type Emulator = ReturnType<typeof useEmulator>;

async function tableItems(aws: Emulator, table: string): Promise<Item[]> {
    return (await aws.clients.doc.send(new ScanCommand({ TableName: table, ConsistentRead: true }))).Items ?? [];
}

/**
 * Runs a burst: the mapping (batch 10, two pollers) against the queue while the test plays Glue — each new
 * run is moved to RUNNING and held; every tick, up to three held runs are released (SUCCEEDED). Samples the
 * records meanwhile, so the waits they show are seen while they happen.
 */
async function playBurst(burst: {
    readonly aws: Emulator;
    readonly sqs: SQSClient;
    readonly queue: TestQueue;
    readonly handler: SqsHandler;
    readonly job: string;
    readonly table: string;
    readonly what: string;
    readonly done: (items: Item[]) => boolean;
    /** The function's timeout. @default 30 s (the trigger's) */
    readonly timeoutMs?: number;
}) {
    const { aws, sqs, queue, job, table } = burst;
    const mapping = new EventSourceMapping(sqs, queue, burst.handler, { batchSize: 10, maximumConcurrency: 2, timeoutMs: burst.timeoutMs });
    const held: string[] = [];
    const seenRuns = new Set<string>();
    const waitingSeen = new Map<string, Item>();
    mapping.start();
    try {
        await until(
            burst.what,
            async () => {
                const items = await tableItems(aws, table);
                for (const item of items) if (item.processing_status === "WAITING") waitingSeen.set(`${item.file_id}#${item.wait_attempts}`, item);
                return burst.done(items) && (await queueDepth(sqs, queue.url)).total === 0;
            },
            {
                timeoutMs: 90_000,
                everyMs: 400,
                tick: async () => {
                    for (const item of await tableItems(aws, table)) {
                        if (item.job_run_id && !seenRuns.has(item.job_run_id)) {
                            seenRuns.add(item.job_run_id);
                            assert.equal(await aws.advanceJobRun(job, item.job_run_id, "RUNNING"), "RUNNING");
                            held.push(item.job_run_id);
                        }
                    }
                    // A few at a time: Glue finishing some runs while the rest of the burst waits.
                    for (const runId of held.splice(0, 3)) assert.equal(await aws.advanceJobRun(job, runId, "SUCCEEDED"), "SUCCEEDED");
                },
            },
        );
    } catch (err) {
        // A burst that did not finish: say where each file got to.
        const states = (await tableItems(aws, table)).map((i) => `${i.source_key}: ${i.processing_status} ${i.error_message ?? ""}`);
        throw new Error(`${(err as Error).message}; mapping ${JSON.stringify(mapping.stats)}; records:\n${states.join("\n")}`);
    } finally {
        await mapping.stop();
    }
    return { mapping, waitingSeen: [...waitingSeen.values()] };
}

/** Sets environment variables (remembering the old values in `saved`) and loads a handler module afresh. */
function loadHandlerWith(modulePath: string, env: Record<string, string>, saved: Record<string, string | undefined>): SqsHandler {
    for (const [name, value] of Object.entries(env)) {
        if (!(name in saved)) saved[name] = process.env[name];
        process.env[name] = value;
    }
    const resolved = require.resolve(modulePath);
    delete require.cache[resolved];
    return (require(resolved) as { handler: SqsHandler }).handler;
}

/** Restores the environment, and forgets the handler modules loaded with it so other tests load their own. */
function restoreEnv(saved: Record<string, string | undefined>): void {
    for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
    }
    for (const modulePath of ["../../functions/glue-trigger/handler", "../../functions/claims-validation/handler"]) delete require.cache[require.resolve(modulePath)];
}

describe("a burst of uploads through the CSV flow's queue", function () {
    this.timeout(120_000);
    const aws = useEmulator();
    let sqs: SQSClient;
    let queue: TestQueue;
    const savedEnv: Record<string, string | undefined> = {};

    /** The real handler module, loaded afresh with the environment the stack sets for a queue-fed trigger. */
    function loadHandler(): SqsHandler {
        return loadHandlerWith(
            "../../functions/glue-trigger/handler",
            {
                [GLUE_TRIGGER_ENV.glueJobName]: JOB,
                [GLUE_TRIGGER_ENV.metadataTable]: TABLE,
                [GLUE_TRIGGER_ENV.outputBucket]: OUTPUT,
                [GLUE_TRIGGER_ENV.queueUrl]: queue.url,
                // Seconds instead of minutes: 1 s, then 2 s for every later wait.
                [GLUE_TRIGGER_ENV.requeueBaseDelaySeconds]: "1",
                [GLUE_TRIGGER_ENV.requeueMaxDelaySeconds]: "2",
                [GLUE_TRIGGER_ENV.logLevel]: "ERROR",
            },
            savedEnv,
        );
    }

    after(() => restoreEnv(savedEnv));
    // The held runs' transition is the emulator's, not this handle's: undo it before other tests' handles run.
    afterEach(() => aws.releaseJobRuns());

    beforeEach(async () => {
        sqs = new SQSClient({ endpoint: aws.endpoint, region: EMULATOR_REGION, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
        await aws.createBucket(INPUT);
        await aws.createBucket(OUTPUT);
        await aws.createMetadataTable(TABLE);
        await aws.createGlueJob(JOB, { maxConcurrentRuns: 3, defaultArguments: { "--metadata_table": TABLE } });
        // A short visibility timeout so a failed message comes back within the test.
        queue = await createQueueWithDlq(sqs, "glue-trigger-burst", { maxReceiveCount: MAX_RECEIVE_COUNT, visibilityTimeoutSeconds: 1 });
        // Saving the notification makes moto (as S3) send its s3:TestEvent to the queue.
        await aws.clients.s3.send(
            new PutBucketNotificationConfigurationCommand({
                Bucket: INPUT,
                NotificationConfiguration: {
                    QueueConfigurations: [{ QueueArn: queue.arn, Events: ["s3:ObjectCreated:*"], Filter: { Key: { FilterRules: [{ Name: "suffix", Value: ".csv" }] } } }],
                },
            }),
        );
        await aws.holdJobRunsIndividually();
    });

    const records = (): Promise<Item[]> => tableItems(aws, TABLE);
    const runBurst = (handler: SqsHandler, expectedStarts: number, done: (items: Item[]) => boolean) =>
        playBurst({ aws, sqs, queue, handler, job: JOB, table: TABLE, what: `${expectedStarts} runs started and the queue drained`, done });

    it(`starts all ${FILES} files with 3 runs at a time: none START_FAILED, none in the dead-letter queue, each wait on its record`, async () => {
        // Prepare
        for (let i = 0; i < FILES; i++) await aws.putObject(INPUT, `burst/file-${String(i).padStart(2, "0")}.csv`, csv(2));
        const handler = loadHandler();

        // Act
        const { mapping, waitingSeen } = await runBurst(handler, FILES, (items) => items.filter((i) => i.job_run_id).length === FILES);

        // Assess
        const items = await records();
        assert.equal(items.length, FILES);
        assert.deepEqual(
            items.filter((i) => i.processing_status !== "STARTED").map((i) => `${i.source_key}: ${i.processing_status}`),
            [],
            "every file started; none START_FAILED",
        );
        const runs = await aws.jobRuns(JOB);
        assert.equal(runs.length, FILES, "one run per file");
        assert.equal(new Set(runs.map((r) => r.Arguments?.["--file_id"])).size, FILES);
        assert.equal((await queueDepth(sqs, queue.deadLetterUrl)).total, 0, "nothing in the dead-letter queue");
        assert.equal(mapping.stats.messagesFailed, 0, "a capacity refusal is never a batch item failure");
        // The waits, seen while they happened: WAITING records with their count and when their message returns.
        assert.ok(waitingSeen.length > 0, "the burst made files wait");
        for (const item of waitingSeen) {
            assert.ok(item.wait_attempts >= 1 && typeof item.next_attempt_at === "string", JSON.stringify(item));
            assert.match(item.error_message, /ConcurrentRunsExceededException|already running/);
        }
        const waits = items.map((i) => i.wait_attempts ?? 0);
        assert.ok(Math.max(...waits) >= 2, `some file waited more than once (waits: ${waits.join(",")})`);
        assert.ok(
            items.every((i) => i.attempts === (i.wait_attempts ?? 0) + 1),
            "each claim but the last ended in a wait: attempts = waits + 1 (no duplicate claim, no failed start)",
        );
    });

    it("sends exactly the one poison object to the dead-letter queue, after maxReceiveCount receives, and starts the other files", async () => {
        // Prepare: the trigger's own logic and clients, built from the same environment as the handler, except
        // that Glue answers the poison file's start with an error that is not about capacity (an ambiguous
        // InternalServiceException: the trigger does not retry it, as a run may exist) on every try.
        const FILES_HERE = 20;
        for (let i = 0; i < FILES_HERE; i++) await aws.putObject(INPUT, `burst/file-${String(i).padStart(2, "0")}.csv`, csv(2));
        await aws.putObject(INPUT, "burst/poison.csv", csv(2));
        loadHandler();
        const trigger = require("../../functions/glue-trigger/trigger") as typeof import("../../functions/glue-trigger/trigger");
        const { loadTriggerConfig } = require("../../functions/glue-trigger/config") as typeof import("../../functions/glue-trigger/config");
        const glue = new GlueClient({ maxAttempts: 1 });
        const send = glue.send.bind(glue) as (command: unknown) => Promise<unknown>;
        glue.send = ((command: { input?: { Arguments?: Record<string, string> } }) =>
            command.input?.Arguments?.["--source_file"] === "burst/poison.csv"
                ? Promise.reject(Object.assign(new Error("Glue had an internal error"), { name: "InternalServiceException" }))
                : send(command)) as GlueClient["send"];
        const deps = trigger.createTriggerDeps(loadTriggerConfig(process.env), { glue, logger: new Logger({ service: "glue-trigger", level: "ERROR", sink: () => undefined }) });
        const handler: SqsHandler = async (event, context) => ({ batchItemFailures: [...(await trigger.handleQueueEvent(event, context, deps)).batchItemFailures] });

        // Act
        const { mapping } = await runBurst(handler, FILES_HERE, (items) => items.filter((i) => i.job_run_id).length === FILES_HERE);

        // Assess
        const dlq = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.deadLetterUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
        assert.equal(dlq.Messages?.length, 1, "exactly one message in the dead-letter queue");
        const body = JSON.parse(dlq.Messages![0].Body!);
        assert.equal(decodeURIComponent(body.Records[0].s3.object.key), "burst/poison.csv", "the S3 event, as replay reads it");
        assert.equal(mapping.stats.messagesFailed, MAX_RECEIVE_COUNT, "the poison failed on each of its receives, and nothing else failed");
        const items = await records();
        assert.equal(items.filter((i) => i.processing_status === "STARTED").length, FILES_HERE);
        assert.deepEqual(
            items.filter((i) => i.processing_status === "START_FAILED").map((i) => [i.source_key, i.attempts]),
            [["burst/poison.csv", MAX_RECEIVE_COUNT]],
            "the poison is START_FAILED (replayable), claimed once per receive",
        );
        assert.equal((await aws.jobRuns(JOB)).length, FILES_HERE);
    });

    it("starts one run for a file whose message arrives twice, and for a re-sent copy racing its original; drops s3:TestEvent", async () => {
        // Prepare: the queue holds S3's test event (from saving the notification) and one upload's event;
        // a duplicate of that event (S3 delivers at least once) and a copy carrying a wait number (as a re-send
        // would) join it.
        const object = await aws.putObject(INPUT, "dup/a.csv", csv(2));
        const body = JSON.stringify({
            Records: [{ eventSource: "aws:s3", eventName: "ObjectCreated:Put", awsRegion: EMULATOR_REGION, s3: { bucket: { name: INPUT }, object: { key: "dup/a.csv", size: object.size, eTag: object.etag } } }],
        });
        await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: body }));
        await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: body, MessageAttributes: { [WAIT_ATTEMPT_ATTRIBUTE]: { DataType: "Number", StringValue: "1" } } }));
        assert.equal((await queueDepth(sqs, queue.url)).visible, 4);
        const handler = loadHandler();

        // Act
        const { mapping } = await runBurst(handler, 1, (items) => items.some((i) => i.job_run_id));

        // Assess
        assert.equal((await aws.jobRuns(JOB)).length, 1, "one run for three deliveries");
        const [item] = await records();
        assert.equal(item.processing_status, "STARTED");
        assert.equal(item.attempts, 1, "one claim: the other deliveries found it started");
        assert.equal(mapping.stats.messagesFailed, 0);
        assert.equal(mapping.stats.messagesDeleted, 4, "the test event and all three deliveries handled and deleted");
        assert.equal((await queueDepth(sqs, queue.deadLetterUrl)).total, 0);
    });
});

describe("a burst of claims files through the claims validation's queue", function () {
    this.timeout(120_000);
    const aws = useEmulator();
    const BUCKET = "healthcare-claims-burst-123456789012";
    const CLAIMS_JOB = "healthcare-claims-etl-burst";
    const CLAIMS_FILES = 12;
    const savedEnv: Record<string, string | undefined> = {};
    let sqs: SQSClient;
    let sns: SNSClient;
    let queue: TestQueue;

    after(() => restoreEnv(savedEnv));
    // The held runs' transition is the emulator's, not this handle's: undo it before other tests' handles run.
    afterEach(() => aws.releaseJobRuns());

    /** A topic with a queue subscribed, so what was published can be counted. */
    async function topicWithReader(name: string): Promise<{ topicArn: string; readerUrl: string }> {
        const topicArn = (await sns.send(new CreateTopicCommand({ Name: name }))).TopicArn!;
        const readerUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `${name}-reader` }))).QueueUrl!;
        await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: "sqs", Endpoint: `arn:aws:sqs:${EMULATOR_REGION}:${EMULATOR_ACCOUNT_ID}:${name}-reader` }));
        return { topicArn, readerUrl };
    }

    it(`validates and starts all ${CLAIMS_FILES} files with 2 runs at a time: none START_FAILED, nothing in the dead-letter queue, no error told`, async () => {
        // Prepare: the claims bucket (versioned) notifying the flow's queue for raw/claims/*.csv, a claims job
        // with two slots, the two topics, and a valid claims file uploaded under twelve names.
        const common = { endpoint: aws.endpoint, region: EMULATOR_REGION, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } };
        sqs = new SQSClient(common);
        sns = new SNSClient(common);
        await aws.createBucket(BUCKET, { versioned: true });
        await aws.createMetadataTable(TABLE);
        await aws.createGlueJob(CLAIMS_JOB, { maxConcurrentRuns: 2, defaultArguments: { "--metadata_table": TABLE } });
        const processing = await topicWithReader("claims-processing-burst");
        const errors = await topicWithReader("claims-errors-burst");
        queue = await createQueueWithDlq(sqs, "claims-validation-burst", { maxReceiveCount: MAX_RECEIVE_COUNT, visibilityTimeoutSeconds: 1 });
        await aws.clients.s3.send(
            new PutBucketNotificationConfigurationCommand({
                Bucket: BUCKET,
                NotificationConfiguration: {
                    QueueConfigurations: [
                        {
                            QueueArn: queue.arn,
                            Events: ["s3:ObjectCreated:*"],
                            Filter: { Key: { FilterRules: [{ Name: "prefix", Value: "raw/claims/" }, { Name: "suffix", Value: ".csv" }] } },
                        },
                    ],
                },
            }),
        );
        await aws.holdJobRunsIndividually();
        const valid = fs.readFileSync(path.resolve(__dirname, "../../samples/claims/claims_2024_04.csv"));
        for (let i = 0; i < CLAIMS_FILES; i++) await aws.putObject(BUCKET, `raw/claims/2024/04/batch-${String(i).padStart(2, "0")}.csv`, valid);
        const handler = loadHandlerWith(
            "../../functions/claims-validation/handler",
            {
                [CLAIMS_VALIDATION_ENV.glueJobName]: CLAIMS_JOB,
                [CLAIMS_VALIDATION_ENV.metadataTable]: TABLE,
                [CLAIMS_VALIDATION_ENV.dataBucket]: BUCKET,
                [CLAIMS_VALIDATION_ENV.processingTopicArn]: processing.topicArn,
                [CLAIMS_VALIDATION_ENV.errorTopicArn]: errors.topicArn,
                [CLAIMS_VALIDATION_ENV.queueUrl]: queue.url,
                [CLAIMS_VALIDATION_ENV.requeueBaseDelaySeconds]: "1",
                [CLAIMS_VALIDATION_ENV.requeueMaxDelaySeconds]: "2",
                [CLAIMS_VALIDATION_ENV.logLevel]: "ERROR",
            },
            savedEnv,
        );

        // Act
        const { mapping, waitingSeen } = await playBurst({
            aws,
            sqs,
            queue,
            handler,
            job: CLAIMS_JOB,
            table: TABLE,
            what: `${CLAIMS_FILES} claims runs started and the queue drained`,
            // The claims validation keeps a minute for after validation: its function runs up to 15 minutes.
            timeoutMs: 900_000,
            done: (items) => items.filter((i) => i.job_run_id).length === CLAIMS_FILES,
        });

        // Assess
        const items = await tableItems(aws, TABLE);
        assert.deepEqual(
            items.filter((i) => i.processing_status !== "STARTED").map((i) => `${i.source_key}: ${i.processing_status}`),
            [],
            "every file validated and started; none START_FAILED",
        );
        assert.equal(items.length, CLAIMS_FILES);
        assert.equal((await aws.jobRuns(CLAIMS_JOB)).length, CLAIMS_FILES, "one run per file");
        assert.equal((await queueDepth(sqs, queue.deadLetterUrl)).total, 0);
        assert.equal(mapping.stats.messagesFailed, 0);
        assert.ok(waitingSeen.length > 0 && waitingSeen.every((i) => i.wait_attempts >= 1), "files waited, with their count on the record");
        assert.equal((await queueDepth(sqs, errors.readerUrl)).total, 0, "waiting for capacity is not an error anyone is told");
        assert.equal((await queueDepth(sqs, processing.readerUrl)).total, CLAIMS_FILES, "one STARTED update per file");
    });
});
