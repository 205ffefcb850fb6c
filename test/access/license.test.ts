/**
 * @cloud-copilot/iam-simulate is AGPL-3.0. We use it to judge our IAM, in tests only: nothing we ship or run
 * outside the test suite (the Pulumi program, the Lambda bundles, the Glue scripts, scripts/, the policy
 * pack) may import it, and it stays a devDependency so a production install never fetches it.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "../..");
const EVALUATOR = "@cloud-copilot/iam-simulate";
const SKIP = new Set(["node_modules", ".git", ".venv", ".tools", "test", "dist", "build", ".pulumi"]);

/** Every source file outside test/ that names the evaluator in an import, require or dynamic import. */
export function importersOutsideTests(root: string = ROOT): string[] {
    const found: string[] = [];
    const walk = (dir: string) => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
            if (entry.isDirectory()) {
                if (!SKIP.has(entry.name) && !(dir === root && entry.name.startsWith("."))) walk(path.join(dir, entry.name));
            } else if (/\.(ts|tsx|js|mjs|cjs)$/.test(entry.name)) {
                const file = path.join(dir, entry.name);
                const text = fs.readFileSync(file, "utf8");
                if (new RegExp(`(from|require\\(|import\\()\\s*["']${EVALUATOR}`).test(text)) found.push(path.relative(root, file));
            }
        }
    };
    walk(root);
    return found;
}

describe("the AGPL evaluator stays in the tests", () => {
    it("is imported by no file outside test/", () => {
        assert.deepEqual(importersOutsideTests(), []);
    });

    it("would catch an importer outside test/ (a shipped file that imports it)", () => {
        const scratch = fs.mkdtempSync(path.join(require("node:os").tmpdir(), "agpl-"));
        fs.mkdirSync(path.join(scratch, "functions/x"), { recursive: true });
        fs.writeFileSync(path.join(scratch, "functions/x/handler.ts"), `import { runSimulation } from "${EVALUATOR}";\n`);
        fs.mkdirSync(path.join(scratch, "test"));
        fs.writeFileSync(path.join(scratch, "test/ok.ts"), `import { runSimulation } from "${EVALUATOR}";\n`);
        assert.deepEqual(importersOutsideTests(scratch), [path.join("functions", "x", "handler.ts")]);
    });

    it("is a devDependency, never a runtime dependency", () => {
        const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
        assert.ok(pkg.devDependencies?.[EVALUATOR], "listed in devDependencies");
        assert.equal(pkg.dependencies?.[EVALUATOR], undefined);
    });
});
