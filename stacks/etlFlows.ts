/**
 * The Parquet → JSON flow (seed 001) and the ProcessLegislators job (seed 000), kept out of
 * stacks/workload.ts so that the composition only calls them.
 *
 * Parquet → JSON: a `.parquet` under `raw-data/YYYY/MM/DD/` of the input bucket → ParquetToJsonTrigger-{stage}
 * (the CSV trigger's handler and bundle, configured by environment: suffix, prefix, dated keys, output
 * prefix, job) claims the file on the metadata table and starts ParquetToJson-{stage} → JSON Lines under
 * `processed-data/YYYY/MM/DD/<name>/` of the output bucket, bad rows under `quarantine/raw-data/...`. The job
 * retries twice (so no run queuing: Glue queues only jobs without retries) and auto-scales up to 10 workers.
 * Runs that die without writing are marked FAILED by the monitoring's Glue job-state handler.
 *
 * ProcessLegislators: on demand (`aws glue start-job-run --job-name ProcessLegislators-{stage}`); its default
 * arguments read `sources/legislators/` of the assets bucket and write the history under `legislators/history/`
 * of the output bucket. No schedule: the source (the AWS legislators sample) changes rarely and as a whole.
 *
 * Two triggers share the input bucket, and S3 keeps one notification configuration per bucket, so neither
 * creates its own: {@link createInputNotifications} builds the one BucketNotification for both.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
    DataLakeBuckets,
    dynamoDbItemStatement,
    GlueEnvironment,
    GlueEtlJob,
    glueJobRunStatement,
    MonitoredFunction,
    MonitoredGlueJob,
    MonitoredQueue,
    ProcessingMetadataTable,
    S3TriggeredLambda,
    s3ReadStatements,
} from "../components";
import { ARTIFACT_SOURCES } from "./artifacts";
import { StackConfig } from "./config";

export const PARQUET_SUFFIX = ".parquet";
/** Seed 001's layout: raw Parquet in the input bucket, JSON in the output bucket, dated YYYY/MM/DD/. */
export const PARQUET_PREFIXES = { raw: "raw-data/", processed: "processed-data/", quarantine: "quarantine/raw-data/" } as const;
/** ProcessLegislators' inputs (input bucket) and outputs (output bucket). */
/**
 * ProcessLegislators' prefixes. Its sources are reference data that every (rare, on-demand) rerun reads again,
 * so they live in the assets bucket, which expires nothing: the input bucket expires every object after 30
 * days, and a rerun a month later would find nothing.
 */
export const LEGISLATORS_PREFIXES = { sources: "sources/legislators/", history: "legislators/history/", quarantine: "quarantine/legislators/" } as const;
/** Seed 001: "Max Retries: 2", "Number of Workers: Auto-scaling (2-10)". */
export const PARQUET_TO_JSON_MAX_RETRIES = 2;
export const PARQUET_TO_JSON_MAX_WORKERS = 10;

export interface EtlFlowInputs {
    readonly buckets: DataLakeBuckets;
    readonly metadata: ProcessingMetadataTable;
    readonly glue: GlueEnvironment;
    /** Release id stamped on the jobs and the function. */
    readonly release: pulumi.Input<string>;
}

export interface MonitoredParts {
    readonly glueJobs: MonitoredGlueJob[];
    readonly functions: MonitoredFunction[];
    readonly deadLetterQueues: MonitoredQueue[];
}

export interface ParquetToJsonStack {
    readonly job: GlueEtlJob;
    readonly trigger: S3TriggeredLambda;
    readonly monitored: MonitoredParts;
    readonly outputs: Record<string, pulumi.Input<unknown>>;
}

export interface LegislatorsStack {
    readonly job: GlueEtlJob;
    readonly monitored: MonitoredParts;
    readonly outputs: Record<string, pulumi.Input<unknown>>;
}

/** What PipelineMonitoring needs to watch one GlueEtlJob. */
export function monitoredJob(job: GlueEtlJob): MonitoredGlueJob {
    return { label: job.settings.jobName, name: job.jobName, arn: job.jobArn, logGroups: { output: job.outputLogGroup.name, error: job.errorLogGroup.name } };
}

export function createParquetToJson(config: StackConfig, inputs: EtlFlowInputs, opts: pulumi.ComponentResourceOptions): ParquetToJsonStack {
    const stage = config.stage;
    const { buckets, metadata, glue, release } = inputs;
    const job = new GlueEtlJob(
        "parquet-to-json",
        {
            jobName: `ParquetToJson-${stage}`,
            scriptPath: ARTIFACT_SOURCES.parquetToJsonScript.path,
            libraryDir: ARTIFACT_SOURCES.glueLibrary.path,
            assetsBucket: buckets.assetsBucket,
            environment: glue,
            kmsKeyArn: buckets.kmsKeyArn,
            glueVersion: config.glue.version,
            maxWorkers: PARQUET_TO_JSON_MAX_WORKERS,
            executionClass: config.glue.executionClass,
            maxRetries: PARQUET_TO_JSON_MAX_RETRIES,
            // Glue queues only jobs without retries; a burst beyond the concurrency limit fails StartJobRun
            // with ConcurrentRunsExceededException, which the trigger retries with backoff.
            jobRunQueuing: false,
            readAccess: [{ bucketArn: buckets.inputBucket.arn, prefixes: [PARQUET_PREFIXES.raw] }],
            writeAccess: [{ bucketArn: buckets.outputBucket.arn, prefixes: [PARQUET_PREFIXES.processed, PARQUET_PREFIXES.quarantine] }],
            metadataTableArn: metadata.tableArn,
            defaultArguments: { "--release_id": release },
            description: "ParquetToJson: yellow-taxi Parquet from raw-data/ to JSON Lines under processed-data/ (seed 001)",
        },
        opts,
    );

    const trigger = new S3TriggeredLambda(
        "parquet-trigger",
        {
            functionName: `ParquetToJsonTrigger-${stage}`,
            entry: ARTIFACT_SOURCES.glueTriggerBundle.path,
            bucket: buckets.inputBucket,
            filterPrefix: PARQUET_PREFIXES.raw,
            filterSuffix: PARQUET_SUFFIX,
            createNotification: false,
            environment: {
                GLUE_JOB_NAME: job.jobName,
                METADATA_TABLE: metadata.tableName,
                OUTPUT_BUCKET: buckets.outputBucket.bucket,
                FILE_SUFFIX: PARQUET_SUFFIX,
                KEY_PREFIX: PARQUET_PREFIXES.raw,
                DATED_KEYS: "true",
                OUTPUT_PREFIX: PARQUET_PREFIXES.processed,
                RELEASE_ID: release,
            },
            policyStatements: pulumi
                .all([job.jobArn, metadata.tableArn, buckets.inputBucket.arn])
                .apply(([jobArn, tableArn, inputArn]) => [
                    glueJobRunStatement(jobArn, ["glue:StartJobRun"], "StartParquetToJson"),
                    dynamoDbItemStatement(tableArn, { read: true, write: true, sid: "TrackFiles" }),
                    // HeadObject of every event's key (s3:ListBucket makes a deleted key a 404): the version
                    // uploaded is the version processed (SUPERSEDED / SOURCE_DELETED otherwise).
                    ...s3ReadStatements(inputArn, [PARQUET_PREFIXES.raw], "ReadRawData"),
                ]),
            timeoutSeconds: 30,
            memorySizeMb: config.trigger.memoryMb,
            reservedConcurrency: config.trigger.reservedConcurrency,
            kmsKeyArn: buckets.kmsKeyArn,
            description: "Starts ParquetToJson for each .parquet under raw-data/YYYY/MM/DD/ of the input bucket, once per object version",
        },
        opts,
    );

    return {
        job,
        trigger,
        monitored: {
            glueJobs: [monitoredJob(job)],
            functions: [{ label: `ParquetToJsonTrigger-${stage}`, name: trigger.function.name }],
            deadLetterQueues: [{ label: `ParquetToJsonTrigger-${stage}-dlq`, name: trigger.deadLetterQueue.name }],
        },
        outputs: {
            parquetToJsonJob: job.jobName,
            parquetTriggerFunction: trigger.function.name,
            parquetTriggerDeadLetterQueue: trigger.deadLetterQueue.url,
        },
    };
}

export function createLegislators(config: StackConfig, inputs: EtlFlowInputs, opts: pulumi.ComponentResourceOptions): LegislatorsStack {
    const stage = config.stage;
    const { buckets, metadata, glue, release } = inputs;
    const job = new GlueEtlJob(
        "legislators",
        {
            jobName: `ProcessLegislators-${stage}`,
            scriptPath: ARTIFACT_SOURCES.legislatorsScript.path,
            libraryDir: ARTIFACT_SOURCES.glueLibrary.path,
            assetsBucket: buckets.assetsBucket,
            environment: glue,
            kmsKeyArn: buckets.kmsKeyArn,
            glueVersion: config.glue.version,
            maxWorkers: config.glue.maxWorkers,
            executionClass: config.glue.executionClass,
            // Run on demand: Flex does not queue, and a second run while one is going would race on the output.
            jobRunQueuing: false,
            maxConcurrentRuns: 1,
            readAccess: [{ bucketArn: buckets.assetsBucket.arn, prefixes: [LEGISLATORS_PREFIXES.sources] }],
            writeAccess: [{ bucketArn: buckets.outputBucket.arn, prefixes: [LEGISLATORS_PREFIXES.history, LEGISLATORS_PREFIXES.quarantine] }],
            metadataTableArn: metadata.tableArn,
            defaultArguments: {
                "--release_id": release,
                "--input_path": pulumi.interpolate`s3://${buckets.assetsBucket.bucket}/${LEGISLATORS_PREFIXES.sources}`,
                "--output_path": pulumi.interpolate`s3://${buckets.outputBucket.bucket}/${LEGISLATORS_PREFIXES.history}`,
                "--quarantine_path": pulumi.interpolate`s3://${buckets.outputBucket.bucket}/${LEGISLATORS_PREFIXES.quarantine}`,
            },
            description: "ProcessLegislators: persons x memberships x organizations to the history, Parquet by org_name (seed 000); on demand",
        },
        opts,
    );
    return {
        job,
        monitored: { glueJobs: [monitoredJob(job)], functions: [], deadLetterQueues: [] },
        outputs: { legislatorsJob: job.jobName },
    };
}

/**
 * The input bucket's one notification configuration, invoking every trigger that shares it; it waits for
 * each trigger's invoke permission, which S3 checks when the configuration is saved.
 */
export function createInputNotifications(
    name: string,
    bucket: pulumi.Input<string>,
    triggers: readonly S3TriggeredLambda[],
    provider: aws.Provider,
): aws.s3.BucketNotification {
    return new aws.s3.BucketNotification(
        name,
        { bucket, lambdaFunctions: triggers.map((t) => t.lambdaNotification) },
        { provider, dependsOn: triggers.map((t) => t.permission) },
    );
}
