/**
 * PipelineMonitoring: alarms that mean something, dashboards, and where alerts go, for whatever the pipeline
 * is made of. Given the pipeline's Glue jobs, Lambda functions, dead-letter queues, DynamoDB tables and
 * Step Functions state machines, it creates:
 *
 * - an SNS alerts topic, encrypted with a key whose policy lets CloudWatch alarms publish to it, with the
 *   configured email subscriptions; every alarm uses it as alarm and OK action;
 * - for the Glue jobs, the GlueJobEventHandler (state-change events → record, run metrics, notification);
 * - per Glue job: failure rate > 10 % of runs over a window, and a successful run > 2× the recent average;
 * - per function: error rate (errors ÷ invocations) > 5 %, and throttling that persists;
 * - per dead-letter queue: depth > 0; per table: throttled requests; per state machine: failed executions;
 * - per fast path beside a Glue job (the CSV converter): any file it recorded FAILED, fallbacks to Glue beyond
 *   a few an hour, a p95 duration near its timeout (its function and queues are watched in their own lists);
 * - two dashboards: the pipeline overview and the operational one.
 *
 * Later flows plug in by passing more items. The handler it creates (function and DLQ) is monitored too.
 * Every alarm's missing-data treatment is deliberate and stated in {@link alarmSpecs}.
 *
 * The pure parts live next to it: what is monitored (./monitoredResources.ts), the alarm specifications
 * (./alarms.ts), where alerts go (./alerts.ts) and the dashboards (./dashboards.ts).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_METRIC_NAMESPACE, GlueJobEventHandler } from "./glueJobEventHandler";
import { EncryptedTopic } from "../messaging/encryptedTopic";
import { AlarmInputs, AlarmSpec, alarmSpecs, metricAlarmArgs, validateMonitoringInputs } from "./alarms";
import { alertsKeyPolicy, alertsTopicName, cloudWatchAlarmsPublishStatement, subscriptionId, validateAlertEmails } from "./alerts";
import { DashboardInputs, dashboardNames, operationsDashboard, overviewDashboard } from "./dashboards";
import {
    AlarmThresholds,
    DEFAULT_THRESHOLDS,
    MonitoredFastPath,
    MonitoredFeedQueue,
    MonitoredFunction,
    MonitoredGlueJob,
    MonitoredQueue,
    MonitoredStateMachine,
    MonitoredTable,
} from "./monitoredResources";

export interface PipelineMonitoringArgs {
    /** Stage name (`dev`, `prod`): part of the topic, key alias, dashboard and handler names. */
    readonly stage: string;
    /** Addresses subscribed to the alerts topic (each must confirm the subscription email). @default none */
    readonly alertEmails?: readonly string[];
    /** Glue jobs: failure-rate and duration alarms, and the job-events handler watches their runs. @default none */
    readonly glueJobs?: readonly MonitoredGlueJob[];
    /** Lambda functions: error-rate and throttle alarms. @default none */
    readonly functions?: readonly MonitoredFunction[];
    /** Dead-letter queues: depth alarms. @default none */
    readonly deadLetterQueues?: readonly MonitoredQueue[];
    /** Queues feeding triggered functions: backlog-age alarms and backlog widgets. @default none */
    readonly feedQueues?: readonly MonitoredFeedQueue[];
    /** DynamoDB tables: throttled-request alarms. @default none */
    readonly tables?: readonly MonitoredTable[];
    /** Step Functions state machines: failed-execution alarms. @default none */
    readonly stateMachines?: readonly MonitoredStateMachine[];
    /**
     * Fast paths beside Glue jobs (the CSV converter): failed-file, fallback and duration alarms, a row on the
     * operations dashboard, files per engine on the overview. Each names its Glue job, which must be in
     * `glueJobs`; its function, queue and DLQ belong in `functions`, `feedQueues`, `deadLetterQueues`. @default none
     */
    readonly fastPaths?: readonly MonitoredFastPath[];
    /** The processing-metadata table the job-events handler updates. Required with `glueJobs`. */
    readonly metadataTable?: { readonly name: pulumi.Input<string>; readonly arn: pulumi.Input<string> };
    /** Key for the handler's environment and log group (the stack's key). @default AWS-managed encryption */
    readonly kmsKeyArn?: pulumi.Input<string>;
    /**
     * Key that encrypts the alerts topic; its policy must let cloudwatch.amazonaws.com use it
     * ({@link alertsKeyPolicy}). @default a key created here with that policy
     */
    readonly alertsKmsKeyArn?: pulumi.Input<string>;
    /** @default DEFAULT_THRESHOLDS (the requirements' values) */
    readonly thresholds?: Partial<AlarmThresholds>;
    /** @default "GluePipeline" */
    readonly metricNamespace?: string;
    /** Passed to the handler's notifications. @default `npm run replay -- --stack <this stack>` */
    readonly replayCommand?: string;
    /** Release id stamped on the job-events handler (`RELEASE_ID`). @default none */
    readonly releaseId?: pulumi.Input<string>;
    /** @default "rate(5 minutes)" */
    readonly statusCountSchedule?: string | false;
    /** Handler log retention. @default 14 */
    readonly logRetentionDays?: number;
    /** The job-events handler's reserved concurrency, opt-in as for the other functions. @default none */
    readonly eventHandlerReservedConcurrency?: number;
    readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export class PipelineMonitoring extends pulumi.ComponentResource {
    public readonly alertsKey?: aws.kms.Key;
    public readonly alertsKeyAlias?: aws.kms.Alias;
    /** The alerts topic with its policy and subscriptions. */
    public readonly alerts: EncryptedTopic;
    public readonly alertsTopic: aws.sns.Topic;
    public readonly alertsTopicPolicy: aws.sns.TopicPolicy;
    public readonly subscriptions: aws.sns.TopicSubscription[];
    /** Undefined when no Glue job is monitored. */
    public readonly eventHandler?: GlueJobEventHandler;
    /** Alarms by spec key. */
    public readonly alarms: Record<string, aws.cloudwatch.MetricAlarm>;
    public readonly alarmSpecs: readonly AlarmSpec[];
    public readonly overviewDashboard: aws.cloudwatch.Dashboard;
    public readonly operationsDashboard: aws.cloudwatch.Dashboard;

    public readonly alertsTopicArn: pulumi.Output<string>;
    public readonly alertsKmsKeyArn: pulumi.Output<string>;
    public readonly dashboardNames: { readonly overview: string; readonly operations: string };

    constructor(name: string, args: PipelineMonitoringArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("glue-pipeline:monitoring:PipelineMonitoring", name, {}, opts);

        if (!/^[a-z][a-z0-9-]{0,30}$/.test(args.stage ?? "")) throw new Error(`PipelineMonitoring: stage ${JSON.stringify(args.stage)} must be lowercase letters, digits and '-'`);
        const stage = args.stage;
        const thresholds: AlarmThresholds = { ...DEFAULT_THRESHOLDS, ...args.thresholds };
        const glueJobs = args.glueJobs ?? [];
        const emails = args.alertEmails ?? [];
        validateAlertEmails(emails);
        if (glueJobs.length > 0 && args.metadataTable === undefined) {
            throw new Error("PipelineMonitoring: glueJobs needs metadataTable (the job-events handler records failed runs on it)");
        }
        const namespace = args.metricNamespace ?? DEFAULT_METRIC_NAMESPACE;
        validateMonitoringInputs({
            glueJobs,
            functions: args.functions ?? [],
            queues: args.deadLetterQueues ?? [],
            feedQueues: args.feedQueues ?? [],
            tables: args.tables ?? [],
            stateMachines: args.stateMachines ?? [],
            fastPaths: args.fastPaths ?? [],
            thresholds,
        });
        const tags = args.tags;

        // --- where alerts go ----------------------------------------------------------------------------
        if (args.alertsKmsKeyArn !== undefined) {
            this.alertsKmsKeyArn = pulumi.output(args.alertsKmsKeyArn);
        } else {
            const identity = aws.getCallerIdentityOutput({}, { parent: this });
            const partition = aws.getPartitionOutput({}, { parent: this }).partition;
            this.alertsKey = new aws.kms.Key(
                `${name}-alerts-key`,
                {
                    description: `Encrypts the glue pipeline alerts topic (${stage}); CloudWatch alarms may use it to publish`,
                    enableKeyRotation: true,
                    deletionWindowInDays: 30,
                    policy: pulumi.all([identity.accountId, partition]).apply(([account, p]) => JSON.stringify(alertsKeyPolicy(account, p))),
                    tags,
                },
                { parent: this },
            );
            this.alertsKeyAlias = new aws.kms.Alias(
                `${name}-alerts-key-alias`,
                { name: `alias/glue-pipeline-alerts-${stage}`, targetKeyId: this.alertsKey.keyId },
                { parent: this },
            );
            this.alertsKmsKeyArn = this.alertsKey.arn;
        }

        this.alerts = new EncryptedTopic(
            `${name}-alerts`,
            {
                topicName: alertsTopicName(stage),
                displayName: `Glue pipeline ${stage} alerts`,
                kmsKeyArn: this.alertsKmsKeyArn,
                // The topic's policy replaces SNS's default one: CloudWatch alarms of this account may publish.
                policyStatements: (arn) => [cloudWatchAlarmsPublishStatement(arn)],
                subscriptions: emails.map((email) => ({ email, logicalName: `${name}-email-${subscriptionId(email)}` })),
                tags,
                // These resources sat directly under this component before EncryptedTopic existed.
                formerParent: this,
            },
            { parent: this },
        );
        this.alertsTopic = this.alerts.topic;
        this.alertsTopicArn = this.alertsTopic.arn;
        this.alertsTopicPolicy = this.alerts.topicPolicy;
        this.subscriptions = this.alerts.subscriptions;

        // --- the job-events handler, itself monitored --------------------------------------------------------
        const functions = [...(args.functions ?? [])];
        const queues = [...(args.deadLetterQueues ?? [])];
        if (glueJobs.length > 0) {
            const handlerName = `GlueJobEvents-${stage}`;
            this.eventHandler = new GlueJobEventHandler(
                `${name}-glue-events`,
                {
                    functionName: handlerName,
                    stage,
                    jobs: glueJobs.map((j) => ({ name: j.name, arn: j.arn, logGroups: j.logGroups })),
                    metadataTable: args.metadataTable!,
                    alertsTopicArn: this.alertsTopic.arn,
                    alertsKmsKeyArn: this.alertsKmsKeyArn,
                    kmsKeyArn: args.kmsKeyArn,
                    metricNamespace: namespace,
                    replayCommand: args.replayCommand,
                    releaseId: args.releaseId,
                    statusCountSchedule: args.statusCountSchedule,
                    logRetentionDays: args.logRetentionDays,
                    reservedConcurrency: args.eventHandlerReservedConcurrency,
                    tags,
                },
                // The topic policy first: a notification published before it exists would still work, but an
                // alarm's first action would not.
                { parent: this, dependsOn: [this.alertsTopicPolicy] },
            );
            functions.push({ label: handlerName, name: this.eventHandler.function.name });
            queues.push({ label: `${handlerName}-dlq`, name: this.eventHandler.deadLetterQueue.name });
        }

        // --- alarms ------------------------------------------------------------------------------------------
        const alarmInputs: AlarmInputs = {
            stage,
            metricNamespace: namespace,
            glueJobs,
            functions,
            queues,
            feedQueues: args.feedQueues ?? [],
            tables: args.tables ?? [],
            stateMachines: args.stateMachines ?? [],
            fastPaths: args.fastPaths ?? [],
            thresholds,
        };
        validateMonitoringInputs(alarmInputs);
        this.alarmSpecs = alarmSpecs(alarmInputs);
        this.alarms = {};
        for (const spec of this.alarmSpecs) {
            this.alarms[spec.key] = new aws.cloudwatch.MetricAlarm(
                `${name}-${spec.key}`,
                { ...metricAlarmArgs(spec), alarmActions: [this.alertsTopic.arn], okActions: [this.alertsTopic.arn], tags },
                // Alarm actions to an encrypted topic need the topic policy and the key policy in place.
                { parent: this, dependsOn: [this.alertsTopicPolicy] },
            );
        }

        // --- dashboards --------------------------------------------------------------------------------------
        this.dashboardNames = dashboardNames(stage);
        const named = <T extends { label: string }>(items: readonly T[], pick: (t: T) => pulumi.Input<string>) =>
            pulumi.all(items.map((i) => pulumi.output(pick(i)).apply((value) => ({ label: i.label, name: value }))));
        const fastPathNames = pulumi.all(
            (args.fastPaths ?? []).map((fp) =>
                pulumi.all([fp.functionName, fp.queueName]).apply(([functionName, queueName]) => ({
                    label: fp.label,
                    functionName,
                    timeoutSeconds: fp.timeoutSeconds,
                    fallbackJobLabel: fp.fallbackJobLabel,
                    ...(queueName !== undefined ? { queueName } : {}),
                })),
            ),
        );
        const dashboardInputs = pulumi
            .all([
                aws.getRegionOutput({}, { parent: this }).region,
                named(glueJobs, (j) => j.name),
                named(functions, (f) => f.name),
                pulumi.all([named(queues, (q) => q.name), named(args.feedQueues ?? [], (q) => q.name)]),
                named(args.tables ?? [], (t) => t.name),
                named(args.stateMachines ?? [], (m) => m.arn),
                pulumi.all(Object.values(this.alarms).map((a) => a.arn)),
                pulumi.all([this.eventHandler ? this.eventHandler.logGroup.name : pulumi.output(undefined), fastPathNames]),
            ])
            .apply(
                ([region, jobs, fns, [qs, feeds], tables, machines, alarmArns, [eventsLogGroup, fastPaths]]): DashboardInputs => ({
                    stage,
                    region,
                    metricNamespace: namespace,
                    glueJobs: jobs,
                    functions: fns,
                    queues: qs,
                    feedQueues: feeds,
                    tables,
                    stateMachines: machines.map((m) => ({ label: m.label, arn: m.name })),
                    alarmArns,
                    eventsLogGroup,
                    fastPaths,
                    thresholds,
                }),
            );
        this.overviewDashboard = new aws.cloudwatch.Dashboard(
            `${name}-overview`,
            { dashboardName: this.dashboardNames.overview, dashboardBody: dashboardInputs.apply((d) => JSON.stringify(overviewDashboard(d))) },
            { parent: this },
        );
        this.operationsDashboard = new aws.cloudwatch.Dashboard(
            `${name}-operations`,
            { dashboardName: this.dashboardNames.operations, dashboardBody: dashboardInputs.apply((d) => JSON.stringify(operationsDashboard(d))) },
            { parent: this },
        );

        this.registerOutputs({
            alertsTopicArn: this.alertsTopicArn,
            alertsKmsKeyArn: this.alertsKmsKeyArn,
            dashboardNames: this.dashboardNames,
            alarmNames: this.alarmSpecs.map((s) => s.name),
            eventHandlerFunction: this.eventHandler?.function.name,
            eventHandlerDeadLetterQueue: this.eventHandler?.deadLetterQueue.url,
        });
    }
}
