/**
 * `npm run smoke`: its judgements table-driven, its wait with a fake clock, and the command against the AWS
 * emulator when nothing processes the uploads (it must fail, naming each file). The passing path, with the
 * whole pipeline behind it, is test/deploy/endToEnd.test.ts.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import type { ProcessingRecord } from "../../functions/shared/processingRecords";
import { planRecord } from "../../functions/shared/s3Events";
import { PARQUET_PREFIXES, PARQUET_SUFFIX } from "../../stacks/flows/parquetToJson";
import {
    assumeRoleChain,
    isDataObject,
    markerKey,
    newRunId,
    outputProblems,
    parseSmokeArgs,
    readOutputs,
    recordProblems,
    smokeKey,
    smokeSamples,
    targetFromOutputs,
    Upload,
    waitForRecords,
    WrittenObject,
} from "../../scripts/smoke";
import { emulatorEnv, useEmulator } from "../support/emulator";
import { smokeCommandLine } from "../../components/delivery/smokeCheck";

const REPO = path.resolve(__dirname, "..", "..");

const succeeded = (over: Partial<ProcessingRecord> = {}): ProcessingRecord => ({
    file_id: "f",
    processing_status: "SUCCEEDED",
    job_run_id: "jr_1",
    rows_in: 10,
    record_count: 9,
    rows_quarantined: 1,
    output_file_path: "s3://out/processed/x/",
    quarantine_path: "s3://out/quarantine/x/",
    ...over,
});

describe("smoke judgements", () => {
    it("needs the stack's bucket, table and release outputs, and names a missing one", () => {
        const outputs = { inputBucket: "i", outputBucket: "o", metadataTable: "t", releaseId: "r" };
        assert.deepEqual(targetFromOutputs("dev", outputs), { stack: "dev", ...outputs });
        assert.deepEqual(targetFromOutputs("dev", { ...outputs, region: "eu-west-1" }), { stack: "dev", ...outputs, region: "eu-west-1" });
        assert.throws(() => targetFromOutputs("dev", { ...outputs, metadataTable: undefined }), /stack dev has no output "metadataTable"/);
        assert.throws(() => targetFromOutputs("dev", {}), /no output "inputBucket"/);
    });

    it("bundles every sample of the CSV and Parquet flows with its expected counts; a sample without them is refused", () => {
        const samples = smokeSamples();
        assert.deepEqual(
            samples.map((s) => `${s.flow} ${s.file}`),
            ["csv samples/csv/customers.csv", "csv samples/csv/products.csv", "csv samples/csv/sales_orders.csv", "parquet samples/parquet/yellow_tripdata_2024-01.parquet"],
        );
        assert.deepEqual(samples[3].expected, { rows_in: 20, record_count: 15, rows_quarantined: 5 });
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "smoke-samples-"));
        fs.mkdirSync(path.join(root, "samples/csv"), { recursive: true });
        fs.mkdirSync(path.join(root, "samples/parquet"), { recursive: true });
        fs.writeFileSync(path.join(root, "samples/csv/new.csv"), "a\n1\n");
        fs.writeFileSync(path.join(root, "samples/csv/expected.json"), "{}");
        fs.writeFileSync(path.join(root, "samples/parquet/expected.json"), "{}");
        assert.throws(() => smokeSamples(root), /samples\/csv\/expected.json has no entry for new.csv/);
        fs.rmSync(root, { recursive: true, force: true });
    });

    it("uploads under keys each flow's trigger accepts, fresh per run", () => {
        const now = new Date("2026-12-04T04:05:06.789Z");
        const runId = newRunId(now, () => 0.5);
        assert.equal(runId, "20261204t040506z-i000");
        const [csv, , , parquet] = smokeSamples();
        assert.equal(smokeKey(csv, runId, now), `smoke/${runId}/customers.csv`);
        const parquetKey = smokeKey(parquet, runId, now);
        assert.equal(parquetKey, `raw-data/2026/12/04/smoke-${runId}-yellow_tripdata_2024-01.parquet`);
        // The Parquet trigger's own filter (stacks/flows/parquetToJson.ts: prefix raw-data/, dated keys) accepts it.
        const record = { eventName: "ObjectCreated:Put", s3: { bucket: { name: "in" }, object: { key: parquetKey, size: 1, eTag: "e" } } };
        assert.equal(planRecord(record, PARQUET_SUFFIX, { keyPrefix: PARQUET_PREFIXES.raw, datedKeys: true }).action, "process");
        assert.equal(planRecord({ ...record, s3: { ...record.s3, object: { ...record.s3.object, key: smokeKey(csv, runId, now) } } }, ".csv").action, "process");
    });

    describe("the record", () => {
        const expected = { rows_in: 10, record_count: 9, rows_quarantined: 1 };
        const cases: Array<[string, ProcessingRecord | undefined, RegExp | null]> = [
            ["as expected", succeeded(), null],
            ["never claimed", undefined, /no metadata record after 60s: the trigger did not claim the file/],
            ["failed, with the job's error", succeeded({ processing_status: "FAILED", error_message: "boom" }), /^status FAILED: boom$/],
            ["rejected", succeeded({ processing_status: "REJECTED", error_message: "object is empty" }), /status REJECTED: object is empty/],
            // Final without a run: reported at once with the reason, not waited on until the deadline.
            ["superseded", succeeded({ processing_status: "SUPERSEDED", error_message: "version v1 is no longer current" }), /^status SUPERSEDED: version v1 is no longer current$/],
            ["deleted", succeeded({ processing_status: "SOURCE_DELETED", error_message: "object was deleted" }), /^status SOURCE_DELETED: object was deleted$/],
            ["still running at the deadline", succeeded({ processing_status: "RUNNING" }), /status RUNNING after 60s \(not final\)/],
            ["fewer rows written", succeeded({ record_count: 8, rows_in: 9 }), /record_count 8, expected 9/],
            ["counts that do not add up", succeeded({ rows_in: 11 }), /rows_in 11 is not record_count 9 \+ rows_quarantined 1/],
            ["no run id", succeeded({ job_run_id: undefined }), /no job run id/],
            ["no output path", succeeded({ output_file_path: undefined }), /no output_file_path/],
        ];
        for (const [name, record, problem] of cases) {
            it(`${name}: ${problem ? "fails" : "passes"}`, () => {
                const problems = recordProblems(expected, record, 60);
                if (problem === null) assert.deepEqual(problems, []);
                else assert.ok(problems.some((p) => problem.test(p)), problems.join("; "));
            });
        }
    });

    describe("the written objects", () => {
        const parquet = (key: string, head = "PAR1", tail = "PAR1"): WrittenObject => ({ key, size: 100, head, tail });
        const lines = (key: string, n: number, bad = 0): WrittenObject => ({
            key,
            size: 1,
            text: [...Array.from({ length: n }, (_, i) => JSON.stringify({ i })), ...Array.from({ length: bad }, () => "{not json"), ""].join("\n"),
        });
        const cases: Array<[string, "csv" | "parquet", ProcessingRecord, WrittenObject[], WrittenObject[], RegExp | null]> = [
            ["CSV flow: Parquet and one quarantined line", "csv", succeeded(), [parquet("p/part-0.parquet")], [lines("q/part-0.json", 1)], null],
            ["CSV flow: nothing written", "csv", succeeded(), [], [lines("q", 1)], /nothing written under s3:\/\/out\/processed\/x\//],
            ["CSV flow: not Parquet", "csv", succeeded(), [parquet("p/part-0.parquet", "PAR1", "xxxx")], [lines("q", 1)], /not Parquet \(no PAR1 magic\): p\/part-0.parquet/],
            ["CSV flow: quarantine missing", "csv", succeeded(), [parquet("p/a")], [], /0 quarantined line\(s\) under s3:\/\/out\/quarantine\/x\/, the record says 1/],
            ["CSV flow: quarantine where none was recorded", "csv", succeeded({ rows_quarantined: 0, rows_in: 9 }), [parquet("p/a")], [lines("q", 2)], /2 quarantined line\(s\)/],
            ["Parquet flow: JSON lines as recorded", "parquet", succeeded(), [lines("j/a.json", 5), lines("j/b.json", 4)], [lines("q", 1)], null],
            ["Parquet flow: a line short", "parquet", succeeded(), [lines("j/a.json", 8)], [lines("q", 1)], /8 JSON lines written, the record says 9/],
            ["Parquet flow: a line that is not JSON", "parquet", succeeded(), [lines("j/a.json", 8, 1)], [lines("q", 1)], /1 output line\(s\) are not JSON/],
        ];
        for (const [name, flow, record, output, quarantine, problem] of cases) {
            it(`${name}: ${problem ? "fails" : "passes"}`, () => {
                const problems = outputProblems(flow, record, output, quarantine);
                if (problem === null) assert.deepEqual(problems, []);
                else assert.ok(problems.some((p) => problem.test(p)), problems.join("; "));
            });
        }
        it("leaves Spark's and Hadoop's bookkeeping files out", () => {
            assert.deepEqual(
                ["part-0.snappy.parquet", "_SUCCESS", ".part-0.crc", "_temporary/0/x", "sub/part-1.json", "dir/"].filter(isDataObject),
                ["part-0.snappy.parquet", "sub/part-1.json"],
            );
        });
    });

    it("waits until every record is final, printing each change once", async () => {
        let t = 0;
        const states: Record<string, string[]> = { a: ["", "STARTED", "RUNNING", "SUCCEEDED"], b: ["STARTED", "FAILED"] };
        const reads: Record<string, number> = { a: 0, b: 0 };
        const uploads = ["a", "b"].map((id) => ({ fileId: id, key: `k/${id}` }) as unknown as Upload);
        const progress: string[] = [];
        const seen = await waitForRecords(
            uploads,
            async (id) => {
                const s = states[id][Math.min(reads[id]++, states[id].length - 1)];
                return s ? ({ file_id: id, processing_status: s } as ProcessingRecord) : undefined;
            },
            { timeoutMs: 60_000, pollMs: 1000, progress: (l) => progress.push(l), sleep: async (ms) => void (t += ms), clock: () => t },
        );
        assert.equal(seen.get("a")?.processing_status, "SUCCEEDED");
        assert.equal(seen.get("b")?.processing_status, "FAILED");
        assert.deepEqual(progress, ["[0s] k/a: no record yet", "[0s] k/b: STARTED", "[1s] k/a: STARTED", "[1s] k/b: FAILED", "[2s] k/a: RUNNING", "[3s] k/a: SUCCEEDED"]);
        assert.equal(reads.b, 2, "a final record is not read again");
    });

    it("stops waiting at the deadline with what it last saw", async () => {
        let t = 0;
        const seen = await waitForRecords([{ fileId: "a", key: "k" } as unknown as Upload], async () => ({ file_id: "a", processing_status: "RUNNING" }) as ProcessingRecord, {
            timeoutMs: 10_000,
            pollMs: 3000,
            progress: () => undefined,
            sleep: async (ms) => void (t += ms),
            clock: () => t,
        });
        assert.equal(seen.get("a")?.processing_status, "RUNNING");
        assert.equal(t, 12_000);
    });

    it("names the marker by release, refusing an id that is not a plain name", () => {
        assert.equal(markerKey("r-0123456789ab"), "smoke/passed/r-0123456789ab.json");
        assert.throws(() => markerKey("../prod"), /cannot name a marker object/);
        assert.throws(() => markerKey(""), /cannot name a marker object/);
    });

    it("arguments: --stack required; --timeout in whole seconds; outputs from a file or a variable; a chain of roles", () => {
        const defaults = { stack: "dev", outputsFile: undefined, outputsEnv: undefined, roleArns: [], timeoutSeconds: 900, marker: true, json: false };
        assert.deepEqual(parseSmokeArgs(["--stack", "dev"]), defaults);
        assert.deepEqual(parseSmokeArgs(["--stack", "dev", "--outputs", "o.json", "--timeout", "30", "--no-marker"]), {
            ...defaults,
            outputsFile: "o.json",
            timeoutSeconds: 30,
            marker: false,
        });
        const roles = ["arn:aws:iam::111111111111:role/deploy", "arn:aws:iam::111111111111:role/SmokeRole-dev"];
        assert.deepEqual(parseSmokeArgs(["--stack", "dev", "--outputs-env", "V", "--role-arn", roles[0], "--role-arn", roles[1], "--json"]), {
            ...defaults,
            outputsEnv: "V",
            roleArns: roles,
            json: true,
        });
        assert.throws(() => parseSmokeArgs(["--timeout", "30"]), /--stack is required/);
        assert.throws(() => parseSmokeArgs(["--stack", "dev", "--timeout", "0"]), /not a whole number of seconds/);
        assert.throws(() => parseSmokeArgs(["--stack", "dev", "--yes"]), /unknown argument --yes/);
        assert.throws(() => parseSmokeArgs(["--stack", "dev", "--role-arn", "SmokeRole-dev"]), /--role-arn "SmokeRole-dev" is not an IAM role ARN/);
        assert.throws(() => parseSmokeArgs(["--stack", "dev", "--outputs", "o.json", "--outputs-env", "V"]), /exclude each other/);
    });

    describe("the role chain", () => {
        const ROLES = ["arn:aws:iam::111111111111:role/deploy", "arn:aws:iam::111111111111:role/SmokeRole-dev"];
        const denied = () => Object.assign(new Error("User is not authorized to perform: sts:AssumeRole"), { name: "AccessDenied" });
        /** A fake STS: answers per role with the scripted outcomes, recording which credentials each hop used. */
        const fakeSts = (script: Record<string, Array<"denied" | "throttled" | "ok">>, used: string[]) => (credentials: { accessKeyId: string } | undefined) => ({
            send: async (command: any) => {
                const role: string = command.input.RoleArn;
                used.push(`${credentials?.accessKeyId ?? "caller"} -> ${role.split("/").pop()}`);
                const outcome = script[role].shift();
                if (outcome === "denied") throw denied();
                if (outcome === "throttled") throw Object.assign(new Error("Rate exceeded"), { name: "Throttling" });
                return { Credentials: { AccessKeyId: `key-of-${role.split("/").pop()}`, SecretAccessKey: "s", SessionToken: "t" } };
            },
        }) as any;

        it("assumes each role with the previous one's credentials, waiting out a new role's AccessDenied", async () => {
            let t = 0;
            const used: string[] = [];
            const progress: string[] = [];
            const credentials = await assumeRoleChain(ROLES, {
                sessionName: "smoke-dev",
                stsClient: fakeSts({ [ROLES[0]]: ["ok"], [ROLES[1]]: ["denied", "denied", "ok"] }, used),
                sleep: async (ms) => void (t += ms),
                clock: () => t,
                progress: (l) => progress.push(l),
            });
            assert.equal(credentials?.accessKeyId, "key-of-SmokeRole-dev");
            assert.deepEqual(used, ["caller -> deploy", "key-of-deploy -> SmokeRole-dev", "key-of-deploy -> SmokeRole-dev", "key-of-deploy -> SmokeRole-dev"]);
            assert.equal(progress.length, 2);
            assert.equal(t, 2000 + 4000);
        });

        it("gives up after the propagation window, saying what to check; other errors at once", async () => {
            let t = 0;
            const forever = { sessionName: "s", sleep: async (ms: number) => void (t += ms), clock: () => t, propagationMs: 30_000 };
            await assert.rejects(
                assumeRoleChain([ROLES[1]], { ...forever, stsClient: fakeSts({ [ROLES[1]]: Array(20).fill("denied") }, []) }),
                /cannot assume arn:aws:iam::111111111111:role\/SmokeRole-dev: User is not authorized .*\(does its trust admit these credentials, and may they sts:AssumeRole it\?\)/,
            );
            assert.ok(t >= 30_000 && t < 45_000, String(t));
            const used: string[] = [];
            await assert.rejects(assumeRoleChain([ROLES[1]], { ...forever, stsClient: fakeSts({ [ROLES[1]]: ["throttled"] }, used) }), /cannot assume .*: Rate exceeded$/);
            assert.equal(used.length, 1);
        });

        it("assumes nothing without roles (the caller's credentials do the work)", async () => {
            assert.equal(await assumeRoleChain([], { sessionName: "s" }), undefined);
        });
    });

    it("reads the outputs from the named variable, refusing an unset one or a value that is not an object", () => {
        const args = parseSmokeArgs(["--stack", "dev", "--outputs-env", "SMOKE_OUTPUTS"]);
        assert.deepEqual(readOutputs(args, { SMOKE_OUTPUTS: '{"inputBucket":"i"}' }), { inputBucket: "i" });
        assert.throws(() => readOutputs(args, {}), /--outputs-env SMOKE_OUTPUTS: the variable is not set/);
        assert.throws(() => readOutputs(args, { SMOKE_OUTPUTS: "[1]" }), /not a JSON object/);
    });
});

describe("the smoke command against the AWS emulator", function () {
    this.timeout(120_000);
    const aws = useEmulator();

    it("uploads every sample and fails, naming each file, when nothing processes them; no marker", async () => {
        // Prepare: a deployed stack's buckets and table, but no trigger behind them.
        await aws.createBucket("in-smoke", { versioned: true });
        await aws.createBucket("out-smoke");
        await aws.createMetadataTable("table-smoke");
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smoke-"));
        const outputsFile = path.join(dir, "outputs.json");
        fs.writeFileSync(outputsFile, JSON.stringify({ inputBucket: "in-smoke", outputBucket: "out-smoke", metadataTable: "table-smoke", releaseId: "r-1", region: "eu-west-1" }));
        // Act
        const run = spawnSync(path.join(REPO, "node_modules", ".bin", "ts-node"), ["--transpile-only", "scripts/smoke.ts", "--stack", "dev", "--outputs", outputsFile, "--timeout", "1"], {
            cwd: REPO,
            encoding: "utf8",
            env: { ...process.env, ...emulatorEnv(aws.endpoint) },
            timeout: 110_000,
        });
        fs.rmSync(dir, { recursive: true, force: true });
        // Assess
        const out = run.stdout;
        assert.equal(run.status, 1, out + run.stderr);
        const failures = out.split("\n").filter((l) => l.startsWith("FAIL  "));
        assert.equal(failures.length, smokeSamples().length, out);
        assert.ok(failures.every((l) => /no metadata record after 1s/.test(l)), out);
        assert.match(out, /^uploaded s3:\/\/in-smoke\/smoke\/.+\/customers\.csv \(csv flow/m);
        assert.match(out, /4 of 4 file\(s\) failed/);
        const inputs = await aws.clients.s3.send(new ListObjectsV2Command({ Bucket: "in-smoke" }));
        assert.equal(inputs.KeyCount, smokeSamples().length);
        const outputs = await aws.clients.s3.send(new ListObjectsV2Command({ Bucket: "out-smoke" }));
        assert.equal(outputs.KeyCount ?? 0, 0, "no marker for a release that did not pass");
    });

    it("as pulumi up runs it: outputs from a variable, through a chain of roles, the report on stderr and no result line on failure", async () => {
        // Prepare
        await aws.createBucket("in-smoke", { versioned: true });
        await aws.createBucket("out-smoke");
        await aws.createMetadataTable("table-smoke");
        const deployRole = "arn:aws:iam::123456789012:role/glue-data-pipeline-bootstrap/glue-data-pipeline-deploy-dev";
        const smokeRole = "arn:aws:iam::123456789012:role/SmokeRole-dev";
        const outputs = JSON.stringify({ inputBucket: "in-smoke", outputBucket: "out-smoke", metadataTable: "table-smoke", releaseId: "r-1", region: "eu-west-1" });
        // Act: the command line of components/delivery/smokeCheck.ts, with the environment the resource sets.
        const line = smokeCommandLine(true).replace(/^npm run --silent smoke --/, `"${path.join(REPO, "node_modules", ".bin", "ts-node")}" --transpile-only scripts/smoke.ts`);
        const run = spawnSync("/bin/sh", ["-c", `${line} --timeout 1`], {
            cwd: REPO,
            encoding: "utf8",
            env: { ...process.env, ...emulatorEnv(aws.endpoint), SMOKE_STACK: "dev", SMOKE_OUTPUTS: outputs, SMOKE_DEPLOY_ROLE_ARN: deployRole, SMOKE_ROLE_ARN: smokeRole },
            timeout: 110_000,
        });
        // Assess: the last role of the chain did the work (STS in the emulator answers who the credentials are).
        assert.equal(run.status, 1, run.stdout + run.stderr);
        assert.match(run.stderr, /^running as arn:aws:sts::123456789012:assumed-role\/SmokeRole-dev\/smoke-dev$/m);
        assert.equal(run.stderr.split("\n").filter((l) => l.startsWith("FAIL  ")).length, smokeSamples().length, run.stderr);
        assert.equal(run.stdout, "", "stdout carries only a passing result line, which pulumi up would export");
    });
});
