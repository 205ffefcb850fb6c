/**
 * The approval step before prod: prod deploys on pushes to `release` (its Deployments settings), and
 * GitHub lets nothing reach `release` but a pull request a second person approved after its last push,
 * whose tests and prod preview passed (deploy/github/release-ruleset.json, applied in docs/deploy.md).
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as yaml from "js-yaml";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "../..");
const load = (f: string): any => (f.endsWith(".json") ? JSON.parse(fs.readFileSync(path.join(ROOT, f), "utf8")) : yaml.load(fs.readFileSync(path.join(ROOT, f), "utf8")));

describe("the approval gate before prod", () => {
    const ruleset = load("deploy/github/release-ruleset.json");
    const rule = (type: string) => ruleset.rules.find((r: any) => r.type === type);

    it("protects the branch prod deploys from, and dev never does", () => {
        const prodBranch = load("bootstrap/Pulumi.prod.yaml").config["glue-data-pipeline-bootstrap:deployBranch"];
        const devBranch = load("bootstrap/Pulumi.dev.yaml").config["glue-data-pipeline-bootstrap:deployBranch"];
        assert.equal(prodBranch, "release");
        assert.equal(devBranch, "main");
        assert.deepEqual(ruleset.conditions.ref_name.include, [`refs/heads/${prodBranch}`]);
        assert.equal(ruleset.enforcement, "active");
        assert.deepEqual(ruleset.bypass_actors, [], "nobody may skip the approval");
    });

    it("requires a pull request approved by someone other than its last pusher, re-approved after any push", () => {
        const pr = rule("pull_request").parameters;
        assert.ok(pr.required_approving_review_count >= 1);
        assert.equal(pr.require_last_push_approval, true);
        assert.equal(pr.dismiss_stale_reviews_on_push, true);
    });

    it("requires the preview workflow's jobs to pass, on the latest release, by their names in preview.yml", () => {
        const checks = rule("required_status_checks").parameters;
        assert.equal(checks.strict_required_status_checks_policy, true);
        const workflow = load(".github/workflows/preview.yml");
        const jobNames = [workflow.jobs.test.name, workflow.jobs.preview.name];
        assert.deepEqual(checks.required_status_checks.map((c: any) => c.context), jobNames);
    });

    it("forbids rewriting or deleting what prod was deployed from", () => {
        assert.ok(rule("non_fast_forward"));
        assert.ok(rule("deletion"));
    });
});
