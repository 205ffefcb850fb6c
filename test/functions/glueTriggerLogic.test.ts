/** Pure unit tests of the trigger's decisions: no AWS, no emulator. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { loadTriggerConfig } from "../../functions/glue-trigger/config";
import { buildJobArguments, deriveJobPaths, rejectedKeyReason } from "../../functions/glue-trigger/trigger";
import { EnvironmentError } from "../../functions/shared/env";
import { isCapacityRefusal, isRateLimitedStart, isRetryableStartError } from "../../functions/shared/glueJobRuns";
import { RetriesExhaustedError } from "../../functions/shared/retry";
import { decodeS3Key, deriveFileId, keyProblem, matchesSuffix, normaliseEtag, objectVersion, planRecord, unsafeKeyReason } from "../../functions/shared/s3Events";
import { supersededReason } from "../../functions/shared/sourceVersion";
import { encodeS3EventKey, s3Record } from "../fixtures/s3Events";

describe("S3 key decoding", () => {
    const table: [encoded: string, decoded: string][] = [
        ["plain/file.csv", "plain/file.csv"],
        ["my+file.csv", "my file.csv"],
        ["two++spaces.csv", "two  spaces.csv"],
        ["a%2Bb.csv", "a+b.csv"],
        ["caf%C3%A9.csv", "café.csv"],
        ["%E6%97%A5%E6%9C%AC/%E3%83%87%E3%83%BC%E3%82%BF.csv", "日本/データ.csv"],
        ["emoji+%F0%9F%98%80.csv", "emoji 😀.csv"],
        ["100%25+done.csv", "100% done.csv"],
        ["q%3Fa%26b%3Dc.csv", "q?a&b=c.csv"],
        ["a%2Fb.csv", "a/b.csv"],
    ];
    for (const [encoded, decoded] of table) {
        it(`decodes ${encoded} to ${decoded}`, () => assert.equal(decodeS3Key(encoded), decoded));
    }

    it("rejects a malformed escape instead of guessing", () => {
        assert.throws(() => decodeS3Key("bad%E0%A4%A.csv"), URIError);
        assert.throws(() => decodeS3Key("half%C3.csv"), URIError);
    });

    it("inverts the fixtures' S3-style encoding for every decoded key in the table", () => {
        for (const [, decoded] of table) {
            if (decoded === "a/b.csv") continue; // a slash inside a segment cannot be told apart once decoded
            assert.equal(decodeS3Key(encodeS3EventKey(decoded)), decoded);
        }
    });
});

describe("file_id derivation", () => {
    it("is the lowercase hex SHA-256 of bucket/key#version", () => {
        // printf 'in/a.csv#v1' | sha256sum
        assert.equal(deriveFileId("in", "a.csv", "v1"), "b152f385a37d9865b7c1615f41bb836d352a09322b86cae63dc272d406e22d9f");
    });

    it("hashes the decoded key, so encoding differences in events do not change the id", () => {
        // printf 'glue-input-test/daily reports/q1 sales.csv#abc' | sha256sum
        assert.equal(
            deriveFileId("glue-input-test", decodeS3Key("daily+reports/q1+sales.csv"), "abc"),
            "abb3dfcb6357cb6e029d75b90d333fbeb5e252d7bf6892f8e15ddc8c77fdc387",
        );
    });

    it("differs between versions, keys and buckets", () => {
        const ids = new Set([
            deriveFileId("in", "a.csv", "v1"),
            deriveFileId("in", "a.csv", "v2"),
            deriveFileId("in", "b.csv", "v1"),
            deriveFileId("in2", "a.csv", "v1"),
        ]);
        assert.equal(ids.size, 4);
    });

    it("refuses to derive an id without a version", () => {
        assert.throws(() => deriveFileId("in", "a.csv", ""), /needs bucket, key and version/);
    });

    const versions: [versionId: string | undefined, etag: string | undefined, expected: string | undefined][] = [
        ["3HL4kqtJvjVBH40Nrjfkd", "abc", "3HL4kqtJvjVBH40Nrjfkd"],
        [undefined, "abc", "abc"],
        ["", "abc", "abc"],
        ["null", "abc", "abc"],
        [undefined, '"abc"', "abc"],
        [undefined, '"abc-12"', "abc-12"],
        [undefined, undefined, undefined],
    ];
    for (const [versionId, etag, expected] of versions) {
        it(`uses ${expected ?? "nothing"} as the version for versionId=${versionId} eTag=${etag}`, () => {
            assert.equal(objectVersion(versionId, etag), expected);
        });
    }

    it("strips quotes, and a weak-ETag prefix, from ETags", () => {
        assert.equal(normaliseEtag('"abc"'), "abc");
        assert.equal(normaliseEtag('W/"abc"'), "abc");
        assert.equal(normaliseEtag("abc"), "abc");
    });
});

describe("which records are processed", () => {
    const suffixes: [key: string, suffix: string, matches: boolean][] = [
        ["a.csv", ".csv", true],
        ["dir/A.CSV", ".csv", true],
        ["dir/a.CsV", ".csv", true],
        ["a.csv.gz", ".csv", false],
        ["a.json", ".csv", false],
        ["dir/", ".csv", false],
        ["dir/.csv", ".csv", false],
        [".csv", ".csv", false],
        ["dir.csv/", ".csv", false],
        ["data.tsv", ".tsv", true],
    ];
    for (const [key, suffix, matches] of suffixes) {
        it(`${matches ? "processes" : "ignores"} ${key} for suffix ${suffix}`, () => assert.equal(matchesSuffix(key, suffix), matches));
    }

    it("plans a created CSV with its decoded key, version, ETag and size", () => {
        const record = s3Record({ bucket: "in", key: "x y.csv", size: 10, eTag: "e1", versionId: "v1" });
        assert.deepEqual(planRecord(record, ".csv"), { action: "process", bucket: "in", key: "x y.csv", versionId: "v1", etag: "e1", sizeBytes: 10 });
    });

    it("plans without size or ETag when the event lacks them (the handler then asks S3)", () => {
        const record = s3Record({ bucket: "in", key: "a.csv", size: null, eTag: null });
        assert.deepEqual(planRecord(record, ".csv"), { action: "process", bucket: "in", key: "a.csv" });
    });

    it("ignores events other than ObjectCreated", () => {
        const plan = planRecord(s3Record({ bucket: "in", key: "a.csv", eventName: "ObjectRemoved:Delete" }), ".csv");
        assert.equal(plan.action, "ignore");
        assert.match((plan as { reason: string }).reason, /ObjectRemoved:Delete/);
    });
});

describe("job paths and arguments", () => {
    const cases: [key: string, outputPath: string, quarantinePath: string][] = [
        ["sales.csv", "s3://out/processed/sales/", "s3://out/quarantine/sales/"],
        ["incoming/2025/01/Sales.CSV", "s3://out/processed/incoming/2025/01/Sales/", "s3://out/quarantine/incoming/2025/01/Sales/"],
        ["données/été.csv", "s3://out/processed/données/été/", "s3://out/quarantine/données/été/"],
        ["a.b.csv", "s3://out/processed/a.b/", "s3://out/quarantine/a.b/"],
    ];
    for (const [key, outputPath, quarantinePath] of cases) {
        it(`derives the output and quarantine paths of ${key}`, () => {
            assert.deepEqual(deriveJobPaths("in", key, ".csv", "out"), { inputPath: `s3://in/${key}`, outputPath, quarantinePath });
        });
    }

    it("passes exactly the contract's arguments", () => {
        const paths = deriveJobPaths("in", "dir/a.csv", ".csv", "out");
        assert.deepEqual(buildJobArguments(paths, "dir/a.csv", "id1"), {
            "--input_path": "s3://in/dir/a.csv",
            "--output_path": "s3://out/processed/dir/a/",
            "--quarantine_path": "s3://out/quarantine/dir/a/",
            "--source_file": "dir/a.csv",
            "--file_id": "id1",
        });
    });

    it("pins the run to its version: the version id when it names one (never S3's \"null\"), and the ETag", () => {
        const paths = deriveJobPaths("in", "a.csv", ".csv", "out");
        const args = (versionId: string | undefined, etag: string | undefined) => {
            const all = buildJobArguments(paths, "a.csv", "id", { versionId, etag });
            return { v: all["--source_version_id"], e: all["--source_etag"] };
        };
        assert.deepEqual(args("3HL4kqtJlcpXroDTDmJ", "abc"), { v: "3HL4kqtJlcpXroDTDmJ", e: "abc" });
        assert.deepEqual(args("null", "abc"), { v: undefined, e: "abc" });
        assert.deepEqual(args(undefined, undefined), { v: undefined, e: undefined });
    });

    it("uses exactly the argument names the file jobs accept (glue/lib/glue_pipeline/file_job.py)", () => {
        // Ask the job's own module which arguments it takes, so a rename on either side fails here.
        const repo = path.resolve(__dirname, "..", "..");
        const out = spawnSync(
            path.join(repo, ".venv", "bin", "python"),
            ["-c", "import json; from glue_pipeline.file_job import REQUIRED_ARGS, RECORDING_ARGS; print(json.dumps([*REQUIRED_ARGS, *RECORDING_ARGS]))"],
            { cwd: repo, encoding: "utf8", env: { ...process.env, PYTHONPATH: path.join(repo, "glue", "lib") } },
        );
        assert.equal(out.status, 0, out.stderr);
        const accepted: string[] = JSON.parse(out.stdout);
        const sent = Object.keys(buildJobArguments(deriveJobPaths("in", "a.csv", ".csv", "out"), "a.csv", "id", { versionId: "v", etag: "e" }));
        // metadata_table is not per file: it is the job's default argument (components/glue/glueEtlJob.ts).
        assert.deepEqual(sent.map((name) => name.replace(/^--/, "")).sort(), accepted.filter((name) => name !== "metadata_table").sort());
    });
});

describe("keys are data: which keys are refused, and why", () => {
    const refused: [key: string, reason: RegExp][] = [
        ["../a.csv", /'\.\.' path segment/],
        ["x/../../processed.csv", /'\.\.' path segment/],
        ["x/./a.csv", /'\.' path segment/],
        ["/a.csv", /empty path segment/],
        ["x//a.csv", /empty path segment/],
        ["x/a\u0000.csv", /control character U\+0000/],
        ["x/a\n.csv", /control character U\+000A/],
        ["x/a\r.csv", /control character U\+000D/],
        ["x/a\u007f.csv", /control character U\+007F/],
        ["x/a\u009b.csv", /control character U\+009B/],
        ["x/\u200Fa.csv", /bidirectional formatting character U\+200F/],
        ["x/a\u202Bb.csv", /bidirectional formatting character U\+202B/],
        ["x/a\u2068b.csv", /bidirectional formatting character U\+2068/],
        ["x/a\u061Cb.csv", /bidirectional formatting character U\+061C/],
    ];
    for (const [key, reason] of refused) {
        it(`refuses ${JSON.stringify(key)}`, () => assert.match(keyProblem(key) ?? "", reason));
    }

    const allowed = ["a.csv", "x/..a.csv", "x/a..csv", "x/.hidden.csv", "r[1].csv", "s*.csv", "q?.csv", "a{b,c}.csv", "e\\f.csv", "c:d.csv", "données/été.csv", "emoji 😀.csv", "a+b %20.csv", "x/a\u200Db.csv"];
    for (const key of allowed) {
        it(`accepts ${JSON.stringify(key)}`, () => assert.equal(keyProblem(key), undefined));
    }

    it("counts a derived key's length in UTF-8 bytes, with 128 bytes kept for the names written below it", () => {
        // 'é' is 2 bytes: 448 of them make an 896-byte key; + 128 = 1024 is allowed, one byte more is not.
        const fits = "é".repeat(448);
        assert.equal(unsafeKeyReason("k.csv", [["output", `s3://bucket/${fits}`]]), undefined);
        assert.match(unsafeKeyReason("k.csv", [["output", `s3://bucket/${fits}x`]]) ?? "", /derived output key is 897 bytes/);
        // A bare key is measured as is; only an s3:// URI loses its bucket.
        assert.match(unsafeKeyReason("k.csv", [["report", `${fits}x`]]) ?? "", /derived report key is 897 bytes/);
    });

    it("checks both derived prefixes of the CSV flow; the quarantine prefix is the longer one", () => {
        const stem = "a".repeat(1024 - 128 - "quarantine/".length - "/".length);
        const key = `${stem}.csv`;
        assert.equal(rejectedKeyReason(key, deriveJobPaths("in", key, ".csv", "out")), undefined);
        const longer = `${stem}a.csv`;
        assert.match(rejectedKeyReason(longer, deriveJobPaths("in", longer, ".csv", "out")) ?? "", /derived quarantine key is 897 bytes/);
    });
});

describe("superseded versions", () => {
    const table: [name: string, event: { versionId?: string; etag?: string }, current: { versionId?: string; etag?: string }, superseded: boolean][] = [
        ["same version id", { versionId: "v1", etag: "e1" }, { versionId: "v1", etag: "e1" }, false],
        ["another version id is current", { versionId: "v1", etag: "e1" }, { versionId: "v2", etag: "e1" }, true],
        // An identical re-upload has the same ETag but a new version id: still a new version.
        ["same content, new version", { versionId: "v1", etag: "e1" }, { versionId: "v2", etag: "e1" }, true],
        ["unversioned, same ETag", { etag: "e1" }, { etag: "e1" }, false],
        ["unversioned, another ETag", { etag: "e1" }, { etag: "e2" }, true],
        ["S3's \"null\" version compares ETags", { versionId: "null", etag: "e1" }, { versionId: "null", etag: "e2" }, true],
        ["an event naming no version takes the current one", {}, { versionId: "v9", etag: "e9" }, false],
    ];
    for (const [name, event, current, superseded] of table) {
        it(`${name}: ${superseded ? "superseded" : "current"}`, () => assert.equal(supersededReason(event, current) !== undefined, superseded));
    }
});

describe("which StartJobRun errors are retried", () => {
    const named = (name: string) => Object.assign(new Error(name), { name });
    const table: [name: string, retried: boolean][] = [
        ["ConcurrentRunsExceededException", true],
        ["ThrottlingException", true],
        ["TooManyRequestsException", true],
        // Ambiguous: the run may have started; a blind retry could start a duplicate.
        ["InternalServiceException", false],
        ["TimeoutError", false],
        ["EntityNotFoundException", false],
        ["ResourceNumberLimitExceededException", false],
        ["AccessDeniedException", false],
    ];
    for (const [name, retried] of table) {
        it(`${retried ? "retries" : "does not retry"} ${name}`, () => assert.equal(isRetryableStartError(named(name)), retried));
    }

    // What a queue-fed trigger waits out in its queue (capacity) and what it retries at once (rate limits):
    // exactly the errors after which no run was started.
    for (const [name, retried] of table) {
        it(`${retried ? "waits for capacity after" : "fails on"} ${name}, also when the retries gave up on it`, () => {
            assert.equal(isCapacityRefusal(named(name)), retried);
            assert.equal(isCapacityRefusal(new RetriesExhaustedError("StartJobRun", 1, retried ? "attempts" : "not-retryable", named(name))), retried);
        });
    }
    it("retries only rate limits inside a queue-fed invocation", () => {
        assert.deepEqual(table.filter(([name]) => isRateLimitedStart(named(name))).map(([name]) => name), ["ThrottlingException", "TooManyRequestsException"]);
    });
});

describe("trigger configuration", () => {
    const valid = { GLUE_JOB_NAME: "FileProcessorV2-dev", METADATA_TABLE: "etl-pipeline-metadata-dev", OUTPUT_BUCKET: "glue-output-dev-111111111111" };

    it("applies the documented defaults", () => {
        assert.deepEqual(loadTriggerConfig(valid), {
            glueJobName: "FileProcessorV2-dev",
            metadataTable: "etl-pipeline-metadata-dev",
            outputBucket: "glue-output-dev-111111111111",
            fileSuffix: ".csv",
            claimLeaseSeconds: 60,
            startAttempts: 3,
            logLevel: "INFO",
            queueFeed: { requeueBaseDelaySeconds: 30, requeueMaxDelaySeconds: 900, maxWaitAttempts: 100 },
        });
    });

    it("reads the queue feed: the queue to re-send to, the delays and the most waits", () => {
        const config = loadTriggerConfig({
            ...valid,
            QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/111111111111/glue-trigger-dev",
            REQUEUE_BASE_DELAY_SECONDS: "0",
            REQUEUE_MAX_DELAY_SECONDS: "2",
            MAX_WAIT_ATTEMPTS: "500",
        });
        assert.deepEqual(config.queueFeed, {
            queueUrl: "https://sqs.eu-west-1.amazonaws.com/111111111111/glue-trigger-dev",
            requeueBaseDelaySeconds: 0,
            requeueMaxDelaySeconds: 2,
            maxWaitAttempts: 500,
        });
    });

    it("reads every variable, trimming and lower-casing the suffix", () => {
        const config = loadTriggerConfig({ ...valid, FILE_SUFFIX: " .CSV ", CLAIM_LEASE_SECONDS: "120", START_ATTEMPTS: "5", LOG_LEVEL: "debug" });
        assert.equal(config.fileSuffix, ".csv");
        assert.equal(config.claimLeaseSeconds, 120);
        assert.equal(config.startAttempts, 5);
        assert.equal(config.logLevel, "DEBUG");
    });

    const invalid: [name: string, env: Record<string, string | undefined>, message: RegExp][] = [
        ["GLUE_JOB_NAME missing", { ...valid, GLUE_JOB_NAME: undefined }, /GLUE_JOB_NAME is required but not set/],
        ["GLUE_JOB_NAME blank", { ...valid, GLUE_JOB_NAME: "  " }, /GLUE_JOB_NAME is required but not set/],
        ["METADATA_TABLE missing", { ...valid, METADATA_TABLE: undefined }, /METADATA_TABLE is required but not set/],
        ["METADATA_TABLE invalid", { ...valid, METADATA_TABLE: "a b" }, /METADATA_TABLE must be a DynamoDB table name, got "a b"/],
        ["OUTPUT_BUCKET missing", { ...valid, OUTPUT_BUCKET: undefined }, /OUTPUT_BUCKET is required but not set/],
        ["OUTPUT_BUCKET a URI", { ...valid, OUTPUT_BUCKET: "s3://glue-output" }, /OUTPUT_BUCKET must be an S3 bucket name \(not an s3:\/\/ URI\)/],
        ["START_ATTEMPTS not a number", { ...valid, START_ATTEMPTS: "three" }, /START_ATTEMPTS must be an integer between 1 and 10, got "three"/],
        ["START_ATTEMPTS zero", { ...valid, START_ATTEMPTS: "0" }, /START_ATTEMPTS must be an integer between 1 and 10, got "0"/],
        ["START_ATTEMPTS fractional", { ...valid, START_ATTEMPTS: "2.5" }, /START_ATTEMPTS must be an integer/],
        ["CLAIM_LEASE_SECONDS shorter than the function timeout", { ...valid, CLAIM_LEASE_SECONDS: "30" }, /CLAIM_LEASE_SECONDS must be an integer between 31 and 3600, got "30"/],
        ["FILE_SUFFIX with a slash", { ...valid, FILE_SUFFIX: "in/.csv" }, /FILE_SUFFIX must be a file name suffix/],
        ["LOG_LEVEL unknown", { ...valid, LOG_LEVEL: "verbose" }, /LOG_LEVEL must be one of DEBUG, INFO, WARN, ERROR, got "verbose"/],
        ["QUEUE_URL an ARN", { ...valid, QUEUE_URL: "arn:aws:sqs:eu-west-1:111111111111:q" }, /QUEUE_URL must be an SQS queue URL/],
        // SQS refuses a DelaySeconds above 900.
        ["REQUEUE_BASE_DELAY_SECONDS beyond SQS's limit", { ...valid, REQUEUE_BASE_DELAY_SECONDS: "901" }, /REQUEUE_BASE_DELAY_SECONDS must be an integer between 0 and 900, got "901"/],
        ["REQUEUE_MAX_DELAY_SECONDS beyond SQS's limit", { ...valid, REQUEUE_MAX_DELAY_SECONDS: "1000" }, /REQUEUE_MAX_DELAY_SECONDS must be an integer between 0 and 900/],
        ["MAX_WAIT_ATTEMPTS zero", { ...valid, MAX_WAIT_ATTEMPTS: "0" }, /MAX_WAIT_ATTEMPTS must be an integer between 1 and 10000, got "0"/],
    ];
    for (const [name, env, message] of invalid) {
        it(`fails naming the variable when ${name}`, () => {
            assert.throws(() => loadTriggerConfig(env), (err: Error) => err instanceof EnvironmentError && message.test(err.message));
        });
    }

    it("reports every problem at once", () => {
        assert.throws(
            () => loadTriggerConfig({ START_ATTEMPTS: "-1" }),
            (err: Error) => {
                assert.ok(err instanceof EnvironmentError);
                assert.deepEqual(err.problems, [
                    "GLUE_JOB_NAME is required but not set",
                    "METADATA_TABLE is required but not set",
                    "OUTPUT_BUCKET is required but not set",
                    'START_ATTEMPTS must be an integer between 1 and 10, got "-1"',
                ]);
                return true;
            },
        );
    });
});
