/**
 * Starting a Glue job run from an S3-triggered function (glue-trigger, claims-validation): which
 * StartJobRun failures are safe to retry, and the one retry loop both use.
 */
import { GlueClient, StartJobRunCommand } from "@aws-sdk/client-glue";
import { Logger } from "./logger";
import { BackoffOptions, RetriesExhaustedError, retryWithBackoff, RetryOptions } from "./retry";

/** Backoff between StartJobRun attempts in production: ceilings 1 s, 2 s, 4 s, ... capped at 8 s. */
export const DEFAULT_START_BACKOFF: BackoffOptions = { baseDelayMs: 1000, maxDelayMs: 8000 };

/**
 * Errors after which StartJobRun certainly did not start a run, so trying again cannot start a second one.
 * Ambiguous failures (5xx, timeouts) are deliberately absent: a run may exist, and a blind retry could
 * start a duplicate. They fail the record instead, and the next delivery re-claims it.
 */
const RETRYABLE_START_ERRORS: ReadonlySet<string> = new Set([
    "ConcurrentRunsExceededException",
    "ThrottlingException",
    "TooManyRequestsException",
]);

export function isRetryableStartError(err: unknown): boolean {
    return err instanceof Error && RETRYABLE_START_ERRORS.has(err.name);
}

/** Of those, the ones that say "too fast", not "no room": worth a quick retry inside the invocation. */
const RATE_LIMIT_ERRORS: ReadonlySet<string> = new Set(["ThrottlingException", "TooManyRequestsException"]);

export function isRateLimitedStart(err: unknown): boolean {
    return err instanceof Error && RATE_LIMIT_ERRORS.has(err.name);
}

/**
 * A start Glue refused for capacity: no run was started, and one will start once room frees up — the
 * concurrency limit, or throttling that outlasted the quick retries. A queue-fed trigger puts such a file to
 * wait (./backpressure) instead of failing it. Looks through RetriesExhaustedError to its last error.
 */
export function isCapacityRefusal(err: unknown): boolean {
    const last = err instanceof RetriesExhaustedError ? err.lastError : err;
    return isRetryableStartError(last);
}

/** How hard to try (attempts, backoff, the invocation's time budget) and where to log each retry. */
export type StartJobRunOptions = Pick<RetryOptions, "maxAttempts" | "backoff" | "sleep" | "random" | "remainingMs" | "reserveMs"> & {
    readonly log: Logger;
    /**
     * Which failures are retried inside the invocation. A queue-fed trigger retries only rate limits: a full
     * job is better waited out in the queue than in a sleeping Lambda. @default isRetryableStartError
     */
    readonly isRetryable?: (err: unknown) => boolean;
};

/**
 * Starts `jobName` with `args` and returns the run id, retrying only the errors above with full-jitter
 * backoff. @throws RetriesExhaustedError (from ./retry) when no run was started.
 */
export function startJobRun(glue: GlueClient, jobName: string, args: Record<string, string>, options: StartJobRunOptions): Promise<string> {
    const { log, isRetryable = isRetryableStartError, ...retry } = options;
    return retryWithBackoff(
        async () => {
            const out = await glue.send(new StartJobRunCommand({ JobName: jobName, Arguments: args }));
            if (!out.JobRunId) throw new Error("StartJobRun returned no JobRunId");
            return out.JobRunId;
        },
        {
            ...retry,
            operation: "StartJobRun",
            isRetryable,
            onRetry: ({ attempt, delayMs, error }) =>
                log.warn("StartJobRun failed; retrying after backoff", { start_attempt: attempt, delay_ms: delayMs, error }),
        },
    );
}
