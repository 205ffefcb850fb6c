/**
 * The offline synth of both real stacks (their Pulumi.<stack>.yaml files, the real program), run as the
 * user runs it, with the whole graph checked for the invariants every deploy must keep.
 */
import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import type { SynthResult } from "../../scripts/synth";
import { asList, PolicyStatement, statementsOf } from "../support/graph";

const ROOT = path.resolve(__dirname, "../..");
const run = promisify(execFile);

type Resource = SynthResult["resources"][number];

async function synth(stack: string, ...extra: string[]): Promise<{ graph: SynthResult; stdout: string }> {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "synth-")), `${stack}.json`);
    const { stdout } = await run(
        path.join(ROOT, "node_modules/.bin/ts-node"),
        ["--transpile-only", "scripts/synth.ts", "--stack", stack, "--json", out, ...extra],
        { cwd: ROOT },
    );
    return { graph: JSON.parse(fs.readFileSync(out, "utf8")), stdout };
}

/** Every Allow statement of every IAM document in the graph, with where it came from. */
function allowStatements(graph: SynthResult): Array<{ from: string; statement: PolicyStatement }> {
    const found: Array<{ from: string; statement: PolicyStatement }> = [];
    for (const r of graph.resources) {
        const docs = [r.inputs.policy, r.inputs.assumeRolePolicy, ...(r.inputs.inlinePolicies ?? []).map((p: any) => p.policy)];
        for (const doc of docs) {
            if (typeof doc !== "string" || !doc.includes("Statement")) continue;
            for (const statement of statementsOf(doc)) if (statement.Effect === "Allow") found.push({ from: `${r.type}::${r.name}`, statement });
        }
    }
    return found;
}

/** The tags seed 000's tagging strategy puts on every resource, per stack. */
const REQUIRED_TAGS = (stack: string) => ({ Environment: stack, Project: "glue-data-pipeline", Owner: "data-engineering-team", CostCenter: "engineering" });

/**
 * Whether the provider can tag a resource type: its arguments declare `tags` and its state `tagsAll` (the
 * provider's defaultTags merged in), read from @pulumi/aws's own declarations rather than a hand-kept list.
 */
function isTaggable(type: string): boolean {
    const [, module, className] = type.split(":");
    const file = path.join(ROOT, "node_modules/@pulumi/aws", `${module}.d.ts`);
    if (!fs.existsSync(file)) throw new Error(`no declarations for ${type} at ${file}`);
    const text = fs.readFileSync(file, "utf8");
    const block = (name: string) => new RegExp(`export interface ${name} \\{([\\s\\S]*?)\\n\\}`).exec(text)?.[1] ?? "";
    return /\btags\?:/.test(block(`${className}Args`)) && /\btagsAll\?:/.test(block(`${className}State`));
}

const onBucket = (graph: SynthResult, type: string, bucket: string): Resource[] =>
    graph.resources.filter((r) => r.type === type && r.inputs.bucket === bucket);

for (const stack of ["dev", "prod"]) {
    describe(`offline synth of the ${stack} stack`, function () {
        this.timeout(120_000);
        let graph: SynthResult;
        let stdout: string;
        before(async () => {
            ({ graph, stdout } = await synth(stack));
        });

        it("prints a summary by type and says nothing was deployed", () => {
            assert.match(stdout, new RegExp(`stack glue-data-pipeline/${stack}: \\d+ resources \\(offline synth under Pulumi mocks; nothing was deployed\\)`));
            assert.match(stdout, /aws:glue\/job:Job\s+\d+/);
            assert.match(stdout, /aws:lambda\/function:Function\s+\d+/);
        });

        it("has the seed's named resources", () => {
            const names = (type: string, field = "name") => graph.resources.filter((r) => r.type === type).map((r) => r.inputs[field]);
            assert.ok(names("aws:glue/job:Job").includes(`FileProcessorV2-${stack}`));
            assert.ok(names("aws:lambda/function:Function").includes(`GlueTriggerLambda-${stack}`));
            assert.ok(names("aws:glue/catalogDatabase:CatalogDatabase").includes(`glue_database_v2_${stack}`));
            assert.ok(names("aws:dynamodb/table:Table").includes(`etl-pipeline-metadata-${stack}`));
            const buckets = names("aws:s3/bucket:Bucket", "bucket");
            const account = stack === "dev" ? "111111111111" : "222222222222";
            for (const b of [`glue-input-${stack}-${account}`, `glue-output-${stack}-${account}`, `glue-assets-v2-${stack}-${account}`]) {
                assert.ok(buckets.includes(b), `missing bucket ${b} in ${buckets}`);
            }
            const logGroups = names("aws:cloudwatch/logGroup:LogGroup");
            for (const g of [`/aws/lambda/GlueTriggerLambda-${stack}`, "/aws-glue/jobs/output", "/aws-glue/jobs/error"]) {
                assert.ok(logGroups.includes(g), `missing log group ${g}`);
            }
        });

        it("encrypts every bucket, blocks all public access, enforces TLS and owner-only ACLs", () => {
            const buckets = graph.resources.filter((r) => r.type === "aws:s3/bucket:Bucket");
            assert.ok(buckets.length >= 4);
            for (const { inputs } of buckets) {
                const name = inputs.bucket;
                const [sse] = onBucket(graph, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", name);
                assert.ok(sse, `${name}: no encryption configuration`);
                const algorithm = sse.inputs.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm;
                assert.ok(["aws:kms", "AES256"].includes(algorithm), `${name}: ${algorithm}`);
                const [pab] = onBucket(graph, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", name);
                assert.ok(pab, `${name}: no public access block`);
                for (const flag of ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"]) {
                    assert.equal(pab.inputs[flag], true, `${name}: ${flag}`);
                }
                const [policy] = onBucket(graph, "aws:s3/bucketPolicy:BucketPolicy", name);
                assert.ok(policy, `${name}: no bucket policy`);
                const denyInsecure = statementsOf(policy.inputs.policy).find(
                    (s) => s.Effect === "Deny" && (s.Condition?.Bool as any)?.["aws:SecureTransport"] === "false",
                );
                assert.ok(denyInsecure, `${name}: no deny of non-TLS requests`);
                const [ownership] = onBucket(graph, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", name);
                assert.equal(ownership?.inputs.rule.objectOwnership, "BucketOwnerEnforced", `${name}: ownership`);
            }
        });

        it("grants no S3, DynamoDB, Glue, KMS or SQS action on Resource *", () => {
            const statements = allowStatements(graph);
            assert.ok(statements.length > 10);
            const offenders = statements.filter(({ statement }) => {
                const dataPlane = asList(statement.Action).some((a) => /^(s3|dynamodb|glue|kms|sqs):/.test(a) || a === "*");
                return dataPlane && asList(statement.Resource).includes("*") && !statement.Principal;
            });
            assert.deepEqual(offenders, []);
        });

        it("creates every AWS resource through the stack's own provider", () => {
            const provider = graph.resources.find((r) => r.type === "pulumi:providers:aws");
            assert.ok(provider);
            const aws = graph.resources.filter((r) => r.type.startsWith("aws:"));
            const stray = aws.filter((r) => !r.provider.startsWith(`${provider.urn}::`)).map((r) => `${r.type}::${r.name}`);
            assert.deepEqual(stray, []);
        });

        it("keeps every log group for a bounded time", () => {
            const unbounded = graph.resources
                .filter((r) => r.type === "aws:cloudwatch/logGroup:LogGroup" && !(r.inputs.retentionInDays > 0))
                .map((r) => r.inputs.name);
            assert.deepEqual(unbounded, []);
        });

        it("tags every taggable AWS resource Environment, Project, Owner and CostCenter through the provider", () => {
            const provider = graph.resources.find((r) => r.type === "pulumi:providers:aws")!;
            const raw = provider.inputs.defaultTags;
            const defaults: Record<string, string> = (typeof raw === "string" ? JSON.parse(raw) : raw)?.tags ?? {};
            const required = REQUIRED_TAGS(stack);
            for (const [key, value] of Object.entries(required)) assert.equal(defaults[key], value, `provider default tag ${key}`);
            const taggable = graph.resources.filter((r) => r.type.startsWith("aws:") && isTaggable(r.type));
            assert.ok(taggable.length >= 30, `only ${taggable.length} taggable resources found`);
            for (const type of ["aws:s3/bucket:Bucket", "aws:lambda/function:Function", "aws:glue/job:Job", "aws:cloudwatch/metricAlarm:MetricAlarm", "aws:sns/topic:Topic"]) {
                assert.ok(taggable.some((r) => r.type === type), `${type} is taggable`);
            }
            const untagged = taggable
                .filter((r) => {
                    // A resource-level tag of the same key would override the default; a stray provider would skip it.
                    const effective = r.provider.startsWith(`${provider.urn}::`) ? { ...defaults, ...(r.inputs.tags ?? {}) } : { ...(r.inputs.tags ?? {}) };
                    return Object.entries(required).some(([k, v]) => effective[k] !== v);
                })
                .map((r) => `${r.type}::${r.name}`);
            assert.deepEqual(untagged, []);
        });

        it("wires every alarm and its recovery to the encrypted alerts topic", () => {
            const topicArn = graph.outputs.alertsTopicArn as string;
            assert.match(topicArn, new RegExp(`^arn:aws:sns:eu-west-1:\\d{12}:glue-pipeline-alerts-${stack}$`));
            const topic = graph.resources.find((r) => r.type === "aws:sns/topic:Topic" && r.inputs.name === `glue-pipeline-alerts-${stack}`)!;
            assert.match(topic.inputs.kmsMasterKeyId, /^arn:aws:kms:/);
            const alarms = graph.resources.filter((r) => r.type === "aws:cloudwatch/metricAlarm:MetricAlarm");
            const unwired = alarms.filter((a) => JSON.stringify(a.inputs.alarmActions) !== JSON.stringify([topicArn]) || JSON.stringify(a.inputs.okActions) !== JSON.stringify([topicArn]));
            assert.deepEqual(unwired.map((a) => a.inputs.name), []);
            // One of each kind per monitored resource of the graph.
            const names = alarms.map((a) => a.inputs.name as string);
            for (const job of graph.resources.filter((r) => r.type === "aws:glue/job:Job")) {
                assert.ok(names.includes(`${job.inputs.name}-failure-rate`) && names.includes(`${job.inputs.name}-duration-over-2x-average`), `Glue alarms of ${job.inputs.name}`);
            }
            for (const fn of graph.resources.filter((r) => r.type === "aws:lambda/function:Function")) {
                assert.ok(names.includes(`${fn.inputs.name}-error-rate`) && names.includes(`${fn.inputs.name}-throttled`), `Lambda alarms of ${fn.inputs.name}`);
            }
            for (const queue of graph.resources.filter((r) => r.type === "aws:sqs/queue:Queue" && /-dlq$/.test(r.inputs.name))) {
                assert.ok(names.includes(`${queue.inputs.name}-not-empty`), `depth alarm of ${queue.inputs.name}`);
            }
            for (const table of graph.resources.filter((r) => r.type === "aws:dynamodb/table:Table")) {
                assert.ok(names.includes(`${table.inputs.name}-throttled-requests`), `throttle alarm of ${table.inputs.name}`);
            }
            const dashboards = graph.resources.filter((r) => r.type === "aws:cloudwatch/dashboard:Dashboard").map((d) => d.inputs.dashboardName).sort();
            assert.deepEqual(dashboards, [`glue-pipeline-${stack}-operations`, `glue-pipeline-${stack}-overview`]);
        });

        it("keeps Lambda logs 14 days and Glue logs 30 days, in groups created before anything writes", () => {
            const groups = graph.resources.filter((r) => r.type === "aws:cloudwatch/logGroup:LogGroup");
            const wrong = groups
                .filter((g) => (g.inputs.name.startsWith("/aws/lambda/") && g.inputs.retentionInDays !== 14) || (g.inputs.name.startsWith("/aws-glue/") && g.inputs.retentionInDays !== 30))
                .map((g) => `${g.inputs.name}: ${g.inputs.retentionInDays}`);
            assert.deepEqual(wrong, []);
            for (const fn of graph.resources.filter((r) => r.type === "aws:lambda/function:Function")) {
                const group = `/aws/lambda/${fn.inputs.name}`;
                assert.ok(groups.some((g) => g.inputs.name === group), `no managed log group ${group}`);
                assert.equal(fn.inputs.loggingConfig?.logGroup, group);
            }
        });

        it("exports the promotion contract: every artifact it ships, at this tree's version", async () => {
            const artifacts = graph.outputs.artifacts as Record<string, string>;
            // Both stacks run the medallion workflow, so they ship every artifact, each at this tree's version.
            const { localArtifactVersions } = await import("../../stacks/artifacts");
            assert.deepEqual(artifacts, localArtifactVersions());
        });
    });
}

describe("offline synth of prod when dev has not deployed", function () {
    this.timeout(120_000);
    it("fails with a message that says what to do", async () => {
        await assert.rejects(synth("prod", "--promotion-outputs", "none"), (err: any) => {
            assert.match(err.stderr, /synth failed: Stack acme\/glue-data-pipeline\/dev has no output "artifacts".*pulumi up --stack acme\/glue-data-pipeline\/dev/);
            return true;
        });
    });
});
