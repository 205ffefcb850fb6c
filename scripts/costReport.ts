/** The side-by-side table `npm run cost` prints: the original estimate per service, ours, and every line. */
import { Estimate, Service, SERVICES } from "./costEstimate";
import { REQUIRED_ESTIMATES } from "./costWorkloads";

const usd = (n: number) => (n < 0.005 && n > 0 ? "<$0.01" : `$${n.toFixed(2)}`);

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
    out.push("");
    out.push("Line items:");
    for (const l of est.lines) {
        const qty = `${l.quantity} ${l.unit} × $${l.unitPrice}`;
        out.push(`  ${l.service.padEnd(22)} ${l.item.padEnd(52)} ${usd(l.cost).padStart(9)}  ${qty}${l.note ? ` — ${l.note}` : ""}`);
    }
    return out.join("\n");
}
