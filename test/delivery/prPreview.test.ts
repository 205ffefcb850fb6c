import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as yaml from "js-yaml";
import * as os from "node:os";
import * as path from "node:path";
import { classify, COMMENT_MARKER, previewStackFile, renderComment, verdict } from "../../scripts/prPreview";

const ROOT = path.resolve(__dirname, "../..");
const read = (f: string) => fs.readFileSync(path.join(ROOT, f), "utf8");
const PROMOTION_REFUSAL = "error: Running program failed with an unhandled exception:\nPromotionError: Artifact \"fileProcessorScript\" here is sha256 aaaaaaaaaaaa, but acme/glue-data-pipeline/dev runs bbbbbbbbbbbb";

describe("pull-request preview helpers", () => {
    describe("the preview stack file", () => {
        for (const stack of ["dev", "prod"]) {
            it(`swaps ${stack}'s deploy environment for its preview environment and changes nothing else`, () => {
                const original = yaml.load(read(`Pulumi.${stack}.yaml`)) as any;
                const preview = yaml.load(previewStackFile(stack, read(`Pulumi.${stack}.yaml`))) as any;
                assert.deepEqual(original.environment, [`glue-data-pipeline/${stack}`]);
                assert.deepEqual(preview.environment, [`glue-data-pipeline/${stack}-preview`]);
                assert.deepEqual(preview.config, original.config);
            });
        }

        it("refuses a stack file that does not import the deploy environment (nothing would be swapped)", () => {
            assert.throws(() => previewStackFile("dev", "config:\n  aws:region: eu-west-1\n"), /does not import glue-data-pipeline\/dev/);
        });
    });

    describe("the verdict", () => {
        const ok = (stack: string) => classify(stack, 0, "Resources: 3 to update");
        const refused = (stack: string) => classify(stack, 255, PROMOTION_REFUSAL);
        const broken = (stack: string) => classify(stack, 255, "error: TypeError: x is undefined");
        const cases: Array<[string, string, ReturnType<typeof classify>[], boolean]> = [
            ["both preview cleanly", "main", [ok("dev"), ok("prod")], true],
            ["a change into main: prod waits for dev to deploy it", "main", [ok("dev"), refused("prod")], true],
            ["a promotion into release that dev has not deployed", "release", [ok("dev"), refused("prod")], false],
            ["dev itself failing", "main", [broken("dev"), ok("prod")], false],
            ["prod failing for another reason", "main", [ok("dev"), broken("prod")], false],
            ["a preview that never ran (credentials, network)", "main", [ok("dev"), classify("prod", undefined, "")], false],
        ];
        for (const [title, base, previews, mergeable] of cases) {
            it(`${mergeable ? "passes" : "fails"} when ${title}`, () => assert.equal(verdict(base, previews).ok, mergeable));
        }

        it("tells a promotion refusal from a failure", () => {
            assert.equal(refused("prod").outcome, "refused-by-promotion");
            assert.equal(broken("prod").outcome, "failed");
            assert.match(verdict("release", [ok("dev"), refused("prod")]).reasons[0], /deploy dev from main first/);
        });
    });

    describe("the comment", () => {
        it("starts with the marker the comment job looks for, and reports each stack", () => {
            const body = renderComment("main", "0123456789abcdef0123", [classify("dev", 0, "Resources:\n    ~ 1 to update"), classify("prod", 255, PROMOTION_REFUSAL)]);
            assert.ok(body.startsWith(`${COMMENT_MARKER}\n`));
            assert.match(body, /at 0123456789ab \(into `main`\)/);
            assert.match(body, /\| dev \| :white_check_mark: previewed \|/);
            assert.match(body, /\| prod \| :lock: refused by the promotion contract \|/);
            assert.match(body, /once this is merged and dev has deployed it/);
            assert.match(body, /~ 1 to update/);
            assert.match(body, /\*\*Mergeable as far as the previews are concerned.\*\*$/);
        });

        it("stays under GitHub's 65,536-character limit with huge logs, keeping their ends (the summary)", () => {
            const huge = `${"x".repeat(200_000)}\nResources: 42 unchanged`;
            const body = renderComment("main", "abc", [classify("dev", 0, huge), classify("prod", 0, huge)]);
            assert.ok(body.length < 65_536, `${body.length}`);
            assert.equal((body.match(/Resources: 42 unchanged/g) ?? []).length, 2);
            assert.match(body, /earlier characters cut/);
        });
    });

    describe("the command line, as the workflow runs it", () => {
        const run = (args: string[]) =>
            spawnSync(path.join(ROOT, "node_modules/.bin/ts-node"), ["--transpile-only", "scripts/prPreview.ts", ...args], { cwd: ROOT, encoding: "utf8" });

        it("writes the comment and fails the job for an unpromotable release", function () {
            this.timeout(60_000);
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "preview-"));
            fs.writeFileSync(path.join(dir, "dev.log"), "Resources: 12 unchanged");
            fs.writeFileSync(path.join(dir, "dev.exit"), "0\n");
            fs.writeFileSync(path.join(dir, "prod.log"), PROMOTION_REFUSAL);
            fs.writeFileSync(path.join(dir, "prod.exit"), "255\n");
            const out = path.join(dir, "comment.md");

            const intoMain = run(["report", "--dir", dir, "--base", "main", "--sha", "abc", "--out", out]);
            assert.equal(intoMain.status, 0, intoMain.stderr);
            assert.ok(fs.readFileSync(out, "utf8").startsWith(COMMENT_MARKER));

            const intoRelease = run(["report", "--dir", dir, "--base", "release", "--sha", "abc", "--out", out]);
            assert.equal(intoRelease.status, 1);
            assert.match(intoRelease.stderr, /prod: the promotion contract refused it/);
            assert.match(fs.readFileSync(out, "utf8"), /\*\*Not mergeable:\*\*/);

            const config = run(["config", "--stack", "prod", "--out", path.join(dir, "Pulumi.prod.yaml")]);
            assert.equal(config.status, 0, config.stderr);
            assert.deepEqual((yaml.load(fs.readFileSync(path.join(dir, "Pulumi.prod.yaml"), "utf8")) as any).environment, ["glue-data-pipeline/prod-preview"]);
        });
    });
});
