/**
 * The workload boundary (`<project>-boundary-<stack>`): the permissions boundary every role the workload
 * creates must carry. The deploy role may create a role or write a role's policies only when that role
 * carries it, so nothing it creates can exceed it, and it grants no IAM at all.
 */
import { PolicyDocument, policyDocument } from "../iam/iamPolicies";
import { warehouseBoundaryStatements } from "../claims/claimsWarehouseAccess";
import { PROJECT_TAG, projectBucketArns, regionalArn, WorkloadScope } from "./workloadScope";


/**
 * ARN patterns of a service's resources named for the stage: the stage as a whole `-`-separated segment,
 * at the end or in the middle of the name, followed by each of `suffixes`.
 */
function stageNamed(scope: WorkloadScope, service: string, prefix: string, suffixes: readonly string[]): string[] {
    return [`*-${scope.stage}`, `*-${scope.stage}-*`].flatMap((name) => suffixes.map((suffix) => regionalArn(scope, service, `${prefix}${name}${suffix}`)));
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
                regionalArn(scope, "glue", "catalog"),
                regionalArn(scope, "glue", "database/default"),
                regionalArn(scope, "glue", `database/*_${scope.stage}`),
                regionalArn(scope, "glue", `table/*_${scope.stage}/*`),
                regionalArn(scope, "glue", `userDefinedFunction/*_${scope.stage}/*`),
                ...stageNamed(scope, "glue", "job/", [""]),
                ...stageNamed(scope, "glue", "crawler/", [""]),
            ],
        },
        {
            Sid: "ProjectSecrets",
            Effect: "Allow",
            Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            Resource: regionalArn(scope, "secretsmanager", `secret:glue-pipeline/${scope.stage}/*`),
        },
        {
            Sid: "ProjectLogsAndEvents",
            Effect: "Allow",
            Action: ["logs:*", "events:PutEvents"],
            Resource: [regionalArn(scope, "logs", "*"), regionalArn(scope, "events", "event-bus/*")],
        },
        {
            // Key ids are random: the project's keys are the ones tagged for it (the provider's default tags;
            // the deploy role creates keys only with that tag).
            Sid: "ProjectKeys",
            Effect: "Allow",
            Action: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:DescribeKey"],
            Resource: regionalArn(scope, "kms", "key/*"),
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
