/**
 * The metrics the job-events handler publishes, and the pure functions that compute them from a finished
 * run. PipelineMonitoring's alarms and dashboards read exactly these names (./contract.ts holds them; a test
 * keeps the monitoring side's list equal), so renaming one without the other would break an alarm silently.
 *
 * Why publish our own: Glue does not emit a per-run outcome metric (its job metrics are Spark internals, and
 * only with --enable-metrics), so the failure rate and the "slower than usual" signal are computed here from
 * the authoritative source, the "Glue Job State Change" event and the run it names.
 */
import type { JobRun } from "@aws-sdk/client-glue";
import { JOB_NAME_DIMENSION, METRIC_NAMES, STATUS_DIMENSION } from "./contract";

// The names live in the function's contract, which the monitoring components read too.
export { JOB_NAME_DIMENSION, METRIC_NAMES, STATUS_DIMENSION };

/** The PutMetricData datum shape, without SDK classes so it can be asserted on as plain data. */
export interface Datum {
    readonly MetricName: string;
    readonly Dimensions: { readonly Name: string; readonly Value: string }[];
    readonly Value: number;
    readonly Unit: "None" | "Seconds" | "Count";
    readonly Timestamp?: Date;
}

/** DPU of one worker of each Glue worker type. */
export const DPU_PER_WORKER: Readonly<Record<string, number>> = {
    "G.025X": 0.25,
    "G.1X": 1,
    "G.2X": 2,
    "G.4X": 4,
    "G.8X": 8,
    "G.12X": 12,
    "G.16X": 16,
    "R.1X": 1,
    "R.2X": 2,
    "R.4X": 4,
    "R.8X": 8,
    "Z.2X": 2,
    Standard: 1,
};

/**
 * DPU-hours a run consumed: Glue's own `DPUSeconds` when it reports it (auto-scaled and Flex runs), else
 * capacity × execution time. Undefined when the run says too little to tell.
 */
export function dpuHours(run: Pick<JobRun, "DPUSeconds" | "MaxCapacity" | "AllocatedCapacity" | "NumberOfWorkers" | "WorkerType" | "ExecutionTime">): number | undefined {
    if (typeof run.DPUSeconds === "number" && run.DPUSeconds > 0) return run.DPUSeconds / 3600;
    const seconds = run.ExecutionTime;
    if (typeof seconds !== "number" || seconds <= 0) return undefined;
    const perWorker = run.WorkerType ? DPU_PER_WORKER[run.WorkerType] : undefined;
    const capacity =
        run.MaxCapacity ?? (run.NumberOfWorkers && perWorker ? run.NumberOfWorkers * perWorker : undefined) ?? run.AllocatedCapacity;
    if (typeof capacity !== "number" || capacity <= 0) return undefined;
    return (capacity * seconds) / 3600;
}

export interface DurationBaseline {
    /** Mean execution time in seconds of the previous successful runs used. */
    readonly meanSeconds: number;
    readonly runs: number;
}

/**
 * The mean execution time of the `take` most recent successful runs before `currentRunId`, or undefined
 * when fewer than `minRuns` such runs exist. `runs` must be newest first (GetJobRuns' order).
 */
export function durationBaseline(
    runs: readonly Pick<JobRun, "Id" | "JobRunState" | "ExecutionTime">[],
    currentRunId: string,
    take: number,
    minRuns: number,
): DurationBaseline | undefined {
    const previous = runs
        .filter((r) => r.Id !== currentRunId && r.JobRunState === "SUCCEEDED" && typeof r.ExecutionTime === "number" && r.ExecutionTime > 0)
        .slice(0, take)
        .map((r) => r.ExecutionTime as number);
    if (previous.length < minRuns) return undefined;
    return { meanSeconds: previous.reduce((a, b) => a + b, 0) / previous.length, runs: previous.length };
}

export interface RunOutcome {
    readonly jobName: string;
    readonly succeeded: boolean;
    readonly executionSeconds?: number;
    readonly dpuHours?: number;
    readonly baseline?: DurationBaseline;
    readonly recordsWritten?: number;
    readonly rowsQuarantined?: number;
    readonly completedAt?: Date;
}

/** The data points one finished run contributes. */
export function runMetrics(outcome: RunOutcome): Datum[] {
    const dims = [{ Name: JOB_NAME_DIMENSION, Value: outcome.jobName }];
    const at = outcome.completedAt ? { Timestamp: outcome.completedAt } : {};
    const data: Datum[] = [{ MetricName: METRIC_NAMES.jobRunFailed, Dimensions: dims, Value: outcome.succeeded ? 0 : 1, Unit: "None", ...at }];
    if (outcome.executionSeconds !== undefined && outcome.executionSeconds > 0) {
        data.push({ MetricName: METRIC_NAMES.jobRunDurationSeconds, Dimensions: dims, Value: outcome.executionSeconds, Unit: "Seconds", ...at });
        // Only successes: a failed run's duration says how long it took to fail, not how long the work takes.
        if (outcome.succeeded && outcome.baseline && outcome.baseline.meanSeconds > 0) {
            const ratio = outcome.executionSeconds / outcome.baseline.meanSeconds;
            data.push({ MetricName: METRIC_NAMES.jobRunDurationRatio, Dimensions: dims, Value: round(ratio, 4), Unit: "None", ...at });
        }
    }
    if (outcome.dpuHours !== undefined) {
        data.push({ MetricName: METRIC_NAMES.jobRunDpuHours, Dimensions: dims, Value: round(outcome.dpuHours, 6), Unit: "None", ...at });
    }
    if (outcome.succeeded && outcome.recordsWritten !== undefined) {
        data.push({ MetricName: METRIC_NAMES.recordsWritten, Dimensions: dims, Value: outcome.recordsWritten, Unit: "Count", ...at });
    }
    if (outcome.succeeded && outcome.rowsQuarantined !== undefined) {
        data.push({ MetricName: METRIC_NAMES.rowsQuarantined, Dimensions: dims, Value: outcome.rowsQuarantined, Unit: "Count", ...at });
    }
    return data;
}

/**
 * Data points for the file counts per status. Zero counts are not published: a custom metric is billed for
 * every hour it receives data, and the dashboards read a missing point as 0 (FILL), so publishing zeros
 * every five minutes would cost a full metric-month per status for no information.
 */
export function statusCountMetrics(counts: Readonly<Record<string, number>>, at?: Date): Datum[] {
    return Object.entries(counts)
        .filter(([, n]) => n > 0)
        .map(([status, n]) => ({
            MetricName: METRIC_NAMES.filesByStatus,
            Dimensions: [{ Name: STATUS_DIMENSION, Value: status }],
            Value: n,
            Unit: "Count" as const,
            ...(at ? { Timestamp: at } : {}),
        }));
}

function round(value: number, digits: number): number {
    const f = 10 ** digits;
    return Math.round(value * f) / f;
}
