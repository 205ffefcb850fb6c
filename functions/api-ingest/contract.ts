/**
 * The ingestion function's contract with the component that deploys it (components/workflow/
 * medallionWorkflow.ts): the environment variables it reads, and the defaults both sides rely on. ./config.ts
 * reads the environment through these names; the component is meant to set it through them too, so the two
 * sides cannot drift apart.
 *
 * Bundled into the Lambda: no Pulumi or AWS SDK imports here.
 */

/** Environment variable names, by the configuration field they fill. */
export const API_INGEST_ENV = {
    /** The endpoint of the first page (required). */
    apiBaseUrl: "API_BASE_URL",
    /** The Secrets Manager secret holding the API key: its ARN or name, never the key (required). */
    apiKeySecretId: "API_KEY_SECRET_ID",
    apiKeyHeader: "API_KEY_HEADER",
    /** The bronze layer's bucket (required). */
    bronzeBucket: "BRONZE_BUCKET",
    bronzePrefix: "BRONZE_PREFIX",
    pageSize: "PAGE_SIZE",
    maxPages: "MAX_PAGES",
    requestTimeoutMs: "REQUEST_TIMEOUT_MS",
    fetchAttempts: "FETCH_ATTEMPTS",
    backoffBaseMs: "BACKOFF_BASE_MS",
    backoffMaxMs: "BACKOFF_MAX_MS",
    secretCacheSeconds: "SECRET_CACHE_SECONDS",
    logLevel: "LOG_LEVEL",
    /** Stamped by every stack so a deployed function says which release it runs; read by nothing at run time. */
    releaseId: "RELEASE_ID",
} as const;

export type ApiIngestEnvName = (typeof API_INGEST_ENV)[keyof typeof API_INGEST_ENV];

/** What the function assumes when a variable is unset. */
export const API_INGEST_DEFAULTS = {
    apiKeyHeader: "x-api-key",
    bronzePrefix: "raw/",
    pageSize: 100,
} as const;
