/**
 * The healthcare claims flow: one ClaimsPipeline configured from the stack's `claims` and `glue` settings
 * (claims validated on arrival, then the claims ETL; its own bucket and SNS topics), and, only when the stack
 * sets `claims.warehouse`, the ClaimsWarehouse that loads each processed file into Redshift Serverless.
 *
 * The claims flow has a bucket of its own (`glue-claims-{stage}-{account}`; why: components/claims/claimsBucket.ts),
 * so it needs nothing of the shared buckets' lifecycle and shares no notification with the input bucket's triggers.
 */
import * as pulumi from "@pulumi/pulumi";
import { ClaimsPipeline, ClaimsWarehouse, DEFAULT_VALIDATION_BATCH_SIZE } from "../../components";
import { CLAIMS_VALIDATION_ENV } from "../../functions/claims-validation/contract";
import { WAREHOUSE_LOAD_ENV } from "../../functions/claims-warehouse-load/contract";
import { triggerQueueConfig, triggerQueueSettings } from "./fileTriggeredFlow";
import { Flow, FlowDefinition, flowMonitoring, monitoredJob, NO_STORAGE_NEEDS } from "./flow";

/** Content hashes of the code the claims flow ships (for the promotion contract). */
export type ClaimsArtifacts = {
    readonly claimsScript: string;
    readonly claimsValidationBundle: string;
    /** Only with the warehouse. */
    readonly claimsWarehouseLoadBundle?: string;
};

export interface ClaimsFlow extends Flow {
    readonly pipeline: ClaimsPipeline;
    /** Only when the stack sets `claims.warehouse`. */
    readonly warehouse?: ClaimsWarehouse;
    readonly artifacts: pulumi.Output<ClaimsArtifacts>;
}

export const claimsFlow: FlowDefinition<ClaimsFlow> = {
    storage: NO_STORAGE_NEEDS,
    build: (name, config, platform, opts) => {
        const { accountId, buckets, metadata, glue, release } = platform;
        const pipeline = new ClaimsPipeline(
            "claims",
            {
                stage: config.stage,
                accountId,
                kmsKeyArn: buckets.kmsKeyArn,
                glueEnvironment: glue,
                assetsBucket: buckets.assetsBucket,
                metadataTable: { name: metadata.tableName, arn: metadata.tableArn },
                errorEmails: config.claims?.errorEmails ?? config.alerts?.emails ?? [],
                minQualityScore: config.claims?.minQualityScore,
                allowDataDestroy: config.allowDataDestroy,
                glueVersion: config.glue.version,
                maxWorkers: config.glue.maxWorkers,
                executionClass: config.glue.executionClass,
                jobArguments: { "--release_id": release },
                // The same cap as the CSV trigger's: how many files start at once (dev keeps it low).
                validationConcurrency: config.trigger.reservedConcurrency,
                // The stack's queue settings, but one file per invocation (DEFAULT_VALIDATION_BATCH_SIZE).
                validationQueue: { ...triggerQueueSettings(config), batchSize: DEFAULT_VALIDATION_BATCH_SIZE },
                validationEnvironment: { [CLAIMS_VALIDATION_ENV.releaseId]: release },
            },
            opts,
        );
        const fn = pipeline.validation;
        const settings = config.claims?.warehouse;
        // Off by default: without `claims.warehouse` nothing below exists, and the stack's graph is what it was.
        const warehouse = settings
            ? new ClaimsWarehouse(
                  "claims-warehouse",
                  {
                      stage: config.stage,
                      accountId,
                      kmsKeyArn: buckets.kmsKeyArn,
                      claimsBucket: { name: pipeline.bucketName, arn: pipeline.storage.bucket.arn },
                      etlJob: { name: pipeline.etlJob.jobName, arn: pipeline.etlJob.jobArn },
                      metadataTable: { name: metadata.tableName, arn: metadata.tableArn },
                      errorTopicArn: pipeline.topics.errorTopicArn,
                      baseCapacity: settings.baseCapacity,
                      maxCapacity: settings.maxCapacity,
                      databaseName: settings.databaseName,
                      vpcCidr: settings.vpcCidr,
                      allowDataDestroy: config.allowDataDestroy,
                      loadEnvironment: { [WAREHOUSE_LOAD_ENV.releaseId]: release },
                  },
                  opts,
              )
            : undefined;
        const load = warehouse?.load;
        const loadQueue = load?.deadLetterQueue;
        return {
            name,
            pipeline,
            ...(warehouse ? { warehouse } : {}),
            monitored: flowMonitoring({
                glueJobs: [monitoredJob(pipeline.etlJob)],
                functions: [
                    { label: pipeline.names.validationFunction, name: fn.function.name },
                    ...(warehouse && load ? [{ label: warehouse.names.loadFunction, name: load.functionName }] : []),
                ],
                deadLetterQueues: [
                    { label: `${pipeline.names.validationFunction}-dlq`, name: fn.deadLetterQueue.name },
                    { label: `${pipeline.names.validationFunction}-queue-dlq`, name: fn.queueDeadLetterQueue.name },
                    ...(warehouse && loadQueue ? [{ label: `${warehouse.names.loadFunction}-dlq`, name: loadQueue.name }] : []),
                ],
                feedQueues: [{ label: `${pipeline.names.validationFunction}-queue`, name: fn.queue.name, maxAgeSeconds: triggerQueueConfig(config).maxAgeAlarmSeconds }],
            }),
            artifacts: pulumi
                .all([fn.bundleSha256, load ? load.bundleSha256 : pulumi.output(undefined)])
                .apply(([bundle, loadBundle]) => ({
                    claimsScript: pipeline.etlJob.scriptSha256,
                    claimsValidationBundle: bundle,
                    ...(loadBundle !== undefined ? { claimsWarehouseLoadBundle: loadBundle } : {}),
                })),
            outputs: {
                claimsBucket: pipeline.bucketName,
                claimsEtlJob: pipeline.etlJob.jobName,
                claimsValidationFunction: fn.function.name,
                claimsValidationDeadLetterQueue: fn.deadLetterQueue.url,
                claimsValidationQueue: fn.queue.url,
                claimsValidationQueueDeadLetterQueue: fn.queueDeadLetterQueue.url,
                claimsProcessingTopicArn: pipeline.topics.processingTopicArn,
                claimsErrorTopicArn: pipeline.topics.errorTopicArn,
                ...(warehouse
                    ? {
                          claimsWarehouseWorkgroup: warehouse.workgroup.workgroupName,
                          claimsWarehouseDatabase: warehouse.databaseName,
                          claimsWarehouseCopyRoleArn: warehouse.copyRole.arn,
                          claimsWarehouseLoadFunction: warehouse.load.functionName,
                          ...(loadQueue ? { claimsWarehouseLoadDeadLetterQueue: loadQueue.url } : {}),
                      }
                    : {}),
            },
            inputBucketTriggers: [],
            smokeDependencies: [],
        };
    },
};
