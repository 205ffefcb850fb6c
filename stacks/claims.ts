/**
 * The healthcare claims flow (seed 002) in the workload: one ClaimsPipeline, configured from the stack's
 * `claims` and `glue` settings, and what monitoring must watch of it. Kept out of stacks/workload.ts so that
 * the composition only calls it.
 *
 * The claims flow has a bucket of its own (`glue-claims-{stage}-{account}`; why: components/claims/claimsBucket.ts),
 * so it shares no notification configuration with the input bucket's triggers.
 */
import * as pulumi from "@pulumi/pulumi";
import { ClaimsPipeline, ClaimsWarehouse, DataLakeBuckets, GlueEnvironment, ProcessingMetadataTable } from "../components";
import { StackConfig } from "./config";
import { MonitoredParts, monitoredJob } from "./etlFlows";

export interface ClaimsInputs {
    readonly accountId: pulumi.Input<string>;
    readonly buckets: DataLakeBuckets;
    readonly metadata: ProcessingMetadataTable;
    readonly glue: GlueEnvironment;
    /** Release id stamped on the job and the function. */
    readonly release: pulumi.Input<string>;
}

export interface ClaimsStack {
    readonly pipeline: ClaimsPipeline;
    /** Only when the stack sets `claims.warehouse`. */
    readonly warehouse?: ClaimsWarehouse;
    readonly monitored: MonitoredParts;
    /** Content hashes of the code the flow ships (for the promotion contract). */
    readonly artifacts: pulumi.Output<{ readonly claimsScript: string; readonly claimsValidationBundle: string; readonly claimsWarehouseLoadBundle?: string }>;
    readonly outputs: Record<string, pulumi.Input<unknown>>;
}

export function createClaims(config: StackConfig, inputs: ClaimsInputs, opts: pulumi.ComponentResourceOptions): ClaimsStack {
    const { buckets, metadata, glue, release } = inputs;
    const pipeline = new ClaimsPipeline(
        "claims",
        {
            stage: config.stage,
            accountId: inputs.accountId,
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
            validationEnvironment: { RELEASE_ID: release },
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
                  accountId: inputs.accountId,
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
                  loadEnvironment: { RELEASE_ID: release },
              },
              opts,
          )
        : undefined;
    const load = warehouse?.load;
    return {
        pipeline,
        ...(warehouse ? { warehouse } : {}),
        monitored: {
            glueJobs: [monitoredJob(pipeline.etlJob)],
            functions: [
                { label: pipeline.names.validationFunction, name: fn.function.name },
                ...(warehouse ? [{ label: warehouse.names.loadFunction, name: warehouse.load.functionName }] : []),
            ],
            deadLetterQueues: [
                { label: `${pipeline.names.validationFunction}-dlq`, name: fn.deadLetterQueue.name },
                ...(warehouse?.load.deadLetterQueue ? [{ label: `${warehouse.names.loadFunction}-dlq`, name: warehouse.load.deadLetterQueue.name }] : []),
            ],
        },
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
            claimsProcessingTopicArn: pipeline.topics.processingTopicArn,
            claimsErrorTopicArn: pipeline.topics.errorTopicArn,
            ...(warehouse
                ? {
                      claimsWarehouseWorkgroup: warehouse.workgroup.workgroupName,
                      claimsWarehouseDatabase: warehouse.databaseName,
                      claimsWarehouseCopyRoleArn: warehouse.copyRole.arn,
                      claimsWarehouseLoadFunction: warehouse.load.functionName,
                      claimsWarehouseLoadDeadLetterQueue: warehouse.load.deadLetterQueue!.url,
                  }
                : {}),
        },
    };
}
