/**
 * The deploy role's permissions (`<project>-deploy-<stack>`, what `pulumi up` runs as), and the table of
 * which statement covers which resource type of the stacks.
 *
 * Scope of the deploy role: a workload account is dedicated to this pipeline (one account per stage:
 * docs/deploy.md, "What you end up with"), so the account and region are the first fence; within them the
 * deploy role gets only the services the stacks create ({@link DEPLOY_POLICY_COVERAGE}, checked against the
 * synthesized graph by the tests), S3 only on the project's bucket names (bucket ARNs carry no account),
 * object access only to the assets bucket (code upload), IAM only through the boundary, and explicit denies
 * on everything the bootstrap owns, on long-lived credentials and on removing boundaries.
 */
import { PolicyDocument, policyDocument, PolicyStatement } from "../iam/iamPolicies";
import { WAREHOUSE_DEPLOY_COVERAGE, WAREHOUSE_SERVICE_PRINCIPALS } from "../claims/claimsWarehouseAccess";
// Used inside functions only (smokeCheck imports partitionOf through ./deployRoles): the cycle is safe at load time.
import { assumeSmokeRoleStatement, smokeRoleName } from "./smokeCheck";
import { BOOTSTRAP_IAM_PATH, PROJECT_TAG, projectBucketArns, projectRoleArns, regionalArn, WORKLOAD_SERVICE_PRINCIPALS, WorkloadScope } from "./workloadScope";

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
    [/^aws:lambda\/eventSourceMapping:/, "LambdaEventSourceMappings"],
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
    Athena: "integration", AccountWideDeployActions: "integration", LambdaEventSourceMappings: "integration",
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
            Resource: regionalArn(scope, "kms", "key/*"),
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
            Resource: regionalArn(scope, "kms", "key/*"),
            Condition: { StringEquals: { [`aws:ResourceTag/${PROJECT_TAG}`]: scope.project } },
        },
        {
            // Alias operations are authorized on the alias and on the key, and aliases carry no tags: the key
            // must be the project's if it is tagged at all (IfExists lets the alias side through).
            Sid: "KmsProjectAliases",
            Effect: "Allow",
            Action: ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"],
            Resource: [regionalArn(scope, "kms", "key/*"), regionalArn(scope, "kms", "alias/glue-*")],
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
            Resource: regionalArn(scope, "dynamodb", "table/*"),
        },
        {
            Sid: "GlueResources",
            Effect: "Allow",
            // No Start*: deploying never runs a job or a crawler.
            Action: ["glue:Create*", "glue:Update*", "glue:Delete*", "glue:Get*", "glue:BatchGet*", "glue:List*", "glue:TagResource", "glue:UntagResource"],
            Resource: regionalArn(scope, "glue", "*"),
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
            Resource: regionalArn(scope, "lambda", "function:*"),
        },
        {
            // The queue → function mappings of the queue-fed triggers (creating one is account-wide, below).
            // IAM authorizes these on the mapping's ARN, whose id AWS generates: all mappings of the region.
            Sid: "LambdaEventSourceMappings",
            Effect: "Allow",
            Action: [
                "lambda:GetEventSourceMapping", "lambda:UpdateEventSourceMapping", "lambda:DeleteEventSourceMapping",
                "lambda:TagResource", "lambda:UntagResource", "lambda:ListTags",
            ],
            Resource: regionalArn(scope, "lambda", "event-source-mapping:*"),
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
            Resource: [regionalArn(scope, "logs", "*"), regionalArn(scope, "cloudwatch", "alarm:*"), `arn:${p}:cloudwatch::${a}:dashboard/*`],
        },
        {
            Sid: "SqsQueues",
            Effect: "Allow",
            Action: ["sqs:CreateQueue", "sqs:DeleteQueue", "sqs:GetQueueAttributes", "sqs:SetQueueAttributes", "sqs:GetQueueUrl", "sqs:TagQueue", "sqs:UntagQueue", "sqs:ListQueueTags"],
            Resource: regionalArn(scope, "sqs", "*"),
        },
        {
            Sid: "SnsTopics",
            Effect: "Allow",
            Action: [
                "sns:CreateTopic", "sns:DeleteTopic", "sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:TagResource", "sns:UntagResource",
                "sns:ListTagsForResource", "sns:Subscribe", "sns:ListSubscriptionsByTopic",
            ],
            Resource: regionalArn(scope, "sns", "*"),
        },
        {
            Sid: "StepFunctions",
            Effect: "Allow",
            Action: [
                "states:CreateStateMachine", "states:UpdateStateMachine", "states:DeleteStateMachine", "states:DescribeStateMachine",
                "states:ListStateMachineVersions", "states:TagResource", "states:UntagResource",
                "states:ListTagsForResource",
            ],
            Resource: regionalArn(scope, "states", "stateMachine:*"),
        },
        {
            // IAM authorizes these only on Resource "*" (no resource type in the Service Authorization Reference;
            // parliament's RESOURCE_MISMATCH check holds us to it): the provider reads log groups by listing
            // them, manages a topic's subscriptions by subscription ARN, validates a state machine definition
            // before creating it, Glue's CreateCrawler names no crawler ARN, and an event source mapping has no
            // ARN before Lambda creates it (nor a listing of them). Listed on an ARN they grant nothing and a
            // real deploy fails. Narrowed to the stack's region.
            Sid: "AccountWideDeployActions",
            Effect: "Allow",
            Action: [
                "logs:DescribeLogGroups", "sns:Unsubscribe", "sns:GetSubscriptionAttributes", "sns:SetSubscriptionAttributes",
                "states:ValidateStateMachineDefinition", "glue:CreateCrawler", "lambda:CreateEventSourceMapping",
                "lambda:ListEventSourceMappings",
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
            Resource: [regionalArn(scope, "scheduler", "schedule/*"), regionalArn(scope, "scheduler", "schedule-group/*"), regionalArn(scope, "events", "rule/*")],
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
            Resource: regionalArn(scope, "secretsmanager", "secret:*"),
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
            Resource: regionalArn(scope, "athena", "workgroup/*"),
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
