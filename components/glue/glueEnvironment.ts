/**
 * GlueEnvironment: the account-level Glue pieces that every Glue job of a stack shares, so that
 * `GlueEtlJob` can be instantiated many times without two jobs fighting over one name.
 *
 * It owns:
 * - the Data Catalog database `glue_database_v2_{stage}`;
 * - one Glue security configuration (named from the stage) that encrypts what jobs write with the stack's
 *   KMS key: S3 output with SSE-KMS, CloudWatch Logs with SSE-KMS, job bookmarks with CSE-KMS. (Glue accepts
 *   only `SSE-KMS` for CloudWatch Logs; client-side `CSE-KMS` exists only for bookmarks.);
 * - the CloudWatch log groups Glue writes to that are shared by every job, all with a finite retention
 *   (30 days by default, the requirements' table).
 *
 * Which log groups Glue writes to (Glue developer guide, "Logging for AWS Glue jobs", "Security
 * configuration with continuous logging", "Encrypting data written by AWS Glue"):
 * - without a security configuration: `/aws-glue/jobs/output` (driver stdout/stderr) and
 *   `/aws-glue/jobs/error` (system, Spark and GlueLogger logs); with continuous logging on Glue ≤ 4.0,
 *   also `/aws-glue/jobs/logs-v2`. Glue 5.x logs in real time to output/error by default.
 * - with a security configuration whose CloudWatch encryption is on, Glue instead writes to groups whose
 *   names carry the configuration's name, so that it can associate the KMS key with them:
 *   `/aws-glue/jobs/<security-configuration>-role/<role-name>/output` and `.../error` (per job role: the
 *   job component creates those, see {@link encryptedJobLogGroupNames}), and for continuous logging
 *   `/aws-glue/jobs/logs-v2-<security-configuration>` (shared: created here).
 *
 * Glue creates any of these groups on first use when they are missing, with infinite retention. Creating
 * them here first, with a retention, is what keeps every log group our jobs touch from keeping logs forever.
 * The role of a job also needs `logs:AssociateKmsKey` on them, or Glue silently turns continuous logging off.
 *
 * Operational notes: the KMS key policy must let `logs.<region>.amazonaws.com` use the key (CloudWatch
 * Logs encrypts server-side on Glue's behalf) or creating the encrypted log groups fails. The three
 * default groups are account-wide names; if Glue already created them in the account, either import them
 * (`pulumi import aws:cloudwatch/logGroup:LogGroup <logical-name> /aws-glue/jobs/output`) or set
 * `manageDefaultLogGroups: false`.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** Retention values CloudWatch Logs accepts (PutRetentionPolicy), in days. */
export const CLOUDWATCH_RETENTION_DAYS: readonly number[] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/** The requirements' retention for Glue job logs. */
export const DEFAULT_GLUE_LOG_RETENTION_DAYS = 30;

/** Log groups Glue writes to for jobs without an encrypting security configuration. */
export const GLUE_DEFAULT_LOG_GROUPS = {
    output: "/aws-glue/jobs/output",
    error: "/aws-glue/jobs/error",
    continuous: "/aws-glue/jobs/logs-v2",
} as const;

/** Stages become parts of resource names (database, security configuration, log groups). */
export function validateGlueStage(stage: string): string {
    if (typeof stage !== "string" || !/^[a-z][a-z0-9-]{0,30}$/.test(stage)) {
        throw new Error(`GlueEnvironment: stage must be lowercase letters, digits and '-', starting with a letter (got ${JSON.stringify(stage)})`);
    }
    return stage;
}

/** `glue_database_v2_{stage}`; catalog names allow only lowercase letters, digits and `_`. */
export function glueDatabaseName(stage: string): string {
    return `glue_database_v2_${validateGlueStage(stage).replace(/-/g, "_")}`;
}

/** Default name of the stage's security configuration. */
export function glueSecurityConfigurationName(stage: string): string {
    return `glue-pipeline-${validateGlueStage(stage)}`;
}

/** The continuous-logging group Glue uses for jobs attached to `securityConfigurationName` (Glue ≤ 4.0). */
export function encryptedContinuousLogGroupName(securityConfigurationName: string): string {
    return `${GLUE_DEFAULT_LOG_GROUPS.continuous}-${securityConfigurationName}`;
}

/**
 * The output/error groups Glue uses for a job run with `roleName` under an encrypting security
 * configuration: `/aws-glue/jobs/<config>-role<role path><role name>/{output,error}`.
 */
export function encryptedJobLogGroupNames(
    securityConfigurationName: string,
    roleName: string,
    rolePath = "/",
): { output: string; error: string } {
    if (!rolePath.startsWith("/") || !rolePath.endsWith("/")) throw new Error(`encryptedJobLogGroupNames: role path must start and end with '/' (got ${rolePath})`);
    const base = `/aws-glue/jobs/${securityConfigurationName}-role${rolePath}${roleName}`;
    return { output: `${base}/output`, error: `${base}/error` };
}

export interface ParsedArn {
    readonly partition: string;
    readonly service: string;
    readonly region: string;
    readonly account: string;
    readonly resource: string;
}

/** Splits `arn:partition:service:region:account:resource` (the resource may itself contain ':'). */
export function parseArn(arn: string): ParsedArn {
    const parts = typeof arn === "string" ? arn.split(":") : [];
    if (parts.length < 6 || parts[0] !== "arn") throw new Error(`parseArn: not an ARN: ${JSON.stringify(arn)}`);
    const [, partition, service, region, account, ...rest] = parts;
    return { partition, service, region, account, resource: rest.join(":") };
}

/** The ARN of a log group in the partition/region/account of `sameAccountArn`. */
export function logGroupArn(sameAccountArn: string, logGroupName: string): string {
    const { partition, region, account } = parseArn(sameAccountArn);
    return `arn:${partition}:logs:${region}:${account}:log-group:${logGroupName}`;
}

/** The encryption block of the security configuration: S3 SSE-KMS, CloudWatch SSE-KMS, bookmarks CSE-KMS. */
export function securityConfigurationEncryption(
    kmsKeyArn: pulumi.Input<string>,
): aws.types.input.glue.SecurityConfigurationEncryptionConfiguration {
    return {
        s3Encryption: { s3EncryptionMode: "SSE-KMS", kmsKeyArn },
        cloudwatchEncryption: { cloudwatchEncryptionMode: "SSE-KMS", kmsKeyArn },
        jobBookmarksEncryption: { jobBookmarksEncryptionMode: "CSE-KMS", kmsKeyArn },
    };
}

/**
 * What a Glue job needs to know about the environment it runs in. `GlueEnvironment` implements it; a stack
 * that receives these values another way (e.g. a stack reference) can pass a plain object.
 */
export interface GlueJobEnvironment {
    /** Name of the security configuration every job attaches. */
    readonly securityConfigurationName: pulumi.Input<string>;
    /** The KMS key the security configuration encrypts with (jobs must be able to use it). */
    readonly kmsKeyArn: pulumi.Input<string>;
    /** Name of the stack's catalog database. */
    readonly databaseName: pulumi.Input<string>;
    /** ARN of the stack's catalog database; its region and account are those of the jobs. */
    readonly databaseArn: pulumi.Input<string>;
    /** ARNs of the log groups shared by all jobs of the stack, which every job role may write to. */
    readonly sharedLogGroupArns: pulumi.Input<pulumi.Input<string>[]>;
    /** Retention the jobs' own log groups should use. @default 30 */
    readonly logRetentionInDays?: number;
}

export interface GlueEnvironmentArgs {
    /** Stage name (`dev`, `prod`): part of the database, security configuration and log group names. */
    readonly stage: string;
    /** ARN of the stack's KMS key: encrypts S3 output, CloudWatch Logs and job bookmarks. */
    readonly kmsKeyArn: pulumi.Input<string>;
    /** Retention of every log group created here, in days (a value CloudWatch accepts). @default 30 */
    readonly logRetentionInDays?: number;
    /**
     * Create the account-wide default groups `/aws-glue/jobs/output`, `/aws-glue/jobs/error` and
     * `/aws-glue/jobs/logs-v2`. Turn off when they already exist in the account and are managed elsewhere.
     * @default true
     */
    readonly manageDefaultLogGroups?: boolean;
    /** Name of the security configuration. @default `glue-pipeline-{stage}` */
    readonly securityConfigurationName?: string;
    /** Description of the catalog database. @default "Glue data pipeline catalog ({stage})" */
    readonly databaseDescription?: string;
    /** Tags for every taggable child (security configurations cannot be tagged). @default none */
    readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export class GlueEnvironment extends pulumi.ComponentResource implements GlueJobEnvironment {
    public readonly database: aws.glue.CatalogDatabase;
    public readonly securityConfiguration: aws.glue.SecurityConfiguration;
    /** `/aws-glue/jobs/output`, when `manageDefaultLogGroups`. */
    public readonly outputLogGroup?: aws.cloudwatch.LogGroup;
    /** `/aws-glue/jobs/error`, when `manageDefaultLogGroups`. */
    public readonly errorLogGroup?: aws.cloudwatch.LogGroup;
    /** `/aws-glue/jobs/logs-v2`, when `manageDefaultLogGroups`. */
    public readonly continuousLogGroup?: aws.cloudwatch.LogGroup;
    /** `/aws-glue/jobs/logs-v2-<security configuration>`: continuous logs of every job of the stack. */
    public readonly encryptedContinuousLogGroup: aws.cloudwatch.LogGroup;
    /** Every log group created here. */
    public readonly logGroups: aws.cloudwatch.LogGroup[];

    public readonly databaseName: pulumi.Output<string>;
    public readonly databaseArn: pulumi.Output<string>;
    public readonly securityConfigurationName: pulumi.Output<string>;
    public readonly kmsKeyArn: pulumi.Output<string>;
    /** Names of the shared log groups jobs write to (whether or not created here). */
    public readonly sharedLogGroupNames: string[];
    public readonly sharedLogGroupArns: pulumi.Output<string>[];
    public readonly logRetentionInDays: number;

    constructor(name: string, args: GlueEnvironmentArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("glue-pipeline:glue:GlueEnvironment", name, {}, opts);

        const stage = validateGlueStage(args.stage);
        const retention = args.logRetentionInDays ?? DEFAULT_GLUE_LOG_RETENTION_DAYS;
        if (!CLOUDWATCH_RETENTION_DAYS.includes(retention)) {
            throw new Error(`GlueEnvironment ${name}: logRetentionInDays must be one of ${CLOUDWATCH_RETENTION_DAYS.join(", ")} (got ${retention})`);
        }
        const securityConfigurationName = args.securityConfigurationName ?? glueSecurityConfigurationName(stage);
        if (!/^[A-Za-z0-9_-]{1,255}$/.test(securityConfigurationName)) {
            throw new Error(`GlueEnvironment ${name}: securityConfigurationName may contain only letters, digits, '-' and '_' (got ${JSON.stringify(securityConfigurationName)})`);
        }
        const manageDefaults = args.manageDefaultLogGroups ?? true;
        this.logRetentionInDays = retention;

        this.database = new aws.glue.CatalogDatabase(
            `${name}-database`,
            {
                name: glueDatabaseName(stage),
                description: args.databaseDescription ?? `Glue data pipeline catalog (${stage})`,
                tags: args.tags,
            },
            { parent: this },
        );

        // A security configuration cannot be updated in place and its name is fixed: replacing it
        // create-before-delete would collide with itself.
        this.securityConfiguration = new aws.glue.SecurityConfiguration(
            `${name}-security`,
            { name: securityConfigurationName, encryptionConfiguration: securityConfigurationEncryption(args.kmsKeyArn) },
            { parent: this, deleteBeforeReplace: true },
        );

        const logGroup = (role: string, logGroupName: string) =>
            new aws.cloudwatch.LogGroup(
                `${name}-${role}`,
                { name: logGroupName, retentionInDays: retention, kmsKeyId: args.kmsKeyArn, tags: args.tags },
                { parent: this },
            );
        const defaults = manageDefaults
            ? {
                  output: logGroup("output-logs", GLUE_DEFAULT_LOG_GROUPS.output),
                  error: logGroup("error-logs", GLUE_DEFAULT_LOG_GROUPS.error),
                  continuous: logGroup("continuous-logs", GLUE_DEFAULT_LOG_GROUPS.continuous),
              }
            : undefined;
        this.outputLogGroup = defaults?.output;
        this.errorLogGroup = defaults?.error;
        this.continuousLogGroup = defaults?.continuous;
        this.encryptedContinuousLogGroup = logGroup("encrypted-continuous-logs", encryptedContinuousLogGroupName(securityConfigurationName));
        this.logGroups = [...(defaults ? [defaults.output, defaults.error, defaults.continuous] : []), this.encryptedContinuousLogGroup];

        this.databaseName = this.database.name;
        this.databaseArn = this.database.arn;
        this.securityConfigurationName = this.securityConfiguration.name;
        this.kmsKeyArn = pulumi.output(args.kmsKeyArn);
        const defaultNames = [GLUE_DEFAULT_LOG_GROUPS.output, GLUE_DEFAULT_LOG_GROUPS.error, GLUE_DEFAULT_LOG_GROUPS.continuous];
        this.sharedLogGroupNames = [...defaultNames, encryptedContinuousLogGroupName(securityConfigurationName)];
        // From the resources when we own them (so that a job's policy waits for them), else from their names.
        this.sharedLogGroupArns = [
            ...(defaults
                ? [defaults.output.arn, defaults.error.arn, defaults.continuous.arn]
                : defaultNames.map((n) => this.database.arn.apply((arn) => logGroupArn(arn, n)))),
            this.encryptedContinuousLogGroup.arn,
        ];

        this.registerOutputs({
            databaseName: this.databaseName,
            databaseArn: this.databaseArn,
            securityConfigurationName: this.securityConfigurationName,
            sharedLogGroupNames: this.sharedLogGroupNames,
            sharedLogGroupArns: this.sharedLogGroupArns,
            logRetentionInDays: this.logRetentionInDays,
        });
    }
}
