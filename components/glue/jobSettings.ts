/**
 * The plain settings of a Glue job (version, workers, concurrency, queuing, bookmarks, catalog, formats):
 * their defaults, and the service constraints they must meet, checked before any resource exists.
 *
 * Job run queuing (a run past `maxConcurrentRuns` waits in WAITING instead of failing with
 * ConcurrentRunsExceededException) has two documented service constraints, both rejected here rather than
 * silently overridden: it is not available to the Flex execution class, and it applies only to jobs with
 * `MaxRetries` 0 (Glue docs, "Job run statuses": standard jobs that are not configured to retry may enter
 * WAITING; AWS Big Data blog "Introducing job queuing to scale your AWS Glue workloads").
 */

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

/** What `validateGlueEtlJobArgs` reads: the job name, and any setting (documented on `GlueEtlJobArgs`). */
export type GlueEtlJobSettingsArgs = Pick<GlueEtlJobSettings, "jobName"> & Partial<Omit<GlueEtlJobSettings, "jobName">>;

const isInt = (v: number, min: number, max: number) => Number.isInteger(v) && v >= min && v <= max;

/**
 * Applies defaults and rejects invalid values and incompatible combinations, naming the fields. Collects
 * every problem so that one run of the program reports them all.
 */
export function validateGlueEtlJobArgs(args: GlueEtlJobSettingsArgs): GlueEtlJobSettings {
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
