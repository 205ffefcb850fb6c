import * as assert from "node:assert/strict";

import type * as pulumi from "@pulumi/pulumi";

// Static imports: test/support/pulumiMocks.ts is --require'd by mocha, so the mocks are installed first.
import * as e from "../../components/glue/glueEnvironment";
import { descendantsOf, named, ofType, resetRecorded, waitForRegistrations } from "../support/graph";

const ACCOUNT = "111111111111";
const REGION = "eu-west-1";
const KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/stack-key`;
const T = {
    database: "aws:glue/catalogDatabase:CatalogDatabase",
    security: "aws:glue/securityConfiguration:SecurityConfiguration",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
};

const resolve = <T>(o: pulumi.Output<T>): Promise<T> => new Promise((r) => o.apply((v) => (r(v), v)));
const resolveAll = <T>(os: pulumi.Output<T>[]): Promise<T[]> => Promise.all(os.map(resolve));

async function create(args: Partial<e.GlueEnvironmentArgs> = {}, name = "env"): Promise<e.GlueEnvironment> {
    resetRecorded();
    const env = new e.GlueEnvironment(name, { stage: "dev", kmsKeyArn: KEY, tags: { Environment: "dev" }, ...args });
    await waitForRegistrations();
    return env;
}

describe("GlueEnvironment", () => {
    describe("pure helpers", () => {
        const databases: [string, string][] = [
            ["dev", "glue_database_v2_dev"],
            ["prod", "glue_database_v2_prod"],
            ["prod-eu", "glue_database_v2_prod_eu"],
        ];
        for (const [stage, database] of databases) {
            it(`names the ${stage} database ${database}`, () => assert.equal(e.glueDatabaseName(stage), database));
        }

        for (const stage of ["", "Dev", "1dev", "dev_1", "dev/x", "a".repeat(32)]) {
            it(`rejects the stage ${JSON.stringify(stage)}`, () => assert.throws(() => e.glueDatabaseName(stage), /stage must be lowercase/));
        }

        it("names the security configuration after the stage", () => assert.equal(e.glueSecurityConfigurationName("prod"), "glue-pipeline-prod"));

        const jobGroups: [string, string, string, { output: string; error: string }][] = [
            ["sc", "Role", "/", { output: "/aws-glue/jobs/sc-role/Role/output", error: "/aws-glue/jobs/sc-role/Role/error" }],
            ["glue-pipeline-dev", "FileProcessorV2-dev-GlueJobRole", "/", {
                output: "/aws-glue/jobs/glue-pipeline-dev-role/FileProcessorV2-dev-GlueJobRole/output",
                error: "/aws-glue/jobs/glue-pipeline-dev-role/FileProcessorV2-dev-GlueJobRole/error",
            }],
            ["sc", "Role", "/service-role/", { output: "/aws-glue/jobs/sc-role/service-role/Role/output", error: "/aws-glue/jobs/sc-role/service-role/Role/error" }],
        ];
        for (const [sc, role, rolePath, expected] of jobGroups) {
            it(`knows where Glue logs for role ${rolePath}${role} under ${sc}`, () => assert.deepEqual(e.encryptedJobLogGroupNames(sc, role, rolePath), expected));
        }
        it("rejects a role path without slashes", () => assert.throws(() => e.encryptedJobLogGroupNames("sc", "r", "path"), /role path/));

        it("knows the continuous-logging group of a security configuration", () => {
            assert.equal(e.encryptedContinuousLogGroupName("glue-pipeline-dev"), "/aws-glue/jobs/logs-v2-glue-pipeline-dev");
        });

        it("parses ARNs, keeping colons inside the resource", () => {
            assert.deepEqual(e.parseArn("arn:aws:logs:eu-west-1:111111111111:log-group:/x:*"), {
                partition: "aws",
                service: "logs",
                region: "eu-west-1",
                account: "111111111111",
                resource: "log-group:/x:*",
            });
            assert.throws(() => e.parseArn("glue_database_v2_dev"), /not an ARN/);
        });

        it("builds a log group ARN in the account and region of another ARN", () => {
            assert.equal(
                e.logGroupArn("arn:aws-cn:glue:cn-north-1:222222222222:database/d", "/aws-glue/jobs/output"),
                "arn:aws-cn:logs:cn-north-1:222222222222:log-group:/aws-glue/jobs/output",
            );
        });

        it("encrypts S3 with SSE-KMS, CloudWatch with SSE-KMS and bookmarks with CSE-KMS, all with one key", () => {
            assert.deepEqual(e.securityConfigurationEncryption(KEY), {
                s3Encryption: { s3EncryptionMode: "SSE-KMS", kmsKeyArn: KEY },
                cloudwatchEncryption: { cloudwatchEncryptionMode: "SSE-KMS", kmsKeyArn: KEY },
                jobBookmarksEncryption: { jobBookmarksEncryptionMode: "CSE-KMS", kmsKeyArn: KEY },
            });
        });
    });

    describe("with defaults", () => {
        let env: e.GlueEnvironment;
        before(async () => (env = await create()));

        it("creates the catalog database glue_database_v2_{stage}", () => {
            const inputs = named("env-database", T.database).inputs;
            assert.equal(inputs.name, "glue_database_v2_dev");
            assert.deepEqual(inputs.tags, { Environment: "dev" });
        });

        it("creates the security configuration with the three encryption modes and the stack key", () => {
            const inputs = named("env-security", T.security).inputs;
            assert.equal(inputs.name, "glue-pipeline-dev");
            assert.deepEqual(inputs.encryptionConfiguration, {
                s3Encryption: { s3EncryptionMode: "SSE-KMS", kmsKeyArn: KEY },
                cloudwatchEncryption: { cloudwatchEncryptionMode: "SSE-KMS", kmsKeyArn: KEY },
                jobBookmarksEncryption: { jobBookmarksEncryptionMode: "CSE-KMS", kmsKeyArn: KEY },
            });
        });

        it("creates every shared Glue log group with 30-day retention and the stack key", () => {
            const expected: [string, string][] = [
                ["env-output-logs", "/aws-glue/jobs/output"],
                ["env-error-logs", "/aws-glue/jobs/error"],
                ["env-continuous-logs", "/aws-glue/jobs/logs-v2"],
                ["env-encrypted-continuous-logs", "/aws-glue/jobs/logs-v2-glue-pipeline-dev"],
            ];
            assert.equal(ofType(T.logGroup).length, expected.length);
            for (const [logical, groupName] of expected) {
                const inputs = named(logical, T.logGroup).inputs;
                assert.equal(inputs.name, groupName, logical);
                assert.equal(inputs.retentionInDays, 30, logical);
                assert.equal(inputs.kmsKeyId, KEY, logical);
                assert.deepEqual(inputs.tags, { Environment: "dev" }, logical);
            }
        });

        it("leaves no log group without a retention", () => {
            assert.ok(ofType(T.logGroup).every((g) => Number.isInteger(g.inputs.retentionInDays) && g.inputs.retentionInDays > 0));
        });

        it("exposes what jobs need", async () => {
            assert.equal(await resolve(env.databaseName), "glue_database_v2_dev");
            assert.equal(await resolve(env.databaseArn), `arn:aws:glue:${REGION}:${ACCOUNT}:database/glue_database_v2_dev`);
            assert.equal(await resolve(env.securityConfigurationName), "glue-pipeline-dev");
            assert.equal(await resolve(env.kmsKeyArn), KEY);
            assert.equal(env.logRetentionInDays, 30);
            assert.deepEqual(env.sharedLogGroupNames, ["/aws-glue/jobs/output", "/aws-glue/jobs/error", "/aws-glue/jobs/logs-v2", "/aws-glue/jobs/logs-v2-glue-pipeline-dev"]);
            assert.deepEqual(
                await resolveAll(env.sharedLogGroupArns),
                env.sharedLogGroupNames.map((n) => `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${n}`),
            );
        });

        it("parents every child to the component and names it after it", () => {
            const children = descendantsOf(named("env", "glue-pipeline:glue:GlueEnvironment"));
            assert.equal(children.length, 6);
            assert.ok(children.every((c) => c.name.startsWith("env-")));
        });
    });

    describe("without the account-wide default log groups", () => {
        it("creates only the group named after its security configuration, and still lists the defaults' ARNs", async () => {
            const env = await create({ manageDefaultLogGroups: false });
            assert.deepEqual(ofType(T.logGroup).map((g) => g.inputs.name), ["/aws-glue/jobs/logs-v2-glue-pipeline-dev"]);
            assert.equal(env.outputLogGroup, undefined);
            assert.deepEqual(
                await resolveAll(env.sharedLogGroupArns),
                ["/aws-glue/jobs/output", "/aws-glue/jobs/error", "/aws-glue/jobs/logs-v2", "/aws-glue/jobs/logs-v2-glue-pipeline-dev"].map(
                    (n) => `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${n}`,
                ),
            );
        });
    });

    describe("in prod with a longer retention", () => {
        it("names everything after the stage and applies the retention everywhere", async () => {
            const env = await create({ stage: "prod", logRetentionInDays: 90, securityConfigurationName: "prod-glue-security" });
            assert.equal(named("env-database", T.database).inputs.name, "glue_database_v2_prod");
            assert.equal(named("env-security", T.security).inputs.name, "prod-glue-security");
            assert.equal(named("env-encrypted-continuous-logs", T.logGroup).inputs.name, "/aws-glue/jobs/logs-v2-prod-glue-security");
            assert.ok(ofType(T.logGroup).every((g) => g.inputs.retentionInDays === 90));
            assert.equal(env.logRetentionInDays, 90);
        });
    });

    describe("argument conflicts", () => {
        const rejects: [string, Partial<e.GlueEnvironmentArgs>, RegExp][] = [
            ["a retention CloudWatch does not offer", { logRetentionInDays: 31 }, /logRetentionInDays must be one of 1, 3, 5/],
            ["infinite retention", { logRetentionInDays: 0 }, /logRetentionInDays must be one of/],
            ["a bad stage", { stage: "Prod" }, /stage must be lowercase/],
            ["a security configuration name with spaces", { securityConfigurationName: "my config" }, /securityConfigurationName may contain only/],
        ];
        for (const [what, args, message] of rejects) {
            it(`rejects ${what} before creating any resource`, async () => {
                resetRecorded();
                assert.throws(() => new e.GlueEnvironment("env", { stage: "dev", kmsKeyArn: KEY, ...args }), message);
                await waitForRegistrations();
                assert.equal(ofType(T.database).length + ofType(T.security).length + ofType(T.logGroup).length, 0);
            });
        }
    });
});
