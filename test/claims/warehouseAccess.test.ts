/**
 * The warehouse's deploy-role and boundary statements (components/claims/claimsWarehouseAccess.ts), judged by the
 * IAM evaluator (@cloud-copilot/iam-simulate): the project's tagged network and Redshift Serverless resources
 * are manageable, other teams' are not; the admin secret only under Redshift's own prefix; the data-lake key
 * only through Redshift and Secrets Manager; the load function's Data API calls inside the boundary.
 */
import * as assert from "node:assert/strict";
import { copyRoleStatements, loadFunctionStatements } from "../../components/claims/claimsWarehouse";
import { WAREHOUSE_DEPLOY_COVERAGE, warehouseBoundaryStatements, warehouseDeployStatements } from "../../components/claims/claimsWarehouseAccess";
import { workloadBoundaryPolicy } from "../../components/delivery/deployRoles";
import type { PolicyStatement } from "../../components/iam/iamPolicies";
import { decide } from "./support/iamDecision";

const ACCOUNT = "111111111111";
const REGION = "eu-west-1";
const SCOPE = { partition: "aws", region: REGION, accountId: ACCOUNT, project: "glue-data-pipeline" };
const OURS = { "aws:ResourceTag/Project": "glue-data-pipeline" };
const THEIRS = { "aws:ResourceTag/Project": "payroll" };
const ec2 = (resource: string) => `arn:aws:ec2:${REGION}:${ACCOUNT}:${resource}`;
const rs = (resource: string) => `arn:aws:redshift-serverless:${REGION}:${ACCOUNT}:${resource}`;

const decideHere = (statements: PolicyStatement[], action: string, resource: string, context: Record<string, string | string[]>) =>
    decide(SCOPE, statements, action, resource, { "aws:RequestedRegion": REGION, ...context });

describe("claims warehouse access", () => {
    describe("the deploy role's statements", () => {
        const statements = warehouseDeployStatements(SCOPE);
        const cases: Array<[string, string, string, Record<string, string | string[]>, string]> = [
            ["creates a VPC tagged for the project", "ec2:CreateVpc", ec2("vpc/vpc-0new"), { "aws:RequestTag/Project": "glue-data-pipeline" }, "allow"],
            ["does not create an untagged VPC", "ec2:CreateVpc", ec2("vpc/vpc-0new"), {}, "implicit-deny"],
            ["tags a VPC while creating it", "ec2:CreateTags", ec2("vpc/vpc-1"), { "ec2:CreateAction": "CreateVpc" }, "allow"],
            ["does not tag another team's VPC", "ec2:CreateTags", ec2("vpc/vpc-2"), THEIRS, "implicit-deny"],
            ["deletes the project's VPC", "ec2:DeleteVpc", ec2("vpc/vpc-1"), OURS, "allow"],
            ["does not delete another team's VPC", "ec2:DeleteVpc", ec2("vpc/vpc-2"), THEIRS, "implicit-deny"],
            ["does not delete an untagged VPC", "ec2:DeleteVpc", ec2("vpc/vpc-3"), {}, "implicit-deny"],
            ["opens the project's security group to S3's prefix list", "ec2:AuthorizeSecurityGroupEgress", ec2("security-group/sg-1"), OURS, "allow"],
            ["creates a tagged workgroup", "redshift-serverless:CreateWorkgroup", rs("workgroup/0000-new"), { "aws:RequestTag/Project": "glue-data-pipeline" }, "allow"],
            ["deletes the project's namespace", "redshift-serverless:DeleteNamespace", rs("namespace/0000-1111"), OURS, "allow"],
            ["does not delete another team's namespace", "redshift-serverless:DeleteNamespace", rs("namespace/2222-3333"), THEIRS, "implicit-deny"],
            ["creates the admin secret under Redshift's prefix", "secretsmanager:CreateSecret", `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:redshift!healthcare-claims-dev-admin-AbCdEf`, {}, "allow"],
            ["does not create another secret", "secretsmanager:CreateSecret", `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:payroll-AbCdEf`, {}, "implicit-deny"],
            ["grants the project's key to Redshift Serverless", "kms:CreateGrant", `arn:aws:kms:${REGION}:${ACCOUNT}:key/k1`, { ...OURS, "kms:ViaService": `redshift-serverless.${REGION}.amazonaws.com` }, "allow"],
            ["does not grant the key through another service", "kms:CreateGrant", `arn:aws:kms:${REGION}:${ACCOUNT}:key/k1`, { ...OURS, "kms:ViaService": `s3.${REGION}.amazonaws.com` }, "implicit-deny"],
            ["does not grant another team's key", "kms:CreateGrant", `arn:aws:kms:${REGION}:${ACCOUNT}:key/k2`, { ...THEIRS, "kms:ViaService": `redshift-serverless.${REGION}.amazonaws.com` }, "implicit-deny"],
            ["lists workgroups in the stack's region", "redshift-serverless:ListWorkgroups", "*", {}, "allow"],
            ["reads the project's VPC attributes", "ec2:DescribeVpcAttribute", ec2("vpc/vpc-1"), OURS, "allow"],
        ];
        for (const [title, action, resource, context, expected] of cases) {
            it(title, async () => assert.equal(await decideHere(statements, action, resource, context), expected));
        }
        it("covers every resource type the warehouse adds", () => {
            for (const type of ["awsx:ec2:Vpc", "aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/routeTable:RouteTable", "aws:ec2/vpcEndpoint:VpcEndpoint", "aws:ec2/securityGroup:SecurityGroup", "aws:redshiftserverless/namespace:Namespace", "aws:redshiftserverless/workgroup:Workgroup"]) {
                assert.ok(WAREHOUSE_DEPLOY_COVERAGE.some(([pattern]) => pattern.test(type)), type);
            }
        });
    });

    describe("what the warehouse's roles do stays inside the workload boundary with the warehouse's additions", () => {
        const stage = "dev";
        const boundaryScope = { ...SCOPE, stage, boundaryArn: `arn:aws:iam::${ACCOUNT}:policy/b`, allowDataDestroy: false };
        const boundary = [...workloadBoundaryPolicy(boundaryScope).Statement, ...warehouseBoundaryStatements(SCOPE)];
        const without = workloadBoundaryPolicy(boundaryScope).Statement;
        const bucket = `arn:aws:s3:::glue-claims-${stage}-${ACCOUNT}`;
        const key = `arn:aws:kms:${REGION}:${ACCOUNT}:key/data-lake`;
        const workgroup = rs("workgroup/0000-1111");
        // Each request is one the role makes (its identity policy grants it); the boundary must not cut it.
        const requests: Array<[string, string, string, Record<string, string>]> = [
            ["COPY reads a Parquet object", "s3:GetObject", `${bucket}/processed/claims/year=2024/month=03/file_id=a/part-0.parquet`, {}],
            ["COPY lists the table", "s3:ListBucket", bucket, { "s3:prefix": "processed/claims/" }],
            ["COPY decrypts through S3", "kms:Decrypt", key, { ...OURS, "kms:ViaService": `s3.${REGION}.amazonaws.com` }],
            ["the load writes its manifest", "s3:PutObject", `${bucket}/processed/warehouse-manifests/a.manifest`, {}],
            ["the load submits its batch", "redshift-data:BatchExecuteStatement", workgroup, {}],
            ["the load gets workgroup credentials", "redshift-serverless:GetCredentials", workgroup, {}],
            ["the load follows its statement", "redshift-data:DescribeStatement", "*", {}],
            ["the load reads the run", "glue:GetJobRun", `arn:aws:glue:${REGION}:${ACCOUNT}:job/healthcare-claims-${stage}-etl`, {}],
            ["the load records the outcome", "dynamodb:UpdateItem", `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/etl-pipeline-metadata-${stage}`, {}],
            ["the load publishes a failure", "sns:Publish", `arn:aws:sns:${REGION}:${ACCOUNT}:healthcare-claims-${stage}-errors`, {}],
        ];
        for (const [title, action, resource, context] of requests) {
            it(title, async () => assert.equal(await decideHere(boundary, action, resource, context), "allow"));
        }
        it("the Data API calls need the additions: today's boundary cuts them", async () => {
            assert.equal(await decideHere(without, "redshift-data:BatchExecuteStatement", workgroup, {}), "implicit-deny");
            assert.equal(await decideHere(without, "redshift-serverless:GetCredentials", workgroup, {}), "implicit-deny");
        });
        it("the roles' own policies grant each of those requests (the list above is what they do)", async () => {
            const copy = copyRoleStatements({ bucketArn: bucket, kmsKeyArn: key, region: REGION });
            const load = loadFunctionStatements({
                bucketArn: bucket,
                workgroupArn: workgroup,
                jobArn: `arn:aws:glue:${REGION}:${ACCOUNT}:job/healthcare-claims-${stage}-etl`,
                tableArn: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/etl-pipeline-metadata-${stage}`,
                errorTopicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:healthcare-claims-${stage}-errors`,
                kmsKeyArn: key,
            });
            for (const [title, action, resource, context] of requests) {
                const identity = title.startsWith("COPY") ? copy : load;
                const extra: Record<string, string> = action === "redshift-data:DescribeStatement" ? { "redshift-data:statement-owner-iam-userid": "AROAEXAMPLE", "aws:userid": "AROAEXAMPLE" } : {};
                assert.equal(await decideHere(identity, action, resource, { ...context, ...extra }), "allow", title);
            }
        });
    });

    describe("the workload boundary's statements", () => {
        const statements = warehouseBoundaryStatements(SCOPE);
        const cases: Array<[string, string, string, string]> = [
            ["lets the load run a batch on a workgroup of the account", "redshift-data:BatchExecuteStatement", rs("workgroup/abc"), "allow"],
            ["lets the load get workgroup credentials", "redshift-serverless:GetCredentials", rs("workgroup/abc"), "allow"],
            ["not on a provisioned cluster", "redshift-data:BatchExecuteStatement", `arn:aws:redshift:${REGION}:${ACCOUNT}:cluster:other`, "implicit-deny"],
            ["follows statements", "redshift-data:DescribeStatement", "*", "allow"],
        ];
        for (const [title, action, resource, expected] of cases) {
            it(title, async () => assert.equal(await decideHere(statements, action, resource, {}), expected));
        }
    });
});
