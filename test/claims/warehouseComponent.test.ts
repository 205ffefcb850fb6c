/**
 * ClaimsWarehouse under Pulumi mocks: the network (awsx Vpc inputs: three AZs, isolated subnets only, no NAT;
 * an S3 gateway endpoint on the Vpc's route tables), the Redshift Serverless namespace and workgroup
 * (encrypted with the data-lake key, admin password managed by Secrets Manager, not public, enhanced VPC
 * routing, capacity from the arguments), the COPY role (judged by the IAM evaluator: processed/ only, the key
 * only through S3), the load function and its rule.
 *
 * awsx's Vpc is a remote component: its subnets, route tables and gateways are built by the awsx provider
 * plugin, which does not run under mocks (scripts/offline/pulumiMocks.ts makes up its outputs). What is
 * asserted is what this program asks awsx for.
 */
import * as assert from "node:assert/strict";
import * as w from "../../components/claims/claimsWarehouse";
import { decide, Decision } from "./support/iamDecision";
import { asList, descendantsOf, named, ofType, PolicyStatement, resetRecorded, statementsOf, waitForRegistrations } from "../support/graph";

const ACCOUNT = "111111111111";
const REGION = "eu-west-1";
const KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/stack-key`;
const BUCKET = `glue-claims-test-${ACCOUNT}`;
const BUCKET_ARN = `arn:aws:s3:::${BUCKET}`;
const ARGS: w.ClaimsWarehouseArgs = {
    stage: "test",
    accountId: ACCOUNT,
    kmsKeyArn: KEY,
    claimsBucket: { name: BUCKET, arn: BUCKET_ARN },
    etlJob: { name: "healthcare-claims-test-etl", arn: `arn:aws:glue:${REGION}:${ACCOUNT}:job/healthcare-claims-test-etl` },
    metadataTable: { name: "etl-pipeline-metadata-test", arn: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/etl-pipeline-metadata-test` },
    errorTopicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:healthcare-claims-test-errors`,
    baseCapacity: 16,
    maxCapacity: 64,
    tags: { Environment: "test" },
};

const decideHere = (statements: PolicyStatement[], action: string, resource: string, context: Record<string, string | string[]> = {}) =>
    decide({ accountId: ACCOUNT, region: REGION }, statements, action, resource, context);

describe("ClaimsWarehouse", () => {
    describe("argument checks", () => {
        const bad: Array<[string, Partial<w.ClaimsWarehouseArgs>, RegExp]> = [
            ["a base capacity between the steps", { baseCapacity: 12 }, /baseCapacity must be 4, or 8 to 512 in steps of 8, got 12/],
            ["a base capacity above 512", { baseCapacity: 520 }, /baseCapacity/],
            ["a ceiling below the base", { baseCapacity: 32, maxCapacity: 16 }, /maxCapacity .* at least baseCapacity 32, got 16/],
            ["a database name with capitals", { databaseName: "Claims" }, /databaseName/],
            ["a VPC smaller than three /24 subnets", { vpcCidr: "10.0.0.0/24" }, /vpcCidr/],
        ];
        for (const [title, args, message] of bad) it(`refuses ${title}`, () => assert.throws(() => w.validateClaimsWarehouseArgs(args), message));
        it("takes 4 RPU, and 8-512 in steps of 8", () => {
            for (const c of [4, 8, 128, 512]) assert.ok(w.isRpuCapacity(c), String(c));
            for (const c of [0, 6, 12, 513, 1024]) assert.ok(!w.isRpuCapacity(c), String(c));
        });
    });

    describe("the COPY role, judged by the IAM evaluator", () => {
        const statements = w.copyRoleStatements({ bucketArn: BUCKET_ARN, kmsKeyArn: KEY, region: REGION });
        const cases: Array<[string, string, string, Record<string, string>, Decision]> = [
            ["reads the claims table's Parquet", "s3:GetObject", `${BUCKET_ARN}/processed/claims/year=2024/month=03/file_id=a/part-0.parquet`, {}, "allow"],
            ["reads a COPY manifest", "s3:GetObject", `${BUCKET_ARN}/processed/warehouse-manifests/a.manifest`, {}, "allow"],
            ["lists processed/", "s3:ListBucket", BUCKET_ARN, { "s3:prefix": "processed/claims/" }, "allow"],
            ["does not read raw claims", "s3:GetObject", `${BUCKET_ARN}/raw/claims/a.csv`, {}, "implicit-deny"],
            ["does not read quarantined records", "s3:GetObject", `${BUCKET_ARN}/quarantine/records/a/x.json`, {}, "implicit-deny"],
            ["does not list raw/", "s3:ListBucket", BUCKET_ARN, { "s3:prefix": "raw/" }, "implicit-deny"],
            ["does not write processed/", "s3:PutObject", `${BUCKET_ARN}/processed/claims/x.parquet`, {}, "implicit-deny"],
            ["does not read another bucket", "s3:GetObject", `arn:aws:s3:::glue-output-test-${ACCOUNT}/processed/x`, {}, "implicit-deny"],
            ["decrypts with the key through S3", "kms:Decrypt", KEY, { "kms:ViaService": `s3.${REGION}.amazonaws.com` }, "allow"],
            ["does not decrypt with the key directly", "kms:Decrypt", KEY, { "kms:ViaService": `secretsmanager.${REGION}.amazonaws.com` }, "implicit-deny"],
            ["does not encrypt with the key", "kms:GenerateDataKey", KEY, { "kms:ViaService": `s3.${REGION}.amazonaws.com` }, "implicit-deny"],
        ];
        for (const [title, action, resource, context, expected] of cases) {
            it(title, async () => assert.equal(await decideHere(statements, action, resource, context), expected));
        }
        it("is assumable by Redshift only, on behalf of this account", () => {
            const [trust] = w.copyRoleTrustPolicy(ACCOUNT).Statement;
            assert.deepEqual(trust.Principal, { Service: ["redshift.amazonaws.com", "redshift-serverless.amazonaws.com"] });
            assert.deepEqual(trust.Condition, { StringEquals: { "aws:SourceAccount": ACCOUNT } });
        });
    });

    describe("the load function's grants", () => {
        const statements = w.loadFunctionStatements({
            bucketArn: BUCKET_ARN,
            workgroupArn: `arn:aws:redshift-serverless:${REGION}:${ACCOUNT}:workgroup/wg-id`,
            jobArn: ARGS.etlJob.arn as string,
            tableArn: ARGS.metadataTable.arn as string,
            errorTopicArn: ARGS.errorTopicArn as string,
            kmsKeyArn: KEY,
        });
        const workgroup = `arn:aws:redshift-serverless:${REGION}:${ACCOUNT}:workgroup/wg-id`;
        const cases: Array<[string, string, string, Record<string, string>, Decision]> = [
            ["writes manifests", "s3:PutObject", `${BUCKET_ARN}/processed/warehouse-manifests/a.manifest`, {}, "allow"],
            ["does not overwrite the table's Parquet", "s3:PutObject", `${BUCKET_ARN}/processed/claims/year=2024/x.parquet`, {}, "implicit-deny"],
            ["lists the claims table", "s3:ListBucket", BUCKET_ARN, { "s3:prefix": "processed/claims/year=2024/" }, "allow"],
            ["runs its batch on the workgroup", "redshift-data:BatchExecuteStatement", workgroup, {}, "allow"],
            ["gets credentials for the workgroup only", "redshift-serverless:GetCredentials", workgroup, {}, "allow"],
            ["no credentials for another workgroup", "redshift-serverless:GetCredentials", `arn:aws:redshift-serverless:${REGION}:${ACCOUNT}:workgroup/other`, {}, "implicit-deny"],
        ];
        for (const [title, action, resource, context, expected] of cases) {
            it(title, async () => assert.equal(await decideHere(statements, action, resource, context), expected));
        }
        it("follows only statements it ran itself", () => {
            const follow = statements.find((s) => s.Sid === "FollowOwnStatements");
            assert.deepEqual(follow?.Condition, { StringEquals: { "redshift-data:statement-owner-iam-userid": "${aws:userid}" } });
        });
    });

    describe("in a stack", () => {
        let all: ReturnType<typeof descendantsOf>;
        before(async () => {
            resetRecorded();
            new w.ClaimsWarehouse("claims-warehouse", ARGS);
            await waitForRegistrations();
            all = descendantsOf(named("claims-warehouse", "glue-pipeline:claims:ClaimsWarehouse"));
        });

        it("asks awsx for three AZs of isolated subnets and no NAT gateway", () => {
            const vpc = named("claims-warehouse-network", "awsx:ec2:Vpc").inputs;
            assert.equal(vpc.numberOfAvailabilityZones, 3);
            assert.deepEqual(vpc.natGateways, { strategy: "None" });
            assert.deepEqual(vpc.subnetSpecs, [{ type: "Isolated", name: "warehouse", cidrMask: 24 }]);
            assert.equal(vpc.cidrBlock, "10.42.0.0/16");
            assert.equal(ofType("aws:ec2/natGateway:NatGateway").length, 0);
        });

        it("routes S3 through a gateway endpoint on every route table of the VPC, limited to processed/", () => {
            const endpoint = named("claims-warehouse-s3-endpoint", "aws:ec2/vpcEndpoint:VpcEndpoint").inputs;
            assert.equal(endpoint.vpcEndpointType, "Gateway");
            assert.equal(endpoint.serviceName, `com.amazonaws.${REGION}.s3`);
            assert.equal(endpoint.vpcId, "vpc-claims-warehouse-network");
            assert.deepEqual(endpoint.routeTableIds, [0, 1, 2].map((az) => `rtb-claims-warehouse-network-0-${az}`));
            assert.deepEqual(
                asList(statementsOf(endpoint.policy).find((s) => asList(s.Action).includes("s3:GetObject"))?.Resource),
                [`${BUCKET_ARN}/processed/*`],
            );
        });

        it("encrypts the namespace and its admin secret with the data-lake key; Secrets Manager manages the password", () => {
            const ns = named("claims-warehouse-namespace", "aws:redshiftserverless/namespace:Namespace");
            assert.equal(ns.inputs.kmsKeyId, KEY);
            assert.equal(ns.inputs.adminPasswordSecretKmsKeyId, KEY);
            assert.equal(ns.inputs.manageAdminPassword, true);
            assert.equal(ns.inputs.adminUserPassword, undefined);
            assert.equal(ns.inputs.namespaceName, "healthcare-claims-test");
            assert.equal(ns.inputs.dbName, "claims");
            // The mocks name an auto-named role by its logical name; AWS would add 7 hex digits.
            assert.deepEqual(ns.inputs.iamRoles, [`arn:aws:iam::${ACCOUNT}:role/claims-warehouse-copy-role`]);
            assert.equal(named("claims-warehouse-copy-role", "aws:iam/role:Role").inputs.name, undefined);
            assert.equal(ns.retainOnDelete, true);
        });

        it("keeps the workgroup private, in the isolated subnets, with enhanced VPC routing and the configured capacity", () => {
            const wg = named("claims-warehouse-workgroup", "aws:redshiftserverless/workgroup:Workgroup").inputs;
            assert.equal(wg.publiclyAccessible, false);
            assert.equal(wg.enhancedVpcRouting, true);
            assert.deepEqual(wg.subnetIds, [0, 1, 2].map((az) => `subnet-claims-warehouse-network-0-${az}`));
            assert.equal(wg.baseCapacity, 16);
            assert.equal(wg.maxCapacity, 64);
            assert.deepEqual(wg.configParameters, [{ parameterKey: "require_ssl", parameterValue: "true" }]);
        });

        it("lets nothing in, and only HTTPS to S3's prefix list out", () => {
            const sg = named("claims-warehouse-sg", "aws:ec2/securityGroup:SecurityGroup").inputs;
            assert.equal(sg.ingress, undefined);
            assert.equal(sg.egress.length, 1);
            assert.deepEqual([sg.egress[0].protocol, sg.egress[0].fromPort, sg.egress[0].toPort, sg.egress[0].cidrBlocks], ["tcp", 443, 443, undefined]);
        });

        it("starts the load function on successful runs of the claims job only, with retries and a dead-letter queue", () => {
            const rule = named("claims-warehouse-succeeded-runs", "aws:cloudwatch/eventRule:EventRule").inputs;
            assert.deepEqual(JSON.parse(rule.eventPattern), w.succeededRunPattern("healthcare-claims-test-etl"));
            const fn = named("claims-warehouse-load-function", "aws:lambda/function:Function").inputs;
            assert.equal(fn.name, "healthcare-claims-test-warehouse-load");
            assert.equal(fn.timeout, 900);
            assert.equal(fn.environment.variables.WORKGROUP_NAME, "healthcare-claims-test");
            assert.equal(fn.environment.variables.COPY_ROLE_ARN, `arn:aws:iam::${ACCOUNT}:role/claims-warehouse-copy-role`);
            assert.equal(fn.environment.variables.DATA_BUCKET, BUCKET);
            const async = named("claims-warehouse-load-async", "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig").inputs;
            assert.equal(async.maximumRetryAttempts, 2);
            assert.match(async.destinationConfig.onFailure.destination, /healthcare-claims-test-warehouse-load-dlq$/);
            const permission = named("claims-warehouse-load-invoke-0", "aws:lambda/permission:Permission").inputs;
            assert.equal(permission.principal, "events.amazonaws.com");
        });

        it("creates every child under the component", () => {
            assert.ok(all.length >= 10);
            assert.ok(all.some((r) => r.type === "awsx:ec2:Vpc"));
        });
    });
});
