/**
 * The pipeline's S3 storage: input, output and assets buckets (the requirements' names), an access-log bucket, and
 * the KMS key that encrypts them — secure by default, data kept on delete unless the stack says otherwise.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { PolicyStatement, normalizePrefix, policyDocument, tlsOnlyBucketStatements } from "../iam/iamPolicies";
import { HardenedBucket, HardenedBucketArgs, LifecycleRule, accessLogDeliveryStatement } from "./hardenedBucket";

/** The three buckets that hold pipeline data (the access-log bucket is separate: it cannot use SSE-KMS). */
export type DataBucketRole = "input" | "output" | "assets";
export const DATA_BUCKET_ROLES: readonly DataBucketRole[] = ["input", "output", "assets"];

export interface BucketNames {
    readonly input: string;
    readonly output: string;
    readonly assets: string;
    readonly accessLogs: string;
}

/** S3's limit on bucket-name length. */
export const MAX_BUCKET_NAME_LENGTH = 63;
const STAGE_PATTERN = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
const ACCOUNT_ID_PATTERN = /^\d{12}$/;

/** Rejects a stage that cannot be part of a bucket name, or that makes the longest name exceed 63 chars. */
export function validateStage(stage: string): void {
    if (typeof stage !== "string" || !STAGE_PATTERN.test(stage)) {
        throw new Error(
            `DataLakeBuckets: stage ${JSON.stringify(stage)} is invalid; use lowercase letters, digits and hyphens, ` +
                "starting and ending with a letter or digit (it becomes part of S3 bucket names)",
        );
    }
    // Account IDs are always 12 digits, so the length check does not need to wait for the real one.
    const longest = Object.values(bucketNamesUnchecked(stage, "000000000000")).reduce((a, b) => (b.length > a.length ? b : a));
    if (longest.length > MAX_BUCKET_NAME_LENGTH) {
        throw new Error(
            `DataLakeBuckets: stage ${JSON.stringify(stage)} is too long; bucket name ${longest} would be ` +
                `${longest.length} characters, S3 allows ${MAX_BUCKET_NAME_LENGTH}`,
        );
    }
}

export function validateAccountId(accountId: string): void {
    if (!ACCOUNT_ID_PATTERN.test(accountId)) {
        throw new Error(`DataLakeBuckets: accountId ${JSON.stringify(accountId)} is not a 12-digit AWS account ID`);
    }
}

function bucketNamesUnchecked(stage: string, accountId: string): BucketNames {
    return {
        input: `glue-input-${stage}-${accountId}`,
        output: `glue-output-${stage}-${accountId}`,
        assets: `glue-assets-v2-${stage}-${accountId}`,
        accessLogs: `glue-access-logs-${stage}-${accountId}`,
    };
}

/** The four bucket names for a stage and account (the requirements' convention), validated. */
export function bucketNames(stage: string, accountId: string): BucketNames {
    validateStage(stage);
    validateAccountId(accountId);
    return bucketNamesUnchecked(stage, accountId);
}

/** One lifecycle transition: after `days`, move to `storageClass`. */
export interface LifecycleTransition {
    readonly days: number;
    readonly storageClass: "STANDARD_IA" | "ONEZONE_IA" | "INTELLIGENT_TIERING" | "GLACIER_IR" | "GLACIER" | "DEEP_ARCHIVE";
}

/**
 * A per-prefix lifecycle rule added to a bucket's defaults, e.g. the claims flow's archive. A rule without
 * `expirationDays` keeps objects forever, so its prefix must not also be under the bucket's expiration.
 */
export interface PrefixLifecycleRule {
    /** Rule ID, unique within the bucket. */
    readonly id: string;
    /** Key prefix the rule applies to (normalised to end in `/`). */
    readonly prefix: string;
    /** Transitions in increasing `days`. @default none */
    readonly transitions?: readonly LifecycleTransition[];
    /** Days after which current objects under the prefix expire. @default never */
    readonly expirationDays?: number;
}

/** The claims flow's retention: Standard → IA at 30 d → Glacier at 90 d → Deep Archive at 365 d, never deleted. */
export const CLAIMS_ARCHIVE_TRANSITIONS: readonly LifecycleTransition[] = [
    { days: 30, storageClass: "STANDARD_IA" },
    { days: 90, storageClass: "GLACIER" },
    { days: 365, storageClass: "DEEP_ARCHIVE" },
];

/** Retention settings of one data bucket. */
export interface DataBucketRetention {
    /**
     * Days after which current objects expire; `null` keeps them forever. Buckets are versioned, so an
     * expired object becomes a noncurrent version and is gone `noncurrentVersionExpirationDays` later.
     */
    readonly expirationDays?: number | null;
    /**
     * Prefixes the expiration applies to; `[""]` is the whole bucket. Narrow it when a prefix rule keeps
     * objects forever (S3 applies the shortest expiration of overlapping rules). @default [""]
     */
    readonly expirationPrefixes?: readonly string[];
    /** Days after which a noncurrent (overwritten or deleted) version is removed. */
    readonly noncurrentVersionExpirationDays?: number;
    /** Extra per-prefix rules (transitions, other expirations). @default none */
    readonly prefixRules?: readonly PrefixLifecycleRule[];
    /** Extra statements for the bucket policy (only one policy per bucket exists, so add them here). */
    readonly policyStatements?: readonly PolicyStatement[];
}

/** The requirements' defaults: input 30 d, output 90 d, assets permanent; noncurrent versions kept 30 d (assets 90 d). */
export const DEFAULT_RETENTION: Readonly<Record<DataBucketRole, Required<Pick<DataBucketRetention, "expirationDays" | "noncurrentVersionExpirationDays">>>> = {
    input: { expirationDays: 30, noncurrentVersionExpirationDays: 30 },
    output: { expirationDays: 90, noncurrentVersionExpirationDays: 30 },
    assets: { expirationDays: null, noncurrentVersionExpirationDays: 90 },
};

export const DEFAULT_ABORT_INCOMPLETE_UPLOAD_DAYS = 7;
export const DEFAULT_ACCESS_LOG_RETENTION_DAYS = 90;
/** Log groups whose encryption this key may serve: Glue's (security configuration) and Lambda's. */
export const DEFAULT_LOG_GROUP_NAME_PATTERNS: readonly string[] = ["/aws-glue/*", "/aws/lambda/*"];

export interface DataLakeBucketsArgs {
    /** Deployment stage (`dev`, `prod`, ...): lowercase letters, digits, hyphens; part of every bucket name. */
    readonly stage: string;
    /** The account the buckets live in (the stack passes the caller identity's); part of every bucket name. */
    readonly accountId: pulumi.Input<string>;
    /**
     * ARN of an existing KMS key to encrypt the data buckets with. When absent, a key is created (rotation
     * on) whose policy is `dataLakeKeyPolicy`. @default a new key
     */
    readonly kmsKeyArn?: pulumi.Input<string>;
    /**
     * Whether `pulumi destroy` may delete the buckets, their objects and the key. False keeps them
     * (`retainOnDelete`) and leaves `forceDestroy` off; only a throwaway stack should set true. @default false
     */
    readonly allowDestroy?: boolean;
    /** Input bucket retention. @default { expirationDays: 30, noncurrentVersionExpirationDays: 30 } */
    readonly input?: DataBucketRetention;
    /** Output bucket retention. @default { expirationDays: 90, noncurrentVersionExpirationDays: 30 } */
    readonly output?: DataBucketRetention;
    /** Assets bucket retention. @default { expirationDays: null, noncurrentVersionExpirationDays: 90 } */
    readonly assets?: DataBucketRetention;
    /** Days after which incomplete multipart uploads are aborted, in every bucket. @default 7 */
    readonly abortIncompleteMultipartUploadDays?: number;
    /** Days access logs are kept. @default 90 */
    readonly accessLogRetentionDays?: number;
    /** Minimum TLS version requests must use. @default 1.2 */
    readonly minimumTlsVersion?: number;
    /** Log-group name patterns CloudWatch Logs may encrypt with the created key. @default ["/aws-glue/*", "/aws/lambda/*"] */
    readonly logGroupNamePatterns?: readonly string[];
    /** Extra key-policy statements (e.g. another service principal), for a created key only. @default none */
    readonly additionalKeyPolicyStatements?: readonly PolicyStatement[];
    /** Waiting period before a deleted key is gone. @default 30 */
    readonly keyDeletionWindowInDays?: number;
    /** Tags for the buckets and the key (the provider's default tags apply too). */
    readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}


export interface LifecycleSpec {
    readonly expirationDays: number | null;
    readonly expirationPrefixes: readonly string[];
    readonly noncurrentVersionExpirationDays: number | null;
    readonly abortIncompleteMultipartUploadDays: number;
    readonly prefixRules: readonly PrefixLifecycleRule[];
}

function requirePositiveInteger(value: number, field: string): void {
    if (!Number.isInteger(value) || value < 1) throw new Error(`DataLakeBuckets: ${field} must be a positive whole number of days, got ${value}`);
}

/** Storage classes whose transition S3 rejects before 30 days in STANDARD. */
const MIN_30_DAYS = new Set(["STANDARD_IA", "ONEZONE_IA"]);

/**
 * The lifecycle rules of one bucket, as plain data. Validates what S3 would reject at deploy time, and the
 * one mistake S3 would silently accept: a "never delete" prefix rule under a bucket-wide expiration.
 */
export function lifecycleRules(spec: LifecycleSpec, label = "bucket"): LifecycleRule[] {
    requirePositiveInteger(spec.abortIncompleteMultipartUploadDays, `${label}: abortIncompleteMultipartUploadDays`);
    const rules: LifecycleRule[] = [
        {
            id: "abort-incomplete-multipart-uploads",
            status: "Enabled",
            filter: { prefix: "" },
            abortIncompleteMultipartUpload: { daysAfterInitiation: spec.abortIncompleteMultipartUploadDays },
        },
    ];
    const expirationPrefixes = [...new Set(spec.expirationPrefixes.map(normalizePrefix))];
    if (spec.expirationDays !== null) {
        requirePositiveInteger(spec.expirationDays, `${label}: expirationDays`);
        if (expirationPrefixes.length === 0) throw new Error(`DataLakeBuckets: ${label}: expirationPrefixes is empty but expirationDays is set`);
        const wholeBucket = expirationPrefixes.includes("");
        for (const prefix of wholeBucket ? [""] : expirationPrefixes) {
            rules.push({
                id: prefix === "" ? "expire-current-objects" : `expire-current-objects-${prefix.replace(/\/$/, "").replace(/[^A-Za-z0-9-]/g, "-")}`,
                status: "Enabled",
                filter: { prefix },
                expiration: { days: spec.expirationDays },
            });
        }
    }
    if (spec.noncurrentVersionExpirationDays !== null) {
        requirePositiveInteger(spec.noncurrentVersionExpirationDays, `${label}: noncurrentVersionExpirationDays`);
        rules.push({
            id: "expire-noncurrent-versions",
            status: "Enabled",
            filter: { prefix: "" },
            noncurrentVersionExpiration: { noncurrentDays: spec.noncurrentVersionExpirationDays },
        });
        // Separate rule: S3 rejects ExpiredObjectDeleteMarker next to Days in one Expiration element.
        rules.push({
            id: "remove-expired-delete-markers",
            status: "Enabled",
            filter: { prefix: "" },
            expiration: { expiredObjectDeleteMarker: true },
        });
    }
    for (const rule of spec.prefixRules) {
        const prefix = normalizePrefix(rule.prefix);
        const where = `${label}: prefix rule ${JSON.stringify(rule.id)}`;
        if (!/^[A-Za-z0-9._-]{1,200}$/.test(rule.id)) throw new Error(`DataLakeBuckets: ${where}: id must be 1-200 letters, digits, '.', '_' or '-'`);
        if (rules.some((r) => r.id === rule.id)) throw new Error(`DataLakeBuckets: ${where}: id is already used in this bucket`);
        const transitions = rule.transitions ?? [];
        let previous = 0;
        for (const t of transitions) {
            requirePositiveInteger(t.days, `${where}: transition days`);
            if (t.days <= previous) throw new Error(`DataLakeBuckets: ${where}: transitions must be in increasing days`);
            if (MIN_30_DAYS.has(t.storageClass) && t.days < 30) {
                throw new Error(`DataLakeBuckets: ${where}: S3 requires at least 30 days before a ${t.storageClass} transition`);
            }
            previous = t.days;
        }
        if (rule.expirationDays !== undefined) {
            requirePositiveInteger(rule.expirationDays, `${where}: expirationDays`);
            if (rule.expirationDays <= previous) throw new Error(`DataLakeBuckets: ${where}: expirationDays must come after the last transition`);
        } else if (spec.expirationDays !== null) {
            const covering = expirationPrefixes.find((p) => prefix.startsWith(p));
            if (covering !== undefined) {
                throw new Error(
                    `DataLakeBuckets: ${where} keeps ${JSON.stringify(prefix)} forever, but expirationDays ` +
                        `(${spec.expirationDays}) applies to ${covering === "" ? "the whole bucket" : JSON.stringify(covering)} ` +
                        "and S3 would still delete those objects; set expirationPrefixes to the prefixes that should expire",
                );
            }
        }
        if (transitions.length === 0 && rule.expirationDays === undefined) {
            throw new Error(`DataLakeBuckets: ${where} has neither transitions nor expirationDays`);
        }
        rules.push({
            id: rule.id,
            status: "Enabled",
            filter: { prefix },
            ...(transitions.length > 0 ? { transitions: transitions.map((t) => ({ days: t.days, storageClass: t.storageClass })) } : {}),
            ...(rule.expirationDays !== undefined ? { expiration: { days: rule.expirationDays } } : {}),
        });
    }
    return rules;
}

export interface KeyPolicyParams {
    readonly accountId: string;
    readonly region: string;
    /** `aws`, `aws-cn`, `aws-us-gov`. @default "aws" */
    readonly partition?: string;
    readonly logGroupNamePatterns?: readonly string[];
    readonly additionalStatements?: readonly PolicyStatement[];
}

/** Key-management actions (no cryptographic use): what "the account administers the key" means. */
export const KEY_ADMIN_ACTIONS: readonly string[] = [
    "kms:Create*",
    "kms:Describe*",
    "kms:Enable*",
    "kms:List*",
    "kms:Put*",
    "kms:Update*",
    "kms:Revoke*",
    "kms:Disable*",
    "kms:Get*",
    "kms:Delete*",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
    "kms:RotateKeyOnDemand",
];

/** Cryptographic use delegated to IAM: a principal of the account may use the key only if its IAM policy names it. */
export const KEY_USE_ACTIONS: readonly string[] = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"];

/**
 * Policy of the data-lake key.
 *
 * - The account administers the key and delegates its use to IAM policies (without the account
 *   principal, IAM policies cannot grant use and a lost admin role makes the key unmanageable).
 * - S3 needs no statement: SSE-KMS runs with the caller's own permissions (kms:ViaService s3).
 * - CloudWatch Logs encrypts log groups itself, as `logs.<region>.amazonaws.com`, so it gets use of the key
 *   only for log groups of this account matching `logGroupNamePatterns` (encryption-context condition) —
 *   needed because Glue's security configuration and the Lambda log groups encrypt with this key.
 *
 * `Resource: "*"` in a key policy means "this key" (a key policy cannot name its own not-yet-known ARN).
 */
export function dataLakeKeyPolicy(params: KeyPolicyParams) {
    const partition = params.partition ?? "aws";
    validateAccountId(params.accountId);
    if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(params.region)) throw new Error(`dataLakeKeyPolicy: region ${JSON.stringify(params.region)} is not an AWS region`);
    const patterns = params.logGroupNamePatterns ?? DEFAULT_LOG_GROUP_NAME_PATTERNS;
    if (patterns.length === 0) throw new Error("dataLakeKeyPolicy: logGroupNamePatterns is empty; CloudWatch Logs could not use the key");
    const root = `arn:${partition}:iam::${params.accountId}:root`;
    const statements: PolicyStatement[] = [
        { Sid: "AccountAdministersKey", Effect: "Allow", Principal: { AWS: root }, Action: [...KEY_ADMIN_ACTIONS], Resource: "*" },
        { Sid: "AccountDelegatesUseToIam", Effect: "Allow", Principal: { AWS: root }, Action: [...KEY_USE_ACTIONS], Resource: "*" },
        {
            Sid: "CloudWatchLogsEncryptsAccountLogGroups",
            Effect: "Allow",
            Principal: { Service: `logs.${params.region}.amazonaws.com` },
            Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            Resource: "*",
            Condition: {
                ArnLike: {
                    "kms:EncryptionContext:aws:logs:arn": patterns.map(
                        (p) => `arn:${partition}:logs:${params.region}:${params.accountId}:log-group:${p}`,
                    ),
                },
            },
        },
        ...(params.additionalStatements ?? []),
    ];
    return policyDocument(statements);
}

/**
 * Bucket policy of the access-log bucket: TLS only, and S3's log delivery service may put objects only
 * under each source bucket's prefix, only for our account's source buckets (confused-deputy protection).
 */
export function accessLogBucketPolicy(logBucketArn: string, accountId: string, sources: readonly { bucketArn: string; prefix: string }[], minimumTlsVersion = 1.2) {
    return policyDocument([...tlsOnlyBucketStatements(logBucketArn, minimumTlsVersion), accessLogDeliveryStatement(logBucketArn, accountId, sources)]);
}

/** Access-log prefix of a data bucket in the log bucket. */
export const accessLogPrefix = (role: DataBucketRole): string => `${role}/`;

/**
 * Input, output and assets buckets plus their access-log bucket and KMS key. Each bucket is a HardenedBucket
 * (./hardenedBucket.ts), named `<name>-<role>` as its resources always were; this component adds the key,
 * the names, the per-bucket retention and the log bucket's delivery grant.
 *
 * Every data bucket: SSE-KMS with bucket keys, versioning, noncurrent versions and incomplete uploads
 * expire, TLS ≥ 1.2 enforced by policy, all public access blocked, ACLs disabled (BucketOwnerEnforced),
 * server access logs delivered to the log bucket under `<role>/`.
 *
 * Assets bucket: the requirements say "versioning disabled, permanent". We keep it versioned: it holds the job
 * scripts and the zipped library Glue runs, so a bad upload must be recoverable and an audit must be able
 * to say which script version ran. Current objects never expire (permanent, as the requirements ask); only
 * superseded versions go after `noncurrentVersionExpirationDays` (90 by default), which bounds the cost.
 *
 * Access-log bucket: SSE-S3, because S3 server access logging cannot deliver to a bucket whose default
 * encryption is SSE-KMS. Not versioned (logs are append-only, and versioning would only keep deleted logs).
 *
 * With `allowDestroy` false (the default), the buckets, their protective configuration and the key are
 * `retainOnDelete`: a destroyed stack leaves the data — still encrypted, private and TLS-only — behind.
 */
export class DataLakeBuckets extends pulumi.ComponentResource {
    public readonly inputBucket: aws.s3.Bucket;
    public readonly outputBucket: aws.s3.Bucket;
    public readonly assetsBucket: aws.s3.Bucket;
    public readonly accessLogBucket: aws.s3.Bucket;
    /** The created key, or undefined when `kmsKeyArn` was given. */
    public readonly kmsKey?: aws.kms.Key;
    public readonly kmsKeyAlias?: aws.kms.Alias;
    /** ARN of the key that encrypts the data buckets (created or given). */
    public readonly kmsKeyArn: pulumi.Output<string>;
    public readonly bucketNames: pulumi.Output<BucketNames>;
    /** Per data bucket, the hardened bucket and the resources configuring it. */
    public readonly controls: Readonly<Record<DataBucketRole, HardenedBucket>>;
    /** The access-log bucket and the resources configuring it. */
    public readonly accessLogControls: HardenedBucket;

    constructor(name: string, args: DataLakeBucketsArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("glue-pipeline:storage:DataLakeBuckets", name, {}, opts);

        validateStage(args.stage);
        if (typeof args.accountId === "string") validateAccountId(args.accountId);
        if (args.additionalKeyPolicyStatements && args.kmsKeyArn !== undefined) {
            throw new Error("DataLakeBuckets: additionalKeyPolicyStatements applies to a created key; it cannot be combined with kmsKeyArn");
        }
        const abortDays = args.abortIncompleteMultipartUploadDays ?? DEFAULT_ABORT_INCOMPLETE_UPLOAD_DAYS;
        const minimumTls = args.minimumTlsVersion ?? 1.2;
        if (!(minimumTls >= 1.0 && minimumTls <= 1.3)) throw new Error(`DataLakeBuckets: minimumTlsVersion must be between 1.0 and 1.3, got ${minimumTls}`);
        // Build (and so validate) every lifecycle before creating anything.
        const specs = {} as Record<DataBucketRole, LifecycleSpec>;
        for (const role of DATA_BUCKET_ROLES) {
            const given = args[role] ?? {};
            specs[role] = {
                expirationDays: given.expirationDays === undefined ? DEFAULT_RETENTION[role].expirationDays : given.expirationDays,
                expirationPrefixes: given.expirationPrefixes ?? [""],
                noncurrentVersionExpirationDays: given.noncurrentVersionExpirationDays ?? DEFAULT_RETENTION[role].noncurrentVersionExpirationDays,
                abortIncompleteMultipartUploadDays: abortDays,
                prefixRules: given.prefixRules ?? [],
            };
            lifecycleRules(specs[role], role);
        }
        const logRetention = args.accessLogRetentionDays ?? DEFAULT_ACCESS_LOG_RETENTION_DAYS;
        requirePositiveInteger(logRetention, "accessLogRetentionDays");

        const allowDestroy = args.allowDestroy ?? false;
        const keep: pulumi.CustomResourceOptions = { parent: this, retainOnDelete: !allowDestroy };
        const accountId = pulumi.output(args.accountId).apply((id) => {
            validateAccountId(id);
            return id;
        });
        this.bucketNames = accountId.apply((id) => bucketNames(args.stage, id));

        if (args.kmsKeyArn !== undefined) {
            this.kmsKeyArn = pulumi.output(args.kmsKeyArn);
        } else {
            const region = aws.getRegionOutput({}, { parent: this }).region;
            const partition = aws.getPartitionOutput({}, { parent: this }).partition;
            this.kmsKey = new aws.kms.Key(
                `${name}-key`,
                {
                    description: `Encrypts the glue pipeline data lake (${args.stage}): buckets, logs, queues, metadata`,
                    enableKeyRotation: true,
                    deletionWindowInDays: args.keyDeletionWindowInDays ?? 30,
                    policy: pulumi.all([accountId, region, partition]).apply(([id, r, p]) =>
                        JSON.stringify(
                            dataLakeKeyPolicy({
                                accountId: id,
                                region: r,
                                partition: p,
                                logGroupNamePatterns: args.logGroupNamePatterns,
                                additionalStatements: args.additionalKeyPolicyStatements,
                            }),
                        ),
                    ),
                    tags: args.tags,
                },
                keep,
            );
            this.kmsKeyAlias = new aws.kms.Alias(
                `${name}-key-alias`,
                { name: `alias/glue-data-lake-${args.stage}`, targetKeyId: this.kmsKey.keyId },
                { parent: this },
            );
            this.kmsKeyArn = this.kmsKey.arn;
        }

        // The log bucket's delivery grant names the data buckets, and their logging waits for that grant: the
        // log bucket is built first and learns the data buckets' ARNs once they exist.
        const [dataBucketArns, resolveDataBucketArns] = pulumi.deferredOutput<string[]>();
        const hardened = (suffix: string, role: keyof BucketNames, bucketArgs: Omit<HardenedBucketArgs, "bucketName" | "allowDestroy" | "tags" | "formerParent" | "minimumTlsVersion">) =>
            new HardenedBucket(
                `${name}-${suffix}`,
                {
                    ...bucketArgs,
                    bucketName: this.bucketNames.apply((n) => n[role]),
                    minimumTlsVersion: minimumTls,
                    allowDestroy,
                    tags: args.tags,
                    // These resources sat directly under this component before HardenedBucket existed.
                    formerParent: this,
                },
                { parent: this },
            );

        // SSE-S3: S3 server access logging cannot deliver to a bucket whose default encryption is SSE-KMS.
        this.accessLogControls = hardened("access-logs", "accessLogs", {
            versioning: false,
            lifecycleRules: lifecycleRules(
                { expirationDays: logRetention, expirationPrefixes: [""], noncurrentVersionExpirationDays: null, abortIncompleteMultipartUploadDays: abortDays, prefixRules: [] },
                "accessLogs",
            ),
            policyStatements: (logArn) =>
                pulumi.all([logArn, accountId, dataBucketArns]).apply(([arn, id, sources]) => [
                    accessLogDeliveryStatement(
                        arn,
                        id,
                        DATA_BUCKET_ROLES.map((role, i) => ({ bucketArn: sources[i], prefix: accessLogPrefix(role) })),
                    ),
                ]),
        });
        this.accessLogBucket = this.accessLogControls.bucket;

        const controls = {} as Record<DataBucketRole, HardenedBucket>;
        for (const role of DATA_BUCKET_ROLES) {
            const extraStatements = args[role]?.policyStatements ?? [];
            controls[role] = hardened(role, role, {
                kmsKeyArn: this.kmsKeyArn,
                lifecycleRules: lifecycleRules(specs[role], role),
                policyStatements: () => [...extraStatements],
                accessLogs: { bucket: this.accessLogControls, prefix: accessLogPrefix(role) },
            });
        }
        this.controls = controls;
        this.inputBucket = controls.input.bucket;
        this.outputBucket = controls.output.bucket;
        this.assetsBucket = controls.assets.bucket;
        resolveDataBucketArns(pulumi.all(DATA_BUCKET_ROLES.map((role) => controls[role].arn)));

        this.registerOutputs({
            inputBucketName: this.inputBucket.bucket,
            outputBucketName: this.outputBucket.bucket,
            assetsBucketName: this.assetsBucket.bucket,
            accessLogBucketName: this.accessLogBucket.bucket,
            kmsKeyArn: this.kmsKeyArn,
        });
    }
}
