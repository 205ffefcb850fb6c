/**
 * The pull-request preview's two pieces of logic, kept out of the workflow's YAML so they are tested:
 *
 *   ts-node scripts/prPreview.ts config --stack dev --out .preview/Pulumi.dev.yaml
 *       writes the stack file with its ESC import `glue-data-pipeline/<stack>` (deploy credentials) replaced
 *       by `glue-data-pipeline/<stack>-preview` (a role with no permissions), for `pulumi preview --config-file`:
 *       a pull request never opens the deploy credentials.
 *
 *   ts-node scripts/prPreview.ts report --dir .preview --base main --sha <sha> --out .preview/comment.md
 *       reads <dir>/<stack>.log and <dir>/<stack>.exit for dev and prod, writes the one pull-request comment
 *       (edited on every push; found again by its marker), and exits 1 when the previews say the pull request
 *       must not merge.
 *
 * Verdict: dev must preview cleanly. Prod must too on a promotion pull request (into `release`); on a pull
 * request into `main`, prod refusing because dev has not deployed the new code yet is the promotion contract
 * working, reported as such, not a failure.
 */
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..");
export const PROJECT = "glue-data-pipeline";
export const COMMENT_MARKER = "<!-- glue-data-pipeline:preview -->";
export const STACKS = ["dev", "prod"] as const;
export const PROMOTION_BRANCH = "release";
/** GitHub refuses comments over 65,536 characters; each stack's log gets at most this much (its tail). */
export const MAX_LOG_CHARS = 28_000;

/** The stack file's text with the deploy environment import swapped for the preview environment. */
export function previewStackFile(stack: string, text: string): string {
    const doc = (yaml.load(text) ?? {}) as { environment?: unknown };
    const deploy = `${PROJECT}/${stack}`;
    const imports = doc.environment;
    if (!Array.isArray(imports) || !imports.includes(deploy)) {
        throw new Error(`Pulumi.${stack}.yaml does not import ${deploy}; nothing to swap for the preview environment`);
    }
    doc.environment = imports.map((e) => (e === deploy ? `${deploy}-preview` : e));
    return yaml.dump(doc, { lineWidth: -1 });
}

export type PreviewOutcome = "succeeded" | "failed" | "refused-by-promotion" | "not-run";

export interface StackPreview {
    readonly stack: string;
    readonly outcome: PreviewOutcome;
    readonly log: string;
}

/** Classifies one preview from its exit code and output. */
export function classify(stack: string, exitCode: number | undefined, log: string): StackPreview {
    if (exitCode === undefined) return { stack, outcome: "not-run", log };
    if (exitCode === 0) return { stack, outcome: "succeeded", log };
    return { stack, outcome: /PromotionError/.test(log) ? "refused-by-promotion" : "failed", log };
}

/** Whether the pull request may merge, given its base branch and both previews. */
export function verdict(base: string, previews: readonly StackPreview[]): { ok: boolean; reasons: string[] } {
    const reasons: string[] = [];
    for (const p of previews) {
        if (p.outcome === "succeeded") continue;
        if (p.outcome === "refused-by-promotion" && p.stack !== "dev" && base !== PROMOTION_BRANCH) continue;
        reasons.push(
            p.outcome === "refused-by-promotion"
                ? `${p.stack}: the promotion contract refused it; deploy dev from main first, then open the promotion again`
                : `${p.stack}: preview ${p.outcome === "not-run" ? "did not run" : "failed"}`,
        );
    }
    return { ok: reasons.length === 0, reasons };
}

const SUMMARY: Record<PreviewOutcome, string> = {
    succeeded: ":white_check_mark: previewed",
    failed: ":x: preview failed",
    "refused-by-promotion": ":lock: refused by the promotion contract",
    "not-run": ":warning: preview did not run",
};

function tail(log: string, max = MAX_LOG_CHARS): string {
    const clean = log.replace(/\u001b\[[0-9;]*m/g, "");
    return clean.length <= max ? clean : `… (${clean.length - max} earlier characters cut)\n${clean.slice(-max)}`;
}

/** The comment body: marker first, one section per stack, the verdict last. */
export function renderComment(base: string, sha: string, previews: readonly StackPreview[]): string {
    const v = verdict(base, previews);
    const lines = [
        COMMENT_MARKER,
        `### \`pulumi preview\` of ${PROJECT} at ${sha.slice(0, 12)} (into \`${base}\`)`,
        "",
        "Previews run with the `<stack>-preview` ESC environments: credentials that can read nothing and change nothing.",
        "",
        "| stack | result |",
        "|---|---|",
        ...previews.map((p) => `| ${p.stack} | ${SUMMARY[p.outcome]} |`),
        "",
    ];
    for (const p of previews) {
        if (p.outcome === "refused-by-promotion" && base !== PROMOTION_BRANCH) {
            lines.push(`> ${p.stack} deploys only what dev has deployed: it will preview cleanly once this is merged and dev has deployed it.`, "");
        }
        lines.push(`<details><summary>${p.stack}: ${SUMMARY[p.outcome]}</summary>`, "", "```", tail(p.log) || "(no output)", "```", "", "</details>", "");
    }
    lines.push(v.ok ? "**Mergeable as far as the previews are concerned.**" : `**Not mergeable:** ${v.reasons.join("; ")}.`);
    return lines.join("\n");
}

function readPreview(dir: string, stack: string): StackPreview {
    const logFile = path.join(dir, `${stack}.log`);
    const exitFile = path.join(dir, `${stack}.exit`);
    const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8") : "";
    const code = fs.existsSync(exitFile) ? Number.parseInt(fs.readFileSync(exitFile, "utf8").trim(), 10) : undefined;
    return classify(stack, Number.isNaN(code) ? undefined : code, log);
}

function option(args: string[], name: string): string {
    const i = args.indexOf(`--${name}`);
    if (i < 0 || args[i + 1] === undefined) throw new Error(`--${name} is required`);
    return args[i + 1];
}

if (require.main === module) {
    const [command, ...args] = process.argv.slice(2);
    try {
        if (command === "config") {
            const stack = option(args, "stack");
            const out = option(args, "out");
            const text = fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8");
            fs.mkdirSync(path.dirname(out), { recursive: true });
            fs.writeFileSync(out, previewStackFile(stack, text));
        } else if (command === "report") {
            const dir = option(args, "dir");
            const base = option(args, "base");
            const previews = STACKS.map((s) => readPreview(dir, s));
            fs.writeFileSync(option(args, "out"), renderComment(base, option(args, "sha"), previews));
            const v = verdict(base, previews);
            for (const r of v.reasons) console.error(`preview: ${r}`);
            process.exitCode = v.ok ? 0 : 1;
        } else {
            throw new Error("usage: prPreview.ts config --stack S --out F | report --dir D --base B --sha SHA --out F");
        }
    } catch (err) {
        console.error(`prPreview: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(2);
    }
}
