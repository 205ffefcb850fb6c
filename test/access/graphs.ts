/**
 * The synthesized graphs the access contract is evaluated on: the dev and prod workload stacks and the
 * bootstrap project's pipeline, dev and prod stacks, and dev with the claims warehouse enabled (its stack file
 * plus a `claims.warehouse` section) with the bootstrap of that stack file, each produced by the offline synth (scripts/synth.ts)
 * of the real program and stack files, in a child process (mocks are process-global). Also the lookups the
 * contract needs: a principal's identity policies and boundary, a resource's policy.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import * as yaml from "js-yaml";
import type { SynthResult } from "../../scripts/synth";

const ROOT = path.resolve(__dirname, "../..");
const run = promisify(execFile);

/**
 * `warehouse`: dev's stack with `claims.warehouse` set (the warehouse is off in dev and prod);
 * `bootstrap-warehouse`: dev's bootstrap reading that stack file (its deploy role and boundary then carry the
 * warehouse's statements).
 */
export type GraphName = "dev" | "prod" | "bootstrap-pipeline" | "bootstrap-dev" | "bootstrap-prod" | "warehouse" | "bootstrap-warehouse";
export type Graphs = Record<GraphName, SynthResult>;
type Resource = SynthResult["resources"][number];

/** The bootstrap graph whose boundary and deploy role govern a graph's roles. */
export const BOOTSTRAP_OF: Readonly<Record<GraphName, GraphName>> = {
    dev: "bootstrap-dev",
    prod: "bootstrap-prod",
    warehouse: "bootstrap-warehouse",
    "bootstrap-pipeline": "bootstrap-pipeline",
    "bootstrap-dev": "bootstrap-dev",
    "bootstrap-prod": "bootstrap-prod",
    "bootstrap-warehouse": "bootstrap-warehouse",
};

/** Pulumi.dev.yaml with a `claims.warehouse` section (defaults but the base capacity), as a temporary stack file. */
function warehouseStackFile(dir: string): string {
    const doc = yaml.load(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, any> };
    const key = "glue-data-pipeline:claims";
    doc.config[key] = { ...(doc.config[key] ?? {}), warehouse: { baseCapacity: 8 } };
    const file = path.join(dir, "Pulumi.dev-warehouse.yaml");
    fs.writeFileSync(file, yaml.dump(doc));
    return file;
}

function synthArgs(name: GraphName, dir: string): string[] {
    if (name === "warehouse") return ["--stack", "dev", "--stack-file", warehouseStackFile(dir)];
    if (name === "bootstrap-warehouse") return ["--project", "bootstrap", "--stack", "dev", "--stack-file", warehouseStackFile(dir)];
    if (name.startsWith("bootstrap-")) return ["--project", "bootstrap", "--stack", name.slice("bootstrap-".length)];
    return ["--stack", name];
}

async function synth(name: GraphName): Promise<SynthResult> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "access-"));
    const out = path.join(dir, `${name}.json`);
    await run(path.join(ROOT, "node_modules/.bin/ts-node"), ["--transpile-only", "scripts/synth.ts", ...synthArgs(name, dir), "--json", out], { cwd: ROOT, maxBuffer: 64 << 20 });
    return JSON.parse(fs.readFileSync(out, "utf8"));
}

let loading: Promise<Graphs> | undefined;
/** All seven graphs, synthesized once per test process. */
export function loadGraphs(): Promise<Graphs> {
    loading ??= (async () => {
        const names: GraphName[] = ["dev", "prod", "bootstrap-pipeline", "bootstrap-dev", "bootstrap-prod", "warehouse", "bootstrap-warehouse"];
        const graphs = await Promise.all(names.map(synth));
        return Object.fromEntries(names.map((n, i) => [n, graphs[i]])) as Graphs;
    })();
    return loading;
}

const parse = (doc: unknown): any => (typeof doc === "string" ? JSON.parse(doc) : doc);

/** The account a graph's resources live in: its one AWS provider's allowedAccountIds (every stack pins it). */
export function accountOfGraph(graph: SynthResult): string {
    const providers = graph.resources.filter((r) => r.type === "pulumi:providers:aws");
    const accounts = new Set(providers.flatMap((p) => parse(p.inputs.allowedAccountIds ?? "[]") as string[]));
    if (accounts.size !== 1) throw new Error(`${graph.project}/${graph.stack}: expected one account in its AWS providers' allowedAccountIds, found [${[...accounts].join(", ")}]`);
    return [...accounts][0];
}

function one(graph: SynthResult, pred: (r: Resource) => boolean, what: string): Resource {
    const hits = graph.resources.filter(pred);
    if (hits.length !== 1) throw new Error(`${graph.project}/${graph.stack}: expected one ${what}, found ${hits.length}`);
    return hits[0];
}

/** A role of a graph, by logical name, with everything IAM consults when it acts. */
export interface RoleView {
    readonly arn: string;
    readonly trust: unknown;
    readonly identity: unknown[];
    readonly boundaryArn?: string;
}

export function role(graph: SynthResult, logicalName: string): RoleView {
    const r = one(graph, (x) => x.type === "aws:iam/role:Role" && x.name === logicalName, `role ${logicalName}`);
    const account = accountOfGraph(graph);
    const physical: string = r.inputs.name ?? logicalName;
    const arn = `arn:aws:iam::${account}:role${r.inputs.path ?? "/"}${physical}`;
    const inline = graph.resources
        .filter((x) => x.type === "aws:iam/rolePolicy:RolePolicy" && (x.inputs.role === `${logicalName}-id` || x.inputs.role === physical))
        .map((x) => parse(x.inputs.policy));
    const attachedArns = graph.resources
        .filter((x) => x.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment" && (x.inputs.role === physical || x.inputs.role === `${logicalName}-id`))
        .map((x) => x.inputs.policyArn as string);
    const attached = attachedArns.map((policyArn) => parse(managedPolicy(graph, policyArn)));
    return { arn, trust: parse(r.inputs.assumeRolePolicy), identity: [...inline, ...attached], boundaryArn: r.inputs.permissionsBoundary };
}

/** A managed policy of a graph by ARN (mocks name it `policy/<name>`, the real ARN has the path too). */
export function managedPolicy(graph: SynthResult, policyArn: string): unknown {
    const name = policyArn.split("/").pop();
    return one(graph, (x) => x.type === "aws:iam/policy:Policy" && x.inputs.name === name, `policy ${policyArn}`).inputs.policy;
}

export const bucketPolicy = (graph: SynthResult, bucket: string): unknown =>
    parse(one(graph, (x) => x.type === "aws:s3/bucketPolicy:BucketPolicy" && x.inputs.bucket === bucket, `policy of bucket ${bucket}`).inputs.policy);

export const topicPolicy = (graph: SynthResult, topicArn: string): unknown =>
    parse(one(graph, (x) => x.type === "aws:sns/topicPolicy:TopicPolicy" && x.inputs.arn === topicArn, `policy of topic ${topicArn}`).inputs.policy);

export const queuePolicy = (graph: SynthResult, queueName: string): unknown =>
    parse(one(graph, (x) => x.type === "aws:sqs/queuePolicy:QueuePolicy" && String(x.inputs.queueUrl).endsWith(`/${queueName}`), `policy of queue ${queueName}`).inputs.policy);

/** A KMS key's policy by the key's logical name (mocks give it the ARN `key/<logical>-key-id`). */
export const keyPolicy = (graph: SynthResult, logicalName: string): unknown =>
    parse(one(graph, (x) => x.type === "aws:kms/key:Key" && x.name === logicalName, `key ${logicalName}`).inputs.policy);

/** Physical names of every resource of a type in a graph. */
export const namesOf = (graph: SynthResult, type: string): string[] =>
    graph.resources.filter((x) => x.type === type).map((x) => (x.type === "aws:s3/bucket:Bucket" ? x.inputs.bucket : x.inputs.name) ?? x.name);

/**
 * The effective S3 Block Public Access (RestrictPublicBuckets) of a bucket: its own block in the workload
 * graph, or the account's, which the bootstrap of that account sets.
 */
export function blocksPublicAccess(workload: SynthResult, bootstrap: SynthResult, bucket: string): boolean {
    const account = bootstrap.resources.some((r) => r.type === "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock" && r.inputs.restrictPublicBuckets === true);
    const own = workload.resources.some((r) => r.type === "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock" && r.inputs.bucket === bucket && r.inputs.restrictPublicBuckets === true);
    return account || own;
}

/** Whether the bootstrap of an account sets the account-level S3 Block Public Access (all four settings). */
export const accountBlocksPublicAccess = (bootstrap: SynthResult): boolean =>
    bootstrap.resources.some(
        (r) =>
            r.type === "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock" &&
            ["blockPublicAcls", "ignorePublicAcls", "blockPublicPolicy", "restrictPublicBuckets"].every((k) => r.inputs[k] === true),
    );

/**
 * A function's resource policy as Lambda builds it from its permissions (aws:lambda/permission): one
 * statement each, the source ARN as ArnLike on AWS:SourceArn and the source account as StringEquals on
 * AWS:SourceAccount.
 */
export function lambdaPolicy(graph: SynthResult, functionName: string, functionArn: string): unknown {
    const permissions = graph.resources.filter((r) => r.type === "aws:lambda/permission:Permission" && r.inputs.function === functionName);
    if (permissions.length === 0) throw new Error(`${graph.project}/${graph.stack}: no permission on function ${functionName}`);
    return {
        Version: "2012-10-17",
        Statement: permissions.map((p) => ({
            Sid: p.name,
            Effect: "Allow",
            Principal: { Service: p.inputs.principal },
            Action: p.inputs.action,
            Resource: functionArn,
            Condition: {
                ...(p.inputs.sourceArn ? { ArnLike: { "AWS:SourceArn": p.inputs.sourceArn } } : {}),
                ...(p.inputs.sourceAccount ? { StringEquals: { "AWS:SourceAccount": p.inputs.sourceAccount } } : {}),
            },
        })),
    };
}
