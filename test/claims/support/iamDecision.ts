/**
 * One question to the IAM evaluator (@cloud-copilot/iam-simulate) for the warehouse tests: may a principal
 * with these identity statements do `action` on `resource` with this request context? KMS requests are also
 * judged against the data-lake key's policy (its statements delegating use to IAM), as AWS judges them.
 *
 * (test/access/simulate.ts, being written beside this, will be the project's one door to the evaluator; these
 * tests can move to it once it is committed.)
 */
import * as assert from "node:assert/strict";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { dataLakeKeyPolicy } from "../../../components/storage/dataLakeBuckets";
import type { PolicyStatement } from "../../../components/iam/iamPolicies";

export type Decision = "allow" | "implicit-deny" | "deny";

export async function decide(
    scope: { readonly accountId: string; readonly region: string },
    statements: readonly PolicyStatement[],
    action: string,
    resource: string,
    context: Record<string, string | string[]> = {},
): Promise<Decision> {
    // The key policy's CloudWatch Logs statement concerns another principal and uses an encryption-context key
    // the evaluator cannot take as it is: left out.
    const keyPolicy = {
        Version: "2012-10-17",
        Statement: dataLakeKeyPolicy({ accountId: scope.accountId, region: scope.region }).Statement.filter((s) => (s.Principal as { AWS?: string } | undefined)?.AWS),
    };
    const result = await runSimulation(
        {
            request: { principal: `arn:aws:iam::${scope.accountId}:role/subject`, action, resource: { resource, accountId: scope.accountId }, contextVariables: context },
            identityPolicies: [{ name: "subject", policy: { Version: "2012-10-17", Statement: statements } }],
            ...(action.startsWith("kms:") ? { resourcePolicy: keyPolicy } : {}),
            serviceControlPolicies: [],
            resourceControlPolicies: [],
        },
        {},
    );
    if (result.resultType !== "single") throw new Error(`unexpected simulation result ${JSON.stringify(result).slice(0, 300)}`);
    assert.deepEqual(result.result.ignoredContextKeys ?? [], [], `context keys the evaluator ignored for ${action} would make the case prove nothing`);
    return ({ Allowed: "allow", ImplicitlyDenied: "implicit-deny", ExplicitlyDenied: "deny" } as Record<string, Decision>)[result.overallResult as string];
}
