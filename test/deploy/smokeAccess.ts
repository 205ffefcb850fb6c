/**
 * The smoke role judged by the IAM evaluator (test/access/simulate.ts, the one door to it): its policy, inside
 * the stage's workload boundary (every role the stack creates carries it), against the data lake key's own key
 * policy (the key is tagged for the project, as the provider's default tags do). What smoke does must be
 * allowed, anything next to it refused. Shared by the component test (keys smoke builds) and the end-to-end
 * test (keys the real jobs wrote).
 */
import { smokeRoleName, smokeRolePolicy, SmokeAccessScope } from "../../components/delivery/smokeCheck";
import { bucketNames, dataLakeKeyPolicy } from "../../components/storage/dataLakeBuckets";
import { workloadBoundaryPolicy } from "../../components/delivery/deployRoles";
import { metadataTableName } from "../../components/tracking/processingMetadataTable";
import { CSV_PREFIXES as OUTPUT_PREFIXES } from "../../stacks/flows/csv";
import { PARQUET_PREFIXES } from "../../stacks/flows/parquetToJson";
import { decide, Decision } from "../access/simulate";

export const PROJECT = "glue-data-pipeline";

/** The flows' prefixes as the composition passes them (stacks/workload.ts). */
export const FLOW_PREFIXES: SmokeAccessScope["flows"] = {
    csvOutput: OUTPUT_PREFIXES.processed,
    csvQuarantine: OUTPUT_PREFIXES.quarantine,
    parquetInput: PARQUET_PREFIXES.raw,
    parquetOutput: PARQUET_PREFIXES.processed,
    parquetQuarantine: PARQUET_PREFIXES.quarantine,
};

export interface SmokeJudgeScope extends SmokeAccessScope {
    readonly accountId: string;
    readonly stage: string;
    readonly inputBucket: string;
    readonly outputBucket: string;
}

/** The stage's smoke scope with the names the stack gives its buckets, table and key. */
export function smokeScope(accountId: string, region: string, stage: string): SmokeJudgeScope {
    const names = bucketNames(stage, accountId);
    return {
        accountId,
        stage,
        partition: "aws",
        region,
        inputBucket: names.input,
        outputBucket: names.output,
        inputBucketArn: `arn:aws:s3:::${names.input}`,
        outputBucketArn: `arn:aws:s3:::${names.output}`,
        tableArn: `arn:aws:dynamodb:${region}:${accountId}:table/${metadataTableName(stage)}`,
        kmsKeyArn: `arn:aws:kms:${region}:${accountId}:key/0b1e2c3d-data-lake`,
        flows: FLOW_PREFIXES,
    };
}

/** How IAM answers `action` on `resource` for the smoke role, boundary included. */
export async function judge(scope: SmokeJudgeScope, action: string, resource: string, context: Record<string, string> = {}): Promise<Decision> {
    const kms = action.startsWith("kms:");
    const boundary = workloadBoundaryPolicy({
        partition: "aws",
        accountId: scope.accountId,
        region: scope.region,
        project: PROJECT,
        stage: scope.stage,
        boundaryArn: `arn:aws:iam::${scope.accountId}:policy/${PROJECT}-boundary-${scope.stage}`,
        allowDataDestroy: false,
    });
    const answer = await decide({
        principal: `arn:aws:iam::${scope.accountId}:role/${smokeRoleName(scope.stage)}`,
        action,
        resource,
        resourceAccount: scope.accountId,
        context,
        identity: [smokeRolePolicy(scope)],
        boundary,
        // A KMS key is usable only if its key policy lets IAM decide: the data lake key's own policy.
        ...(kms ? { resourcePolicy: dataLakeKeyPolicy({ accountId: scope.accountId, region: scope.region }), resourceTags: { Project: PROJECT } } : {}),
    });
    return answer.decision;
}
