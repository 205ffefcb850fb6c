/**
 * Fetching one page of the source API: the request, what counts as a transient failure, how long to wait
 * before trying again, and how to find the next page.
 *
 * Pagination contract (the sample API in samples/api/ follows it): a page is a JSON object whose records
 * are in the first array found under `data`, `items`, `results` or `records` (or the page is itself an
 * array). The next page is named by either `next` (a URL, absolute or relative to the current page) or
 * `next_cursor`/`nextCursor` (a token sent back as the `cursor` query parameter). No next means last page.
 */
import { BackoffOptions, retryWithBackoff, RetriesExhaustedError } from "../shared/retry";

/** Fields that may hold a page's records, in the order they are looked for. */
export const RECORD_FIELDS: readonly string[] = ["data", "items", "results", "records"];
/** Query parameters the function owns on the first page: page size and cursor. */
export const LIMIT_PARAM = "limit";
export const CURSOR_PARAM = "cursor";

/** The API answered with a status that is not 2xx. */
export class HttpStatusError extends Error {
    constructor(
        readonly status: number,
        readonly url: string,
        /** What the answer's Retry-After asked for, in ms. */
        readonly retryAfterMs: number | undefined,
        detail: string,
    ) {
        super(`GET ${url} answered HTTP ${status}${detail ? `: ${detail}` : ""}`);
        this.name = "HttpStatusError";
    }
}

/** The API answered 2xx with something that is not a page (not JSON, no record array, a foreign next link). */
export class InvalidPageError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "InvalidPageError";
    }
}

/**
 * Whether a failed request is worth repeating: 429 (rate limit), 408 and 5xx (the server's trouble),
 * timeouts and network errors. Other 4xx (a wrong key, a wrong URL) will fail the same way again.
 */
export function isRetryableFetchError(err: unknown): boolean {
    if (err instanceof HttpStatusError) return err.status === 429 || err.status === 408 || err.status >= 500;
    if (err instanceof InvalidPageError) return false;
    if (err instanceof Error) {
        // AbortSignal.timeout → TimeoutError; undici's network failures → TypeError("fetch failed").
        return err.name === "TimeoutError" || err.name === "AbortError" || (err.name === "TypeError" && /fetch failed|terminated|socket/i.test(err.message));
    }
    return false;
}

/**
 * Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP-date. Returns the wait in ms (0 for a date in
 * the past), or undefined when absent or unparseable.
 */
export function parseRetryAfter(value: string | null | undefined, now: Date): number | undefined {
    if (value === null || value === undefined) return undefined;
    const trimmed = value.trim();
    if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
    if (!/[A-Za-z]/.test(trimmed)) return undefined;
    const at = Date.parse(trimmed);
    if (Number.isNaN(at)) return undefined;
    return Math.max(0, at - now.getTime());
}

/** The first page's URL: the base URL with `limit` set (other query parameters of the base are kept). */
export function firstPageUrl(base: URL, pageSize: number): URL {
    const url = new URL(base.toString());
    url.searchParams.set(LIMIT_PARAM, String(pageSize));
    url.searchParams.delete(CURSOR_PARAM);
    return url;
}

/** The URL without its query string, for logs and errors (cursors can be long and are not interesting). */
export function describeUrl(url: URL | string): string {
    const u = new URL(url.toString());
    return `${u.origin}${u.pathname}`;
}

export interface ParsedPage {
    readonly records: readonly unknown[];
    /** The next page, or undefined on the last page. */
    readonly next?: URL;
}

/**
 * Parses a page's text and finds its records and its successor.
 * @throws InvalidPageError when the text is not a page, or `next` points at another origin (the API key
 * is sent with every request, so following it would hand the key to a third party).
 */
export function parsePage(text: string, current: URL): ParsedPage {
    let body: unknown;
    try {
        body = JSON.parse(text);
    } catch {
        throw new InvalidPageError(`${describeUrl(current)} did not answer JSON (${text.length} bytes starting ${JSON.stringify(text.slice(0, 40))})`);
    }
    if (Array.isArray(body)) return { records: body };
    if (body === null || typeof body !== "object") throw new InvalidPageError(`${describeUrl(current)} answered ${JSON.stringify(body)}, not a page`);
    const page = body as Record<string, unknown>;
    const field = RECORD_FIELDS.find((f) => Array.isArray(page[f]));
    if (field === undefined) {
        throw new InvalidPageError(`${describeUrl(current)} answered an object without a record array (looked for ${RECORD_FIELDS.join(", ")})`);
    }
    return { records: page[field] as unknown[], next: nextPageUrl(page, current) };
}

/** The next page from a page's `next` link or cursor; undefined when there is none. */
export function nextPageUrl(page: Record<string, unknown>, current: URL): URL | undefined {
    const link = page.next;
    if (typeof link === "string" && link.trim() !== "") {
        let next: URL;
        try {
            next = new URL(link, current);
        } catch {
            throw new InvalidPageError(`next link ${JSON.stringify(link)} is not a URL`);
        }
        if (next.origin !== current.origin) {
            throw new InvalidPageError(`refusing to follow next link to ${next.origin}: the API key would be sent to another origin than ${current.origin}`);
        }
        return next;
    }
    const cursor = page.next_cursor ?? page.nextCursor;
    if (typeof cursor === "string" && cursor !== "") {
        const next = new URL(current.toString());
        next.searchParams.set(CURSOR_PARAM, cursor);
        return next;
    }
    if (typeof cursor === "number") {
        const next = new URL(current.toString());
        next.searchParams.set(CURSOR_PARAM, String(cursor));
        return next;
    }
    return undefined;
}

export type FetchFn = typeof fetch;

export interface FetchPageOptions {
    readonly fetch: FetchFn;
    readonly apiKeyHeader: string;
    readonly apiKey: string;
    readonly timeoutMs: number;
    readonly now: () => Date;
}

/**
 * One GET of one page. The timeout covers the headers and the whole body. Redirects are refused rather
 * than followed: fetch keeps custom headers such as `x-api-key` across a cross-origin redirect.
 * @returns the body text of a 2xx answer
 * @throws HttpStatusError for any other status, TimeoutError/TypeError from fetch for transport failures
 */
export async function getPage(url: URL, options: FetchPageOptions): Promise<string> {
    const signal = AbortSignal.timeout(options.timeoutMs);
    const response = await options.fetch(url, {
        method: "GET",
        headers: { accept: "application/json", [options.apiKeyHeader]: options.apiKey },
        redirect: "error",
        signal,
    });
    const text = await response.text();
    if (response.status >= 200 && response.status < 300) return text;
    throw new HttpStatusError(
        response.status,
        describeUrl(url),
        parseRetryAfter(response.headers.get("retry-after"), options.now()),
        text.slice(0, 200).replace(/\s+/g, " ").trim(),
    );
}

export interface FetchWithRetryOptions extends FetchPageOptions {
    readonly attempts: number;
    readonly backoff: BackoffOptions;
    readonly sleep: (ms: number) => Promise<void>;
    readonly random: () => number;
    /** Milliseconds the invocation has left. */
    readonly remainingMs: () => number;
    /** Time kept free after a delay for the request itself and writing the page. */
    readonly reserveMs: number;
    readonly onRetry?: (info: { readonly attempt: number; readonly delayMs: number; readonly error: unknown }) => void;
}

/**
 * A page fetched and parsed, retrying transient failures with full-jitter exponential backoff and
 * honouring Retry-After. An answer that parses as no page is not retried (it would parse the same way).
 * @throws RetriesExhaustedError with the last error as cause
 */
export async function fetchPageWithRetry(url: URL, options: FetchWithRetryOptions): Promise<{ text: string; page: ParsedPage; attempts: number }> {
    let attempts = 0;
    const result = await retryWithBackoff(
        async (attempt) => {
            attempts = attempt;
            const text = await getPage(url, options);
            return { text, page: parsePage(text, url) };
        },
        {
            operation: `GET ${describeUrl(url)}`,
            maxAttempts: options.attempts,
            backoff: options.backoff,
            isRetryable: isRetryableFetchError,
            retryAfterMs: (err) => (err instanceof HttpStatusError ? err.retryAfterMs : undefined),
            sleep: options.sleep,
            random: options.random,
            remainingMs: options.remainingMs,
            reserveMs: options.reserveMs + options.timeoutMs,
            onRetry: options.onRetry,
        },
    );
    return { ...result, attempts };
}

export { RetriesExhaustedError };
