/**
 * Configuration of the bootstrap project (bootstrap/Pulumi.<stack>.yaml): what must exist in each AWS account
 * and in Pulumi Cloud before the first `pulumi up` of a workload stack.
 *
 * A bootstrap stack is one of two kinds:
 * - `workload` (one per workload stack, run in that stack's account): the Pulumi OIDC provider, the deploy
 *   and preview roles, the workload boundary, the GlueTestRole; in Pulumi Cloud the stack's ESC
 *   environments, its Deployments settings and the CI team's access.
 * - `pipeline` (run in the pipeline account): the Pulumi OIDC provider, the CI role; in Pulumi Cloud the CI
 *   team, its ESC environment and GitHub Actions as an OIDC issuer.
 *
 * Whatever the workload stack file already says (account, region, stage, tags, boundary, data
 * destruction, ESC imports) is read from that file, never repeated here, so the two cannot disagree.
 */
import { ConfigError, parseStackConfig, PROJECT, RawConfig, StackConfig } from "./config";

export const BOOTSTRAP_PROJECT = `${PROJECT}-bootstrap`;

export type BootstrapKind = "workload" | "pipeline";

interface CommonBootstrap {
    readonly stackName: string;
    readonly organization: string;
    /** GitHub repository `owner/name` of this code. */
    readonly githubRepository: string;
    /** Pulumi team the pull-request workflow runs as. */
    readonly ciTeam: string;
    /** Adopt an existing `api.pulumi.com/oidc` provider of the account instead of creating one. */
    readonly oidcProviderArn?: string;
}

export interface WorkloadBootstrapConfig extends CommonBootstrap {
    readonly kind: "workload";
    /** The workload stack's own configuration, parsed from Pulumi.<stack>.yaml. */
    readonly workload: StackConfig;
    /** ESC environments the workload stack file imports. */
    readonly workloadEnvironments: readonly string[];
    /** Branch whose pushes deploy the workload stack. */
    readonly deployBranch: string;
    /** Account of the CI role that may assume the GlueTestRole. */
    readonly pipelineAccountId: string;
    /** Whether to create the GlueTestRole in this account. */
    readonly testRole: boolean;
    /** Base names of the Glue jobs integration tests may run. */
    readonly testedJobs?: readonly string[];
    /** Pipeline-account roles that may also assume the deploy role (self-hosted agents). */
    readonly trustedDeployerArns: readonly string[];
}

export interface PipelineWorkloadRef {
    readonly stack: string;
    readonly accountId: string;
    readonly region: string;
    readonly stage: string;
}

export interface PipelineBootstrapConfig extends CommonBootstrap {
    readonly kind: "pipeline";
    readonly accountId: string;
    readonly region: string;
    readonly tags: Readonly<Record<string, string>>;
    /** The workload stacks whose GlueTestRoles the CI may assume (read from their stack files). */
    readonly workloads: readonly PipelineWorkloadRef[];
    readonly registerGithubIssuer: boolean;
}

export type BootstrapConfig = WorkloadBootstrapConfig | PipelineBootstrapConfig;

/** Reads a repository file by path relative to the root; throws when it does not exist. */
export type RepoFileReader = (relativePath: string) => string;
/** Parses YAML text (js-yaml's load), injected so this module stays free of file and parser concerns. */
export type YamlParser = (text: string) => unknown;

const ACCOUNT_ID = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const REPOSITORY = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;
const BRANCH = /^[A-Za-z0-9._-][A-Za-z0-9._/-]*$/;
const NAME = /^[A-Za-z0-9_.-]+$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;

const key = (k: string) => `${BOOTSTRAP_PROJECT}:${k}`;

function value(raw: RawConfig, k: string): string | undefined {
    const v = raw[key(k)];
    return v === undefined || v === "" ? undefined : v;
}

function required(raw: RawConfig, k: string, pattern: RegExp, expected: string): string {
    const v = value(raw, k);
    if (v === undefined) throw new ConfigError(key(k), `missing; expected ${expected}`);
    if (!pattern.test(v)) throw new ConfigError(key(k), `"${v}" is not ${expected}`);
    return v;
}

function optional(raw: RawConfig, k: string, pattern: RegExp, expected: string): string | undefined {
    const v = value(raw, k);
    if (v !== undefined && !pattern.test(v)) throw new ConfigError(key(k), `"${v}" is not ${expected}`);
    return v;
}

function list(raw: RawConfig, k: string, pattern: RegExp, expected: string): string[] {
    const v = value(raw, k);
    if (v === undefined) return [];
    let parsed: unknown;
    try {
        parsed = JSON.parse(v);
    } catch {
        throw new ConfigError(key(k), `expected a list of ${expected}`);
    }
    if (!Array.isArray(parsed)) throw new ConfigError(key(k), `expected a list of ${expected}`);
    return parsed.map((item, i) => {
        if (typeof item !== "string" || !pattern.test(item)) throw new ConfigError(`${key(k)}[${i}]`, `${JSON.stringify(item)} is not ${expected}`);
        return item;
    });
}

function bool(raw: RawConfig, k: string, fallback: boolean): boolean {
    const v = value(raw, k);
    if (v === undefined) return fallback;
    if (v === "true" || v === "false") return v === "true";
    throw new ConfigError(key(k), `"${v}" is not true or false`);
}

/** Flattens a stack file's `config:` into Pulumi's raw form (`ns:key` → string; objects JSON-encoded). */
export function flattenStackFile(project: string, file: string, config: Record<string, unknown>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(config ?? {})) {
        const qualified = k.includes(":") ? k : `${project}:${k}`;
        if (v !== null && typeof v === "object" && "secure" in (v as object)) {
            throw new Error(`${file}: ${qualified} is a secret; the bootstrap reads the workload stack file in plain text`);
        }
        out[qualified] = typeof v === "string" ? v : JSON.stringify(v);
    }
    return out;
}

/** The workload stack `stack` as its stack file declares it: parsed config and ESC imports. */
export function readWorkloadStackFile(stack: string, read: RepoFileReader, parseYaml: YamlParser): { config: StackConfig; environments: string[] } {
    const file = `Pulumi.${stack}.yaml`;
    const doc = (parseYaml(read(file)) ?? {}) as { config?: Record<string, unknown>; environment?: unknown };
    const config = parseStackConfig(stack, flattenStackFile(PROJECT, file, doc.config ?? {}));
    const environments = doc.environment === undefined ? [] : doc.environment;
    if (!Array.isArray(environments) || environments.some((e) => typeof e !== "string")) {
        throw new Error(`${file}: environment must be a list of ESC environment names`);
    }
    return { config, environments: environments as string[] };
}

/** Whether the workload bootstrap stack of the same name exists and turns the GlueTestRole off. */
function bootstrapCreatesNoTestRole(stack: string, read: RepoFileReader, parseYaml: YamlParser): boolean {
    let text: string;
    try {
        text = read(`bootstrap/Pulumi.${stack}.yaml`);
    } catch {
        return false; // no bootstrap stack file of that name in the repository: nothing to contradict
    }
    const doc = (parseYaml(text) ?? {}) as { config?: Record<string, unknown> };
    const testRole = doc.config?.[key("testRole")];
    return testRole === false || testRole === "false";
}

/**
 * Parses bootstrap stack `stackName`. `organization` is the Pulumi organization the bootstrap runs in; the
 * workload stacks, their ESC environments and the CI team live there too.
 */
export function parseBootstrapConfig(
    stackName: string,
    organization: string,
    raw: RawConfig,
    read: RepoFileReader,
    parseYaml: YamlParser,
): BootstrapConfig {
    const kind = required(raw, "kind", /^(workload|pipeline)$/, "workload or pipeline") as BootstrapKind;
    const common: CommonBootstrap = {
        stackName,
        organization,
        githubRepository: required(raw, "githubRepository", REPOSITORY, "a GitHub repository owner/name"),
        ciTeam: optional(raw, "ciTeam", NAME, "a Pulumi team name") ?? `${PROJECT}-ci`,
        oidcProviderArn: optional(raw, "oidcProviderArn", /^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/api\.pulumi\.com\/oidc$/, "the ARN of an api.pulumi.com/oidc provider"),
    };

    if (kind === "pipeline") {
        const accountId = required(raw, "accountId", ACCOUNT_ID, "a 12-digit AWS account id");
        const region = raw["aws:region"];
        if (!region || !REGION.test(region)) throw new ConfigError("aws:region", `${JSON.stringify(region)} is not an AWS region such as eu-west-1`);
        const stacks = list(raw, "workloadStacks", NAME, "a workload stack name");
        if (stacks.length === 0) throw new ConfigError(key("workloadStacks"), "missing; expected the workload stacks whose tests the CI runs, e.g. [dev, prod]");
        const workloads = stacks.map((stack) => {
            const { config } = readWorkloadStackFile(stack, read, parseYaml);
            if (config.accountId === accountId) {
                throw new ConfigError(key("accountId"), `the pipeline account ${accountId} is also the account of workload stack ${stack}; they must differ`);
            }
            if (bootstrapCreatesNoTestRole(stack, read, parseYaml)) {
                throw new ConfigError(
                    key("workloadStacks"),
                    `lists ${stack}, whose bootstrap (bootstrap/Pulumi.${stack}.yaml) sets testRole: false: there is no GlueTestRole ` +
                        `there for the CI role to assume. Remove ${stack} from workloadStacks (pull requests reach the CI role, and IAM ` +
                        `cannot limit a job run's arguments, so a stack with data that matters must have no GlueTestRole)`,
                );
            }
            return { stack, accountId: config.accountId, region: config.region, stage: config.stage };
        });
        let tags: Record<string, string> = {};
        const rawTags = value(raw, "tags");
        if (rawTags !== undefined) {
            const parsed = JSON.parse(rawTags);
            if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed) || Object.values(parsed).some((v) => typeof v !== "string")) {
                throw new ConfigError(key("tags"), "expected a mapping of tag names to strings");
            }
            tags = parsed;
        }
        return { ...common, kind, accountId, region, tags, workloads, registerGithubIssuer: bool(raw, "registerGithubIssuer", true) };
    }

    const workloadStack = optional(raw, "workloadStack", NAME, "a workload stack name") ?? stackName;
    const { config: workload, environments } = readWorkloadStackFile(workloadStack, read, parseYaml);
    if (workload.promotion) {
        const sourceOrg = workload.promotion.fromStack.split("/")[0];
        if (sourceOrg !== organization) {
            throw new Error(
                `Pulumi.${workloadStack}.yaml: promotion.fromStack ${workload.promotion.fromStack} is in organization ${sourceOrg}, ` +
                    `but this bootstrap runs in ${organization}; set it to ${organization}/${PROJECT}/<stack>`,
            );
        }
    }
    const pipelineAccountId = required(raw, "pipelineAccountId", ACCOUNT_ID, "the 12-digit id of the pipeline account");
    if (pipelineAccountId === workload.accountId) {
        throw new ConfigError(key("pipelineAccountId"), `${pipelineAccountId} is the workload account itself; the pipeline account must be another one`);
    }
    const testedJobs = list(raw, "testedJobs", NAME, "a Glue job base name");
    return {
        ...common,
        kind,
        workload,
        workloadEnvironments: environments,
        deployBranch: required(raw, "deployBranch", BRANCH, "a branch name such as main"),
        pipelineAccountId,
        testRole: bool(raw, "testRole", true),
        testedJobs: testedJobs.length > 0 ? testedJobs : undefined,
        trustedDeployerArns: list(raw, "trustedDeployerArns", ROLE_ARN, "an IAM role ARN of the pipeline account"),
    };
}
