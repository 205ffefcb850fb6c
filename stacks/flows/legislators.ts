/**
 * The legislators flow: ProcessLegislators-{stage}, run on demand (`aws glue start-job-run --job-name
 * ProcessLegislators-{stage}`); its default arguments read `sources/legislators/` of the assets bucket and
 * write the history under `legislators/history/` of the output bucket. No schedule: the source (the AWS
 * legislators sample) changes rarely and as a whole.
 */
import * as pulumi from "@pulumi/pulumi";
import { GlueEtlJob } from "../../components";
import { ARTIFACT_SOURCES } from "../artifacts";
import { Flow, FlowDefinition, flowMonitoring, monitoredJob } from "./flow";

/**
 * ProcessLegislators' prefixes. Its sources are reference data that every (rare, on-demand) rerun reads again,
 * so they live in the assets bucket, which expires nothing: the input bucket expires every object after 30
 * days, and a rerun a month later would find nothing.
 */
export const LEGISLATORS_PREFIXES = { sources: "sources/legislators/", history: "legislators/history/", quarantine: "quarantine/legislators/" } as const;

export interface LegislatorsFlow extends Flow {
    readonly job: GlueEtlJob;
}

export const legislatorsFlow: FlowDefinition<LegislatorsFlow> = {
    storage: { expiringOutputPrefixes: [LEGISLATORS_PREFIXES.history, LEGISLATORS_PREFIXES.quarantine], prefixRules: [], logGroupNamePatterns: [] },
    build: (name, config, platform, opts) => {
        const { buckets, metadata, glue, release } = platform;
        const job = new GlueEtlJob(
            "legislators",
            {
                jobName: `ProcessLegislators-${config.stage}`,
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
                // Deployed text: kept word for word, so moving the flow here changed no resource.
                description: "ProcessLegislators: persons x memberships x organizations to the history, Parquet by org_name; on demand",
            },
            opts,
        );
        return {
            name,
            job,
            monitored: flowMonitoring({ glueJobs: [monitoredJob(job)] }),
            outputs: { legislatorsJob: job.jobName },
            artifacts: { legislatorsScript: job.scriptSha256, ...(job.librarySha256 !== undefined ? { glueLibrary: job.librarySha256 } : {}) },
            inputBucketTriggers: [],
            smokeDependencies: [],
        };
    },
};
