/**
 * The arithmetic of the cost model: an inventory (./costInventory.ts) under a workload (./costWorkloads.ts)
 * at a price table (./costPrices.ts) gives cost lines, each with a quantity, a unit price and a note, and
 * their sums. Pure: no AWS, no clock.
 */
import { Inventory, LifecycleRuleInfo } from "./costInventory";
import { ASSUMED_FILE_SIZE_MIX, CONVERTER_ASSUMPTIONS, FastPathInfo, RoutedFiles, routeFiles } from "./costFastPath";
import { dpuPerWorker, PRICES_EU_WEST_1, PriceTable, StorageClass } from "./costPrices";
import { Workload } from "./costWorkloads";

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
    /** For each fast path, how the job's files split between the converter and Glue. @default none */
    readonly routing: readonly FastPathRouting[];
    /** With fast paths: the same stack and workload with every file on Glue (no converter). */
    readonly allOnGlue?: { readonly total: number; readonly totalAfterFreeTier: number };
}

export interface FastPathRouting {
    readonly fastPath: FastPathInfo;
    /** The execution class of the job it routes around. */
    readonly executionClass: "STANDARD" | "FLEX";
    readonly files: number;
    readonly filesOnFastPath: number;
    readonly filesOnGlue: number;
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

/**
 * ReceiveMessage calls a month of one event source mapping polling an empty queue: an assumption (Lambda
 * keeps at least 5 long-polling connections, each returning after SQS's 20 s wait when nothing comes:
 * 5 × 3 a minute × 43,200 minutes). AWS bills these as SQS requests; docs/cost.md says so.
 */
export const SQS_IDLE_POLLS_PER_QUEUE_MONTH = 5 * 3 * 30 * 24 * 60;
/** SQS requests per message that reaches its function: S3's send, the mapping's receive, its delete. */
const SQS_REQUESTS_PER_MESSAGE = 3;

const round4 = (n: number) => Math.round(n * 10000) / 10000;

function line(service: Service, item: string, quantity: number, unit: string, unitPrice: number, note?: string, freeQuantity = 0): CostLine {
    const cost = quantity * unitPrice;
    const credit = Math.min(quantity, Math.max(0, freeQuantity)) * unitPrice;
    return { service, item, quantity: round4(quantity), unit, unitPrice, cost: round4(cost), freeTierCredit: round4(credit), ...(note ? { note } : {}) };
}

function glueRunCost(job: Inventory["glueJobs"][number], w: Workload, prices: PriceTable, executionClass: "STANDARD" | "FLEX", runs = w.filesPerMonth) {
    // Auto-scaling uses up to the job's cap; more work than the cap takes proportionally longer.
    const workers = Math.min(w.workersPerRun, job.maxWorkers);
    const minutes = w.runMinutes * (w.workersPerRun / workers);
    const billedSeconds = Math.max(prices.glue.minimumBilledSeconds, minutes * 60);
    const dpuHoursPerRun = (workers * dpuPerWorker(job.workerType) * billedSeconds) / 3600;
    const rate = executionClass === "FLEX" ? prices.glue.flexDpuHour : prices.glue.standardDpuHour;
    return { workers, minutes, dpuHoursPerRun, dpuHours: dpuHoursPerRun * runs, rate };
}

/** The inventory without its fast paths: their converters and queues gone, every file on Glue. */
export function withoutFastPaths(inventory: Inventory): Inventory {
    const converters = new Set(inventory.fastPaths.map((f) => f.functionName));
    return {
        ...inventory,
        functions: inventory.functions.filter((f) => !converters.has(f.name)),
        feedQueues: inventory.feedQueues.filter((q) => !converters.has(q.functionName)),
        fastPaths: [],
    };
}

/** The monthly estimate of `inventory` under `workload` at `prices`. */
export function estimate(inventory: Inventory, workload: Workload, prices: PriceTable = PRICES_EU_WEST_1): Estimate {
    const w = workload;
    const lines: CostLine[] = [];

    // --- Routing: a job with a fast path runs on Glue only the files above its converter's limit ---------
    const mix = w.fileSizeMix ?? ASSUMED_FILE_SIZE_MIX;
    const routed = new Map<string, RoutedFiles & { fastPath: FastPathInfo }>();
    for (const fp of inventory.fastPaths) {
        if (!inventory.glueJobs.some((j) => j.name === fp.glueJobName)) throw new Error(`cost model: fast path ${fp.functionName} falls back to ${fp.glueJobName}, which the graph has no job of`);
        if (routed.has(fp.glueJobName)) throw new Error(`cost model: two fast paths in front of ${fp.glueJobName}`);
        routed.set(fp.glueJobName, { ...routeFiles(w.filesPerMonth, mix, fp, prices), fastPath: fp });
    }
    const glueRunsOf = (jobName: string) => routed.get(jobName)?.filesOnGlue ?? w.filesPerMonth;
    const runs = inventory.glueJobs.reduce((n, j) => n + glueRunsOf(j.name), 0);
    const fastFiles = [...routed.values()].reduce((n, r) => n + r.filesOnFastPath, 0);

    // --- Glue -----------------------------------------------------------------------------------------
    const glueAlternatives: Estimate["glueAlternatives"][number][] = [];
    for (const job of inventory.glueJobs) {
        const jobRuns = glueRunsOf(job.name);
        const fast = routed.get(job.name);
        const g = glueRunCost(job, w, prices, job.executionClass, jobRuns);
        lines.push(
            line(
                "Glue",
                `${job.name} (${job.executionClass}, ${job.workerType})`,
                g.dpuHours,
                "DPU-hour",
                g.rate,
                `${round4(jobRuns)} runs × ${round4(g.dpuHoursPerRun)} DPU-h (${round4(g.minutes)} min on ${g.workers} worker(s), per-second billing, 1-min minimum)` +
                    (fast ? `; ${round4(fast.filesOnFastPath)} of ${w.filesPerMonth} files on the fast path ${fast.fastPath.functionName} (≤ ${round4(fast.fastPath.maxBytes / 1048576)} MB)` : ""),
            ),
        );
        const other = job.executionClass === "FLEX" ? "STANDARD" : "FLEX";
        const alt = glueRunCost(job, w, prices, other, jobRuns);
        glueAlternatives.push({ job: job.name, executionClass: other, cost: round4(alt.dpuHours * alt.rate) });
    }

    // --- Lambda -----------------------------------------------------------------------------------------
    let lambdaRequests = 0;
    let lambdaGbSeconds = 0;
    const lambdaRequestLines: Array<{ name: string; invocations: number; gbSeconds: number; price: number; arch: string }> = [];
    for (const fn of inventory.functions) {
        // A converter runs once per file routed to it, for as long as its size takes (./costFastPath.ts).
        const converted = [...routed.values()].find((r) => r.fastPath.functionName === fn.name);
        const events = (fn.s3Triggered ? w.triggerInvocationsPerMonth : 0) + (fn.glueStateChanges ? runs : 0) + (converted?.filesOnFastPath ?? 0);
        const scheduled = fn.scheduledPerMonth;
        const invocations = events + scheduled;
        const durationMs = fn.s3Triggered ? w.triggerDurationMs : w.handlerDurationMs;
        const gbSeconds = converted ? converted.gbSeconds : invocations * (fn.memoryMb / 1024) * (durationMs / 1000);
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
    const puts = w.s3PutRequestsPerMonth + runs * GLUE_PUTS_PER_RUN + fastFiles * CONVERTER_ASSUMPTIONS.s3PutsPerFile;
    const gets = w.s3GetRequestsPerMonth + runs * GLUE_GETS_PER_RUN + fastFiles * CONVERTER_ASSUMPTIONS.s3GetsPerFile;
    lines.push(
        line(
            "S3",
            "PUT, COPY, POST, LIST requests",
            puts / 1000,
            "1,000 requests",
            prices.s3.putPer1000,
            `workload's ${w.s3PutRequestsPerMonth} + ${GLUE_PUTS_PER_RUN} per Glue run` + (fastFiles > 0 ? ` + ${CONVERTER_ASSUMPTIONS.s3PutsPerFile} per fast-path file` : ""),
        ),
    );
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
    const metricHours = (handlers > 0
        ? Math.min(HOURS_IN_MONTH * RUN_METRICS_PER_JOB * inventory.glueJobs.length, runs * RUN_METRICS_PER_JOB) +
          Math.min(HOURS_IN_MONTH * IN_FLIGHT_STATUS_METRICS, runs * hoursPerRun * IN_FLIGHT_STATUS_METRICS)
        : 0) +
        // The converters' metrics (embedded metric format: no API call), an hour each per file at most.
        Math.min(HOURS_IN_MONTH * CONVERTER_ASSUMPTIONS.metricsPerFile * routed.size, fastFiles * CONVERTER_ASSUMPTIONS.metricsPerFile);
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
    // The triggers' queues: every S3 event is a message (sent, received, deleted), each wait for Glue
    // capacity one message more, and each mapping polls its queue even when it is empty. Free tier: 1M a
    // month for the account, taken by the messages first.
    if (inventory.feedQueues.length > 0) {
        const waits = w.capacityWaitsPerFile ?? 0;
        // The S3-fed queues take every S3 event; a converter's queue only the files the trigger routes to it.
        const converters = new Set(inventory.fastPaths.map((f) => f.functionName));
        const triggerQueues = inventory.feedQueues.filter((q) => !converters.has(q.functionName)).length;
        const messages = triggerQueues * w.triggerInvocationsPerMonth * (1 + waits);
        const messageRequests = messages * SQS_REQUESTS_PER_MESSAGE;
        const fastRequests = fastFiles * CONVERTER_ASSUMPTIONS.sqsRequestsPerFile;
        const polls = inventory.feedQueues.length * SQS_IDLE_POLLS_PER_QUEUE_MONTH;
        const free = prices.freeTier.sqsRequests;
        lines.push(
            line(
                "SNS, SQS, EventBridge",
                `SQS: trigger queue messages (${triggerQueues} queues)`,
                messageRequests / 1e6,
                "million requests",
                prices.sqs.requestsPerMillion,
                `${w.triggerInvocationsPerMonth} S3 events per queue × (1 + ${waits} capacity waits) × ${SQS_REQUESTS_PER_MESSAGE} (S3's send, the mapping's receive, its delete; a wait re-sends)`,
                free / 1e6,
            ),
        );
        if (routed.size > 0) {
            lines.push(
                line(
                    "SNS, SQS, EventBridge",
                    "SQS: fast-path requests",
                    fastRequests / 1e6,
                    "million requests",
                    prices.sqs.requestsPerMillion,
                    `${round4(fastFiles)} files × ${CONVERTER_ASSUMPTIONS.sqsRequestsPerFile} (the trigger's send, the mapping's receive, its delete)`,
                    Math.max(0, free - messageRequests) / 1e6,
                ),
            );
        }
        lines.push(
            line(
                "SNS, SQS, EventBridge",
                "SQS: event source mappings polling",
                polls / 1e6,
                "million requests",
                prices.sqs.requestsPerMillion,
                `${inventory.feedQueues.length} mappings × ${SQS_IDLE_POLLS_PER_QUEUE_MONTH} long polls a month (assumed: 5 pollers, 20 s waits, also when idle)`,
                Math.max(0, free - messageRequests - fastRequests) / 1e6,
            ),
        );
    }

    const byService = Object.fromEntries(SERVICES.map((s) => [s, round4(lines.filter((l) => l.service === s).reduce((a, l) => a + l.cost, 0))])) as Record<Service, number>;
    const total = round4(lines.reduce((a, l) => a + l.cost, 0));
    const credit = lines.reduce((a, l) => a + l.freeTierCredit, 0);
    const routing = [...routed.values()].map((r) => ({
        fastPath: r.fastPath,
        executionClass: inventory.glueJobs.find((j) => j.name === r.fastPath.glueJobName)!.executionClass,
        files: w.filesPerMonth, filesOnFastPath: round4(r.filesOnFastPath), filesOnGlue: round4(r.filesOnGlue) }));
    const allOnGlue = routed.size > 0 ? estimate(withoutFastPaths(inventory), workload, prices) : undefined;
    return {
        workload,
        prices,
        lines,
        byService,
        total,
        totalAfterFreeTier: round4(total - credit),
        glueAlternatives,
        routing,
        ...(allOnGlue ? { allOnGlue: { total: allOnGlue.total, totalAfterFreeTier: allOnGlue.totalAfterFreeTier } } : {}),
    };
}
