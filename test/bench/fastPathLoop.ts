/**
 * The fast path's latency goal, measured in the emulated end-to-end loop (test/support/fastPathLoop): a
 * generated CSV uploaded to the emulated input bucket, S3's event through the trigger's queue, the trigger's
 * routing, the converter's queue, the Python converter with DuckDB (one warm process, as a warm Lambda), the
 * Parquet published and the record SUCCEEDED. Prints upload → SUCCEEDED seconds against the issue's goal
 * (a 10 MB file in under 10 s), and the converter's own conversion seconds (its FastPathConversionSeconds).
 *
 *   ts-node --transpile-only test/bench/fastPathLoop.ts [--mb 10] [--runs 3]
 *
 * What this measures is this machine and the emulator (moto serves one request at a time over loopback),
 * not AWS: Lambda's cold start, S3 and SQS latencies in a region, and the converter's memory size are not
 * in it. The first run after the converter's cold start is printed apart from the warm ones. Nothing here
 * asserts a time: tests never do; this prints, and the exit code is non-zero only if a run did not succeed.
 */
import * as os from "node:os";
import { performance } from "node:perf_hooks";
import { CSV_CONVERTER_CONTRACT as converterContract } from "../../functions/csv-converter/contract";
import { EmulatorHandle, emulatorEnv, startEmulator } from "../support/emulator";
import { createFastPathLoop, FastPathLoop } from "../support/fastPathLoop";
import { walkFlags } from "../../scripts/cliArgs";

const GOAL_SECONDS = 10;
const USAGE = "usage: ts-node --transpile-only test/bench/fastPathLoop.ts [--mb <size of the CSV in MB>] [--runs <timed runs>]";

/**
 * A CSV of about `bytes` bytes shaped like the flow's files: integers, decimals, dates, booleans, quoted text
 * with commas, and an occasional empty value. Deterministic, so runs compare.
 */
export function generateCsv(bytes: number): string {
    const header = "order_id,customer_id,order_date,amount,quantity,express,status,note\n";
    const statuses = ["NEW", "PAID", "SHIPPED", "RETURNED"];
    const rows: string[] = [header];
    let size = header.length;
    for (let i = 1; size < bytes; i++) {
        const day = String((i % 28) + 1).padStart(2, "0");
        const month = String((i % 12) + 1).padStart(2, "0");
        const note = i % 7 === 0 ? "" : `"gift wrap, note ${i % 1000}"`;
        const row = `${i},C${(i * 7919) % 100000},2025-${month}-${day},${((i * 37) % 100000) / 100},${(i % 9) + 1},${i % 2 === 0},${statuses[i % 4]},${note}\n`;
        rows.push(row);
        size += row.length;
    }
    return rows.join("");
}

interface RunResult {
    readonly seconds: number;
    readonly status: string;
    readonly conversionSeconds?: number;
    readonly rowsIn?: number;
}

/** Uploads `body` under `key` and pumps the loop until its record is final; the wall time from the upload on. */
async function timeOne(aws: EmulatorHandle, loop: FastPathLoop, key: string, body: Buffer): Promise<RunResult> {
    const from = loop.converter.output().length;
    const started = performance.now();
    await aws.putObject(loop.inputBucket, key, body);
    let record: Record<string, any> | undefined;
    await loop.runUntil(
        `${key} final`,
        async () => {
            record = (await loop.records()).find((r) => r.source_key === key);
            return ["SUCCEEDED", "FAILED", "SUPERSEDED", "SOURCE_DELETED", "REJECTED"].includes(record?.processing_status);
        },
        300_000,
    );
    const seconds = (performance.now() - started) / 1000;
    const metric = converterContract.metrics.conversionSeconds;
    const conversion = loop.converter
        .output()
        .slice(from)
        .map((line) => (line as Record<string, unknown>)?.[metric])
        .find((v) => typeof v === "number") as number | undefined;
    return { seconds, status: String(record?.processing_status), ...(conversion !== undefined ? { conversionSeconds: conversion } : {}), rowsIn: record?.rows_in };
}

async function main(argv: readonly string[]): Promise<number> {
    let mb = 10;
    let runs = 3;
    walkFlags(argv, USAGE, (flag, value) => {
        if (flag === "--mb") mb = Number(value());
        else if (flag === "--runs") runs = Number(value());
        else return false;
        return true;
    });
    if (!(mb > 0) || !(Number.isInteger(runs) && runs >= 1)) throw new Error(USAGE);

    // The emulator, and process.env pointed at it before the trigger's clients are made.
    const emulator = await startEmulator();
    Object.assign(process.env, emulatorEnv(emulator.endpoint));
    delete process.env.AWS_PROFILE;
    const aws = new EmulatorHandle();
    aws.attach(emulator);
    await aws.reset();

    const body = Buffer.from(generateCsv(Math.round(mb * 1000 * 1000)), "utf8");
    const loop = await createFastPathLoop(aws, { stage: "bench" });
    const lines: string[] = [];
    let ok = true;
    try {
        // The first conversion after the cold start opens DuckDB and imports the engine's modules.
        const first = await timeOne(aws, loop, "bench/warm-up.csv", Buffer.from(generateCsv(10_000)));
        ok &&= first.status === "SUCCEEDED";
        lines.push(`  first file after the converter's cold start (10 kB): ${first.seconds.toFixed(2)} s, ${first.status}`);
        const warm: RunResult[] = [];
        for (let run = 1; run <= runs; run++) {
            const result = await timeOne(aws, loop, `bench/run-${run}/orders.csv`, body);
            ok &&= result.status === "SUCCEEDED";
            warm.push(result);
            lines.push(
                `  run ${run}: upload → ${result.status} ${result.seconds.toFixed(2)} s` +
                    (result.conversionSeconds !== undefined ? ` (conversion ${result.conversionSeconds.toFixed(2)} s)` : "") +
                    (result.rowsIn !== undefined ? `, ${result.rowsIn} rows` : ""),
            );
        }
        const sorted = warm.map((r) => r.seconds).sort((a, b) => a - b);
        const median = sorted[Math.floor(sorted.length / 2)];
        console.log(`fast path, emulated end-to-end loop: ${(body.byteLength / 1e6).toFixed(1)} MB CSV (${os.cpus().length} cores, moto over loopback)`);
        for (const line of lines) console.log(line);
        console.log(`  median upload → SUCCEEDED: ${median.toFixed(2)} s (goal: under ${GOAL_SECONDS} s for a 10 MB file) — ${median < GOAL_SECONDS ? "within" : "OVER"} the goal`);
    } finally {
        await loop.stop();
    }
    return ok ? 0 : 1;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (err) => {
            console.error(`the fast-path bench failed: ${err instanceof Error ? err.message : String(err)}`);
            process.exit(2);
        },
    );
}
