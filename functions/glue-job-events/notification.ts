/**
 * The one notification a run that did not succeed produces: written for the person on call, who has to
 * know from the message alone which job and run, which file, what went wrong, where the quarantined rows and
 * the logs are, and what to do next — not a raw event dump.
 */
import type { JobRun } from "@aws-sdk/client-glue";
import type { ProcessingRecord } from "../shared/processingRecords";

/** SNS rejects subjects of 100 characters or more, and subjects with line breaks or non-ASCII characters. */
export const MAX_SUBJECT_LENGTH = 99;

/** What happened to the file's metadata record while handling the event. */
export type RecordUpdate =
    /** The run died without the job recording it; the handler set FAILED. */
    | "marked-failed"
    /** The job recorded its own outcome (or a newer claim owns the record): left as it is. */
    | "left-alone"
    /** The run was not started for a tracked file (no --file_id), or the record does not exist. */
    | "none";

export type RunDetails = Pick<
    JobRun,
    "ErrorMessage" | "ExecutionTime" | "StartedOn" | "CompletedOn" | "Attempt" | "Arguments" | "LogGroupName" | "Timeout" | "ExecutionClass"
>;

export interface NotificationInput {
    readonly stage: string;
    readonly region: string;
    readonly jobName: string;
    readonly jobRunId: string;
    /** The state from the event: FAILED, TIMEOUT, STOPPED or ERROR. */
    readonly state: string;
    /** `detail.message` of the event (Glue's short error text). */
    readonly eventMessage?: string;
    /** `time` of the event. */
    readonly eventTime?: string;
    /** The run as GetJobRun returned it; undefined when it could not be read. */
    readonly run?: RunDetails;
    /** The file's metadata record after the handler's update, when the run names a tracked file. */
    readonly record?: ProcessingRecord;
    readonly recordUpdate: RecordUpdate;
    readonly tableName: string;
    readonly replayCommand: string;
    /** The job's log groups as the infrastructure created them; else derived from the run's LogGroupName. */
    readonly logGroups?: { readonly output: string; readonly error: string };
}

export interface Notification {
    readonly subject: string;
    readonly message: string;
    /** SNS message attributes, for subscription filter policies (e.g. only TIMEOUTs to one channel). */
    readonly attributes: Readonly<Record<string, string>>;
}

/** "3 min 12 s", "45 s", "1 h 2 min". */
export function formatDuration(seconds: number): string {
    const s = Math.max(0, Math.round(seconds));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const rest = s % 60;
    if (h > 0) return m > 0 ? `${h} h ${m} min` : `${h} h`;
    if (m > 0) return rest > 0 ? `${m} min ${rest} s` : `${m} min`;
    return `${rest} s`;
}

/** CloudWatch's console escapes path parts twice, with `$` standing in for the second `%`. */
const consoleEscape = (part: string): string => encodeURIComponent(encodeURIComponent(part)).replace(/%/g, "$");

export function logEventsUrl(region: string, logGroup: string, stream: string): string {
    return (
        `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}` +
        `#logsV2:log-groups/log-group/${consoleEscape(logGroup)}/log-events/${consoleEscape(stream)}`
    );
}

export function jobRunUrl(region: string, jobName: string, runId: string): string {
    return `https://${region}.console.aws.amazon.com/gluestudio/home?region=${region}#/job/${encodeURIComponent(jobName)}/run/${encodeURIComponent(runId)}`;
}

/** The subject: ASCII only, one line, under SNS's limit, the file name kept when anything must give. */
export function notificationSubject(stage: string, jobName: string, state: string, sourcePath?: string): string {
    const ascii = (s: string) => s.replace(/[^\x20-\x7E]/g, "?");
    const head = ascii(`[${stage}] ${jobName} ${state}`);
    if (!sourcePath) return head.slice(0, MAX_SUBJECT_LENGTH);
    const file = ascii(sourcePath.slice(sourcePath.lastIndexOf("/") + 1));
    const full = `${head}: ${file}`;
    if (full.length <= MAX_SUBJECT_LENGTH) return full;
    // The end of a long name (its date, its suffix) tells files apart better than its start.
    const room = MAX_SUBJECT_LENGTH - head.length - 2;
    return room >= 12 ? `${head}: ...${file.slice(-(room - 3))}` : head.slice(0, MAX_SUBJECT_LENGTH);
}

function stateSentence(state: string, run: RunDetails | undefined): string {
    const took = run?.ExecutionTime ? ` after ${formatDuration(run.ExecutionTime)}` : "";
    switch (state) {
        case "TIMEOUT":
            return `timed out${took}${run?.Timeout ? ` (the job's timeout is ${run.Timeout} min)` : ""}`;
        case "STOPPED":
            return `was stopped${took} (someone or something called BatchStopJobRun)`;
        case "ERROR":
            return `ended in ERROR${took} (Glue could not run it)`;
        default:
            return `failed${took}`;
    }
}

function errorText(input: NotificationInput): string {
    const fromRun = input.run?.ErrorMessage?.trim();
    if (fromRun) return fromRun;
    const fromEvent = input.eventMessage?.trim();
    if (fromEvent) return fromEvent;
    if (input.state === "TIMEOUT") return "the run exceeded the job's timeout and was killed by Glue";
    return "Glue reported no error message; see the error log below";
}

/** Builds the notification for a run that did not succeed. Pure: everything it says comes from `input`. */
export function buildRunNotification(input: NotificationInput): Notification {
    const args = input.run?.Arguments ?? {};
    const record = input.record;
    const fileId = record?.file_id ?? args["--file_id"];
    const sourcePath = record?.source_file_path ?? args["--input_path"];
    const quarantinePath = record?.quarantine_path ?? args["--quarantine_path"];
    const outputPath = record?.output_file_path ?? args["--output_path"];
    const logBase = input.run?.LogGroupName ?? "/aws-glue/jobs";
    const errorGroup = input.logGroups?.error ?? `${logBase}/error`;
    const outputGroup = input.logGroups?.output ?? `${logBase}/output`;
    const error = errorText(input);

    const lines: string[] = [];
    lines.push(`Glue job ${input.jobName} (${input.stage}): run ${input.jobRunId} ${stateSentence(input.state, input.run)}.`);
    lines.push("");
    lines.push("WHAT WENT WRONG");
    lines.push(`  Error:       ${error.replace(/\s*\n\s*/g, " | ")}`);
    lines.push(`  State:       ${input.state}${input.eventTime ? ` at ${input.eventTime}` : ""}`);
    if (input.run?.Attempt !== undefined && input.run.Attempt > 0) lines.push(`  Glue retry:  attempt ${input.run.Attempt} of this run`);
    lines.push("");
    lines.push("WHICH FILE");
    if (sourcePath || fileId) {
        lines.push(`  File:        ${sourcePath ?? "(path not recorded)"}`);
        if (fileId) lines.push(`  File id:     ${fileId}`);
        if (record) {
            const claim = record.attempts !== undefined ? `, claim ${record.attempts}` : "";
            const status =
                input.recordUpdate === "marked-failed"
                    ? `now FAILED (the run ended before the job could record it)${claim}`
                    : `${record.processing_status}${claim}`;
            lines.push(`  Record:      ${input.tableName}, status ${status}`);
        } else if (fileId) {
            lines.push(`  Record:      none found in ${input.tableName} for this file id`);
        }
        if (quarantinePath) lines.push(`  Quarantine:  ${quarantinePath} (rows the job rejected, with the reason, if it got that far)`);
        if (outputPath) lines.push(`  Output:      ${outputPath} (incomplete for this run: do not use it)`);
    } else {
        lines.push("  This run was not started for a tracked file (no --file_id argument), e.g. a manual run.");
    }
    lines.push("");
    lines.push("WHERE TO LOOK");
    lines.push(`  Error log:   log group ${errorGroup}, stream ${input.jobRunId}`);
    lines.push(`               ${logEventsUrl(input.region, errorGroup, input.jobRunId)}`);
    lines.push(`  Output log:  log group ${outputGroup}, stream ${input.jobRunId}`);
    lines.push(`  Run details: ${jobRunUrl(input.region, input.jobName, input.jobRunId)}`);
    lines.push("");
    lines.push("WHAT TO DO");
    if (fileId) {
        lines.push("  Fix the cause (the error above, the quarantined rows, the logs), then re-run the failed files once:");
        lines.push(`    ${input.replayCommand}`);
        lines.push("  Replay starts each FAILED or START_FAILED file exactly once; running it again does nothing more.");
    } else {
        lines.push("  Fix the cause and start the run again by hand; there is no tracked file to replay.");
    }

    const attributes: Record<string, string> = {
        event_type: "glue_job_run_not_succeeded",
        stage: input.stage,
        job_name: input.jobName,
        job_run_id: input.jobRunId,
        state: input.state,
    };
    if (fileId) attributes.file_id = fileId;
    return { subject: notificationSubject(input.stage, input.jobName, input.state, sourcePath), message: lines.join("\n"), attributes };
}
