/**
 * Exponential backoff with full jitter, bounded by both an attempt count and the time the invocation has
 * left. Full jitter (a uniform delay in [0, ceiling)) spreads retries from concurrent Lambdas that failed
 * at the same moment, e.g. a burst of uploads hitting a Glue concurrency limit together.
 */

export interface BackoffOptions {
    /** Ceiling of the first retry's delay. */
    readonly baseDelayMs: number;
    /** No delay ceiling exceeds this. */
    readonly maxDelayMs: number;
}

/** The delay ceiling before retry number `retry` (1 = the first retry): min(max, base × 2^(retry−1)). */
export function backoffCeilingMs(retry: number, options: BackoffOptions): number {
    if (!Number.isInteger(retry) || retry < 1) throw new RangeError(`retry must be an integer >= 1, got ${retry}`);
    // Cap the exponent so 2^n never overflows into Infinity for absurd retry counts.
    return Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.min(retry - 1, 30));
}

/** A full-jitter delay before retry number `retry`: floor(random() × ceiling). */
export function backoffDelayMs(retry: number, options: BackoffOptions, random: () => number = Math.random): number {
    return Math.floor(random() * backoffCeilingMs(retry, options));
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Why retrying stopped. */
export type ExhaustedReason = "not-retryable" | "attempts" | "time-budget";

/** Thrown when an operation kept failing; `cause` is the last error. */
export class RetriesExhaustedError extends Error {
    constructor(
        readonly operation: string,
        readonly attempts: number,
        readonly reason: ExhaustedReason,
        readonly lastError: unknown,
    ) {
        const last = lastError instanceof Error ? `${lastError.name}: ${lastError.message}` : String(lastError);
        const why =
            reason === "attempts"
                ? `after ${attempts} attempt(s)`
                : reason === "time-budget"
                  ? `after ${attempts} attempt(s), stopping early to stay within the invocation's time budget`
                  : "with an error that is not retried";
        super(`${operation} failed ${why}: ${last}`, { cause: lastError });
        this.name = "RetriesExhaustedError";
    }
}

export interface RetryOptions {
    /** Name of the operation, for error messages. */
    readonly operation: string;
    /** Total attempts including the first, >= 1. */
    readonly maxAttempts: number;
    readonly backoff: BackoffOptions;
    readonly isRetryable: (err: unknown) => boolean;
    /** @default sleep (setTimeout) */
    readonly sleep?: (ms: number) => Promise<void>;
    /** @default Math.random */
    readonly random?: () => number;
    /** Milliseconds the invocation has left; @default () => Infinity */
    readonly remainingMs?: () => number;
    /**
     * Time that must remain after a backoff delay for the retry itself and whatever the caller does next
     * (record the outcome, other records). A retry that would eat into it is not made.
     * @default 0
     */
    readonly reserveMs?: number;
    /** Called before each backoff delay, e.g. to log it. */
    readonly onRetry?: (info: { readonly attempt: number; readonly delayMs: number; readonly error: unknown }) => void;
    /**
     * The wait a failed attempt itself asked for, in ms (e.g. an HTTP `Retry-After`), or undefined. When
     * given, the delay is the larger of it and the jittered backoff: retrying sooner than the server asked
     * only earns another refusal, and the jitter still spreads callers that were told the same instant. A
     * wait longer than the invocation can afford ends retrying with reason "time-budget", as any delay does.
     * @default () => undefined
     */
    readonly retryAfterMs?: (err: unknown) => number | undefined;
}

/**
 * Runs `operation` until it succeeds, fails with an error `isRetryable` rejects, runs out of attempts, or
 * the next delay would not leave `reserveMs` of the invocation's time.
 * @throws RetriesExhaustedError carrying the last error as `cause`.
 */
export async function retryWithBackoff<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
    if (!Number.isInteger(options.maxAttempts) || options.maxAttempts < 1) {
        throw new RangeError(`maxAttempts must be an integer >= 1, got ${options.maxAttempts}`);
    }
    const wait = options.sleep ?? sleep;
    const random = options.random ?? Math.random;
    const remainingMs = options.remainingMs ?? (() => Number.POSITIVE_INFINITY);
    const reserveMs = options.reserveMs ?? 0;
    for (let attempt = 1; ; attempt++) {
        try {
            return await operation(attempt);
        } catch (err) {
            if (!options.isRetryable(err)) throw new RetriesExhaustedError(options.operation, attempt, "not-retryable", err);
            if (attempt >= options.maxAttempts) throw new RetriesExhaustedError(options.operation, attempt, "attempts", err);
            const jittered = backoffDelayMs(attempt, options.backoff, random);
            const asked = options.retryAfterMs?.(err);
            const delayMs = asked !== undefined && Number.isFinite(asked) && asked > jittered ? Math.ceil(asked) : jittered;
            if (remainingMs() - delayMs < reserveMs) {
                throw new RetriesExhaustedError(options.operation, attempt, "time-budget", err);
            }
            options.onRetry?.({ attempt, delayMs, error: err });
            await wait(delayMs);
        }
    }
}

/** The `name` of an AWS SDK v3 service exception (its error code), or undefined for anything else. */
export function awsErrorName(err: unknown): string | undefined {
    return err instanceof Error ? err.name : undefined;
}
