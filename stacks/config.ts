/**
 * Typed, validated stack configuration.
 *
 * Everything a stack may vary lives in `Pulumi.<stack>.yaml` under the project's namespace; this module is
 * the only reader. Parsing is a pure function of the raw config map so that every error path is tested
 * without a Pulumi engine. Errors name the exact key (`glue-data-pipeline:glue.maxWorkers`) and what is
 * expected, because the person reading them is editing that YAML file.
 */

// JSON only: this module stays free of Pulumi so that parsing is tested without an engine.
import { CSV_CONVERTER_CONTRACT as converterContract } from "../functions/csv-converter/contract";

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
    /**
     * Reserved concurrency of each S3-triggered function (the CSV and Parquet triggers, claims validation):
     * caps how many files start at once, beyond it S3 events wait in Lambda's async queue. Opt-in, because a
     * reservation must leave the account's minimum unreserved concurrency (100) free, which new accounts with
     * a quota of 10 cannot. @default none (the functions share the account's unreserved pool)
     */
    readonly reservedConcurrency?: number;
    /** The queue between S3 and each triggered function (`trigger.queue`). @default TRIGGER_QUEUE_CONFIG_DEFAULTS */
    readonly queue?: TriggerQueueConfig;
}

/**
 * `trigger.queue`: how each triggered function (CSV and Parquet triggers, claims validation) is fed from its
 * SQS queue, and when its backlog alarms. A burst waits in the queue; a start Glue refuses for capacity goes
 * back to it with a growing delay; only a message that keeps failing otherwise reaches the queue's DLQ.
 */
export interface TriggerQueueConfig {
    /** Files per invocation of the CSV and Parquet triggers, 1-10 (the claims validation takes one: it streams whole files). @default 10 */
    readonly batchSize: number;
    /** Most concurrent invocations each queue's event source mapping makes (2-1000; at most reservedConcurrency when set). @default 2 */
    readonly maximumConcurrency: number;
    /** Receives of a failing message before it goes to the queue's dead-letter queue (1-100). @default 5 */
    readonly maxReceiveCount: number;
    /** The queue-age alarm: the oldest message older than this many seconds (60-86400). @default 3600 */
    readonly maxAgeAlarmSeconds: number;
    /** First re-send delay of a capacity-refused start (1-900 s). @default the functions' (30) */
    readonly requeueBaseDelaySeconds?: number;
    /** Waits for capacity before a file counts as failed (1-10000). @default the functions' (100, about a day) */
    readonly maxWaitAttempts?: number;
}

export const TRIGGER_QUEUE_CONFIG_DEFAULTS: TriggerQueueConfig = { batchSize: 10, maximumConcurrency: 2, maxReceiveCount: 5, maxAgeAlarmSeconds: 3600 };

export const TRIGGER_QUEUE_FIELDS: readonly string[] = ["batchSize", "maximumConcurrency", "maxReceiveCount", "maxAgeAlarmSeconds", "requeueBaseDelaySeconds", "maxWaitAttempts"];

export interface AlertSettings {
    /** Addresses subscribed to the alerts topic; each must confirm the email SNS sends it. */
    readonly emails: readonly string[];
}

/** The healthcare claims flow. */
export interface ClaimsSettings {
    /** Addresses subscribed to the claims error topic. @default the alerts addresses */
    readonly errorEmails: readonly string[];
    /** Minimum quality score (0-100, two decimals) a claims file needs to be processed. @default 95 */
    readonly minQualityScore: number;
    /** The warehouse load into Redshift Serverless. Absent (the default): no VPC, no workgroup, no load step. */
    readonly warehouse?: ClaimsWarehouseSettings;
}

/** `claims.warehouse`: its presence deploys the warehouse (a VPC, a Redshift Serverless workgroup, the load step). */
export interface ClaimsWarehouseSettings {
    /** RPUs the workgroup starts queries with: 4, or 8 to 512 in steps of 8 (Redshift Serverless' rule). @default 8 */
    readonly baseCapacity: number;
    /** Ceiling the workgroup may scale to, a cost cap (same steps, at least baseCapacity). @default none: Redshift's own */
    readonly maxCapacity?: number;
    /** Database the namespace creates and the load writes to. @default claims */
    readonly databaseName: string;
    /** Address range of the warehouse's VPC (a /16 to /22: three /24-or-larger subnets, one per AZ). @default 10.42.0.0/16 */
    readonly vpcCidr: string;
}

/** The scheduled medallion workflow (the medallion flow). Absent: the stack does not deploy it. */
export interface MedallionSettings {
    /** The source API's first-page URL for this stack (https). */
    readonly apiBaseUrl: string;
    /** Header the API key is sent in. */
    readonly apiKeyHeader: string;
    /** Records per page. */
    readonly pageSize: number;
    /** EventBridge Scheduler expression, read in UTC (the flow asks for daily 09:00). */
    readonly schedule: string;
    /** A disabled schedule deploys everything but starts nothing. */
    readonly scheduleEnabled: boolean;
    /** Treat "the API returned no records" as a failed run. */
    readonly noDataIsFailure: boolean;
    /** Athena stops any query of the workgroup past this many MiB scanned. */
    readonly athenaBytesScannedCutoffMb: number;
    /** Reserved concurrency of the ingestion function (an API rate cap). Opt-in like the triggers'. @default none */
    readonly ingestConcurrency?: number;
}

/** Delimiters a CSV flow may declare, by name (a tab is awkward to write in YAML and in Glue's arguments). */
export const CSV_DELIMITERS = ["comma", "semicolon", "tab", "pipe"] as const;
/** Encodings FileProcessorV2 reads: UTF-8 (with or without byte-order mark) or Latin-1 (every byte a character). */
export const CSV_ENCODINGS = ["utf-8", "latin-1"] as const;

/** The CSV flow (FileProcessorV2): how its source files are written. Passed to the job as --delimiter/--encoding. */
export interface CsvFlowSettings {
    /** @default "comma" */
    readonly delimiter: (typeof CSV_DELIMITERS)[number];
    /** @default "utf-8" */
    readonly encoding: (typeof CSV_ENCODINGS)[number];
}

export interface PromotionSettings {
    /** Fully qualified name of the stack whose proven artifact versions this stack must deploy. */
    readonly fromStack: string;
    /**
     * Also require that stack's `smoke` output (its smoke check on `pulumi up`, `smokeOnUp`) to name the
     * release this stack deploys. @default true
     */
    readonly requireSmoke?: boolean;
}

/**
 * `fastPath`: the CSV flow's small files converted by a Python Lambda (DuckDB, the Glue job's rules) instead
 * of a Glue run; files above `maxBytes`, and any the converter runs out of memory, disk or time on, go to Glue.
 */
export interface FastPathSettings {
    /** false: every CSV file goes to Glue and no converter is deployed. @default true */
    readonly enabled: boolean;
    /** Largest object (bytes) the trigger routes to the converter. @default converter-contract.json defaults.maxBytes (256 MiB) */
    readonly maxBytes: number;
    readonly memoryMb: number;
    readonly timeoutSeconds: number;
    readonly ephemeralStorageMb: number;
    /** Conversions at once (the converter queue's event source mapping). */
    readonly maximumConcurrency: number;
}

export interface StackConfig {
    readonly stackName: string;
    /** Short environment name used in resource names (`glue-input-{stage}-{account}`). */
    readonly stage: string;
    readonly accountId: string;
    readonly region: string;
    /** Role the AWS provider assumes to deploy, if credentials are not already for the target account. */
    readonly deployRoleArn?: string;
    /**
     * Permissions boundary put on every IAM role the stack creates (the bootstrap's workload boundary). The
     * deploy role may only create roles that carry it. @default none (deploying with broader credentials)
     */
    readonly permissionsBoundaryArn?: string;
    readonly tags: StackTags;
    readonly glue: GlueSettings;
    /** The CSV flow's delimiter and encoding. parseStackConfig always sets it. @default comma, utf-8 */
    readonly csv?: CsvFlowSettings;
    readonly trigger: TriggerSettings;
    /** Where alarms and failed-run notifications go. parseStackConfig always sets it. @default no subscriptions */
    readonly alerts?: AlertSettings;
    /** The claims flow's settings. parseStackConfig always sets it. */
    readonly claims?: ClaimsSettings;
    /** When false (the default), buckets, key and table are kept when the stack is destroyed. */
    readonly allowDataDestroy: boolean;
    /** The CSV flow's fast path (the converter). parseStackConfig always sets it. @default on, FAST_PATH_CONFIG_DEFAULTS */
    readonly fastPath?: FastPathSettings;
    /** The medallion workflow, when the stack runs it. */
    readonly medallion?: MedallionSettings;
    /** When set, the stack refuses to deploy artifacts that the named stack has not deployed first. */
    readonly promotion?: PromotionSettings;
    /**
     * Run the smoke check as the last step of `pulumi up` (components/delivery/smokeCheck.ts): the update fails when
     * the release's files do not flow, and the `smoke` output names the release that passed. @default false
     */
    readonly smokeOnUp?: boolean;
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
const POLICY_ARN = /^arn:aws[a-z-]*:iam::\d{12}:policy\/[\w+=,.@/-]{1,512}$/;
const STACK_REF = /^[\w.-]+\/[\w.-]+\/[\w.-]+$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const HTTPS_URL = /^https:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/[^\s#]*)?$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;
/** EventBridge Scheduler: cron(min hour day-of-month month day-of-week year) or rate(n unit). */
/** Redshift database names: lowercase letter first, then lowercase letters, digits, underscores (up to 64). */
const DATABASE_NAME = /^[a-z][a-z0-9_]{0,63}$/;
const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
/** Fields of `claims.warehouse`. */
export const CLAIMS_WAREHOUSE_FIELDS = ["baseCapacity", "maxCapacity", "databaseName", "vpcCidr"] as const;
export const CLAIMS_WAREHOUSE_DEFAULTS = { baseCapacity: 8, databaseName: "claims", vpcCidr: "10.42.0.0/16" } as const;
const SCHEDULE = /^(cron\((\S+ ){5}\S+\)|rate\([1-9]\d* (minute|minutes|hour|hours|day|days)\))$/;
export const MEDALLION_DEFAULT_SCHEDULE = "cron(0 9 * * ? *)";

/**
 * Every key the project reads, the one list that strict parsing, the declarations in Pulumi.yaml and the
 * README's table are checked against. Scalars carry the type and default Pulumi.yaml declares (Pulumi itself
 * then refuses a wrong type, and a missing key without a default); object keys list their fields, or `null`
 * when any field is allowed (tags).
 */
export const SCALAR_KEYS = {
    stage: { type: "string", description: "Short environment name used in resource names (glue-input-{stage}-{account}): 2-12 lowercase letters, digits or hyphens." },
    accountId: { type: "string", description: "The 12-digit AWS account the stack deploys to; credentials for any other account are refused." },
    deployRoleArn: { type: "string", default: "", description: "IAM role the AWS provider assumes to deploy (same account). Empty means deploy with the caller's credentials." },
    permissionsBoundaryArn: { type: "string", default: "", description: "Managed policy put as permissions boundary on every role the stack creates (the bootstrap's workload boundary). Empty means none." },
    allowDataDestroy: { type: "boolean", default: false, description: "Let `pulumi destroy` delete the buckets, the KMS key and the metadata table (keep false for data you cannot lose)." },
    smokeOnUp: { type: "boolean", default: false, description: "Run the smoke check (npm run smoke) as the last step of pulumi up; a failure fails the update, a pass sets the smoke output prod's promotion requires." },
} as const;

export const SECTION_FIELDS: Readonly<Record<string, readonly string[] | null>> = {
    tags: null,
    glue: ["version", "maxWorkers", "executionClass"],
    trigger: ["memoryMb", "reservedConcurrency", "queue"],
    alerts: ["emails"],
    claims: ["errorEmails", "minQualityScore", "warehouse"],
    csv: ["delimiter", "encoding"],
    fastPath: ["enabled", "maxBytes", "memoryMb", "timeoutSeconds", "ephemeralStorageMb", "maximumConcurrency"],
    medallion: ["apiBaseUrl", "apiKeyHeader", "pageSize", "schedule", "scheduleEnabled", "noDataIsFailure", "athenaBytesScannedCutoffMb", "ingestConcurrency"],
    promotion: ["fromStack", "requireSmoke"],
};

/** Every top-level key of the project namespace. */
export const PROJECT_KEYS: readonly string[] = [...Object.keys(SCALAR_KEYS), ...Object.keys(SECTION_FIELDS)];

/** Tags a stack gets when its file names none: enough to find and bill the resources, visibly unassigned. */
export const DEFAULT_TAGS = { Project: PROJECT, Owner: "unassigned", CostCenter: "unassigned" } as const;

/**
 * Edit distance with adjacent transpositions counted as one edit (optimal string alignment), compared
 * case-insensitively: `allowDataDestory` is one edit from `allowDataDestroy`, `maxworkers` none from
 * `maxWorkers`.
 */
export function editDistance(a: string, b: string): number {
    const x = a.toLowerCase();
    const y = b.toLowerCase();
    const d: number[][] = Array.from({ length: x.length + 1 }, (_, i) => Array.from({ length: y.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
    for (let i = 1; i <= x.length; i++) {
        for (let j = 1; j <= y.length; j++) {
            const cost = x[i - 1] === y[j - 1] ? 0 : 1;
            d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
            if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
    }
    return d[x.length][y.length];
}

/**
 * The known key nearest to `key` (ties: the first listed): within a third of its length in edits (at least
 * 2), else one that contains it (`workers` → `maxWorkers`); undefined when nothing is that close.
 */
export function nearestKey(key: string, known: readonly string[]): string | undefined {
    let best: string | undefined;
    let bestDistance = Number.POSITIVE_INFINITY;
    for (const candidate of known) {
        const distance = editDistance(key, candidate);
        if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
    }
    if (bestDistance <= Math.max(2, Math.floor(key.length / 3))) return best;
    return key.length >= 3 ? known.find((candidate) => candidate.toLowerCase().includes(key.toLowerCase())) : undefined;
}

/** The error text for an unknown key: the nearest known one named first, then every known one. */
function unknownKeyProblem(key: string, known: readonly string[], where: string): string {
    const nearest = nearestKey(key, known);
    return `unknown setting${nearest ? `; did you mean ${nearest}?` : ""} (known settings of ${where}: ${known.join(", ")})`;
}

/** Refuses any key of the project namespace that the project does not read: a typo must not pass as a default. */
function rejectUnknownKeys(raw: RawConfig): void {
    const prefix = `${PROJECT}:`;
    for (const qualified of Object.keys(raw)) {
        // A misspelt namespace would otherwise pass as another program's key, and its setting silently not apply.
        const namespace = qualified.slice(0, Math.max(0, qualified.indexOf(":")));
        if (namespace !== PROJECT && namespace.length > 0 && editDistance(namespace, PROJECT) <= 2) {
            throw new ConfigError(qualified, `unknown namespace ${namespace}; did you mean ${PROJECT}:${qualified.slice(namespace.length + 1)}?`);
        }
        if (!qualified.startsWith(prefix)) continue;
        const key = qualified.slice(prefix.length);
        if (!PROJECT_KEYS.includes(key)) throw new ConfigError(qualified, unknownKeyProblem(key, PROJECT_KEYS, PROJECT));
    }
}

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
        if (unknown.length > 0) throw new ConfigError(`${key}.${unknown[0]}`, unknownKeyProblem(unknown[0], allowed!, key));
        return new Section(key, obj);
    }
}

class Section {
    constructor(private readonly key: string, private readonly obj: Record<string, unknown>) {}

    has(field: string): boolean {
        return this.obj[field] !== undefined;
    }

    isEmpty(): boolean {
        return Object.keys(this.obj).length === 0;
    }

    boolean(field: string, fallback: boolean): boolean {
        const v = this.obj[field] ?? fallback;
        if (typeof v !== "boolean") throw new ConfigError(`${this.key}.${field}`, `${JSON.stringify(v)} is not true or false`);
        return v;
    }

    string(field: string, fallback: string | undefined, pattern: RegExp, expected: string): string {
        const v = this.obj[field] ?? fallback;
        if (v === undefined) throw new ConfigError(`${this.key}.${field}`, `missing; expected ${expected}`);
        if (typeof v !== "string" || !pattern.test(v)) {
            throw new ConfigError(`${this.key}.${field}`, `${JSON.stringify(v)} is not ${expected}`);
        }
        return v;
    }

    /** A number in [min, max] with at most `decimals` decimal places. */
    decimal(field: string, fallback: number, min: number, max: number, decimals: number): number {
        const v = this.obj[field] ?? fallback;
        const scaled = typeof v === "number" ? v * 10 ** decimals : Number.NaN;
        if (typeof v !== "number" || !(v >= min && v <= max) || Math.abs(scaled - Math.round(scaled)) > 1e-9) {
            throw new ConfigError(`${this.key}.${field}`, `${JSON.stringify(v)} is not a number from ${min} to ${max} with at most ${decimals} decimals`);
        }
        return v;
    }

    /** A whole number in [min, max], or undefined when the field is absent (an opt-in setting). */
    optionalInteger(field: string, min: number, max: number): number | undefined {
        return this.has(field) ? this.integer(field, 0, min, max) : undefined;
    }

    integer(field: string, fallback: number, min: number, max: number): number {
        const v = this.obj[field] ?? fallback;
        if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
            throw new ConfigError(`${this.key}.${field}`, `${JSON.stringify(v)} is not a whole number from ${min} to ${max}`);
        }
        return v;
    }

    /** A list of strings, each matching `pattern`, without duplicates (compared case-insensitively). */
    stringList(field: string, pattern: RegExp, expected: string): string[] {
        const v = this.obj[field] ?? [];
        if (!Array.isArray(v)) throw new ConfigError(`${this.key}.${field}`, `${JSON.stringify(v)} is not a list of ${expected}`);
        const seen = new Set<string>();
        return v.map((item, i) => {
            if (typeof item !== "string" || !pattern.test(item)) {
                throw new ConfigError(`${this.key}.${field}[${i}]`, `${JSON.stringify(item)} is not ${expected}`);
            }
            if (seen.has(item.toLowerCase())) throw new ConfigError(`${this.key}.${field}[${i}]`, `${item} is listed twice`);
            seen.add(item.toLowerCase());
            return item;
        });
    }

    /**
     * An object-valued field as a section of its own (`claims.warehouse`), unknown fields refused with the
     * nearest known one named; undefined when the field is absent.
     */
    subsection(field: string, allowed: readonly string[]): Section | undefined {
        const v = this.obj[field];
        if (v === undefined) return undefined;
        const key = `${this.key}.${field}`;
        if (v === null || typeof v !== "object" || Array.isArray(v)) throw new ConfigError(key, "expected an object (a YAML mapping)");
        const unknown = Object.keys(v).filter((k) => !allowed.includes(k));
        if (unknown.length > 0) throw new ConfigError(`${key}.${unknown[0]}`, unknownKeyProblem(unknown[0], allowed, key));
        return new Section(key, v as Record<string, unknown>);
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

/**
 * Parses and validates the configuration of `stackName`. Defaults are the cheap, safe ones: Glue on the
 * STANDARD class with 2 workers, data kept on destroy, no reserved Lambda concurrency. Two keys (`stage`,
 * `accountId`) make a stack; the region is `aws:region` or, like the AWS CLI's, `AWS_REGION` /
 * `AWS_DEFAULT_REGION` of `env`.
 */
export function parseStackConfig(stackName: string, raw: RawConfig, env: Readonly<Record<string, string | undefined>> = process.env): StackConfig {
    rejectUnknownKeys(raw);
    const envRegion = env.AWS_REGION || env.AWS_DEFAULT_REGION;
    const r = new Reader(raw["aws:region"] || envRegion === undefined ? raw : { ...raw, "aws:region": envRegion });
    const stage = r.requiredString("stage", STAGE, "a stage name of 2-12 lowercase letters, digits or hyphens");
    const accountId = r.requiredString("accountId", ACCOUNT_ID, "a 12-digit AWS account id");
    const region = r.requiredString("region", REGION, "an AWS region such as eu-west-1 (or AWS_REGION in the environment)", "aws");
    const deployRoleArn = r.optionalString("deployRoleArn", ROLE_ARN, "an IAM role ARN");
    if (deployRoleArn && deployRoleArn.split(":")[4] !== accountId) {
        throw new ConfigError("deployRoleArn", `role ${deployRoleArn} is not in account ${accountId} (accountId)`);
    }
    const permissionsBoundaryArn = r.optionalString("permissionsBoundaryArn", POLICY_ARN, "an IAM managed policy ARN");
    if (permissionsBoundaryArn && permissionsBoundaryArn.split(":")[4] !== accountId) {
        throw new ConfigError("permissionsBoundaryArn", `policy ${permissionsBoundaryArn} is not in account ${accountId} (accountId)`);
    }

    // Every resource is tagged Environment, Project, Owner and CostCenter; a stack that names none of them
    // (the sandbox) still gets all four.
    const tagSection = r.section("tags").strings();
    if (tagSection.Environment !== undefined && tagSection.Environment !== stage) {
        throw new ConfigError("tags.Environment", `"${tagSection.Environment}" differs from stage "${stage}"; leave it out, it is set from stage`);
    }
    const tags = { ...DEFAULT_TAGS, ...tagSection, Environment: stage } as StackTags;

    const section = (key: string) => r.section(key, SECTION_FIELDS[key] ?? undefined);
    const glue = section("glue");
    const trigger = section("trigger");
    const promotion = section("promotion");
    const alerts = section("alerts");
    const claims = section("claims");
    const medallion = section("medallion");
    const csv = section("csv");
    const fastPath = section("fastPath");

    return {
        stackName,
        stage,
        accountId,
        region,
        deployRoleArn,
        permissionsBoundaryArn,
        tags,
        glue: {
            version: glue.string("version", "5.1", GLUE_VERSION, "a Glue version such as 5.1"),
            maxWorkers: glue.integer("maxWorkers", 2, 2, 100),
            executionClass: glue.oneOf<ExecutionClass>("executionClass", "STANDARD", ["STANDARD", "FLEX"]),
        },
        trigger: parseTrigger(trigger),
        alerts: { emails: alerts.stringList("emails", EMAIL, "an email address") },
        claims: {
            errorEmails: claims.has("errorEmails")
                ? claims.stringList("errorEmails", EMAIL, "an email address")
                : alerts.stringList("emails", EMAIL, "an email address"),
            minQualityScore: claims.decimal("minQualityScore", 95, 0, 100, 2),
            ...optionalWarehouse(parseClaimsWarehouse(claims.subsection("warehouse", CLAIMS_WAREHOUSE_FIELDS))),
        },
        allowDataDestroy: r.boolean("allowDataDestroy", SCALAR_KEYS.allowDataDestroy.default),
        csv: {
            delimiter: csv.oneOf("delimiter", "comma", CSV_DELIMITERS),
            encoding: csv.oneOf("encoding", "utf-8", CSV_ENCODINGS),
        },
        fastPath: parseFastPath(fastPath),
        medallion: medallion.isEmpty() ? undefined : parseMedallion(medallion),
        promotion: parsePromotion(promotion),
        smokeOnUp: r.boolean("smokeOnUp", SCALAR_KEYS.smokeOnUp.default),
    };
}

/**
 * Defaults of `fastPath`: the size limit is the contract's (docs/fast-path.md measured it); the function's
 * sizing is the CsvConverter's defaults (components/compute/csvConverter.ts says why; a test keeps them equal).
 */
export const FAST_PATH_CONFIG_DEFAULTS: FastPathSettings = {
    enabled: true,
    maxBytes: converterContract.defaults.maxBytes,
    memoryMb: 2048,
    timeoutSeconds: 120,
    ephemeralStorageMb: 2048,
    maximumConcurrency: 5,
};

function parseFastPath(f: Section): FastPathSettings {
    const D = FAST_PATH_CONFIG_DEFAULTS;
    const timeoutSeconds = f.integer("timeoutSeconds", D.timeoutSeconds, 1, 900);
    // The converter hands a file to Glue when fewer than the reserve seconds remain; no time would be left to convert.
    if (timeoutSeconds <= converterContract.defaults.deadlineReserveSeconds) {
        throw new ConfigError("fastPath.timeoutSeconds", `${timeoutSeconds} must exceed the converter's ${converterContract.defaults.deadlineReserveSeconds} s fallback reserve`);
    }
    return {
        enabled: f.boolean("enabled", D.enabled),
        // 10 GiB: Lambda's largest /tmp; a file must fit there beside its output.
        maxBytes: f.integer("maxBytes", D.maxBytes, 1, 10 * 1024 ** 3),
        memoryMb: f.integer("memoryMb", D.memoryMb, 128, 10240),
        timeoutSeconds,
        ephemeralStorageMb: f.integer("ephemeralStorageMb", D.ephemeralStorageMb, 512, 10240),
        maximumConcurrency: f.integer("maximumConcurrency", D.maximumConcurrency, 2, 1000),
    };
}

function parseTrigger(trigger: Section): TriggerSettings {
    const reservedConcurrency = trigger.optionalInteger("reservedConcurrency", 1, 1000);
    const q = trigger.subsection("queue", TRIGGER_QUEUE_FIELDS) ?? new Section("trigger.queue", {});
    const D = TRIGGER_QUEUE_CONFIG_DEFAULTS;
    const maximumConcurrency = q.integer("maximumConcurrency", D.maximumConcurrency, 2, 1000);
    // Beyond the reservation the mapping's invocations are throttled and its messages received again for nothing.
    if (reservedConcurrency !== undefined && maximumConcurrency > reservedConcurrency) {
        throw new ConfigError("trigger.queue.maximumConcurrency", `${maximumConcurrency} exceeds trigger.reservedConcurrency ${reservedConcurrency}`);
    }
    const requeueBaseDelaySeconds = q.optionalInteger("requeueBaseDelaySeconds", 1, 900);
    const maxWaitAttempts = q.optionalInteger("maxWaitAttempts", 1, 10000);
    return {
        memoryMb: trigger.integer("memoryMb", 256, 128, 10240),
        reservedConcurrency,
        queue: {
            batchSize: q.integer("batchSize", D.batchSize, 1, 10),
            maximumConcurrency,
            maxReceiveCount: q.integer("maxReceiveCount", D.maxReceiveCount, 1, 100),
            maxAgeAlarmSeconds: q.integer("maxAgeAlarmSeconds", D.maxAgeAlarmSeconds, 60, 86400),
            ...(requeueBaseDelaySeconds !== undefined ? { requeueBaseDelaySeconds } : {}),
            ...(maxWaitAttempts !== undefined ? { maxWaitAttempts } : {}),
        },
    };
}

/** `promotion`: absent without `fromStack`; `requireSmoke` alone would be a check on nothing, so it is refused. */
function parsePromotion(promotion: Section): PromotionSettings | undefined {
    if (!promotion.has("fromStack")) {
        if (promotion.has("requireSmoke")) throw new ConfigError("promotion.requireSmoke", "needs promotion.fromStack, the stack whose smoke output it checks");
        return undefined;
    }
    return {
        fromStack: promotion.string("fromStack", undefined, STACK_REF, "a stack name of the form org/project/stack"),
        requireSmoke: promotion.boolean("requireSmoke", true),
    };
}

/** Redshift Serverless capacities: 4, or 8 to 512 in steps of 8. */
function rpuCapacity(w: Section, field: string, fallback: number | undefined): number | undefined {
    if (!w.has(field) && fallback === undefined) return undefined;
    const v = w.integer(field, fallback ?? 0, 4, 512);
    if (v !== 4 && v % 8 !== 0) throw new ConfigError(`claims.warehouse.${field}`, `${v} is not a Redshift Serverless capacity: 4, or 8 to 512 in steps of 8`);
    return v;
}

/** The key only when set: a stack without a warehouse parses to exactly what it did before the option existed. */
function optionalWarehouse(warehouse: ClaimsWarehouseSettings | undefined): { warehouse?: ClaimsWarehouseSettings } {
    return warehouse === undefined ? {} : { warehouse };
}

function parseClaimsWarehouse(w: Section | undefined): ClaimsWarehouseSettings | undefined {
    if (w === undefined) return undefined;
    const D = CLAIMS_WAREHOUSE_DEFAULTS;
    const baseCapacity = rpuCapacity(w, "baseCapacity", D.baseCapacity)!;
    const maxCapacity = rpuCapacity(w, "maxCapacity", undefined);
    if (maxCapacity !== undefined && maxCapacity < baseCapacity) {
        throw new ConfigError("claims.warehouse.maxCapacity", `${maxCapacity} is below baseCapacity ${baseCapacity}`);
    }
    const vpcCidr = w.string("vpcCidr", D.vpcCidr, IPV4_CIDR, "an IPv4 CIDR block such as 10.42.0.0/16");
    const [a, b, c, d, bits] = IPV4_CIDR.exec(vpcCidr)!.slice(1).map(Number);
    // Three subnets of at least /24 (Redshift Serverless wants free addresses in each of three AZs) fit in a /22.
    if ([a, b, c, d].some((o) => o > 255) || bits < 16 || bits > 22) {
        throw new ConfigError("claims.warehouse.vpcCidr", `"${vpcCidr}" is not an IPv4 block from /16 to /22`);
    }
    return {
        baseCapacity,
        ...(maxCapacity !== undefined ? { maxCapacity } : {}),
        databaseName: w.string("databaseName", D.databaseName, DATABASE_NAME, "a database name (a lowercase letter, then lowercase letters, digits or _; up to 64)"),
        vpcCidr,
    };
}

function parseMedallion(m: Section): MedallionSettings {
    const schedule = m.string("schedule", MEDALLION_DEFAULT_SCHEDULE, SCHEDULE, "a schedule such as cron(0 9 * * ? *) or rate(1 day)");
    if (schedule.startsWith("cron(")) {
        const [, , dayOfMonth, , dayOfWeek] = schedule.slice(5, -1).split(" ");
        if ((dayOfMonth === "?") === (dayOfWeek === "?")) {
            throw new ConfigError("medallion.schedule", `"${schedule}": exactly one of day-of-month and day-of-week must be "?" (EventBridge cron)`);
        }
    }
    return {
        apiBaseUrl: m.string("apiBaseUrl", undefined, HTTPS_URL, "an https URL of the API's first page"),
        apiKeyHeader: m.string("apiKeyHeader", "x-api-key", HEADER_NAME, "an HTTP header name"),
        pageSize: m.integer("pageSize", 100, 1, 10000),
        schedule,
        scheduleEnabled: m.boolean("scheduleEnabled", true),
        noDataIsFailure: m.boolean("noDataIsFailure", false),
        // Athena's minimum cutoff is 10 MB; 1 GiB by default.
        athenaBytesScannedCutoffMb: m.integer("athenaBytesScannedCutoffMb", 1024, 10, 1024 * 1024),
        ingestConcurrency: m.optionalInteger("ingestConcurrency", 1, 1000),
    };
}
