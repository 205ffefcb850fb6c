import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import type { WorkloadStack } from "../../stacks/workload";
import { setStackReferenceOutputs } from "../../scripts/offline/pulumiMocks";
import { asList, named, ofType, statementsOf } from "../support/graph";
import { valueOf } from "../support/outputs";
import { buildWorkload as build, stackConfig as config } from "../support/workload";

const DEV_STACK = "acme/glue-data-pipeline/dev";

describe("workload stack", () => {
    describe("dev", () => {
        let dev: WorkloadStack;
        before(async () => {
            dev = await build(config("dev"));
        });

        it("creates its provider pinned to the account, region and the four tags", () => {
            const provider = named("dev-aws", "pulumi:providers:aws");
            // Provider inputs reach the engine as strings, objects JSON-encoded.
            const decoded = (v: unknown) => (typeof v === "string" && /^[[{]/.test(v) ? JSON.parse(v) : v);
            assert.deepEqual(decoded(provider.inputs.allowedAccountIds), ["111111111111"]);
            assert.equal(provider.inputs.region, "eu-west-1");
            const tags = decoded(provider.inputs.defaultTags).tags;
            assert.deepEqual(tags, { Environment: "dev", Project: "glue-data-pipeline", Owner: "data-eng", CostCenter: "engineering" });
        });

        it("names the CSV flow's and the platform's resources after the stage", async () => {
            assert.equal(await valueOf(dev.csv.job.jobName), "FileProcessorV2-dev");
            assert.equal(await valueOf(dev.csv.trigger.function.name), "GlueTriggerLambda-dev");
            assert.equal(await valueOf(dev.metadata.tableName), "etl-pipeline-metadata-dev");
            assert.equal(await valueOf(dev.glue.databaseName), "glue_database_v2_dev");
            assert.equal(await valueOf(dev.buckets.inputBucket.bucket), "glue-input-dev-111111111111");
            assert.equal(await valueOf(dev.buckets.outputBucket.bucket), "glue-output-dev-111111111111");
            assert.equal(await valueOf(dev.buckets.assetsBucket.bucket), "glue-assets-v2-dev-111111111111");
        });

        it("wires the trigger to the job, the table and the output bucket", async () => {
            const fn = named("glue-trigger-function", "aws:lambda/function:Function");
            const env = fn.inputs.environment.variables;
            assert.equal(env.GLUE_JOB_NAME, "FileProcessorV2-dev");
            assert.equal(env.METADATA_TABLE, "etl-pipeline-metadata-dev");
            assert.equal(env.OUTPUT_BUCKET, "glue-output-dev-111111111111");
            assert.equal(env.FILE_SUFFIX, ".csv");
            assert.match(env.RELEASE_ID, /^[0-9a-f]{16}$/);
            assert.equal(fn.inputs.timeout, 30);
            // Dev opts into no reservation: a new account's concurrency quota could not grant one.
            assert.equal(fn.inputs.reservedConcurrentExecutions, undefined);
        });

        it("deploys the CSV flow's fast path by default: the trigger routes to CsvConverter-dev's queue, may send only there, and the stack watches and exports the converter", async () => {
            const env = named("glue-trigger-function", "aws:lambda/function:Function").inputs.environment.variables;
            assert.equal(env.FAST_PATH_QUEUE_URL, "https://sqs.eu-west-1.amazonaws.com/111111111111/CsvConverter-dev-queue");
            assert.equal(env.FAST_PATH_MAX_BYTES, "268435456");
            assert.equal(env.FAST_PATH_FUNCTION_NAME, "CsvConverter-dev");
            const send = statementsOf(named("glue-trigger-policy", "aws:iam/rolePolicy:RolePolicy").inputs.policy).find((s) => s.Sid === "SendToCsvConverter");
            assert.deepEqual(asList(send?.Resource), ["arn:aws:sqs:eu-west-1:111111111111:CsvConverter-dev-queue"]);
            const converter = named("csv-converter-function", "aws:lambda/function:Function").inputs;
            assert.equal(converter.environment.variables.GLUE_JOB_NAME, "FileProcessorV2-dev");
            assert.equal(converter.environment.variables.OUTPUT_BUCKET, "glue-output-dev-111111111111");
            assert.equal(converter.environment.variables.RELEASE_ID, env.RELEASE_ID);
            // The converter's queue admits the CSV trigger's role, not the Parquet trigger's.
            const queuePolicy = statementsOf(named("csv-converter-queue-policy", "aws:sqs/queuePolicy:QueuePolicy").inputs.policy);
            const allowed = queuePolicy.filter((st) => st.Effect === "Allow").map((st) => (st.Principal as { AWS: string }).AWS);
            assert.equal(allowed.length, 1);
            assert.match(allowed[0], /glue-trigger-role/);
            const output = (key: string) => valueOf(pulumi.output(dev.outputs[key]));
            assert.equal(await output("csvConverterFunction"), "CsvConverter-dev");
            assert.equal(await output("fastPathMaxBytes"), 268435456);
            assert.match(String(await output("csvConverterQueue")), /CsvConverter-dev-queue$/);
            assert.match(String(await output("csvConverterDeadLetterQueue")), /CsvConverter-dev-queue-dlq$/);
            const artifacts = await valueOf(dev.artifacts);
            assert.match(artifacts.csvConverterPackage, /^[0-9a-f]{64}$/);
        });

        it("lets the trigger start only its job, touch only the table, and read only the input bucket", () => {
            const policy = named("glue-trigger-policy", "aws:iam/rolePolicy:RolePolicy");
            const statements = statementsOf(policy.inputs.policy);
            const bySid = new Map(statements.map((s) => [s.Sid, s]));
            assert.deepEqual(asList(bySid.get("StartFileProcessor")?.Action), ["glue:StartJobRun"]);
            assert.deepEqual(asList(bySid.get("StartFileProcessor")?.Resource), ["arn:aws:glue:eu-west-1:111111111111:job/FileProcessorV2-dev"]);
            assert.deepEqual(asList(bySid.get("TrackFiles")?.Resource), ["arn:aws:dynamodb:eu-west-1:111111111111:table/etl-pipeline-metadata-dev"]);
            const s3Resources = statements.filter((s) => asList(s.Action).some((a) => a.startsWith("s3:"))).flatMap((s) => asList(s.Resource));
            assert.ok(s3Resources.length > 0);
            for (const r of s3Resources) assert.match(r, /^arn:aws:s3:::glue-input-dev-111111111111(\/\*)?$/);
        });

        it("sends .csv objects created in the input bucket to the trigger's queue", () => {
            // One notification for the input bucket, shared with the Parquet trigger (test/stacks/parquetAndLegislatorsFlows.test.ts).
            const notification = named("input-notifications", "aws:s3/bucketNotification:BucketNotification");
            assert.equal(notification.inputs.bucket, "glue-input-dev-111111111111");
            const [target] = notification.inputs.queues;
            assert.equal(target.filterSuffix, ".csv");
            assert.deepEqual(target.events, ["s3:ObjectCreated:*"]);
            assert.equal(target.queueArn, "arn:aws:sqs:eu-west-1:111111111111:GlueTriggerLambda-dev-queue");
            assert.equal(notification.inputs.lambdaFunctions, undefined);
            assert.ok(notification.dependencies.includes(named("glue-trigger-queue-policy").urn), "after the queue's policy");
        });

        it("feeds the trigger from its queue with the stack's queue settings, and watches the queue", () => {
            const mapping = named("glue-trigger-queue-events", "aws:lambda/eventSourceMapping:EventSourceMapping").inputs;
            assert.deepEqual([mapping.batchSize, mapping.scalingConfig, mapping.functionResponseTypes], [10, { maximumConcurrency: 2 }, ["ReportBatchItemFailures"]]);
            assert.equal(named("glue-trigger-queue", "aws:sqs/queue:Queue").inputs.visibilityTimeoutSeconds, 180);
            const alarms = ofType("aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => a.inputs.name);
            for (const name of ["GlueTriggerLambda-dev-queue-backlog-age", "GlueTriggerLambda-dev-queue-dlq-not-empty", "GlueTriggerLambda-dev-dlq-not-empty"]) {
                assert.ok(alarms.includes(name), name);
            }
        });

        it("lets the job read the input bucket and write only processed/ and quarantine/ of the output bucket", () => {
            const policy = named("file-processor-policy", "aws:iam/rolePolicy:RolePolicy");
            const statements = statementsOf(policy.inputs.policy);
            const puts = statements.filter((s) => asList(s.Action).includes("s3:PutObject")).flatMap((s) => asList(s.Resource));
            const outputPuts = puts.filter((r) => r.includes("glue-output-"));
            assert.deepEqual(outputPuts.sort(), [
                "arn:aws:s3:::glue-output-dev-111111111111/processed/*",
                "arn:aws:s3:::glue-output-dev-111111111111/quarantine/*",
            ]);
            assert.ok(!puts.some((r) => r.includes("glue-input-")), "the job must not write the input bucket");
        });

        it("runs dev's job on Flex without queuing, and passes the metadata table and release to the job", () => {
            const job = named("file-processor-job", "aws:glue/job:Job");
            assert.equal(job.inputs.executionClass, "FLEX");
            assert.notEqual(job.inputs.jobRunQueuingEnabled, true);
            assert.equal(job.inputs.numberOfWorkers, 2);
            assert.equal(job.inputs.glueVersion, "5.1");
            assert.equal(job.inputs.defaultArguments["--metadata_table"], "etl-pipeline-metadata-dev");
            assert.match(job.inputs.defaultArguments["--release_id"], /^[0-9a-f]{16}$/);
        });

        it("expires what the file flows write after 90 days, but keeps the medallion's silver, gold and manifest", () => {
            const lifecycle = ofType("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").find(
                (r) => r.inputs.bucket === "glue-output-dev-111111111111",
            );
            assert.ok(lifecycle);
            const expiring = new Map<string, number>(
                lifecycle.inputs.rules
                    .filter((rule: any) => rule.status === "Enabled" && rule.expiration?.days)
                    .map((rule: any) => [rule.filter?.prefix ?? "", rule.expiration.days]),
            );
            for (const prefix of ["processed/", "quarantine/", "processed-data/", "legislators/history/", "medallion/rejected/"]) {
                assert.equal(expiring.get(prefix), 90, prefix);
            }
            assert.equal(expiring.get("medallion/raw/"), 30);
            for (const [prefix] of expiring) {
                assert.ok(!"medallion/curated/".startsWith(prefix), `gold would expire under ${prefix || "the whole bucket"}`);
                assert.ok(!"medallion/_state/".startsWith(prefix), `the manifest would expire under ${prefix || "the whole bucket"}`);
            }
        });

        it("lets dev's data be destroyed, as configured", () => {
            const table = named("processing-metadata-table", "aws:dynamodb/table:Table");
            assert.equal(table.inputs.deletionProtectionEnabled, false);
        });

        it("stamps the release id on every function and job", async () => {
            const release = await valueOf(dev.releaseId);
            assert.match(release, /^[0-9a-f]{16}$/);
            const functions = ofType("aws:lambda/function:Function");
            assert.ok(functions.some((f) => f.inputs.name === "GlueJobEvents-dev"));
            for (const f of functions) assert.equal(f.inputs.environment?.variables?.RELEASE_ID, release, String(f.inputs.name));
            for (const j of ofType("aws:glue/job:Job")) assert.equal(j.inputs.defaultArguments?.["--release_id"], release, String(j.inputs.name));
        });

        it("exports its dashboards as console links in its region, and their names", async () => {
            assert.deepEqual(await valueOf(dev.outputs.dashboards), {
                overview: "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards/dashboard/glue-pipeline-dev-overview",
                operations: "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards/dashboard/glue-pipeline-dev-operations",
            });
            assert.deepEqual(await valueOf(dev.outputs.dashboardNames), { overview: "glue-pipeline-dev-overview", operations: "glue-pipeline-dev-operations" });
        });

        it("exports the artifact versions it deployed", async () => {
            const artifacts = await valueOf(dev.artifacts);
            // Without the medallion workflow, its script and ingestion bundle are not shipped.
            assert.deepEqual(Object.keys(artifacts).sort(), [
                "claimsScript",
                "claimsValidationBundle",
                "csvConverterPackage",
                "fileProcessorScript",
                "glueJobEventsBundle",
                "glueLibrary",
                "glueTriggerBundle",
                "legislatorsScript",
                "parquetToJsonScript",
            ]);
            for (const v of Object.values(artifacts)) assert.match(v, /^[0-9a-f]{64}$/);
        });
    });

    describe("prod, promoted from dev", () => {
        const prodConfig = () => config("prod", { promotion: { fromStack: DEV_STACK } });

        afterEach(() => setStackReferenceOutputs(DEV_STACK, undefined));

        it("deploys when dev has deployed the same artifacts and passed its smoke check on this release", async () => {
            const { localArtifactVersions, releaseId, shippedArtifacts } = await import("../../stacks/artifacts");
            const release = releaseId(localArtifactVersions(shippedArtifacts(false)));
            const smoke = { releaseId: release, passedAt: "2026-12-04T10:00:00.000Z", files: ["smoke/r/customers.csv"] };
            setStackReferenceOutputs(DEV_STACK, { artifacts: localArtifactVersions(), smoke });
            const prod = await build(prodConfig());
            assert.equal(await valueOf(prod.releaseId), release);
            const ref = named("prod-promotion-source", "pulumi:pulumi:StackReference");
            assert.equal(ref.inputs.name, DEV_STACK);
            const job = named("file-processor-job", "aws:glue/job:Job");
            assert.equal(job.inputs.executionClass, "STANDARD");
            assert.equal(job.inputs.jobRunQueuingEnabled, true);
            assert.equal(job.inputs.numberOfWorkers, 10);
            const table = named("processing-metadata-table", "aws:dynamodb/table:Table");
            assert.equal(table.inputs.deletionProtectionEnabled, true);
            // Prod opts into reserved concurrency (trigger.reservedConcurrency): the job-events handler is capped too.
            const reserved = (logical: string) => named(logical, "aws:lambda/function:Function").inputs.reservedConcurrentExecutions;
            assert.equal(reserved("glue-trigger-function"), 10);
            assert.equal(reserved("monitoring-glue-events-function"), reserved("glue-trigger-function"));
        });

        it("refuses, naming the command, when dev has exported nothing", async () => {
            setStackReferenceOutputs(DEV_STACK, {});
            const prod = await build(prodConfig());
            await assert.rejects(valueOf(prod.releaseId), /has no output "artifacts".*pulumi up --stack acme\/glue-data-pipeline\/dev/);
            assert.equal(ofType("aws:glue/job:Job").length, 0, "the job must not be registered with an unproven script");
            assert.equal(ofType("aws:lambda/function:Function").length, 0, "the function must not be registered with an unproven bundle");
        });

        it("refuses when dev runs another version of the script", async () => {
            const { localArtifactVersions } = await import("../../stacks/artifacts");
            setStackReferenceOutputs(DEV_STACK, { artifacts: { ...localArtifactVersions(), fileProcessorScript: "0".repeat(64) } });
            const prod = await build(prodConfig());
            await assert.rejects(valueOf(prod.releaseId), /"fileProcessorScript" here is sha256 [0-9a-f]{12}, but .* runs 000000000000/);
        });

        it("refuses when dev's artifacts output has the wrong type, before any code ships", async () => {
            setStackReferenceOutputs(DEV_STACK, { artifacts: "sha256:0123" });
            const prod = await build(prodConfig());
            await assert.rejects(valueOf(prod.releaseId), /Output "artifacts" of stack acme\/glue-data-pipeline\/dev is string, expected an object of artifact name → SHA-256/);
            assert.equal(ofType("aws:glue/job:Job").length, 0, "the job must not be registered with an unproven script");
            assert.equal(ofType("aws:lambda/function:Function").length, 0, "no function may be registered with an unproven bundle");
        });

        it("refuses when dev has deployed the script but not yet the trigger bundle", async () => {
            const { localArtifactVersions } = await import("../../stacks/artifacts");
            const { glueTriggerBundle: _notYet, ...partial } = localArtifactVersions();
            setStackReferenceOutputs(DEV_STACK, { artifacts: partial });
            const prod = await build(prodConfig());
            await assert.rejects(valueOf(prod.releaseId), /Stack acme\/glue-data-pipeline\/dev has not deployed artifact "glueTriggerBundle" \(sha256 [0-9a-f]{12}\)\. Deploy it there first/);
            assert.equal(ofType("aws:lambda/function:Function").length, 0);
        });
    });
});

describe("dashboard console links", () => {
    const cases: Array<[string, string, string]> = [
        ["us-east-2", "d", "https://us-east-2.console.aws.amazon.com/cloudwatch/home?region=us-east-2#dashboards/dashboard/d"],
        ["cn-north-1", "d", "https://cn-north-1.console.amazonaws.cn/cloudwatch/home?region=cn-north-1#dashboards/dashboard/d"],
        ["us-gov-west-1", "d", "https://us-gov-west-1.console.amazonaws-us-gov.com/cloudwatch/home?region=us-gov-west-1#dashboards/dashboard/d"],
        ["eu-west-1", "a b/c", "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards/dashboard/a%20b%2Fc"],
    ];
    for (const [region, name, url] of cases) {
        it(`${region} ${JSON.stringify(name)}`, async () => {
            const { dashboardConsoleUrl } = await import("../../stacks/workload");
            assert.equal(dashboardConsoleUrl(region, name), url);
        });
    }
});
