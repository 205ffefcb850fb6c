/**
 * The graph invariants every deploy must keep, written once over a neutral view of a resource graph. Two
 * callers use these same functions: the policy pack (policy/index.ts, run by `pulumi preview --policy-pack`
 * in the pull-request workflow and before every Pulumi Deployments update) and the offline synth tests
 * (test/stacks/synthGraph.test.ts, test/policy/policyPack.test.ts), so what the tests prove is what blocks a
 * deploy.
 *
 * Pure: no Pulumi runtime, no AWS provider import. The only file access is the @pulumi/aws declarations,
 * read to decide whether a type can be tagged.
 */
import * as fs from "fs";
import * as path from "path";

/** One resource as both a synth graph and the policy engine can present it. */
export interface GraphResource {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    /** Inputs (synth) or the engine's resource properties (policy pack); same camelCase names. */
    readonly props: Record<string, any>;
    /** The provider the resource was registered with, when known. */
    readonly provider?: { readonly urn: string; readonly props: Record<string, any> };
    /**
     * URNs an input property was computed from (the engine's propertyDependencies). During a preview an
     * id of a resource not yet created is unknown, so a child is tied to its bucket through these.
     */
    readonly propertyDependencies?: Readonly<Record<string, readonly string[]>>;
}

export interface Finding {
    readonly urn: string;
    readonly message: string;
}

export interface Invariant {
    /** The policy name in the pack (kebab-case, as Pulumi requires). */
    readonly name: string;
    readonly description: string;
    readonly check: (resources: readonly GraphResource[]) => Finding[];
}

/** The bootstrap's own roles live on this path; they are outside the workload boundary by design. */
export const BOOTSTRAP_IAM_PATH = "/glue-data-pipeline-bootstrap/";

/** The tags the provider must put on every taggable resource (the tagging strategy). */
export const REQUIRED_TAG_KEYS = ["Environment", "Project", "Owner", "CostCenter"] as const;

export interface Statement {
    Sid?: string;
    Effect: "Allow" | "Deny";
    Principal?: unknown;
    Action?: string | string[];
    Resource?: string | string[];
    Condition?: Record<string, Record<string, unknown>>;
}

export const asList = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** The statements of a policy document given as a JSON string or an object; [] for anything else. */
export function statementsOf(policy: unknown): Statement[] {
    let doc: any = policy;
    if (typeof policy === "string") {
        try {
            doc = JSON.parse(policy);
        } catch {
            return [];
        }
    }
    const statements = doc?.Statement;
    return statements === undefined ? [] : Array.isArray(statements) ? statements : [statements];
}

/** Every IAM policy document a resource carries: its policy, trust policy and inline policies. */
export function policyDocumentsOf(r: GraphResource): unknown[] {
    const inline = asList(r.props.inlinePolicies).map((p: any) => p?.policy);
    return [r.props.policy, r.props.assumeRolePolicy, ...inline].filter((d) => typeof d === "string" ? d.includes("Statement") : d && typeof d === "object" && "Statement" in d);
}

const BUCKET = "aws:s3/bucket:Bucket";

/** Resources of `type` configuring `bucket`: by name, or (in a preview, name still unknown) through the dependency. */
function onBucket(resources: readonly GraphResource[], type: string, bucket: GraphResource): GraphResource[] {
    return resources.filter(
        (r) => r.type === type && ((r.props.bucket !== undefined && r.props.bucket === bucket.props.bucket) || (r.propertyDependencies?.bucket ?? []).includes(bucket.urn)),
    );
}

function perBucket(resources: readonly GraphResource[], problem: (bucket: GraphResource) => string | undefined): Finding[] {
    return resources
        .filter((r) => r.type === BUCKET)
        .flatMap((b) => {
            const p = problem(b);
            return p ? [{ urn: b.urn, message: `bucket ${b.props.bucket ?? b.name}: ${p}` }] : [];
        });
}

export const bucketEncrypted: Invariant = {
    name: "s3-bucket-encrypted",
    description: "Every S3 bucket has a default encryption configuration (SSE-KMS or SSE-S3).",
    check: (resources) =>
        perBucket(resources, (b) => {
            const [sse] = onBucket(resources, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", b);
            if (!sse) return "no server-side encryption configuration";
            const algorithm = asList<any>(sse.props.rules)[0]?.applyServerSideEncryptionByDefault?.sseAlgorithm;
            return ["aws:kms", "aws:kms:dsse", "AES256"].includes(algorithm) ? undefined : `default encryption ${JSON.stringify(algorithm)} is not SSE-KMS or SSE-S3`;
        }),
};

const PUBLIC_ACCESS_FLAGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"] as const;

export const bucketPublicAccessBlocked: Invariant = {
    name: "s3-bucket-public-access-blocked",
    description: "Every S3 bucket has a public access block with all four settings on.",
    check: (resources) =>
        perBucket(resources, (b) => {
            const [pab] = onBucket(resources, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", b);
            if (!pab) return "no public access block";
            const off = PUBLIC_ACCESS_FLAGS.filter((f) => pab.props[f] !== true);
            return off.length ? `public access block leaves ${off.join(", ")} off` : undefined;
        }),
};

/** A Deny of every request that does not come over TLS. */
export function deniesInsecureTransport(statement: Statement): boolean {
    const secure = (statement.Condition?.Bool as Record<string, unknown> | undefined)?.["aws:SecureTransport"];
    return statement.Effect === "Deny" && (secure === "false" || secure === false);
}

export const bucketTlsOnly: Invariant = {
    name: "s3-bucket-tls-only",
    description: "Every S3 bucket's policy denies requests not made over TLS (aws:SecureTransport false).",
    check: (resources) =>
        perBucket(resources, (b) => {
            const [policy] = onBucket(resources, "aws:s3/bucketPolicy:BucketPolicy", b);
            if (!policy) return "no bucket policy";
            // A policy computed from a bucket not yet created is unknown during a preview (the engine hands
            // policies no value); `pulumi up` runs the pack again with the value known. A bucket policy
            // resource always has a policy, so undefined means unknown, never absent.
            if (policy.props.policy === undefined) return undefined;
            return statementsOf(policy.props.policy).some(deniesInsecureTransport) ? undefined : "bucket policy does not deny non-TLS requests";
        }),
};

export const bucketOwnerEnforced: Invariant = {
    name: "s3-bucket-owner-enforced",
    description: "Every S3 bucket disables ACLs (object ownership BucketOwnerEnforced).",
    check: (resources) =>
        perBucket(resources, (b) => {
            const [ownership] = onBucket(resources, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", b);
            const value = ownership?.props.rule?.objectOwnership;
            return value === "BucketOwnerEnforced" ? undefined : `object ownership is ${JSON.stringify(value ?? "not set")}, not BucketOwnerEnforced`;
        }),
};

/**
 * Actions of those services that IAM authorizes only on Resource "*" (the Service Authorization Reference
 * lists no resource type for them): "*" is the only grant that works, so it widens nothing. The parliament
 * test (test/policy/parliament.test.ts) checks against AWS's action data that each really has no resource type.
 */
export const ACTIONS_WITHOUT_RESOURCE_TYPE: readonly string[] = [
    "kms:CreateKey", "kms:ListAliases", "kms:ListKeys",
    "glue:CreateSecurityConfiguration", "glue:DeleteSecurityConfiguration", "glue:GetSecurityConfiguration", "glue:GetSecurityConfigurations",
    "glue:CreateCrawler",
];

/** Identity-policy Allows of a data-plane service (S3, DynamoDB, Glue, KMS, SQS) or of everything, on "*". */
export function dataPlaneAllowOnStar(statement: Statement): boolean {
    if (statement.Effect !== "Allow" || statement.Principal !== undefined) return false;
    const resourceless = new Set(ACTIONS_WITHOUT_RESOURCE_TYPE.map((a) => a.toLowerCase()));
    const dataPlane = asList(statement.Action).some((a) => (/^(s3|dynamodb|glue|kms|sqs):/i.test(a) && !resourceless.has(a.toLowerCase())) || a === "*");
    return dataPlane && asList(statement.Resource).includes("*");
}

export const noDataPlaneAllowOnStar: Invariant = {
    name: "iam-no-data-plane-allow-on-star",
    description: "No identity policy allows an S3, DynamoDB, Glue, KMS or SQS action (or *) on Resource \"*\".",
    check: (resources) =>
        resources.flatMap((r) =>
            policyDocumentsOf(r)
                .flatMap(statementsOf)
                .filter(dataPlaneAllowOnStar)
                .map((s) => ({ urn: r.urn, message: `${r.type} ${r.name}: statement ${s.Sid ?? "(no Sid)"} allows ${asList(s.Action).join(", ")} on "*"` })),
        ),
};

export const rolePermissionsBoundary: Invariant = {
    name: "iam-role-permissions-boundary",
    description: `Every IAM role has a permissions boundary, except the bootstrap's own roles (path ${BOOTSTRAP_IAM_PATH}).`,
    check: (resources) =>
        resources
            .filter((r) => r.type === "aws:iam/role:Role" && r.props.path !== BOOTSTRAP_IAM_PATH && !r.props.permissionsBoundary)
            .map((r) => ({ urn: r.urn, message: `role ${r.props.name ?? r.name} has no permissions boundary` })),
};

export const logRetention: Invariant = {
    name: "cloudwatch-log-retention",
    description: "Every CloudWatch log group keeps its events for a bounded number of days.",
    check: (resources) =>
        resources
            .filter((r) => r.type === "aws:cloudwatch/logGroup:LogGroup" && !(Number(r.props.retentionInDays) > 0))
            .map((r) => ({ urn: r.urn, message: `log group ${r.props.name ?? r.name} keeps events forever (retentionInDays ${JSON.stringify(r.props.retentionInDays)})` })),
};

const AWS_TYPES = path.dirname(require.resolve("@pulumi/aws/package.json"));
const taggableCache = new Map<string, boolean>();

/**
 * Whether the provider can tag a resource type: its arguments declare `tags` and its state `tagsAll` (the
 * provider's defaultTags merged in), read from @pulumi/aws's own declarations rather than a hand-kept list.
 */
export function isTaggable(type: string): boolean {
    const cached = taggableCache.get(type);
    if (cached !== undefined) return cached;
    const [, module, className] = type.split(":");
    const file = path.join(AWS_TYPES, `${module}.d.ts`);
    if (!fs.existsSync(file)) throw new Error(`no declarations for ${type} at ${file}`);
    const text = fs.readFileSync(file, "utf8");
    const block = (name: string) => new RegExp(`export interface ${name} \\{([\\s\\S]*?)\\n\\}`).exec(text)?.[1] ?? "";
    const taggable = /\btags\?:/.test(block(`${className}Args`)) && /\btagsAll\?:/.test(block(`${className}State`));
    taggableCache.set(type, taggable);
    return taggable;
}

/** A provider's defaultTags, whichever form the engine or the mocks give them in. */
export function defaultTagsOf(providerProps: Record<string, any> | undefined): Record<string, string> {
    const raw = providerProps?.defaultTags;
    const parsed = typeof raw === "string" ? JSON.parse(raw) : raw;
    return parsed?.tags ?? {};
}

/** The tags a resource ends up with: its provider's defaults, overridden by its own tags. */
export function effectiveTags(r: GraphResource): Record<string, string> {
    return { ...defaultTagsOf(r.provider?.props), ...(r.props.tags ?? {}) };
}

/**
 * Every taggable AWS resource carries the required tags. `expected` pins a value per key (the synth tests
 * know the stack's values); a key mapped to undefined only has to be present and non-empty.
 */
export function requiredTags(expected: Partial<Record<(typeof REQUIRED_TAG_KEYS)[number], string>> = {}): Invariant {
    return {
        name: "aws-required-tags",
        description: `Every taggable AWS resource carries ${REQUIRED_TAG_KEYS.join(", ")} (through the provider's default tags).`,
        check: (resources) =>
            resources
                .filter((r) => r.type.startsWith("aws:") && isTaggable(r.type))
                .flatMap((r) => {
                    const tags = effectiveTags(r);
                    const wrong = REQUIRED_TAG_KEYS.filter((k) => (expected[k] !== undefined ? tags[k] !== expected[k] : !tags[k]));
                    return wrong.length ? [{ urn: r.urn, message: `${r.type} ${r.name}: tag ${wrong.map((k) => `${k}=${JSON.stringify(tags[k])}`).join(", ")} wrong or missing` }] : [];
                }),
    };
}

export const ownProvider: Invariant = {
    name: "aws-explicit-provider",
    description: "Every AWS resource goes through the stack's one explicit provider (pinned account, default tags), never a default provider.",
    check: (resources) => {
        const aws = resources.filter((r) => r.type.startsWith("aws:"));
        const providers = new Set(aws.map((r) => r.provider?.urn ?? "(none)"));
        const findings: Finding[] = [];
        for (const r of aws) {
            const urn = r.provider?.urn;
            if (!urn || /::default(_[\w.-]+)?$/.test(urn)) findings.push({ urn: r.urn, message: `${r.type} ${r.name} uses the default provider` });
        }
        if (providers.size > 1) findings.push({ urn: aws[0].urn, message: `AWS resources use ${providers.size} providers: ${[...providers].join(", ")}` });
        return findings;
    },
};

/** The invariants the policy pack enforces (tags by key; the synth tests also pin the values). */
export const INVARIANTS: readonly Invariant[] = [
    bucketEncrypted,
    bucketPublicAccessBlocked,
    bucketTlsOnly,
    bucketOwnerEnforced,
    noDataPlaneAllowOnStar,
    rolePermissionsBoundary,
    logRetention,
    requiredTags(),
    ownProvider,
];

/** A synth graph (scripts/synth.ts) as GraphResources: props are the inputs, the provider resolved by URN. */
export function fromSynthGraph(graph: { resources: ReadonlyArray<{ urn: string; type: string; name: string; provider: string; inputs: Record<string, any> }> }): GraphResource[] {
    const byUrn = new Map(graph.resources.map((r) => [r.urn, r]));
    return graph.resources.map((r) => {
        // A provider reference is `<urn>::<id>`.
        const providerUrn = r.provider ? r.provider.slice(0, r.provider.lastIndexOf("::")) : "";
        const provider = providerUrn ? byUrn.get(providerUrn) : undefined;
        return { urn: r.urn, type: r.type, name: r.name, props: r.inputs, provider: providerUrn ? { urn: providerUrn, props: provider?.inputs ?? {} } : undefined };
    });
}
