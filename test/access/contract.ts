/**
 * The access contract: requests the running pipeline and its delivery make (or that an attacker or a
 * mistake would make), each with the answer AWS must give, asked of the independent evaluator
 * (test/access/simulate.ts) on the synthesized graphs (test/access/graphs.ts). Each request carries the
 * context AWS really sends with it (no SSE header on a plain upload; Scheduler's schedule-group ARN; the
 * CloudWatch Logs encryption context), so a policy that only works against our beliefs fails here.
 *
 * docs/deploy.md's "Who can do what" table is checked against this list (test/access/contract.test.ts).
 */
import { PROJECT } from "../../stacks/config";
import { type AccessQuestion, delegatingPolicy } from "./simulate";
import { accountBlocksPublicAccess, accountOfGraph, BOOTSTRAP_OF, blocksPublicAccess, bucketPolicy, lambdaPolicy, GraphName, Graphs, keyPolicy, managedPolicy, queuePolicy, role, topicPolicy } from "./graphs";

export type Expected = "allow" | "deny";

export interface ContractRequest {
    /** Who asks and what, in words: the row docs/deploy.md shows. */
    readonly title: string;
    /** The section of docs/deploy.md's table it belongs to. */
    readonly who: string;
    readonly expect: Expected;
    /** The defect of issue 10 this request failed on before its fix, if any. */
    readonly defect?: number;
    readonly question: (g: Graphs) => AccessQuestion;
}

const REGION = "eu-west-1";
const OTHER_ACCOUNT = "999999999999";

const acct = (g: Graphs, stack: "dev" | "prod") => accountOfGraph(g[stack]);
const bucket = (g: Graphs, stack: "dev" | "prod", kind: string) => `glue-${kind}-${stack}-${acct(g, stack)}`;
const arnS3 = (b: string, key?: string) => (key === undefined ? `arn:aws:s3:::${b}` : `arn:aws:s3:::${b}/${key}`);
/** An S3 bucket or object of a stack, with its owning account (S3 ARNs carry none, the evaluator needs it). */
const onS3 = (g: Graphs, stack: "dev" | "prod", kind: string, key?: string) => ({ resource: arnS3(bucket(g, stack, kind), key), resourceAccount: acct(g, stack) });
const regional = (g: Graphs, stack: "dev" | "prod", service: string, resource: string) => `arn:aws:${service}:${REGION}:${acct(g, stack)}:${resource}`;
const dataKey = (g: Graphs, stack: "dev" | "prod") => regional(g, stack, "kms", "key/data-lake-key-key-id");
const alertsKey = (g: Graphs, stack: "dev" | "prod") => regional(g, stack, "kms", "key/monitoring-alerts-key-key-id");

/** The tags every resource of a stack carries: its AWS provider's default tags. */
function stackTags(g: Graphs, stack: GraphName): Record<string, string> {
    const provider = g[stack].resources.find((r) => r.type === "pulumi:providers:aws");
    const tags = JSON.parse(provider?.inputs.defaultTags ?? "{}").tags ?? {};
    if (!tags.Project) throw new Error(`${stack}: the AWS provider's default tags carry no Project`);
    return tags;
}

/** The role `logical` of a graph acting: its identity policies and the bootstrap's boundary on it. */
export function asRole(g: Graphs, graph: GraphName, logical: string): Pick<AccessQuestion, "principal" | "identity" | "boundary"> {
    const r = role(g[graph], logical);
    let boundary: unknown;
    if (r.boundaryArn) boundary = managedPolicy(g[BOOTSTRAP_OF[graph]], r.boundaryArn);
    return { principal: r.arn, identity: r.identity as any, boundary: boundary as any };
}

/** A trust-policy question: may `principal` assume `logical` of `graph`, with `context`. */
function assume(g: Graphs, graph: GraphName, logical: string, principal: string, action: string, context: Record<string, string | string[]> = {}, identity: unknown[] = []): AccessQuestion {
    const r = role(g[graph], logical);
    return { principal, action, resource: r.arn, context, resourcePolicy: r.trust as any, identity: identity as any };
}

const TLS = { "aws:SecureTransport": "true" } as const;
/** Everything else in the caller's account allowed, so the answer turns on the resource's own policy. */
const ALLOW_ALL = [{ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] }];

const stacks = ["dev", "prod"] as const;

/** The Glue jobs of the workload graphs, by their resources' logical names. */
const JOBS = ["file-processor-job", "parquet-to-json-job", "medallion-job-job", "claims-etl-job", "legislators-job"] as const;

/** A job of a stack as its graph declares it: the role it runs as and the S3 objects it reads and writes. */
function glueJob(g: Graphs, stack: "dev" | "prod", logical: string) {
    const job = g[stack].resources.find((r) => r.type === "aws:glue/job:Job" && r.name === logical);
    if (!job) throw new Error(`${stack}: no Glue job ${logical}`);
    const roleName = String(job.inputs.roleArn).split("/").pop();
    const roleResource = g[stack].resources.find((r) => r.type === "aws:iam/role:Role" && (r.inputs.name ?? r.name) === roleName);
    if (!roleResource) throw new Error(`${stack}: no role ${roleName} for ${logical}`);
    const object = (uri: string) => {
        const [bucketName, ...key] = uri.replace(/^s3:\/\//, "").split("/");
        return { resource: arnS3(bucketName, key.join("/")), resourceAccount: acct(g, stack), context: TLS, resourcePolicy: bucketPolicy(g[stack], bucketName) as any };
    };
    const args = job.inputs.defaultArguments ?? {};
    return { role: roleResource.name, script: object(job.inputs.command.scriptLocation), library: object(String(args["--extra-py-files"]).split(",")[0]), temp: object(`${args["--TempDir"]}spill-0001`) };
}
const other = (s: "dev" | "prod") => (s === "dev" ? "prod" : "dev");

// The claims warehouse runs only where a stack file sets `claims.warehouse`: its requests are asked of the
// `warehouse` graph (dev's stack file with that section) and its bootstrap, `bootstrap-warehouse`.
const whAcct = (g: Graphs) => accountOfGraph(g.warehouse);
const whArn = (g: Graphs, service: string, resource: string, region = REGION) => `arn:aws:${service}:${region}:${whAcct(g)}:${resource}`;
/** The warehouse's workgroup: Redshift Serverless names it by its generated id, which the offline mocks make `<logical>-id`. */
const WORKGROUP = "workgroup/claims-warehouse-workgroup-id";
/** Another team's workgroup in the same account and region. */
const FOREIGN_WORKGROUP = "workgroup/0b1c2d3e-payroll";
const whClaimsBucket = (g: Graphs) => `glue-claims-dev-${whAcct(g)}`;
/** An object of the warehouse graph's claims bucket, under its bucket policy, over TLS. */
const whClaimsObject = (g: Graphs, key: string) => ({
    resource: arnS3(whClaimsBucket(g), key),
    resourceAccount: whAcct(g),
    context: TLS,
    resourcePolicy: bucketPolicy(g.warehouse, whClaimsBucket(g)) as any,
});
/** A Data API request against a workgroup (Redshift Serverless: the action's resource is the workgroup). */
const DATA_API = ["redshift-data:BatchExecuteStatement", "redshift-serverless:GetCredentials"] as const;

export const CONTRACT: ContractRequest[] = [
    // ---------------------------------------------------------------- the running pipeline: must allow
    ...stacks.flatMap((s): ContractRequest[] => [
        {
            title: `${s}: a person with write access uploads a claims file with a plain \`aws s3 cp\` (no SSE header)`,
            who: "People and services of the stack",
            expect: "allow",
            defect: 1,
            question: (g) => ({
                principal: `arn:aws:iam::${acct(g, s)}:role/data-engineer`,
                action: "s3:PutObject",
                ...onS3(g, s, "claims", "raw/claims/claims_2024.csv"),
                context: { ...TLS, "s3:TlsVersion": "1.3" },
                identity: [{ Statement: [{ Effect: "Allow", Action: "s3:PutObject", Resource: `${arnS3(bucket(g, s, "claims"))}/*` }] }],
                resourcePolicy: bucketPolicy(g[s], bucket(g, s, "claims")) as any,
            }),
        },
        {
            title: `${s}: a person's upload asking for SSE-S3 instead of SSE-KMS is refused`,
            who: "People and services of the stack",
            expect: "deny",
            question: (g) => ({
                principal: `arn:aws:iam::${acct(g, s)}:role/data-engineer`,
                action: "s3:PutObject",
                ...onS3(g, s, "claims", "raw/claims/claims_2024.csv"),
                context: { ...TLS, "s3:TlsVersion": "1.3", "s3:x-amz-server-side-encryption": "AES256" },
                identity: [{ Statement: [{ Effect: "Allow", Action: "s3:PutObject", Resource: `${arnS3(bucket(g, s, "claims"))}/*` }] }],
                resourcePolicy: bucketPolicy(g[s], bucket(g, s, "claims")) as any,
            }),
        },
        ...(["validation-reports/claims_2024.json", "quarantine/files/claims_2024.csv"] as const).map(
            (key): ContractRequest => ({
                title: `${s}: the claims validation function writes ${key.split("/")[0]} (PutObject, also a CopyObject's write; no SSE header)`,
                who: "People and services of the stack",
                expect: "allow",
                defect: 1,
                question: (g) => ({
                    ...asRole(g, s, "claims-validation-role"),
                    action: "s3:PutObject",
                    ...onS3(g, s, "claims", key),
                    context: { ...TLS, "s3:TlsVersion": "1.3" },
                    resourcePolicy: bucketPolicy(g[s], bucket(g, s, "claims")) as any,
                }),
            }),
        ),
        {
            title: `${s}: EventBridge Scheduler assumes the medallion schedule role (aws:SourceArn: the schedule group)`,
            who: "People and services of the stack",
            expect: "allow",
            defect: 2,
            question: (g) =>
                assume(g, s, "medallion-schedule-role", "scheduler.amazonaws.com", "sts:AssumeRole", {
                    "aws:SourceAccount": acct(g, s),
                    "aws:SourceArn": regional(g, s, "scheduler", "schedule-group/default"),
                }),
        },
        {
            title: `${s}: EventBridge Scheduler of another account may not assume the medallion schedule role`,
            who: "Anyone else",
            expect: "deny",
            question: (g) =>
                assume(g, s, "medallion-schedule-role", "scheduler.amazonaws.com", "sts:AssumeRole", {
                    "aws:SourceAccount": OTHER_ACCOUNT,
                    "aws:SourceArn": `arn:aws:scheduler:${REGION}:${OTHER_ACCOUNT}:schedule-group/default`,
                }),
        },
        {
            title: `${s}: the glue trigger function starts FileProcessorV2`,
            who: "People and services of the stack",
            expect: "allow",
            question: (g) => ({ ...asRole(g, s, "glue-trigger-role"), action: "glue:StartJobRun", resource: regional(g, s, "glue", `job/FileProcessorV2-${s}`) }),
        },
        {
            title: `${s}: the glue trigger function writes the processing record`,
            who: "People and services of the stack",
            expect: "allow",
            question: (g) => ({ ...asRole(g, s, "glue-trigger-role"), action: "dynamodb:UpdateItem", resource: regional(g, s, "dynamodb", `table/etl-pipeline-metadata-${s}`) }),
        },
        {
            title: `${s}: FileProcessorV2 reads its script`,
            who: "People and services of the stack",
            expect: "allow",
            question: (g) => ({ ...asRole(g, s, "file-processor-role"), action: "s3:GetObject", ...onS3(g, s, "assets-v2", `scripts/FileProcessorV2-${s}/file_processor.py`) }),
        },
        {
            title: `${s}: FileProcessorV2 reads its input`,
            who: "People and services of the stack",
            expect: "allow",
            question: (g) => ({ ...asRole(g, s, "file-processor-role"), action: "s3:GetObject", ...onS3(g, s, "input", "sales/2026/sales.csv"), context: TLS, resourcePolicy: bucketPolicy(g[s], bucket(g, s, "input")) as any }),
        },
        ...JOBS.flatMap((job): ContractRequest[] => [
            {
                title: `${s}: the Glue job ${job} reads its script`,
                who: "People and services of the stack",
                expect: "allow",
                question: (g) => ({ ...asRole(g, s, glueJob(g, s, job).role), action: "s3:GetObject", ...glueJob(g, s, job).script }),
            },
            {
                title: `${s}: the Glue job ${job} reads its library (--extra-py-files)`,
                who: "People and services of the stack",
                expect: "allow",
                question: (g) => ({ ...asRole(g, s, glueJob(g, s, job).role), action: "s3:GetObject", ...glueJob(g, s, job).library }),
            },
            {
                title: `${s}: the Glue job ${job} writes its temporary directory (--TempDir)`,
                who: "People and services of the stack",
                expect: "allow",
                question: (g) => ({ ...asRole(g, s, glueJob(g, s, job).role), action: "s3:PutObject", ...glueJob(g, s, job).temp }),
            },
        ]),
        {
            title: `${s}: the medallion state machine starts the medallion job`,
            who: "People and services of the stack",
            expect: "allow",
            question: (g) => ({ ...asRole(g, s, "medallion-states-role"), action: "glue:StartJobRun", resource: regional(g, s, "glue", `job/MedallionEtl-${s}`) }),
        },
        {
            title: `${s}: FileProcessorV2 writes processed output`,
            who: "People and services of the stack",
            expect: "allow",
            question: (g) => ({ ...asRole(g, s, "file-processor-role"), action: "s3:PutObject", ...onS3(g, s, "output", "processed/sales/part-0.parquet") }),
        },
        {
            title: `${s}: FileProcessorV2 generates a data key with the data-lake key through S3`,
            who: "People and services of the stack",
            expect: "allow",
            question: (g) => ({
                ...asRole(g, s, "file-processor-role"),
                action: "kms:GenerateDataKey",
                resource: dataKey(g, s),
                resourceTags: stackTags(g, s),
                context: { "kms:ViaService": `s3.${REGION}.amazonaws.com` },
                resourcePolicy: keyPolicy(g[s], "data-lake-key") as any,
            }),
        },
        {
            title: `${s}: the medallion state machine starts the gold crawler`,
            who: "People and services of the stack",
            expect: "allow",
            question: (g) => ({ ...asRole(g, s, "medallion-states-role"), action: "glue:StartCrawler", resource: regional(g, s, "glue", `crawler/medallion-gold-${s}`) }),
        },
        {
            title: `${s}: the medallion state machine invokes the ingestion function`,
            who: "People and services of the stack",
            expect: "allow",
            question: (g) => ({ ...asRole(g, s, "medallion-states-role"), action: "lambda:InvokeFunction", resource: regional(g, s, "lambda", `function:ApiIngestion-${s}`) }),
        },
        {
            title: `${s}: CloudWatch alarms publish to the encrypted alerts topic`,
            who: "People and services of the stack",
            expect: "allow",
            question: (g) => ({
                principal: "cloudwatch.amazonaws.com",
                action: "sns:Publish",
                resource: regional(g, s, "sns", `glue-pipeline-alerts-${s}`),
                context: { ...TLS, "aws:SourceAccount": acct(g, s), "aws:SourceArn": regional(g, s, "cloudwatch", "alarm:glue-job-failures") },
                resourcePolicy: topicPolicy(g[s], regional(g, s, "sns", `glue-pipeline-alerts-${s}`)) as any,
            }),
        },
        {
            title: `${s}: CloudWatch alarms generate a data key with the alerts key`,
            who: "People and services of the stack",
            expect: "allow",
            question: (g) => ({
                principal: "cloudwatch.amazonaws.com",
                action: "kms:GenerateDataKey",
                resource: alertsKey(g, s),
                context: { "aws:SourceAccount": acct(g, s), "aws:SourceArn": regional(g, s, "cloudwatch", "alarm:glue-job-failures") },
                resourcePolicy: keyPolicy(g[s], "monitoring-alerts-key") as any,
            }),
        },
        {
            title: `${s}: CloudWatch acting for another account's alarm may not use the alerts key`,
            who: "Anyone else",
            expect: "deny",
            defect: 7,
            question: (g) => ({
                principal: "cloudwatch.amazonaws.com",
                action: "kms:Decrypt",
                resource: alertsKey(g, s),
                context: { "aws:SourceAccount": OTHER_ACCOUNT, "aws:SourceArn": `arn:aws:cloudwatch:${REGION}:${OTHER_ACCOUNT}:alarm:theirs` },
                resourcePolicy: keyPolicy(g[s], "monitoring-alerts-key") as any,
            }),
        },
        {
            title: `${s}: CloudWatch Logs encrypts a Lambda log group with the data-lake key (its encryption context)`,
            who: "People and services of the stack",
            expect: "allow",
            question: (g) => ({
                principal: `logs.${REGION}.amazonaws.com`,
                action: "kms:GenerateDataKey",
                resource: dataKey(g, s),
                context: { "kms:EncryptionContext:aws:logs:arn": regional(g, s, "logs", `log-group:/aws/lambda/GlueTriggerLambda-${s}`) },
                resourcePolicy: keyPolicy(g[s], "data-lake-key") as any,
            }),
        },
        {
            title: `${s}: CloudWatch Logs encrypts the gold crawler's log group (its security configuration's) with the data-lake key`,
            who: "People and services of the stack",
            expect: "allow",
            defect: 7,
            question: (g) => {
                const group = g[s].resources.find((r) => r.type === "aws:cloudwatch/logGroup:LogGroup" && String(r.inputs.name).startsWith("/aws-glue/crawlers-role/"));
                if (!group) throw new Error(`${s}: no log group of the crawler's security configuration`);
                return {
                    principal: `logs.${REGION}.amazonaws.com`,
                    action: "kms:GenerateDataKey",
                    resource: dataKey(g, s),
                    context: { "kms:EncryptionContext:aws:logs:arn": regional(g, s, "logs", `log-group:${group.inputs.name}`) },
                    resourcePolicy: keyPolicy(g[s], "data-lake-key") as any,
                };
            },
        },
        {
            title: `${s}: S3 server access logging delivers the input bucket's logs`,
            who: "People and services of the stack",
            expect: "allow",
            question: (g) => ({
                principal: "logging.s3.amazonaws.com",
                action: "s3:PutObject",
                ...onS3(g, s, "access-logs", "input/2026-01-01-00-00-00-ABCDEF"),
                context: { ...TLS, "s3:TlsVersion": "1.2", "aws:SourceAccount": acct(g, s), "aws:SourceArn": arnS3(bucket(g, s, "input")) },
                resourcePolicy: bucketPolicy(g[s], bucket(g, s, "access-logs")) as any,
            }),
        },
        {
            title: `${s}: EventBridge invokes the job-events function from its state-change rule`,
            who: "People and services of the stack",
            expect: "allow",
            question: (g) => {
                const fn = regional(g, s, "lambda", `function:GlueJobEvents-${s}`);
                return {
                    principal: "events.amazonaws.com",
                    action: "lambda:InvokeFunction",
                    resource: fn,
                    // The rule's ARN as the graph names it (the offline mocks give rules a generic ARN).
                    context: { "aws:SourceAccount": acct(g, s), "aws:SourceArn": regional(g, s, "cloudwatch", `GlueJobEvents-${s}-state-change`) },
                    resourcePolicy: lambdaPolicy(g[s], `GlueJobEvents-${s}`, fn) as any,
                };
            },
        },
        // S3 no longer invokes the triggers: it sends each one's events to the trigger's own queue, for that
        // queue's bucket in the stack's account only.
        ...(
            [
                ["allow", "the input bucket's events to the CSV trigger's queue", `GlueTriggerLambda-${s}-queue`, (g: Graphs) => bucket(g, s, "input"), acct],
                ["allow", "the claims bucket's events to the claims validation's queue", `healthcare-claims-${s}-data-validation-queue`, (g: Graphs) => `glue-claims-${s}-${acct(g, s)}`, acct],
                [
                    "deny",
                    "another account's bucket's events to the claims validation's queue",
                    `healthcare-claims-${s}-data-validation-queue`,
                    (g: Graphs) => `glue-claims-${s}-${acct(g, s)}-lookalike`,
                    () => OTHER_ACCOUNT,
                ],
                ["deny", "the input bucket's events to the claims validation's queue", `healthcare-claims-${s}-data-validation-queue`, (g: Graphs) => bucket(g, s, "input"), acct],
            ] as const
        ).map(
            ([expect, what, queue, sourceBucket, sourceAccount]): ContractRequest => ({
                title: `${s}: S3 ${expect === "allow" ? "sends" : "may not send"} ${what}`,
                who: expect === "allow" ? "People and services of the stack" : "Anyone else",
                expect,
                question: (g) => ({
                    principal: "s3.amazonaws.com",
                    action: "sqs:SendMessage",
                    resource: regional(g, s, "sqs", queue),
                    context: { ...TLS, "aws:SourceAccount": sourceAccount(g, s), "aws:SourceArn": arnS3(sourceBucket(g)) },
                    resourcePolicy: queuePolicy(g[s], queue) as any,
                }),
            }),
        ),
        ...(["ReceiveMessage", "DeleteMessage", "ChangeMessageVisibility", "SendMessage"] as const).map(
            (action): ContractRequest => ({
                title: `${s}: the CSV trigger's role may ${action} on its own queue (the mapping's polling; re-sending a file that waits for capacity)`,
                who: "People and services of the stack",
                expect: "allow",
                question: (g) => ({ ...asRole(g, s, "glue-trigger-role"), action: `sqs:${action}`, resource: regional(g, s, "sqs", `GlueTriggerLambda-${s}-queue`) }),
            }),
        ),
        {
            title: `${s}: the CSV trigger's role may not read the Parquet trigger's queue`,
            who: "People and services of the stack",
            expect: "deny",
            question: (g) => ({ ...asRole(g, s, "glue-trigger-role"), action: "sqs:ReceiveMessage", resource: regional(g, s, "sqs", `ParquetToJsonTrigger-${s}-queue`) }),
        },
        {
            title: `${s}: the claims validation's role may receive from its own queue, not the CSV trigger's`,
            who: "People and services of the stack",
            expect: "allow",
            question: (g) => ({ ...asRole(g, s, "claims-validation-role"), action: "sqs:ReceiveMessage", resource: regional(g, s, "sqs", `healthcare-claims-${s}-data-validation-queue`) }),
        },
        {
            title: `${s}: the claims validation's role may not send to the CSV trigger's queue`,
            who: "People and services of the stack",
            expect: "deny",
            question: (g) => ({ ...asRole(g, s, "claims-validation-role"), action: "sqs:SendMessage", resource: regional(g, s, "sqs", `GlueTriggerLambda-${s}-queue`) }),
        },
        {
            title: `${s}: EventBridge delivers a failed Glue job event to the job-events dead-letter queue`,
            who: "People and services of the stack",
            expect: "allow",
            question: (g) => ({
                principal: "events.amazonaws.com",
                action: "sqs:SendMessage",
                resource: regional(g, s, "sqs", `GlueJobEvents-${s}-dlq`),
                // The rule's ARN as the graph names it (the offline mocks give rules a generic ARN).
                context: { ...TLS, "aws:SourceArn": regional(g, s, "cloudwatch", `GlueJobEvents-${s}-state-change`) },
                resourcePolicy: queuePolicy(g[s], `GlueJobEvents-${s}-dlq`) as any,
            }),
        },

        // ------------------------------------------------------------ the other stage: must deny
        {
            title: `${s}: the claims validation function may not read ${other(s)}'s claims`,
            who: "Workload roles across stages",
            expect: "deny",
            question: (g) => ({
                ...asRole(g, s, "claims-validation-role"),
                action: "s3:GetObject",
                ...onS3(g, other(s), "claims", "raw/claims/claims_2024.csv"),
                context: TLS,
                resourcePolicy: bucketPolicy(g[other(s)], bucket(g, other(s), "claims")) as any,
            }),
        },
        {
            title: `${s}: the glue trigger function may not write ${other(s)}'s processing table`,
            who: "Workload roles across stages",
            expect: "deny",
            question: (g) => ({ ...asRole(g, s, "glue-trigger-role"), action: "dynamodb:PutItem", resource: regional(g, other(s), "dynamodb", `table/etl-pipeline-metadata-${other(s)}`) }),
        },
        {
            title: `${s}: the medallion ingestion function may not read ${other(s)}'s API key secret`,
            who: "Workload roles across stages",
            expect: "deny",
            question: (g) => ({
                ...asRole(g, s, "medallion-ingest-role"),
                action: "secretsmanager:GetSecretValue",
                resource: regional(g, other(s), "secretsmanager", `secret:glue-pipeline/${other(s)}/medallion-api-key-AbCdEf`),
            }),
        },
        {
            title: `${s}: FileProcessorV2 may not decrypt with ${other(s)}'s data-lake key`,
            who: "Workload roles across stages",
            expect: "deny",
            question: (g) => ({
                ...asRole(g, s, "file-processor-role"),
                action: "kms:Decrypt",
                resource: dataKey(g, other(s)),
                resourceTags: stackTags(g, other(s)),
                context: { "kms:ViaService": `s3.${REGION}.amazonaws.com` },
                resourcePolicy: keyPolicy(g[other(s)], "data-lake-key") as any,
            }),
        },

        // --------------------------------------------------- the boundary: nothing outside the project
        {
            title: `${s}: the boundary cuts a workload role off another team's table in the same account`,
            who: "Permissions boundary",
            expect: "deny",
            defect: 6,
            question: (g) => ({ ...asRole(g, s, "glue-trigger-role"), identity: ALLOW_ALL, action: "dynamodb:GetItem", resource: regional(g, s, "dynamodb", "table/payroll") }),
        },
        {
            title: `${s}: the boundary cuts a workload role off another team's secret`,
            who: "Permissions boundary",
            expect: "deny",
            defect: 6,
            question: (g) => ({ ...asRole(g, s, "medallion-ingest-role"), identity: ALLOW_ALL, action: "secretsmanager:GetSecretValue", resource: regional(g, s, "secretsmanager", "secret:payroll/db-AbCdEf") }),
        },
        {
            title: `${s}: the boundary cuts a workload role off another team's queue`,
            who: "Permissions boundary",
            expect: "deny",
            defect: 6,
            question: (g) => ({ ...asRole(g, s, "glue-trigger-role"), identity: ALLOW_ALL, action: "sqs:SendMessage", resource: regional(g, s, "sqs", "payroll-jobs") }),
        },

        {
            title: `${s}: the boundary cuts a workload role off another team's KMS key (its Project tag is not ours)`,
            who: "Permissions boundary",
            expect: "deny",
            defect: 6,
            question: (g) => ({
                ...asRole(g, s, "file-processor-role"),
                identity: ALLOW_ALL,
                action: "kms:Decrypt",
                resource: regional(g, s, "kms", "key/payroll-key-id"),
                resourceTags: { Project: "payroll" },
                resourcePolicy: delegatingPolicy(acct(g, s)),
            }),
        },
        {
            title: `${s}: the boundary cuts a workload role off another team's Glue job`,
            who: "Permissions boundary",
            expect: "deny",
            defect: 6,
            question: (g) => ({ ...asRole(g, s, "glue-trigger-role"), identity: ALLOW_ALL, action: "glue:StartJobRun", resource: regional(g, s, "glue", "job/payroll-export") }),
        },

        // ----------------------------------------------------------- anyone else: must deny
        ...(["input", "output", "assets-v2", "claims", "access-logs"] as const).flatMap((kind): ContractRequest[] => [
            {
                title: `${s}: anonymous may not read the ${kind} bucket`,
                who: "Anyone else",
                expect: "deny",
                question: (g) => ({
                    principal: "anonymous",
                    action: "s3:GetObject",
                    ...onS3(g, s, kind, "any.csv"),
                    context: TLS,
                    resourcePolicy: bucketPolicy(g[s], bucket(g, s, kind)) as any,
                    s3BlockPublicAccess: blocksPublicAccess(g[s], g[`bootstrap-${s}`], bucket(g, s, kind)),
                }),
            },
            {
                title: `${s}: another account may not write the ${kind} bucket`,
                who: "Anyone else",
                expect: "deny",
                question: (g) => ({
                    principal: `arn:aws:iam::${OTHER_ACCOUNT}:role/outsider`,
                    action: "s3:PutObject",
                    ...onS3(g, s, kind, "any.csv"),
                    context: TLS,
                    identity: ALLOW_ALL,
                    resourcePolicy: bucketPolicy(g[s], bucket(g, s, kind)) as any,
                    s3BlockPublicAccess: blocksPublicAccess(g[s], g[`bootstrap-${s}`], bucket(g, s, kind)),
                }),
            },
        ]),
        ...[`glue-pipeline-alerts-${s}`, `healthcare-claims-${s}-processing`, `healthcare-claims-${s}-errors`, `medallion-notifications-${s}`].flatMap((topic): ContractRequest[] => [
            {
                title: `${s}: anonymous may not publish to ${topic}`,
                who: "Anyone else",
                expect: "deny",
                question: (g) => ({ principal: "anonymous", action: "sns:Publish", resource: regional(g, s, "sns", topic), context: TLS, resourcePolicy: topicPolicy(g[s], regional(g, s, "sns", topic)) as any }),
            },
            {
                title: `${s}: another account may not subscribe to ${topic}`,
                who: "Anyone else",
                expect: "deny",
                question: (g) => ({
                    principal: `arn:aws:iam::${OTHER_ACCOUNT}:role/outsider`,
                    action: "sns:Subscribe",
                    resource: regional(g, s, "sns", topic),
                    context: TLS,
                    identity: ALLOW_ALL,
                    resourcePolicy: topicPolicy(g[s], regional(g, s, "sns", topic)) as any,
                }),
            },
        ]),
        ...[
            `GlueTriggerLambda-${s}-dlq`,
            `ParquetToJsonTrigger-${s}-dlq`,
            `medallion-daily-${s}-dlq`,
            `healthcare-claims-${s}-data-validation-dlq`,
            `GlueJobEvents-${s}-dlq`,
            // The triggers' queues and their dead-letter queues.
            ...[`GlueTriggerLambda-${s}`, `ParquetToJsonTrigger-${s}`, `healthcare-claims-${s}-data-validation`].flatMap((fn) => [`${fn}-queue`, `${fn}-queue-dlq`]),
        ].flatMap((queue): ContractRequest[] => [
            {
                title: `${s}: anonymous may not send to ${queue}`,
                who: "Anyone else",
                expect: "deny",
                question: (g) => ({ principal: "anonymous", action: "sqs:SendMessage", resource: regional(g, s, "sqs", queue), context: TLS, resourcePolicy: queuePolicy(g[s], queue) as any }),
            },
            {
                title: `${s}: another account may not read ${queue}`,
                who: "Anyone else",
                expect: "deny",
                question: (g) => ({
                    principal: `arn:aws:iam::${OTHER_ACCOUNT}:role/outsider`,
                    action: "sqs:ReceiveMessage",
                    resource: regional(g, s, "sqs", queue),
                    context: TLS,
                    identity: ALLOW_ALL,
                    resourcePolicy: queuePolicy(g[s], queue) as any,
                }),
            },
        ]),
    ]),

    // -------------------------------------------------------------------- the claims warehouse
    ...DATA_API.flatMap((action): ContractRequest[] => [
        {
            title: `dev with the warehouse: the load function runs ${action} on its workgroup`,
            who: "The claims warehouse",
            expect: "allow",
            question: (g) => ({ ...asRole(g, "warehouse", "claims-warehouse-load-role"), action, resource: whArn(g, "redshift-serverless", WORKGROUP) }),
        },
        {
            title: `dev with the warehouse: the load function may not run ${action} on another workgroup`,
            who: "The claims warehouse",
            expect: "deny",
            question: (g) => ({ ...asRole(g, "warehouse", "claims-warehouse-load-role"), action, resource: whArn(g, "redshift-serverless", FOREIGN_WORKGROUP) }),
        },
    ]),
    {
        title: "dev with the warehouse: Redshift's COPY role reads the claims bucket's processed/ Parquet",
        who: "The claims warehouse",
        expect: "allow",
        question: (g) => ({ ...asRole(g, "warehouse", "claims-warehouse-copy-role"), action: "s3:GetObject", ...whClaimsObject(g, "processed/claims/ingest_date=2024-01-01/part-0.parquet") }),
    },
    {
        title: "dev with the warehouse: Redshift's COPY role may not read the claims bucket's raw/ uploads",
        who: "The claims warehouse",
        expect: "deny",
        question: (g) => ({ ...asRole(g, "warehouse", "claims-warehouse-copy-role"), action: "s3:GetObject", ...whClaimsObject(g, "raw/claims/claims_2024.csv") }),
    },
    ...(
        [
            ["through S3 (reading processed/)", { "kms:ViaService": `s3.${REGION}.amazonaws.com` }, "allow"],
            ["directly, not through S3", {}, "deny"],
        ] as const
    ).map(
        ([how, context, expect]): ContractRequest => ({
            title: `dev with the warehouse: Redshift's COPY role decrypts with the data-lake key ${how}`,
            who: "The claims warehouse",
            expect,
            question: (g) => ({
                ...asRole(g, "warehouse", "claims-warehouse-copy-role"),
                action: "kms:Decrypt",
                resource: whArn(g, "kms", "key/data-lake-key-key-id"),
                resourceTags: stackTags(g, "warehouse"),
                context,
                resourcePolicy: keyPolicy(g.warehouse, "data-lake-key") as any,
            }),
        }),
    ),
    {
        title: "dev with the warehouse: Redshift assumes the COPY role (from its own account)",
        who: "The claims warehouse",
        expect: "allow",
        question: (g) => assume(g, "warehouse", "claims-warehouse-copy-role", "redshift.amazonaws.com", "sts:AssumeRole", { "aws:SourceAccount": whAcct(g) }),
    },
    {
        title: "dev with the warehouse: Redshift of another account may not assume the COPY role",
        who: "Anyone else",
        expect: "deny",
        question: (g) => assume(g, "warehouse", "claims-warehouse-copy-role", "redshift.amazonaws.com", "sts:AssumeRole", { "aws:SourceAccount": OTHER_ACCOUNT }),
    },
    // The deploy role of an account whose stack file enables the warehouse manages it by the Project tag (its
    // resources' ARNs carry generated ids): created only with the tag, changed only where the tag is.
    ...(
        [
            ["creates the project-tagged workgroup", "redshift-serverless:CreateWorkgroup", "workgroup/3c4d5e6f-new", { "aws:RequestTag/Project": PROJECT }, undefined, "allow"],
            ["updates the project's workgroup", "redshift-serverless:UpdateWorkgroup", WORKGROUP, {}, "project", "allow"],
            ["may not delete another team's workgroup", "redshift-serverless:DeleteWorkgroup", FOREIGN_WORKGROUP, {}, "payroll", "deny"],
            ["may not delete another team's namespace", "redshift-serverless:DeleteNamespace", "namespace/0b1c2d3e-payroll", {}, "payroll", "deny"],
            ["creates the project-tagged VPC", "ec2:CreateVpc", "vpc/vpc-0new", { "aws:RequestTag/Project": PROJECT }, undefined, "allow"],
            ["deletes the project's VPC", "ec2:DeleteVpc", "vpc/vpc-0a1b2c3d", {}, "project", "allow"],
            ["may not delete another team's VPC", "ec2:DeleteVpc", "vpc/vpc-0payroll", {}, "payroll", "deny"],
            ["may not open another team's security group", "ec2:AuthorizeSecurityGroupIngress", "security-group/sg-0payroll", {}, "payroll", "deny"],
        ] as const
    ).map(
        ([what, action, resource, context, owner, expect]): ContractRequest => ({
            title: `dev's deploy role with the warehouse ${what} (${action})`,
            who: "Deploy roles",
            expect,
            question: (g) => ({
                ...asRole(g, "bootstrap-warehouse", "access-deploy"),
                action,
                resource: whArn(g, action.split(":")[0], resource),
                context,
                ...(owner ? { resourceTags: owner === "project" ? stackTags(g, "warehouse") : { Project: "payroll" } } : {}),
            }),
        }),
    ),
    {
        title: "dev's deploy role without the warehouse may not create a workgroup",
        who: "Deploy roles",
        expect: "deny",
        question: (g) => ({
            ...asRole(g, "bootstrap-dev", "access-deploy"),
            action: "redshift-serverless:CreateWorkgroup",
            resource: regional(g, "dev", "redshift-serverless", "workgroup/3c4d5e6f-new"),
            context: { "aws:RequestTag/Project": PROJECT },
        }),
    },
    ...stacks.map(
        (s): ContractRequest => ({
            title: `${s} (no warehouse): the boundary cuts a workload role off the Redshift Data API`,
            who: "Permissions boundary",
            expect: "deny",
            question: (g) => ({ ...asRole(g, s, "glue-trigger-role"), identity: ALLOW_ALL, action: "redshift-data:BatchExecuteStatement", resource: regional(g, s, "redshift-serverless", "workgroup/3c4d5e6f-any") }),
        }),
    ),
    ...(
        [
            ["lets a workload role reach the Data API on the account's workgroups in the stack's region", REGION, "allow"],
            ["cuts a workload role off the Data API on a workgroup in another region", "us-east-1", "deny"],
        ] as const
    ).map(
        ([what, region, expect]): ContractRequest => ({
            title: `dev with the warehouse: the boundary ${what}`,
            who: "Permissions boundary",
            expect,
            question: (g) => ({ ...asRole(g, "warehouse", "claims-warehouse-load-role"), identity: ALLOW_ALL, action: "redshift-data:BatchExecuteStatement", resource: whArn(g, "redshift-serverless", WORKGROUP, region) }),
        }),
    ),

    // -------------------------------------------------------------------- delivery principals
    {
        title: "the CI role (which pull requests reach) may assume dev's GlueTestRole",
        who: "Pull requests, previews and CI",
        expect: "allow",
        question: (g) => ({ ...asRole(g, "bootstrap-pipeline", "ci-role"), action: "sts:AssumeRole", resource: role(g["bootstrap-dev"], "glue-test-role").arn, resourcePolicy: role(g["bootstrap-dev"], "glue-test-role").trust as any }),
    },
    {
        title: "the CI role may not assume any role in prod (no GlueTestRole-prod: IAM cannot limit a job run's arguments)",
        who: "Pull requests, previews and CI",
        expect: "deny",
        defect: 3,
        question: (g) => ({
            ...asRole(g, "bootstrap-pipeline", "ci-role"),
            action: "sts:AssumeRole",
            resource: `arn:aws:iam::${acct(g, "prod")}:role/glue-data-pipeline-bootstrap/GlueTestRole-prod`,
            // The role's trust admits the CI role (as it did): the answer turns on the CI role's own policy.
            resourcePolicy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: role(g["bootstrap-pipeline"], "ci-role").arn }, Action: "sts:AssumeRole" }] },
        }),
    },
    {
        title: "the CI role may not read prod's input bucket",
        who: "Pull requests, previews and CI",
        expect: "deny",
        question: (g) => ({ ...asRole(g, "bootstrap-pipeline", "ci-role"), action: "s3:GetObject", ...onS3(g, "prod", "input", "sales.csv"), context: TLS, resourcePolicy: bucketPolicy(g.prod, bucket(g, "prod", "input")) as any }),
    },
    ...(["dev", "prod"] as const).map(
        (s): ContractRequest => ({
            title: `${s}'s preview role (pull requests' previews) may not write anything: PutObject on ${s}'s input`,
            who: "Pull requests, previews and CI",
            expect: "deny",
            question: (g) => ({ ...asRole(g, `bootstrap-${s}`, "access-preview"), action: "s3:PutObject", ...onS3(g, s, "input", "x.csv"), context: TLS, resourcePolicy: bucketPolicy(g[s], bucket(g, s, "input")) as any }),
        }),
    ),
    {
        title: "dev's deploy role may not touch prod's buckets",
        who: "Deploy roles",
        expect: "deny",
        question: (g) => ({ ...asRole(g, "bootstrap-dev", "access-deploy"), action: "s3:PutBucketPolicy", ...onS3(g, "prod", "input"), context: TLS, resourcePolicy: bucketPolicy(g.prod, bucket(g, "prod", "input")) as any }),
    },
    {
        title: "prod's deploy role may not remove a role's permissions boundary",
        who: "Deploy roles",
        expect: "deny",
        question: (g) => ({ ...asRole(g, "bootstrap-prod", "access-deploy"), action: "iam:DeleteRolePermissionsBoundary", resource: `arn:aws:iam::${acct(g, "prod")}:role/glue-trigger-role` }),
    },
    {
        title: "prod's deploy role may not delete prod's processing table (allowDataDestroy is false)",
        who: "Deploy roles",
        expect: "deny",
        defect: 5,
        question: (g) => ({ ...asRole(g, "bootstrap-prod", "access-deploy"), action: "dynamodb:DeleteTable", resource: regional(g, "prod", "dynamodb", "table/etl-pipeline-metadata-prod") }),
    },
    {
        title: "prod's deploy role may not delete prod's input bucket (allowDataDestroy is false)",
        who: "Deploy roles",
        expect: "deny",
        defect: 5,
        question: (g) => ({ ...asRole(g, "bootstrap-prod", "access-deploy"), action: "s3:DeleteBucket", ...onS3(g, "prod", "input") }),
    },
    {
        title: "prod's deploy role may not schedule deletion of prod's data-lake key",
        who: "Deploy roles",
        expect: "deny",
        defect: 5,
        question: (g) => ({ ...asRole(g, "bootstrap-prod", "access-deploy"), action: "kms:ScheduleKeyDeletion", resource: dataKey(g, "prod"), resourcePolicy: keyPolicy(g.prod, "data-lake-key") as any }),
    },
    {
        // It may create bounded roles; in its own account a role whose trust names it could be assumed on that
        // trust alone, and would read prod's data. Allowed before DenyAssumingRoles.
        title: "prod's deploy role may not assume a role it created whose trust names it (it would read prod's data through it)",
        who: "Deploy roles",
        expect: "deny",
        defect: 5,
        question: (g) => {
            const deployer = asRole(g, "bootstrap-prod", "access-deploy");
            return {
                ...deployer,
                action: "sts:AssumeRole",
                resource: `arn:aws:iam::${acct(g, "prod")}:role/reader-role-abcdefg`,
                resourcePolicy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: deployer.principal }, Action: "sts:AssumeRole" }] } as any,
            };
        },
    },
    {
        title: "dev's deploy role assumes dev's smoke role (smokeOnUp: the last step of pulumi up runs smoke as it)",
        who: "Deploy roles",
        expect: "allow",
        question: (g) => ({
            ...asRole(g, "bootstrap-dev", "access-deploy"),
            action: "sts:AssumeRole",
            resource: `arn:aws:iam::${acct(g, "dev")}:role/SmokeRole-dev`,
            resourcePolicy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${acct(g, "dev")}:root` }, Action: "sts:AssumeRole" }] } as any,
        }),
    },
    // Removing a bucket's own block is authorized as s3:PutBucketPublicAccessBlock, which creating the block of
    // a new bucket needs too: IAM cannot refuse one without the other. What keeps a bucket closed whatever the
    // deploy role does to it is the account's block, which the bootstrap sets and the deploy role cannot change.
    {
        title: "prod's deploy role may not change the account's S3 Block Public Access",
        who: "Deploy roles",
        expect: "deny",
        question: (g) => ({ ...asRole(g, "bootstrap-prod", "access-deploy"), action: "s3:PutAccountPublicAccessBlock", resource: "*", resourceAccount: acct(g, "prod") }),
    },
    ...stacks.map(
        (s): ContractRequest => ({
            title: `${s}: a bucket whose policy were opened to everyone still refuses anonymous reads (the bootstrap's account-level Block Public Access)`,
            who: "Anyone else",
            expect: "deny",
            defect: 5,
            question: (g) => ({
                principal: "anonymous",
                action: "s3:GetObject",
                ...onS3(g, s, "output", "processed/sales/part-0.parquet"),
                context: TLS,
                resourcePolicy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: `${arnS3(bucket(g, s, "output"))}/*` }] },
                // Only the account's block: the bucket's own is what the opened policy would come with removed.
                s3BlockPublicAccess: accountBlocksPublicAccess(g[`bootstrap-${s}`]),
            }),
        }),
    ),
    {
        title: "prod's deploy role may not tag another team's KMS key into the project (no kms:TagResource on \"*\")",
        who: "Deploy roles",
        expect: "deny",
        defect: 7,
        question: (g) => ({
            ...asRole(g, "bootstrap-prod", "access-deploy"),
            action: "kms:TagResource",
            resource: regional(g, "prod", "kms", "key/payroll-key-id"),
            resourceTags: { Project: "payroll" },
            context: { "aws:RequestTag/Project": PROJECT },
            resourcePolicy: delegatingPolicy(acct(g, "prod")),
        }),
    },
    {
        title: "dev's deploy role deploys dev: creates a bounded role",
        who: "Deploy roles",
        expect: "allow",
        question: (g) => ({
            ...asRole(g, "bootstrap-dev", "access-deploy"),
            action: "iam:CreateRole",
            resource: `arn:aws:iam::${acct(g, "dev")}:role/glue-trigger-role-1234567`,
            context: { "iam:PermissionsBoundary": `arn:aws:iam::${acct(g, "dev")}:policy/glue-data-pipeline-bootstrap/glue-data-pipeline-boundary-dev` },
        }),
    },
    {
        title: "dev's deploy role deploys dev: tags the new role as CreateRole does (a TagRole request carries no iam:PermissionsBoundary)",
        who: "Deploy roles",
        expect: "allow",
        defect: 4,
        question: (g) => ({
            ...asRole(g, "bootstrap-dev", "access-deploy"),
            action: "iam:TagRole",
            resource: `arn:aws:iam::${acct(g, "dev")}:role/glue-trigger-role-1234567`,
            context: { "aws:RequestTag/Project": PROJECT },
        }),
    },
    {
        title: "dev's deploy role may not tag a foreign role into the project",
        who: "Deploy roles",
        expect: "deny",
        question: (g) => ({
            ...asRole(g, "bootstrap-dev", "access-deploy"),
            action: "iam:TagRole",
            resource: `arn:aws:iam::${acct(g, "dev")}:role/OrganizationAccountAccessRole`,
            context: { "aws:RequestTag/Project": PROJECT },
        }),
    },
    // Actions IAM authorizes only on Resource "*" (no resource type in AWS's data): granted on an ARN they
    // granted nothing, and deploying a log group or a state machine failed (defect 4). The SNS subscription
    // calls act on a subscription ARN, which AWS's data files under the topic type (optional): the deploy role
    // has them on "*" in the stack's region, which covers every subscription of its topics.
    ...(
        [
            ["reads log groups", "logs:DescribeLogGroups", 4],
            ["validates the state machine definition", "states:ValidateStateMachineDefinition", 4],
            ["reads an alert e-mail subscription", "sns:GetSubscriptionAttributes", undefined],
            ["sets an alert e-mail subscription's attributes", "sns:SetSubscriptionAttributes", undefined],
            ["removes an alert e-mail subscription", "sns:Unsubscribe", undefined],
        ] as const
    ).map(
        ([what, action, defect]): ContractRequest => ({
            title: `dev's deploy role deploys dev: ${what} (${action}${defect ? ', Resource "*" only' : ""})`,
            who: "Deploy roles",
            expect: "allow",
            defect,
            question: (g) => ({ ...asRole(g, "bootstrap-dev", "access-deploy"), action, resource: "*", resourceAccount: acct(g, "dev"), context: { "aws:RequestedRegion": REGION } }),
        }),
    ),
];
