/**
 * The part of a workload stack the S3-triggered path runs through, created in the emulator under the names
 * the stack gives it (stacks/workload.ts): the versioned input bucket, the output bucket, the metadata table,
 * and Glue jobs with the --metadata_table default their component sets (components/glue/glueEtlJob.ts).
 * Shared by the offline end-to-end tests.
 */
import { EMULATOR_ACCOUNT_ID, EmulatorHandle } from "../support/emulator";

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
