/**
 * ClaimsWarehouse: the claims flow's optional warehouse (its Redshift load), deployed only when the
 * stack sets `claims.warehouse`.
 *
 *   Glue "Job State Change" SUCCEEDED of healthcare-claims-{stage}-etl
 *     → EventBridge rule → healthcare-claims-{stage}-warehouse-load      functions/claims-warehouse-load/
 *       writes a COPY manifest of the file's Parquet (processed/warehouse-manifests/<file_id>.manifest), then
 *       one BatchExecuteStatement (one transaction): staging table ← COPY, DELETE the file's rows, INSERT them
 *       → the file's metadata record: warehouse_load_status LOADING → LOADED (rows) | LOAD_FAILED (error)
 *       → on failure an `error` on the claims error topic; Lambda retries twice, then the event goes to the
 *         function's dead-letter queue (`npm run replay` re-drives it)
 *
 * Children: the network (`-network`, an awsx.ec2.Vpc: isolated subnets in three AZs, no NAT gateway; awsx
 * always adds an internet gateway, which no route uses), an S3 gateway endpoint on its route tables
 * (`-s3-endpoint`), the workgroup's security group (`-sg`: no ingress, HTTPS out to S3's prefix list only),
 * the COPY role (`-copy-role`), the Redshift Serverless namespace (`-namespace`: the data-lake key, admin
 * password generated and kept by Secrets Manager) and workgroup (`-workgroup`: not public, enhanced VPC
 * routing, so COPY reaches S3 through the endpoint), and the load function (`-load`) with its rule.
 *
 * Why the endpoint is a resource of its own: awsx's `vpcEndpointSpecs` take route table ids as inputs, and
 * the route tables are the Vpc's own children, which do not exist when its arguments are given; a gateway
 * endpoint without route tables routes nothing, and with enhanced VPC routing and no NAT, COPY would fail.
 */
import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import { CLAIMS_BUCKET_PREFIXES } from "./claimsBucket";
import {
    dynamoDbItemStatement,
    glueJobRunStatement,
    kmsUseStatement,
    PolicyDocument,
    PolicyStatement,
    policyDocument,
    s3ListStatement,
    s3ObjectArns,
    s3ReadStatements,
    serviceAssumeRolePolicy,
} from "../iam/iamPolicies";
import { LambdaFunction } from "../compute/lambdaFunction";
import { topicPublishStatements } from "../messaging/notificationTopics";
// The function's side of the contract: the variables it reads and where it writes its manifests.
import { WAREHOUSE_LOAD_ENV as ENV, WAREHOUSE_MANIFEST_PREFIX, WarehouseLoadEnvName } from "../../functions/claims-warehouse-load/contract";

export const CLAIMS_WAREHOUSE_DEFAULTS = {
    baseCapacity: 8,
    databaseName: "claims",
    vpcCidr: "10.42.0.0/16",
    /** Redshift Serverless needs subnets in at least three AZs. */
    availabilityZones: 3,
    /** A /24 per AZ: Redshift Serverless wants free addresses in each subnet, more as capacity grows. */
    subnetCidrMask: 24,
    adminUsername: "claims_admin",
} as const;

/** Where the load function writes the COPY manifests (its contract): under processed/, the only prefix the COPY role reads. */
export { WAREHOUSE_MANIFEST_PREFIX };
export const WAREHOUSE_LOAD_ENTRY = "functions/claims-warehouse-load/handler.ts";
/** Polling a COPY of a large file takes minutes; Lambda's ceiling. */
export const WAREHOUSE_LOAD_TIMEOUT_SECONDS = 900;

/** Physical names: the claims flow's `healthcare-claims-{stage}-…` pattern. */
export function claimsWarehouseNames(stage: string) {
    return {
        namespace: `healthcare-claims-${stage}`,
        workgroup: `healthcare-claims-${stage}`,
        loadFunction: `healthcare-claims-${stage}-warehouse-load`,
    };
}

export interface ClaimsWarehouseArgs {
    readonly stage: string;
    readonly accountId: pulumi.Input<string>;
    /** The data-lake key: namespace, admin secret, the function's logs and environment; the claims objects are under it. */
    readonly kmsKeyArn: pulumi.Input<string>;
    /** The claims bucket (the COPY role reads its `processed/` prefix). */
    readonly claimsBucket: { readonly name: pulumi.Input<string>; readonly arn: pulumi.Input<string> };
    /** The claims Glue job: its successful runs start a load. */
    readonly etlJob: { readonly name: pulumi.Input<string>; readonly arn: pulumi.Input<string> };
    /** The processing-metadata table: the load's outcome goes on the file's record. */
    readonly metadataTable: { readonly name: pulumi.Input<string>; readonly arn: pulumi.Input<string> };
    /** The claims error topic (KMS-encrypted with `kmsKeyArn`): failed loads are published there. */
    readonly errorTopicArn: pulumi.Input<string>;
    /** RPUs queries start with: 4, or 8-512 in steps of 8. @default 8 */
    readonly baseCapacity?: number;
    /** Scaling ceiling in RPUs (a cost cap). @default none: Redshift Serverless' own */
    readonly maxCapacity?: number;
    /** @default "claims" */
    readonly databaseName?: string;
    /** @default "10.42.0.0/16" */
    readonly vpcCidr?: string;
    /** @default false: the namespace (the warehouse's data) is kept when the stack deletes it */
    readonly allowDataDestroy?: boolean;
    /** Extra environment of the load function: the contract's names only (e.g. `releaseId`). @default none */
    readonly loadEnvironment?: Readonly<Partial<Record<WarehouseLoadEnvName, pulumi.Input<string>>>>;
    readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** Redshift Serverless capacities: 4, or 8 to 512 in steps of 8. */
export function isRpuCapacity(value: number): boolean {
    return Number.isInteger(value) && (value === 4 || (value >= 8 && value <= 512 && value % 8 === 0));
}

export function validateClaimsWarehouseArgs(args: Pick<ClaimsWarehouseArgs, "baseCapacity" | "maxCapacity" | "databaseName" | "vpcCidr">): void {
    const base = args.baseCapacity ?? CLAIMS_WAREHOUSE_DEFAULTS.baseCapacity;
    if (!isRpuCapacity(base)) throw new Error(`ClaimsWarehouse: baseCapacity must be 4, or 8 to 512 in steps of 8, got ${base}`);
    if (args.maxCapacity !== undefined && (!isRpuCapacity(args.maxCapacity) || args.maxCapacity < base)) {
        throw new Error(`ClaimsWarehouse: maxCapacity must be a capacity (4, or 8-512 in steps of 8) of at least baseCapacity ${base}, got ${args.maxCapacity}`);
    }
    const db = args.databaseName ?? CLAIMS_WAREHOUSE_DEFAULTS.databaseName;
    if (!/^[a-z][a-z0-9_]{0,63}$/.test(db)) throw new Error(`ClaimsWarehouse: databaseName ${JSON.stringify(db)} is not a Redshift database name`);
    const cidr = args.vpcCidr ?? CLAIMS_WAREHOUSE_DEFAULTS.vpcCidr;
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
    if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) < 16 || Number(m[5]) > 22) {
        throw new Error(`ClaimsWarehouse: vpcCidr must be an IPv4 block from /16 to /22 (three /24 subnets), got ${JSON.stringify(cidr)}`);
    }
}

/**
 * Trust of the COPY role: Redshift (the namespace's default IAM role is assumed by redshift.amazonaws.com;
 * Redshift Serverless also presents redshift-serverless.amazonaws.com), only on behalf of this account.
 */
export function copyRoleTrustPolicy(accountId: string): PolicyDocument {
    return serviceAssumeRolePolicy(["redshift.amazonaws.com", "redshift-serverless.amazonaws.com"], { sourceAccount: accountId });
}

export interface CopyRoleInputs {
    readonly bucketArn: string;
    readonly kmsKeyArn: string;
    readonly region: string;
}

/**
 * What COPY needs, and nothing more: list and read the claims bucket's `processed/` prefix (the Parquet and
 * the manifests beside it), and decrypt its SSE-KMS objects through S3 only.
 */
export function copyRoleStatements(p: CopyRoleInputs): PolicyStatement[] {
    return [
        ...s3ReadStatements(p.bucketArn, ["processed/"], "ReadProcessedClaims"),
        kmsUseStatement(p.kmsKeyArn, "decrypt", { sid: "DecryptClaimsObjects", viaServices: [`s3.${p.region}.amazonaws.com`] }),
    ];
}

export interface LoadFunctionPolicyInputs {
    readonly bucketArn: string;
    readonly workgroupArn: string;
    readonly jobArn: string;
    readonly tableArn: string;
    readonly errorTopicArn: string;
    readonly kmsKeyArn: string;
}

/**
 * The load function's grants: find the file's Parquet (list `processed/claims/`), write its manifest, run SQL
 * on the one workgroup with IAM credentials (no admin secret), follow only its own statements, read the run
 * that succeeded, record the outcome, publish failures.
 */
export function loadFunctionStatements(p: LoadFunctionPolicyInputs): PolicyStatement[] {
    const P = CLAIMS_BUCKET_PREFIXES;
    return [
        s3ListStatement(p.bucketArn, [P.processed], "ListClaimsTable"),
        { Sid: "WriteCopyManifests", Effect: "Allow", Action: ["s3:PutObject"], Resource: s3ObjectArns(p.bucketArn, [WAREHOUSE_MANIFEST_PREFIX]) },
        // Manifests are written under the bucket's default SSE-KMS.
        kmsUseStatement(p.kmsKeyArn, "encrypt", { sid: "EncryptManifests" }),
        { Sid: "RunLoadStatements", Effect: "Allow", Action: ["redshift-data:BatchExecuteStatement", "redshift-data:ExecuteStatement"], Resource: p.workgroupArn },
        // The Data API authenticates a workgroup caller without a secret through this call (db user IAMR:<role>).
        { Sid: "WorkgroupCredentials", Effect: "Allow", Action: ["redshift-serverless:GetCredentials"], Resource: p.workgroupArn },
        // These two have no resource-level permissions; the condition limits them to statements this role ran.
        {
            Sid: "FollowOwnStatements",
            Effect: "Allow",
            Action: ["redshift-data:DescribeStatement", "redshift-data:CancelStatement"],
            Resource: "*",
            Condition: { StringEquals: { "redshift-data:statement-owner-iam-userid": "${aws:userid}" } },
        },
        glueJobRunStatement(p.jobArn, ["glue:GetJobRun"], "ReadSucceededRun"),
        dynamoDbItemStatement(p.tableArn, { read: true, write: true, sid: "RecordLoads" }),
        ...topicPublishStatements([p.errorTopicArn], p.kmsKeyArn, "PublishLoadErrors"),
    ];
}

/** The S3 gateway endpoint's policy: through this VPC, only reading the claims bucket's processed/ prefix. */
export function s3EndpointPolicy(bucketArn: string): PolicyDocument {
    return policyDocument(
        s3ReadStatements(bucketArn, ["processed/"], "ReadProcessedClaims").map((s) => ({ ...s, Principal: "*" })),
    );
}

/** The rule's pattern: successful runs of the claims job only (failed runs are the job-events handler's). */
export function succeededRunPattern(jobName: string): Record<string, unknown> {
    return { source: ["aws.glue"], "detail-type": ["Glue Job State Change"], detail: { jobName: [jobName], state: ["SUCCEEDED"] } };
}

export class ClaimsWarehouse extends pulumi.ComponentResource {
    public readonly network: awsx.ec2.Vpc;
    public readonly s3Endpoint: aws.ec2.VpcEndpoint;
    public readonly securityGroup: aws.ec2.SecurityGroup;
    public readonly copyRole: aws.iam.Role;
    public readonly copyRolePolicy: aws.iam.RolePolicy;
    public readonly namespace: aws.redshiftserverless.Namespace;
    public readonly workgroup: aws.redshiftserverless.Workgroup;
    public readonly load: LambdaFunction;
    public readonly rule: aws.cloudwatch.EventRule;
    public readonly ruleTarget: aws.cloudwatch.EventTarget;
    public readonly names: ReturnType<typeof claimsWarehouseNames>;
    public readonly databaseName: string;

    constructor(name: string, args: ClaimsWarehouseArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("glue-pipeline:claims:ClaimsWarehouse", name, {}, opts);
        validateClaimsWarehouseArgs(args);
        const D = CLAIMS_WAREHOUSE_DEFAULTS;
        const names = claimsWarehouseNames(args.stage);
        this.names = names;
        this.databaseName = args.databaseName ?? D.databaseName;
        const tags = args.tags;
        const region = aws.getRegionOutput({}, { parent: this }).region;
        const cidr = args.vpcCidr ?? D.vpcCidr;

        this.network = new awsx.ec2.Vpc(
            `${name}-network`,
            {
                cidrBlock: cidr,
                numberOfAvailabilityZones: D.availabilityZones,
                subnetStrategy: "Auto",
                // Isolated: no route to or from the internet. The warehouse reaches S3 through the endpoint and
                // is reached through the Data API, neither of which needs one.
                subnetSpecs: [{ type: awsx.ec2.SubnetType.Isolated, name: "warehouse", cidrMask: D.subnetCidrMask }],
                natGateways: { strategy: awsx.ec2.NatGatewayStrategy.None },
                enableDnsHostnames: true,
                enableDnsSupport: true,
                tags,
            },
            { parent: this },
        );

        this.s3Endpoint = new aws.ec2.VpcEndpoint(
            `${name}-s3-endpoint`,
            {
                vpcId: this.network.vpcId,
                serviceName: pulumi.interpolate`com.amazonaws.${region}.s3`,
                vpcEndpointType: "Gateway",
                // Resource references from the awsx component: their ids, once each is known.
                routeTableIds: this.network.routeTables.apply((tables) => pulumi.all(tables.map((t) => t.id))),
                policy: pulumi.output(args.claimsBucket.arn).apply((arn) => JSON.stringify(s3EndpointPolicy(arn))),
                tags,
            },
            { parent: this },
        );

        this.securityGroup = new aws.ec2.SecurityGroup(
            `${name}-sg`,
            {
                vpcId: this.network.vpcId,
                description: "Redshift Serverless workgroup of the claims warehouse: no ingress, HTTPS to S3 through the gateway endpoint",
                egress: [{ protocol: "tcp", fromPort: 443, toPort: 443, prefixListIds: [this.s3Endpoint.prefixListId], description: "COPY from S3" }],
                tags,
            },
            { parent: this },
        );

        this.copyRole = new aws.iam.Role(
            `${name}-copy-role`,
            {
                // Auto-named (`<logical name>-` and 7 hex digits), like every role of the stacks: the deploy
                // role may create and tag only roles named that way (components/delivery/deployRoles.ts).
                description: `COPY role of the claims warehouse (${args.stage}): reads processed/ of the claims bucket`,
                assumeRolePolicy: pulumi.output(args.accountId).apply((account) => JSON.stringify(copyRoleTrustPolicy(account))),
                tags,
            },
            { parent: this },
        );
        this.copyRolePolicy = new aws.iam.RolePolicy(
            `${name}-copy-policy`,
            {
                role: this.copyRole.id,
                policy: pulumi
                    .all([pulumi.output(args.claimsBucket.arn), pulumi.output(args.kmsKeyArn), region])
                    .apply(([bucketArn, kmsKeyArn, r]) => JSON.stringify(policyDocument(copyRoleStatements({ bucketArn, kmsKeyArn, region: r })))),
            },
            { parent: this },
        );

        this.namespace = new aws.redshiftserverless.Namespace(
            `${name}-namespace`,
            {
                namespaceName: names.namespace,
                dbName: this.databaseName,
                adminUsername: D.adminUsername,
                // Secrets Manager generates and rotates the admin password; it never passes through config or state.
                manageAdminPassword: true,
                adminPasswordSecretKmsKeyId: args.kmsKeyArn,
                kmsKeyId: args.kmsKeyArn,
                iamRoles: [this.copyRole.arn],
                defaultIamRoleArn: this.copyRole.arn,
                logExports: ["userlog", "connectionlog", "useractivitylog"],
                tags,
            },
            // The namespace holds the warehouse's data: kept on delete unless the stack allows destroying data.
            { parent: this, retainOnDelete: !(args.allowDataDestroy ?? false), dependsOn: [this.copyRolePolicy] },
        );

        this.workgroup = new aws.redshiftserverless.Workgroup(
            `${name}-workgroup`,
            {
                workgroupName: names.workgroup,
                namespaceName: this.namespace.namespaceName,
                baseCapacity: args.baseCapacity ?? D.baseCapacity,
                ...(args.maxCapacity !== undefined ? { maxCapacity: args.maxCapacity } : {}),
                publiclyAccessible: false,
                enhancedVpcRouting: true,
                subnetIds: this.network.isolatedSubnetIds,
                securityGroupIds: [this.securityGroup.id],
                configParameters: [{ parameterKey: "require_ssl", parameterValue: "true" }],
                tags,
            },
            { parent: this, dependsOn: [this.s3Endpoint] },
        );

        this.rule = new aws.cloudwatch.EventRule(
            `${name}-succeeded-runs`,
            {
                name: `${names.loadFunction}-succeeded-runs`,
                description: "Successful runs of the claims ETL: each loads its file into the warehouse",
                eventPattern: pulumi.output(args.etlJob.name).apply((job) => JSON.stringify(succeededRunPattern(job))),
                tags,
            },
            { parent: this },
        );

        this.load = new LambdaFunction(
            `${name}-load`,
            {
                functionName: names.loadFunction,
                entry: WAREHOUSE_LOAD_ENTRY,
                description: "Loads a claims file's Parquet into Redshift Serverless after its ETL run succeeded",
                timeoutSeconds: WAREHOUSE_LOAD_TIMEOUT_SECONDS,
                memorySizeMb: 256,
                kmsKeyArn: args.kmsKeyArn,
                environment: {
                    ...args.loadEnvironment,
                    [ENV.workgroupName]: this.workgroup.workgroupName,
                    [ENV.databaseName]: this.databaseName,
                    [ENV.copyRoleArn]: this.copyRole.arn,
                    [ENV.dataBucket]: args.claimsBucket.name,
                    [ENV.metadataTable]: args.metadataTable.name,
                    [ENV.errorTopicArn]: args.errorTopicArn,
                },
                policyStatements: pulumi
                    .all([
                        pulumi.output(args.claimsBucket.arn),
                        this.workgroup.arn,
                        pulumi.output(args.etlJob.arn),
                        pulumi.output(args.metadataTable.arn),
                        pulumi.output(args.errorTopicArn),
                        pulumi.output(args.kmsKeyArn),
                    ])
                    .apply(([bucketArn, workgroupArn, jobArn, tableArn, errorTopicArn, kmsKeyArn]) =>
                        loadFunctionStatements({ bucketArn, workgroupArn, jobArn, tableArn, errorTopicArn, kmsKeyArn }),
                    ),
                invokers: [{ principal: "events.amazonaws.com", sourceArn: this.rule.arn }],
                asyncInvocation: { maximumRetryAttempts: 2 },
                tags,
            },
            { parent: this },
        );

        this.ruleTarget = new aws.cloudwatch.EventTarget(
            `${name}-succeeded-runs-target`,
            // EventBridge retries a failed delivery for 24 hours (its default); once delivered, a failed load
            // is retried by Lambda twice and then kept in the function's dead-letter queue.
            { rule: this.rule.name, arn: this.load.functionArn },
            { parent: this },
        );

        this.registerOutputs({
            vpcId: this.network.vpcId,
            namespaceName: this.namespace.namespaceName,
            workgroupName: this.workgroup.workgroupName,
            databaseName: this.databaseName,
            copyRoleArn: this.copyRole.arn,
            loadFunctionName: this.load.functionName,
        });
    }
}
