/**
 * MedallionWorkflow (the medallion flow): a daily EventBridge Scheduler schedule starts a Step Functions state
 * machine that pages an HTTP API into bronze (ApiIngestion Lambda), runs the medallion Glue job
 * (bronze → silver → gold), crawls gold into the Glue Data Catalog and reports on SNS.
 *
 * Layout in the data bucket (the requirements' diagram, under one root so it cannot collide with other flows):
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
 *
 * Its pure parts live next to it: settings and checks (./medallionSettings.ts), the IAM policies
 * (./medallionPolicies.ts) and the state machine's definition (./stateMachineDefinition.ts).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { GlueJobEnvironment, parseArn } from "../glue/glueEnvironment";
import { BucketRef, GlueEtlJob, GlueExecutionClass } from "../glue/glueEtlJob";
import { serviceAssumeRolePolicy } from "../iam/iamPolicies";
import { LambdaFunction } from "../compute/lambdaFunction";
import { deadLetterQueuePolicy } from "../compute/lambdaFunctionResources";
import { EncryptedTopic } from "../messaging/encryptedTopic";
import { crawlerPolicy, encryptedCrawlerLogGroupName, ingestStatements, schedulerPolicy, stateMachinePolicy } from "./medallionPolicies";
import {
    CRAWLER_LOG_GROUP,
    DEFAULT_MEDALLION_SCHEDULE,
    GOLD_TABLE_PREFIX,
    INGEST_MEMORY_MB,
    INGEST_TIMEOUT_SECONDS,
    MEDALLION_JOB_TIMEOUT_MINUTES,
    MEDALLION_PREFIXES,
    MedallionPrefixes,
    crawlerConfiguration,
    failureSubscriptionNames,
    setApiKeyCommand,
    stateMachineLogGroupName,
    validateScheduleExpression,
} from "./medallionSettings";
import { MedallionTiming, medallionStateMachineDefinition } from "./stateMachineDefinition";
// The function's side of the contract: the variables it reads and the defaults it assumes.
import { API_INGEST_DEFAULTS, API_INGEST_ENV as ENV } from "../../functions/api-ingest/contract";

/** Where the flow's code lives in the repository (the artifacts the stack builds and uploads). */
export const MEDALLION_JOB_SCRIPT = "glue/jobs/medallion_etl.py";
export const INGEST_ENTRY = "functions/api-ingest/handler.ts";

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
    /** Reserved concurrency of the ingestion function (the requirements cap it at REQUIRED_INGEST_CONCURRENCY). @default none */
    readonly ingestConcurrency?: number;
    /** Glue version. @default GlueEtlJob's */
    readonly glueVersion?: string;
    /** Maximum Glue workers (auto scaling). @default 10 (the requirements: "Max capacity: 10 DPU") */
    readonly maxWorkers?: number;
    /** @default "STANDARD" (a Flex run may wait for capacity past the 30-minute task timeout) */
    readonly executionClass?: GlueExecutionClass;
    /** Size the job aims each gold Parquet file at. @default 128 */
    readonly targetFileMb?: number;
    /** Timings of the state machine. @default the requirements' */
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
                description: "Pages the medallion source API into bronze; invoked by the medallion state machine",
                // Set through the names the function reads them by (its contract), so the two cannot drift apart.
                environment: {
                    [ENV.apiBaseUrl]: args.apiBaseUrl,
                    [ENV.apiKeySecretId]: this.apiKeySecret.arn,
                    [ENV.apiKeyHeader]: args.apiKeyHeader ?? API_INGEST_DEFAULTS.apiKeyHeader,
                    [ENV.bronzeBucket]: bucketName,
                    [ENV.bronzePrefix]: prefixes.raw,
                    [ENV.pageSize]: String(args.pageSize ?? API_INGEST_DEFAULTS.pageSize),
                    ...(args.releaseId !== undefined ? { [ENV.releaseId]: args.releaseId } : {}),
                },
                policyStatements: pulumi
                    .all([this.apiKeySecret.arn, bucketArn])
                    .apply(([secretArn, arn]) => ingestStatements({ secretArn, bucketArn: arn, rawPrefix: prefixes.raw })),
                timeoutSeconds: INGEST_TIMEOUT_SECONDS,
                memorySizeMb: INGEST_MEMORY_MB,
                reservedConcurrency: args.ingestConcurrency,
                kmsKeyArn: key,
                // Lambda logs keep the project's 14 days (the requirements), like every other function's.
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
                // Step Functions retries a failed run (the requirements: twice); Glue must not retry it as well.
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
                description: "Medallion: bronze API pages → silver records → gold Parquet",
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
                description: `Starts ${names.machine} (daily at 09:00 UTC)`,
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
