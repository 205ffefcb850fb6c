/**
 * The warehouse in the workload composition (under mocks): absent unless the stack sets `claims.warehouse`
 * (the dev and prod graphs keep exactly the resource types they had), and when set, wired to the claims flow
 * (its bucket, job, table, error topic, key), watched by the monitoring, exported, its bundle in the artifacts.
 */
import * as assert from "node:assert/strict";
import type { StackConfig } from "../../stacks/config";
import type { WorkloadStack } from "../../stacks/workload";
import { named, ofType } from "../support/graph";
import { recordedResources } from "../../scripts/offline/pulumiMocks";
import { valueOf } from "../support/outputs";
import { GraphResource, INVARIANTS } from "../../policy/invariants";
import { buildWorkload as build, stackConfig } from "../support/workload";

const config = (stage: "dev" | "prod", overrides: Partial<StackConfig> = {}): StackConfig =>
    stackConfig(stage, { alerts: { emails: ["oncall@example.com"] }, ...overrides });

/** Resource types only the warehouse brings. */
const WAREHOUSE_TYPES = [
    "glue-pipeline:claims:ClaimsWarehouse",
    "awsx:ec2:Vpc",
    "aws:ec2/vpcEndpoint:VpcEndpoint",
    "aws:ec2/securityGroup:SecurityGroup",
    "aws:redshiftserverless/namespace:Namespace",
    "aws:redshiftserverless/workgroup:Workgroup",
];

describe("the claims warehouse in the workload", function () {
    this.timeout(120_000);

    for (const stage of ["dev", "prod"] as const) {
        describe(`${stage} as configured today (no claims.warehouse)`, () => {
            let stack: WorkloadStack;
            before(async () => {
                stack = await build(config(stage));
            });

            it("creates nothing of the warehouse", () => {
                assert.deepEqual(recordedResources().filter((r) => WAREHOUSE_TYPES.includes(r.type)).map((r) => r.name), []);
                assert.ok(!recordedResources().some((r) => r.name.startsWith("claims-warehouse")));
                assert.equal(stack.claims.warehouse, undefined);
            });

            it("exports and ships what it did before", async () => {
                assert.ok(!Object.keys(stack.outputs).some((k) => k.startsWith("claimsWarehouse")));
                assert.deepEqual(Object.keys(await valueOf(stack.claims.artifacts)).sort(), ["claimsScript", "claimsValidationBundle"]);
            });
        });
    }

    describe("dev with claims.warehouse", () => {
        let dev: WorkloadStack;
        before(async () => {
            const base = config("dev");
            dev = await build({
                ...base,
                // As the team's stacks run: every role bounded by the bootstrap's workload boundary.
                permissionsBoundaryArn: "arn:aws:iam::111111111111:policy/glue-data-pipeline-bootstrap/glue-data-pipeline-boundary-dev",
                claims: { ...base.claims!, warehouse: { baseCapacity: 8, databaseName: "claims", vpcCidr: "10.42.0.0/16" } },
            });
        });

        it("builds the warehouse on the claims flow's bucket, job, table, error topic and key", () => {
            const fn = named("claims-warehouse-load-function", "aws:lambda/function:Function").inputs;
            assert.equal(fn.name, "healthcare-claims-dev-warehouse-load");
            assert.equal(fn.environment.variables.DATA_BUCKET, "glue-claims-dev-111111111111");
            assert.equal(fn.environment.variables.METADATA_TABLE, "etl-pipeline-metadata-dev");
            assert.equal(fn.environment.variables.ERROR_TOPIC_ARN, "arn:aws:sns:eu-west-1:111111111111:healthcare-claims-dev-errors");
            assert.match(fn.environment.variables.RELEASE_ID, /^[0-9a-f]{16}$/);
            const key = "arn:aws:kms:eu-west-1:111111111111:key/data-lake-key-key-id";
            assert.equal(named("claims-warehouse-namespace", "aws:redshiftserverless/namespace:Namespace").inputs.kmsKeyId, key);
            assert.deepEqual(JSON.parse(named("claims-warehouse-succeeded-runs", "aws:cloudwatch/eventRule:EventRule").inputs.eventPattern).detail.jobName, ["healthcare-claims-dev-etl"]);
            assert.equal(ofType("aws:redshiftserverless/workgroup:Workgroup").length, 1);
        });

        it("keeps every invariant the policy pack enforces (encryption, boundaries, retention, tags, the stack's provider)", () => {
            const all = recordedResources();
            const byUrn = new Map(all.map((r) => [r.urn, r]));
            const graph: GraphResource[] = all.map((r) => {
                const providerUrn = r.provider ? r.provider.slice(0, r.provider.lastIndexOf("::")) : "";
                return { urn: r.urn, type: r.type, name: r.name, props: r.inputs, provider: providerUrn ? { urn: providerUrn, props: byUrn.get(providerUrn)?.inputs ?? {} } : undefined };
            });
            assert.deepEqual(INVARIANTS.flatMap((i) => i.check(graph).map((f) => `${i.name}: ${f.message}`)), []);
        });

        it("is watched (function and dead-letter queue alarms), exported, and its bundle is a promoted artifact", async () => {
            const alarms = ofType("aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => String(a.inputs.name ?? a.name));
            for (const part of ["healthcare-claims-dev-warehouse-load", "healthcare-claims-dev-warehouse-load-dlq"]) {
                assert.ok(alarms.some((a) => a.includes(part)), `no alarm for ${part} in ${alarms.join(", ")}`);
            }
            assert.equal(await valueOf(dev.outputs.claimsWarehouseWorkgroup as any), "healthcare-claims-dev");
            assert.match((await valueOf(dev.claims.artifacts)).claimsWarehouseLoadBundle ?? "", /^[0-9a-f]{64}$/);
        });
    });
});
