/**
 * The smoke role's policy judged by an IAM evaluator (@cloud-copilot/iam-simulate): what smoke does must be
 * allowed, anything next to it refused. Shared by the component test (keys smoke builds) and the end-to-end
 * test (keys the real jobs wrote).
 */
import * as assert from "node:assert/strict";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { smokeRolePolicy, SmokeAccessScope } from "../../components/smokeCheck";
import { dataLakeKeyPolicy } from "../../components/dataLakeBuckets";
import { OUTPUT_PREFIXES } from "../../stacks/workload";
import { PARQUET_PREFIXES } from "../../stacks/etlFlows";

/** The flows' prefixes as the composition passes them (stacks/workload.ts). */
export const FLOW_PREFIXES: SmokeAccessScope["flows"] = {
    csvOutput: OUTPUT_PREFIXES.processed,
    csvQuarantine: OUTPUT_PREFIXES.quarantine,
    parquetInput: PARQUET_PREFIXES.raw,
    parquetOutput: PARQUET_PREFIXES.processed,
    parquetQuarantine: PARQUET_PREFIXES.quarantine,
};

export function smokeScope(accountId: string, region: string, input: string, output: string, table: string): SmokeAccessScope {
    return {
        partition: "aws",
        region,
        inputBucketArn: `arn:aws:s3:::${input}`,
        outputBucketArn: `arn:aws:s3:::${output}`,
        tableArn: `arn:aws:dynamodb:${region}:${accountId}:table/${table}`,
        kmsKeyArn: `arn:aws:kms:${region}:${accountId}:key/data-lake`,
        flows: FLOW_PREFIXES,
    };
}

export type Verdict = "allow" | "implicit-deny" | "deny";

/** How IAM answers `action` on `resource` for a principal holding only the smoke role's policy. */
export async function judge(scope: SmokeAccessScope, accountId: string, action: string, resource: string, context: Record<string, string> = {}): Promise<Verdict> {
    const result = await runSimulation(
        {
            request: { principal: `arn:aws:iam::${accountId}:role/SmokeRole-dev`, action, resource: { resource, accountId }, contextVariables: context },
            identityPolicies: [{ name: "smoke", policy: smokeRolePolicy(scope) }],
            // A KMS key is usable only if its key policy lets IAM decide: the data lake key's own policy.
            ...(action.startsWith("kms:") ? { resourcePolicy: dataLakeKeyPolicy({ accountId, region: scope.region }) } : {}),
            serviceControlPolicies: [],
            resourceControlPolicies: [],
        },
        {},
    );
    if (result.resultType !== "single") throw new Error(`unexpected simulation result ${JSON.stringify(result)}`);
    // A context key the evaluator ignored would make the case prove nothing.
    assert.deepEqual(result.result.ignoredContextKeys ?? [], [], `${action} ${resource}`);
    const verdicts: Record<string, Verdict> = { Allowed: "allow", ImplicitlyDenied: "implicit-deny", ExplicitlyDenied: "deny" };
    return verdicts[result.overallResult as string] ?? (String(result.overallResult) as Verdict);
}
