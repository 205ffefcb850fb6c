/**
 * The medallion workflow inside the workload composition (stacks/workload.ts + stacks/flows/medallion.ts), under
 * mocks: deployed only when the stack's config has a `medallion` section, its layers in the output bucket
 * with raw data expiring after 30 days, its log group encryptable by the data-lake key, everything of it
 * watched by PipelineMonitoring, and its outputs exported.
 */
import assert from "node:assert/strict";
import type { StackConfig } from "../../stacks/config";
import type { WorkloadStack } from "../../stacks/workload";
import { named, ofType, statementsOf } from "../support/graph";
import { valueOf } from "../support/outputs";
import { buildWorkload as build, stackConfig } from "../support/workload";

function config(overrides: Partial<StackConfig> = {}): StackConfig {
    return stackConfig("dev", {
        alerts: { emails: ["oncall@example.com"] },
        medallion: {
            apiBaseUrl: "https://api.example.com/v1/orders",
            apiKeyHeader: "x-api-key",
            pageSize: 250,
            schedule: "cron(0 9 * * ? *)",
            scheduleEnabled: true,
            noDataIsFailure: false,
            athenaBytesScannedCutoffMb: 512,
        },
        ...overrides,
    });
}

describe("the workload with the medallion workflow", function () {
    this.timeout(120_000);

    describe("configured", () => {
        let stack: WorkloadStack;
        before(async () => {
            stack = await build(config());
        });

        it("deploys the workflow and the Athena workgroup from the stack's settings", () => {
            assert.ok(stack.medallion);
            assert.equal(named("medallion-ingest-function").inputs.environment.variables.PAGE_SIZE, "250");
            assert.equal(named("medallion-schedule").inputs.scheduleExpression, "cron(0 9 * * ? *)");
            assert.equal(named("medallion-athena-workgroup").inputs.configuration.bytesScannedCutoffPerQuery, 512 * 1024 * 1024);
            // Dev runs FileProcessorV2 on Flex; the medallion job stays STANDARD (its 30-minute task timeout).
            assert.equal(named("medallion-job-job").inputs.executionClass, "STANDARD");
            assert.equal(named("file-processor-job").inputs.executionClass, "FLEX");
        });

        it("keeps the layers in the output bucket, raw pages expiring after 30 days", () => {
            const lifecycle = named("data-lake-output-lifecycle", "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs.rules;
            const rule = (id: string) => lifecycle.find((r: any) => r.id === id);
            assert.deepEqual([rule("expire-medallion-raw").filter, rule("expire-medallion-raw").expiration], [{ prefix: "medallion/raw/" }, { days: 30 }]);
            assert.deepEqual([rule("expire-athena-results").filter, rule("expire-athena-results").expiration], [{ prefix: "athena-results/" }, { days: 30 }]);
            assert.equal(named("medallion-crawler").inputs.s3Targets[0].path, "s3://glue-output-dev-111111111111/medallion/curated/");
        });

        it("lets CloudWatch Logs use the data-lake key for the state machine's log group", () => {
            const keyPolicy = statementsOf(named("data-lake-key", "aws:kms/key:Key").inputs.policy);
            const logs = keyPolicy.find((s) => s.Sid === "CloudWatchLogsEncryptsAccountLogGroups")!;
            assert.ok((logs.Condition!.ArnLike["kms:EncryptionContext:aws:logs:arn"] as string[]).includes("arn:aws:logs:eu-west-1:111111111111:log-group:/aws/vendedlogs/states/*"));
        });

        it("has monitoring watch its job, function, schedule DLQ and state machine", () => {
            const alarms = ofType("aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => a.name);
            for (const expected of ["MedallionEtl-dev", "ApiIngestion-dev", "medallion-daily-dev-dlq", "medallion-workflow-dev"]) {
                assert.ok(alarms.some((a) => a.includes(expected)), `no alarm on ${expected} in ${alarms.join(", ")}`);
            }
        });

        it("exports what an operator needs", async () => {
            const outputs = stack.outputs;
            assert.equal(await valueOf(outputs.medallionStateMachine as any), "arn:aws:states:eu-west-1:111111111111:stateMachine:medallion-workflow-dev");
            assert.equal(await valueOf(outputs.medallionGoldLocation as any), "s3://glue-output-dev-111111111111/medallion/curated/");
            assert.match(await valueOf(outputs.medallionSetApiKeyCommand as any), /^aws secretsmanager put-secret-value --secret-id arn:aws:secretsmanager:.*medallion-api-key-[A-Za-z0-9]{6} --secret-string '<api key>'$/);
            for (const key of ["medallionSchedule", "medallionIngestFunction", "medallionJob", "medallionCrawler", "medallionNotificationsTopic", "medallionAthenaWorkgroup", "medallionAnalystPolicyDocument"]) {
                assert.ok(outputs[key] !== undefined, key);
            }
        });

        it("subscribes the stack's alert e-mails to FAILED runs", () => {
            assert.deepEqual(JSON.parse(named("medallion-failure-email-oncall-example-com").inputs.filterPolicy), { status: ["FAILED"] });
        });
    });

    describe("not configured", () => {
        it("deploys none of it", async () => {
            const stack = await build(config({ medallion: undefined }));
            assert.equal(stack.medallion, undefined);
            assert.deepEqual(ofType("glue-pipeline:workflow:MedallionWorkflow"), []);
            assert.deepEqual(ofType("aws:scheduler/schedule:Schedule"), []);
            assert.equal(stack.outputs.medallionStateMachine, undefined);
        });
    });
});
