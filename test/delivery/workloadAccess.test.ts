/**
 * The workload stacks against the access the bootstrap gives them, on the offline synth of the real
 * program and stack files: every role the stack creates carries the bootstrap's boundary (or the deploy role
 * could not create it), every permission those roles get fits inside the boundary (or attaching it would
 * break them), and every resource type is one the deploy role may manage (or `pulumi up` would be denied).
 * A new resource type or permission in any flow fails here until the delivery policies cover it.
 */
import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as yaml from "js-yaml";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { deployStatementFor, workloadBoundaryPolicy } from "../../components/delivery/deployRoles";
import type { PolicyStatement } from "../../components/iam/iamPolicies";
import type { SynthResult } from "../../scripts/synth";
import { PROJECT } from "../../stacks/config";
import { asList, statementsOf } from "../support/graph";
import { evaluate } from "../access/simulate";

const ROOT = path.resolve(__dirname, "../..");
const run = promisify(execFile);

async function synth(stack: string): Promise<SynthResult> {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "synth-access-")), `${stack}.json`);
    await run(path.join(ROOT, "node_modules/.bin/ts-node"), ["--transpile-only", "scripts/synth.ts", "--stack", stack, "--json", out], { cwd: ROOT });
    return JSON.parse(fs.readFileSync(out, "utf8"));
}

function stackConfig(stack: string): Record<string, any> {
    return (yaml.load(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as any).config;
}

for (const stack of ["dev", "prod"]) {
    describe(`the ${stack} stack within the bootstrap's access`, function () {
        this.timeout(180_000);
        let graph: SynthResult;
        const config = stackConfig(stack);
        const boundaryArn: string = config["glue-data-pipeline:permissionsBoundaryArn"];
        const boundary = workloadBoundaryPolicy({
            partition: "aws",
            region: config["aws:region"],
            accountId: config["glue-data-pipeline:accountId"],
            project: PROJECT,
            stage: config["glue-data-pipeline:stage"],
            boundaryArn,
            allowDataDestroy: config["glue-data-pipeline:allowDataDestroy"] === true,
        });

        before(async () => {
            graph = await synth(stack);
        });

        it("puts the bootstrap's permissions boundary on every role it creates", async () => {
            const roles = graph.resources.filter((r) => r.type === "aws:iam/role:Role");
            assert.ok(roles.length >= 2, `only ${roles.length} roles`);
            const unbounded = roles.filter((r) => r.inputs.permissionsBoundary !== boundaryArn).map((r) => `${r.name}: ${r.inputs.permissionsBoundary}`);
            assert.deepEqual(unbounded, []);
        });

        it("creates only resource types the deploy role may manage", async () => {
            const types = [...new Set(graph.resources.filter((r) => r.type.startsWith("aws:")).map((r) => r.type))];
            const uncovered = types.filter((t) => deployStatementFor(t) === undefined);
            assert.deepEqual(uncovered, [], "extend DEPLOY_POLICY_COVERAGE and the deploy policy in components/delivery/deployRoles.ts");
        });

        it("gives its roles no permission the boundary would cut", async () => {
            const outside: string[] = [];
            const unaskable: string[] = [];
            for (const r of graph.resources.filter((x) => x.type === "aws:iam/rolePolicy:RolePolicy")) {
                for (const s of statementsOf(r.inputs.policy) as PolicyStatement[]) {
                    if (s.Effect !== "Allow") continue;
                    for (const action of asList(s.Action)) {
                        // A statement may list resources of several types for several actions (the Glue catalog
                        // reads name catalog, database and table ARNs): each action is asked on the resources of
                        // a type it accepts, and must have at least one.
                        let asked = 0;
                        for (const resource of asList(s.Resource)) {
                            // Every resource a workload role names is the stack's own, tagged by the provider's default tags.
                            const decision = await evaluate([boundary], { action, resource, resourceTags: { Project: PROJECT } }).catch((e: Error) => {
                                if (/not a valid request/.test(e.message)) return undefined;
                                throw e;
                            });
                            if (decision === undefined) continue;
                            asked++;
                            if (decision !== "allow") outside.push(`${r.name}: ${action} on ${resource}`);
                        }
                        if (asked === 0) unaskable.push(`${r.name}: ${action} on none of ${asList(s.Resource).join(", ")}`);
                    }
                }
            }
            assert.deepEqual(unaskable, [], "an action granted on no resource of a type it accepts grants nothing");
            assert.deepEqual(outside, [], "widen workloadBoundaryPolicy (components/delivery/deployRoles.ts) or narrow the role");
        });

        it("attaches no managed policy whose content the boundary check cannot see", async () => {
            const attachments = graph.resources.filter((r) => r.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment").map((r) => `${r.name}: ${r.inputs.policyArn}`);
            const managed = graph.resources.filter((r) => r.type === "aws:iam/role:Role" && asList(r.inputs.managedPolicyArns).length > 0).map((r) => r.name);
            assert.deepEqual([...attachments, ...managed], []);
        });
    });
}
