/**
 * The bootstrap project as an administrator runs it: its real stack files (bootstrap/Pulumi.*.yaml), the
 * workload stack files they point at, and the ESC definitions in deploy/esc/, evaluated under mocks. The
 * point is the chain: the role each ESC environment logs in to is the role whose trust names exactly that
 * environment; the CI role may assume exactly the GlueTestRoles, which trust exactly the CI role.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as yaml from "js-yaml";
import * as path from "node:path";
import type * as BootstrapModule from "../../stacks/bootstrap";
import type { BootstrapConfig, PipelineBootstrapConfig, WorkloadBootstrapConfig } from "../../stacks/bootstrapConfig";
import { escSubject } from "../../components/delivery/pulumiOidcProvider";
import { recordedResources } from "../../scripts/offline/pulumiMocks";
import { named, ofType, resetRecorded, waitForRegistrations } from "../support/graph";
import { allows, evaluate, webIdentity } from "../access/simulate";
import { valueOf } from "../support/outputs";
import { DEV_ACCOUNT, ORG, PIPELINE_ACCOUNT, PROD_ACCOUNT, REGION, REPOSITORY } from "./repoFacts";

const ROOT = path.resolve(__dirname, "../..");
const parseYaml = (text: string) => yaml.load(text);

/** Repository files, with some replaced (to show what the bootstrap refuses). */
function reader(overrides: Record<string, string> = {}) {
    return (relativePath: string): string => overrides[relativePath] ?? fs.readFileSync(path.join(ROOT, relativePath), "utf8");
}

/** A bootstrap stack file in Pulumi's raw config form. */
function rawConfig(stack: string, overrides: Record<string, string | undefined> = {}): Record<string, string> {
    const doc = yaml.load(fs.readFileSync(path.join(ROOT, "bootstrap", `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(doc.config)) out[k] = typeof v === "string" ? v : JSON.stringify(v);
    for (const [k, v] of Object.entries(overrides)) {
        const key = k.includes(":") ? k : `glue-data-pipeline-bootstrap:${k}`;
        if (v === undefined) delete out[key];
        else out[key] = v;
    }
    return out;
}

/** The one account-wide S3 Block Public Access of the last recorded bootstrap, with all four settings on. */
function assertAccountBlocksPublicAccess(): void {
    const blocks = ofType("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock");
    assert.equal(blocks.length, 1, "one AccountPublicAccessBlock");
    const { blockPublicAcls, ignorePublicAcls, blockPublicPolicy, restrictPublicBuckets } = blocks[0].inputs;
    assert.deepEqual([blockPublicAcls, ignorePublicAcls, blockPublicPolicy, restrictPublicBuckets], [true, true, true, true]);
}

describe("bootstrap", () => {
    let boot: typeof BootstrapModule;
    let parse: typeof import("../../stacks/bootstrapConfig").parseBootstrapConfig;

    before(async () => {
        boot = await import("../../stacks/bootstrap");
        parse = (await import("../../stacks/bootstrapConfig")).parseBootstrapConfig;
    });

    const config = (stack: string, overrides: Record<string, string | undefined> = {}, files: Record<string, string> = {}): BootstrapConfig =>
        parse(stack, ORG, rawConfig(stack, overrides), reader(files), parseYaml);

    describe("configuration, read from the repository's stack files", () => {
        it("takes dev's account, region, stage and data policy from Pulumi.dev.yaml, and deploys it from main", async () => {
            const dev = config("dev") as WorkloadBootstrapConfig;
            assert.equal(dev.kind, "workload");
            assert.deepEqual([dev.workload.accountId, dev.workload.region, dev.workload.stage, dev.workload.allowDataDestroy], [DEV_ACCOUNT, REGION, "dev", true]);
            assert.deepEqual(dev.workloadEnvironments, ["glue-data-pipeline/dev"]);
            assert.equal(dev.deployBranch, "main");
            assert.equal(dev.pipelineAccountId, PIPELINE_ACCOUNT);
            assert.equal(dev.ciTeam, "glue-data-pipeline-ci");
        });

        it("deploys prod from the release branch", async () => {
            const prod = config("prod") as WorkloadBootstrapConfig;
            assert.equal(prod.deployBranch, "release");
            assert.equal(prod.workload.allowDataDestroy, false);
        });

        it("finds the workload accounts the CI tests from their stack files", async () => {
            const pipeline = config("pipeline") as PipelineBootstrapConfig;
            // Dev only: pull requests reach the CI role, so it must reach nothing in prod.
            assert.deepEqual(pipeline.workloads, [{ stack: "dev", accountId: DEV_ACCOUNT, region: REGION, stage: "dev" }]);
        });

        const refused: Array<[string, string, Record<string, string | undefined>, RegExp]> = [
            ["an unknown kind", "dev", { kind: "admin" }, /bootstrap:kind: "admin" is not workload or pipeline/],
            ["no repository", "dev", { githubRepository: undefined }, /bootstrap:githubRepository: missing/],
            ["a ref as the branch", "prod", { deployBranch: "refs/heads/release" }, /branch must be a branch name such as main, got "refs\/heads\/release"/],
            ["the workload account as the pipeline account", "dev", { pipelineAccountId: DEV_ACCOUNT }, new RegExp(`pipelineAccountId: ${DEV_ACCOUNT} is the workload account itself`)],
            ["a pipeline account that is also a workload account", "pipeline", { accountId: DEV_ACCOUNT }, /also the account of workload stack dev/],
            ["a pipeline whose CI would test prod, which has no GlueTestRole", "pipeline", { workloadStacks: JSON.stringify(["dev", "prod"]) }, /lists prod, whose bootstrap \(bootstrap\/Pulumi\.prod\.yaml\) sets testRole: false/],
            ["a whole account as a trusted deployer", "dev", { trustedDeployerArns: JSON.stringify([`arn:aws:iam::${PIPELINE_ACCOUNT}:root`]) }, /trustedDeployerArns\[0\]: .* is not an IAM role ARN/],
        ];
        for (const [title, stack, overrides, message] of refused) {
            it(`refuses ${title}`, async () => {
                const attempt = () => {
                    const c = config(stack, overrides);
                    // A branch name is checked where it is used.
                    if (c.kind === "workload") boot.createWorkloadBootstrap(c, reader(), parseYaml);
                };
                assert.throws(attempt, message);
            });
        }

        it("refuses a promotion source in another organization", async () => {
            const prodFile = fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8").replace(`fromStack: ${ORG}/`, "fromStack: other-org/");
            assert.throws(() => config("prod", {}, { "Pulumi.prod.yaml": prodFile }), new RegExp(`promotion.fromStack other-org/glue-data-pipeline/dev is in organization other-org, but this bootstrap runs in ${ORG}`));
        });
    });

    for (const stack of ["dev", "prod"]) {
        describe(`the ${stack} account`, () => {
            let result: BootstrapModule.WorkloadBootstrap;
            let outputs: Record<string, unknown>;
            before(async () => {
                resetRecorded();
                result = boot.createWorkloadBootstrap(config(stack) as WorkloadBootstrapConfig, reader(), parseYaml);
                await waitForRegistrations();
                outputs = Object.fromEntries(await Promise.all(Object.entries(result.outputs).map(async ([k, v]) => [k, await valueOf(v)] as const)));
            });

            const account = stack === "dev" ? DEV_ACCOUNT : PROD_ACCOUNT;

            it("creates the AWS side through a provider pinned to the stack file's account and region", async () => {
                const provider = named(`${stack}-aws`, "pulumi:providers:aws");
                assert.equal(provider.inputs.region, REGION);
                assert.deepEqual(JSON.parse(provider.inputs.allowedAccountIds), [account]);
                const stray = recordedResources().filter((r) => r.type.startsWith("aws:") && !r.provider.startsWith(`${provider.urn}::`));
                assert.deepEqual(stray.map((r) => r.name), []);
            });

            it("creates Pulumi's OIDC provider with both audiences (Deployments: the org; ESC: aws:<org>)", async () => {
                const oidc = named("pulumi-oidc-provider", "aws:iam/openIdConnectProvider:OpenIdConnectProvider").inputs;
                assert.equal(oidc.url, "https://api.pulumi.com/oidc");
                assert.deepEqual(oidc.clientIdLists, [ORG, `aws:${ORG}`]);
            });

            it("uploads the ESC environments exactly as checked in, and each logs in to the role that trusts it alone", async () => {
                const envs = ofType("pulumiservice:index:Environment");
                assert.deepEqual(envs.map((e) => e.inputs.name), [stack, `${stack}-preview`]);
                const roles: Record<string, string> = { [stack]: "access-deploy", [`${stack}-preview`]: "access-preview" };
                for (const env of envs) {
                    const text = fs.readFileSync(path.join(ROOT, "deploy/esc", `${env.inputs.name}.yaml`), "utf8");
                    assert.equal(await env.inputs.yaml.text, text);
                    const roleArn = (yaml.load(text) as any).values.aws.login["fn::open::aws-login"].oidc.roleArn;
                    const role = named(roles[env.inputs.name], "aws:iam/role:Role").inputs;
                    assert.equal(roleArn, `arn:aws:iam::${account}:role${role.path}${role.name}`);
                    const trust = JSON.parse(role.assumeRolePolicy);
                    const provider = trust.Statement[0].Principal.Federated;
                    const subject = escSubject({ organization: ORG, project: "glue-data-pipeline", environment: env.inputs.name });
                    assert.equal(await allows([trust], webIdentity(provider, `aws:${ORG}`, subject)), true, `${env.inputs.name} opens ${role.name}`);
                    const other = env.inputs.name === stack ? `${stack}-preview` : stack;
                    assert.equal(await allows([trust], webIdentity(provider, `aws:${ORG}`, escSubject({ organization: ORG, project: "glue-data-pipeline", environment: other }))), false);
                }
            });

            it("points the stack file's boundary at the boundary it creates", async () => {
                const file = yaml.load(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as any;
                assert.equal(file.config["glue-data-pipeline:permissionsBoundaryArn"], outputs.permissionsBoundaryArn);
                const boundary = named("access-boundary", "aws:iam/policy:Policy").inputs;
                assert.equal(outputs.permissionsBoundaryArn, `arn:aws:iam::${account}:policy${boundary.path}${boundary.name}`);
            });

            it(`lets Pulumi Deployments run as the deploy role on pushes to ${stack === "dev" ? "main" : "release"}`, async () => {
                const settings = named("deployment-settings", "pulumiservice:index:DeploymentSettings").inputs;
                assert.equal(settings.operationContext.oidc.aws.roleARN, outputs.deployRoleArn);
                assert.equal(settings.sourceContext.git.branch, stack === "dev" ? "refs/heads/main" : "refs/heads/release");
                assert.equal(settings.stack, stack);
            });

            if (stack === "dev") {
                it("creates the GlueTestRole for the pipeline account's CI role", async () => {
                    const trust = JSON.parse(named("glue-test-role", "aws:iam/role:Role").inputs.assumeRolePolicy);
                    assert.deepEqual(trust.Statement[0].Principal, { AWS: `arn:aws:iam::${PIPELINE_ACCOUNT}:role/glue-data-pipeline-bootstrap/glue-data-pipeline-ci` });
                    assert.equal(outputs.glueTestRoleArn, `arn:aws:iam::${account}:role/glue-data-pipeline-bootstrap/GlueTestRole-${stack}`);
                });
            } else {
                it("creates no GlueTestRole: pull requests reach the CI role, and IAM cannot limit a job run's arguments", async () => {
                    assert.equal(config(stack).kind === "workload" && (config(stack) as WorkloadBootstrapConfig).testRole, false);
                    assert.deepEqual(ofType("aws:iam/role:Role").map((r) => r.name).sort(), ["access-deploy", "access-preview"]);
                    assert.equal(outputs.glueTestRoleArn, undefined);
                });
            }

            it("blocks public access to S3 account-wide (the deploy role may change a bucket's block, not the account's)", async () => {
                assertAccountBlocksPublicAccess();
                assert.ok(result.publicAccessBlock, "exposed by the bootstrap");
            });
        });
    }

    describe("an account that already has Pulumi's OIDC provider", () => {
        it("adopts it: no second provider (AWS allows one per URL), and the roles trust the existing one", async () => {
            const existing = `arn:aws:iam::${DEV_ACCOUNT}:oidc-provider/api.pulumi.com/oidc`;
            resetRecorded();
            boot.createWorkloadBootstrap(config("dev", { oidcProviderArn: existing }) as WorkloadBootstrapConfig, reader(), parseYaml);
            await waitForRegistrations();
            assert.deepEqual(ofType("aws:iam/openIdConnectProvider:OpenIdConnectProvider"), []);
            for (const role of ["access-deploy", "access-preview"]) {
                const trust = JSON.parse(named(role, "aws:iam/role:Role").inputs.assumeRolePolicy);
                assert.deepEqual([...new Set(trust.Statement.map((st: any) => st.Principal.Federated))], [existing]);
            }
        });

        it("refuses an ARN of another provider", async () => {
            assert.throws(
                () => config("dev", { oidcProviderArn: `arn:aws:iam::${DEV_ACCOUNT}:oidc-provider/token.actions.githubusercontent.com` }),
                /oidcProviderArn: ".*" is not the ARN of an api.pulumi.com\/oidc provider/,
            );
        });
    });

    describe("the pipeline account", () => {
        let outputs: Record<string, unknown>;
        before(async () => {
            resetRecorded();
            const result = boot.createPipelineBootstrap(config("pipeline") as PipelineBootstrapConfig, reader(), parseYaml);
            await waitForRegistrations();
            outputs = Object.fromEntries(await Promise.all(Object.entries(result.outputs).map(async ([k, v]) => [k, await valueOf(v)] as const)));
        });

        it("blocks public access to S3 account-wide too", () => assertAccountBlocksPublicAccess());

        it("lets the CI role assume exactly the GlueTestRole the dev bootstrap creates, and nothing in prod", async () => {
            const policy = JSON.parse(named("ci-policy", "aws:iam/rolePolicy:RolePolicy").inputs.policy);
            const testRoles = [`arn:aws:iam::${DEV_ACCOUNT}:role/glue-data-pipeline-bootstrap/GlueTestRole-dev`];
            assert.deepEqual(outputs.glueTestRoleArns, testRoles);
            for (const arn of testRoles) assert.equal(await evaluate([policy], { action: "sts:AssumeRole", resource: arn }), "allow");
            assert.equal(await evaluate([policy], { action: "sts:AssumeRole", resource: `arn:aws:iam::${PROD_ACCOUNT}:role/glue-data-pipeline-bootstrap/GlueTestRole-prod` }), "implicit-deny");
            assert.equal(await evaluate([policy], { action: "sts:AssumeRole", resource: `arn:aws:iam::${DEV_ACCOUNT}:role/glue-data-pipeline-bootstrap/glue-data-pipeline-deploy-dev` }), "implicit-deny");
            assert.equal(await evaluate([policy], { action: "s3:GetObject", resource: `arn:aws:s3:::glue-input-dev-${DEV_ACCOUNT}/a.csv` }), "implicit-deny");
        });

        it("is trusted only by the ESC environment glue-data-pipeline/ci, which logs in to it", async () => {
            const role = named("ci-role", "aws:iam/role:Role").inputs;
            assert.equal(outputs.ciRoleArn, `arn:aws:iam::${PIPELINE_ACCOUNT}:role${role.path}${role.name}`);
            const trust = JSON.parse(role.assumeRolePolicy);
            const provider = trust.Statement[0].Principal.Federated;
            const subject = (environment: string) => escSubject({ organization: ORG, project: "glue-data-pipeline", environment });
            assert.equal(await allows([trust], webIdentity(provider, `aws:${ORG}`, subject("ci"))), true);
            assert.equal(await allows([trust], webIdentity(provider, `aws:${ORG}`, subject("dev"))), false);
            const env = (yaml.load(fs.readFileSync(path.join(ROOT, "deploy/esc/ci.yaml"), "utf8")) as any).values.aws.login["fn::open::aws-login"].oidc;
            assert.equal(env.roleArn, outputs.ciRoleArn);
        });

        it("exchanges GitHub tokens of this repository's pull requests and main pushes for CI-team tokens only", async () => {
            const issuer = named("ci-github-issuer", "pulumiservice:index:OidcIssuer").inputs;
            assert.equal(issuer.url, "https://token.actions.githubusercontent.com");
            assert.deepEqual(
                issuer.policies.map((p: any) => [p.decision, p.tokenType, p.teamName, p.rules.aud, p.rules.sub]),
                [
                    ["allow", "team", "glue-data-pipeline-ci", `urn:pulumi:org:${ORG}`, `repo:${REPOSITORY}:pull_request`],
                    ["allow", "team", "glue-data-pipeline-ci", `urn:pulumi:org:${ORG}`, `repo:${REPOSITORY}:ref:refs/heads/main`],
                ],
            );
            const open = ofType("pulumiservice:index:TeamEnvironmentPermission").map((p) => [p.inputs.environment, p.inputs.permission]);
            assert.deepEqual(open, [["ci", "open"]]);
        });
    });

    describe("refuses a repository that disagrees with itself", () => {
        const attempts: Array<[string, string, Record<string, string>, RegExp]> = [
            [
                "a stack file without the bootstrap's boundary",
                "dev",
                { "Pulumi.dev.yaml": fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8").replace(/\n\s*glue-data-pipeline:permissionsBoundaryArn: .*/, "") },
                new RegExp(`Pulumi.dev.yaml: glue-data-pipeline:permissionsBoundaryArn must be arn:aws:iam::${DEV_ACCOUNT}:policy/glue-data-pipeline-bootstrap/glue-data-pipeline-boundary-dev`),
            ],
            [
                "a stack file that does not import its ESC environment",
                "dev",
                { "Pulumi.dev.yaml": fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8").replace("- glue-data-pipeline/dev", "- glue-data-pipeline/shared") },
                /Pulumi.dev.yaml: environment must import glue-data-pipeline\/dev/,
            ],
            [
                "a stack file that imports the preview environment",
                "dev",
                { "Pulumi.dev.yaml": fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8").replace("- glue-data-pipeline/dev", "- glue-data-pipeline/dev\n  - glue-data-pipeline/dev-preview") },
                /must not import glue-data-pipeline\/dev-preview/,
            ],
            [
                "an ESC definition that logs in to another account's role",
                "prod",
                { "deploy/esc/prod.yaml": fs.readFileSync(path.join(ROOT, "deploy/esc/prod.yaml"), "utf8").replace(PROD_ACCOUNT, DEV_ACCOUNT) },
                new RegExp(`deploy/esc/prod.yaml: logs in to .*${DEV_ACCOUNT}.*but the bootstrap created arn:aws:iam::${PROD_ACCOUNT}:role`),
            ],
        ];
        for (const [title, stack, files, message] of attempts) {
            it(title, async () => {
                assert.throws(() => boot.createWorkloadBootstrap(config(stack, {}, files) as WorkloadBootstrapConfig, reader(files), parseYaml), message);
            });
        }
    });
});
