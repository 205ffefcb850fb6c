/**
 * Who and where the workload account's policies are written for: the account and stage, the names the
 * bootstrap gives its roles and policies, and the ARN patterns of the project's buckets and roles. The deploy
 * role's policy (./deployRolePolicy.ts), the workload boundary (./workloadBoundaryPolicy.ts), the CI and test
 * roles and the smoke check all build on these.
 */
// Used inside functions only (smokeCheck imports partitionOf through ./deployRoles): the cycle is safe at load time.
import { smokeRoleName } from "./smokeCheck";

/** IAM path of everything the bootstrap creates; the deploy role may not touch anything under it. */
export const BOOTSTRAP_IAM_PATH = "/glue-data-pipeline-bootstrap/";

/** The tag key every project resource carries (the provider's default tags) and that role ABAC keys on. */
export const PROJECT_TAG = "Project";

/** Services a workload role may be passed to (iam:PassedToService). */
export const WORKLOAD_SERVICE_PRINCIPALS: readonly string[] = [
    "glue.amazonaws.com",
    "lambda.amazonaws.com",
    "states.amazonaws.com",
    "scheduler.amazonaws.com",
    "events.amazonaws.com",
];

export interface AccountScope {
    readonly partition: string;
    readonly region: string;
    readonly accountId: string;
}

/** `aws`, `aws-cn` or `aws-us-gov`, from the region name. */
export function partitionOf(region: string): string {
    if (region.startsWith("cn-")) return "aws-cn";
    if (region.startsWith("us-gov-")) return "aws-us-gov";
    return "aws";
}

export const deployRoleName = (project: string, stack: string): string => `${project}-deploy-${stack}`;
export const previewRoleName = (project: string, stack: string): string => `${project}-preview-${stack}`;
export const boundaryPolicyName = (project: string, stack: string): string => `${project}-boundary-${stack}`;

/** ARN of a role the bootstrap creates (under {@link BOOTSTRAP_IAM_PATH}). */
export function bootstrapRoleArn(scope: Pick<AccountScope, "partition" | "accountId">, roleName: string): string {
    return `arn:${scope.partition}:iam::${scope.accountId}:role${BOOTSTRAP_IAM_PATH}${roleName}`;
}

/** ARN of a managed policy the bootstrap creates (under {@link BOOTSTRAP_IAM_PATH}). */
export function bootstrapPolicyArn(scope: Pick<AccountScope, "partition" | "accountId">, policyName: string): string {
    return `arn:${scope.partition}:iam::${scope.accountId}:policy${BOOTSTRAP_IAM_PATH}${policyName}`;
}

export interface WorkloadScope extends AccountScope {
    /** Project name: the value of the Project tag and the prefix of the bootstrap's names. */
    readonly project: string;
    /** Stage in the workload's resource names (`glue-input-{stage}-{account}`). */
    readonly stage: string;
    /** ARN of the workload boundary. */
    readonly boundaryArn: string;
    /** Whether the workload may empty and delete its buckets (`allowDataDestroy` of the stack). */
    readonly allowDataDestroy: boolean;
    /**
     * Whether the stack runs the claims warehouse (`claims.warehouse`): only then do the boundary and the deploy
     * role grow by its statements (./claimsWarehouseAccess). @default false
     */
    readonly claimsWarehouse?: boolean;
    /**
     * Whether the stack runs its smoke check on `pulumi up` (`smokeOnUp`): only then may the deploy role create,
     * and assume, `SmokeRole-<stage>`. Without it (prod) the deploy role could otherwise make a role of that name
     * that reads the stage's data and assume it. @default false
     */
    readonly smokeCheck?: boolean;
}

/** The project's buckets in an account: `glue-<role>-<stage>-<account>` (DataLakeBuckets' naming). */
export function projectBucketArns(scope: WorkloadScope): { buckets: string; objects: string; assetsObjects: string } {
    const p = scope.partition;
    return {
        buckets: `arn:${p}:s3:::glue-*-${scope.stage}-${scope.accountId}`,
        objects: `arn:${p}:s3:::glue-*-${scope.stage}-${scope.accountId}/*`,
        assetsObjects: `arn:${p}:s3:::glue-assets-v2-${scope.stage}-${scope.accountId}/*`,
    };
}

/**
 * ARNs of the roles the workload stacks create, by name: Pulumi's auto-name of a `*-role` resource (the
 * logical name, `-`, 7 hex digits), the Glue job roles of the stage (glueJobRoleName) and its smoke role
 * (smokeRoleName, with `smokeOnUp`).
 */
export function projectRoleArns(scope: WorkloadScope): string[] {
    const role = (name: string) => `arn:${scope.partition}:iam::${scope.accountId}:role/${name}`;
    return [
        role("*-role-???????"),
        role(`*-${scope.stage}-GlueJobRole`),
        role(`*-${scope.stage}-*-GlueJobRole`),
        ...(scope.smokeCheck ? [role(smokeRoleName(scope.stage))] : []),
    ];
}

/** `arn:<partition>:<service>:<region>:<account>:<resource>` in the scope's account and region. */
export const regionalArn = (s: AccountScope, service: string, resource: string): string =>
    `arn:${s.partition}:${service}:${s.region}:${s.accountId}:${resource}`;
