/**
 * The CSV flow: CSV lands in the input bucket → S3 event → GlueTriggerLambda-{stage} claims the file in the
 * metadata table and starts FileProcessorV2-{stage} → Parquet under processed/, bad rows under quarantine/
 * of the output bucket, outcome recorded on the file's metadata record. How its sources are written
 * (delimiter, encoding) comes from the stack's `csv` settings.
 */
import * as pulumi from "@pulumi/pulumi";
import { CsvConverter, sqsSendMessageStatement } from "../../components";
import { GLUE_TRIGGER_ENV } from "../../functions/glue-trigger/contract";
import { ARTIFACT_SOURCES } from "../artifacts";
import { FAST_PATH_CONFIG_DEFAULTS } from "../config";
import { AlternatePath, AlternatePathContext, FileTriggeredFlow, FileTriggeredFlowSpec, fileTriggeredFlow } from "./fileTriggeredFlow";
import { FlowDefinition, flowMonitoring, monitoredJob } from "./flow";

/** Object keys the trigger accepts; anything else in the input bucket is ignored with a log line. */
export const CSV_SUFFIX = ".csv";
/** Prefixes of the output bucket FileProcessorV2 writes: Parquet, and rows it could not parse. */
export const CSV_PREFIXES = { processed: "processed/", quarantine: "quarantine/" } as const;

export const CSV_FLOW_SPEC: FileTriggeredFlowSpec = {
    script: { artifact: "fileProcessorScript", path: ARTIFACT_SOURCES.fileProcessorScript.path },
    jobResource: "file-processor",
    jobBaseName: "FileProcessorV2",
    // Descriptions are deployed text: kept word for word, so moving the flow here changed no resource.
    jobDescription: "FileProcessorV2: CSV from the input bucket to Parquet",
    triggerResource: "glue-trigger",
    functionBaseName: "GlueTriggerLambda",
    triggerDescription: "Starts FileProcessorV2 for each CSV that lands in the input bucket, once per object version",
    fileSuffix: CSV_SUFFIX,
    prefixes: CSV_PREFIXES,
    outputNames: {
        job: "fileProcessorJob",
        function: "triggerFunction",
        deadLetterQueue: "triggerDeadLetterQueue",
        queue: "triggerQueue",
        queueDeadLetterQueue: "triggerQueueDeadLetterQueue",
    },
    // How this flow's sources are written (glue/jobs/file_processor.py maps the names).
    jobArguments: (config) => ({ "--delimiter": config.csv?.delimiter ?? "comma", "--encoding": config.csv?.encoding ?? "utf-8" }),
    smokeDriven: true,
    statementIds: { startJob: "StartFileProcessor" },
};

/** Stack outputs of the fast path; `npm run replay` reads them to route a replayed file as the trigger would. */
export const FAST_PATH_OUTPUTS = {
    function: "csvConverterFunction",
    queue: "csvConverterQueue",
    deadLetterQueue: "csvConverterDeadLetterQueue",
    maxBytes: "fastPathMaxBytes",
} as const;

/**
 * The CSV flow's fast path (`fastPath` config, on by default): the CsvConverter, which the trigger sends files
 * at or below `fastPath.maxBytes` to. The trigger must know the converter's queue before it exists, and the
 * queue admits only the trigger's role, which exists only after: the queue's URL and ARN reach the trigger as
 * deferred outputs, resolved once the converter is built.
 */
export function csvFastPath({ config, platform, job, opts }: AlternatePathContext): AlternatePath | undefined {
    // A config built without the section (tests, scripts) gets the defaults, as a stack file without it does.
    const settings = config.fastPath ?? FAST_PATH_CONFIG_DEFAULTS;
    if (!settings.enabled) return undefined;
    const [queueUrl, resolveQueueUrl] = pulumi.deferredOutput<string>();
    const [queueArn, resolveQueueArn] = pulumi.deferredOutput<string>();
    const functionName = `CsvConverter-${config.stage}`;
    return {
        triggerEnvironment: {
            [GLUE_TRIGGER_ENV.fastPathQueueUrl]: queueUrl,
            [GLUE_TRIGGER_ENV.fastPathMaxBytes]: String(settings.maxBytes),
            [GLUE_TRIGGER_ENV.fastPathFunctionName]: functionName,
        },
        triggerStatements: queueArn.apply((arn) => [sqsSendMessageStatement(arn, "SendToCsvConverter")]),
        attach: (trigger) => {
            const { buckets, metadata, release } = platform;
            const converter = new CsvConverter(
                "csv-converter",
                {
                    functionName,
                    inputBucketArn: buckets.inputBucket.arn,
                    outputBucketName: buckets.outputBucket.bucket,
                    outputBucketArn: buckets.outputBucket.arn,
                    outputPrefixes: [CSV_PREFIXES.processed, CSV_PREFIXES.quarantine],
                    metadataTableName: metadata.tableName,
                    metadataTableArn: metadata.tableArn,
                    glueJobName: job.jobName,
                    glueJobArn: job.jobArn,
                    senderRoleArn: trigger.role.arn,
                    kmsKeyArn: buckets.kmsKeyArn,
                    memoryMb: settings.memoryMb,
                    timeoutSeconds: settings.timeoutSeconds,
                    ephemeralStorageMb: settings.ephemeralStorageMb,
                    maximumConcurrency: settings.maximumConcurrency,
                    environment: { RELEASE_ID: release },
                },
                opts,
            );
            resolveQueueUrl(converter.queue.url);
            resolveQueueArn(converter.queue.arn);
            return {
                monitored: flowMonitoring({
                    functions: [{ label: functionName, name: converter.functionName }],
                    feedQueues: [{ label: `${functionName}-queue`, name: converter.queue.name }],
                    deadLetterQueues: [{ label: `${functionName}-queue-dlq`, name: converter.deadLetterQueue.name }],
                    fastPaths: [
                        {
                            label: functionName,
                            functionName: converter.functionName,
                            timeoutSeconds: converter.timeoutSeconds,
                            fallbackJobLabel: monitoredJob(job).label,
                            queueName: converter.queue.name,
                        },
                    ],
                }),
                outputs: {
                    [FAST_PATH_OUTPUTS.function]: converter.functionName,
                    [FAST_PATH_OUTPUTS.queue]: converter.queue.url,
                    [FAST_PATH_OUTPUTS.deadLetterQueue]: converter.deadLetterQueue.url,
                    [FAST_PATH_OUTPUTS.maxBytes]: settings.maxBytes,
                },
                artifacts: { csvConverterPackage: converter.packageSha256 },
                smokeDependencies: [converter],
            };
        },
    };
}

const builder = fileTriggeredFlow({ ...CSV_FLOW_SPEC, alternatePath: csvFastPath });

/**
 * The CSV flow. It also exports its job's log groups (`glueJobLogGroups`), which `npm run replay` reads to
 * link a failed run's logs.
 */
export const csvFlow: FlowDefinition<FileTriggeredFlow> = {
    storage: builder.storage,
    build: (name, config, platform, opts) => {
        const flow = builder.build(name, config, platform, opts);
        const job = flow.job;
        return {
            ...flow,
            outputs: {
                ...flow.outputs,
                glueJobLogGroups: pulumi.all([job.jobName, job.outputLogGroup.name, job.errorLogGroup.name]).apply(([jobName, output, error]) => ({ [jobName]: { output, error } })),
            },
        };
    },
};
