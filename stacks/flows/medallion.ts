/**
 * The medallion flow, on a schedule: the workflow (schedule → state machine → API ingestion → Glue → crawler),
 * the Athena workgroup over gold, what monitoring watches, and the outputs. Built only when the stack's config
 * has a `medallion` section; its storage needs apply either way, so the output bucket's lifecycle does not
 * depend on whether the workflow is deployed.
 *
 * The layers live in the stack's output bucket under `medallion/` (see components/workflow/medallionWorkflow.ts):
 * the bucket is already versioned, SSE-KMS encrypted, TLS-only, private and access-logged, and
 * {@link MEDALLION_LIFECYCLE_RULES} adds what the flow asks of raw data (deleted after 30 days). Silver, gold
 * and the processed-objects manifest are kept: they are the analytical history Athena queries.
 */
import {
    AthenaWorkgroup,
    GOLD_TABLE_PREFIX,
    MEDALLION_PREFIXES,
    MedallionWorkflow,
    PrefixLifecycleRule,
    medallionNamedQueries,
} from "../../components";
import { Flow, FlowDefinition, flowMonitoring, monitoredJob } from "./flow";

/** Where Athena writes query results in the output bucket. */
export const ATHENA_RESULTS_PREFIX = "athena-results/";

/** The flow's requirement: "delete raw after 30 days"; query results are scratch and go after 30 days too. */
export const MEDALLION_LIFECYCLE_RULES: readonly PrefixLifecycleRule[] = [
    { id: "expire-medallion-raw", prefix: MEDALLION_PREFIXES.raw, expirationDays: 30 },
    { id: "expire-athena-results", prefix: ATHENA_RESULTS_PREFIX, expirationDays: 30 },
];

/** The data-lake key must also serve the state machine's log group (`/aws/vendedlogs/states/...`). */
export const MEDALLION_LOG_GROUP_PATTERNS: readonly string[] = ["/aws/vendedlogs/states/*"];

export interface MedallionFlow extends Flow {
    readonly workflow: MedallionWorkflow;
    readonly athena: AthenaWorkgroup;
}

export const medallionFlow: FlowDefinition<MedallionFlow | undefined> = {
    storage: {
        // Rejected rows expire with the output bucket; raw pages and query results sooner (the rules above).
        expiringOutputPrefixes: [MEDALLION_PREFIXES.rejected],
        prefixRules: MEDALLION_LIFECYCLE_RULES,
        logGroupNamePatterns: MEDALLION_LOG_GROUP_PATTERNS,
    },
    build: (name, config, platform, opts) => {
        const settings = config.medallion;
        if (settings === undefined) return undefined;
        const stage = config.stage;
        const { buckets, glue } = platform;

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
                releaseId: platform.release,
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
            name,
            workflow,
            athena,
            monitored: flowMonitoring({
                glueJobs: [monitoredJob(job)],
                functions: [{ label: `ApiIngestion-${stage}`, name: workflow.ingest.functionName }],
                deadLetterQueues: [{ label: `medallion-daily-${stage}-dlq`, name: workflow.scheduleDeadLetterQueue.name }],
                stateMachines: [{ label: `medallion-workflow-${stage}`, arn: workflow.stateMachineArn }],
            }),
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
            artifacts: { medallionScript: job.scriptSha256, apiIngestBundle: workflow.ingest.bundleSha256 },
            inputBucketTriggers: [],
            smokeDependencies: [],
        };
    },
};
