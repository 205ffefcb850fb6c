/**
 * The workload composition under the recording mocks: one StackConfig fixture for the tests of the stacks and
 * of the flows composed into them, and the one way those tests build it.
 */
import type { StackConfig } from "../../stacks/config";
import type { WorkloadFlowDefinitions, WorkloadStack } from "../../stacks/workload";
import { resetRecorded, waitForRegistrations } from "./graph";

/**
 * A validated config as stacks/config.ts would return it: prod-sized and reserving concurrency in prod, Flex,
 * destroyable and reserving nothing (the opt-in default) in dev.
 */
export function stackConfig(stage: "dev" | "prod", overrides: Partial<StackConfig> = {}): StackConfig {
    return {
        stackName: stage,
        stage,
        accountId: "111111111111",
        region: "eu-west-1",
        tags: { Environment: stage, Project: "glue-data-pipeline", Owner: "data-eng", CostCenter: "engineering" },
        glue: { version: "5.1", maxWorkers: stage === "prod" ? 10 : 2, executionClass: stage === "prod" ? "STANDARD" : "FLEX" },
        trigger: stage === "prod" ? { memoryMb: 256, reservedConcurrency: 10 } : { memoryMb: 256 },
        allowDataDestroy: stage === "dev",
        ...overrides,
    };
}

/**
 * Builds the workload with the stack's own provider, after forgetting what earlier tests recorded; with
 * `flows`, from those flow definitions instead of the project's (a test adds one of its own).
 */
export async function buildWorkload(cfg: StackConfig, flows?: WorkloadFlowDefinitions): Promise<WorkloadStack> {
    // Imported late: the mocks (test/support/pulumiMocks.ts) must be installed before Pulumi modules load.
    const { createAwsProvider } = await import("../../stacks/provider");
    const { createWorkload } = await import("../../stacks/workload");
    resetRecorded();
    const workload = createWorkload(cfg, createAwsProvider(cfg), flows);
    await waitForRegistrations();
    return workload;
}
