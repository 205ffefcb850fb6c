/**
 * The medallion flow's settings (pure): the layer prefixes in the data bucket, the schedule and its check,
 * the ingestion function's and the Glue job's limits, the crawler's configuration, the names of log groups
 * and failure-mail subscriptions. MedallionWorkflow (./medallionWorkflow.ts) builds its resources from them.
 */
import { emailSubscriptionId } from "../messaging/encryptedTopic";

/** Key prefixes of the medallion layers in the data bucket. */
export interface MedallionPrefixes {
    readonly raw: string;
    readonly silver: string;
    readonly gold: string;
    readonly rejected: string;
    readonly state: string;
}

export const MEDALLION_PREFIXES: MedallionPrefixes = {
    raw: "medallion/raw/",
    silver: "medallion/processed/",
    gold: "medallion/curated/",
    rejected: "medallion/rejected/",
    state: "medallion/_state/",
};

/**
 * Logical names of the failure-mail subscriptions: one per address, named by the address so that reordering
 * or removing another address neither replaces nor unconfirms it (SNS e-mail subscriptions are confirmed by
 * the recipient; a replaced one must be confirmed again). `previousName` is the name by list index that
 * stacks deployed before carry: an alias to it adopts their subscriptions without replacing them, provided the
 * list is not reordered in the same update (then an address inherits another's index and is replaced once).
 */
export function failureSubscriptionNames(component: string, emails: readonly string[]): Array<{ email: string; name: string; previousName: string }> {
    return emails.map((email, i) => ({ email, name: `${component}-failure-email-${emailSubscriptionId(email)}`, previousName: `${component}-failure-email-${i}` }));
}

/** The medallion flow's requirements: daily at 09:00 UTC. */
export const DEFAULT_MEDALLION_SCHEDULE = "cron(0 9 * * ? *)";
/**
 * The medallion flow's requirements: "Concurrent executions: 10 (prevents API rate limit)". A value to configure, not a default: a
 * reservation must leave the account's minimum unreserved concurrency free, which a new account cannot.
 */
export const REQUIRED_INGEST_CONCURRENCY = 10;
/** The medallion flow's requirements: Lambda timeout 5 minutes, 512 MB. */
export const INGEST_TIMEOUT_SECONDS = 300;
export const INGEST_MEMORY_MB = 512;
/** The medallion flow's requirements: Glue timeout 30 minutes. */
export const MEDALLION_JOB_TIMEOUT_MINUTES = 30;
/** Crawler table names get this prefix, so gold tables cannot collide with other flows' in the shared database. */
export const GOLD_TABLE_PREFIX = "medallion_";
/** Where Glue crawlers without a security configuration log (an account-wide name). */
export const CRAWLER_LOG_GROUP = "/aws-glue/crawlers";
/** Step Functions' recommended prefix: the Logs resource policy it needs stays small under /aws/vendedlogs/. */
export const stateMachineLogGroupName = (name: string): string => `/aws/vendedlogs/states/${name}`;

/** Scheduler expressions: cron(6 fields), rate(n unit) or at(yyyy-mm-ddThh:mm:ss). */
export function validateScheduleExpression(expression: string): string {
    const cron = /^cron\((\S+\s+){5}\S+\)$/;
    const rate = /^rate\(\d+ (minute|minutes|hour|hours|day|days)\)$/;
    const at = /^at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\)$/;
    if (typeof expression !== "string" || !(cron.test(expression) || rate.test(expression) || at.test(expression))) {
        throw new Error(`MedallionWorkflow: scheduleExpression ${JSON.stringify(expression)} is not cron(m h dom mon dow yr), rate(n unit) or at(...)`);
    }
    if (cron.test(expression)) {
        const [, , dom, , dow] = expression.slice(5, -1).trim().split(/\s+/);
        // EventBridge requires exactly one of day-of-month and day-of-week to be "?".
        if ((dom === "?") === (dow === "?")) throw new Error(`MedallionWorkflow: scheduleExpression ${expression}: exactly one of day-of-month and day-of-week must be "?"`);
    }
    return expression;
}

/** The Glue crawler's `configuration`: tables one level below the gold prefix, schema changes merged in. */
export function crawlerConfiguration(goldPrefix: string): string {
    const level = goldPrefix.split("/").filter(Boolean).length + 1;
    return JSON.stringify({
        Version: 1.0,
        // One table per folder under the gold prefix (orders/, daily_sales/); year=/month=/day= are partitions.
        Grouping: { TableLevelConfiguration: level, TableGroupingPolicy: "CombineCompatibleSchemas" },
        CrawlerOutput: {
            // A new column is added to the table; partitions take the table's schema, so old ones stay queryable.
            Tables: { AddOrUpdateBehavior: "MergeNewColumns" },
            Partitions: { AddOrUpdateBehavior: "InheritFromTable" },
        },
    });
}

/** The command that sets the API key (shown in outputs and errors; the key never passes through Pulumi). */
export const setApiKeyCommand = (secretArn: string): string => `aws secretsmanager put-secret-value --secret-id ${secretArn} --secret-string '<api key>'`;
