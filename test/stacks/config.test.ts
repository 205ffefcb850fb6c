import * as assert from "node:assert/strict";
import { ConfigError, parseStackConfig, RawConfig } from "../../stacks/config";

const P = "glue-data-pipeline";

/** A valid dev configuration in Pulumi's raw form, with `overrides` applied (undefined removes a key). */
function raw(overrides: Record<string, string | undefined> = {}): RawConfig {
    const base: Record<string, string | undefined> = {
        "aws:region": "eu-west-1",
        [`${P}:stage`]: "dev",
        [`${P}:accountId`]: "111111111111",
        [`${P}:tags`]: JSON.stringify({ Project: "glue-data-pipeline", Owner: "data-eng", CostCenter: "engineering" }),
    };
    for (const [k, v] of Object.entries(overrides)) base[k.includes(":") ? k : `${P}:${k}`] = v;
    return base;
}

describe("stack configuration", () => {
    describe("with the minimum settings", () => {
        const config = parseStackConfig("dev", raw());

        it("reads stage, account and region", () => {
            assert.equal(config.stage, "dev");
            assert.equal(config.accountId, "111111111111");
            assert.equal(config.region, "eu-west-1");
            assert.equal(config.deployRoleArn, undefined);
        });

        it("sets the Environment tag from the stage beside the three required tags", () => {
            assert.deepEqual(config.tags, { Project: "glue-data-pipeline", Owner: "data-eng", CostCenter: "engineering", Environment: "dev" });
        });

        it("takes the cheap, safe defaults", () => {
            assert.deepEqual(config.glue, { version: "5.1", maxWorkers: 2, executionClass: "STANDARD" });
            assert.deepEqual(config.trigger, { memoryMb: 256, reservedConcurrency: 5 });
            assert.equal(config.allowDataDestroy, false);
            assert.equal(config.promotion, undefined);
        });
    });

    describe("with every setting", () => {
        const config = parseStackConfig(
            "prod",
            raw({
                stage: "prod",
                deployRoleArn: "arn:aws:iam::111111111111:role/PulumiDeploy",
                glue: JSON.stringify({ version: "5.0", maxWorkers: 10, executionClass: "FLEX" }),
                trigger: JSON.stringify({ memoryMb: 512, reservedConcurrency: 20 }),
                allowDataDestroy: "true",
                promotion: JSON.stringify({ fromStack: "acme/glue-data-pipeline/dev" }),
            }),
        );

        it("reads them all", () => {
            assert.equal(config.deployRoleArn, "arn:aws:iam::111111111111:role/PulumiDeploy");
            assert.deepEqual(config.glue, { version: "5.0", maxWorkers: 10, executionClass: "FLEX" });
            assert.deepEqual(config.trigger, { memoryMb: 512, reservedConcurrency: 20 });
            assert.equal(config.allowDataDestroy, true);
            assert.deepEqual(config.promotion, { fromStack: "acme/glue-data-pipeline/dev" });
        });
    });

    describe("with a bad value, the error names the key", () => {
        const cases: Array<[string, Record<string, string | undefined>, RegExp]> = [
            ["missing stage", { stage: undefined }, /glue-data-pipeline:stage: missing/],
            ["stage with capitals", { stage: "Dev" }, /glue-data-pipeline:stage: "Dev" is not a stage name/],
            ["short account id", { accountId: "1234" }, /glue-data-pipeline:accountId: "1234" is not a 12-digit AWS account id/],
            ["missing region", { "aws:region": undefined }, /aws:region: missing; expected an AWS region/],
            ["bad region", { "aws:region": "europe" }, /aws:region: "europe" is not an AWS region/],
            ["role in another account", { deployRoleArn: "arn:aws:iam::999999999999:role/X" }, /deployRoleArn: role .* is not in account 111111111111/],
            ["not a role ARN", { deployRoleArn: "PulumiDeploy" }, /deployRoleArn: "PulumiDeploy" is not an IAM role ARN/],
            ["tags missing Owner", { tags: JSON.stringify({ Project: "p", CostCenter: "c" }) }, /tags.Owner: missing/],
            ["tags not a mapping", { tags: "[1]" }, /glue-data-pipeline:tags: expected an object/],
            ["Environment tag against the stage", { tags: JSON.stringify({ Project: "p", Owner: "o", CostCenter: "c", Environment: "prod" }) }, /tags.Environment: "prod" differs from stage "dev"/],
            ["unknown glue setting", { glue: JSON.stringify({ workers: 3 }) }, /glue.workers: unknown setting; known settings of glue: version, maxWorkers, executionClass/],
            ["glue version not a version", { glue: JSON.stringify({ version: "latest" }) }, /glue.version: "latest" is not a Glue version/],
            ["one worker", { glue: JSON.stringify({ maxWorkers: 1 }) }, /glue.maxWorkers: 1 is not a whole number from 2 to 100/],
            ["execution class", { glue: JSON.stringify({ executionClass: "SPOT" }) }, /glue.executionClass: "SPOT" is not one of STANDARD, FLEX/],
            ["memory below Lambda's minimum", { trigger: JSON.stringify({ memoryMb: 64 }) }, /trigger.memoryMb: 64 is not a whole number from 128 to 10240/],
            ["allowDataDestroy not boolean", { allowDataDestroy: "yes" }, /allowDataDestroy: "yes" is not true or false/],
            ["promotion source not a full stack name", { promotion: JSON.stringify({ fromStack: "dev" }) }, /promotion.fromStack: "dev" is not a stack name of the form org\/project\/stack/],
        ];
        for (const [title, overrides, message] of cases) {
            it(title, () => {
                assert.throws(() => parseStackConfig("dev", raw(overrides)), (err: Error) => {
                    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
                    assert.match(err.message, message);
                    return true;
                });
            });
        }
    });
});
