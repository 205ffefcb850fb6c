import * as assert from "node:assert/strict";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as vm from "node:vm";
import type { PolicyStatement } from "../../components/iam/iamPolicies";
import type { S3TriggeredLambda, S3TriggeredLambdaArgs } from "../../components/compute/s3TriggeredLambda";
import { asList, descendantsOf, named, ofType, resetRecorded, statementsOf, waitForRegistrations } from "../support/graph";

// Loaded in before(), after the --require'd mocks, as the house convention asks.
let m: typeof import("../../components/compute/s3TriggeredLambda");
let policies: typeof import("../../components/iam/iamPolicies");
let bundleFunction: typeof import("../../components/compute/lambdaBundle")["bundleFunction"];

const ACCOUNT = "111111111111";
const REGION = "eu-west-1";
const ENTRY = "test/fixtures/functions/echo/handler.ts";
const KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/data-lake`;
const JOB = `arn:aws:glue:${REGION}:${ACCOUNT}:job/FileProcessorV2-dev`;
const TABLE = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/etl-pipeline-metadata-dev`;
const INPUT_ARN = `arn:aws:s3:::glue-input-dev-${ACCOUNT}`;
const FUNCTION_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:GlueTriggerLambda-dev`;
const LOG_GROUP_ARN = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/GlueTriggerLambda-dev`;
const DLQ_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT}:GlueTriggerLambda-dev-dlq`;
const QUEUE_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT}:GlueTriggerLambda-dev-queue`;
const QUEUE_URL = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/GlueTriggerLambda-dev-queue`;
const QUEUE_DLQ_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT}:GlueTriggerLambda-dev-queue-dlq`;
const TLS_ONLY = (arn: string) => ({ Sid: "DenyInsecureTransport", Effect: "Deny", Principal: "*", Action: "sqs:*", Resource: arn, Condition: { Bool: { "aws:SecureTransport": "false" } } });

const output = <T>(o: pulumi.Output<T>): Promise<T> => new Promise((resolve) => o.apply(resolve));

/** The statements the stack passes for the trigger: Glue on the job, items on the table, reads of the input prefix. */
const triggerStatements = (): PolicyStatement[] => [
    policies.glueJobRunStatement(JOB, ["glue:StartJobRun"], "StartFileProcessor"),
    policies.dynamoDbItemStatement(TABLE, { indexes: [], sid: "TrackFiles" }),
    policies.s3GetObjectStatement(INPUT_ARN, ["incoming/"], "ReadUploads"),
];

function baseArgs(bucket: S3TriggeredLambdaArgs["bucket"]): S3TriggeredLambdaArgs {
    return { functionName: "GlueTriggerLambda-dev", entry: ENTRY, bucket, filterSuffix: ".csv" };
}

/** Reads the `index.js` text out of the recorded code archive (assets and texts are promises under mocks). */
async function archivedCode(code: any): Promise<Record<string, string>> {
    const assets = await code.assets;
    const files: Record<string, string> = {};
    for (const [file, asset] of Object.entries<any>(assets)) files[file] = await asset.text;
    return files;
}

describe("S3TriggeredLambda", () => {
    before(async () => {
        m = await import("../../components/compute/s3TriggeredLambda");
        policies = await import("../../components/iam/iamPolicies");
        ({ bundleFunction } = await import("../../components/compute/lambdaBundle"));
    });

    describe("with the stack's arguments (bucket resource, KMS, extra statements)", () => {
        let component: S3TriggeredLambda;
        let fn: Record<string, any>;
        before(async () => {
            resetRecorded();
            const bucket = new aws.s3.Bucket("input", { bucket: `glue-input-dev-${ACCOUNT}` });
            component = new m.S3TriggeredLambda("trigger", {
                ...baseArgs(bucket),
                filterPrefix: "incoming/",
                environment: { GLUE_JOB_NAME: "FileProcessorV2-dev", METADATA_TABLE: pulumi.output("etl-pipeline-metadata-dev"), LOG_LEVEL: "INFO" },
                policyStatements: pulumi.output(triggerStatements()),
                kmsKeyArn: pulumi.output(KEY),
                reservedConcurrency: 5,
            });
            await waitForRegistrations();
            fn = named("trigger-function", "aws:lambda/function:Function").inputs;
        });

        it("runs Node.js 22 on arm64 with the bundle's handler, 30 s and 256 MB", () => {
            assert.equal(fn.name, "GlueTriggerLambda-dev");
            assert.equal(fn.runtime, "nodejs22.x");
            assert.deepEqual(fn.architectures, ["arm64"]);
            assert.equal(fn.handler, "index.handler");
            assert.equal(fn.timeout, 30);
            assert.equal(fn.memorySize, 256);
        });

        it("passes the environment with its queue's URL, encrypts it with the key, traces with X-Ray, reserves concurrency", () => {
            assert.deepEqual(fn.environment, {
                variables: { GLUE_JOB_NAME: "FileProcessorV2-dev", METADATA_TABLE: "etl-pipeline-metadata-dev", LOG_LEVEL: "INFO", QUEUE_URL },
            });
            assert.equal(fn.kmsKeyArn, KEY);
            assert.deepEqual(fn.tracingConfig, { mode: "Active" });
            assert.equal(fn.reservedConcurrentExecutions, 5);
        });

        it("ships the real bundle as index.js, and its hash", async () => {
            const bundle = bundleFunction(ENTRY);
            const files = await archivedCode(fn.code);
            assert.deepEqual(Object.keys(files), ["index.js"]);
            assert.equal(files["index.js"], bundle.code);
            assert.equal(await output(component.bundleSha256), bundle.sha256);
            assert.match(bundle.sha256, /^[0-9a-f]{64}$/);
            assert.equal(component.bundleBytes, bundle.bytes);
        });

        it("the shipped index.js runs: index.handler answers an S3 event", async () => {
            const files = await archivedCode(fn.code);
            const module = { exports: {} as any };
            vm.runInNewContext(files["index.js"], { module, exports: module.exports, require });
            const result = await module.exports.handler({ Records: [{ s3: { object: { key: "incoming/a+b%2Cc.csv" } } }] });
            // The result comes from another V8 context; compare it as data.
            assert.deepEqual(JSON.parse(JSON.stringify(result)), { marker: "echo-fixture-handler", keys: ["incoming/a b,c.csv"] });
        });

        it("creates the log group /aws/lambda/<name> (14 days, KMS) before the function and logs to it", () => {
            const group = named("trigger-logs", "aws:cloudwatch/logGroup:LogGroup");
            assert.equal(group.inputs.name, "/aws/lambda/GlueTriggerLambda-dev");
            assert.equal(group.inputs.retentionInDays, 14);
            assert.equal(group.inputs.kmsKeyId, KEY);
            assert.ok(named("trigger-function").dependencies.includes(group.urn), "function depends on its log group");
            assert.deepEqual(fn.loggingConfig, { logFormat: "JSON", logGroup: "/aws/lambda/GlueTriggerLambda-dev" });
        });

        it("runs as its own role, trusted by Lambda only, after the role's policy exists", async () => {
            const role = named("trigger-role", "aws:iam/role:Role");
            assert.deepEqual(statementsOf(role.inputs.assumeRolePolicy), [
                { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
            ]);
            assert.equal(fn.role, `arn:aws:iam::${ACCOUNT}:role/trigger-role`);
            assert.equal(named("trigger-policy").inputs.role, await output(component.role.id));
            assert.ok(named("trigger-function").dependencies.includes(named("trigger-policy").urn));
            assert.deepEqual(role.inputs.managedPolicyArns, undefined, "no managed policies (AWSLambdaBasicExecutionRole would allow logs on *)");
        });

        it("grants exactly: logs on its group, SendMessage on its DLQ, its key, X-Ray, the given statements, and its own queue", () => {
            const statements = statementsOf(named("trigger-policy", "aws:iam/rolePolicy:RolePolicy").inputs.policy);
            const table = statements.map((s) => [s.Sid, asList(s.Action), asList(s.Resource)]);
            assert.deepEqual(table, [
                ["WriteOwnLogGroup", ["logs:CreateLogStream", "logs:PutLogEvents"], [LOG_GROUP_ARN, `${LOG_GROUP_ARN}:log-stream:*`]],
                ["SendToDeadLetterQueue", ["sqs:SendMessage"], [DLQ_ARN]],
                ["UseFunctionKey", ["kms:Decrypt", "kms:GenerateDataKey"], [KEY]],
                ["WriteTraces", ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], ["*"]],
                ["StartFileProcessor", ["glue:StartJobRun"], [JOB]],
                [
                    "TrackFiles",
                    ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
                    [TABLE],
                ],
                ["ReadUploads", ["s3:GetObject", "s3:GetObjectVersion"], [`${INPUT_ARN}/incoming/*`]],
                [
                    "ConsumeOwnQueue",
                    ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility", "sqs:SendMessage"],
                    [QUEUE_ARN],
                ],
            ]);
            // SQS actions on its own two queues only: the async DLQ (send) and its feed queue.
            const sqsResources = statements.filter((s) => asList(s.Action).some((a) => a.startsWith("sqs:"))).flatMap((s) => asList(s.Resource));
            assert.deepEqual(sqsResources, [DLQ_ARN, QUEUE_ARN]);
            for (const s of statements) assert.equal(s.Effect, "Allow");
            assert.deepEqual(policies.wildcardResourceViolations({ Version: "2012-10-17", Statement: statements }), []);
            const onStar = statements.filter((s) => asList(s.Resource).includes("*")).flatMap((s) => asList(s.Action));
            assert.ok(onStar.every((a) => a.startsWith("xray:")), `only X-Ray on *: ${onStar}`);
        });

        it("keeps failed events in a KMS-encrypted DLQ for 14 days, refusing non-TLS", () => {
            const dlq = named("trigger-dlq", "aws:sqs/queue:Queue").inputs;
            assert.equal(dlq.name, "GlueTriggerLambda-dev-dlq");
            assert.equal(dlq.messageRetentionSeconds, 1209600);
            assert.equal(dlq.kmsMasterKeyId, KEY);
            assert.equal(dlq.sqsManagedSseEnabled, undefined);
            const policy = named("trigger-dlq-policy", "aws:sqs/queuePolicy:QueuePolicy").inputs;
            assert.equal(policy.queueUrl, `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/GlueTriggerLambda-dev-dlq`);
            assert.deepEqual(statementsOf(policy.policy), [
                { Sid: "DenyInsecureTransport", Effect: "Deny", Principal: "*", Action: "sqs:*", Resource: DLQ_ARN, Condition: { Bool: { "aws:SecureTransport": "false" } } },
            ]);
        });

        it("retries async invocations twice for up to 6 h, then sends them to the DLQ", () => {
            const config = named("trigger-async", "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig");
            assert.equal(config.inputs.functionName, "GlueTriggerLambda-dev");
            assert.equal(config.inputs.maximumRetryAttempts, 2);
            assert.equal(config.inputs.maximumEventAgeInSeconds, 21600);
            assert.deepEqual(config.inputs.destinationConfig, { onFailure: { destination: DLQ_ARN } });
            assert.ok(config.dependencies.includes(named("trigger-policy").urn), "Lambda validates the destination against the role");
        });

        it("feeds the function from its own queue: SSE-SQS, visibility 6 x the timeout, 4 days, redrive to its DLQ after 5 receives", () => {
            const queue = named("trigger-queue", "aws:sqs/queue:Queue").inputs;
            assert.equal(queue.name, "GlueTriggerLambda-dev-queue");
            assert.equal(queue.sqsManagedSseEnabled, true);
            assert.equal(queue.kmsMasterKeyId, undefined, "S3 could not send under the data-lake key without a key policy for it");
            assert.equal(queue.visibilityTimeoutSeconds, 180);
            assert.equal(queue.messageRetentionSeconds, 4 * 24 * 3600);
            assert.deepEqual(JSON.parse(queue.redrivePolicy), { deadLetterTargetArn: QUEUE_DLQ_ARN, maxReceiveCount: 5 });
            const dlq = named("trigger-queue-dlq", "aws:sqs/queue:Queue").inputs;
            assert.equal(dlq.name, "GlueTriggerLambda-dev-queue-dlq");
            assert.equal(dlq.sqsManagedSseEnabled, true);
            // A moved message keeps its first enqueue time: the DLQ keeps messages longer than its source.
            assert.equal(dlq.messageRetentionSeconds, 1209600);
            assert.ok(dlq.messageRetentionSeconds > queue.messageRetentionSeconds);
            assert.deepEqual(statementsOf(named("trigger-queue-dlq-policy").inputs.policy), [TLS_ONLY(QUEUE_DLQ_ARN)]);
        });

        it("lets only S3, for this bucket and its account, send to the queue, and refuses non-TLS", () => {
            const policy = named("trigger-queue-policy", "aws:sqs/queuePolicy:QueuePolicy").inputs;
            assert.equal(policy.queueUrl, QUEUE_URL);
            assert.deepEqual(statementsOf(policy.policy), [
                TLS_ONLY(QUEUE_ARN),
                {
                    Sid: "AllowS3EventNotifications",
                    Effect: "Allow",
                    Principal: { Service: "s3.amazonaws.com" },
                    Action: "sqs:SendMessage",
                    Resource: QUEUE_ARN,
                    Condition: { ArnEquals: { "aws:SourceArn": INPUT_ARN }, StringEquals: { "aws:SourceAccount": ACCOUNT } },
                },
            ]);
            assert.deepEqual(ofType("aws:lambda/permission:Permission"), [], "S3 no longer invokes the function");
        });

        it("maps the queue to the function: batches of 10, at most 2 concurrent, partial batch failures, after the role's policy", () => {
            const mapping = named("trigger-queue-events", "aws:lambda/eventSourceMapping:EventSourceMapping");
            assert.equal(mapping.inputs.eventSourceArn, QUEUE_ARN);
            assert.equal(mapping.inputs.functionName, FUNCTION_ARN);
            assert.equal(mapping.inputs.batchSize, 10);
            assert.deepEqual(mapping.inputs.functionResponseTypes, ["ReportBatchItemFailures"]);
            assert.deepEqual(mapping.inputs.scalingConfig, { maximumConcurrency: 2 });
            assert.ok(mapping.dependencies.includes(named("trigger-policy").urn), "Lambda checks the role may receive");
        });

        it("sends .csv object-created events under the prefix to the queue, after the queue's policy", () => {
            const notification = named("trigger-notification", "aws:s3/bucketNotification:BucketNotification");
            assert.equal(notification.inputs.bucket, `glue-input-dev-${ACCOUNT}`);
            assert.equal(notification.inputs.lambdaFunctions, undefined);
            assert.deepEqual(notification.inputs.queues, [{ events: ["s3:ObjectCreated:*"], filterSuffix: ".csv", filterPrefix: "incoming/", queueArn: QUEUE_ARN }]);
            assert.ok(notification.dependencies.includes(named("trigger-queue-policy").urn), "notification depends on the queue policy");
            assert.ok(component.notification);
        });

        it("parents every child to the component and names them after it", () => {
            const children = descendantsOf(named("trigger", "glue-pipeline:compute:S3TriggeredLambda"));
            assert.deepEqual(children.map((c) => c.name).sort(), [
                "trigger-async", "trigger-dlq", "trigger-dlq-policy", "trigger-function", "trigger-logs",
                "trigger-notification", "trigger-policy", "trigger-queue", "trigger-queue-dlq", "trigger-queue-dlq-policy",
                "trigger-queue-events", "trigger-queue-policy", "trigger-role",
            ]);
        });
    });

    describe("with defaults and a bucket given by name and ARN", () => {
        before(async () => {
            resetRecorded();
            new m.S3TriggeredLambda("plain", { ...baseArgs({ name: "other-bucket", arn: "arn:aws:s3:::other-bucket" }), bucketOwnerAccountId: "222222222222" });
            await waitForRegistrations();
        });

        it("uses SQS-managed encryption and AWS-managed keys when no KMS key is given", () => {
            const dlq = named("plain-dlq").inputs;
            assert.equal(dlq.sqsManagedSseEnabled, true);
            assert.equal(dlq.kmsMasterKeyId, undefined);
            assert.equal(named("plain-logs").inputs.kmsKeyId, undefined);
            assert.equal(named("plain-function").inputs.kmsKeyArn, undefined);
            const sids = statementsOf(named("plain-policy").inputs.policy).map((s) => s.Sid);
            assert.deepEqual(sids, ["WriteOwnLogGroup", "SendToDeadLetterQueue", "WriteTraces", "ConsumeOwnQueue"]);
        });

        it("reserves no concurrency, sets only its queue's URL, filters on suffix only", () => {
            const fn = named("plain-function").inputs;
            assert.equal(fn.reservedConcurrentExecutions, undefined);
            assert.deepEqual(fn.environment, { variables: { QUEUE_URL: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/GlueTriggerLambda-dev-queue` } });
            assert.deepEqual(named("plain-notification").inputs.queues[0].filterPrefix, undefined);
            assert.equal(named("plain-notification").inputs.bucket, "other-bucket");
        });

        it("scopes the queue policy to the given bucket and owner account", () => {
            const allow = statementsOf(named("plain-queue-policy").inputs.policy).find((s) => s.Effect === "Allow");
            assert.deepEqual(allow?.Condition, { ArnEquals: { "aws:SourceArn": "arn:aws:s3:::other-bucket" }, StringEquals: { "aws:SourceAccount": "222222222222" } });
        });
    });

    describe("with overrides", () => {
        before(async () => {
            resetRecorded();
            new m.S3TriggeredLambda("tuned", {
                ...baseArgs({ name: "b", arn: "arn:aws:s3:::b" }),
                timeoutSeconds: 60,
                memorySizeMb: 512,
                maximumRetryAttempts: 0,
                maximumEventAgeSeconds: 3600,
                logRetentionDays: 30,
                events: ["s3:ObjectCreated:Put", "s3:ObjectCreated:CompleteMultipartUpload"],
                queue: { batchSize: 1, maximumConcurrency: 4, maxReceiveCount: 3, requeueBaseDelaySeconds: 10, maxWaitAttempts: 20 },
            });
            await waitForRegistrations();
        });
        it("applies timeout, memory, retries, event age, retention and events", () => {
            assert.equal(named("tuned-function").inputs.timeout, 60);
            assert.equal(named("tuned-function").inputs.memorySize, 512);
            assert.equal(named("tuned-async").inputs.maximumRetryAttempts, 0);
            assert.equal(named("tuned-async").inputs.maximumEventAgeInSeconds, 3600);
            assert.equal(named("tuned-logs").inputs.retentionInDays, 30);
            assert.deepEqual(named("tuned-notification").inputs.queues[0].events, ["s3:ObjectCreated:Put", "s3:ObjectCreated:CompleteMultipartUpload"]);
        });
        it("applies the queue settings: batch, concurrency, receives before the DLQ, visibility from the timeout, the waits", () => {
            const mapping = named("tuned-queue-events").inputs;
            assert.equal(mapping.batchSize, 1);
            assert.deepEqual(mapping.scalingConfig, { maximumConcurrency: 4 });
            const queue = named("tuned-queue").inputs;
            assert.equal(JSON.parse(queue.redrivePolicy).maxReceiveCount, 3);
            assert.equal(queue.visibilityTimeoutSeconds, 360);
            const vars = named("tuned-function").inputs.environment.variables;
            assert.equal(vars.REQUEUE_BASE_DELAY_SECONDS, "10");
            assert.equal(vars.MAX_WAIT_ATTEMPTS, "20");
        });
    });

    describe("sharing a bucket (createNotification: false)", () => {
        let a: S3TriggeredLambda;
        let b: S3TriggeredLambda;
        before(async () => {
            resetRecorded();
            const bucket = { name: "shared", arn: "arn:aws:s3:::shared" };
            a = new m.S3TriggeredLambda("csv", { ...baseArgs(bucket), functionName: "CsvTrigger", createNotification: false });
            b = new m.S3TriggeredLambda("parquet", { ...baseArgs(bucket), functionName: "ParquetTrigger", filterSuffix: ".parquet", filterPrefix: "raw-data/", createNotification: false });
            // The documented pattern: one notification for the bucket, waiting for every queue policy.
            new aws.s3.BucketNotification("shared-notification", { bucket: "shared", queues: [a.queueNotification, b.queueNotification] }, { dependsOn: [a.queuePolicy, b.queuePolicy] });
            await waitForRegistrations();
        });
        it("creates no notification of its own", () => {
            assert.equal(a.notification, undefined);
            assert.deepEqual(ofType("aws:s3/bucketNotification:BucketNotification").map((r) => r.name), ["shared-notification"]);
        });
        it("exposes what a shared notification needs", () => {
            const shared = named("shared-notification");
            assert.deepEqual(shared.inputs.queues, [
                { events: ["s3:ObjectCreated:*"], filterSuffix: ".csv", queueArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:CsvTrigger-queue` },
                { events: ["s3:ObjectCreated:*"], filterSuffix: ".parquet", filterPrefix: "raw-data/", queueArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:ParquetTrigger-queue` },
            ]);
            for (const p of ["csv-queue-policy", "parquet-queue-policy"]) assert.ok(shared.dependencies.includes(named(p).urn), p);
        });
    });

    describe("argument validation", () => {
        const bucket = { name: "b", arn: "arn:aws:s3:::b" };
        const cases: [string, Partial<S3TriggeredLambdaArgs>, RegExp][] = [
            ["a function name with a space", { functionName: "Glue Trigger" }, /functionName "Glue Trigger" must be 1-64/],
            ["a 65-character function name", { functionName: "f".repeat(65) }, /functionName/],
            ["a missing entry file", { entry: "functions/does-not-exist/handler.ts" }, /entry "functions\/does-not-exist\/handler.ts" is not a file/],
            ["a directory as entry", { entry: "test/fixtures/functions/echo" }, /is not a file/],
            ["an empty suffix", { filterSuffix: "" }, /filterSuffix is required/],
            ["an empty prefix", { filterPrefix: "" }, /filterPrefix "" must be non-empty/],
            ["a prefix starting with /", { filterPrefix: "/in" }, /filterPrefix "\/in"/],
            ["a non-S3 event", { events: ["ObjectCreated"] }, /events .* must be S3 event types/],
            ["no events", { events: [] }, /events/],
            ["a 901 s timeout", { timeoutSeconds: 901 }, /timeoutSeconds must be a whole number from 1 to 900, got 901/],
            ["64 MB", { memorySizeMb: 64 }, /memorySizeMb must be a whole number from 128 to 10240/],
            ["3 retries", { maximumRetryAttempts: 3 }, /maximumRetryAttempts must be a whole number from 0 to 2/],
            ["a 30 s event age", { maximumEventAgeSeconds: 30 }, /maximumEventAgeSeconds/],
            ["negative reserved concurrency", { reservedConcurrency: -1 }, /reservedConcurrency/],
            ["15-day log retention", { logRetentionDays: 15 }, /logRetentionDays 15 is not one CloudWatch Logs accepts/],
            ["a reserved environment variable", { environment: { AWS_REGION: "eu-west-1" } }, /AWS_REGION is reserved by Lambda/],
            ["an invalid environment variable name", { environment: { "GLUE-JOB": "x" } }, /environment variable "GLUE-JOB" is not a valid name/],
            ["a queue URL set by hand", { environment: { QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/1/q" } }, /environment sets QUEUE_URL; the component sets them/],
            ["a batch of 11 (SQS would need a batching window)", { queue: { batchSize: 11 } }, /queue.batchSize must be a whole number from 1 to 10, got 11/],
            ["a maximum concurrency of 1 (AWS's minimum is 2)", { queue: { maximumConcurrency: 1 } }, /queue.maximumConcurrency must be a whole number from 2 to 1000, got 1/],
            ["a maximum concurrency above the reservation", { reservedConcurrency: 3, queue: { maximumConcurrency: 5 } }, /queue.maximumConcurrency 5 exceeds reservedConcurrency 3/],
            ["0 receives before the DLQ", { queue: { maxReceiveCount: 0 } }, /queue.maxReceiveCount/],
            ["a base delay beyond SQS's 900 s", { queue: { requeueBaseDelaySeconds: 901 } }, /queue.requeueBaseDelaySeconds/],
        ];
        for (const [title, args, message] of cases) {
            it(`rejects ${title}`, () => {
                resetRecorded();
                assert.throws(() => new m.S3TriggeredLambda(`bad-${title.replace(/\W+/g, "-")}`, { ...baseArgs(bucket), ...args }), message);
            });
        }
        it("accepts the stack's arguments", () => assert.doesNotThrow(() => m.validateS3TriggeredLambdaArgs({ ...baseArgs(bucket), reservedConcurrency: 0 })));
    });

    describe("pure helpers", () => {
        const groups: [string, string][] = [
            ["GlueTriggerLambda-dev", "/aws/lambda/GlueTriggerLambda-dev"],
            ["x", "/aws/lambda/x"],
        ];
        for (const [name, group] of groups) it(`m.lambdaLogGroupName(${name})`, () => assert.equal(m.lambdaLogGroupName(name), group));

        const arns: [string, string | RegExp][] = [
            [FUNCTION_ARN, ACCOUNT],
            ["arn:aws-cn:lambda:cn-north-1:222222222222:function:f:$LATEST", "222222222222"],
            ["arn:aws:s3:::bucket", /no account ID/],
            ["not-an-arn", /no account ID/],
        ];
        for (const [arn, expected] of arns) {
            it(`m.accountOfArn(${arn})`, () => {
                if (typeof expected === "string") assert.equal(m.accountOfArn(arn), expected);
                else assert.throws(() => m.accountOfArn(arn), expected);
            });
        }

        describe("executionPolicy", () => {
            const base = { logGroupArn: LOG_GROUP_ARN, deadLetterQueueArn: DLQ_ARN };
            const rejected: [string, PolicyStatement][] = [
                ["S3 on *", { Effect: "Allow", Action: "s3:GetObject", Resource: "*" }],
                ["DynamoDB on *", { Effect: "Allow", Action: ["dynamodb:PutItem"], Resource: ["*"] }],
                ["Glue on *", { Effect: "Allow", Action: "glue:StartJobRun", Resource: "*" }],
                ["KMS on *", { Effect: "Allow", Action: "kms:Decrypt", Resource: "*" }],
                ["SQS on *", { Effect: "Allow", Action: "sqs:SendMessage", Resource: "*" }],
            ];
            for (const [title, statement] of rejected) {
                it(`rejects an extra statement granting ${title}`, () => assert.throws(() => m.executionPolicy({ ...base, extraStatements: [statement] }), /Resource "\*"/));
            }
            it("with a key adds exactly one KMS statement on it", () => {
                const kms = m.executionPolicy({ ...base, kmsKeyArn: KEY }).Statement.filter((s) => asList(s.Action).some((a) => a.startsWith("kms:")));
                assert.deepEqual(kms, [{ Sid: "UseFunctionKey", Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: [KEY] }]);
            });
            it("never grants logs:CreateLogGroup or logs on *", () => {
                const logs = m.executionPolicy(base).Statement.filter((s) => asList(s.Action).some((a) => a.startsWith("logs:")));
                assert.equal(logs.length, 1);
                assert.ok(!asList(logs[0].Action).includes("logs:CreateLogGroup"));
                assert.ok(!asList(logs[0].Resource).includes("*"));
            });
        });

        it("the trigger queue's timing: visibility 6 x the timeout, retention past the longest wait and short of its DLQ's", async () => {
            const q = await import("../../components/compute/triggerQueue");
            assert.deepEqual([30, 60, 900].map(q.visibilityTimeoutSeconds), [180, 360, 5400]);
            assert.ok(q.TRIGGER_QUEUE_RETENTION_SECONDS > q.LONGEST_WAIT_SECONDS);
            assert.ok(q.TRIGGER_QUEUE_RETENTION_SECONDS < m.DEAD_LETTER_RETENTION_SECONDS, "a moved message keeps its first enqueue time");
        });

        it("deadLetterQueuePolicy denies non-TLS on the queue only", () => {
            const [s] = m.deadLetterQueuePolicy(DLQ_ARN).Statement;
            assert.equal(s.Effect, "Deny");
            assert.equal(s.Resource, DLQ_ARN);
        });
    });
});
