import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import type * as pulumi from "@pulumi/pulumi";

// Static imports: test/support/pulumiMocks.ts is --require'd by mocha, so the mocks are installed before
// this file and the component modules load. (A dynamic import() stays a native ESM import under
// module node16 and cannot resolve the extensionless .ts path.)
import * as e from "../../components/glue/glueEnvironment";
import * as m from "../../components/glue/glueEtlJob";
import * as jobArgs from "../../components/glue/jobArguments";
import * as jobCode from "../../components/glue/jobCode";
import * as jobRole from "../../components/glue/jobRole";
import * as settings from "../../components/glue/jobSettings";
import * as zip from "../../components/glue/zipArchive";
import { asList, descendantsOf, named, ofType, PolicyStatement, resetRecorded, statementsOf, waitForRegistrations } from "../support/graph";

type Args = m.GlueEtlJobArgs;

const FIXTURES = path.join(__dirname, "..", "fixtures", "glue");
const SCRIPT_V1 = "test/fixtures/glue/v1/process.py";
const SCRIPT_V2 = "test/fixtures/glue/v2/process.py";
const LIBRARY = "test/fixtures/glue/lib";

const ACCOUNT = "111111111111";
const REGION = "eu-west-1";
const KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/stack-key`;
const ASSETS = { bucket: "glue-assets-v2-test-111111111111", arn: "arn:aws:s3:::glue-assets-v2-test-111111111111" };
const INPUT_ARN = "arn:aws:s3:::glue-input-test-111111111111";
const OUTPUT_ARN = "arn:aws:s3:::glue-output-test-111111111111";
const TABLE_ARN = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/etl-pipeline-metadata-test`;
const SC = "glue-pipeline-test";
const SHARED_LOG_ARNS = ["/aws-glue/jobs/output", "/aws-glue/jobs/error", "/aws-glue/jobs/logs-v2", `/aws-glue/jobs/logs-v2-${SC}`].map(
    (n) => `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${n}`,
);
const ENV = {
    securityConfigurationName: SC,
    kmsKeyArn: KEY,
    databaseName: "glue_database_v2_test",
    databaseArn: `arn:aws:glue:${REGION}:${ACCOUNT}:database/glue_database_v2_test`,
    sharedLogGroupArns: SHARED_LOG_ARNS,
    logRetentionInDays: 30,
};
const JOB = "FileProcessorV2-test";
const ROLE = `${JOB}-GlueJobRole`;

const T = {
    job: "aws:glue/job:Job",
    role: "aws:iam/role:Role",
    policy: "aws:iam/rolePolicy:RolePolicy",
    object: "aws:s3/bucketObject:BucketObject",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
};

function baseArgs(overrides: Partial<Args> = {}): Args {
    return {
        jobName: JOB,
        scriptPath: SCRIPT_V1,
        libraryDir: LIBRARY,
        assetsBucket: ASSETS,
        environment: ENV,
        readAccess: [{ bucketArn: INPUT_ARN, prefixes: [""] }],
        writeAccess: [{ bucketArn: OUTPUT_ARN, prefixes: ["processed/", "quarantine/"] }],
        tags: { Project: "glue-data-pipeline", Environment: "test" },
        ...overrides,
    };
}

const resolve = <T>(o: pulumi.Output<T>): Promise<T> => new Promise((r) => o.apply((v) => (r(v), v)));
const sha256 = (b: Buffer | string) => require("node:crypto").createHash("sha256").update(b).digest("hex") as string;
const bySid = (statements: PolicyStatement[], sid: string): PolicyStatement => {
    const hit = statements.find((s) => s.Sid === sid);
    assert.ok(hit, `no statement ${sid} in ${statements.map((s) => s.Sid).join(", ")}`);
    return hit;
};
const repoRoot = path.resolve(__dirname, "..", "..");
const python = (): string => {
    const venv = path.join(repoRoot, ".venv", "bin", "python");
    return fs.existsSync(venv) ? venv : "python3";
};
/** Runs Python lines on a zip (sys.argv[1]) after checking its CRCs; returns what they print as JSON. */
const readZipInPython = (zipPath: string, lines: string[]): any => {
    const code = ["import hashlib, json, sys, zipfile", "z = zipfile.ZipFile(sys.argv[1])", "assert z.testzip() is None", ...lines].join("\n");
    const run = spawnSync(python(), ["-c", code, zipPath], { encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    return JSON.parse(run.stdout);
};

describe("GlueEtlJob", () => {
    async function create(args: Args, name = "t") {
        resetRecorded();
        const job = new m.GlueEtlJob(name, args);
        await waitForRegistrations();
        return job;
    }

    describe("pure helpers", () => {
        it("validates and defaults the settings", () => {
            const s = settings.validateGlueEtlJobArgs({ jobName: JOB });
            assert.deepEqual(s, {
                jobName: JOB,
                glueVersion: "5.1",
                workerType: "G.1X",
                maxWorkers: 10,
                timeoutMinutes: 60,
                maxConcurrentRuns: 3,
                maxRetries: 0,
                executionClass: "STANDARD",
                jobRunQueuing: true,
                bookmarks: "disable",
                dataCatalog: "read",
                datalakeFormats: [],
            });
        });

        const invalid: [string, Parameters<typeof settings.validateGlueEtlJobArgs>[0], RegExp][] = [
            ["a version without minor", { jobName: JOB, glueVersion: "5" }, /glueVersion must look like "5\.1"/],
            ["a version before auto scaling", { jobName: JOB, glueVersion: "2.0" }, /glueVersion 2\.0 is older than 3\.0/],
            ["a streaming-only worker", { jobName: JOB, workerType: "G.025X" }, /workerType must be one of/],
            ["one worker", { jobName: JOB, maxWorkers: 1 }, /maxWorkers must be an integer from 2/],
            ["a fractional timeout", { jobName: JOB, timeoutMinutes: 1.5 }, /timeoutMinutes must be an integer/],
            ["a timeout beyond 48 h", { jobName: JOB, timeoutMinutes: 2881 }, /timeoutMinutes must be an integer from 1 to 2880/],
            ["no concurrency", { jobName: JOB, maxConcurrentRuns: 0 }, /maxConcurrentRuns must be an integer/],
            ["negative retries", { jobName: JOB, maxRetries: -1, jobRunQueuing: false }, /maxRetries must be an integer from 0 to 10/],
            ["a job name with a slash", { jobName: "a/b" }, /jobName must be/],
            ["Flex on big workers", { jobName: JOB, executionClass: "FLEX", jobRunQueuing: false, workerType: "G.4X" }, /FLEX runs only on G\.1X or G\.2X workers/],
            ["an unknown bookmark mode", { jobName: JOB, bookmarks: "on" as never }, /bookmarks must be enable, disable or pause/],
        ];
        for (const [what, args, message] of invalid) {
            it(`rejects ${what}`, () => assert.throws(() => settings.validateGlueEtlJobArgs(args), message));
        }

        it("reports every problem at once", () => {
            assert.throws(
                () => settings.validateGlueEtlJobArgs({ jobName: JOB, glueVersion: "x", maxWorkers: 0, timeoutMinutes: 0 }),
                (err: Error) => /glueVersion/.test(err.message) && /maxWorkers/.test(err.message) && /timeoutMinutes/.test(err.message),
            );
        });

        it("hashes a file as SHA-256 of its bytes", () => {
            const file = path.join(FIXTURES, "v1", "process.py");
            assert.equal(jobCode.hashFile(file), sha256(fs.readFileSync(file)));
        });

        it("builds object keys from the job name and the content hash", () => {
            const hash = "0123456789abcdef".repeat(4);
            assert.equal(jobCode.scriptObjectKey("Job", "run.py", hash), "scripts/Job/0123456789ab/run.py");
            assert.equal(jobCode.libraryObjectKey("Job", hash), "libs/Job/0123456789ab/glue_pipeline.zip");
        });

        const roleNames: [string, string][] = [
            ["FileProcessorV2-dev", "FileProcessorV2-dev-GlueJobRole"],
            ["x".repeat(52), `${"x".repeat(52)}-GlueJobRole`],
        ];
        for (const [job, role] of roleNames) {
            it(`names the role of ${job.slice(0, 20)} ${role.length} characters long`, () => assert.equal(jobRole.glueJobRoleName(job), role));
        }
        it("shortens a role name past IAM's 64 characters, keeping it unique", () => {
            const a = jobRole.glueJobRoleName("y".repeat(80));
            const b = jobRole.glueJobRoleName(`${"y".repeat(79)}z`);
            assert.equal(a.length, 64);
            assert.match(a, /^y+-[0-9a-f]{8}-GlueJobRole$/);
            assert.notEqual(a, b);
        });

        it("reads a table name from its ARN and rejects other ARNs", () => {
            assert.equal(jobRole.dynamoDbTableName(TABLE_ARN), "etl-pipeline-metadata-test");
            assert.throws(() => jobRole.dynamoDbTableName(INPUT_ARN), /not a DynamoDB table ARN/);
        });

        it("merges caller arguments and rejects reserved or malformed keys, naming them", () => {
            const owned = { "--TempDir": "s3://a/temp/", "--job-language": "python" };
            assert.deepEqual(jobArgs.mergeDefaultArguments(owned, { "--input_format": "csv" }), { ...owned, "--input_format": "csv" });
            assert.throws(
                () => jobArgs.mergeDefaultArguments(owned, { "--TempDir": "s3://elsewhere/", "--continuous-log-logGroup": "/mine", "--ok": "1" }),
                /defaultArguments may not set --TempDir, --continuous-log-logGroup: GlueEtlJob owns them/,
            );
            // Reserved even when this job does not set it, e.g. --extra-py-files without a library.
            assert.throws(() => jobArgs.mergeDefaultArguments({}, { "--extra-py-files": "s3://x/y.zip" }), /may not set --extra-py-files/);
            assert.throws(() => jobArgs.mergeDefaultArguments({}, { input_path: "x", "-x": "y" }), /keys must look like --name \(bad: input_path, -x\)/);
        });

        it("owns the Glue arguments, with data lake formats only when used", async () => {
            const args = jobArgs.ownedDefaultArguments({
                assetsBucket: "assets",
                jobName: "J",
                libraryKey: "libs/J/abc/glue_pipeline.zip",
                bookmarks: "pause",
                dataCatalog: "off",
                datalakeFormats: ["iceberg", "iceberg", "delta"],
            });
            assert.equal(args["--job-bookmark-option"], "job-bookmark-pause");
            assert.equal(args["--datalake-formats"], "iceberg,delta");
            assert.equal(args["--enable-glue-datacatalog"], undefined);
            assert.equal(await resolve(args["--TempDir"] as pulumi.Output<string>), "s3://assets/temp/J/");
            assert.equal(
                "--datalake-formats" in jobArgs.ownedDefaultArguments({ assetsBucket: "a", jobName: "J", bookmarks: "disable", dataCatalog: "read", datalakeFormats: [] }),
                false,
            );
        });
    });

    describe("library packaging", () => {
        let tmp: string;
        beforeEach(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), "glue-lib-"))));
        afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

        const copyLibrary = (dest: string, reverse = false) => {
            const files = ["glue_pipeline/__init__.py", "glue_pipeline/transforms.py"];
            for (const rel of reverse ? [...files].reverse() : files) {
                fs.mkdirSync(path.join(dest, path.dirname(rel)), { recursive: true });
                fs.copyFileSync(path.join(FIXTURES, "lib", rel), path.join(dest, rel));
            }
        };

        it("hashes and zips only source files, whatever caches and clutter lie around", () => {
            const clean = jobCode.buildLibraryArchive(path.join(FIXTURES, "lib"));
            copyLibrary(tmp);
            fs.mkdirSync(path.join(tmp, "glue_pipeline", "__pycache__"));
            fs.writeFileSync(path.join(tmp, "glue_pipeline", "__pycache__", "transforms.cpython-311.pyc"), "bytecode");
            fs.writeFileSync(path.join(tmp, "glue_pipeline", "stale.pyc"), "bytecode");
            fs.writeFileSync(path.join(tmp, ".DS_Store"), "clutter");
            const cluttered = jobCode.buildLibraryArchive(tmp);
            assert.deepEqual(cluttered.files, ["glue_pipeline/__init__.py", "glue_pipeline/transforms.py"]);
            assert.equal(cluttered.sha256, clean.sha256);
            assert.ok(cluttered.zip.equals(clean.zip), "the zip bytes depend on the shipped files only");
        });

        it("is deterministic regardless of file creation order and times", () => {
            const a = path.join(tmp, "a");
            const b = path.join(tmp, "b");
            copyLibrary(a);
            copyLibrary(b, true);
            fs.utimesSync(path.join(b, "glue_pipeline", "transforms.py"), new Date(2001, 1, 1), new Date(2001, 1, 1));
            assert.ok(jobCode.buildLibraryArchive(a).zip.equals(jobCode.buildLibraryArchive(b).zip));
            assert.equal(jobCode.hashDirectory(a), jobCode.hashDirectory(b));
        });

        it("changes the hash when a byte or a file name changes", () => {
            copyLibrary(tmp);
            const before = jobCode.hashDirectory(tmp);
            fs.appendFileSync(path.join(tmp, "glue_pipeline", "transforms.py"), "\n");
            const edited = jobCode.hashDirectory(tmp);
            assert.notEqual(edited, before);
            fs.renameSync(path.join(tmp, "glue_pipeline", "transforms.py"), path.join(tmp, "glue_pipeline", "transform.py"));
            assert.notEqual(jobCode.hashDirectory(tmp), edited);
        });

        it("produces a zip Python imports the package from, as Glue does with --extra-py-files", () => {
            const zipPath = path.join(tmp, "glue_pipeline.zip");
            fs.writeFileSync(zipPath, jobCode.buildLibraryArchive(path.join(FIXTURES, "lib")).zip);
            const out = readZipInPython(zipPath, [
                "sys.path.insert(0, sys.argv[1])",
                "import glue_pipeline, glue_pipeline.transforms as t",
                "print(json.dumps({'names': z.namelist(), 'version': glue_pipeline.FIXTURE_VERSION, 'two': t.add_one(1), 'from': glue_pipeline.__file__}))",
            ]);
            assert.deepEqual(out.names, ["glue_pipeline/__init__.py", "glue_pipeline/transforms.py"]);
            assert.equal(out.version, "1");
            assert.equal(out.two, 2);
            assert.ok(out.from.startsWith(zipPath), `imported from ${out.from}`);
        });

        it("keeps the zip bytes of a given library (a writer change would move every stack's library key)", () => {
            // Recorded from the writer as it was when it lived in glueEtlJob.ts; only a deliberate format
            // change may update it, and then every stack uploads a new library and prod must follow dev.
            const archive = jobCode.buildLibraryArchive(path.join(FIXTURES, "lib"));
            assert.equal(sha256(archive.zip), "1907780fc49aca52947c82f9def05360079383f24ebe05cc5513997b27d337c0");
            assert.equal(archive.sha256, "83e5a3e0187e83f061a20ae6ed477f7bfae65376b17509adc9ed89e7f1088b29");
        });

        it("writes deflated and stored entries (whichever is smaller) that Python's zipfile reads back exactly", () => {
            const compressible = Buffer.from("def f():\n    return 1\n".repeat(200));
            const incompressible = require("node:crypto").randomBytes(4096) as Buffer;
            const zipPath = path.join(tmp, "mixed.zip");
            const entries = [
                { name: "a/big.py", data: compressible },
                { name: "ünï/random.bin", data: incompressible },
                { name: "empty.py", data: Buffer.alloc(0) },
            ];
            fs.writeFileSync(zipPath, zip.zipEntries(entries));
            const out = readZipInPython(zipPath, ["print(json.dumps([[i.filename, i.compress_type, hashlib.sha256(z.read(i)).hexdigest()] for i in z.infolist()]))"]);
            assert.deepEqual(out, [
                ["a/big.py", 8, sha256(compressible)],
                ["ünï/random.bin", 0, sha256(incompressible)],
                ["empty.py", 0, sha256(Buffer.alloc(0))],
            ]);
        });

        it("refuses an empty library", () => assert.throws(() => jobCode.buildLibraryArchive(tmp), /no files to ship/));

        it("computes zip's CRC-32 (standard check value, and empty input)", () => {
            assert.equal(zip.crc32(Buffer.from("123456789")), 0xcbf43926);
            assert.equal(zip.crc32(Buffer.alloc(0)), 0);
        });

        it("gets the same CRC-32 without zlib's native one (Node before 20.15)", () => {
            const zlib = require("node:zlib") as { crc32?: unknown };
            const native = zlib.crc32;
            const data = fs.readFileSync(path.join(FIXTURES, "lib", "glue_pipeline", "transforms.py"));
            const expected = zip.crc32(data);
            try {
                zlib.crc32 = undefined;
                assert.equal(zip.crc32(data), expected);
                assert.equal(zip.crc32(Buffer.from("123456789")), 0xcbf43926);
            } finally {
                zlib.crc32 = native;
            }
        });
    });

    describe("role policy document", () => {
        const inputs = () => ({
            jobName: JOB,
            databaseArn: ENV.databaseArn,
            assetsBucketArn: ASSETS.arn,
            withLibrary: true,
            readAccess: [{ bucketArn: INPUT_ARN, prefixes: ["incoming/"] }],
            writeAccess: [{ bucketArn: OUTPUT_ARN, prefixes: ["processed/"] }],
            kmsKeyArns: [KEY, KEY],
            logGroupArns: SHARED_LOG_ARNS,
            bookmarks: "disable" as const,
            dataCatalog: "off" as const,
        });

        it("grants nothing on * but Glue-namespace metrics", () => {
            const doc = jobRole.glueJobRolePolicy({ ...inputs(), metadataTableArn: TABLE_ARN, bookmarks: "enable", dataCatalog: "readWrite" });
            const wildcard = doc.Statement.filter((s) => asList(s.Resource).includes("*"));
            assert.deepEqual(wildcard.map((s) => s.Sid), ["PutGlueMetrics"]);
            assert.deepEqual(wildcard[0].Condition, { StringEquals: { "cloudwatch:namespace": "Glue" } });
        });

        const optional: [string, Partial<ReturnType<typeof inputs>> & { metadataTableArn?: string }, string[]][] = [
            ["nothing optional", {}, []],
            ["a metadata table", { metadataTableArn: TABLE_ARN }, ["MetadataRecord"]],
            ["bookmarks enabled", { bookmarks: "enable" as never }, ["JobBookmark"]],
            ["bookmarks paused", { bookmarks: "pause" as never }, ["JobBookmark"]],
            ["catalog reads", { dataCatalog: "read" as never }, ["DataCatalogRead"]],
            ["catalog writes", { dataCatalog: "readWrite" as never }, ["DataCatalogRead", "DataCatalogWrite"]],
        ];
        const always = ["ReadJobCode", "ReadInput0List", "ReadInput0Get", "WriteOutput0List", "WriteOutput0Get", "WriteOutput0Write",
            "JobScratchList", "JobScratchGet", "JobScratchWrite", "UseKmsKey", "WriteLogs", "SetUpLogGroups", "PutGlueMetrics"];
        for (const [what, extra, sids] of optional) {
            it(`has exactly the statements for ${what}`, () => {
                const doc = jobRole.glueJobRolePolicy({ ...inputs(), ...extra });
                assert.deepEqual(doc.Statement.map((s) => s.Sid).sort(), [...always, ...sids].sort());
            });
        }

        it("scopes bookmarks to this job and the catalog to default and the stack database", () => {
            const doc = jobRole.glueJobRolePolicy({ ...inputs(), bookmarks: "enable", dataCatalog: "readWrite" });
            assert.deepEqual(bySid(doc.Statement, "JobBookmark"), {
                Sid: "JobBookmark",
                Effect: "Allow",
                Action: ["glue:GetJobBookmark"],
                Resource: [`arn:aws:glue:${REGION}:${ACCOUNT}:job/${JOB}`],
            });
            const glue = (r: string) => `arn:aws:glue:${REGION}:${ACCOUNT}:${r}`;
            assert.deepEqual(bySid(doc.Statement, "DataCatalogRead").Resource, [
                glue("catalog"),
                glue("database/default"),
                glue("database/glue_database_v2_test"),
                glue("table/glue_database_v2_test/*"),
                glue("userDefinedFunction/glue_database_v2_test/*"),
            ]);
            assert.deepEqual(bySid(doc.Statement, "DataCatalogWrite").Resource, [
                glue("catalog"),
                glue("database/glue_database_v2_test"),
                glue("table/glue_database_v2_test/*"),
            ]);
            assert.ok(!asList(bySid(doc.Statement, "DataCatalogWrite").Action).some((a) => /Delete/.test(a)), "no deletes in the catalog");
        });

        it("reads only the script prefix when no library is shipped", () => {
            const doc = jobRole.glueJobRolePolicy({ ...inputs(), withLibrary: false });
            assert.deepEqual(bySid(doc.Statement, "ReadJobCode").Resource, [`${ASSETS.arn}/scripts/${JOB}/*`]);
        });

        it("rejects extra statements that put S3, DynamoDB, Glue or KMS on *", () => {
            for (const action of ["s3:GetObject", "dynamodb:Query", "glue:GetJob", "kms:Decrypt"]) {
                assert.throws(
                    () => jobRole.glueJobRolePolicy({ ...inputs(), extraStatements: [{ Effect: "Allow", Action: action, Resource: "*" }] }),
                    /on "\*"/,
                    action,
                );
            }
            const ok = jobRole.glueJobRolePolicy({ ...inputs(), extraStatements: [{ Sid: "Sns", Effect: "Allow", Action: "sns:Publish", Resource: "arn:aws:sns:eu-west-1:111111111111:t" }] });
            assert.equal(bySid(ok.Statement, "Sns").Action, "sns:Publish");
        });

        it("refuses a job without log groups", () => {
            assert.throws(() => jobRole.glueJobRolePolicy({ ...inputs(), logGroupArns: [] }), /at least one log group/);
        });
    });

    describe("with defaults", () => {
        let job: m.GlueEtlJob;
        before(async () => (job = await create(baseArgs())));

        it("creates the Glue job with the requirements' settings and Glue 5.1", () => {
            const inputs = named("t-job", T.job).inputs;
            assert.equal(inputs.name, JOB);
            assert.equal(inputs.glueVersion, "5.1");
            assert.equal(inputs.workerType, "G.1X");
            assert.equal(inputs.numberOfWorkers, 10);
            assert.equal(inputs.timeout, 60);
            assert.equal(inputs.maxRetries, 0);
            assert.deepEqual(inputs.executionProperty, { maxConcurrentRuns: 3 });
            assert.equal(inputs.executionClass, "STANDARD");
            assert.equal(inputs.jobRunQueuingEnabled, true);
            assert.equal(inputs.securityConfiguration, SC);
            assert.equal(inputs.roleArn, `arn:aws:iam::${ACCOUNT}:role/${ROLE}`);
            assert.deepEqual(inputs.tags, { Project: "glue-data-pipeline", Environment: "test" });
        });

        it("runs the uploaded script as a Python 3 glueetl command", () => {
            const { command } = named("t-job", T.job).inputs;
            assert.deepEqual(command, { name: "glueetl", pythonVersion: "3", scriptLocation: `s3://${ASSETS.bucket}/${job.scriptKey}` });
        });

        it("sets every Glue default argument the component owns", () => {
            const args = named("t-job", T.job).inputs.defaultArguments;
            assert.deepEqual(args, {
                "--job-language": "python",
                "--extra-py-files": `s3://${ASSETS.bucket}/${job.libraryKey}`,
                "--enable-auto-scaling": "true",
                "--job-bookmark-option": "job-bookmark-disable",
                "--enable-metrics": "true",
                "--enable-observability-metrics": "true",
                "--enable-job-insights": "true",
                "--enable-continuous-cloudwatch-log": "true",
                "--enable-spark-ui": "true",
                "--spark-event-logs-path": `s3://${ASSETS.bucket}/sparkui/${JOB}/`,
                "--TempDir": `s3://${ASSETS.bucket}/temp/${JOB}/`,
                "--enable-glue-datacatalog": "true",
            });
        });

        it("uploads the script under a content-addressed key, KMS-encrypted", () => {
            const bytes = fs.readFileSync(path.join(repoRoot, SCRIPT_V1));
            assert.equal(job.scriptSha256, sha256(bytes));
            assert.equal(job.scriptKey, `scripts/${JOB}/${sha256(bytes).slice(0, 12)}/process.py`);
            const inputs = named("t-script", T.object).inputs;
            assert.equal(inputs.bucket, ASSETS.bucket);
            assert.equal(inputs.key, job.scriptKey);
            assert.equal(inputs.content, bytes.toString("utf8"));
            assert.equal(inputs.serverSideEncryption, "aws:kms");
            assert.equal(inputs.kmsKeyId, KEY);
        });

        it("uploads the library zip under its directory hash, KMS-encrypted", () => {
            const expected = jobCode.buildLibraryArchive(path.join(repoRoot, LIBRARY));
            assert.equal(job.librarySha256, jobCode.hashDirectory(path.join(repoRoot, LIBRARY)));
            assert.equal(job.libraryKey, `libs/${JOB}/${expected.sha256.slice(0, 12)}/glue_pipeline.zip`);
            const inputs = named("t-library", T.object).inputs;
            assert.equal(inputs.key, job.libraryKey);
            assert.ok(Buffer.from(inputs.contentBase64, "base64").equals(expected.zip));
            assert.equal(inputs.contentType, "application/zip");
            assert.equal(inputs.serverSideEncryption, "aws:kms");
            assert.equal(inputs.kmsKeyId, KEY);
        });

        it("gives the job its own role, assumable by Glue from this account only", () => {
            const inputs = named("t-role", T.role).inputs;
            assert.equal(inputs.name, ROLE);
            assert.deepEqual(statementsOf(inputs.assumeRolePolicy), [
                {
                    Effect: "Allow",
                    Principal: { Service: "glue.amazonaws.com" },
                    Action: "sts:AssumeRole",
                    Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT } },
                },
            ]);
        });

        it("grants each statement exactly its actions and resources", () => {
            const policy = named("t-policy", T.policy).inputs;
            assert.equal(policy.role, ROLE);
            const st = statementsOf(policy.policy);
            const expectations: [string, string[], string[]][] = [
                ["ReadJobCode", ["s3:GetObject", "s3:GetObjectVersion"], [`${ASSETS.arn}/scripts/${JOB}/*`, `${ASSETS.arn}/libs/${JOB}/*`]],
                ["ReadInput0List", ["s3:ListBucket"], [INPUT_ARN]],
                ["ReadInput0Get", ["s3:GetObject", "s3:GetObjectVersion"], [`${INPUT_ARN}/*`]],
                ["WriteOutput0List", ["s3:ListBucket"], [OUTPUT_ARN]],
                ["WriteOutput0Get", ["s3:GetObject", "s3:GetObjectVersion"], [`${OUTPUT_ARN}/processed/*`, `${OUTPUT_ARN}/quarantine/*`]],
                [
                    "WriteOutput0Write",
                    ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts", "s3:DeleteObject"],
                    [`${OUTPUT_ARN}/processed/*`, `${OUTPUT_ARN}/quarantine/*`],
                ],
                ["JobScratchList", ["s3:ListBucket"], [ASSETS.arn]],
                ["JobScratchGet", ["s3:GetObject", "s3:GetObjectVersion"], [`${ASSETS.arn}/temp/${JOB}/*`, `${ASSETS.arn}/sparkui/${JOB}/*`]],
                [
                    "JobScratchWrite",
                    ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts", "s3:DeleteObject"],
                    [`${ASSETS.arn}/temp/${JOB}/*`, `${ASSETS.arn}/sparkui/${JOB}/*`],
                ],
                ["UseKmsKey", ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"], [KEY]],
                ["PutGlueMetrics", ["cloudwatch:PutMetricData"], ["*"]],
            ];
            for (const [sid, actions, resources] of expectations) {
                const s = bySid(st, sid);
                assert.equal(s.Effect, "Allow", sid);
                assert.deepEqual(asList(s.Action), actions, sid);
                assert.deepEqual(asList(s.Resource), resources, sid);
            }
            // Listing is held to the granted prefixes.
            assert.deepEqual(bySid(st, "WriteOutput0List").Condition, {
                StringLikeIfExists: { "s3:prefix": ["processed/", "processed/*", "quarantine/", "quarantine/*"] },
            });
            assert.equal(bySid(st, "ReadInput0List").Condition, undefined, "the whole input bucket is readable");
            assert.deepEqual(bySid(st, "JobScratchList").Condition, {
                StringLikeIfExists: { "s3:prefix": [`temp/${JOB}/`, `temp/${JOB}/*`, `sparkui/${JOB}/`, `sparkui/${JOB}/*`] },
            });
            assert.deepEqual(
                st.map((s) => s.Sid).filter((sid) => ["MetadataRecord", "JobBookmark", "DataCatalogWrite"].includes(sid!)),
                [],
                "nothing optional without asking",
            );
        });

        it("writes logs only to the Glue log groups, its own and the shared ones", () => {
            const st = statementsOf(named("t-policy", T.policy).inputs.policy);
            const groups = [
                `/aws-glue/jobs/${SC}-role/${ROLE}/output`,
                `/aws-glue/jobs/${SC}-role/${ROLE}/error`,
                "/aws-glue/jobs/output",
                "/aws-glue/jobs/error",
                "/aws-glue/jobs/logs-v2",
                `/aws-glue/jobs/logs-v2-${SC}`,
            ].map((n) => `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${n}`);
            const write = bySid(st, "WriteLogs");
            assert.deepEqual(asList(write.Action), ["logs:CreateLogStream", "logs:PutLogEvents"]);
            assert.deepEqual(asList(write.Resource).sort(), groups.flatMap((g) => [g, `${g}:log-stream:*`]).sort());
            const setUp = bySid(st, "SetUpLogGroups");
            assert.deepEqual(asList(setUp.Action), ["logs:AssociateKmsKey", "logs:CreateLogGroup"]);
            assert.deepEqual(asList(setUp.Resource).sort(), [...groups].sort());
        });

        it("never puts S3, DynamoDB, Glue or KMS actions on *", () => {
            for (const s of statementsOf(named("t-policy", T.policy).inputs.policy)) {
                if (!asList(s.Resource).includes("*")) continue;
                assert.ok(asList(s.Action).every((a) => a.startsWith("cloudwatch:")), JSON.stringify(s));
            }
        });

        it("creates the log groups Glue writes to under the security configuration, with 30-day retention", () => {
            for (const [logical, stream] of [["t-output-logs", "output"], ["t-error-logs", "error"]]) {
                const inputs = named(logical, T.logGroup).inputs;
                assert.equal(inputs.name, `/aws-glue/jobs/${SC}-role/${ROLE}/${stream}`);
                assert.equal(inputs.retentionInDays, 30);
                assert.equal(inputs.kmsKeyId, KEY);
            }
        });

        it("creates the job only after its policy, log groups and code", () => {
            const deps = named("t-job", T.job).dependencies;
            for (const logical of ["t-policy", "t-output-logs", "t-error-logs", "t-script", "t-library"]) {
                assert.ok(deps.includes(named(logical).urn), `job depends on ${logical}`);
            }
        });

        it("parents every child to the component and names it after it", () => {
            const component = named("t", "glue-pipeline:glue:GlueEtlJob");
            const children = descendantsOf(component);
            assert.equal(children.length, 7);
            assert.ok(children.every((c) => c.name.startsWith("t-")));
        });

        it("exposes the hashes and names the stacks compose with", async () => {
            assert.equal(await resolve(job.jobName), JOB);
            assert.equal(await resolve(job.jobArn), `arn:aws:glue:${REGION}:${ACCOUNT}:job/${JOB}`);
            assert.equal(await resolve(job.scriptS3Uri), `s3://${ASSETS.bucket}/${job.scriptKey}`);
            assert.match(job.scriptSha256, /^[0-9a-f]{64}$/);
            assert.match(job.librarySha256!, /^[0-9a-f]{64}$/);
        });
    });

    describe("with another script version", () => {
        it("changes the script key, and only its hash part, when the content changes", async () => {
            const v1 = await create(baseArgs(), "v1");
            const v2 = await create(baseArgs({ scriptPath: SCRIPT_V2 }), "v2");
            assert.notEqual(v1.scriptSha256, v2.scriptSha256);
            assert.notEqual(v1.scriptKey, v2.scriptKey);
            const shape = (k: string) => k.replace(/\/[0-9a-f]{12}\//, "/<hash>/");
            assert.equal(shape(v1.scriptKey), shape(v2.scriptKey));
            assert.equal(named("v2-script", T.object).inputs.content, fs.readFileSync(path.join(repoRoot, SCRIPT_V2), "utf8"));
            assert.equal(v1.libraryKey, v2.libraryKey, "the library did not change");
        });

        it("keeps the key when nothing changed (no needless replacement)", async () => {
            const a = await create(baseArgs(), "a");
            const b = await create(baseArgs(), "b");
            assert.equal(a.scriptKey, b.scriptKey);
            assert.equal(a.libraryKey, b.libraryKey);
        });
    });

    describe("with Flex", () => {
        it("runs on the Flex class without queuing", async () => {
            await create(baseArgs({ executionClass: "FLEX", jobRunQueuing: false, workerType: "G.2X" }));
            const inputs = named("t-job", T.job).inputs;
            assert.equal(inputs.executionClass, "FLEX");
            assert.equal(inputs.jobRunQueuingEnabled, false);
            assert.equal(inputs.workerType, "G.2X");
        });

        it("rejects Flex with queuing left at its default, naming both fields, before creating anything", async () => {
            resetRecorded();
            assert.throws(() => new m.GlueEtlJob("t", baseArgs({ executionClass: "FLEX" })), /jobRunQueuing and executionClass FLEX are incompatible/);
            await waitForRegistrations();
            assert.equal(ofType(T.job).length + ofType(T.object).length + ofType(T.role).length, 0);
        });
    });

    describe("with queuing and retries", () => {
        it("queues runs of a job that does not retry", async () => {
            await create(baseArgs({ maxRetries: 0, jobRunQueuing: true }));
            const inputs = named("t-job", T.job).inputs;
            assert.equal(inputs.jobRunQueuingEnabled, true);
            assert.equal(inputs.maxRetries, 0);
        });

        it("rejects retries with queuing, naming both fields", () => {
            assert.throws(() => new m.GlueEtlJob("t", baseArgs({ maxRetries: 2 })), /jobRunQueuing and maxRetries 2 are incompatible/);
        });

        it("retries (the Parquet→JSON job's 2) when queuing is turned off", async () => {
            await create(baseArgs({ maxRetries: 2, jobRunQueuing: false, maxWorkers: 10, timeoutMinutes: 30, maxConcurrentRuns: 5 }));
            const inputs = named("t-job", T.job).inputs;
            assert.equal(inputs.maxRetries, 2);
            assert.equal(inputs.jobRunQueuingEnabled, false);
            assert.equal(inputs.timeout, 30);
            assert.deepEqual(inputs.executionProperty, { maxConcurrentRuns: 5 });
        });
    });

    describe("with a metadata table", () => {
        it("passes the table name and grants GetItem/UpdateItem on that table only", async () => {
            await create(baseArgs({ metadataTableArn: TABLE_ARN }));
            assert.equal(named("t-job", T.job).inputs.defaultArguments["--metadata_table"], "etl-pipeline-metadata-test");
            const s = bySid(statementsOf(named("t-policy", T.policy).inputs.policy), "MetadataRecord");
            assert.deepEqual(s, { Sid: "MetadataRecord", Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:UpdateItem"], Resource: TABLE_ARN });
        });

        it("neither passes nor grants anything without one", async () => {
            await create(baseArgs());
            assert.equal("--metadata_table" in named("t-job", T.job).inputs.defaultArguments, false);
            const st = statementsOf(named("t-policy", T.policy).inputs.policy);
            assert.ok(st.every((s) => asList(s.Action).every((a) => !a.startsWith("dynamodb:"))));
        });
    });

    describe("with bookmarks, catalog writes and data lake formats", () => {
        it("turns them on in the arguments and the policy together", async () => {
            await create(baseArgs({ bookmarks: "enable", dataCatalog: "readWrite", datalakeFormats: ["iceberg"] }));
            const args = named("t-job", T.job).inputs.defaultArguments;
            assert.equal(args["--job-bookmark-option"], "job-bookmark-enable");
            assert.equal(args["--datalake-formats"], "iceberg");
            const sids = statementsOf(named("t-policy", T.policy).inputs.policy).map((s) => s.Sid);
            assert.ok(sids.includes("JobBookmark") && sids.includes("DataCatalogWrite"));
        });

        it("leaves the catalog alone when it is off", async () => {
            await create(baseArgs({ dataCatalog: "off" }));
            assert.equal("--enable-glue-datacatalog" in named("t-job", T.job).inputs.defaultArguments, false);
            assert.ok(statementsOf(named("t-policy", T.policy).inputs.policy).every((s) => !String(s.Sid).startsWith("DataCatalog")));
        });
    });

    describe("without a library", () => {
        it("uploads no zip, passes no --extra-py-files and reads only the script prefix", async () => {
            await create(baseArgs({ libraryDir: false }));
            assert.equal(ofType(T.object).length, 1);
            assert.equal("--extra-py-files" in named("t-job", T.job).inputs.defaultArguments, false);
            const read = bySid(statementsOf(named("t-policy", T.policy).inputs.policy), "ReadJobCode");
            assert.deepEqual(asList(read.Resource), [`${ASSETS.arn}/scripts/${JOB}/*`]);
        });
    });

    describe("with a separate data key", () => {
        it("may use both the data key and the security configuration's key", async () => {
            const dataKey = `arn:aws:kms:${REGION}:${ACCOUNT}:key/data-key`;
            await create(baseArgs({ kmsKeyArn: dataKey }));
            assert.deepEqual(bySid(statementsOf(named("t-policy", T.policy).inputs.policy), "UseKmsKey").Resource, [dataKey, KEY]);
            assert.equal(named("t-script", T.object).inputs.kmsKeyId, dataKey);
        });
    });

    describe("argument conflicts", () => {
        const rejects: [string, Partial<Args>, RegExp][] = [
            ["reserved default arguments", { defaultArguments: { "--TempDir": "s3://x/", "--job-bookmark-option": "job-bookmark-enable" } }, /defaultArguments may not set --TempDir, --job-bookmark-option/],
            ["redirected log groups", { defaultArguments: { "--continuous-log-logGroup": "/forever" } }, /may not set --continuous-log-logGroup/],
            ["a malformed argument key", { defaultArguments: { input_path: "s3://x" } }, /keys must look like --name/],
            ["a missing script", { scriptPath: "test/fixtures/glue/nope.py" }, /scriptPath must name an existing \.py file/],
            ["a script that is not Python", { scriptPath: "test/fixtures/glue/README.md" }, /scriptPath must name an existing \.py file/],
            ["a missing library directory", { libraryDir: "test/fixtures/glue/nolib" }, /libraryDir must be an existing directory, or false/],
            ["a grant without prefixes", { readAccess: [{ bucketArn: INPUT_ARN, prefixes: [] }] }, /need at least one prefix/],
            ["a wildcard prefix", { writeAccess: [{ bucketArn: OUTPUT_ARN, prefixes: ["processed/*"] }] }, /wildcards are not allowed/],
            ["an old Glue version", { glueVersion: "2.0" }, /glueVersion 2\.0 is older than 3\.0/],
        ];
        for (const [what, overrides, message] of rejects) {
            it(`rejects ${what} before creating any resource`, async () => {
                resetRecorded();
                assert.throws(() => new m.GlueEtlJob("t", baseArgs(overrides)), message);
                await waitForRegistrations();
                assert.equal(ofType(T.job).length + ofType(T.object).length + ofType(T.role).length + ofType(T.logGroup).length, 0);
            });
        }

        it("adds the caller's own arguments next to the owned ones", async () => {
            await create(baseArgs({ defaultArguments: { "--output_compression": "snappy", "--conf": "spark.sql.adaptive.enabled=true" } }));
            const args = named("t-job", T.job).inputs.defaultArguments;
            assert.equal(args["--output_compression"], "snappy");
            assert.equal(args["--conf"], "spark.sql.adaptive.enabled=true");
            assert.equal(args["--TempDir"], `s3://${ASSETS.bucket}/temp/${JOB}/`);
        });

        it("fails the policy when an extra statement puts KMS on *", async () => {
            const job = await create(baseArgs({ extraStatements: [{ Effect: "Allow", Action: "kms:Decrypt", Resource: "*" }] }));
            assert.equal(ofType(T.policy).length, 0, "the policy never registers");
            assert.ok(job.rolePolicy);
        });
    });

    describe("in a GlueEnvironment", () => {
        it("writes to the environment's log groups and attaches its security configuration", async () => {
            resetRecorded();
            const env = new e.GlueEnvironment("env", { stage: "test", kmsKeyArn: KEY });
            new m.GlueEtlJob("t", baseArgs({ environment: env }));
            await waitForRegistrations();
            assert.equal(named("t-job", T.job).inputs.securityConfiguration, "glue-pipeline-test");
            const write = asList(bySid(statementsOf(named("t-policy", T.policy).inputs.policy), "WriteLogs").Resource);
            for (const group of ["env-output-logs", "env-error-logs", "env-continuous-logs", "env-encrypted-continuous-logs"]) {
                assert.ok(write.includes(named(group, T.logGroup).state.arn), group);
            }
            assert.equal(named("t-output-logs", T.logGroup).inputs.name, `/aws-glue/jobs/glue-pipeline-test-role/${ROLE}/output`);
        });

        it("lets two jobs share an environment without a name in common", async () => {
            resetRecorded();
            const env = new e.GlueEnvironment("env", { stage: "test", kmsKeyArn: KEY });
            new m.GlueEtlJob("a", baseArgs({ environment: env, jobName: "FileProcessorV2-test" }));
            new m.GlueEtlJob("b", baseArgs({ environment: env, jobName: "ProcessLegislators-test", scriptPath: SCRIPT_V2 }));
            await waitForRegistrations();
            const physical = (type: string, key: string) => ofType(type).map((r) => r.inputs[key]);
            for (const [type, key] of [[T.job, "name"], [T.role, "name"], [T.object, "key"], [T.logGroup, "name"]]) {
                const names = physical(type, key);
                assert.equal(new Set(names).size, names.length, `${type} ${key}s are unique: ${names.join(", ")}`);
            }
        });
    });
});
