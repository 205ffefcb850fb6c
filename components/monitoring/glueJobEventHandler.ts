/**
 * The Lambda function that turns Glue "Job State Change" events into what operations needs: the file's
 * metadata record set FAILED when a run died without recording it, per-run outcome metrics (the failure-rate
 * and duration alarms watch them), and one readable notification per run that did not succeed. A schedule
 * also makes it publish file counts per status for the operational dashboard.
 *
 * Handler: functions/glue-job-events/handler.ts. Delivery: an EventBridge rule (matching only the given
 * jobs' final states) invokes the function asynchronously; Lambda retries twice, then the event goes to the
 * dead-letter queue, which the replay script re-drives. The rule target's own dead-letter config points at
 * the same queue, so an event EventBridge could not deliver at all is kept too.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { PolicyDocument, PolicyStatement, denyInsecureQueueTransport, glueJobRunStatement, kmsUseStatement, policyDocument } from "../iam/iamPolicies";
import { createLambdaFunctionResources, validateFunctionName, validateFunctionSettings } from "../compute/lambdaFunctionResources";
import { DEFAULT_METRIC_NAMESPACE, GLUE_JOB_EVENTS_ENV as ENV } from "../../functions/glue-job-events/contract";

const LABEL = "GlueJobEventHandler";
/** The handler, relative to the repository root. */
export const GLUE_JOB_EVENTS_ENTRY = "functions/glue-job-events/handler.ts";
/** GetJobRun, GetJobRuns, DynamoDB, PutMetricData and Publish, each with SDK retries, fit in 60 s. */
export const GLUE_JOB_EVENTS_DEFAULTS = { timeoutSeconds: 60, memorySizeMb: 256 } as const;
// The handler's environment names and default namespace (its METRIC_NAMESPACE), shared with its config.
export { DEFAULT_METRIC_NAMESPACE } from "../../functions/glue-job-events/contract";
/** How often file counts per status are published. */
export const DEFAULT_STATUS_COUNT_SCHEDULE = "rate(5 minutes)";
/** Final run states. Glue emits state-change events for SUCCEEDED, FAILED, TIMEOUT and STOPPED; ERROR is matched in case. */
export const GLUE_FINAL_STATES: readonly string[] = ["SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED", "ERROR"];
/** How long EventBridge keeps retrying delivery to the function before the event goes to the DLQ. */
export const EVENT_MAX_AGE_SECONDS = 24 * 3600;

export interface WatchedGlueJob {
    /** The job's name (what `detail.jobName` of its events says). */
    readonly name: pulumi.Input<string>;
    /** The job's ARN (the handler may read its runs). */
    readonly arn: pulumi.Input<string>;
    /** Where the job's runs log (named in notifications). @default what GetJobRun's LogGroupName implies */
    readonly logGroups?: { readonly output: pulumi.Input<string>; readonly error: pulumi.Input<string> };
}

export interface GlueJobEventHandlerArgs {
    /** Function name, e.g. `GlueJobEvents-dev`; also names its log group and DLQ. 1-64 of `A-Za-z0-9-_`. */
    readonly functionName: string;
    /** Stage name, shown in notification subjects. */
    readonly stage: string;
    /** The Glue jobs whose final states are handled. At least one. */
    readonly jobs: readonly WatchedGlueJob[];
    /** The processing-metadata table (records to mark FAILED, report claims, counts per status). */
    readonly metadataTable: { readonly name: pulumi.Input<string>; readonly arn: pulumi.Input<string> };
    /** Name of the table's status index (Query for counts). @default "by-status" */
    readonly statusIndexName?: string;
    /** The alerts topic notifications are published to. */
    readonly alertsTopicArn: pulumi.Input<string>;
    /** The key that encrypts the alerts topic (publishing needs GenerateDataKey and Decrypt on it). */
    readonly alertsKmsKeyArn: pulumi.Input<string>;
    /** Key for the function's environment and log group. @default AWS-managed encryption */
    readonly kmsKeyArn?: pulumi.Input<string>;
    /** @default "GluePipeline" */
    readonly metricNamespace?: string;
    /** The command notifications tell the reader to run to replay failed files. @default `npm run replay -- --stack <stack>` */
    readonly replayCommand?: string;
    /** When file counts per status are published; false for never. @default "rate(5 minutes)" */
    readonly statusCountSchedule?: string | false;
    /** @default 14, as for every function */
    readonly logRetentionDays?: number;
    /** @default 256 */
    readonly memorySizeMb?: number;
    /**
     * Reserved concurrency, opt-in like every other function's (`trigger.reservedConcurrency`): caps the
     * handler's parallel invocations. Unset by default because a new account keeps only 10 unreserved
     * executions and a reservation fails there. @default none
     */
    readonly reservedConcurrency?: number;
    /** Release id stamped on the function (`RELEASE_ID`), as on every other function and job. @default none */
    readonly releaseId?: pulumi.Input<string>;
    /** GetJobRun, GetJobRuns, DynamoDB, PutMetricData and Publish, each with SDK retries. @default 60 */
    readonly timeoutSeconds?: number;
    readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** The event pattern matching final-state events of exactly these jobs. */
export function glueJobStateChangePattern(jobNames: readonly string[]): Record<string, unknown> {
    if (jobNames.length === 0) throw new Error("glueJobStateChangePattern: at least one job name is required");
    return {
        source: ["aws.glue"],
        "detail-type": ["Glue Job State Change"],
        detail: { jobName: [...new Set(jobNames)], state: [...GLUE_FINAL_STATES] },
    };
}

export interface JobEventsPolicyInputs {
    readonly jobArns: readonly string[];
    readonly tableArn: string;
    readonly statusIndexName: string;
    readonly topicArn: string;
    readonly alertsKmsKeyArn: string;
    readonly metricNamespace: string;
}

/**
 * What the handler may do beyond logging and its DLQ: read runs of the watched jobs; get/update items of the
 * metadata table and count through its status index (no Put, no Delete, no Scan); publish to the alerts
 * topic with its key; put metrics in its own namespace only (PutMetricData has no resource ARN, so the
 * namespace condition is the boundary).
 */
export function jobEventsPolicyStatements(p: JobEventsPolicyInputs): PolicyStatement[] {
    if (!p.tableArn.startsWith("arn:") || !p.topicArn.startsWith("arn:")) throw new Error("jobEventsPolicyStatements: table and topic must be ARNs");
    return [
        glueJobRunStatement(p.jobArns, ["glue:GetJobRun", "glue:GetJobRuns"], "ReadWatchedJobRuns"),
        { Sid: "RecordOutcomes", Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:UpdateItem"], Resource: p.tableArn },
        { Sid: "CountByStatus", Effect: "Allow", Action: ["dynamodb:Query"], Resource: `${p.tableArn}/index/${p.statusIndexName}` },
        { Sid: "PublishAlerts", Effect: "Allow", Action: ["sns:Publish"], Resource: p.topicArn },
        kmsUseStatement(p.alertsKmsKeyArn, "encryptDecrypt", { sid: "EncryptAlerts" }),
        {
            Sid: "PutPipelineMetrics",
            Effect: "Allow",
            Action: ["cloudwatch:PutMetricData"],
            Resource: "*",
            Condition: { StringEquals: { "cloudwatch:namespace": p.metricNamespace } },
        },
    ];
}

/** The DLQ's policy: TLS only, and EventBridge may send only on behalf of these rules. */
export function jobEventsQueuePolicy(queueArn: string, ruleArns: readonly string[]): PolicyDocument {
    return policyDocument([
        denyInsecureQueueTransport(queueArn),
        {
            Sid: "EventBridgeDeadLetters",
            Effect: "Allow",
            Principal: { Service: "events.amazonaws.com" },
            Action: "sqs:SendMessage",
            Resource: queueArn,
            Condition: { ArnEquals: { "aws:SourceArn": [...ruleArns] } },
        },
    ]);
}

export class GlueJobEventHandler extends pulumi.ComponentResource {
    public readonly function: aws.lambda.Function;
    public readonly role: aws.iam.Role;
    public readonly rolePolicy: aws.iam.RolePolicy;
    public readonly logGroup: aws.cloudwatch.LogGroup;
    public readonly deadLetterQueue: aws.sqs.Queue;
    public readonly deadLetterQueuePolicy: aws.sqs.QueuePolicy;
    public readonly eventInvokeConfig: aws.lambda.FunctionEventInvokeConfig;
    public readonly stateChangeRule: aws.cloudwatch.EventRule;
    public readonly stateChangeTarget: aws.cloudwatch.EventTarget;
    public readonly stateChangePermission: aws.lambda.Permission;
    /** Undefined when `statusCountSchedule` is false. */
    public readonly scheduleRule?: aws.cloudwatch.EventRule;
    public readonly scheduleTarget?: aws.cloudwatch.EventTarget;
    public readonly schedulePermission?: aws.lambda.Permission;
    public readonly functionName: string;
    public readonly metricNamespace: string;
    public readonly bundleSha256: string;

    constructor(name: string, args: GlueJobEventHandlerArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("glue-pipeline:monitoring:GlueJobEventHandler", name, {}, opts);

        validateFunctionName(LABEL, args.functionName);
        if (!args.jobs || args.jobs.length === 0) throw new Error("GlueJobEventHandler: jobs must name at least one Glue job");
        // Checked here first for this component's own wording, which PipelineMonitoring's callers see.
        if (args.reservedConcurrency !== undefined && !(Number.isInteger(args.reservedConcurrency) && args.reservedConcurrency >= 0 && args.reservedConcurrency <= 100000)) {
            throw new Error(`GlueJobEventHandler: reservedConcurrency must be an integer 0-100000, got ${args.reservedConcurrency}`);
        }
        validateFunctionSettings(LABEL, args, GLUE_JOB_EVENTS_DEFAULTS);
        const namespace = args.metricNamespace ?? DEFAULT_METRIC_NAMESPACE;
        if (!/^(?!AWS\/)[A-Za-z0-9.\-_/#:]{1,255}$/.test(namespace)) {
            throw new Error(`GlueJobEventHandler: metricNamespace ${JSON.stringify(namespace)} must be a custom namespace (not AWS/...)`);
        }
        const schedule = args.statusCountSchedule ?? DEFAULT_STATUS_COUNT_SCHEDULE;
        if (schedule !== false && !/^(rate|cron)\(.+\)$/.test(schedule)) {
            throw new Error(`GlueJobEventHandler: statusCountSchedule ${JSON.stringify(schedule)} must be a rate(...) or cron(...) expression, or false`);
        }
        const statusIndex = args.statusIndexName ?? "by-status";
        this.functionName = args.functionName;
        this.metricNamespace = namespace;
        const tags = args.tags;

        // The rules come first: the dead-letter queue's policy admits EventBridge on behalf of exactly them.
        const jobNames = pulumi.all(args.jobs.map((j) => pulumi.output(j.name)));
        this.stateChangeRule = new aws.cloudwatch.EventRule(
            `${name}-state-change`,
            {
                name: `${args.functionName}-state-change`,
                description: "Final states of the pipeline's Glue job runs",
                eventPattern: jobNames.apply((names) => JSON.stringify(glueJobStateChangePattern(names))),
                tags,
            },
            { parent: this },
        );
        if (schedule !== false) {
            this.scheduleRule = new aws.cloudwatch.EventRule(
                `${name}-schedule`,
                { name: `${args.functionName}-status-counts`, description: "Publishes file counts per processing status", scheduleExpression: schedule, tags },
                { parent: this },
            );
        }
        const ruleArns = pulumi.all([this.stateChangeRule.arn, ...(this.scheduleRule ? [this.scheduleRule.arn] : [])]);

        const core = createLambdaFunctionResources(this, name, {
            label: LABEL,
            functionName: args.functionName,
            entry: GLUE_JOB_EVENTS_ENTRY,
            defaults: GLUE_JOB_EVENTS_DEFAULTS,
            defaultDescription: "Glue job state changes → records, run metrics, failure notifications",
            timeoutSeconds: args.timeoutSeconds,
            memorySizeMb: args.memorySizeMb,
            reservedConcurrency: args.reservedConcurrency,
            kmsKeyArn: args.kmsKeyArn,
            logRetentionDays: args.logRetentionDays,
            tags,
            policyStatements: pulumi
                .all([
                    pulumi.all(args.jobs.map((j) => pulumi.output(j.arn))),
                    pulumi.output(args.metadataTable.arn),
                    pulumi.output(args.alertsTopicArn),
                    pulumi.output(args.alertsKmsKeyArn),
                ])
                .apply(([jobArns, tableArn, topicArn, alertsKmsKeyArn]) =>
                    jobEventsPolicyStatements({ jobArns, tableArn, statusIndexName: statusIndex, topicArn, alertsKmsKeyArn, metricNamespace: namespace }),
                ),
            environment: {
                [ENV.metadataTable]: args.metadataTable.name,
                [ENV.alertsTopicArn]: args.alertsTopicArn,
                [ENV.metricNamespace]: namespace,
                [ENV.stage]: args.stage,
                [ENV.glueJobNames]: jobNames.apply((names) => names.join(",")),
                [ENV.jobLogGroups]: pulumi
                    .all(args.jobs.map((j) => pulumi.all([j.name, j.logGroups?.output, j.logGroups?.error])))
                    .apply((rows) => JSON.stringify(Object.fromEntries(rows.filter(([, o, e]) => o && e).map(([job, output, error]) => [job, { output, error }])))),
                [ENV.replayCommand]: args.replayCommand ?? `npm run replay -- --stack ${pulumi.getStack()}`,
                ...(args.releaseId !== undefined ? { [ENV.releaseId]: args.releaseId } : {}),
            },
            asyncInvocation: {
                // SQS-managed encryption, not the stack key: EventBridge cannot send to a queue under a customer
                // key unless that key's policy admits events.amazonaws.com, and these messages are run ids, not data.
                deadLetterQueueEncryption: "sqsManaged",
                deadLetterQueuePolicy: (queueArn) => pulumi.all([queueArn, ruleArns]).apply(([arn, rules]) => JSON.stringify(jobEventsQueuePolicy(arn, rules))),
            },
        });
        this.bundleSha256 = core.bundle.sha256;
        this.logGroup = core.logGroup;
        this.deadLetterQueue = core.deadLetterQueue!;
        this.deadLetterQueuePolicy = core.deadLetterQueuePolicy!;
        this.eventInvokeConfig = core.eventInvokeConfig!;
        this.role = core.role;
        this.rolePolicy = core.rolePolicy;
        this.function = core.function;

        const target = (role: string, rule: aws.cloudwatch.EventRule) => {
            const t = new aws.cloudwatch.EventTarget(
                `${name}-${role}-target`,
                {
                    rule: rule.name,
                    arn: this.function.arn,
                    retryPolicy: { maximumEventAgeInSeconds: EVENT_MAX_AGE_SECONDS, maximumRetryAttempts: 185 },
                    deadLetterConfig: { arn: this.deadLetterQueue.arn },
                },
                { parent: this },
            );
            const permission = new aws.lambda.Permission(
                `${name}-${role}-invoke`,
                { action: "lambda:InvokeFunction", function: this.function.name, principal: "events.amazonaws.com", sourceArn: rule.arn },
                { parent: this },
            );
            return { t, permission };
        };

        const stateChange = target("state-change", this.stateChangeRule);
        this.stateChangeTarget = stateChange.t;
        this.stateChangePermission = stateChange.permission;
        if (this.scheduleRule) {
            const scheduled = target("schedule", this.scheduleRule);
            this.scheduleTarget = scheduled.t;
            this.schedulePermission = scheduled.permission;
        }

        this.registerOutputs({
            functionName: this.function.name,
            functionArn: this.function.arn,
            logGroupName: this.logGroup.name,
            deadLetterQueueUrl: this.deadLetterQueue.url,
            stateChangeRuleArn: this.stateChangeRule.arn,
            bundleSha256: this.bundleSha256,
        });
    }
}

