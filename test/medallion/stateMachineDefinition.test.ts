/**
 * The medallion state machine's definition as a document: valid Amazon States Language (asl-validator),
 * and the error handling, timeouts and routing the seed asks for, read from the document itself. Its
 * execution on moto's interpreter is in stateMachineExecution.test.ts.
 */
import assert from "node:assert/strict";
import {
    DEFAULT_MEDALLION_TIMING,
    MEDALLION_STATES as S,
    MedallionDefinitionParams,
    NON_RETRYABLE_INGEST_ERRORS,
    RUN_FAILED_ERROR,
    StateMachineDefinition,
    TaskState,
    crawlerPollLimit,
    medallionStateMachineDefinition,
    reachableStates,
} from "../../components/workflow/stateMachineDefinition";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const aslValidator: (definition: unknown, options?: { checkPaths?: boolean; checkArn?: boolean }) => { isValid: boolean; errorsText: (sep?: string) => string } = require("asl-validator");

const PARAMS: MedallionDefinitionParams = {
    ingestFunctionArn: "arn:aws:lambda:eu-west-1:111111111111:function:ApiIngestion-dev",
    glueJobName: "MedallionEtl-dev",
    crawlerName: "medallion-gold-dev",
    topicArn: "arn:aws:sns:eu-west-1:111111111111:medallion-dev",
    subjectPrefix: "[medallion dev]",
};

const tasks = (d: StateMachineDefinition): [string, TaskState][] =>
    Object.entries(d.States).filter((e): e is [string, TaskState] => e[1].Type === "Task");

/** The document with every number replaced: what stays is the structure. */
const shape = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(shape) : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)])) : typeof v === "number" ? "#" : typeof v === "string" ? v.replace(/\d+ s\b/g, "# s") : v;

describe("the medallion state machine definition", () => {
    const definition = medallionStateMachineDefinition(PARAMS);
    const strictFailure = medallionStateMachineDefinition({ ...PARAMS, noDataIsFailure: true });

    describe("as Amazon States Language", () => {
        for (const [title, d] of [["by default", definition], ["with noDataIsFailure", strictFailure]] as const) {
            it(`passes asl-validator with path and ARN checks (${title})`, () => {
                const result = aslValidator(JSON.parse(JSON.stringify(d)), { checkPaths: true, checkArn: true });
                assert.ok(result.isValid, result.errorsText("\n"));
            });
            it(`reaches every state it defines (${title})`, () => {
                assert.deepEqual([...reachableStates(d)].sort(), Object.keys(d.States).sort());
            });
        }

        it("asl-validator does catch a broken definition (the check can fail)", () => {
            const broken = JSON.parse(JSON.stringify(definition));
            broken.States[S.hasNewData].Default = "NoSuchState";
            assert.equal(aslValidator(broken).isValid, false);
        });

        it("is a pure function of its parameters and serialises to the same JSON each time", () => {
            assert.equal(JSON.stringify(medallionStateMachineDefinition(PARAMS)), JSON.stringify(definition));
        });
    });

    describe("flow", () => {
        it("starts with the ingestion and branches on the number of records", () => {
            assert.equal(definition.StartAt, S.ingest);
            assert.deepEqual(definition.States[S.hasNewData], {
                Type: "Choice",
                Comment: "Only run Glue when the API returned records",
                Choices: [{ Variable: "$.ingest.recordCount", NumericGreaterThan: 0, Next: S.runJob }],
                Default: S.notifyNoData,
            });
            assert.equal((strictFailure.States[S.hasNewData] as any).Default, S.noDataIsFailure);
            assert.equal(strictFailure.States[S.notifyNoData], undefined);
        });

        it("chains ingest → Glue (.sync) → start crawler → poll until READY → success notification", () => {
            const next = (name: string) => (definition.States[name] as any).Next;
            assert.equal(next(S.ingest), S.hasNewData);
            assert.equal((definition.States[S.runJob] as TaskState).Resource, "arn:aws:states:::glue:startJobRun.sync");
            assert.equal(next(S.runJob), S.startCrawler);
            assert.equal((definition.States[S.startCrawler] as TaskState).Resource, "arn:aws:states:::aws-sdk:glue:startCrawler");
            assert.equal(next(S.startCrawler), S.initPolls);
            assert.equal(next(S.initPolls), S.waitForCrawler);
            assert.equal(next(S.waitForCrawler), S.getCrawler);
            assert.equal(next(S.getCrawler), S.isCrawlerDone);
            const done = definition.States[S.isCrawlerDone] as any;
            assert.deepEqual(done.Choices[0], { Variable: "$.crawler.state", StringEquals: "READY", Next: S.getLastCrawl });
            assert.equal(done.Default, S.countPoll);
            assert.equal(next(S.countPoll), S.waitForCrawler);
            assert.equal(next(S.notifySuccess), S.succeeded);
        });

        it("passes the run id and date to the Glue job, and the execution's context to the function", () => {
            const job = definition.States[S.runJob] as TaskState;
            assert.deepEqual(job.Parameters, { JobName: "MedallionEtl-dev", Arguments: { "--run_id.$": "$.ingest.runId", "--run_date.$": "$.ingest.runDate" } });
            const ingest = definition.States[S.ingest] as TaskState;
            assert.deepEqual(ingest.Parameters, {
                FunctionName: PARAMS.ingestFunctionArn,
                Payload: { "input.$": "$", "executionName.$": "$$.Execution.Name", "executionStartTime.$": "$$.Execution.StartTime" },
            });
        });
    });

    describe("error handling", () => {
        it("every task retries with backoff and jitter, and catches everything into the failure notification", () => {
            for (const [name, task] of tasks(definition)) {
                assert.ok(task.Retry && task.Retry.length > 0, `${name} has no Retry`);
                for (const r of task.Retry) {
                    if (r.MaxAttempts === 0) continue;
                    assert.ok(r.BackoffRate! >= 1 && r.IntervalSeconds! >= 1 && r.JitterStrategy === "FULL", `${name}: ${JSON.stringify(r)}`);
                }
                const [catcher, ...others] = task.Catch ?? [];
                assert.equal(others.length, 0, name);
                assert.deepEqual(catcher?.ErrorEquals, ["States.ALL"], name);
                if (name === S.notifyFailure) {
                    assert.equal(catcher.Next, S.notificationFailed, "the failure notification does not catch into itself");
                } else {
                    assert.deepEqual([catcher.Next, catcher.ResultPath], [S.notifyFailure, "$.error"], name);
                }
            }
        });

        it("the failure notification publishes the caught error, then fails the run naming it", () => {
            const notify = definition.States[S.notifyFailure] as TaskState;
            const message = (notify.Parameters as any).Message;
            assert.deepEqual([message.status, message["error.$"], message["cause.$"]], ["FAILED", "$.error.Error", "$.error.Cause"]);
            assert.deepEqual((notify.Parameters as any).MessageAttributes, { status: { DataType: "String", StringValue: "FAILED" } });
            assert.equal(notify.Next, S.runFailed);
            assert.deepEqual(definition.States[S.runFailed], {
                Type: "Fail",
                Comment: "Fails the execution, naming the error that was caught",
                Error: RUN_FAILED_ERROR,
                CausePath: "States.Format('{}: {}', $.error.Error, $.error.Cause)",
            });
        });

        it("the ingestion is not retried for errors a retry cannot fix, then retried twice for any other failure", () => {
            const retry = (definition.States[S.ingest] as TaskState).Retry!;
            const noRetry = retry.findIndex((r) => r.MaxAttempts === 0);
            const anyFailure = retry.findIndex((r) => r.ErrorEquals.includes("States.TaskFailed"));
            assert.deepEqual(retry[noRetry].ErrorEquals, NON_RETRYABLE_INGEST_ERRORS);
            assert.ok(noRetry < anyFailure, "the first matching retrier wins, so the non-retryable one must come first");
            assert.equal(retry[anyFailure].MaxAttempts, 2);
        });

        it("a failed Glue run is retried twice (seed), a timed-out one never", () => {
            const retry = (definition.States[S.runJob] as TaskState).Retry!;
            const failed = retry.find((r) => r.ErrorEquals.includes("States.TaskFailed"))!;
            assert.equal(failed.MaxAttempts, 2);
            // States.TaskFailed does not match States.Timeout; nothing else may either.
            assert.ok(retry.every((r) => !r.ErrorEquals.includes("States.Timeout") && !r.ErrorEquals.includes("States.ALL")));
        });

        it("a crawl that ended FAILED or CANCELLED is a failure, and so is a crawler that never gets READY", () => {
            const check = definition.States[S.checkCrawl] as any;
            assert.deepEqual(check.Choices[0].Or.map((r: any) => r.StringEquals), ["FAILED", "CANCELLED"]);
            assert.equal(check.Choices[0].Next, S.crawlFailed);
            const done = definition.States[S.isCrawlerDone] as any;
            assert.deepEqual(done.Choices[1], { Variable: "$.crawlerPolls.count", NumericGreaterThanEqualsPath: "$.crawlerPolls.limit", Next: S.crawlerTooSlow });
            assert.deepEqual((definition.States[S.initPolls] as any).Result, { count: 0, limit: 30 });
        });
    });

    describe("timeouts (seed: Lambda 5 min, Glue 30 min, whole run 60 min)", () => {
        it("the run, the Glue task and the ingestion task", () => {
            assert.equal(definition.TimeoutSeconds, 3600);
            assert.equal((definition.States[S.runJob] as TaskState).TimeoutSeconds, 1800);
            assert.equal((definition.States[S.ingest] as TaskState).TimeoutSeconds, 315, "the function's 300 s timeout fires first");
        });
        it("every task has a timeout", () => {
            for (const [name, task] of tasks(definition)) assert.ok(task.TimeoutSeconds! > 0, name);
        });
        it("a run without retries fits the hour", () => {
            const t = DEFAULT_MEDALLION_TIMING;
            assert.ok(t.ingestTimeoutSeconds + t.glueTimeoutSeconds + t.crawlerTimeoutSeconds <= t.executionTimeoutSeconds);
            assert.equal(crawlerPollLimit(t), 30);
        });
    });

    describe("the variant the emulator executes", () => {
        it("has the same structure as the production definition, only other numbers", () => {
            const fast = medallionStateMachineDefinition({
                ...PARAMS,
                timing: {
                    executionTimeoutSeconds: 120, ingestTimeoutSeconds: 10, glueTimeoutSeconds: 20, apiCallTimeoutSeconds: 10, crawlerPollSeconds: 1, crawlerTimeoutSeconds: 4,
                    ingestRetry: { intervalSeconds: 1, maxAttempts: 2, backoffRate: 1 }, glueRetry: { intervalSeconds: 1, maxAttempts: 2, backoffRate: 1 },
                    serviceRetry: { intervalSeconds: 1, maxAttempts: 2, backoffRate: 1 }, crawlerBusyRetry: { intervalSeconds: 1, maxAttempts: 3, backoffRate: 1 },
                },
            });
            assert.deepEqual(shape(fast), shape(definition));
        });
    });

    describe("rejects", () => {
        const cases: [string, Partial<MedallionDefinitionParams>, RegExp][] = [
            ["a function name instead of an ARN", { ingestFunctionArn: "ApiIngestion-dev" }, /ingestFunctionArn must be an ARN/],
            ["a topic name instead of an ARN", { topicArn: "medallion-dev" }, /topicArn must be an ARN/],
            ["an empty job name", { glueJobName: " " }, /glueJobName is required/],
            ["timeouts that cannot fit the run", { timing: { glueTimeoutSeconds: 3500 } }, /exceed the execution timeout \(3600 s\)/],
            ["a zero poll interval", { timing: { crawlerPollSeconds: 0 } }, /crawlerPollSeconds must be a whole number/],
            ["a backoff rate below 1", { timing: { glueRetry: { intervalSeconds: 1, maxAttempts: 1, backoffRate: 0.5 } } }, /glueRetry.backoffRate must be >= 1/],
        ];
        for (const [title, override, message] of cases) {
            it(title, () => assert.throws(() => medallionStateMachineDefinition({ ...PARAMS, ...override }), message));
        }
    });
});
