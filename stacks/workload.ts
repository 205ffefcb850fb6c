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
    metadataTableName,
    PipelineMonitoring,
    ProcessingMetadataTable,
    STATUS_INDEX_NAME,
    S3TriggeredLambda,
    s3ReadStatements,
} from "../components";
import { ARTIFACT_SOURCES, localArtifactVersions, releaseId, shippedArtifacts } from "./artifacts";
import { StackConfig } from "./config";
import { ArtifactVersions, promotedArtifacts } from "./promotion";
import { permissionsBoundaryTransform } from "../components/delivery/deployRoles";
import { MEDALLION_PREFIXES } from "../components/workflow/medallionWorkflow";
import { createMedallion, MEDALLION_LIFECYCLE_RULES, MEDALLION_LOG_GROUP_PATTERNS, MedallionStack } from "./medallion";
import {
    createInputNotifications,
    createLegislators,
    createParquetToJson,
    LEGISLATORS_PREFIXES,
    LegislatorsStack,
    PARQUET_PREFIXES,
    ParquetToJsonStack,
} from "./etlFlows";
import { ClaimsStack, createClaims } from "./claims";
import { SmokeCheck } from "../components/delivery/smokeCheck";

/** Object keys the trigger accepts; anything else in the input bucket is ignored with a log line. */
export const CSV_SUFFIX = ".csv";
/** Prefixes of the output bucket FileProcessorV2 writes: Parquet, and rows it could not parse. */
export const OUTPUT_PREFIXES = { processed: "processed/", quarantine: "quarantine/" } as const;

/**
 * The CloudWatch console page of a dashboard, in the stack's region (the console's own regional host and
 * `region=` parameter, so the link opens where the dashboard is) and partition (China and GovCloud have
 * their own console domains).
 */
export function dashboardConsoleUrl(region: string, dashboardName: string): string {
    const host = region.startsWith("cn-")
        ? `${region}.console.amazonaws.cn`
        : region.startsWith("us-gov-")
          ? `${region}.console.amazonaws-us-gov.com`
          : `${region}.console.aws.amazon.com`;
    return `https://${host}/cloudwatch/home?region=${region}#dashboards/dashboard/${encodeURIComponent(dashboardName)}`;
}

export interface WorkloadStack {
    readonly buckets: DataLakeBuckets;
    readonly metadata: ProcessingMetadataTable;
    readonly glue: GlueEnvironment;
    readonly fileProcessor: GlueEtlJob;
    readonly trigger: S3TriggeredLambda;
    /** Seed 001: Parquet under raw-data/YYYY/MM/DD/ → ParquetToJson → JSON Lines under processed-data/. */
    readonly parquetToJson: ParquetToJsonStack;
    /** Seed 000: ProcessLegislators, run on demand. */
    readonly legislators: LegislatorsStack;
    /** The input bucket's one notification configuration, shared by the CSV and Parquet triggers. */
    readonly inputNotifications: aws.s3.BucketNotification;
    /** Alarms, dashboards, the alerts topic and the Glue job-events handler. */
    readonly monitoring: PipelineMonitoring;
    /** The scheduled medallion workflow (seed 004), when the stack's config has a `medallion` section. */
    readonly medallion?: MedallionStack;
    /** Seed 002: claims validated on arrival, then the claims ETL; its own bucket and SNS topics. */
    readonly claims: ClaimsStack;
    /** Versions of the code this stack deployed: the promotion contract's `artifacts` output. */
    readonly artifacts: pulumi.Output<ArtifactVersions>;
    /** Short id of the release (all artifact versions), stamped on the job and the function. */
    readonly releaseId: pulumi.Output<string>;
    /** The smoke check run by `pulumi up` after the flows are deployed, with `smokeOnUp`. */
    readonly smoke?: SmokeCheck;
    readonly outputs: Record<string, pulumi.Input<unknown>>;
}

export function createWorkload(config: StackConfig, provider: aws.Provider): WorkloadStack {
    // Every role under these components carries the bootstrap's boundary: the deploy role may create no other.
    const opts: pulumi.ComponentResourceOptions = {
        providers: [provider],
        transforms: config.permissionsBoundaryArn ? [permissionsBoundaryTransform(config.permissionsBoundaryArn)] : [],
    };
    const stage = config.stage;

    // Code versions first: with promotion, everything that ships code waits for (and is blocked by) the
    // check against the source stack, because it takes the release id from the checked result.
    const local = localArtifactVersions(shippedArtifacts(config.medallion !== undefined));
    const requireSmoke = config.promotion?.requireSmoke ?? true;
    const release = config.promotion
        ? promotedArtifacts(config.stackName, config.promotion.fromStack, local, { provider }, requireSmoke ? releaseId(local) : undefined).apply(releaseId)
        : pulumi.output(releaseId(local));

    // The caller identity, not the config, names the buckets: the provider's allowedAccountIds already
    // refuses credentials for another account, so the two agree whenever anything is deployed.
    const accountId = aws.getCallerIdentityOutput({}, { provider }).accountId;

    const buckets = new DataLakeBuckets(
        "data-lake",
        {
            stage,
            accountId,
            allowDestroy: config.allowDataDestroy,
            // Seed 000's 90 days apply to what the file flows write; the medallion layers share the bucket but
            // keep their own rules (raw pages expire after 30 days, seed 004), and silver, gold and the
            // processed-objects manifest are kept: they are the analytical history Athena queries.
            output: {
                expirationPrefixes: [
                    OUTPUT_PREFIXES.processed,
                    OUTPUT_PREFIXES.quarantine,
                    PARQUET_PREFIXES.processed,
                    LEGISLATORS_PREFIXES.history,
                    MEDALLION_PREFIXES.rejected,
                ],
                prefixRules: MEDALLION_LIFECYCLE_RULES,
            },
            logGroupNamePatterns: MEDALLION_LOG_GROUP_PATTERNS,
        },
        opts,
    );
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
            scriptPath: ARTIFACT_SOURCES.fileProcessorScript.path,
            libraryDir: ARTIFACT_SOURCES.glueLibrary.path,
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
            defaultArguments: {
                "--release_id": release,
                // How this flow's sources are written (glue/jobs/file_processor.py maps the names).
                "--delimiter": config.csv?.delimiter ?? "comma",
                "--encoding": config.csv?.encoding ?? "utf-8",
            },
            description: "FileProcessorV2: CSV from the input bucket to Parquet (seed 000)",
        },
        opts,
    );

    const trigger = new S3TriggeredLambda(
        "glue-trigger",
        {
            functionName: `GlueTriggerLambda-${stage}`,
            entry: ARTIFACT_SOURCES.glueTriggerBundle.path,
            bucket: buckets.inputBucket,
            filterSuffix: CSV_SUFFIX,
            // The Parquet trigger shares the input bucket: one notification for both, below.
            createNotification: false,
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
                    // HeadObject of every event's key (needs s3:GetObject; s3:ListBucket makes a deleted key a
                    // 404, recorded SOURCE_DELETED, not a 403): the version uploaded is the version processed.
                    // HEAD reads no content, so no kms:Decrypt beyond the function key's is needed.
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

    const parquetToJson = createParquetToJson(config, { buckets, metadata, glue, release }, opts);
    const legislators = createLegislators(config, { buckets, metadata, glue, release }, opts);
    const inputNotifications = createInputNotifications("input-notifications", buckets.inputBucket.bucket, [trigger, parquetToJson.trigger], provider);

    const medallion = createMedallion(config, { buckets, glue, release }, opts);

    const claims = createClaims(config, { accountId, buckets, metadata, glue, release }, opts);

    // Every job, function, dead-letter queue and table of the flow; a later flow adds its own items here.
    const monitoring = new PipelineMonitoring(
        "monitoring",
        {
            stage,
            alertEmails: config.alerts?.emails ?? [],
            glueJobs: [
                {
                    label: fileProcessor.settings.jobName,
                    name: fileProcessor.jobName,
                    arn: fileProcessor.jobArn,
                    logGroups: { output: fileProcessor.outputLogGroup.name, error: fileProcessor.errorLogGroup.name },
                },
                ...parquetToJson.monitored.glueJobs,
                ...legislators.monitored.glueJobs,
                ...claims.monitored.glueJobs,
                ...(medallion?.monitored.glueJobs ?? []),
            ],
            functions: [
                { label: `GlueTriggerLambda-${stage}`, name: trigger.function.name },
                ...parquetToJson.monitored.functions,
                ...claims.monitored.functions,
                ...(medallion?.monitored.functions ?? []),
            ],
            deadLetterQueues: [
                { label: `GlueTriggerLambda-${stage}-dlq`, name: trigger.deadLetterQueue.name },
                ...parquetToJson.monitored.deadLetterQueues,
                ...claims.monitored.deadLetterQueues,
                ...(medallion?.monitored.deadLetterQueues ?? []),
            ],
            stateMachines: medallion?.monitored.stateMachines ?? [],
            tables: [{ label: metadataTableName(stage), name: metadata.tableName, globalSecondaryIndexes: [STATUS_INDEX_NAME] }],
            metadataTable: { name: metadata.tableName, arn: metadata.tableArn },
            kmsKeyArn: keyArn,
            replayCommand: `npm run replay -- --stack ${config.stackName}`,
            // Stamped like every other function: a deployed handler says which release it runs.
            releaseId: release,
            // Capped like the other functions, only when the stack opts in (trigger.reservedConcurrency).
            eventHandlerReservedConcurrency: config.trigger.reservedConcurrency,
        },
        opts,
    );

    // What this stack deployed, read from the components themselves: the promotion contract's output.
    const artifacts = pulumi
        .all([trigger.bundleSha256, medallion?.workflow.ingest.bundleSha256, claims.artifacts])
        .apply(([triggerBundle, ingestBundle, claimsArtifacts]): ArtifactVersions => ({
            fileProcessorScript: fileProcessor.scriptSha256,
            parquetToJsonScript: parquetToJson.job.scriptSha256,
            legislatorsScript: legislators.job.scriptSha256,
            glueLibrary: fileProcessor.librarySha256 ?? "",
            glueTriggerBundle: triggerBundle,
            glueJobEventsBundle: monitoring.eventHandler!.bundleSha256,
            ...(medallion ? { medallionScript: medallion.workflow.job.scriptSha256, apiIngestBundle: ingestBundle! } : {}),
            ...claimsArtifacts,
        }));

    // Last: smoke drives the CSV and Parquet flows through what this update deployed (components/delivery/smokeCheck.ts).
    const smoke = config.smokeOnUp
        ? new SmokeCheck(
              "smoke",
              {
                  stage,
                  accountId,
                  region: config.region,
                  stackName: config.stackName,
                  releaseId: release,
                  inputBucket: buckets.inputBucket,
                  outputBucket: buckets.outputBucket,
                  metadataTableName: metadata.tableName,
                  metadataTableArn: metadata.tableArn,
                  kmsKeyArn: keyArn,
                  flows: {
                      csvOutput: OUTPUT_PREFIXES.processed,
                      csvQuarantine: OUTPUT_PREFIXES.quarantine,
                      parquetInput: PARQUET_PREFIXES.raw,
                      parquetOutput: PARQUET_PREFIXES.processed,
                      parquetQuarantine: PARQUET_PREFIXES.quarantine,
                  },
                  deployRoleArn: config.deployRoleArn,
                  flowResources: [buckets, metadata, glue, fileProcessor, trigger, parquetToJson.job, parquetToJson.trigger, inputNotifications],
              },
              opts,
          )
        : undefined;

    return {
        buckets,
        metadata,
        glue,
        fileProcessor,
        trigger,
        parquetToJson,
        legislators,
        inputNotifications,
        monitoring,
        medallion,
        claims,
        artifacts,
        releaseId: release,
        smoke,
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
            alertsTopicArn: monitoring.alertsTopicArn,
            // Links a reader can open; the names stay available for scripts.
            dashboards: {
                overview: dashboardConsoleUrl(config.region, monitoring.dashboardNames.overview),
                operations: dashboardConsoleUrl(config.region, monitoring.dashboardNames.operations),
            },
            dashboardNames: monitoring.dashboardNames,
            glueJobEventsFunction: monitoring.eventHandler!.function.name,
            glueJobEventsDeadLetterQueue: monitoring.eventHandler!.deadLetterQueue.url,
            ...parquetToJson.outputs,
            ...legislators.outputs,
            ...(medallion?.outputs ?? {}),
            ...claims.outputs,
            // Only ever a passing release: a failed check fails the update, which then exports nothing new.
            ...(smoke ? { smoke: smoke.result, smokeRoleArn: smoke.role.arn } : {}),
            glueJobLogGroups: pulumi
                .all([fileProcessor.jobName, fileProcessor.outputLogGroup.name, fileProcessor.errorLogGroup.name])
                .apply(([job, output, error]) => ({ [job]: { output, error } })),
        },
    };
}
