/**
 * Pulumi mocks that record the whole resource graph, shared by the mocha tests and the offline synth.
 *
 * Why a recorder on top of `setMocks`: the `newResource` hook does not see a resource's parent or its
 * dependencies, so we wrap the mock monitor's `registerResource` to keep the request's parent URN,
 * provider and explicit dependencies. That is what lets tests assert on wiring ("the notification
 * depends on the permission") and lets the synth print a real graph.
 *
 * `setMocks` is process-global: install once (mocha `--require`, or the synth's first line), before any
 * module that creates resources is imported.
 *
 * Resource transforms (the `transforms` option) run in the Pulumi engine, on the resource and on everything
 * under it; the SDK's mock monitor only hands a resource's own transforms to `newResource` and applies none.
 * The recorder applies them as the engine does — the resource's own first, then each ancestor's, nearest
 * first — so that what is recorded is what would be registered.
 */
import * as pulumi from "@pulumi/pulumi";
import { getMonitor } from "@pulumi/pulumi/runtime/settings";
import * as gstruct from "google-protobuf/google/protobuf/struct_pb";

export interface RecordedResource {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    /** URN of the parent resource ("" for the stack root). */
    readonly parent: string;
    readonly custom: boolean;
    /** Provider reference (`urn::id`) when the resource was given one. */
    readonly provider: string;
    /** URNs this resource depends on: explicit `dependsOn` and those its inputs came from. */
    readonly dependencies: string[];
    /** The `retainOnDelete` resource option: kept in AWS when the stack deletes it. */
    readonly retainOnDelete: boolean;
    /** Names this resource had before (the `aliases` option, by name): a rename that adopts, not replaces. */
    readonly aliasNames: string[];
    /**
     * The `aliases` option as sent to the engine: a whole old URN, or a spec whose unset parts default to the
     * resource's own (name, type, parent). The engine also gives every child the aliases its parent has; the
     * URN baseline test (test/stacks/urnBaseline.test.ts) resolves both as the engine does.
     */
    readonly aliases: RecordedAlias[];
    readonly inputs: Record<string, any>;
    readonly state: Record<string, any>;
}

export interface RecordedAlias {
    readonly urn?: string;
    readonly name?: string;
    readonly type?: string;
    readonly parentUrn?: string;
    readonly noParent?: boolean;
}

export interface MockEnvironment {
    accountId: string;
    region: string;
}

const env: MockEnvironment = { accountId: "111111111111", region: "eu-west-1" };
const recorded: RecordedResource[] = [];
const stackOutputs = new Map<string, Record<string, unknown>>();
let pending = 0;
/** URN → the transforms that apply to that resource's children (its own and its ancestors'). */
const transformsUnder = new Map<string, pulumi.ResourceTransform[]>();

/** Sets the account and region that ARNs, caller identity and region look-ups report. */
export function setMockEnvironment(next: Partial<MockEnvironment>): void {
    Object.assign(env, next);
}

/** Outputs that a `pulumi:pulumi:StackReference` named `stackName` resolves to (undefined: none). */
export function setStackReferenceOutputs(stackName: string, outputs: Record<string, unknown> | undefined): void {
    if (outputs === undefined) stackOutputs.delete(stackName);
    else stackOutputs.set(stackName, outputs);
}

export function resetRecorded(): void {
    recorded.length = 0;
    // A new graph registers its components' transforms afresh; the previous graph's must not reach it (the
    // same URNs recur from build to build, so a stale entry would apply one stack's boundary to the next).
    transformsUnder.clear();
}

export function recordedResources(): readonly RecordedResource[] {
    return recorded;
}

/** Resolves once no registration has been in flight for a few event-loop turns. */
export async function waitForRegistrations(quietTurns = 25): Promise<void> {
    let quiet = 0;
    while (quiet < quietTurns) {
        await new Promise((resolve) => setImmediate(resolve));
        quiet = pending === 0 ? quiet + 1 : 0;
    }
}

/** The service part of a token such as `aws:s3/bucket:Bucket` → `s3`. */
function serviceOf(type: string): string {
    const module = type.split(":")[1] ?? "";
    return module.split("/")[0];
}

/** Physical name the way the AWS provider would pick it: an explicit name input wins. */
function physicalName(type: string, name: string, inputs: Record<string, any>): string {
    if (type === "aws:s3/bucket:Bucket") return inputs.bucket ?? name;
    return inputs.name ?? name;
}

/** Plausible provider-computed outputs, so that ARNs flow into policies exactly as they would on AWS. */
function computedState(type: string, name: string, inputs: Record<string, any>): Record<string, any> {
    const { accountId, region } = env;
    const phys = physicalName(type, name, inputs);
    switch (type) {
        case "aws:s3/bucket:Bucket":
            return { bucket: phys, arn: `arn:aws:s3:::${phys}`, bucketDomainName: `${phys}.s3.amazonaws.com` };
        case "aws:iam/role:Role":
            return { name: phys, arn: `arn:aws:iam::${accountId}:role/${phys}`, uniqueId: `AROA${phys}` };
        case "aws:iam/policy:Policy":
            return { name: phys, arn: `arn:aws:iam::${accountId}:policy/${phys}` };
        case "aws:kms/key:Key":
            return { keyId: `${name}-key-id`, arn: `arn:aws:kms:${region}:${accountId}:key/${name}-key-id` };
        case "aws:kms/alias:Alias":
            return { arn: `arn:aws:kms:${region}:${accountId}:${phys}` };
        case "aws:lambda/function:Function": {
            const arn = `arn:aws:lambda:${region}:${accountId}:function:${phys}`;
            return {
                name: phys,
                arn,
                qualifiedArn: `${arn}:$LATEST`,
                invokeArn: `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${arn}/invocations`,
                version: "$LATEST",
            };
        }
        case "aws:sqs/queue:Queue":
            return {
                name: phys,
                arn: `arn:aws:sqs:${region}:${accountId}:${phys}`,
                url: `https://sqs.${region}.amazonaws.com/${accountId}/${phys}`,
            };
        case "aws:sns/topic:Topic":
            return { name: phys, arn: `arn:aws:sns:${region}:${accountId}:${phys}` };
        case "aws:dynamodb/table:Table":
            return {
                name: phys,
                arn: `arn:aws:dynamodb:${region}:${accountId}:table/${phys}`,
                streamArn: `arn:aws:dynamodb:${region}:${accountId}:table/${phys}/stream/2026-01-01T00:00:00.000`,
            };
        case "aws:cloudwatch/logGroup:LogGroup":
            return { name: phys, arn: `arn:aws:logs:${region}:${accountId}:log-group:${phys}` };
        case "aws:glue/job:Job":
            return { name: phys, arn: `arn:aws:glue:${region}:${accountId}:job/${phys}` };
        case "aws:glue/catalogDatabase:CatalogDatabase":
            return { name: phys, arn: `arn:aws:glue:${region}:${accountId}:database/${phys}` };
        case "aws:glue/crawler:Crawler":
            return { name: phys, arn: `arn:aws:glue:${region}:${accountId}:crawler/${phys}` };
        case "aws:secretsmanager/secret:Secret":
            // Secrets Manager appends six random characters to a secret's name in its ARN.
            return { name: phys, arn: `arn:aws:secretsmanager:${region}:${accountId}:secret:${phys}-AbCdEf` };
        case "aws:sfn/stateMachine:StateMachine":
            return { name: phys, arn: `arn:aws:states:${region}:${accountId}:stateMachine:${phys}` };
        // Redshift Serverless ARNs carry the service's generated id (a UUID), not the name, and the service
        // prefix `redshift-serverless`: a policy scoped to the workgroup's ARN must be judged on that form.
        case "aws:redshiftserverless/workgroup:Workgroup":
            return { workgroupId: `${name}-id`, arn: `arn:aws:redshift-serverless:${region}:${accountId}:workgroup/${name}-id` };
        case "aws:redshiftserverless/namespace:Namespace":
            return { namespaceId: `${name}-id`, arn: `arn:aws:redshift-serverless:${region}:${accountId}:namespace/${name}-id` };
        default:
            return { arn: `arn:aws:${serviceOf(type)}:${region}:${accountId}:${phys}` };
    }
}

/**
 * awsx's Vpc is a remote (multi-language) component: the awsx provider plugin builds its subnets, route tables
 * and gateways, so under mocks nothing is built and only its outputs exist, made up here from its inputs: one
 * subnet and route table per AZ and subnet spec, listed under the spec's type. Tests assert on the inputs the
 * program sends awsx (what awsx will build from them); what awsx builds is its own, tested upstream.
 */
function awsxVpcState(name: string, inputs: Record<string, any>): Record<string, any> {
    const azCount: number = inputs.availabilityZoneNames?.length ?? inputs.numberOfAvailabilityZones ?? 3;
    const specs: Array<{ type: string }> = inputs.subnetSpecs ?? [{ type: "Public" }, { type: "Private" }];
    const ids: Record<string, string[]> = { Public: [], Private: [], Isolated: [] };
    const routeTables: Array<{ id: string }> = [];
    specs.forEach((spec, s) => {
        for (let az = 0; az < azCount; az++) {
            ids[spec.type]?.push(`subnet-${name}-${s}-${az}`);
            routeTables.push({ id: `rtb-${name}-${s}-${az}` });
        }
    });
    return {
        vpcId: `vpc-${name}`,
        publicSubnetIds: ids.Public,
        privateSubnetIds: ids.Private,
        isolatedSubnetIds: ids.Isolated,
        routeTables,
    };
}

function newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, any> } {
    if (args.type === "pulumi:pulumi:StackReference") {
        const stackName: string = args.inputs.name ?? args.name;
        const outputs = stackOutputs.get(stackName) ?? {};
        return { id: stackName, state: { name: stackName, outputs, secretOutputNames: [] } };
    }
    if (args.type === "awsx:ec2:Vpc") return { id: "", state: { ...args.inputs, ...awsxVpcState(args.name, args.inputs) } };
    if (!args.custom) return { id: "", state: args.inputs };
    const state = { ...args.inputs, ...computedState(args.type, args.name, args.inputs) };
    // Tags given through the provider's defaultTags show up in tagsAll on AWS; the synth reads tagsAll.
    const id = args.type === "aws:s3/bucket:Bucket" ? state.bucket : `${args.name}-id`;
    return { id, state };
}

function call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
    switch (args.token) {
        case "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                accountId: env.accountId,
                arn: `arn:aws:iam::${env.accountId}:user/mock`,
                userId: "AIDAMOCK",
                id: env.accountId,
            };
        case "aws:index/getRegion:getRegion":
            return { name: env.region, region: env.region, id: env.region, endpoint: `ec2.${env.region}.amazonaws.com` };
        case "aws:index/getPartition:getPartition":
            return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" };
        default:
            return args.inputs;
    }
}

let installed = false;

/** Installs the recording mocks for `project`/`stack`. Call once per process, before importing programs. */
export function installMocks(project = "glue-data-pipeline", stack = "dev", organization = "acme"): void {
    if (installed) return;
    installed = true;
    pulumi.runtime.setMocks({ newResource, call }, project, stack, false, organization);
    const monitor = getMonitor() as any;
    // Custom and component resources come through registerResource; resources read by id (a
    // StackReference) through readResource, whose request has properties instead of an object and
    // carries no dependencies or retainOnDelete.
    const applyTransforms = async (req: any): Promise<pulumi.ResourceTransform[]> => {
        const own = (req.getTransformsList() as any[]).map((cb) => monitor.transformCallbacks?.get(cb.getToken())).filter((t) => t !== undefined);
        const chain: pulumi.ResourceTransform[] = [...own, ...(transformsUnder.get(req.getParent()) ?? [])];
        let props = pulumi.runtime.deserializeProperties(req.getObject());
        let changed = false;
        for (const transform of chain) {
            const result = await transform({ type: req.getType(), name: req.getName(), custom: req.getCustom(), props, opts: {} });
            if (result) [props, changed] = [result.props, true];
        }
        if (changed) req.setObject(gstruct.Struct.fromJavaScript(await pulumi.runtime.serializeProperties(`transform ${req.getName()}`, props)));
        return chain;
    };
    const record = (method: "registerResource" | "readResource") => {
        const original = monitor[method].bind(monitor);
        monitor[method] = async (req: any, callback: (err: any, resp: any) => void) => {
            pending++;
            const reading = method === "readResource";
            let chain: pulumi.ResourceTransform[] = [];
            try {
                if (!reading) chain = await applyTransforms(req);
            } catch (err) {
                pending--;
                callback(err, undefined);
                return;
            }
            const inputs = pulumi.runtime.deserializeProperties(reading ? req.getProperties() : req.getObject());
            original(req, (err: any, resp: any) => {
                if (!err && resp && chain.length > 0) transformsUnder.set(resp.getUrn(), chain);
                if (!err && resp) {
                    recorded.push({
                        urn: resp.getUrn(),
                        type: req.getType(),
                        name: req.getName(),
                        parent: req.getParent(),
                        custom: reading ? true : req.getCustom(),
                        provider: req.getProvider(),
                        dependencies: reading ? [] : req.getDependenciesList(),
                        retainOnDelete: reading ? false : req.getRetainondelete() === true,
                        aliasNames: reading ? [] : aliasNamesOf(req),
                        aliases: reading ? [] : aliasesOf(req),
                        inputs,
                        state: (reading ? resp.getProperties() : resp.getObject())?.toJavaScript() ?? {},
                    });
                }
                pending--;
                callback(err, resp);
            });
        };
    };
    record("registerResource");
    record("readResource");
}

/** The aliases of a register request, unset spec fields left out. */
function aliasesOf(req: any): RecordedAlias[] {
    const specs: RecordedAlias[] = (req.getAliasesList?.() ?? []).map((a: any) => {
        const urn: string = a.getUrn?.() ?? "";
        if (urn) return { urn };
        const spec = a.getSpec();
        const out: { -readonly [K in keyof RecordedAlias]: RecordedAlias[K] } = {};
        if (spec.getName()) out.name = spec.getName();
        if (spec.getType()) out.type = spec.getType();
        if (spec.getParenturn()) out.parentUrn = spec.getParenturn();
        if (spec.getNoparent()) out.noParent = true;
        return out;
    });
    const urns: RecordedAlias[] = (req.getAliasurnsList?.() ?? []).map((urn: string) => ({ urn }));
    return [...specs, ...urns];
}

/** Alias names of a register request: alias specs (name given) or, from older SDKs, alias URNs (the last `::` part). */
function aliasNamesOf(req: any): string[] {
    const specs: string[] = (req.getAliasesList?.() ?? []).map((a: any) => a.getSpec?.()?.getName?.() ?? (a.getUrn?.() ?? "").split("::").pop()).filter(Boolean);
    const urns: string[] = (req.getAliasurnsList?.() ?? []).map((u: string) => u.split("::").pop() ?? "");
    return [...specs, ...urns].filter((n) => n !== "");
}
