/**
 * The CSV flow's fast path, end to end in the emulator (moto over HTTP), as the stack wires it: the input
 * bucket's notification sends S3's own events to the trigger's queue → the trigger (functions/glue-trigger,
 * configured from the environment the stack sets, FAST_PATH_* included) claims each file and routes it by
 * size → the converter's queue → the converter (functions/csv-converter/handler.py in a warm Python process,
 * ./csvConverterProcess) converts with DuckDB and publishes under processed/ → the record ends SUCCEEDED.
 * Each queue is read by test/functions/queueHarness's EventSourceMapping, which plays Lambda's mapping
 * (receive, invoke, delete what did not fail; the redrive policy is moto's).
 *
 * Shared by test/deploy/fastPath.test.ts (what the loop produces) and test/bench/fastPathLoop.ts (how long it
 * takes). Nothing here runs on AWS.
 */
import { PutBucketNotificationConfigurationCommand } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { CSV_CONVERTER_CONTRACT as converterContract } from "../../functions/csv-converter/contract";
import { GLUE_TRIGGER_ENV } from "../../functions/glue-trigger/contract";
import { Logger } from "../../functions/shared/logger";
import { createEmulatedStack, emulatedStackNames } from "../deploy/emulatedStack";
import { createQueueWithDlq, EventSourceMapping, TestQueue } from "../functions/queueHarness";
import { CsvConverterProcess } from "./csvConverterProcess";
import { EMULATOR_REGION, EmulatorHandle, emulatorEnv } from "./emulator";

export interface FastPathLoopOptions {
    readonly stage: string;
    /** FAST_PATH_MAX_BYTES. @default the converter contract's default */
    readonly maxBytes?: number;
    /** The converter's timeout: what its context's remaining time starts from. @default 900 s (Lambda's maximum) */
    readonly converterTimeoutMs?: number;
    /** The converter's variables beyond the required ones (e.g. DUCKDB_MEMORY_LIMIT_MB). */
    readonly converterEnv?: Readonly<Record<string, string>>;
}

export interface FastPathLoop {
    readonly inputBucket: string;
    readonly outputBucket: string;
    readonly metadataTable: string;
    readonly glueJob: string;
    readonly converterFunction: string;
    readonly triggerQueue: TestQueue;
    readonly converterQueue: TestQueue;
    readonly sqs: SQSClient;
    /** The trigger's and the converter's environment, as the stack sets them (plus the emulator's). */
    readonly triggerEnv: Readonly<Record<string, string>>;
    readonly converterEnv: Readonly<Record<string, string>>;
    readonly converter: CsvConverterProcess;
    readonly triggerMapping: EventSourceMapping;
    readonly converterMapping: EventSourceMapping;
    /** One poll of each queue, trigger first; how many messages were handled. */
    pump(): Promise<number>;
    /** Pumps until `done()` holds; throws naming `what` after `timeoutMs`. */
    runUntil(what: string, done: () => Promise<boolean>, timeoutMs: number): Promise<void>;
    /** The metadata table's items. */
    records(): Promise<Record<string, any>[]>;
    stop(): Promise<void>;
}

const TRIGGER_TIMEOUT_MS = 30_000;

/**
 * Creates the CSV flow's resources in the emulator and starts the converter's execution environment. Call it
 * with process.env already pointing at the emulator (useEmulator's hooks, or the bench's own): the trigger's
 * clients read it.
 */
export async function createFastPathLoop(aws: EmulatorHandle, options: FastPathLoopOptions): Promise<FastPathLoop> {
    const { stage } = options;
    const names = emulatedStackNames(stage);
    const glueJob = `FileProcessorV2-${stage}`;
    const converterFunction = `CsvConverter-${stage}`;
    await createEmulatedStack(aws, stage, [glueJob]);
    const sqs = new SQSClient({ endpoint: aws.endpoint, region: EMULATOR_REGION, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
    // Short visibility timeouts: a message returned by a failure comes back within a test.
    const triggerQueue = await createQueueWithDlq(sqs, `GlueTriggerLambda-${stage}-queue`, { maxReceiveCount: 5, visibilityTimeoutSeconds: 2 });
    const converterQueue = await createQueueWithDlq(sqs, `${converterFunction}-queue`, { maxReceiveCount: 3, visibilityTimeoutSeconds: 2 });
    // Saving it makes moto, as S3, send its s3:TestEvent to the queue; the trigger ignores it.
    await aws.clients.s3.send(
        new PutBucketNotificationConfigurationCommand({
            Bucket: names.inputBucket,
            NotificationConfiguration: {
                QueueConfigurations: [{ QueueArn: triggerQueue.arn, Events: ["s3:ObjectCreated:*"], Filter: { Key: { FilterRules: [{ Name: "suffix", Value: ".csv" }] } } }],
            },
        }),
    );

    const triggerEnv: Record<string, string> = {
        [GLUE_TRIGGER_ENV.glueJobName]: glueJob,
        [GLUE_TRIGGER_ENV.metadataTable]: names.metadataTable,
        [GLUE_TRIGGER_ENV.outputBucket]: names.outputBucket,
        [GLUE_TRIGGER_ENV.queueUrl]: triggerQueue.url,
        [GLUE_TRIGGER_ENV.fastPathQueueUrl]: converterQueue.url,
        [GLUE_TRIGGER_ENV.fastPathMaxBytes]: String(options.maxBytes ?? converterContract.defaults.maxBytes),
        [GLUE_TRIGGER_ENV.fastPathFunctionName]: converterFunction,
        [GLUE_TRIGGER_ENV.logLevel]: "ERROR",
    };
    const converterNames = converterContract.env;
    const converterEnv: Record<string, string> = {
        ...emulatorEnv(aws.endpoint),
        [converterNames.metadataTable]: names.metadataTable,
        [converterNames.outputBucket]: names.outputBucket,
        [converterNames.glueJobName]: glueJob,
        [converterNames.logLevel]: "INFO",
        AWS_LAMBDA_FUNCTION_NAME: converterFunction,
        ...options.converterEnv,
    };

    // Loaded now, after the caller pointed process.env at the emulator: the trigger's clients read it.
    const { loadTriggerConfig }: typeof import("../../functions/glue-trigger/config") = require("../../functions/glue-trigger/config");
    const trigger: typeof import("../../functions/glue-trigger/trigger") = require("../../functions/glue-trigger/trigger");
    const triggerDeps = trigger.createTriggerDeps(loadTriggerConfig(triggerEnv), { logger: new Logger({ service: "glue-trigger", level: "ERROR", sink: () => undefined }) });
    const triggerMapping = new EventSourceMapping(
        sqs,
        triggerQueue,
        async (event: SQSEvent, context) => ({ batchItemFailures: [...(await trigger.handleQueueEvent(event, context, triggerDeps)).batchItemFailures] }),
        { batchSize: 10, maximumConcurrency: 1, timeoutMs: TRIGGER_TIMEOUT_MS },
    );

    const converter = await CsvConverterProcess.start(converterEnv);
    const converterTimeoutMs = options.converterTimeoutMs ?? 900_000;
    const converterMapping = new EventSourceMapping(
        sqs,
        converterQueue,
        async (event: SQSEvent, context: object): Promise<SQSBatchResponse> => {
            const remaining = (context as { getRemainingTimeInMillis(): number }).getRemainingTimeInMillis();
            const invocation = await converter.invoke(event, remaining);
            if (invocation.error !== undefined) throw new Error(`the converter raised ${invocation.error}`);
            return { batchItemFailures: [...(invocation.answer?.batchItemFailures ?? [])] };
        },
        // The converter's queue feeds it one request at a time (batch size 1, contract).
        { batchSize: 1, maximumConcurrency: 1, timeoutMs: converterTimeoutMs },
    );

    let polls = 0;
    const pump = async (): Promise<number> => {
        polls++;
        return (await triggerMapping.pollOnce(`trigger-${polls}`)) + (await converterMapping.pollOnce(`converter-${polls}`));
    };
    return {
        inputBucket: names.inputBucket,
        outputBucket: names.outputBucket,
        metadataTable: names.metadataTable,
        glueJob,
        converterFunction,
        triggerQueue,
        converterQueue,
        sqs,
        triggerEnv,
        converterEnv,
        converter,
        triggerMapping,
        converterMapping,
        pump,
        async runUntil(what, done, timeoutMs) {
            const deadline = Date.now() + timeoutMs;
            for (;;) {
                const handled = await pump();
                if (await done()) return;
                if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
                // Nothing arrived: a short pause instead of hammering the emulator (it serves one request at a time).
                if (handled === 0) await new Promise((resolve) => setTimeout(resolve, 20));
            }
        },
        async records() {
            return (await aws.clients.doc.send(new ScanCommand({ TableName: names.metadataTable, ConsistentRead: true }))).Items ?? [];
        },
        stop: () => converter.stop(),
    };
}
