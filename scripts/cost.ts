/**
 * The monthly cost of a stack, beside the requirements' estimate:
 *
 *   npm run cost -- --stack dev|prod [--workload FILE] [--json]
 *
 * The stack is synthesised offline (scripts/synth.ts: the real program under mocks, nothing deployed), its
 * graph read for what drives cost (scripts/costModel.ts), and the estimate computed for the requirements' workload
 * of that stage — or for the workload in FILE (a JSON object overriding any Workload field).
 */
import * as fs from "fs";
import { DEFAULT_FAST_PATH, estimate, formatEstimate, formatPerFile, inventoryOf, PRICES_EU_WEST_1, REQUIRED_ESTIMATES, REQUIRED_WORKLOADS, Workload } from "./costModel";
import { synth } from "./synth";
import { walkFlags } from "./cliArgs";

const USAGE = "usage: npm run cost -- --stack dev|prod [--workload FILE] [--json]";

export function parseArgs(argv: readonly string[]): { stack: string; workloadFile?: string; json: boolean } {
    let stack: string | undefined;
    let workloadFile: string | undefined;
    let json = false;
    walkFlags(argv, USAGE, (flag, value) => {
        if (flag === "--stack") stack = value();
        else if (flag === "--workload") workloadFile = value();
        else if (flag === "--json") json = true;
        else return false;
        return true;
    });
    if (!stack) throw new Error(`--stack is required; ${USAGE}`);
    return { stack, workloadFile, json };
}

/** The requirements' workload of the stage (dev or prod), overridden by the file's fields if given. */
export function workloadFor(stack: string, file?: string): Workload {
    const base = stack === "prod" ? REQUIRED_WORKLOADS.prod : REQUIRED_WORKLOADS.dev;
    if (!file) return base;
    const overrides = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<Workload>;
    const unknown = Object.keys(overrides).filter((k) => !(k in base));
    if (unknown.length > 0) throw new Error(`${file}: unknown workload fields ${unknown.join(", ")}; known: ${Object.keys(base).join(", ")}`);
    return { ...base, name: `${base.name} + ${file}`, description: `${base.description}, with ${file}`, ...overrides };
}

if (require.main === module) {
    (async () => {
        const args = parseArgs(process.argv.slice(2));
        const workload = workloadFor(args.stack, args.workloadFile);
        const graph = await synth({ stack: args.stack });
        const est = estimate(inventoryOf(graph.resources), workload, PRICES_EU_WEST_1);
        const seed = args.workloadFile ? undefined : args.stack === "prod" ? REQUIRED_ESTIMATES.prod : REQUIRED_ESTIMATES.dev;
        if (args.json) console.log(JSON.stringify({ stack: `${graph.project}/${graph.stack}`, seed, ...est }, null, 2));
        else {
            console.log(formatEstimate(`${graph.project}/${graph.stack}`, est, seed));
            // One file on each path: the stack's converter, or the defaults where it deploys none.
            const routing = est.routing[0];
            console.log("");
            console.log(routing ? formatPerFile(routing.fastPath, routing.executionClass, est.prices) : formatPerFile(DEFAULT_FAST_PATH, "STANDARD", est.prices));
        }
    })().catch((err) => {
        console.error(`cost failed: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
    });
}
