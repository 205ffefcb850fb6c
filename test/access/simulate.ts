/**
 * The one door to the independent IAM evaluator, @cloud-copilot/iam-simulate, for every access question the
 * tests ask ("may this token assume the role?", "may the deploy role do X to Y?", "may the scheduler assume
 * its role with the context AWS sends?"). It replaces our own model of IAM (the retired
 * test/delivery/iamEval.ts): identity, resource, trust and KMS key policies, permissions boundaries, every
 * condition operator and same/cross-account rules are AWS's as the evaluator implements them, not ours.
 *
 * iam-simulate is AGPL-3.0: a devDependency used by tests only. test/access/license.test.ts fails if any
 * file outside test/ imports it.
 *
 * Two things this wrapper refuses rather than lets pass silently:
 * - a simulation the evaluator rejects as invalid (unknown action, a resource ARN of a type the action does
 *   not accept, a malformed policy): thrown with the evaluator's message;
 * - a context key the evaluator drops as not applicable to the action: a request would then be judged on
 *   less context than the test claims AWS sends.
 * Two translations, made only here, of condition keys the evaluator's context-key validation cannot name
 * (its variable keys only work after a `/`, as in `aws:RequestTag/${TagKey}`, and its OIDC claim keys cover a
 * fixed list of issuers). Its own entry point without validation cannot take a resource policy (a bug in the
 * version we use: the policy loses its metadata and the analysis throws). So:
 * - Pulumi's issuer (`api.pulumi.com/oidc:sub`) becomes one the evaluator knows, `accounts.google.com`;
 * - `kms:EncryptionContext:<key>` (the context CloudWatch Logs sends, `aws:logs:arn`) becomes
 *   `aws:RequestTag/kms-EncryptionContext:<key>`, a variable key the evaluator accepts for every action.
 * Each is renamed in the policy documents and the request context alike, and keeps its type (a string), so
 * the operators compare the same values and the decision is AWS's.
 */
import { allowedContextKeysForRequest, anonymousPrincipal, isWildcardOnlyAction, runSimulation, type Simulation } from "@cloud-copilot/iam-simulate";

export type ContextValue = string | readonly string[];
export type Decision = "allow" | "deny" | "implicit-deny";
type Doc = { Statement: unknown } | string;

/** A principal as a trust/resource policy names it (one of the three), or anonymous. */
export interface PrincipalRef {
    readonly AWS?: string;
    readonly Federated?: string;
    readonly Service?: string;
    readonly anonymous?: true;
}

export interface IamRequest {
    readonly action: string;
    /** The ARN acted on. Omitted for trust policies: the role ARN is then a placeholder in the principal's account. */
    readonly resource?: string;
    /** Who asks, for resource/trust policies. */
    readonly principal?: PrincipalRef;
    readonly context?: Readonly<Record<string, ContextValue>>;
    /** Tags the resource carries (see {@link AccessQuestion.resourceTags}). */
    readonly resourceTags?: Readonly<Record<string, string>>;
}

/** A whole request: who, what, on which resource, under which policies. */
export interface AccessQuestion {
    /** An IAM principal ARN, a service principal (`scheduler.amazonaws.com`), an OIDC provider ARN, or anonymous. */
    readonly principal: string | "anonymous";
    readonly action: string;
    readonly resource: string;
    /** Account owning the resource; derived from the ARN when it carries one (S3 ARNs do not). */
    readonly resourceAccount?: string;
    readonly context?: Readonly<Record<string, ContextValue>>;
    /**
     * Tags the resource carries. AWS puts them in the request as `aws:ResourceTag/<key>` only for resource
     * types that support it (not S3 buckets without ABAC, not the Glue catalog): added to the context only
     * where the evaluator's data says the action on this resource takes that key.
     */
    readonly resourceTags?: Readonly<Record<string, string>>;
    /** Identity policies of the principal (inline and attached). */
    readonly identity?: readonly Doc[];
    /** The principal's permissions boundary, if any. */
    readonly boundary?: Doc;
    /** The resource policy: bucket/topic/queue/key policy, or the role's trust policy for sts:AssumeRole*. */
    readonly resourcePolicy?: Doc;
    /** The effective S3 Block Public Access (RestrictPublicBuckets) for an S3 request. */
    readonly s3BlockPublicAccess?: boolean;
}

export interface AccessAnswer {
    readonly decision: Decision;
    /** The evaluator's own analysis, for failure messages. */
    readonly analysis: unknown;
}

const parse = (d: Doc): any => (typeof d === "string" ? JSON.parse(d) : d);
/** [key prefix as AWS names it, the prefix the evaluator is given] (see the module comment). */
const KEY_ALIASES: ReadonlyArray<readonly [string, string]> = [
    ["api.pulumi.com/oidc:", "accounts.google.com:"],
    ["kms:EncryptionContext:", "aws:RequestTag/kms-EncryptionContext:"],
];
const aliasText = (text: string): string => KEY_ALIASES.reduce((t, [from, to]) => t.split(from).join(to), text);
const aliasDoc = (d: Doc): any => JSON.parse(aliasText(JSON.stringify(parse(d))));
const aliasKey = (k: string): string => {
    const hit = KEY_ALIASES.find(([from]) => k.startsWith(from));
    return hit ? hit[1] + k.slice(hit[0].length) : k;
};

const isS3 = (arn: string) => arn.startsWith("arn:aws:s3:::");

/** The account an ARN names (empty for S3 bucket/object ARNs and service principals). */
export const accountOf = (arn: string): string => arn.split(":")[4] ?? "";

const fromResult: Record<string, Decision> = { Allowed: "allow", ExplicitlyDenied: "deny", ImplicitlyDenied: "implicit-deny" };

/**
 * `aws:ResourceTag/<key>` for each tag, when AWS sends it with this action on this resource: the evaluator's
 * IAM data lists the key for the action's resource type (not for S3 without bucket ABAC, not for actions
 * without a resource type, not for the Glue catalog).
 */
async function resourceTagContext(action: string, resource: string, tags: Readonly<Record<string, string>>): Promise<Record<string, string>> {
    const [service, name] = action.split(":");
    if (isS3(resource) || (await isWildcardOnlyAction(service, name))) return {};
    // A resource pattern may name several resource types; the evaluator then answers per type (see below).
    const keys = await allowedContextKeysForRequest(service, name, resource, false, undefined).catch(() => [] as string[]);
    if (!keys.includes("aws:resourcetag/${tagkey}")) return {};
    return Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:ResourceTag/${k}`, v]));
}

/** Asks the evaluator; throws on an invalid simulation or dropped context (see the module comment). */
export async function decide(q: AccessQuestion): Promise<AccessAnswer> {
    const resourceAccount = q.resourceAccount ?? accountOf(q.resource);
    if (!resourceAccount) throw new Error(`simulate: ${q.action} on ${q.resource}: say which account owns the resource (resourceAccount)`);
    const context: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(q.context ?? {})) context[aliasKey(k)] = typeof v === "string" ? v : [...v];
    if (q.resourceTags) Object.assign(context, await resourceTagContext(q.action, q.resource, q.resourceTags));
    const anonymous = q.principal === "anonymous";
    const simulation: Simulation = {
        request: {
            principal: anonymous ? anonymousPrincipal : q.principal,
            action: q.action,
            resource: { resource: q.resource, accountId: resourceAccount },
            contextVariables: context,
        },
        identityPolicies: (q.identity ?? []).map((d, i) => ({ name: `identity-${i}`, policy: aliasDoc(d) })),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: q.resourcePolicy === undefined ? undefined : aliasDoc(q.resourcePolicy),
        permissionBoundaryPolicies: q.boundary === undefined ? undefined : [{ name: "boundary", policy: parse(q.boundary) }],
        additionalSettings: q.s3BlockPublicAccess === undefined ? undefined : { s3: { blockPublicAccess: q.s3BlockPublicAccess } },
    };
    const result = await runSimulation(simulation, {});
    if (result.resultType === "error") throw new Error(`simulate: ${q.action} on ${q.resource} is not a valid request: ${JSON.stringify(result.errors)}`);
    if (result.resultType === "wildcard") {
        // A resource pattern (a statement's `.../*`): the evaluator answers per resource type it may name;
        // the pattern is allowed only if every one of them is.
        const decisions = result.results.map((r) => fromResult[r.analysis.result]);
        const ignoredAny = result.results.flatMap((r) => r.ignoredContextKeys ?? []);
        if (ignoredAny.length > 0) throw new Error(`simulate: ${q.action} on ${q.resource}: the evaluator ignores context ${ignoredAny.join(", ")}`);
        const decision: Decision = decisions.includes("deny") ? "deny" : decisions.length === 0 || decisions.includes("implicit-deny") ? "implicit-deny" : "allow";
        return { decision, analysis: result.results.map((r) => r.analysis) };
    }
    const ignored = result.result.ignoredContextKeys ?? [];
    if (ignored.length > 0) throw new Error(`simulate: ${q.action} on ${q.resource}: the evaluator ignores context ${ignored.join(", ")}; the request would be judged on less than AWS sends`);
    return { decision: fromResult[result.overallResult], analysis: result.result.analysis };
}

/** A resource policy that leaves the decision to the account's identity policies (AWS's default key policy). */
export const delegatingPolicy = (account: string) => ({
    Version: "2012-10-17",
    Statement: [{ Sid: "DelegateToIam", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: "*", Resource: "*" }],
});

/** The placeholder role ARN a trust-policy question is asked against, in `account`. */
const placeholderRole = (account: string) => `arn:aws:iam::${account}:role/trust-policy-under-test`;

function principalString(p: PrincipalRef): string {
    if (p.anonymous) return "anonymous";
    const value = p.AWS ?? p.Federated ?? p.Service;
    if (!value) throw new Error("simulate: empty principal");
    return value;
}

/**
 * The old iamEval question shape, answered by the evaluator. With a principal, the documents are the
 * resource (trust) policy and the answer is whether that policy admits the principal: for a principal in
 * another account, its own side is granted the action, so the answer turns on the trust policy alone.
 * Without one, the documents are identity policies of a caller in the resource's account.
 */
export async function evaluate(documents: readonly Doc[], request: IamRequest): Promise<Decision> {
    if (request.principal) {
        if (documents.length !== 1) throw new Error("simulate: a resource/trust policy question takes exactly one document");
        const principal = principalString(request.principal);
        const principalAccount = accountOf(request.principal.AWS ?? request.principal.Federated ?? "");
        const resource = request.resource ?? placeholderRole(principalAccount || "000000000000");
        const resourceAccount = accountOf(resource) || principalAccount || "000000000000";
        const crossAccount = !!request.principal.AWS && principalAccount !== resourceAccount;
        return (
            await decide({
                principal,
                action: request.action,
                resource,
                resourceAccount,
                context: request.context,
                resourcePolicy: documents[0],
                identity: crossAccount ? [{ Statement: [{ Effect: "Allow", Action: request.action, Resource: resource }] }] : [],
            })
        ).decision;
    }
    if (!request.resource) throw new Error("simulate: an identity policy question needs a resource");
    const resourceAccount = accountOf(request.resource) || "000000000000";
    // KMS keys and roles are never authorized by identity policies alone: the key policy (trust policy) must
    // allow too. The question here is about the identity policies, so the resource side is the one that
    // delegates to them (a key policy / trust policy naming the account root), as AWS's default key policy does.
    const delegates = /^arn:[^:]+:(kms|iam):/.test(request.resource) ? delegatingPolicy(resourceAccount) : undefined;
    return (
        await decide({
            principal: `arn:aws:iam::${resourceAccount}:role/identity-policy-under-test`,
            action: request.action,
            resource: request.resource,
            resourceAccount,
            context: request.context,
            resourceTags: request.resourceTags,
            identity: documents,
            resourcePolicy: delegates,
        })
    ).decision;
}

export const allows = async (documents: readonly Doc[], request: IamRequest): Promise<boolean> => (await evaluate(documents, request)) === "allow";

/** The request a Pulumi OIDC token makes against a trust policy. */
export function webIdentity(providerArn: string, aud: string, sub: string): IamRequest {
    return {
        action: "sts:AssumeRoleWithWebIdentity",
        principal: { Federated: providerArn },
        context: { "api.pulumi.com/oidc:aud": aud, "api.pulumi.com/oidc:sub": sub },
    };
}
