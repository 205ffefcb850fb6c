/**
 * The ingestion Lambda end to end: a real paginated HTTP API on loopback that rate-limits, fails and
 * stalls on demand (./support/fakeApi), the API key in Secrets Manager and the bronze bucket in S3 on the
 * AWS emulator (moto over HTTP). Clients are built exactly as the handler builds them (from process.env);
 * tests replace only the backoff sleep (recorded, so waits are asserted without being slept) and the
 * logger (captured). One test sleeps for real to prove Retry-After is honoured on the wire.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { IngestConfig } from "../../functions/api-ingest/config";
import type { IngestDeps, IngestResult } from "../../functions/api-ingest/ingest";
import { Logger } from "../../functions/shared/logger";
import { EMULATOR_REGION, useEmulator } from "../support/emulator";
import { FakeApi, orders } from "./support/fakeApi";

type IngestModule = typeof import("../../functions/api-ingest/ingest");

const BUCKET = "glue-output-test-123456789012";
const SECRET = "medallion/api-key-test";
const KEY = "k3y-s3cr3t-value";
/** A schedule tick: every attempt of this run writes under raw/2025/11/05/scheduled-20251105T090000Z/. */
const TICK = { scheduledTime: "2025-11-05T09:00:00Z", executionName: "exec-1", executionStartTime: "2025-11-05T09:00:02.123Z" };
const RUN_PREFIX = "medallion/raw/2025/11/05/scheduled-20251105T090000Z/";

function context(remainingMs = 300_000) {
    const deadline = Date.now() + remainingMs;
    return { awsRequestId: "req-1", getRemainingTimeInMillis: () => deadline - Date.now() };
}

describe("ApiIngestion against a flaky API, Secrets Manager and S3 on the emulator", function () {
    this.timeout(30_000);
    const aws = useEmulator();
    let ingest: IngestModule;
    let api: FakeApi;
    let secrets: SecretsManagerClient;
    let lines: Record<string, any>[];
    let sleeps: number[];

    const config = (overrides: Partial<IngestConfig> = {}): IngestConfig => ({
        apiBaseUrl: new URL(api.url),
        apiKeySecretId: SECRET,
        apiKeyHeader: "x-api-key",
        bronzeBucket: BUCKET,
        bronzePrefix: "medallion/raw/",
        pageSize: 4,
        maxPages: 50,
        requestTimeoutMs: 300,
        fetchAttempts: 4,
        backoffBaseMs: 500,
        backoffMaxMs: 8000,
        secretCacheSeconds: 300,
        logLevel: "DEBUG",
        ...overrides,
    });

    /** Deps as the handler builds them, with a recording sleep and a capturing logger. */
    const deps = (c: IngestConfig = config(), extra: Partial<IngestDeps> = {}): IngestDeps =>
        ingest.createIngestDeps(c, {
            sleep: async (ms) => {
                sleeps.push(ms);
            },
            random: () => 0.5,
            logger: new Logger({ service: "api-ingest", level: "DEBUG", sink: (l) => lines.push(JSON.parse(l)) }),
            ...extra,
        });

    const listKeys = async (prefix = "medallion/raw/"): Promise<string[]> => {
        const out = await aws.clients.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
        return (out.Contents ?? []).map((o) => o.Key!).sort();
    };
    const objectText = async (key: string): Promise<string> => {
        const out = await aws.clients.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
        return out.Body!.transformToString();
    };
    /** Every record landed in bronze, in key order. */
    const landedRecords = async (): Promise<Record<string, unknown>[]> => {
        const records: Record<string, unknown>[] = [];
        for (const key of await listKeys()) records.push(...JSON.parse(await objectText(key)).data);
        return records;
    };

    before(() => {
        // After useEmulator's before hook: the SDK clients the module builds must see AWS_ENDPOINT_URL.
        ingest = require("../../functions/api-ingest/ingest");
        secrets = new SecretsManagerClient({ endpoint: aws.endpoint, region: EMULATOR_REGION, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
    });

    beforeEach(async () => {
        lines = [];
        sleeps = [];
        await aws.createBucket(BUCKET, { versioned: true });
        await secrets.send(new CreateSecretCommand({ Name: SECRET, SecretString: KEY }));
        api = new FakeApi({ records: orders(10), apiKey: KEY });
        await api.start();
    });

    afterEach(() => api.stop());

    describe("a healthy API", () => {
        let result: IngestResult;
        beforeEach(async () => {
            result = await ingest.runIngestion(TICK, context(), deps());
        });

        it("follows the cursor through every page and lands each page byte for byte under raw/YYYY/MM/DD/<run>/", async () => {
            assert.deepEqual(api.requests.map((r) => [r.page, r.query.limit, r.outcome]), [
                [0, "4", "ok"],
                [1, "4", "ok"],
                [2, "4", "ok"],
            ]);
            const keys = await listKeys();
            assert.deepEqual(keys, [1, 2, 3].map((n) => `${RUN_PREFIX}page-0000${n}.json`));
            for (const [i, key] of keys.entries()) assert.equal(await objectText(key), api.pageBody(i, 4));
            assert.deepEqual(await landedRecords(), orders(10));
        });

        it("sends the key from Secrets Manager in x-api-key, and never logs it", () => {
            assert.ok(api.requests.every((r) => r.apiKey === KEY));
            assert.ok(lines.length > 0);
            assert.ok(!JSON.stringify(lines).includes(KEY), "the key appears in a log line");
        });

        it("returns what the choice and the Glue job need", () => {
            assert.deepEqual(result, {
                runId: "scheduled-20251105T090000Z",
                runDate: "2025-11-05",
                bucket: BUCKET,
                prefix: `s3://${BUCKET}/${RUN_PREFIX}`,
                pagesFetched: 3,
                objectCount: 3,
                recordCount: 10,
                hasData: true,
                objectKeys: [1, 2, 3].map((n) => `${RUN_PREFIX}page-0000${n}.json`),
                objectKeysTruncated: false,
                retries: 0,
                startedAt: result.startedAt,
                finishedAt: result.finishedAt,
            });
        });

        it("tags each page with its run, number and record count", async () => {
            const head = await aws.clients.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${RUN_PREFIX}page-00003.json` }));
            assert.deepEqual(head.Metadata, { "run-id": "scheduled-20251105T090000Z", page: "3", "record-count": "2" });
            assert.equal(head.ContentType, "application/json");
        });
    });

    describe("an API that fails intermittently", () => {
        it("retries 429, 500, 503 and a slow answer, and lands every page exactly once", async () => {
            api.inject(0, { status: 429, retryAfter: "2" });
            api.inject(1, { status: 500 }, { delayMs: 2000 }, { status: 503 });
            api.inject(2, { delayMs: 2000 });
            const result = await ingest.runIngestion(TICK, context(), deps());

            assert.deepEqual(api.requestsFor(0).map((r) => r.outcome), ["429", "ok"]);
            assert.deepEqual(api.requestsFor(1).map((r) => r.outcome), ["500", "slow", "503", "ok"]);
            assert.deepEqual(api.requestsFor(2).map((r) => r.outcome), ["slow", "ok"]);
            assert.equal(result.retries, 5);
            assert.equal(result.recordCount, 10);
            assert.deepEqual(await landedRecords(), orders(10), "no record lost, none duplicated");
            assert.equal((await listKeys()).length, 3);
        });

        it("honours Retry-After over a shorter backoff, and backs off exponentially with jitter otherwise", async () => {
            api.inject(0, { status: 429, retryAfter: "7" });
            api.inject(1, { status: 500 }, { status: 502 }, { status: 504 });
            await ingest.runIngestion(TICK, context(), deps());
            // random() = 0.5: full jitter gives half of each ceiling (500, 1000, 2000 ms); 429 asked for 7 s.
            assert.deepEqual(sleeps, [7000, 250, 500, 1000]);
            const warned = lines.filter((l) => l.message === "page request failed, retrying");
            assert.deepEqual(warned.map((l) => [l.page, l.http_status, l.delay_ms]), [
                [1, 429, 7000],
                [2, 500, 250],
                [2, 502, 500],
                [2, 504, 1000],
            ]);
            assert.equal(warned[0].retry_after_ms, 7000);
        });

        it("accepts Retry-After as an HTTP date", async () => {
            const inThree = new Date(Date.now() + 3000).toUTCString();
            api.inject(0, { status: 503, retryAfter: inThree });
            await ingest.runIngestion(TICK, context(), deps());
            assert.equal(sleeps.length, 1);
            assert.ok(sleeps[0] > 1000 && sleeps[0] <= 3000, `waited ${sleeps[0]} ms for a date ~3 s ahead`);
        });

        it("really waits what Retry-After asks before asking again (real sleep)", async function () {
            api.inject(1, { status: 429, retryAfter: "1" });
            await ingest.runIngestion(TICK, context(), ingest.createIngestDeps(config(), { logSink: () => undefined }));
            const [refused, retried] = api.requestsFor(1);
            assert.equal(refused.outcome, "429");
            assert.ok(retried.at - refused.at >= 1000, `asked again after ${retried.at - refused.at} ms`);
        });

        it("fails the run when a page keeps failing, and a retry of the run completes without duplicating a page", async () => {
            api.inject(1, { status: 500 }, { status: 500 }, { status: 500 }, { status: 500 });
            await assert.rejects(ingest.runIngestion(TICK, context(), deps()), (err: any) => {
                assert.equal(err.name, "RetriesExhaustedError");
                assert.equal(err.reason, "attempts");
                assert.match(err.message, /GET http:\/\/127\.0\.0\.1:\d+\/v1\/orders failed after 4 attempt\(s\): HttpStatusError: .*HTTP 500/);
                return true;
            });
            assert.deepEqual(await listKeys(), [`${RUN_PREFIX}page-00001.json`], "the page before the failure is kept");
            assert.ok(lines.some((l) => l.level === "ERROR" && l.page === 2));

            // Step Functions retries the task: the same tick, so the same keys.
            const result = await ingest.runIngestion(TICK, context(), deps());
            assert.equal(result.recordCount, 10);
            assert.deepEqual(await listKeys(), [1, 2, 3].map((n) => `${RUN_PREFIX}page-0000${n}.json`));
            assert.deepEqual(await landedRecords(), orders(10));
        });

        it("stops retrying early when Retry-After asks for more time than the invocation has left", async () => {
            api.inject(0, { status: 429, retryAfter: "120" });
            await assert.rejects(ingest.runIngestion(TICK, context(60_000), deps()), (err: any) => err.name === "RetriesExhaustedError" && err.reason === "time-budget");
            assert.deepEqual(sleeps, []);
            assert.equal(api.requests.length, 1);
        });

        it("does not retry a rejected key (401), and reads the secret again next time", async () => {
            await secrets.send(new PutSecretValueCommand({ SecretId: SECRET, SecretString: "wrong" }));
            const d = deps();
            await assert.rejects(ingest.runIngestion(TICK, context(), d), /HTTP 401/);
            assert.equal(api.requests.length, 1);
            await secrets.send(new PutSecretValueCommand({ SecretId: SECRET, SecretString: JSON.stringify({ apiKey: KEY }) }));
            const result = await ingest.runIngestion(TICK, context(), d);
            assert.equal(result.recordCount, 10);
        });

        it("does not retry an answer that is not a page", async () => {
            api.inject(0, { garbage: "<html>maintenance</html>" });
            await assert.rejects(ingest.runIngestion(TICK, context(), deps()), (err: any) => err.reason === "not-retryable" && /did not answer JSON/.test(err.message));
            assert.equal(api.requests.length, 1);
        });
    });

    describe("edge cases", () => {
        it("an API with no new records: hasData false, nothing written", async () => {
            api.serve([]);
            const result = await ingest.runIngestion(TICK, context(), deps());
            assert.equal(result.hasData, false);
            assert.equal(result.recordCount, 0);
            assert.equal(result.pagesFetched, 1);
            assert.deepEqual(result.objectKeys, []);
            assert.deepEqual(await listKeys(), []);
        });

        it("follows relative next links as well as cursors", async () => {
            await api.stop();
            api = new FakeApi({ records: orders(9), apiKey: KEY, pagination: "link" });
            await api.start();
            const result = await ingest.runIngestion(TICK, context(), deps());
            assert.equal(result.pagesFetched, 3);
            assert.deepEqual(await landedRecords(), orders(9));
        });

        it("refuses a next link to another origin (the key would go with it)", async () => {
            await api.stop();
            api = new FakeApi({ records: orders(9), apiKey: KEY, pagination: "link", nextLink: () => "https://evil.example/steal" });
            await api.start();
            await assert.rejects(ingest.runIngestion(TICK, context(), deps()), /refusing to follow next link to https:\/\/evil\.example/);
            assert.equal(api.requests.length, 1);
        });

        it("a secret created without a value: fails naming the command that sets it", async () => {
            const empty = "medallion/never-set";
            await secrets.send(new CreateSecretCommand({ Name: empty }));
            await assert.rejects(
                ingest.runIngestion(TICK, context(), deps(config({ apiKeySecretId: empty }))),
                (err: any) => err.name === "ApiKeyMissingError" && err.message.includes(`aws secretsmanager put-secret-value --secret-id ${empty}`),
            );
            assert.equal(api.requests.length, 0);
        });

        it("a manual execution writes under its execution name and start day", async () => {
            const result = await ingest.runIngestion({ executionName: "backfill:2025-10-01", executionStartTime: "2025-10-01T12:00:00Z" }, context(), deps());
            assert.equal(result.runId, "exec-backfill_2025-10-01");
            assert.equal((await listKeys())[0], "medallion/raw/2025/10/01/exec-backfill_2025-10-01/page-00001.json");
        });

        it("fails instead of looping on an API that never stops paginating", async () => {
            await assert.rejects(ingest.runIngestion(TICK, context(), deps(config({ maxPages: 2 }))), /MAX_PAGES=2/);
        });
    });

    describe("the shipped bundle", () => {
        it("handler.ts bundled by esbuild runs from its environment alone", async () => {
            const { bundleFunction } = require("../../components/compute/lambdaBundle") as typeof import("../../components/compute/lambdaBundle");
            const bundle = bundleFunction("functions/api-ingest/handler.ts");
            const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "api-ingest-")), "index.js");
            fs.writeFileSync(file, bundle.code);
            const env = { API_BASE_URL: api.url, API_KEY_SECRET_ID: SECRET, BRONZE_BUCKET: BUCKET, BRONZE_PREFIX: "medallion/raw/", PAGE_SIZE: "5", LOG_LEVEL: "ERROR" };
            const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
            Object.assign(process.env, env);
            try {
                const { handler } = require(file);
                const result = await handler(TICK, context());
                assert.equal(result.recordCount, 10);
                assert.equal(result.pagesFetched, 2);
                assert.deepEqual(await landedRecords(), orders(10));
            } finally {
                for (const [k, v] of Object.entries(saved)) {
                    if (v === undefined) delete process.env[k];
                    else process.env[k] = v;
                }
            }
        });
    });
});
