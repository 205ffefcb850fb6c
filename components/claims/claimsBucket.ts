/**
 * ClaimsBucket: the claims flow's data lake — one bucket holding the claims files and all
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
 * Layout (the claims flow's requirements): `raw/claims/` (landing), `processed/claims/` and `processed/aggregations/` (the Glue
 * job's Parquet), `validation-reports/`, `quarantine/` (files that failed validation, records the job
 * rejected), `temp/` (the job's intermediate files).
 *
 * Lifecycle: current objects under the data prefixes are never deleted and move Standard → Standard-IA at
 * 30 days → Glacier at 90 → Deep Archive at 365 (CLAIMS_ARCHIVE_TRANSITIONS); `temp/` expires after a few
 * days. The bucket is versioned; superseded versions are kept forever too unless
 * `noncurrentVersionExpirationDays` says otherwise (a quarantined file's original upload is such a version).
 *
 * Both buckets are HardenedBuckets (components/storage/hardenedBucket.ts), with the same protections as the
 * data lake's; the data bucket's policy also refuses uploads that name an encryption other than SSE-KMS.
 *
 * Access logs: SSE-S3 (S3 log delivery cannot use SSE-KMS), kept six years by default (HIPAA keeps its
 * documentation six years), moved to Glacier after 90 days.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
    CLAIMS_ARCHIVE_TRANSITIONS,
    DEFAULT_ABORT_INCOMPLETE_UPLOAD_DAYS,
    LifecycleTransition,
    lifecycleRules,
    validateAccountId,
} from "../storage/dataLakeBuckets";
import { accessLogDeliveryStatement, denyNonKmsUploadStatement, HardenedBucket } from "../storage/hardenedBucket";
import { PolicyStatement, tlsOnlyBucketStatements } from "../iam/iamPolicies";
import { CLAIMS_PREFIXES } from "../../functions/claims-validation/contract";

/** Prefixes of the claims bucket (the claims flow's layout), as the validation function's contract names them. */
export const CLAIMS_BUCKET_PREFIXES = CLAIMS_PREFIXES;

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
    return [...tlsOnlyBucketStatements(bucketArn), denyNonKmsUploadStatement(bucketArn)];
}

/** Prefix of the data bucket's server access logs in the log bucket. */
export const CLAIMS_ACCESS_LOG_PREFIX = "claims/";

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
    /** The claims data bucket, hardened (its resources are also exposed one by one below). */
    public readonly data: HardenedBucket;
    /** Its access-log bucket. */
    public readonly accessLogs: HardenedBucket;
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
        const tags = args.tags;
        this.bucketNames = pulumi.output(args.accountId).apply((id) => claimsBucketNames(args.stage, id));
        // Both buckets' resources sat directly under this component before HardenedBucket existed.
        const common = { allowDestroy, tags, formerParent: this };

        // The log bucket's delivery grant names the data bucket, whose logging waits for that grant: the log
        // bucket is built first and learns the data bucket's ARN once it exists.
        const [dataBucketArn, resolveDataBucketArn] = pulumi.deferredOutput<string>();
        this.accessLogs = new HardenedBucket(
            `${name}-access-logs`,
            {
                ...common,
                bucketName: this.bucketNames.apply((n) => n.accessLogs),
                // SSE-S3 and unversioned: S3 log delivery cannot write SSE-KMS, and logs are append-only.
                versioning: false,
                lifecycleRules: logRules,
                policyStatements: (logArn) =>
                    pulumi
                        .all([logArn, pulumi.output(args.accountId), dataBucketArn])
                        .apply(([arn, account, dataArn]) => [accessLogDeliveryStatement(arn, account, [{ bucketArn: dataArn, prefix: CLAIMS_ACCESS_LOG_PREFIX }])]),
            },
            { parent: this },
        );
        this.data = new HardenedBucket(
            `${name}-data`,
            {
                ...common,
                bucketName: this.bucketNames.apply((n) => n.data),
                kmsKeyArn: args.kmsKeyArn,
                lifecycleRules: dataRules,
                policyStatements: (arn) => arn.apply((a) => [denyNonKmsUploadStatement(a)]),
                accessLogs: { bucket: this.accessLogs, prefix: CLAIMS_ACCESS_LOG_PREFIX },
            },
            { parent: this },
        );
        resolveDataBucketArn(this.data.arn);

        this.accessLogBucket = this.accessLogs.bucket;
        this.accessLogLifecycle = this.accessLogs.lifecycle;
        this.accessLogPolicy = this.accessLogs.policy;
        this.bucket = this.data.bucket;
        this.publicAccessBlock = this.data.publicAccessBlock;
        this.ownership = this.data.ownership;
        this.versioning = this.data.versioning!;
        this.encryption = this.data.encryption;
        this.lifecycle = this.data.lifecycle;
        this.policy = this.data.policy;
        this.logging = this.data.logging!;

        this.registerOutputs({ bucketName: this.bucket.bucket, accessLogBucketName: this.accessLogBucket.bucket });
    }
}
