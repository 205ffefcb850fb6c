/**
 * Smoke test of a deployed stack: does a file actually flow?
 *
 *   npm run smoke -- --stack dev [--outputs FILE | --outputs-env VAR] [--role-arn ARN]... [--timeout SECONDS] [--no-marker] [--json]
 *
 * Reads the stack's outputs (`pulumi stack output --json --stack NAME`, a JSON file with --outputs, or the
 * JSON in an environment variable with --outputs-env: how `pulumi up` runs it, components/delivery/smokeCheck.ts),
 * assumes each `--role-arn` in turn when given (the last one's credentials do the work: the smoke role),
 * uploads the bundled samples of the S3-triggered file flows to the input bucket under fresh keys — the
 * CSV flow (samples/csv → FileProcessorV2) and the Parquet flow (samples/parquet under
 * raw-data/YYYY/MM/DD/ → ParquetToJson) — then waits, printing progress, for each file's metadata record
 * to reach a final state (SUCCEEDED, FAILED, REJECTED), and checks per file:
 *
 * - the record: SUCCEEDED, rows_in = record_count + rows_quarantined, the counts the sample's expected.json
 *   states, a run id;
 * - the output: Parquet objects that are Parquet (the `PAR1` magic at both ends) for the CSV flow, JSON
 *   Lines whose line count is record_count for the Parquet flow;
 * - the quarantine: JSON Lines, one per quarantined row, or nothing when no row was quarantined.
 *
 * One line per file, PASS or FAIL with every problem; exit code 1 on any failure. When every file passed,
 * a marker `smoke/passed/<releaseId>.json` is written to the output bucket (the release the stack runs,
 * from its `releaseId` output): the record that this release was proven on this stack. With --json the
 * report goes to stderr and stdout gets one line, the marker's content ({releaseId, passedAt, files, …}),
 * which the stack exports as its `smoke` output.
 *
 * The file id of each upload is computed the way the trigger computes it (functions/shared/s3Events), so
 * the record is found by key, not by a scan. The uploads stay: the input bucket expires them, and their
 * outputs expire with the output prefixes' lifecycle rules.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { SMOKE_LAYOUT, SmokeMarker } from "../components/delivery/smokeCheck";
import { deriveFileId, objectVersion, s3Uri } from "../functions/shared/s3Events";
import { NOT_PROCESSED_STATUSES, ProcessingRecord } from "../functions/shared/processingRecords";
import { PARQUET_PREFIXES } from "../stacks/flows/parquetToJson";
import { walkFlags } from "./cliArgs";

const ROOT = path.resolve(__dirname, "..");

/** Record states after which nothing more happens to a file without a replay. */
export const FINAL_STATES: readonly string[] = ["SUCCEEDED", "FAILED", ...NOT_PROCESSED_STATUSES];

/** Where smoke uploads of the CSV flow go; the CSV trigger accepts any `.csv` key. The smoke role's grants are cut to this layout. */
export const CSV_SMOKE_PREFIX = SMOKE_LAYOUT.csvPrefix;
export const SMOKE_MARKER_PREFIX = SMOKE_LAYOUT.markerPrefix;

export type Flow = "csv" | "parquet";

export interface Expected {
    readonly rows_in: number;
    readonly record_count: number;
    readonly rows_quarantined: number;
}

export interface SmokeSample {
    readonly flow: Flow;
    /** Path of the sample file, relative to the repository. */
    readonly file: string;
    readonly expected: Expected;
}

export interface SmokeTarget {
    readonly stack: string;
    readonly inputBucket: string;
    readonly outputBucket: string;
    readonly metadataTable: string;
    readonly releaseId: string;
    /** The stack's region (output `region`); absent: the SDK's own (AWS_REGION, the profile). */
    readonly region?: string;
}

/** The outputs smoke needs, refused by name when missing (a stack deployed from another project, or none). */
export function targetFromOutputs(stack: string, outputs: Record<string, unknown>): SmokeTarget {
    const need = (name: string): string => {
        const v = outputs[name];
        if (typeof v !== "string" || v === "") throw new Error(`stack ${stack} has no output "${name}": is it deployed (pulumi up --stack ${stack})?`);
        return v;
    };
    const region = typeof outputs.region === "string" && outputs.region !== "" ? { region: outputs.region } : {};
    return { stack, inputBucket: need("inputBucket"), outputBucket: need("outputBucket"), metadataTable: need("metadataTable"), releaseId: need("releaseId"), ...region };
}

/** The bundled samples of each file flow with the counts their expected.json states. */
export function smokeSamples(root: string = ROOT): SmokeSample[] {
    const flows: Array<[Flow, string, string]> = [
        ["csv", "samples/csv", ".csv"],
        ["parquet", "samples/parquet", ".parquet"],
    ];
    const samples: SmokeSample[] = [];
    for (const [flow, dir, suffix] of flows) {
        const expected = JSON.parse(fs.readFileSync(path.join(root, dir, "expected.json"), "utf8")) as Record<string, Expected>;
        const files = fs.readdirSync(path.join(root, dir)).filter((f) => f.endsWith(suffix)).sort();
        for (const file of files) {
            const e = expected[file];
            if (!e) throw new Error(`${dir}/expected.json has no entry for ${file}: add its rows_in, record_count and rows_quarantined`);
            samples.push({ flow, file: `${dir}/${file}`, expected: { rows_in: e.rows_in, record_count: e.record_count, rows_quarantined: e.rows_quarantined } });
        }
    }
    return samples;
}

/** A run id that sorts by time and is safe in keys and paths (no glob characters, no `..`). */
export function newRunId(now: Date, random: () => number = Math.random): string {
    const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "z").toLowerCase();
    return `${stamp}-${Math.floor(random() * 36 ** 4).toString(36).padStart(4, "0")}`;
}

/** The key a sample is uploaded under: each flow's trigger must accept it. */
export function smokeKey(sample: SmokeSample, runId: string, now: Date): string {
    const name = path.basename(sample.file);
    if (sample.flow === "csv") return `${CSV_SMOKE_PREFIX}${runId}/${name}`;
    const day = now.toISOString().slice(0, 10).replace(/-/g, "/");
    return `${PARQUET_PREFIXES.raw}${day}/${SMOKE_LAYOUT.parquetNamePrefix}${runId}-${name}`;
}

export interface Upload {
    readonly sample: SmokeSample;
    readonly key: string;
    readonly uri: string;
    readonly fileId: string;
}

export async function uploadSamples(target: SmokeTarget, samples: readonly SmokeSample[], s3: S3Client, runId: string, now: Date, root = ROOT): Promise<Upload[]> {
    const uploads: Upload[] = [];
    for (const sample of samples) {
        const key = smokeKey(sample, runId, now);
        const body = fs.readFileSync(path.join(root, sample.file));
        const out = await s3.send(new PutObjectCommand({ Bucket: target.inputBucket, Key: key, Body: body, ContentLength: body.byteLength }));
        const version = objectVersion(out.VersionId, out.ETag);
        if (!version) throw new Error(`PutObject of ${s3Uri(target.inputBucket, key)} returned neither a version id nor an ETag`);
        uploads.push({ sample, key, uri: s3Uri(target.inputBucket, key), fileId: deriveFileId(target.inputBucket, key, version) });
    }
    return uploads;
}

export interface WaitOptions {
    readonly timeoutMs: number;
    readonly pollMs: number;
    readonly progress: (line: string) => void;
    readonly sleep?: (ms: number) => Promise<void>;
    readonly clock?: () => number;
}

/** Polls each file's record until all are final or the time is up; returns the last record seen of each. */
export async function waitForRecords(
    uploads: readonly Upload[],
    read: (fileId: string) => Promise<ProcessingRecord | undefined>,
    options: WaitOptions,
): Promise<Map<string, ProcessingRecord | undefined>> {
    const clock = options.clock ?? Date.now;
    const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const started = clock();
    const seen = new Map<string, ProcessingRecord | undefined>();
    const shown = new Map<string, string>();
    for (;;) {
        for (const u of uploads) {
            if (FINAL_STATES.includes(seen.get(u.fileId)?.processing_status ?? "")) continue;
            const record = await read(u.fileId);
            seen.set(u.fileId, record);
            const state = record?.processing_status ?? "no record yet";
            if (shown.get(u.fileId) !== state) {
                shown.set(u.fileId, state);
                options.progress(`[${Math.round((clock() - started) / 1000)}s] ${u.key}: ${state}`);
            }
        }
        const waiting = uploads.filter((u) => !FINAL_STATES.includes(seen.get(u.fileId)?.processing_status ?? ""));
        if (waiting.length === 0 || clock() - started >= options.timeoutMs) return seen;
        await sleep(options.pollMs);
    }
}

/** What the record says against what the sample should give. Pure. */
export function recordProblems(expected: Expected, record: ProcessingRecord | undefined, timeoutSeconds: number): string[] {
    if (!record) return [`no metadata record after ${timeoutSeconds}s: the trigger did not claim the file (notification, trigger errors, its DLQ)`];
    if (record.processing_status !== "SUCCEEDED") {
        const why = record.error_message ? `: ${record.error_message}` : "";
        const final = FINAL_STATES.includes(record.processing_status) ? "" : ` after ${timeoutSeconds}s (not final)`;
        return [`status ${record.processing_status}${final}${why}`];
    }
    const problems: string[] = [];
    if (!record.job_run_id) problems.push("no job run id on the record");
    for (const field of ["rows_in", "record_count", "rows_quarantined"] as const) {
        if (record[field] !== expected[field]) problems.push(`${field} ${record[field]}, expected ${expected[field]}`);
    }
    if ((record.rows_in ?? -1) !== (record.record_count ?? 0) + (record.rows_quarantined ?? 0)) {
        problems.push(`rows_in ${record.rows_in} is not record_count ${record.record_count} + rows_quarantined ${record.rows_quarantined}`);
    }
    if (!record.output_file_path) problems.push("no output_file_path on the record");
    return problems;
}

/** One written object as the checks see it. */
export interface WrittenObject {
    readonly key: string;
    readonly size: number;
    /** First and last four bytes (Parquet), or the whole text (JSON Lines). */
    readonly head?: string;
    readonly tail?: string;
    readonly text?: string;
}

/**
 * Spark and Hadoop mark bookkeeping files and directories (_SUCCESS, _temporary/, .crc) with a leading `_`
 * or `.`; their readers skip anything under such a segment, and so does this. `key` is below the prefix.
 */
export const isDataObject = (key: string): boolean => !key.endsWith("/") && !key.split("/").some((segment) => /^[_.]/.test(segment));

const jsonLines = (objects: readonly WrittenObject[]): { lines: number; bad: number } => {
    let lines = 0;
    let bad = 0;
    for (const o of objects) {
        for (const line of (o.text ?? "").split("\n")) {
            if (line.trim() === "") continue;
            lines++;
            try {
                JSON.parse(line);
            } catch {
                bad++;
            }
        }
    }
    return { lines, bad };
};

/** What the objects under the output and quarantine paths say against the record. Pure. */
export function outputProblems(flow: Flow, record: ProcessingRecord, output: readonly WrittenObject[], quarantine: readonly WrittenObject[]): string[] {
    const problems: string[] = [];
    if (output.length === 0) problems.push(`nothing written under ${record.output_file_path}`);
    if (flow === "csv") {
        const notParquet = output.filter((o) => o.head !== "PAR1" || o.tail !== "PAR1");
        if (notParquet.length > 0) problems.push(`not Parquet (no PAR1 magic): ${notParquet.map((o) => o.key).join(", ")}`);
    } else {
        const { lines, bad } = jsonLines(output);
        if (lines !== record.record_count) problems.push(`${lines} JSON lines written, the record says ${record.record_count}`);
        if (bad > 0) problems.push(`${bad} output line(s) are not JSON`);
    }
    const q = jsonLines(quarantine);
    if (q.lines !== (record.rows_quarantined ?? 0)) {
        problems.push(`${q.lines} quarantined line(s) under ${record.quarantine_path}, the record says ${record.rows_quarantined ?? 0}`);
    }
    if (q.bad > 0) problems.push(`${q.bad} quarantine line(s) are not JSON`);
    return problems;
}

function splitUri(uri: string): { bucket: string; prefix: string } {
    const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri);
    if (!m) throw new Error(`not an s3:// URI: ${uri}`);
    return { bucket: m[1], prefix: m[2].endsWith("/") || m[2] === "" ? m[2] : `${m[2]}/` };
}

async function readText(s3: S3Client, bucket: string, key: string, range?: string): Promise<string> {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(range ? { Range: range } : {}) }));
    return out.Body ? Buffer.from(await out.Body.transformToByteArray()).toString(range ? "latin1" : "utf8") : "";
}

/** The data objects under an s3:// prefix, read as much as the flow's checks need. */
export async function readWritten(s3: S3Client, uri: string | undefined, as: "parquet" | "text"): Promise<WrittenObject[]> {
    if (!uri) return [];
    const { bucket, prefix } = splitUri(uri);
    const objects: WrittenObject[] = [];
    let token: string | undefined;
    do {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        for (const o of page.Contents ?? []) {
            if (!o.Key || !isDataObject(o.Key.slice(prefix.length))) continue;
            const size = o.Size ?? 0;
            if (as === "parquet") {
                objects.push({ key: o.Key, size, head: await readText(s3, bucket, o.Key, "bytes=0-3"), tail: await readText(s3, bucket, o.Key, "bytes=-4") });
            } else {
                objects.push({ key: o.Key, size, text: await readText(s3, bucket, o.Key) });
            }
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return objects;
}

export interface FileReport {
    readonly key: string;
    readonly flow: Flow;
    readonly status: "PASS" | "FAIL";
    readonly problems: readonly string[];
    readonly record?: ProcessingRecord;
}

export interface SmokeClients {
    readonly s3: S3Client;
    readonly doc: DynamoDBDocumentClient;
}

export interface SmokeOptions extends Partial<WaitOptions> {
    readonly samples?: readonly SmokeSample[];
    readonly now?: Date;
    readonly runId?: string;
    /** Runs between the uploads and the wait; the offline end-to-end test drives the pipeline from here. */
    readonly afterUpload?: (uploads: readonly Upload[]) => Promise<void>;
    /** @default true */
    readonly writeMarker?: boolean;
}

/** What a passing run records: the marker's content and the `--json` line (the stack's `smoke` output). */
export interface SmokeSummary extends SmokeMarker {
    readonly stack: string;
    readonly runId: string;
}

export interface SmokeResult {
    readonly runId: string;
    readonly reports: readonly FileReport[];
    readonly passed: boolean;
    /** Set when every file passed. */
    readonly summary?: SmokeSummary;
    /** s3:// URI of the marker written for the release, when every file passed. */
    readonly marker?: string;
}

export function markerKey(releaseId: string): string {
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(releaseId)) throw new Error(`release id ${JSON.stringify(releaseId)} cannot name a marker object`);
    return `${SMOKE_MARKER_PREFIX}${releaseId}.json`;
}

export async function runSmoke(target: SmokeTarget, clients: SmokeClients, options: SmokeOptions = {}): Promise<SmokeResult> {
    const now = options.now ?? new Date();
    const runId = options.runId ?? newRunId(now);
    const timeoutMs = options.timeoutMs ?? 15 * 60_000;
    const progress = options.progress ?? ((line: string) => console.log(line));
    const uploads = await uploadSamples(target, options.samples ?? smokeSamples(), clients.s3, runId, now);
    for (const u of uploads) progress(`uploaded ${u.uri} (${u.sample.flow} flow, file id ${u.fileId.slice(0, 12)})`);
    if (options.afterUpload) await options.afterUpload(uploads);

    const records = await waitForRecords(
        uploads,
        async (fileId) => (await clients.doc.send(new GetCommand({ TableName: target.metadataTable, Key: { file_id: fileId }, ConsistentRead: true }))).Item as ProcessingRecord | undefined,
        { timeoutMs, pollMs: options.pollMs ?? 5000, progress, sleep: options.sleep, clock: options.clock },
    );
    const reports: FileReport[] = [];
    for (const u of uploads) {
        const record = records.get(u.fileId);
        let problems = recordProblems(u.sample.expected, record, Math.round(timeoutMs / 1000));
        if (problems.length === 0 && record) {
            const output = await readWritten(clients.s3, record.output_file_path, u.sample.flow === "csv" ? "parquet" : "text");
            const quarantine = await readWritten(clients.s3, record.quarantine_path, "text");
            problems = outputProblems(u.sample.flow, record, output, quarantine);
        }
        reports.push({ key: u.key, flow: u.sample.flow, status: problems.length === 0 ? "PASS" : "FAIL", problems, ...(record ? { record } : {}) });
    }
    const passed = reports.every((r) => r.status === "PASS");
    if (!passed) return { runId, reports, passed };
    const summary: SmokeSummary = { releaseId: target.releaseId, stack: target.stack, runId, passedAt: new Date().toISOString(), files: reports.map((r) => r.key) };
    let marker: string | undefined;
    if (options.writeMarker !== false) {
        const key = markerKey(target.releaseId);
        await clients.s3.send(new PutObjectCommand({ Bucket: target.outputBucket, Key: key, Body: JSON.stringify(summary, null, 2), ContentType: "application/json" }));
        marker = s3Uri(target.outputBucket, key);
    }
    return { runId, reports, passed, summary, ...(marker ? { marker } : {}) };
}

export function formatSmoke(target: SmokeTarget, result: SmokeResult): string {
    const lines = result.reports.map((r) => {
        const counts = r.record ? ` (rows_in ${r.record.rows_in}, written ${r.record.record_count}, quarantined ${r.record.rows_quarantined})` : "";
        return r.status === "PASS" ? `PASS  ${r.key}${counts}` : `FAIL  ${r.key}: ${r.problems.join("; ")}`;
    });
    const failed = result.reports.filter((r) => r.status === "FAIL").length;
    return [
        `smoke of stack ${target.stack}, release ${target.releaseId}, run ${result.runId}:`,
        ...lines,
        failed > 0
            ? `${failed} of ${result.reports.length} file(s) failed`
            : `all ${result.reports.length} file(s) passed${result.marker ? `; marker ${result.marker}` : ""}`,
    ].join("\n");
}

export interface SmokeArgs {
    readonly stack: string;
    readonly outputsFile?: string;
    /** Name of an environment variable holding the outputs as JSON (how `pulumi up` passes them). */
    readonly outputsEnv?: string;
    /** Roles to assume in turn before anything else; the last one's credentials do the work. */
    readonly roleArns: readonly string[];
    readonly timeoutSeconds: number;
    readonly marker: boolean;
    /** Report on stderr, one JSON line (the summary) on stdout. */
    readonly json: boolean;
}

const USAGE = "usage: npm run smoke -- --stack NAME [--outputs FILE | --outputs-env VAR] [--role-arn ARN]... [--timeout SECONDS] [--no-marker] [--json]";
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

export function parseSmokeArgs(argv: readonly string[]): SmokeArgs {
    let stack: string | undefined;
    let outputsFile: string | undefined;
    let outputsEnv: string | undefined;
    const roleArns: string[] = [];
    let timeoutSeconds = 15 * 60;
    let marker = true;
    let json = false;
    walkFlags(argv, USAGE, (flag, value) => {
        if (flag === "--stack") stack = value();
        else if (flag === "--outputs") outputsFile = value();
        else if (flag === "--outputs-env") outputsEnv = value();
        else if (flag === "--role-arn") {
            const v = value();
            if (!ROLE_ARN.test(v)) throw new Error(`--role-arn ${JSON.stringify(v)} is not an IAM role ARN; ${USAGE}`);
            roleArns.push(v);
        } else if (flag === "--timeout") {
            const v = value();
            if (!/^[1-9]\d*$/.test(v)) throw new Error(`--timeout ${v} is not a whole number of seconds; ${USAGE}`);
            timeoutSeconds = Number(v);
        } else if (flag === "--no-marker") marker = false;
        else if (flag === "--json") json = true;
        else return false;
        return true;
    });
    if (!stack) throw new Error(`--stack is required; ${USAGE}`);
    if (outputsFile !== undefined && outputsEnv !== undefined) throw new Error(`--outputs and --outputs-env exclude each other; ${USAGE}`);
    return { stack, outputsFile, outputsEnv, roleArns, timeoutSeconds, marker, json };
}

/** The stack's outputs from the file, the environment variable, or the Pulumi CLI, in that order. */
export function readOutputs(args: SmokeArgs, env: Readonly<Record<string, string | undefined>> = process.env): Record<string, unknown> {
    let text: string;
    if (args.outputsFile) text = fs.readFileSync(args.outputsFile, "utf8");
    else if (args.outputsEnv) {
        const v = env[args.outputsEnv];
        if (v === undefined || v === "") throw new Error(`--outputs-env ${args.outputsEnv}: the variable is not set`);
        text = v;
    } else text = execFileSync("pulumi", ["stack", "output", "--json", "--stack", args.stack], { cwd: ROOT, encoding: "utf8" });
    const outputs = JSON.parse(text) as unknown;
    if (outputs === null || typeof outputs !== "object" || Array.isArray(outputs)) throw new Error(`the stack outputs are not a JSON object: ${text.slice(0, 200)}`);
    return outputs as Record<string, unknown>;
}

export interface RoleChainOptions {
    readonly region?: string;
    /** Session name on every hop (CloudTrail shows it). */
    readonly sessionName: string;
    /**
     * How long an AccessDenied is retried: a role created by the same `pulumi up` a moment ago may not be
     * assumable yet (IAM is eventually consistent). @default 60 s
     */
    readonly propagationMs?: number;
    readonly sleep?: (ms: number) => Promise<void>;
    readonly clock?: () => number;
    readonly progress?: (line: string) => void;
    /** The STS client of one hop, with the previous hop's credentials. @default the SDK's, in `region` */
    readonly stsClient?: (credentials: AwsCredentials | undefined) => Pick<STSClient, "send">;
}

export interface AwsCredentials {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
}

/** Assumes each role with the previous one's credentials (the first with the caller's); undefined for none. */
export async function assumeRoleChain(roleArns: readonly string[], options: RoleChainOptions): Promise<AwsCredentials | undefined> {
    const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const clock = options.clock ?? Date.now;
    const region = options.region ? { region: options.region } : {};
    const stsClient = options.stsClient ?? ((c: AwsCredentials | undefined) => new STSClient({ ...region, ...(c ? { credentials: c } : {}) }));
    let credentials: AwsCredentials | undefined;
    for (const roleArn of roleArns) {
        const sts = stsClient(credentials);
        const deadline = clock() + (options.propagationMs ?? 60_000);
        for (let attempt = 1; ; attempt++) {
            try {
                const out = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: options.sessionName, DurationSeconds: 3600 }));
                const c = out.Credentials;
                if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error(`AssumeRole of ${roleArn} returned no credentials`);
                credentials = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
                break;
            } catch (err) {
                const denied = (err as { name?: string }).name === "AccessDenied";
                if (!denied || clock() >= deadline) {
                    const why = err instanceof Error ? err.message : String(err);
                    throw new Error(`cannot assume ${roleArn}: ${why}${denied ? " (does its trust admit these credentials, and may they sts:AssumeRole it?)" : ""}`);
                }
                options.progress?.(`assuming ${roleArn}: access denied, retrying (a new role takes a few seconds to be assumable)`);
                await sleep(Math.min(2000 * attempt, 10_000));
            }
        }
    }
    return credentials;
}

if (require.main === module) {
    (async () => {
        const args = parseSmokeArgs(process.argv.slice(2));
        // With --json, stdout carries only the result line that `pulumi up` parses.
        const say = args.json ? (line: string) => console.error(line) : (line: string) => console.log(line);
        const target = targetFromOutputs(args.stack, readOutputs(args));
        // The stack's region, not the caller's default: the buckets and the table live there.
        const region = target.region ? { region: target.region } : {};
        const credentials = await assumeRoleChain(args.roleArns, { region: target.region, sessionName: `smoke-${args.stack}`.replace(/[^\w+=,.@-]/g, "-").slice(0, 64), progress: say });
        const auth = credentials ? { credentials } : {};
        const identity = await new STSClient({ ...region, ...auth }).send(new GetCallerIdentityCommand({}));
        say(`running as ${identity.Arn}`);
        const s3 = new S3Client({ ...region, ...auth, forcePathStyle: process.env.AWS_ENDPOINT_URL !== undefined });
        const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ ...region, ...auth }));
        const result = await runSmoke(target, { s3, doc }, { timeoutMs: args.timeoutSeconds * 1000, writeMarker: args.marker, progress: say });
        say(formatSmoke(target, result));
        if (args.json && result.summary) console.log(JSON.stringify(result.summary));
        process.exit(result.passed ? 0 : 1);
    })().catch((err) => {
        console.error(`smoke failed: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
    });
}
