/**
 * The file-triggered flow builder: a file lands in the input bucket → S3 event → the trigger's own SQS queue →
 * a trigger function (the one
 * glue-trigger handler, configured by environment) claims the file on the metadata table and starts the
 * flow's Glue job → the job writes under the flow's processed prefix of the output bucket, bad rows under its
 * quarantine prefix, and records the outcome on the file's metadata record.
 *
 * The CSV flow and the Parquet → JSON flow are this builder with a small spec each (./csv.ts,
 * ./parquetToJson.ts); a new file flow is one more spec (docs/adding-a-flow.md).
 *
 * A function, not a ComponentResource: the job and the trigger keep the names and parents they had before the
 * builder existed (`<jobResource>` and `<triggerResource>` at the stack root), so no URN changes.
 */
import * as pulumi from "@pulumi/pulumi";
import { dynamoDbItemStatement, GlueEtlJob, glueJobRunStatement, PolicyStatement, S3TriggeredLambda, s3ReadStatements, TriggerQueueSettings } from "../../components";
import { GLUE_TRIGGER_DEFAULTS, GLUE_TRIGGER_ENV as ENV, GlueTriggerEnvName } from "../../functions/glue-trigger/contract";
import { ARTIFACT_SOURCES } from "../artifacts";
import { StackConfig, TRIGGER_QUEUE_CONFIG_DEFAULTS, TriggerQueueConfig } from "../config";
import { concatMonitoring, Flow, FlowDefinition, FlowStorage, flowMonitoring, monitoredJob, Platform } from "./flow";

/** The code a flow ships under a name of the promotion contract (see stacks/artifacts.ts). */
export interface FlowScript {
    /** Key in the stack's `artifacts` output. */
    readonly artifact: string;
    /** Relative to the repository root: the exact file uploaded to Glue. */
    readonly path: string;
}

export interface FileTriggeredFlowSpec {
    /** The job's entry script. */
    readonly script: FlowScript;
    /** Logical name of the job component; its children are `<jobResource>-job`, `-role`, …. */
    readonly jobResource: string;
    /** The Glue job's name without the stage: `<jobBaseName>-<stage>`. */
    readonly jobBaseName: string;
    readonly jobDescription: string;
    /** Logical name of the trigger component. */
    readonly triggerResource: string;
    /** The function's name without the stage: `<functionBaseName>-<stage>`. */
    readonly functionBaseName: string;
    readonly triggerDescription: string;
    /** Object keys the trigger accepts (S3 filter and the function's own check). */
    readonly fileSuffix: string;
    /** Only keys under this input-bucket prefix; "" for the whole bucket. @default "" */
    readonly inputPrefix?: string;
    /** Keys must be `<inputPrefix>YYYY/MM/DD/<file>`. @default false */
    readonly datedKeys?: boolean;
    /** Output-bucket prefixes the job writes: its output and its rejected rows. */
    readonly prefixes: { readonly processed: string; readonly quarantine: string };
    /**
     * Names of the stack outputs for the job, the trigger function, its (async) dead-letter queue, its queue
     * and the queue's dead-letter queue.
     */
    readonly outputNames: {
        readonly job: string;
        readonly function: string;
        readonly deadLetterQueue: string;
        readonly queue: string;
        readonly queueDeadLetterQueue: string;
    };
    /** The job's retries. Glue queues only runs of jobs without retries. @default none */
    readonly maxRetries?: number;
    /** Auto-scaling ceiling. @default the stack's `glue.maxWorkers` */
    readonly maxWorkers?: number;
    /** Job arguments beyond `--release_id`, from the stack's configuration. @default none */
    readonly jobArguments?: (config: StackConfig) => Readonly<Record<string, pulumi.Input<string>>>;
    /** Whether the smoke check drives this flow (it then waits for the job and the trigger). @default false */
    readonly smokeDriven?: boolean;
    /**
     * Statement ids of the trigger's policy. They are part of the deployed policy document, so a flow that
     * had ids before the builder keeps them. @default `Start<jobBaseName>`, `ReadInput`
     */
    readonly statementIds?: { readonly startJob?: string; readonly readInput?: string };
    /**
     * A second way to convert a file beside the job, which the trigger routes to (the CSV flow's fast path,
     * ./csv.ts). Called after the job and before the trigger; undefined when the stack turns it off.
     * @default none
     */
    readonly alternatePath?: (context: AlternatePathContext) => AlternatePath | undefined;
}

export interface AlternatePathContext {
    readonly name: string;
    readonly config: StackConfig;
    readonly platform: Platform;
    readonly job: GlueEtlJob;
    readonly opts: pulumi.ComponentResourceOptions;
}

/**
 * What an alternate path adds to the trigger (its environment and statements, e.g. where to send a request
 * and the right to send it) and, once the trigger exists (the path may admit only the trigger's role), its
 * own resources' monitoring, outputs and artifacts.
 */
export interface AlternatePath {
    readonly triggerEnvironment: Readonly<Record<string, pulumi.Input<string>>>;
    readonly triggerStatements: pulumi.Input<readonly PolicyStatement[]>;
    readonly attach: (trigger: S3TriggeredLambda) => Pick<Flow, "monitored" | "outputs" | "artifacts" | "smokeDependencies">;
}

/** A built file-triggered flow: its job and its trigger. */
export interface FileTriggeredFlow extends Flow {
    readonly job: GlueEtlJob;
    readonly trigger: S3TriggeredLambda;
}

/** What the flow needs of the output bucket: both its prefixes expire with the bucket's retention. */
export function fileTriggeredStorage(spec: Pick<FileTriggeredFlowSpec, "prefixes">): FlowStorage {
    return { expiringOutputPrefixes: [spec.prefixes.processed, spec.prefixes.quarantine], prefixRules: [], logGroupNamePatterns: [] };
}

/**
 * The trigger's environment: the layout variables only where the flow differs from the function's defaults
 * (the CSV flow sets none of them), so one handler serves every file flow.
 */
export function triggerEnvironment(
    spec: Pick<FileTriggeredFlowSpec, "fileSuffix" | "inputPrefix" | "datedKeys" | "prefixes">,
    values: { readonly jobName: pulumi.Input<string>; readonly metadataTable: pulumi.Input<string>; readonly outputBucket: pulumi.Input<string>; readonly release: pulumi.Input<string> },
): Partial<Record<GlueTriggerEnvName, pulumi.Input<string>>> {
    const inputPrefix = spec.inputPrefix ?? "";
    return {
        [ENV.glueJobName]: values.jobName,
        [ENV.metadataTable]: values.metadataTable,
        [ENV.outputBucket]: values.outputBucket,
        [ENV.fileSuffix]: spec.fileSuffix,
        ...(inputPrefix !== "" ? { [ENV.keyPrefix]: inputPrefix } : {}),
        ...(spec.datedKeys ? { [ENV.datedKeys]: "true" } : {}),
        ...(spec.prefixes.processed !== GLUE_TRIGGER_DEFAULTS.outputPrefix ? { [ENV.outputPrefix]: spec.prefixes.processed } : {}),
        [ENV.releaseId]: values.release,
    };
}

/** The stack's `trigger.queue`, its defaults where the configuration was built without one. */
export function triggerQueueConfig(config: StackConfig): TriggerQueueConfig {
    return config.trigger.queue ?? TRIGGER_QUEUE_CONFIG_DEFAULTS;
}

/** The stack's `trigger.queue` as the component's settings (the claims validation overrides the batch size). */
export function triggerQueueSettings(config: StackConfig): TriggerQueueSettings {
    const q = triggerQueueConfig(config);
    return {
        batchSize: q.batchSize,
        maximumConcurrency: q.maximumConcurrency,
        maxReceiveCount: q.maxReceiveCount,
        ...(q.requeueBaseDelaySeconds !== undefined ? { requeueBaseDelaySeconds: q.requeueBaseDelaySeconds } : {}),
        ...(q.maxWaitAttempts !== undefined ? { maxWaitAttempts: q.maxWaitAttempts } : {}),
    };
}

/** The flow definition for a spec: its storage needs, and the builder of its job and trigger. */
export function fileTriggeredFlow(spec: FileTriggeredFlowSpec): FlowDefinition<FileTriggeredFlow> {
    return { storage: fileTriggeredStorage(spec), build: (name, config, platform, opts) => buildFileTriggeredFlow(name, spec, config, platform, opts) };
}

function buildFileTriggeredFlow(
    name: string,
    spec: FileTriggeredFlowSpec,
    config: StackConfig,
    platform: Platform,
    opts: pulumi.ComponentResourceOptions,
): FileTriggeredFlow {
    const stage = config.stage;
    const { buckets, metadata, glue, release } = platform;
    const inputPrefix = spec.inputPrefix ?? "";
    const functionName = `${spec.functionBaseName}-${stage}`;
    const flex = config.glue.executionClass === "FLEX";

    const job = new GlueEtlJob(
        spec.jobResource,
        {
            jobName: `${spec.jobBaseName}-${stage}`,
            scriptPath: spec.script.path,
            libraryDir: ARTIFACT_SOURCES.glueLibrary.path,
            assetsBucket: buckets.assetsBucket,
            environment: glue,
            kmsKeyArn: buckets.kmsKeyArn,
            glueVersion: config.glue.version,
            maxWorkers: spec.maxWorkers ?? config.glue.maxWorkers,
            executionClass: config.glue.executionClass,
            ...(spec.maxRetries !== undefined ? { maxRetries: spec.maxRetries } : {}),
            // Glue queues neither Flex runs nor runs of jobs with retries; there a burst beyond the concurrency
            // limit fails StartJobRun with ConcurrentRunsExceededException, and the trigger puts the file back
            // in its queue with a growing delay until Glue has room.
            jobRunQueuing: !flex && (spec.maxRetries ?? 0) === 0,
            readAccess: [{ bucketArn: buckets.inputBucket.arn, prefixes: [inputPrefix] }],
            writeAccess: [{ bucketArn: buckets.outputBucket.arn, prefixes: [spec.prefixes.processed, spec.prefixes.quarantine] }],
            metadataTableArn: metadata.tableArn,
            defaultArguments: { "--release_id": release, ...spec.jobArguments?.(config) },
            description: spec.jobDescription,
        },
        opts,
    );
    const alternate = spec.alternatePath?.({ name, config, platform, job, opts });

    const trigger = new S3TriggeredLambda(
        spec.triggerResource,
        {
            functionName,
            entry: ARTIFACT_SOURCES.glueTriggerBundle.path,
            bucket: buckets.inputBucket,
            // The queue policy's aws:SourceAccount: the input bucket is this account's.
            bucketOwnerAccountId: platform.accountId,
            ...(inputPrefix !== "" ? { filterPrefix: inputPrefix } : {}),
            filterSuffix: spec.fileSuffix,
            // The input bucket has one notification configuration for every flow's trigger (stacks/workload.ts).
            createNotification: false,
            environment: {
                ...triggerEnvironment(spec, { jobName: job.jobName, metadataTable: metadata.tableName, outputBucket: buckets.outputBucket.bucket, release }),
                ...alternate?.triggerEnvironment,
            },
            policyStatements: pulumi
                .all([job.jobArn, metadata.tableArn, buckets.inputBucket.arn, pulumi.output(alternate?.triggerStatements ?? [])])
                .apply(([jobArn, tableArn, inputArn, alternateStatements]) => [
                    glueJobRunStatement(jobArn, ["glue:StartJobRun"], spec.statementIds?.startJob ?? `Start${spec.jobBaseName}`),
                    dynamoDbItemStatement(tableArn, { read: true, write: true, sid: "TrackFiles" }),
                    // HeadObject of every event's key (needs s3:GetObject; s3:ListBucket makes a deleted key a 404,
                    // recorded SOURCE_DELETED, not a 403): the version uploaded is the version processed. HEAD reads
                    // no content, so no kms:Decrypt beyond the function key's is needed.
                    ...s3ReadStatements(inputArn, [inputPrefix], spec.statementIds?.readInput ?? "ReadInput"),
                    ...(alternateStatements as PolicyStatement[]),
                ]),
            timeoutSeconds: 30,
            memorySizeMb: config.trigger.memoryMb,
            reservedConcurrency: config.trigger.reservedConcurrency,
            queue: triggerQueueSettings(config),
            kmsKeyArn: buckets.kmsKeyArn,
            description: spec.triggerDescription,
        },
        opts,
    );

    const extra = alternate?.attach(trigger);
    const own = {
        name,
        job,
        trigger,
        monitored: flowMonitoring({
            glueJobs: [monitoredJob(job)],
            functions: [{ label: functionName, name: trigger.function.name }],
            deadLetterQueues: [
                { label: `${functionName}-dlq`, name: trigger.deadLetterQueue.name },
                { label: `${functionName}-queue-dlq`, name: trigger.queueDeadLetterQueue.name },
            ],
            feedQueues: [{ label: `${functionName}-queue`, name: trigger.queue.name, maxAgeSeconds: triggerQueueConfig(config).maxAgeAlarmSeconds }],
        }),
        outputs: {
            [spec.outputNames.job]: job.jobName,
            [spec.outputNames.function]: trigger.function.name,
            [spec.outputNames.deadLetterQueue]: trigger.deadLetterQueue.url,
            [spec.outputNames.queue]: trigger.queue.url,
            [spec.outputNames.queueDeadLetterQueue]: trigger.queueDeadLetterQueue.url,
        },
        artifacts: {
            [spec.script.artifact]: job.scriptSha256,
            ...(job.librarySha256 !== undefined ? { glueLibrary: job.librarySha256 } : {}),
            glueTriggerBundle: trigger.bundleSha256,
        },
        inputBucketTriggers: [{ lambda: trigger, prefix: inputPrefix, suffix: spec.fileSuffix }],
        smokeDependencies: spec.smokeDriven ? [job, trigger] : [],
    };
    if (!extra) return own;
    return {
        ...own,
        monitored: concatMonitoring([own.monitored, extra.monitored]),
        outputs: { ...own.outputs, ...extra.outputs },
        // Both plain maps of Output hashes: merged as maps so the stack reads one artifact per key.
        artifacts: pulumi.output(extra.artifacts).apply((b) => pulumi.output(own.artifacts).apply((a) => ({ ...a, ...b }))),
        smokeDependencies: spec.smokeDriven ? [...own.smokeDependencies, ...extra.smokeDependencies] : [],
    };
}
