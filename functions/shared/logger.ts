/**
 * Structured logging for every function: Powertools for AWS Lambda's Logger, writing one JSON object per line
 * so CloudWatch Logs Insights can filter on any field (`level`, `file_id`, `aws_request_id`, `event`, ...)
 * without parsing free text.
 *
 * What Powertools gives us: level filtering that honours Lambda's advanced logging controls
 * (AWS_LAMBDA_LOG_LEVEL), debug sampling (POWERTOOLS_LOGGER_SAMPLE_RATE), safe serialisation (circular
 * references dropped, bigint as text), reserved keys protected. What we keep from the logger it replaced, because
 * dashboards, the replay script and tests read it:
 *
 * - the line shape `timestamp` (UTC ISO-8601), `level` (DEBUG/INFO/WARN/ERROR), `service`, `message`, then the
 *   context fields at the top level, shallowly merged (a child's fields, then the call's) — the operations
 *   dashboard's Insights query reads `event`, `job_name`, `job_run_id`, `state`, `file_id`, `error_message`,
 *   `record_update` as top-level fields; `xray_trace_id` is added when Lambda sets one;
 * - errors as {@link serialiseError} shapes them (AWS SDK v3's HTTP status and request id, the cause chain);
 * - `child(fields)`: an immutable logger carrying extra fields, so one record's `file_id` never leaks into the
 *   next record's lines (Powertools' appendKeys mutates the one shared instance, and createChild builds a
 *   whole new Powertools logger per child); children share their root's Powertools logger;
 * - a `sink` for where lines go (tests collect them; the replay script silences them), and a `clock`.
 *
 * One difference: a top-level context field that is null or an empty string is left out of the line, as
 * Powertools does (it was written before); a context field named like a base key (`level`, `message`, ...)
 * is dropped with a warning instead of overwriting it.
 *
 * Lines go straight to stdout rather than through the runtime's `console`, which would prefix them.
 */
import { LogFormatter, LogItem, Logger as PowertoolsLogger } from "@aws-lambda-powertools/logger";
import type { LogAttributes, UnformattedAttributes } from "@aws-lambda-powertools/logger/types";

export const LOG_LEVELS = ["DEBUG", "INFO", "WARN", "ERROR"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Where finished lines go. Tests pass a collecting sink; production writes to stdout. */
export type LogSink = (line: string) => void;

export const stdoutSink: LogSink = (line) => {
    process.stdout.write(line + "\n");
};

export type LogFields = Readonly<Record<string, unknown>>;

export interface SerialisedError {
    readonly name: string;
    readonly message: string;
    readonly stack?: string;
    /** AWS SDK v3 errors carry the HTTP status and request id: the first things support asks for. */
    readonly http_status?: number;
    readonly request_id?: string;
    readonly cause?: SerialisedError | string;
}

/**
 * Parses a LOG_LEVEL value (case-insensitive; `WARNING` accepted for WARN).
 * @throws Error naming LOG_LEVEL when the value is not a known level.
 */
export function parseLogLevel(value: string | undefined, fallback: LogLevel = "INFO"): LogLevel {
    if (value === undefined || value.trim() === "") return fallback;
    const upper = value.trim().toUpperCase();
    const level = upper === "WARNING" ? "WARN" : upper;
    if ((LOG_LEVELS as readonly string[]).includes(level)) return level as LogLevel;
    throw new Error(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}, got "${value}"`);
}

/** Turns anything thrown into a plain object that survives JSON.stringify (an Error's own fields do not). */
export function serialiseError(err: unknown, depth = 0): SerialisedError {
    if (!(err instanceof Error)) {
        return { name: "NonError", message: typeof err === "string" ? err : safeJson(err) };
    }
    const meta = (err as { $metadata?: { httpStatusCode?: number; requestId?: string } }).$metadata;
    const cause = (err as { cause?: unknown }).cause;
    return {
        name: err.name,
        message: err.message,
        ...(err.stack ? { stack: err.stack } : {}),
        ...(meta?.httpStatusCode !== undefined ? { http_status: meta.httpStatusCode } : {}),
        ...(meta?.requestId ? { request_id: meta.requestId } : {}),
        // Depth-limited: a cause chain that loops back on itself must not hang the logger.
        ...(cause !== undefined ? { cause: depth < 3 ? serialiseError(cause, depth + 1) : String(cause) } : {}),
    };
}

function safeJson(value: unknown): string {
    try {
        return JSON.stringify(value) ?? String(value);
    } catch {
        return String(value);
    }
}

/** Our line shape (see the module comment) instead of Powertools' default keys. */
class PipelineLogFormatter extends LogFormatter {
    constructor(private readonly clock?: () => Date) {
        super();
    }

    formatAttributes(attributes: UnformattedAttributes, additional: LogAttributes): LogItem {
        return new LogItem({
            attributes: {
                timestamp: (this.clock?.() ?? attributes.timestamp).toISOString(),
                level: attributes.logLevel,
                service: attributes.serviceName,
                message: attributes.message,
                ...(attributes.xRayTraceId ? { xray_trace_id: attributes.xRayTraceId } : {}),
                // Shallow, as before: a context field replaces a child's field of the same name whole.
                ...additional,
            },
        });
    }

    formatError(error: Error): LogAttributes {
        return { ...serialiseError(error) };
    }
}

export interface LoggerOptions {
    /** Written on every line as `service`, e.g. the function's name. */
    readonly service: string;
    /** @default "INFO" (Lambda's advanced logging controls, when set, take precedence) */
    readonly level?: LogLevel;
    /** @default stdoutSink */
    readonly sink?: LogSink;
    /** Fields written on every line of this logger and its children. */
    readonly fields?: LogFields;
    /** @default () => new Date() */
    readonly clock?: () => Date;
}

/**
 * The Powertools logger underneath: our formatter, and lines handed to a sink instead of its console.
 * One per {@link Logger} tree (children share it), so Powertools' per-instance set-up and its one-time
 * warnings (e.g. a LOG_LEVEL below Lambda's advanced logging controls) happen once per function, not per record.
 */
class SinkLogger extends PowertoolsLogger {
    /** The sink of the logger being constructed: Powertools prints its configuration warnings from its constructor. */
    private static constructing?: LogSink;
    private sink?: LogSink;

    constructor(options: LoggerOptions) {
        SinkLogger.constructing = options.sink;
        super({ serviceName: options.service, logLevel: options.level ?? "INFO", logFormatter: new PipelineLogFormatter(options.clock) });
        SinkLogger.constructing = undefined;
        this.sink = options.sink;
    }

    protected printLog(logLevel: number, log: LogItem): void {
        log.prepareForPrint();
        const attributes = log.getAttributes();
        let line: string;
        try {
            line = JSON.stringify(attributes, this.getJsonReplacer());
        } catch (err) {
            // A context value that refuses to serialise (a throwing toJSON or getter) must cost us that line's
            // context, never the line itself. Circular references do not get here: the replacer drops them.
            line = JSON.stringify({
                timestamp: attributes.timestamp,
                level: attributes.level,
                service: attributes.service,
                message: attributes.message,
                log_error: `context not serialisable: ${(err as Error).message}`,
            });
        }
        (this.sink ?? SinkLogger.constructing ?? stdoutSink)(line);
    }
}

export class Logger {
    /** The Powertools logger every line goes through. */
    readonly powertools: PowertoolsLogger;
    private readonly fields: LogFields;

    /** @param shared a parent's Powertools logger, for a child (see {@link child}); otherwise a new one. */
    constructor(
        private readonly options: LoggerOptions,
        shared?: PowertoolsLogger,
    ) {
        this.powertools = shared ?? new SinkLogger(options);
        this.fields = options.fields ?? {};
    }

    /** A logger that adds `fields` to every line (e.g. the request id, then the file id); this one is unchanged. */
    child(fields: LogFields): Logger {
        return new Logger({ ...this.options, fields: { ...this.fields, ...fields } }, this.powertools);
    }

    debug(message: string, fields?: LogFields): void {
        this.powertools.debug(message, { ...this.fields, ...fields });
    }

    info(message: string, fields?: LogFields): void {
        this.powertools.info(message, { ...this.fields, ...fields });
    }

    warn(message: string, fields?: LogFields): void {
        this.powertools.warn(message, { ...this.fields, ...fields });
    }

    error(message: string, fields?: LogFields): void {
        this.powertools.error(message, { ...this.fields, ...fields });
    }
}
