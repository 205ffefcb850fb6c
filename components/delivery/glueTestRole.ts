/**
 * The requirements' GlueTestRole: what integration tests in the pipeline account assume in a workload account to
 * exercise a deployed pipeline — drop a CSV under a test prefix of the input bucket, start and watch runs
 * of the stack's Glue jobs, read what they wrote under the same prefix, check the file's metadata record,
 * read the job logs, and clean up. Nothing else: no configuration changes, no data outside the prefix.
 *
 * It lives in the bootstrap (not in the workload stack) because it is an access decision: the deploy role
 * must not be able to create roles that another account can assume, nor widen this one.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { bucketNames } from "../storage/dataLakeBuckets";
import { BOOTSTRAP_IAM_PATH, bootstrapRoleArn, partitionOf } from "./deployRoles";
import {
    dynamoDbItemStatement,
    glueJobRunStatement,
    normalizePrefix,
    PolicyDocument,
    policyDocument,
    s3ReadStatements,
    s3WriteStatement,
    wildcardResourceViolations,
} from "../iam/iamPolicies";
import { metadataTableName, STATUS_INDEX_NAME } from "../tracking/processingMetadataTable";

/** The requirements' name, per stage. */
export const glueTestRoleName = (stage: string): string => `GlueTestRole-${stage}`;

/** Prefix (in the input bucket, and under processed/ and quarantine/ of the output bucket) tests own. */
export const DEFAULT_TEST_PREFIX = "integration-tests/";

/** The requirements' Glue jobs, by base name; a stage's job is `<base>-<stage>`. */
export const REQUIRED_JOB_BASE_NAMES: readonly string[] = ["FileProcessorV2", "ProcessLegislators"];

export interface GlueTestScope {
    readonly partition: string;
    readonly region: string;
    readonly accountId: string;
    readonly stage: string;
    /** Full names of the jobs tests may start. */
    readonly jobNames: readonly string[];
    readonly testPrefix: string;
}

const GLUE_RUN_ACTIONS = ["glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns", "glue:BatchStopJobRun", "glue:GetJob"];

/** Permissions of the GlueTestRole (pure; every resource is named, none is "*"). */
export function glueTestRolePolicy(scope: GlueTestScope): PolicyDocument {
    if (scope.jobNames.length === 0) throw new Error("glueTestRolePolicy: at least one job name is required");
    const prefix = normalizePrefix(scope.testPrefix);
    if (prefix === "") throw new Error("glueTestRolePolicy: testPrefix must not be empty (tests would own the whole bucket)");
    const { partition: p, region: r, accountId: a } = scope;
    const names = bucketNames(scope.stage, a);
    const inputArn = `arn:${p}:s3:::${names.input}`;
    const outputArn = `arn:${p}:s3:::${names.output}`;
    const outputPrefixes = [`processed/${prefix}`, `quarantine/${prefix}`];
    const tableArn = `arn:${p}:dynamodb:${r}:${a}:table/${metadataTableName(scope.stage)}`;
    const doc = policyDocument([
        glueJobRunStatement(
            scope.jobNames.map((job) => `arn:${p}:glue:${r}:${a}:job/${job}`),
            GLUE_RUN_ACTIONS,
            "RunTestedJobs",
        ),
        ...s3ReadStatements(inputArn, [prefix], "TestInput"),
        s3WriteStatement(inputArn, [prefix], { delete: true }, "TestInputWrite"),
        ...s3ReadStatements(outputArn, outputPrefixes, "TestOutput"),
        { Sid: "TestOutputCleanup", Effect: "Allow", Action: ["s3:DeleteObject"], Resource: outputPrefixes.map((o) => `${outputArn}/${o}*`) },
        {
            // The data lake key by its alias (the key is created by the workload stack, after this role).
            Sid: "DataLakeKeyThroughS3",
            Effect: "Allow",
            Action: ["kms:Decrypt", "kms:GenerateDataKey"],
            Resource: `arn:${p}:kms:${r}:${a}:key/*`,
            Condition: {
                "ForAnyValue:StringEquals": { "kms:ResourceAliases": `alias/glue-data-lake-${scope.stage}` },
                StringEquals: { "kms:ViaService": [`s3.${r}.amazonaws.com`, `dynamodb.${r}.amazonaws.com`] },
            },
        },
        dynamoDbItemStatement(tableArn, { read: true, write: false, indexes: [STATUS_INDEX_NAME], sid: "ReadFileRecords" }),
        {
            Sid: "ReadRunLogs",
            Effect: "Allow",
            Action: ["logs:GetLogEvents", "logs:FilterLogEvents", "logs:DescribeLogStreams"],
            Resource: [`arn:${p}:logs:${r}:${a}:log-group:/aws-glue/jobs/*`, `arn:${p}:logs:${r}:${a}:log-group:/aws/lambda/GlueTriggerLambda-${scope.stage}:*`],
        },
    ]);
    const violations = wildcardResourceViolations(doc);
    if (violations.length > 0) throw new Error(`glueTestRolePolicy: grants on "*": ${JSON.stringify(violations)}`);
    return doc;
}

/** Trust of the GlueTestRole: the named CI roles of the pipeline account, with sts:AssumeRole only. */
export function glueTestRoleTrustPolicy(ciPrincipalArns: readonly string[]): PolicyDocument {
    const principals = [...new Set(ciPrincipalArns)];
    const bad = principals.filter((arn) => !/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(arn));
    if (principals.length === 0 || bad.length > 0) {
        throw new Error(`glueTestRoleTrustPolicy: ciPrincipalArns must be role ARNs (never a whole account), got ${JSON.stringify(ciPrincipalArns)}`);
    }
    return policyDocument([
        { Sid: "PipelineAccountTests", Effect: "Allow", Principal: { AWS: principals.length === 1 ? principals[0] : principals }, Action: "sts:AssumeRole" },
    ]);
}

export interface GlueTestRoleArgs {
    readonly stage: string;
    readonly accountId: string;
    readonly region: string;
    /** Roles of the pipeline account that run integration tests (role ARNs; a whole account is refused). */
    readonly ciPrincipalArns: readonly string[];
    /** Base names of the Glue jobs tests may run; the stage is appended. @default the requirements' two jobs */
    readonly jobBaseNames?: readonly string[];
    /** @default "integration-tests/" */
    readonly testPrefix?: string;
    /** @default 3600 */
    readonly maxSessionDurationSeconds?: number;
    readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export class GlueTestRole extends pulumi.ComponentResource {
    public readonly role: aws.iam.Role;
    public readonly policy: aws.iam.RolePolicy;
    /** The role's ARN as AWS reports it (name and path are fixed). */
    public readonly roleArn: string;

    constructor(name: string, args: GlueTestRoleArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("glue-pipeline:delivery:GlueTestRole", name, {}, opts);
        const foreign = args.ciPrincipalArns.filter((arn) => arn.split(":")[4] === args.accountId);
        if (foreign.length > 0) {
            throw new Error(`GlueTestRole ${name}: ciPrincipalArns must be in the pipeline account, not in ${args.accountId}: ${foreign.join(", ")}`);
        }
        const partition = partitionOf(args.region);
        const scope: GlueTestScope = {
            partition,
            region: args.region,
            accountId: args.accountId,
            stage: args.stage,
            jobNames: (args.jobBaseNames ?? REQUIRED_JOB_BASE_NAMES).map((base) => `${base}-${args.stage}`),
            testPrefix: args.testPrefix ?? DEFAULT_TEST_PREFIX,
        };
        const permissions = glueTestRolePolicy(scope);
        const trust = glueTestRoleTrustPolicy(args.ciPrincipalArns);
        this.roleArn = bootstrapRoleArn({ partition, accountId: args.accountId }, glueTestRoleName(args.stage));

        this.role = new aws.iam.Role(
            `${name}-role`,
            {
                name: glueTestRoleName(args.stage),
                path: BOOTSTRAP_IAM_PATH,
                description: `Integration tests from the pipeline account: run ${scope.jobNames.join(", ")} on ${scope.testPrefix} data`,
                maxSessionDuration: args.maxSessionDurationSeconds ?? 3600,
                assumeRolePolicy: JSON.stringify(trust),
                tags: args.tags,
            },
            { parent: this },
        );
        this.policy = new aws.iam.RolePolicy(`${name}-policy`, { role: this.role.name, policy: JSON.stringify(permissions) }, { parent: this });
        this.registerOutputs({ roleArn: this.roleArn });
    }
}
