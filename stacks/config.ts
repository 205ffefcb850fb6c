/**
 * Typed, validated stack configuration.
 *
 * Everything a stack may vary lives in `Pulumi.<stack>.yaml` under the project's namespace; this module is
 * the only reader. Parsing is a pure function of the raw config map so that every error path is tested
 * without a Pulumi engine. Errors name the exact key (`glue-data-pipeline:glue.maxWorkers`) and what is
 * expected, because the person reading them is editing that YAML file.
 */

export const PROJECT = "glue-data-pipeline";

export type ExecutionClass = "STANDARD" | "FLEX";

export interface StackTags {
    readonly Environment: string;
    readonly Project: string;
    readonly Owner: string;
    readonly CostCenter: string;
    readonly [extra: string]: string;
}

export interface GlueSettings {
    /** Glue version of every job; the local Spark in glue/requirements.txt matches its Spark. */
    readonly version: string;
    /** Maximum workers of an auto-scaled job run. */
    readonly maxWorkers: number;
    /** FLEX runs on spare capacity at a lower DPU price, for work that can wait. */
    readonly executionClass: ExecutionClass;
}

export interface TriggerSettings {
    readonly memoryMb: number;
    /** Caps how many files start at once; beyond it S3 events wait in Lambda's async queue. */
    readonly reservedConcurrency: number;
}

export interface PromotionSettings {
    /** Fully qualified name of the stack whose proven artifact versions this stack must deploy. */
    readonly fromStack: string;
}

export interface StackConfig {
    readonly stackName: string;
    /** Short environment name used in resource names (`glue-input-{stage}-{account}`). */
    readonly stage: string;
    readonly accountId: string;
    readonly region: string;
    /** Role the AWS provider assumes to deploy, if credentials are not already for the target account. */
    readonly deployRoleArn?: string;
    readonly tags: StackTags;
    readonly glue: GlueSettings;
    readonly trigger: TriggerSettings;
    /** When false (the default), buckets, key and table are kept when the stack is destroyed. */
    readonly allowDataDestroy: boolean;
    /** When set, the stack refuses to deploy artifacts that the named stack has not deployed first. */
    readonly promotion?: PromotionSettings;
}

export class ConfigError extends Error {
    /** @param key the key as written in the stack file; project keys may omit the `glue-data-pipeline:` namespace. */
    constructor(key: string, problem: string) {
        const qualified = key.includes(":") ? key : `${PROJECT}:${key}`;
        super(`Invalid stack configuration ${qualified}: ${problem}`);
        this.name = "ConfigError";
    }
}

/** Raw Pulumi config: fully qualified key → string value (objects arrive JSON-encoded). */
export type RawConfig = Readonly<Record<string, string | undefined>>;

const GLUE_VERSION = /^\d+\.\d+$/;
const STAGE = /^[a-z][a-z0-9-]{1,11}$/;
const ACCOUNT_ID = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const STACK_REF = /^[\w.-]+\/[\w.-]+\/[\w.-]+$/;

class Reader {
    constructor(private readonly raw: RawConfig) {}

    private value(key: string, namespace = PROJECT): string | undefined {
        const v = this.raw[`${namespace}:${key}`];
        return v === undefined || v === "" ? undefined : v;
    }

    private object(key: string): Record<string, unknown> | undefined {
        const text = this.value(key);
        if (text === undefined) return undefined;
        let parsed: unknown;
        try {
            parsed = JSON.parse(text);
        } catch {
            throw new ConfigError(key, "expected an object (a YAML mapping)");
        }
        if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
            throw new ConfigError(key, "expected an object (a YAML mapping)");
        }
        return parsed as Record<string, unknown>;
    }

    requiredString(key: string, pattern: RegExp, expected: string, namespace = PROJECT): string {
        const v = this.value(key, namespace);
        const qualified = `${namespace}:${key}`;
        if (v === undefined) throw new ConfigError(qualified, `missing; expected ${expected}`);
        if (!pattern.test(v)) throw new ConfigError(qualified, `"${v}" is not ${expected}`);
        return v;
    }

    optionalString(key: string, pattern: RegExp, expected: string): string | undefined {
        const v = this.value(key);
        if (v !== undefined && !pattern.test(v)) throw new ConfigError(key, `"${v}" is not ${expected}`);
        return v;
    }

    boolean(key: string, fallback: boolean): boolean {
        const v = this.value(key);
        if (v === undefined) return fallback;
        if (v === "true" || v === "false") return v === "true";
        throw new ConfigError(key, `"${v}" is not true or false`);
    }

    /**
     * Fields of an object-valued key. With a list of `allowed` fields, unknown ones are rejected so that
     * typos surface instead of silently taking a default.
     */
    section(key: string, allowed?: readonly string[]): Section {
        const obj = this.object(key) ?? {};
        const unknown = allowed ? Object.keys(obj).filter((k) => !allowed.includes(k)) : [];
        if (unknown.length > 0) {
            throw new ConfigError(`${key}.${unknown[0]}`, `unknown setting; known settings of ${key}: ${allowed!.join(", ")}`);
        }
        return new Section(key, obj);
    }
}

class Section {
    constructor(private readonly key: string, private readonly obj: Record<string, unknown>) {}

    has(field: string): boolean {
        return this.obj[field] !== undefined;
    }

    string(field: string, fallback: string | undefined, pattern: RegExp, expected: string): string {
        const v = this.obj[field] ?? fallback;
        if (v === undefined) throw new ConfigError(`${this.key}.${field}`, `missing; expected ${expected}`);
        if (typeof v !== "string" || !pattern.test(v)) {
            throw new ConfigError(`${this.key}.${field}`, `${JSON.stringify(v)} is not ${expected}`);
        }
        return v;
    }

    integer(field: string, fallback: number, min: number, max: number): number {
        const v = this.obj[field] ?? fallback;
        if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
            throw new ConfigError(`${this.key}.${field}`, `${JSON.stringify(v)} is not a whole number from ${min} to ${max}`);
        }
        return v;
    }

    oneOf<T extends string>(field: string, fallback: T, options: readonly T[]): T {
        const v = this.obj[field] ?? fallback;
        if (typeof v !== "string" || !options.includes(v as T)) {
            throw new ConfigError(`${this.key}.${field}`, `${JSON.stringify(v)} is not one of ${options.join(", ")}`);
        }
        return v as T;
    }

    strings(): Record<string, string> {
        const out: Record<string, string> = {};
        for (const [k, v] of Object.entries(this.obj)) {
            if (typeof v !== "string" || v.trim() === "") {
                throw new ConfigError(`${this.key}.${k}`, `${JSON.stringify(v)} is not a non-empty string`);
            }
            out[k] = v;
        }
        return out;
    }
}

const TAG_KEYS = ["Project", "Owner", "CostCenter"] as const;

/**
 * Parses and validates the configuration of `stackName`. Defaults are the cheap, safe ones: Glue on the
 * STANDARD class with 2 workers, data kept on destroy.
 */
export function parseStackConfig(stackName: string, raw: RawConfig): StackConfig {
    const r = new Reader(raw);
    const stage = r.requiredString("stage", STAGE, "a stage name of 2-12 lowercase letters, digits or hyphens");
    const accountId = r.requiredString("accountId", ACCOUNT_ID, "a 12-digit AWS account id");
    const region = r.requiredString("region", REGION, "an AWS region such as eu-west-1", "aws");
    const deployRoleArn = r.optionalString("deployRoleArn", ROLE_ARN, "an IAM role ARN");
    if (deployRoleArn && deployRoleArn.split(":")[4] !== accountId) {
        throw new ConfigError("deployRoleArn", `role ${deployRoleArn} is not in account ${accountId} (accountId)`);
    }

    const tagSection = r.section("tags").strings();
    for (const key of TAG_KEYS) {
        if (!tagSection[key]) throw new ConfigError(`tags.${key}`, "missing; every resource is tagged Environment, Project, Owner and CostCenter");
    }
    if (tagSection.Environment !== undefined && tagSection.Environment !== stage) {
        throw new ConfigError("tags.Environment", `"${tagSection.Environment}" differs from stage "${stage}"; leave it out, it is set from stage`);
    }
    const tags = { ...tagSection, Environment: stage } as StackTags;

    const glue = r.section("glue", ["version", "maxWorkers", "executionClass"]);
    const trigger = r.section("trigger", ["memoryMb", "reservedConcurrency"]);
    const promotion = r.section("promotion", ["fromStack"]);

    return {
        stackName,
        stage,
        accountId,
        region,
        deployRoleArn,
        tags,
        glue: {
            version: glue.string("version", "5.1", GLUE_VERSION, "a Glue version such as 5.1"),
            maxWorkers: glue.integer("maxWorkers", 2, 2, 100),
            executionClass: glue.oneOf<ExecutionClass>("executionClass", "STANDARD", ["STANDARD", "FLEX"]),
        },
        trigger: {
            memoryMb: trigger.integer("memoryMb", 256, 128, 10240),
            reservedConcurrency: trigger.integer("reservedConcurrency", 5, 1, 1000),
        },
        allowDataDestroy: r.boolean("allowDataDestroy", false),
        promotion: promotion.has("fromStack")
            ? { fromStack: promotion.string("fromStack", undefined, STACK_REF, "a stack name of the form org/project/stack") }
            : undefined,
    };
}
