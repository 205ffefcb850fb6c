/**
 * The policy pack (policy/) run offline, the way the engine runs it: each policy's `validateStack` called
 * with a StackValidationArgs built from a synthesized graph, violations collected from `reportViolation`.
 * The real graphs of dev, prod and the bootstrap stacks pass every policy; a graph broken in one place
 * fails exactly the policy that guards that place, on the resource that was broken.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import type { PolicyResource, StackValidationArgs } from "@pulumi/policy";
import type { SynthResult } from "../../scripts/synth";
import { BOOTSTRAP_IAM_PATH as COMPONENTS_BOOTSTRAP_PATH } from "../../components/delivery/deployRoles";
import { BOOTSTRAP_IAM_PATH, INVARIANTS } from "../../policy/invariants";
import { POLICIES } from "../../policy/policies";
import { ALL_GRAPHS, synthOnce } from "../support/synthGraphs";

const ROOT = path.resolve(__dirname, "../..");

type Graph = SynthResult;

/** The graph's resources as the engine hands them to a stack policy. */
function policyResources(graph: Graph): PolicyResource[] {
    const byUrn = new Map(graph.resources.map((r) => [r.urn, r]));
    const out = new Map<string, PolicyResource>();
    for (const r of graph.resources) {
        const providerUrn = r.provider ? r.provider.slice(0, r.provider.lastIndexOf("::")) : "";
        const provider = providerUrn ? byUrn.get(providerUrn) : undefined;
        out.set(r.urn, {
            type: r.type,
            name: r.name,
            urn: r.urn,
            props: r.inputs,
            opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [], parent: r.parent || undefined },
            provider: providerUrn ? { type: provider?.type ?? "pulumi:providers:aws", name: provider?.name ?? "", urn: providerUrn, props: provider?.inputs ?? {} } : undefined,
            dependencies: [],
            propertyDependencies: {},
            isType: () => false,
            asType: () => undefined,
        });
    }
    return [...out.values()];
}

/** Runs every policy of the pack on a graph: policy name → the URNs and messages it reported. */
async function runPack(graph: Graph): Promise<Record<string, Array<{ urn?: string; message: string }>>> {
    const args: StackValidationArgs = {
        resources: policyResources(graph),
        stackTags: new Map(),
        getConfig: <T extends object>() => ({}) as T,
        notApplicable: (reason?: string): never => {
            throw new Error(`not applicable: ${reason}`);
        },
    };
    const violations: Record<string, Array<{ urn?: string; message: string }>> = {};
    for (const policy of POLICIES) {
        const found: Array<{ urn?: string; message: string }> = [];
        await policy.validateStack(args, (message, urn) => found.push({ message, urn }));
        if (found.length) violations[policy.name] = found;
    }
    return violations;
}

const clone = (graph: Graph): Graph => JSON.parse(JSON.stringify(graph));
const find = (graph: Graph, predicate: (r: Graph["resources"][number]) => boolean) => {
    const r = graph.resources.find(predicate);
    if (!r) throw new Error("test setup: no such resource in the graph");
    return r;
};

describe("policy pack", function () {
    this.timeout(300_000);

    it("is a Pulumi policy pack of Node.js whose every policy is mandatory and one invariant each", () => {
        const manifest = yaml.load(fs.readFileSync(path.join(ROOT, "policy/PulumiPolicy.yaml"), "utf8")) as Record<string, unknown>;
        assert.equal(manifest.runtime, "nodejs");
        // PolicyPack reads its version from the pack's package.json.
        assert.match(JSON.parse(fs.readFileSync(path.join(ROOT, "policy/package.json"), "utf8")).version, /^\d+\.\d+\.\d+$/);
        assert.deepEqual(POLICIES.map((p) => p.name), INVARIANTS.map((i) => i.name));
        for (const p of POLICIES) {
            assert.equal(p.enforcementLevel, "mandatory", p.name);
            assert.match(p.name, /^[a-z0-9-]+$/, "policy names are kebab-case");
        }
        assert.equal(new Set(POLICIES.map((p) => p.name)).size, POLICIES.length, "policy names are unique");
        assert.equal(BOOTSTRAP_IAM_PATH, COMPONENTS_BOOTSTRAP_PATH, "the exemption is the bootstrap's real path");
    });

    for (const [project, stack] of ALL_GRAPHS) {
        it(`passes every policy on the synthesized ${project} graph of ${stack}`, async () => {
            const { graph } = await synthOnce(project, stack);
            assert.ok(graph.resources.length > 5);
            const violations = await runPack(graph);
            assert.deepEqual(violations, {});
        });
    }

    describe("on a dev graph broken in one place, fails exactly the policy that guards it", () => {
        let dev: Graph;
        before(async () => {
            dev = (await synthOnce("workload", "dev")).graph;
        });

        const INPUT = (r: Graph["resources"][number]) => r.type === "aws:s3/bucket:Bucket" && /^glue-input-/.test(r.inputs.bucket);
        const broken: Array<[string, string, (g: Graph) => string]> = [
            ["a bucket without default encryption", "s3-bucket-encrypted", (g) => {
                const bucket = find(g, INPUT);
                (g as { resources: Graph["resources"] }).resources = g.resources.filter((r) => !(r.type.includes("bucketServerSideEncryptionConfiguration") && r.inputs.bucket === bucket.inputs.bucket));
                return bucket.urn;
            }],
            ["a bucket that lets a public policy through", "s3-bucket-public-access-blocked", (g) => {
                const bucket = find(g, INPUT);
                find(g, (r) => r.type.includes("bucketPublicAccessBlock") && r.inputs.bucket === bucket.inputs.bucket).inputs.blockPublicPolicy = false;
                return bucket.urn;
            }],
            ["a bucket policy without the TLS deny", "s3-bucket-tls-only", (g) => {
                const bucket = find(g, INPUT);
                const policy = find(g, (r) => r.type === "aws:s3/bucketPolicy:BucketPolicy" && r.inputs.bucket === bucket.inputs.bucket);
                const doc = JSON.parse(policy.inputs.policy);
                doc.Statement = doc.Statement.filter((s: any) => s.Condition?.Bool?.["aws:SecureTransport"] === undefined);
                policy.inputs.policy = JSON.stringify(doc);
                return bucket.urn;
            }],
            ["a bucket with ACLs enabled", "s3-bucket-owner-enforced", (g) => {
                const bucket = find(g, INPUT);
                find(g, (r) => r.type.includes("bucketOwnershipControls") && r.inputs.bucket === bucket.inputs.bucket).inputs.rule = { objectOwnership: "ObjectWriter" };
                return bucket.urn;
            }],
            ["a role policy allowing s3:GetObject on *", "iam-no-data-plane-allow-on-star", (g) => {
                const policy = find(g, (r) => r.type === "aws:iam/rolePolicy:RolePolicy");
                const doc = JSON.parse(policy.inputs.policy);
                doc.Statement.push({ Effect: "Allow", Action: "s3:GetObject", Resource: "*" });
                policy.inputs.policy = JSON.stringify(doc);
                return policy.urn;
            }],
            ["a role without the boundary", "iam-role-permissions-boundary", (g) => {
                const role = find(g, (r) => r.type === "aws:iam/role:Role");
                delete role.inputs.permissionsBoundary;
                return role.urn;
            }],
            ["a role escaping the boundary by claiming the bootstrap's name but not its path", "iam-role-permissions-boundary", (g) => {
                const role = find(g, (r) => r.type === "aws:iam/role:Role");
                delete role.inputs.permissionsBoundary;
                role.inputs.name = "glue-data-pipeline-bootstrap-lookalike";
                return role.urn;
            }],
            ["a log group kept forever", "cloudwatch-log-retention", (g) => {
                const group = find(g, (r) => r.type === "aws:cloudwatch/logGroup:LogGroup");
                delete group.inputs.retentionInDays;
                return group.urn;
            }],
            ["a resource tagged over the provider's CostCenter with an empty value", "aws-required-tags", (g) => {
                const fn = find(g, (r) => r.type === "aws:lambda/function:Function");
                fn.inputs.tags = { ...(fn.inputs.tags ?? {}), CostCenter: "" };
                return fn.urn;
            }],
            // The default provider also has no default tags: the tags policy fails with it (checked below).
            ["a resource on the default provider", "aws-explicit-provider", (g) => {
                const queue = find(g, (r) => r.type === "aws:sqs/queue:Queue");
                (queue as any).provider = "urn:pulumi:dev::glue-data-pipeline::pulumi:providers:aws::default_7_48_0::id";
                return queue.urn;
            }],
        ];
        for (const [title, policy, breakIt] of broken) {
            it(`${title} → ${policy}`, async () => {
                const g = clone(dev);
                const urn = breakIt(g);
                const violations = await runPack(g);
                const expected = policy === "aws-explicit-provider" ? ["aws-explicit-provider", "aws-required-tags"] : [policy];
                assert.deepEqual(Object.keys(violations).sort(), expected.sort(), JSON.stringify(violations, null, 1));
                assert.ok(violations[policy].some((v) => v.urn === urn), `reported on ${violations[policy].map((v) => v.urn)}, expected ${urn}`);
            });
        }

        it("a bucket policy still unknown in a preview (new bucket) is judged at pulumi up, not failed", async () => {
            const g = clone(dev);
            const bucket = find(g, INPUT);
            delete find(g, (r) => r.type === "aws:s3/bucketPolicy:BucketPolicy" && r.inputs.bucket === bucket.inputs.bucket).inputs.policy;
            assert.deepEqual(await runPack(g), {});
        });

        it("a provider without default tags fails the tags policy on every taggable resource", async () => {
            const g = clone(dev);
            const provider = find(g, (r) => r.type === "pulumi:providers:aws");
            delete provider.inputs.defaultTags;
            const violations = await runPack(g);
            assert.deepEqual(Object.keys(violations), ["aws-required-tags"]);
            assert.ok(violations["aws-required-tags"].length >= 30, `${violations["aws-required-tags"].length} violations`);
        });
    });
});
