/**
 * PipelineMonitoring and GlueJobEventHandler under Pulumi mocks: which alarms exist, on which metrics, with
 * which statistics, periods, thresholds and missing-data treatment, all wired to the encrypted alerts topic;
 * the dashboards' contents; the handler's rule, retries, dead letters and least-privilege role.
 */
import * as assert from "node:assert/strict";
import type { AlarmSpec, PipelineMonitoring, PipelineMonitoringArgs } from "../../components/monitoring";
import { asList, descendantsOf, named, ofType, RecordedResource, resetRecorded, statementsOf, waitForRegistrations } from "../support/graph";

let m: typeof import("../../components/monitoring");
let h: typeof import("../../components/monitoring/glueJobEventHandler");
let policies: typeof import("../../components/iam/iamPolicies");

const ACCOUNT = "111111111111";
const REGION = "eu-west-1";
const JOB_ARN = `arn:aws:glue:${REGION}:${ACCOUNT}:job/FileProcessorV2-dev`;
const TABLE_ARN = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/etl-pipeline-metadata-dev`;
const DATA_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/data-lake`;
/** A state machine that does not exist yet in this project: a fixture, to prove the alarm's shape. */
const MACHINE_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:medallion-dev`;
const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:glue-pipeline-alerts-dev`;

function fullArgs(overrides: Partial<PipelineMonitoringArgs> = {}): PipelineMonitoringArgs {
    return {
        stage: "dev",
        alertEmails: ["oncall@example.com", "Data.Team@example.org"],
        glueJobs: [
            {
                label: "FileProcessorV2-dev",
                name: "FileProcessorV2-dev",
                arn: JOB_ARN,
                logGroups: { output: "/aws-glue/jobs/sc-role/FileProcessorV2-dev-role/output", error: "/aws-glue/jobs/sc-role/FileProcessorV2-dev-role/error" },
            },
        ],
        functions: [{ label: "GlueTriggerLambda-dev", name: "GlueTriggerLambda-dev" }],
        deadLetterQueues: [{ label: "GlueTriggerLambda-dev-dlq", name: "GlueTriggerLambda-dev-dlq" }],
        tables: [{ label: "etl-pipeline-metadata-dev", name: "etl-pipeline-metadata-dev", globalSecondaryIndexes: ["by-status"] }],
        stateMachines: [{ label: "medallion-dev", arn: MACHINE_ARN }],
        metadataTable: { name: "etl-pipeline-metadata-dev", arn: TABLE_ARN },
        kmsKeyArn: DATA_KEY,
        replayCommand: "npm run replay -- --stack dev",
        ...overrides,
    };
}

const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";

describe("PipelineMonitoring", () => {
    before(async () => {
        m = await import("../../components/monitoring");
        h = await import("../../components/monitoring/glueJobEventHandler");
        policies = await import("../../components/iam/iamPolicies");
    });

    describe("alarm specifications (pure)", () => {
        let specs: AlarmSpec[];
        before(() => {
            specs = m.alarmSpecs({
                stage: "dev",
                metricNamespace: "GluePipeline",
                glueJobs: [{ label: "FileProcessorV2-dev", name: "FileProcessorV2-dev", arn: JOB_ARN }],
                functions: [
                    { label: "GlueTriggerLambda-dev", name: "GlueTriggerLambda-dev" },
                    { label: "Slow-dev", name: "Slow-dev", throttleMinutes: 30 },
                ],
                queues: [{ label: "q-dlq", name: "q-dlq" }],
                tables: [{ label: "t", name: "etl-pipeline-metadata-dev", globalSecondaryIndexes: ["by-status"] }],
                stateMachines: [{ label: "medallion-dev", arn: MACHINE_ARN }],
                thresholds: m.DEFAULT_THRESHOLDS,
            });
        });
        const spec = (key: string) => {
            const s = specs.find((x) => x.key === key);
            assert.ok(s, `no alarm ${key}; have ${specs.map((x) => x.key).join(", ")}`);
            return s;
        };

        it("creates one alarm per kind and item, all strictly greater-than and notBreaching on missing data", () => {
            assert.deepEqual(
                specs.map((s) => s.key),
                [
                    "glue-FileProcessorV2-dev-failure-rate",
                    "glue-FileProcessorV2-dev-duration",
                    "lambda-GlueTriggerLambda-dev-error-rate",
                    "lambda-GlueTriggerLambda-dev-throttles",
                    "lambda-Slow-dev-error-rate",
                    "lambda-Slow-dev-throttles",
                    "dlq-q-dlq-depth",
                    "dynamodb-t-throttles",
                    "sfn-medallion-dev-failed",
                ],
            );
            for (const s of specs) {
                assert.equal(s.comparisonOperator, "GreaterThanThreshold", s.key);
                assert.equal(s.treatMissingData, "notBreaching", s.key);
                assert.ok(s.description.length > 40, `${s.key} explains itself`);
                assert.ok((s.metric === undefined) !== (s.queries === undefined), `${s.key}: one metric or metric math`);
                if (s.queries) assert.equal(s.queries.filter((q) => q.returnData).length, 1, `${s.key}: exactly one returned series`);
            }
        });

        it("Glue failure rate: 100 × the hourly average of the 0/1 run outcome, above 10 %", () => {
            const s = spec("glue-FileProcessorV2-dev-failure-rate");
            assert.equal(s.threshold, 10);
            assert.equal(s.evaluationPeriods, 1);
            const [outcome, rate] = s.queries!;
            assert.deepEqual(outcome.metric, {
                namespace: "GluePipeline",
                metricName: "JobRunFailed",
                dimensions: { JobName: "FileProcessorV2-dev" },
                stat: "Average",
                period: 3600,
            });
            assert.equal(outcome.returnData, false);
            assert.equal(rate.expression, "100 * outcome");
            assert.equal(rate.returnData, true);
        });

        it("Glue duration: the largest run-duration ratio in the hour above 2", () => {
            const s = spec("glue-FileProcessorV2-dev-duration");
            assert.equal(s.threshold, 2);
            assert.deepEqual(s.metric, {
                namespace: "GluePipeline",
                metricName: "JobRunDurationRatio",
                dimensions: { JobName: "FileProcessorV2-dev" },
                stat: "Maximum",
                period: 3600,
            });
        });

        it("Lambda error rate: 100 × errors ÷ invocations over 5 min, above 5 %", () => {
            const s = spec("lambda-GlueTriggerLambda-dev-error-rate");
            assert.equal(s.threshold, 5);
            const byId = Object.fromEntries(s.queries!.map((q) => [q.id, q]));
            assert.deepEqual(byId.errors.metric, { namespace: "AWS/Lambda", metricName: "Errors", dimensions: { FunctionName: "GlueTriggerLambda-dev" }, stat: "Sum", period: 300 });
            assert.deepEqual(byId.invocations.metric, { namespace: "AWS/Lambda", metricName: "Invocations", dimensions: { FunctionName: "GlueTriggerLambda-dev" }, stat: "Sum", period: 300 });
            assert.equal(byId.error_rate.expression, "100 * FILL(errors, 0) / invocations");
        });

        it("Lambda throttles: any throttle in every 5-min period for the function's throttle minutes", () => {
            const fast = spec("lambda-GlueTriggerLambda-dev-throttles");
            assert.equal(fast.threshold, 0);
            assert.deepEqual([fast.evaluationPeriods, fast.datapointsToAlarm], [3, 3]);
            assert.deepEqual(fast.metric, { namespace: "AWS/Lambda", metricName: "Throttles", dimensions: { FunctionName: "GlueTriggerLambda-dev" }, stat: "Sum", period: 300 });
            const slow = spec("lambda-Slow-dev-throttles");
            assert.deepEqual([slow.evaluationPeriods, slow.datapointsToAlarm], [6, 6]);
        });

        it("DLQ depth: the most visible messages in 5 min above 0", () => {
            const s = spec("dlq-q-dlq-depth");
            assert.equal(s.threshold, 0);
            assert.deepEqual(s.metric, { namespace: "AWS/SQS", metricName: "ApproximateNumberOfMessagesVisible", dimensions: { QueueName: "q-dlq" }, stat: "Maximum", period: 300 });
        });

        it("DynamoDB: read and write throttle events of the table and its index, summed, above 0", () => {
            const s = spec("dynamodb-t-throttles");
            const metrics = s.queries!.filter((q) => q.metric).map((q) => [q.id, q.metric!.metricName, q.metric!.dimensions]);
            assert.deepEqual(metrics, [
                ["read", "ReadThrottleEvents", { TableName: "etl-pipeline-metadata-dev" }],
                ["write", "WriteThrottleEvents", { TableName: "etl-pipeline-metadata-dev" }],
                ["read_gsi0", "ReadThrottleEvents", { TableName: "etl-pipeline-metadata-dev", GlobalSecondaryIndexName: "by-status" }],
                ["write_gsi0", "WriteThrottleEvents", { TableName: "etl-pipeline-metadata-dev", GlobalSecondaryIndexName: "by-status" }],
            ]);
            assert.equal(s.queries!.find((q) => q.returnData)!.expression, "FILL(read, 0) + FILL(write, 0) + FILL(read_gsi0, 0) + FILL(write_gsi0, 0)");
        });

        it("Step Functions: failed plus timed-out executions of the state machine above 0", () => {
            const s = spec("sfn-medallion-dev-failed");
            const dims = s.queries!.filter((q) => q.metric).map((q) => [q.metric!.metricName, q.metric!.dimensions.StateMachineArn]);
            assert.deepEqual(dims, [
                ["ExecutionsFailed", MACHINE_ARN],
                ["ExecutionsTimedOut", MACHINE_ARN],
            ]);
            assert.equal(s.queries!.find((q) => q.returnData)!.expression, "FILL(failed, 0) + FILL(timed_out, 0)");
        });

        it("honours overridden thresholds and windows", () => {
            const custom = m.alarmSpecs({
                stage: "dev",
                metricNamespace: "Custom/NS",
                glueJobs: [{ label: "J", name: "J", arn: JOB_ARN }],
                functions: [],
                queues: [],
                tables: [],
                stateMachines: [],
                thresholds: { ...m.DEFAULT_THRESHOLDS, glueFailureRatePercent: 25, glueFailureWindowMinutes: 180, glueDurationRatio: 3 },
            });
            const failure = custom.find((s) => s.kind === "glue-failure-rate")!;
            assert.equal(failure.threshold, 25);
            assert.equal(failure.queries![0].metric!.period, 10800);
            assert.equal(failure.queries![0].metric!.namespace, "Custom/NS");
            assert.equal(custom.find((s) => s.kind === "glue-duration")!.threshold, 3);
        });

        it("maps a spec to MetricAlarm arguments (single metric and metric math)", () => {
            const single = m.metricAlarmArgs(spec("dlq-q-dlq-depth"));
            assert.equal(single.metricName, "ApproximateNumberOfMessagesVisible");
            assert.equal(single.statistic, "Maximum");
            assert.equal(single.metricQueries, undefined);
            const math = m.metricAlarmArgs(spec("lambda-GlueTriggerLambda-dev-error-rate")) as any;
            assert.equal(math.metricName, undefined);
            assert.equal(math.metricQueries.length, 3);
            assert.deepEqual(math.metricQueries[0].metric, {
                namespace: "AWS/Lambda",
                metricName: "Errors",
                dimensions: { FunctionName: "GlueTriggerLambda-dev" },
                stat: "Sum",
                period: 300,
            });
        });
    });

    describe("argument checks", () => {
        const cases: Array<[string, Partial<PipelineMonitoringArgs>, RegExp]> = [
            ["a label used twice", { functions: [{ label: "f", name: "a" }, { label: "f", name: "b" }] }, /functions: label f is used twice/],
            ["a label with spaces", { deadLetterQueues: [{ label: "my queue", name: "q" }] }, /deadLetterQueues: label "my queue" must be/],
            ["throttle minutes not whole periods", { functions: [{ label: "f", name: "f", throttleMinutes: 7 }] }, /throttleMinutes 7 must be a multiple of lambdaPeriodMinutes \(5\)/],
            ["a failure rate of 100 %", { thresholds: { glueFailureRatePercent: 100 } }, /glueFailureRatePercent must be between 0 and 100/],
            ["a duration ratio of 1", { thresholds: { glueDurationRatio: 1 } }, /glueDurationRatio must be greater than 1/],
            ["a window of half a minute", { thresholds: { queuePeriodMinutes: 0.5 } }, /thresholds.queuePeriodMinutes must be whole minutes/],
            ["an email without a domain", { alertEmails: ["oncall"] }, /alertEmails: "oncall" is not an email address/],
            ["an email twice", { alertEmails: ["a@example.com", "A@EXAMPLE.COM"] }, /alertEmails: A@EXAMPLE.COM is listed twice/],
            ["Glue jobs without the metadata table", { metadataTable: undefined }, /glueJobs needs metadataTable/],
            ["a bad stage", { stage: "Dev" }, /stage "Dev" must be lowercase/],
            ["a feed-queue age bound under a minute", { feedQueues: [{ label: "q", name: "q", maxAgeSeconds: 30 }] }, /feedQueues: q: maxAgeSeconds 30 must be whole seconds from 60/],
            ["a feed-queue label used twice", { feedQueues: [{ label: "q", name: "a" }, { label: "q", name: "b" }] }, /feedQueues: label q is used twice/],
            [
                "a fast path falling back to a job not watched",
                { fastPaths: [{ label: "CsvConverter-dev", functionName: "CsvConverter-dev", timeoutSeconds: 300, fallbackJobLabel: "Other-dev" }] },
                /fastPaths: CsvConverter-dev: fallbackJobLabel "Other-dev" names no job in glueJobs \(FileProcessorV2-dev\)/,
            ],
            [
                "a fast path timeout beyond Lambda's 900 s",
                { fastPaths: [{ label: "CsvConverter-dev", functionName: "CsvConverter-dev", timeoutSeconds: 901, fallbackJobLabel: "FileProcessorV2-dev" }] },
                /fastPaths: CsvConverter-dev: timeoutSeconds 901 must be whole seconds from 1 to 900/,
            ],
            ["a fast-path fallback threshold of half a file", { thresholds: { fastPathFallbacks: 0.5 } }, /fastPathFallbacks must be a whole number/],
            ["a duration alarm at the timeout", { thresholds: { fastPathDurationPercentOfTimeout: 100 } }, /fastPathDurationPercentOfTimeout must be between 0 and 100/],
        ];
        for (const [title, overrides, message] of cases) {
            it(`rejects ${title}`, () => {
                resetRecorded();
                assert.throws(() => new m.PipelineMonitoring(`bad-${title.replace(/\W+/g, "-")}`, fullArgs(overrides)), message);
            });
        }
    });

    describe("topic, key and subscription helpers (pure)", () => {
        it("lets CloudWatch alarms use the alerts key and keeps key use delegated to IAM", () => {
            const doc = m.alertsKeyPolicy(ACCOUNT);
            const cw = doc.Statement.find((s) => s.Sid === "CloudWatchAlarmsPublishEncrypted")!;
            assert.deepEqual(cw.Principal, { Service: "cloudwatch.amazonaws.com" });
            assert.deepEqual(cw.Action, ["kms:Decrypt", "kms:GenerateDataKey*"]);
            const delegated = doc.Statement.find((s) => s.Sid === "AccountDelegatesUseToIam")!;
            assert.deepEqual(delegated.Principal, { AWS: `arn:aws:iam::${ACCOUNT}:root` });
            assert.throws(() => m.alertsKeyPolicy("123"), /not an account id/);
        });

        it("lets only this account's alarms publish, and only over TLS", () => {
            const doc = m.alertsTopicPolicy(TOPIC_ARN);
            const publish = doc.Statement.find((s) => s.Sid === "CloudWatchAlarmsPublish")!;
            assert.equal(publish.Resource, TOPIC_ARN);
            assert.deepEqual(publish.Condition, { ArnLike: { "aws:SourceArn": `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:*` } });
            const deny = doc.Statement.find((s) => s.Sid === "DenyInsecureTransport")!;
            assert.equal(deny.Effect, "Deny");
            assert.deepEqual(deny.Condition, { Bool: { "aws:SecureTransport": "false" } });
        });

        it("names subscriptions by address, case-insensitively, so reordering replaces nothing", () => {
            assert.equal(m.subscriptionId("Data.Team+alerts@Example.org"), "data-team-alerts-example-org");
            assert.equal(m.subscriptionId("oncall@example.com"), m.subscriptionId("ONCALL@example.com"));
        });
    });

    describe("dashboards (pure)", () => {
        const inputs = () => ({
            stage: "dev",
            region: REGION,
            metricNamespace: "GluePipeline",
            glueJobs: [{ label: "FileProcessorV2-dev", name: "FileProcessorV2-dev" }],
            functions: [{ label: "GlueTriggerLambda-dev", name: "GlueTriggerLambda-dev" }],
            queues: [{ label: "dlq", name: "GlueTriggerLambda-dev-dlq" }],
            tables: [{ label: "t", name: "etl-pipeline-metadata-dev" }],
            stateMachines: [{ label: "medallion-dev", arn: MACHINE_ARN }],
            alarmArns: ["arn:a1", "arn:a2"],
            eventsLogGroup: "/aws/lambda/GlueJobEvents-dev",
            thresholds: m.DEFAULT_THRESHOLDS,
        });
        const titles = (body: { widgets: any[] }) => body.widgets.map((w) => w.properties.title).filter(Boolean);
        const flat = (body: unknown) => JSON.stringify(body);

        it("the overview shows files processed, records, error rates, durations and DPU-hours", () => {
            const body = m.overviewDashboard(inputs());
            assert.deepEqual(titles(body), [
                "Files processed per hour (succeeded / failed runs)",
                "Records written and quarantined per hour",
                "Error rates (%)",
                "Glue run duration (s)",
                "Glue run duration ÷ recent average",
                "DPU-hours per day",
                "Lambda duration p95 (ms)",
            ]);
            const json = flat(body);
            for (const metric of ["JobRunFailed", "RecordsWritten", "RowsQuarantined", "JobRunDurationSeconds", "JobRunDurationRatio", "JobRunDpuHours"]) {
                assert.ok(json.includes(`"GluePipeline","${metric}","JobName","FileProcessorV2-dev"`), metric);
            }
            assert.ok(json.includes('"expression":"100 * FILL(err0, 0) / inv0"'));
            const rates = body.widgets.find((w) => w.properties.title === "Error rates (%)")!;
            assert.deepEqual((rates.properties.annotations as any).horizontal.map((a: any) => a.value), [10, 5]);
        });

        it("the operations view shows every alarm, files in flight, queue depths and the latest failures", () => {
            const body = m.operationsDashboard(inputs());
            const alarms = body.widgets.find((w) => w.type === "alarm")!;
            assert.deepEqual(alarms.properties.alarms, ["arn:a1", "arn:a2"]);
            assert.deepEqual(titles(body), [
                "Alarms",
                "Files in flight (claimed, waiting for Glue capacity, started, running)",
                "Files waiting for replay (START_FAILED, FAILED)",
                "Dead-letter queue depth and oldest message age (s)",
                "Lambda concurrency, throttles and errors",
                "DynamoDB throttled requests",
                "Step Functions executions",
                "Recent runs that did not succeed",
            ]);
            const log = body.widgets.find((w) => w.type === "log")!;
            assert.match(String(log.properties.query), /^SOURCE '\/aws\/lambda\/GlueJobEvents-dev' \| fields .*job_name, job_run_id, state, file_id, source_file_path, error_message.* \| filter event = 'job_run_not_succeeded'/);
            assert.ok(flat(body).includes('"expression":"FILL(live0, 0)","id":"live_filled0","label":"CLAIMED"'));
            // A burst's backlog: files whose start Glue refused for capacity wait in the queue as WAITING.
            assert.ok(flat(body).includes('"GluePipeline","FilesByStatus","Status","WAITING"'));
        });

        it("lays widgets out on the 24-column grid without overlap", () => {
            for (const body of [m.overviewDashboard(inputs()), m.operationsDashboard(inputs())]) {
                const cells = new Set<string>();
                for (const w of body.widgets) {
                    assert.ok(w.x >= 0 && w.x + w.width <= 24, `widget at x=${w.x} width=${w.width}`);
                    for (let x = w.x; x < w.x + w.width; x++) {
                        for (let y = w.y; y < w.y + w.height; y++) {
                            assert.ok(!cells.has(`${x},${y}`), `overlap at ${x},${y}`);
                            cells.add(`${x},${y}`);
                        }
                    }
                }
            }
        });

        it("leaves out what is not monitored", () => {
            const body = m.operationsDashboard({ ...inputs(), glueJobs: [], stateMachines: [], eventsLogGroup: undefined });
            assert.ok(!titles(body).includes("Step Functions executions"));
            assert.ok(!titles(body).some((t) => t.startsWith("Files")));
            assert.ok(!body.widgets.some((w) => w.type === "log"));
        });
    });

    describe("with the flow's job, function, queue, table and a state machine fixture", () => {
        let component: PipelineMonitoring;
        let alarms: RecordedResource[];
        before(async () => {
            resetRecorded();
            component = new m.PipelineMonitoring("mon", fullArgs());
            await waitForRegistrations();
            alarms = ofType(ALARM);
        });

        it("creates an alarm for every spec, and monitors its own handler's function and DLQ", () => {
            assert.equal(alarms.length, component.alarmSpecs.length);
            const names = alarms.map((a) => a.inputs.name).sort();
            for (const expected of [
                "FileProcessorV2-dev-failure-rate",
                "FileProcessorV2-dev-duration-over-2x-average",
                "GlueTriggerLambda-dev-error-rate",
                "GlueTriggerLambda-dev-throttled",
                "GlueTriggerLambda-dev-dlq-not-empty",
                "GlueJobEvents-dev-error-rate",
                "GlueJobEvents-dev-throttled",
                "GlueJobEvents-dev-dlq-not-empty",
                "etl-pipeline-metadata-dev-throttled-requests",
                "medallion-dev-executions-failed",
            ]) {
                assert.ok(names.includes(expected), `missing alarm ${expected} in ${names.join(", ")}`);
            }
            const handlerErrors = alarms.find((a) => a.inputs.name === "GlueJobEvents-dev-error-rate")!;
            assert.equal(handlerErrors.inputs.metricQueries[0].metric.dimensions.FunctionName, "GlueJobEvents-dev");
        });

        it("sends every alarm and its recovery to the alerts topic", () => {
            const topic = named("mon-alerts", "aws:sns/topic:Topic");
            for (const alarm of alarms) {
                assert.deepEqual(alarm.inputs.alarmActions, [topic.state.arn], alarm.inputs.name);
                assert.deepEqual(alarm.inputs.okActions, [topic.state.arn], alarm.inputs.name);
                assert.equal(alarm.inputs.treatMissingData, "notBreaching", alarm.inputs.name);
                assert.ok(alarm.dependencies.includes(named("mon-alerts-policy").urn), `${alarm.inputs.name} waits for the topic policy`);
            }
        });

        it("encrypts the topic with its own key, whose policy admits CloudWatch alarms", () => {
            const topic = named("mon-alerts", "aws:sns/topic:Topic");
            const key = named("mon-alerts-key", "aws:kms/key:Key");
            assert.equal(topic.inputs.name, "glue-pipeline-alerts-dev");
            assert.equal(topic.inputs.kmsMasterKeyId, key.state.arn);
            assert.equal(key.inputs.enableKeyRotation, true);
            const cw = statementsOf(key.inputs.policy).find((s) => s.Sid === "CloudWatchAlarmsPublishEncrypted");
            assert.ok(cw);
            assert.equal(named("mon-alerts-key-alias").inputs.name, "alias/glue-pipeline-alerts-dev");
            const policy = named("mon-alerts-policy", "aws:sns/topicPolicy:TopicPolicy");
            assert.ok(statementsOf(policy.inputs.policy).some((s) => s.Sid === "DenyInsecureTransport"));
        });

        it("subscribes each configured address by email", () => {
            const subs = ofType("aws:sns/topicSubscription:TopicSubscription");
            assert.deepEqual(
                subs.map((s) => [s.name, s.inputs.protocol, s.inputs.endpoint]).sort(),
                [
                    ["mon-email-data-team-example-org", "email", "Data.Team@example.org"],
                    ["mon-email-oncall-example-com", "email", "oncall@example.com"],
                ],
            );
        });

        it("creates the two dashboards with every alarm on the operational one", async () => {
            const overview = named("mon-overview", "aws:cloudwatch/dashboard:Dashboard");
            const ops = named("mon-operations", "aws:cloudwatch/dashboard:Dashboard");
            assert.equal(overview.inputs.dashboardName, "glue-pipeline-dev-overview");
            assert.equal(ops.inputs.dashboardName, "glue-pipeline-dev-operations");
            const body = JSON.parse(ops.inputs.dashboardBody);
            const alarmWidget = body.widgets.find((w: any) => w.type === "alarm");
            assert.deepEqual([...alarmWidget.properties.alarms].sort(), alarms.map((a) => a.state.arn).sort());
            assert.ok(body.widgets.every((w: any) => ["text", "alarm"].includes(w.type) || w.properties.region === REGION));
            assert.deepEqual(component.dashboardNames, { overview: "glue-pipeline-dev-overview", operations: "glue-pipeline-dev-operations" });
        });

        it("puts every child under the component", () => {
            const root = named("mon", "glue-pipeline:monitoring:PipelineMonitoring");
            const children = descendantsOf(root).length;
            assert.ok(children >= alarms.length + 5, `only ${children} descendants`);
        });
    });

    describe("without Glue jobs, with a given alerts key", () => {
        before(async () => {
            resetRecorded();
            new m.PipelineMonitoring("bare", {
                stage: "dev",
                functions: [{ label: "Other-dev", name: "Other-dev" }],
                alertsKmsKeyArn: "arn:aws:kms:eu-west-1:111111111111:key/shared-alerts",
            });
            await waitForRegistrations();
        });

        it("creates no key, no handler, and no Glue alarms", () => {
            assert.equal(ofType("aws:kms/key:Key").length, 0);
            assert.equal(ofType("aws:lambda/function:Function").length, 0);
            assert.equal(named("bare-alerts", "aws:sns/topic:Topic").inputs.kmsMasterKeyId, "arn:aws:kms:eu-west-1:111111111111:key/shared-alerts");
            assert.deepEqual(ofType(ALARM).map((a) => a.inputs.name).sort(), ["Other-dev-error-rate", "Other-dev-throttled"]);
            assert.equal(ofType("aws:sns/topicSubscription:TopicSubscription").length, 0);
        });
    });
});

describe("PipelineMonitoring: the queues that feed the triggers (a burst's backlog)", () => {
    const QUEUE = "GlueTriggerLambda-dev-queue";
    before(async () => {
        m = await import("../../components/monitoring");
    });

    it("alarms when the oldest message is older than the queue's bound for two periods (pure)", () => {
        const specs = m.alarmSpecs({
            stage: "dev",
            metricNamespace: "GluePipeline",
            glueJobs: [],
            functions: [],
            queues: [],
            feedQueues: [{ label: QUEUE, name: QUEUE, maxAgeSeconds: 1800 }, { label: "other-queue", name: "other-queue" }],
            tables: [],
            stateMachines: [],
            thresholds: m.DEFAULT_THRESHOLDS,
        });
        assert.deepEqual(specs.map((s) => [s.key, s.kind, s.name, s.threshold]), [
            [`queue-${QUEUE}-age`, "queue-age", `${QUEUE}-backlog-age`, 1800],
            ["queue-other-queue-age", "queue-age", "other-queue-backlog-age", 3600],
        ]);
        const age = specs[0];
        assert.deepEqual(age.metric, { namespace: "AWS/SQS", metricName: "ApproximateAgeOfOldestMessage", dimensions: { QueueName: QUEUE }, stat: "Maximum", period: 300 });
        assert.deepEqual([age.comparisonOperator, age.evaluationPeriods, age.datapointsToAlarm, age.treatMissingData], ["GreaterThanThreshold", 2, 2, "notBreaching"]);
    });

    it("the operations view shows each queue's backlog: waiting, in flight, delayed for capacity, oldest age (pure)", () => {
        const body = m.operationsDashboard({
            stage: "dev",
            region: REGION,
            metricNamespace: "GluePipeline",
            glueJobs: [],
            functions: [],
            queues: [],
            feedQueues: [{ label: "csv", name: QUEUE }],
            tables: [],
            stateMachines: [],
            alarmArns: [],
            thresholds: m.DEFAULT_THRESHOLDS,
        });
        const backlog = body.widgets.find((w) => String(w.properties.title).startsWith("Trigger queue backlog"));
        assert.ok(backlog, "a backlog widget");
        const metrics = (backlog.properties.metrics as unknown[][]).map((row) => [row[1], row[3], (row[4] as { label: string }).label]);
        assert.deepEqual(metrics, [
            ["ApproximateNumberOfMessagesVisible", QUEUE, "csv waiting"],
            ["ApproximateNumberOfMessagesNotVisible", QUEUE, "csv in flight"],
            ["ApproximateNumberOfMessagesDelayed", QUEUE, "csv delayed"],
            ["ApproximateAgeOfOldestMessage", QUEUE, "csv oldest (s)"],
        ]);
    });

    it("creates the age alarm, to the alerts topic, and puts the backlog on the operations dashboard", async () => {
        resetRecorded();
        new m.PipelineMonitoring("feeds", {
            stage: "dev",
            deadLetterQueues: [{ label: `${QUEUE}-dlq`, name: `${QUEUE}-dlq` }],
            feedQueues: [{ label: QUEUE, name: QUEUE, maxAgeSeconds: 900 }],
        });
        await waitForRegistrations();
        const age = named(`feeds-queue-${QUEUE}-age`, ALARM).inputs;
        assert.equal(age.name, `${QUEUE}-backlog-age`);
        assert.equal(age.metricName, "ApproximateAgeOfOldestMessage");
        assert.equal(age.threshold, 900);
        assert.equal(age.alarmActions.length, 1);
        // The queue's own dead-letter queue is watched like every other.
        assert.equal(named(`feeds-dlq-${QUEUE}-dlq-depth`, ALARM).inputs.dimensions.QueueName, `${QUEUE}-dlq`);
        const body = JSON.parse(named("feeds-operations").inputs.dashboardBody);
        assert.ok(JSON.stringify(body).includes(`"AWS/SQS","ApproximateNumberOfMessagesDelayed","QueueName","${QUEUE}"`));
    });
});

describe("GlueJobEventHandler", () => {
    before(async () => {
        h = await import("../../components/monitoring/glueJobEventHandler");
        policies = await import("../../components/iam/iamPolicies");
    });

    it("matches the final states of exactly the watched jobs", () => {
        assert.deepEqual(h.glueJobStateChangePattern(["A", "B", "A"]), {
            source: ["aws.glue"],
            "detail-type": ["Glue Job State Change"],
            detail: { jobName: ["A", "B"], state: ["SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED", "ERROR"] },
        });
        assert.throws(() => h.glueJobStateChangePattern([]), /at least one job/);
    });

    describe("created by PipelineMonitoring for the flow", () => {
        let statements: ReturnType<typeof statementsOf>;
        before(async () => {
            resetRecorded();
            m = await import("../../components/monitoring");
            new m.PipelineMonitoring("mon", fullArgs());
            await waitForRegistrations();
            statements = statementsOf(named("mon-glue-events-policy", "aws:iam/rolePolicy:RolePolicy").inputs.policy);
        });

        const find = (sid: string) => {
            const s = statements.find((x) => x.Sid === sid);
            assert.ok(s, `no statement ${sid}: ${statements.map((x) => x.Sid).join(", ")}`);
            return s;
        };

        it("grants least privilege: runs of the watched job, two item actions, Query on the status index", () => {
            assert.deepEqual(find("ReadWatchedJobRuns"), { Sid: "ReadWatchedJobRuns", Effect: "Allow", Action: ["glue:GetJobRun", "glue:GetJobRuns"], Resource: [JOB_ARN] });
            assert.deepEqual(find("RecordOutcomes").Action, ["dynamodb:GetItem", "dynamodb:UpdateItem"]);
            assert.equal(find("RecordOutcomes").Resource, TABLE_ARN);
            assert.deepEqual(find("CountByStatus"), { Sid: "CountByStatus", Effect: "Allow", Action: ["dynamodb:Query"], Resource: `${TABLE_ARN}/index/by-status` });
        });

        it("publishes only to the alerts topic, with its key, and puts metrics only in its namespace", () => {
            const topic = named("mon-alerts", "aws:sns/topic:Topic");
            const key = named("mon-alerts-key", "aws:kms/key:Key");
            assert.deepEqual(find("PublishAlerts"), { Sid: "PublishAlerts", Effect: "Allow", Action: ["sns:Publish"], Resource: topic.state.arn });
            assert.deepEqual(find("EncryptAlerts").Action, ["kms:Decrypt", "kms:GenerateDataKey"]);
            assert.deepEqual(find("EncryptAlerts").Resource, [key.state.arn]);
            assert.deepEqual(find("PutPipelineMetrics").Condition, { StringEquals: { "cloudwatch:namespace": "GluePipeline" } });
            assert.deepEqual(policies.wildcardResourceViolations({ Version: "2012-10-17", Statement: statements }), []);
            const actions = statements.flatMap((s) => asList(s.Action));
            for (const forbidden of ["dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Scan", "glue:StartJobRun", "sns:*", "kms:*"]) {
                assert.ok(!actions.includes(forbidden), `grants ${forbidden}`);
            }
        });

        it("configures the function: arm64, 14-day log group, environment naming table, topic, jobs, replay command", () => {
            const fn = named("mon-glue-events-function", "aws:lambda/function:Function");
            assert.equal(fn.inputs.name, "GlueJobEvents-dev");
            assert.deepEqual(fn.inputs.architectures, ["arm64"]);
            assert.deepEqual(fn.inputs.environment.variables, {
                METADATA_TABLE: "etl-pipeline-metadata-dev",
                ALERTS_TOPIC_ARN: named("mon-alerts", "aws:sns/topic:Topic").state.arn,
                METRIC_NAMESPACE: "GluePipeline",
                STAGE: "dev",
                GLUE_JOB_NAMES: "FileProcessorV2-dev",
                JOB_LOG_GROUPS: JSON.stringify({
                    "FileProcessorV2-dev": { output: "/aws-glue/jobs/sc-role/FileProcessorV2-dev-role/output", error: "/aws-glue/jobs/sc-role/FileProcessorV2-dev-role/error" },
                }),
                REPLAY_COMMAND: "npm run replay -- --stack dev",
            });
            const logs = named("mon-glue-events-logs", "aws:cloudwatch/logGroup:LogGroup");
            assert.equal(logs.inputs.name, "/aws/lambda/GlueJobEvents-dev");
            assert.equal(logs.inputs.retentionInDays, 14);
            assert.equal(logs.inputs.kmsKeyId, DATA_KEY);
            assert.ok(fn.dependencies.includes(logs.urn));
        });

        it("reserves no concurrency unless asked (opt-in, as for the other functions: a new account keeps only 10 unreserved)", () => {
            assert.equal(named("mon-glue-events-function", "aws:lambda/function:Function").inputs.reservedConcurrentExecutions, undefined);
        });

        it("routes state changes and the schedule to it, retrying, and dead-letters what fails", () => {
            const rule = named("mon-glue-events-state-change", "aws:cloudwatch/eventRule:EventRule");
            assert.deepEqual(JSON.parse(rule.inputs.eventPattern), h.glueJobStateChangePattern(["FileProcessorV2-dev"]));
            assert.equal(named("mon-glue-events-schedule", "aws:cloudwatch/eventRule:EventRule").inputs.scheduleExpression, "rate(5 minutes)");
            const dlq = named("mon-glue-events-dlq", "aws:sqs/queue:Queue");
            for (const role of ["state-change", "schedule"]) {
                const target = named(`mon-glue-events-${role}-target`, "aws:cloudwatch/eventTarget:EventTarget");
                assert.equal(target.inputs.deadLetterConfig.arn, dlq.state.arn);
                assert.deepEqual(target.inputs.retryPolicy, { maximumEventAgeInSeconds: 86400, maximumRetryAttempts: 185 });
                const permission = named(`mon-glue-events-${role}-invoke`, "aws:lambda/permission:Permission");
                assert.equal(permission.inputs.principal, "events.amazonaws.com");
                assert.equal(permission.inputs.sourceArn, named(`mon-glue-events-${role === "state-change" ? "state-change" : "schedule"}`, "aws:cloudwatch/eventRule:EventRule").state.arn);
            }
            const async = named("mon-glue-events-async", "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig");
            assert.equal(async.inputs.maximumRetryAttempts, 2);
            assert.equal(async.inputs.destinationConfig.onFailure.destination, dlq.state.arn);
            const queuePolicy = statementsOf(named("mon-glue-events-dlq-policy").inputs.policy);
            const events = queuePolicy.find((s) => s.Sid === "EventBridgeDeadLetters")!;
            assert.deepEqual((events.Condition as any).ArnEquals["aws:SourceArn"], [
                named("mon-glue-events-state-change", "aws:cloudwatch/eventRule:EventRule").state.arn,
                named("mon-glue-events-schedule", "aws:cloudwatch/eventRule:EventRule").state.arn,
            ]);
            assert.equal(dlq.inputs.messageRetentionSeconds, 14 * 24 * 3600);
        });
    });

    describe("with opt-in reserved concurrency (eventHandlerReservedConcurrency)", () => {
        it("caps the handler's parallel invocations", async () => {
            resetRecorded();
            new m.PipelineMonitoring("capped", fullArgs({ eventHandlerReservedConcurrency: 5 }));
            await waitForRegistrations();
            assert.equal(named("capped-glue-events-function", "aws:lambda/function:Function").inputs.reservedConcurrentExecutions, 5);
        });

        it("refuses a reservation that is not a whole number of executions", () => {
            assert.throws(() => new m.PipelineMonitoring("bad", fullArgs({ eventHandlerReservedConcurrency: 2.5 })), /reservedConcurrency must be an integer 0-100000, got 2.5/);
        });
    });

    it("keeps the metric names the handler publishes equal to those the alarms read", async () => {
        const runtime = await import("../../functions/glue-job-events/metrics");
        m = await import("../../components/monitoring");
        assert.deepEqual(m.PIPELINE_METRICS, runtime.METRIC_NAMES);
    });
});

describe("PipelineMonitoring: the fast path beside the CSV job (the CSV converter)", () => {
    const JOB = "FileProcessorV2-dev";
    const FN = "CsvConverter-dev";
    const QUEUE = "CsvConverter-dev-queue";
    let contract: typeof import("../../functions/csv-converter/converter-contract.json");
    const fastPath = { label: FN, functionName: FN, timeoutSeconds: 300, fallbackJobLabel: JOB, queueName: QUEUE };
    before(async () => {
        m = await import("../../components/monitoring");
        contract = (await import("../../functions/csv-converter/converter-contract.json")).default;
    });
    const specsFor = (thresholds = m.DEFAULT_THRESHOLDS) =>
        m.alarmSpecs({
            stage: "dev",
            metricNamespace: "GluePipeline",
            glueJobs: [{ label: JOB, name: JOB, arn: JOB_ARN }],
            functions: [],
            queues: [],
            tables: [],
            stateMachines: [],
            fastPaths: [fastPath],
            thresholds,
        });
    const dashboardInputs = () => ({
        stage: "dev",
        region: REGION,
        metricNamespace: "GluePipeline",
        glueJobs: [{ label: JOB, name: JOB }],
        functions: [{ label: FN, name: FN }],
        queues: [],
        feedQueues: [{ label: QUEUE, name: QUEUE }],
        tables: [],
        stateMachines: [],
        alarmArns: [],
        fastPaths: [fastPath],
        thresholds: m.DEFAULT_THRESHOLDS,
    });

    it("adds three alarms of its own after the job's: failed files, fallbacks, duration near the timeout (pure)", () => {
        const fast = specsFor().filter((s) => s.subject === FN);
        assert.deepEqual(
            fast.map((s) => [s.key, s.kind, s.name]),
            [
                [`fast-path-${FN}-failed`, "fast-path-failed", `${FN}-files-failed`],
                [`fast-path-${FN}-fallbacks`, "fast-path-fallbacks", `${FN}-fallbacks-to-glue`],
                [`fast-path-${FN}-duration`, "fast-path-duration", `${FN}-duration-near-timeout`],
            ],
        );
        for (const s of fast) {
            assert.deepEqual([s.comparisonOperator, s.evaluationPeriods, s.datapointsToAlarm, s.treatMissingData], ["GreaterThanThreshold", 1, 1, "notBreaching"], s.key);
            assert.ok(s.description.includes(JOB), `${s.key} names the job it falls back to`);
        }
    });

    it("any file the converter recorded FAILED alarms within 5 min: its contract metric, by function name (pure)", () => {
        const failed = specsFor().find((s) => s.kind === "fast-path-failed")!;
        assert.equal(failed.threshold, 0);
        assert.deepEqual(failed.metric, {
            namespace: "GluePipeline",
            metricName: contract.metrics.failed,
            dimensions: { [contract.functionDimension]: FN },
            stat: "Sum",
            period: 300,
        });
        assert.equal(failed.metric!.metricName, "FastPathFailed");
        assert.match(failed.description, /npm run replay/);
    });

    it("fallbacks alarm above 3 in an hour: one is a file too big for its class, more mean the limit is wrong (pure)", () => {
        const fallbacks = specsFor().find((s) => s.kind === "fast-path-fallbacks")!;
        assert.equal(fallbacks.threshold, 3);
        assert.deepEqual(fallbacks.metric, {
            namespace: "GluePipeline",
            metricName: "FastPathFallbacks",
            dimensions: { FunctionName: FN },
            stat: "Sum",
            period: 3600,
        });
        assert.match(fallbacks.description, /fastPath\.maxBytes/);
    });

    it("duration: Lambda's p95 above 80 % of the timeout, as an extended statistic on the alarm (pure)", () => {
        const duration = specsFor().find((s) => s.kind === "fast-path-duration")!;
        assert.equal(duration.threshold, 240_000);
        assert.deepEqual(duration.metric, { namespace: "AWS/Lambda", metricName: "Duration", dimensions: { FunctionName: FN }, stat: "p95", period: 300 });
        const args = m.metricAlarmArgs(duration);
        assert.equal(args.extendedStatistic, "p95");
        assert.equal(args.statistic, undefined);
        assert.equal(m.metricAlarmArgs(specsFor().find((s) => s.kind === "fast-path-failed")!).statistic, "Sum");
    });

    it("honours overridden fast-path thresholds (pure)", () => {
        const specs = specsFor({ ...m.DEFAULT_THRESHOLDS, fastPathFallbacks: 10, fastPathFallbackWindowMinutes: 180, fastPathDurationPercentOfTimeout: 50, fastPathPeriodMinutes: 15 });
        assert.deepEqual(
            specs.filter((s) => s.subject === FN).map((s) => [s.kind, s.threshold, s.metric!.period]),
            [
                ["fast-path-failed", 0, 900],
                ["fast-path-fallbacks", 10, 10800],
                ["fast-path-duration", 150_000, 900],
            ],
        );
    });

    it("the operations view has a fast-path row: files by outcome, p50/p95 against the timeout, its queue's backlog (pure)", () => {
        const body = m.operationsDashboard(dashboardInputs());
        const row = body.widgets.filter((w) => String(w.properties.title).startsWith(`Fast path ${FN}`));
        assert.deepEqual(
            row.map((w) => [w.properties.title, w.width, w.y]),
            [
                [`Fast path ${FN}: files converted, fallen back to ${JOB}, failed`, 8, row[0].y],
                [`Fast path ${FN}: duration p50 / p95 (ms) against its 300 s timeout`, 8, row[0].y],
                [`Fast path ${FN}: request queue backlog; oldest message age (s)`, 8, row[0].y],
            ],
        );
        const rows = (w: (typeof row)[number]) => (w.properties.metrics as unknown[][]).map((r) => [r[0], r[1], r[2], r[3], (r[4] as any).stat]);
        assert.deepEqual(rows(row[0]), [
            ["GluePipeline", "FastPathFilesConverted", "FunctionName", FN, "Sum"],
            ["GluePipeline", "FastPathFallbacks", "FunctionName", FN, "Sum"],
            ["GluePipeline", "FastPathFailed", "FunctionName", FN, "Sum"],
        ]);
        assert.deepEqual(rows(row[1]), [
            ["AWS/Lambda", "Duration", "FunctionName", FN, "p50"],
            ["AWS/Lambda", "Duration", "FunctionName", FN, "p95"],
        ]);
        assert.deepEqual((row[1].properties.annotations as any).horizontal, [
            { label: "timeout", value: 300_000 },
            { label: "alarm", value: 240_000 },
        ]);
        assert.deepEqual(rows(row[2]).map((r) => [r[1], r[3]]), [
            ["ApproximateNumberOfMessagesVisible", QUEUE],
            ["ApproximateNumberOfMessagesNotVisible", QUEUE],
            ["ApproximateAgeOfOldestMessage", QUEUE],
        ]);
        // Without its queue named, the row is two half-width widgets (the backlog stays in the feed-queue widget).
        const { queueName: _q, ...withoutQueue } = fastPath;
        const bare = m.operationsDashboard({ ...dashboardInputs(), fastPaths: [withoutQueue] }).widgets.filter((w) => String(w.properties.title).startsWith("Fast path"));
        assert.deepEqual(bare.map((w) => [w.x, w.width]), [[0, 12], [12, 12]]);
        // A row of its own, on the grid, no overlap, and nothing of the layout's own leaks into the body.
        assert.equal(row[0].x, 0);
        for (const dashboard of [body, m.overviewDashboard(dashboardInputs())]) {
            const cells = new Set<string>();
            for (const w of dashboard.widgets) {
                assert.ok(!("newRow" in w), "layout hints stay out of the dashboard body");
                assert.ok(w.x >= 0 && w.x + w.width <= 24);
                for (let x = w.x; x < w.x + w.width; x++) for (let y = w.y; y < w.y + w.height; y++) {
                    assert.ok(!cells.has(`${x},${y}`), `overlap at ${x},${y}`);
                    cells.add(`${x},${y}`);
                }
            }
        }
    });

    it("the overview shows files per engine: the job's Glue runs beside the fast path's files (pure)", () => {
        const body = m.overviewDashboard(dashboardInputs());
        const engines = body.widgets.find((w) => w.properties.title === "Files per engine per hour (Glue runs, fast path)");
        assert.ok(engines, "a files-per-engine widget");
        const json = JSON.stringify(engines.properties.metrics);
        assert.ok(json.includes(`["GluePipeline","JobRunFailed","JobName","${JOB}",{"stat":"SampleCount","label":"${JOB} on Glue"}]`), json);
        assert.ok(json.includes(`"expression":"FILL(fast_ok0, 0) + FILL(fast_failed0, 0)"`), json);
        assert.ok(!JSON.stringify(m.overviewDashboard({ ...dashboardInputs(), fastPaths: [] })).includes("Files per engine"));
    });

    it("creates the alarms to the alerts topic, and both dashboards show the path, under the component", async () => {
        resetRecorded();
        new m.PipelineMonitoring("fast", {
            stage: "dev",
            glueJobs: [{ label: JOB, name: JOB, arn: JOB_ARN }],
            metadataTable: { name: "etl-pipeline-metadata-dev", arn: TABLE_ARN },
            functions: [{ label: FN, name: FN }],
            feedQueues: [{ label: QUEUE, name: QUEUE }],
            deadLetterQueues: [{ label: `${QUEUE}-dlq`, name: `${QUEUE}-dlq` }],
            fastPaths: [fastPath],
        });
        await waitForRegistrations();
        const topic = named("fast-alerts", "aws:sns/topic:Topic");
        const failed = named(`fast-fast-path-${FN}-failed`, ALARM).inputs;
        assert.deepEqual([failed.name, failed.namespace, failed.metricName, failed.statistic, failed.threshold], [`${FN}-files-failed`, "GluePipeline", "FastPathFailed", "Sum", 0]);
        assert.deepEqual(failed.dimensions, { FunctionName: FN });
        const duration = named(`fast-fast-path-${FN}-duration`, ALARM).inputs;
        assert.deepEqual([duration.metricName, duration.extendedStatistic, duration.statistic, duration.threshold], ["Duration", "p95", undefined, 240_000]);
        for (const key of ["failed", "fallbacks", "duration"]) {
            const alarm = named(`fast-fast-path-${FN}-${key}`, ALARM);
            assert.deepEqual(alarm.inputs.alarmActions, [topic.state.arn], key);
            assert.deepEqual(alarm.inputs.okActions, [topic.state.arn], key);
            assert.equal(alarm.parent, named("fast", "glue-pipeline:monitoring:PipelineMonitoring").urn, key);
        }
        // Its function's and queues' own alarms come from their lists, once each.
        const names = ofType(ALARM).map((a) => a.inputs.name);
        for (const expected of [`${FN}-error-rate`, `${FN}-throttled`, `${QUEUE}-backlog-age`, `${QUEUE}-dlq-not-empty`]) {
            assert.equal(names.filter((n) => n === expected).length, 1, expected);
        }
        const ops = JSON.stringify(JSON.parse(named("fast-operations").inputs.dashboardBody));
        assert.ok(ops.includes(`"GluePipeline","FastPathFallbacks","FunctionName","${FN}"`));
        assert.ok(ops.includes(`"AWS/SQS","ApproximateNumberOfMessagesVisible","QueueName","${QUEUE}",{"stat":"Maximum","label":"waiting"}`));
        assert.ok(JSON.parse(named("fast-overview").inputs.dashboardBody).widgets.some((w: any) => w.properties.title === "Files per engine per hour (Glue runs, fast path)"));
    });
});
