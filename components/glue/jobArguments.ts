/**
 * The default arguments of a Glue job: the ones GlueEtlJob owns (where code comes from, where logs, temp
 * data and Spark UI events go, which features are on) and the caller's, which may never replace them.
 */
import * as pulumi from "@pulumi/pulumi";

import { jobCodePrefixes } from "./jobCode";
import { GlueBookmarkOption, GlueDataCatalogAccess, GlueDatalakeFormat } from "./jobSettings";

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

