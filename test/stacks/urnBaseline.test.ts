/**
 * An existing stack sees no replacement: every resource of the seven synthesized graphs (dev, prod, the
 * warehouse-enabled dev and the four bootstrap stacks) still answers to the URN it had in the recorded
 * baseline — its own URN, or one its aliases give it as the engine resolves them — and every physical name
 * (a bucket, role, function, table... given an explicit name) is the one it was.
 *
 * Why both: Pulumi replaces a resource whose URN it cannot match to state (a rename or a new parent without
 * an alias), and AWS replaces one whose physical name changes even when the URN matches.
 *
 * The baseline (urnBaseline.json) is today's graph. Re-record it only for an intended change:
 * `UPDATE_URN_BASELINE=1 npx mocha test/stacks/urnBaseline.test.ts` — new resources appear as additions,
 * and a resource meant to go away must be listed under `removed` with the reason, or the test fails.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { SynthResult } from "../../scripts/synth";
import { type GraphName, loadGraphs } from "../access/graphs";

const BASELINE = path.join(__dirname, "urnBaseline.json");
type Resource = SynthResult["resources"][number];

interface GraphBaseline {
    readonly urns: string[];
    readonly physicalNames: string[];
}
interface Baseline {
    readonly graphs: Record<string, GraphBaseline>;
    /** URN → why the resource was removed on purpose (it is deleted, not replaced, by the next `pulumi up`). */
    readonly removed: Record<string, string>;
}

const STACK_PREFIX = /^urn:pulumi:([^:]+)::([^:]+)::/;

/** `urn:pulumi:<stack>::<project>::<parent types$type>::<name>` for a resource under `parentUrn` ("" = root). */
function urnOf(name: string, type: string, parentUrn: string, root: string): string {
    if (!parentUrn || parentUrn.split("::")[2] === "pulumi:pulumi:Stack") return `${root}${type}::${name}`;
    return `${parentUrn.slice(0, parentUrn.lastIndexOf("::"))}$${type}::${name}`;
}

const nameOf = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);

/**
 * Every URN a resource answers to, in the engine's form, keyed by the resource's recorded URN: its own, each
 * alias of its own (spec fields default to the resource's name, type and parent), and each of those again under
 * every URN its parent answers to (a child whose name starts with its parent's name follows a parent rename, as
 * the SDK's `inheritedChildAlias` does).
 *
 * Why not the recorded URNs: the SDK's mock monitor names a child with only its parent's last type
 * (`Parent$Child`), while the engine prefixes the parent's whole type chain (`Grandparent$Parent$Child`). The
 * two agree up to one level of nesting and part below it, so the URNs here are rebuilt from the parent chain as
 * the engine builds them, and aliases naming a parent by its recorded URN are mapped to that parent's.
 */
function answersTo(graph: SynthResult): Map<string, Set<string>> {
    const byUrn = new Map(graph.resources.map((r) => [r.urn, r]));
    const root = graph.resources[0].urn.match(STACK_PREFIX)![0];
    const engineUrns = new Map<string, string>();
    const engineUrn = (r: Resource): string => {
        let urn = engineUrns.get(r.urn);
        if (urn === undefined) {
            const parent = r.parent ? byUrn.get(r.parent) : undefined;
            urn = urnOf(r.name, r.type, parent ? engineUrn(parent) : r.parent, root);
            engineUrns.set(r.urn, urn);
        }
        return urn;
    };
    const parentByRecordedUrn = (urn: string): string => {
        const parent = byUrn.get(urn);
        return parent ? engineUrn(parent) : urn;
    };
    const memo = new Map<string, Set<string>>();
    const resolve = (r: Resource): Set<string> => {
        const known = memo.get(r.urn);
        if (known) return known;
        const parent = r.parent ? byUrn.get(r.parent) : undefined;
        const parentUrns = parent ? [...resolve(parent)] : [r.parent];
        const out = new Set<string>([engineUrn(r)]);
        const own = [{ name: r.name, type: r.type }, ...r.aliases];
        for (const alias of own) {
            if (alias.urn) {
                out.add(alias.urn);
                continue;
            }
            const type = alias.type ?? r.type;
            if (alias.noParent || alias.parentUrn) {
                out.add(urnOf(alias.name ?? r.name, type, alias.noParent ? "" : parentByRecordedUrn(alias.parentUrn!), root));
                continue;
            }
            for (const parentUrn of parentUrns) {
                let name = alias.name ?? r.name;
                if (parent && parentUrn !== engineUrn(parent) && name.startsWith(parent.name)) name = nameOf(parentUrn) + name.slice(parent.name.length);
                out.add(urnOf(name, type, parentUrn, root));
            }
        }
        memo.set(r.urn, out);
        return out;
    };
    return new Map(graph.resources.map((r) => [r.urn, resolve(r)]));
}

/** Each resource's URN as the engine names it (the first of the URNs it answers to). */
const byUrnOf = (graph: SynthResult) => new Map(graph.resources.map((r) => [r.urn, r]));

function engineUrnsOf(graph: SynthResult): string[] {
    return [...answersTo(graph).values()].map((set) => [...set][0]).sort();
}

/** `type physical-name` of every resource given an explicit name (what AWS would replace it for changing). */
function physicalNames(graph: SynthResult): string[] {
    return graph.resources
        .filter((r) => !r.component && !r.type.startsWith("pulumi:"))
        .map((r) => [r.type, r.inputs.bucket ?? r.inputs.name ?? r.inputs.namePrefix] as const)
        .filter(([, name]) => typeof name === "string")
        .map(([type, name]) => `${type} ${name}`)
        .sort();
}

describe("existing stacks: URNs and physical names against the recorded baseline", function () {
    this.timeout(600_000);
    let graphs: Record<GraphName, SynthResult>;
    let baseline: Baseline;

    before(async () => {
        graphs = await loadGraphs();
        if (process.env.UPDATE_URN_BASELINE) {
            const previous: Baseline | undefined = fs.existsSync(BASELINE) ? JSON.parse(fs.readFileSync(BASELINE, "utf8")) : undefined;
            const next: Baseline = {
                graphs: Object.fromEntries(
                    Object.entries(graphs).map(([name, g]) => [name, { urns: engineUrnsOf(g), physicalNames: physicalNames(g) }]),
                ),
                removed: previous?.removed ?? {},
            };
            fs.writeFileSync(BASELINE, `${JSON.stringify(next, null, 1)}\n`);
        }
        baseline = JSON.parse(fs.readFileSync(BASELINE, "utf8"));
    });

    it("the baseline covers the seven graphs", () => {
        assert.deepEqual(Object.keys(baseline.graphs).sort(), Object.keys(graphs).sort());
    });

    for (const name of ["dev", "prod", "warehouse", "bootstrap-pipeline", "bootstrap-dev", "bootstrap-prod", "bootstrap-warehouse"] as GraphName[]) {
        it(`${name}: every recorded URN is answered by exactly one resource (or removed on purpose)`, () => {
            const answers = answersTo(graphs[name]);
            const claimedBy = new Map<string, string[]>();
            for (const [urn, set] of answers) for (const old of set) claimedBy.set(old, [...(claimedBy.get(old) ?? []), urn]);
            const lost = baseline.graphs[name].urns.filter((urn) => !claimedBy.has(urn) && !(urn in baseline.removed));
            assert.deepEqual(lost, [], `${name}: these resources would be replaced or deleted by the next pulumi up (no resource has their URN or an alias to it)`);
            const shared = baseline.graphs[name].urns.filter((urn) => (claimedBy.get(urn)?.length ?? 0) > 1);
            assert.deepEqual(shared, [], `${name}: two resources claim the same old URN`);
        });

        it(`${name}: every physical name is unchanged`, () => {
            const now = new Set(physicalNames(graphs[name]));
            const gone = baseline.graphs[name].physicalNames.filter((n) => !now.has(n));
            assert.deepEqual(gone, [], `${name}: these physical names changed or vanished (AWS would create a new resource)`);
        });
    }

    it("builds each URN as the Pulumi SDK's own createUrn does from the parent's URN (the engine's form, not ours)", async () => {
        const dev = graphs.dev;
        const byUrn = byUrnOf(dev);
        const answers = answersTo(dev);
        const engine = (r: Resource) => [...answers.get(r.urn)!][0];
        // Nested at least two deep, where the mock monitor's URNs and the engine's differ.
        const nested = dev.resources.filter((r) => r.parent && byUrn.get(r.parent)?.parent);
        assert.ok(nested.length > 20, `${nested.length} resources nested two deep`);
        for (const r of nested) {
            const sdk = await (pulumi.createUrn(r.name, r.type, engine(byUrn.get(r.parent)!)) as any).promise();
            assert.equal(engine(r), sdk, r.urn);
        }
    });

    it("a moved resource without an alias is caught (the check can fail)", () => {
        const dev = graphs.dev;
        const victim = dev.resources.find((r) => r.type === "aws:s3/bucket:Bucket" && r.parent && byUrnOf(dev).get(r.parent)?.parent)!;
        const moved = { ...dev, resources: dev.resources.map((r) => (r === victim ? { ...r, urn: urnOf(r.name, r.type, "", "urn:pulumi:dev::glue-data-pipeline::"), parent: "", aliases: [] } : r)) };
        const before = [...answersTo(dev).get(victim.urn)!][0];
        const answered = new Set([...answersTo(moved).values()].flatMap((s) => [...s]));
        assert.equal(answered.has(before), false);
        const aliased = { ...moved, resources: moved.resources.map((r) => (r.name === victim.name && r.type === victim.type ? { ...r, aliases: [{ parentUrn: victim.parent }] } : r)) };
        const answeredWithAlias = new Set([...answersTo(aliased).values()].flatMap((s) => [...s]));
        assert.equal(answeredWithAlias.has(before), true);
    });
});
