/**
 * The bootstrap's access rules with and without the claims warehouse (DeployRoles under mocks): an account
 * whose stack file sets `claims.warehouse` gets a fourth deploy policy (the warehouse's statements), the
 * boundary's warehouse statements and PassRole to Redshift; any other account keeps exactly the resources and
 * documents it had. Each policy stays within IAM's 6,144-character limit.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { WAREHOUSE_SERVICE_PRINCIPALS } from "../../components/claims/claimsWarehouseAccess";
import type * as DeployRolesModule from "../../components/delivery/deployRoles";
import { named, ofType, resetRecorded, statementsOf, waitForRegistrations } from "../support/graph";
import { recordedResources } from "../../scripts/offline/pulumiMocks";

const ACCOUNT = "111111111111";
const args = (claimsWarehouse?: boolean): DeployRolesModule.DeployRolesArgs => ({
    organization: "acme",
    project: "glue-data-pipeline",
    stack: "dev",
    accountId: ACCOUNT,
    region: "eu-west-1",
    oidcProviderArn: `arn:aws:iam::${ACCOUNT}:oidc-provider/api.pulumi.com/oidc`,
    ...(claimsWarehouse !== undefined ? { claimsWarehouse } : {}),
});

describe("the bootstrap's access rules for the claims warehouse", () => {
    let mod: typeof DeployRolesModule;
    const build = async (a: DeployRolesModule.DeployRolesArgs) => {
        resetRecorded();
        new mod.DeployRoles("t", a);
        await waitForRegistrations();
        return recordedResources().map((r) => ({ type: r.type, name: r.name, inputs: JSON.stringify(r.inputs) }));
    };
    before(async () => {
        mod = await import("../../components/delivery/deployRoles");
    });

    it("an account without the warehouse keeps exactly what it had (same resources, same documents)", async () => {
        const unset = await build(args());
        const off = await build(args(false));
        assert.deepEqual(off, unset);
        assert.ok(!unset.some((r) => r.name.includes("warehouse")));
        assert.ok(!unset.some((r) => r.inputs.includes("redshift")));
    });

    describe("an account with the warehouse", () => {
        before(async () => {
            await build(args(true));
        });

        it("attaches a fourth deploy policy with the warehouse's statements, within IAM's size limit", () => {
            const policy = named("t-deploy-warehouse", "aws:iam/policy:Policy").inputs;
            assert.equal(policy.name, "glue-data-pipeline-deploy-dev-warehouse");
            assert.ok(statementsOf(policy.policy).some((s) => s.Sid === "WarehouseRedshiftManage"));
            assert.ok(policy.policy.length < 6_144, `${policy.policy.length} characters`);
            assert.equal(ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter((a) => a.name === "t-deploy-warehouse").length, 1);
        });

        it("adds the load's Data API calls to the boundary, still within the limit", () => {
            const boundary = named("t-boundary", "aws:iam/policy:Policy").inputs.policy;
            assert.deepEqual(statementsOf(boundary).filter((s) => String(s.Sid).startsWith("Warehouse")).map((s) => s.Sid), ["WarehouseLoads", "WarehouseStatements"]);
            assert.ok(boundary.length < 6_144, `${boundary.length} characters`);
        });

        it("lets the deploy role pass the project's roles to Redshift (the namespace's COPY role)", () => {
            const pass = statementsOf(named("t-deploy-identity", "aws:iam/policy:Policy").inputs.policy).find((s) => s.Sid === "PassProjectRoles");
            const services = (pass?.Condition as any).StringEquals["iam:PassedToService"] as string[];
            for (const p of WAREHOUSE_SERVICE_PRINCIPALS) assert.ok(services.includes(p), p);
        });

        it("covers every resource type the warehouse adds", () => {
            for (const type of ["aws:ec2/vpcEndpoint:VpcEndpoint", "aws:ec2/securityGroup:SecurityGroup", "aws:redshiftserverless/namespace:Namespace", "aws:redshiftserverless/workgroup:Workgroup"]) {
                assert.ok(mod.deployStatementFor(type), type);
            }
        });
    });

    describe("the bootstrap reads it from the workload stack file", () => {
        const ROOT = path.resolve(__dirname, "../..");
        const bootstrapRaw = (): Record<string, string> => {
            const doc = yaml.load(fs.readFileSync(path.join(ROOT, "bootstrap", "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };
            return Object.fromEntries(Object.entries(doc.config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
        };
        /** The repository, with Pulumi.dev.yaml's claims section given `warehouse` when asked. */
        const reader = (withWarehouse: boolean) => (relativePath: string): string => {
            const text = fs.readFileSync(path.join(ROOT, relativePath), "utf8");
            if (!withWarehouse || relativePath !== "Pulumi.dev.yaml") return text;
            const doc = yaml.load(text) as { config: Record<string, any> };
            const claims = doc.config["glue-data-pipeline:claims"] ?? {};
            doc.config["glue-data-pipeline:claims"] = { ...claims, warehouse: { baseCapacity: 8 } };
            return yaml.dump(doc);
        };
        const bootstrapNames = async (withWarehouse: boolean): Promise<string[]> => {
            const { parseBootstrapConfig } = await import("../../stacks/bootstrapConfig");
            const boot = await import("../../stacks/bootstrap");
            const config = parseBootstrapConfig("dev", "acme", bootstrapRaw(), reader(withWarehouse), (t) => yaml.load(t));
            resetRecorded();
            boot.createBootstrap(config, reader(withWarehouse), (t) => yaml.load(t));
            await waitForRegistrations();
            return recordedResources().map((r) => r.name);
        };

        it("creates the warehouse's deploy policy only for a stack file that sets claims.warehouse", async () => {
            assert.ok(!(await bootstrapNames(false)).some((n) => n.includes("warehouse")));
            assert.ok((await bootstrapNames(true)).includes("access-deploy-warehouse"));
        });
    });
});
