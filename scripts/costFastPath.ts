/**
 * The fast path in the cost model (the CSV converter beside the CSV flow's Glue job): what one file costs on
 * each engine by size class, and how a job's files split between its converter and Glue at the routing limit.
 * Pure: prices from ./costPrices.ts, the converter as read from the graph (./costInventory.ts), and the
 * assumptions below, each named with where it comes from.
 *
 * What both paths share (the trigger's invocation, the metadata record's writes, the data at rest) costs the
 * same on either and is left out of the per-file figures; the monthly estimate (./costEstimate.ts) counts it.
 */
import { dpuPerWorker, PriceTable } from "./costPrices";
import { CSV_CONVERTER_CONTRACT as converterContract } from "../functions/csv-converter/contract";

export const BYTES_PER_MB = 1024 * 1024;

/** The size classes a file is priced at (the 1 MB, 100 MB and 1 GB). */
export const SIZE_CLASSES_MB: readonly number[] = [1, 100, 1024];

export interface FileSizeShare {
    readonly sizeMb: number;
    /** Share of the job's files of this size (the shares of a mix add up to 1). */
    readonly share: number;
}

/**
 * ASSUMED: the sizes of the CSV flow's files — 70 % of 1 MB, 27 % of 100 MB, 3 % of 1 GB. Nothing in the
 * requirements gives a distribution; this one is chosen so its mean (58 MB) is the requirements' own mean
 * object size (57 MB: 57.1 GB landing a month over 1,000 trigger invocations in dev, 571 GB over 10,000 in
 * prod), with most files small, as the fast-path issue observes. A workload's `fileSizeMix` replaces it.
 */
export const ASSUMED_FILE_SIZE_MIX: readonly FileSizeShare[] = [
    { sizeMb: 1, share: 0.7 },
    { sizeMb: 100, share: 0.27 },
    { sizeMb: 1024, share: 0.03 },
];

/**
 * One file's Glue run, from the project's measurements: the smallest run a G.1X job makes (2 workers = 2 DPU),
 * Spark's session start and warm-up (14–17 s in `npm run bench`, paid by every Glue run), and the
 * FileProcessorV2 path's throughput on the 1 GB bench file (17.5 MB/s on 2 cores; docs/benchmarks.md). Billed
 * per second with Glue's 1-minute minimum (the price table's).
 */
export const GLUE_FILE_ASSUMPTIONS: GlueFileAssumptions = { workers: 2, workerType: "G.1X", startSeconds: 15, mbPerSecond: 17.5 };

export interface GlueFileAssumptions {
    readonly workers: number;
    readonly workerType: string;
    readonly startSeconds: number;
    readonly mbPerSecond: number;
}

export interface ConverterAssumptions {
    /** CPU-seconds the fast engine (DuckDB with the Spark path's rules) spends per MB of CSV. */
    readonly cpuSecondsPerMb: number;
    /** Where {@link cpuSecondsPerMb} comes from. */
    readonly cpuSource: string;
    /** Lambda gives one vCPU per this much memory. */
    readonly memoryMbPerVcpu: number;
    /** The most vCPUs the engine was measured to use (the bench machine's cores). */
    readonly maxVcpus: number;
    /** S3 transfer inside the region, one stream: the CSV down, the Parquet up. */
    readonly s3MbPerSecond: number;
    /** Per file besides the data: record writes, the version check, the publish copy, a warm invocation. */
    readonly fixedSecondsPerFile: number;
    /** Parquet (Snappy) size ÷ CSV size, for the upload. */
    readonly parquetRatio: number;
    /** S3 requests of one conversion: staged parts, quarantine, publish copies, staging clean-up; the download and listings. */
    readonly s3PutsPerFile: number;
    readonly s3GetsPerFile: number;
    /** The trigger's SendMessage, the mapping's ReceiveMessage, its DeleteMessage. */
    readonly sqsRequestsPerFile: number;
    /** Custom metrics a conversion touches (the converter's contract metrics and the job's rows written / quarantined). */
    readonly metricsPerFile: number;
}

/**
 * The conversion from docs/fast-path.md's measurement: 3.2 CPU-seconds for the 100 MB bench file (51–53 MB/s
 * on 2 cores), at Lambda's one vCPU per 1,769 MB, no more than the 2 cores it was measured on (Graviton is
 * taken as fast as the bench machine's core). S3 at 80 MB/s and 1 s a file are assumptions, not measurements.
 */
export const CONVERTER_ASSUMPTIONS: ConverterAssumptions = {
    cpuSecondsPerMb: 0.032,
    cpuSource: "docs/fast-path.md: 3.2 CPU-s per 100 MB on the bench",
    memoryMbPerVcpu: 1769,
    maxVcpus: 2,
    s3MbPerSecond: 80,
    fixedSecondsPerFile: 1,
    parquetRatio: 0.25,
    s3PutsPerFile: 6,
    s3GetsPerFile: 2,
    sqsRequestsPerFile: 3,
    metricsPerFile: 4,
};

/** A converter as the graph deploys it (./costInventory.ts), or {@link DEFAULT_FAST_PATH} where none is deployed. */
export interface FastPathInfo {
    readonly functionName: string;
    /** The Glue job it converts for and falls back to. */
    readonly glueJobName: string;
    readonly memoryMb: number;
    readonly architecture: "arm64" | "x86_64";
    readonly timeoutSeconds: number;
    /** The trigger's routing limit: files at or below it go to the converter. */
    readonly maxBytes: number;
}

/**
 * The converter's settings when a stack deploys none (the per-file table still prices one): the contract's
 * routing limit, and the sizing docs/fast-path.md checks it against (2,048 MB, 120 s).
 */
export const DEFAULT_FAST_PATH: Omit<FastPathInfo, "functionName" | "glueJobName"> = {
    memoryMb: 2048,
    architecture: "arm64",
    timeoutSeconds: 120,
    maxBytes: converterContract.defaults.maxBytes,
};

export interface GlueFileCost {
    readonly seconds: number;
    readonly billedSeconds: number;
    readonly dpuHours: number;
    readonly cost: number;
}

/** One file of `sizeMb` on Glue, at the execution class's rate. */
export function glueFileCost(sizeMb: number, prices: PriceTable, executionClass: "STANDARD" | "FLEX", a = GLUE_FILE_ASSUMPTIONS): GlueFileCost {
    const seconds = a.startSeconds + sizeMb / a.mbPerSecond;
    const billedSeconds = Math.max(prices.glue.minimumBilledSeconds, seconds);
    const dpuHours = (a.workers * dpuPerWorker(a.workerType) * billedSeconds) / 3600;
    const rate = executionClass === "FLEX" ? prices.glue.flexDpuHour : prices.glue.standardDpuHour;
    return { seconds, billedSeconds, dpuHours, cost: dpuHours * rate };
}

/** The least a Glue run bills: 2 DPU × the 1-minute minimum (≈ $0.0147 on STANDARD), the yardstick. */
export function glueMinimumRunCost(prices: PriceTable, executionClass: "STANDARD" | "FLEX" = "STANDARD", a = GLUE_FILE_ASSUMPTIONS): number {
    return glueFileCost(0, prices, executionClass, { ...a, startSeconds: 0 }).cost;
}

export interface ConverterFileCost {
    readonly seconds: number;
    readonly gbSeconds: number;
    readonly computeCost: number;
    readonly requestCost: number;
    readonly sqsCost: number;
    readonly cost: number;
    /** At or below the routing limit: the trigger sends it here. */
    readonly routed: boolean;
    /** Its estimated duration fits the function's timeout. */
    readonly fitsTimeout: boolean;
}

/** vCPUs the converter's engine uses at `memoryMb`. */
export function converterVcpus(memoryMb: number, a: ConverterAssumptions = CONVERTER_ASSUMPTIONS): number {
    return Math.min(memoryMb / a.memoryMbPerVcpu, a.maxVcpus);
}

/** Seconds the converter spends on one file: the fixed part, the transfers, the conversion at its vCPUs. */
export function converterSeconds(sizeMb: number, memoryMb: number, a: ConverterAssumptions = CONVERTER_ASSUMPTIONS): number {
    return a.fixedSecondsPerFile + (sizeMb * (1 + a.parquetRatio)) / a.s3MbPerSecond + (sizeMb * a.cpuSecondsPerMb) / converterVcpus(memoryMb, a);
}

/** One file of `sizeMb` on the converter: Lambda GB-seconds at its memory and architecture, the request, the SQS requests. */
export function converterFileCost(sizeMb: number, fp: Omit<FastPathInfo, "functionName" | "glueJobName">, prices: PriceTable, a = CONVERTER_ASSUMPTIONS): ConverterFileCost {
    const seconds = converterSeconds(sizeMb, fp.memoryMb, a);
    const gbSeconds = (fp.memoryMb / 1024) * seconds;
    const computeCost = gbSeconds * (fp.architecture === "arm64" ? prices.lambda.gbSecondArm64 : prices.lambda.gbSecondX86);
    const requestCost = prices.lambda.requestsPerMillion / 1e6;
    const sqsCost = (a.sqsRequestsPerFile * prices.sqs.requestsPerMillion) / 1e6;
    return {
        seconds,
        gbSeconds,
        computeCost,
        requestCost,
        sqsCost,
        cost: computeCost + requestCost + sqsCost,
        routed: sizeMb * BYTES_PER_MB <= fp.maxBytes,
        fitsTimeout: seconds <= fp.timeoutSeconds,
    };
}

/** Rejects a mix whose shares do not add up to 1 or whose sizes are not positive. */
export function validateSizeMix(mix: readonly FileSizeShare[]): void {
    if (mix.length === 0) throw new Error("cost model: fileSizeMix is empty");
    for (const s of mix) {
        if (!(s.sizeMb > 0) || !(s.share >= 0)) throw new Error(`cost model: fileSizeMix: ${JSON.stringify(s)} needs sizeMb > 0 and share >= 0`);
    }
    const total = mix.reduce((a, s) => a + s.share, 0);
    if (Math.abs(total - 1) > 1e-6) throw new Error(`cost model: fileSizeMix shares add up to ${total}, not 1`);
}

export interface RoutedFiles {
    /** Files a month on the converter, by size class. */
    readonly fast: readonly FileSizeShare[];
    readonly filesOnFastPath: number;
    readonly filesOnGlue: number;
    /** GB-seconds a month of the converter for its files. */
    readonly gbSeconds: number;
}

/** Splits `files` a month of the mix at the routing limit: at or below it on the converter, the rest on Glue. */
export function routeFiles(files: number, mix: readonly FileSizeShare[], fp: Omit<FastPathInfo, "functionName" | "glueJobName">, prices: PriceTable, a = CONVERTER_ASSUMPTIONS): RoutedFiles {
    validateSizeMix(mix);
    const fast = mix.filter((s) => s.sizeMb * BYTES_PER_MB <= fp.maxBytes);
    const filesOnFastPath = files * fast.reduce((n, s) => n + s.share, 0);
    const gbSeconds = fast.reduce((n, s) => n + files * s.share * converterFileCost(s.sizeMb, fp, prices, a).gbSeconds, 0);
    return { fast, filesOnFastPath, filesOnGlue: files - filesOnFastPath, gbSeconds };
}

export interface SizeClassCost {
    readonly sizeMb: number;
    readonly glue: GlueFileCost;
    readonly converter: ConverterFileCost;
    /** The converter's cost ÷ the Glue minimum run's. */
    readonly converterShareOfGlueMinimum: number;
}

/** One file of each size class on each path (the Glue job at `executionClass`). */
export function perFileBySizeClass(fp: Omit<FastPathInfo, "functionName" | "glueJobName">, prices: PriceTable, executionClass: "STANDARD" | "FLEX", sizes = SIZE_CLASSES_MB): SizeClassCost[] {
    const minimum = glueMinimumRunCost(prices, executionClass);
    return sizes.map((sizeMb) => {
        const converter = converterFileCost(sizeMb, fp, prices);
        return { sizeMb, glue: glueFileCost(sizeMb, prices, executionClass), converter, converterShareOfGlueMinimum: converter.cost / minimum };
    });
}
