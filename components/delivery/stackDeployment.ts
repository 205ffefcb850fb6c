/**
 * Pulumi Cloud side of one workload stack: its ESC environments (deploy and preview credentials), its
 * Pulumi Deployments settings (which branch deploys it, which paths count, which role it runs as) and
 * what the CI team may do with it (read the stack, open the preview environment only).
 *
 * Promotion model: dev deploys on every push to `main`; prod deploys on every push to `release`, a
 * branch GitHub protects so that nothing reaches it except a pull request approved by a reviewer (see
 * deploy/github/release-ruleset.json and docs/deploy.md). The approval is therefore the pull-request
 * review, recorded in GitHub, and the prod preview of that pull request is what the reviewer approves.
 */
import * as pulumi from "@pulumi/pulumi";
import * as pulumiservice from "@pulumi/pulumiservice";
import { ESC_SUBJECT_ATTRIBUTES } from "./pulumiOidcProvider";

/**
 * Paths whose changes deploy a workload stack: the program, its runtime code, its dependencies and its own
 * stack file. Documentation, tests, scripts, samples, CI files, the bootstrap and the other stack's file
 * do not. Excludes win over includes (Pulumi's path-filter rule), so `glue/tests/**` stays out even though
 * `glue/**` is in.
 */
export function workloadPathFilters(stack: string): string[] {
    if (!/^[A-Za-z0-9_.-]+$/.test(stack)) throw new Error(`workloadPathFilters: invalid stack name ${JSON.stringify(stack)}`);
    return [
        "index.ts",
        "Pulumi.yaml",
        `Pulumi.${stack}.yaml`,
        "package.json",
        "package-lock.json",
        "tsconfig.json",
        "components/**",
        "stacks/**",
        "functions/**",
        "glue/**",
        "!glue/tests/**",
        "!**/*.md",
    ];
}

/** A glob of Pulumi's path filters as a RegExp over the whole path: `**` spans directories, `*` and `?` do not. */
export function pathGlobToRegExp(glob: string): RegExp {
    let out = "";
    for (let i = 0; i < glob.length; i++) {
        const c = glob[i];
        if (c === "*" && glob[i + 1] === "*") {
            // `**/` matches zero or more whole directories; a trailing `**` matches the rest.
            if (glob[i + 2] === "/") {
                out += "(?:.*/)?";
                i += 2;
            } else {
                out += ".*";
                i += 1;
            }
        } else if (c === "*") out += "[^/]*";
        else if (c === "?") out += "[^/]";
        else out += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
    }
    return new RegExp(`^${out}$`);
}

/** Whether one changed file counts under the filters (Pulumi's rules: any include, no exclude). */
export function matchesPathFilters(filters: readonly string[], file: string): boolean {
    const includes = filters.filter((f) => !f.startsWith("!")).map(pathGlobToRegExp);
    const excludes = filters.filter((f) => f.startsWith("!")).map((f) => pathGlobToRegExp(f.slice(1)));
    if (excludes.some((re) => re.test(file))) return false;
    return includes.length === 0 || includes.some((re) => re.test(file));
}

/** Whether a push changing `files` triggers a deployment: at least one file counts. */
export function triggersDeployment(filters: readonly string[], files: readonly string[]): boolean {
    return files.some((f) => matchesPathFilters(filters, f));
}

export interface ExpectedEscLogin {
    /** Where the environment comes from, for messages (e.g. deploy/esc/dev.yaml). */
    readonly source: string;
    readonly roleArn: string;
}

/**
 * Checks an ESC environment definition (parsed YAML) before it is uploaded: it must log in with
 * `fn::open::aws-login` OIDC to exactly `expected.roleArn`, declare {@link ESC_SUBJECT_ATTRIBUTES} (the trust
 * policies name that subject), export the three AWS_* variables, and hold no static credentials.
 */
export function checkEscAwsLogin(definition: unknown, expected: ExpectedEscLogin): void {
    const fail = (problem: string): never => {
        throw new Error(`${expected.source}: ${problem}`);
    };
    const values = (definition as any)?.values;
    const login = values?.aws?.login?.["fn::open::aws-login"];
    if (!login) fail("no values.aws.login with fn::open::aws-login");
    if (login.static !== undefined) fail("static credentials are not allowed; use oidc");
    const oidc = login.oidc;
    if (!oidc) fail("fn::open::aws-login has no oidc block");
    if (oidc.roleArn !== expected.roleArn) fail(`logs in to ${JSON.stringify(oidc.roleArn)}, but the bootstrap created ${expected.roleArn}`);
    const attributes = oidc.subjectAttributes;
    if (!Array.isArray(attributes) || attributes.join(",") !== ESC_SUBJECT_ATTRIBUTES.join(",")) {
        fail(`oidc.subjectAttributes must be [${ESC_SUBJECT_ATTRIBUTES.join(", ")}] (the role's trust policy names that subject), got ${JSON.stringify(attributes)}`);
    }
    const vars = values?.environmentVariables ?? {};
    const wanted: Record<string, string> = {
        AWS_ACCESS_KEY_ID: "${aws.login.accessKeyId}",
        AWS_SECRET_ACCESS_KEY: "${aws.login.secretAccessKey}",
        AWS_SESSION_TOKEN: "${aws.login.sessionToken}",
    };
    for (const [k, v] of Object.entries(wanted)) if (vars[k] !== v) fail(`environmentVariables.${k} must be ${v}`);
}

export interface EscEnvironmentSource {
    /** Environment name inside the project (e.g. `dev`, `dev-preview`). */
    readonly name: string;
    /** The YAML definition, as checked in under deploy/esc/. */
    readonly yaml: string;
}

export interface StackDeploymentArgs {
    readonly organization: string;
    readonly project: string;
    readonly stack: string;
    /** GitHub repository `owner/name` (the Pulumi GitHub app must be installed on it). */
    readonly repository: string;
    /** Branch whose pushes deploy the stack (`main` for dev, `release` for prod). */
    readonly branch: string;
    /** Role Pulumi Deployments assumes with its own OIDC token (the stack's deploy role). */
    readonly deployRoleArn: string;
    /** ESC environments to create in the project, checked beforehand by the caller. */
    readonly environments: readonly EscEnvironmentSource[];
    /** Environment the CI team may open for previews. @default `<stack>-preview` */
    readonly previewEnvironment?: string;
    /** Pulumi team of the pull-request workflow; gets read on the stack and open on the preview environment. */
    readonly ciTeam?: string;
    /** @default {@link workloadPathFilters} of the stack */
    readonly paths?: readonly string[];
    /** @default `npm ci`, then the type check */
    readonly preRunCommands?: readonly string[];
    /**
     * Directory of the policy pack every deployment must pass, run after the pre-run commands by
     * {@link policyCheckCommand}; null runs none. @default {@link POLICY_PACK_DIR}
     */
    readonly policyPack?: string | null;
}

export const DEFAULT_PRE_RUN_COMMANDS: readonly string[] = ["npm ci --no-audit --no-fund", "npm run build"];

/** The repository's policy pack (policy/PulumiPolicy.yaml): the graph invariants, all mandatory. */
export const POLICY_PACK_DIR = "policy";

/**
 * The command that holds a Pulumi Deployments update to the policy pack. Deployments runs `pulumi up` itself
 * and takes no extra CLI flags (operationContext.options are only shell, deleteAfterDestroy,
 * skipInstallDependencies, skipIntermediateDeployments), and server-side enforcement (a published pack in a
 * policy group) needs a paid Pulumi Cloud edition and a publish step per change. So the pack runs as the
 * last pre-run command: a preview of the same commit, with the same credentials and stack configuration,
 * `--policy-pack <dir>`; a mandatory violation fails the command and the update never starts.
 */
export function policyCheckCommand(organization: string, project: string, stack: string, dir: string = POLICY_PACK_DIR): string {
    for (const [field, value] of Object.entries({ organization, project, stack })) {
        if (!/^[A-Za-z0-9_.-]+$/.test(value)) throw new Error(`policyCheckCommand: invalid ${field} ${JSON.stringify(value)}`);
    }
    // A relative path inside the checkout: the command runs in Deployments' shell.
    if (!/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(dir) || dir.split("/").includes("..")) {
        throw new Error(`policyCheckCommand: policy pack directory must be a relative path inside the repository, got ${JSON.stringify(dir)}`);
    }
    return `pulumi preview --stack ${organization}/${project}/${stack} --policy-pack ${dir} --non-interactive`;
}

export class StackDeployment extends pulumi.ComponentResource {
    public readonly environments: pulumiservice.Environment[];
    public readonly settings: pulumiservice.DeploymentSettings;
    public readonly ciStackPermission?: pulumiservice.TeamStackPermission;
    public readonly ciPreviewPermission?: pulumiservice.TeamEnvironmentPermission;
    public readonly paths: readonly string[];

    constructor(name: string, args: StackDeploymentArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("glue-pipeline:delivery:StackDeployment", name, {}, opts);
        if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(args.repository)) {
            throw new Error(`StackDeployment ${name}: repository must be owner/name, got ${JSON.stringify(args.repository)}`);
        }
        if (!/^[A-Za-z0-9._/-]+$/.test(args.branch) || args.branch.startsWith("refs/")) {
            throw new Error(`StackDeployment ${name}: branch must be a branch name such as main, got ${JSON.stringify(args.branch)}`);
        }
        const previewEnvironment = args.previewEnvironment ?? `${args.stack}-preview`;
        const names = args.environments.map((e) => e.name);
        if (args.ciTeam !== undefined && !names.includes(previewEnvironment)) {
            throw new Error(`StackDeployment ${name}: ciTeam is given but the preview environment ${previewEnvironment} is not among environments (${names.join(", ")})`);
        }
        this.paths = [...(args.paths ?? workloadPathFilters(args.stack))];
        const policyPack = args.policyPack === undefined ? POLICY_PACK_DIR : args.policyPack;
        const preRunCommands = [
            ...(args.preRunCommands ?? DEFAULT_PRE_RUN_COMMANDS),
            ...(policyPack === null ? [] : [policyCheckCommand(args.organization, args.project, args.stack, policyPack)]),
        ];

        this.environments = args.environments.map(
            (env) =>
                new pulumiservice.Environment(
                    `${name}-env-${env.name}`,
                    { organization: args.organization, project: args.project, name: env.name, yaml: new pulumi.asset.StringAsset(env.yaml) },
                    { parent: this },
                ),
        );

        this.settings = new pulumiservice.DeploymentSettings(
            `${name}-settings`,
            {
                organization: args.organization,
                project: args.project,
                stack: args.stack,
                sourceContext: { git: { branch: `refs/heads/${args.branch}`, repoDir: "." } },
                vcs: {
                    provider: "github",
                    repository: args.repository,
                    deployCommits: true,
                    // Pull-request previews run in GitHub Actions, with read-only credentials.
                    previewPullRequests: false,
                    pullRequestTemplate: false,
                    paths: [...this.paths],
                },
                operationContext: {
                    oidc: { aws: { roleARN: args.deployRoleArn, sessionName: `pulumi-deployments-${args.stack}`, duration: "1h0m0s" } },
                    options: { skipInstallDependencies: true, skipIntermediateDeployments: true },
                    preRunCommands,
                },
                cacheOptions: { enable: true },
            },
            // The settings name the environments the stack file imports; create those first.
            { parent: this, dependsOn: this.environments },
        );

        if (args.ciTeam !== undefined) {
            this.ciStackPermission = new pulumiservice.TeamStackPermission(
                `${name}-ci-stack`,
                { organization: args.organization, project: args.project, stack: args.stack, team: args.ciTeam, permission: pulumiservice.TeamStackPermissionScope.Read },
                { parent: this },
            );
            this.ciPreviewPermission = new pulumiservice.TeamEnvironmentPermission(
                `${name}-ci-preview-env`,
                {
                    organization: args.organization,
                    project: args.project,
                    environment: previewEnvironment,
                    team: args.ciTeam,
                    permission: pulumiservice.EnvironmentPermission.Open,
                    maxOpenDuration: "1h",
                },
                { parent: this, dependsOn: this.environments },
            );
        }
        this.registerOutputs({ paths: this.paths });
    }
}
