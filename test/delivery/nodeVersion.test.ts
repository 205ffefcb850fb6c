/**
 * One Node.js major everywhere: what developers use (.nvmrc, `nvm use`), what npm and Pulumi accept
 * (package.json engines; @pulumi/pulumi itself requires Node 22 or later), what CI installs (every
 * actions/setup-node step reads .nvmrc), what the docs say, and what the functions run and are bundled for.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { LAMBDA_NODE_TARGET } from "../../components/compute/lambdaBundle";
import { LAMBDA_RUNTIME } from "../../components/compute/lambdaFunctionResources";

const ROOT = path.resolve(__dirname, "../..");
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");
const MAJOR = 22;

describe("Node.js version", () => {
    it(`.nvmrc names Node.js ${MAJOR}`, () => assert.equal(read(".nvmrc").trim(), String(MAJOR)));

    it("package.json's engines accept it and nothing older, as @pulumi/pulumi's own engines do", () => {
        assert.equal(JSON.parse(read("package.json")).engines.node, `>=${MAJOR}`);
        const pulumiEngines: string | undefined = JSON.parse(read("node_modules/@pulumi/pulumi/package.json")).engines?.node;
        // Our floor is not below the SDK's (else npm prints EBADENGINE on the versions in between).
        const sdkFloor = Number(/>=\s*(\d+)/.exec(pulumiEngines ?? ">=0")?.[1]);
        assert.ok(sdkFloor <= MAJOR, `@pulumi/pulumi needs ${pulumiEngines}`);
    });

    it("every setup-node step of every workflow installs the version in .nvmrc", () => {
        const dir = path.join(ROOT, ".github/workflows");
        let found = 0;
        for (const file of fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f))) {
            const wf = yaml.load(fs.readFileSync(path.join(dir, file), "utf8")) as any;
            for (const [job, def] of Object.entries<any>(wf.jobs ?? {})) {
                for (const step of (def.steps ?? []).filter((s: any) => s.uses?.startsWith("actions/setup-node@"))) {
                    found++;
                    assert.equal(step.with?.["node-version-file"], ".nvmrc", `${file} ${job}`);
                    assert.equal(step.with?.["node-version"], undefined, `${file} ${job} pins its own version`);
                }
            }
        }
        assert.ok(found > 0, "no setup-node step found");
    });

    it("the functions run on it and are bundled for it", () => {
        assert.equal(LAMBDA_RUNTIME, `nodejs${MAJOR}.x`);
        assert.equal(LAMBDA_NODE_TARGET, `node${MAJOR}`);
    });

    it("the README and docs name no older Node.js", () => {
        const docs = ["README.md", ...fs.readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
        for (const doc of docs) assert.doesNotMatch(read(doc), /Node(\.js)? ?(1\d|20)\b|nodejs(1\d|20)\.x/, doc);
        assert.match(read("README.md"), new RegExp(`Node\\.js ${MAJOR}`));
    });
});
