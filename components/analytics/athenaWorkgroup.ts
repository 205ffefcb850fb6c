/**
 * AthenaWorkgroup: where the gold data is queried. The workgroup's settings are enforced (a client cannot
 * send results elsewhere or unencrypted), results land SSE-KMS encrypted under one prefix, every query is
 * cut off past a bytes-scanned limit (Athena bills per byte scanned), and CloudWatch gets query metrics.
 * Named queries ship with it, and the IAM policy document that lets a principal use this workgroup (and only
 * read what it needs) is an output: attaching it to analysts is the account administrators' act — the
 * workload's deploy role creates no managed policies (components/delivery/deployRoles.ts).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { PolicyDocument, kmsUseStatement, normalizePrefix, policyDocument, s3ReadStatements, s3ReadWriteStatements, wildcardResourceViolations } from "../iam/iamPolicies";
import { BucketRef } from "../glue/glueEtlJob";
import { parseArn } from "../glue/glueEnvironment";

/** 1 GiB: a mistaken full scan of a year of daily partitions stops costing money quickly. */
export const DEFAULT_BYTES_SCANNED_CUTOFF = 1024 ** 3;
/** Athena's minimum for the per-query cutoff (10 MB). */
export const MIN_BYTES_SCANNED_CUTOFF = 10_000_000;
export const ATHENA_ENGINE_VERSION = "Athena engine version 3";

export interface NamedQuerySpec {
    /** Unique within the workgroup; also the logical-name suffix. Letters, digits, '-' and '_'. */
    readonly name: string;
    readonly description: string;
    /** SQL text. Table names may be given unqualified; the query runs against `database`. */
    readonly query: string;
}

export interface AthenaWorkgroupArgs {
    /** Workgroup name, e.g. `medallion-dev`. */
    readonly name: string;
    /** The catalog database the named queries run against. */
    readonly databaseName: pulumi.Input<string>;
    /** Its ARN (region, account and partition of the analyst policy come from it). */
    readonly databaseArn: pulumi.Input<string>;
    /** Bucket of the query results. */
    readonly resultsBucket: BucketRef;
    /** Prefix of the query results in it (give it a lifecycle rule). */
    readonly resultsPrefix: string;
    /** Key the results are encrypted with (SSE-KMS); also the key of the data analysts read. */
    readonly kmsKeyArn: pulumi.Input<string>;
    /** Data the analyst policy may read: bucket and prefixes (the gold layer). */
    readonly dataReadAccess: { readonly bucketArn: pulumi.Input<string>; readonly prefixes: readonly string[] };
    /** Per-query cutoff in bytes scanned. @default 1 GiB */
    readonly bytesScannedCutoffPerQuery?: number;
    readonly namedQueries?: readonly NamedQuerySpec[];
    /** Whether `pulumi destroy` may delete the workgroup with its saved queries and history. @default false */
    readonly allowDestroy?: boolean;
    readonly description?: string;
    readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export interface AnalystPolicyInputs {
    readonly workgroupArn: string;
    readonly databaseArn: string;
    readonly resultsBucketArn: string;
    readonly resultsPrefix: string;
    readonly dataBucketArn: string;
    readonly dataPrefixes: readonly string[];
    readonly kmsKeyArn: string;
}

/**
 * What querying through this workgroup takes, and nothing more: query actions on the one workgroup, read
 * of the one database's catalog entries, read of the data prefixes, read/write of the results prefix, and
 * the key for both.
 */
export function analystPolicy(p: AnalystPolicyInputs): PolicyDocument {
    const { partition, region, account, resource } = parseArn(p.databaseArn);
    const database = resource.replace(/^database\//, "");
    const glueArn = (r: string) => `arn:${partition}:glue:${region}:${account}:${r}`;
    const doc = policyDocument([
        {
            Sid: "UseWorkgroup",
            Effect: "Allow",
            Action: [
                "athena:StartQueryExecution", "athena:StopQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults",
                "athena:GetQueryResultsStream", "athena:ListQueryExecutions", "athena:BatchGetQueryExecution", "athena:GetWorkGroup",
                "athena:ListNamedQueries", "athena:GetNamedQuery", "athena:BatchGetNamedQuery",
            ],
            Resource: p.workgroupArn,
        },
        {
            Sid: "ReadCatalog",
            Effect: "Allow",
            Action: ["glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition"],
            Resource: [glueArn("catalog"), glueArn(`database/${database}`), glueArn(`table/${database}/*`)],
        },
        ...s3ReadStatements(p.dataBucketArn, p.dataPrefixes, "ReadData"),
        ...s3ReadWriteStatements(p.resultsBucketArn, [p.resultsPrefix], {}, "Results"),
        { Sid: "ResultsBucketLocation", Effect: "Allow", Action: ["s3:GetBucketLocation"], Resource: p.resultsBucketArn },
        kmsUseStatement(p.kmsKeyArn, "encryptDecrypt", { sid: "UseDataKey" }),
    ]);
    const violations = wildcardResourceViolations(doc);
    if (violations.length > 0) throw new Error(`analystPolicy: data-plane actions on "*": ${JSON.stringify(violations)}`);
    return doc;
}

/** The workgroup's configuration (pure; the component passes Outputs through it). */
export function workgroupConfiguration(p: {
    resultsLocation: pulumi.Input<string>;
    kmsKeyArn: pulumi.Input<string>;
    bytesScannedCutoffPerQuery: number;
    expectedBucketOwner?: pulumi.Input<string>;
}): aws.types.input.athena.WorkgroupConfiguration {
    return {
        // Clients cannot override the results location or encryption.
        enforceWorkgroupConfiguration: true,
        publishCloudwatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: p.bytesScannedCutoffPerQuery,
        requesterPaysEnabled: false,
        engineVersion: { selectedEngineVersion: ATHENA_ENGINE_VERSION },
        resultConfiguration: {
            outputLocation: p.resultsLocation,
            encryptionConfiguration: { encryptionOption: "SSE_KMS", kmsKeyArn: p.kmsKeyArn },
            ...(p.expectedBucketOwner !== undefined ? { expectedBucketOwner: p.expectedBucketOwner } : {}),
            aclConfiguration: { s3AclOption: "BUCKET_OWNER_FULL_CONTROL" },
        },
    };
}

export class AthenaWorkgroup extends pulumi.ComponentResource {
    public readonly workgroup: aws.athena.Workgroup;
    public readonly namedQueries: aws.athena.NamedQuery[];
    /** IAM policy document (JSON) for the users or roles that query the gold data. */
    public readonly analystPolicyDocument: pulumi.Output<string>;
    public readonly workgroupName: pulumi.Output<string>;
    public readonly resultsLocation: pulumi.Output<string>;

    constructor(name: string, args: AthenaWorkgroupArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("glue-pipeline:analytics:AthenaWorkgroup", name, {}, opts);

        if (!/^[A-Za-z0-9._-]{1,128}$/.test(args.name ?? "")) throw new Error(`AthenaWorkgroup: name ${JSON.stringify(args.name)} must be 1-128 letters, digits, '.', '_' or '-'`);
        const cutoff = args.bytesScannedCutoffPerQuery ?? DEFAULT_BYTES_SCANNED_CUTOFF;
        if (!Number.isInteger(cutoff) || cutoff < MIN_BYTES_SCANNED_CUTOFF) {
            throw new Error(`AthenaWorkgroup: bytesScannedCutoffPerQuery must be a whole number of bytes >= ${MIN_BYTES_SCANNED_CUTOFF} (Athena's minimum), got ${cutoff}`);
        }
        const resultsPrefix = normalizePrefix(args.resultsPrefix ?? "");
        if (resultsPrefix === "") throw new Error("AthenaWorkgroup: resultsPrefix is required (results get their own prefix and lifecycle)");
        if (args.dataReadAccess.prefixes.length === 0) throw new Error("AthenaWorkgroup: dataReadAccess.prefixes needs at least one prefix");
        const queries = args.namedQueries ?? [];
        const seen = new Set<string>();
        for (const q of queries) {
            if (!/^[A-Za-z0-9_-]{1,64}$/.test(q.name)) throw new Error(`AthenaWorkgroup: named query ${JSON.stringify(q.name)} must be 1-64 letters, digits, '-' or '_'`);
            if (seen.has(q.name)) throw new Error(`AthenaWorkgroup: named query ${q.name} is defined twice`);
            seen.add(q.name);
            if (q.query.trim() === "") throw new Error(`AthenaWorkgroup: named query ${q.name} has no SQL`);
        }

        this.resultsLocation = pulumi.interpolate`s3://${args.resultsBucket.bucket}/${resultsPrefix}`;
        const account = pulumi.output(args.databaseArn).apply((arn) => parseArn(arn).account);
        this.workgroup = new aws.athena.Workgroup(
            `${name}-workgroup`,
            {
                name: args.name,
                description: args.description ?? `Queries over the medallion gold tables (${args.name})`,
                state: "ENABLED",
                forceDestroy: args.allowDestroy ?? false,
                configuration: workgroupConfiguration({ resultsLocation: this.resultsLocation, kmsKeyArn: args.kmsKeyArn, bytesScannedCutoffPerQuery: cutoff, expectedBucketOwner: account }),
                tags: args.tags,
            },
            { parent: this },
        );
        this.workgroupName = this.workgroup.name;

        this.namedQueries = queries.map(
            (q) =>
                new aws.athena.NamedQuery(
                    `${name}-query-${q.name}`,
                    { name: q.name, description: q.description, workgroup: this.workgroup.name, database: args.databaseName, query: q.query },
                    { parent: this },
                ),
        );

        this.analystPolicyDocument = pulumi
            .all([this.workgroup.arn, args.databaseArn, args.resultsBucket.arn, args.dataReadAccess.bucketArn, args.kmsKeyArn])
            .apply(([workgroupArn, databaseArn, resultsBucketArn, dataBucketArn, kmsKeyArn]) =>
                JSON.stringify(analystPolicy({ workgroupArn, databaseArn, resultsBucketArn, resultsPrefix, dataBucketArn, dataPrefixes: args.dataReadAccess.prefixes, kmsKeyArn })),
            );

        this.registerOutputs({ workgroupName: this.workgroupName, resultsLocation: this.resultsLocation, analystPolicyDocument: this.analystPolicyDocument });
    }
}

/**
 * The named queries over the medallion gold tables (crawled as `<prefix>orders` and `<prefix>daily_sales`).
 * Both filter on the partition columns, so Athena reads only the days asked for.
 */
export function medallionNamedQueries(tablePrefix: string): NamedQuerySpec[] {
    const orders = `${tablePrefix}orders`;
    const daily = `${tablePrefix}daily_sales`;
    return [
        {
            name: "medallion-daily-revenue-last-7-days",
            description: "Revenue, orders and average order value per day and currency over the last 7 days (partition-pruned)",
            query: [
                "SELECT order_date, currency, orders, items, net_revenue, round(net_revenue / orders, 2) AS avg_order_value",
                `FROM ${daily}`,
                "WHERE date(concat(year, '-', month, '-', day)) >= current_date - INTERVAL '7' DAY",
                "ORDER BY order_date DESC, currency",
            ].join("\n"),
        },
        {
            name: "medallion-top-customers-this-month",
            description: "The 20 customers with the highest net spend this month, from the order-level gold table",
            query: [
                "SELECT customer_id, currency, count(*) AS orders, sum(net_amount) AS net_spend, max(order_ts) AS last_order",
                `FROM ${orders}`,
                "WHERE year = date_format(current_date, '%Y') AND month = date_format(current_date, '%m') AND status <> 'cancelled'",
                "GROUP BY customer_id, currency",
                "ORDER BY net_spend DESC",
                "LIMIT 20",
            ].join("\n"),
        },
    ];
}
