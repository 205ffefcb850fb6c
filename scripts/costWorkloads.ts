/**
 * What a stack is asked to do in a month (files, run time, invocations, data landed, requests, logs), and the
 * original requirements' workloads and published estimates the report compares against. Data, plus the one
 * steady-state formula that turns "GB at rest" into the monthly inflow those estimates assume.
 */
import { ASSUMED_FILE_SIZE_MIX, FileSizeShare } from "./costFastPath";

export interface Workload {
    readonly name: string;
    readonly description: string;
    /** Files processed a month: one Glue run each (per job). */
    readonly filesPerMonth: number;
    /** Wall-clock minutes of one run, at `workersPerRun`. */
    readonly runMinutes: number;
    /** Workers a run uses on average (auto-scaling releases idle ones). */
    readonly workersPerRun: number;
    /** S3 events reaching the trigger (every object created under the watched suffix). */
    readonly triggerInvocationsPerMonth: number;
    readonly triggerDurationMs: number;
    /** Per state-change or schedule event. */
    readonly handlerDurationMs: number;
    /** CSV landed in the input bucket each month. */
    readonly inputGbPerMonth: number;
    /** Parquet (Snappy) size ÷ CSV size. */
    readonly parquetRatio: number;
    readonly s3PutRequestsPerMonth: number;
    readonly s3GetRequestsPerMonth: number;
    /** Log volume per Lambda invocation (platform lines plus ours). */
    readonly lambdaLogKbPerInvocation: number;
    /** Driver and executor log volume per Glue run. */
    readonly glueLogMbPerRun: number;
    /** Share of runs that fail (each sends one notification). */
    readonly failureRate: number;
    /** Months of records the metadata table holds (it keeps them: they are the audit trail). */
    readonly recordMonths: number;
    /**
     * Times an average file waits for Glue capacity in its trigger's queue (each wait re-sends its message:
     * a send, a receive and a delete more). @default 0 (prod's Glue queues runs; dev's Flex bursts wait)
     */
    readonly capacityWaitsPerFile?: number;
    /** Seconds one claims file's warehouse load keeps the workgroup busy (billed at least 60). @default 60 */
    readonly warehouseLoadSeconds?: number;
    /** RPU-hours of queries on the warehouse a month, beyond the loads. @default 0 */
    readonly warehouseQueryRpuHours?: number;
    /** Data in the warehouse (Redshift compresses about as well as Parquet). @default Parquet of `recordMonths` of inflow */
    readonly warehouseStorageGb?: number;
    /**
     * The sizes of a job's files, where a fast path routes by size: at or below its limit on the converter,
     * the rest on Glue (each at `runMinutes`). @default ASSUMED_FILE_SIZE_MIX (./costFastPath.ts)
     */
    readonly fileSizeMix?: readonly FileSizeShare[];
}

/**
 * The requirements' two estimates (their "Estimated Monthly Costs"), line by line, as published.
 */
export const REQUIRED_ESTIMATES = {
    dev: { glue: 4.4, lambda: 0.2, s3: 2.5, cloudwatch: 1.0, total: 8.1 },
    prod: { glue: 88.0, lambda: 2.0, s3: 25.0, cloudwatch: 5.0, total: 120.0 },
} as const;

/** Parquet with Snappy is typically a quarter of the CSV it came from. */
export const DEFAULT_PARQUET_RATIO = 0.25;

/**
 * Monthly inflow that makes the required layout hold `storedGb` at steady state: input kept 30 days, output
 * (inflow × ratio) kept 90 days, both in Standard — the lifecycle of the requirements' bucket table.
 */
export function seedInflowGb(storedGb: number, parquetRatio = DEFAULT_PARQUET_RATIO): number {
    return storedGb / (1 + 3 * parquetRatio);
}

/**
 * The requirements' workloads restated as inputs: dev 10 runs of 1 DPU-hour (30 min on 2 G.1X workers), 1,000
 * invocations, 100 GB at rest, 1,000 requests; prod 100 runs of 2 DPU-hours (12 min on 10 workers),
 * 10,000 invocations, 1 TB at rest, 10,000 requests. The rest (durations, log volumes, failure rate) are
 * ours, stated in docs/cost.md.
 */
export const REQUIRED_WORKLOADS: Readonly<Record<"dev" | "prod", Workload>> = {
    dev: {
        name: "required dev",
        description: "the requirements' dev: 10 runs × 1 DPU-hour, 1,000 invocations, 100 GB at rest, 1,000 requests",
        filesPerMonth: 10,
        runMinutes: 30,
        workersPerRun: 2,
        triggerInvocationsPerMonth: 1_000,
        triggerDurationMs: 400,
        handlerDurationMs: 300,
        inputGbPerMonth: seedInflowGb(100),
        parquetRatio: DEFAULT_PARQUET_RATIO,
        s3PutRequestsPerMonth: 1_000,
        s3GetRequestsPerMonth: 0,
        lambdaLogKbPerInvocation: 2,
        glueLogMbPerRun: 5,
        failureRate: 0.1,
        recordMonths: 12,
        fileSizeMix: ASSUMED_FILE_SIZE_MIX,
    },
    prod: {
        name: "required prod",
        description: "the requirements' prod: 100 runs × 2 DPU-hours, 10,000 invocations, 1 TB at rest, 10,000 requests",
        filesPerMonth: 100,
        runMinutes: 12,
        workersPerRun: 10,
        triggerInvocationsPerMonth: 10_000,
        triggerDurationMs: 400,
        handlerDurationMs: 300,
        inputGbPerMonth: seedInflowGb(1000),
        parquetRatio: DEFAULT_PARQUET_RATIO,
        s3PutRequestsPerMonth: 10_000,
        s3GetRequestsPerMonth: 0,
        lambdaLogKbPerInvocation: 2,
        glueLogMbPerRun: 5,
        failureRate: 0.05,
        recordMonths: 12,
        fileSizeMix: ASSUMED_FILE_SIZE_MIX,
    },
};
