/**
 * HardenedBucket: one S3 bucket with the protections every bucket of this project carries, built in one
 * place (as DSF's DataLakeStorage composes its AnalyticsBucket). DataLakeBuckets and ClaimsBucket compose it.
 *
 * Children (named after the component, which is named as the bucket's logical name always was):
 * `<name>` the bucket, `<name>-public-access` (all four blocks on), `<name>-ownership` (BucketOwnerEnforced:
 * ACLs off), `<name>-versioning` (unless turned off), `<name>-sse` (SSE-KMS with bucket keys, or SSE-S3 for a
 * bucket that receives S3 server access logs, which cannot be delivered to an SSE-KMS bucket),
 * `<name>-lifecycle`, `<name>-policy` (TLS-only, TLS >= 1.2, then the caller's statements) and
 * `<name>-logging` (server access logs to another HardenedBucket, date-partitioned).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { PolicyStatement, policyDocument, s3ObjectArns, tlsOnlyBucketStatements } from "../iam/iamPolicies";

export type LifecycleRule = aws.types.input.s3.BucketLifecycleConfigurationRule;

/** Where a bucket's server access logs go. */
export interface AccessLogDestination {
    /** The bucket receiving the logs; its policy must admit S3 log delivery ({@link accessLogDeliveryStatement}). */
    readonly bucket: HardenedBucket;
    /** Key prefix of this bucket's logs in the log bucket, e.g. `input/`. */
    readonly prefix: string;
}

export interface HardenedBucketArgs {
    /** The bucket's physical name. */
    readonly bucketName: pulumi.Input<string>;
    /**
     * Key for default SSE-KMS (with bucket keys). Absent: SSE-S3, for a bucket that receives S3 server access
     * logs (log delivery cannot write to an SSE-KMS bucket). @default SSE-S3
     */
    readonly kmsKeyArn?: pulumi.Input<string>;
    /** Keep object versions (an overwrite or delete stays recoverable). @default true */
    readonly versioning?: boolean;
    /** Lifecycle rules, as `lifecycleRules` builds and validates them. */
    readonly lifecycleRules: LifecycleRule[];
    /** Statements after the TLS-only ones, given the bucket's ARN (a bucket has one policy only). @default none */
    readonly policyStatements?: (bucketArn: pulumi.Output<string>) => pulumi.Input<PolicyStatement[]>;
    /** Minimum TLS version requests must use. @default 1.2 */
    readonly minimumTlsVersion?: number;
    /** Server access logging. @default none (for the log bucket itself) */
    readonly accessLogs?: AccessLogDestination;
    /**
     * Whether `pulumi destroy` may delete the bucket and its objects. False keeps the bucket and its
     * protections (`retainOnDelete`) and leaves `forceDestroy` off. @default false
     */
    readonly allowDestroy?: boolean;
    readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /**
     * The component these resources sat directly under before this primitive existed. Each child gets an
     * alias to it, so that an existing stack adopts them rather than replacing its buckets. @default none
     */
    readonly formerParent?: pulumi.Resource;
}

/** Sid of the statement that lets S3 deliver server access logs into a log bucket. */
export const ACCESS_LOG_DELIVERY_SID = "S3ServerAccessLogsDelivery";

/**
 * The log bucket's grant to S3 log delivery: objects only under each source bucket's prefix, only for our
 * account's source buckets (confused-deputy protection).
 */
export function accessLogDeliveryStatement(logBucketArn: string, accountId: string, sources: readonly { bucketArn: string; prefix: string }[]): PolicyStatement {
    return {
        Sid: ACCESS_LOG_DELIVERY_SID,
        Effect: "Allow",
        Principal: { Service: "logging.s3.amazonaws.com" },
        Action: "s3:PutObject",
        Resource: s3ObjectArns(logBucketArn, sources.map((s) => s.prefix)),
        Condition: {
            ArnLike: { "aws:SourceArn": sources.map((s) => s.bucketArn) },
            StringEquals: { "aws:SourceAccount": accountId },
        },
    };
}

/** Refuses an upload that names an encryption other than SSE-KMS (one without the header gets the default). */
export function denyNonKmsUploadStatement(bucketArn: string): PolicyStatement {
    return {
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
    };
}

export class HardenedBucket extends pulumi.ComponentResource {
    public readonly bucket: aws.s3.Bucket;
    public readonly publicAccessBlock: aws.s3.BucketPublicAccessBlock;
    public readonly ownership: aws.s3.BucketOwnershipControls;
    /** Undefined when `versioning` is false. */
    public readonly versioning?: aws.s3.BucketVersioning;
    public readonly encryption: aws.s3.BucketServerSideEncryptionConfiguration;
    public readonly lifecycle: aws.s3.BucketLifecycleConfiguration;
    public readonly policy: aws.s3.BucketPolicy;
    /** Undefined without `accessLogs`. */
    public readonly logging?: aws.s3.BucketLogging;
    public readonly arn: pulumi.Output<string>;
    public readonly bucketName: pulumi.Output<string>;

    constructor(name: string, args: HardenedBucketArgs, opts: pulumi.ComponentResourceOptions = {}) {
        // Checked before anything registers, so that a bad argument leaves no half-built component behind.
        const minimumTls = args.minimumTlsVersion ?? 1.2;
        if (!(minimumTls >= 1.0 && minimumTls <= 1.3)) throw new Error(`HardenedBucket: minimumTlsVersion must be between 1.0 and 1.3, got ${minimumTls}`);
        if (args.lifecycleRules.length === 0) throw new Error("HardenedBucket: lifecycleRules is empty; at least abort incomplete multipart uploads");
        const allowDestroy = args.allowDestroy ?? false;
        // Recorded on the component too (it deletes nothing itself), so that the whole subtree reads as kept.
        super("glue-pipeline:storage:HardenedBucket", name, {}, { retainOnDelete: !allowDestroy, ...opts });

        const keep: pulumi.CustomResourceOptions = {
            parent: this,
            retainOnDelete: !allowDestroy,
            ...(args.formerParent ? { aliases: [{ parent: args.formerParent }] } : {}),
        };

        this.bucket = new aws.s3.Bucket(name, { bucket: args.bucketName, forceDestroy: allowDestroy, tags: args.tags }, keep);
        this.arn = this.bucket.arn;
        this.bucketName = this.bucket.bucket;
        this.publicAccessBlock = new aws.s3.BucketPublicAccessBlock(
            `${name}-public-access`,
            { bucket: this.bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
            keep,
        );
        this.ownership = new aws.s3.BucketOwnershipControls(`${name}-ownership`, { bucket: this.bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, keep);
        if (args.versioning ?? true) {
            this.versioning = new aws.s3.BucketVersioning(`${name}-versioning`, { bucket: this.bucket.id, versioningConfiguration: { status: "Enabled" } }, keep);
        }
        this.encryption = new aws.s3.BucketServerSideEncryptionConfiguration(
            `${name}-sse`,
            {
                bucket: this.bucket.id,
                rules:
                    args.kmsKeyArn !== undefined
                        ? // Bucket keys cut KMS requests (and their cost) by orders of magnitude for Spark's many objects.
                          [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: args.kmsKeyArn }, bucketKeyEnabled: true }]
                        : [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
            },
            keep,
        );
        this.lifecycle = new aws.s3.BucketLifecycleConfiguration(
            `${name}-lifecycle`,
            { bucket: this.bucket.id, rules: args.lifecycleRules },
            // Noncurrent-version rules are meaningful only once versioning is on.
            this.versioning ? { ...keep, dependsOn: [this.versioning] } : keep,
        );
        const extra = pulumi.output(args.policyStatements ? args.policyStatements(this.bucket.arn) : []) as pulumi.Output<PolicyStatement[]>;
        this.policy = new aws.s3.BucketPolicy(
            `${name}-policy`,
            {
                bucket: this.bucket.id,
                policy: pulumi
                    .all([this.bucket.arn, extra])
                    .apply(([arn, statements]) => JSON.stringify(policyDocument([...tlsOnlyBucketStatements(arn, minimumTls), ...statements]))),
            },
            // A policy is rejected while the public access block is being applied concurrently.
            { ...keep, dependsOn: [this.publicAccessBlock] },
        );
        if (args.accessLogs) {
            const target = args.accessLogs.bucket;
            this.logging = new aws.s3.BucketLogging(
                `${name}-logging`,
                {
                    bucket: this.bucket.id,
                    targetBucket: target.bucket.id,
                    targetPrefix: args.accessLogs.prefix,
                    // Date-partitioned keys, so Athena can prune access logs by day.
                    targetObjectKeyFormat: { partitionedPrefix: { partitionDateSource: "EventTime" } },
                },
                // Delivery needs the log bucket's grant, and owner-enforced ownership there (no ACL-based delivery).
                { ...keep, dependsOn: [target.policy, target.ownership] },
            );
        }

        this.registerOutputs({ bucketName: this.bucketName, arn: this.arn });
    }
}
