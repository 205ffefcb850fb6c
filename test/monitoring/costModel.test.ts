/**
 * The cost model on fixed inputs: what it reads from a graph, how long data stays in which storage class,
 * and every service's line against hand-computed figures.
 */
import * as assert from "node:assert/strict";
import {
    ASSUMED_FILE_SIZE_MIX,
    converterFileCost,
    DEFAULT_FAST_PATH,
    estimate,
    formatEstimate,
    formatPerFile,
    glueFileCost,
    glueMinimumRunCost,
    perFileBySizeClass,
    routeFiles,
    validateSizeMix,
    withoutFastPaths,
    GraphResource,
    Inventory,
    inventoryOf,
    PRICES_EU_WEST_1,
    residence,
    scheduledPerMonth,
    REQUIRED_ESTIMATES,
    REQUIRED_WORKLOADS,
    seedInflowGb,
    Workload,
} from "../../scripts/costModel";

const close = (actual: number, expected: number, what: string, tolerance = 1e-3) =>
    assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} is not ${expected}`);

/** A small graph in the synth's shape: the trigger, the handler with its two rules, a job, buckets, a table. */
const GRAPH: GraphResource[] = [
    { type: "aws:glue/job:Job", name: "job", inputs: { name: "FileProcessorV2-dev", workerType: "G.1X", numberOfWorkers: 2, executionClass: "FLEX" } },
    { type: "aws:lambda/function:Function", name: "trigger", inputs: { name: "GlueTriggerLambda-dev", memorySize: 256, architectures: ["arm64"] } },
    { type: "aws:lambda/function:Function", name: "events", inputs: { name: "GlueJobEvents-dev", memorySize: 512, architectures: ["x86_64"] } },
    { type: "aws:lambda/permission:Permission", name: "p1", inputs: { function: "GlueTriggerLambda-dev", principal: "s3.amazonaws.com" } },
    { type: "aws:lambda/permission:Permission", name: "p2", inputs: { function: "GlueJobEvents-dev", principal: "events.amazonaws.com" } },
    { type: "aws:cloudwatch/eventRule:EventRule", name: "r1", inputs: { name: "sc", eventPattern: JSON.stringify({ "detail-type": ["Glue Job State Change"] }) } },
    { type: "aws:cloudwatch/eventRule:EventRule", name: "r2", inputs: { name: "sched", scheduleExpression: "rate(5 minutes)" } },
    { type: "aws:cloudwatch/eventTarget:EventTarget", name: "t1", inputs: { rule: "sc", arn: "arn:aws:lambda:eu-west-1:111111111111:function:GlueJobEvents-dev" } },
    { type: "aws:cloudwatch/eventTarget:EventTarget", name: "t2", inputs: { rule: "sched", arn: "arn:aws:lambda:eu-west-1:111111111111:function:GlueJobEvents-dev" } },
    { type: "aws:s3/bucket:Bucket", name: "in", inputs: { bucket: "glue-input-dev-111111111111" } },
    { type: "aws:s3/bucket:Bucket", name: "out", inputs: { bucket: "glue-output-dev-111111111111" } },
    { type: "aws:s3/bucketVersioning:BucketVersioning", name: "v1", inputs: { bucket: "glue-input-dev-111111111111", versioningConfiguration: { status: "Enabled" } } },
    { type: "aws:s3/bucketVersioning:BucketVersioning", name: "v2", inputs: { bucket: "glue-output-dev-111111111111", versioningConfiguration: { status: "Enabled" } } },
    {
        type: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        name: "l1",
        inputs: {
            bucket: "glue-input-dev-111111111111",
            rules: [
                { id: "abort", status: "Enabled", filter: { prefix: "" }, abortIncompleteMultipartUpload: { daysAfterInitiation: 7 } },
                { id: "expire", status: "Enabled", filter: { prefix: "" }, expiration: { days: 30 } },
                { id: "noncurrent", status: "Enabled", filter: { prefix: "" }, noncurrentVersionExpiration: { noncurrentDays: 30 } },
            ],
        },
    },
    {
        type: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        name: "l2",
        inputs: {
            bucket: "glue-output-dev-111111111111",
            rules: [
                { id: "expire", status: "Enabled", filter: { prefix: "" }, expiration: { days: 90 } },
                { id: "noncurrent", status: "Enabled", filter: { prefix: "" }, noncurrentVersionExpiration: { noncurrentDays: 30 } },
                { id: "off", status: "Disabled", filter: { prefix: "" }, expiration: { days: 1 } },
            ],
        },
    },
    { type: "aws:dynamodb/table:Table", name: "t", inputs: { name: "etl-pipeline-metadata-dev", billingMode: "PAY_PER_REQUEST", pointInTimeRecovery: { enabled: true }, globalSecondaryIndexes: [{ name: "by-status" }] } },
    { type: "aws:cloudwatch/metricAlarm:MetricAlarm", name: "a1", inputs: { name: "single", metricName: "Throttles" } },
    { type: "aws:cloudwatch/metricAlarm:MetricAlarm", name: "a2", inputs: { name: "math", metricQueries: [{ id: "e", metric: {} }, { id: "i", metric: {} }, { id: "r", expression: "e/i" }] } },
    { type: "aws:cloudwatch/dashboard:Dashboard", name: "d1", inputs: {} },
    { type: "aws:cloudwatch/dashboard:Dashboard", name: "d2", inputs: {} },
    { type: "aws:cloudwatch/logGroup:LogGroup", name: "g1", inputs: { name: "/aws/lambda/GlueTriggerLambda-dev", retentionInDays: 14 } },
    { type: "aws:cloudwatch/logGroup:LogGroup", name: "g2", inputs: { name: "/aws-glue/jobs/output", retentionInDays: 30 } },
    { type: "aws:kms/key:Key", name: "k1", inputs: {} },
    { type: "aws:kms/key:Key", name: "k2", inputs: {} },
    { type: "aws:sns/topicSubscription:TopicSubscription", name: "s1", inputs: { protocol: "email" } },
    { type: "aws:sqs/queue:Queue", name: "q1", inputs: {} },
];

const WORKLOAD: Workload = {
    name: "fixed",
    description: "fixed test workload",
    filesPerMonth: 10,
    runMinutes: 30,
    workersPerRun: 2,
    triggerInvocationsPerMonth: 1000,
    triggerDurationMs: 500,
    handlerDurationMs: 200,
    inputGbPerMonth: 30,
    parquetRatio: 0.5,
    s3PutRequestsPerMonth: 2000,
    s3GetRequestsPerMonth: 5000,
    lambdaLogKbPerInvocation: 2,
    glueLogMbPerRun: 10,
    failureRate: 0.1,
    recordMonths: 12,
};

describe("cost model", () => {
    let inventory: Inventory;
    before(() => {
        inventory = inventoryOf(GRAPH);
    });

    describe("reading the graph", () => {
        it("finds the job, the functions and what invokes them", () => {
            assert.deepEqual(inventory.glueJobs, [{ name: "FileProcessorV2-dev", workerType: "G.1X", maxWorkers: 2, executionClass: "FLEX" }]);
            assert.deepEqual(inventory.functions, [
                { name: "GlueTriggerLambda-dev", memoryMb: 256, architecture: "arm64", s3Triggered: true, glueStateChanges: false, scheduledPerMonth: 0 },
                { name: "GlueJobEvents-dev", memoryMb: 512, architecture: "x86_64", s3Triggered: false, glueStateChanges: true, scheduledPerMonth: 8640 },
            ]);
        });

        it("reads buckets with their versioning and enabled lifecycle rules, tables, alarms and the rest", () => {
            const input = inventory.buckets.find((b) => b.role === "input")!;
            assert.equal(input.versioned, true);
            assert.deepEqual(input.rules, [
                { prefix: "", transitions: [] },
                { prefix: "", expirationDays: 30, transitions: [] },
                { prefix: "", noncurrentDays: 30, transitions: [] },
            ]);
            assert.equal(inventory.buckets.find((b) => b.role === "output")!.rules.length, 2, "the disabled rule is ignored");
            assert.deepEqual(inventory.tables, [{ name: "etl-pipeline-metadata-dev", onDemand: true, pitr: true, indexes: 1 }]);
            assert.deepEqual(inventory.alarms, [{ name: "single", metrics: 1 }, { name: "math", metrics: 2 }]);
            assert.deepEqual([inventory.dashboards, inventory.kmsKeys, inventory.emailSubscriptions, inventory.queues], [2, 2, 1, 1]);
        });

        it("counts schedule invocations a month", () => {
            assert.deepEqual(["rate(5 minutes)", "rate(1 hour)", "rate(2 days)", "cron(0 9 * * ? *)"].map(scheduledPerMonth), [8640, 720, 15, 30]);
            assert.throws(() => scheduledPerMonth("cron(0/15 * * * ? *)"), /cannot count invocations/);
        });
    });

    describe("storage after lifecycle", () => {
        it("a versioned bucket keeps expired data as noncurrent versions for their retention", () => {
            const input = inventory.buckets.find((b) => b.role === "input")!;
            assert.deepEqual(residence(input.rules, "incoming/", true), { daysByClass: { STANDARD: 60 }, totalDays: 60 });
            assert.deepEqual(residence(input.rules, "incoming/", false), { daysByClass: { STANDARD: 30 }, totalDays: 30 });
        });

        it("follows transitions, and keeps never-expiring data forever", () => {
            const rules = [
                { prefix: "claims/", transitions: [{ days: 30, storageClass: "STANDARD_IA" as const }, { days: 90, storageClass: "GLACIER" as const }] },
                { prefix: "", expirationDays: 180, transitions: [] },
                { prefix: "", noncurrentDays: 7, transitions: [] },
            ];
            assert.deepEqual(residence(rules, "claims/2026/a.parquet", true), { daysByClass: { STANDARD: 30, STANDARD_IA: 60, GLACIER: 97 }, totalDays: 187 });
            assert.deepEqual(residence(rules.slice(0, 1), "claims/x", true), { daysByClass: { STANDARD: 30, STANDARD_IA: 60, GLACIER: Infinity }, totalDays: Infinity });
        });
    });

    describe("the estimate on fixed inputs", () => {
        let est: ReturnType<typeof estimate>;
        before(() => {
            est = estimate(inventory, WORKLOAD, PRICES_EU_WEST_1);
        });
        const lineOf = (item: RegExp) => {
            const found = est.lines.find((l) => item.test(l.item));
            assert.ok(found, `no line ${item}`);
            return found;
        };

        it("Glue: DPU-hours at the job's class, with the other class beside it", () => {
            const glue = lineOf(/FileProcessorV2-dev/);
            close(glue.quantity, 10, "DPU-hours"); // 10 runs × 0.5 h × 2 workers × 1 DPU
            close(glue.cost, 2.9, "Flex cost");
            assert.deepEqual(est.glueAlternatives, [{ job: "FileProcessorV2-dev", executionClass: "STANDARD", cost: 4.4 }]);
        });

        it("Glue: more workers than the job allows take longer for the same DPU-hours; short runs bill a minute", () => {
            const wide = estimate(inventory, { ...WORKLOAD, runMinutes: 6, workersPerRun: 10 }, PRICES_EU_WEST_1);
            close(wide.lines.find((l) => l.service === "Glue")!.quantity, 10, "capped at 2 workers for 30 min");
            const short = estimate(inventory, { ...WORKLOAD, runMinutes: 0.25 }, PRICES_EU_WEST_1);
            close(short.lines.find((l) => l.service === "Glue")!.quantity, (10 * 2 * 60) / 3600, "60 s minimum");
        });

        it("Lambda: requests and GB-seconds at each function's architecture, invocations from the graph", () => {
            const triggerRequests = lineOf(/GlueTriggerLambda-dev requests/);
            close(triggerRequests.quantity, 0.001, "million requests");
            const triggerCompute = lineOf(/GlueTriggerLambda-dev compute \(arm64\)/);
            close(triggerCompute.quantity, 1000 * 0.25 * 0.5, "GB-s");
            assert.equal(triggerCompute.unitPrice, 0.0000133334);
            const handlerCompute = lineOf(/GlueJobEvents-dev compute \(x86_64\)/);
            close(handlerCompute.quantity, (10 + 8640) * 0.5 * 0.2, "GB-s");
            assert.equal(handlerCompute.unitPrice, 0.0000166667);
            assert.equal(handlerCompute.freeTierCredit, handlerCompute.cost, "inside the free tier");
        });

        it("S3: GB-months in each class after lifecycle, plus requests", () => {
            const standard = lineOf(/storage STANDARD/);
            // input 30 GB × 60 d / 30 + output 15 GB × 120 d / 30
            close(standard.quantity, 60 + 60, "GB-month");
            close(standard.cost, 120 * 0.023, "storage cost");
            close(lineOf(/PUT, COPY/).quantity, (2000 + 10 * 20) / 1000, "thousand PUTs");
        });

        it("CloudWatch: alarm metrics, dashboards, custom metric-hours, logs by retention", () => {
            const alarms = lineOf(/alarms/);
            assert.equal(alarms.quantity, 3);
            close(alarms.cost, 0.3, "alarm cost");
            assert.equal(alarms.freeTierCredit, alarms.cost);
            const dashboards = lineOf(/dashboards/);
            close(dashboards.cost, 6, "two dashboards");
            close(dashboards.freeTierCredit, 6, "the first three are free");
            // 10 runs × 6 run metrics + 10 runs × 1 h × 2 in-flight statuses = 80 metric-hours
            close(lineOf(/custom metrics/).quantity, 80 / 730, "metric-months", 1e-4);
            const ingested = lineOf(/logs ingested/);
            close(ingested.quantity, ((1000 + 8650) * 2) / 1e6 + (10 * 10) / 1e3, "GB ingested", 1e-4);
            const stored = lineOf(/logs stored/);
            close(stored.quantity, (((1000 + 8650) * 2) / 1e6) * (14 / 30) + (100 / 1e3) * (30 / 30), "GB-month stored", 1e-4);
        });

        it("KMS, DynamoDB and the rest; the total is the sum of the lines", () => {
            close(lineOf(/customer-managed key/).cost, 2, "two keys");
            close(lineOf(/writes \(on demand\)/).quantity, (10 * 5 * 2 * 2) / 1e6, "million WRU", 1e-9);
            close(est.total, est.lines.reduce((a, l) => a + l.cost, 0), "total", 1e-3);
            assert.ok(est.totalAfterFreeTier < est.total);
            close(est.byService.Glue + est.byService.Lambda + est.byService.S3 + est.byService.DynamoDB + est.byService.CloudWatch + est.byService.KMS + est.byService["SNS, SQS, EventBridge"], est.total, "by service", 1e-3);
        });

        it("warns in the logs line when a log group keeps logs forever", () => {
            const unbounded = estimate({ ...inventory, logGroups: [...inventory.logGroups, { name: "/aws/lambda/stray", retentionDays: 0 }] }, WORKLOAD);
            assert.match(unbounded.lines.find((l) => l.item === "logs stored")!.note!, /UNBOUNDED retention: \/aws\/lambda\/stray/);
        });
    });

    describe("triggers fed through their queues (S3 → SQS → event source mapping)", () => {
        const QUEUE = "arn:aws:sqs:eu-west-1:111111111111:GlueTriggerLambda-dev-queue";
        // The trigger without S3's invoke permission: the bucket notifies its queue, a mapping reads it.
        const fed: GraphResource[] = [
            ...GRAPH.filter((r) => r.name !== "p1"),
            { type: "aws:s3/bucketNotification:BucketNotification", name: "n", inputs: { bucket: "glue-input-dev-111111111111", queues: [{ queueArn: QUEUE, filterSuffix: ".csv" }] } },
            {
                type: "aws:lambda/eventSourceMapping:EventSourceMapping",
                name: "m",
                inputs: { eventSourceArn: QUEUE, functionName: "arn:aws:lambda:eu-west-1:111111111111:function:GlueTriggerLambda-dev", batchSize: 10 },
            },
        ];
        const fedInventory = () => inventoryOf(fed);

        it("reads the mapping: the trigger is still fed by S3's events, through its queue", () => {
            const inv = fedInventory();
            assert.deepEqual(inv.feedQueues, [{ queueArn: QUEUE, functionName: "GlueTriggerLambda-dev", batchSize: 10 }]);
            assert.equal(inv.functions.find((f) => f.name === "GlueTriggerLambda-dev")!.s3Triggered, true);
            assert.deepEqual(inventory.feedQueues, [], "the direct-invoke graph has none");
        });

        it("counts SQS requests: send, receive, delete per message, a message more per capacity wait, and the mapping's polling", () => {
            const est = estimate(fedInventory(), { ...WORKLOAD, capacityWaitsPerFile: 2 }, PRICES_EU_WEST_1);
            const messages = est.lines.find((l) => l.item.startsWith("SQS: trigger queue messages"))!;
            // 1,000 events × (1 + 2 waits) × 3 requests.
            close(messages.quantity, (1000 * 3 * 3) / 1e6, "million message requests", 1e-9);
            close(messages.cost, ((1000 * 3 * 3) / 1e6) * 0.4, "message cost", 1e-4);
            const polling = est.lines.find((l) => l.item === "SQS: event source mappings polling")!;
            close(polling.quantity, 648000 / 1e6, "million polls: 5 pollers × 3 a minute × 43,200 minutes", 1e-9);
            close(polling.cost, 0.648 * 0.4, "polling cost", 1e-4);
            // The account's 1M free requests cover both here.
            close(messages.freeTierCredit + polling.freeTierCredit, messages.cost + polling.cost, "free tier", 1e-4);
            close(est.byService["SNS, SQS, EventBridge"], est.lines.filter((l) => l.service === "SNS, SQS, EventBridge").reduce((a, l) => a + l.cost, 0), "by service", 1e-4);
            assert.equal(estimate(inventory, WORKLOAD).lines.filter((l) => l.item.startsWith("SQS:")).length, 0, "no queue, no SQS request lines");
        });
    });

    describe("the requirements' workloads", () => {
        it("restate the requirements' figures: 100 GB / 1 TB at rest under its own lifecycle, 1 and 2 DPU-hours per run", () => {
            close(seedInflowGb(100) * (1 + 3 * 0.25), 100, "dev at rest");
            close(REQUIRED_WORKLOADS.prod.inputGbPerMonth * 1.75, 1000, "prod at rest");
            const devJob: Inventory = { ...inventory, glueJobs: [{ ...inventory.glueJobs[0], executionClass: "STANDARD" }] };
            close(estimate(devJob, REQUIRED_WORKLOADS.dev).byService.Glue, REQUIRED_ESTIMATES.dev.glue, "dev Glue on STANDARD = the requirements' $4.40");
            const prodJob: Inventory = { ...inventory, glueJobs: [{ name: "FileProcessorV2-prod", workerType: "G.1X", maxWorkers: 10, executionClass: "STANDARD" }] };
            close(estimate(prodJob, REQUIRED_WORKLOADS.prod).byService.Glue, REQUIRED_ESTIMATES.prod.glue, "prod Glue = the requirements' $88");
        });

        it("prints ours beside the requirements' estimate", () => {
            const text = formatEstimate("glue-data-pipeline/dev", estimate(inventory, REQUIRED_WORKLOADS.dev), REQUIRED_ESTIMATES.dev);
            assert.match(text, /^Monthly cost of glue-data-pipeline\/dev — workload: the requirements' dev/);
            assert.match(text, /Glue\s+\$4\.40\s+\$2\.90/);
            assert.match(text, /TOTAL\s+\$8\.10\s+\$\d+\.\d\d/);
            assert.match(text, /FileProcessorV2-dev on STANDARD would cost \$4\.40 for Glue/);
            assert.match(text, /eu-west-1 list prices in USD/);
        });
    });
    describe("the fast path (small CSV files on the converter, the rest on Glue)", () => {
        const CONVERTER = "CsvConverter-dev";
        const CONVERTER_QUEUE = "arn:aws:sqs:eu-west-1:111111111111:CsvConverter-dev-queue";
        const TRIGGER_QUEUE = "arn:aws:sqs:eu-west-1:111111111111:GlueTriggerLambda-dev-queue";
        // The trigger fed by its queue and routing to the converter (its env), the converter fed by its own queue.
        const routedGraph: GraphResource[] = [
            ...GRAPH.filter((r) => r.name !== "p1" && r.name !== "trigger"),
            {
                type: "aws:lambda/function:Function",
                name: "trigger",
                inputs: {
                    name: "GlueTriggerLambda-dev",
                    memorySize: 256,
                    architectures: ["arm64"],
                    environment: { variables: { GLUE_JOB_NAME: "FileProcessorV2-dev", FAST_PATH_FUNCTION_NAME: CONVERTER, FAST_PATH_MAX_BYTES: String(256 * 1024 * 1024) } },
                },
            },
            {
                type: "aws:lambda/function:Function",
                name: "converter",
                inputs: { name: CONVERTER, memorySize: 3008, timeout: 300, architectures: ["arm64"], environment: { variables: { GLUE_JOB_NAME: "FileProcessorV2-dev" } } },
            },
            { type: "aws:s3/bucketNotification:BucketNotification", name: "n", inputs: { bucket: "glue-input-dev-111111111111", queues: [{ queueArn: TRIGGER_QUEUE, filterSuffix: ".csv" }] } },
            { type: "aws:lambda/eventSourceMapping:EventSourceMapping", name: "m1", inputs: { eventSourceArn: TRIGGER_QUEUE, functionName: "GlueTriggerLambda-dev", batchSize: 10 } },
            { type: "aws:lambda/eventSourceMapping:EventSourceMapping", name: "m2", inputs: { eventSourceArn: CONVERTER_QUEUE, functionName: CONVERTER, batchSize: 1 } },
        ];
        const routedInventory = () => inventoryOf(routedGraph);

        it("reads the converter from the graph: the trigger's routing limit and target, the converter's memory, timeout and job", () => {
            const inv = routedInventory();
            assert.deepEqual(inv.fastPaths, [
                { functionName: CONVERTER, glueJobName: "FileProcessorV2-dev", memoryMb: 3008, architecture: "arm64", timeoutSeconds: 300, maxBytes: 268435456 },
            ]);
            const converter = inv.functions.find((f) => f.name === CONVERTER)!;
            assert.equal(converter.s3Triggered, false, "its queue is fed by the trigger, not by S3");
            assert.deepEqual(inventory.fastPaths, [], "a graph without the trigger's fast-path variables has none");
            assert.equal(DEFAULT_FAST_PATH.maxBytes, 268435456, "the contract's default limit");
        });

        it("prices one file on each path by size class: Glue bills 2 DPU for at least a minute, the converter GB-seconds", () => {
            const standard = glueMinimumRunCost(PRICES_EU_WEST_1, "STANDARD");
            close(standard, (2 * 60 * 0.44) / 3600, "the Glue minimum run: 2 DPU × 60 s ≈ $0.0147", 1e-9);
            close(glueFileCost(1, PRICES_EU_WEST_1, "STANDARD").cost, standard, "a 1 MB file bills the minimum", 1e-9);
            const gig = glueFileCost(1024, PRICES_EU_WEST_1, "STANDARD");
            close(gig.seconds, 15 + 1024 / 17.5, "start + 1 GB at the Spark path's 17.5 MB/s", 1e-9);
            close(gig.cost, (2 * gig.seconds * 0.44) / 3600, "per second past the minimum", 1e-9);
            const small = converterFileCost(1, DEFAULT_FAST_PATH, PRICES_EU_WEST_1);
            close(small.seconds, 1 + (1 * 1.25) / 80 + (1 * 0.032) / (2048 / 1769), "fixed + transfers + 3.2 CPU-s per 100 MB at 2,048 MB's vCPUs", 1e-9);
            close(small.gbSeconds, 2 * small.seconds, "GB-s at the memory", 1e-9);
            close(converterFileCost(100, { ...DEFAULT_FAST_PATH, memoryMb: 10240 }, PRICES_EU_WEST_1).seconds, 1 + 125 / 80 + 3.2 / 2, "no more than the 2 vCPUs measured", 1e-9);
            close(small.cost, small.gbSeconds * 0.0000133334 + 0.2 / 1e6 + (3 * 0.4) / 1e6, "arm64 GB-s, the request, three SQS requests", 1e-12);
            assert.deepEqual(
                perFileBySizeClass(DEFAULT_FAST_PATH, PRICES_EU_WEST_1, "STANDARD").map((r) => [r.sizeMb, r.converter.routed, r.converter.fitsTimeout]),
                [
                    [1, true, true],
                    [100, true, true],
                    [1024, false, true],
                ],
            );
        });

        it("meets the issue's goal: a small file on the converter costs at most 1/20 of the Glue minimum run", () => {
            for (const executionClass of ["STANDARD", "FLEX"] as const) {
                for (const row of perFileBySizeClass(DEFAULT_FAST_PATH, PRICES_EU_WEST_1, executionClass).filter((r) => r.converter.routed)) {
                    assert.ok(row.converterShareOfGlueMinimum <= 1 / 20, `${row.sizeMb} MB on ${executionClass}: ${row.converterShareOfGlueMinimum}`);
                }
            }
            // The same at the graph's converter settings.
            const fp = routedInventory().fastPaths[0];
            assert.ok(converterFileCost(1, fp, PRICES_EU_WEST_1).cost <= glueMinimumRunCost(PRICES_EU_WEST_1) / 20);
        });

        it("routes the job's files at the limit: Glue runs only the larger ones, the converter the rest at their sizes", () => {
            const inv = routedInventory();
            const est = estimate(inv, WORKLOAD, PRICES_EU_WEST_1);
            const routed = routeFiles(10, ASSUMED_FILE_SIZE_MIX, inv.fastPaths[0], PRICES_EU_WEST_1);
            close(routed.filesOnFastPath, 9.7, "1 MB and 100 MB files: 70 % + 27 %", 1e-9);
            assert.deepEqual(est.routing.map((r) => [r.fastPath.functionName, r.executionClass, r.files, r.filesOnFastPath, r.filesOnGlue]), [[CONVERTER, "FLEX", 10, 9.7, 0.3]]);
            const glue = est.lines.find((l) => l.service === "Glue")!;
            close(glue.quantity, 0.3 * 1, "0.3 runs × 1 DPU-h", 1e-9);
            assert.match(glue.note!, /9\.7 of 10 files on the fast path CsvConverter-dev \(≤ 256 MB\)/);
            // Lines keep four decimals of their unit (million requests): the notes carry the counts.
            assert.equal(est.lines.find((l) => l.item === `${CONVERTER} requests`)!.note, "10 invocations", "one invocation per routed file (9.7)");
            const compute = est.lines.find((l) => l.item === `${CONVERTER} compute (arm64)`)!;
            const gbs = 10 * 0.7 * converterFileCost(1, inv.fastPaths[0], PRICES_EU_WEST_1).gbSeconds + 10 * 0.27 * converterFileCost(100, inv.fastPaths[0], PRICES_EU_WEST_1).gbSeconds;
            close(compute.quantity, gbs, "GB-s of each size class", 1e-3);
            // The handler hears of Glue runs only.
            assert.equal(est.lines.find((l) => l.item === "GlueJobEvents-dev requests")!.note, "8640 invocations", "state changes of 0.3 runs + the schedule's 8,640");
            const fastSqs = est.lines.find((l) => l.item === "SQS: fast-path requests")!;
            assert.match(fastSqs.note!, /^9\.7 files × 3 \(the trigger's send, the mapping's receive, its delete\)$/);
            // The trigger's queue takes every S3 event; the converter's is not S3-fed; both mappings poll.
            assert.equal(est.lines.find((l) => l.item.startsWith("SQS: trigger queue messages"))!.item, "SQS: trigger queue messages (1 queues)");
            close(est.lines.find((l) => l.item === "SQS: event source mappings polling")!.quantity, (2 * 648000) / 1e6, "two mappings", 1e-9);
            close(est.lines.find((l) => l.item.startsWith("PUT, COPY"))!.quantity, (2000 + 0.3 * 20 + 9.7 * 6) / 1000, "Glue's per run, the converter's per file", 1e-9);
        });

        it("costs less routed than all on Glue, and all on Glue is the stack without its converter", () => {
            const inv = routedInventory();
            const est = estimate(inv, WORKLOAD, PRICES_EU_WEST_1);
            const allGlue = estimate(withoutFastPaths(inv), WORKLOAD, PRICES_EU_WEST_1);
            assert.deepEqual(est.allOnGlue, { total: allGlue.total, totalAfterFreeTier: allGlue.totalAfterFreeTier });
            assert.ok(est.total < allGlue.total, `${est.total} < ${allGlue.total}`);
            assert.equal(withoutFastPaths(inv).functions.some((f) => f.name === CONVERTER), false);
            assert.equal(withoutFastPaths(inv).feedQueues.length, 1);
            close(allGlue.lines.find((l) => l.service === "Glue")!.quantity, 10, "every file a Glue run again", 1e-9);
        });

        it("the requirements' workloads cost less with routing than all on Glue, at both stages and both classes", () => {
            const inv = routedInventory();
            for (const [stage, w] of Object.entries(REQUIRED_WORKLOADS)) {
                for (const executionClass of ["STANDARD", "FLEX"] as const) {
                    const jobs: Inventory = { ...inv, glueJobs: inv.glueJobs.map((j) => ({ ...j, executionClass, maxWorkers: stage === "prod" ? 10 : 2 })) };
                    const est = estimate(jobs, w, PRICES_EU_WEST_1);
                    assert.ok(est.allOnGlue, stage);
                    assert.ok(est.total < est.allOnGlue.total, `${stage} ${executionClass}: routed ${est.total} < all on Glue ${est.allOnGlue.total}`);
                    assert.ok(est.byService.Glue < estimate(withoutFastPaths(jobs), w, PRICES_EU_WEST_1).byService.Glue, `${stage} ${executionClass}: Glue`);
                }
            }
            // The assumed mix's mean is the requirements' mean object size (57.1 GB over 1,000 invocations).
            const meanMb = ASSUMED_FILE_SIZE_MIX.reduce((a, s) => a + s.sizeMb * s.share, 0);
            close(meanMb, (REQUIRED_WORKLOADS.dev.inputGbPerMonth * 1024) / REQUIRED_WORKLOADS.dev.triggerInvocationsPerMonth, "mean file size (MB)", 2);
        });

        it("takes the workload's own size mix, and refuses one whose shares do not add up", () => {
            const inv = routedInventory();
            const allSmall = estimate(inv, { ...WORKLOAD, fileSizeMix: [{ sizeMb: 5, share: 1 }] }, PRICES_EU_WEST_1);
            assert.equal(allSmall.routing[0].filesOnGlue, 0);
            const allLarge = estimate(inv, { ...WORKLOAD, fileSizeMix: [{ sizeMb: 2048, share: 1 }] }, PRICES_EU_WEST_1);
            assert.equal(allLarge.routing[0].filesOnFastPath, 0);
            close(allLarge.byService.Glue, allLarge.allOnGlue ? estimate(withoutFastPaths(inv), WORKLOAD).byService.Glue : NaN, "nothing routed: Glue as before", 1e-9);
            assert.throws(() => validateSizeMix([{ sizeMb: 1, share: 0.5 }]), /shares add up to 0.5, not 1/);
            assert.throws(() => validateSizeMix([{ sizeMb: 0, share: 1 }]), /needs sizeMb > 0/);
        });

        it("prints the routing beside the total, and one file of each size on each path", () => {
            const est = estimate(routedInventory(), WORKLOAD, PRICES_EU_WEST_1);
            const text = formatEstimate("glue-data-pipeline/dev", est);
            assert.match(text, /fast path: 9\.7 of 10 FileProcessorV2-dev files a month on CsvConverter-dev \(≤ 256 MB\), 0\.3 on Glue; all on Glue the stack would cost \$\d+\.\d\d/);
            const perFile = formatPerFile(est.routing[0].fastPath, "STANDARD", PRICES_EU_WEST_1);
            assert.match(perFile, /^One CSV file on each path \(CsvConverter-dev;/);
            assert.match(perFile, /\n  1 MB\s+15\.1 s, billed 60 s \$0\.0147\s+1\.0 s, 3\.0 GB-s \$0\.0000419\s+converter\s+1\/350\n/, "at the graph's 3,008 MB");
            assert.match(perFile, /\n  1 GB\s+73\.5 s, billed 74 s \$0\.0180\s+.*Glue\s+1\/10\n/);
            assert.match(perFile, /the goal for a small file: at most 1\/20 of it \(\$0\.000733\)/);
            assert.match(perFile, /conversion 0\.032 CPU-s per MB \(docs\/fast-path\.md: 3\.2 CPU-s per 100 MB on the bench\) on 1\.7 vCPU/);
        });
    });
});
