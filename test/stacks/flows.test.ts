/**
 * Flows as uniform units (stacks/flows/): the helpers the composition puts flows together with, the contracts
 * between the stacks and the functions they configure, and what docs/adding-a-flow.md promises — a new
 * file-triggered flow built from a minimal spec is monitored, exported, in the artifacts, on the input
 * bucket's one notification, and its prefixes reach the output bucket's lifecycle, with no other file touched.
 */
import * as assert from "node:assert/strict";
import type { FileTriggeredFlowSpec } from "../../stacks/flows";
import type { WorkloadStack } from "../../stacks/workload";
import { GLUE_TRIGGER_ENV, GLUE_TRIGGER_REQUIRED_ENV } from "../../functions/glue-trigger/contract";
import { CLAIMS_VALIDATION_ENV, CLAIMS_VALIDATION_REQUIRED_ENV } from "../../functions/claims-validation/contract";
import { WAREHOUSE_LOAD_ENV, WAREHOUSE_LOAD_REQUIRED_ENV } from "../../functions/claims-warehouse-load/contract";
import { named, ofType } from "../support/graph";
import { valueOf } from "../support/outputs";
import { buildWorkload, stackConfig } from "../support/workload";

/** A new JSON flow, as docs/adding-a-flow.md writes one: the spec is all there is. */
const AUDIT_SPEC: FileTriggeredFlowSpec = {
    script: { artifact: "auditScript", path: "glue/jobs/parquet_to_json.py" },
    jobResource: "audit",
    jobBaseName: "AuditToParquet",
    jobDescription: "AuditToParquet: audit JSON from audit/ to Parquet",
    triggerResource: "audit-trigger",
    functionBaseName: "AuditTrigger",
    triggerDescription: "Starts AuditToParquet for each .json under audit/ of the input bucket",
    fileSuffix: ".json",
    inputPrefix: "audit/",
    prefixes: { processed: "audit-processed/", quarantine: "quarantine/audit/" },
    outputNames: { job: "auditJob", function: "auditTriggerFunction", deadLetterQueue: "auditTriggerDeadLetterQueue", queue: "auditTriggerQueue", queueDeadLetterQueue: "auditTriggerQueueDeadLetterQueue" },
};

/** The keys of a function's environment, as the mocks recorded it. */
const envKeys = (resourceName: string): string[] => Object.keys(named(resourceName, "aws:lambda/function:Function").inputs.environment.variables).sort();

/** Holds one side (the keys a stack sets) against the other (the names the function reads). */
function assertContract(keys: readonly string[], contract: Readonly<Record<string, string>>, required: readonly string[]): void {
    const names = Object.values(contract);
    assert.deepEqual(keys.filter((k) => !names.includes(k)), [], "set but never read by the function");
    assert.deepEqual(required.filter((k) => !keys.includes(k)), [], "required by the function but not set");
}

describe("flows", () => {
    describe("the composition's helpers", () => {
        it("keeps each expiring prefix once and drops those another flow's prefix already covers", async () => {
            const { combinedStorage } = await import("../../stacks/flows");
            const storage = combinedStorage([
                { expiringOutputPrefixes: ["processed/", "quarantine/"], prefixRules: [], logGroupNamePatterns: [] },
                { expiringOutputPrefixes: ["processed-data/", "quarantine/raw-data/"], prefixRules: [], logGroupNamePatterns: ["/a/*"] },
                { expiringOutputPrefixes: ["processed/"], prefixRules: [{ id: "r", prefix: "raw/", expirationDays: 3 }], logGroupNamePatterns: ["/a/*"] },
            ]);
            assert.deepEqual(storage.expiringOutputPrefixes, ["processed/", "quarantine/", "processed-data/"]);
            assert.deepEqual(storage.prefixRules.map((r) => r.id), ["r"]);
            assert.deepEqual(storage.logGroupNamePatterns, ["/a/*"]);
        });

        it("refuses a stack output two flows export", async () => {
            const { mergeOutputs } = await import("../../stacks/flows");
            assert.deepEqual(mergeOutputs([{ name: "a", outputs: { x: 1 } }, { name: "b", outputs: { y: 2 } }]), { x: 1, y: 2 });
            assert.throws(() => mergeOutputs([{ name: "a", outputs: { x: 1 } }, { name: "b", outputs: { x: 2 } }]), /"x" is exported by both a and b/);
        });

        it("merges artifacts shared by flows only when their versions agree, and leaves out what a stack does not ship", async () => {
            const { mergeArtifactVersions } = await import("../../stacks/flows");
            assert.deepEqual(
                mergeArtifactVersions([
                    { name: "csv", artifacts: { glueLibrary: "1", csvScript: "2" } },
                    { name: "parquet", artifacts: { glueLibrary: "1", loadBundle: undefined } },
                ]),
                { glueLibrary: "1", csvScript: "2" },
            );
            assert.throws(() => mergeArtifactVersions([{ name: "csv", artifacts: { glueLibrary: "1" } }, { name: "parquet", artifacts: { glueLibrary: "9" } }]), /"glueLibrary" has two versions: 1 \(csv\) and 9 \(parquet\)/);
        });

        it("refuses input-bucket triggers whose filters S3 would find overlapping", async () => {
            const { checkTriggerFilters } = await import("../../stacks/flows");
            const csv = { flow: "csv", prefix: "", suffix: ".csv" };
            assert.doesNotThrow(() => checkTriggerFilters([csv, { flow: "parquet", prefix: "raw-data/", suffix: ".parquet" }, { flow: "audit", prefix: "audit/", suffix: ".json" }]));
            assert.throws(() => checkTriggerFilters([csv, { flow: "claims", prefix: "raw/claims/", suffix: ".csv" }]), /csv and claims flows' input-bucket triggers overlap/);
            assert.throws(() => checkTriggerFilters([{ flow: "a", prefix: "in/", suffix: ".gz" }, { flow: "b", prefix: "in/x/", suffix: ".csv.gz" }]), /overlap/);
        });

        it("sets the trigger's layout variables only where a flow differs from the function's defaults", async () => {
            const { triggerEnvironment, CSV_FLOW_SPEC, PARQUET_TO_JSON_FLOW_SPEC } = await import("../../stacks/flows");
            const values = { jobName: "j", metadataTable: "t", outputBucket: "b", release: "r" };
            assert.deepEqual(Object.keys(triggerEnvironment(CSV_FLOW_SPEC, values)), ["GLUE_JOB_NAME", "METADATA_TABLE", "OUTPUT_BUCKET", "FILE_SUFFIX", "RELEASE_ID"]);
            assert.deepEqual(triggerEnvironment(PARQUET_TO_JSON_FLOW_SPEC, values), {
                GLUE_JOB_NAME: "j",
                METADATA_TABLE: "t",
                OUTPUT_BUCKET: "b",
                FILE_SUFFIX: ".parquet",
                KEY_PREFIX: "raw-data/",
                DATED_KEYS: "true",
                OUTPUT_PREFIX: "processed-data/",
                RELEASE_ID: "r",
            });
        });
    });

    describe("the contracts between the stacks and the functions", function () {
        this.timeout(120_000);

        it("the file flows' triggers set exactly names the glue trigger reads, and every one it requires", async () => {
            await buildWorkload(stackConfig("prod"));
            for (const trigger of ["glue-trigger-function", "parquet-trigger-function"]) assertContract(envKeys(trigger), GLUE_TRIGGER_ENV, GLUE_TRIGGER_REQUIRED_ENV);
            assertContract(envKeys("claims-validation-function"), CLAIMS_VALIDATION_ENV, CLAIMS_VALIDATION_REQUIRED_ENV);
        });

        it("the warehouse's load function is set exactly names it reads, and every one it requires", async () => {
            const warehouse = { baseCapacity: 8, databaseName: "claims", vpcCidr: "10.42.0.0/16" };
            await buildWorkload(stackConfig("dev", { claims: { errorEmails: [], minQualityScore: 95, warehouse } }));
            assertContract(envKeys("claims-warehouse-load-function"), WAREHOUSE_LOAD_ENV, WAREHOUSE_LOAD_REQUIRED_ENV);
        });
    });

    describe("a new file-triggered flow from a minimal spec (docs/adding-a-flow.md)", function () {
        this.timeout(120_000);
        let stack: WorkloadStack;
        before(async () => {
            const { WORKLOAD_FLOWS, fileTriggeredFlow } = await import("../../stacks/flows");
            stack = await buildWorkload(stackConfig("dev"), { ...WORKLOAD_FLOWS, audit: fileTriggeredFlow(AUDIT_SPEC) });
        });

        it("is monitored: its job's runs and alarms, its function's and its dead-letter queue's alarms", () => {
            const rules = ofType("aws:cloudwatch/eventRule:EventRule").map((r) => String(r.inputs.eventPattern));
            assert.ok(rules.some((p) => p.includes("Glue Job State Change") && p.includes('"AuditToParquet-dev"')), "the job-events handler watches its runs");
            for (const alarm of ["monitoring-glue-AuditToParquet-dev-failure-rate", "monitoring-lambda-AuditTrigger-dev-error-rate", "monitoring-dlq-AuditTrigger-dev-dlq-depth"]) {
                assert.ok(named(alarm, "aws:cloudwatch/metricAlarm:MetricAlarm"), alarm);
            }
        });

        it("is exported under its spec's output names", async () => {
            assert.equal(await valueOf(stack.outputs.auditJob as never), "AuditToParquet-dev");
            assert.equal(await valueOf(stack.outputs.auditTriggerFunction as never), "AuditTrigger-dev");
            assert.match(await valueOf(stack.outputs.auditTriggerDeadLetterQueue as never), /AuditTrigger-dev-dlq/);
        });

        it("ships its script in the artifacts, beside the shared library and trigger bundle", async () => {
            const artifacts = await valueOf(stack.artifacts);
            const audit = stack.flows.find((f) => f.name === "audit") as unknown as { job: { scriptSha256: string; librarySha256?: string } };
            assert.equal(artifacts.auditScript, audit.job.scriptSha256);
            assert.equal(artifacts.glueLibrary, audit.job.librarySha256);
            assert.ok(artifacts.fileProcessorScript && artifacts.glueTriggerBundle);
        });

        it("has its prefixes reach the output bucket's lifecycle (its quarantine under the one quarantine/ rule)", () => {
            const lifecycle = ofType("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").find((r) => r.inputs.bucket === "glue-output-dev-111111111111");
            assert.ok(lifecycle);
            const expiring = new Map<string, number>(
                lifecycle.inputs.rules.filter((rule: any) => rule.status === "Enabled" && rule.expiration?.days).map((rule: any) => [rule.filter?.prefix ?? "", rule.expiration.days]),
            );
            assert.equal(expiring.get("audit-processed/"), 90);
            assert.equal(expiring.get("quarantine/"), 90);
            assert.equal(expiring.get("quarantine/audit/"), undefined);
        });

        it("joins the input bucket's one notification through its own queue, after the queue's policy, and reads only its prefix", () => {
            const notification = named("input-notifications", "aws:s3/bucketNotification:BucketNotification");
            const targets = notification.inputs.queues.map((t: Record<string, unknown>) => [t.queueArn, t.filterPrefix, t.filterSuffix]);
            assert.deepEqual(targets.at(-1), ["arn:aws:sqs:eu-west-1:111111111111:AuditTrigger-dev-queue", "audit/", ".json"]);
            assert.ok(notification.dependencies.includes(named("audit-trigger-queue-policy").urn));
            assert.deepEqual(named("audit-trigger-function", "aws:lambda/function:Function").inputs.environment.variables.KEY_PREFIX, "audit/");
            assertContract(envKeys("audit-trigger-function"), GLUE_TRIGGER_ENV, GLUE_TRIGGER_REQUIRED_ENV);
        });
    });
});
