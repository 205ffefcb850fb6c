/**
 * ClaimsPipeline: the healthcare claims flow as one component.
 *
 *   claims CSV lands under raw/claims/ of the claims bucket
 *     → S3 event → its queue (healthcare-claims-{stage}-data-validation-queue; a burst waits there, a start
 *       Glue refuses for capacity goes back to it with a delay) → healthcare-claims-{stage}-data-validation (streams the file through the declared schema
 *       and rules, writes validation-reports/…json, claims the file's metadata record)
 *       → passes: starts healthcare-claims-{stage}-etl, publishes job_status_update STARTED
 *       → fails: moves the file to quarantine/files/, publishes an error
 *     → the Glue job: dedupe, nulls, standard formats, enrichment and risk score, Parquet under
 *       processed/claims/year=/month=/, aggregations under processed/aggregations/, rejected records under
 *       quarantine/records/, job_status_update SUCCEEDED/FAILED (and an error when it fails)
 *
 * Children: ClaimsBucket (`-storage`), NotificationTopics (`-topics`), GlueEtlJob (`-etl`),
 * S3TriggeredLambda (`-validation`). Every IAM grant is scoped to the prefixes its holder uses.
 *
 * The optional warehouse load into Redshift Serverless is a component of its own (ClaimsWarehouse,
 * ./claimsWarehouse.ts), created by the claims stack only when `claims.warehouse` is set.
 */
import * as pulumi from "@pulumi/pulumi";
import { ClaimsBucket } from "./claimsBucket";
import { GlueExecutionClass, GlueEtlJob, BucketRef } from "../glue/glueEtlJob";
import { GlueJobEnvironment } from "../glue/glueEnvironment";
import { dynamoDbItemStatement, glueJobRunStatement, PolicyStatement, s3ObjectArns, s3ReadStatements, s3WriteStatement } from "../iam/iamPolicies";
import { NotificationTopics, topicPublishStatements } from "../messaging/notificationTopics";
import { S3TriggeredLambda } from "../compute/s3TriggeredLambda";
import { TriggerQueueSettings } from "../compute/triggerQueue";
// The function's side of the contract: the layout it writes and the variables it reads.
import { CLAIMS_FILE_SUFFIX, CLAIMS_PREFIXES, CLAIMS_VALIDATION_ENV as ENV, ClaimsValidationEnvName } from "../../functions/claims-validation/contract";

/** Where the claims code lives in the repository. */
export const CLAIMS_SOURCES = {
    etlScript: "glue/jobs/healthcare_claims_etl.py",
    validationHandler: "functions/claims-validation/handler.ts",
} as const;

/** Physical names of the flow's resources for a stage (the claims flow's `healthcare-claims-{stage}-…` pattern). */
export function claimsResourceNames(stage: string) {
    return {
        etlJob: `healthcare-claims-${stage}-etl`,
        validationFunction: `healthcare-claims-${stage}-data-validation`,
        processingTopic: `healthcare-claims-${stage}-processing`,
        errorTopic: `healthcare-claims-${stage}-errors`,
    };
}

export const DEFAULT_MIN_QUALITY_SCORE = 95;
/**
 * Validation streams whole files: the longest timeout Lambda allows, and 1,769 MB, the memory at which Lambda
 * gives a full vCPU (the check is CPU-bound: ~17 MB/s per core measured locally, so ~10 GB per invocation).
 */
export const DEFAULT_VALIDATION_TIMEOUT_SECONDS = 900;
export const DEFAULT_VALIDATION_MEMORY_MB = 1769;
/** One file per invocation: validation streams the whole file, up to the 900 s timeout. */
export const DEFAULT_VALIDATION_BATCH_SIZE = 1;

export interface ClaimsPipelineArgs {
    readonly stage: string;
    readonly accountId: pulumi.Input<string>;
    /** The data-lake key: the claims bucket, the topics, logs and the function's environment. */
    readonly kmsKeyArn: pulumi.Input<string>;
    /** The stack's Glue environment (security configuration, database, shared log groups). */
    readonly glueEnvironment: GlueJobEnvironment;
    /** Bucket the job's script and library are uploaded to. */
    readonly assetsBucket: BucketRef;
    /** The processing-metadata table: the function claims files in it, the job records its runs. */
    readonly metadataTable: { readonly name: pulumi.Input<string>; readonly arn: pulumi.Input<string> };
    /** Addresses subscribed to the error topic. @default none */
    readonly errorEmails?: readonly string[];
    /** Minimum quality score (0-100) a file needs to be processed. @default 95 */
    readonly minQualityScore?: number;
    /** @default false: buckets are kept on destroy */
    readonly allowDataDestroy?: boolean;
    /** Glue version of the job. @default GlueEtlJob's */
    readonly glueVersion?: string;
    /** Auto-scaling ceiling of the job. @default GlueEtlJob's */
    readonly maxWorkers?: number;
    /** @default "STANDARD" */
    readonly executionClass?: GlueExecutionClass;
    /** Extra job default arguments (e.g. `--release_id`). @default none */
    readonly jobArguments?: Readonly<Record<string, pulumi.Input<string>>>;
    /** @default 900 */
    readonly validationTimeoutSeconds?: number;
    /** @default 1769 (one full vCPU) */
    readonly validationMemoryMb?: number;
    /** Files validated at once (reserved concurrency). @default none: the account's unreserved pool */
    readonly validationConcurrency?: number;
    /**
     * How the validation is fed from its queue. The batch size defaults to 1, not the triggers' 10: one
     * invocation streams a whole file for up to 15 minutes, so a batch of files would outlast its timeout.
     * @default { batchSize: 1 } and TriggerQueueSettings' other defaults
     */
    readonly validationQueue?: TriggerQueueSettings;
    /** Extra environment of the function: the contract's names only (e.g. `releaseId`). @default none */
    readonly validationEnvironment?: Readonly<Partial<Record<ClaimsValidationEnvName, pulumi.Input<string>>>>;
    readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export function validateClaimsPipelineArgs(args: Pick<ClaimsPipelineArgs, "minQualityScore" | "validationTimeoutSeconds">): void {
    const score = args.minQualityScore ?? DEFAULT_MIN_QUALITY_SCORE;
    if (!(score >= 0 && score <= 100) || Math.round(score * 100) !== score * 100) {
        throw new Error(`ClaimsPipeline: minQualityScore must be from 0 to 100 with at most 2 decimals, got ${score}`);
    }
    const timeout = args.validationTimeoutSeconds ?? DEFAULT_VALIDATION_TIMEOUT_SECONDS;
    // The function keeps 60 s of its budget for the report, the move or the start; less leaves no time to validate.
    if (!Number.isInteger(timeout) || timeout < 120 || timeout > 900) {
        throw new Error(`ClaimsPipeline: validationTimeoutSeconds must be a whole number from 120 to 900, got ${timeout}`);
    }
}

export interface ValidationPolicyInputs {
    readonly bucketArn: string;
    readonly jobArn: string;
    readonly tableArn: string;
    readonly topicArns: readonly string[];
    readonly kmsKeyArn: string;
}

/**
 * The validation function's grants: read and remove raw claims files (remove = the move to quarantine),
 * write reports and quarantined files, start the claims job, claim records, publish notifications.
 */
export function validationPolicyStatements(p: ValidationPolicyInputs): PolicyStatement[] {
    const P = CLAIMS_PREFIXES;
    return [
        ...s3ReadStatements(p.bucketArn, [P.raw], "ReadRawClaims"),
        { Sid: "RemoveQuarantinedRawClaims", Effect: "Allow", Action: ["s3:DeleteObject"], Resource: s3ObjectArns(p.bucketArn, [P.raw]) },
        s3WriteStatement(p.bucketArn, [P.reports, `${P.quarantine}files/`], {}, "WriteReportsAndQuarantine"),
        glueJobRunStatement(p.jobArn, ["glue:StartJobRun"], "StartClaimsJob"),
        dynamoDbItemStatement(p.tableArn, { read: true, write: true, sid: "TrackFiles" }),
        ...topicPublishStatements(p.topicArns, p.kmsKeyArn),
    ];
}

export class ClaimsPipeline extends pulumi.ComponentResource {
    public readonly storage: ClaimsBucket;
    public readonly topics: NotificationTopics;
    public readonly etlJob: GlueEtlJob;
    public readonly validation: S3TriggeredLambda;
    public readonly bucketName: pulumi.Output<string>;
    public readonly names: ReturnType<typeof claimsResourceNames>;

    constructor(name: string, args: ClaimsPipelineArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("glue-pipeline:claims:ClaimsPipeline", name, {}, opts);
        validateClaimsPipelineArgs(args);
        const names = claimsResourceNames(args.stage);
        this.names = names;
        const tags = args.tags;
        const P = CLAIMS_PREFIXES;

        this.storage = new ClaimsBucket(
            `${name}-storage`,
            { stage: args.stage, accountId: args.accountId, kmsKeyArn: args.kmsKeyArn, allowDestroy: args.allowDataDestroy, tags },
            { parent: this },
        );
        const bucket = this.storage.bucket;
        this.bucketName = bucket.bucket;

        this.topics = new NotificationTopics(
            `${name}-topics`,
            {
                processingTopicName: names.processingTopic,
                errorTopicName: names.errorTopic,
                kmsKeyArn: args.kmsKeyArn,
                errorEmails: args.errorEmails,
                displayNamePrefix: `Healthcare claims ${args.stage}`,
                tags,
            },
            { parent: this },
        );
        const topicArns = pulumi.all([this.topics.processingTopicArn, this.topics.errorTopicArn]);

        this.etlJob = new GlueEtlJob(
            `${name}-etl`,
            {
                jobName: names.etlJob,
                scriptPath: CLAIMS_SOURCES.etlScript,
                assetsBucket: args.assetsBucket,
                environment: args.glueEnvironment,
                kmsKeyArn: args.kmsKeyArn,
                glueVersion: args.glueVersion,
                maxWorkers: args.maxWorkers,
                executionClass: args.executionClass,
                // A burst of files waits in Glue's queue; Glue does not queue Flex runs.
                jobRunQueuing: (args.executionClass ?? "STANDARD") !== "FLEX",
                readAccess: [{ bucketArn: bucket.arn, prefixes: [P.raw] }],
                writeAccess: [{ bucketArn: bucket.arn, prefixes: ["processed/", `${P.quarantine}records/`, P.temp] }],
                metadataTableArn: args.metadataTable.arn,
                extraStatements: pulumi
                    .all([topicArns, pulumi.output(args.kmsKeyArn)])
                    .apply(([arns, key]) => topicPublishStatements(arns, key, "PublishJobStatus")),
                defaultArguments: {
                    ...args.jobArguments,
                    "--processing_topic_arn": this.topics.processingTopicArn,
                    "--error_topic_arn": this.topics.errorTopicArn,
                },
                description: "Healthcare claims ETL: dedupe, standardise, enrich, risk score, partitioned Parquet and aggregations",
                tags,
            },
            { parent: this },
        );

        const timeout = args.validationTimeoutSeconds ?? DEFAULT_VALIDATION_TIMEOUT_SECONDS;
        this.validation = new S3TriggeredLambda(
            `${name}-validation`,
            {
                functionName: names.validationFunction,
                entry: CLAIMS_SOURCES.validationHandler,
                bucket,
                // The queue policy's aws:SourceAccount: the claims bucket is the stack's account's.
                bucketOwnerAccountId: args.accountId,
                filterPrefix: P.raw,
                filterSuffix: CLAIMS_FILE_SUFFIX,
                environment: {
                    ...args.validationEnvironment,
                    [ENV.glueJobName]: this.etlJob.jobName,
                    [ENV.metadataTable]: args.metadataTable.name,
                    [ENV.dataBucket]: bucket.bucket,
                    [ENV.rawPrefix]: P.raw,
                    [ENV.processingTopicArn]: this.topics.processingTopicArn,
                    [ENV.errorTopicArn]: this.topics.errorTopicArn,
                    [ENV.minQualityScore]: String(args.minQualityScore ?? DEFAULT_MIN_QUALITY_SCORE),
                    // The claim must outlive the invocation that holds it.
                    [ENV.claimLeaseSeconds]: String(timeout + 60),
                },
                policyStatements: pulumi
                    .all([bucket.arn, this.etlJob.jobArn, pulumi.output(args.metadataTable.arn), topicArns, pulumi.output(args.kmsKeyArn)])
                    .apply(([bucketArn, jobArn, tableArn, arns, kmsKeyArn]) => validationPolicyStatements({ bucketArn, jobArn, tableArn, topicArns: arns, kmsKeyArn })),
                timeoutSeconds: timeout,
                memorySizeMb: args.validationMemoryMb ?? DEFAULT_VALIDATION_MEMORY_MB,
                reservedConcurrency: args.validationConcurrency,
                queue: { batchSize: DEFAULT_VALIDATION_BATCH_SIZE, ...args.validationQueue },
                kmsKeyArn: args.kmsKeyArn,
                description: "Validates healthcare claims files, then starts the claims ETL or quarantines the file",
                tags,
            },
            // Versioning must be on before the first file: the function reads files by version id.
            { parent: this, dependsOn: [this.storage.versioning] },
        );

        this.registerOutputs({
            bucketName: this.bucketName,
            etlJobName: this.etlJob.jobName,
            validationFunctionName: this.validation.function.name,
            processingTopicArn: this.topics.processingTopicArn,
            errorTopicArn: this.topics.errorTopicArn,
        });
    }
}
