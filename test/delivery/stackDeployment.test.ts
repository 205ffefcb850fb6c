import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as yaml from "js-yaml";
import * as path from "node:path";
import type * as StackDeploymentModule from "../../components/delivery/stackDeployment";
import { named, ofType, resetRecorded, waitForRegistrations } from "../support/graph";
import { DEV_ACCOUNT, PROD_ACCOUNT } from "./repoFacts";

const ROOT = path.resolve(__dirname, "../..");
const DEPLOY_ROLE = `arn:aws:iam::${DEV_ACCOUNT}:role/glue-data-pipeline-bootstrap/glue-data-pipeline-deploy-dev`;
const PREVIEW_ROLE = `arn:aws:iam::${DEV_ACCOUNT}:role/glue-data-pipeline-bootstrap/glue-data-pipeline-preview-dev`;
const escYaml = (name: string) => fs.readFileSync(path.join(ROOT, "deploy/esc", `${name}.yaml`), "utf8");

describe("StackDeployment", () => {
    let mod: typeof StackDeploymentModule;
    before(async () => {
        mod = await import("../../components/delivery/stackDeployment");
    });

    async function build(stack: string, branch: string, overrides: Partial<StackDeploymentModule.StackDeploymentArgs> = {}) {
        resetRecorded();
        new mod.StackDeployment("t", {
            organization: "acme",
            project: "glue-data-pipeline",
            stack,
            repository: "acme/glue-data-pipeline",
            branch,
            deployRoleArn: DEPLOY_ROLE,
            environments: [
                { name: stack, yaml: escYaml(stack) },
                { name: `${stack}-preview`, yaml: escYaml(`${stack}-preview`) },
            ],
            ciTeam: "glue-data-pipeline-ci",
            ...overrides,
        });
        await waitForRegistrations();
        return named("t-settings", "pulumiservice:index:DeploymentSettings").inputs;
    }

    describe("for dev", () => {
        let settings: any;
        before(async () => {
            settings = await build("dev", "main");
        });

        it("deploys the dev stack on every push to main of the repository, from its root", () => {
            assert.deepEqual([settings.organization, settings.project, settings.stack], ["acme", "glue-data-pipeline", "dev"]);
            assert.deepEqual(settings.sourceContext, { git: { branch: "refs/heads/main", repoDir: "." } });
            assert.equal(settings.vcs.provider, "github");
            assert.equal(settings.vcs.repository, "acme/glue-data-pipeline");
            assert.equal(settings.vcs.deployCommits, true);
        });

        it("runs no pull-request deployments there: previews run in GitHub Actions with read-only credentials", () => {
            assert.equal(settings.vcs.previewPullRequests, false);
            assert.equal(settings.vcs.pullRequestTemplate, false);
        });

        it("runs as the deploy role through Deployments' OIDC, for at most an hour", () => {
            assert.deepEqual(settings.operationContext.oidc, { aws: { roleARN: DEPLOY_ROLE, sessionName: "pulumi-deployments-dev", duration: "1h0m0s" } });
        });

        it("installs from the lockfile, type-checks and passes the policy pack before deploying, and skips superseded pushes", () => {
            assert.deepEqual(settings.operationContext.preRunCommands, [
                "npm ci --no-audit --no-fund",
                "npm run build",
                "pulumi preview --stack acme/glue-data-pipeline/dev --policy-pack policy --non-interactive",
            ]);
            assert.deepEqual(settings.operationContext.options, { skipInstallDependencies: true, skipIntermediateDeployments: true });
        });

        it("runs the repository's real policy pack, after npm ci has installed its dependencies", () => {
            const commands: string[] = settings.operationContext.preRunCommands;
            const check = commands.findIndex((c) => c.includes("--policy-pack"));
            assert.equal(check, commands.length - 1, "the policy check is the last step before Deployments' own pulumi up");
            assert.ok(commands.slice(0, check).some((c) => /^npm ci\b/.test(c)));
            const dir = /--policy-pack (\S+)/.exec(commands[check])![1];
            assert.ok(fs.existsSync(path.join(ROOT, dir, "PulumiPolicy.yaml")), `${dir}/PulumiPolicy.yaml`);
        });

        it("filters pushes to the paths that change what dev runs", () => {
            assert.deepEqual(settings.vcs.paths, mod.workloadPathFilters("dev"));
        });

        it("creates the deploy and the preview environment from deploy/esc/ before the settings", () => {
            const envs = ofType("pulumiservice:index:Environment");
            assert.deepEqual(envs.map((e) => [e.inputs.organization, e.inputs.project, e.inputs.name]), [
                ["acme", "glue-data-pipeline", "dev"],
                ["acme", "glue-data-pipeline", "dev-preview"],
            ]);
            const settingsResource = named("t-settings", "pulumiservice:index:DeploymentSettings");
            for (const env of envs) assert.ok(settingsResource.dependencies.includes(env.urn), `settings must wait for ${env.name}`);
        });

        it("lets the CI team read the stack and open only the preview environment", () => {
            const stackPermission = named("t-ci-stack", "pulumiservice:index:TeamStackPermission").inputs;
            assert.deepEqual([stackPermission.stack, stackPermission.team, stackPermission.permission], ["dev", "glue-data-pipeline-ci", 101]);
            const envPermissions = ofType("pulumiservice:index:TeamEnvironmentPermission").map((p) => p.inputs);
            assert.deepEqual(envPermissions.map((p) => [p.environment, p.team, p.permission]), [["dev-preview", "glue-data-pipeline-ci", "open"]]);
        });
    });

    describe("for prod", () => {
        it("deploys only on pushes to the protected release branch, with prod's own stack file in the filters", async () => {
            const settings = await build("prod", "release", { deployRoleArn: DEPLOY_ROLE.replace(DEV_ACCOUNT, PROD_ACCOUNT).replace("-dev", "-prod") });
            assert.deepEqual(settings.sourceContext.git.branch, "refs/heads/release");
            assert.ok(settings.vcs.paths.includes("Pulumi.prod.yaml"));
            assert.ok(!settings.vcs.paths.includes("Pulumi.dev.yaml"));
        });
    });

    describe("with the policy check turned off explicitly (policyPack: null)", () => {
        it("runs only the pre-run commands it is given", async () => {
            const settings = await build("dev", "main", { policyPack: null, preRunCommands: ["npm ci"] });
            assert.deepEqual(settings.operationContext.preRunCommands, ["npm ci"]);
        });
    });

    describe("with its own pre-run commands", () => {
        it("still ends with the policy check: replacing the commands does not drop it", async () => {
            const settings = await build("dev", "main", { preRunCommands: ["npm ci"] });
            assert.deepEqual(settings.operationContext.preRunCommands, ["npm ci", "pulumi preview --stack acme/glue-data-pipeline/dev --policy-pack policy --non-interactive"]);
        });
    });

    describe("path filters", () => {
        const dev = () => mod.workloadPathFilters("dev");
        const prod = () => mod.workloadPathFilters("prod");
        const pushes: Array<[string, string[], boolean, boolean]> = [
            ["a docs-only change", ["docs/deploy.md", "README.md"], false, false],
            ["a Markdown file inside a code folder", ["glue/lib/README.md", "components/NOTES.md"], false, false],
            ["tests only", ["test/stacks/workload.test.ts", "glue/tests/test_file_processor.py"], false, false],
            ["CI and bootstrap only", [".github/workflows/preview.yml", "bootstrap/Pulumi.dev.yaml", "deploy/esc/dev.yaml"], false, false],
            ["scripts and samples only", ["scripts/synth.ts", "samples/sales.csv"], false, false],
            ["the Glue job", ["glue/jobs/file_processor.py"], true, true],
            ["a Glue transform", ["glue/lib/glue_pipeline/transforms.py"], true, true],
            ["the trigger's code", ["functions/glue-trigger/trigger.ts"], true, true],
            ["a component", ["components/storage/dataLakeBuckets.ts"], true, true],
            ["the lockfile", ["package-lock.json"], true, true],
            ["dev's stack file", ["Pulumi.dev.yaml"], true, false],
            ["prod's stack file", ["Pulumi.prod.yaml"], false, true],
            ["docs together with code", ["docs/deploy.md", "stacks/workload.ts"], true, true],
        ];
        for (const [title, files, deploysDev, deploysProd] of pushes) {
            it(`${title}: dev ${deploysDev ? "deploys" : "does not deploy"}, prod ${deploysProd ? "deploys" : "does not deploy"}`, () => {
                assert.equal(mod.triggersDeployment(dev(), files), deploysDev);
                assert.equal(mod.triggersDeployment(prod(), files), deploysProd);
            });
        }

        it("follows Pulumi's glob rules: ** spans folders, * does not, excludes win", () => {
            assert.equal(mod.matchesPathFilters(["a/*.ts"], "a/b/c.ts"), false);
            assert.equal(mod.matchesPathFilters(["a/**"], "a/b/c.ts"), true);
            assert.equal(mod.matchesPathFilters(["**/*.md"], "README.md"), true);
            assert.equal(mod.matchesPathFilters(["a/**", "!a/b/**"], "a/b/c.ts"), false);
            assert.equal(mod.matchesPathFilters(["!docs/**"], "src/x.ts"), true);
        });
    });

    describe("ESC environment checks", () => {
        const parse = (name: string) => yaml.load(escYaml(name));
        it("accepts the repository's definitions for the roles the bootstrap creates", () => {
            mod.checkEscAwsLogin(parse("dev"), { source: "deploy/esc/dev.yaml", roleArn: DEPLOY_ROLE });
            mod.checkEscAwsLogin(parse("dev-preview"), { source: "deploy/esc/dev-preview.yaml", roleArn: PREVIEW_ROLE });
        });

        const bad: Array<[string, (doc: any) => void, RegExp]> = [
            ["another role", (d) => (d.values.aws.login["fn::open::aws-login"].oidc.roleArn = PREVIEW_ROLE), /logs in to .*preview-dev.*but the bootstrap created .*deploy-dev/],
            ["no subjectAttributes (the subject of a stack import would be env:<yaml>)", (d) => delete d.values.aws.login["fn::open::aws-login"].oidc.subjectAttributes, /subjectAttributes must be \[currentEnvironment.name\]/],
            ["static keys", (d) => (d.values.aws.login["fn::open::aws-login"].static = { accessKeyId: "AKIA..." }), /static credentials are not allowed/],
            ["no session token exported", (d) => delete d.values.environmentVariables.AWS_SESSION_TOKEN, /environmentVariables.AWS_SESSION_TOKEN must be/],
            ["no aws-login at all", (d) => delete d.values.aws, /no values.aws.login with fn::open::aws-login/],
        ];
        for (const [title, mutate, message] of bad) {
            it(`refuses ${title}, naming the file`, () => {
                const doc = parse("dev");
                mutate(doc);
                assert.throws(() => mod.checkEscAwsLogin(doc, { source: "deploy/esc/dev.yaml", roleArn: DEPLOY_ROLE }), (err: Error) => {
                    assert.match(err.message, /^deploy\/esc\/dev.yaml: /);
                    assert.match(err.message, message);
                    return true;
                });
            });
        }
    });

    describe("with conflicting arguments", () => {
        const refused: Array<[string, Partial<StackDeploymentModule.StackDeploymentArgs>, RegExp]> = [
            ["a ref instead of a branch name", { branch: "refs/heads/main" }, /branch must be a branch name/],
            ["a repository URL instead of owner/name", { repository: "https://github.com/acme/x" }, /repository must be owner\/name/],
            ["a CI team without the preview environment", { environments: [{ name: "dev", yaml: "values: {}" }] }, /ciTeam is given but the preview environment dev-preview is not among environments/],
            ["a policy pack outside the checkout", { policyPack: "../elsewhere" }, /policy pack directory must be a relative path inside the repository, got "\.\.\/elsewhere"/],
            ["a policy pack path that would inject a command", { policyPack: "policy; curl x" }, /policy pack directory must be a relative path inside the repository/],
        ];
        for (const [title, overrides, message] of refused) {
            it(`refuses ${title}`, () => {
                assert.throws(
                    () =>
                        new mod.StackDeployment("bad", {
                            organization: "acme",
                            project: "glue-data-pipeline",
                            stack: "dev",
                            repository: "acme/glue-data-pipeline",
                            branch: "main",
                            deployRoleArn: DEPLOY_ROLE,
                            environments: [{ name: "dev", yaml: "" }, { name: "dev-preview", yaml: "" }],
                            ciTeam: "glue-data-pipeline-ci",
                            ...overrides,
                        }),
                    message,
                );
            });
        }
    });
});
