/**
 * The roles a workload account (dev, prod) is deployed and previewed with, and the permissions boundary
 * every role the workload creates must carry.
 *
 * - **Deploy role** (`<project>-deploy-<stack>`): what `pulumi up` runs as. Trusted only by Pulumi's OIDC
 *   issuer for this one stack: the Deployments subjects of `<org>/<project>/<stack>` and the ESC
 *   environment `<project>/<stack>` that the stack file imports (both hand out the same role, so it does not
 *   matter which of the two sets AWS_* first in a deployment). Optionally also by named roles of the
 *   pipeline account (a self-hosted deployment agent), never by a whole account.
 * - **Preview role** (`<project>-preview-<stack>`): what pull-request previews run as, through the ESC
 *   environment `<project>/<stack>-preview`. It has no permissions policy at all: `pulumi preview` only
 *   needs credentials of the right account (the provider checks them with sts:GetCallerIdentity, which
 *   needs no permission), so a pull request never holds credentials that can change anything.
 * - **Workload boundary** (`<project>-boundary-<stack>`): the permissions boundary. The deploy role may
 *   create a role or write a role's policies only when that role carries this boundary, so nothing it
 *   creates can exceed the boundary, and the boundary grants no IAM at all.
 *
 * Scope of the deploy role: a workload account is dedicated to this pipeline (seed 000's account table),
 * so the account and region are the first fence; within them the deploy role gets only the services the
 * stacks create ({@link DEPLOY_POLICY_COVERAGE}, checked against the synthesized graph by the tests), S3
 * only on the project's bucket names (bucket ARNs carry no account), object access only to the assets
 * bucket (code upload), IAM only through the boundary, and explicit denies on everything the bootstrap
 * owns, on long-lived credentials and on removing boundaries.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { PolicyDocument, policyDocument, PolicyStatement } from "../iam/iamPolicies";
import { WAREHOUSE_DEPLOY_COVERAGE, WAREHOUSE_SERVICE_PRINCIPALS, warehouseBoundaryStatements, warehouseDeployStatements } from "../claims/claimsWarehouseAccess";
import { DEPLOYMENT_OPERATIONS, DeploymentOperation, deploymentsTrust, escTrust, pulumiOidcTrustStatement } from "./pulumiOidcProvider";
// Used inside functions only (smokeCheck imports partitionOf from here): the cycle is safe at load time.
import { assumeSmokeRoleStatement, smokeRoleName } from "./smokeCheck";

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

/** The project's buckets in an account: `glue-<role>-<stage>-<account>` (seed 000's naming). */
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

const regional = (s: AccountScope, service: string, resource: string) => `arn:${s.partition}:${service}:${s.region}:${s.accountId}:${resource}`;

/**
 * ARN patterns of a service's resources named for the stage: the stage as a whole `-`-separated segment,
 * at the end or in the middle of the name, followed by each of `suffixes`.
 */
function stageNamed(scope: WorkloadScope, service: string, prefix: string, suffixes: readonly string[]): string[] {
    return [`*-${scope.stage}`, `*-${scope.stage}-*`].flatMap((name) => suffixes.map((suffix) => regional(scope, service, `${prefix}${name}${suffix}`)));
}

/**
 * Upper bound of every role the workload creates: the data-plane services its jobs, functions and state
 * machines use, on this project's resources of the stage (by name; KMS keys by their Project tag), and no IAM
 * or STS at all.
 */
export function workloadBoundaryPolicy(scope: WorkloadScope): PolicyDocument {
    const buckets = projectBucketArns(scope);
    return policyDocument([
        { Sid: "ProjectBuckets", Effect: "Allow", Action: "s3:*", Resource: [buckets.buckets, buckets.objects] },
        {
            // The project's resources of this stage, by name: every name the stacks give carries the stage as
            // a segment (`etl-pipeline-metadata-dev`, `GlueTriggerLambda-dev-dlq`, `glue-pipeline/dev/...`,
            // `glue_database_v2_dev`). Another team's `payroll` table, queue or secret in the account is out.
            Sid: "ProjectData",
            Effect: "Allow",
            Action: ["dynamodb:*", "sqs:*", "sns:*", "states:*", "lambda:InvokeFunction"],
            Resource: [
                ...stageNamed(scope, "dynamodb", "table/", ["", "/*"]),
                ...stageNamed(scope, "sqs", "", [""]),
                ...stageNamed(scope, "sns", "", [""]),
                ...stageNamed(scope, "states", "stateMachine:", [""]),
                ...stageNamed(scope, "states", "execution:", [":*"]),
                ...stageNamed(scope, "lambda", "function:", ["", ":*"]),
            ],
        },
        {
            // The stage's catalog database (and the `default` one Spark looks up), its jobs and crawlers.
            Sid: "ProjectGlue",
            Effect: "Allow",
            Action: ["glue:*"],
            Resource: [
                regional(scope, "glue", "catalog"),
                regional(scope, "glue", "database/default"),
                regional(scope, "glue", `database/*_${scope.stage}`),
                regional(scope, "glue", `table/*_${scope.stage}/*`),
                regional(scope, "glue", `userDefinedFunction/*_${scope.stage}/*`),
                ...stageNamed(scope, "glue", "job/", [""]),
                ...stageNamed(scope, "glue", "crawler/", [""]),
            ],
        },
        {
            Sid: "ProjectSecrets",
            Effect: "Allow",
            Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            Resource: regional(scope, "secretsmanager", `secret:glue-pipeline/${scope.stage}/*`),
        },
        {
            Sid: "ProjectLogsAndEvents",
            Effect: "Allow",
            Action: ["logs:*", "events:PutEvents"],
            Resource: [regional(scope, "logs", "*"), regional(scope, "events", "event-bus/*")],
        },
        {
            // Key ids are random: the project's keys are the ones tagged for it (the provider's default tags;
            // the deploy role creates keys only with that tag).
            Sid: "ProjectKeys",
            Effect: "Allow",
            Action: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:DescribeKey"],
            Resource: regional(scope, "kms", "key/*"),
            Condition: { StringEquals: { [`aws:ResourceTag/${PROJECT_TAG}`]: scope.project } },
        },
        // These APIs have no resource type in IAM: "*" is the only expressible resource.
        {
            Sid: "Telemetry",
            Effect: "Allow",
            // Step Functions' logging and tracing call these on the role's behalf; IAM has no narrower resource.
            Action: [
                "cloudwatch:PutMetricData",
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
                "xray:GetSamplingRules",
                "xray:GetSamplingTargets",
                "logs:CreateLogDelivery",
                "logs:GetLogDelivery",
                "logs:UpdateLogDelivery",
                "logs:DeleteLogDelivery",
                "logs:ListLogDeliveries",
                "logs:PutResourcePolicy",
                "logs:DescribeResourcePolicies",
                "logs:DescribeLogGroups",
            ],
            Resource: "*",
        },
        ...(scope.claimsWarehouse ? warehouseBoundaryStatements(scope) : []),
        { Sid: "NoIdentityChanges", Effect: "Deny", Action: ["iam:*", "sts:AssumeRole", "organizations:*", "account:*"], Resource: "*" },
    ]);
}

/**
 * Allow statements that must name Resource "*" because IAM has no resource type for the action; each is
 * narrowed by a condition where IAM offers one. The tests hold the deploy policy to exactly this list.
 */
export const RESOURCE_WILDCARD_EXCEPTIONS: Readonly<Record<string, string>> = {
    KmsCreateTaggedKeys: "kms:CreateKey has no resource (the key does not exist yet); only keys tagged for the project",
    KmsList: "kms:ListAliases/ListKeys are account-wide list calls",
    GlueSecurityConfigurations: "Glue security configurations have no ARN in IAM",
    AccountWideDeployActions: "actions IAM authorizes only on Resource \"*\" (the Service Authorization Reference lists no resource type); granted on an ARN they grant nothing; only in the stack's region",
};

/**
 * Which deploy-policy statement lets the deploy role manage a resource type (by its Pulumi type token).
 * A type that matches no entry is one the deploy role cannot create: the tests check every type of the
 * synthesized dev and prod graphs against this table, so a new kind of resource in the stacks fails them
 * until someone decides which IAM actions it needs.
 */
export const DEPLOY_POLICY_COVERAGE: ReadonlyArray<readonly [RegExp, string]> = [
    [/^aws:s3\/bucketObject(v2)?:/, "ProjectCode"],
    [/^aws:s3\//, "ProjectBuckets"],
    [/^aws:kms\/(key|alias):/, "KmsManageKeys"],
    [/^aws:dynamodb\/(table|resourcePolicy|contributorInsights):/, "DynamoDbTables"],
    [/^aws:glue\/securityConfiguration:/, "GlueSecurityConfigurations"],
    [/^aws:glue\//, "GlueResources"],
    [/^aws:lambda\/(function|permission|functionEventInvokeConfig|functionRecursionConfig|provisionedConcurrencyConfig):/, "LambdaFunctions"],
    [/^aws:cloudwatch\/(logGroup|logMetricFilter|logSubscriptionFilter|metricAlarm|compositeAlarm|dashboard):/, "LogsAndAlarms"],
    [/^aws:cloudwatch\/(eventRule|eventTarget):/, "Schedules"],
    [/^aws:scheduler\/(schedule|scheduleGroup):/, "Schedules"],
    [/^aws:sqs\/(queue|queuePolicy|redrivePolicy|redriveAllowPolicy):/, "SqsQueues"],
    [/^aws:sns\/(topic|topicPolicy|topicSubscription):/, "SnsTopics"],
    [/^aws:sfn\/stateMachine:/, "StepFunctions"],
    [/^aws:secretsmanager\/(secret|secretPolicy):/, "Secrets"],
    [/^aws:athena\/(workgroup|namedQuery):/, "Athena"],
    [/^aws:iam\/(role|rolePolicy|rolePolicyAttachment):/, "WriteBoundedRoles"],
    // In the deploy role's warehouse policy, which exists only for a stack with the claims warehouse.
    ...WAREHOUSE_DEPLOY_COVERAGE,
];

/** The Sid of the deploy statement covering a resource type, or undefined when none does. */
export function deployStatementFor(type: string): string | undefined {
    return DEPLOY_POLICY_COVERAGE.find(([pattern]) => pattern.test(type))?.[1];
}

const IAM_ROLE_READS = ["iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:ListRoleTags", "iam:ListInstanceProfilesForRole"];

export interface DeployPolicyOptions {
    /** ARNs the deploy role may not change or pass: the bootstrap's own roles and policies. */
    readonly protectedArns?: readonly string[];
}

/** The three managed policies the deploy role's permissions are split into (IAM caps each at 6,144 characters). */
export const DEPLOY_POLICY_PARTS = ["storage", "integration", "identity"] as const;
export type DeployPolicyPart = (typeof DEPLOY_POLICY_PARTS)[number];

/** Which part each deploy statement goes to: data and compute, glue between services, identity and fences. */
const PART_OF: Readonly<Record<string, DeployPolicyPart>> = {
    ProjectBuckets: "storage", ProjectCode: "storage", DisposableData: "storage", KmsCreateTaggedKeys: "storage", KmsList: "storage",
    KmsTagProjectKeys: "storage", KmsProjectAliases: "storage", KmsManageKeys: "storage", DynamoDbTables: "storage", GlueResources: "storage", GlueSecurityConfigurations: "storage", LambdaFunctions: "storage",
    LogsAndAlarms: "integration", SqsQueues: "integration", SnsTopics: "integration", StepFunctions: "integration", Schedules: "integration", Secrets: "integration",
    Athena: "integration", AccountWideDeployActions: "integration",
    WriteBoundedRoles: "identity", TagNewBoundedRoles: "identity", ManageProjectRoles: "identity", PassProjectRoles: "identity", AssumeSmokeRole: "identity",
    DenyBootstrapOwned: "identity", DenyBoundaryRemoval: "identity", DenyLongLivedCredentials: "identity", DenyDataDestruction: "identity",
    DenyAssumingRoles: "identity",
};

/** The deploy role's permissions as the managed policies attached to it. */
export function deployRolePolicies(scope: WorkloadScope, options: DeployPolicyOptions = {}): Record<DeployPolicyPart, PolicyDocument> {
    const statements = deployRolePolicy(scope, options).Statement;
    const unplaced = statements.filter((st) => !st.Sid || !PART_OF[st.Sid]).map((st) => st.Sid);
    if (unplaced.length > 0) throw new Error(`deployRolePolicies: statements without a part: ${unplaced.join(", ")}`);
    const parts = {} as Record<DeployPolicyPart, PolicyDocument>;
    for (const part of DEPLOY_POLICY_PARTS) parts[part] = policyDocument(statements.filter((st) => PART_OF[st.Sid!] === part));
    return parts;
}

/** The deploy role's permissions, all in one document (see the module comment for the reasoning). */
export function deployRolePolicy(scope: WorkloadScope, options: DeployPolicyOptions = {}): PolicyDocument {
    const p = scope.partition;
    const a = scope.accountId;
    const buckets = projectBucketArns(scope);
    const roles = `arn:${p}:iam::${a}:role/*`;
    const projectTag = { [`aws:ResourceTag/${PROJECT_TAG}`]: scope.project };
    const bootstrapOwned = [`arn:${p}:iam::${a}:role${BOOTSTRAP_IAM_PATH}*`, `arn:${p}:iam::${a}:policy${BOOTSTRAP_IAM_PATH}*`, ...(options.protectedArns ?? [])];

    const statements: PolicyStatement[] = [
        // --- S3: bucket configuration by name; objects only where the stack ships code --------------------
        {
            Sid: "ProjectBuckets",
            Effect: "Allow",
            // Bucket-level actions only: object actions need an object ARN, and none is listed here.
            Action: [
                "s3:CreateBucket", "s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucket*", "s3:PutBucket*", "s3:DeleteBucket*",
                "s3:GetLifecycleConfiguration", "s3:PutLifecycleConfiguration", "s3:GetEncryptionConfiguration", "s3:PutEncryptionConfiguration",
                "s3:GetAccelerateConfiguration", "s3:GetReplicationConfiguration", "s3:GetIntelligentTieringConfiguration",
            ],
            Resource: buckets.buckets,
        },
        {
            Sid: "ProjectCode",
            Effect: "Allow",
            Action: ["s3:PutObject", "s3:GetObject", "s3:GetObjectVersion", "s3:DeleteObject", "s3:GetObjectTagging", "s3:PutObjectTagging", "s3:GetObjectAcl"],
            Resource: buckets.assetsObjects,
        },
        ...(scope.allowDataDestroy
            ? [{ Sid: "DisposableData", Effect: "Allow" as const, Action: ["s3:DeleteObject", "s3:DeleteObjectVersion"], Resource: buckets.objects }]
            : []),

        // --- KMS ----------------------------------------------------------------------------------------
        {
            // CreateKey has no resource (the key does not exist yet): only keys tagged for the project.
            Sid: "KmsCreateTaggedKeys",
            Effect: "Allow",
            Action: ["kms:CreateKey"],
            Resource: "*",
            Condition: { StringEquals: { [`aws:RequestTag/${PROJECT_TAG}`]: scope.project } },
        },
        { Sid: "KmsList", Effect: "Allow", Action: ["kms:ListAliases", "kms:ListKeys"], Resource: "*" },
        {
            // Tags on a new key (sent with CreateKey, authorized as kms:TagResource on the key) and on the
            // project's keys. Never on "*": a foreign key tagged into the project would come within the
            // boundary's ProjectKeys. A key that already carries the tag must carry the project's value.
            Sid: "KmsTagProjectKeys",
            Effect: "Allow",
            Action: ["kms:TagResource"],
            Resource: regional(scope, "kms", "key/*"),
            Condition: {
                StringEquals: { [`aws:RequestTag/${PROJECT_TAG}`]: scope.project },
                StringEqualsIfExists: { [`aws:ResourceTag/${PROJECT_TAG}`]: scope.project },
            },
        },
        {
            // The project's keys only (by tag): not any key of the account.
            Sid: "KmsManageKeys",
            Effect: "Allow",
            Action: [
                "kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy", "kms:GetKeyRotationStatus", "kms:EnableKeyRotation", "kms:DisableKeyRotation",
                "kms:ListResourceTags", "kms:UntagResource", "kms:UpdateKeyDescription", "kms:EnableKey", "kms:DisableKey",
                "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
                // Uploading code to SSE-KMS buckets and creating encrypted queues, logs and functions.
                "kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:CreateGrant",
            ],
            Resource: regional(scope, "kms", "key/*"),
            Condition: { StringEquals: { [`aws:ResourceTag/${PROJECT_TAG}`]: scope.project } },
        },
        {
            // Alias operations are authorized on the alias and on the key, and aliases carry no tags: the key
            // must be the project's if it is tagged at all (IfExists lets the alias side through).
            Sid: "KmsProjectAliases",
            Effect: "Allow",
            Action: ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"],
            Resource: [regional(scope, "kms", "key/*"), regional(scope, "kms", "alias/glue-*")],
            Condition: { StringEqualsIfExists: { [`aws:ResourceTag/${PROJECT_TAG}`]: scope.project } },
        },

        // --- Regional services the stacks create --------------------------------------------------------
        {
            Sid: "DynamoDbTables",
            Effect: "Allow",
            // Table management only: no GetItem/Query/Scan, the deploy role never reads records.
            Action: [
                "dynamodb:CreateTable", "dynamodb:UpdateTable", "dynamodb:DeleteTable", "dynamodb:Describe*", "dynamodb:ListTagsOfResource",
                "dynamodb:TagResource", "dynamodb:UntagResource", "dynamodb:UpdateTimeToLive", "dynamodb:UpdateContinuousBackups",
                "dynamodb:UpdateContributorInsights", "dynamodb:GetResourcePolicy", "dynamodb:PutResourcePolicy", "dynamodb:DeleteResourcePolicy",
            ],
            Resource: regional(scope, "dynamodb", "table/*"),
        },
        {
            Sid: "GlueResources",
            Effect: "Allow",
            // No Start*: deploying never runs a job or a crawler.
            Action: ["glue:Create*", "glue:Update*", "glue:Delete*", "glue:Get*", "glue:BatchGet*", "glue:List*", "glue:TagResource", "glue:UntagResource"],
            Resource: regional(scope, "glue", "*"),
        },
        {
            Sid: "GlueSecurityConfigurations",
            Effect: "Allow",
            Action: ["glue:CreateSecurityConfiguration", "glue:DeleteSecurityConfiguration", "glue:GetSecurityConfiguration", "glue:GetSecurityConfigurations"],
            Resource: "*",
        },
        {
            Sid: "LambdaFunctions",
            Effect: "Allow",
            // No InvokeFunction: deploying never runs the code.
            Action: [
                "lambda:CreateFunction", "lambda:DeleteFunction", "lambda:GetFunction", "lambda:GetFunctionConfiguration", "lambda:UpdateFunctionCode",
                "lambda:UpdateFunctionConfiguration", "lambda:ListVersionsByFunction", "lambda:PublishVersion", "lambda:GetFunctionCodeSigningConfig",
                "lambda:AddPermission", "lambda:RemovePermission", "lambda:GetPolicy", "lambda:PutFunctionConcurrency", "lambda:DeleteFunctionConcurrency",
                "lambda:GetFunctionConcurrency", "lambda:PutFunctionEventInvokeConfig", "lambda:UpdateFunctionEventInvokeConfig",
                "lambda:DeleteFunctionEventInvokeConfig", "lambda:GetFunctionEventInvokeConfig", "lambda:GetRuntimeManagementConfig",
                "lambda:PutRuntimeManagementConfig", "lambda:GetFunctionRecursionConfig", "lambda:PutFunctionRecursionConfig",
                "lambda:TagResource", "lambda:UntagResource", "lambda:ListTags",
            ],
            Resource: regional(scope, "lambda", "function:*"),
        },
        {
            Sid: "LogsAndAlarms",
            Effect: "Allow",
            Action: [
                "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy",
                "logs:AssociateKmsKey", "logs:DisassociateKmsKey", "logs:TagResource", "logs:UntagResource", "logs:ListTagsForResource",
                "logs:TagLogGroup", "logs:UntagLogGroup", "logs:ListTagsLogGroup", "logs:PutMetricFilter", "logs:DeleteMetricFilter",
                "logs:DescribeMetricFilters", "logs:PutSubscriptionFilter", "logs:DeleteSubscriptionFilter", "logs:DescribeSubscriptionFilters",
                "cloudwatch:PutMetricAlarm", "cloudwatch:PutCompositeAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms",
                "cloudwatch:TagResource", "cloudwatch:UntagResource", "cloudwatch:ListTagsForResource",
                "cloudwatch:PutDashboard", "cloudwatch:GetDashboard", "cloudwatch:DeleteDashboards",
            ],
            Resource: [regional(scope, "logs", "*"), regional(scope, "cloudwatch", "alarm:*"), `arn:${p}:cloudwatch::${a}:dashboard/*`],
        },
        {
            Sid: "SqsQueues",
            Effect: "Allow",
            Action: ["sqs:CreateQueue", "sqs:DeleteQueue", "sqs:GetQueueAttributes", "sqs:SetQueueAttributes", "sqs:GetQueueUrl", "sqs:TagQueue", "sqs:UntagQueue", "sqs:ListQueueTags"],
            Resource: regional(scope, "sqs", "*"),
        },
        {
            Sid: "SnsTopics",
            Effect: "Allow",
            Action: [
                "sns:CreateTopic", "sns:DeleteTopic", "sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:TagResource", "sns:UntagResource",
                "sns:ListTagsForResource", "sns:Subscribe", "sns:ListSubscriptionsByTopic",
            ],
            Resource: regional(scope, "sns", "*"),
        },
        {
            Sid: "StepFunctions",
            Effect: "Allow",
            Action: [
                "states:CreateStateMachine", "states:UpdateStateMachine", "states:DeleteStateMachine", "states:DescribeStateMachine",
                "states:ListStateMachineVersions", "states:TagResource", "states:UntagResource",
                "states:ListTagsForResource",
            ],
            Resource: regional(scope, "states", "stateMachine:*"),
        },
        {
            // IAM authorizes these only on Resource "*" (no resource type in the Service Authorization Reference;
            // parliament's RESOURCE_MISMATCH check holds us to it): the provider reads log groups by listing
            // them, manages a topic's subscriptions by subscription ARN, validates a state machine definition
            // before creating it, and Glue's CreateCrawler names no crawler ARN. Listed on an ARN they grant
            // nothing and a real deploy fails. Narrowed to the stack's region.
            Sid: "AccountWideDeployActions",
            Effect: "Allow",
            Action: [
                "logs:DescribeLogGroups", "sns:Unsubscribe", "sns:GetSubscriptionAttributes", "sns:SetSubscriptionAttributes",
                "states:ValidateStateMachineDefinition", "glue:CreateCrawler",
            ],
            Resource: "*",
            Condition: { StringEquals: { "aws:RequestedRegion": scope.region } },
        },
        {
            Sid: "Schedules",
            Effect: "Allow",
            Action: [
                "scheduler:CreateSchedule", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule", "scheduler:GetSchedule",
                "scheduler:CreateScheduleGroup", "scheduler:DeleteScheduleGroup", "scheduler:GetScheduleGroup",
                "scheduler:TagResource", "scheduler:UntagResource", "scheduler:ListTagsForResource",
                "events:PutRule", "events:DeleteRule", "events:DescribeRule", "events:PutTargets", "events:RemoveTargets", "events:ListTargetsByRule",
                "events:TagResource", "events:UntagResource", "events:ListTagsForResource",
            ],
            Resource: [regional(scope, "scheduler", "schedule/*"), regional(scope, "scheduler", "schedule-group/*"), regional(scope, "events", "rule/*")],
        },
        {
            Sid: "Secrets",
            Effect: "Allow",
            // The secret itself, not its value: operators put the value out of band.
            Action: [
                "secretsmanager:CreateSecret", "secretsmanager:DeleteSecret", "secretsmanager:DescribeSecret", "secretsmanager:UpdateSecret",
                "secretsmanager:TagResource", "secretsmanager:UntagResource", "secretsmanager:GetResourcePolicy", "secretsmanager:PutResourcePolicy",
                "secretsmanager:DeleteResourcePolicy",
            ],
            Resource: regional(scope, "secretsmanager", "secret:*"),
        },

        {
            Sid: "Athena",
            Effect: "Allow",
            // Workgroups and saved queries; running queries is the workload's business, not the deployment's.
            Action: [
                "athena:CreateWorkGroup", "athena:GetWorkGroup", "athena:UpdateWorkGroup", "athena:DeleteWorkGroup", "athena:TagResource",
                "athena:UntagResource", "athena:ListTagsForResource", "athena:CreateNamedQuery", "athena:GetNamedQuery", "athena:DeleteNamedQuery",
                "athena:BatchGetNamedQuery",
            ],
            Resource: regional(scope, "athena", "workgroup/*"),
        },

        // --- IAM: only roles inside the boundary ----------------------------------------------------------
        {
            Sid: "WriteBoundedRoles",
            Effect: "Allow",
            Action: ["iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:PutRolePermissionsBoundary"],
            Resource: roles,
            Condition: { StringEquals: { "iam:PermissionsBoundary": scope.boundaryArn } },
        },
        {
            // Tags on a new role arrive with CreateRole and are authorized as iam:TagRole, whose requests carry
            // no iam:PermissionsBoundary (AWS's data lists none for TagRole: a condition on it refused every
            // tagged CreateRole). What tells a new project role from a foreign one is its name: Pulumi's
            // auto-name of the stacks' roles (`<logical>-role-` and 7 hex digits) or a Glue job role of this
            // stage (`<job>-<stage>...-GlueJobRole`). A foreign role with such a name could be tagged into the
            // project; ManageProjectRoles would then reach it (documented in docs/deploy.md).
            Sid: "TagNewBoundedRoles",
            Effect: "Allow",
            Action: ["iam:TagRole"],
            Resource: projectRoleArns(scope),
            Condition: { StringEquals: { [`aws:RequestTag/${PROJECT_TAG}`]: scope.project } },
        },
        {
            // Roles already tagged for the project (all of them created bounded, above).
            Sid: "ManageProjectRoles",
            Effect: "Allow",
            Action: [...IAM_ROLE_READS, "iam:TagRole", "iam:UntagRole", "iam:UpdateRole", "iam:UpdateRoleDescription", "iam:UpdateAssumeRolePolicy", "iam:DeleteRole"],
            Resource: roles,
            Condition: { StringEquals: projectTag },
        },
        {
            Sid: "PassProjectRoles",
            Effect: "Allow",
            Action: ["iam:PassRole"],
            Resource: roles,
            Condition: { StringEquals: { ...projectTag, "iam:PassedToService": [...WORKLOAD_SERVICE_PRINCIPALS, ...(scope.claimsWarehouse ? WAREHOUSE_SERVICE_PRINCIPALS : [])] } },
        },
        // With smokeOnUp, the stack's last step runs smoke as SmokeRole-<stage> (components/delivery/smokeCheck.ts): the
        // deploy role reads no data itself, it hands the check to the one role that may, and to no other.
        ...(scope.smokeCheck ? [assumeSmokeRoleStatement(p, a, scope.stage)] : []),

        // --- Fences -------------------------------------------------------------------------------------
        {
            Sid: "DenyBootstrapOwned",
            Effect: "Deny",
            Action: ["iam:*"],
            Resource: bootstrapOwned,
        },
        {
            Sid: "DenyBoundaryRemoval",
            Effect: "Deny",
            Action: ["iam:DeleteRolePermissionsBoundary", "iam:DeleteUserPermissionsBoundary", "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"],
            Resource: "*",
        },
        ...(scope.allowDataDestroy
            ? []
            : [
                  {
                      // allowDataDestroy false (prod): whatever a deployment does, the data stays. Deleting a table or
                      // a bucket, or disabling or scheduling deletion of a key (which makes everything it encrypts
                      // unreadable) is refused outright, so a mistaken replace or destroy fails instead of losing data.
                      // (Removing a bucket's public access block is s3:PutBucketPublicAccessBlock, which creating one
                      // needs too; the account-level block the bootstrap sets keeps buckets closed regardless.)
                      Sid: "DenyDataDestruction",
                      Effect: "Deny" as const,
                      Action: ["dynamodb:DeleteTable", "s3:DeleteBucket", "kms:ScheduleKeyDeletion", "kms:DisableKey"],
                      Resource: "*",
                  },
              ]),
        {
            // The deploy role may create bounded roles (above), and in its own account a role whose trust names
            // the deploy role could be assumed on that trust alone: it would then act with the workload's data
            // access. An explicit Deny outweighs any trust policy, so the deploy role assumes no role, except the
            // stage's smoke role when the stack runs its smoke check (and only there: prod has none).
            Sid: "DenyAssumingRoles",
            Effect: "Deny",
            Action: ["sts:AssumeRole"],
            ...(scope.smokeCheck ? { NotResource: `arn:${p}:iam::${a}:role/${smokeRoleName(scope.stage)}` } : { Resource: "*" }),
        },
        {
            Sid: "DenyLongLivedCredentials",
            Effect: "Deny",
            Action: [
                "iam:CreateUser", "iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile", "iam:CreateServiceSpecificCredential",
                "iam:UploadSSHPublicKey", "iam:CreateOpenIDConnectProvider", "iam:UpdateOpenIDConnectProviderThumbprint",
                "iam:AddClientIDToOpenIDConnectProvider", "iam:RemoveClientIDFromOpenIDConnectProvider", "iam:DeleteOpenIDConnectProvider",
                "iam:CreateSAMLProvider", "iam:UpdateSAMLProvider", "iam:DeleteSAMLProvider",
            ],
            Resource: "*",
        },
    ];
    return policyDocument(statements);
}

/**
 * A resource transform (the `transforms` option, which replaced the deprecated `transformations`) that puts
 * `boundaryArn` on every IAM role created under the resource it is given to (the workload composition passes
 * it to every component; the engine applies it to their children). A role that already names another
 * boundary is an error rather than silently overridden.
 */
export function permissionsBoundaryTransform(boundaryArn: string): pulumi.ResourceTransform {
    if (!/^arn:aws[a-z-]*:iam::\d{12}:policy\/[\w+=,.@/-]+$/.test(boundaryArn)) {
        throw new Error(`permissionsBoundaryTransform: ${JSON.stringify(boundaryArn)} is not an IAM policy ARN`);
    }
    return (args) => {
        if (args.type !== "aws:iam/role:Role") return undefined;
        const existing = args.props.permissionsBoundary;
        if (existing !== undefined && existing !== boundaryArn) {
            throw new Error(`role ${args.name} sets permissionsBoundary ${existing}; workload roles must use ${boundaryArn}`);
        }
        return { props: { ...args.props, permissionsBoundary: boundaryArn }, opts: args.opts };
    };
}

export interface DeployRolesArgs {
    /** Pulumi organization of the workload stack. */
    readonly organization: string;
    /** Pulumi project of the workload stack; also the Project tag value. */
    readonly project: string;
    /** Workload stack name (dev, prod). */
    readonly stack: string;
    /** Stage in the workload's resource names. @default the stack name */
    readonly stage?: string;
    readonly accountId: string;
    readonly region: string;
    /** ARN of the account's Pulumi OIDC provider. */
    readonly oidcProviderArn: pulumi.Input<string>;
    /** ESC environment (in the project) that the stack file imports. @default the stack name */
    readonly deployEnvironment?: string;
    /** ESC environment (in the project) for pull-request previews. @default `<stack>-preview` */
    readonly previewEnvironment?: string;
    /** Deployments operations admitted. @default preview, update, refresh, destroy */
    readonly deploymentOperations?: readonly DeploymentOperation[];
    /**
     * Roles of the pipeline account that may also assume the deploy role (e.g. a self-hosted deployment
     * agent). Role ARNs only: a whole account (`:root`) is refused. @default none
     */
    readonly trustedDeployerArns?: readonly string[];
    /** Whether the workload may empty its buckets on destroy (dev). @default false */
    readonly allowDataDestroy?: boolean;
    /** ARNs the deploy role may never change, in addition to everything under the bootstrap path. */
    readonly protectedArns?: readonly string[];
    /** The stack runs the claims warehouse: a fourth deploy policy and the boundary's warehouse statements. @default false */
    readonly claimsWarehouse?: boolean;
    /** The stack runs its smoke check on `pulumi up` (`smokeOnUp`): the deploy role may create and assume its role. @default false */
    readonly smokeCheck?: boolean;
    /** Session length of both roles. @default 3600 */
    readonly maxSessionDurationSeconds?: number;
    readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;

/** The deploy role, the preview role and the workload boundary of one workload account. */
export class DeployRoles extends pulumi.ComponentResource {
    public readonly boundary: aws.iam.Policy;
    public readonly deployRole: aws.iam.Role;
    /** The deploy role's permissions, as managed policies under the bootstrap path ({@link DEPLOY_POLICY_PARTS}). */
    public readonly deployPolicies: aws.iam.Policy[];
    public readonly previewRole: aws.iam.Role;
    /** ARNs as AWS will report them (name and path are fixed, so they are known before deployment). */
    public readonly deployRoleArn: string;
    public readonly previewRoleArn: string;
    public readonly boundaryArn: string;
    public readonly scope: WorkloadScope;

    constructor(name: string, args: DeployRolesArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("glue-pipeline:delivery:DeployRoles", name, {}, opts);

        const trustedDeployers = [...(args.trustedDeployerArns ?? [])];
        const badDeployers = trustedDeployers.filter((arn) => !ROLE_ARN.test(arn) || arn.split(":")[4] === args.accountId);
        if (badDeployers.length > 0) {
            throw new Error(`DeployRoles ${name}: trustedDeployerArns must be role ARNs of another account (the pipeline account), got ${badDeployers.join(", ")}`);
        }
        const duration = args.maxSessionDurationSeconds ?? 3600;
        if (!Number.isInteger(duration) || duration < 900 || duration > 43200) {
            throw new Error(`DeployRoles ${name}: maxSessionDurationSeconds must be 900-43200, got ${duration}`);
        }
        const deployEnvironment = args.deployEnvironment ?? args.stack;
        const previewEnvironment = args.previewEnvironment ?? `${args.stack}-preview`;
        if (deployEnvironment === previewEnvironment) {
            throw new Error(`DeployRoles ${name}: deployEnvironment and previewEnvironment are both ${deployEnvironment}; previews must not open the deploy credentials`);
        }

        const partition = partitionOf(args.region);
        const account = { partition, accountId: args.accountId };
        this.deployRoleArn = bootstrapRoleArn(account, deployRoleName(args.project, args.stack));
        this.previewRoleArn = bootstrapRoleArn(account, previewRoleName(args.project, args.stack));
        this.boundaryArn = bootstrapPolicyArn(account, boundaryPolicyName(args.project, args.stack));
        this.scope = {
            partition,
            region: args.region,
            accountId: args.accountId,
            project: args.project,
            stage: args.stage ?? args.stack,
            boundaryArn: this.boundaryArn,
            allowDataDestroy: args.allowDataDestroy ?? false,
            ...(args.claimsWarehouse ? { claimsWarehouse: true } : {}),
            ...(args.smokeCheck ? { smokeCheck: true } : {}),
        };
        const boundaryDoc = workloadBoundaryPolicy(this.scope);
        const deployDocs = deployRolePolicies(this.scope, { protectedArns: args.protectedArns });
        const stackId = { organization: args.organization, project: args.project, stack: args.stack };
        const operations = args.deploymentOperations ?? DEPLOYMENT_OPERATIONS;

        this.boundary = new aws.iam.Policy(
            `${name}-boundary`,
            {
                name: boundaryPolicyName(args.project, args.stack),
                path: BOOTSTRAP_IAM_PATH,
                description: `Permissions boundary of every role the ${args.project} ${args.stack} stack creates`,
                policy: JSON.stringify(boundaryDoc),
                tags: args.tags,
            },
            { parent: this },
        );

        this.deployRole = new aws.iam.Role(
            `${name}-deploy`,
            {
                name: deployRoleName(args.project, args.stack),
                path: BOOTSTRAP_IAM_PATH,
                description: `pulumi up of ${args.organization}/${args.project}/${args.stack}, through Pulumi Deployments or the ESC environment ${args.project}/${deployEnvironment}`,
                maxSessionDuration: duration,
                assumeRolePolicy: pulumi.output(args.oidcProviderArn).apply((providerArn) =>
                    JSON.stringify(
                        deployRoleTrustPolicy(providerArn, {
                            deployments: deploymentsTrust(stackId, operations),
                            esc: escTrust(args.organization, args.project, [deployEnvironment]),
                            trustedDeployerArns: trustedDeployers,
                        }),
                    ),
                ),
                tags: args.tags,
            },
            { parent: this },
        );
        this.deployPolicies = DEPLOY_POLICY_PARTS.map((part) => {
            const policy = new aws.iam.Policy(
                `${name}-deploy-${part}`,
                {
                    name: `${deployRoleName(args.project, args.stack)}-${part}`,
                    path: BOOTSTRAP_IAM_PATH,
                    description: `Deploy role of ${args.project} ${args.stack}: ${part} permissions`,
                    policy: JSON.stringify(deployDocs[part]),
                    tags: args.tags,
                },
                { parent: this, dependsOn: [this.boundary] },
            );
            new aws.iam.RolePolicyAttachment(`${name}-deploy-${part}`, { role: this.deployRole.name, policyArn: policy.arn }, { parent: this });
            return policy;
        });
        if (args.claimsWarehouse) {
            // A policy of its own: the three parts stay as they are (and within IAM's size limit) for every stack.
            const warehouse = new aws.iam.Policy(
                `${name}-deploy-warehouse`,
                {
                    name: `${deployRoleName(args.project, args.stack)}-warehouse`,
                    path: BOOTSTRAP_IAM_PATH,
                    description: `Deploy role of ${args.project} ${args.stack}: the claims warehouse (VPC, Redshift Serverless)`,
                    policy: JSON.stringify(policyDocument(warehouseDeployStatements(this.scope))),
                    tags: args.tags,
                },
                { parent: this, dependsOn: [this.boundary] },
            );
            new aws.iam.RolePolicyAttachment(`${name}-deploy-warehouse`, { role: this.deployRole.name, policyArn: warehouse.arn }, { parent: this });
            this.deployPolicies.push(warehouse);
        }

        this.previewRole = new aws.iam.Role(
            `${name}-preview`,
            {
                name: previewRoleName(args.project, args.stack),
                path: BOOTSTRAP_IAM_PATH,
                description: `pulumi preview of ${args.organization}/${args.project}/${args.stack} from pull requests; no permissions beyond proving the account`,
                maxSessionDuration: duration,
                assumeRolePolicy: pulumi.output(args.oidcProviderArn).apply((providerArn) =>
                    JSON.stringify(policyDocument([pulumiOidcTrustStatement(providerArn, escTrust(args.organization, args.project, [previewEnvironment], "PulumiEscPreview"))])),
                ),
                tags: args.tags,
            },
            { parent: this },
        );

        this.registerOutputs({
            deployRoleArn: this.deployRoleArn,
            previewRoleArn: this.previewRoleArn,
            boundaryArn: this.boundaryArn,
        });
    }
}

export interface DeployRoleTrust {
    readonly deployments: ReturnType<typeof deploymentsTrust>;
    readonly esc: ReturnType<typeof escTrust>;
    readonly trustedDeployerArns?: readonly string[];
}

/** Trust policy of the deploy role: one stack's Deployments, its ESC environment, named pipeline roles. */
export function deployRoleTrustPolicy(providerArn: string, trust: DeployRoleTrust): PolicyDocument {
    const statements: PolicyStatement[] = [pulumiOidcTrustStatement(providerArn, trust.deployments), pulumiOidcTrustStatement(providerArn, trust.esc)];
    const deployers = [...(trust.trustedDeployerArns ?? [])];
    if (deployers.some((arn) => !ROLE_ARN.test(arn))) throw new Error(`deployRoleTrustPolicy: trusted deployers must be role ARNs, got ${deployers.join(", ")}`);
    if (deployers.length > 0) {
        statements.push({ Sid: "PipelineAccountDeployers", Effect: "Allow", Principal: { AWS: deployers.length === 1 ? deployers[0] : deployers }, Action: "sts:AssumeRole" });
    }
    return policyDocument(statements);
}
