/**
 * Offline synth: evaluates the Pulumi program for a stack under mocks — no Pulumi CLI, no plugins, no
 * credentials — prints a summary of its resources by type, and optionally writes the whole resource graph
 * (type, name, parent, provider, dependencies, inputs) and the stack outputs as JSON.
 *
 *   npm run synth -- --stack dev|prod [--json FILE] [--promotion-outputs FILE|none]
 *   npm run synth -- --project bootstrap --stack pipeline|dev|prod [--json FILE]
 *   --stack-file FILE: the workload stack file to read instead of Pulumi.<stack>.yaml (for the bootstrap: the
 *   one its dev/prod stack checks and derives access from)
 *
 * A stack that promotes from another (prod from dev) reads that stack's outputs through a StackReference.
 * Offline there is no other stack, so by default the synth assumes it has deployed exactly the artifacts
 * of this working tree (said in the output). `--promotion-outputs FILE` uses that JSON as its outputs
 * instead; `--promotion-outputs none` simulates a stack that has exported nothing.
 */
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import {
    installMocks,
    RecordedResource,
    recordedResources,
    setMockEnvironment,
    setStackReferenceOutputs,
    waitForRegistrations,
} from "./offline/pulumiMocks";

const ROOT = path.resolve(__dirname, "..");

export interface SynthOptions {
    readonly stack: string;
    /**
     * Which Pulumi project: the workload program (index.ts, Pulumi.<stack>.yaml) or the bootstrap project
     * (bootstrap/index.ts, bootstrap/Pulumi.<stack>.yaml: pipeline, dev or prod). @default "workload"
     */
    readonly project?: "workload" | "bootstrap";
    /** Outputs of the promotion source stack; undefined: this tree's artifacts; null: none at all. */
    readonly promotionOutputs?: Record<string, unknown> | null;
    /**
     * The stack file to read instead of Pulumi.<stack>.yaml (tests and preflight runs of a scratch stack). For
     * the bootstrap project: the workload stack file its dev/prod stack reads instead of Pulumi.<stack>.yaml.
     */
    readonly stackFile?: string;
}

export interface SynthResult {
    readonly project: string;
    readonly stack: string;
    readonly resources: Array<Omit<RecordedResource, "state" | "custom"> & { component: boolean }>;
    readonly outputs: Record<string, unknown>;
    readonly notes: string[];
}

/** Flattens a stack file's `config:` into Pulumi's raw form: `ns:key` → string (objects JSON-encoded). */
export function flattenStackConfig(project: string, config: Record<string, unknown>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(config ?? {})) {
        const qualified = key.includes(":") ? key : `${project}:${key}`;
        if (value !== null && typeof value === "object" && "secure" in (value as object)) {
            throw new Error(`${qualified} is a secret; the offline synth cannot decrypt it. Give it a plain value in a test stack.`);
        }
        out[qualified] = typeof value === "string" ? value : JSON.stringify(value);
    }
    return out;
}

function readYaml(file: string): Record<string, any> {
    if (!fs.existsSync(file)) throw new Error(`${path.relative(ROOT, file)} not found`);
    return (yaml.load(fs.readFileSync(file, "utf8")) as Record<string, any>) ?? {};
}

/** Resolves every exported Output; rejects with the first failure (`apply` would never run for one). */
async function resolveOutputs(exported: Record<string, unknown>): Promise<Record<string, unknown>> {
    const pulumi = await import("@pulumi/pulumi");
    const entries = await Promise.all(
        Object.entries(exported).map(async ([k, v]): Promise<[string, unknown]> => [k, await (pulumi.output(v as any) as any).promise()]),
    );
    return Object.fromEntries(entries);
}

/** The program's own message, without the SDK's `error serializing property "x": ` prefixes. */
export function programErrorMessage(err: unknown): string {
    const message = err instanceof Error ? err.message : String(err);
    return message.replace(/^(error serializing property "[^"]*": )+/, "");
}

/** Runs the program of `options.stack` under mocks. Call once per process (mocks are process-global). */
export async function synth(options: SynthOptions): Promise<SynthResult> {
    if (options.project === "bootstrap") return synthBootstrap(options.stack, options.stackFile);
    const project: string = readYaml(path.join(ROOT, "Pulumi.yaml")).name;
    const stackFile = readYaml(options.stackFile ?? path.join(ROOT, `Pulumi.${options.stack}.yaml`));
    const rawConfig = flattenStackConfig(project, stackFile.config ?? {});
    const notes: string[] = [];

    installMocks(project, options.stack);
    const pulumi = await import("@pulumi/pulumi");
    pulumi.runtime.setAllConfig(rawConfig);
    const { FAST_PATH_CONFIG_DEFAULTS, parseStackConfig } = await import("../stacks/config");
    const config = parseStackConfig(options.stack, rawConfig);
    setMockEnvironment({ accountId: config.accountId, region: config.region });

    if (config.promotion) {
        const source = config.promotion.fromStack;
        if (options.promotionOutputs === null) {
            notes.push(`promotion source ${source}: simulated with no outputs`);
        } else if (options.promotionOutputs !== undefined) {
            setStackReferenceOutputs(source, options.promotionOutputs);
            notes.push(`promotion source ${source}: outputs from the given file`);
        } else {
            const { localArtifactVersions, releaseId, shippedArtifacts } = await import("../stacks/artifacts");
            // ... and, for promotion.requireSmoke, to have passed its smoke check on this tree's release.
            const release = releaseId(localArtifactVersions(shippedArtifacts(config.medallion !== undefined, (config.fastPath ?? FAST_PATH_CONFIG_DEFAULTS).enabled)));
            const smoke = { releaseId: release, passedAt: "1970-01-01T00:00:00.000Z", files: ["(offline synth: assumed)"] };
            setStackReferenceOutputs(source, { artifacts: localArtifactVersions(), smoke });
            notes.push(`promotion source ${source}: assumed to have deployed this working tree's artifacts and passed its smoke check on them`);
        }
    }

    const { resources, outputs } = await runProgram(async () => ({ ...(await import("../index")) }));
    return { project, stack: options.stack, resources, outputs, notes };
}

/**
 * Runs a program under the installed mocks: its exported outputs resolved, every registration awaited, and
 * the resources recorded. A program error inside an apply surfaces as a rejected output or an unhandled
 * rejection; both are caught and the first is thrown.
 */
async function runProgram(program: () => Promise<Record<string, unknown>>): Promise<Pick<SynthResult, "resources" | "outputs">> {
    let failure: unknown;
    const onRejection = (err: unknown) => (failure ??= err);
    process.on("unhandledRejection", onRejection);
    const outputs = await program()
        .then(resolveOutputs)
        .catch((err) => {
            failure ??= err;
            return {};
        });
    await waitForRegistrations();
    process.off("unhandledRejection", onRejection);
    if (failure) throw failure;
    const resources = recordedResources().map(({ state: _state, custom, ...r }) => ({ ...r, component: !custom }));
    return { resources, outputs };
}

/**
 * The bootstrap project's stack `stack` under mocks, as `pulumi up -C bootstrap --stack <stack>` would run it:
 * its stack file, the workload stack files and ESC definitions it reads, and the organization prod promotes
 * from (the one the bootstrap runs in). The mocked account is the one the stack deploys to, so the ARNs in its
 * policies are the real ones.
 */
async function synthBootstrap(stack: string, workloadStackFile?: string): Promise<SynthResult> {
    const project: string = readYaml(path.join(ROOT, "bootstrap/Pulumi.yaml")).name;
    const rawConfig = flattenStackConfig(project, readYaml(path.join(ROOT, `bootstrap/Pulumi.${stack}.yaml`)).config ?? {});
    const fromStack: string | undefined = readYaml(path.join(ROOT, "Pulumi.prod.yaml")).config?.["glue-data-pipeline:promotion"]?.fromStack;
    if (!fromStack) throw new Error("Pulumi.prod.yaml has no glue-data-pipeline:promotion.fromStack; the bootstrap's organization is read from it");
    const organization = fromStack.split("/")[0];

    installMocks(project, stack, organization);
    const pulumi = await import("@pulumi/pulumi");
    pulumi.runtime.setAllConfig(rawConfig);
    const yamlParse = (text: string) => yaml.load(text);
    const { parseBootstrapConfig } = await import("../stacks/bootstrapConfig");
    const { createBootstrap, readRepoFile } = await import("../stacks/bootstrap");
    // The repository as the bootstrap reads it, the workload stack file replaced when one is given.
    const read = (relativePath: string) => (workloadStackFile && relativePath === `Pulumi.${stack}.yaml` ? fs.readFileSync(workloadStackFile, "utf8") : readRepoFile(relativePath));
    const config = parseBootstrapConfig(stack, organization, rawConfig, read, yamlParse);
    const target = config.kind === "pipeline" ? { accountId: config.accountId, region: config.region } : { accountId: config.workload.accountId, region: config.workload.region };
    setMockEnvironment(target);

    const { resources, outputs } = await runProgram(async () => createBootstrap(config, read, yamlParse).outputs);
    return { project, stack, resources, outputs, notes: [] };
}

function summarise(result: SynthResult): string {
    const counts = new Map<string, number>();
    for (const r of result.resources) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
    const width = Math.max(...[...counts.keys()].map((k) => k.length));
    const lines = [...counts.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([type, n]) => `  ${type.padEnd(width)}  ${n}`);
    return [
        `stack ${result.project}/${result.stack}: ${result.resources.length} resources (offline synth under Pulumi mocks; nothing was deployed)`,
        ...result.notes.map((n) => `  note: ${n}`),
        ...lines,
    ].join("\n");
}

function parseArgs(argv: string[]): { stack: string; project?: "workload" | "bootstrap"; json?: string; promotionOutputs?: Record<string, unknown> | null; stackFile?: string } {
    let stack: string | undefined;
    let project: "workload" | "bootstrap" | undefined;
    let json: string | undefined;
    let promotionOutputs: Record<string, unknown> | null | undefined;
    let stackFile: string | undefined;
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const next = () => {
            const v = argv[++i];
            if (v === undefined) throw new Error(`${arg} needs a value`);
            return v;
        };
        if (arg === "--stack") stack = next();
        else if (arg === "--json") json = next();
        else if (arg === "--stack-file") stackFile = next();
        else if (arg === "--project") {
            const v = next();
            if (v !== "workload" && v !== "bootstrap") throw new Error(`--project must be workload or bootstrap, got ${v}`);
            project = v;
        }
        else if (arg === "--promotion-outputs") {
            const v = next();
            promotionOutputs = v === "none" ? null : JSON.parse(fs.readFileSync(v, "utf8"));
        } else throw new Error(`unknown argument ${arg}; usage: npm run synth -- --stack dev|prod [--json FILE] [--promotion-outputs FILE|none] [--stack-file FILE] | --project bootstrap --stack pipeline|dev|prod [--json FILE] [--stack-file FILE]`);
    }
    if (!stack) throw new Error("--stack is required; usage: npm run synth -- --stack dev|prod [--json FILE]");
    return { stack, project, json, promotionOutputs, stackFile };
}

if (require.main === module) {
    (async () => {
        const args = parseArgs(process.argv.slice(2));
        const result = await synth(args);
        console.log(summarise(result));
        if (args.json) {
            fs.writeFileSync(args.json, JSON.stringify(result, null, 2));
            console.log(`graph written to ${args.json}`);
        }
    })().catch((err) => {
        console.error(`synth failed: ${programErrorMessage(err)}`);
        process.exit(1);
    });
}
