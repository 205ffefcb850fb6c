import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { CsvConverter, CsvConverterArgs } from "../../components/compute/csvConverter";
import { asList, named, resetRecorded, statementsOf, waitForRegistrations } from "../support/graph";

// Loaded in before(), after the --require'd mocks, as the house convention asks.
let m: typeof import("../../components/compute/csvConverter");
let pkg: typeof import("../../components/compute/pythonPackage");

const ACCOUNT = "111111111111";
const REGION = "eu-west-1";
const KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/data-lake`;
const JOB = `arn:aws:glue:${REGION}:${ACCOUNT}:job/FileProcessorV2-dev`;
const TABLE = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/etl-pipeline-metadata-dev`;
const INPUT_ARN = `arn:aws:s3:::glue-input-dev-${ACCOUNT}`;
const OUTPUT_ARN = `arn:aws:s3:::glue-output-dev-${ACCOUNT}`;
const TRIGGER_ROLE = `arn:aws:iam::${ACCOUNT}:role/trigger-role`;
const QUEUE_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT}:CsvConverter-dev-queue`;

function args(overrides: Partial<CsvConverterArgs> = {}): CsvConverterArgs {
    return {
        functionName: "CsvConverter-dev",
        inputBucketArn: INPUT_ARN,
        outputBucketName: `glue-output-dev-${ACCOUNT}`,
        outputBucketArn: OUTPUT_ARN,
        outputPrefixes: ["processed/", "quarantine/"],
        metadataTableName: "etl-pipeline-metadata-dev",
        metadataTableArn: TABLE,
        glueJobName: "FileProcessorV2-dev",
        glueJobArn: JOB,
        senderRoleArn: TRIGGER_ROLE,
        kmsKeyArn: KEY,
        environment: { METRIC_NAMESPACE: "GluePipeline" },
        ...overrides,
    };
}

const zipNames = (zip: string): string[] =>
    JSON.parse(execFileSync(pkg.buildPython(), ["-c", "import json,sys,zipfile; print(json.dumps(zipfile.ZipFile(sys.argv[1]).namelist()))", zip]).toString());

describe("CsvConverter", function () {
    // The first run may download DuckDB's wheel (18 MB) into the cache.
    this.timeout(180_000);

    before(async () => {
        m = await import("../../components/compute/csvConverter");
        pkg = await import("../../components/compute/pythonPackage");
    });

    describe("with the CSV flow's arguments", () => {
        let component: CsvConverter;
        let fn: Record<string, any>;
        before(async () => {
            resetRecorded();
            component = new m.CsvConverter("csv-converter", args({ memoryMb: 3008, maximumConcurrency: 4 }));
            await waitForRegistrations();
            fn = named("csv-converter-function", "aws:lambda/function:Function").inputs;
        });

        it("runs Python 3.12 on arm64 with handler.handler, the configured memory, defaults for timeout and /tmp, X-Ray", () => {
            assert.equal(fn.name, "CsvConverter-dev");
            assert.equal(fn.runtime, "python3.12");
            assert.deepEqual(fn.architectures, ["arm64"]);
            assert.equal(fn.handler, "handler.handler");
            assert.equal(fn.memorySize, 3008);
            assert.equal(fn.timeout, m.CSV_CONVERTER_DEFAULTS_SETTINGS.timeoutSeconds);
            assert.deepEqual(fn.ephemeralStorage, { size: m.CSV_CONVERTER_DEFAULTS_SETTINGS.ephemeralStorageMb });
            assert.deepEqual(fn.tracingConfig, { mode: "Active" });
            assert.equal(fn.kmsKeyArn, KEY);
        });

        it("sets the contract's environment names, with DuckDB's limit below the function's memory", () => {
            assert.deepEqual(fn.environment.variables, {
                METADATA_TABLE: "etl-pipeline-metadata-dev",
                OUTPUT_BUCKET: `glue-output-dev-${ACCOUNT}`,
                GLUE_JOB_NAME: "FileProcessorV2-dev",
                DUCKDB_MEMORY_LIMIT_MB: String(Math.floor(3008 * 0.6)),
                DEADLINE_RESERVE_SECONDS: "60",
                METRIC_NAMESPACE: "GluePipeline",
            });
        });

        it("ships the built zip with its hash as sourceCodeHash and artifact version", async () => {
            assert.equal(fn.sourceCodeHash, component.package.sha256);
            assert.match(component.package.sha256, /^[0-9a-f]{64}$/);
            assert.equal(await new Promise((r) => component.packageSha256.apply(r)), component.package.sha256);
        });

        it("logs to its own log group (KMS, 14 days) created first", () => {
            const group = named("csv-converter-logs", "aws:cloudwatch/logGroup:LogGroup");
            assert.equal(group.inputs.name, "/aws/lambda/CsvConverter-dev");
            assert.equal(group.inputs.kmsKeyId, KEY);
            assert.equal(group.inputs.retentionInDays, 14);
            assert.ok(named("csv-converter-function").dependencies.includes(group.urn));
        });

        it("feeds from its queue: batch size 1, ReportBatchItemFailures, the configured concurrency", () => {
            const mapping = named("csv-converter-queue-events", "aws:lambda/eventSourceMapping:EventSourceMapping").inputs;
            assert.equal(mapping.batchSize, 1);
            assert.deepEqual(mapping.functionResponseTypes, ["ReportBatchItemFailures"]);
            assert.deepEqual(mapping.scalingConfig, { maximumConcurrency: 4 });
        });

        it("encrypts both queues with the data-lake key; visibility 6x the timeout; DLQ after 3 receives", () => {
            const queue = named("csv-converter-queue", "aws:sqs/queue:Queue").inputs;
            const dlq = named("csv-converter-queue-dlq", "aws:sqs/queue:Queue").inputs;
            assert.equal(queue.name, "CsvConverter-dev-queue");
            assert.equal(dlq.name, "CsvConverter-dev-queue-dlq");
            assert.equal(queue.kmsMasterKeyId, KEY);
            assert.equal(dlq.kmsMasterKeyId, KEY);
            assert.equal(queue.sqsManagedSseEnabled, undefined);
            assert.equal(queue.visibilityTimeoutSeconds, 6 * m.CSV_CONVERTER_DEFAULTS_SETTINGS.timeoutSeconds);
            assert.equal(JSON.parse(queue.redrivePolicy).maxReceiveCount, 3);
        });

        it("the queue admits only the trigger's role, over TLS", () => {
            const statements = statementsOf(named("csv-converter-queue-policy", "aws:sqs/queuePolicy:QueuePolicy").inputs.policy);
            const allows = statements.filter((s) => s.Effect === "Allow");
            assert.deepEqual(allows.map((s) => [s.Principal, s.Action]), [[{ AWS: TRIGGER_ROLE }, "sqs:SendMessage"]]);
            assert.ok(statements.some((s) => s.Effect === "Deny" && (s.Condition as any)?.Bool?.["aws:SecureTransport"] === "false"));
        });

        it("the role is least privilege: the input's objects read, output prefixes only, the table, the one job, its queue", () => {
            const statements = statementsOf(named("csv-converter-policy", "aws:iam/rolePolicy:RolePolicy").inputs.policy);
            const bySid = (sid: string) => statements.find((s) => s.Sid === sid)!;
            assert.deepEqual(asList(bySid("ReadInputObjectVersion").Action), ["s3:GetObject", "s3:GetObjectVersion"]);
            assert.deepEqual(asList(bySid("ReadInputObjectVersion").Resource), [`${INPUT_ARN}/*`]);
            const outputResources = statements.filter((s) => (s.Sid ?? "").startsWith("PublishOutput")).flatMap((s) => asList(s.Resource));
            for (const resource of outputResources) {
                assert.ok(resource === OUTPUT_ARN || resource.startsWith(`${OUTPUT_ARN}/processed/`) || resource.startsWith(`${OUTPUT_ARN}/quarantine/`), resource);
            }
            assert.deepEqual(asList(bySid("FallBackToGlue").Resource), [JOB]);
            assert.deepEqual(asList(bySid("FallBackToGlue").Action), ["glue:GetJob", "glue:StartJobRun"]);
            assert.deepEqual(asList(bySid("RecordFileRun").Resource), [TABLE]);
            assert.deepEqual(asList(bySid("ConsumeRequests").Resource), QUEUE_ARN ? [QUEUE_ARN] : []);
            assert.ok(!statements.some((s) => asList(s.Action).includes("cloudwatch:PutMetricData")), "metrics go by EMF on stdout");
        });
    });

    describe("validation", () => {
        for (const [field, value] of [["memoryMb", 64], ["timeoutSeconds", 901], ["timeoutSeconds", 60], ["ephemeralStorageMb", 256], ["maximumConcurrency", 1], ["maxReceiveCount", 0]] as const) {
            it(`refuses ${field} ${value}`, () => {
                assert.throws(() => m.validateCsvConverterSettings({ [field]: value }), new RegExp(`CsvConverter: ${field}`));
            });
        }
        it("accepts the defaults", () => m.validateCsvConverterSettings({}));
    });

    describe("the package", () => {
        it("holds the handler, converter-contract.json, the Spark-free glue_pipeline closure and DuckDB, nothing of Spark", () => {
            const built = pkg.buildPythonPackage(pkg.CSV_CONVERTER_PACKAGE);
            const names = zipNames(built.zipPath);
            for (const name of ["handler.py", "fast_run.py", "s3_output.py", "telemetry.py", "converter-contract.json", "glue_pipeline/__init__.py", "glue_pipeline/csv_fast.py", "duckdb/__init__.py"]) {
                assert.ok(names.includes(name), name);
            }
            for (const spark of ["glue_pipeline/csv_processing.py", "glue_pipeline/hadoop_fs.py", "glue_pipeline/runtime.py", "glue_pipeline/file_job.py"]) {
                assert.ok(!names.includes(spark), spark);
            }
            assert.deepEqual([...names].sort(), names, "entries in sorted order");
        });

        it("is deterministic: a rebuild has the same SHA-256", () => {
            const first = pkg.buildPythonPackage(pkg.CSV_CONVERTER_PACKAGE);
            pkg.clearPythonPackageCache();
            const second = pkg.buildPythonPackage(pkg.CSV_CONVERTER_PACKAGE);
            assert.notEqual(first.zipPath, second.zipPath);
            assert.equal(second.sha256, first.sha256);
        });

        it("is complete: the handler imports from the unzipped package with pyspark blocked (DuckDB from the venv: the zip's is aarch64)", () => {
            const built = pkg.buildPythonPackage(pkg.CSV_CONVERTER_PACKAGE);
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "csv-converter-zip-"));
            const script = String.raw`
import importlib.abc, os, sys, zipfile
target, = sys.argv[1:]
with zipfile.ZipFile(os.environ["ZIP"]) as z:
    z.extractall(target, [n for n in z.namelist() if not n.startswith("duckdb")])
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "pyspark" or name.startswith("pyspark."):
            raise ImportError("pyspark is blocked: the converter must be Spark-free")
        return None
sys.meta_path.insert(0, Block())
sys.path = [target] + [p for p in sys.path if p and not p.endswith(os.path.join("glue", "lib")) and os.path.abspath(p) != os.getcwd()]
import handler
assert handler.__file__.startswith(target), handler.__file__
import glue_pipeline
assert glue_pipeline.__file__.startswith(target), glue_pipeline.__file__
print("ok")
`;
            const out = execFileSync(pkg.buildPython(), ["-c", script, dir], { cwd: os.tmpdir(), env: { ...process.env, ZIP: built.zipPath, PYTHONPATH: "" } }).toString();
            assert.equal(out.trim(), "ok");
            fs.rmSync(dir, { recursive: true, force: true });
        });

        it("refuses a wheel whose hash is not the pinned one", () => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wheel-cache-"));
            fs.writeFileSync(path.join(dir, pkg.DUCKDB_WHEEL.fileName), "not the wheel");
            assert.throws(() => pkg.pinnedWheel(pkg.DUCKDB_WHEEL, dir), /refusing to package it/);
            fs.rmSync(dir, { recursive: true, force: true });
        });
    });
});



