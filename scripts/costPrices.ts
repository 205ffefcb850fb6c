/**
 * The unit prices the cost model multiplies by: list prices of one region, the always-free tier, and the
 * DPUs each Glue worker type is billed as. Data, no arithmetic (that is ./costEstimate.ts).
 *
 * Prices are an assumption stated in {@link PRICES_EU_WEST_1} (region, currency, date) and in docs/cost.md.
 */

export type StorageClass = "STANDARD" | "STANDARD_IA" | "ONEZONE_IA" | "INTELLIGENT_TIERING" | "GLACIER_IR" | "GLACIER" | "DEEP_ARCHIVE";

export interface PriceTable {
    readonly region: string;
    readonly currency: "USD";
    /** When these list prices were taken (not fetched live: this machine reaches only package registries). */
    readonly asOf: string;
    readonly glue: { readonly standardDpuHour: number; readonly flexDpuHour: number; readonly minimumBilledSeconds: number };
    readonly lambda: { readonly requestsPerMillion: number; readonly gbSecondArm64: number; readonly gbSecondX86: number };
    readonly s3: {
        readonly storageGbMonth: Readonly<Record<StorageClass, number>>;
        /** Days an object is billed in a class at least (deleting or moving it earlier still costs them). */
        readonly minimumDays: Readonly<Record<StorageClass, number>>;
        readonly putPer1000: number;
        readonly getPer1000: number;
    };
    readonly dynamodb: { readonly writeUnitsPerMillion: number; readonly readUnitsPerMillion: number; readonly storageGbMonth: number; readonly pitrGbMonth: number };
    readonly cloudwatch: {
        readonly metricMonth: number;
        readonly alarmMetricMonth: number;
        readonly dashboardMonth: number;
        readonly logsIngestGb: number;
        readonly logsStorageGbMonth: number;
        readonly apiRequestsPer1000: number;
    };
    readonly kms: { readonly keyMonth: number; readonly requestsPer10000: number };
    readonly sns: { readonly publishesPerMillion: number; readonly emailsPer100000: number };
    readonly sqs: { readonly requestsPerMillion: number };
    /** Billed per second while queries run, at least 60 s each time, at the capacity in use (≥ the workgroup's base). */
    readonly redshiftServerless: { readonly rpuHour: number; readonly managedStorageGbMonth: number; readonly minimumBilledSeconds: number };
    /** Allowances of the always-free tier, per account and month (the requirements give each stage its own account). */
    readonly freeTier: {
        readonly lambdaRequests: number;
        readonly lambdaGbSeconds: number;
        readonly cloudwatchMetrics: number;
        readonly cloudwatchAlarmMetrics: number;
        readonly cloudwatchDashboards: number;
        readonly cloudwatchLogsGb: number;
        readonly kmsRequests: number;
        readonly snsEmails: number;
        readonly sqsRequests: number;
        readonly dynamodbStorageGb: number;
    };
}

/** List prices of eu-west-1 (Ireland), the stacks' region, in USD, without tax. Verify before budgeting. */
export const PRICES_EU_WEST_1: PriceTable = {
    region: "eu-west-1",
    currency: "USD",
    asOf: "2025-06 (AWS public price pages as recalled; not fetched live)",
    glue: { standardDpuHour: 0.44, flexDpuHour: 0.29, minimumBilledSeconds: 60 },
    lambda: { requestsPerMillion: 0.2, gbSecondArm64: 0.0000133334, gbSecondX86: 0.0000166667 },
    s3: {
        storageGbMonth: {
            STANDARD: 0.023,
            STANDARD_IA: 0.0125,
            ONEZONE_IA: 0.01,
            INTELLIGENT_TIERING: 0.023,
            GLACIER_IR: 0.004,
            GLACIER: 0.0036,
            DEEP_ARCHIVE: 0.00099,
        },
        minimumDays: { STANDARD: 0, STANDARD_IA: 30, ONEZONE_IA: 30, INTELLIGENT_TIERING: 0, GLACIER_IR: 90, GLACIER: 90, DEEP_ARCHIVE: 180 },
        putPer1000: 0.005,
        getPer1000: 0.0004,
    },
    dynamodb: { writeUnitsPerMillion: 0.7063, readUnitsPerMillion: 0.1413, storageGbMonth: 0.283, pitrGbMonth: 0.2265 },
    cloudwatch: { metricMonth: 0.3, alarmMetricMonth: 0.1, dashboardMonth: 3, logsIngestGb: 0.57, logsStorageGbMonth: 0.03, apiRequestsPer1000: 0.01 },
    kms: { keyMonth: 1, requestsPer10000: 0.03 },
    sns: { publishesPerMillion: 0.5, emailsPer100000: 2 },
    sqs: { requestsPerMillion: 0.4 },
    redshiftServerless: { rpuHour: 0.375, managedStorageGbMonth: 0.024, minimumBilledSeconds: 60 },
    freeTier: {
        lambdaRequests: 1_000_000,
        lambdaGbSeconds: 400_000,
        cloudwatchMetrics: 10,
        cloudwatchAlarmMetrics: 10,
        cloudwatchDashboards: 3,
        cloudwatchLogsGb: 5,
        kmsRequests: 20_000,
        snsEmails: 1_000,
        sqsRequests: 1_000_000,
        dynamodbStorageGb: 25,
    },
};

/** DPUs Glue bills a worker of each type as. */
export const DPU_PER_WORKER: Readonly<Record<string, number>> = {
    "G.025X": 0.25, "G.1X": 1, "G.2X": 2, "G.4X": 4, "G.8X": 8, "G.12X": 12, "G.16X": 16, "R.1X": 1, "R.2X": 2, "R.4X": 4, "R.8X": 8, "Z.2X": 2,
};

export function dpuPerWorker(workerType: string): number {
    const dpu = DPU_PER_WORKER[workerType];
    if (dpu === undefined) throw new Error(`cost model: unknown Glue worker type ${workerType}`);
    return dpu;
}
