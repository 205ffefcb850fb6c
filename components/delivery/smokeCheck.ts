/**
 * Smoke as part of `pulumi up`: the last resource of a stack runs `npm run smoke` against what the update
 * has just deployed, so a release whose files do not flow fails the update, and the stack's `smoke` output
 * only ever names a release that passed. Prod's promotion check reads that output (stacks/promotion.ts).
 *
 * Why a `local.Command` of @pulumi/command: Pulumi Deployments runs pre-run commands only, nothing after
 * `pulumi up`; a resource that depends on the flows' resources is the one place in the update that runs
 * after them. Its `triggers` are the release id, so it runs again whenever the release changes (and on any
 * change of its environment: buckets, table, role), and a failed run leaves the previous result in place.
 *
 * Credentials: the command runs with the deployment's credentials (in Deployments, the ESC environment's
 * deploy role, which by design may not read or write data). So the smoke uploads and reads as its own role,
 * `SmokeRole-<stage>`, allowed exactly what smoke does: put the samples under the keys smoke uses, read what
 * the flows wrote for them, put the release marker, read the files' records, and use the data lake key
 * through S3 and DynamoDB only. The deploy role needs `sts:AssumeRole` on it ({@link assumeSmokeRoleStatement}).
 */
import * as command from "@pulumi/command";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { partitionOf } from "./deployRoles";
import { PolicyDocument, policyDocument, PolicyStatement } from "../iam/iamPolicies";

/** Physical name of a stage's smoke role, like `GlueTestRole-<stage>`. */
export const smokeRoleName = (stage: string): string => `SmokeRole-${stage}`;

/**
 * Where smoke puts and finds things. The CSV flow's trigger takes any `.csv` key, so its samples go under a
 * prefix of their own; the Parquet flow's trigger takes only dated keys under `raw-data/YYYY/MM/DD/`, so its
 * samples carry a file-name prefix there instead, and IAM's one-character `?` pins the date's shape.
 */
export const SMOKE_LAYOUT = {
    /** Input bucket: `smoke/<run>/<sample>.csv`. */
    csvPrefix: "smoke/",
    /** Input bucket: `raw-data/YYYY/MM/DD/smoke-<run>-<sample>.parquet`. */
    parquetNamePrefix: "smoke-",
    /** Output bucket: `smoke/passed/<releaseId>.json`, the record that a release passed. */
    markerPrefix: "smoke/passed/",
} as const;

/** `YYYY/MM/DD/` as an IAM resource pattern (each `?` is exactly one character, never a `/`-spanning `*`). */
const DATE_PATTERN = "????/??/??/";

/** The prefixes of the flows smoke drives, as the composition defines them (stacks/flows/smoke.ts). */
export interface SmokeFlowPrefixes {
    /** The CSV flow: FileProcessorV2 writes Parquet under this + the key's stem (`processed/`). */
    readonly csvOutput: string;
    /** The CSV flow's quarantine, + the key's stem (`quarantine/`). */
    readonly csvQuarantine: string;
    /** The Parquet flow's input prefix (`raw-data/`). */
    readonly parquetInput: string;
    /** Where ParquetToJson writes JSON Lines (`processed-data/`), + the key's stem below `parquetInput`. */
    readonly parquetOutput: string;
    /** The Parquet flow's quarantine (`quarantine/raw-data/`), + the key's stem below `parquetInput`. */
    readonly parquetQuarantine: string;
}

/** Key patterns (IAM wildcards) of everything smoke touches, derived from the flows' prefixes. Pure. */
export function smokeKeyPatterns(flows: SmokeFlowPrefixes): { uploads: string[]; results: string[]; marker: string } {
    const csvStem = `${SMOKE_LAYOUT.csvPrefix}*`;
    const parquetStem = `${DATE_PATTERN}${SMOKE_LAYOUT.parquetNamePrefix}*`;
    return {
        uploads: [csvStem, `${flows.parquetInput}${parquetStem}`],
        results: [
            `${flows.csvOutput}${csvStem}`,
            `${flows.csvQuarantine}${csvStem}`,
            `${flows.parquetOutput}${parquetStem}`,
            `${flows.parquetQuarantine}${parquetStem}`,
        ],
        marker: `${SMOKE_LAYOUT.markerPrefix}*`,
    };
}

export interface SmokeAccessScope {
    readonly partition: string;
    readonly region: string;
    readonly inputBucketArn: string;
    readonly outputBucketArn: string;
    readonly tableArn: string;
    readonly kmsKeyArn: string;
    readonly flows: SmokeFlowPrefixes;
}

/** The smoke role's permissions: exactly what scripts/smoke.ts does, nothing on "*". Pure. */
export function smokeRolePolicy(scope: SmokeAccessScope): PolicyDocument {
    const keys = smokeKeyPatterns(scope.flows);
    const r = scope.region;
    return policyDocument([
        // Single-part puts (the samples are a few KiB): no multipart actions.
        { Sid: "UploadSamples", Effect: "Allow", Action: ["s3:PutObject"], Resource: keys.uploads.map((k) => `${scope.inputBucketArn}/${k}`) },
        {
            // Smoke lists each file's output and quarantine prefix, always naming it: no IfExists, so a listing
            // of the bucket root or of another file's prefix is refused.
            Sid: "ListResults",
            Effect: "Allow",
            Action: ["s3:ListBucket"],
            Resource: scope.outputBucketArn,
            Condition: { StringLike: { "s3:prefix": keys.results } },
        },
        { Sid: "ReadResults", Effect: "Allow", Action: ["s3:GetObject"], Resource: keys.results.map((k) => `${scope.outputBucketArn}/${k}`) },
        { Sid: "WriteMarker", Effect: "Allow", Action: ["s3:PutObject"], Resource: `${scope.outputBucketArn}/${keys.marker}` },
        { Sid: "ReadFileRecords", Effect: "Allow", Action: ["dynamodb:GetItem"], Resource: scope.tableArn },
        {
            // Buckets and table are encrypted with the data lake key: GenerateDataKey to put, Decrypt to get and
            // to read the table (DynamoDB decrypts its table key with the caller's permission); never directly.
            Sid: "DataLakeKeyThroughS3AndDynamoDb",
            Effect: "Allow",
            Action: ["kms:Decrypt", "kms:GenerateDataKey"],
            Resource: scope.kmsKeyArn,
            Condition: { StringEquals: { "kms:ViaService": [`s3.${r}.amazonaws.com`, `dynamodb.${r}.amazonaws.com`] } },
        },
    ]);
}

/**
 * Who may assume the smoke role: the deploy role when the stack deploys through one (`deployRoleArn`), else
 * the account itself, which delegates to its principals' own IAM policies (the sandbox: whoever runs
 * `pulumi up` with sts:AssumeRole on this role, an administrator typically). Pure.
 */
export function smokeRoleTrustPolicy(partition: string, accountId: string, deployRoleArn?: string): PolicyDocument {
    const principal = deployRoleArn ?? `arn:${partition}:iam::${accountId}:root`;
    return policyDocument([{ Sid: deployRoleArn ? "DeployRoleRunsSmoke" : "AccountPrincipalsRunSmoke", Effect: "Allow", Principal: { AWS: principal }, Action: "sts:AssumeRole" }]);
}

/** What the deploy role needs so that its `pulumi up` can run smoke: assume exactly the stage's smoke role. */
export function assumeSmokeRoleStatement(partition: string, accountId: string, stage: string): PolicyStatement {
    return { Sid: "AssumeSmokeRole", Effect: "Allow", Action: ["sts:AssumeRole"], Resource: `arn:${partition}:iam::${accountId}:role/${smokeRoleName(stage)}` };
}

/** The command's result, as smoke prints it on its last line with `--json` (and writes it as the marker). */
export interface SmokeMarker {
    readonly releaseId: string;
    readonly passedAt: string;
    readonly files: readonly string[];
}

/**
 * The smoke result in the command's stdout, checked against the release it ran for. Undefined while the
 * command has not run (a preview, the offline mocks); throws on anything else than a passing result for
 * `releaseId`, which fails the update rather than export a result nobody proved. Pure.
 */
export function parseSmokeStdout(stdout: string | undefined, releaseId: string): SmokeMarker | undefined {
    if (stdout === undefined) return undefined;
    const last = stdout.trim().split("\n").pop() ?? "";
    let parsed: unknown;
    try {
        parsed = JSON.parse(last);
    } catch {
        throw new Error(`the smoke check printed no result line (its last line is ${JSON.stringify(last.slice(0, 200))}); run npm run smoke -- --stack <stack> to see why`);
    }
    const problem = smokeMarkerProblem(parsed);
    if (problem) throw new Error(`the smoke check's result line ${problem}`);
    const marker = parsed as SmokeMarker;
    if (marker.releaseId !== releaseId) throw new Error(`the smoke check ran for release ${marker.releaseId}, but this update deploys ${releaseId}`);
    return { releaseId: marker.releaseId, passedAt: marker.passedAt, files: [...marker.files] };
}

/** Why a value is not a {@link SmokeMarker}, or undefined when it is one. Pure; promotion uses it too. */
export function smokeMarkerProblem(value: unknown): string | undefined {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return `is ${Array.isArray(value) ? "an array" : value === null ? "null" : typeof value}, expected an object {releaseId, passedAt, files}`;
    const v = value as Record<string, unknown>;
    if (typeof v.releaseId !== "string" || !/^[A-Za-z0-9._-]{1,128}$/.test(v.releaseId)) return `has releaseId ${JSON.stringify(v.releaseId)}, expected a release id`;
    if (typeof v.passedAt !== "string" || Number.isNaN(Date.parse(v.passedAt))) return `has passedAt ${JSON.stringify(v.passedAt)}, expected an ISO timestamp`;
    if (!Array.isArray(v.files) || v.files.length === 0 || !v.files.every((f) => typeof f === "string")) return `has files ${JSON.stringify(v.files)}, expected the non-empty list of keys smoke checked`;
    return undefined;
}

/** The shell command the resource runs; everything variable comes from its environment. */
export function smokeCommandLine(withDeployRole: boolean): string {
    const deployRole = withDeployRole ? ` --role-arn "$SMOKE_DEPLOY_ROLE_ARN"` : "";
    return `npm run --silent smoke -- --stack "$SMOKE_STACK" --outputs-env SMOKE_OUTPUTS${deployRole} --role-arn "$SMOKE_ROLE_ARN" --json`;
}

export interface SmokeCheckArgs {
    /** Stage in the role's name (`SmokeRole-<stage>`). */
    readonly stage: string;
    readonly accountId: pulumi.Input<string>;
    readonly region: string;
    /** The stack's name, for smoke's messages and its marker. */
    readonly stackName: string;
    readonly releaseId: pulumi.Input<string>;
    readonly inputBucket: aws.s3.Bucket;
    readonly outputBucket: aws.s3.Bucket;
    readonly metadataTableName: pulumi.Input<string>;
    readonly metadataTableArn: pulumi.Input<string>;
    readonly kmsKeyArn: pulumi.Input<string>;
    readonly flows: SmokeFlowPrefixes;
    /**
     * The role the stack deploys through (`deployRoleArn`): the only principal the smoke role trusts, and
     * assumed first by the command, as the AWS provider does. @default the account's own principals
     */
    readonly deployRoleArn?: string;
    /** Everything the smoke run needs deployed first: the flows' functions, jobs, notifications, table. */
    readonly flowResources: readonly pulumi.Resource[];
    readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export class SmokeCheck extends pulumi.ComponentResource {
    public readonly role: aws.iam.Role;
    public readonly policy: aws.iam.RolePolicy;
    public readonly command: command.local.Command;
    /** The passing result of this release's smoke run; undefined until the command has run (preview). */
    public readonly result: pulumi.Output<SmokeMarker | undefined>;

    constructor(name: string, args: SmokeCheckArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("glue-pipeline:deploy:SmokeCheck", name, {}, opts);
        if (args.flowResources.length === 0) throw new Error(`SmokeCheck ${name}: flowResources is empty; the check would run before what it checks exists`);
        const partition = partitionOf(args.region);

        this.role = new aws.iam.Role(
            `${name}-role`,
            {
                name: smokeRoleName(args.stage),
                description: `Smoke check of each release: puts the bundled samples, reads what the flows wrote for them`,
                maxSessionDuration: 3600,
                assumeRolePolicy: pulumi.output(args.accountId).apply((account) => JSON.stringify(smokeRoleTrustPolicy(partition, account, args.deployRoleArn))),
                tags: args.tags,
            },
            { parent: this },
        );
        this.policy = new aws.iam.RolePolicy(
            `${name}-policy`,
            {
                role: this.role.id,
                policy: pulumi
                    .all([args.inputBucket.arn, args.outputBucket.arn, args.metadataTableArn, args.kmsKeyArn])
                    .apply(([inputBucketArn, outputBucketArn, tableArn, kmsKeyArn]) =>
                        JSON.stringify(smokeRolePolicy({ partition, region: args.region, inputBucketArn, outputBucketArn, tableArn, kmsKeyArn, flows: args.flows })),
                    ),
            },
            { parent: this },
        );

        // Only what smoke reads (scripts/smoke.ts targetFromOutputs), not the stack's outputs: those are the
        // program's return value and exist only after the last resource.
        const outputs = pulumi.jsonStringify({
            inputBucket: args.inputBucket.bucket,
            outputBucket: args.outputBucket.bucket,
            metadataTable: args.metadataTableName,
            releaseId: args.releaseId,
            region: args.region,
        });
        this.command = new command.local.Command(
            `${name}-run`,
            {
                create: smokeCommandLine(args.deployRoleArn !== undefined),
                environment: {
                    SMOKE_STACK: args.stackName,
                    SMOKE_OUTPUTS: outputs,
                    SMOKE_ROLE_ARN: this.role.arn,
                    ...(args.deployRoleArn ? { SMOKE_DEPLOY_ROLE_ARN: args.deployRoleArn } : {}),
                },
                // A new release is a new run (a replacement; a failed one keeps the previous result).
                triggers: [args.releaseId],
                addPreviousOutputInEnv: false,
            },
            { parent: this, dependsOn: [...args.flowResources, this.role, this.policy] },
        );
        this.result = pulumi.all([this.command.stdout, args.releaseId]).apply(([stdout, release]) => parseSmokeStdout(stdout, release));
        this.registerOutputs({ roleArn: this.role.arn, result: this.result });
    }
}
