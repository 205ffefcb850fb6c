/**
 * The healthcare claims flow (seed 002) in the workload: one ClaimsPipeline, configured from the stack's
 * `claims` and `glue` settings, and what monitoring must watch of it. Kept out of stacks/workload.ts so that
 * the composition only calls it.
 *
 * The claims flow has a bucket of its own (`glue-claims-{stage}-{account}`; why: components/claimsBucket.ts),
 * so it shares no notification configuration with the input bucket's triggers.
 */
import * as pulumi from "@pulumi/pulumi";
import { ClaimsPipeline, DataLakeBuckets, GlueEnvironment, ProcessingMetadataTable } from "../components";
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
    readonly monitored: MonitoredParts;
    /** Content hashes of the code the flow ships (for the promotion contract). */
    readonly artifacts: pulumi.Output<{ readonly claimsScript: string; readonly claimsValidationBundle: string }>;
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
    return {
        pipeline,
        monitored: {
            glueJobs: [monitoredJob(pipeline.etlJob)],
            functions: [{ label: pipeline.names.validationFunction, name: fn.function.name }],
            deadLetterQueues: [{ label: `${pipeline.names.validationFunction}-dlq`, name: fn.deadLetterQueue.name }],
        },
        artifacts: fn.bundleSha256.apply((bundle) => ({ claimsScript: pipeline.etlJob.scriptSha256, claimsValidationBundle: bundle })),
        outputs: {
            claimsBucket: pipeline.bucketName,
            claimsEtlJob: pipeline.etlJob.jobName,
            claimsValidationFunction: fn.function.name,
            claimsValidationDeadLetterQueue: fn.deadLetterQueue.url,
            claimsProcessingTopicArn: pipeline.topics.processingTopicArn,
            claimsErrorTopicArn: pipeline.topics.errorTopicArn,
        },
    };
}
