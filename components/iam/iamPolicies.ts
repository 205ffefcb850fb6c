/**
 * Pure builders for IAM policy documents, shared by every component.
 *
 * Why plain JSON rather than `aws.iam.getPolicyDocument`: a data-source call is an invoke that needs the
 * provider (and, under mocks, returns whatever the mock echoes), while a plain object can be unit-tested
 * table-driven and read in a diff. Components resolve their ARNs first and call these inside `apply`:
 *
 *     policy: pulumi.all([bucket.arn, key.arn]).apply(([b, k]) =>
 *         JSON.stringify(policyDocument([...s3ReadStatements(b, ["raw/"]), kmsUseStatement(k, "decrypt")])))
 *
 * House rule enforced here: no builder ever emits Resource "*" for S3, DynamoDB, Glue, KMS or SQS actions;
 * each takes the ARN it grants on, and rejects an empty or wildcard one.
 */

/** The IAM policy language version every document here uses. */
export const POLICY_VERSION = "2012-10-17";

export type PolicyPrincipal =
    | "*"
    | { AWS?: string | string[]; Service?: string | string[]; Federated?: string | string[] };

/** One statement, with the keys in the spelling IAM expects. */
export interface PolicyStatement {
    Sid?: string;
    Effect: "Allow" | "Deny";
    Principal?: PolicyPrincipal;
    Action: string | string[];
    Resource?: string | string[];
    Condition?: Record<string, Record<string, string | string[] | boolean | number>>;
}

export interface PolicyDocument {
    Version: typeof POLICY_VERSION;
    Statement: PolicyStatement[];
}

/** Wraps statements into a document. Rejects an empty list: IAM refuses a policy without statements. */
export function policyDocument(statements: readonly PolicyStatement[]): PolicyDocument {
    if (statements.length === 0) throw new Error("policyDocument: at least one statement is required");
    return { Version: POLICY_VERSION, Statement: [...statements] };
}

/** Rejects a missing or wildcard ARN, so that a bug upstream cannot silently widen a grant to "*". */
function requireArn(arn: string, what: string): string {
    if (typeof arn !== "string" || !arn.startsWith("arn:") || arn.trim() === "*") {
        throw new Error(`${what}: expected an ARN, got ${JSON.stringify(arn)}`);
    }
    return arn;
}

/**
 * A key prefix in the form S3 policies want: no leading slash, and a trailing slash unless the prefix is
 * empty (whole bucket) or already ends in one. `raw` and `/raw/` both become `raw/`, so that a grant on
 * `raw` cannot leak into `raw-archive/`.
 */
export function normalizePrefix(prefix: string): string {
    const trimmed = prefix.replace(/^\/+/, "");
    if (trimmed === "") return "";
    if (trimmed.includes("*")) throw new Error(`normalizePrefix: wildcards are not allowed in a prefix (${prefix})`);
    return trimmed.endsWith("/") ? trimmed : `${trimmed}/`;
}

/**
 * ARNs of the objects under `prefixes` in the bucket (`<bucketArn>/<prefix>*`). No prefixes, or an empty
 * one, means the whole bucket (`<bucketArn>/*`).
 */
export function s3ObjectArns(bucketArn: string, prefixes: readonly string[] = []): string[] {
    requireArn(bucketArn, "s3ObjectArns");
    const normalized = prefixes.length === 0 ? [""] : prefixes.map(normalizePrefix);
    if (normalized.includes("")) return [`${bucketArn}/*`];
    return [...new Set(normalized)].map((p) => `${bucketArn}/${p}*`);
}

const sidPart = (sid: string | undefined, suffix: string): { Sid?: string } => (sid ? { Sid: `${sid}${suffix}` } : {});

/**
 * ListBucket on the bucket, limited by an `s3:prefix` condition when prefixes are given. Listing is what
 * lets a reader tell "no such key" (404) from "access denied" (403), which Spark and the SDKs rely on:
 * Hadoop's existence probe of a not-yet-written output path is a HEAD, and S3 answers a HEAD of a missing key
 * with 404 only to a caller that has s3:ListBucket on the bucket, else 403 (HeadObject, "Permissions", S3 API
 * reference). A HEAD carries no prefix parameter, and AWS does not document whether that implicit ListBucket
 * check sees `s3:prefix` absent or set to the key. The condition is therefore `StringLikeIfExists`: a listing
 * that names a prefix must name one of ours, and a check without the key still counts as ListBucket, so the
 * probe gets its 404 either way. What this admits beyond the prefixes: at most a listing request that sends no
 * prefix at all, if S3 leaves the key out for it — key names, never object content (GetObject stays scoped).
 */
export function s3ListStatement(bucketArn: string, prefixes: readonly string[] = [], sid?: string): PolicyStatement {
    requireArn(bucketArn, "s3ListStatement");
    const normalized = prefixes.map(normalizePrefix);
    const statement: PolicyStatement = {
        ...sidPart(sid, ""),
        Effect: "Allow",
        Action: ["s3:ListBucket"],
        Resource: bucketArn,
    };
    if (normalized.length > 0 && !normalized.includes("")) {
        // Both `raw/` and `raw/*`: a list call with prefix "raw/" matches only the former.
        const patterns = [...new Set(normalized)].flatMap((p) => [p, `${p}*`]);
        statement.Condition = { StringLikeIfExists: { "s3:prefix": patterns } };
    }
    return statement;
}

/** GetObject (and GetObjectVersion, for versioned buckets) on the objects under `prefixes`. */
export function s3GetObjectStatement(bucketArn: string, prefixes: readonly string[] = [], sid?: string): PolicyStatement {
    return {
        ...sidPart(sid, ""),
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:GetObjectVersion"],
        Resource: s3ObjectArns(bucketArn, prefixes),
    };
}

/** List (prefix-scoped) + get: everything a reader of `prefixes` needs. */
export function s3ReadStatements(bucketArn: string, prefixes: readonly string[] = [], sid?: string): PolicyStatement[] {
    return [s3ListStatement(bucketArn, prefixes, sid && `${sid}List`), s3GetObjectStatement(bucketArn, prefixes, sid && `${sid}Get`)];
}

export interface S3WriteOptions {
    /** Also allow DeleteObject (Spark's overwrite mode and committers delete what they replace). @default false */
    readonly delete?: boolean;
}

/** PutObject and AbortMultipartUpload (large writes are multipart) on the objects under `prefixes`. */
export function s3WriteStatement(
    bucketArn: string,
    prefixes: readonly string[] = [],
    options: S3WriteOptions = {},
    sid?: string,
): PolicyStatement {
    const actions = ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"];
    if (options.delete) actions.push("s3:DeleteObject");
    return { ...sidPart(sid, ""), Effect: "Allow", Action: actions, Resource: s3ObjectArns(bucketArn, prefixes) };
}

/** Read and write on the same prefixes. */
export function s3ReadWriteStatements(
    bucketArn: string,
    prefixes: readonly string[] = [],
    options: S3WriteOptions = {},
    sid?: string,
): PolicyStatement[] {
    return [...s3ReadStatements(bucketArn, prefixes, sid), s3WriteStatement(bucketArn, prefixes, options, sid && `${sid}Write`)];
}

export type KmsUse = "decrypt" | "encrypt" | "encryptDecrypt";

export interface KmsUseOptions {
    /**
     * Service endpoints (e.g. `s3.eu-west-1.amazonaws.com`) through which the key may be used; adds a
     * `kms:ViaService` condition so the key cannot be used directly. @default no condition
     */
    readonly viaServices?: readonly string[];
    readonly sid?: string;
}

/**
 * Use of one or more keys. `decrypt` → kms:Decrypt (reading SSE-KMS objects); `encrypt` →
 * kms:GenerateDataKey (writing SSE-KMS objects, sending to a KMS-encrypted queue); `encryptDecrypt` → both
 * (multipart uploads need Decrypt too, to assemble the parts).
 */
export function kmsUseStatement(keyArns: string | readonly string[], use: KmsUse, options: KmsUseOptions = {}): PolicyStatement {
    const arns = (typeof keyArns === "string" ? [keyArns] : [...keyArns]).map((a) => requireArn(a, "kmsUseStatement"));
    if (arns.length === 0) throw new Error("kmsUseStatement: at least one key ARN is required");
    const actions = {
        decrypt: ["kms:Decrypt"],
        encrypt: ["kms:GenerateDataKey"],
        encryptDecrypt: ["kms:Decrypt", "kms:GenerateDataKey"],
    }[use];
    const statement: PolicyStatement = { ...sidPart(options.sid, ""), Effect: "Allow", Action: actions, Resource: [...new Set(arns)] };
    if (options.viaServices && options.viaServices.length > 0) {
        statement.Condition = { StringEquals: { "kms:ViaService": [...options.viaServices] } };
    }
    return statement;
}

export interface DynamoDbItemAccess {
    /** GetItem, BatchGetItem, Query, ConditionCheckItem. @default true */
    readonly read?: boolean;
    /** PutItem, UpdateItem, ConditionCheckItem. @default true */
    readonly write?: boolean;
    /** DeleteItem. @default false */
    readonly delete?: boolean;
    /** Index names to allow Query on (`<table>/index/<name>`), or "all" for `<table>/index/*`. @default none */
    readonly indexes?: readonly string[] | "all";
    readonly sid?: string;
}

/** Item-level access to one table (never table management, scans or streams). */
export function dynamoDbItemStatement(tableArn: string, access: DynamoDbItemAccess = {}): PolicyStatement {
    requireArn(tableArn, "dynamoDbItemStatement");
    const { read = true, write = true } = access;
    const actions = new Set<string>();
    if (read) ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem"].forEach((a) => actions.add(a));
    if (write) ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"].forEach((a) => actions.add(a));
    if (access.delete) actions.add("dynamodb:DeleteItem");
    if (actions.size === 0) throw new Error("dynamoDbItemStatement: read, write and delete are all off; nothing to grant");
    const resources = [tableArn];
    if (access.indexes === "all") resources.push(`${tableArn}/index/*`);
    else for (const index of access.indexes ?? []) resources.push(`${tableArn}/index/${index}`);
    return { ...sidPart(access.sid, ""), Effect: "Allow", Action: [...actions], Resource: resources };
}

/**
 * The ARN of a log group without the `:*` suffix some APIs append (DescribeLogGroups returns it; the
 * Pulumi provider's `arn` output does not).
 */
export function logGroupBaseArn(logGroupArn: string): string {
    return requireArn(logGroupArn, "logGroupBaseArn").replace(/:\*$/, "");
}

/**
 * CreateLogStream and PutLogEvents on one log group and its streams: what a Lambda function or Glue job
 * writing to a pre-created log group needs (no CreateLogGroup: the group is infrastructure).
 */
export function cloudWatchLogsWriteStatement(logGroupArn: string, sid?: string): PolicyStatement {
    const base = logGroupBaseArn(logGroupArn);
    return {
        ...sidPart(sid, ""),
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: [base, `${base}:log-stream:*`],
    };
}

/** SendMessage on one queue (a dead-letter queue or an on-failure destination). */
export function sqsSendMessageStatement(queueArn: string, sid?: string): PolicyStatement {
    return { ...sidPart(sid, ""), Effect: "Allow", Action: ["sqs:SendMessage"], Resource: requireArn(queueArn, "sqsSendMessageStatement") };
}

/**
 * What a queue-fed function needs on its own queue: what the Lambda event source mapping calls with the
 * function's role (receive, delete, attributes, and the visibility change of a message it hands back), and
 * SendMessage, because the function re-sends a message whose start Glue refused for capacity with a delay
 * (functions/shared/queueFeed.ts).
 */
export function sqsConsumeStatement(queueArn: string, sid?: string): PolicyStatement {
    return {
        ...sidPart(sid, ""),
        Effect: "Allow",
        Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility", "sqs:SendMessage"],
        Resource: requireArn(queueArn, "sqsConsumeStatement"),
    };
}

/** Starting and reading runs of the given Glue jobs. */
export function glueJobRunStatement(
    jobArns: string | readonly string[],
    actions: readonly string[] = ["glue:StartJobRun", "glue:GetJobRun"],
    sid?: string,
): PolicyStatement {
    const arns = (typeof jobArns === "string" ? [jobArns] : [...jobArns]).map((a) => requireArn(a, "glueJobRunStatement"));
    if (arns.length === 0) throw new Error("glueJobRunStatement: at least one job ARN is required");
    const bad = actions.filter((a) => !a.startsWith("glue:"));
    if (bad.length > 0) throw new Error(`glueJobRunStatement: not Glue actions: ${bad.join(", ")}`);
    return { ...sidPart(sid, ""), Effect: "Allow", Action: [...actions], Resource: [...new Set(arns)] };
}

const bucketAndObjects = (bucketArn: string): string[] => [bucketArn, `${bucketArn}/*`];

/** Bucket-policy statement denying every request not made over TLS (`aws:SecureTransport` false). */
export function denyInsecureTransport(bucketArn: string): PolicyStatement {
    requireArn(bucketArn, "denyInsecureTransport");
    return {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: bucketAndObjects(bucketArn),
        Condition: { Bool: { "aws:SecureTransport": "false" } },
    };
}

/** Queue-policy statement denying every request not made over TLS: what every queue of ours carries. */
export function denyInsecureQueueTransport(queueArn: string): PolicyStatement {
    return {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "sqs:*",
        Resource: queueArn,
        Condition: { Bool: { "aws:SecureTransport": "false" } },
    };
}

/** Bucket-policy statement denying requests over TLS older than `minimumVersion` (`s3:TlsVersion`). */
export function denyOutdatedTls(bucketArn: string, minimumVersion = 1.2): PolicyStatement {
    requireArn(bucketArn, "denyOutdatedTls");
    return {
        Sid: "DenyOutdatedTls",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: bucketAndObjects(bucketArn),
        Condition: { NumericLessThan: { "s3:TlsVersion": minimumVersion } },
    };
}

/** Both TLS statements: what every bucket of ours carries. */
export function tlsOnlyBucketStatements(bucketArn: string, minimumVersion = 1.2): PolicyStatement[] {
    return [denyInsecureTransport(bucketArn), denyOutdatedTls(bucketArn, minimumVersion)];
}

export interface AssumeRoleConditions {
    /** Adds `aws:SourceAccount` (confused-deputy protection for service principals). */
    readonly sourceAccount?: string;
    /** Adds `aws:SourceArn` (ArnLike, wildcards allowed). */
    readonly sourceArn?: string | readonly string[];
}

/** Trust policy letting one AWS service (e.g. `lambda.amazonaws.com`, `glue.amazonaws.com`) assume a role. */
export function serviceAssumeRolePolicy(service: string | readonly string[], conditions: AssumeRoleConditions = {}): PolicyDocument {
    const services = typeof service === "string" ? [service] : [...service];
    const bad = services.filter((s) => !/^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$/.test(s));
    if (services.length === 0 || bad.length > 0) throw new Error(`serviceAssumeRolePolicy: not service principals: ${JSON.stringify(bad)}`);
    const statement: PolicyStatement = {
        Effect: "Allow",
        Principal: { Service: services.length === 1 ? services[0] : services },
        Action: "sts:AssumeRole",
    };
    const condition: NonNullable<PolicyStatement["Condition"]> = {};
    if (conditions.sourceAccount) condition.StringEquals = { "aws:SourceAccount": conditions.sourceAccount };
    if (conditions.sourceArn) {
        condition.ArnLike = { "aws:SourceArn": typeof conditions.sourceArn === "string" ? conditions.sourceArn : [...conditions.sourceArn] };
    }
    if (Object.keys(condition).length > 0) statement.Condition = condition;
    return policyDocument([statement]);
}

/** Service prefixes whose actions must never be granted on Resource "*". */
export const NO_WILDCARD_SERVICES: readonly string[] = ["s3", "dynamodb", "glue", "kms", "sqs"];

const toList = <T>(v: T | readonly T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? [...(v as T[])] : [v as T]);

/**
 * Allow statements of an identity policy that grant an action of `services` on a bare "*" resource.
 * Empty means the document is clean; components call it before returning a policy, tests assert on it.
 */
export function wildcardResourceViolations(
    doc: PolicyDocument | string,
    services: readonly string[] = NO_WILDCARD_SERVICES,
): PolicyStatement[] {
    const parsed: PolicyDocument = typeof doc === "string" ? JSON.parse(doc) : doc;
    return toList(parsed.Statement).filter((s) => {
        if (s.Effect !== "Allow") return false;
        const resources = toList(s.Resource);
        if (!resources.includes("*")) return false;
        return toList(s.Action).some((a) => a === "*" || services.includes(a.split(":")[0].toLowerCase()));
    });
}
