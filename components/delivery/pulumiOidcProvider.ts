/**
 * Trust between Pulumi Cloud and an AWS account: the IAM OIDC identity provider for Pulumi's issuer, and
 * the pure builders of the trust statements that admit exactly one Pulumi identity each.
 *
 * Pulumi Cloud mints two kinds of OIDC tokens that matter here (issuer `https://api.pulumi.com/oidc`):
 *
 * - **Pulumi Deployments** (docs: "OIDC Setup for Pulumi Deployments"): `aud` is the organization name;
 *   `sub` is `pulumi:deploy:org:<org>:project:<project>:stack:<stack>:operation:<op>:scope:write`, with
 *   `<op>` one of preview, update, refresh, destroy.
 * - **Pulumi ESC** `fn::open::aws-login` (docs: "Configuring OpenID Connect for AWS" in ESC): `aud` is
 *   `aws:<org>`. The default `sub` is `pulumi:environments:org:<org>:env:<project>/<env>` only when the
 *   environment is opened directly; when a stack imports it, Pulumi composes an anonymous environment and
 *   the default subject becomes `...:env:<yaml>` for every stack alike. So every environment here sets
 *   `subjectAttributes: [currentEnvironment.name]`, which yields
 *   `pulumi:environments:pulumi.organization.login:<org>:currentEnvironment.name:<project>/<env>` however
 *   it is opened, and a trust policy can name one environment exactly.
 *
 * Conditions use StringEquals with full subjects (never StringLike with wildcards), so a trust statement
 * admits the listed subjects and nothing else.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { PolicyStatement } from "../iam/iamPolicies";

/** The issuer of every Pulumi Cloud OIDC token (Deployments and ESC alike). */
export const PULUMI_OIDC_ISSUER_URL = "https://api.pulumi.com/oidc";
/** Prefix of the IAM condition keys for tokens of that provider (`<prefix>:aud`, `<prefix>:sub`). */
export const PULUMI_OIDC_CONDITION_PREFIX = "api.pulumi.com/oidc";
export const PULUMI_OIDC_AUD = `${PULUMI_OIDC_CONDITION_PREFIX}:aud`;
export const PULUMI_OIDC_SUB = `${PULUMI_OIDC_CONDITION_PREFIX}:sub`;

/** Operations a Pulumi Deployment runs; each gets its own subject. */
export const DEPLOYMENT_OPERATIONS = ["preview", "update", "refresh", "destroy"] as const;
export type DeploymentOperation = (typeof DEPLOYMENT_OPERATIONS)[number];

/** The `subjectAttributes` every ESC environment of this project declares (see the module comment). */
export const ESC_SUBJECT_ATTRIBUTES: readonly string[] = ["currentEnvironment.name"];

// Pulumi organization logins are lowercase (the docs warn that AWS compares `aud` case-sensitively).
const ORGANIZATION = /^[a-z0-9][a-z0-9_.-]{0,99}$/;
const NAME = /^[A-Za-z0-9_.-]{1,100}$/;

function requireName(value: string, pattern: RegExp, what: string): string {
    if (typeof value !== "string" || !pattern.test(value)) {
        throw new Error(`${what} ${JSON.stringify(value)} is invalid; expected ${pattern}`);
    }
    return value;
}

export const requireOrganization = (org: string): string => requireName(org, ORGANIZATION, "Pulumi organization");

/** `aud` of a Pulumi Deployments token: the organization name. */
export function deploymentsAudience(organization: string): string {
    return requireOrganization(organization);
}

/** `aud` of an ESC aws-login token: the organization prefixed with the platform. */
export function escAudience(organization: string): string {
    return `aws:${requireOrganization(organization)}`;
}

export interface StackIdentity {
    readonly organization: string;
    readonly project: string;
    readonly stack: string;
}

/** `sub` of the Pulumi Deployments token of one operation on one stack. */
export function deploymentsSubject(id: StackIdentity, operation: DeploymentOperation): string {
    if (!DEPLOYMENT_OPERATIONS.includes(operation)) throw new Error(`unknown deployment operation ${JSON.stringify(operation)}`);
    const org = requireOrganization(id.organization);
    const project = requireName(id.project, NAME, "Pulumi project");
    const stack = requireName(id.stack, NAME, "Pulumi stack");
    return `pulumi:deploy:org:${org}:project:${project}:stack:${stack}:operation:${operation}:scope:write`;
}

export interface EscEnvironmentIdentity {
    readonly organization: string;
    /** ESC project of the environment (this repository uses the Pulumi project's name). */
    readonly project: string;
    readonly environment: string;
}

/** Full `<project>/<environment>` name of an ESC environment. */
export function escEnvironmentName(id: Omit<EscEnvironmentIdentity, "organization">): string {
    return `${requireName(id.project, NAME, "ESC project")}/${requireName(id.environment, NAME, "ESC environment")}`;
}

/** `sub` of an ESC aws-login token of an environment declaring {@link ESC_SUBJECT_ATTRIBUTES}. */
export function escSubject(id: EscEnvironmentIdentity): string {
    const org = requireOrganization(id.organization);
    return `pulumi:environments:pulumi.organization.login:${org}:currentEnvironment.name:${escEnvironmentName(id)}`;
}

export interface OidcTrust {
    /** The one audience admitted. */
    readonly audience: string;
    /** The exact subjects admitted (at least one). */
    readonly subjects: readonly string[];
    readonly sid?: string;
}

/**
 * The trust statement admitting tokens of `providerArn` whose `aud` is `trust.audience` and whose `sub` is
 * one of `trust.subjects`. Rejects wildcards: StringEquals would treat them literally, and a reader would
 * take them for patterns.
 */
export function pulumiOidcTrustStatement(providerArn: string, trust: OidcTrust): PolicyStatement {
    if (typeof providerArn !== "string" || !/^arn:aws[a-z-]*:iam:/.test(providerArn)) {
        throw new Error(`pulumiOidcTrustStatement: ${JSON.stringify(providerArn)} is not the ARN of an IAM OIDC provider`);
    }
    const subjects = [...new Set(trust.subjects)];
    if (subjects.length === 0) throw new Error("pulumiOidcTrustStatement: at least one subject is required");
    const loose = [trust.audience, ...subjects].filter((s) => typeof s !== "string" || s === "" || /[*?]/.test(s));
    if (loose.length > 0) throw new Error(`pulumiOidcTrustStatement: audiences and subjects must be exact, got ${JSON.stringify(loose)}`);
    return {
        ...(trust.sid ? { Sid: trust.sid } : {}),
        Effect: "Allow",
        Principal: { Federated: providerArn },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
            StringEquals: {
                [PULUMI_OIDC_AUD]: trust.audience,
                [PULUMI_OIDC_SUB]: subjects.length === 1 ? subjects[0] : subjects,
            },
        },
    };
}

/** Trust of the Deployments of one stack, for the given operations (default: all four). */
export function deploymentsTrust(id: StackIdentity, operations: readonly DeploymentOperation[] = DEPLOYMENT_OPERATIONS, sid = "PulumiDeployments"): OidcTrust {
    return { sid, audience: deploymentsAudience(id.organization), subjects: operations.map((op) => deploymentsSubject(id, op)) };
}

/** Trust of one or more ESC environments of the organization. */
export function escTrust(organization: string, project: string, environments: readonly string[], sid = "PulumiEsc"): OidcTrust {
    return { sid, audience: escAudience(organization), subjects: environments.map((environment) => escSubject({ organization, project, environment })) };
}

/** Audiences the account's provider must list for both token kinds. */
export function pulumiOidcAudiences(organization: string): string[] {
    return [deploymentsAudience(organization), escAudience(organization)];
}

/** ARN of the provider in an account (what an existing provider is adopted by). */
export function pulumiOidcProviderArn(partition: string, accountId: string): string {
    if (!/^\d{12}$/.test(accountId)) throw new Error(`pulumiOidcProviderArn: ${JSON.stringify(accountId)} is not an account id`);
    return `arn:${partition}:iam::${accountId}:oidc-provider/api.pulumi.com/oidc`;
}

export interface PulumiOidcProviderArgs {
    /** Pulumi organization whose tokens the provider accepts; the audiences are derived from it. */
    readonly organization: string;
    /**
     * ARN of a provider for `https://api.pulumi.com/oidc` that already exists in the account (AWS allows one
     * per URL). It is used as is; make sure it lists both audiences ({@link pulumiOidcAudiences}).
     * @default a new provider is created
     */
    readonly existingProviderArn?: string;
    readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * The account's IAM OIDC identity provider for Pulumi Cloud, or an adopted existing one. No thumbprints:
 * IAM fetches and pins the issuer's certificate chain itself when none are given.
 */
export class PulumiOidcProvider extends pulumi.ComponentResource {
    /** The provider, when this component created it. */
    public readonly provider?: aws.iam.OpenIdConnectProvider;
    public readonly arn: pulumi.Output<string>;
    public readonly audiences: readonly string[];

    constructor(name: string, args: PulumiOidcProviderArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("glue-pipeline:delivery:PulumiOidcProvider", name, {}, opts);
        this.audiences = pulumiOidcAudiences(args.organization);
        if (args.existingProviderArn !== undefined) {
            if (!/:oidc-provider\/api\.pulumi\.com\/oidc$/.test(args.existingProviderArn)) {
                throw new Error(`PulumiOidcProvider ${name}: existingProviderArn ${args.existingProviderArn} is not a provider for api.pulumi.com/oidc`);
            }
            this.arn = pulumi.output(args.existingProviderArn);
        } else {
            this.provider = new aws.iam.OpenIdConnectProvider(
                `${name}-provider`,
                { url: PULUMI_OIDC_ISSUER_URL, clientIdLists: [...this.audiences], tags: args.tags },
                { parent: this },
            );
            this.arn = this.provider.arn;
        }
        this.registerOutputs({ arn: this.arn, audiences: this.audiences });
    }
}
