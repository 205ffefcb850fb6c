/**
 * The warehouse's deploy-role and boundary statements (components/claimsWarehouseAccess.ts), judged by the
 * IAM evaluator (@cloud-copilot/iam-simulate): the project's tagged network and Redshift Serverless resources
 * are manageable, other teams' are not; the admin secret only under Redshift's own prefix; the data-lake key
 * only through Redshift and Secrets Manager; the load function's Data API calls inside the boundary.
 */
import * as assert from "node:assert/strict";
import { WAREHOUSE_DEPLOY_COVERAGE, warehouseBoundaryStatements, warehouseDeployStatements } from "../../components/claimsWarehouseAccess";
import type { PolicyStatement } from "../../components/iamPolicies";
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
