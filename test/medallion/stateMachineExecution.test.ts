/**
 * The medallion state machine *executed*: the definition from components/workflow/stateMachineDefinition.ts (built
 * with seconds instead of minutes) runs on moto's ASL interpreter, which calls Glue (StartJobRun + GetJobRun
 * polling for `.sync`, StartCrawler, GetCrawler via the aws-sdk integration) and SNS on the same emulator.
 *
 * What is executed for real here: every Choice (data / no data, crawler ready / not yet / too slow, crawl
 * outcome), the crawler poll loop with its counter (States.MathAdd), ResultSelector/ResultPath plumbing,
 * Retry on the Glue task (attempt counts read from the history), the Task timeout on a Glue run that never
 * ends, Catch → NotifyFailure → Fail with ErrorPath/CausePath, and the SNS messages as a subscriber gets them.
 *
 * What is not: the ingestion Lambda's code (moto answers Lambda invokes from a queue of canned payloads
 * without running code — the function itself is tested in apiIngest.test.ts), so a *failing* ingestion
 * cannot be produced here; that Catch is checked structurally in stateMachineDefinition.test.ts. Real
 * Glue job runs are not executed either (moto's runs go STARTING → RUNNING → SUCCEEDED).
 */
import assert from "node:assert/strict";
import { MedallionDefinitionParams, MedallionTiming, medallionStateMachineDefinition } from "../../components/workflow/stateMachineDefinition";
import { EMULATOR_ACCOUNT_ID, EMULATOR_REGION, enteredStates, SfnEmulator } from "./support/sfnEmulator";

const JOB = "MedallionEtl-test";
const CRAWLER = "medallion-gold-test";
const DATABASE = "glue_database_v2_test";
const FUNCTION_ARN = `arn:aws:lambda:${EMULATOR_REGION}:${EMULATOR_ACCOUNT_ID}:function:ApiIngestion-test`;
const ROLE_ARN = `arn:aws:iam::${EMULATOR_ACCOUNT_ID}:role/medallion-states-test`;

/** The requirements' structure with test-sized numbers: polls every second, retries after a second. */
const FAST: Partial<MedallionTiming> = {
    executionTimeoutSeconds: 120,
    ingestTimeoutSeconds: 10,
    glueTimeoutSeconds: 20,
    apiCallTimeoutSeconds: 10,
    crawlerPollSeconds: 1,
    crawlerTimeoutSeconds: 4,
    ingestRetry: { intervalSeconds: 1, maxAttempts: 2, backoffRate: 1 },
    glueRetry: { intervalSeconds: 1, maxAttempts: 2, backoffRate: 1 },
    serviceRetry: { intervalSeconds: 1, maxAttempts: 2, backoffRate: 1 },
    crawlerBusyRetry: { intervalSeconds: 1, maxAttempts: 3, backoffRate: 1 },
};

/** What the ingestion function returns for a run with `records` records. */
const ingestResult = (records: number) => ({
    runId: "scheduled-20251105T090000Z",
    runDate: "2025-11-05",
    bucket: "glue-output-test-123456789012",
    prefix: "s3://glue-output-test-123456789012/medallion/raw/2025/11/05/scheduled-20251105T090000Z/",
    pagesFetched: Math.max(1, Math.ceil(records / 100)),
    objectCount: Math.ceil(records / 100),
    recordCount: records,
    hasData: records > 0,
    objectKeys: [],
    objectKeysTruncated: false,
    retries: 0,
    startedAt: "2025-11-05T09:00:01.000Z",
    finishedAt: "2025-11-05T09:00:09.000Z",
});

describe("the medallion state machine, executed on moto's Step Functions interpreter", function () {
    this.timeout(120_000);
    const moto = new SfnEmulator();
    let topicArn: string;
    let queueUrl: string;

    before(() => moto.start());
    after(() => moto.stop());

    /** A clean emulator with the job, crawler, database, topic and a queue subscribed to the topic. */
    async function setUp(): Promise<void> {
        await moto.reset();
        await moto.unsetTransition("glue::crawl");
        await moto.unsetTransition("glue::job_run");
        await moto.glue("CreateDatabase", { DatabaseInput: { Name: DATABASE } });
        await moto.glue("CreateJob", {
            Name: JOB,
            Role: `arn:aws:iam::${EMULATOR_ACCOUNT_ID}:role/glue`,
            Command: { Name: "glueetl", ScriptLocation: "s3://assets/scripts/medallion_etl.py", PythonVersion: "3" },
            GlueVersion: "5.0",
        });
        await moto.glue("CreateCrawler", {
            Name: CRAWLER,
            Role: `arn:aws:iam::${EMULATOR_ACCOUNT_ID}:role/crawler`,
            DatabaseName: DATABASE,
            Targets: { S3Targets: [{ Path: "s3://glue-output-test-123456789012/medallion/curated/" }] },
        });
        const topicXml = await moto.query("sns", { Action: "CreateTopic", Name: "medallion-test", Version: "2010-03-31" });
        topicArn = /<TopicArn>([^<]+)<\/TopicArn>/.exec(topicXml)![1];
        queueUrl = (await moto.sqs("CreateQueue", { QueueName: "medallion-messages" })).QueueUrl;
        const queueArn = (await moto.sqs("GetQueueAttributes", { QueueUrl: queueUrl, AttributeNames: ["QueueArn"] })).Attributes.QueueArn;
        await moto.query("sns", { Action: "Subscribe", TopicArn: topicArn, Protocol: "sqs", Endpoint: queueArn, Version: "2010-03-31" });
    }

    async function execute(overrides: Partial<MedallionDefinitionParams> = {}, input: unknown = { scheduledTime: "2025-11-05T09:00:00Z" }) {
        const definition = medallionStateMachineDefinition({
            ingestFunctionArn: FUNCTION_ARN,
            glueJobName: JOB,
            crawlerName: CRAWLER,
            topicArn,
            subjectPrefix: "[medallion test]",
            timing: FAST,
            ...overrides,
        });
        const { stateMachineArn } = await moto.sfn("CreateStateMachine", {
            name: `medallion-${Date.now()}`,
            definition: JSON.stringify(definition),
            roleArn: ROLE_ARN,
            type: "STANDARD",
        });
        const { executionArn } = await moto.sfn("StartExecution", { stateMachineArn, name: "run-1", input: JSON.stringify(input) });
        const execution = await moto.waitForExecution(executionArn);
        const events = await moto.history(executionArn);
        return { execution, events, states: enteredStates(events) };
    }

    /** Messages the topic delivered to the subscribed queue: [status attribute, parsed message]. */
    async function messages(): Promise<Array<[string, any]>> {
        const out = await moto.sqs("ReceiveMessage", { QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 });
        return (out.Messages ?? []).map((m: any) => {
            const envelope = JSON.parse(m.Body);
            return [envelope.MessageAttributes?.status?.Value, JSON.parse(envelope.Message)];
        });
    }

    const scheduledTasks = (events: any[], resourceType: string, resource: string) =>
        events.filter((e) => e.type === "TaskScheduled" && e.taskScheduledEventDetails.resourceType === resourceType && e.taskScheduledEventDetails.resource === resource);

    describe("when the API returned records", () => {
        let run: Awaited<ReturnType<typeof execute>>;
        before(async () => {
            await setUp();
            // The crawl stays RUNNING for two seconds, so the poll loop goes round more than once.
            await moto.setTransition("glue::crawl", { progression: "time", seconds: 2 });
            await moto.queueLambdaResults(ingestResult(250));
            run = await execute();
        });

        it("ingests, runs the Glue job, crawls until READY, notifies success and succeeds", () => {
            assert.equal(run.execution.status, "SUCCEEDED", JSON.stringify(run.execution));
            assert.deepEqual(run.states.slice(0, 5), ["IngestFromApi", "HasNewData", "RunMedallionJob", "StartCrawler", "InitCrawlerPolls"]);
            assert.deepEqual(run.states.slice(-4), ["GetLastCrawl", "CheckCrawlOutcome", "NotifySuccess", "Succeeded"]);
            const polls = run.states.filter((s) => s === "GetCrawlerState").length;
            assert.ok(polls >= 2, `polled the crawler ${polls} time(s)`);
            assert.equal(run.states.filter((s) => s === "CountCrawlerPoll").length, polls - 1);
        });

        it("passes the execution's input, name and start time to the function", () => {
            const [invoke] = scheduledTasks(run.events, "lambda", "invoke");
            const payload = JSON.parse(invoke.taskScheduledEventDetails.parameters).Payload;
            assert.deepEqual(payload.input, { scheduledTime: "2025-11-05T09:00:00Z" });
            assert.equal(payload.executionName, "run-1");
            assert.ok(payload.executionStartTime);
        });

        it("starts the job with the run's id and date, and the crawler once", async () => {
            const runs = (await moto.glue("GetJobRuns", { JobName: JOB })).JobRuns;
            assert.equal(runs.length, 1);
            assert.deepEqual(runs[0].Arguments, { "--run_id": "scheduled-20251105T090000Z", "--run_date": "2025-11-05" });
            const crawler = (await moto.glue("GetCrawler", { Name: CRAWLER })).Crawler;
            assert.equal(crawler.State, "READY");
            assert.ok(crawler.LastCrawl, "the crawler ran");
        });

        it("publishes a SUCCEEDED message with the run's figures", async () => {
            const runs = (await moto.glue("GetJobRuns", { JobName: JOB })).JobRuns;
            const [[status, message], ...rest] = await messages();
            assert.equal(rest.length, 0);
            assert.equal(status, "SUCCEEDED");
            assert.equal(message.status, "SUCCEEDED");
            assert.equal(message.runId, "scheduled-20251105T090000Z");
            assert.equal(message.records, 250);
            assert.equal(message.objects, 3);
            assert.equal(message.glueJobRunId, runs[0].Id);
            assert.match(message.execution, /:execution:medallion-\d+:run-1$/);
        });
    });

    describe("when the API returned nothing", () => {
        beforeEach(setUp);

        it("by default: notifies NO_DATA and succeeds without starting Glue", async () => {
            await moto.queueLambdaResults(ingestResult(0));
            const run = await execute();
            assert.equal(run.execution.status, "SUCCEEDED");
            assert.deepEqual(run.states, ["IngestFromApi", "HasNewData", "NotifyNoData", "NoNewData"]);
            assert.deepEqual((await moto.glue("GetJobRuns", { JobName: JOB })).JobRuns, []);
            const [[status, message]] = await messages();
            assert.equal(status, "NO_DATA");
            assert.equal(message.records, 0);
        });

        it("with noDataIsFailure: notifies FAILED and fails with NoNewData", async () => {
            await moto.queueLambdaResults(ingestResult(0));
            const run = await execute({ noDataIsFailure: true });
            assert.equal(run.execution.status, "FAILED");
            assert.deepEqual(run.states, ["IngestFromApi", "HasNewData", "NoNewDataIsFailure", "NotifyFailure", "RunFailed"]);
            const failed = run.events.find((e) => e.type === "ExecutionFailed").executionFailedEventDetails;
            assert.deepEqual([failed.error, failed.cause], ["MedallionRunFailed", "NoNewData: The API returned no records for this run (noDataIsFailure is set)"]);
            const [[status, message]] = await messages();
            assert.equal(status, "FAILED");
            assert.equal(message.error, "NoNewData");
        });
    });

    describe("when Glue fails", () => {
        beforeEach(setUp);

        it("retries the job twice, then notifies FAILED with Glue's error and fails the execution with it", async () => {
            await moto.queueLambdaResults(ingestResult(10));
            const run = await execute({ glueJobName: "MedallionEtl-missing" });
            assert.equal(run.execution.status, "FAILED");
            assert.equal(scheduledTasks(run.events, "glue", "startJobRun.sync").length, 3, "1 attempt + 2 retries");
            assert.deepEqual(run.states, ["IngestFromApi", "HasNewData", "RunMedallionJob", "NotifyFailure", "RunFailed"]);
            const failed = run.events.find((e) => e.type === "ExecutionFailed").executionFailedEventDetails;
            assert.equal(failed.error, "MedallionRunFailed");
            assert.match(failed.cause, /^Glue\.EntityNotFoundException: .*MedallionEtl-missing/);
            const [[status, message]] = await messages();
            assert.equal(status, "FAILED");
            assert.equal(message.error, "Glue.EntityNotFoundException");
            assert.match(message.cause, /MedallionEtl-missing/);
        });

        it("a run that outlasts the Glue timeout fails with States.Timeout and is not retried", async () => {
            await moto.setTransition("glue::job_run", { progression: "manual", times: 1_000_000 });
            await moto.queueLambdaResults(ingestResult(10));
            const run = await execute({ timing: { ...FAST, glueTimeoutSeconds: 3 } });
            assert.equal(run.execution.status, "FAILED");
            assert.equal(scheduledTasks(run.events, "glue", "startJobRun.sync").length, 1);
            assert.ok(run.events.some((e) => e.type === "TaskTimedOut"));
            assert.deepEqual(run.states.slice(-2), ["NotifyFailure", "RunFailed"]);
            const failed = run.events.find((e) => e.type === "ExecutionFailed").executionFailedEventDetails;
            assert.deepEqual([failed.error, failed.cause.split(":")[0]], ["MedallionRunFailed", "States.Timeout"]);
            const [[status]] = await messages();
            assert.equal(status, "FAILED");
        });
    });

    describe("when the crawler does not finish", () => {
        beforeEach(setUp);

        it("gives up after the crawler's allowance with CrawlerTookTooLong, notified", async () => {
            await moto.setTransition("glue::crawl", { progression: "manual", times: 1_000_000 });
            await moto.queueLambdaResults(ingestResult(10));
            const run = await execute();
            assert.equal(run.execution.status, "FAILED");
            assert.equal(run.states.filter((s) => s === "GetCrawlerState").length, 5, "4 s allowance / 1 s polls = 4 counted polls, then the check");
            assert.deepEqual(run.states.slice(-3), ["CrawlerTookTooLong", "NotifyFailure", "RunFailed"]);
            const [[, message]] = await messages();
            assert.equal(message.error, "CrawlerTookTooLong");
        });
    });
});
