/**
 * GitHub Actions workflows: every file under .github/workflows passes actionlint (pinned, built by
 * scripts/install-tools.sh), and the pull-request preview workflow has the shape and the least permissions
 * the delivery design relies on.
 */
import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as yaml from "js-yaml";
import * as os from "node:os";
import * as path from "node:path";
import { COMMENT_MARKER } from "../../scripts/prPreview";

const ROOT = path.resolve(__dirname, "../..");
const WORKFLOWS = path.join(ROOT, ".github/workflows");
const ACTIONLINT = path.join(ROOT, ".tools/bin/actionlint");

interface Finding {
    message: string;
    filepath: string;
    line: number;
    column: number;
    kind: string;
}

function actionlint(files: string[]): Finding[] {
    const run = spawnSync(ACTIONLINT, ["-format", "{{json .}}", ...files], { cwd: ROOT, encoding: "utf8" });
    if (run.error) throw run.error;
    // Exit 0: clean; 1: findings (printed as JSON); anything else: actionlint itself failed.
    if (run.status !== 0 && run.status !== 1) throw new Error(`actionlint exited ${run.status}: ${run.stderr}`);
    return run.stdout.trim() === "" ? [] : JSON.parse(run.stdout);
}

const workflowFiles = () =>
    fs.existsSync(WORKFLOWS) ? fs.readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f)).map((f) => path.join(WORKFLOWS, f)) : [];

describe("GitHub Actions workflows", function () {
    // The first run builds actionlint from the Go module proxy.
    this.timeout(600_000);

    before(() => {
        execFileSync("bash", [path.join(ROOT, "scripts/install-tools.sh")], { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
    });

    describe("actionlint", () => {
        it("finds problems when there are some (the linter really runs)", () => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "actionlint-"));
            const broken = path.join(dir, "broken.yml");
            fs.writeFileSync(
                broken,
                ["on: push", "permissions:", "  contents: maybe", "jobs:", "  a:", "    runs-on: ubuntu-latest", "    steps:", "      - run: echo ${{ github.event.pull_request.nonexistent_context_fn() }}"].join("\n"),
            );
            const findings = actionlint([broken]);
            assert.ok(findings.length >= 2, JSON.stringify(findings));
            assert.ok(findings.some((f) => f.kind === "permissions"), JSON.stringify(findings.map((f) => f.kind)));
        });

        it("finds nothing in any workflow of the repository", () => {
            const files = workflowFiles();
            assert.ok(files.length > 0, "no workflow files");
            const findings = actionlint(files);
            assert.deepEqual(
                findings.map((f) => `${path.relative(ROOT, f.filepath)}:${f.line}:${f.column}: ${f.message} [${f.kind}]`),
                [],
            );
        });
    });

    describe("the pull-request preview workflow", () => {
        let wf: any;
        let text: string;
        before(() => {
            text = fs.readFileSync(path.join(WORKFLOWS, "preview.yml"), "utf8");
            wf = yaml.load(text);
        });
        const steps = (job: string): any[] => wf.jobs[job].steps;
        const uses = (job: string) => steps(job).map((s) => s.uses).filter(Boolean).map((u: string) => u.split("@")[0]);
        const runs = (job: string) => steps(job).map((s) => s.run ?? "").join("\n");

        it("runs on pull requests into main (changes) and release (promotions), never with pull_request_target", () => {
            assert.deepEqual(Object.keys(wf.on), ["pull_request"]);
            assert.deepEqual(wf.on.pull_request.branches, ["main", "release"]);
            assert.doesNotMatch(text, /pull_request_target/);
        });

        it("grants nothing by default and each job only what it needs", () => {
            assert.deepEqual(wf.permissions, {});
            assert.deepEqual(wf.jobs.test.permissions, { contents: "read" });
            assert.deepEqual(wf.jobs.preview.permissions, { contents: "read", "id-token": "write" });
            assert.deepEqual(wf.jobs.comment.permissions, { "pull-requests": "write" });
        });

        it("stores no credential: no secrets, no access keys, no Pulumi token", () => {
            assert.doesNotMatch(text, /secrets\./);
            assert.doesNotMatch(text, /AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|PULUMI_ACCESS_TOKEN/);
            for (const job of Object.keys(wf.jobs)) {
                for (const step of steps(job).filter((s) => s.uses?.startsWith("actions/checkout@"))) {
                    assert.equal(step.with?.["persist-credentials"], false, `${job}: checkout keeps the token in .git/config`);
                }
            }
        });

        it("installs the toolchains, runs the full test suite, then the offline synth of dev and prod", () => {
            assert.deepEqual(uses("test"), ["actions/checkout", "actions/setup-node", "actions/setup-python", "actions/setup-java", "actions/setup-go"]);
            const setup = (action: string) => steps("test").find((s) => s.uses?.startsWith(action)).with;
            assert.equal(setup("actions/setup-node")["node-version-file"], ".nvmrc");
            assert.equal(setup("actions/setup-python")["python-version"], "3.11");
            assert.equal(setup("actions/setup-java")["java-version"], "17");
            const commands = steps("test").filter((s) => s.run).map((s) => s.run.trim());
            assert.equal(commands[0], "npm test");
            assert.match(commands[1], /npm run synth -- --stack dev .*\n.*npm run synth -- --stack prod/);
        });

        it("previews dev and prod after the tests pass, as the CI team, with the read-only preview environments", () => {
            assert.equal(wf.jobs.preview.needs, "test");
            assert.match(wf.jobs.preview.if, /github.event.pull_request.head.repo.full_name == github.repository/);
            const auth = steps("preview").find((s) => s.uses?.startsWith("pulumi/auth-actions@"));
            assert.equal(auth.with["requested-token-type"], "urn:pulumi:token-type:access_token:team");
            assert.equal(auth.with.scope, "team:glue-data-pipeline-ci");
            const script = runs("preview");
            assert.match(script, /for stack in dev prod; do/);
            assert.match(script, /scripts\/prPreview.ts config --stack "\$stack"/);
            assert.match(script, /pulumi preview --stack "\$PULUMI_ORG\/\$stack" --config-file "\.preview\/Pulumi\.\$stack\.yaml"/);
        });

        it("runs the policy pack in every preview, from the directory that holds it, after installing its dependencies", () => {
            const script = runs("preview");
            const preview = /pulumi preview (?:[^\n]*\\\n)*[^\n]*/.exec(script)?.[0] ?? "";
            const pack = /--policy-pack (\S+)/.exec(preview)?.[1];
            assert.ok(pack, `pulumi preview runs without --policy-pack: ${preview}`);
            assert.ok(fs.existsSync(path.join(ROOT, pack, "PulumiPolicy.yaml")), `${pack}/PulumiPolicy.yaml`);
            // The pack resolves @pulumi/policy from the root node_modules: npm ci must come first.
            const commands = steps("preview").filter((s) => s.run).map((s) => s.run as string);
            const install = commands.findIndex((c) => /npm ci\b/.test(c));
            const previewStep = commands.findIndex((c) => c.includes("--policy-pack"));
            assert.ok(install >= 0 && install < previewStep, "npm ci runs before the preview");
        });

        it("never deploys, refreshes or destroys from a pull request", () => {
            for (const file of workflowFiles()) {
                const content = fs.readFileSync(file, "utf8");
                assert.doesNotMatch(content, /pulumi (up|update|destroy|refresh)\b/, path.basename(file));
                assert.doesNotMatch(content, /command:\s*(up|update|destroy|refresh)\b/, path.basename(file));
            }
        });

        it("posts ONE comment, found again by its marker and edited on every push, from a job that runs no pull-request code", () => {
            assert.equal(wf.jobs.comment.needs, "preview");
            assert.deepEqual(uses("comment"), ["actions/download-artifact"]);
            const script = runs("comment");
            assert.ok(script.includes(`marker='${COMMENT_MARKER}'`), "the comment job must look for the marker the report writes");
            assert.match(script, /select\(\.user\.login == \\"github-actions\[bot\]\\"/);
            assert.match(script, /--method PATCH "repos\/\$REPO\/issues\/comments\/\$id"/);
            assert.match(script, /--method POST "repos\/\$REPO\/issues\/\$PR\/comments"/);
            assert.match(wf.jobs.comment.if, /always\(\)/, "a failed preview must still be reported");
        });

        it("cancels the previews of superseded pushes to the same pull request", () => {
            assert.deepEqual(wf.concurrency, { group: "preview-${{ github.event.pull_request.number }}", "cancel-in-progress": true });
        });
    });
});
