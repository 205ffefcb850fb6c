/**
 * The Parquet → JSON flow and the legislators flow (stacks/flows/) in the workload composition, under
 * Pulumi mocks: names from the flows' requirements, retries and workers, the shared input-bucket notification, the
 * triggers' configuration, IAM scoped to raw-data/ and processed-data/, and monitoring of both jobs.
 */
import * as assert from "node:assert/strict";
import type { WorkloadStack } from "../../stacks/workload";
import { asList, named, ofType, PolicyStatement, statementsOf } from "../support/graph";
import { valueOf } from "../support/outputs";
import { buildWorkload as build, stackConfig as config } from "../support/workload";

const ACCOUNT = "111111111111";
const INPUT_ARN = `arn:aws:s3:::glue-input-prod-${ACCOUNT}`;
const OUTPUT_ARN = `arn:aws:s3:::glue-output-prod-${ACCOUNT}`;

function s3Statements(policyName: string): PolicyStatement[] {
    return statementsOf(named(policyName, "aws:iam/rolePolicy:RolePolicy").inputs.policy).filter((s) => asList(s.Action).some((a) => a.startsWith("s3:")));
}

/** Puts outside the data buckets: only the job's own Spark UI logs and temp dir in the assets bucket. */
function dataPuts(statements: PolicyStatement[], job: string): string[] {
    const puts = objectResources(statements, "s3:PutObject");
    const scratch = puts.filter((r) => r.startsWith(`arn:aws:s3:::glue-assets-v2-prod-${ACCOUNT}/`));
    assert.deepEqual(scratch, [`arn:aws:s3:::glue-assets-v2-prod-${ACCOUNT}/sparkui/${job}/*`, `arn:aws:s3:::glue-assets-v2-prod-${ACCOUNT}/temp/${job}/*`]);
    return puts.filter((r) => !scratch.includes(r));
}

/** Object-level resources (…/prefix*) of the statements that allow `action`. */
function objectResources(statements: PolicyStatement[], action: string): string[] {
    return statements
        .filter((s) => asList(s.Action).includes(action))
        .flatMap((s) => asList(s.Resource))
        .filter((r) => r.includes("/"))
        .sort();
}

describe("Parquet → JSON and ProcessLegislators in the workload", () => {
    describe("in prod", () => {
        let prod: WorkloadStack;
        before(async function () {
            this.timeout(60_000);
            prod = await build({ ...config("prod") });
        });

        it("names the jobs and the trigger after the flows' requirements and the stage", async () => {
            assert.equal(await valueOf(prod.parquetToJson.job.jobName), "ParquetToJson-prod");
            assert.equal(await valueOf(prod.legislators.job.jobName), "ProcessLegislators-prod");
            assert.equal(await valueOf(prod.parquetToJson.trigger.function.name), "ParquetToJsonTrigger-prod");
        });

        it("retries ParquetToJson twice without run queuing, auto-scaling up to 10 workers, 1 hour timeout", () => {
            const job = named("parquet-to-json-job", "aws:glue/job:Job");
            assert.equal(job.inputs.maxRetries, 2);
            assert.equal(job.inputs.jobRunQueuingEnabled, false);
            assert.equal(job.inputs.numberOfWorkers, 10);
            assert.equal(job.inputs.workerType, "G.1X");
            assert.equal(job.inputs.timeout, 60);
            assert.equal(job.inputs.defaultArguments["--enable-auto-scaling"], "true");
            assert.equal(job.inputs.defaultArguments["--metadata_table"], "etl-pipeline-metadata-prod");
            assert.match(job.inputs.command.scriptLocation, /parquet_to_json\.py$/);
        });

        it("runs ProcessLegislators on demand, one run at a time, reading its sources from the assets bucket by default", () => {
            const job = named("legislators-job", "aws:glue/job:Job");
            assert.equal(job.inputs.executionProperty.maxConcurrentRuns, 1);
            assert.equal(job.inputs.timeout, 60);
            assert.match(job.inputs.command.scriptLocation, /process_legislators\.py$/);
            const args = job.inputs.defaultArguments;
            assert.equal(args["--input_path"], `s3://glue-assets-v2-prod-${ACCOUNT}/sources/legislators/`);
            assert.equal(args["--output_path"], `s3://glue-output-prod-${ACCOUNT}/legislators/history/`);
            assert.equal(args["--quarantine_path"], `s3://glue-output-prod-${ACCOUNT}/quarantine/legislators/`);
            assert.throws(() => named("legislators-schedule"), "no schedule: the job is run on demand");
        });

        it("configures the shared trigger handler for raw-data/YYYY/MM/DD/*.parquet → processed-data/", () => {
            const fn = named("parquet-trigger-function", "aws:lambda/function:Function");
            const env = fn.inputs.environment.variables;
            assert.equal(env.GLUE_JOB_NAME, "ParquetToJson-prod");
            assert.equal(env.METADATA_TABLE, "etl-pipeline-metadata-prod");
            assert.equal(env.OUTPUT_BUCKET, `glue-output-prod-${ACCOUNT}`);
            assert.deepEqual([env.FILE_SUFFIX, env.KEY_PREFIX, env.DATED_KEYS, env.OUTPUT_PREFIX], [".parquet", "raw-data/", "true", "processed-data/"]);
            // The same code as the CSV trigger: one bundle, so one artifact to promote.
            assert.equal(fn.inputs.handler, named("glue-trigger-function", "aws:lambda/function:Function").inputs.handler);
        });

        it("puts both triggers' queues in one notification of the input bucket, after both queue policies", () => {
            const notification = named("input-notifications", "aws:s3/bucketNotification:BucketNotification");
            assert.equal(notification.inputs.bucket, `glue-input-prod-${ACCOUNT}`);
            const targets = notification.inputs.queues.map((t: Record<string, unknown>) => [t.queueArn, t.filterPrefix, t.filterSuffix]);
            assert.deepEqual(targets, [
                [`arn:aws:sqs:eu-west-1:${ACCOUNT}:GlueTriggerLambda-prod-queue`, undefined, ".csv"],
                [`arn:aws:sqs:eu-west-1:${ACCOUNT}:ParquetToJsonTrigger-prod-queue`, "raw-data/", ".parquet"],
            ]);
            for (const policy of ["glue-trigger-queue-policy", "parquet-trigger-queue-policy"]) {
                assert.ok(notification.dependencies.includes(named(policy).urn), `waits for ${policy}`);
            }
            assert.throws(() => named("glue-trigger-notification"), "the CSV trigger no longer owns the bucket's notification");
        });

        it("lets the Parquet trigger start only ParquetToJson and read only raw-data/", () => {
            const statements = statementsOf(named("parquet-trigger-policy", "aws:iam/rolePolicy:RolePolicy").inputs.policy);
            const start = statements.find((s) => s.Sid === "StartParquetToJson");
            assert.deepEqual(asList(start?.Action), ["glue:StartJobRun"]);
            assert.deepEqual(asList(start?.Resource), [`arn:aws:glue:eu-west-1:${ACCOUNT}:job/ParquetToJson-prod`]);
            assert.deepEqual(objectResources(s3Statements("parquet-trigger-policy"), "s3:GetObject"), [`${INPUT_ARN}/raw-data/*`]);
        });

        it("lets ParquetToJson read only raw-data/ and write only processed-data/ and its quarantine", () => {
            const statements = s3Statements("parquet-to-json-policy");
            assert.deepEqual(objectResources(statements, "s3:GetObject").filter((r) => r.startsWith(INPUT_ARN)), [`${INPUT_ARN}/raw-data/*`]);
            assert.deepEqual(dataPuts(statements, "ParquetToJson-prod"), [`${OUTPUT_ARN}/processed-data/*`, `${OUTPUT_ARN}/quarantine/raw-data/*`]);
        });

        it("lets ProcessLegislators read only its sources (nothing of the input bucket) and write only the history and its quarantine", () => {
            const statements = s3Statements("legislators-policy");
            assert.deepEqual(objectResources(statements, "s3:GetObject").filter((r) => r.startsWith(INPUT_ARN)), []);
            const ASSETS_ARN = `arn:aws:s3:::glue-assets-v2-prod-${ACCOUNT}`;
            assert.ok(objectResources(statements, "s3:GetObject").includes(`${ASSETS_ARN}/sources/legislators/*`));
            assert.deepEqual(dataPuts(statements, "ProcessLegislators-prod"), [`${OUTPUT_ARN}/legislators/history/*`, `${OUTPUT_ARN}/quarantine/legislators/*`]);
        });

        it("keeps ProcessLegislators' sources: no lifecycle rule of the assets bucket expires current objects under their prefix", () => {
            const lifecycle = ofType("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").find((l) => String(l.inputs.bucket).startsWith("glue-assets-v2-prod-"));
            assert.ok(lifecycle, "the assets bucket has a lifecycle configuration");
            const expiring = (lifecycle!.inputs.rules as any[]).filter(
                (r) => r.status === "Enabled" && r.expiration?.days !== undefined && "sources/legislators/".startsWith(r.filter?.prefix ?? ""),
            );
            assert.deepEqual(expiring.map((r) => r.id), []);
            // The input bucket does expire them: the reason the sources moved.
            const input = ofType("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").find((l) => String(l.inputs.bucket).startsWith("glue-input-prod-"));
            assert.ok((input!.inputs.rules as any[]).some((r) => r.expiration?.days === 30 && (r.filter?.prefix ?? "") === ""));
        });

        it("has the job-state handler watch both jobs, so runs that die without writing are marked FAILED", () => {
            const rules = ofTypeWithPattern();
            const watched = rules.flatMap((p) => p.detail?.jobName ?? []);
            for (const job of ["FileProcessorV2-prod", "ParquetToJson-prod", "ProcessLegislators-prod"]) assert.ok(watched.includes(job), job);
        });

        it("exports the new scripts as artifacts, and the names operations needs", async () => {
            const artifacts = await valueOf(prod.artifacts);
            assert.match(artifacts.parquetToJsonScript, /^[0-9a-f]{64}$/);
            assert.match(artifacts.legislatorsScript, /^[0-9a-f]{64}$/);
            assert.equal(artifacts.parquetToJsonScript, prod.parquetToJson.job.scriptSha256);
            assert.equal(await valueOf(prod.outputs.parquetToJsonJob as never), "ParquetToJson-prod");
            assert.equal(await valueOf(prod.outputs.legislatorsJob as never), "ProcessLegislators-prod");
        });
    });

    describe("in dev", () => {
        before(async function () {
            this.timeout(60_000);
            await build(config("dev"));
        });

        it("keeps ParquetToJson's retries and 2–10 workers, on dev's Flex capacity", () => {
            const job = named("parquet-to-json-job", "aws:glue/job:Job");
            assert.deepEqual([job.inputs.maxRetries, job.inputs.numberOfWorkers, job.inputs.executionClass], [2, 10, "FLEX"]);
            assert.equal(job.inputs.jobRunQueuingEnabled, false);
        });
    });
});

/** The event patterns of the EventBridge rules for Glue job state changes. */
function ofTypeWithPattern(): Array<{ detail?: { jobName?: string[] } }> {
    return ofType("aws:cloudwatch/eventRule:EventRule")
        .map((r) => (typeof r.inputs.eventPattern === "string" ? JSON.parse(r.inputs.eventPattern) : r.inputs.eventPattern))
        .filter((p) => p?.["detail-type"]?.includes("Glue Job State Change"));
}
