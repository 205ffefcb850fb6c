import * as assert from "node:assert/strict";
import type * as PipelineCiModule from "../../components/delivery/pipelineCi";

describe("PipelineCi (argument checks; the assembled account is in bootstrap.test.ts)", () => {
    let mod: typeof PipelineCiModule;
    before(async () => {
        mod = await import("../../components/delivery/pipelineCi");
    });

    const args = (overrides: Partial<PipelineCiModule.PipelineCiArgs> = {}): PipelineCiModule.PipelineCiArgs => ({
        organization: "acme",
        project: "glue-data-pipeline",
        accountId: "333333333333",
        region: "eu-west-1",
        oidcProviderArn: "arn:aws:iam::333333333333:oidc-provider/api.pulumi.com/oidc",
        testRoleArns: ["arn:aws:iam::111111111111:role/glue-data-pipeline-bootstrap/GlueTestRole-dev"],
        githubRepository: "acme/glue-data-pipeline",
        ciEnvironmentYaml: "values: {}",
        ...overrides,
    });

    const refused: Array<[string, () => unknown, RegExp]> = [
        ["a wildcard among the roles the CI may assume", () => mod.ciRolePolicy(["arn:aws:iam::111111111111:role/*"]), /expected GlueTestRole ARNs/],
        ["no role to assume", () => mod.ciRolePolicy([]), /expected GlueTestRole ARNs/],
        ["a test role in the pipeline account", () => new mod.PipelineCi("bad", args({ testRoleArns: ["arn:aws:iam::333333333333:role/x"] })), /must be in the workload accounts/],
        ["a repository URL", () => mod.githubIssuerPolicies("acme", "https://github.com/acme/x", "team"), /repository must be owner\/name/],
        ["an organization login with capitals", () => mod.githubIssuerPolicies("Acme", "acme/x", "team"), /Pulumi organization "Acme" is invalid/],
    ];
    for (const [title, build, message] of refused) it(`refuses ${title}`, () => assert.throws(build, message));

    it("exchanges tokens only for pull requests and the named branches of the one repository", () => {
        const subs = mod.githubIssuerPolicies("acme", "acme/x", "ci", ["main", "release"]).map((p) => p.rules.sub);
        assert.deepEqual(subs, ["repo:acme/x:pull_request", "repo:acme/x:ref:refs/heads/main", "repo:acme/x:ref:refs/heads/release"]);
    });
});
