/**
 * LambdaFunction (a function invoked directly, e.g. by Step Functions) under mocks, and the helper it shares
 * with S3TriggeredLambda (test/components/s3TriggeredLambda.test.ts proves that one unchanged).
 */
import assert from "node:assert/strict";
import type { LambdaFunctionArgs } from "../../components/compute/lambdaFunction";
import { asList, descendantsOf, named, ofType, resetRecorded, statementsOf, waitForRegistrations } from "../support/graph";
import { valueOf } from "../support/outputs";

let m: typeof import("../../components/compute/lambdaFunction");
let bundleFunction: typeof import("../../components/compute/lambdaBundle")["bundleFunction"];

const ACCOUNT = "111111111111";
const REGION = "eu-west-1";
const KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/k`;
const ENTRY = "test/fixtures/functions/echo/handler.ts";
const base: LambdaFunctionArgs = { functionName: "ApiIngestion-dev", entry: ENTRY };

describe("LambdaFunction", () => {
    before(async () => {
        m = await import("../../components/compute/lambdaFunction");
        ({ bundleFunction } = await import("../../components/compute/lambdaBundle"));
    });

    describe("invoked synchronously (the Step Functions case)", () => {
        let fn: Record<string, any>;
        before(async () => {
            resetRecorded();
            const c = new m.LambdaFunction("ingest", {
                ...base,
                timeoutSeconds: 300,
                memorySizeMb: 512,
                reservedConcurrency: 10,
                kmsKeyArn: KEY,
                environment: { API_BASE_URL: "https://api.example.com" },
                policyStatements: [{ Sid: "ReadKey", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:k` }],
            });
            await waitForRegistrations();
            fn = named("ingest-function", "aws:lambda/function:Function").inputs;
            assert.equal(await valueOf(c.bundleSha256), bundleFunction(ENTRY).sha256);
        });

        it("has the settings given, the shared runtime, tracing and JSON logs to its own group", () => {
            assert.deepEqual(
                [fn.name, fn.runtime, fn.architectures, fn.handler, fn.timeout, fn.memorySize, fn.reservedConcurrentExecutions, fn.kmsKeyArn],
                ["ApiIngestion-dev", "nodejs22.x", ["arm64"], "index.handler", 300, 512, 10, KEY],
            );
            assert.deepEqual(fn.tracingConfig, { mode: "Active" });
            assert.deepEqual(fn.loggingConfig, { logFormat: "JSON", logGroup: "/aws/lambda/ApiIngestion-dev" });
            assert.ok(named("ingest-function").dependencies.includes(named("ingest-logs").urn));
            assert.ok(named("ingest-function").dependencies.includes(named("ingest-policy").urn));
        });

        it("has no DLQ, no async config, no resource policy: its errors go back to the caller", () => {
            assert.deepEqual(ofType("aws:sqs/queue:Queue"), []);
            assert.deepEqual(ofType("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"), []);
            assert.deepEqual(ofType("aws:lambda/permission:Permission"), []);
            const statements = statementsOf(named("ingest-policy").inputs.policy);
            assert.deepEqual(statements.map((s) => s.Sid), ["WriteOwnLogGroup", "UseFunctionKey", "WriteTraces", "ReadKey"]);
        });

        it("parents its children and names them after it", () => {
            assert.deepEqual(descendantsOf(named("ingest", "glue-pipeline:compute:LambdaFunction")).map((r) => r.name).sort(), ["ingest-function", "ingest-logs", "ingest-policy", "ingest-role"]);
        });
    });

    describe("invoked asynchronously, by a service", () => {
        before(async () => {
            resetRecorded();
            new m.LambdaFunction("events", {
                ...base,
                functionName: "Events-dev",
                asyncInvocation: { maximumRetryAttempts: 1, maximumEventAgeSeconds: 3600 },
                invokers: [{ principal: "events.amazonaws.com", sourceArn: `arn:aws:events:${REGION}:${ACCOUNT}:rule/r` }],
            });
            await waitForRegistrations();
        });
        it("gets a TLS-only DLQ as its on-failure destination, and may send to it", () => {
            const queueArn = `arn:aws:sqs:${REGION}:${ACCOUNT}:Events-dev-dlq`;
            assert.equal(named("events-dlq").inputs.sqsManagedSseEnabled, true);
            assert.deepEqual(named("events-async").inputs.destinationConfig, { onFailure: { destination: queueArn } });
            assert.deepEqual([named("events-async").inputs.maximumRetryAttempts, named("events-async").inputs.maximumEventAgeInSeconds], [1, 3600]);
            const send = statementsOf(named("events-policy").inputs.policy).find((s) => s.Sid === "SendToDeadLetterQueue")!;
            assert.deepEqual(asList(send.Resource), [queueArn]);
        });
        it("lets only the named service and source invoke it", () => {
            assert.deepEqual(named("events-invoke-0").inputs, {
                action: "lambda:InvokeFunction",
                function: "Events-dev",
                principal: "events.amazonaws.com",
                sourceArn: `arn:aws:events:${REGION}:${ACCOUNT}:rule/r`,
            });
        });
    });

    describe("rejects", () => {
        const cases: [string, Partial<LambdaFunctionArgs>, RegExp][] = [
            ["a name with a space", { functionName: "Api Ingestion" }, /LambdaFunction: functionName "Api Ingestion"/],
            ["a 16-minute timeout", { timeoutSeconds: 960 }, /LambdaFunction: timeoutSeconds must be a whole number from 1 to 900/],
            ["a missing handler", { entry: "functions/nope/handler.ts" }, /LambdaFunction: entry "functions\/nope\/handler.ts" is not a file/],
            ["a reserved variable", { environment: { AWS_REGION: "x" } }, /AWS_REGION is reserved by Lambda/],
            ["three async retries", { asyncInvocation: { maximumRetryAttempts: 3 } }, /asyncInvocation.maximumRetryAttempts must be a whole number from 0 to 2/],
            ["a non-service invoker", { invokers: [{ principal: "*", sourceArn: "arn:aws:s3:::b" }] }, /invokers principal "\*"/],
            ["S3 on *", { policyStatements: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }] }, /LambdaFunction: policy statements grant data-plane actions on Resource "\*"/],
        ];
        for (const [title, override, message] of cases) {
            it(title, async () => {
                resetRecorded();
                const attempt = async () => {
                    const c = new m.LambdaFunction(`bad-${title.replace(/\W+/g, "-")}`, { ...base, ...override });
                    await valueOf(c.rolePolicy.policy);
                };
                await assert.rejects(attempt, message);
            });
        }
    });
});
