/**
 * ClaimsBucket: the healthcare claims data lake of seed 002 — one bucket holding the claims files and all
 * that is derived from them, with its own access-log bucket.
 *
 * Why a bucket of its own rather than prefixes of DataLakeBuckets' input/output buckets:
 * - the input bucket sends every `.csv` to the CSV trigger (FileProcessorV2); a second notification rule for
 *   `raw/claims/*.csv` would overlap it, which S3 rejects, and S3 filters cannot exclude a prefix;
 * - the input and output buckets expire current objects after 30/90 days, and for the unprefixed input
 *   bucket no expiration rule can leave a never-delete claims prefix out;
 * - claims are PHI: a separate bucket keeps them under their own bucket policy, IAM grants and access-log
 *   trail, away from roles of the generic pipeline.
 *
 * Layout (seed 002): `raw/claims/` (landing), `processed/claims/` and `processed/aggregations/` (the Glue
 * job's Parquet), `validation-reports/`, `quarantine/` (files that failed validation, records the job
 * rejected), `temp/` (the job's intermediate files).
 *
 * Lifecycle: current objects under the data prefixes are never deleted and move Standard → Standard-IA at
 * 30 days → Glacier at 90 → Deep Archive at 365 (CLAIMS_ARCHIVE_TRANSITIONS); `temp/` expires after a few
 * days. The bucket is versioned; superseded versions are kept forever too unless
 * `noncurrentVersionExpirationDays` says otherwise (a quarantined file's original upload is such a version).
 *
 * Access logs: SSE-S3 (S3 log delivery cannot use SSE-KMS), kept six years by default (HIPAA keeps its
 * documentation six years), moved to Glacier after 90 days.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
    accessLogBucketPolicy,
    CLAIMS_ARCHIVE_TRANSITIONS,
    DEFAULT_ABORT_INCOMPLETE_UPLOAD_DAYS,
    LifecycleTransition,
    lifecycleRules,
    validateAccountId,
} from "../storage/dataLakeBuckets";
import { PolicyStatement, policyDocument, tlsOnlyBucketStatements } from "../iam/iamPolicies";

/** Prefixes of the claims bucket (seed 002's layout). */
export const CLAIMS_BUCKET_PREFIXES = {
    raw: "raw/claims/",
    processed: "processed/claims/",
    aggregations: "processed/aggregations/",
    reports: "validation-reports/",
    quarantine: "quarantine/",
    temp: "temp/",
} as const;

/** Prefixes whose objects are claims data: archived, never deleted. */
export const CLAIMS_ARCHIVED_PREFIXES: readonly string[] = ["raw/", "processed/", "quarantine/", "validation-reports/"];

export const DEFAULT_TEMP_EXPIRATION_DAYS = 3;
/** Six years (2,192 days, leap days included): how long HIPAA keeps documentation. */
export const DEFAULT_CLAIMS_ACCESS_LOG_RETENTION_DAYS = 2192;

export interface ClaimsBucketNames {
    readonly data: string;
    readonly accessLogs: string;
}

const STAGE = /^[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?$/;

/**
 * `glue-claims-{stage}-{account}` and `glue-claims-access-logs-{stage}-{account}`: inside the
 * `glue-*-{stage}-{account}` pattern the deploy role and the workload boundary grant S3 on.
 */
export function claimsBucketNames(stage: string, accountId: string): ClaimsBucketNames {
    if (!STAGE.test(stage)) throw new Error(`ClaimsBucket: stage ${JSON.stringify(stage)} must be lowercase letters, digits and '-' (at most 22)`);
    validateAccountId(accountId);
    return { data: `glue-claims-${stage}-${accountId}`, accessLogs: `glue-claims-access-logs-${stage}-${accountId}` };
}

export interface ClaimsLifecycleSpec {
    readonly transitions: readonly LifecycleTransition[];
    readonly tempExpirationDays: number;
    readonly noncurrentVersionExpirationDays: number | null;
    readonly abortIncompleteMultipartUploadDays: number;
}

/**
 * The data bucket's lifecycle rules: the archive transitions on every data prefix (validated by
 * DataLakeBuckets' lifecycleRules, which also refuses a never-delete prefix under an expiration), and the
 * expiry of `temp/`, its superseded versions included.
 */
export function claimsLifecycleRules(spec: ClaimsLifecycleSpec): aws.types.input.s3.BucketLifecycleConfigurationRule[] {
    if (!Number.isInteger(spec.tempExpirationDays) || spec.tempExpirationDays < 1) {
        throw new Error(`ClaimsBucket: tempExpirationDays must be a positive whole number, got ${spec.tempExpirationDays}`);
    }
    const rules = lifecycleRules(
        {
            expirationDays: null,
            expirationPrefixes: [],
            noncurrentVersionExpirationDays: spec.noncurrentVersionExpirationDays,
            abortIncompleteMultipartUploadDays: spec.abortIncompleteMultipartUploadDays,
            prefixRules: CLAIMS_ARCHIVED_PREFIXES.map((prefix) => ({
                id: `archive-${prefix.replace(/\/$/, "").replace(/[^A-Za-z0-9-]/g, "-")}`,
                prefix,
                transitions: spec.transitions,
            })),
        },
        "claims",
    );
    rules.push({
        id: "expire-temp",
        status: "Enabled",
        filter: { prefix: CLAIMS_BUCKET_PREFIXES.temp },
        expiration: { days: spec.tempExpirationDays },
        noncurrentVersionExpiration: { noncurrentDays: 1 },
    });
    return rules;
}

/**
 * Bucket-policy statements beyond TLS: objects are written SSE-KMS or with the bucket default (which is
 * SSE-KMS), never with an explicit other algorithm.
 */
export function claimsBucketPolicyStatements(bucketArn: string): PolicyStatement[] {
    return [
        ...tlsOnlyBucketStatements(bucketArn),
        {
            Sid: "DenyNonKmsEncryption",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:PutObject",
            Resource: `${bucketArn}/*`,
            // Only an explicit wrong header is refused. S3 sends this key only when the request carries the
            // header; for an absent key a negated operator (IfExists or not) matches, which refused every
            // ordinary upload (`aws s3 cp`, the validation report, the quarantine copy). `Null: false` limits
            // the Deny to requests that send the header; those without it get the bucket's default SSE-KMS.
            Condition: { StringNotEquals: { "s3:x-amz-server-side-encryption": "aws:kms" }, Null: { "s3:x-amz-server-side-encryption": "false" } },
        },
    ];
}

export interface ClaimsBucketArgs {
    readonly stage: string;
    readonly accountId: pulumi.Input<string>;
    /** Key for SSE-KMS (the data-lake key). */
    readonly kmsKeyArn: pulumi.Input<string>;
    /** As DataLakeBuckets: false keeps buckets and their configuration on destroy. @default false */
    readonly allowDestroy?: boolean;
    /** @default CLAIMS_ARCHIVE_TRANSITIONS (30 d IA, 90 d Glacier, 365 d Deep Archive) */
    readonly transitions?: readonly LifecycleTransition[];
    /** @default 3 */
    readonly tempExpirationDays?: number;
    /** Days a superseded version is kept; null keeps it forever. @default null */
    readonly noncurrentVersionExpirationDays?: number | null;
    /** @default 2192 (six years) */
    readonly accessLogRetentionDays?: number;
    readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export class ClaimsBucket extends pulumi.ComponentResource {
    public readonly bucket: aws.s3.Bucket;
    public readonly accessLogBucket: aws.s3.Bucket;
    public readonly versioning: aws.s3.BucketVersioning;
    public readonly encryption: aws.s3.BucketServerSideEncryptionConfiguration;
    public readonly lifecycle: aws.s3.BucketLifecycleConfiguration;
    public readonly policy: aws.s3.BucketPolicy;
    public readonly publicAccessBlock: aws.s3.BucketPublicAccessBlock;
    public readonly ownership: aws.s3.BucketOwnershipControls;
    public readonly logging: aws.s3.BucketLogging;
    public readonly accessLogLifecycle: aws.s3.BucketLifecycleConfiguration;
    public readonly accessLogPolicy: aws.s3.BucketPolicy;
    public readonly bucketNames: pulumi.Output<ClaimsBucketNames>;

    constructor(name: string, args: ClaimsBucketArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("glue-pipeline:storage:ClaimsBucket", name, {}, opts);

        claimsBucketNames(args.stage, "000000000000");
        if (typeof args.accountId === "string") validateAccountId(args.accountId);
        const logRetention = args.accessLogRetentionDays ?? DEFAULT_CLAIMS_ACCESS_LOG_RETENTION_DAYS;
        if (!Number.isInteger(logRetention) || logRetention <= 90) throw new Error(`ClaimsBucket: accessLogRetentionDays must be a whole number above 90 (logs move to Glacier at 90), got ${logRetention}`);
        const dataRules = claimsLifecycleRules({
            transitions: args.transitions ?? CLAIMS_ARCHIVE_TRANSITIONS,
            tempExpirationDays: args.tempExpirationDays ?? DEFAULT_TEMP_EXPIRATION_DAYS,
            noncurrentVersionExpirationDays: args.noncurrentVersionExpirationDays ?? null,
            abortIncompleteMultipartUploadDays: DEFAULT_ABORT_INCOMPLETE_UPLOAD_DAYS,
        });
        const logRules = lifecycleRules(
            {
                expirationDays: null,
                expirationPrefixes: [],
                noncurrentVersionExpirationDays: null,
                abortIncompleteMultipartUploadDays: DEFAULT_ABORT_INCOMPLETE_UPLOAD_DAYS,
                prefixRules: [{ id: "archive-then-expire-access-logs", prefix: "", transitions: [{ days: 90, storageClass: "GLACIER" }], expirationDays: logRetention }],
            },
            "claims access logs",
        );

        const allowDestroy = args.allowDestroy ?? false;
        const keep: pulumi.CustomResourceOptions = { parent: this, retainOnDelete: !allowDestroy };
        const tags = args.tags;
        this.bucketNames = pulumi.output(args.accountId).apply((id) => claimsBucketNames(args.stage, id));

        const bucket = (role: keyof ClaimsBucketNames, suffix: string) =>
            new aws.s3.Bucket(`${name}-${suffix}`, { bucket: this.bucketNames.apply((n) => n[role]), forceDestroy: allowDestroy, tags }, keep);
        const guard = (b: aws.s3.Bucket, suffix: string) => ({
            publicAccessBlock: new aws.s3.BucketPublicAccessBlock(
                `${name}-${suffix}-public-access`,
                { bucket: b.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
                keep,
            ),
            ownership: new aws.s3.BucketOwnershipControls(`${name}-${suffix}-ownership`, { bucket: b.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, keep),
        });

        // --- access logs first: the data bucket's logging depends on the delivery policy -------------------
        this.accessLogBucket = bucket("accessLogs", "access-logs");
        const logGuard = guard(this.accessLogBucket, "access-logs");
        new aws.s3.BucketServerSideEncryptionConfiguration(
            `${name}-access-logs-sse`,
            { bucket: this.accessLogBucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
            keep,
        );
        this.accessLogLifecycle = new aws.s3.BucketLifecycleConfiguration(`${name}-access-logs-lifecycle`, { bucket: this.accessLogBucket.id, rules: logRules }, keep);

        this.bucket = bucket("data", "data");
        this.accessLogPolicy = new aws.s3.BucketPolicy(
            `${name}-access-logs-policy`,
            {
                bucket: this.accessLogBucket.id,
                policy: pulumi
                    .all([this.accessLogBucket.arn, pulumi.output(args.accountId), this.bucket.arn])
                    .apply(([logArn, account, dataArn]) => JSON.stringify(accessLogBucketPolicy(logArn, account, [{ bucketArn: dataArn, prefix: "claims/" }]))),
            },
            { ...keep, dependsOn: [logGuard.publicAccessBlock] },
        );

        // --- the data bucket --------------------------------------------------------------------------------
        const g = guard(this.bucket, "data");
        this.publicAccessBlock = g.publicAccessBlock;
        this.ownership = g.ownership;
        this.versioning = new aws.s3.BucketVersioning(`${name}-data-versioning`, { bucket: this.bucket.id, versioningConfiguration: { status: "Enabled" } }, keep);
        this.encryption = new aws.s3.BucketServerSideEncryptionConfiguration(
            `${name}-data-sse`,
            {
                bucket: this.bucket.id,
                rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: args.kmsKeyArn }, bucketKeyEnabled: true }],
            },
            keep,
        );
        this.lifecycle = new aws.s3.BucketLifecycleConfiguration(
            `${name}-data-lifecycle`,
            { bucket: this.bucket.id, rules: dataRules },
            { ...keep, dependsOn: [this.versioning] },
        );
        this.policy = new aws.s3.BucketPolicy(
            `${name}-data-policy`,
            { bucket: this.bucket.id, policy: this.bucket.arn.apply((arn) => JSON.stringify(policyDocument(claimsBucketPolicyStatements(arn)))) },
            { ...keep, dependsOn: [g.publicAccessBlock] },
        );
        this.logging = new aws.s3.BucketLogging(
            `${name}-data-logging`,
            {
                bucket: this.bucket.id,
                targetBucket: this.accessLogBucket.id,
                targetPrefix: "claims/",
                targetObjectKeyFormat: { partitionedPrefix: { partitionDateSource: "EventTime" } },
            },
            { ...keep, dependsOn: [this.accessLogPolicy, logGuard.ownership] },
        );

        this.registerOutputs({ bucketName: this.bucket.bucket, accessLogBucketName: this.accessLogBucket.bucket });
    }
}
