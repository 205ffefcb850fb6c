/**
 * The ingestion Lambda's configuration, read from its environment once per cold start.
 *
 * The API key is deliberately not here: only the *name* of the secret that holds it is. The key itself is
 * read from Secrets Manager at run time (see ./secrets), so it never sits in the function's configuration,
 * in the stack's state, or in the code.
 */
import { Env, readEnv, S3_BUCKET_NAME } from "../shared/env";
import { LogLevel, parseLogLevel } from "../shared/logger";
import { API_INGEST_DEFAULTS as DEFAULTS, API_INGEST_ENV as ENV } from "./contract";

export interface IngestConfig {
    /** The endpoint of the first page, e.g. `https://api.example.com/v1/orders`. */
    readonly apiBaseUrl: URL;
    /** ARN (or name) of the Secrets Manager secret holding the API key. */
    readonly apiKeySecretId: string;
    /** Header the key is sent in. */
    readonly apiKeyHeader: string;
    /** Bucket of the bronze layer. */
    readonly bronzeBucket: string;
    /** Key prefix of the bronze layer, ending in `/` (pages go under `<prefix>YYYY/MM/DD/<run>/`). */
    readonly bronzePrefix: string;
    /** Records asked for per page (`limit` query parameter). */
    readonly pageSize: number;
    /** A run that would fetch more pages than this fails: protects against an API that paginates forever. */
    readonly maxPages: number;
    /** Abort one HTTP request (headers and body) after this long; a slow answer is then retried. */
    readonly requestTimeoutMs: number;
    /** Attempts per page, including the first (the requirement: "retry 3 times with exponential backoff"). */
    readonly fetchAttempts: number;
    /** Backoff ceiling of the first retry; doubles per retry up to `backoffMaxMs`. */
    readonly backoffBaseMs: number;
    readonly backoffMaxMs: number;
    /** How long a fetched API key is reused before Secrets Manager is asked again (rotation takes effect). */
    readonly secretCacheSeconds: number;
    readonly logLevel: LogLevel;
}

/** HTTP header names (RFC 9110 tokens). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;
const SECRET_ID = /^[A-Za-z0-9/_+=.@:-]{1,2048}$/;
const PREFIX = /^(?:[A-Za-z0-9!_.*'()-]+\/)+$/;

/**
 * The API base URL: https, or http only to a loopback host (tests, local mocks). Sending an API key over
 * plain HTTP to anything else would hand it to every hop on the way.
 */
export function parseApiBaseUrl(raw: string | undefined): URL {
    if (raw === undefined) throw new Error(`${ENV.apiBaseUrl} is required but not set`);
    let url: URL;
    try {
        url = new URL(raw);
    } catch {
        throw new Error(`${ENV.apiBaseUrl} must be an absolute URL, got "${raw}"`);
    }
    const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
    if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) {
        throw new Error(`${ENV.apiBaseUrl} must use https (http is accepted only for a loopback host), got "${raw}"`);
    }
    if (url.username || url.password) throw new Error(`${ENV.apiBaseUrl} must not carry credentials; the key comes from Secrets Manager`);
    if (url.hash) throw new Error(`${ENV.apiBaseUrl} must not have a #fragment, got "${raw}"`);
    return url;
}

/**
 * Reads and validates the environment.
 * @throws EnvironmentError naming every missing or invalid variable.
 */
export function loadIngestConfig(env: Env): IngestConfig {
    return readEnv(env, (r) => {
        const backoffBaseMs = r.int(ENV.backoffBaseMs, { default: 500, min: 1, max: 60_000 });
        return {
            apiBaseUrl: r.parse(ENV.apiBaseUrl, parseApiBaseUrl, new URL("https://invalid.example")),
            apiKeySecretId: r.string(ENV.apiKeySecretId, { pattern: SECRET_ID, describe: "a Secrets Manager secret ARN or name" }),
            apiKeyHeader: r.string(ENV.apiKeyHeader, { default: DEFAULTS.apiKeyHeader, pattern: HEADER_NAME, describe: "an HTTP header name" }),
            bronzeBucket: r.string(ENV.bronzeBucket, { pattern: S3_BUCKET_NAME, describe: "an S3 bucket name (not an s3:// URI)" }),
            bronzePrefix: r.string(ENV.bronzePrefix, {
                default: DEFAULTS.bronzePrefix,
                pattern: PREFIX,
                describe: "a key prefix such as raw/ (no leading '/', ending in '/')",
            }),
            pageSize: r.int(ENV.pageSize, { default: DEFAULTS.pageSize, min: 1, max: 10_000 }),
            maxPages: r.int(ENV.maxPages, { default: 1000, min: 1, max: 100_000 }),
            requestTimeoutMs: r.int(ENV.requestTimeoutMs, { default: 10_000, min: 100, max: 120_000 }),
            fetchAttempts: r.int(ENV.fetchAttempts, { default: 4, min: 1, max: 10 }),
            backoffBaseMs,
            backoffMaxMs: r.int(ENV.backoffMaxMs, { default: 20_000, min: backoffBaseMs, max: 120_000 }),
            secretCacheSeconds: r.int(ENV.secretCacheSeconds, { default: 300, min: 0, max: 3600 }),
            logLevel: r.parse(ENV.logLevel, (raw) => parseLogLevel(raw), "INFO"),
        };
    });
}
