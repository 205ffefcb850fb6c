/**
 * The monthly cost of a stack, computed from its offline synth graph (what it deploys, with which settings)
 * and a declared workload (how much it does). Pure: no AWS, no clock; every figure traces to a line with a
 * quantity, a unit price and a note.
 *
 * What comes from the graph: Glue jobs (worker type, worker cap, STANDARD or FLEX), Lambda functions (memory,
 * architecture, and what invokes them: S3 notifications, Glue state-change rules, schedules), buckets and
 * their lifecycle rules (expiration, noncurrent expiration, transitions), DynamoDB tables (billing mode,
 * PITR, indexes), alarms (metrics per alarm), dashboards, log groups (retention), KMS keys, email
 * subscriptions. What comes from the workload: files a month, run minutes and workers, trigger invocations,
 * data landed, Parquet size ratio, requests, log volume.
 *
 * Prices are an assumption stated in {@link PRICES_EU_WEST_1} (region, currency, date) and in docs/cost.md.
 */

// ---------------------------------------------------------------------------------------------------------
// Prices
// ---------------------------------------------------------------------------------------------------------

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
    /** Allowances of the always-free tier, per account and month (the seed gives each stage its own account). */
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

// ---------------------------------------------------------------------------------------------------------
// Workloads
// ---------------------------------------------------------------------------------------------------------

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
    /** Seconds one claims file's warehouse load keeps the workgroup busy (billed at least 60). @default 60 */
    readonly warehouseLoadSeconds?: number;
    /** RPU-hours of queries on the warehouse a month, beyond the loads. @default 0 */
    readonly warehouseQueryRpuHours?: number;
    /** Data in the warehouse (Redshift compresses about as well as Parquet). @default Parquet of `recordMonths` of inflow */
    readonly warehouseStorageGb?: number;
}

/**
 * The seed's two estimates (seed 000, "Estimated Monthly Costs"), line by line, as published.
 */
export const SEED_ESTIMATES = {
    dev: { glue: 4.4, lambda: 0.2, s3: 2.5, cloudwatch: 1.0, total: 8.1 },
    prod: { glue: 88.0, lambda: 2.0, s3: 25.0, cloudwatch: 5.0, total: 120.0 },
} as const;

/** Parquet with Snappy is typically a quarter of the CSV it came from. */
export const DEFAULT_PARQUET_RATIO = 0.25;

/**
 * Monthly inflow that makes the seed's layout hold `storedGb` at steady state: input kept 30 days, output
 * (inflow × ratio) kept 90 days, both in Standard — the lifecycle of seed 000's bucket table.
 */
export function seedInflowGb(storedGb: number, parquetRatio = DEFAULT_PARQUET_RATIO): number {
    return storedGb / (1 + 3 * parquetRatio);
}

/**
 * The seed's workloads restated as inputs: dev 10 runs of 1 DPU-hour (30 min on 2 G.1X workers), 1,000
 * invocations, 100 GB at rest, 1,000 requests; prod 100 runs of 2 DPU-hours (12 min on 10 workers),
 * 10,000 invocations, 1 TB at rest, 10,000 requests. The rest (durations, log volumes, failure rate) are
 * ours, stated in docs/cost.md.
 */
export const SEED_WORKLOADS: Readonly<Record<"dev" | "prod", Workload>> = {
    dev: {
        name: "seed dev",
        description: "seed 000 dev: 10 runs × 1 DPU-hour, 1,000 invocations, 100 GB at rest, 1,000 requests",
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
    },
    prod: {
        name: "seed prod",
        description: "seed 000 prod: 100 runs × 2 DPU-hours, 10,000 invocations, 1 TB at rest, 10,000 requests",
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
    },
};

// ---------------------------------------------------------------------------------------------------------
// What the graph deploys
// ---------------------------------------------------------------------------------------------------------

/** The part of a synth graph resource the model reads (scripts/synth.ts's SynthResult["resources"]). */
export interface GraphResource {
    readonly type: string;
    readonly name: string;
    readonly inputs: Record<string, any>;
}

export interface LifecycleRuleInfo {
    readonly prefix: string;
    readonly expirationDays?: number;
    readonly noncurrentDays?: number;
    readonly transitions: readonly { readonly days: number; readonly storageClass: StorageClass }[];
}

export interface Inventory {
    readonly glueJobs: readonly { name: string; workerType: string; maxWorkers: number; executionClass: "STANDARD" | "FLEX" }[];
    readonly functions: readonly {
        name: string;
        memoryMb: number;
        architecture: "arm64" | "x86_64";
        /** Invoked by S3 notifications (the trigger). */
        s3Triggered: boolean;
        /** Invoked by a Glue state-change rule: once per run. */
        glueStateChanges: boolean;
        /** Scheduled invocations a month. */
        scheduledPerMonth: number;
    }[];
    readonly buckets: readonly { name: string; role: "input" | "output" | "assets" | "access-logs" | "other"; versioned: boolean; rules: readonly LifecycleRuleInfo[] }[];
    readonly tables: readonly { name: string; onDemand: boolean; pitr: boolean; indexes: number }[];
    readonly alarms: readonly { name: string; metrics: number }[];
    readonly dashboards: number;
    readonly logGroups: readonly { name: string; retentionDays: number }[];
    readonly kmsKeys: number;
    readonly emailSubscriptions: number;
    readonly queues: number;
    /** Redshift Serverless workgroups (the claims warehouse, when a stack enables it). */
    readonly warehouses: readonly { name: string; baseCapacity: number }[];
}

const DPU_PER_WORKER: Readonly<Record<string, number>> = {
    "G.025X": 0.25, "G.1X": 1, "G.2X": 2, "G.4X": 4, "G.8X": 8, "G.12X": 12, "G.16X": 16, "R.1X": 1, "R.2X": 2, "R.4X": 4, "R.8X": 8, "Z.2X": 2,
};

export function dpuPerWorker(workerType: string): number {
    const dpu = DPU_PER_WORKER[workerType];
    if (dpu === undefined) throw new Error(`cost model: unknown Glue worker type ${workerType}`);
    return dpu;
}

/** Invocations a month of a schedule expression: rate(N unit) exactly; cron() only when daily. */
export function scheduledPerMonth(expression: string): number {
    const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
    const minutesInMonth = 30 * 24 * 60;
    if (rate) {
        const n = Number(rate[1]);
        const unit = rate[2].startsWith("minute") ? 1 : rate[2].startsWith("hour") ? 60 : 1440;
        return Math.floor(minutesInMonth / (n * unit));
    }
    const cron = /^cron\((\S+) (\S+) (\S+) (\S+) (\S+)(?: (\S+))?\)$/.exec(expression.trim());
    if (cron && /^\d+$/.test(cron[1]) && /^\d+$/.test(cron[2]) && ["*", "?"].includes(cron[3]) && cron[4] === "*" && ["*", "?"].includes(cron[5])) return 30;
    throw new Error(`cost model: cannot count invocations of schedule ${JSON.stringify(expression)} (use rate(...) or a daily cron)`);
}

function bucketRole(name: string): Inventory["buckets"][number]["role"] {
    if (name.startsWith("glue-input-")) return "input";
    if (name.startsWith("glue-output-")) return "output";
    if (name.startsWith("glue-assets-")) return "assets";
    if (name.startsWith("glue-access-logs-")) return "access-logs";
    return "other";
}

const functionNameOfArn = (arn: unknown): string | undefined => (typeof arn === "string" ? /:function:([^:]+)/.exec(arn)?.[1] : undefined);

/** Reads what the cost depends on out of a synth graph. */
export function inventoryOf(resources: readonly GraphResource[]): Inventory {
    const of = (type: string) => resources.filter((r) => r.type === type);
    const rules = of("aws:cloudwatch/eventRule:EventRule");
    const targets = of("aws:cloudwatch/eventTarget:EventTarget");
    const permissions = of("aws:lambda/permission:Permission");
    const versioned = new Set(
        of("aws:s3/bucketVersioning:BucketVersioning")
            .filter((v) => v.inputs.versioningConfiguration?.status === "Enabled")
            .map((v) => v.inputs.bucket),
    );
    const lifecycle = new Map(of("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").map((l) => [l.inputs.bucket, l.inputs.rules ?? []]));

    return {
        glueJobs: of("aws:glue/job:Job").map((j) => ({
            name: j.inputs.name,
            workerType: j.inputs.workerType ?? "G.1X",
            maxWorkers: j.inputs.numberOfWorkers ?? 2,
            executionClass: j.inputs.executionClass === "FLEX" ? "FLEX" : "STANDARD",
        })),
        functions: of("aws:lambda/function:Function").map((f) => {
            const name: string = f.inputs.name;
            const ruleNames = targets.filter((t) => functionNameOfArn(t.inputs.arn) === name).map((t) => t.inputs.rule);
            const fnRules = rules.filter((r) => ruleNames.includes(r.inputs.name));
            return {
                name,
                memoryMb: f.inputs.memorySize ?? 128,
                architecture: (f.inputs.architectures ?? ["x86_64"])[0] === "arm64" ? "arm64" : "x86_64",
                s3Triggered: permissions.some((p) => p.inputs.function === name && p.inputs.principal === "s3.amazonaws.com"),
                glueStateChanges: fnRules.some((r) => typeof r.inputs.eventPattern === "string" && r.inputs.eventPattern.includes("Glue Job State Change")),
                scheduledPerMonth: fnRules.filter((r) => r.inputs.scheduleExpression).reduce((n, r) => n + scheduledPerMonth(r.inputs.scheduleExpression), 0),
            };
        }),
        buckets: of("aws:s3/bucket:Bucket").map((b) => ({
            name: b.inputs.bucket,
            role: bucketRole(b.inputs.bucket ?? ""),
            versioned: versioned.has(b.inputs.bucket),
            rules: (lifecycle.get(b.inputs.bucket) ?? [])
                .filter((r: any) => r.status !== "Disabled")
                .map(
                    (r: any): LifecycleRuleInfo => ({
                        prefix: r.filter?.prefix ?? "",
                        ...(r.expiration?.days ? { expirationDays: r.expiration.days } : {}),
                        ...(r.noncurrentVersionExpiration?.noncurrentDays ? { noncurrentDays: r.noncurrentVersionExpiration.noncurrentDays } : {}),
                        transitions: (r.transitions ?? []).map((t: any) => ({ days: t.days, storageClass: t.storageClass as StorageClass })),
                    }),
                ),
        })),
        tables: of("aws:dynamodb/table:Table").map((t) => ({
            name: t.inputs.name,
            onDemand: t.inputs.billingMode === "PAY_PER_REQUEST",
            pitr: t.inputs.pointInTimeRecovery?.enabled === true,
            indexes: (t.inputs.globalSecondaryIndexes ?? []).length,
        })),
        alarms: of("aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => ({
            name: a.inputs.name,
            metrics: a.inputs.metricQueries ? a.inputs.metricQueries.filter((q: any) => q.metric).length : 1,
        })),
        dashboards: of("aws:cloudwatch/dashboard:Dashboard").length,
        logGroups: of("aws:cloudwatch/logGroup:LogGroup").map((g) => ({ name: g.inputs.name, retentionDays: g.inputs.retentionInDays ?? 0 })),
        kmsKeys: of("aws:kms/key:Key").length,
        emailSubscriptions: of("aws:sns/topicSubscription:TopicSubscription").filter((s) => s.inputs.protocol === "email").length,
        queues: of("aws:sqs/queue:Queue").length,
        // Redshift Serverless' default base capacity is 128 RPU when none is given.
        warehouses: of("aws:redshiftserverless/workgroup:Workgroup").map((g) => ({ name: g.inputs.workgroupName, baseCapacity: g.inputs.baseCapacity ?? 128 })),
    };
}

// ---------------------------------------------------------------------------------------------------------
// Storage after lifecycle
// ---------------------------------------------------------------------------------------------------------

/** How long data stays, in days, in each class (current, then noncurrent in its last class). */
export interface Residence {
    readonly daysByClass: Partial<Record<StorageClass, number>>;
    /** Days the data is kept in total; Infinity when nothing expires it. */
    readonly totalDays: number;
}

/**
 * Where data under `dataPrefix` lives over its life: the transitions and expiration of the rules whose
 * prefix covers it (S3 applies the earliest expiration among overlapping rules), then `noncurrentDays` more
 * in a versioned bucket (an expired current version becomes noncurrent until that rule removes it).
 */
export function residence(rules: readonly LifecycleRuleInfo[], dataPrefix: string, versioned: boolean): Residence {
    const covering = rules.filter((r) => dataPrefix.startsWith(r.prefix));
    const expirations = covering.map((r) => r.expirationDays).filter((d): d is number => d !== undefined);
    const expiration = expirations.length > 0 ? Math.min(...expirations) : Infinity;
    const transitions = covering.flatMap((r) => r.transitions).filter((t) => t.days < expiration).sort((a, b) => a.days - b.days);
    const noncurrents = rules.map((r) => r.noncurrentDays).filter((d): d is number => d !== undefined);
    const noncurrent = versioned && Number.isFinite(expiration) ? (noncurrents.length > 0 ? Math.min(...noncurrents) : Infinity) : 0;

    const days: Partial<Record<StorageClass, number>> = {};
    let cls: StorageClass = "STANDARD";
    let from = 0;
    for (const t of transitions) {
        days[cls] = (days[cls] ?? 0) + (t.days - from);
        cls = t.storageClass;
        from = t.days;
    }
    const end = expiration + noncurrent;
    days[cls] = (days[cls] ?? 0) + (end - from);
    return { daysByClass: days, totalDays: end };
}

// ---------------------------------------------------------------------------------------------------------
// The estimate
// ---------------------------------------------------------------------------------------------------------

export type Service = "Glue" | "Lambda" | "S3" | "DynamoDB" | "CloudWatch" | "KMS" | "SNS, SQS, EventBridge" | "Redshift Serverless";
export const SERVICES: readonly Service[] = ["Glue", "Lambda", "S3", "DynamoDB", "CloudWatch", "KMS", "SNS, SQS, EventBridge", "Redshift Serverless"];

export interface CostLine {
    readonly service: Service;
    readonly item: string;
    readonly quantity: number;
    readonly unit: string;
    readonly unitPrice: number;
    readonly cost: number;
    /** What the always-free tier takes off this line (dedicated account). */
    readonly freeTierCredit: number;
    readonly note?: string;
}

export interface Estimate {
    readonly workload: Workload;
    readonly prices: PriceTable;
    readonly lines: readonly CostLine[];
    readonly byService: Readonly<Record<Service, number>>;
    readonly total: number;
    readonly totalAfterFreeTier: number;
    /** For each Glue job, what the other execution class would cost. */
    readonly glueAlternatives: readonly { job: string; executionClass: "STANDARD" | "FLEX"; cost: number }[];
}

const DAYS_IN_MONTH = 30;
const HOURS_IN_MONTH = 730;
/** Metadata record size with its GSI copy (bytes); one write unit per KB. */
const RECORD_KB = 1.5;
/** Item writes per file: claim, STARTED, RUNNING, SUCCEEDED/FAILED, reported run. */
const WRITES_PER_FILE = 5;
/** Item reads per file: the handler's get, the trigger's on a conflict. */
const READS_PER_FILE = 2;
/** Statuses the handler counts on every scheduled event. */
const COUNTED_STATUSES = 5;
/** Metrics the handler publishes per Glue job, and file-status metrics while runs are in flight. */
const RUN_METRICS_PER_JOB = 6;
const IN_FLIGHT_STATUS_METRICS = 2;
/** KMS calls per file (S3 bucket keys cut per-object calls; SNS and Lambda add a few). */
const KMS_REQUESTS_PER_FILE = 30;
/** S3 requests a Glue run makes itself (read the CSV, write Parquet parts, commit, scratch). */
const GLUE_PUTS_PER_RUN = 20;
const GLUE_GETS_PER_RUN = 30;

const round4 = (n: number) => Math.round(n * 10000) / 10000;

function line(service: Service, item: string, quantity: number, unit: string, unitPrice: number, note?: string, freeQuantity = 0): CostLine {
    const cost = quantity * unitPrice;
    const credit = Math.min(quantity, Math.max(0, freeQuantity)) * unitPrice;
    return { service, item, quantity: round4(quantity), unit, unitPrice, cost: round4(cost), freeTierCredit: round4(credit), ...(note ? { note } : {}) };
}

function glueRunCost(job: Inventory["glueJobs"][number], w: Workload, prices: PriceTable, executionClass: "STANDARD" | "FLEX") {
    // Auto-scaling uses up to the job's cap; more work than the cap takes proportionally longer.
    const workers = Math.min(w.workersPerRun, job.maxWorkers);
    const minutes = w.runMinutes * (w.workersPerRun / workers);
    const billedSeconds = Math.max(prices.glue.minimumBilledSeconds, minutes * 60);
    const dpuHoursPerRun = (workers * dpuPerWorker(job.workerType) * billedSeconds) / 3600;
    const rate = executionClass === "FLEX" ? prices.glue.flexDpuHour : prices.glue.standardDpuHour;
    return { workers, minutes, dpuHoursPerRun, dpuHours: dpuHoursPerRun * w.filesPerMonth, rate };
}

/** The monthly estimate of `inventory` under `workload` at `prices`. */
export function estimate(inventory: Inventory, workload: Workload, prices: PriceTable = PRICES_EU_WEST_1): Estimate {
    const w = workload;
    const lines: CostLine[] = [];
    const runs = w.filesPerMonth * inventory.glueJobs.length;

    // --- Glue -----------------------------------------------------------------------------------------
    const glueAlternatives: Estimate["glueAlternatives"][number][] = [];
    for (const job of inventory.glueJobs) {
        const g = glueRunCost(job, w, prices, job.executionClass);
        lines.push(
            line(
                "Glue",
                `${job.name} (${job.executionClass}, ${job.workerType})`,
                g.dpuHours,
                "DPU-hour",
                g.rate,
                `${w.filesPerMonth} runs × ${round4(g.dpuHoursPerRun)} DPU-h (${round4(g.minutes)} min on ${g.workers} worker(s), per-second billing, 1-min minimum)`,
            ),
        );
        const other = job.executionClass === "FLEX" ? "STANDARD" : "FLEX";
        const alt = glueRunCost(job, w, prices, other);
        glueAlternatives.push({ job: job.name, executionClass: other, cost: round4(alt.dpuHours * alt.rate) });
    }

    // --- Lambda -----------------------------------------------------------------------------------------
    let lambdaRequests = 0;
    let lambdaGbSeconds = 0;
    const lambdaRequestLines: Array<{ name: string; invocations: number; gbSeconds: number; price: number; arch: string }> = [];
    for (const fn of inventory.functions) {
        const events = (fn.s3Triggered ? w.triggerInvocationsPerMonth : 0) + (fn.glueStateChanges ? runs : 0);
        const scheduled = fn.scheduledPerMonth;
        const invocations = events + scheduled;
        const durationMs = fn.s3Triggered ? w.triggerDurationMs : w.handlerDurationMs;
        const gbSeconds = invocations * (fn.memoryMb / 1024) * (durationMs / 1000);
        lambdaRequests += invocations;
        lambdaGbSeconds += gbSeconds;
        const price = fn.architecture === "arm64" ? prices.lambda.gbSecondArm64 : prices.lambda.gbSecondX86;
        lambdaRequestLines.push({ name: fn.name, invocations, gbSeconds, price, arch: fn.architecture });
    }
    // Free tier shared by all functions: spread it in order.
    let freeRequests = prices.freeTier.lambdaRequests;
    let freeGbs = prices.freeTier.lambdaGbSeconds;
    for (const f of lambdaRequestLines) {
        const reqFree = Math.min(f.invocations, freeRequests);
        freeRequests -= reqFree;
        const gbsFree = Math.min(f.gbSeconds, freeGbs);
        freeGbs -= gbsFree;
        lines.push(line("Lambda", `${f.name} requests`, f.invocations / 1e6, "million requests", prices.lambda.requestsPerMillion, `${Math.round(f.invocations)} invocations`, reqFree / 1e6));
        lines.push(line("Lambda", `${f.name} compute (${f.arch})`, f.gbSeconds, "GB-second", f.price, undefined, gbsFree));
    }

    // --- S3 ---------------------------------------------------------------------------------------------
    const storageByClass: Partial<Record<StorageClass, number>> = {};
    const addStorage = (bucket: Inventory["buckets"][number], prefix: string, inflowGb: number) => {
        const r = residence(bucket.rules, prefix, bucket.versioned);
        for (const [cls, days] of Object.entries(r.daysByClass) as Array<[StorageClass, number]>) {
            // Data that never expires: a year's accumulation (the note says so).
            const effectiveDays = Number.isFinite(days) ? Math.max(days, prices.s3.minimumDays[cls]) : 365;
            const gbMonth = (inflowGb * effectiveDays) / DAYS_IN_MONTH;
            storageByClass[cls] = (storageByClass[cls] ?? 0) + gbMonth;
        }
        return r;
    };
    const notes: string[] = [];
    for (const bucket of inventory.buckets) {
        if (bucket.role === "input") {
            const r = addStorage(bucket, "incoming/", w.inputGbPerMonth);
            notes.push(`input kept ${r.totalDays} d`);
        } else if (bucket.role === "output") {
            const r = addStorage(bucket, "processed/", w.inputGbPerMonth * w.parquetRatio);
            notes.push(`output kept ${r.totalDays} d`);
        } else if (bucket.role === "access-logs") {
            // ~300 bytes per logged request.
            addStorage(bucket, "input/", ((w.s3PutRequestsPerMonth + w.s3GetRequestsPerMonth) * 300) / 1e9);
        } else if (bucket.role === "assets") {
            addStorage(bucket, "scripts/", 0.001);
        }
    }
    for (const cls of Object.keys(storageByClass) as StorageClass[]) {
        lines.push(line("S3", `storage ${cls}`, storageByClass[cls]!, "GB-month", prices.s3.storageGbMonth[cls], cls === "STANDARD" ? notes.join(", ") + " (after lifecycle, incl. noncurrent versions)" : undefined));
    }
    const puts = w.s3PutRequestsPerMonth + runs * GLUE_PUTS_PER_RUN;
    const gets = w.s3GetRequestsPerMonth + runs * GLUE_GETS_PER_RUN;
    lines.push(line("S3", "PUT, COPY, POST, LIST requests", puts / 1000, "1,000 requests", prices.s3.putPer1000, `workload's ${w.s3PutRequestsPerMonth} + ${GLUE_PUTS_PER_RUN} per Glue run`));
    lines.push(line("S3", "GET and other requests", gets / 1000, "1,000 requests", prices.s3.getPer1000));

    // --- DynamoDB ---------------------------------------------------------------------------------------
    const scheduledCounts = inventory.functions.reduce((n, f) => n + f.scheduledPerMonth, 0);
    for (const table of inventory.tables) {
        const copies = 1 + table.indexes;
        const writeUnits = w.filesPerMonth * WRITES_PER_FILE * Math.ceil(RECORD_KB) * copies;
        // Eventually consistent count queries cost half a unit each at least.
        const readUnits = w.filesPerMonth * READS_PER_FILE + scheduledCounts * COUNTED_STATUSES * 0.5;
        const storageGb = (w.filesPerMonth * w.recordMonths * RECORD_KB * copies) / 1e6;
        if (table.onDemand) {
            lines.push(line("DynamoDB", `${table.name} writes (on demand)`, writeUnits / 1e6, "million WRU", prices.dynamodb.writeUnitsPerMillion, `${WRITES_PER_FILE} writes per file × ${copies} (table + index)`));
            lines.push(line("DynamoDB", `${table.name} reads (on demand)`, readUnits / 1e6, "million RRU", prices.dynamodb.readUnitsPerMillion, `per file, and ${COUNTED_STATUSES} status counts per scheduled event`));
        }
        lines.push(line("DynamoDB", `${table.name} storage`, storageGb, "GB-month", prices.dynamodb.storageGbMonth, `${w.recordMonths} months of records`, prices.freeTier.dynamodbStorageGb));
        if (table.pitr) lines.push(line("DynamoDB", `${table.name} point-in-time recovery`, storageGb, "GB-month", prices.dynamodb.pitrGbMonth));
    }

    // --- CloudWatch ---------------------------------------------------------------------------------------
    const alarmMetrics = inventory.alarms.reduce((n, a) => n + a.metrics, 0);
    lines.push(line("CloudWatch", `${inventory.alarms.length} alarms`, alarmMetrics, "alarm metric-month", prices.cloudwatch.alarmMetricMonth, "metric-math alarms bill each metric they read", prices.freeTier.cloudwatchAlarmMetrics));
    lines.push(line("CloudWatch", "dashboards", inventory.dashboards, "dashboard-month", prices.cloudwatch.dashboardMonth, undefined, prices.freeTier.cloudwatchDashboards));
    // Custom metrics bill per hour with data: each run touches the run metrics for the hours it spans.
    const hoursPerRun = Math.max(1, Math.ceil(w.runMinutes / 60));
    const handlers = inventory.functions.filter((f) => f.glueStateChanges).length;
    const metricHours = handlers > 0
        ? Math.min(HOURS_IN_MONTH * RUN_METRICS_PER_JOB * inventory.glueJobs.length, runs * RUN_METRICS_PER_JOB) +
          Math.min(HOURS_IN_MONTH * IN_FLIGHT_STATUS_METRICS, runs * hoursPerRun * IN_FLIGHT_STATUS_METRICS)
        : 0;
    lines.push(
        line("CloudWatch", "custom metrics (run outcomes, file counts)", metricHours / HOURS_IN_MONTH, "metric-month", prices.cloudwatch.metricMonth, "billed per hour with data; zero counts are not published", prices.freeTier.cloudwatchMetrics),
    );
    const putMetricCalls = runs + runs * hoursPerRun * 12;
    lines.push(line("CloudWatch", "PutMetricData calls", putMetricCalls / 1000, "1,000 requests", prices.cloudwatch.apiRequestsPer1000));
    const lambdaLogGb = (lambdaRequests * w.lambdaLogKbPerInvocation) / 1e6;
    const glueLogGb = (runs * w.glueLogMbPerRun) / 1e3;
    const retention = (prefix: string) => Math.max(0, ...inventory.logGroups.filter((g) => g.name.startsWith(prefix)).map((g) => g.retentionDays));
    const ingestGb = lambdaLogGb + glueLogGb;
    const storedGb = (lambdaLogGb * retention("/aws/lambda/") + glueLogGb * retention("/aws-glue/")) / DAYS_IN_MONTH;
    const unbounded = inventory.logGroups.filter((g) => !(g.retentionDays > 0)).map((g) => g.name);
    lines.push(line("CloudWatch", "logs ingested", ingestGb, "GB", prices.cloudwatch.logsIngestGb, `Lambda ${round4(lambdaLogGb)} GB, Glue ${round4(glueLogGb)} GB`, prices.freeTier.cloudwatchLogsGb));
    lines.push(
        line(
            "CloudWatch",
            "logs stored",
            storedGb,
            "GB-month",
            prices.cloudwatch.logsStorageGbMonth,
            unbounded.length > 0 ? `UNBOUNDED retention: ${unbounded.join(", ")}` : `Lambda ${retention("/aws/lambda/")} d, Glue ${retention("/aws-glue/")} d retention`,
            Math.max(0, prices.freeTier.cloudwatchLogsGb - ingestGb),
        ),
    );

    // --- KMS --------------------------------------------------------------------------------------------
    lines.push(line("KMS", `${inventory.kmsKeys} customer-managed key(s)`, inventory.kmsKeys, "key-month", prices.kms.keyMonth));
    const kmsRequests = w.filesPerMonth * KMS_REQUESTS_PER_FILE + lambdaRequests;
    lines.push(line("KMS", "requests", kmsRequests / 10000, "10,000 requests", prices.kms.requestsPer10000, undefined, prices.freeTier.kmsRequests / 10000));

    // --- Redshift Serverless (the claims warehouse, only in stacks that enable it) ---------------------
    for (const wg of inventory.warehouses) {
        const rs = prices.redshiftServerless;
        const loadSeconds = Math.max(w.warehouseLoadSeconds ?? 60, rs.minimumBilledSeconds);
        const loadRpuHours = (w.filesPerMonth * loadSeconds * wg.baseCapacity) / 3600;
        lines.push(line("Redshift Serverless", `${wg.name} loads at base capacity`, loadRpuHours, "RPU-hour", rs.rpuHour, `${w.filesPerMonth} loads × ${loadSeconds} s × ${wg.baseCapacity} RPU (idle: nothing billed)`));
        const queryRpuHours = w.warehouseQueryRpuHours ?? 0;
        if (queryRpuHours > 0) lines.push(line("Redshift Serverless", `${wg.name} queries`, queryRpuHours, "RPU-hour", rs.rpuHour, "the workload's queries"));
        const storageGb = w.warehouseStorageGb ?? w.inputGbPerMonth * w.parquetRatio * w.recordMonths;
        lines.push(line("Redshift Serverless", `${wg.name} managed storage`, storageGb, "GB-month", rs.managedStorageGbMonth, "about the Parquet size of the months loaded"));
        lines.push(line("Redshift Serverless", `${wg.name} network`, 0, "NAT gateway-month", 0, "no NAT gateway (isolated subnets); the S3 gateway endpoint is free"));
    }

    // --- SNS, SQS, EventBridge -------------------------------------------------------------------------
    const notifications = runs * w.failureRate;
    lines.push(line("SNS, SQS, EventBridge", "alert emails", (notifications * inventory.emailSubscriptions) / 100000, "100,000 emails", prices.sns.emailsPer100000, `${round4(notifications)} failed runs × ${inventory.emailSubscriptions} address(es)`, prices.freeTier.snsEmails / 100000));
    lines.push(line("SNS, SQS, EventBridge", "SNS publishes", notifications / 1e6, "million", prices.sns.publishesPerMillion));
    lines.push(line("SNS, SQS, EventBridge", "EventBridge rules", 0, "events", 0, "AWS service events and schedules on the default bus are free"));

    const byService = Object.fromEntries(SERVICES.map((s) => [s, round4(lines.filter((l) => l.service === s).reduce((a, l) => a + l.cost, 0))])) as Record<Service, number>;
    const total = round4(lines.reduce((a, l) => a + l.cost, 0));
    const credit = lines.reduce((a, l) => a + l.freeTierCredit, 0);
    return { workload, prices, lines, byService, total, totalAfterFreeTier: round4(total - credit), glueAlternatives };
}

// ---------------------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------------------

const usd = (n: number) => (n < 0.005 && n > 0 ? "<$0.01" : `$${n.toFixed(2)}`);

/** Maps our services onto the seed's four rows (the seed has no DynamoDB, KMS or SNS row). */
const SEED_ROW: Readonly<Record<Service, keyof (typeof SEED_ESTIMATES)["dev"] | undefined>> = {
    Glue: "glue",
    Lambda: "lambda",
    S3: "s3",
    CloudWatch: "cloudwatch",
    DynamoDB: undefined,
    KMS: undefined,
    "SNS, SQS, EventBridge": undefined,
    "Redshift Serverless": undefined,
};

/** The side-by-side table `npm run cost` prints. */
export function formatEstimate(stack: string, est: Estimate, seed?: (typeof SEED_ESTIMATES)[keyof typeof SEED_ESTIMATES]): string {
    const out: string[] = [];
    out.push(`Monthly cost of ${stack} — workload: ${est.workload.description}`);
    out.push(`Prices: ${est.prices.region} list prices in ${est.prices.currency}, ${est.prices.asOf}; no free tier unless stated. Assumptions: docs/cost.md`);
    out.push("");
    const w1 = 24;
    out.push(`${"service".padEnd(w1)}${"seed estimate".padStart(15)}${"ours".padStart(12)}`);
    for (const s of SERVICES) {
        const row = SEED_ROW[s];
        const seedValue = seed && row ? usd(seed[row]) : "—";
        out.push(`${s.padEnd(w1)}${seedValue.padStart(15)}${usd(est.byService[s]).padStart(12)}`);
    }
    out.push(`${"TOTAL".padEnd(w1)}${(seed ? usd(seed.total) : "—").padStart(15)}${usd(est.total).padStart(12)}`);
    out.push(`${"ours after always-free tier".padEnd(w1 + 15)}${usd(est.totalAfterFreeTier).padStart(12)}   (dedicated account per stage, as seed 000 sets up)`);
    for (const alt of est.glueAlternatives) out.push(`  ${alt.job} on ${alt.executionClass} would cost ${usd(alt.cost)} for Glue`);
    out.push("");
    out.push("Line items:");
    for (const l of est.lines) {
        const qty = `${l.quantity} ${l.unit} × $${l.unitPrice}`;
        out.push(`  ${l.service.padEnd(22)} ${l.item.padEnd(52)} ${usd(l.cost).padStart(9)}  ${qty}${l.note ? ` — ${l.note}` : ""}`);
    }
    return out.join("\n");
}
