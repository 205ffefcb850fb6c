/**
 * A small structured logger: one JSON object per line, so CloudWatch Logs Insights can filter on any field
 * (`level`, `file_id`, `aws_request_id`, ...) without parsing free text.
 *
 * Lines go straight to stdout rather than through `console.log`: in the Lambda Node.js runtime `console`
 * prefixes every line with a timestamp, request id and level in tab-separated text, which would make the
 * line stop being JSON.
 */

export const LOG_LEVELS = ["DEBUG", "INFO", "WARN", "ERROR"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const SEVERITY: Readonly<Record<LogLevel, number>> = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40 };

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

function replacer(_key: string, value: unknown): unknown {
    if (value instanceof Error) return serialiseError(value);
    if (typeof value === "bigint") return value.toString();
    return value;
}

export interface LoggerOptions {
    /** Written on every line as `service`, e.g. the function's name. */
    readonly service: string;
    /** @default "INFO" */
    readonly level?: LogLevel;
    /** @default stdoutSink */
    readonly sink?: LogSink;
    /** Fields written on every line of this logger and its children. */
    readonly fields?: LogFields;
    /** @default () => new Date() */
    readonly clock?: () => Date;
}

export class Logger {
    readonly level: LogLevel;
    private readonly service: string;
    private readonly sink: LogSink;
    private readonly fields: LogFields;
    private readonly clock: () => Date;

    constructor(options: LoggerOptions) {
        this.service = options.service;
        this.level = options.level ?? "INFO";
        this.sink = options.sink ?? stdoutSink;
        this.fields = options.fields ?? {};
        this.clock = options.clock ?? (() => new Date());
    }

    /** A logger that adds `fields` to every line (e.g. the request id, then the file id). */
    child(fields: LogFields): Logger {
        return new Logger({
            service: this.service,
            level: this.level,
            sink: this.sink,
            clock: this.clock,
            fields: { ...this.fields, ...fields },
        });
    }

    isEnabled(level: LogLevel): boolean {
        return SEVERITY[level] >= SEVERITY[this.level];
    }

    debug(message: string, fields?: LogFields): void {
        this.write("DEBUG", message, fields);
    }

    info(message: string, fields?: LogFields): void {
        this.write("INFO", message, fields);
    }

    warn(message: string, fields?: LogFields): void {
        this.write("WARN", message, fields);
    }

    error(message: string, fields?: LogFields): void {
        this.write("ERROR", message, fields);
    }

    private write(level: LogLevel, message: string, fields?: LogFields): void {
        if (!this.isEnabled(level)) return;
        const entry = {
            timestamp: this.clock().toISOString(),
            level,
            service: this.service,
            message,
            ...this.fields,
            ...fields,
        };
        let line: string;
        try {
            line = JSON.stringify(entry, replacer);
        } catch (err) {
            // A circular context object must cost us that line's context, never the log line itself.
            line = JSON.stringify({
                timestamp: entry.timestamp,
                level,
                service: this.service,
                message,
                log_error: `context not serialisable: ${(err as Error).message}`,
            });
        }
        this.sink(line);
    }
}
