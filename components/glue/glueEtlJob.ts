/**
 * GlueEtlJob: one PySpark Glue job with its code, its own least-privilege role and its log groups.
 *
 * The script and the shared Python library are uploaded from the working tree when the program runs, under
 * keys that change with their content (./jobCode.ts). So `pulumi up` always ships the code in the tree, and
 * `scriptSha256`/`librarySha256` tell prod exactly which code dev ran.
 *
 * The job attaches the environment's security configuration (S3 SSE-KMS, CloudWatch SSE-KMS, bookmarks
 * CSE-KMS). Under it Glue logs to `/aws-glue/jobs/<config>-role/<role>/{output,error}`, names that contain
 * this job's role: the job therefore creates those two groups itself, with the environment's retention.
 *
 * Beside it: ./jobSettings.ts (defaults and service constraints), ./jobCode.ts (hashes, the library zip,
 * object keys), ./jobArguments.ts (owned and caller arguments), ./jobRole.ts (role name and policy).
 */
import * as fs from "fs";
import * as path from "path";

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import { normalizePrefix, PolicyStatement, serviceAssumeRolePolicy } from "../iam/iamPolicies";
import { DEFAULT_GLUE_LOG_RETENTION_DAYS, encryptedJobLogGroupNames, GlueJobEnvironment, parseArn } from "./glueEnvironment";
import { mergeDefaultArguments, ownedDefaultArguments } from "./jobArguments";
import { buildLibraryArchive, libraryObjectKey, resolveRepoPath, scriptObjectKey, sha256Hex } from "./jobCode";
import { dynamoDbTableName, glueJobRoleName, glueJobRolePolicy } from "./jobRole";
import {
    GLUE_ETL_DEFAULTS,
    GlueBookmarkOption,
    GlueDataCatalogAccess,
    GlueDatalakeFormat,
    GlueEtlJobSettings,
    GlueExecutionClass,
    validateGlueEtlJobArgs,
} from "./jobSettings";

// Imported from this module by components and stacks written before the split.
export type { GlueExecutionClass } from "./jobSettings";
export { hashDirectory, hashFile, resolveRepoPath, sha256Hex } from "./jobCode";

/** A bucket by name and ARN; an `aws.s3.Bucket` satisfies it. */
export interface BucketRef {
    readonly bucket: pulumi.Input<string>;
    readonly arn: pulumi.Input<string>;
}

/** Access to key prefixes of one bucket. `""` in `prefixes` means the whole bucket. */
export interface S3PrefixGrant {
    readonly bucketArn: pulumi.Input<string>;
    readonly prefixes: readonly string[];
}

export interface GlueEtlJobArgs {
    /** Physical Glue job name, unique in the account, e.g. `FileProcessorV2-dev`. */
    readonly jobName: string;
    /** The entry script (`.py`), relative to the repository root (e.g. `glue/jobs/file_processor.py`) or absolute. */
    readonly scriptPath: string;
    /**
     * Directory whose files are zipped (deterministically; `__pycache__`, `*.pyc`, `*.pyo` and dot-files left
     * out) and passed with `--extra-py-files`; relative to the repository root or absolute. `false`: no library.
     * @default "glue/lib"
     */
    readonly libraryDir?: string | false;
    /** Bucket the script and library are uploaded to; also holds the job's temp dir and Spark UI logs. */
    readonly assetsBucket: BucketRef;
    /** The stack's Glue environment (a `GlueEnvironment`, or the same values from elsewhere). */
    readonly environment: GlueJobEnvironment;
    /** KMS key of the buckets the job reads and writes, and of the uploaded code. @default the environment's key */
    readonly kmsKeyArn?: pulumi.Input<string>;
    /** Glue version, `major.minor`, 3.0 or later (auto scaling needs it). @default "5.1" (Spark 3.5, Python 3.11) */
    readonly glueVersion?: string;
    /** Worker type. @default "G.1X" */
    readonly workerType?: string;
    /** Maximum number of workers; auto scaling is on, so this is the ceiling, not a fixed size. Minimum 2. @default 10 */
    readonly maxWorkers?: number;
    /** Run timeout in minutes (1–2880). @default 60 */
    readonly timeoutMinutes?: number;
    /** Runs allowed at once; with queuing, further runs wait. @default 3 */
    readonly maxConcurrentRuns?: number;
    /** Automatic retries of a failed run (0–10). Must be 0 with job run queuing. @default 0 */
    readonly maxRetries?: number;
    /** STANDARD, or FLEX (spare capacity, cheaper, may start late; G.1X/G.2X only; no queuing). @default "STANDARD" */
    readonly executionClass?: GlueExecutionClass;
    /** Queue runs beyond the concurrency limits instead of failing them. Not with FLEX or maxRetries > 0. @default true */
    readonly jobRunQueuing?: boolean;
    /** Job bookmarks. FileProcessorV2 keeps them off: every run gets its own file. @default "disable" */
    readonly bookmarks?: GlueBookmarkOption;
    /** Glue Data Catalog as Spark's metastore, and what the role may do in it. @default "read" */
    readonly dataCatalog?: GlueDataCatalogAccess;
    /** Data lake formats to load (`--datalake-formats`). @default none */
    readonly datalakeFormats?: readonly GlueDatalakeFormat[];
    /**
     * Extra default arguments (`--name`: value). They may not set the arguments this component owns (see
     * RESERVED_JOB_ARGUMENTS in ./jobArguments.ts); a conflict is an error naming the keys. @default none
     */
    readonly defaultArguments?: Readonly<Record<string, pulumi.Input<string>>>;
    /** Prefixes the job reads (list + get). @default none */
    readonly readAccess?: readonly S3PrefixGrant[];
    /** Prefixes the job writes (list, get, put, delete: Spark's committers rename and overwrite). @default none */
    readonly writeAccess?: readonly S3PrefixGrant[];
    /** The processing-metadata table: grants GetItem/UpdateItem and sets `--metadata_table`. @default none */
    readonly metadataTableArn?: pulumi.Input<string>;
    /** Further statements for the role (checked: no S3/DynamoDB/Glue/KMS/SQS action on "*"). @default none */
    readonly extraStatements?: pulumi.Input<pulumi.Input<PolicyStatement>[]>;
    /** Job description. @default "Glue ETL job {jobName}" */
    readonly description?: string;
    /** Tags for every taggable child. @default none */
    readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

// ---------------------------------------------------------------------------------------------------------
// The component
// ---------------------------------------------------------------------------------------------------------

export class GlueEtlJob extends pulumi.ComponentResource {
    public readonly job: aws.glue.Job;
    public readonly role: aws.iam.Role;
    public readonly rolePolicy: aws.iam.RolePolicy;
    public readonly scriptObject: aws.s3.BucketObject;
    /** The zipped library, unless `libraryDir` is false. */
    public readonly libraryObject?: aws.s3.BucketObject;
    /** `/aws-glue/jobs/<security configuration>-role/<role>/output` */
    public readonly outputLogGroup: aws.cloudwatch.LogGroup;
    /** `/aws-glue/jobs/<security configuration>-role/<role>/error` */
    public readonly errorLogGroup: aws.cloudwatch.LogGroup;

    /** The validated settings the job was created with. */
    public readonly settings: GlueEtlJobSettings;
    public readonly jobName: pulumi.Output<string>;
    public readonly jobArn: pulumi.Output<string>;
    public readonly roleArn: pulumi.Output<string>;
    public readonly roleName: string;
    public readonly scriptKey: string;
    public readonly scriptS3Uri: pulumi.Output<string>;
    /** SHA-256 of the script's bytes. */
    public readonly scriptSha256: string;
    public readonly libraryKey?: string;
    /** {@link hashDirectory} of the library directory, when a library is shipped. */
    public readonly librarySha256?: string;
    /** The job's default arguments (owned plus the caller's). */
    public readonly defaultArguments: Record<string, pulumi.Input<string>>;

    constructor(name: string, args: GlueEtlJobArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("glue-pipeline:glue:GlueEtlJob", name, {}, opts);

        // Everything that can be wrong with the arguments is found before any child is created.
        const settings = validateGlueEtlJobArgs(args);
        const { jobName } = settings;
        const scriptFile = resolveRepoPath(args.scriptPath);
        if (!scriptFile.endsWith(".py") || !fs.existsSync(scriptFile) || !fs.statSync(scriptFile).isFile()) {
            throw new Error(`GlueEtlJob ${jobName}: scriptPath must name an existing .py file (resolved to ${scriptFile})`);
        }
        const libraryDirArg = args.libraryDir ?? GLUE_ETL_DEFAULTS.libraryDir;
        const libraryDir = libraryDirArg === false ? undefined : resolveRepoPath(libraryDirArg);
        if (libraryDir !== undefined && (!fs.existsSync(libraryDir) || !fs.statSync(libraryDir).isDirectory())) {
            throw new Error(`GlueEtlJob ${jobName}: libraryDir must be an existing directory, or false (resolved to ${libraryDir})`);
        }
        const grants = [...(args.readAccess ?? []), ...(args.writeAccess ?? [])];
        const emptyGrants = grants.filter((g) => g.prefixes.length === 0);
        if (emptyGrants.length > 0) throw new Error(`GlueEtlJob ${jobName}: readAccess/writeAccess need at least one prefix each ("" for a whole bucket)`);
        grants.forEach((g) => g.prefixes.forEach(normalizePrefix));
        const userArguments = args.defaultArguments ?? {};
        mergeDefaultArguments({}, userArguments); // key shape and reserved keys, before any child exists

        this.settings = settings;
        const tags = args.tags;
        const env = args.environment;
        const kmsKeyArn = args.kmsKeyArn ?? env.kmsKeyArn;

        // --- code -------------------------------------------------------------------------------------------
        const scriptBytes = fs.readFileSync(scriptFile);
        this.scriptSha256 = sha256Hex(scriptBytes);
        this.scriptKey = scriptObjectKey(jobName, path.basename(scriptFile), this.scriptSha256);
        this.scriptObject = new aws.s3.BucketObject(
            `${name}-script`,
            {
                bucket: args.assetsBucket.bucket,
                key: this.scriptKey,
                content: scriptBytes.toString("utf8"),
                contentType: "text/x-python",
                serverSideEncryption: "aws:kms",
                kmsKeyId: kmsKeyArn,
                bucketKeyEnabled: true,
                tags,
            },
            { parent: this },
        );
        if (libraryDir !== undefined) {
            const archive = buildLibraryArchive(libraryDir);
            this.librarySha256 = archive.sha256;
            this.libraryKey = libraryObjectKey(jobName, archive.sha256);
            this.libraryObject = new aws.s3.BucketObject(
                `${name}-library`,
                {
                    bucket: args.assetsBucket.bucket,
                    key: this.libraryKey,
                    contentBase64: archive.zip.toString("base64"),
                    contentType: "application/zip",
                    serverSideEncryption: "aws:kms",
                    kmsKeyId: kmsKeyArn,
                    bucketKeyEnabled: true,
                    tags,
                },
                { parent: this },
            );
        }
        this.scriptS3Uri = pulumi.interpolate`s3://${args.assetsBucket.bucket}/${this.scriptKey}`;

        // --- role and its log groups --------------------------------------------------------------------------
        this.roleName = glueJobRoleName(jobName);
        const sourceAccount = pulumi.output(env.databaseArn).apply((arn) => parseArn(arn).account);
        this.role = new aws.iam.Role(
            `${name}-role`,
            {
                name: this.roleName,
                description: `Runs the Glue job ${jobName}`,
                assumeRolePolicy: sourceAccount.apply((account) =>
                    JSON.stringify(serviceAssumeRolePolicy("glue.amazonaws.com", { sourceAccount: account })),
                ),
                tags,
            },
            { parent: this },
        );

        const retention = env.logRetentionInDays ?? DEFAULT_GLUE_LOG_RETENTION_DAYS;
        const jobLogGroupNames = pulumi.output(env.securityConfigurationName).apply((sc) => encryptedJobLogGroupNames(sc, this.roleName));
        const jobLogGroup = (role: "output" | "error") =>
            new aws.cloudwatch.LogGroup(
                `${name}-${role}-logs`,
                { name: jobLogGroupNames[role], retentionInDays: retention, kmsKeyId: kmsKeyArn, tags },
                { parent: this },
            );
        this.outputLogGroup = jobLogGroup("output");
        this.errorLogGroup = jobLogGroup("error");

        const toGrant = (g: S3PrefixGrant) => pulumi.output(g.bucketArn).apply((bucketArn) => ({ bucketArn, prefixes: [...g.prefixes] }));
        const policy = pulumi
            .output({
                databaseArn: env.databaseArn,
                assetsBucketArn: args.assetsBucket.arn,
                readAccess: pulumi.all((args.readAccess ?? []).map(toGrant)),
                writeAccess: pulumi.all((args.writeAccess ?? []).map(toGrant)),
                kmsKeyArns: pulumi.all([kmsKeyArn, env.kmsKeyArn]),
                sharedLogGroupArns: pulumi.output(env.sharedLogGroupArns),
                jobLogGroupArns: pulumi.all([this.outputLogGroup.arn, this.errorLogGroup.arn]),
                metadataTableArn: args.metadataTableArn,
                extraStatements: pulumi.output(args.extraStatements ?? []),
            })
            .apply((r) =>
                JSON.stringify(
                    glueJobRolePolicy({
                        jobName,
                        databaseArn: r.databaseArn,
                        assetsBucketArn: r.assetsBucketArn,
                        withLibrary: libraryDir !== undefined,
                        readAccess: r.readAccess,
                        writeAccess: r.writeAccess,
                        kmsKeyArns: r.kmsKeyArns,
                        logGroupArns: [...r.jobLogGroupArns, ...r.sharedLogGroupArns],
                        metadataTableArn: r.metadataTableArn,
                        bookmarks: settings.bookmarks,
                        dataCatalog: settings.dataCatalog,
                        extraStatements: r.extraStatements as PolicyStatement[],
                    }),
                ),
            );
        this.rolePolicy = new aws.iam.RolePolicy(`${name}-policy`, { role: this.role.name, policy }, { parent: this });

        // --- the job -----------------------------------------------------------------------------------------
        const metadataTableName =
            args.metadataTableArn === undefined ? undefined : pulumi.output(args.metadataTableArn).apply(dynamoDbTableName);
        this.defaultArguments = mergeDefaultArguments(
            ownedDefaultArguments({
                assetsBucket: args.assetsBucket.bucket,
                jobName,
                libraryKey: this.libraryKey,
                bookmarks: settings.bookmarks,
                dataCatalog: settings.dataCatalog,
                datalakeFormats: settings.datalakeFormats,
                metadataTableName,
            }),
            userArguments,
        );

        this.job = new aws.glue.Job(
            `${name}-job`,
            {
                name: jobName,
                description: args.description ?? `Glue ETL job ${jobName}`,
                roleArn: this.role.arn,
                command: { name: "glueetl", pythonVersion: "3", scriptLocation: this.scriptS3Uri },
                glueVersion: settings.glueVersion,
                workerType: settings.workerType,
                numberOfWorkers: settings.maxWorkers,
                timeout: settings.timeoutMinutes,
                maxRetries: settings.maxRetries,
                executionProperty: { maxConcurrentRuns: settings.maxConcurrentRuns },
                executionClass: settings.executionClass,
                jobRunQueuingEnabled: settings.jobRunQueuing,
                securityConfiguration: env.securityConfigurationName,
                defaultArguments: this.defaultArguments,
                tags,
            },
            {
                parent: this,
                // A run must find its permissions, its log groups (else Glue creates them with infinite
                // retention) and its code in place.
                dependsOn: [this.rolePolicy, this.outputLogGroup, this.errorLogGroup, this.scriptObject, ...(this.libraryObject ? [this.libraryObject] : [])],
            },
        );

        this.jobName = this.job.name;
        this.jobArn = this.job.arn;
        this.roleArn = this.role.arn;

        this.registerOutputs({
            jobName: this.jobName,
            jobArn: this.jobArn,
            roleArn: this.roleArn,
            scriptS3Uri: this.scriptS3Uri,
            scriptSha256: this.scriptSha256,
            librarySha256: this.librarySha256,
        });
    }
}
