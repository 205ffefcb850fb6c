/**
 * Which way imports go (docs/architecture.md, "The house"): every import of every TypeScript source, read
 * with the compiler's own pre-processor, judged against the house rules below; and the Glue scripts' Python
 * imports likewise. A rule broken here is a dependency a newcomer would not expect from the folder names.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import * as ts from "typescript";

const REPO = path.resolve(__dirname, "..");
const SKIPPED_DIRS = new Set(["node_modules", ".venv", ".git", ".local-output", "dist"]);

/** One import: the importing file and what it names, both repo-relative (or a package name). */
interface Edge {
    readonly from: string;
    /** Repo-relative path without extension for a relative import; the package name otherwise. */
    readonly to: string;
    readonly relative: boolean;
}

function sourceFiles(dir: string, ext: string): string[] {
    const out: string[] = [];
    for (const entry of fs.readdirSync(path.join(REPO, dir), { withFileTypes: true })) {
        if (SKIPPED_DIRS.has(entry.name) || entry.name.startsWith(".")) continue;
        const rel = dir ? `${dir}/${entry.name}` : entry.name;
        if (entry.isDirectory()) out.push(...sourceFiles(rel, ext));
        else if (entry.name.endsWith(ext) && !entry.name.endsWith(".d.ts")) out.push(rel);
    }
    return out;
}

/** Static imports, re-exports, `import()` and `require()` of a TypeScript source. */
function importsOf(file: string, text: string): Edge[] {
    const info = ts.preProcessFile(text, true, true);
    return info.importedFiles.map(({ fileName }) => {
        const relative = fileName.startsWith(".");
        const to = relative ? path.posix.normalize(path.posix.join(path.posix.dirname(file), fileName)).replace(/\.(ts|js)$/, "") : fileName;
        return { from: file, to, relative };
    });
}

const segments = (p: string) => p.split("/");
const top = (p: string) => segments(p)[0];
/** `components/<concern>/…` → concern; the components index is "index". */
const concern = (p: string) => (top(p) === "components" ? segments(p)[1]?.replace(/\.ts$/, "") : undefined);
const isPackage = (e: Edge, name: string) => !e.relative && (e.to === name || e.to.startsWith(`${name}/`));
/**
 * Contracts shared by several functions, beside each function's own `contract.ts`: the queue-feed names every
 * queue-fed trigger reads (its module says so; Pulumi-free, bundled into the functions).
 */
const SHARED_CONTRACTS = new Set(["functions/shared/queueFeed"]);
/** A contract module: `functions/<fn>/contract`, or a shared one. */
const isContract = (p: string) => /^functions\/[^/]+\/contract$/.test(p) || SHARED_CONTRACTS.has(p);

/** Reusable building blocks; they may not lean on a flow's parts or on delivery. */
const REUSABLE = new Set(["storage", "tracking", "glue", "compute", "messaging", "monitoring", "analytics", "iam"]);
/** Flow-specific components, and delivery (deploy roles, OIDC, CI, Deployments, the smoke check). */
const FLOW_SPECIFIC_OR_DELIVERY = new Set(["claims", "workflow", "delivery"]);

interface Rule {
    readonly name: string;
    /** True when the edge breaks the rule. */
    readonly breaks: (e: Edge) => boolean;
}

const RULES: readonly Rule[] = [
    {
        name: "functions import no components, stacks, scripts, bootstrap, policy or the program (runtime code is deployed alone)",
        breaks: (e) => top(e.from) === "functions" && e.relative && ["components", "stacks", "scripts", "bootstrap", "policy", "index", "test"].includes(top(e.to)),
    },
    {
        name: "functions never import Pulumi (they run in Lambda, not in the program)",
        breaks: (e) => top(e.from) === "functions" && isPackage(e, "@pulumi"),
    },
    {
        name: "functions read glue/ only as data (the shared claims schema), never its code",
        breaks: (e) => top(e.from) === "functions" && e.relative && top(e.to) === "glue" && !e.to.endsWith(".json"),
    },
    {
        name: "components import no stacks, scripts, bootstrap, policy or the program (components never read stack configuration)",
        breaks: (e) => top(e.from) === "components" && e.relative && ["stacks", "scripts", "bootstrap", "policy", "index", "test"].includes(top(e.to)),
    },
    {
        name: "components and stacks reach a function only through a contract module (env names, prefixes, metric names)",
        breaks: (e) => ["components", "stacks"].includes(top(e.from)) && e.relative && top(e.to) === "functions" && !isContract(e.to),
    },
    {
        name: "reusable components import no flow-specific or delivery component",
        breaks: (e) => REUSABLE.has(concern(e.from) ?? "") && e.relative && FLOW_SPECIFIC_OR_DELIVERY.has(concern(e.to) ?? ""),
    },
    {
        name: "iam imports no other component, compute only iam (everything builds on them)",
        breaks: (e) => {
            const from = concern(e.from);
            const to = concern(e.to);
            if (!e.relative || to === undefined || to === from) return false;
            return from === "iam" || (from === "compute" && to !== "iam");
        },
    },
    {
        name: "stacks import no scripts, bootstrap or policy (the program never depends on its tools)",
        breaks: (e) => top(e.from) === "stacks" && e.relative && ["scripts", "bootstrap", "policy", "index", "test"].includes(top(e.to)),
    },
    {
        name: "nothing outside test/ imports test/",
        breaks: (e) => top(e.from) !== "test" && e.relative && top(e.to) === "test",
    },
];

function violations(edges: readonly Edge[], rules: readonly Rule[] = RULES): string[] {
    return rules.flatMap((rule) => edges.filter(rule.breaks).map((e) => `${rule.name}: ${e.from} imports ${e.to}`));
}

/** Python imports of a file: the top-level module of each `import x` / `from x import y`. */
function pythonImports(text: string): string[] {
    const modules: string[] = [];
    for (const line of text.split("\n")) {
        const m = /^\s*(?:from\s+([\w.]+)\s+import\b|import\s+([\w.]+(?:\s*,\s*[\w.]+)*))/.exec(line);
        if (!m) continue;
        if (m[1]) modules.push(m[1]);
        else modules.push(...m[2].split(",").map((s) => s.trim()));
    }
    return modules;
}

describe("architecture: which way imports go", () => {
    const files = sourceFiles("", ".ts");
    const edges = files.flatMap((f) => importsOf(f, fs.readFileSync(path.join(REPO, f), "utf8")));
    const rule = (name: string) => {
        const r = RULES.find((x) => x.name.startsWith(name));
        assert.ok(r, `no rule ${name}`);
        return r;
    };

    it("reads the imports of every folder it judges", () => {
        for (const dir of ["components", "functions", "stacks", "scripts", "test"]) {
            assert.ok(edges.filter((e) => top(e.from) === dir).length > 10, `few imports found under ${dir}/: the scan is broken`);
        }
        // Multi-line, type-only and dynamic imports all count.
        const probe = importsOf("components/x/a.ts", 'import type {\n  A,\n} from "../../stacks/b";\nconst c = await import("../y/c");\nrequire("./d");');
        assert.deepEqual(probe.map((e) => e.to), ["stacks/b", "components/y/c", "components/x/d"]);
    });

    for (const r of RULES) {
        it(r.name, () => {
            const broken = edges.filter(r.breaks).map((e) => `${e.from} imports ${e.to}`);
            assert.deepEqual(broken, [], `${broken.length} import(s) go the wrong way`);
        });
    }

    it("catches an import that goes the wrong way (the check can fail)", () => {
        const wrong: Edge[] = [
            { from: "functions/glue-trigger/trigger.ts", to: "components/glue/glueEtlJob", relative: true },
            { from: "functions/shared/logger.ts", to: "@pulumi/pulumi", relative: false },
            { from: "components/storage/dataLakeBuckets.ts", to: "stacks/config", relative: true },
            { from: "components/claims/claimsPipeline.ts", to: "functions/claims-validation/validation", relative: true },
            { from: "stacks/flows/claims.ts", to: "functions/claims-validation/handler", relative: true },
            { from: "components/compute/s3TriggeredLambda.ts", to: "functions/shared/logger", relative: true },
            { from: "components/monitoring/pipelineMonitoring.ts", to: "components/claims/claimsPipeline", relative: true },
            { from: "components/compute/lambdaFunction.ts", to: "components/messaging/notificationTopics", relative: true },
            { from: "components/iam/iamPolicies.ts", to: "components/glue/glueEnvironment", relative: true },
            { from: "stacks/workload.ts", to: "scripts/synth", relative: true },
            { from: "scripts/synth.ts", to: "test/support/graph", relative: true },
        ];
        assert.equal(violations(wrong).length, wrong.length, violations(wrong).join("\n"));
        const right: Edge[] = [
            { from: "components/claims/claimsPipeline.ts", to: "functions/claims-validation/contract", relative: true },
            { from: "components/compute/s3TriggeredLambda.ts", to: "functions/shared/queueFeed", relative: true },
            { from: "functions/claims-validation/schema.ts", to: "glue/lib/glue_pipeline/claims_schema.json", relative: true },
            { from: "components/delivery/deployRoles.ts", to: "components/claims/claimsWarehouseAccess", relative: true },
            { from: "components/compute/lambdaFunction.ts", to: "components/iam/iamPolicies", relative: true },
            { from: "stacks/workload.ts", to: "components/index", relative: true },
        ];
        assert.deepEqual(violations(right), []);
        assert.ok(rule("functions never import Pulumi").breaks(wrong[1]));
    });

    describe("the Glue code", () => {
        const jobs = sourceFiles("glue/jobs", ".py");
        const library = sourceFiles("glue/lib", ".py");
        const jobModules = new Set(jobs.map((f) => path.basename(f, ".py")));

        it("has job scripts and a library to judge", () => {
            assert.ok(jobs.length >= 3 && library.length >= 3, `jobs ${jobs.length}, library ${library.length}`);
        });

        it("runs each job script on the glue_pipeline library, not on another job script", () => {
            for (const job of jobs) {
                const imports = pythonImports(fs.readFileSync(path.join(REPO, job), "utf8"));
                assert.ok(imports.some((m) => m === "glue_pipeline" || m.startsWith("glue_pipeline.")), `${job} does not import glue_pipeline`);
                assert.deepEqual(imports.filter((m) => jobModules.has(m.split(".")[0])), [], `${job} imports another job script`);
            }
        });

        it("keeps the library free of job scripts and Pulumi", () => {
            for (const file of [...library, ...jobs]) {
                const imports = pythonImports(fs.readFileSync(path.join(REPO, file), "utf8"));
                const wrong = imports.filter((m) => m.split(".")[0] === "pulumi" || m.startsWith("pulumi_") || (file.startsWith("glue/lib/") && jobModules.has(m.split(".")[0])));
                assert.deepEqual(wrong, [], `${file} imports ${wrong.join(", ")}`);
            }
        });
    });
});
