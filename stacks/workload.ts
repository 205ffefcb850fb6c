/**
 * The workload composition: what one workload account (dev or prod) runs. Both stacks deploy the same
 * pipeline; their differences are configuration (sizes, Flex, retention, deletion protection) and, for a
 * stack with `promotion.fromStack`, the rule that it ships only code the source stack has deployed.
 *
 * Flow: CSV lands in the input bucket → S3 event → GlueTriggerLambda-{stage} claims the file in the
 * metadata table and starts FileProcessorV2-{stage} → Parquet under processed/, bad rows under quarantine/
 * of the output bucket, outcome recorded on the file's metadata record.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
    DataLakeBuckets,
    dynamoDbItemStatement,
    GlueEnvironment,
    GlueEtlJob,
    glueJobRunStatement,
    ProcessingMetadataTable,
    S3TriggeredLambda,
    s3ReadStatements,
} from "../components";
import { ARTIFACT_SOURCES, localArtifactVersions, releaseId } from "./artifacts";
import { StackConfig } from "./config";
import { ArtifactVersions, promotedArtifacts } from "./promotion";

/** Object keys the trigger accepts; anything else in the input bucket is ignored with a log line. */
export const CSV_SUFFIX = ".csv";
/** Prefixes of the output bucket FileProcessorV2 writes: Parquet, and rows it could not parse. */
export const OUTPUT_PREFIXES = { processed: "processed/", quarantine: "quarantine/" } as const;

export interface WorkloadStack {
    readonly buckets: DataLakeBuckets;
    readonly metadata: ProcessingMetadataTable;
    readonly glue: GlueEnvironment;
    readonly fileProcessor: GlueEtlJob;
    readonly trigger: S3TriggeredLambda;
    /** Versions of the code this stack deployed: the promotion contract's `artifacts` output. */
    readonly artifacts: pulumi.Output<ArtifactVersions>;
    /** Short id of the release (all artifact versions), stamped on the job and the function. */
    readonly releaseId: pulumi.Output<string>;
    readonly outputs: Record<string, pulumi.Input<unknown>>;
}

export function createWorkload(config: StackConfig, provider: aws.Provider): WorkloadStack {
    const opts: pulumi.ComponentResourceOptions = { providers: [provider] };
    const stage = config.stage;

    // Code versions first: with promotion, everything that ships code waits for (and is blocked by) the
    // check against the source stack, because it takes the release id from the checked result.
    const local = localArtifactVersions();
    const release = config.promotion
        ? promotedArtifacts(config.stackName, config.promotion.fromStack, local, { provider }).apply(releaseId)
        : pulumi.output(releaseId(local));

    // The caller identity, not the config, names the buckets: the provider's allowedAccountIds already
    // refuses credentials for another account, so the two agree whenever anything is deployed.
    const accountId = aws.getCallerIdentityOutput({}, { provider }).accountId;

    const buckets = new DataLakeBuckets("data-lake", { stage, accountId, allowDestroy: config.allowDataDestroy }, opts);
    const keyArn = buckets.kmsKeyArn;

    const metadata = new ProcessingMetadataTable(
        "processing-metadata",
        { stage, kmsKeyArn: keyArn, deletionProtection: !config.allowDataDestroy, allowDestroy: config.allowDataDestroy },
        opts,
    );

    const glue = new GlueEnvironment("glue", { stage, kmsKeyArn: keyArn }, opts);

    const flex = config.glue.executionClass === "FLEX";
    const fileProcessor = new GlueEtlJob(
        "file-processor",
        {
            jobName: `FileProcessorV2-${stage}`,
            scriptPath: ARTIFACT_SOURCES.fileProcessorScript,
            libraryDir: ARTIFACT_SOURCES.glueLibrary,
            assetsBucket: buckets.assetsBucket,
            environment: glue,
            kmsKeyArn: keyArn,
            glueVersion: config.glue.version,
            maxWorkers: config.glue.maxWorkers,
            executionClass: config.glue.executionClass,
            // Glue does not queue Flex runs; there the trigger's backoff and Lambda's retries absorb a burst.
            jobRunQueuing: !flex,
            readAccess: [{ bucketArn: buckets.inputBucket.arn, prefixes: [""] }],
            writeAccess: [
                { bucketArn: buckets.outputBucket.arn, prefixes: [OUTPUT_PREFIXES.processed, OUTPUT_PREFIXES.quarantine] },
            ],
            metadataTableArn: metadata.tableArn,
            defaultArguments: { "--release_id": release },
            description: "FileProcessorV2: CSV from the input bucket to Parquet (seed 000)",
        },
        opts,
    );

    const trigger = new S3TriggeredLambda(
        "glue-trigger",
        {
            functionName: `GlueTriggerLambda-${stage}`,
            entry: ARTIFACT_SOURCES.glueTriggerBundle,
            bucket: buckets.inputBucket,
            filterSuffix: CSV_SUFFIX,
            environment: {
                GLUE_JOB_NAME: fileProcessor.jobName,
                METADATA_TABLE: metadata.tableName,
                OUTPUT_BUCKET: buckets.outputBucket.bucket,
                FILE_SUFFIX: CSV_SUFFIX,
                RELEASE_ID: release,
            },
            policyStatements: pulumi
                .all([fileProcessor.jobArn, metadata.tableArn, buckets.inputBucket.arn])
                .apply(([jobArn, tableArn, inputArn]) => [
                    glueJobRunStatement(jobArn, ["glue:StartJobRun"], "StartFileProcessor"),
                    dynamoDbItemStatement(tableArn, { read: true, write: true, sid: "TrackFiles" }),
                    // HeadObject (needs s3:GetObject), only when an event lacks the object's size; HEAD
                    // reads no content, so no kms:Decrypt beyond the function key's is needed.
                    ...s3ReadStatements(inputArn, [""], "ReadInput"),
                ]),
            timeoutSeconds: 30,
            memorySizeMb: config.trigger.memoryMb,
            reservedConcurrency: config.trigger.reservedConcurrency,
            kmsKeyArn: keyArn,
            description: "Starts FileProcessorV2 for each CSV that lands in the input bucket, once per object version",
        },
        opts,
    );

    const artifacts = pulumi.all([trigger.bundleSha256]).apply(([bundle]): ArtifactVersions => ({
        fileProcessorScript: fileProcessor.scriptSha256,
        glueLibrary: fileProcessor.librarySha256 ?? "",
        glueTriggerBundle: bundle,
    }));

    return {
        buckets,
        metadata,
        glue,
        fileProcessor,
        trigger,
        artifacts,
        releaseId: release,
        outputs: {
            stage,
            accountId,
            region: config.region,
            releaseId: release,
            artifacts,
            inputBucket: buckets.inputBucket.bucket,
            outputBucket: buckets.outputBucket.bucket,
            assetsBucket: buckets.assetsBucket.bucket,
            kmsKeyArn: keyArn,
            metadataTable: metadata.tableName,
            glueDatabase: glue.databaseName,
            fileProcessorJob: fileProcessor.jobName,
            triggerFunction: trigger.function.name,
            triggerDeadLetterQueue: trigger.deadLetterQueue.url,
        },
    };
}
