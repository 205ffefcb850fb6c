/**
 * The part of a workload stack the S3-triggered path runs through, created in the emulator under the names
 * the stack gives it (stacks/workload.ts): the versioned input bucket, the output bucket, the metadata table,
 * and Glue jobs with the --metadata_table default their component sets (components/glue/glueEtlJob.ts).
 * Shared by the offline end-to-end tests, with the job-events function that receives the runs' ends.
 */
import type { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { Logger } from "../../functions/shared/logger";
import { EMULATOR_ACCOUNT_ID, EmulatorHandle } from "../support/emulator";
import { glueStateChange, motoGlueClient } from "../monitoring/support";

export interface EmulatedStack {
    readonly inputBucket: string;
    readonly outputBucket: string;
    readonly metadataTable: string;
}

export function emulatedStackNames(stage: string): EmulatedStack {
    return {
        inputBucket: `glue-input-${stage}-${EMULATOR_ACCOUNT_ID}`,
        outputBucket: `glue-output-${stage}-${EMULATOR_ACCOUNT_ID}`,
        metadataTable: `etl-pipeline-metadata-${stage}`,
    };
}

/** Creates the stack's buckets, table and the given jobs in the emulator; returns their names. */
export async function createEmulatedStack(aws: EmulatorHandle, stage: string, jobNames: readonly string[]): Promise<EmulatedStack> {
    const stack = emulatedStackNames(stage);
    await aws.createBucket(stack.inputBucket, { versioned: true });
    await aws.createBucket(stack.outputBucket);
    await aws.createMetadataTable(stack.metadataTable);
    for (const job of jobNames) await aws.createGlueJob(job, { defaultArguments: { "--metadata_table": stack.metadataTable } });
    return stack;
}

/** The metric namespace the stack gives the job-events function. */
export const METRIC_NAMESPACE = "GluePipeline";

/** A logger that keeps the tests' output to mocha's own. */
export const quietLogger = (): Logger => new Logger({ service: "e2e", level: "ERROR", sink: () => undefined });

/**
 * The job-events function (functions/glue-job-events) configured as the stack configures it for `jobNames`,
 * with its alerts to `alertsTopicArn`, its metrics to `cloudwatch`, and Glue's run details from the emulator.
 * Loaded on call, after the emulator is up: the module's clients read AWS_ENDPOINT_URL.
 */
export function emulatedJobEvents(aws: EmulatorHandle, stage: string, jobNames: readonly string[], alertsTopicArn: string, cloudwatch: CloudWatchClient) {
    const events: typeof import("../../functions/glue-job-events/events") = require("../../functions/glue-job-events/events");
    const deps = events.createJobEventsDeps(
        {
            metadataTable: emulatedStackNames(stage).metadataTable,
            alertsTopicArn,
            metricNamespace: METRIC_NAMESPACE,
            stage,
            glueJobNames: [...jobNames],
            jobLogGroups: {},
            replayCommand: `npm run replay -- --stack ${stage}`,
            baselineRuns: 10,
            baselineMinRuns: 3,
            logLevel: "ERROR",
        },
        { glue: motoGlueClient(aws.endpoint), cloudwatch, logger: quietLogger() },
    );
    /** Glue → EventBridge → the function: the state-change event of one finished run. */
    const finished = (run: { readonly jobName: string; readonly jobRunId: string; readonly state: string; readonly error?: string }) =>
        events.handleEvent(glueStateChange(run.jobName, run.jobRunId, run.state, run.error, new Date().toISOString()), deps);
    return { deps, finished };
}
