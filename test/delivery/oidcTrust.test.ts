import * as assert from "node:assert/strict";
import {
    deploymentsSubject,
    deploymentsTrust,
    escAudience,
    escSubject,
    escTrust,
    PULUMI_OIDC_AUD,
    PULUMI_OIDC_SUB,
    pulumiOidcAudiences,
    pulumiOidcTrustStatement,
} from "../../components/delivery/pulumiOidcProvider";
import { evaluate, webIdentity } from "../access/simulate";

const PROVIDER = "arn:aws:iam::111111111111:oidc-provider/api.pulumi.com/oidc";
const DEV = { organization: "acme", project: "glue-data-pipeline", stack: "dev" };

describe("Pulumi OIDC subjects and trust", () => {
    describe("subjects, as Pulumi documents them", () => {
        it("names one operation on one stack for Deployments", async () => {
            assert.equal(deploymentsSubject(DEV, "update"), "pulumi:deploy:org:acme:project:glue-data-pipeline:stack:dev:operation:update:scope:write");
        });

        it("names one environment, by currentEnvironment.name, for ESC", async () => {
            assert.equal(
                escSubject({ organization: "acme", project: "glue-data-pipeline", environment: "dev" }),
                "pulumi:environments:pulumi.organization.login:acme:currentEnvironment.name:glue-data-pipeline/dev",
            );
        });

        it("uses the organization for Deployments and aws:<org> for ESC as audiences", async () => {
            assert.deepEqual(pulumiOidcAudiences("acme"), ["acme", "aws:acme"]);
            assert.equal(escAudience("acme"), "aws:acme");
        });

        const invalid: Array<[string, () => unknown, RegExp]> = [
            ["an organization with capitals (AWS compares aud case-sensitively)", () => deploymentsSubject({ ...DEV, organization: "Acme" }, "update"), /Pulumi organization "Acme" is invalid/],
            ["a stack name with a colon, which would forge another subject", () => deploymentsSubject({ ...DEV, stack: "dev:operation:update" }, "update"), /Pulumi stack .* is invalid/],
            ["an unknown operation", () => deploymentsSubject(DEV, "import" as any), /unknown deployment operation "import"/],
            ["an environment path in the name", () => escSubject({ organization: "acme", project: "glue-data-pipeline", environment: "dev/x" }), /ESC environment "dev\/x" is invalid/],
        ];
        for (const [title, build, message] of invalid) it(`rejects ${title}`, async () => assert.throws(build, message));
    });

    describe("a trust statement", () => {
        const statement = pulumiOidcTrustStatement(PROVIDER, deploymentsTrust(DEV, ["update", "destroy"]));

        it("is a web-identity grant to the Pulumi provider with exact aud and sub", async () => {
            assert.deepEqual(statement, {
                Sid: "PulumiDeployments",
                Effect: "Allow",
                Principal: { Federated: PROVIDER },
                Action: "sts:AssumeRoleWithWebIdentity",
                Condition: {
                    StringEquals: {
                        [PULUMI_OIDC_AUD]: "acme",
                        [PULUMI_OIDC_SUB]: [deploymentsSubject(DEV, "update"), deploymentsSubject(DEV, "destroy")],
                    },
                },
            });
        });

        const doc = { Statement: [statement] };
        const tokens: Array<[string, string, string, string]> = [
            ["the listed operation", "acme", deploymentsSubject(DEV, "update"), "allow"],
            ["another listed operation", "acme", deploymentsSubject(DEV, "destroy"), "allow"],
            ["an operation not listed", "acme", deploymentsSubject(DEV, "refresh"), "implicit-deny"],
            ["the same stack name in another project", "acme", deploymentsSubject({ ...DEV, project: "other" }, "update"), "implicit-deny"],
            ["another organization", "evil", deploymentsSubject({ ...DEV, organization: "evil" }, "update"), "implicit-deny"],
            ["the right subject with the ESC audience", "aws:acme", deploymentsSubject(DEV, "update"), "implicit-deny"],
            ["a prefix of the subject", "acme", "pulumi:deploy:org:acme:project:glue-data-pipeline:stack:dev", "implicit-deny"],
        ];
        for (const [title, aud, sub, decision] of tokens) {
            it(`${decision === "allow" ? "admits" : "refuses"} ${title}`, async () => {
                assert.equal(await evaluate([doc], webIdentity(PROVIDER, aud, sub)), decision);
            });
        }

        it("refuses the same token presented through another identity provider", async () => {
            const github = "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com";
            assert.equal(await evaluate([doc], webIdentity(github, "acme", deploymentsSubject(DEV, "update"))), "implicit-deny");
        });

        it("refuses wildcards, which StringEquals would take literally", async () => {
            assert.throws(() => pulumiOidcTrustStatement(PROVIDER, { audience: "acme", subjects: ["pulumi:deploy:org:acme:*"] }), /must be exact/);
            assert.throws(() => pulumiOidcTrustStatement(PROVIDER, { audience: "acme", subjects: [] }), /at least one subject/);
            assert.throws(() => pulumiOidcTrustStatement("*", escTrust("acme", "glue-data-pipeline", ["dev"])), /not the ARN of an IAM OIDC provider/);
        });
    });
});
