/**
 * Where one ingestion run writes in the bronze layer, as pure functions.
 *
 * Object keys are a function of the run and the page number only: `<prefix>YYYY/MM/DD/<run id>/page-00001.json`.
 * A run that is retried (Step Functions retrying the Lambda, EventBridge Scheduler redelivering the same
 * tick) therefore overwrites its own pages instead of adding copies, and a page is never written twice
 * under two names.
 */

/** What the state machine passes to the function (see components/workflow/stateMachineDefinition.ts). */
export interface IngestEvent {
    /** The schedule tick this run belongs to (EventBridge Scheduler's `<aws.scheduler.scheduled-time>`). */
    readonly scheduledTime?: string;
    /**
     * The execution's own input, as the state machine forwards it (`"input.$": "$"`): the schedule puts
     * `scheduledTime` there; a manual execution may pass `{}`. Used when `scheduledTime` is not given directly.
     */
    readonly input?: { readonly scheduledTime?: string } | null;
    /** Step Functions execution name (`$$.Execution.Name`): the run id of a manual execution. */
    readonly executionName?: string;
    /** Step Functions execution start time (`$$.Execution.StartTime`). */
    readonly executionStartTime?: string;
}

export interface RunIdentity {
    /** `scheduled-20251105T090000Z`, `exec-<execution name>` or `manual-<time>-<request id>`. */
    readonly runId: string;
    /** The UTC day the run's data belongs to. */
    readonly runDate: Date;
    /** `<bronze prefix>YYYY/MM/DD/<run id>/` */
    readonly prefix: string;
}

/** Characters kept in a run id: safe in S3 keys, Glue arguments and log queries. */
const UNSAFE_RUN_ID_CHARS = /[^A-Za-z0-9._-]/g;

/** Parses an ISO-8601 timestamp; undefined when absent or not a valid time. */
export function parseTimestamp(value: unknown): Date | undefined {
    if (typeof value !== "string" || value.trim() === "") return undefined;
    // Date.parse accepts many formats; insist on the ISO shape the services send.
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(value.trim())) return undefined;
    const ms = Date.parse(value.trim());
    return Number.isNaN(ms) ? undefined : new Date(ms);
}

/** `20251105T090000Z` */
export function compactUtc(date: Date): string {
    return date.toISOString().replace(/\.\d{3}Z$/, "Z").replace(/[-:]/g, "");
}

/** `YYYY/MM/DD/` of the UTC day. */
export function datePath(date: Date): string {
    const iso = date.toISOString();
    return `${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}/`;
}

/**
 * The run's identity. Priority: the schedule tick (so every delivery of one tick, and every retry, shares
 * the keys), then the execution name (a manual execution), then the invocation itself (a direct invoke).
 */
export function resolveRun(event: IngestEvent, bronzePrefix: string, now: Date, requestId: string): RunIdentity {
    const scheduled = parseTimestamp(event.scheduledTime) ?? parseTimestamp(event.input?.scheduledTime);
    let runId: string;
    let runDate: Date;
    if (scheduled) {
        runId = `scheduled-${compactUtc(scheduled)}`;
        runDate = scheduled;
    } else if (typeof event.executionName === "string" && event.executionName.replace(UNSAFE_RUN_ID_CHARS, "") !== "") {
        runId = `exec-${event.executionName.replace(UNSAFE_RUN_ID_CHARS, "_").slice(0, 80)}`;
        runDate = parseTimestamp(event.executionStartTime) ?? now;
    } else {
        runId = `manual-${compactUtc(now)}-${requestId.replace(UNSAFE_RUN_ID_CHARS, "").slice(0, 36) || "local"}`;
        runDate = now;
    }
    return { runId, runDate, prefix: `${bronzePrefix}${datePath(runDate)}${runId}/` };
}

/** The key of page `page` (1-based) of a run: `<run prefix>page-00001.json`. */
export function pageKey(runPrefix: string, page: number): string {
    if (!Number.isInteger(page) || page < 1) throw new RangeError(`page must be an integer >= 1, got ${page}`);
    return `${runPrefix}page-${String(page).padStart(5, "0")}.json`;
}
