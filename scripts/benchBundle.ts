/**
 * Size and cold-import time of the GlueTriggerLambda bundle, against the unbundled AWS SDK clients.
 *
 *     node_modules/.bin/ts-node --transpile-only scripts/benchBundle.ts [runs]
 *
 * Cold import is what a Lambda cold start pays before the first event: each sample is a fresh `node`
 * process that requires the file once and reports how long the require took (measured inside the process,
 * so Node's own boot is excluded; the process's whole wall time is printed too). Samples of the bundle and
 * of the baselines are interleaved so that machine noise hits all of them alike. Figures only: timings
 * depend on the machine, so nothing is asserted.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import { bundleFunction, REPO_ROOT } from "../components/compute/lambdaBundle";

const ENTRY = "functions/glue-trigger/handler.ts";
const RUNS = Number(process.argv[2] ?? process.env.BENCH_RUNS ?? 10);

/** What the handler needs to pass its cold-start validation (values are never used: nothing is invoked). */
const HANDLER_ENV = {
    GLUE_JOB_NAME: "FileProcessorV2-bench",
    METADATA_TABLE: "etl-pipeline-metadata-bench",
    OUTPUT_BUCKET: "glue-output-bench-111111111111",
    AWS_REGION: "eu-west-1",
    // As in Lambda: Powertools' Tracer turns on there, and instruments the clients at import.
    AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x",
    // The SDK warns on Node < 22 at load; the warning is noise here and Lambda runs node22.
    NODE_NO_WARNINGS: "1",
};

const SDK_CLIENTS = ["@aws-sdk/client-dynamodb", "@aws-sdk/client-glue", "@aws-sdk/client-s3"];

interface Sample {
    readonly importMs: number;
    readonly processMs: number;
}

function measure(file: string): Sample {
    const probe =
        "const t0 = process.hrtime.bigint();" +
        `require(${JSON.stringify(file)});` +
        "process.stdout.write(String(Number(process.hrtime.bigint() - t0) / 1e6));";
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, ["-e", probe], { env: { ...process.env, ...HANDLER_ENV }, encoding: "utf8" });
    const processMs = Number(process.hrtime.bigint() - started) / 1e6;
    if (result.status !== 0) throw new Error(`requiring ${file} failed (exit ${result.status}):\n${result.stderr}`);
    return { importMs: Number(result.stdout), processMs };
}

/** Nearest-rank percentile of `values` (0 < p <= 100). */
export function percentile(values: readonly number[], p: number): number {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const ms = (value: number) => `${value.toFixed(1)} ms`.padStart(9);

function main(): void {
    if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`runs must be a positive integer, got ${process.argv[2]}`);

    const bundle = bundleFunction(ENTRY);
    const gzipBytes = zlib.gzipSync(bundle.code, { level: 9 }).byteLength;

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-bundle-"));
    try {
        const files = {
            bundle: path.join(dir, "glue-trigger.js"),
            baseline: path.join(dir, "baseline-require.js"),
            baselineClients: path.join(dir, "baseline-require-and-construct.js"),
        };
        fs.writeFileSync(files.bundle, bundle.code);
        // Absolute paths into node_modules: the baselines load the SDK exactly as an unbundled function would.
        const resolved = SDK_CLIENTS.map((name) => require.resolve(name, { paths: [REPO_ROOT] }));
        fs.writeFileSync(files.baseline, resolved.map((p) => `require(${JSON.stringify(p)});`).join("\n"));
        fs.writeFileSync(
            files.baselineClients,
            [
                `const { DynamoDBClient } = require(${JSON.stringify(resolved[0])});`,
                `const { GlueClient } = require(${JSON.stringify(resolved[1])});`,
                `const { S3Client } = require(${JSON.stringify(resolved[2])});`,
                "new DynamoDBClient({}); new GlueClient({}); new S3Client({});",
            ].join("\n"),
        );

        const rows = [
            { label: "trigger bundle (esbuild, minified)", file: files.bundle },
            { label: "baseline: require 3 raw SDK clients", file: files.baseline },
            { label: "baseline + construct the 3 clients", file: files.baselineClients },
        ];
        // One unmeasured run each, so the first measured sample does not also pay for a cold disk cache.
        for (const row of rows) measure(row.file);
        const samples = new Map<string, Sample[]>(rows.map((r) => [r.label, []]));
        for (let i = 0; i < RUNS; i++) for (const row of rows) samples.get(row.label)!.push(measure(row.file));

        console.log(`GlueTriggerLambda bundle: ${ENTRY}`);
        console.log(`  size        ${bundle.bytes} bytes (${kb(bundle.bytes)})`);
        console.log(`  gzip -9     ${gzipBytes} bytes (${kb(gzipBytes)})`);
        console.log(`  sha256      ${bundle.sha256}`);
        console.log("");
        console.log(`Cold import, ${RUNS} fresh node ${process.version} processes each (interleaved), ${os.cpus().length} CPU(s):`);
        console.log(`  ${"".padEnd(38)}${"median".padStart(9)}${"p90".padStart(9)}${"min".padStart(9)}   process wall median`);
        for (const row of rows) {
            const s = samples.get(row.label)!;
            const imports = s.map((x) => x.importMs);
            const walls = s.map((x) => x.processMs);
            console.log(
                `  ${row.label.padEnd(38)}${ms(percentile(imports, 50))}${ms(percentile(imports, 90))}${ms(Math.min(...imports))}   ${ms(percentile(walls, 50))}`,
            );
        }
        const bundleMedian = percentile(samples.get(rows[0].label)!.map((x) => x.importMs), 50);
        const baselineMedian = percentile(samples.get(rows[1].label)!.map((x) => x.importMs), 50);
        console.log("");
        console.log(
            `  bundle median / require-only baseline median = ${(bundleMedian / baselineMedian).toFixed(2)} ` +
                "(the bundle also validates its environment and constructs its clients at import)",
        );
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

if (require.main === module) main();
