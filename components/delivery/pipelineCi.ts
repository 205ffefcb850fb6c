/**
 * The pipeline account's part ("CI/CD pipelines and deployment orchestration"): the identity
 * continuous integration runs as, without any stored secret.
 *
 * GitHub Actions → (GitHub OIDC token, exchanged by Pulumi Cloud for a short-lived token of the CI team)
 * → opens ESC environments the CI team may open → the environment `<project>/ci` logs in with Pulumi's OIDC
 * to the CI role of this account → the CI role may only assume the GlueTestRole of each workload account.
 * Deployments never go through here: Pulumi Deployments assume each account's deploy role directly.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as pulumiservice from "@pulumi/pulumiservice";
import { BOOTSTRAP_IAM_PATH, bootstrapRoleArn, partitionOf } from "./deployRoles";
import { PolicyDocument, policyDocument } from "../iam/iamPolicies";
import { escTrust, pulumiOidcTrustStatement, requireOrganization } from "./pulumiOidcProvider";

export const ciRoleName = (project: string): string => `${project}-ci`;

/** GitHub Actions' OIDC issuer, registered in Pulumi Cloud so workflows get Pulumi tokens without secrets. */
export const GITHUB_ACTIONS_ISSUER_URL = "https://token.actions.githubusercontent.com";

/** Permissions of the CI role: assume the listed GlueTestRoles, nothing else. */
export function ciRolePolicy(testRoleArns: readonly string[]): PolicyDocument {
    const arns = [...new Set(testRoleArns)];
    const bad = arns.filter((a) => !/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(a) || a.includes("*"));
    if (arns.length === 0 || bad.length > 0) throw new Error(`ciRolePolicy: expected GlueTestRole ARNs, got ${JSON.stringify(testRoleArns)}`);
    return policyDocument([{ Sid: "AssumeGlueTestRoles", Effect: "Allow", Action: "sts:AssumeRole", Resource: arns }]);
}

/**
 * Authorization rules under which Pulumi Cloud exchanges a GitHub Actions token of `repository` for a CI
 * team token: pull requests (previews) and pushes to the default branch (post-merge tests). Other repos,
 * forks' workflows, tags and other branches get nothing.
 */
export function githubIssuerPolicies(organization: string, repository: string, team: string, branches: readonly string[] = ["main"]) {
    requireOrganization(organization);
    if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(repository)) throw new Error(`githubIssuerPolicies: repository must be owner/name, got ${repository}`);
    const subjects = [`repo:${repository}:pull_request`, ...branches.map((b) => `repo:${repository}:ref:refs/heads/${b}`)];
    return subjects.map((sub) => ({
        decision: pulumiservice.AuthPolicyDecision.Allow,
        tokenType: pulumiservice.AuthPolicyTokenType.Team,
        teamName: team,
        rules: { aud: `urn:pulumi:org:${organization}`, sub },
    }));
}

export interface PipelineCiArgs {
    readonly organization: string;
    readonly project: string;
    readonly accountId: string;
    readonly region: string;
    readonly oidcProviderArn: pulumi.Input<string>;
    /** GlueTestRole ARNs of the workload accounts. */
    readonly testRoleArns: readonly string[];
    /** GitHub repository `owner/name` whose workflows are the CI. */
    readonly githubRepository: string;
    /** Pulumi team of the CI. @default `<project>-ci` */
    readonly ciTeam?: string;
    /** ESC environment (in the project) that logs in to the CI role. @default "ci" */
    readonly ciEnvironment?: string;
    /** Its YAML (deploy/esc/ci.yaml), checked by the caller. */
    readonly ciEnvironmentYaml: string;
    /**
     * Register GitHub Actions as an OIDC issuer of the Pulumi organization. Turn off when the organization
     * already has it registered, and add {@link githubIssuerPolicies} to it instead. @default true
     */
    readonly registerGithubIssuer?: boolean;
    readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export class PipelineCi extends pulumi.ComponentResource {
    public readonly role: aws.iam.Role;
    public readonly rolePolicy: aws.iam.RolePolicy;
    public readonly team: pulumiservice.Team;
    public readonly environment: pulumiservice.Environment;
    public readonly environmentPermission: pulumiservice.TeamEnvironmentPermission;
    public readonly githubIssuer?: pulumiservice.OidcIssuer;
    public readonly roleArn: string;
    public readonly teamName: string;

    constructor(name: string, args: PipelineCiArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("glue-pipeline:delivery:PipelineCi", name, {}, opts);
        const local = args.testRoleArns.filter((arn) => arn.split(":")[4] === args.accountId);
        if (local.length > 0) throw new Error(`PipelineCi ${name}: testRoleArns must be in the workload accounts, not the pipeline account: ${local.join(", ")}`);
        const permissions = ciRolePolicy(args.testRoleArns);
        this.teamName = args.ciTeam ?? `${args.project}-ci`;
        const ciEnvironment = args.ciEnvironment ?? "ci";
        this.roleArn = bootstrapRoleArn({ partition: partitionOf(args.region), accountId: args.accountId }, ciRoleName(args.project));

        this.role = new aws.iam.Role(
            `${name}-role`,
            {
                name: ciRoleName(args.project),
                path: BOOTSTRAP_IAM_PATH,
                description: `CI of ${args.githubRepository} through the ESC environment ${args.project}/${ciEnvironment}: may only assume the GlueTestRoles`,
                maxSessionDuration: 3600,
                assumeRolePolicy: pulumi
                    .output(args.oidcProviderArn)
                    .apply((arn) => JSON.stringify(policyDocument([pulumiOidcTrustStatement(arn, escTrust(args.organization, args.project, [ciEnvironment], "PulumiEscCi"))]))),
                tags: args.tags,
            },
            { parent: this },
        );
        this.rolePolicy = new aws.iam.RolePolicy(`${name}-policy`, { role: this.role.name, policy: JSON.stringify(permissions) }, { parent: this });

        this.team = new pulumiservice.Team(
            `${name}-team`,
            {
                organizationName: args.organization,
                name: this.teamName,
                displayName: `${args.project} CI`,
                description: `Pull-request previews and integration tests of ${args.githubRepository}; no stack writes`,
                teamType: "pulumi",
            },
            { parent: this },
        );
        this.environment = new pulumiservice.Environment(
            `${name}-env`,
            { organization: args.organization, project: args.project, name: ciEnvironment, yaml: new pulumi.asset.StringAsset(args.ciEnvironmentYaml) },
            { parent: this, dependsOn: [this.role] },
        );
        this.environmentPermission = new pulumiservice.TeamEnvironmentPermission(
            `${name}-env-open`,
            {
                organization: args.organization,
                project: args.project,
                environment: ciEnvironment,
                team: this.teamName,
                permission: pulumiservice.EnvironmentPermission.Open,
                maxOpenDuration: "1h",
            },
            { parent: this, dependsOn: [this.team, this.environment] },
        );
        if (args.registerGithubIssuer ?? true) {
            this.githubIssuer = new pulumiservice.OidcIssuer(
                `${name}-github-issuer`,
                {
                    organization: args.organization,
                    name: "github-actions",
                    url: GITHUB_ACTIONS_ISSUER_URL,
                    maxExpirationSeconds: 3600,
                    policies: githubIssuerPolicies(args.organization, args.githubRepository, this.teamName),
                },
                { parent: this, dependsOn: [this.team] },
            );
        }
        this.registerOutputs({ roleArn: this.roleArn, team: this.teamName });
    }
}
