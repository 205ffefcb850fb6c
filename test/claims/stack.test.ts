/**
 * The claims flow inside the workload composition (under mocks): named per stage, configured from the stack's
 * settings, watched by the monitoring (its job's runs, its function, its dead-letter queue), exported.
 */
import * as assert from "node:assert/strict";
import type { StackConfig } from "../../stacks/config";
import type { WorkloadStack } from "../../stacks/workload";
import { named, ofType } from "../support/graph";
import { valueOf } from "../support/outputs";
import { buildWorkload as build, stackConfig } from "../support/workload";

const config = (stage: "dev" | "prod", overrides: Partial<StackConfig> = {}): StackConfig =>
    stackConfig(stage, { alerts: { emails: ["oncall@example.com"] }, ...overrides });

describe("the claims flow in the workload", function () {
    this.timeout(120_000);

    describe("in prod, with its own error addresses and threshold", () => {
        let prod: WorkloadStack;
        before(async () => {
            prod = await build(config("prod", { claims: { errorEmails: ["claims-team@example.com"], minQualityScore: 98 } }));
        });

        it("names the bucket, job, function and topics after the stage", async () => {
            assert.equal(await valueOf(prod.claims.pipeline.bucketName), "glue-claims-prod-111111111111");
            assert.equal(await valueOf(prod.claims.pipeline.etlJob.jobName), "healthcare-claims-prod-etl");
            assert.equal(await valueOf(prod.claims.pipeline.validation.function.name), "healthcare-claims-prod-data-validation");
            assert.equal(await valueOf(prod.claims.pipeline.topics.errorTopicArn), "arn:aws:sns:eu-west-1:111111111111:healthcare-claims-prod-errors");
        });

        it("mails claims errors to the configured address, validates with the configured threshold and the trigger's concurrency", () => {
            const subs = ofType("aws:sns/topicSubscription:TopicSubscription").filter((s) => String(s.inputs.topic).endsWith(":healthcare-claims-prod-errors"));
            assert.deepEqual(subs.map((s) => s.inputs.endpoint), ["claims-team@example.com"]);
            const fn = named("claims-validation-function", "aws:lambda/function:Function").inputs;
            assert.equal(fn.environment.variables.MIN_QUALITY_SCORE, "98");
            assert.match(fn.environment.variables.RELEASE_ID, /^[0-9a-f]{16}$/);
            assert.equal(fn.reservedConcurrentExecutions, 10);
        });

        it("encrypts with the data-lake key and keeps the claims data on destroy", () => {
            const key = "arn:aws:kms:eu-west-1:111111111111:key/data-lake-key-key-id";
            assert.equal(named("claims-storage-data-sse").inputs.rules[0].applyServerSideEncryptionByDefault.kmsMasterKeyId, key);
            assert.equal(named("claims-topics-processing", "aws:sns/topic:Topic").inputs.kmsMasterKeyId, key);
            assert.equal(named("claims-storage-data", "aws:s3/bucket:Bucket").retainOnDelete, true);
        });

        it("queues the job's runs and stamps the release on them", () => {
            const job = named("claims-etl-job", "aws:glue/job:Job").inputs;
            assert.equal(job.jobRunQueuingEnabled, true);
            assert.equal(job.executionClass, "STANDARD");
            assert.match(job.defaultArguments["--release_id"], /^[0-9a-f]{16}$/);
        });

        it("is watched by the monitoring: job-state events, failure-rate and duration alarms, function and DLQ alarms", () => {
            const alarms = ofType("aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => String(a.inputs.name ?? a.name));
            for (const part of ["healthcare-claims-prod-etl", "healthcare-claims-prod-data-validation", "healthcare-claims-prod-data-validation-dlq"]) {
                assert.ok(alarms.some((a) => a.includes(part)), `no alarm for ${part} in ${alarms.join(", ")}`);
            }
            const rules = ofType("aws:cloudwatch/eventRule:EventRule").map((r) => String(r.inputs.eventPattern ?? ""));
            assert.ok(rules.some((p) => p.includes("healthcare-claims-prod-etl")), "the job-state rule includes the claims job");
        });

        it("exports where the flow lives", async () => {
            const outputs = prod.outputs;
            assert.equal(await valueOf(outputs.claimsBucket as any), "glue-claims-prod-111111111111");
            assert.equal(await valueOf(outputs.claimsEtlJob as any), "healthcare-claims-prod-etl");
            assert.equal(await valueOf(outputs.claimsErrorTopicArn as any), "arn:aws:sns:eu-west-1:111111111111:healthcare-claims-prod-errors");
        });
    });

    describe("in dev, with defaults", () => {
        before(async () => {
            await build(config("dev"));
        });

        it("mails claims errors to the alert addresses, needs 95, runs Flex without queuing, lets its data be destroyed", () => {
            const subs = ofType("aws:sns/topicSubscription:TopicSubscription").filter((s) => String(s.inputs.topic).endsWith(":healthcare-claims-dev-errors"));
            assert.deepEqual(subs.map((s) => s.inputs.endpoint), ["oncall@example.com"]);
            assert.equal(named("claims-validation-function", "aws:lambda/function:Function").inputs.environment.variables.MIN_QUALITY_SCORE, "95");
            const job = named("claims-etl-job", "aws:glue/job:Job").inputs;
            assert.deepEqual([job.executionClass, job.jobRunQueuingEnabled], ["FLEX", false]);
            assert.equal(named("claims-storage-data", "aws:s3/bucket:Bucket").retainOnDelete, false);
        });
    });
});
