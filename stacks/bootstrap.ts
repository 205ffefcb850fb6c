/**
 * The bootstrap composition (the `bootstrap/` Pulumi project): run once per account by an administrator,
 * before the first deployment, and again whenever access changes. Order: pipeline, then dev, then prod
 * (the GlueTestRoles trust the pipeline's CI role, which must exist first). See docs/deploy.md.
 *
 * Everything it creates is what the workload's own deploy role must not be able to create or change:
 * who may deploy (OIDC trust, Deployments settings), how far a deployment may reach (the boundary), and who
 * may test (GlueTestRole, CI role).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import {
    bootstrapRoleArn,
    checkEscAwsLogin,
    ciRoleName,
    DeployRoles,
    GlueTestRole,
    glueTestRoleName,
    partitionOf,
    PipelineCi,
    PulumiOidcProvider,
    StackDeployment,
} from "../components";
import {
    BOOTSTRAP_PROJECT,
    BootstrapConfig,
    parseBootstrapConfig,
    PipelineBootstrapConfig,
    RepoFileReader,
    WorkloadBootstrapConfig,
    YamlParser,
} from "./bootstrapConfig";
import { PROJECT } from "./config";

/** Where the ESC environment definitions live, relative to the repository root. */
export const escEnvironmentFile = (environment: string): string => `deploy/esc/${environment}.yaml`;

function awsProvider(name: string, accountId: string, region: string, tags: Record<string, string>): aws.Provider {
    return new aws.Provider(`${name}-aws`, {
        region: region as aws.Region,
        allowedAccountIds: [accountId],
        defaultTags: { tags: { ...tags, ManagedBy: BOOTSTRAP_PROJECT } },
    });
}

/** Reads and checks an ESC environment file against the role it must log in to. */
function escEnvironment(environment: string, roleArn: string, read: RepoFileReader, parseYaml: YamlParser): { name: string; yaml: string } {
    const source = escEnvironmentFile(environment);
    const text = read(source);
    checkEscAwsLogin(parseYaml(text), { source, roleArn });
    return { name: environment, yaml: text };
}

export interface WorkloadBootstrap {
    readonly oidc: PulumiOidcProvider;
    readonly roles: DeployRoles;
    readonly testRole?: GlueTestRole;
    readonly deployment: StackDeployment;
    readonly publicAccessBlock: aws.s3.AccountPublicAccessBlock;
    readonly outputs: Record<string, pulumi.Input<unknown>>;
}

export function createWorkloadBootstrap(config: WorkloadBootstrapConfig, read: RepoFileReader, parseYaml: YamlParser): WorkloadBootstrap {
    const w = config.workload;
    const stack = w.stackName;
    const stackFile = `Pulumi.${stack}.yaml`;
    const deployEnvironment = stack;
    const previewEnvironment = `${stack}-preview`;

    // The workload stack file and this bootstrap must describe the same access; say which line to fix.
    const imported = `${PROJECT}/${deployEnvironment}`;
    if (!config.workloadEnvironments.includes(imported)) {
        throw new Error(`${stackFile}: environment must import ${imported} (its deploy credentials); it imports [${config.workloadEnvironments.join(", ")}]`);
    }
    if (config.workloadEnvironments.includes(`${PROJECT}/${previewEnvironment}`)) {
        throw new Error(`${stackFile}: environment must not import ${PROJECT}/${previewEnvironment}; previews select it themselves`);
    }

    const provider = awsProvider(config.stackName, w.accountId, w.region, { ...w.tags });
    const opts = { providers: [provider] };
    const oidc = new PulumiOidcProvider("pulumi-oidc", { organization: config.organization, existingProviderArn: config.oidcProviderArn }, opts);
    const ciRoleArn = bootstrapRoleArn({ partition: partitionOf(w.region), accountId: config.pipelineAccountId }, ciRoleName(PROJECT));

    const roles = new DeployRoles(
        "access",
        {
            organization: config.organization,
            project: PROJECT,
            stack,
            stage: w.stage,
            accountId: w.accountId,
            region: w.region,
            oidcProviderArn: oidc.arn,
            deployEnvironment,
            previewEnvironment,
            allowDataDestroy: w.allowDataDestroy,
            trustedDeployerArns: config.trustedDeployerArns,
            // Read from the workload stack file, like everything else: enabling the warehouse there extends the
            // deploy role and the boundary at the next bootstrap run.
            claimsWarehouse: w.claims?.warehouse !== undefined,
            smokeCheck: w.smokeOnUp === true,
        },
        opts,
    );
    if (w.permissionsBoundaryArn !== roles.boundaryArn) {
        throw new Error(
            `${stackFile}: ${PROJECT}:permissionsBoundaryArn must be ${roles.boundaryArn} (the boundary this bootstrap creates), ` +
                `got ${w.permissionsBoundaryArn ?? "nothing"}; without it the deploy role cannot create the stack's roles`,
        );
    }

    const publicAccessBlock = accountPublicAccessBlock(provider);

    const environments = [
        escEnvironment(deployEnvironment, roles.deployRoleArn, read, parseYaml),
        escEnvironment(previewEnvironment, roles.previewRoleArn, read, parseYaml),
    ];

    const testRole = config.testRole
        ? new GlueTestRole(
              "glue-test",
              { stage: w.stage, accountId: w.accountId, region: w.region, ciPrincipalArns: [ciRoleArn], jobBaseNames: config.testedJobs },
              opts,
          )
        : undefined;

    const deployment = new StackDeployment(
        "deployment",
        {
            organization: config.organization,
            project: PROJECT,
            stack,
            repository: config.githubRepository,
            branch: config.deployBranch,
            deployRoleArn: roles.deployRoleArn,
            environments,
            previewEnvironment,
            ciTeam: config.ciTeam,
        },
        // The ESC environments log in to these roles; create the roles first.
        { dependsOn: [roles] },
    );

    return {
        oidc,
        roles,
        testRole,
        deployment,
        publicAccessBlock,
        outputs: {
            kind: "workload",
            workloadStack: `${config.organization}/${PROJECT}/${stack}`,
            accountId: w.accountId,
            oidcProviderArn: oidc.arn,
            deployRoleArn: roles.deployRoleArn,
            previewRoleArn: roles.previewRoleArn,
            permissionsBoundaryArn: roles.boundaryArn,
            glueTestRoleArn: testRole?.roleArn,
            escEnvironments: environments.map((e) => `${PROJECT}/${e.name}`),
            deployBranch: config.deployBranch,
            deployPaths: deployment.paths,
        },
    };
}

/**
 * The account-wide S3 Block Public Access: no bucket of the account can be opened by a policy or an ACL,
 * whatever a bucket's own block says. Set in every account the bootstrap runs in. In a workload account it
 * matters most: the deploy role may change a bucket's block (it creates them) but not the account's
 * (s3:PutAccountPublicAccessBlock is not in its policy). The pipeline account holds no bucket of ours, and
 * keeps it that way for anyone else's.
 */
function accountPublicAccessBlock(provider: aws.Provider): aws.s3.AccountPublicAccessBlock {
    return new aws.s3.AccountPublicAccessBlock(
        "account-public-access-block",
        { blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: true, restrictPublicBuckets: true },
        { provider },
    );
}

export interface PipelineBootstrap {
    readonly oidc: PulumiOidcProvider;
    readonly ci: PipelineCi;
    readonly publicAccessBlock: aws.s3.AccountPublicAccessBlock;
    readonly outputs: Record<string, pulumi.Input<unknown>>;
}

export function createPipelineBootstrap(config: PipelineBootstrapConfig, read: RepoFileReader, parseYaml: YamlParser): PipelineBootstrap {
    const provider = awsProvider(config.stackName, config.accountId, config.region, { Project: PROJECT, Environment: "pipeline", ...config.tags });
    const opts = { providers: [provider] };
    const oidc = new PulumiOidcProvider("pulumi-oidc", { organization: config.organization, existingProviderArn: config.oidcProviderArn }, opts);
    const testRoleArns = config.workloads.map((w) => bootstrapRoleArn({ partition: partitionOf(w.region), accountId: w.accountId }, glueTestRoleName(w.stage)));
    const ciRoleArn = bootstrapRoleArn({ partition: partitionOf(config.region), accountId: config.accountId }, ciRoleName(PROJECT));
    const ciEnvironment = escEnvironment("ci", ciRoleArn, read, parseYaml);
    const ci = new PipelineCi(
        "ci",
        {
            organization: config.organization,
            project: PROJECT,
            accountId: config.accountId,
            region: config.region,
            oidcProviderArn: oidc.arn,
            testRoleArns,
            githubRepository: config.githubRepository,
            ciTeam: config.ciTeam,
            ciEnvironment: ciEnvironment.name,
            ciEnvironmentYaml: ciEnvironment.yaml,
            registerGithubIssuer: config.registerGithubIssuer,
        },
        opts,
    );
    const publicAccessBlock = accountPublicAccessBlock(provider);
    return {
        oidc,
        ci,
        publicAccessBlock,
        outputs: {
            kind: "pipeline",
            accountId: config.accountId,
            oidcProviderArn: oidc.arn,
            ciRoleArn: ci.roleArn,
            ciTeam: ci.teamName,
            ciEscEnvironment: `${PROJECT}/${ciEnvironment.name}`,
            glueTestRoleArns: testRoleArns,
        },
    };
}

export function createBootstrap(config: BootstrapConfig, read: RepoFileReader, parseYaml: YamlParser): { outputs: Record<string, pulumi.Input<unknown>> } {
    return config.kind === "pipeline" ? createPipelineBootstrap(config, read, parseYaml) : createWorkloadBootstrap(config, read, parseYaml);
}

const ROOT = path.resolve(__dirname, "..");

/** Reads files of this repository (the bootstrap checks the workload stack files and ESC definitions). */
export const readRepoFile: RepoFileReader = (relativePath) => {
    const file = path.join(ROOT, relativePath);
    if (!fs.existsSync(file)) throw new Error(`${relativePath} not found (the bootstrap reads it from the repository)`);
    return fs.readFileSync(file, "utf8");
};

/** Entry of bootstrap/index.ts. */
export function buildBootstrap(stackName: string, rawConfig: Record<string, string>, organization: string): Record<string, pulumi.Input<unknown>> {
    const config = parseBootstrapConfig(stackName, organization, rawConfig, readRepoFile, (text) => yaml.load(text));
    return createBootstrap(config, readRepoFile, (text) => yaml.load(text)).outputs;
}
