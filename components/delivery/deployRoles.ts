/**
 * The roles a workload account (dev, prod) is deployed and previewed with, and the permissions boundary
 * every role the workload creates must carry.
 *
 * - **Deploy role** (`<project>-deploy-<stack>`): what `pulumi up` runs as. Trusted only by Pulumi's OIDC
 *   issuer for this one stack: the Deployments subjects of `<org>/<project>/<stack>` and the ESC
 *   environment `<project>/<stack>` that the stack file imports (both hand out the same role, so it does not
 *   matter which of the two sets AWS_* first in a deployment). Optionally also by named roles of the
 *   pipeline account (a self-hosted deployment agent), never by a whole account.
 * - **Preview role** (`<project>-preview-<stack>`): what pull-request previews run as, through the ESC
 *   environment `<project>/<stack>-preview`. It has no permissions policy at all: `pulumi preview` only
 *   needs credentials of the right account (the provider checks them with sts:GetCallerIdentity, which
 *   needs no permission), so a pull request never holds credentials that can change anything.
 * - **Workload boundary** (`<project>-boundary-<stack>`): the permissions boundary. The deploy role may
 *   create a role or write a role's policies only when that role carries this boundary, so nothing it
 *   creates can exceed the boundary, and the boundary grants no IAM at all.
 *
 * The policy data lives beside it: ./workloadScope.ts (names and ARN patterns), ./workloadBoundaryPolicy.ts
 * and ./deployRolePolicy.ts (the documents); this module re-exports them, so importers need only this one.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { PolicyDocument, policyDocument, PolicyStatement } from "../iam/iamPolicies";
import { warehouseDeployStatements } from "../claims/claimsWarehouseAccess";
import { DEPLOY_POLICY_PARTS, deployRolePolicies } from "./deployRolePolicy";
import { DEPLOYMENT_OPERATIONS, DeploymentOperation, deploymentsTrust, escTrust, pulumiOidcTrustStatement } from "./pulumiOidcProvider";
import { workloadBoundaryPolicy } from "./workloadBoundaryPolicy";
import {
    BOOTSTRAP_IAM_PATH,
    bootstrapPolicyArn,
    bootstrapRoleArn,
    boundaryPolicyName,
    deployRoleName,
    partitionOf,
    previewRoleName,
    WorkloadScope,
} from "./workloadScope";

export * from "./deployRolePolicy";
export * from "./workloadBoundaryPolicy";
export * from "./workloadScope";

/**
 * A resource transform (the `transforms` option, which replaced the deprecated `transformations`) that puts
 * `boundaryArn` on every IAM role created under the resource it is given to (the workload composition passes
 * it to every component; the engine applies it to their children). A role that already names another
 * boundary is an error rather than silently overridden.
 */
export function permissionsBoundaryTransform(boundaryArn: string): pulumi.ResourceTransform {
    if (!/^arn:aws[a-z-]*:iam::\d{12}:policy\/[\w+=,.@/-]+$/.test(boundaryArn)) {
        throw new Error(`permissionsBoundaryTransform: ${JSON.stringify(boundaryArn)} is not an IAM policy ARN`);
    }
    return (args) => {
        if (args.type !== "aws:iam/role:Role") return undefined;
        const existing = args.props.permissionsBoundary;
        if (existing !== undefined && existing !== boundaryArn) {
            throw new Error(`role ${args.name} sets permissionsBoundary ${existing}; workload roles must use ${boundaryArn}`);
        }
        return { props: { ...args.props, permissionsBoundary: boundaryArn }, opts: args.opts };
    };
}

export interface DeployRolesArgs {
    /** Pulumi organization of the workload stack. */
    readonly organization: string;
    /** Pulumi project of the workload stack; also the Project tag value. */
    readonly project: string;
    /** Workload stack name (dev, prod). */
    readonly stack: string;
    /** Stage in the workload's resource names. @default the stack name */
    readonly stage?: string;
    readonly accountId: string;
    readonly region: string;
    /** ARN of the account's Pulumi OIDC provider. */
    readonly oidcProviderArn: pulumi.Input<string>;
    /** ESC environment (in the project) that the stack file imports. @default the stack name */
    readonly deployEnvironment?: string;
    /** ESC environment (in the project) for pull-request previews. @default `<stack>-preview` */
    readonly previewEnvironment?: string;
    /** Deployments operations admitted. @default preview, update, refresh, destroy */
    readonly deploymentOperations?: readonly DeploymentOperation[];
    /**
     * Roles of the pipeline account that may also assume the deploy role (e.g. a self-hosted deployment
     * agent). Role ARNs only: a whole account (`:root`) is refused. @default none
     */
    readonly trustedDeployerArns?: readonly string[];
    /** Whether the workload may empty its buckets on destroy (dev). @default false */
    readonly allowDataDestroy?: boolean;
    /** ARNs the deploy role may never change, in addition to everything under the bootstrap path. */
    readonly protectedArns?: readonly string[];
    /** The stack runs the claims warehouse: a fourth deploy policy and the boundary's warehouse statements. @default false */
    readonly claimsWarehouse?: boolean;
    /** The stack runs its smoke check on `pulumi up` (`smokeOnUp`): the deploy role may create and assume its role. @default false */
    readonly smokeCheck?: boolean;
    /** Session length of both roles. @default 3600 */
    readonly maxSessionDurationSeconds?: number;
    readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;

/** The deploy role, the preview role and the workload boundary of one workload account. */
export class DeployRoles extends pulumi.ComponentResource {
    public readonly boundary: aws.iam.Policy;
    public readonly deployRole: aws.iam.Role;
    /** The deploy role's permissions, as managed policies under the bootstrap path ({@link DEPLOY_POLICY_PARTS}). */
    public readonly deployPolicies: aws.iam.Policy[];
    public readonly previewRole: aws.iam.Role;
    /** ARNs as AWS will report them (name and path are fixed, so they are known before deployment). */
    public readonly deployRoleArn: string;
    public readonly previewRoleArn: string;
    public readonly boundaryArn: string;
    public readonly scope: WorkloadScope;

    constructor(name: string, args: DeployRolesArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("glue-pipeline:delivery:DeployRoles", name, {}, opts);

        const trustedDeployers = [...(args.trustedDeployerArns ?? [])];
        const badDeployers = trustedDeployers.filter((arn) => !ROLE_ARN.test(arn) || arn.split(":")[4] === args.accountId);
        if (badDeployers.length > 0) {
            throw new Error(`DeployRoles ${name}: trustedDeployerArns must be role ARNs of another account (the pipeline account), got ${badDeployers.join(", ")}`);
        }
        const duration = args.maxSessionDurationSeconds ?? 3600;
        if (!Number.isInteger(duration) || duration < 900 || duration > 43200) {
            throw new Error(`DeployRoles ${name}: maxSessionDurationSeconds must be 900-43200, got ${duration}`);
        }
        const deployEnvironment = args.deployEnvironment ?? args.stack;
        const previewEnvironment = args.previewEnvironment ?? `${args.stack}-preview`;
        if (deployEnvironment === previewEnvironment) {
            throw new Error(`DeployRoles ${name}: deployEnvironment and previewEnvironment are both ${deployEnvironment}; previews must not open the deploy credentials`);
        }

        const partition = partitionOf(args.region);
        const account = { partition, accountId: args.accountId };
        this.deployRoleArn = bootstrapRoleArn(account, deployRoleName(args.project, args.stack));
        this.previewRoleArn = bootstrapRoleArn(account, previewRoleName(args.project, args.stack));
        this.boundaryArn = bootstrapPolicyArn(account, boundaryPolicyName(args.project, args.stack));
        this.scope = {
            partition,
            region: args.region,
            accountId: args.accountId,
            project: args.project,
            stage: args.stage ?? args.stack,
            boundaryArn: this.boundaryArn,
            allowDataDestroy: args.allowDataDestroy ?? false,
            ...(args.claimsWarehouse ? { claimsWarehouse: true } : {}),
            ...(args.smokeCheck ? { smokeCheck: true } : {}),
        };
        const boundaryDoc = workloadBoundaryPolicy(this.scope);
        const deployDocs = deployRolePolicies(this.scope, { protectedArns: args.protectedArns });
        const stackId = { organization: args.organization, project: args.project, stack: args.stack };
        const operations = args.deploymentOperations ?? DEPLOYMENT_OPERATIONS;

        this.boundary = new aws.iam.Policy(
            `${name}-boundary`,
            {
                name: boundaryPolicyName(args.project, args.stack),
                path: BOOTSTRAP_IAM_PATH,
                description: `Permissions boundary of every role the ${args.project} ${args.stack} stack creates`,
                policy: JSON.stringify(boundaryDoc),
                tags: args.tags,
            },
            { parent: this },
        );

        this.deployRole = new aws.iam.Role(
            `${name}-deploy`,
            {
                name: deployRoleName(args.project, args.stack),
                path: BOOTSTRAP_IAM_PATH,
                description: `pulumi up of ${args.organization}/${args.project}/${args.stack}, through Pulumi Deployments or the ESC environment ${args.project}/${deployEnvironment}`,
                maxSessionDuration: duration,
                assumeRolePolicy: pulumi.output(args.oidcProviderArn).apply((providerArn) =>
                    JSON.stringify(
                        deployRoleTrustPolicy(providerArn, {
                            deployments: deploymentsTrust(stackId, operations),
                            esc: escTrust(args.organization, args.project, [deployEnvironment]),
                            trustedDeployerArns: trustedDeployers,
                        }),
                    ),
                ),
                tags: args.tags,
            },
            { parent: this },
        );
        this.deployPolicies = DEPLOY_POLICY_PARTS.map((part) => {
            const policy = new aws.iam.Policy(
                `${name}-deploy-${part}`,
                {
                    name: `${deployRoleName(args.project, args.stack)}-${part}`,
                    path: BOOTSTRAP_IAM_PATH,
                    description: `Deploy role of ${args.project} ${args.stack}: ${part} permissions`,
                    policy: JSON.stringify(deployDocs[part]),
                    tags: args.tags,
                },
                { parent: this, dependsOn: [this.boundary] },
            );
            new aws.iam.RolePolicyAttachment(`${name}-deploy-${part}`, { role: this.deployRole.name, policyArn: policy.arn }, { parent: this });
            return policy;
        });
        if (args.claimsWarehouse) {
            // A policy of its own: the three parts stay as they are (and within IAM's size limit) for every stack.
            const warehouse = new aws.iam.Policy(
                `${name}-deploy-warehouse`,
                {
                    name: `${deployRoleName(args.project, args.stack)}-warehouse`,
                    path: BOOTSTRAP_IAM_PATH,
                    description: `Deploy role of ${args.project} ${args.stack}: the claims warehouse (VPC, Redshift Serverless)`,
                    policy: JSON.stringify(policyDocument(warehouseDeployStatements(this.scope))),
                    tags: args.tags,
                },
                { parent: this, dependsOn: [this.boundary] },
            );
            new aws.iam.RolePolicyAttachment(`${name}-deploy-warehouse`, { role: this.deployRole.name, policyArn: warehouse.arn }, { parent: this });
            this.deployPolicies.push(warehouse);
        }

        this.previewRole = new aws.iam.Role(
            `${name}-preview`,
            {
                name: previewRoleName(args.project, args.stack),
                path: BOOTSTRAP_IAM_PATH,
                description: `pulumi preview of ${args.organization}/${args.project}/${args.stack} from pull requests; no permissions beyond proving the account`,
                maxSessionDuration: duration,
                assumeRolePolicy: pulumi.output(args.oidcProviderArn).apply((providerArn) =>
                    JSON.stringify(policyDocument([pulumiOidcTrustStatement(providerArn, escTrust(args.organization, args.project, [previewEnvironment], "PulumiEscPreview"))])),
                ),
                tags: args.tags,
            },
            { parent: this },
        );

        this.registerOutputs({
            deployRoleArn: this.deployRoleArn,
            previewRoleArn: this.previewRoleArn,
            boundaryArn: this.boundaryArn,
        });
    }
}

export interface DeployRoleTrust {
    readonly deployments: ReturnType<typeof deploymentsTrust>;
    readonly esc: ReturnType<typeof escTrust>;
    readonly trustedDeployerArns?: readonly string[];
}

/** Trust policy of the deploy role: one stack's Deployments, its ESC environment, named pipeline roles. */
export function deployRoleTrustPolicy(providerArn: string, trust: DeployRoleTrust): PolicyDocument {
    const statements: PolicyStatement[] = [pulumiOidcTrustStatement(providerArn, trust.deployments), pulumiOidcTrustStatement(providerArn, trust.esc)];
    const deployers = [...(trust.trustedDeployerArns ?? [])];
    if (deployers.some((arn) => !ROLE_ARN.test(arn))) throw new Error(`deployRoleTrustPolicy: trusted deployers must be role ARNs, got ${deployers.join(", ")}`);
    if (deployers.length > 0) {
        statements.push({ Sid: "PipelineAccountDeployers", Effect: "Allow", Principal: { AWS: deployers.length === 1 ? deployers[0] : deployers }, Action: "sts:AssumeRole" });
    }
    return policyDocument(statements);
}
