/**
 * The offline synth of both real stacks (their Pulumi.<stack>.yaml files, the real program), run as the
 * user runs it, with the whole graph checked for the invariants every deploy must keep.
 */
import * as assert from "node:assert/strict";
import type { SynthResult } from "../../scripts/synth";
import {
    bucketEncrypted,
    bucketOwnerEnforced,
    bucketPublicAccessBlocked,
    bucketTlsOnly,
    defaultTagsOf,
    fromSynthGraph,
    GraphResource,
    Invariant,
    isTaggable,
    logRetention,
    noDataPlaneAllowOnStar,
    ownProvider,
    policyDocumentsOf,
    requiredTags,
    rolePermissionsBoundary,
    statementsOf,
} from "../../policy/invariants";
import { runSynth, synthOnce } from "../support/synthGraphs";

/** The tagging strategy's tags on every resource, per stack. */
const REQUIRED_TAGS = (stack: string) => ({ Environment: stack, Project: "glue-data-pipeline", Owner: "data-engineering-team", CostCenter: "engineering" });

/** The messages of an invariant (policy/invariants.ts, the policy pack's own functions) on a graph. */
const findings = (invariant: Invariant, resources: readonly GraphResource[]): string[] => invariant.check(resources).map((f) => f.message);

for (const stack of ["dev", "prod"]) {
    describe(`offline synth of the ${stack} stack`, function () {
        this.timeout(120_000);
        let graph: SynthResult;
        let stdout: string;
        let resources: GraphResource[];
        before(async () => {
            ({ graph, stdout } = await synthOnce("workload", stack));
            resources = fromSynthGraph(graph);
        });

        it("prints a summary by type and says nothing was deployed", () => {
            assert.match(stdout, new RegExp(`stack glue-data-pipeline/${stack}: \\d+ resources \\(offline synth under Pulumi mocks; nothing was deployed\\)`));
            assert.match(stdout, /aws:glue\/job:Job\s+\d+/);
            assert.match(stdout, /aws:lambda\/function:Function\s+\d+/);
        });

        it("has the flows' named resources", () => {
            const names = (type: string, field = "name") => graph.resources.filter((r) => r.type === type).map((r) => r.inputs[field]);
            assert.ok(names("aws:glue/job:Job").includes(`FileProcessorV2-${stack}`));
            assert.ok(names("aws:lambda/function:Function").includes(`GlueTriggerLambda-${stack}`));
            assert.ok(names("aws:glue/catalogDatabase:CatalogDatabase").includes(`glue_database_v2_${stack}`));
            assert.ok(names("aws:dynamodb/table:Table").includes(`etl-pipeline-metadata-${stack}`));
            const buckets = names("aws:s3/bucket:Bucket", "bucket");
            const account = stack === "dev" ? "111111111111" : "222222222222";
            for (const b of [`glue-input-${stack}-${account}`, `glue-output-${stack}-${account}`, `glue-assets-v2-${stack}-${account}`]) {
                assert.ok(buckets.includes(b), `missing bucket ${b} in ${buckets}`);
            }
            const logGroups = names("aws:cloudwatch/logGroup:LogGroup");
            for (const g of [`/aws/lambda/GlueTriggerLambda-${stack}`, "/aws-glue/jobs/output", "/aws-glue/jobs/error"]) {
                assert.ok(logGroups.includes(g), `missing log group ${g}`);
            }
        });

        // The graph invariants below are the policy pack's own functions (policy/invariants.ts): one
        // implementation, proven here on the real stacks and enforced by `pulumi preview --policy-pack policy`.
        it("encrypts every bucket, blocks all public access, enforces TLS and owner-only ACLs", () => {
            assert.ok(resources.filter((r) => r.type === "aws:s3/bucket:Bucket").length >= 4);
            for (const invariant of [bucketEncrypted, bucketPublicAccessBlocked, bucketTlsOnly, bucketOwnerEnforced]) {
                assert.deepEqual(findings(invariant, resources), [], invariant.name);
            }
        });

        it("grants no S3, DynamoDB, Glue, KMS or SQS action on Resource *", () => {
            const allows = resources.flatMap(policyDocumentsOf).flatMap(statementsOf).filter((s) => s.Effect === "Allow");
            assert.ok(allows.length > 10, "the check sees the graph's policies");
            assert.deepEqual(findings(noDataPlaneAllowOnStar, resources), []);
        });

        it("puts the permissions boundary on every role", () => {
            assert.ok(resources.some((r) => r.type === "aws:iam/role:Role"));
            assert.deepEqual(findings(rolePermissionsBoundary, resources), []);
        });

        it("creates every AWS resource through the stack's own provider", () => {
            assert.ok(graph.resources.find((r) => r.type === "pulumi:providers:aws"));
            assert.deepEqual(findings(ownProvider, resources), []);
        });

        it("keeps every log group for a bounded time", () => {
            assert.deepEqual(findings(logRetention, resources), []);
        });

        it("tags every taggable AWS resource Environment, Project, Owner and CostCenter through the provider", () => {
            const required = REQUIRED_TAGS(stack);
            const provider = resources.find((r) => r.type === "pulumi:providers:aws")!;
            const defaults = defaultTagsOf(provider.props);
            for (const [key, value] of Object.entries(required)) assert.equal(defaults[key], value, `provider default tag ${key}`);
            const taggable = resources.filter((r) => r.type.startsWith("aws:") && isTaggable(r.type));
            assert.ok(taggable.length >= 30, `only ${taggable.length} taggable resources found`);
            for (const type of ["aws:s3/bucket:Bucket", "aws:lambda/function:Function", "aws:glue/job:Job", "aws:cloudwatch/metricAlarm:MetricAlarm", "aws:sns/topic:Topic"]) {
                assert.ok(taggable.some((r) => r.type === type), `${type} is taggable`);
            }
            assert.deepEqual(findings(requiredTags(required), resources), []);
        });

        it("wires every alarm and its recovery to the encrypted alerts topic", () => {
            const topicArn = graph.outputs.alertsTopicArn as string;
            assert.match(topicArn, new RegExp(`^arn:aws:sns:eu-west-1:\\d{12}:glue-pipeline-alerts-${stack}$`));
            const topic = graph.resources.find((r) => r.type === "aws:sns/topic:Topic" && r.inputs.name === `glue-pipeline-alerts-${stack}`)!;
            assert.match(topic.inputs.kmsMasterKeyId, /^arn:aws:kms:/);
            const alarms = graph.resources.filter((r) => r.type === "aws:cloudwatch/metricAlarm:MetricAlarm");
            const unwired = alarms.filter((a) => JSON.stringify(a.inputs.alarmActions) !== JSON.stringify([topicArn]) || JSON.stringify(a.inputs.okActions) !== JSON.stringify([topicArn]));
            assert.deepEqual(unwired.map((a) => a.inputs.name), []);
            // One of each kind per monitored resource of the graph.
            const names = alarms.map((a) => a.inputs.name as string);
            for (const job of graph.resources.filter((r) => r.type === "aws:glue/job:Job")) {
                assert.ok(names.includes(`${job.inputs.name}-failure-rate`) && names.includes(`${job.inputs.name}-duration-over-2x-average`), `Glue alarms of ${job.inputs.name}`);
            }
            for (const fn of graph.resources.filter((r) => r.type === "aws:lambda/function:Function")) {
                assert.ok(names.includes(`${fn.inputs.name}-error-rate`) && names.includes(`${fn.inputs.name}-throttled`), `Lambda alarms of ${fn.inputs.name}`);
            }
            for (const queue of graph.resources.filter((r) => r.type === "aws:sqs/queue:Queue" && /-dlq$/.test(r.inputs.name))) {
                assert.ok(names.includes(`${queue.inputs.name}-not-empty`), `depth alarm of ${queue.inputs.name}`);
            }
            for (const table of graph.resources.filter((r) => r.type === "aws:dynamodb/table:Table")) {
                assert.ok(names.includes(`${table.inputs.name}-throttled-requests`), `throttle alarm of ${table.inputs.name}`);
            }
            const dashboards = graph.resources.filter((r) => r.type === "aws:cloudwatch/dashboard:Dashboard").map((d) => d.inputs.dashboardName).sort();
            assert.deepEqual(dashboards, [`glue-pipeline-${stack}-operations`, `glue-pipeline-${stack}-overview`]);
        });

        it("keeps Lambda logs 14 days and Glue logs 30 days, in groups created before anything writes", () => {
            const groups = graph.resources.filter((r) => r.type === "aws:cloudwatch/logGroup:LogGroup");
            const wrong = groups
                .filter((g) => (g.inputs.name.startsWith("/aws/lambda/") && g.inputs.retentionInDays !== 14) || (g.inputs.name.startsWith("/aws-glue/") && g.inputs.retentionInDays !== 30))
                .map((g) => `${g.inputs.name}: ${g.inputs.retentionInDays}`);
            assert.deepEqual(wrong, []);
            for (const fn of graph.resources.filter((r) => r.type === "aws:lambda/function:Function")) {
                const group = `/aws/lambda/${fn.inputs.name}`;
                assert.ok(groups.some((g) => g.inputs.name === group), `no managed log group ${group}`);
                assert.equal(fn.inputs.loggingConfig?.logGroup, group);
            }
        });

        it("exports the promotion contract: every artifact it ships, at this tree's version", async () => {
            const artifacts = graph.outputs.artifacts as Record<string, string>;
            // Both stacks run the medallion workflow, so they ship every artifact, each at this tree's version.
            const { localArtifactVersions } = await import("../../stacks/artifacts");
            assert.deepEqual(artifacts, localArtifactVersions());
        });
    });
}

describe("offline synth of prod when dev has not deployed", function () {
    this.timeout(120_000);
    it("fails with a message that says what to do", async () => {
        await assert.rejects(runSynth("--stack", "prod", "--promotion-outputs", "none"), (err: any) => {
            assert.match(err.stderr, /synth failed: Stack acme\/glue-data-pipeline\/dev has no output "artifacts".*pulumi up --stack acme\/glue-data-pipeline\/dev/);
            return true;
        });
    });
});
