/**
 * The project's configuration as a user meets it: the declarations in Pulumi.yaml (Pulumi checks types and
 * required keys with them), the keys stacks/config.ts reads, the README's table, the real stack files, and the
 * sandbox way in — a stack file with only `stage` and `accountId` — built into the whole workload.
 */
import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import * as yaml from "js-yaml";
import { setMockEnvironment } from "../../scripts/offline/pulumiMocks";
import { flattenStackConfig } from "../../scripts/synth";
import { parseStackConfig, PROJECT, PROJECT_KEYS, SCALAR_KEYS, SECTION_FIELDS } from "../../stacks/config";
import { named, ofType } from "../support/graph";
import { buildWorkload } from "../support/workload";

const ROOT = path.resolve(__dirname, "../..");
const readYaml = (file: string): Record<string, any> => yaml.load(fs.readFileSync(path.join(ROOT, file), "utf8")) as Record<string, any>;

describe("project configuration", () => {
    describe("Pulumi.yaml's declarations", () => {
        const project = readYaml("Pulumi.yaml");
        const declared = Object.entries(project.config as Record<string, any>).filter(([key]) => !key.includes(":") || key.startsWith(`${PROJECT}:`));

        it("declare exactly the scalar keys stacks/config.ts reads, with their type, default and description", () => {
            const fromYaml = Object.fromEntries(declared.map(([key, decl]) => [key.replace(`${PROJECT}:`, ""), decl]));
            assert.deepEqual(fromYaml, SCALAR_KEYS);
        });

        it("use only the types Pulumi knows and leave stage and accountId without a default (Pulumi then requires them)", () => {
            for (const [key, decl] of declared) assert.ok(["string", "integer", "boolean", "array"].includes(decl.type), `${key}: type ${decl.type}`);
            const required = declared.filter(([, decl]) => !("default" in decl)).map(([key]) => key);
            assert.deepEqual(required.sort(), ["accountId", "stage"]);
        });

        it("do not declare an object key (Pulumi cannot type its fields; stacks/config.ts does)", () => {
            for (const key of Object.keys(SECTION_FIELDS)) assert.ok(!declared.some(([k]) => k === key), key);
        });
    });

    describe("the README's configuration table", () => {
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        const section = readme.slice(readme.indexOf("## Configuration"));
        const table = section.slice(0, section.indexOf("\n## ", 3));

        it("has a row for every key and every field of an object key", () => {
            const expected = [
                ...Object.keys(SCALAR_KEYS),
                "aws:region",
                "tags",
                ...Object.entries(SECTION_FIELDS).flatMap(([key, fields]) => (fields ?? []).map((f) => `${key}.${f}`)),
            ];
            const missing = expected.filter((key) => !new RegExp(`^\\| \`${key.replace(/[.]/g, "\\.")}\``, "m").test(table));
            assert.deepEqual(missing, []);
        });

        it("names no key the program does not read", () => {
            const rows = [...table.matchAll(/^\| `([^`]+)`/gm)].map((m) => m[1]);
            const unknown = rows.filter((key) => key !== "aws:region" && !PROJECT_KEYS.includes(key.split(".")[0]));
            assert.deepEqual(unknown, []);
            for (const key of rows.filter((k) => k.includes("."))) {
                const [top, field] = key.split(".");
                assert.ok(SECTION_FIELDS[top]?.includes(field), `README row ${key}`);
            }
        });

        it("shows how to set a scalar, a nested and a list setting with pulumi config set", () => {
            assert.match(table, /pulumi config set stage /);
            assert.match(table, /pulumi config set accountId /);
            assert.match(table, /pulumi config set --path /);
        });
    });

    describe("the stack files in this repository", () => {
        for (const stack of ["dev", "prod"]) {
            it(`Pulumi.${stack}.yaml passes the strict parse and reserves ${stack === "prod" ? "explicitly" : "nothing"}`, () => {
                const raw = flattenStackConfig(PROJECT, readYaml(`Pulumi.${stack}.yaml`).config);
                const config = parseStackConfig(stack, raw, {});
                if (stack === "dev") {
                    assert.equal(config.trigger.reservedConcurrency, undefined);
                    assert.equal(config.medallion?.ingestConcurrency, undefined);
                } else {
                    assert.equal(config.trigger.reservedConcurrency, 10);
                    assert.equal(config.medallion?.ingestConcurrency, 10);
                }
            });
        }
    });

    describe("a sandbox stack file with only stage and accountId, built into the whole workload", () => {
        let stackFile: string;
        before(async () => {
            // What `pulumi stack init sandbox` and two `pulumi config set` write (no aws:region: AWS_REGION).
            stackFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "sandbox-stack-")), "Pulumi.sandbox.yaml");
            fs.writeFileSync(stackFile, `config:\n  ${PROJECT}:stage: sandbox\n  ${PROJECT}:accountId: "123456789012"\n`);
            const raw = flattenStackConfig(PROJECT, (yaml.load(fs.readFileSync(stackFile, "utf8")) as any).config);
            assert.deepEqual(Object.keys(raw).sort(), [`${PROJECT}:accountId`, `${PROJECT}:stage`]);
            // The credentials' account and region, as the AWS provider would report them.
            setMockEnvironment({ accountId: "123456789012", region: "us-east-2" });
            await buildWorkload(parseStackConfig("sandbox", raw, { AWS_REGION: "us-east-2" }));
        });
        after(() => {
            setMockEnvironment({ accountId: "111111111111", region: "eu-west-1" });
            fs.rmSync(path.dirname(stackFile), { recursive: true, force: true });
        });

        it("builds every flow's functions, none with reserved concurrency", () => {
            const functions = ofType("aws:lambda/function:Function");
            assert.ok(functions.length >= 4, `only ${functions.length} functions`);
            const reserving = functions.filter((f) => f.inputs.reservedConcurrentExecutions !== undefined).map((f) => f.inputs.name);
            assert.deepEqual(reserving, []);
        });

        it("pins its provider to the account and region and tags everything with the defaults", () => {
            const provider = named("sandbox-aws", "pulumi:providers:aws");
            const decoded = (v: unknown) => (typeof v === "string" && /^[[{]/.test(v) ? JSON.parse(v) : v);
            assert.deepEqual(decoded(provider.inputs.allowedAccountIds), ["123456789012"]);
            assert.equal(provider.inputs.region, "us-east-2");
            assert.equal(provider.inputs.assumeRoles, undefined);
            assert.deepEqual(decoded(provider.inputs.defaultTags).tags, { Project: "glue-data-pipeline", Owner: "unassigned", CostCenter: "unassigned", Environment: "sandbox" });
        });

        it("puts no permissions boundary on its roles (no bootstrap in a sandbox)", () => {
            const roles = ofType("aws:iam/role:Role");
            assert.ok(roles.length > 0);
            assert.deepEqual(roles.filter((r) => r.inputs.permissionsBoundary !== undefined).map((r) => r.name), []);
        });

        it("names its buckets after the sandbox stage", () => {
            const buckets = ofType("aws:s3/bucket:Bucket").map((b) => String(b.inputs.bucket));
            assert.ok(buckets.includes("glue-input-sandbox-123456789012"), buckets.join(", "));
        });
    });

    describe("the same two-key stack file through the real program (index.ts) in the offline synth", function () {
        this.timeout(180_000);
        let result: { resources: number; reserving: string[]; region: string; accountId: string };
        before(async () => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sandbox-synth-"));
            const stackFile = path.join(dir, "Pulumi.sandbox.yaml");
            fs.writeFileSync(stackFile, `config:\n  ${PROJECT}:stage: sandbox\n  ${PROJECT}:accountId: "123456789012"\n`);
            // A process of its own: the synth installs its own mocks. The region comes from AWS_REGION, as for a user.
            const script = `require("./scripts/synth").synth({ stack: "sandbox", stackFile: ${JSON.stringify(stackFile)} }).then((r) => {
                const fns = r.resources.filter((x) => x.type === "aws:lambda/function:Function");
                console.log(JSON.stringify({ resources: r.resources.length, reserving: fns.filter((f) => f.inputs.reservedConcurrentExecutions !== undefined).map((f) => f.inputs.name), region: r.outputs.region, accountId: r.outputs.accountId }));
                process.exit(0);
            }, (e) => { console.error(e.message); process.exit(1); });`;
            const { stdout } = await promisify(execFile)(path.join(ROOT, "node_modules/.bin/ts-node"), ["--transpile-only", "-e", script], {
                cwd: ROOT,
                env: { ...process.env, AWS_REGION: "us-east-2", AWS_DEFAULT_REGION: "" },
            });
            result = JSON.parse(stdout.trim().split("\n").pop()!);
            fs.rmSync(dir, { recursive: true, force: true });
        });

        it("synthesises the whole workload in the credentials' region, reserving no concurrency", () => {
            assert.ok(result.resources > 100, `${result.resources} resources`);
            assert.deepEqual(result.reserving, []);
            assert.equal(result.region, "us-east-2");
        });
    });
});
