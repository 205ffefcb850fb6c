/**
 * ApiIngestion's logic: page through the source API and land every page, byte for byte, in the bronze
 * layer; return what the state machine's "data arrived?" choice and the Glue job need.
 *
 * Guarantees:
 * - no page lost: a page that cannot be fetched after the retries fails the whole invocation (Step
 *   Functions then retries it or notifies), never a silent gap;
 * - no page duplicated: keys depend only on the run and the page number (./bronze), so a retried run
 *   overwrites what an earlier attempt wrote;
 * - the API key is read from Secrets Manager, sent only to the API's own origin, and never logged.
 */
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { Logger, LogSink, serialiseError } from "../shared/logger";
import { createClientTracer } from "../shared/tracing";
import { BackoffOptions, RetriesExhaustedError, sleep as realSleep } from "../shared/retry";
import { describeUrl, FetchFn, fetchPageWithRetry, firstPageUrl, HttpStatusError } from "./apiClient";
import { IngestEvent, pageKey, resolveRun } from "./bronze";
import { IngestConfig } from "./config";
import { ApiKeyProvider, SecretsManagerApiKey } from "./secrets";

export const SERVICE_NAME = "api-ingest";

/** At most this many keys are returned to Step Functions (its payloads are limited to 256 KB). */
export const MAX_KEYS_IN_RESULT = 200;

/**
 * Time kept free after a backoff delay, beyond the request's own timeout, for writing the page and
 * returning: the invocation then ends with our error instead of Lambda's timeout.
 */
export const DEFAULT_RESERVE_MS = 5000;

/** What the function returns: the state machine's `$.ingest`. */
export interface IngestResult {
    readonly runId: string;
    /** `YYYY-MM-DD`: the UTC day the run's data belongs to. */
    readonly runDate: string;
    readonly bucket: string;
    /** `s3://bucket/<bronze prefix>YYYY/MM/DD/<run id>/` */
    readonly prefix: string;
    readonly pagesFetched: number;
    /** Pages written (empty pages are not written). */
    readonly objectCount: number;
    readonly recordCount: number;
    /** `recordCount > 0`: what the choice state branches on. */
    readonly hasData: boolean;
    /** Keys written, at most {@link MAX_KEYS_IN_RESULT}. */
    readonly objectKeys: readonly string[];
    readonly objectKeysTruncated: boolean;
    /** Requests retried over the whole run (429, 5xx, timeouts). */
    readonly retries: number;
    readonly startedAt: string;
    readonly finishedAt: string;
}

/** The only context fields used; the Lambda runtime's Context satisfies it. */
export interface InvocationContext {
    readonly awsRequestId?: string;
    getRemainingTimeInMillis?(): number;
}

export interface IngestDeps {
    readonly config: IngestConfig;
    readonly s3: S3Client;
    readonly apiKey: ApiKeyProvider & { invalidate?(): void };
    readonly fetch: FetchFn;
    readonly logger: Logger;
    readonly backoff: BackoffOptions;
    readonly reserveMs: number;
    readonly sleep: (ms: number) => Promise<void>;
    readonly random: () => number;
    readonly now: () => Date;
}

export interface IngestDepsOverrides extends Partial<Omit<IngestDeps, "config">> {
    /** Where log lines go when no `logger` is given. */
    readonly logSink?: LogSink;
    readonly secretsManager?: SecretsManagerClient;
}

/**
 * The clients and collaborators, built once per cold start. SDK clients honour AWS_ENDPOINT_URL, which is
 * how the tests point them at the emulator.
 */
export function createIngestDeps(config: IngestConfig, overrides: IngestDepsOverrides = {}): IngestDeps {
    const requestHandler = { connectionTimeout: 3000, requestTimeout: 15_000 };
    const tracer = createClientTracer(SERVICE_NAME);
    const s3 = overrides.s3 ?? tracer.trace(new S3Client({ requestHandler }));
    const secretsManager = overrides.secretsManager ?? tracer.trace(new SecretsManagerClient({ requestHandler }));
    return {
        config,
        s3,
        apiKey: overrides.apiKey ?? new SecretsManagerApiKey(secretsManager, config.apiKeySecretId, config.secretCacheSeconds),
        fetch: overrides.fetch ?? globalThis.fetch,
        logger: overrides.logger ?? new Logger({ service: SERVICE_NAME, level: config.logLevel, sink: overrides.logSink }),
        backoff: overrides.backoff ?? { baseDelayMs: config.backoffBaseMs, maxDelayMs: config.backoffMaxMs },
        reserveMs: overrides.reserveMs ?? DEFAULT_RESERVE_MS,
        sleep: overrides.sleep ?? realSleep,
        random: overrides.random ?? Math.random,
        now: overrides.now ?? (() => new Date()),
    };
}

/** The run went on for more pages than allowed, or the API sent the same page twice in a row of links. */
export class PaginationError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "PaginationError";
    }
}

/**
 * Fetches every page of one run and writes the non-empty ones to bronze.
 * @throws RetriesExhaustedError (a page could not be fetched), PaginationError, ApiKeyMissingError, or an
 * S3 error: each fails the invocation so that Step Functions retries it or reports it.
 */
export async function runIngestion(event: IngestEvent | null | undefined, context: InvocationContext | undefined, deps: IngestDeps): Promise<IngestResult> {
    const { config } = deps;
    const started = deps.now();
    const requestId = context?.awsRequestId ?? "local";
    const remainingMs = () => context?.getRemainingTimeInMillis?.() ?? Number.POSITIVE_INFINITY;
    const run = resolveRun(event ?? {}, config.bronzePrefix, started, requestId);
    const log = deps.logger.child({ aws_request_id: requestId, run_id: run.runId });
    log.info("ingestion started", { api: describeUrl(config.apiBaseUrl), bucket: config.bronzeBucket, prefix: run.prefix });

    const apiKey = await deps.apiKey.apiKey();
    const keys: string[] = [];
    const seen = new Set<string>();
    let url: URL | undefined = firstPageUrl(config.apiBaseUrl, config.pageSize);
    let pagesFetched = 0;
    let recordCount = 0;
    let retries = 0;

    while (url !== undefined) {
        if (pagesFetched >= config.maxPages) {
            throw new PaginationError(`the API still had pages after MAX_PAGES=${config.maxPages}; raise it if this volume is expected`);
        }
        if (seen.has(url.toString())) throw new PaginationError(`the API linked back to a page already fetched (${describeUrl(url)}); stopping instead of looping`);
        seen.add(url.toString());
        const pageNumber = pagesFetched + 1;
        let fetched;
        try {
            fetched = await fetchPageWithRetry(url, {
                fetch: deps.fetch,
                apiKeyHeader: config.apiKeyHeader,
                apiKey,
                timeoutMs: config.requestTimeoutMs,
                now: deps.now,
                attempts: config.fetchAttempts,
                backoff: deps.backoff,
                sleep: deps.sleep,
                random: deps.random,
                remainingMs,
                reserveMs: deps.reserveMs,
                onRetry: ({ attempt, delayMs, error }) => {
                    retries++;
                    log.warn("page request failed, retrying", {
                        page: pageNumber,
                        attempt,
                        delay_ms: delayMs,
                        http_status: error instanceof HttpStatusError ? error.status : undefined,
                        retry_after_ms: error instanceof HttpStatusError ? error.retryAfterMs : undefined,
                        error: serialiseError(error),
                    });
                },
            });
        } catch (err) {
            const last = err instanceof RetriesExhaustedError ? err.lastError : err;
            // A rejected key may have been rotated since it was cached: the next invocation reads it afresh.
            if (last instanceof HttpStatusError && (last.status === 401 || last.status === 403)) deps.apiKey.invalidate?.();
            log.error("page could not be fetched; failing the run so that no page is skipped", { page: pageNumber, error: serialiseError(err) });
            throw err;
        }
        pagesFetched = pageNumber;
        const count = fetched.page.records.length;
        if (count > 0) {
            const key = pageKey(run.prefix, pageNumber);
            const body = Buffer.from(fetched.text, "utf8");
            await deps.s3.send(
                new PutObjectCommand({
                    Bucket: config.bronzeBucket,
                    Key: key,
                    Body: body,
                    ContentLength: body.byteLength,
                    ContentType: "application/json",
                    Metadata: { "run-id": run.runId, page: String(pageNumber), "record-count": String(count) },
                }),
            );
            keys.push(key);
            recordCount += count;
        }
        log.debug("page landed", { page: pageNumber, records: count, attempts: fetched.attempts, written: count > 0 });
        url = fetched.page.next;
    }

    const finished = deps.now();
    const result: IngestResult = {
        runId: run.runId,
        runDate: run.runDate.toISOString().slice(0, 10),
        bucket: config.bronzeBucket,
        prefix: `s3://${config.bronzeBucket}/${run.prefix}`,
        pagesFetched,
        objectCount: keys.length,
        recordCount,
        hasData: recordCount > 0,
        objectKeys: keys.slice(0, MAX_KEYS_IN_RESULT),
        objectKeysTruncated: keys.length > MAX_KEYS_IN_RESULT,
        retries,
        startedAt: started.toISOString(),
        finishedAt: finished.toISOString(),
    };
    log.info("ingestion finished", {
        pages_fetched: pagesFetched,
        objects_written: keys.length,
        records: recordCount,
        retries,
        duration_ms: finished.getTime() - started.getTime(),
    });
    return result;
}
