/**
 * GlueJobEventHandler on its own, under Pulumi mocks: built by the shared Lambda building block
 * (components/compute/lambdaFunctionResources), it keeps what sets it apart from the S3-triggered functions —
 * a dead-letter queue EventBridge can send to (SQS-managed encryption whatever the function's key, a policy
 * naming exactly its rules) — and gets the block's validation.
 */
import * as assert from "node:assert/strict";
import type { GlueJobEventHandlerArgs } from "../../components/monitoring/glueJobEventHandler";
import { named, resetRecorded, statementsOf, waitForRegistrations } from "../support/graph";
import { loadJobEventsConfig } from "../../functions/glue-job-events/config";
import { DEFAULT_METRIC_NAMESPACE, GLUE_JOB_EVENTS_ENV } from "../../functions/glue-job-events/contract";

let h: typeof import("../../components/monitoring/glueJobEventHandler");

const ARN = "arn:aws:%s:eu-west-1:111111111111:%s";
const arn = (service: string, rest: string) => ARN.replace("%s", service).replace("%s", rest);
const FUNCTION_KEY = arn("kms", "key/function");

function args(overrides: Partial<GlueJobEventHandlerArgs> = {}): GlueJobEventHandlerArgs {
    return {
        functionName: "GlueJobEvents-test",
        stage: "test",
        jobs: [{ name: "FileProcessorV2-test", arn: arn("glue", "job/FileProcessorV2-test") }],
        metadataTable: { name: "etl-pipeline-metadata-test", arn: arn("dynamodb", "table/etl-pipeline-metadata-test") },
        alertsTopicArn: arn("sns", "alerts-test"),
        alertsKmsKeyArn: arn("kms", "key/alerts"),
        kmsKeyArn: FUNCTION_KEY,
        ...overrides,
    };
}

describe("GlueJobEventHandler (on the shared Lambda building block)", () => {
    before(async () => {
        h = await import("../../components/monitoring/glueJobEventHandler");
    });

    describe("with a function key and no schedule", () => {
        before(async () => {
            resetRecorded();
            new h.GlueJobEventHandler("events", args({ statusCountSchedule: false }));
            await waitForRegistrations();
        });

        it("encrypts its log group and environment with the function key, but its DLQ with SQS-managed keys (EventBridge sends to it)", () => {
            assert.equal(named("events-logs", "aws:cloudwatch/logGroup:LogGroup").inputs.kmsKeyId, FUNCTION_KEY);
            assert.equal(named("events-function", "aws:lambda/function:Function").inputs.kmsKeyArn, FUNCTION_KEY);
            const dlq = named("events-dlq", "aws:sqs/queue:Queue").inputs;
            assert.equal(dlq.sqsManagedSseEnabled, true);
            assert.equal(dlq.kmsMasterKeyId, undefined);
            assert.equal(dlq.name, "GlueJobEvents-test-dlq");
        });

        it("lets EventBridge dead-letter into the queue on behalf of its one rule only, over TLS", () => {
            const statements = statementsOf(named("events-dlq-policy", "aws:sqs/queuePolicy:QueuePolicy").inputs.policy);
            assert.deepEqual(
                statements.map((s) => s.Sid),
                ["DenyInsecureTransport", "EventBridgeDeadLetters"],
            );
            const rule = named("events-state-change", "aws:cloudwatch/eventRule:EventRule");
            assert.deepEqual((statements[1].Condition as any).ArnEquals["aws:SourceArn"], [rule.state.arn]);
        });

        it("retries async invocations twice for up to 6 h, then sends them to the DLQ", () => {
            const config = named("events-async", "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig");
            assert.equal(config.inputs.maximumRetryAttempts, 2);
            assert.equal(config.inputs.maximumEventAgeInSeconds, 21600);
            assert.equal(config.inputs.destinationConfig.onFailure.destination, named("events-dlq", "aws:sqs/queue:Queue").state.arn);
            assert.ok(config.dependencies.includes(named("events-policy", "aws:iam/rolePolicy:RolePolicy").urn));
        });

        it("sets only environment names its function's contract declares, and the function starts on exactly them", () => {
            const variables = named("events-function", "aws:lambda/function:Function").inputs.environment.variables as Record<string, string>;
            const declared = new Set<string>(Object.values(GLUE_JOB_EVENTS_ENV));
            assert.deepEqual(Object.keys(variables).filter((k) => !declared.has(k)), []);

            const config = loadJobEventsConfig(variables);
            assert.equal(config.metadataTable, "etl-pipeline-metadata-test");
            assert.equal(config.alertsTopicArn, arn("sns", "alerts-test"));
            assert.equal(config.metricNamespace, DEFAULT_METRIC_NAMESPACE);
            assert.deepEqual(config.glueJobNames, ["FileProcessorV2-test"]);
            assert.equal(config.stage, "test");
        });

        it("runs 60 s with 256 MB, traced, logging JSON to its own group", () => {
            const fn = named("events-function", "aws:lambda/function:Function").inputs;
            assert.equal(fn.timeout, 60);
            assert.equal(fn.memorySize, 256);
            assert.deepEqual(fn.tracingConfig, { mode: "Active" });
            assert.equal(fn.loggingConfig.logFormat, "JSON");
            assert.match(fn.description, /^Glue job state changes → records, run metrics, failure notifications; bundle [0-9a-f]{12}$/);
        });
    });

    const invalid: [what: string, overrides: Partial<GlueJobEventHandlerArgs>, message: RegExp][] = [
        ["a 16-minute timeout", { timeoutSeconds: 960 }, /GlueJobEventHandler: timeoutSeconds must be a whole number from 1 to 900/],
        ["64 MB", { memorySizeMb: 64 }, /GlueJobEventHandler: memorySizeMb must be a whole number from 128 to 10240/],
        ["a 15-day retention", { logRetentionDays: 15 }, /GlueJobEventHandler: logRetentionDays 15 is not one CloudWatch Logs accepts/],
        ["a function name with a space", { functionName: "Glue Events" }, /GlueJobEventHandler: functionName "Glue Events" must be 1-64/],
        ["no jobs", { jobs: [] }, /jobs must name at least one Glue job/],
        ["half an execution", { reservedConcurrency: 0.5 }, /reservedConcurrency must be an integer 0-100000, got 0.5/],
    ];
    for (const [what, overrides, message] of invalid) {
        it(`refuses ${what}`, () => {
            assert.throws(() => new h.GlueJobEventHandler(`bad-${what.replace(/\W+/g, "-")}`, args(overrides)), message);
        });
    }
});
