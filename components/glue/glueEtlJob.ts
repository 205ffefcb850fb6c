/**
 * GlueEtlJob: one PySpark Glue job with its code, its own least-privilege role and its log groups.
 *
 * The script and the shared Python library are uploaded from the working tree when the program runs, under
 * keys that change with their content (`scripts/<job>/<sha12>/<file>.py`,
 * `libs/<job>/<sha12>/glue_pipeline.zip`). So `pulumi up` always ships the code in the tree, a changed
 * script can never be shadowed by a cached object of the same key, and `scriptSha256`/`librarySha256` tell
 * prod exactly which code dev ran. The library key carries the job name because each job owns its upload:
 * two jobs sharing one key would delete each other's object when one of them goes away.
 *
 * The job attaches the environment's security configuration (S3 SSE-KMS, CloudWatch SSE-KMS, bookmarks
 * CSE-KMS). Under it Glue logs to `/aws-glue/jobs/<config>-role/<role>/{output,error}`, names that contain
 * this job's role: the job therefore creates those two groups itself, with the environment's retention.
 *
 * Job run queuing (a run past `maxConcurrentRuns` waits in WAITING instead of failing with
 * ConcurrentRunsExceededException) has two documented service constraints, both rejected here rather than
 * silently overridden: it is not available to the Flex execution class, and it applies only to jobs with
 * `MaxRetries` 0 (Glue docs, "Job run statuses": standard jobs that are not configured to retry may enter
 * WAITING; AWS Big Data blog "Introducing job queuing to scale your AWS Glue workloads").
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import {
    cloudWatchLogsWriteStatement,
    glueJobRunStatement,
    logGroupBaseArn,
    normalizePrefix,
    policyDocument,
    PolicyDocument,
    PolicyStatement,
    s3GetObjectStatement,
    s3ReadStatements,
    s3ReadWriteStatements,
    serviceAssumeRolePolicy,
    wildcardResourceViolations,
} from "../iam/iamPolicies";
import { DEFAULT_GLUE_LOG_RETENTION_DAYS, encryptedJobLogGroupNames, GlueJobEnvironment, parseArn } from "./glueEnvironment";
import { REPO_ROOT } from "../compute/lambdaBundle";

// ---------------------------------------------------------------------------------------------------------
// Types and defaults
// ---------------------------------------------------------------------------------------------------------

export type GlueExecutionClass = "STANDARD" | "FLEX";
export type GlueBookmarkOption = "enable" | "disable" | "pause";
/** Catalog access of the job: none, read (Spark's catalog look-ups), or read plus table/partition writes. */
export type GlueDataCatalogAccess = "off" | "read" | "readWrite";
export type GlueDatalakeFormat = "delta" | "iceberg" | "hudi";

/** Worker types a `glueetl` job accepts (G.025X is for streaming jobs only). */
export const GLUE_ETL_WORKER_TYPES: readonly string[] = ["G.1X", "G.2X", "G.4X", "G.8X", "G.12X", "G.16X", "R.1X", "R.2X", "R.4X", "R.8X"];
/** Worker types the Flex execution class runs on. */
export const GLUE_FLEX_WORKER_TYPES: readonly string[] = ["G.1X", "G.2X"];

export const GLUE_ETL_DEFAULTS = {
    libraryDir: "glue/lib",
    glueVersion: "5.1",
    workerType: "G.1X",
    maxWorkers: 10,
    timeoutMinutes: 60,
    maxConcurrentRuns: 3,
    maxRetries: 0,
    executionClass: "STANDARD" as GlueExecutionClass,
    jobRunQueuing: true,
    bookmarks: "disable" as GlueBookmarkOption,
    dataCatalog: "read" as GlueDataCatalogAccess,
} as const;

/** File name of the zipped library passed with `--extra-py-files`. */
export const LIBRARY_ARCHIVE_NAME = "glue_pipeline.zip";

/** A bucket by name and ARN; an `aws.s3.Bucket` satisfies it. */
export interface BucketRef {
    readonly bucket: pulumi.Input<string>;
    readonly arn: pulumi.Input<string>;
}

/** Access to key prefixes of one bucket. `""` in `prefixes` means the whole bucket. */
export interface S3PrefixGrant {
    readonly bucketArn: pulumi.Input<string>;
    readonly prefixes: readonly string[];
}

export interface GlueEtlJobArgs {
    /** Physical Glue job name, unique in the account, e.g. `FileProcessorV2-dev`. */
    readonly jobName: string;
    /** The entry script (`.py`), relative to the repository root (e.g. `glue/jobs/file_processor.py`) or absolute. */
    readonly scriptPath: string;
    /**
     * Directory whose files are zipped (deterministically; `__pycache__`, `*.pyc`, `*.pyo` and dot-files left
     * out) and passed with `--extra-py-files`; relative to the repository root or absolute. `false`: no library.
     * @default "glue/lib"
     */
    readonly libraryDir?: string | false;
    /** Bucket the script and library are uploaded to; also holds the job's temp dir and Spark UI logs. */
    readonly assetsBucket: BucketRef;
    /** The stack's Glue environment (a `GlueEnvironment`, or the same values from elsewhere). */
    readonly environment: GlueJobEnvironment;
    /** KMS key of the buckets the job reads and writes, and of the uploaded code. @default the environment's key */
    readonly kmsKeyArn?: pulumi.Input<string>;
    /** Glue version, `major.minor`, 3.0 or later (auto scaling needs it). @default "5.1" (Spark 3.5, Python 3.11) */
    readonly glueVersion?: string;
    /** Worker type. @default "G.1X" */
    readonly workerType?: string;
    /** Maximum number of workers; auto scaling is on, so this is the ceiling, not a fixed size. Minimum 2. @default 10 */
    readonly maxWorkers?: number;
    /** Run timeout in minutes (1–2880). @default 60 */
    readonly timeoutMinutes?: number;
    /** Runs allowed at once; with queuing, further runs wait. @default 3 */
    readonly maxConcurrentRuns?: number;
    /** Automatic retries of a failed run (0–10). Must be 0 with job run queuing. @default 0 */
    readonly maxRetries?: number;
    /** STANDARD, or FLEX (spare capacity, cheaper, may start late; G.1X/G.2X only; no queuing). @default "STANDARD" */
    readonly executionClass?: GlueExecutionClass;
    /** Queue runs beyond the concurrency limits instead of failing them. Not with FLEX or maxRetries > 0. @default true */
    readonly jobRunQueuing?: boolean;
    /** Job bookmarks. FileProcessorV2 keeps them off: every run gets its own file. @default "disable" */
    readonly bookmarks?: GlueBookmarkOption;
    /** Glue Data Catalog as Spark's metastore, and what the role may do in it. @default "read" */
    readonly dataCatalog?: GlueDataCatalogAccess;
    /** Data lake formats to load (`--datalake-formats`). @default none */
    readonly datalakeFormats?: readonly GlueDatalakeFormat[];
    /**
     * Extra default arguments (`--name`: value). They may not set the arguments this component owns (see
     * {@link RESERVED_JOB_ARGUMENTS}); a conflict is an error naming the keys. @default none
     */
    readonly defaultArguments?: Readonly<Record<string, pulumi.Input<string>>>;
    /** Prefixes the job reads (list + get). @default none */
    readonly readAccess?: readonly S3PrefixGrant[];
    /** Prefixes the job writes (list, get, put, delete: Spark's committers rename and overwrite). @default none */
    readonly writeAccess?: readonly S3PrefixGrant[];
    /** The processing-metadata table: grants GetItem/UpdateItem and sets `--metadata_table`. @default none */
    readonly metadataTableArn?: pulumi.Input<string>;
    /** Further statements for the role (checked: no S3/DynamoDB/Glue/KMS/SQS action on "*"). @default none */
    readonly extraStatements?: pulumi.Input<pulumi.Input<PolicyStatement>[]>;
    /** Job description. @default "Glue ETL job {jobName}" */
    readonly description?: string;
    /** Tags for every taggable child. @default none */
    readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

// ---------------------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------------------

/** The resolved, validated plain settings of a job (what `validateGlueEtlJobArgs` returns). */
export interface GlueEtlJobSettings {
    readonly jobName: string;
    readonly glueVersion: string;
    readonly workerType: string;
    readonly maxWorkers: number;
    readonly timeoutMinutes: number;
    readonly maxConcurrentRuns: number;
    readonly maxRetries: number;
    readonly executionClass: GlueExecutionClass;
    readonly jobRunQueuing: boolean;
    readonly bookmarks: GlueBookmarkOption;
    readonly dataCatalog: GlueDataCatalogAccess;
    readonly datalakeFormats: readonly GlueDatalakeFormat[];
}

const isInt = (v: number, min: number, max: number) => Number.isInteger(v) && v >= min && v <= max;

/**
 * Applies defaults and rejects invalid values and incompatible combinations, naming the fields. Collects
 * every problem so that one run of the program reports them all.
 */
export function validateGlueEtlJobArgs(
    args: Pick<
        GlueEtlJobArgs,
        | "jobName" | "glueVersion" | "workerType" | "maxWorkers" | "timeoutMinutes" | "maxConcurrentRuns" | "maxRetries"
        | "executionClass" | "jobRunQueuing" | "bookmarks" | "dataCatalog" | "datalakeFormats"
    >,
): GlueEtlJobSettings {
    const d = GLUE_ETL_DEFAULTS;
    const s: GlueEtlJobSettings = {
        jobName: args.jobName,
        glueVersion: args.glueVersion ?? d.glueVersion,
        workerType: args.workerType ?? d.workerType,
        maxWorkers: args.maxWorkers ?? d.maxWorkers,
        timeoutMinutes: args.timeoutMinutes ?? d.timeoutMinutes,
        maxConcurrentRuns: args.maxConcurrentRuns ?? d.maxConcurrentRuns,
        maxRetries: args.maxRetries ?? d.maxRetries,
        executionClass: args.executionClass ?? d.executionClass,
        jobRunQueuing: args.jobRunQueuing ?? d.jobRunQueuing,
        bookmarks: args.bookmarks ?? d.bookmarks,
        dataCatalog: args.dataCatalog ?? d.dataCatalog,
        datalakeFormats: args.datalakeFormats ?? [],
    };
    const problems: string[] = [];
    if (typeof s.jobName !== "string" || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$/.test(s.jobName)) {
        problems.push(`jobName must be 1-200 letters, digits, '_', '.', '-' starting with a letter or digit (got ${JSON.stringify(s.jobName)})`);
    }
    const version = /^(\d+)\.(\d+)$/.exec(s.glueVersion);
    if (!version) problems.push(`glueVersion must look like "5.1" (got ${JSON.stringify(s.glueVersion)})`);
    else if (Number(version[1]) < 3) problems.push(`glueVersion ${s.glueVersion} is older than 3.0, which auto scaling and Flex need`);
    if (!GLUE_ETL_WORKER_TYPES.includes(s.workerType)) problems.push(`workerType must be one of ${GLUE_ETL_WORKER_TYPES.join(", ")} (got ${s.workerType})`);
    if (!isInt(s.maxWorkers, 2, 1000)) problems.push(`maxWorkers must be an integer from 2 to 1000 (got ${s.maxWorkers})`);
    if (!isInt(s.timeoutMinutes, 1, 2880)) problems.push(`timeoutMinutes must be an integer from 1 to 2880 (got ${s.timeoutMinutes})`);
    if (!isInt(s.maxConcurrentRuns, 1, 1000)) problems.push(`maxConcurrentRuns must be an integer from 1 to 1000 (got ${s.maxConcurrentRuns})`);
    if (!isInt(s.maxRetries, 0, 10)) problems.push(`maxRetries must be an integer from 0 to 10 (got ${s.maxRetries})`);
    if (s.executionClass !== "STANDARD" && s.executionClass !== "FLEX") problems.push(`executionClass must be STANDARD or FLEX (got ${s.executionClass})`);
    if (!["enable", "disable", "pause"].includes(s.bookmarks)) problems.push(`bookmarks must be enable, disable or pause (got ${s.bookmarks})`);
    if (!["off", "read", "readWrite"].includes(s.dataCatalog)) problems.push(`dataCatalog must be off, read or readWrite (got ${s.dataCatalog})`);
    const badFormats = s.datalakeFormats.filter((f) => !["delta", "iceberg", "hudi"].includes(f));
    if (badFormats.length > 0) problems.push(`datalakeFormats may contain delta, iceberg, hudi (got ${badFormats.join(", ")})`);
    if (s.executionClass === "FLEX" && !GLUE_FLEX_WORKER_TYPES.includes(s.workerType)) {
        problems.push(`executionClass FLEX runs only on ${GLUE_FLEX_WORKER_TYPES.join(" or ")} workers (workerType is ${s.workerType})`);
    }
    if (s.jobRunQueuing && s.executionClass === "FLEX") {
        problems.push("jobRunQueuing and executionClass FLEX are incompatible: Glue does not queue Flex runs (set jobRunQueuing: false)");
    }
    if (s.jobRunQueuing && s.maxRetries > 0) {
        problems.push(
            `jobRunQueuing and maxRetries ${s.maxRetries} are incompatible: Glue queues only jobs with MaxRetries 0 ` +
                "(set maxRetries: 0, or jobRunQueuing: false and handle ConcurrentRunsExceededException in the caller)",
        );
    }
    if (problems.length > 0) throw new Error(`GlueEtlJob ${String(args.jobName)}: ${problems.join("; ")}`);
    return s;
}

// ---------------------------------------------------------------------------------------------------------
// Code: hashing, zipping, keys
// ---------------------------------------------------------------------------------------------------------

export const sha256Hex = (data: Buffer | string): string => crypto.createHash("sha256").update(data).digest("hex");

/** Lowercase hex SHA-256 of a file's bytes. */
export function hashFile(file: string): string {
    return sha256Hex(fs.readFileSync(file));
}

/** Entries never shipped: bytecode caches and hidden files (editor, test and OS clutter). */
export function isIgnoredLibraryEntry(name: string): boolean {
    return name === "__pycache__" || name.startsWith(".") || name.endsWith(".pyc") || name.endsWith(".pyo");
}

export interface LibraryFile {
    /** POSIX path relative to the library directory: the path inside the zip. */
    readonly relativePath: string;
    readonly absolutePath: string;
}

/** Regular files under `dir`, ignored entries left out, sorted by relative path (code-unit order). */
export function listLibraryFiles(dir: string): LibraryFile[] {
    const files: LibraryFile[] = [];
    const walk = (current: string, rel: string) => {
        for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
            if (isIgnoredLibraryEntry(entry.name)) continue;
            const abs = path.join(current, entry.name);
            const relPath = rel ? `${rel}/${entry.name}` : entry.name;
            if (entry.isDirectory()) walk(abs, relPath);
            else if (entry.isFile()) files.push({ relativePath: relPath, absolutePath: abs });
        }
    };
    walk(dir, "");
    return files.sort((a, b) => (a.relativePath < b.relativePath ? -1 : a.relativePath > b.relativePath ? 1 : 0));
}

/**
 * Content hash of a directory: SHA-256 over `<relative path>\0<file sha256>\n` per file in sorted order.
 * Independent of file times, creation order and the zip format; changes when any shipped byte or name does.
 */
export function hashDirectory(dir: string): string {
    return sha256Hex(listLibraryFiles(dir).map((f) => `${f.relativePath}\0${hashFile(f.absolutePath)}\n`).join(""));
}

let crcTable: Uint32Array | undefined;
/** CRC-32 (zip's checksum): zlib's native one where Node has it (20.15+), else a table-driven one. */
export function crc32(data: Buffer): number {
    const native = (zlib as { crc32?: (d: Buffer) => number }).crc32;
    if (typeof native === "function") return native(data) >>> 0;
    if (!crcTable) {
        crcTable = new Uint32Array(256);
        for (let n = 0; n < 256; n++) {
            let c = n;
            for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
            crcTable[n] = c >>> 0;
        }
    }
    let crc = 0xffffffff;
    for (const byte of data) crc = crcTable[(crc ^ byte) & 0xff] ^ (crc >>> 8);
    return (crc ^ 0xffffffff) >>> 0;
}

// DOS date of 1980-01-01, time 00:00: a fixed timestamp keeps the archive a function of the content only.
const ZIP_DOS_DATE = (0 << 9) | (1 << 5) | 1;
const ZIP_DOS_TIME = 0;

/**
 * A deterministic zip (deflate, or stored when deflate does not help; UTF-8 names; fixed timestamps; mode
 * 0644) of `entries`, in the order given. Enough for Python's zipimport, which is how Glue loads
 * `--extra-py-files`.
 */
export function zipEntries(entries: readonly { name: string; data: Buffer }[]): Buffer {
    if (entries.length > 0xffff) throw new Error("zipEntries: too many files for a non-zip64 archive");
    const locals: Buffer[] = [];
    const centrals: Buffer[] = [];
    let offset = 0;
    for (const { name, data } of entries) {
        const nameBytes = Buffer.from(name, "utf8");
        const deflated = zlib.deflateRawSync(data, { level: 9 });
        const stored = deflated.length >= data.length;
        const body = stored ? data : deflated;
        const crc = crc32(data);
        if (data.length > 0xfffffffe || offset > 0xfffffffe) throw new Error("zipEntries: archive too large for a non-zip64 zip");
        const local = Buffer.alloc(30);
        local.writeUInt32LE(0x04034b50, 0);
        local.writeUInt16LE(20, 4);
        local.writeUInt16LE(0x0800, 6);
        local.writeUInt16LE(stored ? 0 : 8, 8);
        local.writeUInt16LE(ZIP_DOS_TIME, 10);
        local.writeUInt16LE(ZIP_DOS_DATE, 12);
        local.writeUInt32LE(crc, 14);
        local.writeUInt32LE(body.length, 18);
        local.writeUInt32LE(data.length, 22);
        local.writeUInt16LE(nameBytes.length, 26);
        local.writeUInt16LE(0, 28);
        const central = Buffer.alloc(46);
        central.writeUInt32LE(0x02014b50, 0);
        central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, so the external attributes are a mode
        central.writeUInt16LE(20, 6);
        central.writeUInt16LE(0x0800, 8);
        central.writeUInt16LE(stored ? 0 : 8, 10);
        central.writeUInt16LE(ZIP_DOS_TIME, 12);
        central.writeUInt16LE(ZIP_DOS_DATE, 14);
        central.writeUInt32LE(crc, 16);
        central.writeUInt32LE(body.length, 20);
        central.writeUInt32LE(data.length, 24);
        central.writeUInt16LE(nameBytes.length, 28);
        central.writeUInt32LE((0o100644 << 16) >>> 0, 38);
        central.writeUInt32LE(offset, 42);
        locals.push(local, nameBytes, body);
        centrals.push(central, nameBytes);
        offset += local.length + nameBytes.length + body.length;
    }
    const centralDirectory = Buffer.concat(centrals);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(entries.length, 8);
    end.writeUInt16LE(entries.length, 10);
    end.writeUInt32LE(centralDirectory.length, 12);
    end.writeUInt32LE(offset, 16);
    return Buffer.concat([...locals, centralDirectory, end]);
}

export interface LibraryArchive {
    /** {@link hashDirectory} of the library directory. */
    readonly sha256: string;
    readonly zip: Buffer;
    readonly files: readonly string[];
}

/** Zips the library directory (paths relative to it, so `glue_pipeline/` sits at the root of the zip). */
export function buildLibraryArchive(dir: string): LibraryArchive {
    const files = listLibraryFiles(dir);
    if (files.length === 0) throw new Error(`buildLibraryArchive: no files to ship under ${dir}`);
    const zip = zipEntries(files.map((f) => ({ name: f.relativePath, data: fs.readFileSync(f.absolutePath) })));
    return { sha256: hashDirectory(dir), zip, files: files.map((f) => f.relativePath) };
}

/** `scripts/<job>/<sha12>/<file name>` */
export function scriptObjectKey(jobName: string, scriptFileName: string, sha256: string): string {
    return `${jobCodePrefixes(jobName).script}${sha256.slice(0, 12)}/${scriptFileName}`;
}

/** `libs/<job>/<sha12>/glue_pipeline.zip` */
export function libraryObjectKey(jobName: string, sha256: string): string {
    return `${jobCodePrefixes(jobName).library}${sha256.slice(0, 12)}/${LIBRARY_ARCHIVE_NAME}`;
}

/** The prefixes in the assets bucket that belong to one job. */
export function jobCodePrefixes(jobName: string): { script: string; library: string; temp: string; sparkUi: string } {
    return { script: `scripts/${jobName}/`, library: `libs/${jobName}/`, temp: `temp/${jobName}/`, sparkUi: `sparkui/${jobName}/` };
}

/** Resolves a path given relative to the repository root (or absolute). */
export function resolveRepoPath(p: string): string {
    return path.isAbsolute(p) ? p : path.join(REPO_ROOT, p);
}

/** IAM role name of a job: `<job>-GlueJobRole`, shortened with a hash when over IAM's 64 characters. */
export function glueJobRoleName(jobName: string): string {
    const suffix = "-GlueJobRole";
    const full = `${jobName}${suffix}`;
    if (full.length <= 64) return full;
    const hash = sha256Hex(jobName).slice(0, 8);
    return `${jobName.slice(0, 64 - suffix.length - hash.length - 1)}-${hash}${suffix}`;
}

// ---------------------------------------------------------------------------------------------------------
// Default arguments
// ---------------------------------------------------------------------------------------------------------

/**
 * Arguments this component owns and callers may not set through `defaultArguments`: they decide where code
 * comes from, where logs and temp data go (and so what the role can write and how long logs live), and
 * which security features are on.
 */
export const RESERVED_JOB_ARGUMENTS: readonly string[] = [
    "--job-language",
    "--extra-py-files",
    "--enable-auto-scaling",
    "--job-bookmark-option",
    "--enable-metrics",
    "--enable-observability-metrics",
    "--enable-job-insights",
    "--enable-continuous-cloudwatch-log",
    "--continuous-log-logGroup",
    "--custom-logGroup-prefix",
    "--enable-spark-ui",
    "--spark-event-logs-path",
    "--TempDir",
    "--enable-glue-datacatalog",
    "--datalake-formats",
    "--encryption-type",
    "--metadata_table",
    "--scriptLocation",
    "--JOB_NAME",
];

export interface OwnedArgumentInputs<T> {
    readonly assetsBucket: T;
    readonly jobName: string;
    readonly libraryKey?: string;
    readonly bookmarks: GlueBookmarkOption;
    readonly dataCatalog: GlueDataCatalogAccess;
    readonly datalakeFormats: readonly GlueDatalakeFormat[];
    readonly metadataTableName?: T;
}

/** The default arguments the component sets (bucket and table names may be Outputs). */
export function ownedDefaultArguments(o: OwnedArgumentInputs<pulumi.Input<string>>): Record<string, pulumi.Input<string>> {
    const prefixes = jobCodePrefixes(o.jobName);
    const s3 = (key: string) => pulumi.interpolate`s3://${o.assetsBucket}/${key}`;
    const args: Record<string, pulumi.Input<string>> = {
        "--job-language": "python",
        "--enable-auto-scaling": "true",
        "--job-bookmark-option": `job-bookmark-${o.bookmarks}`,
        "--enable-metrics": "true",
        "--enable-observability-metrics": "true",
        "--enable-job-insights": "true",
        "--enable-continuous-cloudwatch-log": "true",
        "--enable-spark-ui": "true",
        "--spark-event-logs-path": s3(prefixes.sparkUi),
        "--TempDir": s3(prefixes.temp),
    };
    if (o.libraryKey) args["--extra-py-files"] = s3(o.libraryKey);
    if (o.dataCatalog !== "off") args["--enable-glue-datacatalog"] = "true";
    if (o.datalakeFormats.length > 0) args["--datalake-formats"] = [...new Set(o.datalakeFormats)].join(",");
    if (o.metadataTableName !== undefined) args["--metadata_table"] = o.metadataTableName;
    return args;
}

/**
 * Owned arguments plus the caller's. Rejects caller keys that are not `--name` shaped, and caller keys
 * that are reserved, naming them all: a user value must never silently replace a security-relevant one.
 */
export function mergeDefaultArguments<V>(owned: Readonly<Record<string, V>>, user: Readonly<Record<string, V>> = {}): Record<string, V> {
    const userKeys = Object.keys(user);
    const malformed = userKeys.filter((k) => !/^--[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(k));
    if (malformed.length > 0) throw new Error(`defaultArguments: keys must look like --name (bad: ${malformed.join(", ")})`);
    const conflicts = userKeys.filter((k) => RESERVED_JOB_ARGUMENTS.includes(k) || k in owned);
    if (conflicts.length > 0) {
        throw new Error(
            `defaultArguments may not set ${conflicts.join(", ")}: GlueEtlJob owns them ` +
                "(use its fields: bookmarks, libraryDir, dataCatalog, datalakeFormats, metadataTableArn)",
        );
    }
    return { ...owned, ...user };
}

// ---------------------------------------------------------------------------------------------------------
// Role policy
// ---------------------------------------------------------------------------------------------------------

export interface GlueJobPolicyInputs {
    readonly jobName: string;
    /** ARN of the catalog database; gives partition, region and account for the other ARNs. */
    readonly databaseArn: string;
    readonly assetsBucketArn: string;
    /** Whether a library is shipped (its prefix becomes readable). */
    readonly withLibrary: boolean;
    readonly readAccess: readonly { bucketArn: string; prefixes: readonly string[] }[];
    readonly writeAccess: readonly { bucketArn: string; prefixes: readonly string[] }[];
    readonly kmsKeyArns: readonly string[];
    readonly logGroupArns: readonly string[];
    readonly metadataTableArn?: string;
    readonly bookmarks: GlueBookmarkOption;
    readonly dataCatalog: GlueDataCatalogAccess;
    readonly extraStatements?: readonly PolicyStatement[];
}

/** `arn:<partition>:glue:<region>:<account>:job/<name>` */
export function glueJobArn(databaseArn: string, jobName: string): string {
    const { partition, region, account } = parseArn(databaseArn);
    return `arn:${partition}:glue:${region}:${account}:job/${jobName}`;
}

/** The name in `arn:...:dynamodb:<region>:<account>:table/<name>`. */
export function dynamoDbTableName(tableArn: string): string {
    const { service, resource } = parseArn(tableArn);
    const match = /^table\/([A-Za-z0-9_.-]+)$/.exec(resource);
    if (service !== "dynamodb" || !match) throw new Error(`dynamoDbTableName: not a DynamoDB table ARN: ${tableArn}`);
    return match[1];
}

/**
 * Key use for SSE-KMS objects and CSE-KMS bookmarks: Glue's security-configuration setup asks for
 * Decrypt, Encrypt and GenerateDataKey. (iamPolicies' kmsUseStatement has no kms:Encrypt.)
 */
function kmsEncryptDecryptStatement(keyArns: readonly string[]): PolicyStatement {
    const bad = keyArns.filter((k) => !k.startsWith("arn:"));
    if (keyArns.length === 0 || bad.length > 0) throw new Error(`kmsEncryptDecryptStatement: expected key ARNs, got ${JSON.stringify(keyArns)}`);
    return { Sid: "UseKmsKey", Effect: "Allow", Action: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"], Resource: [...new Set(keyArns)] };
}

/**
 * The job role's whole policy: code, input, output and scratch prefixes, the KMS key, its log groups,
 * Glue metrics, and (when configured) the metadata record, bookmarks and catalog. The only "*" resource is
 * cloudwatch:PutMetricData, which has no resource ARN and is held to the "Glue" namespace instead.
 */
export function glueJobRolePolicy(p: GlueJobPolicyInputs): PolicyDocument {
    const { partition, region, account } = parseArn(p.databaseArn);
    const prefixes = jobCodePrefixes(p.jobName);
    const statements: PolicyStatement[] = [
        s3GetObjectStatement(p.assetsBucketArn, p.withLibrary ? [prefixes.script, prefixes.library] : [prefixes.script], "ReadJobCode"),
        ...p.readAccess.flatMap((g, i) => s3ReadStatements(g.bucketArn, g.prefixes, `ReadInput${i}`)),
        ...p.writeAccess.flatMap((g, i) => s3ReadWriteStatements(g.bucketArn, g.prefixes, { delete: true }, `WriteOutput${i}`)),
        ...s3ReadWriteStatements(p.assetsBucketArn, [prefixes.temp, prefixes.sparkUi], { delete: true }, "JobScratch"),
        kmsEncryptDecryptStatement(p.kmsKeyArns),
    ];
    if (p.logGroupArns.length === 0) throw new Error("glueJobRolePolicy: the job needs at least one log group");
    const logWrites = p.logGroupArns.map((arn) => cloudWatchLogsWriteStatement(arn));
    statements.push({
        Sid: "WriteLogs",
        Effect: "Allow",
        Action: logWrites[0].Action,
        Resource: [...new Set(logWrites.flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource as string])))],
    });
    // Under an encrypting security configuration Glue associates the key with the group itself (without this
    // it turns continuous logging off) and creates the group if it is missing; held to these groups only.
    statements.push({
        Sid: "SetUpLogGroups",
        Effect: "Allow",
        Action: ["logs:AssociateKmsKey", "logs:CreateLogGroup"],
        Resource: [...new Set(p.logGroupArns.map(logGroupBaseArn))],
    });
    statements.push({
        Sid: "PutGlueMetrics",
        Effect: "Allow",
        Action: ["cloudwatch:PutMetricData"],
        Resource: "*",
        Condition: { StringEquals: { "cloudwatch:namespace": "Glue" } },
    });
    if (p.metadataTableArn !== undefined) {
        dynamoDbTableName(p.metadataTableArn);
        statements.push({ Sid: "MetadataRecord", Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:UpdateItem"], Resource: p.metadataTableArn });
    }
    if (p.bookmarks !== "disable") {
        statements.push(glueJobRunStatement(glueJobArn(p.databaseArn, p.jobName), ["glue:GetJobBookmark"], "JobBookmark"));
    }
    if (p.dataCatalog !== "off") {
        const glueArn = (resource: string) => `arn:${partition}:glue:${region}:${account}:${resource}`;
        const database = parseArn(p.databaseArn).resource.replace(/^database\//, "");
        // Spark's metastore client looks at `default` when a session starts, and at our database when used.
        statements.push({
            Sid: "DataCatalogRead",
            Effect: "Allow",
            Action: [
                "glue:GetDatabase", "glue:GetDatabases", "glue:GetTable", "glue:GetTables", "glue:GetPartition",
                "glue:GetPartitions", "glue:BatchGetPartition", "glue:GetUserDefinedFunction", "glue:GetUserDefinedFunctions",
            ],
            Resource: [
                glueArn("catalog"),
                glueArn("database/default"),
                glueArn(`database/${database}`),
                glueArn(`table/${database}/*`),
                glueArn(`userDefinedFunction/${database}/*`),
            ],
        });
        if (p.dataCatalog === "readWrite") {
            statements.push({
                Sid: "DataCatalogWrite",
                Effect: "Allow",
                Action: [
                    "glue:CreateTable", "glue:UpdateTable", "glue:CreatePartition", "glue:BatchCreatePartition",
                    "glue:UpdatePartition", "glue:BatchUpdatePartition",
                ],
                Resource: [glueArn("catalog"), glueArn(`database/${database}`), glueArn(`table/${database}/*`)],
            });
        }
    }
    statements.push(...(p.extraStatements ?? []));
    const doc = policyDocument(statements);
    const violations = wildcardResourceViolations(doc);
    if (violations.length > 0) {
        throw new Error(`glueJobRolePolicy: statements grant S3/DynamoDB/Glue/KMS/SQS actions on "*": ${JSON.stringify(violations)}`);
    }
    return doc;
}

// ---------------------------------------------------------------------------------------------------------
// The component
// ---------------------------------------------------------------------------------------------------------

export class GlueEtlJob extends pulumi.ComponentResource {
    public readonly job: aws.glue.Job;
    public readonly role: aws.iam.Role;
    public readonly rolePolicy: aws.iam.RolePolicy;
    public readonly scriptObject: aws.s3.BucketObject;
    /** The zipped library, unless `libraryDir` is false. */
    public readonly libraryObject?: aws.s3.BucketObject;
    /** `/aws-glue/jobs/<security configuration>-role/<role>/output` */
    public readonly outputLogGroup: aws.cloudwatch.LogGroup;
    /** `/aws-glue/jobs/<security configuration>-role/<role>/error` */
    public readonly errorLogGroup: aws.cloudwatch.LogGroup;

    /** The validated settings the job was created with. */
    public readonly settings: GlueEtlJobSettings;
    public readonly jobName: pulumi.Output<string>;
    public readonly jobArn: pulumi.Output<string>;
    public readonly roleArn: pulumi.Output<string>;
    public readonly roleName: string;
    public readonly scriptKey: string;
    public readonly scriptS3Uri: pulumi.Output<string>;
    /** SHA-256 of the script's bytes. */
    public readonly scriptSha256: string;
    public readonly libraryKey?: string;
    /** {@link hashDirectory} of the library directory, when a library is shipped. */
    public readonly librarySha256?: string;
    /** The job's default arguments (owned plus the caller's). */
    public readonly defaultArguments: Record<string, pulumi.Input<string>>;

    constructor(name: string, args: GlueEtlJobArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("glue-pipeline:glue:GlueEtlJob", name, {}, opts);

        // Everything that can be wrong with the arguments is found before any child is created.
        const settings = validateGlueEtlJobArgs(args);
        const { jobName } = settings;
        const scriptFile = resolveRepoPath(args.scriptPath);
        if (!scriptFile.endsWith(".py") || !fs.existsSync(scriptFile) || !fs.statSync(scriptFile).isFile()) {
            throw new Error(`GlueEtlJob ${jobName}: scriptPath must name an existing .py file (resolved to ${scriptFile})`);
        }
        const libraryDirArg = args.libraryDir ?? GLUE_ETL_DEFAULTS.libraryDir;
        const libraryDir = libraryDirArg === false ? undefined : resolveRepoPath(libraryDirArg);
        if (libraryDir !== undefined && (!fs.existsSync(libraryDir) || !fs.statSync(libraryDir).isDirectory())) {
            throw new Error(`GlueEtlJob ${jobName}: libraryDir must be an existing directory, or false (resolved to ${libraryDir})`);
        }
        const grants = [...(args.readAccess ?? []), ...(args.writeAccess ?? [])];
        const emptyGrants = grants.filter((g) => g.prefixes.length === 0);
        if (emptyGrants.length > 0) throw new Error(`GlueEtlJob ${jobName}: readAccess/writeAccess need at least one prefix each ("" for a whole bucket)`);
        grants.forEach((g) => g.prefixes.forEach(normalizePrefix));
        const userArguments = args.defaultArguments ?? {};
        mergeDefaultArguments({}, userArguments); // key shape and reserved keys, before any child exists

        this.settings = settings;
        const tags = args.tags;
        const env = args.environment;
        const kmsKeyArn = args.kmsKeyArn ?? env.kmsKeyArn;

        // --- code -------------------------------------------------------------------------------------------
        const scriptBytes = fs.readFileSync(scriptFile);
        this.scriptSha256 = sha256Hex(scriptBytes);
        this.scriptKey = scriptObjectKey(jobName, path.basename(scriptFile), this.scriptSha256);
        this.scriptObject = new aws.s3.BucketObject(
            `${name}-script`,
            {
                bucket: args.assetsBucket.bucket,
                key: this.scriptKey,
                content: scriptBytes.toString("utf8"),
                contentType: "text/x-python",
                serverSideEncryption: "aws:kms",
                kmsKeyId: kmsKeyArn,
                bucketKeyEnabled: true,
                tags,
            },
            { parent: this },
        );
        if (libraryDir !== undefined) {
            const archive = buildLibraryArchive(libraryDir);
            this.librarySha256 = archive.sha256;
            this.libraryKey = libraryObjectKey(jobName, archive.sha256);
            this.libraryObject = new aws.s3.BucketObject(
                `${name}-library`,
                {
                    bucket: args.assetsBucket.bucket,
                    key: this.libraryKey,
                    contentBase64: archive.zip.toString("base64"),
                    contentType: "application/zip",
                    serverSideEncryption: "aws:kms",
                    kmsKeyId: kmsKeyArn,
                    bucketKeyEnabled: true,
                    tags,
                },
                { parent: this },
            );
        }
        this.scriptS3Uri = pulumi.interpolate`s3://${args.assetsBucket.bucket}/${this.scriptKey}`;

        // --- role and its log groups --------------------------------------------------------------------------
        this.roleName = glueJobRoleName(jobName);
        const sourceAccount = pulumi.output(env.databaseArn).apply((arn) => parseArn(arn).account);
        this.role = new aws.iam.Role(
            `${name}-role`,
            {
                name: this.roleName,
                description: `Runs the Glue job ${jobName}`,
                assumeRolePolicy: sourceAccount.apply((account) =>
                    JSON.stringify(serviceAssumeRolePolicy("glue.amazonaws.com", { sourceAccount: account })),
                ),
                tags,
            },
            { parent: this },
        );

        const retention = env.logRetentionInDays ?? DEFAULT_GLUE_LOG_RETENTION_DAYS;
        const jobLogGroupNames = pulumi.output(env.securityConfigurationName).apply((sc) => encryptedJobLogGroupNames(sc, this.roleName));
        const jobLogGroup = (role: "output" | "error") =>
            new aws.cloudwatch.LogGroup(
                `${name}-${role}-logs`,
                { name: jobLogGroupNames[role], retentionInDays: retention, kmsKeyId: kmsKeyArn, tags },
                { parent: this },
            );
        this.outputLogGroup = jobLogGroup("output");
        this.errorLogGroup = jobLogGroup("error");

        const toGrant = (g: S3PrefixGrant) => pulumi.output(g.bucketArn).apply((bucketArn) => ({ bucketArn, prefixes: [...g.prefixes] }));
        const policy = pulumi
            .output({
                databaseArn: env.databaseArn,
                assetsBucketArn: args.assetsBucket.arn,
                readAccess: pulumi.all((args.readAccess ?? []).map(toGrant)),
                writeAccess: pulumi.all((args.writeAccess ?? []).map(toGrant)),
                kmsKeyArns: pulumi.all([kmsKeyArn, env.kmsKeyArn]),
                sharedLogGroupArns: pulumi.output(env.sharedLogGroupArns),
                jobLogGroupArns: pulumi.all([this.outputLogGroup.arn, this.errorLogGroup.arn]),
                metadataTableArn: args.metadataTableArn,
                extraStatements: pulumi.output(args.extraStatements ?? []),
            })
            .apply((r) =>
                JSON.stringify(
                    glueJobRolePolicy({
                        jobName,
                        databaseArn: r.databaseArn,
                        assetsBucketArn: r.assetsBucketArn,
                        withLibrary: libraryDir !== undefined,
                        readAccess: r.readAccess,
                        writeAccess: r.writeAccess,
                        kmsKeyArns: r.kmsKeyArns,
                        logGroupArns: [...r.jobLogGroupArns, ...r.sharedLogGroupArns],
                        metadataTableArn: r.metadataTableArn,
                        bookmarks: settings.bookmarks,
                        dataCatalog: settings.dataCatalog,
                        extraStatements: r.extraStatements as PolicyStatement[],
                    }),
                ),
            );
        this.rolePolicy = new aws.iam.RolePolicy(`${name}-policy`, { role: this.role.name, policy }, { parent: this });

        // --- the job -----------------------------------------------------------------------------------------
        const metadataTableName =
            args.metadataTableArn === undefined ? undefined : pulumi.output(args.metadataTableArn).apply(dynamoDbTableName);
        this.defaultArguments = mergeDefaultArguments(
            ownedDefaultArguments({
                assetsBucket: args.assetsBucket.bucket,
                jobName,
                libraryKey: this.libraryKey,
                bookmarks: settings.bookmarks,
                dataCatalog: settings.dataCatalog,
                datalakeFormats: settings.datalakeFormats,
                metadataTableName,
            }),
            userArguments,
        );

        this.job = new aws.glue.Job(
            `${name}-job`,
            {
                name: jobName,
                description: args.description ?? `Glue ETL job ${jobName}`,
                roleArn: this.role.arn,
                command: { name: "glueetl", pythonVersion: "3", scriptLocation: this.scriptS3Uri },
                glueVersion: settings.glueVersion,
                workerType: settings.workerType,
                numberOfWorkers: settings.maxWorkers,
                timeout: settings.timeoutMinutes,
                maxRetries: settings.maxRetries,
                executionProperty: { maxConcurrentRuns: settings.maxConcurrentRuns },
                executionClass: settings.executionClass,
                jobRunQueuingEnabled: settings.jobRunQueuing,
                securityConfiguration: env.securityConfigurationName,
                defaultArguments: this.defaultArguments,
                tags,
            },
            {
                parent: this,
                // A run must find its permissions, its log groups (else Glue creates them with infinite
                // retention) and its code in place.
                dependsOn: [this.rolePolicy, this.outputLogGroup, this.errorLogGroup, this.scriptObject, ...(this.libraryObject ? [this.libraryObject] : [])],
            },
        );

        this.jobName = this.job.name;
        this.jobArn = this.job.arn;
        this.roleArn = this.role.arn;

        this.registerOutputs({
            jobName: this.jobName,
            jobArn: this.jobArn,
            roleArn: this.roleArn,
            scriptS3Uri: this.scriptS3Uri,
            scriptSha256: this.scriptSha256,
            librarySha256: this.librarySha256,
        });
    }
}
