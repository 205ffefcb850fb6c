/**
 * The side-by-side table `npm run cost` prints: the original estimate per service, ours, and every line; then
 * one file on each path of the fast path by size class.
 */
import { Estimate, Service, SERVICES } from "./costEstimate";
import { CONVERTER_ASSUMPTIONS, converterVcpus, FastPathInfo, GLUE_FILE_ASSUMPTIONS, glueMinimumRunCost, perFileBySizeClass } from "./costFastPath";
import { PriceTable } from "./costPrices";
import { REQUIRED_ESTIMATES } from "./costWorkloads";

const usd = (n: number) => (n < 0.005 && n > 0 ? "<$0.01" : `$${n.toFixed(2)}`);
/** Small per-file amounts: four significant digits. */
const usdFine = (n: number) => `$${n.toPrecision(3)}`;
const mb = (bytes: number) => (bytes >= 1024 ** 3 ? `${+(bytes / 1024 ** 3).toFixed(2)} GB` : `${+(bytes / 1024 ** 2).toFixed(1)} MB`);
const sizeLabel = (sizeMb: number) => mb(sizeMb * 1024 * 1024);

/** Maps our services onto the published estimate's four rows (it has no DynamoDB, KMS or SNS row). */
const REQUIRED_ROW: Readonly<Record<Service, keyof (typeof REQUIRED_ESTIMATES)["dev"] | undefined>> = {
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
export function formatEstimate(stack: string, est: Estimate, seed?: (typeof REQUIRED_ESTIMATES)[keyof typeof REQUIRED_ESTIMATES]): string {
    const out: string[] = [];
    out.push(`Monthly cost of ${stack} — workload: ${est.workload.description}`);
    out.push(`Prices: ${est.prices.region} list prices in ${est.prices.currency}, ${est.prices.asOf}; no free tier unless stated. Assumptions: docs/cost.md`);
    out.push("");
    const w1 = 24;
    out.push(`${"service".padEnd(w1)}${"required est.".padStart(15)}${"ours".padStart(12)}`);
    for (const s of SERVICES) {
        const row = REQUIRED_ROW[s];
        const seedValue = seed && row ? usd(seed[row]) : "—";
        out.push(`${s.padEnd(w1)}${seedValue.padStart(15)}${usd(est.byService[s]).padStart(12)}`);
    }
    out.push(`${"TOTAL".padEnd(w1)}${(seed ? usd(seed.total) : "—").padStart(15)}${usd(est.total).padStart(12)}`);
    out.push(`${"ours after always-free tier".padEnd(w1 + 15)}${usd(est.totalAfterFreeTier).padStart(12)}   (dedicated account per stage, as required)`);
    for (const alt of est.glueAlternatives) out.push(`  ${alt.job} on ${alt.executionClass} would cost ${usd(alt.cost)} for Glue`);
    for (const r of est.routing) {
        out.push(
            `  fast path: ${r.filesOnFastPath} of ${r.files} ${r.fastPath.glueJobName} files a month on ${r.fastPath.functionName} (≤ ${mb(r.fastPath.maxBytes)}), ` +
                `${r.filesOnGlue} on Glue; all on Glue the stack would cost ${usd(est.allOnGlue!.total)} (${usd(est.allOnGlue!.totalAfterFreeTier)} after the free tier)`,
        );
    }
    out.push("");
    out.push("Line items:");
    for (const l of est.lines) {
        const qty = `${l.quantity} ${l.unit} × $${l.unitPrice}`;
        out.push(`  ${l.service.padEnd(22)} ${l.item.padEnd(52)} ${usd(l.cost).padStart(9)}  ${qty}${l.note ? ` — ${l.note}` : ""}`);
    }
    return out.join("\n");
}

/**
 * One file of each size class on each path: Glue at the job's class (the smallest run: 2 DPU, 1-minute
 * minimum) and the converter at its memory; which path the trigger routes it to; the converter's cost as a
 * share of the Glue minimum run (the fast-path goal: at most 1/20 for a small file).
 */
export function formatPerFile(fp: Omit<FastPathInfo, "functionName" | "glueJobName"> & { functionName?: string }, executionClass: "STANDARD" | "FLEX", prices: PriceTable): string {
    const rows = perFileBySizeClass(fp, prices, executionClass);
    const minimum = glueMinimumRunCost(prices, executionClass);
    const g = GLUE_FILE_ASSUMPTIONS;
    const c = CONVERTER_ASSUMPTIONS;
    const out: string[] = [];
    out.push(
        `One CSV file on each path (${fp.functionName ?? "no fast path deployed in this stack: the converter's defaults"}; the trigger, the record and storage cost the same on both and are left out):`,
    );
    out.push(`  ${"size".padEnd(8)}${`Glue ${executionClass}, ${g.workers} × ${g.workerType}`.padEnd(34)}${`converter ${fp.architecture}, ${fp.memoryMb} MB`.padEnd(36)}${"routed to".padEnd(11)}converter ÷ Glue minimum`);
    for (const r of rows) {
        const glue = `${r.glue.seconds.toFixed(1)} s, billed ${Math.round(r.glue.billedSeconds)} s ${usdFine(r.glue.cost)}`;
        const conv = `${r.converter.seconds.toFixed(1)} s, ${r.converter.gbSeconds.toFixed(1)} GB-s ${usdFine(r.converter.cost)}${r.converter.fitsTimeout ? "" : " (over timeout)"}`;
        out.push(`  ${sizeLabel(r.sizeMb).padEnd(8)}${glue.padEnd(34)}${conv.padEnd(36)}${(r.converter.routed ? "converter" : "Glue").padEnd(11)}1/${Math.round(1 / r.converterShareOfGlueMinimum)}`);
    }
    out.push(`  Glue minimum run (${g.workers} DPU × ${prices.glue.minimumBilledSeconds} s on ${executionClass}): ${usdFine(minimum)}; the goal for a small file: at most 1/20 of it (${usdFine(minimum / 20)}).`);
    out.push(
        `  Assumed: Glue ${g.startSeconds} s to start, ${g.mbPerSecond} MB/s (docs/benchmarks.md, Spark path); converter ${c.fixedSecondsPerFile} s a file, ` +
            `S3 at ${c.s3MbPerSecond} MB/s; conversion ${c.cpuSecondsPerMb} CPU-s per MB (${c.cpuSource}) on ${+converterVcpus(fp.memoryMb).toFixed(2)} vCPU; ` +
            `routing limit ${mb(fp.maxBytes)}, timeout ${fp.timeoutSeconds} s.`,
    );
    return out.join("\n");
}
