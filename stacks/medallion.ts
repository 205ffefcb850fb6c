/**
 * The scheduled medallion workflow's part of the workload composition (seed 004), kept out of
 * stacks/workload.ts so that the composition only calls it: the workflow (schedule → state machine →
 * ingestion → Glue → crawler), the Athena workgroup over gold, what monitoring watches, and the outputs.
 *
 * The layers live in the stack's output bucket under `medallion/` (see components/workflow/medallionWorkflow.ts):
 * the bucket is already versioned, SSE-KMS encrypted, TLS-only, private and access-logged, and
 * {@link MEDALLION_LIFECYCLE_RULES} adds what the seed asks of raw data (deleted after 30 days). Silver and
 * gold follow the output bucket's own retention.
 */
import * as pulumi from "@pulumi/pulumi";
import {
    AthenaWorkgroup,
    DataLakeBuckets,
    DEFAULT_LOG_GROUP_NAME_PATTERNS,
    GlueEnvironment,
    GOLD_TABLE_PREFIX,
    MEDALLION_PREFIXES,
    MedallionWorkflow,
    MonitoredFunction,
    MonitoredGlueJob,
    MonitoredQueue,
    MonitoredStateMachine,
    PrefixLifecycleRule,
    medallionNamedQueries,
} from "../components";
import { StackConfig } from "./config";

/** Where Athena writes query results in the output bucket. */
export const ATHENA_RESULTS_PREFIX = "athena-results/";

/** Seed 004: "delete raw after 30 days"; query results are scratch and go after 30 days too. */
export const MEDALLION_LIFECYCLE_RULES: readonly PrefixLifecycleRule[] = [
    { id: "expire-medallion-raw", prefix: MEDALLION_PREFIXES.raw, expirationDays: 30 },
    { id: "expire-athena-results", prefix: ATHENA_RESULTS_PREFIX, expirationDays: 30 },
];

/** The data-lake key must also serve the state machine's log group (`/aws/vendedlogs/states/...`). */
export const MEDALLION_LOG_GROUP_PATTERNS: readonly string[] = [...DEFAULT_LOG_GROUP_NAME_PATTERNS, "/aws/vendedlogs/states/*"];

export interface MedallionStack {
    readonly workflow: MedallionWorkflow;
    readonly athena: AthenaWorkgroup;
    /** What PipelineMonitoring should watch: the job, the function, the schedule's DLQ, the state machine. */
    readonly monitored: {
        readonly glueJobs: MonitoredGlueJob[];
        readonly functions: MonitoredFunction[];
        readonly deadLetterQueues: MonitoredQueue[];
        readonly stateMachines: MonitoredStateMachine[];
    };
    readonly outputs: Record<string, pulumi.Input<unknown>>;
}

export interface MedallionInputs {
    readonly buckets: DataLakeBuckets;
    readonly glue: GlueEnvironment;
    /** Release id stamped on the job and function. */
    readonly release: pulumi.Input<string>;
}

/** The medallion workflow of a stack whose config has a `medallion` section; undefined otherwise. */
export function createMedallion(config: StackConfig, inputs: MedallionInputs, opts: pulumi.ComponentResourceOptions): MedallionStack | undefined {
    const settings = config.medallion;
    if (settings === undefined) return undefined;
    const stage = config.stage;
    const { buckets, glue } = inputs;

    const workflow = new MedallionWorkflow(
        "medallion",
        {
            stage,
            dataBucket: buckets.outputBucket,
            assetsBucket: buckets.assetsBucket,
            glueEnvironment: glue,
            kmsKeyArn: buckets.kmsKeyArn,
            apiBaseUrl: settings.apiBaseUrl,
            apiKeyHeader: settings.apiKeyHeader,
            pageSize: settings.pageSize,
            scheduleExpression: settings.schedule,
            scheduleEnabled: settings.scheduleEnabled,
            noDataIsFailure: settings.noDataIsFailure,
            failureEmails: config.alerts?.emails ?? [],
            glueVersion: config.glue.version,
            maxWorkers: config.glue.maxWorkers,
            // Not Flex even where FileProcessorV2 is: a Flex run may wait for capacity past the 30-minute task timeout.
            executionClass: "STANDARD",
            releaseId: inputs.release,
            allowDestroy: config.allowDataDestroy,
            // Opt-in: a reservation a new account's quota cannot grant fails the whole deploy.
            ingestConcurrency: settings.ingestConcurrency,
        },
        opts,
    );

    const athena = new AthenaWorkgroup(
        "medallion-athena",
        {
            name: `medallion-${stage}`,
            databaseName: glue.databaseName,
            databaseArn: glue.databaseArn,
            resultsBucket: buckets.outputBucket,
            resultsPrefix: ATHENA_RESULTS_PREFIX,
            kmsKeyArn: buckets.kmsKeyArn,
            dataReadAccess: { bucketArn: buckets.outputBucket.arn, prefixes: [MEDALLION_PREFIXES.gold] },
            bytesScannedCutoffPerQuery: settings.athenaBytesScannedCutoffMb * 1024 * 1024,
            namedQueries: medallionNamedQueries(GOLD_TABLE_PREFIX),
            allowDestroy: config.allowDataDestroy,
        },
        opts,
    );

    const job = workflow.job;
    return {
        workflow,
        athena,
        monitored: {
            glueJobs: [
                {
                    label: job.settings.jobName,
                    name: job.jobName,
                    arn: job.jobArn,
                    logGroups: { output: job.outputLogGroup.name, error: job.errorLogGroup.name },
                },
            ],
            functions: [{ label: `ApiIngestion-${stage}`, name: workflow.ingest.functionName }],
            deadLetterQueues: [{ label: `medallion-daily-${stage}-dlq`, name: workflow.scheduleDeadLetterQueue.name }],
            stateMachines: [{ label: `medallion-workflow-${stage}`, arn: workflow.stateMachineArn }],
        },
        outputs: {
            medallionStateMachine: workflow.stateMachineArn,
            medallionSchedule: workflow.schedule.name,
            medallionIngestFunction: workflow.ingest.functionName,
            medallionJob: job.jobName,
            medallionCrawler: workflow.crawlerName,
            medallionNotificationsTopic: workflow.topicArn,
            medallionApiKeySecret: workflow.apiKeySecretArn,
            medallionSetApiKeyCommand: workflow.setApiKeyCommand,
            medallionGoldLocation: workflow.goldLocation,
            medallionAthenaWorkgroup: athena.workgroupName,
            medallionAnalystPolicyDocument: athena.analystPolicyDocument,
        },
    };
}
