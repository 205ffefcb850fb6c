/**
 * MedallionWorkflow (seed 004): a daily EventBridge Scheduler schedule starts a Step Functions state
 * machine that pages an HTTP API into bronze (ApiIngestion Lambda), runs the medallion Glue job
 * (bronze → silver → gold), crawls gold into the Glue Data Catalog and reports on SNS.
 *
 * Layout in the data bucket (the seed's diagram, under one root so it cannot collide with other flows):
 *
 *     medallion/raw/YYYY/MM/DD/<run>/page-NNNNN.json      bronze: API pages byte for byte (expire after 30 days)
 *     medallion/processed/YYYY/MM/DD/                      silver: validated, de-duplicated records (JSON lines)
 *     medallion/curated/<table>/year=/month=/day=/         gold: Parquet (Snappy), crawled into the catalog
 *     medallion/rejected/YYYY/MM/DD/                       records silver refused, with the reason
 *     medallion/_state/                                   the job's bookmark: which bronze objects it has processed
 *
 * Children: the API key secret (created empty; an operator sets it), the ingestion function, the Glue job
 * (GlueEtlJob), the crawler with its role and log group, the notification topic, the state machine with
 * its role and log group, and the schedule with its role and dead-letter queue. Lifecycle of the prefixes
 * is the bucket's (DataLakeBuckets' `output.prefixRules`, see stacks/workload.ts), not this component's.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { GlueJobEnvironment, parseArn } from "../glue/glueEnvironment";
import { BucketRef, GlueEtlJob, GlueExecutionClass } from "../glue/glueEtlJob";
import {
    PolicyDocument,
    PolicyStatement,
    cloudWatchLogsWriteStatement,
    glueJobRunStatement,
    kmsUseStatement,
    policyDocument,
    s3ReadStatements,
    s3WriteStatement,
    serviceAssumeRolePolicy,
    sqsSendMessageStatement,
    wildcardResourceViolations,
} from "../iam/iamPolicies";
import { LambdaFunction } from "../compute/lambdaFunction";
import { deadLetterQueuePolicy } from "../compute/lambdaFunctionResources";
import { EncryptedTopic, emailSubscriptionId } from "../messaging/encryptedTopic";
import { MedallionTiming, medallionStateMachineDefinition } from "./stateMachineDefinition";

/** Key prefixes of the medallion layers in the data bucket. */
export interface MedallionPrefixes {
    readonly raw: string;
    readonly silver: string;
    readonly gold: string;
    readonly rejected: string;
    readonly state: string;
}

export const MEDALLION_PREFIXES: MedallionPrefixes = {
    raw: "medallion/raw/",
    silver: "medallion/processed/",
    gold: "medallion/curated/",
    rejected: "medallion/rejected/",
    state: "medallion/_state/",
};

/**
 * Logical names of the failure-mail subscriptions: one per address, named by the address so that reordering
 * or removing another address neither replaces nor unconfirms it (SNS e-mail subscriptions are confirmed by
 * the recipient; a replaced one must be confirmed again). `previousName` is the name by list index that
 * stacks deployed before carry: an alias to it adopts their subscriptions without replacing them, provided the
 * list is not reordered in the same update (then an address inherits another's index and is replaced once).
 */
export function failureSubscriptionNames(component: string, emails: readonly string[]): Array<{ email: string; name: string; previousName: string }> {
    return emails.map((email, i) => ({ email, name: `${component}-failure-email-${emailSubscriptionId(email)}`, previousName: `${component}-failure-email-${i}` }));
}

/** Seed 004: daily at 09:00 UTC. */
export const DEFAULT_MEDALLION_SCHEDULE = "cron(0 9 * * ? *)";
/**
 * Seed 004: "Concurrent executions: 10 (prevents API rate limit)". A value to configure, not a default: a
 * reservation must leave the account's minimum unreserved concurrency free, which a new account cannot.
 */
export const SEED_INGEST_CONCURRENCY = 10;
/** Seed 004: Lambda timeout 5 minutes, 512 MB. */
export const INGEST_TIMEOUT_SECONDS = 300;
export const INGEST_MEMORY_MB = 512;
/** Seed 004: Glue timeout 30 minutes. */
export const MEDALLION_JOB_TIMEOUT_MINUTES = 30;
export const MEDALLION_JOB_SCRIPT = "glue/jobs/medallion_etl.py";
export const INGEST_ENTRY = "functions/api-ingest/handler.ts";
/** Crawler table names get this prefix, so gold tables cannot collide with other flows' in the shared database. */
export const GOLD_TABLE_PREFIX = "medallion_";
/** Where Glue crawlers without a security configuration log (an account-wide name). */
export const CRAWLER_LOG_GROUP = "/aws-glue/crawlers";
/** Step Functions' recommended prefix: the Logs resource policy it needs stays small under /aws/vendedlogs/. */
export const stateMachineLogGroupName = (name: string): string => `/aws/vendedlogs/states/${name}`;

/** Scheduler expressions: cron(6 fields), rate(n unit) or at(yyyy-mm-ddThh:mm:ss). */
export function validateScheduleExpression(expression: string): string {
    const cron = /^cron\((\S+\s+){5}\S+\)$/;
    const rate = /^rate\(\d+ (minute|minutes|hour|hours|day|days)\)$/;
    const at = /^at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\)$/;
    if (typeof expression !== "string" || !(cron.test(expression) || rate.test(expression) || at.test(expression))) {
        throw new Error(`MedallionWorkflow: scheduleExpression ${JSON.stringify(expression)} is not cron(m h dom mon dow yr), rate(n unit) or at(...)`);
    }
    if (cron.test(expression)) {
        const [, , dom, , dow] = expression.slice(5, -1).trim().split(/\s+/);
        // EventBridge requires exactly one of day-of-month and day-of-week to be "?".
        if ((dom === "?") === (dow === "?")) throw new Error(`MedallionWorkflow: scheduleExpression ${expression}: exactly one of day-of-month and day-of-week must be "?"`);
    }
    return expression;
}

/** The Glue crawler's `configuration`: tables one level below the gold prefix, schema changes merged in. */
export function crawlerConfiguration(goldPrefix: string): string {
    const level = goldPrefix.split("/").filter(Boolean).length + 1;
    return JSON.stringify({
        Version: 1.0,
        // One table per folder under the gold prefix (orders/, daily_sales/); year=/month=/day= are partitions.
        Grouping: { TableLevelConfiguration: level, TableGroupingPolicy: "CombineCompatibleSchemas" },
        CrawlerOutput: {
            // A new column is added to the table; partitions take the table's schema, so old ones stay queryable.
            Tables: { AddOrUpdateBehavior: "MergeNewColumns" },
            Partitions: { AddOrUpdateBehavior: "InheritFromTable" },
        },
    });
}

/** The command that sets the API key (shown in outputs and errors; the key never passes through Pulumi). */
export const setApiKeyCommand = (secretArn: string): string => `aws secretsmanager put-secret-value --secret-id ${secretArn} --secret-string '<api key>'`;

export interface IngestPolicyInputs {
    readonly secretArn: string;
    readonly bucketArn: string;
    readonly rawPrefix: string;
}

/** What the ingestion function may do beyond its logs and key: read the one secret, put pages under raw/. */
export function ingestStatements(p: IngestPolicyInputs): PolicyStatement[] {
    return [
        { Sid: "ReadApiKey", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: p.secretArn },
        // Put only: no list, no get, no delete — the function writes pages and needs nothing else.
        s3WriteStatement(p.bucketArn, [p.rawPrefix], {}, "WriteBronze"),
    ];
}

export interface StateMachinePolicyInputs {
    readonly functionArn: string;
    readonly jobArn: string;
    readonly crawlerArn: string;
    readonly topicArn: string;
    readonly kmsKeyArn: string;
}

/**
 * The state machine role: invoke the one function, run and watch the one job (.sync polls GetJobRun and
 * stops the run with BatchStopJobRun when the task times out), start and read the one crawler, publish to
 * the one topic (encrypted: key use), deliver its logs and traces (these actions have no resource ARNs).
 */
export function stateMachinePolicy(p: StateMachinePolicyInputs): PolicyDocument {
    const doc = policyDocument([
        { Sid: "InvokeIngestion", Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: [p.functionArn, `${p.functionArn}:*`] },
        glueJobRunStatement(p.jobArn, ["glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns", "glue:BatchStopJobRun"], "RunMedallionJob"),
        glueJobRunStatement(p.crawlerArn, ["glue:StartCrawler", "glue:GetCrawler"], "RunCrawler"),
        { Sid: "Notify", Effect: "Allow", Action: ["sns:Publish"], Resource: p.topicArn },
        kmsUseStatement(p.kmsKeyArn, "encryptDecrypt", { sid: "EncryptNotifications" }),
        {
            Sid: "DeliverLogs",
            Effect: "Allow",
            Action: [
                "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery", "logs:ListLogDeliveries",
                "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
            ],
            Resource: "*",
        },
        { Sid: "WriteTraces", Effect: "Allow", Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"], Resource: "*" },
    ]);
    assertNoWildcards(doc, "state machine");
    return doc;
}

/** The schedule's role: start executions of the one state machine, nothing else; send failures to its DLQ. */
export function schedulerPolicy(p: { stateMachineArn: string; deadLetterQueueArn: string; kmsKeyArn: string }): PolicyDocument {
    const doc = policyDocument([
        { Sid: "StartWorkflow", Effect: "Allow", Action: ["states:StartExecution"], Resource: p.stateMachineArn },
        sqsSendMessageStatement(p.deadLetterQueueArn, "SendToDeadLetterQueue"),
        kmsUseStatement(p.kmsKeyArn, "encryptDecrypt", { sid: "EncryptDeadLetters" }),
    ]);
    assertNoWildcards(doc, "scheduler");
    return doc;
}

export interface CrawlerPolicyInputs {
    readonly databaseArn: string;
    readonly bucketArn: string;
    readonly goldPrefix: string;
    readonly kmsKeyArn: string;
    readonly logGroupArn: string;
    /** The group the crawler logs to under its security configuration ({@link encryptedCrawlerLogGroupName}). */
    readonly encryptedLogGroupArn?: string;
}

/**
 * The group a crawler with a security configuration that encrypts CloudWatch logs writes to, as AWS names
 * it: `/aws-glue/crawlers-role<role path><role name>-<security configuration>` (instead of the account-wide
 * `/aws-glue/crawlers`). The name is AWS's convention, not provable offline.
 */
export function encryptedCrawlerLogGroupName(securityConfigurationName: string, roleName: string, rolePath = "/"): string {
    if (!rolePath.startsWith("/") || !rolePath.endsWith("/")) throw new Error(`encryptedCrawlerLogGroupName: role path must start and end with '/' (got ${rolePath})`);
    return `/aws-glue/crawlers-role${rolePath}${roleName}-${securityConfigurationName}`;
}

/** The crawler's role: read gold, decrypt it, maintain tables and partitions of the one database, log. */
export function crawlerPolicy(p: CrawlerPolicyInputs): PolicyDocument {
    const { partition, region, account, resource } = parseArn(p.databaseArn);
    const database = resource.replace(/^database\//, "");
    const glueArn = (r: string) => `arn:${partition}:glue:${region}:${account}:${r}`;
    const doc = policyDocument([
        ...s3ReadStatements(p.bucketArn, [p.goldPrefix], "ReadGold"),
        kmsUseStatement(p.kmsKeyArn, "decrypt", { sid: "DecryptGold" }),
        {
            Sid: "MaintainCatalog",
            Effect: "Allow",
            Action: [
                "glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:CreateTable", "glue:UpdateTable",
                "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition", "glue:CreatePartition", "glue:BatchCreatePartition",
                "glue:UpdatePartition", "glue:BatchUpdatePartition",
            ],
            Resource: [glueArn("catalog"), glueArn(`database/${database}`), glueArn(`table/${database}/*`)],
        },
        { ...cloudWatchLogsWriteStatement(p.logGroupArn), Sid: "WriteCrawlerLogs" },
        ...(p.encryptedLogGroupArn
            ? [
                  { ...cloudWatchLogsWriteStatement(p.encryptedLogGroupArn), Sid: "WriteEncryptedCrawlerLogs" },
                  // Glue associates the security configuration's key with the group when it starts logging.
                  { Sid: "EncryptCrawlerLogs", Effect: "Allow" as const, Action: ["logs:AssociateKmsKey"], Resource: p.encryptedLogGroupArn },
              ]
            : []),
    ]);
    assertNoWildcards(doc, "crawler");
    return doc;
}

function assertNoWildcards(doc: PolicyDocument, what: string): void {
    const violations = wildcardResourceViolations(doc);
    if (violations.length > 0) throw new Error(`MedallionWorkflow: ${what} policy grants data-plane actions on "*": ${JSON.stringify(violations)}`);
}

export interface MedallionWorkflowArgs {
    /** Stage (`dev`, `prod`): part of every name. */
    readonly stage: string;
    /** The bucket holding every layer (the stack's output bucket). */
    readonly dataBucket: BucketRef;
    /** The bucket the Glue job's code is uploaded to. */
    readonly assetsBucket: BucketRef;
    /** The stack's Glue environment: catalog database, security configuration, shared log groups. */
    readonly glueEnvironment: GlueJobEnvironment;
    /**
     * The stack's key: the secret, the topic, the DLQ, the log groups and the data are encrypted with it. Its
     * policy must let CloudWatch Logs use it for `/aws/lambda/*`, `/aws-glue/*` and `/aws/vendedlogs/states/*`.
     */
    readonly kmsKeyArn: pulumi.Input<string>;
    /** The API's first-page URL for this stack (https). */
    readonly apiBaseUrl: string;
    /** Header the API key goes in. @default "x-api-key" */
    readonly apiKeyHeader?: string;
    /** Records per page. @default 100 */
    readonly pageSize?: number;
    /** Layer prefixes. @default {@link MEDALLION_PREFIXES} */
    readonly prefixes?: MedallionPrefixes;
    /** @default "cron(0 9 * * ? *)" (daily 09:00) */
    readonly scheduleExpression?: string;
    /** Time zone the expression is read in. @default "UTC" */
    readonly scheduleTimezone?: string;
    /** A disabled schedule keeps everything deployed but starts nothing (executions can still be started by hand). @default true */
    readonly scheduleEnabled?: boolean;
    /** Make an API with no new records a failed run. @default false (a NO_DATA message, then success) */
    readonly noDataIsFailure?: boolean;
    /** Addresses that get FAILED messages (SNS filter policy on `status`). @default none */
    readonly failureEmails?: readonly string[];
    /** Reserved concurrency of the ingestion function (seed 004 caps it at SEED_INGEST_CONCURRENCY). @default none */
    readonly ingestConcurrency?: number;
    /** Glue version. @default GlueEtlJob's */
    readonly glueVersion?: string;
    /** Maximum Glue workers (auto scaling). @default 10 (seed: "Max capacity: 10 DPU") */
    readonly maxWorkers?: number;
    /** @default "STANDARD" (a Flex run may wait for capacity past the 30-minute task timeout) */
    readonly executionClass?: GlueExecutionClass;
    /** Size the job aims each gold Parquet file at. @default 128 */
    readonly targetFileMb?: number;
    /** Timings of the state machine. @default the seed's */
    readonly timing?: Partial<MedallionTiming>;
    /** Create `/aws-glue/crawlers` (account-wide; turn off if it exists and is managed elsewhere). @default true */
    readonly manageCrawlerLogGroup?: boolean;
    /** Days the state machine's and the crawler's log groups keep events (the function's keep 14). @default 30 */
    readonly logRetentionDays?: number;
    /** Release id stamped on the job (`--release_id`) and function (`RELEASE_ID`). @default none */
    readonly releaseId?: pulumi.Input<string>;
    /** Whether `pulumi destroy` may delete the secret at once (else it is recoverable for 30 days). @default false */
    readonly allowDestroy?: boolean;
    readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export class MedallionWorkflow extends pulumi.ComponentResource {
    public readonly apiKeySecret: aws.secretsmanager.Secret;
    public readonly ingest: LambdaFunction;
    public readonly job: GlueEtlJob;
    public readonly crawlerRole: aws.iam.Role;
    public readonly crawlerRolePolicy: aws.iam.RolePolicy;
    public readonly crawlerLogGroup?: aws.cloudwatch.LogGroup;
    /** Where the crawler logs under the stack's security configuration. */
    public readonly crawlerEncryptedLogGroup: aws.cloudwatch.LogGroup;
    public readonly crawler: aws.glue.Crawler;
    /** The notification topic with its policy and failure-mail subscriptions. */
    public readonly notifications: EncryptedTopic;
    public readonly topic: aws.sns.Topic;
    public readonly topicPolicy: aws.sns.TopicPolicy;
    public readonly failureSubscriptions: aws.sns.TopicSubscription[];
    public readonly stateMachineLogGroup: aws.cloudwatch.LogGroup;
    public readonly stateMachineRole: aws.iam.Role;
    public readonly stateMachineRolePolicy: aws.iam.RolePolicy;
    public readonly stateMachine: aws.sfn.StateMachine;
    public readonly scheduleDeadLetterQueue: aws.sqs.Queue;
    public readonly scheduleDeadLetterQueuePolicy: aws.sqs.QueuePolicy;
    public readonly scheduleRole: aws.iam.Role;
    public readonly scheduleRolePolicy: aws.iam.RolePolicy;
    public readonly schedule: aws.scheduler.Schedule;

    public readonly prefixes: MedallionPrefixes;
    public readonly stateMachineArn: pulumi.Output<string>;
    public readonly crawlerName: pulumi.Output<string>;
    public readonly topicArn: pulumi.Output<string>;
    public readonly apiKeySecretArn: pulumi.Output<string>;
    /** The operator's command that sets the API key. */
    public readonly setApiKeyCommand: pulumi.Output<string>;
    /** `s3://<bucket>/<gold prefix>` */
    public readonly goldLocation: pulumi.Output<string>;

    constructor(name: string, args: MedallionWorkflowArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("glue-pipeline:workflow:MedallionWorkflow", name, {}, opts);

        const stage = args.stage;
        if (!/^[a-z][a-z0-9-]{0,30}$/.test(stage ?? "")) throw new Error(`MedallionWorkflow: stage ${JSON.stringify(stage)} must be lowercase letters, digits and '-'`);
        const schedule = validateScheduleExpression(args.scheduleExpression ?? DEFAULT_MEDALLION_SCHEDULE);
        // Checked at preview, not at 09:00 the next day (the function checks it again at cold start).
        if (!/^https:\/\/[^/\s]+/.test(args.apiBaseUrl ?? "")) throw new Error(`MedallionWorkflow: apiBaseUrl ${JSON.stringify(args.apiBaseUrl)} must be an https URL`);
        const prefixes = args.prefixes ?? MEDALLION_PREFIXES;
        for (const [layer, prefix] of Object.entries(prefixes)) {
            if (!/^([A-Za-z0-9._-]+\/)+$/.test(prefix)) throw new Error(`MedallionWorkflow: prefixes.${layer} ${JSON.stringify(prefix)} must be like "medallion/raw/"`);
        }
        const distinct = new Set(Object.values(prefixes));
        if (distinct.size !== Object.values(prefixes).length) throw new Error("MedallionWorkflow: prefixes must all differ");
        const targetFileMb = args.targetFileMb ?? 128;
        if (!Number.isInteger(targetFileMb) || targetFileMb < 1 || targetFileMb > 1024) throw new Error(`MedallionWorkflow: targetFileMb must be 1-1024, got ${targetFileMb}`);
        const retention = args.logRetentionDays ?? 30;
        const executionClass = args.executionClass ?? "STANDARD";
        const failureEmails = args.failureEmails ?? [];
        this.prefixes = prefixes;
        const tags = args.tags;
        const key = pulumi.output(args.kmsKeyArn);
        const bucketName = pulumi.output(args.dataBucket.bucket);
        const bucketArn = pulumi.output(args.dataBucket.arn);
        const s3 = (prefix: string) => pulumi.interpolate`s3://${bucketName}/${prefix}`;
        const names = {
            secret: `glue-pipeline/${stage}/medallion-api-key`,
            fn: `ApiIngestion-${stage}`,
            job: `MedallionEtl-${stage}`,
            crawler: `medallion-gold-${stage}`,
            topic: `medallion-notifications-${stage}`,
            machine: `medallion-workflow-${stage}`,
            schedule: `medallion-daily-${stage}`,
        };

        // --- the API key: created empty, set by an operator; never in config, state or code ------------------
        this.apiKeySecret = new aws.secretsmanager.Secret(
            `${name}-api-key`,
            {
                name: names.secret,
                description: `API key of the medallion source API (${stage}). Set it with: aws secretsmanager put-secret-value --secret-id ${names.secret} --secret-string '<api key>'`,
                kmsKeyId: key,
                recoveryWindowInDays: args.allowDestroy ? 0 : 30,
                tags,
            },
            { parent: this },
        );
        this.apiKeySecretArn = this.apiKeySecret.arn;
        this.setApiKeyCommand = this.apiKeySecret.arn.apply(setApiKeyCommand);

        // --- bronze: the ingestion function ------------------------------------------------------------------
        this.ingest = new LambdaFunction(
            `${name}-ingest`,
            {
                functionName: names.fn,
                entry: INGEST_ENTRY,
                description: "Pages the medallion source API into bronze (seed 004); invoked by the medallion state machine",
                environment: {
                    API_BASE_URL: args.apiBaseUrl,
                    API_KEY_SECRET_ID: this.apiKeySecret.arn,
                    API_KEY_HEADER: args.apiKeyHeader ?? "x-api-key",
                    BRONZE_BUCKET: bucketName,
                    BRONZE_PREFIX: prefixes.raw,
                    PAGE_SIZE: String(args.pageSize ?? 100),
                    ...(args.releaseId !== undefined ? { RELEASE_ID: args.releaseId } : {}),
                },
                policyStatements: pulumi
                    .all([this.apiKeySecret.arn, bucketArn])
                    .apply(([secretArn, arn]) => ingestStatements({ secretArn, bucketArn: arn, rawPrefix: prefixes.raw })),
                timeoutSeconds: INGEST_TIMEOUT_SECONDS,
                memorySizeMb: INGEST_MEMORY_MB,
                reservedConcurrency: args.ingestConcurrency,
                kmsKeyArn: key,
                // Lambda logs keep the project's 14 days (seed 000), like every other function's.
                tags,
            },
            { parent: this },
        );

        // --- silver and gold: the Glue job -------------------------------------------------------------------
        this.job = new GlueEtlJob(
            `${name}-job`,
            {
                jobName: names.job,
                scriptPath: MEDALLION_JOB_SCRIPT,
                assetsBucket: args.assetsBucket,
                environment: args.glueEnvironment,
                kmsKeyArn: key,
                glueVersion: args.glueVersion,
                maxWorkers: args.maxWorkers ?? 10,
                timeoutMinutes: MEDALLION_JOB_TIMEOUT_MINUTES,
                // One run at a time: runs share the bookmark. A second start waits in Glue's queue.
                maxConcurrentRuns: 1,
                // Step Functions retries a failed run (seed: twice); Glue must not retry it as well.
                maxRetries: 0,
                executionClass,
                jobRunQueuing: executionClass !== "FLEX",
                // The job keeps its own bookmark under _state/ (same code locally and on Glue); see medallion.py.
                bookmarks: "disable",
                dataCatalog: "off",
                readAccess: [{ bucketArn, prefixes: [prefixes.raw] }],
                writeAccess: [{ bucketArn, prefixes: [prefixes.silver, prefixes.gold, prefixes.rejected, prefixes.state] }],
                defaultArguments: {
                    "--bronze_path": s3(prefixes.raw),
                    "--silver_path": s3(prefixes.silver),
                    "--gold_path": s3(prefixes.gold),
                    "--rejected_path": s3(prefixes.rejected),
                    "--state_path": s3(prefixes.state),
                    "--target_file_mb": String(targetFileMb),
                    ...(args.releaseId !== undefined ? { "--release_id": args.releaseId } : {}),
                },
                description: "Medallion: bronze API pages → silver records → gold Parquet (seed 004)",
                tags,
            },
            { parent: this },
        );

        // --- catalog: the crawler over gold ------------------------------------------------------------------
        const databaseArn = pulumi.output(args.glueEnvironment.databaseArn);
        this.crawlerRole = new aws.iam.Role(
            `${name}-crawler-role`,
            {
                description: `Runs the Glue crawler ${names.crawler}`,
                assumeRolePolicy: databaseArn.apply((arn) => JSON.stringify(serviceAssumeRolePolicy("glue.amazonaws.com", { sourceAccount: parseArn(arn).account }))),
                tags,
            },
            { parent: this },
        );
        const crawlerLogGroupArn: pulumi.Output<string> =
            args.manageCrawlerLogGroup === false
                ? databaseArn.apply((arn) => {
                      const a = parseArn(arn);
                      return `arn:${a.partition}:logs:${a.region}:${a.account}:log-group:${CRAWLER_LOG_GROUP}`;
                  })
                : (this.crawlerLogGroup = new aws.cloudwatch.LogGroup(
                      `${name}-crawler-logs`,
                      { name: CRAWLER_LOG_GROUP, retentionInDays: retention, kmsKeyId: key, tags },
                      { parent: this },
                  )).arn;
        // The crawler runs under the stack's security configuration (its logs encrypted with the stack's key),
        // so it logs to its own group, created here with the stack's retention and key.
        this.crawlerEncryptedLogGroup = new aws.cloudwatch.LogGroup(
            `${name}-crawler-encrypted-logs`,
            {
                name: pulumi.all([args.glueEnvironment.securityConfigurationName, this.crawlerRole.name]).apply(([config, role]) => encryptedCrawlerLogGroupName(config, role)),
                retentionInDays: retention,
                kmsKeyId: key,
                tags,
            },
            { parent: this },
        );
        this.crawlerRolePolicy = new aws.iam.RolePolicy(
            `${name}-crawler-policy`,
            {
                role: this.crawlerRole.id,
                policy: pulumi
                    .all([databaseArn, bucketArn, key, crawlerLogGroupArn, this.crawlerEncryptedLogGroup.arn])
                    .apply(([db, b, k, lg, elg]) =>
                        JSON.stringify(crawlerPolicy({ databaseArn: db, bucketArn: b, goldPrefix: prefixes.gold, kmsKeyArn: k, logGroupArn: lg, encryptedLogGroupArn: elg })),
                    ),
            },
            { parent: this },
        );
        this.crawler = new aws.glue.Crawler(
            `${name}-crawler`,
            {
                name: names.crawler,
                description: "Catalogs the medallion gold tables and their year=/month=/day= partitions",
                role: this.crawlerRole.arn,
                databaseName: args.glueEnvironment.databaseName,
                tablePrefix: GOLD_TABLE_PREFIX,
                s3Targets: [{ path: s3(prefixes.gold), exclusions: ["**/_SUCCESS", "**/_temporary/**", "**/.spark-staging*/**", "**_$folder$"] }],
                // Schema evolution reaches the catalog; a vanished table is logged, never dropped by a crawl.
                schemaChangePolicy: { updateBehavior: "UPDATE_IN_DATABASE", deleteBehavior: "LOG" },
                recrawlPolicy: { recrawlBehavior: "CRAWL_EVERYTHING" },
                configuration: crawlerConfiguration(prefixes.gold),
                securityConfiguration: args.glueEnvironment.securityConfigurationName,
                tags,
            },
            { parent: this, dependsOn: [this.crawlerRolePolicy, this.crawlerEncryptedLogGroup, ...(this.crawlerLogGroup ? [this.crawlerLogGroup] : [])] },
        );
        this.crawlerName = this.crawler.name;

        // --- notifications -----------------------------------------------------------------------------------
        this.notifications = new EncryptedTopic(
            `${name}-topic`,
            {
                topicName: names.topic,
                displayName: `Medallion workflow ${stage}`,
                kmsKeyArn: key,
                subscriptions: failureSubscriptionNames(name, failureEmails).map(({ email, name: logicalName, previousName }) => ({
                    email,
                    logicalName,
                    filterPolicy: { status: ["FAILED"] },
                    previousNames: [previousName],
                })),
                tags,
                // These resources sat directly under this component before EncryptedTopic existed.
                formerParent: this,
            },
            { parent: this },
        );
        this.topic = this.notifications.topic;
        this.topicPolicy = this.notifications.topicPolicy;
        this.failureSubscriptions = this.notifications.subscriptions;
        this.topicArn = this.topic.arn;

        // --- the state machine -------------------------------------------------------------------------------
        this.stateMachineLogGroup = new aws.cloudwatch.LogGroup(
            `${name}-states-logs`,
            { name: stateMachineLogGroupName(names.machine), retentionInDays: retention, kmsKeyId: key, tags },
            { parent: this },
        );
        this.stateMachineRole = new aws.iam.Role(
            `${name}-states-role`,
            {
                description: `Runs the state machine ${names.machine}`,
                assumeRolePolicy: databaseArn.apply((arn) => JSON.stringify(serviceAssumeRolePolicy("states.amazonaws.com", { sourceAccount: parseArn(arn).account }))),
                tags,
            },
            { parent: this },
        );
        this.stateMachineRolePolicy = new aws.iam.RolePolicy(
            `${name}-states-policy`,
            {
                role: this.stateMachineRole.id,
                policy: pulumi
                    .all([this.ingest.functionArn, this.job.jobArn, this.crawler.arn, this.topic.arn, key])
                    .apply(([functionArn, jobArn, crawlerArn, topicArn, kmsKeyArn]) =>
                        JSON.stringify(stateMachinePolicy({ functionArn, jobArn, crawlerArn, topicArn, kmsKeyArn })),
                    ),
            },
            { parent: this },
        );
        this.stateMachine = new aws.sfn.StateMachine(
            `${name}-states`,
            {
                name: names.machine,
                type: "STANDARD",
                roleArn: this.stateMachineRole.arn,
                definition: pulumi
                    .all([this.ingest.functionArn, this.job.jobName, this.crawler.name, this.topic.arn])
                    .apply(([ingestFunctionArn, glueJobName, crawlerName, topicArn]) =>
                        JSON.stringify(
                            medallionStateMachineDefinition({
                                ingestFunctionArn,
                                glueJobName,
                                crawlerName,
                                topicArn,
                                subjectPrefix: `[medallion ${stage}]`,
                                noDataIsFailure: args.noDataIsFailure ?? false,
                                timing: args.timing,
                            }),
                        ),
                    ),
                loggingConfiguration: { logDestination: pulumi.interpolate`${this.stateMachineLogGroup.arn}:*`, includeExecutionData: true, level: "ALL" },
                tracingConfiguration: { enabled: true },
                tags,
            },
            // The role must already be allowed to deliver logs, or creation fails on the logging configuration.
            { parent: this, dependsOn: [this.stateMachineRolePolicy] },
        );
        this.stateMachineArn = this.stateMachine.arn;

        // --- the schedule ------------------------------------------------------------------------------------
        this.scheduleDeadLetterQueue = new aws.sqs.Queue(
            `${name}-schedule-dlq`,
            { name: `${names.schedule}-dlq`, messageRetentionSeconds: 14 * 24 * 3600, kmsMasterKeyId: key, tags },
            { parent: this },
        );
        this.scheduleDeadLetterQueuePolicy = new aws.sqs.QueuePolicy(
            `${name}-schedule-dlq-policy`,
            { queueUrl: this.scheduleDeadLetterQueue.url, policy: this.scheduleDeadLetterQueue.arn.apply((arn) => JSON.stringify(deadLetterQueuePolicy(arn))) },
            { parent: this },
        );
        this.scheduleRole = new aws.iam.Role(
            `${name}-schedule-role`,
            {
                description: `Lets the schedule ${names.schedule} start ${names.machine}`,
                assumeRolePolicy: databaseArn.apply((arn) => {
                    const a = parseArn(arn);
                    return JSON.stringify(
                        serviceAssumeRolePolicy("scheduler.amazonaws.com", {
                            sourceAccount: a.account,
                            // Scheduler presents its schedule *group* as aws:SourceArn (its confused-deputy
                            // guidance scopes to the group); the schedule's own ARN never matched, so every run
                            // and its dead-letter delivery were refused. The schedule lives in the default group.
                            sourceArn: `arn:${a.partition}:scheduler:${a.region}:${a.account}:schedule-group/default`,
                        }),
                    );
                }),
                tags,
            },
            { parent: this },
        );
        this.scheduleRolePolicy = new aws.iam.RolePolicy(
            `${name}-schedule-policy`,
            {
                role: this.scheduleRole.id,
                policy: pulumi
                    .all([this.stateMachine.arn, this.scheduleDeadLetterQueue.arn, key])
                    .apply(([stateMachineArn, deadLetterQueueArn, kmsKeyArn]) => JSON.stringify(schedulerPolicy({ stateMachineArn, deadLetterQueueArn, kmsKeyArn }))),
            },
            { parent: this },
        );
        this.schedule = new aws.scheduler.Schedule(
            `${name}-schedule`,
            {
                name: names.schedule,
                description: `Starts ${names.machine} (seed 004: daily at 09:00 UTC)`,
                scheduleExpression: schedule,
                scheduleExpressionTimezone: args.scheduleTimezone ?? "UTC",
                flexibleTimeWindow: { mode: "OFF" },
                state: args.scheduleEnabled === false ? "DISABLED" : "ENABLED",
                target: {
                    arn: this.stateMachine.arn,
                    roleArn: this.scheduleRole.arn,
                    // The tick, not the delivery time: every delivery of one tick writes the same bronze keys.
                    input: JSON.stringify({ scheduledTime: "<aws.scheduler.scheduled-time>" }),
                    // A failed StartExecution is retried for up to an hour; then the event is kept in the DLQ.
                    retryPolicy: { maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 10 },
                    deadLetterConfig: { arn: this.scheduleDeadLetterQueue.arn },
                },
            },
            { parent: this, dependsOn: [this.scheduleRolePolicy] },
        );

        this.goldLocation = s3(prefixes.gold);
        this.registerOutputs({
            stateMachineArn: this.stateMachineArn,
            scheduleName: this.schedule.name,
            ingestFunctionName: this.ingest.functionName,
            jobName: this.job.jobName,
            crawlerName: this.crawlerName,
            topicArn: this.topicArn,
            apiKeySecretArn: this.apiKeySecretArn,
            setApiKeyCommand: this.setApiKeyCommand,
            goldLocation: this.goldLocation,
        });
    }
}
