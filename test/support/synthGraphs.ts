/**
 * Offline synths of the real stacks, run as the user runs them (`npm run synth`, a child process: the mocks
 * are process-global), each at most once per mocha process and shared by every test file that reads it.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import type { SynthResult } from "../../scripts/synth";

const ROOT = path.resolve(__dirname, "../..");
const run = promisify(execFile);

export interface SynthRun {
    readonly graph: SynthResult;
    readonly stdout: string;
    /** Where the graph JSON was written (for tools outside node, e.g. parliament). */
    readonly file: string;
}

/** Runs the offline synth with these arguments (`--stack dev`, `--project bootstrap --stack pipeline`, …). */
export async function runSynth(...args: string[]): Promise<SynthRun> {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "synth-")), "graph.json");
    const { stdout } = await run(path.join(ROOT, "node_modules/.bin/ts-node"), ["--transpile-only", "scripts/synth.ts", ...args, "--json", file], { cwd: ROOT });
    return { graph: JSON.parse(fs.readFileSync(file, "utf8")), stdout, file };
}

const cache = new Map<string, Promise<SynthRun>>();

/** The graph of a workload stack (dev, prod) or of a bootstrap stack (pipeline, dev, prod), synthesized once. */
export function synthOnce(project: "workload" | "bootstrap", stack: string): Promise<SynthRun> {
    const key = `${project}/${stack}`;
    let pending = cache.get(key);
    if (!pending) {
        pending = runSynth("--project", project, "--stack", stack);
        cache.set(key, pending);
    }
    return pending;
}

/** Every graph the invariants and the IAM checks are held to: dev, prod and the three bootstrap stacks. */
export const ALL_GRAPHS: ReadonlyArray<readonly ["workload" | "bootstrap", string]> = [
    ["workload", "dev"],
    ["workload", "prod"],
    ["bootstrap", "pipeline"],
    ["bootstrap", "dev"],
    ["bootstrap", "prod"],
];
