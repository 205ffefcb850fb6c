/**
 * The medallion workflow's state machine, as typed code: a pure function from the resources it drives
 * (function ARN, job, crawler, topic) to an Amazon States Language document. No Pulumi here, so the
 * definition is validated, inspected and executed (moto's ASL interpreter) in tests without a deployment.
 *
 *     IngestFromApi ─▶ HasNewData ─yes─▶ RunMedallionJob ─▶ StartCrawler ─▶ InitCrawlerPolls ─▶ WaitForCrawler ◀─┐
 *                         │ no                                                                      │            │
 *                         ▼                                                                   GetCrawlerState    │
 *                   NotifyNoData ─▶ NoNewData (succeed)                                             │            │
 *                   (or, with noDataIsFailure, NoNewDataIsFailure ─▶ NotifyFailure)           IsCrawlerDone ──(no)┘
 *                                                                                                   │ READY
 *                                                                                  GetLastCrawl ─▶ CheckCrawlOutcome ─▶ NotifySuccess ─▶ Succeeded
 *     every Task ──Catch──▶ NotifyFailure ─▶ RunFailed (fail, with the caught error)
 *
 * "No data" is a quiet success by default: an API with nothing new since yesterday is normal for many
 * sources, and a failed execution would page someone (and count against the failure alarms) for it. The
 * run still publishes a NO_DATA message, so a team that expects data daily can subscribe to that status
 * (the message carries a `status` attribute for SNS filter policies), or set `noDataIsFailure` to make it
 * the requirements' "send failure notification" path.
 */

/** One Retry rule (ASL "Retriers"). */
export interface Retrier {
    readonly ErrorEquals: readonly string[];
    readonly IntervalSeconds?: number;
    readonly MaxAttempts?: number;
    readonly BackoffRate?: number;
    readonly MaxDelaySeconds?: number;
    readonly JitterStrategy?: "FULL" | "NONE";
}

/** One Catch rule (ASL "Catchers"). */
export interface Catcher {
    readonly ErrorEquals: readonly string[];
    readonly Next: string;
    readonly ResultPath?: string | null;
}

interface StateBase {
    readonly Comment?: string;
    readonly Next?: string;
    readonly End?: true;
}

export interface TaskState extends StateBase {
    readonly Type: "Task";
    readonly Resource: string;
    readonly Parameters?: Record<string, unknown>;
    readonly ResultSelector?: Record<string, unknown>;
    readonly ResultPath?: string | null;
    readonly TimeoutSeconds?: number;
    readonly Retry?: readonly Retrier[];
    readonly Catch?: readonly Catcher[];
}

export interface ChoiceRule {
    readonly Variable?: string;
    readonly Next?: string;
    readonly And?: readonly ChoiceRule[];
    readonly Or?: readonly ChoiceRule[];
    readonly Not?: ChoiceRule;
    readonly [comparison: string]: unknown;
}

export interface ChoiceState {
    readonly Type: "Choice";
    readonly Comment?: string;
    readonly Choices: readonly ChoiceRule[];
    readonly Default: string;
}

export interface WaitState extends StateBase {
    readonly Type: "Wait";
    readonly Seconds: number;
}

export interface PassState extends StateBase {
    readonly Type: "Pass";
    readonly Parameters?: Record<string, unknown>;
    readonly Result?: unknown;
    readonly ResultPath?: string | null;
}

export interface SucceedState {
    readonly Type: "Succeed";
    readonly Comment?: string;
}

export interface FailState {
    readonly Type: "Fail";
    readonly Comment?: string;
    readonly Error?: string;
    readonly Cause?: string;
    readonly ErrorPath?: string;
    readonly CausePath?: string;
}

export type State = TaskState | ChoiceState | WaitState | PassState | SucceedState | FailState;

export interface StateMachineDefinition {
    readonly Comment: string;
    readonly StartAt: string;
    readonly TimeoutSeconds: number;
    readonly States: Readonly<Record<string, State>>;
}

/** State names: the contract between the definition, its tests and anyone reading an execution's history. */
export const MEDALLION_STATES = {
    ingest: "IngestFromApi",
    hasNewData: "HasNewData",
    noDataIsFailure: "NoNewDataIsFailure",
    notifyNoData: "NotifyNoData",
    noNewData: "NoNewData",
    runJob: "RunMedallionJob",
    startCrawler: "StartCrawler",
    initPolls: "InitCrawlerPolls",
    waitForCrawler: "WaitForCrawler",
    getCrawler: "GetCrawlerState",
    isCrawlerDone: "IsCrawlerDone",
    countPoll: "CountCrawlerPoll",
    crawlerTooSlow: "CrawlerTookTooLong",
    getLastCrawl: "GetLastCrawl",
    checkCrawl: "CheckCrawlOutcome",
    crawlFailed: "CrawlFailed",
    notifySuccess: "NotifySuccess",
    succeeded: "Succeeded",
    notifyFailure: "NotifyFailure",
    runFailed: "RunFailed",
    notificationFailed: "NotificationFailed",
} as const;

/** Retry settings of one kind of failure. */
export interface RetryTiming {
    readonly intervalSeconds: number;
    readonly maxAttempts: number;
    readonly backoffRate: number;
}

/** Every number in the definition; the defaults are the requirements'. */
export interface MedallionTiming {
    /** The whole execution (the requirements: 60 minutes). Past it the execution is TIMED_OUT; see MedallionWorkflow's rule. */
    readonly executionTimeoutSeconds: number;
    /**
     * The ingestion task. The function's own timeout is 5 minutes (the requirements); the task allows 15 s more, so that
     * the function's timeout error (with its logs) is what surfaces, not a bare States.Timeout.
     */
    readonly ingestTimeoutSeconds: number;
    /** The Glue job run (the requirements: 30 minutes). A timed-out run is not retried: the next try would not fit the hour. */
    readonly glueTimeoutSeconds: number;
    /** Each AWS API call (start/get crawler, SNS publish). */
    readonly apiCallTimeoutSeconds: number;
    /** Seconds between crawler status checks. */
    readonly crawlerPollSeconds: number;
    /** The crawl may run this long before the run fails with CrawlerTookTooLong. */
    readonly crawlerTimeoutSeconds: number;
    /** The function failed (after its own in-Lambda retries of the API). */
    readonly ingestRetry: RetryTiming;
    /** The Glue run failed (the requirements: "Job Failure: Retry 2 times via Step Functions"). */
    readonly glueRetry: RetryTiming;
    /** Throttling and transient service errors of Lambda, Glue and SNS themselves. */
    readonly serviceRetry: RetryTiming;
    /** The crawler is already running (started by someone else): wait for it to be free. */
    readonly crawlerBusyRetry: RetryTiming;
}

export const DEFAULT_MEDALLION_TIMING: MedallionTiming = {
    executionTimeoutSeconds: 3600,
    ingestTimeoutSeconds: 315,
    glueTimeoutSeconds: 1800,
    apiCallTimeoutSeconds: 60,
    crawlerPollSeconds: 30,
    crawlerTimeoutSeconds: 900,
    ingestRetry: { intervalSeconds: 30, maxAttempts: 2, backoffRate: 2 },
    glueRetry: { intervalSeconds: 60, maxAttempts: 2, backoffRate: 2 },
    serviceRetry: { intervalSeconds: 2, maxAttempts: 5, backoffRate: 2 },
    crawlerBusyRetry: { intervalSeconds: 30, maxAttempts: 10, backoffRate: 1.5 },
};

export interface MedallionDefinitionParams {
    /** ARN of the ingestion function (unqualified: the state machine always runs $LATEST of what was deployed). */
    readonly ingestFunctionArn: string;
    readonly glueJobName: string;
    readonly crawlerName: string;
    /** Topic for SUCCEEDED / NO_DATA / FAILED messages. */
    readonly topicArn: string;
    /** Prefix of every message subject, e.g. "[medallion dev]". @default "[medallion]" */
    readonly subjectPrefix?: string;
    /** Make "the API returned no records" a failed run with a failure notification. @default false */
    readonly noDataIsFailure?: boolean;
    /** Overrides of the requirements' timings (tests run the same definition with seconds instead of minutes). */
    readonly timing?: Partial<MedallionTiming>;
}

/** The error a failed run ends with; its cause starts with the error that was caught. */
export const RUN_FAILED_ERROR = "MedallionRunFailed";

/** Errors of the ingestion function that no retry can fix: configuration, a missing key, a runaway API. */
export const NON_RETRYABLE_INGEST_ERRORS: readonly string[] = ["EnvironmentError", "ApiKeyMissingError", "PaginationError", "InvalidPageError"];
const LAMBDA_SERVICE_ERRORS = ["Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException"];
const GLUE_SERVICE_ERRORS = ["Glue.ConcurrentRunsExceededException", "Glue.ThrottlingException", "Glue.InternalServiceException", "Glue.OperationTimeoutException"];
/** Crawl statuses that mean the catalog was not updated (AWS: SUCCEEDED | CANCELLED | FAILED). */
export const FAILED_CRAWL_STATUSES: readonly string[] = ["FAILED", "CANCELLED"];

const retrier = (errors: readonly string[], t: RetryTiming): Retrier => ({
    ErrorEquals: errors,
    IntervalSeconds: t.intervalSeconds,
    MaxAttempts: t.maxAttempts,
    BackoffRate: t.backoffRate,
    // Full jitter: two executions failing together do not retry in lockstep.
    JitterStrategy: "FULL",
});

/** Validates the timing; throws naming the field. */
export function validateMedallionTiming(t: MedallionTiming): void {
    const positive: (keyof MedallionTiming)[] = [
        "executionTimeoutSeconds", "ingestTimeoutSeconds", "glueTimeoutSeconds", "apiCallTimeoutSeconds", "crawlerPollSeconds", "crawlerTimeoutSeconds",
    ];
    for (const k of positive) {
        const v = t[k] as number;
        if (!Number.isInteger(v) || v < 1) throw new Error(`medallion timing: ${k} must be a whole number of seconds >= 1, got ${v}`);
    }
    for (const k of ["ingestRetry", "glueRetry", "serviceRetry", "crawlerBusyRetry"] as const) {
        const r = t[k];
        if (!Number.isInteger(r.intervalSeconds) || r.intervalSeconds < 1) throw new Error(`medallion timing: ${k}.intervalSeconds must be a whole number >= 1, got ${r.intervalSeconds}`);
        if (!Number.isInteger(r.maxAttempts) || r.maxAttempts < 0 || r.maxAttempts > 99999999) throw new Error(`medallion timing: ${k}.maxAttempts must be a whole number >= 0, got ${r.maxAttempts}`);
        if (!(r.backoffRate >= 1)) throw new Error(`medallion timing: ${k}.backoffRate must be >= 1, got ${r.backoffRate}`);
    }
    const oneTry = t.ingestTimeoutSeconds + t.glueTimeoutSeconds + t.crawlerTimeoutSeconds;
    if (oneTry > t.executionTimeoutSeconds) {
        throw new Error(
            `medallion timing: ingest (${t.ingestTimeoutSeconds} s) + Glue (${t.glueTimeoutSeconds} s) + crawler (${t.crawlerTimeoutSeconds} s) ` +
                `exceed the execution timeout (${t.executionTimeoutSeconds} s): even a run without retries could not finish`,
        );
    }
    if (t.crawlerPollSeconds > t.crawlerTimeoutSeconds) throw new Error("medallion timing: crawlerPollSeconds exceeds crawlerTimeoutSeconds");
}

/** How many status checks fit in the crawler's time allowance. */
export const crawlerPollLimit = (t: MedallionTiming): number => Math.max(1, Math.ceil(t.crawlerTimeoutSeconds / t.crawlerPollSeconds));

/** The medallion state machine. Pure: same parameters, same document. */
export function medallionStateMachineDefinition(params: MedallionDefinitionParams): StateMachineDefinition {
    for (const [field, value] of Object.entries({ ingestFunctionArn: params.ingestFunctionArn, topicArn: params.topicArn })) {
        if (typeof value !== "string" || !value.startsWith("arn:")) throw new Error(`medallionStateMachineDefinition: ${field} must be an ARN, got ${JSON.stringify(value)}`);
    }
    for (const [field, value] of Object.entries({ glueJobName: params.glueJobName, crawlerName: params.crawlerName })) {
        if (typeof value !== "string" || value.trim() === "") throw new Error(`medallionStateMachineDefinition: ${field} is required`);
    }
    const t: MedallionTiming = { ...DEFAULT_MEDALLION_TIMING, ...params.timing };
    validateMedallionTiming(t);
    const S = MEDALLION_STATES;
    const subject = (what: string) => `${params.subjectPrefix ?? "[medallion]"} ${what}`.slice(0, 100);
    const catchAll: Catcher[] = [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: S.notifyFailure }];
    const serviceRetry = (errors: readonly string[]) => retrier(errors, t.serviceRetry);
    const publish = (status: string, what: string, message: Record<string, unknown>): Record<string, unknown> => ({
        TopicArn: params.topicArn,
        Subject: subject(what),
        Message: {
            status,
            "stateMachine.$": "$$.StateMachine.Name",
            "execution.$": "$$.Execution.Id",
            "startedAt.$": "$$.Execution.StartTime",
            ...message,
        },
        // Subscribers filter on it, e.g. a pager subscription with {"status": ["FAILED"]}.
        MessageAttributes: { status: { DataType: "String", StringValue: status } },
    });
    const notifyRetry = [retrier(["States.TaskFailed"], { ...t.serviceRetry, maxAttempts: Math.min(t.serviceRetry.maxAttempts, 3) })];

    const states: Record<string, State> = {
        [S.ingest]: {
            Type: "Task",
            Comment: "Page through the API into bronze (raw/YYYY/MM/DD/<run>/); the function retries 429/5xx itself",
            Resource: "arn:aws:states:::lambda:invoke",
            Parameters: {
                FunctionName: params.ingestFunctionArn,
                Payload: { "input.$": "$", "executionName.$": "$$.Execution.Name", "executionStartTime.$": "$$.Execution.StartTime" },
            },
            ResultSelector: {
                "runId.$": "$.Payload.runId",
                "runDate.$": "$.Payload.runDate",
                "prefix.$": "$.Payload.prefix",
                "recordCount.$": "$.Payload.recordCount",
                "objectCount.$": "$.Payload.objectCount",
            },
            ResultPath: "$.ingest",
            TimeoutSeconds: t.ingestTimeoutSeconds,
            Retry: [
                serviceRetry(LAMBDA_SERVICE_ERRORS),
                { ErrorEquals: NON_RETRYABLE_INGEST_ERRORS, MaxAttempts: 0 },
                retrier(["States.TaskFailed"], t.ingestRetry),
            ],
            Catch: catchAll,
            Next: S.hasNewData,
        },
        [S.hasNewData]: {
            Type: "Choice",
            Comment: "Only run Glue when the API returned records",
            Choices: [{ Variable: "$.ingest.recordCount", NumericGreaterThan: 0, Next: S.runJob }],
            Default: params.noDataIsFailure ? S.noDataIsFailure : S.notifyNoData,
        },
        [S.runJob]: {
            Type: "Task",
            Comment: "bronze → silver → gold; .sync waits for the run to end",
            Resource: "arn:aws:states:::glue:startJobRun.sync",
            Parameters: {
                JobName: params.glueJobName,
                Arguments: { "--run_id.$": "$.ingest.runId", "--run_date.$": "$.ingest.runDate" },
            },
            ResultSelector: { "jobRunId.$": "$.Id", "state.$": "$.JobRunState" },
            ResultPath: "$.glue",
            TimeoutSeconds: t.glueTimeoutSeconds,
            Retry: [serviceRetry(GLUE_SERVICE_ERRORS), retrier(["States.TaskFailed"], t.glueRetry)],
            Catch: catchAll,
            Next: S.startCrawler,
        },
        [S.startCrawler]: {
            Type: "Task",
            Comment: "Catalog the new gold partitions",
            Resource: "arn:aws:states:::aws-sdk:glue:startCrawler",
            Parameters: { Name: params.crawlerName },
            ResultPath: null,
            TimeoutSeconds: t.apiCallTimeoutSeconds,
            Retry: [retrier(["Glue.CrawlerRunningException"], t.crawlerBusyRetry), serviceRetry(["Glue.ThrottlingException", "Glue.OperationTimeoutException", "Glue.InternalServiceException"])],
            Catch: catchAll,
            Next: S.initPolls,
        },
        [S.initPolls]: {
            Type: "Pass",
            Result: { count: 0, limit: crawlerPollLimit(t) },
            ResultPath: "$.crawlerPolls",
            Next: S.waitForCrawler,
        },
        [S.waitForCrawler]: { Type: "Wait", Seconds: t.crawlerPollSeconds, Next: S.getCrawler },
        [S.getCrawler]: {
            Type: "Task",
            Resource: "arn:aws:states:::aws-sdk:glue:getCrawler",
            Parameters: { Name: params.crawlerName },
            // Only State: LastCrawl is absent while a crawler's first crawl runs (read once READY, below), and
            // the whole Crawler object would carry its configuration through every later state.
            ResultSelector: { "state.$": "$.Crawler.State" },
            ResultPath: "$.crawler",
            TimeoutSeconds: t.apiCallTimeoutSeconds,
            Retry: [serviceRetry(["Glue.ThrottlingException", "Glue.OperationTimeoutException", "Glue.InternalServiceException"])],
            Catch: catchAll,
            Next: S.isCrawlerDone,
        },
        [S.isCrawlerDone]: {
            Type: "Choice",
            Choices: [
                { Variable: "$.crawler.state", StringEquals: "READY", Next: S.getLastCrawl },
                { Variable: "$.crawlerPolls.count", NumericGreaterThanEqualsPath: "$.crawlerPolls.limit", Next: S.crawlerTooSlow },
            ],
            Default: S.countPoll,
        },
        [S.countPoll]: {
            Type: "Pass",
            Parameters: { "count.$": "States.MathAdd($.crawlerPolls.count, 1)", "limit.$": "$.crawlerPolls.limit" },
            ResultPath: "$.crawlerPolls",
            Next: S.waitForCrawler,
        },
        [S.crawlerTooSlow]: {
            Type: "Pass",
            Result: { Error: "CrawlerTookTooLong", Cause: `The crawler was not READY after ${t.crawlerTimeoutSeconds} s; the gold data is written but may not be in the catalog yet` },
            ResultPath: "$.error",
            Next: S.notifyFailure,
        },
        [S.getLastCrawl]: {
            Type: "Task",
            Comment: "The crawl that just ended: did it update the catalog?",
            Resource: "arn:aws:states:::aws-sdk:glue:getCrawler",
            Parameters: { Name: params.crawlerName },
            ResultSelector: { "status.$": "$.Crawler.LastCrawl.Status" },
            ResultPath: "$.lastCrawl",
            TimeoutSeconds: t.apiCallTimeoutSeconds,
            Retry: [serviceRetry(["Glue.ThrottlingException", "Glue.OperationTimeoutException", "Glue.InternalServiceException"])],
            Catch: catchAll,
            Next: S.checkCrawl,
        },
        [S.checkCrawl]: {
            Type: "Choice",
            Choices: [{ Or: FAILED_CRAWL_STATUSES.map((status) => ({ Variable: "$.lastCrawl.status", StringEquals: status })), Next: S.crawlFailed }],
            Default: S.notifySuccess,
        },
        [S.crawlFailed]: {
            Type: "Pass",
            Parameters: {
                Error: "CrawlerFailed",
                "Cause.$": `States.Format('The crawl of ${params.crawlerName} ended {}: the catalog was not updated; its log is in /aws-glue/crawlers, stream ${params.crawlerName}', $.lastCrawl.status)`,
            },
            ResultPath: "$.error",
            Next: S.notifyFailure,
        },
        [S.notifySuccess]: {
            Type: "Task",
            Resource: "arn:aws:states:::sns:publish",
            Parameters: publish("SUCCEEDED", "run succeeded", {
                "runId.$": "$.ingest.runId",
                "runDate.$": "$.ingest.runDate",
                "bronzePrefix.$": "$.ingest.prefix",
                "records.$": "$.ingest.recordCount",
                "objects.$": "$.ingest.objectCount",
                "glueJobRunId.$": "$.glue.jobRunId",
            }),
            ResultPath: null,
            TimeoutSeconds: t.apiCallTimeoutSeconds,
            Retry: notifyRetry,
            Catch: catchAll,
            Next: S.succeeded,
        },
        [S.succeeded]: { Type: "Succeed" },
        [S.notifyNoData]: {
            Type: "Task",
            Comment: "A quiet day is not a failure; the message still says so",
            Resource: "arn:aws:states:::sns:publish",
            Parameters: publish("NO_DATA", "no new data", { "runId.$": "$.ingest.runId", "runDate.$": "$.ingest.runDate", "records.$": "$.ingest.recordCount" }),
            ResultPath: null,
            TimeoutSeconds: t.apiCallTimeoutSeconds,
            Retry: notifyRetry,
            Catch: catchAll,
            Next: S.noNewData,
        },
        [S.noNewData]: { Type: "Succeed", Comment: "The API had no new records: nothing to transform" },
        [S.notifyFailure]: {
            Type: "Task",
            Resource: "arn:aws:states:::sns:publish",
            Parameters: publish("FAILED", "run FAILED", { "error.$": "$.error.Error", "cause.$": "$.error.Cause" }),
            ResultPath: null,
            TimeoutSeconds: t.apiCallTimeoutSeconds,
            Retry: notifyRetry,
            // Not back to NotifyFailure: a topic that cannot be published to would loop.
            Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.notificationError", Next: S.notificationFailed }],
            Next: S.runFailed,
        },
        // A fixed error name: the caught one may be a reserved States.* name (States.Timeout), which a Fail
        // state may not raise; it leads the cause instead, and is in the notification and the history.
        [S.runFailed]: {
            Type: "Fail",
            Comment: "Fails the execution, naming the error that was caught",
            Error: RUN_FAILED_ERROR,
            CausePath: "States.Format('{}: {}', $.error.Error, $.error.Cause)",
        },
        [S.notificationFailed]: { Type: "Fail", Error: "NotificationFailed", Cause: "The run failed and the failure notification could not be published; see the execution history" },
    };
    if (params.noDataIsFailure) {
        states[S.noDataIsFailure] = {
            Type: "Pass",
            Result: { Error: "NoNewData", Cause: "The API returned no records for this run (noDataIsFailure is set)" },
            ResultPath: "$.error",
            Next: S.notifyFailure,
        };
        delete states[S.notifyNoData];
        delete states[S.noNewData];
    }
    return {
        Comment: "Scheduled medallion workflow: API → bronze → Glue (silver, gold) → crawler → catalog",
        StartAt: S.ingest,
        TimeoutSeconds: t.executionTimeoutSeconds,
        States: states,
    };
}

/** Names of the states a definition can reach from StartAt (for tests and for spotting dead states). */
export function reachableStates(def: StateMachineDefinition): Set<string> {
    const seen = new Set<string>();
    const visit = (name: string) => {
        if (seen.has(name) || !(name in def.States)) return;
        seen.add(name);
        const s = def.States[name] as Record<string, any>;
        const targets: string[] = [];
        if (s.Next) targets.push(s.Next);
        if (s.Default) targets.push(s.Default);
        for (const c of s.Catch ?? []) targets.push(c.Next);
        const walkChoice = (rule: ChoiceRule) => {
            if (rule.Next) targets.push(rule.Next);
        };
        for (const rule of s.Choices ?? []) walkChoice(rule);
        targets.forEach(visit);
    };
    visit(def.StartAt);
    return seen;
}
