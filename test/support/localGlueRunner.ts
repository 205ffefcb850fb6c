/**
 * A local stand-in for the Glue service's execution of job runs: the emulator (moto) records the runs the
 * trigger starts, with their arguments, but runs nothing; this runs each of them on local Spark with the
 * job's real entry script from glue/jobs (the file uploaded to Glue), against the emulated buckets and
 * metadata table. The job gets the run's arguments as Glue passes them (its s3:// paths, --source_version_id
 * and --source_etag), so its source-version check HEADs the emulator's versioned bucket. The Python half
 * (local_glue_runner.py) explains how the bytes move: the pyspark wheel has no S3 file system, so Hadoop's
 * s3:// is mounted on local copies of the buckets, filled from the emulator before a run and written back to
 * it after.
 *
 * Every run given to one call shares one Python process and so one Spark start: batch them.
 */
import { spawnSync } from "child_process";
import * as path from "path";
import { EmulatorHandle, emulatorEnv } from "./emulator";

const REPO_ROOT = path.resolve(__dirname, "..", "..");
const PYTHON = path.join(REPO_ROOT, ".venv", "bin", "python");
const RUNNER = path.join(__dirname, "local_glue_runner.py");

export interface LocalRunRequest {
    readonly jobName: string;
    readonly jobRunId: string;
}

export interface LocalRunResult {
    readonly jobName: string;
    readonly jobRunId: string;
    /** How the run ended, as Glue would report it in its job-state event. */
    readonly state: "SUCCEEDED" | "FAILED";
    readonly error?: string;
    /** The job's own summary (what it prints as one JSON line). */
    readonly summary?: Record<string, unknown>;
    /** Keys under the run's output locations that it wrote (new or changed objects). */
    readonly uploaded: readonly string[];
    /** Keys under the run's output locations that it removed (e.g. a previous output it replaced). */
    readonly deleted: readonly string[];
}

/**
 * Runs the given job runs, in order, each with the arguments the emulator recorded for it (the job's
 * default arguments merged, as Glue passes them). `scripts` maps a job name to its entry script, relative
 * to the repository (e.g. `glue/jobs/file_processor.py`).
 */
export async function runJobRunsLocally(aws: EmulatorHandle, scripts: Readonly<Record<string, string>>, runs: readonly LocalRunRequest[]): Promise<LocalRunResult[]> {
    const requests = [];
    for (const { jobName, jobRunId } of runs) {
        const script = scripts[jobName];
        if (!script) throw new Error(`no local script for job ${jobName}; known: ${Object.keys(scripts).join(", ")}`);
        const run = await aws.jobRun(jobName, jobRunId);
        requests.push({ job_name: jobName, job_run_id: jobRunId, script: path.join(REPO_ROOT, script), arguments: run.Arguments ?? {} });
    }
    const out = spawnSync(PYTHON, [RUNNER], {
        cwd: REPO_ROOT,
        input: JSON.stringify({ runs: requests }),
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
        env: {
            ...process.env,
            ...emulatorEnv(aws.endpoint),
            PYTHONPATH: path.join(REPO_ROOT, "glue", "lib"),
            // Spark's timestamps are read in the process's zone; Glue runs in UTC.
            TZ: "UTC",
            SPARK_DRIVER_MEMORY: "1g",
        },
    });
    const results = (out.stdout ?? "")
        .split("\n")
        .filter((line) => line.startsWith("LOCAL_GLUE_RUN "))
        .map((line) => JSON.parse(line.slice("LOCAL_GLUE_RUN ".length)));
    if (out.status !== 0 || results.length !== runs.length) {
        throw new Error(`the local Glue runner exited ${out.status ?? out.signal} after ${results.length} of ${runs.length} run(s):\n${(out.stderr ?? "").slice(-4000)}`);
    }
    return results.map((r, i) => ({
        jobName: runs[i].jobName,
        jobRunId: r.job_run_id,
        state: r.state,
        ...(r.error ? { error: r.error } : {}),
        ...(r.summary ? { summary: r.summary } : {}),
        uploaded: r.uploaded ?? [],
        deleted: r.deleted ?? [],
    }));
}

/**
 * The rows of Parquet files (their bytes, e.g. what a local run wrote to the emulator), in file order, read
 * with pyarrow from the same virtual environment: Node has no Parquet reader here, and the values a test
 * compares are what any reader of the output would see.
 */
export function readParquetRows(files: readonly Uint8Array[]): Record<string, unknown>[] {
    const script = [
        "import base64, io, json, sys",
        "import pyarrow as pa",
        "import pyarrow.parquet as pq",
        // Single-threaded: with Arrow's thread pools this process aborted on exit in 33 of 40 runs here
        // ("terminate called without an active exception"), without them in none of 40; a few rows need no pool.
        "pa.set_cpu_count(1)",
        "pa.set_io_thread_count(1)",
        "tables = [pq.read_table(io.BytesIO(base64.b64decode(f)), use_threads=False, pre_buffer=False) for f in json.load(sys.stdin)]",
        "rows = [row for t in tables for row in t.to_pylist()]",
        "print(json.dumps(rows, default=str))",
    ].join("\n");
    const out = spawnSync(PYTHON, ["-c", script], {
        input: JSON.stringify(files.map((f) => Buffer.from(f).toString("base64"))),
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
    });
    if (out.status !== 0) throw new Error(`reading Parquet failed (${out.status ?? out.signal}): ${(out.stderr ?? "").slice(-2000)}`);
    return JSON.parse(out.stdout);
}
