/** The ingestion Lambda's pure parts, table-driven: config, run identity and keys, pages, retry decisions. */
import assert from "node:assert/strict";
import {
    HttpStatusError,
    InvalidPageError,
    firstPageUrl,
    isRetryableFetchError,
    nextPageUrl,
    parsePage,
    parseRetryAfter,
} from "../../functions/api-ingest/apiClient";
import { compactUtc, pageKey, parseTimestamp, resolveRun } from "../../functions/api-ingest/bronze";
import { loadIngestConfig, parseApiBaseUrl } from "../../functions/api-ingest/config";
import { apiKeyFromSecretString } from "../../functions/api-ingest/secrets";
import { retryWithBackoff } from "../../functions/shared/retry";

const NOW = new Date("2025-11-05T09:00:00.000Z");

describe("ApiIngestion logic", () => {
    describe("configuration", () => {
        const minimal = { API_BASE_URL: "https://api.example.com/v1/orders", API_KEY_SECRET_ID: "arn:aws:secretsmanager:eu-west-1:111111111111:secret:medallion-api-key-AbCdEf", BRONZE_BUCKET: "glue-output-dev-111111111111" };

        it("has the documented defaults", () => {
            const c = loadIngestConfig(minimal);
            assert.equal(c.apiBaseUrl.toString(), "https://api.example.com/v1/orders");
            assert.deepEqual(
                { ...c, apiBaseUrl: undefined },
                {
                    apiBaseUrl: undefined, apiKeySecretId: minimal.API_KEY_SECRET_ID, apiKeyHeader: "x-api-key", bronzeBucket: minimal.BRONZE_BUCKET,
                    bronzePrefix: "raw/", pageSize: 100, maxPages: 1000, requestTimeoutMs: 10000, fetchAttempts: 4, backoffBaseMs: 500,
                    backoffMaxMs: 20000, secretCacheSeconds: 300, logLevel: "INFO",
                },
            );
        });

        it("names every bad variable at once", () => {
            assert.throws(
                () => loadIngestConfig({ API_BASE_URL: "http://api.example.com", BRONZE_BUCKET: "s3://b", BRONZE_PREFIX: "/raw", FETCH_ATTEMPTS: "0" }),
                (err: any) => {
                    assert.equal(err.name, "EnvironmentError");
                    const text = err.problems.join("\n");
                    for (const re of [/API_BASE_URL must use https/, /API_KEY_SECRET_ID is required/, /BRONZE_BUCKET must be an S3 bucket name/, /BRONZE_PREFIX must be a key prefix/, /FETCH_ATTEMPTS must be an integer between 1 and 10/]) {
                        assert.match(text, re);
                    }
                    return true;
                },
            );
        });

        const urls: [string, string | RegExp][] = [
            ["https://api.example.com/v1/orders?region=eu", "https://api.example.com/v1/orders?region=eu"],
            ["http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1"],
            ["http://localhost/v1", "http://localhost/v1"],
            ["http://api.example.com/v1", /must use https/],
            ["ftp://api.example.com", /must use https/],
            ["https://user:pw@api.example.com", /must not carry credentials/],
            ["https://api.example.com/#x", /fragment/],
            ["api.example.com", /absolute URL/],
        ];
        for (const [raw, expected] of urls) {
            it(`API_BASE_URL ${raw}`, () => {
                if (typeof expected === "string") assert.equal(parseApiBaseUrl(raw).toString(), expected);
                else assert.throws(() => parseApiBaseUrl(raw), expected);
            });
        }
    });

    describe("run identity and keys", () => {
        it("a schedule tick: every delivery and retry of it gets the same prefix, under the tick's day", () => {
            const a = resolveRun({ scheduledTime: "2025-11-05T09:00:00Z", executionName: "a" }, "raw/", NOW, "r1");
            const b = resolveRun({ scheduledTime: "2025-11-05T09:00:00Z", executionName: "b" }, "raw/", new Date("2025-11-06T01:00:00Z"), "r2");
            assert.deepEqual(a, b);
            assert.equal(a.prefix, "raw/2025/11/05/scheduled-20251105T090000Z/");
        });
        it("the tick forwarded inside the execution's input (what the state machine passes)", () => {
            const r = resolveRun({ input: { scheduledTime: "2025-11-05T09:00:00Z" }, executionName: "x", executionStartTime: "2025-11-05T09:00:04Z" }, "raw/", NOW, "r");
            assert.equal(r.prefix, "raw/2025/11/05/scheduled-20251105T090000Z/");
        });
        it("a manual execution: its (sanitised) name and its start day", () => {
            const r = resolveRun({ executionName: "re run/1", executionStartTime: "2025-12-31T23:59:59.999Z" }, "raw/", NOW, "r1");
            assert.equal(r.prefix, "raw/2025/12/31/exec-re_run_1/");
        });
        it("a direct invoke: the time and request id", () => {
            assert.equal(resolveRun({}, "raw/", NOW, "9f0c-11").prefix, "raw/2025/11/05/manual-20251105T090000Z-9f0c-11/");
        });
        it("ignores a scheduled time that is not ISO-8601", () => {
            assert.equal(resolveRun({ scheduledTime: "yesterday" }, "raw/", NOW, "r").runId, "manual-20251105T090000Z-r");
        });
        const stamps: [unknown, string | undefined][] = [
            ["2025-11-05T09:00:00Z", "2025-11-05T09:00:00.000Z"],
            ["2025-11-05T10:00:00+01:00", "2025-11-05T09:00:00.000Z"],
            ["2025-11-05", undefined],
            [12, undefined],
            ["2025-13-45T99:00:00Z", undefined],
        ];
        for (const [value, iso] of stamps) it(`parseTimestamp(${JSON.stringify(value)})`, () => assert.equal(parseTimestamp(value)?.toISOString(), iso));
        it("pageKey pads to five digits and rejects page 0", () => {
            assert.equal(pageKey("raw/x/", 7), "raw/x/page-00007.json");
            assert.throws(() => pageKey("raw/x/", 0), RangeError);
        });
        it("compactUtc", () => assert.equal(compactUtc(new Date("2025-01-02T03:04:05.678Z")), "20250102T030405Z"));
    });

    describe("pages and pagination", () => {
        const here = new URL("https://api.example.com/v1/orders?limit=10");
        it("first page keeps the base URL's own query and sets limit", () => {
            assert.equal(firstPageUrl(new URL("https://api.example.com/v1/orders?region=eu&cursor=old"), 50).toString(), "https://api.example.com/v1/orders?region=eu&limit=50");
        });
        const pages: [string, unknown, string | undefined][] = [
            ["data + next_cursor", { data: [1, 2], next_cursor: "abc" }, "https://api.example.com/v1/orders?limit=10&cursor=abc"],
            ["items + nextCursor number", { items: [1], nextCursor: 20 }, "https://api.example.com/v1/orders?limit=10&cursor=20"],
            ["results + relative next", { results: [1], next: "/v1/orders?page=2" }, "https://api.example.com/v1/orders?page=2"],
            ["records + absolute same-origin next", { records: [1], next: "https://api.example.com/v2/x" }, "https://api.example.com/v2/x"],
            ["last page (null cursor)", { data: [1], next_cursor: null }, undefined],
            ["last page (empty next)", { data: [], next: "" }, undefined],
            ["bare array", [1, 2, 3], undefined],
        ];
        for (const [title, body, next] of pages) {
            it(title, () => {
                const page = parsePage(JSON.stringify(body), here);
                assert.equal(page.next?.toString(), next);
                assert.ok(page.records.length >= 0);
            });
        }
        const bad: [string, string, RegExp][] = [
            ["not JSON", "<html>", /did not answer JSON/],
            ["no record array", JSON.stringify({ data: "x" }), /without a record array/],
            ["a scalar", "42", /not a page/],
            ["next to another origin", JSON.stringify({ data: [], next: "https://other.example/p2" }), /another origin/],
            ["next to another scheme", JSON.stringify({ data: [], next: "http://api.example.com/p2" }), /another origin/],
        ];
        for (const [title, text, re] of bad) it(`rejects ${title}`, () => assert.throws(() => parsePage(text, here), (e: any) => e instanceof InvalidPageError && re.test(e.message)));
        it("nextPageUrl ignores a non-string next", () => assert.equal(nextPageUrl({ next: 3 }, here), undefined));
    });

    describe("retry decisions", () => {
        const cases: [string, unknown, boolean][] = [
            ["429", new HttpStatusError(429, "u", undefined, ""), true],
            ["408", new HttpStatusError(408, "u", undefined, ""), true],
            ["500", new HttpStatusError(500, "u", undefined, ""), true],
            ["503", new HttpStatusError(503, "u", undefined, ""), true],
            ["400", new HttpStatusError(400, "u", undefined, ""), false],
            ["401", new HttpStatusError(401, "u", undefined, ""), false],
            ["404", new HttpStatusError(404, "u", undefined, ""), false],
            ["a timeout", Object.assign(new Error("timed out"), { name: "TimeoutError" }), true],
            ["a network failure", new TypeError("fetch failed"), true],
            ["a bad page", new InvalidPageError("x"), false],
            ["a programming error", new TypeError("x is not a function"), false],
            ["a string", "boom", false],
        ];
        for (const [title, err, retried] of cases) it(`${retried ? "retries" : "does not retry"} ${title}`, () => assert.equal(isRetryableFetchError(err), retried));

        const afters: [string | null, number | undefined][] = [
            ["3", 3000],
            ["0", 0],
            [" 12 ", 12000],
            [new Date(NOW.getTime() + 5000).toUTCString(), 5000],
            [new Date(NOW.getTime() - 5000).toUTCString(), 0],
            ["-1", undefined],
            ["1.5", undefined],
            ["soon", undefined],
            [null, undefined],
        ];
        for (const [value, ms] of afters) it(`Retry-After ${JSON.stringify(value)} → ${ms}`, () => assert.equal(parseRetryAfter(value, NOW), ms));

        it("retryWithBackoff waits the larger of Retry-After and the jittered backoff", async () => {
            const waits: number[] = [];
            let n = 0;
            await retryWithBackoff(
                async () => {
                    n++;
                    if (n < 4) throw Object.assign(new Error("busy"), { after: [5000, 10, undefined][n - 1] });
                    return "ok";
                },
                {
                    operation: "op",
                    maxAttempts: 4,
                    backoff: { baseDelayMs: 1000, maxDelayMs: 10_000 },
                    isRetryable: () => true,
                    retryAfterMs: (e: any) => e.after,
                    random: () => 0.5,
                    sleep: async (ms) => void waits.push(ms),
                },
            );
            assert.deepEqual(waits, [5000, 1000, 2000]);
        });
    });

    describe("the secret's value", () => {
        const values: [string | undefined, string | RegExp][] = [
            ["abc123", "abc123"],
            ["  abc123\n", "abc123"],
            [JSON.stringify({ apiKey: "k1" }), "k1"],
            [JSON.stringify({ api_key: "k2", other: 1 }), "k2"],
            [JSON.stringify({ key: "k3" }), "k3"],
            [JSON.stringify({ token: "x" }), /without a non-empty apiKey\/api_key\/key field/],
            ["{not json", /does not parse/],
            ["", /has no value/],
            [undefined, /has no value.*put-secret-value --secret-id s/],
        ];
        for (const [value, expected] of values) {
            it(`${JSON.stringify(value)}`, () => {
                if (typeof expected === "string") assert.equal(apiKeyFromSecretString("s", value), expected);
                else assert.throws(() => apiKeyFromSecretString("s", value), expected);
            });
        }
    });
});
