/**
 * CsvConverter: the CSV flow's fast path — a Python 3.12 arm64 Lambda (functions/csv-converter/handler.py)
 * that converts a file at or below the fast-path size limit with DuckDB under the Spark path's rules, fed by
 * its own SQS queue that only the glue trigger's role is admitted to (the trigger sends one ConversionRequest
 * per claimed file; functions/csv-converter/contract.ts).
 *
 * The queue: batch size 1 (one file per invocation, so the whole memory, /tmp and timeout serve one file and
 * a failure concerns only it), ReportBatchItemFailures, maximum concurrency from the stack's `fastPath`
 * config; a dead-letter queue after `maxReceiveCount` receives (a request that keeps failing, e.g. a Glue
 * fallback refused for capacity each time; `npm run replay` drains it). Both queues are encrypted with the
 * data-lake key when the stack has one: unlike the S3-fed trigger queue the sender is a role, which already
 * holds the key (the request names the file and its metadata, data-lake information), so no service has to
 * be admitted to the key.
 *
 * The role is least privilege for what the converter calls (glue/tests/fixtures/csv_converter_calls.json,
 * judged in test/access): read the requested object version from the input bucket; list, read (a publish is
 * a copy from `_staging/`), write and delete under the output's processed/ and quarantine/ prefixes only; the
 * record on the metadata table; GetJob/StartJobRun on the flow's one Glue job (the fallback); its queue;
 * its log group, its key, X-Ray. No PutMetricData: metrics go to stdout in the embedded metric format.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { CSV_CONVERTER_CONTRACT as converterContract } from "../../functions/csv-converter/contract";
import {
    PolicyStatement,
    dynamoDbItemStatement,
    glueJobRunStatement,
    s3GetObjectStatement,
    s3ReadWriteStatements,
    sqsConsumeStatement,
} from "../iam/iamPolicies";
import {
    LAMBDA_ARCHITECTURE,
    createExecutionIdentity,
    validateEnvironmentKey,
    validateFunctionName,
    validateRetention,
} from "./lambdaFunctionResources";
import { CSV_CONVERTER_PACKAGE, PythonPackage, buildPythonPackage } from "./pythonPackage";
import { createTriggerQueue } from "./triggerQueue";

const LABEL = "CsvConverter";
export const CSV_CONVERTER_RUNTIME = "python3.12";
export const CSV_CONVERTER_HANDLER = "handler.handler";

/**
 * Defaults, docs/fast-path.md's sizing (its measurements and the cost model assume them): 2,048 MB (~1.16
 * vCPU) converts a 256 MiB file in ~8 s using ~0.8 GB; 120 s leaves ~15x headroom on time and the contract's
 * 60 s fallback reserve; /tmp 2,048 MB is twice fast-path.md's 1,024 MB minimum (the input, the engine's rows
 * file, DuckDB's spill and the output parts of a 256 MiB file take ~610 MB), insurance against a wide file's
 * larger spill.
 * Concurrency 5: a burst of small files converts in parallel while Glue's own concurrency stays for the large.
 */
export const CSV_CONVERTER_DEFAULTS_SETTINGS = {
    memoryMb: 2048,
    timeoutSeconds: 120,
    ephemeralStorageMb: 2048,
    maximumConcurrency: 5,
    maxReceiveCount: 3,
} as const;

export interface CsvConverterSettings {
    /** Function memory, 128-10240 MB. */
    readonly memoryMb?: number;
    /** Function timeout, 1-900 s; the queue's visibility timeout is 6x this. */
    readonly timeoutSeconds?: number;
    /** /tmp size, 512-10240 MB. */
    readonly ephemeralStorageMb?: number;
    /** Most concurrent conversions (the event source mapping's maximum concurrency, 2-1000). */
    readonly maximumConcurrency?: number;
    /** Receives of one request before it moves to the dead-letter queue (1-1000). */
    readonly maxReceiveCount?: number;
}

export interface CsvConverterArgs extends CsvConverterSettings {
    /** e.g. CsvConverter-dev; names the log group and the queues (`-queue`, `-queue-dlq`). */
    readonly functionName: string;
    readonly inputBucketArn: pulumi.Input<string>;
    readonly outputBucketName: pulumi.Input<string>;
    readonly outputBucketArn: pulumi.Input<string>;
    /** The output prefixes the converter publishes to (the CSV flow's processed/ and quarantine/). */
    readonly outputPrefixes: readonly string[];
    readonly metadataTableName: pulumi.Input<string>;
    readonly metadataTableArn: pulumi.Input<string>;
    /** The CSV flow's Glue job: the fallback. */
    readonly glueJobName: pulumi.Input<string>;
    readonly glueJobArn: pulumi.Input<string>;
    /** The role that sends requests (the glue trigger's). */
    readonly senderRoleArn: pulumi.Input<string>;
    /** The data-lake key: environment, log group, queues, objects. @default AWS-managed encryption */
    readonly kmsKeyArn?: pulumi.Input<string>;
    readonly logRetentionDays?: number;
    /** More environment (METRIC_NAMESPACE, RELEASE_ID, LOG_LEVEL...). */
    readonly environment?: Record<string, pulumi.Input<string>>;
    readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

function requireIntegerIn(value: number, min: number, max: number, field: string): void {
    if (!Number.isInteger(value) || value < min || value > max) {
        throw new Error(`${LABEL}: ${field} must be a whole number from ${min} to ${max}, got ${value}`);
    }
}

/** Checks the plain settings against Lambda's and SQS's limits; throws naming the field. */
export function validateCsvConverterSettings(settings: CsvConverterSettings): void {
    const d = CSV_CONVERTER_DEFAULTS_SETTINGS;
    requireIntegerIn(settings.memoryMb ?? d.memoryMb, 128, 10240, "memoryMb");
    const timeout = settings.timeoutSeconds ?? d.timeoutSeconds;
    requireIntegerIn(timeout, 1, 900, "timeoutSeconds");
    // The converter hands a file to Glue when fewer than the reserve seconds remain: a timeout within the
    // reserve would leave no time to convert at all.
    if (timeout <= converterContract.defaults.deadlineReserveSeconds) {
        throw new Error(`${LABEL}: timeoutSeconds ${timeout} must exceed the fallback reserve of ${converterContract.defaults.deadlineReserveSeconds} s`);
    }
    requireIntegerIn(settings.ephemeralStorageMb ?? d.ephemeralStorageMb, 512, 10240, "ephemeralStorageMb");
    requireIntegerIn(settings.maximumConcurrency ?? d.maximumConcurrency, 2, 1000, "maximumConcurrency");
    requireIntegerIn(settings.maxReceiveCount ?? d.maxReceiveCount, 1, 1000, "maxReceiveCount");
}

/**
 * DuckDB's memory limit: 60% of the function's (fast-path.md's ~1,200 MB at 2,048 MB), the rest for Python,
 * the parser's batches, boto3 and the runtime; at least 64 MB.
 */
export function duckDbMemoryLimitMb(functionMemoryMb: number): number {
    return Math.max(64, Math.floor(functionMemoryMb * 0.6));
}

/** The converter role's statements beyond logs, key and X-Ray (see the module comment). */
export function csvConverterStatements(p: {
    inputBucketArn: string;
    outputBucketArn: string;
    outputPrefixes: readonly string[];
    metadataTableArn: string;
    glueJobArn: string;
    queueArn: string;
}): PolicyStatement[] {
    return [
        s3GetObjectStatement(p.inputBucketArn, [], "ReadInputObjectVersion"),
        ...s3ReadWriteStatements(p.outputBucketArn, p.outputPrefixes, { delete: true }, "PublishOutput"),
        dynamoDbItemStatement(p.metadataTableArn, { read: true, write: true, sid: "RecordFileRun" }),
        glueJobRunStatement(p.glueJobArn, ["glue:GetJob", "glue:StartJobRun"], "FallBackToGlue"),
        sqsConsumeStatement(p.queueArn, "ConsumeRequests"),
    ];
}

export class CsvConverter extends pulumi.ComponentResource {
    public readonly function: aws.lambda.Function;
    public readonly role: aws.iam.Role;
    public readonly rolePolicy: aws.iam.RolePolicy;
    public readonly logGroup: aws.cloudwatch.LogGroup;
    public readonly queue: aws.sqs.Queue;
    public readonly queuePolicy: aws.sqs.QueuePolicy;
    public readonly deadLetterQueue: aws.sqs.Queue;
    public readonly deadLetterQueuePolicy: aws.sqs.QueuePolicy;
    public readonly eventSourceMapping: aws.lambda.EventSourceMapping;
    public readonly functionName: pulumi.Output<string>;
    public readonly functionArn: pulumi.Output<string>;
    public readonly timeoutSeconds: number;
    public readonly memoryMb: number;
    public readonly ephemeralStorageMb: number;
    /** The deployed zip: its SHA-256 is the converter's artifact version. */
    public readonly package: PythonPackage;
    public readonly packageSha256: pulumi.Output<string>;

    constructor(name: string, args: CsvConverterArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("glue-pipeline:compute:CsvConverter", name, {}, opts);
        validateFunctionName(LABEL, args.functionName);
        validateCsvConverterSettings(args);
        validateRetention(LABEL, args.logRetentionDays);
        for (const key of Object.keys(args.environment ?? {})) validateEnvironmentKey(LABEL, key);
        if (args.outputPrefixes.length === 0) throw new Error(`${LABEL}: outputPrefixes must name the prefixes the converter publishes to`);

        const d = CSV_CONVERTER_DEFAULTS_SETTINGS;
        this.timeoutSeconds = args.timeoutSeconds ?? d.timeoutSeconds;
        this.memoryMb = args.memoryMb ?? d.memoryMb;
        this.ephemeralStorageMb = args.ephemeralStorageMb ?? d.ephemeralStorageMb;
        this.package = buildPythonPackage(CSV_CONVERTER_PACKAGE);
        const parent = this;

        const feed = createTriggerQueue(this, name, {
            functionName: args.functionName,
            functionTimeoutSeconds: this.timeoutSeconds,
            sender: { roleArn: args.senderRoleArn },
            kmsKeyArn: args.kmsKeyArn,
            maxReceiveCount: args.maxReceiveCount ?? d.maxReceiveCount,
            tags: args.tags,
        });
        this.queue = feed.queue;
        this.queuePolicy = feed.queuePolicy;
        this.deadLetterQueue = feed.deadLetterQueue;
        this.deadLetterQueuePolicy = feed.deadLetterQueuePolicy;

        const identity = createExecutionIdentity(this, name, {
            label: LABEL,
            functionName: args.functionName,
            logRetentionDays: args.logRetentionDays,
            kmsKeyArn: args.kmsKeyArn,
            tags: args.tags,
            extraStatements: pulumi
                .all([
                    pulumi.output(args.inputBucketArn),
                    pulumi.output(args.outputBucketArn),
                    pulumi.output(args.metadataTableArn),
                    pulumi.output(args.glueJobArn),
                    this.queue.arn,
                ])
                .apply(([inputBucketArn, outputBucketArn, metadataTableArn, glueJobArn, queueArn]) =>
                    csvConverterStatements({ inputBucketArn, outputBucketArn, outputPrefixes: args.outputPrefixes, metadataTableArn, glueJobArn, queueArn }),
                ),
        });
        this.logGroup = identity.logGroup;
        this.role = identity.role;
        this.rolePolicy = identity.rolePolicy;

        const environment: Record<string, pulumi.Input<string>> = {
            [converterContract.env.metadataTable]: args.metadataTableName,
            [converterContract.env.outputBucket]: args.outputBucketName,
            [converterContract.env.glueJobName]: args.glueJobName,
            [converterContract.env.memoryLimitMb]: String(duckDbMemoryLimitMb(this.memoryMb)),
            [converterContract.env.deadlineReserveSeconds]: String(converterContract.defaults.deadlineReserveSeconds),
            ...(args.environment ?? {}),
        };
        this.function = new aws.lambda.Function(
            `${name}-function`,
            {
                name: args.functionName,
                description: `CSV fast path: small CSV files to Parquet with DuckDB, the Glue job's rules; package ${this.package.sha256.slice(0, 12)}`,
                runtime: CSV_CONVERTER_RUNTIME,
                architectures: [LAMBDA_ARCHITECTURE],
                handler: CSV_CONVERTER_HANDLER,
                code: new pulumi.asset.FileArchive(this.package.zipPath),
                sourceCodeHash: this.package.sha256,
                role: this.role.arn,
                timeout: this.timeoutSeconds,
                memorySize: this.memoryMb,
                ephemeralStorage: { size: this.ephemeralStorageMb },
                environment: { variables: environment },
                kmsKeyArn: args.kmsKeyArn,
                tracingConfig: { mode: "Active" },
                loggingConfig: { logFormat: "JSON", logGroup: this.logGroup.name },
                tags: args.tags,
            },
            { parent, dependsOn: [this.logGroup, this.rolePolicy] },
        );
        this.eventSourceMapping = new aws.lambda.EventSourceMapping(
            `${name}-queue-events`,
            {
                eventSourceArn: this.queue.arn,
                functionName: this.function.arn,
                // One file per invocation: the function's memory, /tmp and time serve one conversion.
                batchSize: 1,
                functionResponseTypes: ["ReportBatchItemFailures"],
                scalingConfig: { maximumConcurrency: args.maximumConcurrency ?? d.maximumConcurrency },
                tags: args.tags,
            },
            // Lambda checks that the role may receive from the queue when the mapping is created.
            { parent, dependsOn: [this.rolePolicy] },
        );

        this.functionName = this.function.name;
        this.functionArn = this.function.arn;
        this.packageSha256 = pulumi.output(this.package.sha256);
        this.registerOutputs({
            functionName: this.functionName,
            functionArn: this.functionArn,
            queueUrl: this.queue.url,
            deadLetterQueueUrl: this.deadLetterQueue.url,
            packageSha256: this.packageSha256,
        });
    }
}
