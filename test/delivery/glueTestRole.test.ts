import * as assert from "node:assert/strict";
import type * as GlueTestRoleModule from "../../components/delivery/glueTestRole";
import { wildcardResourceViolations } from "../../components/iam/iamPolicies";
import { named, resetRecorded, waitForRegistrations } from "../support/graph";
import { evaluate, IamRequest } from "../access/simulate";

const CI = "arn:aws:iam::333333333333:role/glue-data-pipeline-bootstrap/glue-data-pipeline-ci";
const A = "111111111111";

describe("GlueTestRole", () => {
    let mod: typeof GlueTestRoleModule;
    let trust: any;
    let policy: any;

    before(async () => {
        mod = await import("../../components/delivery/glueTestRole");
        resetRecorded();
        const role = new mod.GlueTestRole("t", { stage: "dev", accountId: A, region: "eu-west-1", ciPrincipalArns: [CI] });
        await waitForRegistrations();
        const inputs = named("t-role", "aws:iam/role:Role").inputs;
        trust = JSON.parse(inputs.assumeRolePolicy);
        policy = JSON.parse(named("t-policy", "aws:iam/rolePolicy:RolePolicy").inputs.policy);
        assert.equal(role.roleArn, `arn:aws:iam::${A}:role/glue-data-pipeline-bootstrap/GlueTestRole-dev`);
    });

    describe("with the requirements' defaults in dev", () => {
        it("has the requirements' name, under the bootstrap path the deploy role cannot touch", async () => {
            const inputs = named("t-role", "aws:iam/role:Role").inputs;
            assert.deepEqual([inputs.name, inputs.path], ["GlueTestRole-dev", "/glue-data-pipeline-bootstrap/"]);
        });

        it("is assumable by the pipeline account's CI role, and by nothing else", async () => {
            assert.equal(await evaluate([trust], { action: "sts:AssumeRole", principal: { AWS: CI } }), "allow");
            for (const principal of [
                { AWS: "arn:aws:iam::333333333333:root" },
                { AWS: "arn:aws:iam::333333333333:role/other" },
                { AWS: `arn:aws:iam::${A}:role/glue-data-pipeline-bootstrap/glue-data-pipeline-deploy-dev` },
                { Service: "glue.amazonaws.com" },
                { Federated: `arn:aws:iam::${A}:oidc-provider/api.pulumi.com/oidc` },
            ]) {
                assert.equal(await evaluate([trust], { action: "sts:AssumeRole", principal }), "implicit-deny", JSON.stringify(principal));
            }
            assert.equal(await evaluate([trust], { action: "sts:AssumeRoleWithWebIdentity", principal: { AWS: CI } }), "implicit-deny");
        });

        const jobArn = (job: string) => `arn:aws:glue:eu-west-1:${A}:job/${job}`;
        const cases: Array<[string, IamRequest, string]> = [
            ["start FileProcessorV2-dev", { action: "glue:StartJobRun", resource: jobArn("FileProcessorV2-dev") }, "allow"],
            ["read runs of ProcessLegislators-dev", { action: "glue:GetJobRuns", resource: jobArn("ProcessLegislators-dev") }, "allow"],
            ["start prod's job", { action: "glue:StartJobRun", resource: jobArn("FileProcessorV2-prod") }, "implicit-deny"],
            ["change a job", { action: "glue:UpdateJob", resource: jobArn("FileProcessorV2-dev") }, "implicit-deny"],
            ["upload a test CSV under the test prefix", { action: "s3:PutObject", resource: "arn:aws:s3:::glue-input-dev-111111111111/integration-tests/run-1/a.csv" }, "allow"],
            ["upload outside the test prefix", { action: "s3:PutObject", resource: "arn:aws:s3:::glue-input-dev-111111111111/sales/a.csv" }, "implicit-deny"],
            ["read real input files", { action: "s3:GetObject", resource: "arn:aws:s3:::glue-input-dev-111111111111/sales/a.csv" }, "implicit-deny"],
            ["read the Parquet of a test file", { action: "s3:GetObject", resource: "arn:aws:s3:::glue-output-dev-111111111111/processed/integration-tests/run-1/a/part-0.parquet" }, "allow"],
            ["read the quarantine of a test file", { action: "s3:GetObject", resource: "arn:aws:s3:::glue-output-dev-111111111111/quarantine/integration-tests/run-1/a/x.csv" }, "allow"],
            ["read real output", { action: "s3:GetObject", resource: "arn:aws:s3:::glue-output-dev-111111111111/processed/sales/part-0.parquet" }, "implicit-deny"],
            ["clean up test output", { action: "s3:DeleteObject", resource: "arn:aws:s3:::glue-output-dev-111111111111/processed/integration-tests/run-1/a/part-0.parquet" }, "allow"],
            ["list the input bucket under the test prefix", { action: "s3:ListBucket", resource: "arn:aws:s3:::glue-input-dev-111111111111", context: { "s3:prefix": "integration-tests/run-1/" } }, "allow"],
            ["list the whole input bucket", { action: "s3:ListBucket", resource: "arn:aws:s3:::glue-input-dev-111111111111", context: { "s3:prefix": "" } }, "implicit-deny"],
            ["read a file's metadata record", { action: "dynamodb:GetItem", resource: `arn:aws:dynamodb:eu-west-1:${A}:table/etl-pipeline-metadata-dev` }, "allow"],
            ["write a metadata record", { action: "dynamodb:PutItem", resource: `arn:aws:dynamodb:eu-west-1:${A}:table/etl-pipeline-metadata-dev` }, "implicit-deny"],
            [
                "decrypt test data with the data lake key through S3",
                { action: "kms:Decrypt", resource: `arn:aws:kms:eu-west-1:${A}:key/k-1`, context: { "kms:ResourceAliases": ["alias/glue-data-lake-dev"], "kms:ViaService": "s3.eu-west-1.amazonaws.com" } },
                "allow",
            ],
            [
                "decrypt with the key directly",
                { action: "kms:Decrypt", resource: `arn:aws:kms:eu-west-1:${A}:key/k-1`, context: { "kms:ResourceAliases": ["alias/glue-data-lake-dev"] } },
                "implicit-deny",
            ],
            [
                "decrypt with another key",
                { action: "kms:Decrypt", resource: `arn:aws:kms:eu-west-1:${A}:key/k-2`, context: { "kms:ResourceAliases": ["alias/other"], "kms:ViaService": "s3.eu-west-1.amazonaws.com" } },
                "implicit-deny",
            ],
            ["read the job's logs", { action: "logs:FilterLogEvents", resource: `arn:aws:logs:eu-west-1:${A}:log-group:/aws-glue/jobs/output` }, "allow"],
            ["touch IAM", { action: "iam:PassRole", resource: `arn:aws:iam::${A}:role/x` }, "implicit-deny"],
        ];
        for (const [title, request, decision] of cases) {
            it(`${decision === "allow" ? "may" : "may not"} ${title}`, async () => assert.equal(await evaluate([policy], request), decision));
        }

        it("grants nothing on Resource \"*\"", async () => {
            assert.deepEqual(wildcardResourceViolations(policy), []);
        });
    });

    describe("with other jobs and prefix", () => {
        it("scopes runs and data to them", async () => {
            const doc = mod.glueTestRolePolicy({ partition: "aws", region: "eu-west-1", accountId: A, stage: "dev", jobNames: ["ClaimsEtl-dev"], testPrefix: "/ci" });
            assert.equal(await evaluate([doc], { action: "glue:StartJobRun", resource: `arn:aws:glue:eu-west-1:${A}:job/ClaimsEtl-dev` }), "allow");
            assert.equal(await evaluate([doc], { action: "glue:StartJobRun", resource: `arn:aws:glue:eu-west-1:${A}:job/FileProcessorV2-dev` }), "implicit-deny");
            assert.equal(await evaluate([doc], { action: "s3:PutObject", resource: "arn:aws:s3:::glue-input-dev-111111111111/ci/a.csv" }), "allow");
            assert.equal(await evaluate([doc], { action: "s3:PutObject", resource: "arn:aws:s3:::glue-input-dev-111111111111/ci-other/a.csv" }), "implicit-deny");
        });
    });

    describe("with bad arguments", () => {
        const refused: Array<[string, () => unknown, RegExp]> = [
            ["a whole account as the CI principal", () => mod.glueTestRoleTrustPolicy(["arn:aws:iam::333333333333:root"]), /must be role ARNs \(never a whole account\)/],
            ["no CI principal", () => mod.glueTestRoleTrustPolicy([]), /must be role ARNs/],
            ["a CI principal in the workload account", () => new mod.GlueTestRole("bad", { stage: "dev", accountId: A, region: "eu-west-1", ciPrincipalArns: [`arn:aws:iam::${A}:role/ci`] }), /must be in the pipeline account/],
            ["an empty test prefix (the whole bucket)", () => mod.glueTestRolePolicy({ partition: "aws", region: "eu-west-1", accountId: A, stage: "dev", jobNames: ["J"], testPrefix: "" }), /testPrefix must not be empty/],
            ["no jobs", () => mod.glueTestRolePolicy({ partition: "aws", region: "eu-west-1", accountId: A, stage: "dev", jobNames: [], testPrefix: "t/" }), /at least one job name/],
        ];
        for (const [title, build, message] of refused) it(`refuses ${title}`, async () => assert.throws(build, message));
    });
});
