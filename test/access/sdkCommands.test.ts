/**
 * Every AWS SDK request each Lambda's code sends is allowed for the function's real role, in dev and prod (a
 * function of a feature off by default, as the claims warehouse's load, in the graph that enables it).
 *
 * The requests are the ones its tests make it send to the emulator (recorded by test/support/sdkRecorder.ts
 * into test/access/sdkCommands.json), each given the deployed function's own names: its table, jobs, topics,
 * secret and buckets as the synthesized graph's environment variables and S3 notifications say. The list is
 * proven complete twice: the run fails when a function sends an operation the list lacks, and here every SDK
 * command constructed in a function's code must be in the list (or in NOT_DRIVEN with the reason no test
 * drives it, and it is then asked too).
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import type { SynthResult } from "../../scripts/synth";
import { DOCUMENT_COMMANDS, readCommandList, type RecordedCommand } from "../support/sdkRecorder";
import { asRole } from "./contract";
import { DEPLOYED_ONLY_IN, FUNCTION_DEPLOYMENTS, graphsOf, type WorkloadGraph } from "./functionDeployments";
import { accountOfGraph, bucketPolicy, type Graphs, loadGraphs, queuePolicy, topicPolicy } from "./graphs";
import { type AccessQuestion, decide } from "./simulate";

const ROOT = path.resolve(__dirname, "../..");
const TLS = { "aws:SecureTransport": "true" };

/** Requests the code can send that no test drives, each with why, asked all the same. */
const NOT_DRIVEN: ReadonlyArray<RecordedCommand & { readonly why: string }> = [
    {
        fn: "claims-validation",
        service: "S3",
        operation: "AbortMultipartUpload",
        key: "quarantine/files/*",
        why: "sent only when a multipart quarantine copy fails half-way, which the emulator cannot be made to do",
    },
    {
        fn: "claims-warehouse-load",
        service: "Glue",
        operation: "GetJobRun",
        why: "the load's tests give it a Glue double that returns the run's arguments (the emulator holds no run of the ETL job to read)",
    },
    {
        fn: "claims-warehouse-load",
        service: "SNS",
        operation: "Publish",
        why: "the load's tests give it an SNS double to read the alert it publishes",
    },
];

/**
 * A Python function's requests (the CSV converter's boto3 calls, recorded by its own tests against the
 * emulator: glue/tests/fixtures/csv_converter_calls.json), each naming which bucket it acts on: its requests
 * carry the input bucket (from the trigger's request), the output bucket is its environment's.
 */
type PythonCommand = RecordedCommand & { readonly bucket?: "input" | "output"; readonly sourceBucket?: "input" | "output" };
export function readPythonCommands(): PythonCommand[] {
    const raw = JSON.parse(fs.readFileSync(path.join(ROOT, "glue/tests/fixtures/csv_converter_calls.json"), "utf8")) as Array<Record<string, unknown>>;
    // The fixture's `resource` is the file's own documentation of the ARN; the questions derive it from the graph.
    return raw.map(({ resource: _resource, ...call }) => call as unknown as PythonCommand);
}

const PREFIX: Readonly<Record<string, string>> = {
    S3: "s3",
    DynamoDB: "dynamodb",
    Glue: "glue",
    SNS: "sns",
    SQS: "sqs",
    CloudWatch: "cloudwatch",
    "Secrets Manager": "secretsmanager",
    SFN: "states",
    "Redshift Data": "redshift-data",
};

/**
 * The IAM actions an S3 request is authorized as, on the destination and (for copies) the source. Reading a
 * named version is s3:GetObjectVersion, not s3:GetObject.
 */
function s3Actions(c: RecordedCommand): { target: string; source?: string } {
    const read = (versioned?: true) => (versioned ? "s3:GetObjectVersion" : "s3:GetObject");
    switch (c.operation) {
        case "HeadObject":
        case "GetObject":
            return { target: read(c.versioned) };
        case "CreateMultipartUpload":
        case "UploadPart":
        case "CompleteMultipartUpload":
            return { target: "s3:PutObject" };
        case "CopyObject":
        case "UploadPartCopy":
            return { target: "s3:PutObject", source: read(c.sourceVersioned) };
        case "ListObjectsV2":
            return { target: "s3:ListBucket" };
        // A batch delete is authorized as s3:DeleteObject on each key.
        case "DeleteObjects":
            return { target: "s3:DeleteObject" };
        default:
            return { target: `s3:${c.operation}` };
    }
}

type Fn = SynthResult["resources"][number];

function deployment(graph: SynthResult, logical: string): Fn {
    const fn = graph.resources.find((r) => r.type === "aws:lambda/function:Function" && r.name === logical);
    if (!fn) throw new Error(`${graph.stack}: no function ${logical}`);
    return fn;
}

/** The values of a function's environment, comma lists split. */
const envValues = (fn: Fn): string[] => Object.values<string>(fn.inputs.environment?.variables ?? {}).flatMap((v) => String(v).split(","));
const namesOf = (graph: SynthResult, type: string, field: string): Set<string> => new Set(graph.resources.filter((r) => r.type === type).map((r) => r.inputs[field]));

/**
 * The buckets a function acts on, each with the key prefix its events carry: the bucket whose notification
 * reaches it — invoking it, or sending to a queue an event source mapping feeds it from (the deployed function
 * only sees keys under the notification's filterPrefix) — else the buckets its environment names.
 */
function bucketsOf(graph: SynthResult, fn: Fn): Array<{ bucket: string; eventPrefix: string }> {
    const feeds = new Set(
        graph.resources
            .filter((r) => r.type === "aws:lambda/eventSourceMapping:EventSourceMapping" && String(r.inputs.functionName).endsWith(`:function:${fn.inputs.name}`))
            .map((r) => String(r.inputs.eventSourceArn)),
    );
    const notified = graph.resources
        .filter((r) => r.type === "aws:s3/bucketNotification:BucketNotification")
        .flatMap((r) => [
            ...(r.inputs.lambdaFunctions ?? []).filter((l: any) => String(l.lambdaFunctionArn).endsWith(`:function:${fn.inputs.name}`)),
            ...(r.inputs.queues ?? []).filter((q: any) => feeds.has(String(q.queueArn))),
        ].map((l: any) => ({ bucket: r.inputs.bucket as string, eventPrefix: (l.filterPrefix as string | undefined) ?? "" })));
    if (notified.length > 0) return notified;
    const buckets = namesOf(graph, "aws:s3/bucket:Bucket", "bucket");
    return envValues(fn)
        .filter((v) => buckets.has(v))
        .map((bucket) => ({ bucket, eventPrefix: "" }));
}

/**
 * The Glue jobs a function acts on: those its environment names, and those whose run events invoke it (the
 * job names in the pattern of an EventBridge rule targeting it: the event carries the job's name).
 */
function jobsOf(graph: SynthResult, fn: Fn): string[] {
    const jobs = namesOf(graph, "aws:glue/job:Job", "name");
    const rules = new Set(graph.resources.filter((r) => r.type === "aws:cloudwatch/eventTarget:EventTarget" && String(r.inputs.arn).endsWith(`:function:${fn.inputs.name}`)).map((r) => r.inputs.rule));
    const fromEvents = graph.resources
        .filter((r) => r.type === "aws:cloudwatch/eventRule:EventRule" && rules.has(r.inputs.name))
        .flatMap((r) => (JSON.parse(r.inputs.eventPattern ?? "{}").detail?.jobName ?? []) as string[]);
    return [...new Set([...envValues(fn), ...fromEvents])].filter((v) => jobs.has(v));
}

/**
 * The ARN of a Redshift Serverless workgroup of a graph by name: `workgroup/<workgroupId>` (a generated id, not
 * the name), which the offline mocks make `<logical name>-id`.
 */
function workgroupArn(graph: SynthResult, account: string, region: string, name: string): string | undefined {
    const wg = graph.resources.find((r) => r.type === "aws:redshiftserverless/workgroup:Workgroup" && r.inputs.workgroupName === name);
    return wg && `arn:aws:redshift-serverless:${region}:${account}:workgroup/${wg.name}-id`;
}

/** The questions one recorded request becomes for one deployed function of one stack. */
export function questionsFor(g: Graphs, stack: WorkloadGraph, logical: string, c: RecordedCommand | PythonCommand): Array<{ what: string; q: AccessQuestion }> {
    const graph = g[stack];
    const fn = deployment(graph, logical);
    const roleLogical = String(fn.inputs.role).split("/").pop()!;
    const who = asRole(g, stack, roleLogical);
    const account = accountOfGraph(graph);
    const region = "eu-west-1";
    const values = envValues(fn);
    const arn = (service: string, resource: string) => `arn:aws:${service}:${region}:${account}:${resource}`;
    const out: Array<{ what: string; q: AccessQuestion }> = [];
    const ask = (what: string, q: Omit<AccessQuestion, "principal" | "identity" | "boundary">) => out.push({ what, q: { ...who, ...q } });
    const prefix = PREFIX[c.service];
    if (!prefix) throw new Error(`no IAM prefix for service ${c.service}`);
    switch (c.service) {
        case "S3": {
            const { target, source } = s3Actions(c);
            // A request that names its bucket (the converter's): the input is the bucket whose events the CSV
            // flow's trigger receives (its requests name that bucket), the output its environment's.
            const named = "bucket" in c && c.bucket !== undefined
                ? c.bucket === "input"
                    ? bucketsOf(graph, deployment(graph, "glue-trigger-function")).slice(0, 1)
                    : bucketsOf(graph, fn)
                : undefined;
            for (const { bucket: b, eventPrefix } of named ?? bucketsOf(graph, fn)) {
                // What the function reads is the object its event names: a key the tests used outside the deployed
                // notification's prefix is one this deployment is never sent, so it is asked under the prefix.
                // What it writes is named by its code, and asked as recorded.
                const key = (k: string | undefined, read: boolean) => {
                    const object = (k ?? "*").replace(/\*$/, "recorded-object");
                    return !read || object.startsWith(eventPrefix) ? object : `${eventPrefix}${object}`;
                };
                const reads = (action: string) => /^s3:(GetObject|GetObjectVersion|DeleteObject)$/.test(action);
                const common = { resourceAccount: account, context: TLS, resourcePolicy: bucketPolicy(graph, b) as any };
                // A listing is authorized on the bucket with the listed prefix as s3:prefix.
                if (target === "s3:ListBucket") {
                    const prefix = (c.prefix ?? "").replace(/\*$/, "");
                    ask(`${target} on ${b} (prefix "${prefix}")`, { action: target, resource: `arn:aws:s3:::${b}`, ...common, context: { ...TLS, ...(c.prefix !== undefined ? { "s3:prefix": prefix } : {}) } });
                }
                else ask(`${target} on ${b}/${key(c.key, reads(target))}`, { action: target, resource: `arn:aws:s3:::${b}/${key(c.key, reads(target))}`, ...common });
                if (source) ask(`${source} on ${b}/${key(c.sourceKey, true)}`, { action: source, resource: `arn:aws:s3:::${b}/${key(c.sourceKey, true)}`, ...common });
            }
            break;
        }
        case "DynamoDB": {
            const tables = values.filter((v) => namesOf(graph, "aws:dynamodb/table:Table", "name").has(v));
            for (const t of tables) {
                const resource = arn("dynamodb", c.indexName ? `table/${t}/index/${c.indexName}` : `table/${t}`);
                ask(`dynamodb:${c.operation} on ${resource}`, { action: `dynamodb:${c.operation}`, resource });
            }
            break;
        }
        case "Glue": {
            for (const j of jobsOf(graph, fn)) ask(`glue:${c.operation} on job ${j}`, { action: `glue:${c.operation}`, resource: arn("glue", `job/${j}`) });
            break;
        }
        case "SNS": {
            for (const topic of values.filter((v) => v.startsWith("arn:aws:sns:"))) {
                ask(`sns:${c.operation} on ${topic}`, { action: `sns:${c.operation}`, resource: topic, context: TLS, resourcePolicy: topicPolicy(graph, topic) as any });
            }
            break;
        }
        case "SQS": {
            // The queue a function sends to is the one its environment names by URL (QUEUE_URL: its own feed).
            for (const url of values.filter((v) => /^https:\/\/sqs\.[a-z0-9-]+\.amazonaws\.com\/\d{12}\/[A-Za-z0-9_-]+$/.test(v))) {
                const [, region, account, name] = /^https:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com\/(\d{12})\/(.+)$/.exec(url)!;
                const queue = `arn:aws:sqs:${region}:${account}:${name}`;
                ask(`sqs:${c.operation} on ${queue}`, { action: `sqs:${c.operation}`, resource: queue, context: TLS, resourcePolicy: queuePolicy(graph, name) as any });
            }
            break;
        }
        case "Secrets Manager": {
            for (const secret of values.filter((v) => v.startsWith("arn:aws:secretsmanager:"))) ask(`secretsmanager:${c.operation} on ${secret}`, { action: `secretsmanager:${c.operation}`, resource: secret });
            break;
        }
        case "CloudWatch": {
            // PutMetricData has no resource; the role's grant is held to the namespace the function publishes in.
            const namespace = fn.inputs.environment?.variables?.METRIC_NAMESPACE ?? "GluePipeline";
            ask(`cloudwatch:${c.operation} in ${namespace}`, { action: `cloudwatch:${c.operation}`, resource: "*", resourceAccount: account, context: { "cloudwatch:namespace": namespace } });
            break;
        }
        case "Redshift Data": {
            const workgroups = values.flatMap((v) => workgroupArn(graph, account, region, v) ?? []);
            if (c.operation === "BatchExecuteStatement" || c.operation === "ExecuteStatement") {
                for (const wg of workgroups) {
                    ask(`redshift-data:${c.operation} on ${wg}`, { action: `redshift-data:${c.operation}`, resource: wg });
                    // Without a secret the Data API connects as the caller's IAM identity, fetching temporary
                    // database credentials of the workgroup with the caller's permissions.
                    ask(`redshift-serverless:GetCredentials on ${wg}`, { action: "redshift-serverless:GetCredentials", resource: wg });
                }
            } else {
                // Statement ids have no resource type: the role may follow only its own statements, which the Data
                // API tells by the caller's user id (role id:session name) as statement-owner-iam-userid.
                const userid = `AROA${roleLogical}:${fn.inputs.name}`;
                ask(`redshift-data:${c.operation} of its own statement`, {
                    action: `redshift-data:${c.operation}`,
                    resource: "*",
                    resourceAccount: account,
                    context: { "aws:userid": userid, "redshift-data:statement-owner-iam-userid": userid, "aws:RequestedRegion": region },
                });
            }
            break;
        }
        default:
            throw new Error(`questionsFor: no resources known for ${c.service}`);
    }
    if (out.length === 0) throw new Error(`${stack}/${logical}: ${c.service} ${c.operation} names no resource of the function (its environment and notifications)`);
    return out;
}

/** Every SDK command constructed in a folder's code (`new XCommand(`), as the operation sent. */
export function commandsInCode(dir: string): Set<string> {
    const found = new Set<string>();
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) for (const c of commandsInCode(file)) found.add(c);
        else if (entry.name.endsWith(".ts")) {
            for (const m of fs.readFileSync(file, "utf8").matchAll(/new ([A-Z][A-Za-z0-9]*)Command\(/g)) found.add(DOCUMENT_COMMANDS[m[1]] ?? m[1]);
        }
    }
    return found;
}

describe("every SDK request of each Lambda is allowed for its real role (recorded against the emulator)", function () {
    this.timeout(600_000);
    const recorded = readCommandList();
    const all: Array<RecordedCommand | PythonCommand> = [...recorded, ...NOT_DRIVEN, ...readPythonCommands()];
    let graphs: Graphs;
    before(async () => {
        graphs = await loadGraphs();
    });

    const WORKLOAD_GRAPHS: readonly WorkloadGraph[] = ["dev", "prod", "warehouse"];
    const deployedIn = (logical: string) => WORKLOAD_GRAPHS.filter((s) => graphs[s].resources.some((r) => r.type === "aws:lambda/function:Function" && r.name === logical));

    it("knows which function folder's code each deployed function of the workload graphs runs, and where it is deployed", () => {
        const mapped = new Set(Object.values(FUNCTION_DEPLOYMENTS).flat());
        const deployed = WORKLOAD_GRAPHS.flatMap((s) => graphs[s].resources.filter((r) => r.type === "aws:lambda/function:Function").map((r) => r.name));
        assert.deepEqual([...new Set(deployed.filter((f) => !mapped.has(f)))].sort(), [], "add these function resources to FUNCTION_DEPLOYMENTS under their code's folder");
        for (const folder of Object.keys(FUNCTION_DEPLOYMENTS)) assert.ok(fs.existsSync(path.join(ROOT, "functions", folder)), `functions/${folder} exists`);
        // Every function of dev also runs in the warehouse graph (dev plus the warehouse); a DEPLOYED_ONLY_IN
        // function runs exactly where it says, so it is judged where it runs.
        for (const logical of mapped) assert.deepEqual(deployedIn(logical), [...(DEPLOYED_ONLY_IN[logical] ?? WORKLOAD_GRAPHS)], logical);
    });

    it("the list is complete: every SDK command in a function's code was sent by its tests (or is in NOT_DRIVEN)", () => {
        const missing: string[] = [];
        for (const fn of Object.keys(FUNCTION_DEPLOYMENTS)) {
            const sent = new Set(all.filter((c) => c.fn === fn).map((c) => c.operation));
            for (const op of commandsInCode(path.join(ROOT, "functions", fn))) if (!sent.has(op)) missing.push(`${fn}: ${op}`);
        }
        // Shared modules run inside every function that imports them: each command there was sent by some function.
        const anySent = new Set(all.map((c) => c.operation));
        for (const op of commandsInCode(path.join(ROOT, "functions", "shared"))) if (!anySent.has(op)) missing.push(`shared: ${op}`);
        assert.deepEqual(missing, [], "drive these from the function's emulator tests, or add them to NOT_DRIVEN with the reason");
    });

    it("can fail: a request the code does not send and the role does not grant is refused (the trigger writing its input)", async () => {
        const [{ q }] = questionsFor(graphs, "dev", "glue-trigger-function", { fn: "glue-trigger", service: "S3", operation: "PutObject", key: "incoming/*" });
        assert.notEqual((await decide(q)).decision, "allow");
    });

    it("can fail: a trigger re-sending to another trigger's queue is refused", async () => {
        // The CSV trigger sends to its own queue and to the fast path's converter queue: both are asked.
        const questions = questionsFor(graphs, "dev", "glue-trigger-function", { fn: "glue-trigger", service: "SQS", operation: "SendMessage" });
        assert.deepEqual(questions.map(({ q }) => q.resource.split(":").pop()).sort(), ["CsvConverter-dev-queue", "GlueTriggerLambda-dev-queue"]);
        const { q } = questions.find(({ q }) => q.resource.endsWith(":GlueTriggerLambda-dev-queue"))!;
        assert.equal((await decide(q)).decision, "allow", "its own queue");
        for (const { q: converter } of questions) assert.equal((await decide(converter)).decision, "allow", converter.resource);
        const other = { ...q, resource: q.resource.replace("GlueTriggerLambda-dev-queue", "ParquetToJsonTrigger-dev-queue"), resourcePolicy: queuePolicy(graphs.dev, "ParquetToJsonTrigger-dev-queue") as any };
        assert.notEqual((await decide(other)).decision, "allow");
    });

    it("can fail: the converter writing outside the output's processed/ and quarantine/ (or into its input) is refused", async () => {
        const write = questionsFor(graphs, "dev", "csv-converter-function", { fn: "csv-converter", service: "S3", operation: "PutObject", key: "raw/*", bucket: "output" } as PythonCommand);
        const input = questionsFor(graphs, "dev", "csv-converter-function", { fn: "csv-converter", service: "S3", operation: "PutObject", key: "*", bucket: "input" } as PythonCommand);
        for (const { q } of [...write, ...input]) assert.notEqual((await decide(q)).decision, "allow", q.resource);
    });

    it("can fail: the warehouse load listing raw/ (outside processed/claims/) is refused", async () => {
        const [{ q }] = questionsFor(graphs, "warehouse", "claims-warehouse-load-function", { fn: "claims-warehouse-load", service: "S3", operation: "ListObjectsV2", prefix: "raw/*" });
        assert.notEqual((await decide(q)).decision, "allow");
    });

    it("can fail: the warehouse load following another caller's Data API statement is refused", async () => {
        const [{ q }] = questionsFor(graphs, "warehouse", "claims-warehouse-load-function", { fn: "claims-warehouse-load", service: "Redshift Data", operation: "DescribeStatement" });
        const foreign = { ...q, context: { ...q.context, "redshift-data:statement-owner-iam-userid": "AROAOTHER:someone" } };
        assert.equal((await decide(q)).decision, "allow");
        assert.notEqual((await decide(foreign)).decision, "allow");
    });

    for (const c of all) {
        for (const logical of FUNCTION_DEPLOYMENTS[c.fn] ?? []) {
            for (const stack of graphsOf(logical)) {
                const title = `${stack}: ${logical} may ${c.service} ${c.operation}${c.versioned ? " (a version)" : ""}${c.key ? ` ${c.key}` : ""}${c.prefix ? ` under ${c.prefix}` : ""}${c.sourceKey ? ` from ${c.sourceKey}${c.sourceVersioned ? " (a version)" : ""}` : ""}${c.indexName ? ` on ${c.indexName}` : ""}`;
                it(title, async () => {
                    const refused: string[] = [];
                    const analyses: string[] = [];
                    for (const { what, q } of questionsFor(graphs, stack, logical, c)) {
                        const answer = await decide(q);
                        if (answer.decision === "allow") continue;
                        refused.push(`${what}: ${answer.decision}`);
                        analyses.push(JSON.stringify(answer.analysis).slice(0, 3000));
                    }
                    assert.deepEqual(refused, [], analyses.join("\n"));
                });
            }
        }
    }
});
