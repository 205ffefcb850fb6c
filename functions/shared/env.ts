/**
 * Environment parsing for Lambda cold starts. A reader collects every problem and reports them all in one
 * error, so a misconfigured function needs one deploy to fix rather than one per variable.
 */

export type Env = Readonly<Record<string, string | undefined>>;

/** Thrown at cold start when the environment is invalid; `problems` has one entry per variable. */
export class EnvironmentError extends Error {
    constructor(readonly problems: readonly string[]) {
        super(`Invalid environment: ${problems.join("; ")}`);
        this.name = "EnvironmentError";
    }
}

export interface IntOptions {
    /** Used when the variable is unset or empty. Without it the variable is required. */
    readonly default?: number;
    /** @default Number.MIN_SAFE_INTEGER */
    readonly min?: number;
    /** @default Number.MAX_SAFE_INTEGER */
    readonly max?: number;
}

export interface StringOptions {
    /** Used when the variable is unset or empty. Without it the variable is required. */
    readonly default?: string;
    /** The value must match; `describe` says what that means in the error. */
    readonly pattern?: RegExp;
    readonly describe?: string;
}

export class EnvReader {
    private readonly problems: string[] = [];

    constructor(private readonly env: Env) {}

    /** A string variable, trimmed. Returns "" after recording a problem, so reading can continue. */
    string(name: string, options: StringOptions = {}): string {
        const raw = this.raw(name);
        if (raw === undefined) {
            if (options.default !== undefined) return options.default;
            this.problems.push(`${name} is required but not set`);
            return "";
        }
        if (options.pattern && !options.pattern.test(raw)) {
            this.problems.push(`${name} must be ${options.describe ?? `a value matching ${options.pattern}`}, got "${raw}"`);
        }
        return raw;
    }

    /** An integer variable within [min, max]. Returns the default (or 0) after recording a problem. */
    int(name: string, options: IntOptions = {}): number {
        const min = options.min ?? Number.MIN_SAFE_INTEGER;
        const max = options.max ?? Number.MAX_SAFE_INTEGER;
        const raw = this.raw(name);
        if (raw === undefined) {
            if (options.default !== undefined) return options.default;
            this.problems.push(`${name} is required but not set`);
            return 0;
        }
        // Number("") and Number("1e3") are numbers too; only plain decimal integers are accepted.
        const value = /^[+-]?\d+$/.test(raw) ? Number(raw) : Number.NaN;
        if (!Number.isSafeInteger(value) || value < min || value > max) {
            this.problems.push(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
            return options.default ?? 0;
        }
        return value;
    }

    /** Runs a custom parser; a thrown error's message becomes the problem for `name`. */
    parse<T>(name: string, parser: (raw: string | undefined) => T, fallback: T): T {
        try {
            return parser(this.raw(name));
        } catch (err) {
            const message = err instanceof Error ? err.message : String(err);
            this.problems.push(message.includes(name) ? message : `${name}: ${message}`);
            return fallback;
        }
    }

    /** @throws EnvironmentError listing every problem recorded so far. */
    assertValid(): void {
        if (this.problems.length > 0) throw new EnvironmentError([...this.problems]);
    }

    private raw(name: string): string | undefined {
        const value = this.env[name];
        if (value === undefined) return undefined;
        const trimmed = value.trim();
        return trimmed === "" ? undefined : trimmed;
    }
}

/** Reads a configuration object with `read`, then throws one EnvironmentError if anything was wrong. */
export function readEnv<T>(env: Env, read: (reader: EnvReader) => T): T {
    const reader = new EnvReader(env);
    const value = read(reader);
    reader.assertValid();
    return value;
}

/** S3 bucket names: 3–63 lowercase letters, digits, dots and hyphens, starting and ending alphanumeric. */
export const S3_BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
