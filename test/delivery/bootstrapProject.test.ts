/**
 * `pulumi up --cwd bootstrap` must run the bootstrap program. Pulumi's Node.js host (cmd/run of
 * @pulumi/pulumi) runs the Pulumi.yaml `main` when it names a file; when it names a directory, or is absent,
 * it runs the `main` of the nearest package.json above the program — here the repository root's, the
 * workload program, which then stops on a missing `stage`.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";

const ROOT = path.resolve(__dirname, "../..");
const project = (dir: string) => yaml.load(fs.readFileSync(path.join(ROOT, dir, "Pulumi.yaml"), "utf8")) as Record<string, any>;

/** The file Pulumi's Node.js host runs for the project in `dir`, following its rules (see above). */
export function programEntryPoint(dir: string): string {
    const main: string | undefined = project(dir).main;
    const programPath = path.resolve(ROOT, dir, main ?? ".");
    if (fs.existsSync(programPath) && fs.statSync(programPath).isFile()) return programPath;
    // No file entry point: the nearest package.json's main, searched upwards from the program directory.
    for (let d = programPath; ; d = path.dirname(d)) {
        const manifest = path.join(d, "package.json");
        if (fs.existsSync(manifest)) return path.resolve(d, JSON.parse(fs.readFileSync(manifest, "utf8")).main ?? "index.js");
        if (path.dirname(d) === d) throw new Error(`no package.json above ${programPath}`);
    }
}

describe("the bootstrap project", () => {
    it("runs bootstrap/index.ts, the program that builds the bootstrap", () => {
        const entry = programEntryPoint("bootstrap");
        assert.equal(path.relative(ROOT, entry), path.join("bootstrap", "index.ts"));
        assert.match(fs.readFileSync(entry, "utf8"), /import \{ buildBootstrap \} from "\.\.\/stacks\/bootstrap";/);
    });

    it("has a project name of its own and the TypeScript runtime", () => {
        assert.equal(project("bootstrap").name, "glue-data-pipeline-bootstrap");
        assert.equal(project("bootstrap").runtime.options.typescript, true);
        assert.ok(fs.existsSync(path.join(ROOT, "bootstrap", "tsconfig.json")), "ts-node reads the tsconfig.json of the program directory");
    });

    it("while the workload project runs the root index.ts (package.json's main)", () => {
        assert.equal(path.relative(ROOT, programEntryPoint(".")), "index.ts");
    });
});
