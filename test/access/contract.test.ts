/**
 * The access contract (test/access/contract.ts) evaluated by @cloud-copilot/iam-simulate on the synthesized
 * dev, prod and bootstrap graphs (and dev with the claims warehouse enabled, with its bootstrap): every
 * request gets the answer AWS must give. A failure prints the
 * evaluator's analysis (which statements decided). docs/deploy.md's "Who can do what" is checked against the
 * same list, so the document cannot drift from what is proven.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { CONTRACT } from "./contract";
import { Graphs, loadGraphs } from "./graphs";
import { isWildcardOnlyAction } from "@cloud-copilot/iam-simulate";
import { decide } from "./simulate";

const ROOT = path.resolve(__dirname, "../..");
const REGION = "eu-west-1";

/** The generated "Who can do what" section: one line per contract request, grouped by principal kind. */
export function whoCanDoWhat(): string {
    const groups = new Map<string, string[]>();
    for (const r of CONTRACT) {
        const lines = groups.get(r.who) ?? [];
        lines.push(`| ${r.expect === "allow" ? "allowed" : "**denied**"} | ${r.title.replace(/\|/g, "\\|")} |`);
        groups.set(r.who, lines);
    }
    return [...groups.entries()].map(([who, lines]) => [`### ${who}`, "", "| answer | request |", "|---|---|", ...lines].join("\n")).join("\n\n");
}

const BEGIN = "<!-- access-contract:begin (generated from test/access/contract.ts: UPDATE_ACCESS_DOC=1 npx mocha test/access/contract.test.ts) -->";
const END = "<!-- access-contract:end -->";

describe("the access contract, by an independent IAM evaluator, on the dev, prod, warehouse and bootstrap graphs", function () {
    this.timeout(600_000);
    let graphs: Graphs;
    before(async () => {
        graphs = await loadGraphs();
    });

    it("has unique request titles", () => {
        const titles = CONTRACT.map((r) => r.title);
        assert.deepEqual(titles.filter((t, i) => titles.indexOf(t) !== i), []);
    });

    for (const request of CONTRACT) {
        it(`${request.expect === "allow" ? "allows" : "denies"}: ${request.title}${request.defect ? ` (defect ${request.defect})` : ""}`, async () => {
            const answer = await decide(request.question(graphs));
            const got = answer.decision === "allow" ? "allow" : "deny";
            assert.equal(got, request.expect, `${answer.decision}; analysis: ${JSON.stringify(answer.analysis).slice(0, 4000)}`);
        });
    }

    // Defect 4's Resource-"*"-only requests, asked again with the actions granted on the service's ARNs (the
    // form before the fix): refused, so these requests are the ones that tell the two apart.
    for (const request of CONTRACT.filter((r) => r.defect === 4 && r.title.includes('Resource "*" only'))) {
        it(`refuses, granted on an ARN instead of "*": ${request.title}`, async () => {
            const q = request.question(graphs);
            const [service, name] = q.action.split(":");
            assert.ok(await isWildcardOnlyAction(service, name), `${q.action} has a resource type in AWS's data`);
            const onArns = (q.identity ?? []).map((doc: any) => ({
                ...doc,
                Statement: doc.Statement.map((st: any) =>
                    [st.Resource].flat().includes("*") && [st.Action].flat().includes(q.action)
                        ? { ...st, Resource: `arn:aws:${service}:${REGION}:${q.resourceAccount}:*` }
                        : st,
                ),
            }));
            assert.notEqual((await decide({ ...q, identity: onArns })).decision, "allow");
        });
    }

    it("is what docs/deploy.md says about who can do what", () => {
        const doc = fs.readFileSync(path.join(ROOT, "docs/deploy.md"), "utf8");
        const start = doc.indexOf(BEGIN);
        const end = doc.indexOf(END);
        assert.ok(start >= 0 && end > start, `docs/deploy.md has no ${BEGIN} … ${END} block`);
        const current = doc.slice(start + BEGIN.length, end).trim();
        if (process.env.UPDATE_ACCESS_DOC === "1") {
            fs.writeFileSync(path.join(ROOT, "docs/deploy.md"), doc.slice(0, start + BEGIN.length) + "\n\n" + whoCanDoWhat() + "\n\n" + doc.slice(end));
            return;
        }
        assert.equal(current, whoCanDoWhat(), "regenerate with UPDATE_ACCESS_DOC=1 npx mocha test/access/contract.test.ts");
    });
});
