/**
 * The CSV flow: CSV lands in the input bucket → S3 event → GlueTriggerLambda-{stage} claims the file in the
 * metadata table and starts FileProcessorV2-{stage} → Parquet under processed/, bad rows under quarantine/
 * of the output bucket, outcome recorded on the file's metadata record. How its sources are written
 * (delimiter, encoding) comes from the stack's `csv` settings.
 */
import * as pulumi from "@pulumi/pulumi";
import { ARTIFACT_SOURCES } from "../artifacts";
import { FileTriggeredFlow, FileTriggeredFlowSpec, fileTriggeredFlow } from "./fileTriggeredFlow";
import { FlowDefinition } from "./flow";

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

const builder = fileTriggeredFlow(CSV_FLOW_SPEC);

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
