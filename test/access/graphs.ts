/**
 * The synthesized graphs the access contract is evaluated on: the dev and prod workload stacks and the
 * bootstrap project's pipeline, dev and prod stacks, each produced by the offline synth (scripts/synth.ts)
 * of the real program and stack files, in a child process (mocks are process-global). Also the lookups the
 * contract needs: a principal's identity policies and boundary, a resource's policy.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import type { SynthResult } from "../../scripts/synth";

const ROOT = path.resolve(__dirname, "../..");
const run = promisify(execFile);

export type GraphName = "dev" | "prod" | "bootstrap-pipeline" | "bootstrap-dev" | "bootstrap-prod";
export type Graphs = Record<GraphName, SynthResult>;
type Resource = SynthResult["resources"][number];

async function synth(name: GraphName): Promise<SynthResult> {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "access-")), `${name}.json`);
    const args = name.startsWith("bootstrap-") ? ["--project", "bootstrap", "--stack", name.slice("bootstrap-".length)] : ["--stack", name];
    await run(path.join(ROOT, "node_modules/.bin/ts-node"), ["--transpile-only", "scripts/synth.ts", ...args, "--json", out], { cwd: ROOT, maxBuffer: 64 << 20 });
    return JSON.parse(fs.readFileSync(out, "utf8"));
}

let loading: Promise<Graphs> | undefined;
/** All five graphs, synthesized once per test process. */
export function loadGraphs(): Promise<Graphs> {
    loading ??= (async () => {
        const names: GraphName[] = ["dev", "prod", "bootstrap-pipeline", "bootstrap-dev", "bootstrap-prod"];
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
