import * as assert from "node:assert/strict";
import type * as DeployRolesModule from "../../components/delivery/deployRoles";
import { deploymentsSubject, escSubject } from "../../components/delivery/pulumiOidcProvider";
import { asList, named, ofType, resetRecorded, statementsOf, waitForRegistrations } from "../support/graph";
import { allows, evaluate, IamRequest, webIdentity } from "../access/simulate";

const ORG = "acme";
const PROJECT = "glue-data-pipeline";
const PROVIDER = "arn:aws:iam::111111111111:oidc-provider/api.pulumi.com/oidc";
const DEV_ACCOUNT = "111111111111";
const BOUNDARY = `arn:aws:iam::${DEV_ACCOUNT}:policy/glue-data-pipeline-bootstrap/glue-data-pipeline-boundary-dev`;
const ROLE = (name: string) => `arn:aws:iam::${DEV_ACCOUNT}:role/${name}`;
const KEY = (id: string) => `arn:aws:kms:eu-west-1:${DEV_ACCOUNT}:key/${id}`;

let mod: typeof DeployRolesModule;

function devArgs(overrides: Partial<DeployRolesModule.DeployRolesArgs> = {}): DeployRolesModule.DeployRolesArgs {
    return {
        organization: ORG,
        project: PROJECT,
        stack: "dev",
        accountId: DEV_ACCOUNT,
        region: "eu-west-1",
        oidcProviderArn: PROVIDER,
        allowDataDestroy: true,
        ...overrides,
    };
}

async function build(args: DeployRolesModule.DeployRolesArgs) {
    resetRecorded();
    const roles = new mod.DeployRoles("t", args);
    await waitForRegistrations();
    return roles;
}

const trustOf = (logical: string) => JSON.parse(named(logical, "aws:iam/role:Role").inputs.assumeRolePolicy);

describe("DeployRoles", () => {
    before(async () => {
        mod = await import("../../components/delivery/deployRoles");
    });

    describe("for the dev stack", () => {
        let roles: DeployRolesModule.DeployRoles;
        before(async () => {
            roles = await build(devArgs());
        });

        it("names the roles and the boundary under the bootstrap path, where the deploy role may not reach", async () => {
            const deploy = named("t-deploy", "aws:iam/role:Role").inputs;
            const preview = named("t-preview", "aws:iam/role:Role").inputs;
            const boundary = named("t-boundary", "aws:iam/policy:Policy").inputs;
            assert.deepEqual([deploy.name, deploy.path], ["glue-data-pipeline-deploy-dev", "/glue-data-pipeline-bootstrap/"]);
            assert.deepEqual([preview.name, preview.path], ["glue-data-pipeline-preview-dev", "/glue-data-pipeline-bootstrap/"]);
            assert.deepEqual([boundary.name, boundary.path], ["glue-data-pipeline-boundary-dev", "/glue-data-pipeline-bootstrap/"]);
            assert.equal(roles.deployRoleArn, ROLE("glue-data-pipeline-bootstrap/glue-data-pipeline-deploy-dev"));
            assert.equal(roles.previewRoleArn, ROLE("glue-data-pipeline-bootstrap/glue-data-pipeline-preview-dev"));
            assert.equal(roles.boundaryArn, BOUNDARY);
            assert.equal(deploy.maxSessionDuration, 3600);
        });

        describe("the deploy role's trust", () => {
            it("has exactly the Deployments statement and the ESC statement, both bound to Pulumi's provider", async () => {
                const statements = trustOf("t-deploy").Statement;
                assert.deepEqual(statements.map((s: any) => s.Sid), ["PulumiDeployments", "PulumiEsc"]);
                for (const s of statements) {
                    assert.deepEqual(s.Principal, { Federated: PROVIDER });
                    assert.equal(s.Action, "sts:AssumeRoleWithWebIdentity");
                    assert.deepEqual(Object.keys(s.Condition), ["StringEquals"]);
                }
                assert.deepEqual(statements[0].Condition.StringEquals, {
                    "api.pulumi.com/oidc:aud": "acme",
                    "api.pulumi.com/oidc:sub": ["preview", "update", "refresh", "destroy"].map((op) => `pulumi:deploy:org:acme:project:glue-data-pipeline:stack:dev:operation:${op}:scope:write`),
                });
                assert.deepEqual(statements[1].Condition.StringEquals, {
                    "api.pulumi.com/oidc:aud": "aws:acme",
                    "api.pulumi.com/oidc:sub": "pulumi:environments:pulumi.organization.login:acme:currentEnvironment.name:glue-data-pipeline/dev",
                });
            });

            const dev = { organization: ORG, project: PROJECT, stack: "dev" };
            const tokens: Array<[string, string, string, boolean]> = [
                ["a Deployments update of dev", "acme", deploymentsSubject(dev, "update"), true],
                ["a Deployments destroy of dev", "acme", deploymentsSubject(dev, "destroy"), true],
                ["the ESC environment glue-data-pipeline/dev", "aws:acme", escSubject({ organization: ORG, project: PROJECT, environment: "dev" }), true],
                ["a Deployments update of prod", "acme", deploymentsSubject({ ...dev, stack: "prod" }, "update"), false],
                ["the preview environment", "aws:acme", escSubject({ organization: ORG, project: PROJECT, environment: "dev-preview" }), false],
                ["the prod environment", "aws:acme", escSubject({ organization: ORG, project: PROJECT, environment: "prod" }), false],
                ["ESC's default subject of a stack import (env:<yaml>, the same for every stack)", "aws:acme", "pulumi:environments:org:acme:env:<yaml>", false],
                ["ESC's default subject without subjectAttributes", "aws:acme", "pulumi:environments:org:acme:env:glue-data-pipeline/dev", false],
                ["the ESC subject with the Deployments audience", "acme", escSubject({ organization: ORG, project: PROJECT, environment: "dev" }), false],
                ["dev of another organization", "other", deploymentsSubject({ ...dev, organization: "other" }, "update"), false],
            ];
            for (const [title, aud, sub, admitted] of tokens) {
                it(`${admitted ? "admits" : "refuses"} ${title}`, async () => {
                    assert.equal(await allows([trustOf("t-deploy")], webIdentity(PROVIDER, aud, sub)), admitted);
                });
            }

            it("refuses every AWS principal, the pipeline account's root included, and every service", async () => {
                const doc = trustOf("t-deploy");
                for (const principal of [{ AWS: "arn:aws:iam::333333333333:root" }, { AWS: ROLE("Admin") }, { Service: "lambda.amazonaws.com" }]) {
                    assert.equal(await evaluate([doc], { action: "sts:AssumeRole", principal }), "implicit-deny", JSON.stringify(principal));
                }
            });
        });

        describe("the preview role", () => {
            it("is trusted only by the preview environment", async () => {
                const doc = trustOf("t-preview");
                assert.equal(doc.Statement.length, 1);
                const preview = escSubject({ organization: ORG, project: PROJECT, environment: "dev-preview" });
                assert.equal(await allows([doc], webIdentity(PROVIDER, "aws:acme", preview)), true);
                assert.equal(await allows([doc], webIdentity(PROVIDER, "aws:acme", escSubject({ organization: ORG, project: PROJECT, environment: "dev" }))), false);
                assert.equal(await allows([doc], webIdentity(PROVIDER, "acme", deploymentsSubject({ organization: ORG, project: PROJECT, stack: "dev" }, "preview"))), false);
            });

            it("has no permissions at all: a pull request cannot change anything", async () => {
                const preview = named("t-preview", "aws:iam/role:Role");
                assert.equal(preview.inputs.managedPolicyArns, undefined);
                assert.equal(preview.inputs.inlinePolicies, undefined);
                assert.deepEqual(ofType("aws:iam/rolePolicy:RolePolicy"), []);
                const attachments = ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment");
                assert.deepEqual(attachments.map((a) => a.name).sort(), ["t-deploy-identity", "t-deploy-integration", "t-deploy-storage"]);
                for (const a of attachments) assert.equal(a.inputs.role, "glue-data-pipeline-deploy-dev");
            });
        });

        describe("the deploy role's permissions", () => {
            let policy: any;
            let parts: any[];
            before(() => {
                parts = ["storage", "integration", "identity"].map((part) => named(`t-deploy-${part}`, "aws:iam/policy:Policy").inputs);
                policy = { Statement: parts.flatMap((p) => JSON.parse(p.policy).Statement) };
            });

            it("is three managed policies under the bootstrap path, each attached to the deploy role", async () => {
                assert.deepEqual(parts.map((p) => [p.name, p.path]), [
                    ["glue-data-pipeline-deploy-dev-storage", "/glue-data-pipeline-bootstrap/"],
                    ["glue-data-pipeline-deploy-dev-integration", "/glue-data-pipeline-bootstrap/"],
                    ["glue-data-pipeline-deploy-dev-identity", "/glue-data-pipeline-bootstrap/"],
                ]);
            });
            const can = (request: IamRequest) => evaluate([policy], request);
            const inTag = { "aws:ResourceTag/Project": PROJECT };

            const decisions: Array<[string, IamRequest, string]> = [
                // IAM: only bounded, project roles; never the bootstrap's own.
                ["create a role carrying the boundary", { action: "iam:CreateRole", resource: ROLE("glue-trigger-role-1a2b3c4"), context: { "iam:PermissionsBoundary": BOUNDARY } }, "allow"],
                ["create a role without a boundary", { action: "iam:CreateRole", resource: ROLE("escalate") }, "implicit-deny"],
                ["create a role with another boundary", { action: "iam:CreateRole", resource: ROLE("escalate"), context: { "iam:PermissionsBoundary": `arn:aws:iam::${DEV_ACCOUNT}:policy/AdministratorAccess` } }, "implicit-deny"],
                ["write the policy of a bounded role", { action: "iam:PutRolePolicy", resource: ROLE("FileProcessorV2-dev-GlueJobRole"), context: { "iam:PermissionsBoundary": BOUNDARY } }, "allow"],
                ["attach a policy to an unbounded role", { action: "iam:AttachRolePolicy", resource: ROLE("OrganizationAccountAccessRole") }, "implicit-deny"],
                ["write its own policy", { action: "iam:PutRolePolicy", resource: roleArnOf("deploy"), context: { "iam:PermissionsBoundary": BOUNDARY } }, "deny"],
                ["rewrite the trust of a project role", { action: "iam:UpdateAssumeRolePolicy", resource: ROLE("glue-trigger-role-1a2b3c4"), context: inTag }, "allow"],
                ["rewrite the trust of an untagged role", { action: "iam:UpdateAssumeRolePolicy", resource: ROLE("OrganizationAccountAccessRole") }, "implicit-deny"],
                ["tag a foreign role into the project", { action: "iam:TagRole", resource: ROLE("OrganizationAccountAccessRole"), context: { "aws:RequestTag/Project": PROJECT } }, "implicit-deny"],
                // TagRole requests carry no iam:PermissionsBoundary: a condition on it refused every tagged CreateRole.
                ["tag a new project role as CreateRole does (no iam:PermissionsBoundary in a TagRole request)", { action: "iam:TagRole", resource: ROLE("glue-trigger-role-1a2b3c4"), context: { "aws:RequestTag/Project": PROJECT } }, "allow"],
                ["tag a new Glue job role as CreateRole does", { action: "iam:TagRole", resource: ROLE("healthcare-claims-dev-etl-GlueJobRole"), context: { "aws:RequestTag/Project": PROJECT } }, "allow"],
                ["tag a new project role for another project", { action: "iam:TagRole", resource: ROLE("glue-trigger-role-1a2b3c4"), context: { "aws:RequestTag/Project": "payroll" } }, "implicit-deny"],
                ["rewrite the trust of the GlueTestRole, even tagged", { action: "iam:UpdateAssumeRolePolicy", resource: ROLE("glue-data-pipeline-bootstrap/GlueTestRole-dev"), context: inTag }, "deny"],
                ["pass a project role to Glue", { action: "iam:PassRole", resource: ROLE("FileProcessorV2-dev-GlueJobRole"), context: { ...inTag, "iam:PassedToService": "glue.amazonaws.com" } }, "allow"],
                ["pass a project role to EC2", { action: "iam:PassRole", resource: ROLE("FileProcessorV2-dev-GlueJobRole"), context: { ...inTag, "iam:PassedToService": "ec2.amazonaws.com" } }, "implicit-deny"],
                ["pass an untagged role to Lambda", { action: "iam:PassRole", resource: ROLE("Admin"), context: { "iam:PassedToService": "lambda.amazonaws.com" } }, "implicit-deny"],
                ["pass itself to Lambda", { action: "iam:PassRole", resource: roleArnOf("deploy"), context: { ...inTag, "iam:PassedToService": "lambda.amazonaws.com" } }, "deny"],
                ["remove a boundary", { action: "iam:DeleteRolePermissionsBoundary", resource: ROLE("glue-trigger-role-1a2b3c4"), context: inTag }, "deny"],
                ["rewrite the boundary", { action: "iam:CreatePolicyVersion", resource: BOUNDARY }, "deny"],
                ["create a user", { action: "iam:CreateUser", resource: `arn:aws:iam::${DEV_ACCOUNT}:user/ci` }, "deny"],
                ["create an access key", { action: "iam:CreateAccessKey", resource: `arn:aws:iam::${DEV_ACCOUNT}:user/ci` }, "deny"],
                ["add an audience to the OIDC provider", { action: "iam:AddClientIDToOpenIDConnectProvider", resource: PROVIDER }, "deny"],
                // S3: the project's buckets by name; objects only in the assets bucket.
                ["create the input bucket", { action: "s3:CreateBucket", resource: "arn:aws:s3:::glue-input-dev-111111111111" }, "allow"],
                ["configure the output bucket's lifecycle", { action: "s3:PutLifecycleConfiguration", resource: "arn:aws:s3:::glue-output-dev-111111111111" }, "allow"],
                ["create a bucket of another name", { action: "s3:CreateBucket", resource: "arn:aws:s3:::exfiltration-111111111111" }, "implicit-deny"],
                ["create prod's bucket from dev", { action: "s3:CreateBucket", resource: "arn:aws:s3:::glue-input-prod-222222222222" }, "implicit-deny"],
                ["upload a Glue script", { action: "s3:PutObject", resource: "arn:aws:s3:::glue-assets-v2-dev-111111111111/scripts/FileProcessorV2-dev/x.py" }, "allow"],
                ["read an input file", { action: "s3:GetObject", resource: "arn:aws:s3:::glue-input-dev-111111111111/sales.csv" }, "implicit-deny"],
                ["empty dev's input bucket on destroy", { action: "s3:DeleteObjectVersion", resource: "arn:aws:s3:::glue-input-dev-111111111111/sales.csv" }, "allow"],
                // Regional services, in this account and region, management only.
                ["create a Glue job", { action: "glue:CreateJob", resource: "arn:aws:glue:eu-west-1:111111111111:job/FileProcessorV2-dev" }, "allow"],
                ["start a Glue job run", { action: "glue:StartJobRun", resource: "arn:aws:glue:eu-west-1:111111111111:job/FileProcessorV2-dev" }, "implicit-deny"],
                ["create a Glue job in another region", { action: "glue:CreateJob", resource: "arn:aws:glue:us-east-1:111111111111:job/x" }, "implicit-deny"],
                ["create a function", { action: "lambda:CreateFunction", resource: "arn:aws:lambda:eu-west-1:111111111111:function:GlueTriggerLambda-dev" }, "allow"],
                ["invoke a function", { action: "lambda:InvokeFunction", resource: "arn:aws:lambda:eu-west-1:111111111111:function:GlueTriggerLambda-dev" }, "implicit-deny"],
                ["create the metadata table", { action: "dynamodb:CreateTable", resource: "arn:aws:dynamodb:eu-west-1:111111111111:table/etl-pipeline-metadata-dev" }, "allow"],
                ["read a metadata record", { action: "dynamodb:GetItem", resource: "arn:aws:dynamodb:eu-west-1:111111111111:table/etl-pipeline-metadata-dev" }, "implicit-deny"],
                ["create a key tagged for the project", { action: "kms:CreateKey", resource: "*", context: { "aws:RequestTag/Project": PROJECT } }, "allow"],
                ["create an untagged key", { action: "kms:CreateKey", resource: "*" }, "implicit-deny"],
                ["tag a new key for the project as CreateKey does", { action: "kms:TagResource", resource: KEY("new-key"), context: { "aws:RequestTag/Project": PROJECT } }, "allow"],
                ["re-tag another team's key into the project", { action: "kms:TagResource", resource: KEY("payroll-key"), context: { "aws:RequestTag/Project": PROJECT }, resourceTags: { Project: "payroll" } }, "implicit-deny"],
                ["schedule deletion of a key that is not the project's", { action: "kms:ScheduleKeyDeletion", resource: KEY("payroll-key"), resourceTags: { Project: "payroll" } }, "implicit-deny"],
                ["rewrite the policy of a key that is not the project's", { action: "kms:PutKeyPolicy", resource: KEY("payroll-key"), resourceTags: { Project: "payroll" } }, "implicit-deny"],
                ["rewrite the policy of the project's key", { action: "kms:PutKeyPolicy", resource: KEY("data-lake-key"), resourceTags: { Project: PROJECT } }, "allow"],
                ["create a security configuration (no ARN in IAM)", { action: "glue:CreateSecurityConfiguration", resource: "*" }, "allow"],
                ["start an EC2 instance", { action: "ec2:RunInstances", resource: "arn:aws:ec2:eu-west-1:111111111111:instance/i-0123456789abcdef0" }, "implicit-deny"],
                ["assume another role", { action: "sts:AssumeRole", resource: ROLE("OrganizationAccountAccessRole") }, "deny"],
                ["leave the organization", { action: "organizations:LeaveOrganization", resource: "*" }, "implicit-deny"],
            ];
            for (const [title, request, decision] of decisions) {
                it(`${decision === "allow" ? "may" : "may not"} ${title}`, async () => assert.equal(await can(request), decision));
            }

            it("names Resource \"*\" in Allow statements only where IAM offers no resource", async () => {
                const wildcard = policy.Statement.filter((s: any) => s.Effect === "Allow" && asList(s.Resource).includes("*")).map((s: any) => s.Sid);
                assert.deepEqual(wildcard.sort(), Object.keys(mod.RESOURCE_WILDCARD_EXCEPTIONS).sort());
            });

            it("fits IAM's 6,144-character limit for each managed policy, with room to grow", async () => {
                for (const p of parts) assert.ok(p.policy.length < 5_000, `${p.name}: ${p.policy.length} characters`);
            });
        });

        describe("the boundary", () => {
            let boundary: any;
            before(() => {
                boundary = JSON.parse(named("t-boundary", "aws:iam/policy:Policy").inputs.policy);
            });
            const cases: Array<[string, IamRequest, string]> = [
                ["lets a job read the input bucket", { action: "s3:GetObject", resource: "arn:aws:s3:::glue-input-dev-111111111111/a.csv" }, "allow"],
                ["keeps a role out of other buckets", { action: "s3:GetObject", resource: "arn:aws:s3:::someone-elses-bucket/a.csv" }, "implicit-deny"],
                ["lets a function start a job", { action: "glue:StartJobRun", resource: "arn:aws:glue:eu-west-1:111111111111:job/FileProcessorV2-dev" }, "allow"],
                ["gives no IAM at all", { action: "iam:PutRolePolicy", resource: ROLE("anything") }, "deny"],
                ["gives no role assumption", { action: "sts:AssumeRole", resource: ROLE("anything") }, "deny"],
                ["keeps a role out of other accounts' tables", { action: "dynamodb:GetItem", resource: "arn:aws:dynamodb:eu-west-1:999999999999:table/t" }, "implicit-deny"],
            ];
            for (const [title, request, decision] of cases) it(title, async () => assert.equal(await evaluate([boundary], request), decision));

            it("fits IAM's 6,144-character limit for a managed policy", async () => {
                assert.ok(JSON.stringify(boundary).length < 6_144, `${JSON.stringify(boundary).length} characters`);
            });
        });
    });

    describe("for prod, which keeps its data", () => {
        it("may not delete object versions from the data buckets", async () => {
            await build(devArgs({ stack: "prod", accountId: "222222222222", oidcProviderArn: PROVIDER.replace("111111111111", "222222222222"), allowDataDestroy: false }));
            const policy = JSON.parse(named("t-deploy-storage", "aws:iam/policy:Policy").inputs.policy);
            assert.equal(
                await evaluate([policy], { action: "s3:DeleteObjectVersion", resource: "arn:aws:s3:::glue-input-prod-222222222222/sales.csv" }),
                "implicit-deny",
            );
            assert.equal(statementsOf(policy).some((s) => s.Sid === "DisposableData"), false);
        });
    });

    describe("with a deployer role in the pipeline account", () => {
        const AGENT = "arn:aws:iam::333333333333:role/glue-data-pipeline-bootstrap/deployments-agent";

        it("also admits that one role, and still no other principal", async () => {
            await build(devArgs({ trustedDeployerArns: [AGENT] }));
            const doc = trustOf("t-deploy");
            assert.equal(await allows([doc], { action: "sts:AssumeRole", principal: { AWS: AGENT } }), true);
            assert.equal(await allows([doc], { action: "sts:AssumeRole", principal: { AWS: "arn:aws:iam::333333333333:root" } }), false);
            assert.equal(await allows([doc], { action: "sts:AssumeRole", principal: { AWS: "arn:aws:iam::333333333333:role/other" } }), false);
        });

        const refused: Array<[string, string[], RegExp]> = [
            ["a whole account", ["arn:aws:iam::333333333333:root"], /must be role ARNs of another account/],
            ["a role of the workload account itself", [ROLE("x")], /must be role ARNs of another account/],
        ];
        for (const [title, arns, message] of refused) {
            it(`refuses ${title}`, async () => assert.throws(() => new mod.DeployRoles("bad", devArgs({ trustedDeployerArns: arns })), message));
        }
    });

    describe("with conflicting arguments", () => {
        it("refuses previews through the deploy environment, naming both fields", async () => {
            assert.throws(() => new mod.DeployRoles("bad", devArgs({ deployEnvironment: "dev", previewEnvironment: "dev" })), /deployEnvironment and previewEnvironment are both dev/);
        });
        it("refuses a session IAM would not grant", async () => {
            assert.throws(() => new mod.DeployRoles("bad", devArgs({ maxSessionDurationSeconds: 60 })), /maxSessionDurationSeconds must be 900-43200/);
        });
    });

    describe("permissionsBoundaryTransform", () => {
        it("puts the boundary on every role under the resource it is given to, and nothing else", async () => {
            const pulumi = await import("@pulumi/pulumi");
            const aws = await import("@pulumi/aws");
            resetRecorded();
            const parent = new pulumi.ComponentResource("test:index:Parent", "p", {}, { transforms: [mod.permissionsBoundaryTransform(BOUNDARY)] });
            new aws.iam.Role("p-role", { assumeRolePolicy: "{}" }, { parent });
            new aws.sqs.Queue("p-queue", {}, { parent });
            await waitForRegistrations();
            assert.equal(named("p-role", "aws:iam/role:Role").inputs.permissionsBoundary, BOUNDARY);
            assert.equal(named("p-queue", "aws:sqs/queue:Queue").inputs.permissionsBoundary, undefined);
        });

        it("refuses a role that names another boundary, and a boundary that is not a policy ARN", async () => {
            const transformation = mod.permissionsBoundaryTransform(BOUNDARY);
            assert.throws(
                () => transformation({ type: "aws:iam/role:Role", name: "r", props: { permissionsBoundary: "arn:aws:iam::111111111111:policy/Other" }, opts: {} } as any),
                /role r sets permissionsBoundary .*Other; workload roles must use/,
            );
            assert.throws(() => mod.permissionsBoundaryTransform(ROLE("x")), /is not an IAM policy ARN/);
        });
    });
});

function roleArnOf(kind: "deploy" | "preview"): string {
    return ROLE(`glue-data-pipeline-bootstrap/glue-data-pipeline-${kind}-dev`);
}
