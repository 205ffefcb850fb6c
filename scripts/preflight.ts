/**
 * Preflight: checks, with the caller's AWS credentials, that `pulumi up` of a stack can succeed in the
 * account it targets, before anything is created.
 *
 *   npm run preflight -- --stack dev [--stack-file FILE] [--min-unreserved N]
 *
 * What the stack will create is not re-derived here: the stack's program is evaluated offline (the same
 * synth as `npm run synth`, which reads Pulumi.<stack>.yaml through stacks/config.ts and so refuses the
 * same configuration errors `pulumi up` would), and the plan is read from its resource graph: bucket
 * names, the functions that reserve concurrency and how much, the secrets, the Glue versions. Then:
 *
 * - account: STS GetCallerIdentity is the account in `accountId` (the provider refuses any other);
 * - Lambda concurrency: GetAccountSettings' unreserved concurrency, plus what this stack's functions already
 *   reserve (GetFunctionConcurrency, a re-deploy), minus what the stack will reserve, must leave Lambda's
 *   minimum unreserved: 100 ("You can reserve up to the Unreserved account concurrency value that is
 *   shown, minus 100", AWS Lambda developer guide, configuring reserved concurrency). New accounts with a
 *   quota of 10 can therefore reserve nothing;
 * - Glue version: Glue has no API that lists versions, so a table of the versions AWS's release notes list
 *   (KNOWN_GLUE_VERSIONS) is the reference, and GetJobs proves Glue answers in the region; a version
 *   not offered in one region is only refused by CreateJob at `pulumi up`;
 * - buckets: HeadBucket with ExpectedBucketOwner: 404 free, 200 already ours, 403 another account's;
 * - account-level S3 public access block (s3control GetPublicAccessBlock): a warning when not all four
 *   settings are on (every bucket of the stack sets its own block; the account's is defence in depth);
 * - secrets (DescribeSecret): a name scheduled for deletion cannot be created again until the recovery
 *   window ends; one that exists without this stack's tags belongs to something else.
 *
 * Each check prints one line, PASS / WARN / FAIL; the exit code is 1 when any check failed.
 */
import * as fs from "fs";
import * as path from "path";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { GetAccountSettingsCommand, GetFunctionConcurrencyCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { GetJobsCommand, GlueClient } from "@aws-sdk/client-glue";
import { HeadBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { GetPublicAccessBlockCommand, S3ControlClient } from "@aws-sdk/client-s3-control";
import { DescribeSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { walkFlags } from "./cliArgs";

/** Lambda keeps this much of the account's concurrency for functions without a reservation. */
export const LAMBDA_MIN_UNRESERVED = 100;

/**
 * Glue versions AWS's release notes list for Spark jobs (docs.aws.amazon.com/glue/latest/dg/release-notes.html),
 * with their Spark. 0.9, 1.0 and 2.0 are past end of support and refused for new jobs.
 */
export const KNOWN_GLUE_VERSIONS: Readonly<Record<string, { readonly spark: string; readonly endOfSupport?: string }>> = {
    "0.9": { spark: "2.2.1", endOfSupport: "2022-06-01" },
    "1.0": { spark: "2.4.3", endOfSupport: "2022-09-30" },
    "2.0": { spark: "2.4.3", endOfSupport: "2024-01-31" },
    "3.0": { spark: "3.1.1" },
    "4.0": { spark: "3.3.0" },
    "5.0": { spark: "3.5.4" },
    "5.1": { spark: "3.5.6" },
};

export type CheckStatus = "PASS" | "WARN" | "FAIL";

export interface CheckResult {
    readonly check: string;
    readonly status: CheckStatus;
    readonly detail: string;
}

/** What `pulumi up` of the stack will create that an account can refuse. */
export interface PreflightPlan {
    readonly stack: string;
    readonly accountId: string;
    readonly region: string;
    /** Environment and Project tags every resource carries (the provider's default tags). */
    readonly tags: Readonly<Record<string, string>>;
    readonly buckets: readonly string[];
    /** Functions with reserved concurrency and how much each reserves. */
    readonly reservations: ReadonlyArray<{ readonly functionName: string; readonly reserved: number }>;
    readonly secrets: readonly string[];
    readonly glueVersions: readonly string[];
}

/** The part of the offline synth's result a plan is read from. */
export interface SynthGraph {
    readonly stack: string;
    readonly resources: ReadonlyArray<{ readonly type: string; readonly inputs: Record<string, any> }>;
    readonly outputs: Record<string, unknown>;
}

/** Reads the plan from the stack's resource graph, as the program would create it. */
export function planFromGraph(graph: SynthGraph): PreflightPlan {
    const of = (type: string) => graph.resources.filter((r) => r.type === type);
    const provider = of("pulumi:providers:aws")[0];
    if (!provider) throw new Error(`stack ${graph.stack}: the program created no AWS provider`);
    const parse = (v: unknown) => (typeof v === "string" ? JSON.parse(v) : v);
    const accountIds: string[] = parse(provider.inputs.allowedAccountIds) ?? [];
    if (accountIds.length !== 1) throw new Error(`stack ${graph.stack}: the provider allows ${accountIds.length} accounts; expected exactly one`);
    const tags: Record<string, string> = parse(provider.inputs.defaultTags)?.tags ?? {};
    const unique = (values: string[]) => [...new Set(values)].sort();
    return {
        stack: graph.stack,
        accountId: accountIds[0],
        region: provider.inputs.region,
        tags,
        buckets: unique(of("aws:s3/bucket:Bucket").map((r) => r.inputs.bucket)),
        reservations: of("aws:lambda/function:Function")
            .filter((r) => typeof r.inputs.reservedConcurrentExecutions === "number" && r.inputs.reservedConcurrentExecutions >= 0)
            .map((r) => ({ functionName: r.inputs.name as string, reserved: r.inputs.reservedConcurrentExecutions as number }))
            .sort((a, b) => a.functionName.localeCompare(b.functionName)),
        secrets: unique(of("aws:secretsmanager/secret:Secret").map((r) => r.inputs.name)),
        glueVersions: unique(of("aws:glue/job:Job").map((r) => r.inputs.glueVersion ?? "")),
    };
}

// ---- pure judgements: what each answer from AWS means ----

export function judgeAccount(callerAccount: string | undefined, callerArn: string | undefined, expected: string): CheckResult {
    if (callerAccount === expected) return { check: "account", status: "PASS", detail: `credentials are for account ${expected} (${callerArn})` };
    return {
        check: "account",
        status: "FAIL",
        detail: `credentials are for account ${callerAccount} (${callerArn}), the stack's accountId is ${expected}: switch credentials or fix accountId`,
    };
}

export interface ConcurrencyFacts {
    /** GetAccountSettings: AccountLimit.ConcurrentExecutions. */
    readonly accountLimit: number;
    /** GetAccountSettings: AccountLimit.UnreservedConcurrentExecutions (already net of every reservation). */
    readonly unreserved: number;
    /** What this stack's functions reserve now (0 for a function not deployed yet). */
    readonly currentByFunction: Readonly<Record<string, number>>;
}

export function judgeConcurrency(plan: PreflightPlan, facts: ConcurrencyFacts, minUnreserved = LAMBDA_MIN_UNRESERVED): CheckResult {
    const wanted = plan.reservations.reduce((sum, r) => sum + r.reserved, 0);
    const list = plan.reservations.map((r) => `${r.functionName}=${r.reserved}`).join(", ");
    if (wanted === 0) {
        return { check: "lambda concurrency", status: "PASS", detail: `the stack reserves nothing (account limit ${facts.accountLimit})` };
    }
    const ours = plan.reservations.reduce((sum, r) => sum + (facts.currentByFunction[r.functionName] ?? 0), 0);
    const after = facts.unreserved + ours - wanted;
    const summary = `account limit ${facts.accountLimit}, unreserved ${facts.unreserved}; the stack reserves ${wanted} (${list})`;
    if (after >= minUnreserved) {
        return { check: "lambda concurrency", status: "PASS", detail: `${summary}; ${after} stay unreserved (minimum ${minUnreserved})` };
    }
    return {
        check: "lambda concurrency",
        status: "FAIL",
        detail:
            `${summary}; that leaves ${after} unreserved, below Lambda's minimum of ${minUnreserved}: Lambda refuses the reservations at deploy. ` +
            `Ask for a higher concurrency quota (Service Quotas, "Concurrent executions") or configure no reservation`,
    };
}

export function judgeGlueVersion(version: string, region: string, glueAnswers: boolean, glueError?: string): CheckResult {
    const known = KNOWN_GLUE_VERSIONS[version];
    const versions = Object.keys(KNOWN_GLUE_VERSIONS).filter((v) => !KNOWN_GLUE_VERSIONS[v].endOfSupport).join(", ");
    if (!known) return { check: `glue version ${version}`, status: "FAIL", detail: `not a Glue version AWS lists; supported: ${versions}` };
    if (known.endOfSupport) {
        return { check: `glue version ${version}`, status: "FAIL", detail: `end of support since ${known.endOfSupport}; new jobs are refused. Supported: ${versions}` };
    }
    if (!glueAnswers) return { check: `glue version ${version}`, status: "FAIL", detail: `Glue does not answer in ${region}: ${glueError}` };
    return { check: `glue version ${version}`, status: "PASS", detail: `Spark ${known.spark}; Glue answers in ${region} (regional availability of a version is only checked by CreateJob)` };
}

/** The outcome of HeadBucket with ExpectedBucketOwner = the stack's account. */
export type BucketProbe = { readonly status: 200 | 301 | 403 | 404 } | { readonly status: "error"; readonly message: string };

export function judgeBucket(bucket: string, probe: BucketProbe, accountId: string): CheckResult {
    const check = `bucket ${bucket}`;
    switch (probe.status) {
        case 404:
            return { check, status: "PASS", detail: "free" };
        case 200:
            return { check, status: "PASS", detail: `exists and belongs to account ${accountId} (a re-deploy of this stack)` };
        case 301:
            return { check, status: "FAIL", detail: "exists in another region; bucket names are global: this name cannot be created here" };
        case 403:
            return {
                check,
                status: "FAIL",
                detail: `exists and is not account ${accountId}'s (or these credentials may not read it): bucket names are global, change the stage`,
            };
        default:
            return { check, status: "FAIL", detail: `could not check: ${probe.message}` };
    }
}

export interface PublicAccessBlockFacts {
    readonly BlockPublicAcls?: boolean;
    readonly IgnorePublicAcls?: boolean;
    readonly BlockPublicPolicy?: boolean;
    readonly RestrictPublicBuckets?: boolean;
}

/** `undefined`: the account has no account-level configuration. */
export function judgePublicAccessBlock(config: PublicAccessBlockFacts | undefined, accountId: string): CheckResult {
    const check = "s3 account public access block";
    const settings = ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"] as const;
    if (!config) {
        return {
            check,
            status: "WARN",
            detail: `account ${accountId} has none; the stack blocks public access on each of its buckets, but turn it on for the account (aws s3control put-public-access-block)`,
        };
    }
    const off = settings.filter((s) => config[s] !== true);
    if (off.length === 0) return { check, status: "PASS", detail: "all four settings on" };
    return { check, status: "WARN", detail: `off: ${off.join(", ")}; the stack's buckets block public access themselves` };
}

export interface SecretFacts {
    readonly DeletedDate?: Date;
    readonly Tags?: ReadonlyArray<{ readonly Key?: string; readonly Value?: string }>;
    /** Version id → staging labels; a secret whose value was never set has no AWSCURRENT version. */
    readonly VersionIdsToStages?: Readonly<Record<string, readonly string[]>>;
}

/** `undefined`: no secret of that name (ResourceNotFoundException). */
export function judgeSecret(name: string, secret: SecretFacts | undefined, tags: Readonly<Record<string, string>>): CheckResult {
    const check = `secret ${name}`;
    if (!secret) return { check, status: "PASS", detail: "free; the stack creates it (set its value after `pulumi up`)" };
    if (secret.DeletedDate) {
        return {
            check,
            status: "FAIL",
            detail: `scheduled for deletion since ${secret.DeletedDate.toISOString()}: the name is taken until the recovery window ends; restore it (aws secretsmanager restore-secret) and import it, or delete it with --force-delete-without-recovery`,
        };
    }
    const has = new Map((secret.Tags ?? []).map((t) => [t.Key, t.Value]));
    const mismatched = ["Project", "Environment"].filter((k) => tags[k] !== undefined && has.get(k) !== tags[k]);
    if (mismatched.length === 0) {
        const hasValue = Object.values(secret.VersionIdsToStages ?? {}).some((stages) => stages.includes("AWSCURRENT"));
        // The stack creates the secret empty; what reads it fails until someone sets the value.
        if (!hasValue) return { check, status: "WARN", detail: "exists with this stack's tags but has no value yet: set it (aws secretsmanager put-secret-value)" };
        return { check, status: "PASS", detail: "exists with this stack's tags and a value (a re-deploy)" };
    }
    return {
        check,
        status: "FAIL",
        detail: `exists without this stack's ${mismatched.join(" and ")} tag: \`pulumi up\` would fail to create it; import it into the stack or remove it`,
    };
}

// ---- the checks against AWS ----

export interface PreflightClients {
    readonly sts: STSClient;
    readonly lambda: LambdaClient;
    readonly glue: GlueClient;
    readonly s3: S3Client;
    readonly s3control: S3ControlClient;
    readonly secrets: SecretsManagerClient;
}

export function defaultClients(region: string): PreflightClients {
    return {
        sts: new STSClient({ region }),
        lambda: new LambdaClient({ region }),
        glue: new GlueClient({ region }),
        // Path style: bucket names are checked as data, whatever characters they hold.
        s3: new S3Client({ region, forcePathStyle: true }),
        s3control: s3ControlClient({ region }, process.env.AWS_ENDPOINT_URL),
        secrets: new SecretsManagerClient({ region }),
    };
}

/**
 * s3control's endpoint rules put the account id in front of the host (`{AccountId}.s3-control...`), also
 * in front of a custom endpoint such as an emulator's `127.0.0.1`, which then is no URL at all. Given a
 * custom endpoint (AWS_ENDPOINT_URL), every request goes to it as it is; against AWS the rules apply.
 */
export function s3ControlClient(config: { region: string; credentials?: { accessKeyId: string; secretAccessKey: string } }, customEndpoint?: string): S3ControlClient {
    return new S3ControlClient(customEndpoint ? { ...config, endpointProvider: () => ({ url: new URL(customEndpoint) }) } : config);
}

/** One line: a check's result is one line of the report, and SDK messages may run over several. */
const errorText = (err: unknown): string => (err instanceof Error ? `${err.name}: ${err.message}` : String(err)).split("\n")[0].trim();
const httpStatus = (err: unknown): number | undefined => (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
const named = (err: unknown, ...names: string[]) => err instanceof Error && names.includes(err.name);

async function concurrencyFacts(plan: PreflightPlan, lambda: LambdaClient): Promise<ConcurrencyFacts> {
    const settings = await lambda.send(new GetAccountSettingsCommand({}));
    const currentByFunction: Record<string, number> = {};
    for (const { functionName } of plan.reservations) {
        try {
            const out = await lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: functionName }));
            currentByFunction[functionName] = out.ReservedConcurrentExecutions ?? 0;
        } catch (err) {
            // Not deployed yet: it reserves nothing today.
            if (!named(err, "ResourceNotFoundException")) throw err;
            currentByFunction[functionName] = 0;
        }
    }
    return {
        accountLimit: settings.AccountLimit?.ConcurrentExecutions ?? 0,
        unreserved: settings.AccountLimit?.UnreservedConcurrentExecutions ?? 0,
        currentByFunction,
    };
}

async function probeBucket(s3: S3Client, bucket: string, accountId: string): Promise<BucketProbe> {
    try {
        await s3.send(new HeadBucketCommand({ Bucket: bucket, ExpectedBucketOwner: accountId }));
        return { status: 200 };
    } catch (err) {
        const status = httpStatus(err);
        if (status === 404 || status === 403 || status === 301) return { status };
        return { status: "error", message: errorText(err) };
    }
}

/** Runs every check; a call that fails unexpectedly becomes that check's FAIL line, never an exception. */
export async function runPreflight(plan: PreflightPlan, clients: PreflightClients, options: { minUnreserved?: number } = {}): Promise<CheckResult[]> {
    const results: CheckResult[] = [];
    const attempt = async (check: string, fn: () => Promise<CheckResult | CheckResult[]>) => {
        try {
            const out = await fn();
            results.push(...(Array.isArray(out) ? out : [out]));
        } catch (err) {
            results.push({ check, status: "FAIL", detail: `could not check: ${errorText(err)}` });
        }
    };

    await attempt("account", async () => {
        const who = await clients.sts.send(new GetCallerIdentityCommand({}));
        return judgeAccount(who.Account, who.Arn, plan.accountId);
    });
    await attempt("lambda concurrency", async () => judgeConcurrency(plan, await concurrencyFacts(plan, clients.lambda), options.minUnreserved));
    await attempt("glue version", async () => {
        let answers = true;
        let error: string | undefined;
        try {
            await clients.glue.send(new GetJobsCommand({ MaxResults: 1 }));
        } catch (err) {
            answers = false;
            error = errorText(err);
        }
        return plan.glueVersions.map((v) => judgeGlueVersion(v, plan.region, answers, error));
    });
    for (const bucket of plan.buckets) {
        await attempt(`bucket ${bucket}`, async () => judgeBucket(bucket, await probeBucket(clients.s3, bucket, plan.accountId), plan.accountId));
    }
    await attempt("s3 account public access block", async () => {
        try {
            const out = await clients.s3control.send(new GetPublicAccessBlockCommand({ AccountId: plan.accountId }));
            return judgePublicAccessBlock(out.PublicAccessBlockConfiguration ?? {}, plan.accountId);
        } catch (err) {
            if (named(err, "NoSuchPublicAccessBlockConfiguration")) return judgePublicAccessBlock(undefined, plan.accountId);
            throw err;
        }
    });
    for (const name of plan.secrets) {
        await attempt(`secret ${name}`, async () => {
            try {
                const out = await clients.secrets.send(new DescribeSecretCommand({ SecretId: name }));
                return judgeSecret(name, out, plan.tags);
            } catch (err) {
                if (named(err, "ResourceNotFoundException")) return judgeSecret(name, undefined, plan.tags);
                throw err;
            }
        });
    }
    return results;
}

export function formatResults(plan: PreflightPlan, results: readonly CheckResult[]): string {
    const failed = results.filter((r) => r.status === "FAIL").length;
    const warned = results.filter((r) => r.status === "WARN").length;
    return [
        `preflight of stack ${plan.stack}: account ${plan.accountId}, region ${plan.region}`,
        ...results.map((r) => `${r.status}  ${r.check}: ${r.detail}`),
        failed > 0
            ? `${failed} check(s) failed${warned ? `, ${warned} warning(s)` : ""}: fix them before \`pulumi up\``
            : `all checks passed${warned ? ` (${warned} warning(s))` : ""}`,
    ].join("\n");
}

export interface PreflightArgs {
    readonly stack: string;
    readonly stackFile?: string;
    readonly minUnreserved?: number;
}

const USAGE = "usage: npm run preflight -- --stack NAME [--stack-file FILE] [--min-unreserved N]";

export function parsePreflightArgs(argv: readonly string[]): PreflightArgs {
    let stack: string | undefined;
    let stackFile: string | undefined;
    let minUnreserved: number | undefined;
    walkFlags(argv, USAGE, (flag, value) => {
        if (flag === "--stack") stack = value();
        else if (flag === "--stack-file") stackFile = path.resolve(value());
        else if (flag === "--min-unreserved") {
            const v = value();
            minUnreserved = Number(v);
            if (!/^\d+$/.test(v)) throw new Error(`--min-unreserved ${v} is not a whole number; ${USAGE}`);
        } else return false;
        return true;
    });
    if (!stack) throw new Error(`--stack is required; ${USAGE}`);
    if (stackFile && !fs.existsSync(stackFile)) throw new Error(`--stack-file ${stackFile} does not exist`);
    return { stack, stackFile, minUnreserved };
}

if (require.main === module) {
    (async () => {
        const args = parsePreflightArgs(process.argv.slice(2));
        // The synth installs Pulumi mocks process-wide: loaded only here, never by the tests of this module.
        // require(), not import(): under `module: node16` import() stays Node's ESM loader, which cannot load .ts.
        const { synth, programErrorMessage } = require("./synth") as typeof import("./synth");
        const graph = await synth({ stack: args.stack, stackFile: args.stackFile }).catch((err) => {
            throw new Error(`the stack's program refused its configuration: ${programErrorMessage(err)}`);
        });
        const plan = planFromGraph(graph);
        const results = await runPreflight(plan, defaultClients(plan.region), { minUnreserved: args.minUnreserved });
        console.log(formatResults(plan, results));
        process.exit(results.some((r) => r.status === "FAIL") ? 1 : 0);
    })().catch((err) => {
        console.error(`preflight failed: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
    });
}
