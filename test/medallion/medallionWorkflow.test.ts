/**
 * MedallionWorkflow under Pulumi mocks: every child, its wiring and its permissions, read from what the
 * mocks recorded. The definition the state machine gets is the one stateMachineDefinition.test.ts checks
 * and stateMachineExecution.test.ts runs.
 */
import assert from "node:assert/strict";
import type { MedallionWorkflow, MedallionWorkflowArgs } from "../../components/workflow";
import { asList, descendantsOf, named, ofType, PolicyStatement, resetRecorded, statementsOf, waitForRegistrations } from "../support/graph";
import { valueOf } from "../support/outputs";
import { recordedResources } from "../../scripts/offline/pulumiMocks";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const aslValidator: (d: unknown) => { isValid: boolean; errorsText: (s?: string) => string } = require("asl-validator");

let mw: typeof import("../../components/workflow");
let policies: typeof import("../../components/iam/iamPolicies");
let sm: typeof import("../../components/workflow/stateMachineDefinition");

const ACCOUNT = "111111111111";
const REGION = "eu-west-1";
const SECURITY_CONFIGURATION = "glue-pipeline-test";
const KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/data-lake`;
const BUCKET = `glue-output-test-${ACCOUNT}`;
const BUCKET_ARN = `arn:aws:s3:::${BUCKET}`;
const DATABASE_ARN = `arn:aws:glue:${REGION}:${ACCOUNT}:database/glue_database_v2_test`;
const FUNCTION_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:ApiIngestion-test`;
const MACHINE_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:medallion-workflow-test`;
const JOB_ARN = `arn:aws:glue:${REGION}:${ACCOUNT}:job/MedallionEtl-test`;
const CRAWLER_ARN = `arn:aws:glue:${REGION}:${ACCOUNT}:crawler/medallion-gold-test`;
const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:medallion-notifications-test`;
const DLQ_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT}:medallion-daily-test-dlq`;

function args(overrides: Partial<MedallionWorkflowArgs> = {}): MedallionWorkflowArgs {
    return {
        stage: "test",
        dataBucket: { bucket: BUCKET, arn: BUCKET_ARN },
        assetsBucket: { bucket: `glue-assets-v2-test-${ACCOUNT}`, arn: `arn:aws:s3:::glue-assets-v2-test-${ACCOUNT}` },
        glueEnvironment: {
            securityConfigurationName: SECURITY_CONFIGURATION,
            kmsKeyArn: KEY,
            databaseName: "glue_database_v2_test",
            databaseArn: DATABASE_ARN,
            sharedLogGroupArns: [`arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws-glue/jobs/logs-v2-glue-pipeline-test`],
        },
        kmsKeyArn: KEY,
        apiBaseUrl: "https://api.example.com/v1/orders",
        failureEmails: ["oncall@example.com"],
        ...overrides,
    };
}

/** The secret's ARN as the mocks computed it (AWS appends a random suffix; the mocks may or may not). */
let SECRET_ARN = "";
const policyOf = (name: string): PolicyStatement[] => statementsOf(named(name, "aws:iam/rolePolicy:RolePolicy").inputs.policy);
const sids = (statements: PolicyStatement[]) => statements.map((s) => s.Sid);

describe("MedallionWorkflow", () => {
    before(async () => {
        mw = await import("../../components/workflow");
        policies = await import("../../components/iam/iamPolicies");
        sm = await import("../../components/workflow/stateMachineDefinition");
    });

    describe("with the stack's arguments", () => {
        let component: MedallionWorkflow;
        before(async () => {
            resetRecorded();
            component = new mw.MedallionWorkflow("medallion", args());
            await waitForRegistrations();
            SECRET_ARN = await valueOf(component.apiKeySecretArn);
            assert.match(SECRET_ARN, /^arn:aws:secretsmanager:eu-west-1:111111111111:.*glue-pipeline\/test\/medallion-api-key/);
        });

        it("schedules the state machine daily at 09:00 UTC, with the tick as input, retries and a DLQ", () => {
            const schedule = named("medallion-schedule", "aws:scheduler/schedule:Schedule").inputs;
            assert.equal(schedule.name, "medallion-daily-test");
            assert.equal(schedule.scheduleExpression, "cron(0 9 * * ? *)");
            assert.equal(schedule.scheduleExpressionTimezone, "UTC");
            assert.equal(schedule.state, "ENABLED");
            assert.deepEqual(schedule.flexibleTimeWindow, { mode: "OFF" });
            assert.deepEqual(schedule.target, {
                arn: MACHINE_ARN,
                roleArn: `arn:aws:iam::${ACCOUNT}:role/medallion-schedule-role`,
                input: JSON.stringify({ scheduledTime: "<aws.scheduler.scheduled-time>" }),
                retryPolicy: { maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 10 },
                deadLetterConfig: { arn: DLQ_ARN },
            });
            const dlq = named("medallion-schedule-dlq", "aws:sqs/queue:Queue").inputs;
            assert.equal(dlq.kmsMasterKeyId, KEY);
            assert.equal(dlq.messageRetentionSeconds, 1209600);
            assert.equal(statementsOf(named("medallion-schedule-dlq-policy").inputs.policy)[0].Sid, "DenyInsecureTransport");
        });

        it("lets the schedule's role start only this state machine (and reach its DLQ)", () => {
            const statements = policyOf("medallion-schedule-policy");
            assert.deepEqual(statements.map((s) => [s.Sid, asList(s.Action), asList(s.Resource)]), [
                ["StartWorkflow", ["states:StartExecution"], [MACHINE_ARN]],
                ["SendToDeadLetterQueue", ["sqs:SendMessage"], [DLQ_ARN]],
                ["EncryptDeadLetters", ["kms:Decrypt", "kms:GenerateDataKey"], [KEY]],
            ]);
            const trust = statementsOf(named("medallion-schedule-role", "aws:iam/role:Role").inputs.assumeRolePolicy);
            assert.deepEqual(trust, [
                {
                    Effect: "Allow",
                    Principal: { Service: "scheduler.amazonaws.com" },
                    Action: "sts:AssumeRole",
                    Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT }, ArnLike: { "aws:SourceArn": `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule-group/default` } },
                },
            ]);
            assert.ok(named("medallion-schedule").dependencies.includes(named("medallion-schedule-policy").urn));
        });

        it("runs a standard state machine with logging of everything and X-Ray tracing", () => {
            const machine = named("medallion-states", "aws:sfn/stateMachine:StateMachine");
            assert.equal(machine.inputs.type, "STANDARD");
            assert.deepEqual(machine.inputs.tracingConfiguration, { enabled: true });
            assert.deepEqual(machine.inputs.loggingConfiguration, {
                level: "ALL",
                includeExecutionData: true,
                logDestination: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/vendedlogs/states/medallion-workflow-test:*`,
            });
            const logs = named("medallion-states-logs", "aws:cloudwatch/logGroup:LogGroup").inputs;
            assert.deepEqual([logs.name, logs.retentionInDays, logs.kmsKeyId], ["/aws/vendedlogs/states/medallion-workflow-test", 30, KEY]);
            assert.ok(machine.dependencies.includes(named("medallion-states-policy").urn), "log delivery is allowed before the machine is created");
        });

        it("gets the definition built from the deployed function, job, crawler and topic — valid ASL", () => {
            const definition = JSON.parse(named("medallion-states").inputs.definition);
            assert.deepEqual(
                definition,
                sm.medallionStateMachineDefinition({ ingestFunctionArn: FUNCTION_ARN, glueJobName: "MedallionEtl-test", crawlerName: "medallion-gold-test", topicArn: TOPIC_ARN, subjectPrefix: "[medallion test]" }),
            );
            const result = aslValidator(definition);
            assert.ok(result.isValid, result.errorsText("\n"));
        });

        it("lets the state machine invoke, run, crawl and publish on exactly its own resources", () => {
            const statements = policyOf("medallion-states-policy");
            assert.deepEqual(statements.filter((s) => !asList(s.Resource).includes("*")).map((s) => [s.Sid, asList(s.Action), asList(s.Resource)]), [
                ["InvokeIngestion", ["lambda:InvokeFunction"], [FUNCTION_ARN, `${FUNCTION_ARN}:*`]],
                ["RunMedallionJob", ["glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns", "glue:BatchStopJobRun"], [JOB_ARN]],
                ["RunCrawler", ["glue:StartCrawler", "glue:GetCrawler"], [CRAWLER_ARN]],
                ["Notify", ["sns:Publish"], [TOPIC_ARN]],
                ["EncryptNotifications", ["kms:Decrypt", "kms:GenerateDataKey"], [KEY]],
            ]);
            const onStar = statements.filter((s) => asList(s.Resource).includes("*")).flatMap((s) => asList(s.Action));
            assert.ok(onStar.every((a) => a.startsWith("logs:") || a.startsWith("xray:")), `only log delivery and X-Ray on *: ${onStar}`);
        });

        it("creates the API key secret encrypted and empty: no value passes through Pulumi", async () => {
            const secret = named("medallion-api-key", "aws:secretsmanager/secret:Secret").inputs;
            assert.equal(secret.name, "glue-pipeline/test/medallion-api-key");
            assert.equal(secret.kmsKeyId, KEY);
            assert.equal(secret.recoveryWindowInDays, 30);
            assert.deepEqual(ofType("aws:secretsmanager/secretVersion:SecretVersion"), []);
            assert.equal(await valueOf(component.setApiKeyCommand), `aws secretsmanager put-secret-value --secret-id ${SECRET_ARN} --secret-string '<api key>'`);
        });

        it("runs the ingestion function for 5 minutes with 512 MB, reserving no concurrency unless asked, key name only in its environment", () => {
            const fn = named("medallion-ingest-function", "aws:lambda/function:Function").inputs;
            assert.deepEqual([fn.name, fn.timeout, fn.memorySize, fn.reservedConcurrentExecutions], ["ApiIngestion-test", 300, 512, undefined]);
            assert.deepEqual(fn.environment.variables, {
                API_BASE_URL: "https://api.example.com/v1/orders",
                API_KEY_SECRET_ID: SECRET_ARN,
                API_KEY_HEADER: "x-api-key",
                BRONZE_BUCKET: BUCKET,
                BRONZE_PREFIX: "medallion/raw/",
                PAGE_SIZE: "100",
            });
            assert.deepEqual(ofType("aws:sqs/queue:Queue").map((q) => q.name), ["medallion-schedule-dlq"], "a synchronously invoked function has no DLQ");
        });

        it("lets the function read only its secret and only put objects under raw/", () => {
            const statements = statementsOf(named("medallion-ingest-policy", "aws:iam/rolePolicy:RolePolicy").inputs.policy);
            assert.deepEqual(sids(statements), ["WriteOwnLogGroup", "UseFunctionKey", "WriteTraces", "ReadApiKey", "WriteBronze"]);
            const find = (sid: string) => statements.find((s) => s.Sid === sid)!;
            assert.deepEqual([asList(find("ReadApiKey").Action), find("ReadApiKey").Resource], [["secretsmanager:GetSecretValue"], SECRET_ARN]);
            assert.deepEqual(asList(find("WriteBronze").Resource), [`${BUCKET_ARN}/medallion/raw/*`]);
            assert.ok(!asList(find("WriteBronze").Action).includes("s3:DeleteObject"));
        });

        it("runs the Glue job one at a time for at most 30 minutes, retried by the state machine only", () => {
            const job = named("medallion-job-job", "aws:glue/job:Job").inputs;
            assert.deepEqual([job.name, job.timeout, job.maxRetries, job.executionProperty.maxConcurrentRuns, job.executionClass], ["MedallionEtl-test", 30, 0, 1, "STANDARD"]);
            assert.match(job.command.scriptLocation, /^s3:\/\/glue-assets-v2-test-111111111111\/scripts\/MedallionEtl-test\/[0-9a-f]{12}\/medallion_etl\.py$/);
            const a = job.defaultArguments;
            assert.deepEqual(
                [a["--bronze_path"], a["--silver_path"], a["--gold_path"], a["--rejected_path"], a["--state_path"], a["--target_file_mb"], a["--job-bookmark-option"]],
                [
                    `s3://${BUCKET}/medallion/raw/`, `s3://${BUCKET}/medallion/processed/`, `s3://${BUCKET}/medallion/curated/`, `s3://${BUCKET}/medallion/rejected/`,
                    `s3://${BUCKET}/medallion/_state/`, "128", "job-bookmark-disable",
                ],
            );
        });

        it("lets the job read bronze and write only silver, gold, rejected and its bookmark", () => {
            const statements = statementsOf(named("medallion-job-policy", "aws:iam/rolePolicy:RolePolicy").inputs.policy);
            const onBucket = (sid: string) => asList(statements.find((s) => s.Sid === sid)!.Resource);
            assert.deepEqual(onBucket("ReadInput0Get"), [`${BUCKET_ARN}/medallion/raw/*`]);
            assert.deepEqual(onBucket("WriteOutput0Write"), ["processed", "curated", "rejected", "_state"].map((p) => `${BUCKET_ARN}/medallion/${p}/*`));
            assert.deepEqual(policies.wildcardResourceViolations({ Version: "2012-10-17", Statement: statements }), []);
        });

        it("crawls gold into the stack's database: one table per folder, partitions detected, schema changes merged, nothing dropped", () => {
            const crawler = named("medallion-crawler", "aws:glue/crawler:Crawler").inputs;
            assert.equal(crawler.name, "medallion-gold-test");
            assert.equal(crawler.databaseName, "glue_database_v2_test");
            assert.equal(crawler.tablePrefix, "medallion_");
            assert.deepEqual(crawler.s3Targets[0].path, `s3://${BUCKET}/medallion/curated/`);
            assert.ok(crawler.s3Targets[0].exclusions.includes("**/_SUCCESS"));
            assert.deepEqual(crawler.schemaChangePolicy, { updateBehavior: "UPDATE_IN_DATABASE", deleteBehavior: "LOG" });
            assert.deepEqual(crawler.recrawlPolicy, { recrawlBehavior: "CRAWL_EVERYTHING" });
            const config = JSON.parse(crawler.configuration);
            assert.deepEqual(config.Grouping, { TableLevelConfiguration: 3, TableGroupingPolicy: "CombineCompatibleSchemas" });
            assert.deepEqual(config.CrawlerOutput, { Tables: { AddOrUpdateBehavior: "MergeNewColumns" }, Partitions: { AddOrUpdateBehavior: "InheritFromTable" } });
            assert.equal(named("medallion-crawler-logs", "aws:cloudwatch/logGroup:LogGroup").inputs.name, "/aws-glue/crawlers");
        });

        it("runs the crawler under the stack's security configuration, logging to its own encrypted, retained group", () => {
            const crawler = named("medallion-crawler", "aws:glue/crawler:Crawler");
            const role = named("medallion-crawler-role", "aws:iam/role:Role");
            const logs = named("medallion-crawler-encrypted-logs", "aws:cloudwatch/logGroup:LogGroup");
            assert.equal(crawler.inputs.securityConfiguration, SECURITY_CONFIGURATION);
            assert.equal(logs.inputs.name, `/aws-glue/crawlers-role/${role.state.name}-${SECURITY_CONFIGURATION}`);
            assert.equal(logs.inputs.kmsKeyId, KEY);
            assert.ok(logs.inputs.retentionInDays > 0);
            assert.ok(crawler.dependencies.includes(logs.urn), "the group exists before the crawler can run");
            const statements = policyOf("medallion-crawler-policy");
            const arn = logs.state.arn;
            assert.deepEqual(asList(statements.find((s) => s.Sid === "WriteEncryptedCrawlerLogs")!.Resource), [arn, `${arn}:log-stream:*`]);
            assert.deepEqual(statements.find((s) => s.Sid === "EncryptCrawlerLogs"), { Sid: "EncryptCrawlerLogs", Effect: "Allow", Action: ["logs:AssociateKmsKey"], Resource: arn });
        });

        it("lets the crawler read gold and maintain tables of its database only", () => {
            const statements = policyOf("medallion-crawler-policy");
            assert.deepEqual(sids(statements), ["ReadGoldList", "ReadGoldGet", "DecryptGold", "MaintainCatalog", "WriteCrawlerLogs", "WriteEncryptedCrawlerLogs", "EncryptCrawlerLogs"]);
            assert.deepEqual(asList(statements.find((s) => s.Sid === "MaintainCatalog")!.Resource), [
                `arn:aws:glue:${REGION}:${ACCOUNT}:catalog`,
                DATABASE_ARN,
                `arn:aws:glue:${REGION}:${ACCOUNT}:table/glue_database_v2_test/*`,
            ]);
            assert.ok(!statements.flatMap((s) => asList(s.Action)).some((a) => /Delete/.test(a)), "a crawl never deletes catalog entries");
        });

        it("publishes to an encrypted topic; failure e-mails get FAILED messages only", () => {
            assert.equal(named("medallion-topic", "aws:sns/topic:Topic").inputs.kmsMasterKeyId, KEY);
            const subscription = named("medallion-failure-email-oncall-example-com", "aws:sns/topicSubscription:TopicSubscription").inputs;
            assert.deepEqual([subscription.protocol, subscription.endpoint, JSON.parse(subscription.filterPolicy)], ["email", "oncall@example.com", { status: ["FAILED"] }]);
        });

        it("names each failure-mail subscription by its address, with an alias to the index name stacks deployed before", () => {
            const subscription = named("medallion-failure-email-oncall-example-com", "aws:sns/topicSubscription:TopicSubscription");
            assert.deepEqual(subscription.aliasNames, ["medallion-failure-email-0"]);
        });

        it("grants no data-plane action on * anywhere, and parents every child to the component", () => {
            for (const r of ofType("aws:iam/rolePolicy:RolePolicy")) {
                assert.deepEqual(policies.wildcardResourceViolations(r.inputs.policy), [], r.name);
            }
            const component = named("medallion", "glue-pipeline:workflow:MedallionWorkflow");
            const children = new Set(descendantsOf(component).map((r) => r.urn));
            const custom = recordedResources().filter((r) => r.custom);
            assert.deepEqual(custom.filter((r) => !children.has(r.urn)).map((r) => r.name), []);
            const stray = descendantsOf(component).filter((r) => !r.name.startsWith("medallion-")).map((r) => r.name);
            assert.deepEqual(stray, [], "children are named after the component");
        });
    });

    describe("with options", () => {
        before(async () => {
            resetRecorded();
            new mw.MedallionWorkflow(
                "opts",
                args({ scheduleEnabled: false, scheduleExpression: "cron(30 6 ? * MON-FRI *)", noDataIsFailure: true, manageCrawlerLogGroup: false, failureEmails: [], ingestConcurrency: 3, allowDestroy: true }),
            );
            await waitForRegistrations();
        });
        it("applies the schedule settings", () => {
            const schedule = named("opts-schedule").inputs;
            assert.deepEqual([schedule.state, schedule.scheduleExpression], ["DISABLED", "cron(30 6 ? * MON-FRI *)"]);
        });
        it("builds the strict no-data definition", () => {
            const definition = JSON.parse(named("opts-states").inputs.definition);
            assert.equal(definition.States.HasNewData.Default, "NoNewDataIsFailure");
        });
        it("uses an existing /aws-glue/crawlers group when told to", () => {
            assert.deepEqual(ofType("aws:cloudwatch/logGroup:LogGroup").filter((g) => g.inputs.name === "/aws-glue/crawlers"), []);
            const logs = policyOf("opts-crawler-policy").find((s) => s.Sid === "WriteCrawlerLogs")!;
            assert.deepEqual(asList(logs.Resource), [`arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws-glue/crawlers`, `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws-glue/crawlers:log-stream:*`]);
        });
        it("subscribes nobody, reserves the given concurrency, lets the secret go at once", () => {
            assert.deepEqual(ofType("aws:sns/topicSubscription:TopicSubscription"), []);
            assert.equal(named("opts-ingest-function").inputs.reservedConcurrentExecutions, 3);
            assert.equal(named("opts-api-key").inputs.recoveryWindowInDays, 0);
        });
    });

    describe("rejects, before creating anything", () => {
        const cases: [string, Partial<MedallionWorkflowArgs>, RegExp][] = [
            ["an http API", { apiBaseUrl: "http://api.example.com" }, /apiBaseUrl "http:\/\/api.example.com" must be an https URL/],
            ["a five-field cron", { scheduleExpression: "cron(0 9 * * *)" }, /scheduleExpression "cron\(0 9 \* \* \*\)" is not cron/],
            ["a cron without ?", { scheduleExpression: "cron(0 9 * * * *)" }, /exactly one of day-of-month and day-of-week must be "\?"/],
            ["layers sharing a prefix", { prefixes: { raw: "m/raw/", silver: "m/raw/", gold: "m/gold/", rejected: "m/rej/", state: "m/s/" } }, /prefixes must all differ/],
            ["a prefix without a trailing slash", { prefixes: { raw: "m/raw", silver: "m/s/", gold: "m/gold/", rejected: "m/rej/", state: "m/st/" } }, /prefixes.raw "m\/raw" must be like/],
            ["a zero file size", { targetFileMb: 0 }, /targetFileMb must be 1-1024/],
            ["a capitalised stage", { stage: "Dev" }, /stage "Dev"/],
        ];
        for (const [title, override, message] of cases) {
            it(title, () => {
                resetRecorded();
                assert.throws(() => new mw.MedallionWorkflow(`bad-${title.replace(/\W+/g, "-")}`, args(override)), message);
            });
        }
    });

    describe("pure helpers", () => {
        const levels: [string, number][] = [["medallion/curated/", 3], ["curated/", 2], ["a/b/c/", 4]];
        for (const [prefix, level] of levels) {
            it(`crawlerConfiguration(${prefix}) puts tables at level ${level}`, () => assert.equal(JSON.parse(mw.crawlerConfiguration(prefix)).Grouping.TableLevelConfiguration, level));
        }
        const expressions: [string, boolean][] = [
            ["cron(0 9 * * ? *)", true],
            ["cron(0/15 * ? * MON-FRI *)", true],
            ["rate(1 day)", true],
            ["rate(5 minutes)", true],
            ["at(2026-01-01T09:00:00)", true],
            ["cron(0 9 * * *)", false],
            ["rate(1 week)", false],
            ["daily", false],
        ];
        for (const [expression, ok] of expressions) {
            it(`validateScheduleExpression(${expression}) ${ok ? "accepts" : "rejects"}`, () => {
                if (ok) assert.equal(mw.validateScheduleExpression(expression), expression);
                else assert.throws(() => mw.validateScheduleExpression(expression));
            });
        }
    });
});

describe("failure-mail subscription names", () => {
    it("do not move when the list is reordered or shortened (no replacement, no new confirmation)", async () => {
        const { failureSubscriptionNames } = await import("../../components/workflow");
        const names = (emails: string[]) => new Map(failureSubscriptionNames("medallion", emails).map((s) => [s.email, s.name]));
        const before = names(["a@example.com", "Ops.Team+x@example.org"]);
        assert.deepEqual([...before.values()], ["medallion-failure-email-a-example-com", "medallion-failure-email-ops-team-x-example-org"]);
        assert.deepEqual(names(["Ops.Team+x@example.org", "a@example.com"]), before);
        assert.equal(names(["Ops.Team+x@example.org"]).get("Ops.Team+x@example.org"), before.get("Ops.Team+x@example.org"));
    });

    it("carry the index name as previousName, the alias that adopts an existing stack's subscription", async () => {
        const { failureSubscriptionNames } = await import("../../components/workflow");
        assert.deepEqual(
            failureSubscriptionNames("m", ["a@example.com", "b@example.com"]).map((s) => s.previousName),
            ["m-failure-email-0", "m-failure-email-1"],
        );
    });
});
