/** The job-events handler's configuration, read from its environment once per cold start. */
import { Env, readEnv } from "../shared/env";
import { LogLevel, parseLogLevel } from "../shared/logger";
import { DEFAULT_METRIC_NAMESPACE, GLUE_JOB_EVENTS_ENV as ENV } from "./contract";

export interface JobEventsConfig {
    /** The processing-metadata table, e.g. etl-pipeline-metadata-dev. */
    readonly metadataTable: string;
    /** The (KMS-encrypted) alerts topic failure notifications go to. */
    readonly alertsTopicArn: string;
    /** CloudWatch namespace of the run-outcome metrics the alarms watch. */
    readonly metricNamespace: string;
    /** Stage name, shown in every notification's subject. */
    readonly stage: string;
    /** Jobs whose events are handled; events of any other job are ignored (the rule filters them too). */
    readonly glueJobNames: readonly string[];
    /** Each job's output and error log groups, as the infrastructure created them. */
    readonly jobLogGroups: Readonly<Record<string, JobLogGroups>>;
    /** The command a notification tells the reader to run once the cause is fixed. */
    readonly replayCommand: string;
    /** How many previous successful runs make the duration baseline. */
    readonly baselineRuns: number;
    /** Fewer previous successful runs than this: no baseline yet, no duration ratio published. */
    readonly baselineMinRuns: number;
    readonly logLevel: LogLevel;
}

export interface JobLogGroups {
    readonly output: string;
    readonly error: string;
}

/** JOB_LOG_GROUPS: `{"<job>": {"output": "<group>", "error": "<group>"}}`; unset means none known. */
function parseJobLogGroups(raw: string | undefined): Record<string, JobLogGroups> {
    if (raw === undefined) return {};
    let parsed: unknown;
    try {
        parsed = JSON.parse(raw);
    } catch {
        throw new Error(`${ENV.jobLogGroups} must be a JSON object of job name → {output, error}`);
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error(`${ENV.jobLogGroups} must be a JSON object of job name → {output, error}`);
    for (const [job, groups] of Object.entries(parsed)) {
        const g = groups as Partial<JobLogGroups> | null;
        if (typeof g?.output !== "string" || typeof g?.error !== "string") throw new Error(`${ENV.jobLogGroups}: ${job} needs "output" and "error" log group names`);
    }
    return parsed as Record<string, JobLogGroups>;
}

const DYNAMODB_TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;
/** CloudWatch rejects namespaces starting with "AWS/" for custom metrics. */
const METRIC_NAMESPACE = /^(?!AWS\/)[A-Za-z0-9.\-_/#:]{1,255}$/;

function parseJobNames(raw: string | undefined): string[] {
    const names = (raw ?? "").split(",").map((n) => n.trim()).filter((n) => n !== "");
    if (names.length === 0) throw new Error(`${ENV.glueJobNames} is required: a comma-separated list of Glue job names`);
    return [...new Set(names)];
}

/**
 * Reads and validates the handler's environment.
 * @throws EnvironmentError naming every missing or invalid variable.
 */
export function loadJobEventsConfig(env: Env): JobEventsConfig {
    return readEnv(env, (r) => {
        const baselineRuns = r.int(ENV.baselineRuns, { default: 10, min: 1, max: 100 });
        return {
            metadataTable: r.string(ENV.metadataTable, { pattern: DYNAMODB_TABLE_NAME, describe: "a DynamoDB table name" }),
            alertsTopicArn: r.string(ENV.alertsTopicArn, { pattern: SNS_TOPIC_ARN, describe: "an SNS topic ARN" }),
            metricNamespace: r.string(ENV.metricNamespace, { default: DEFAULT_METRIC_NAMESPACE, pattern: METRIC_NAMESPACE, describe: "a custom CloudWatch namespace (not AWS/...)" }),
            stage: r.string(ENV.stage, { pattern: /^[a-z][a-z0-9-]{0,30}$/, describe: "a stage name such as dev" }),
            glueJobNames: r.parse(ENV.glueJobNames, parseJobNames, []),
            jobLogGroups: r.parse(ENV.jobLogGroups, parseJobLogGroups, {}),
            replayCommand: r.string(ENV.replayCommand, { default: "npm run replay -- --stack <stack>" }),
            baselineRuns,
            baselineMinRuns: r.int(ENV.baselineMinRuns, { default: 3, min: 1, max: baselineRuns }),
            logLevel: r.parse(ENV.logLevel, (raw) => parseLogLevel(raw), "INFO"),
        };
    });
}
