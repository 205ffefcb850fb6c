/**
 * `claims.warehouse` in the stack configuration: absent by default (no warehouse), its presence deploys it,
 * its fields are typed and checked, and a misspelt field is refused naming the nearest one.
 */
import * as assert from "node:assert/strict";
import { ConfigError, parseStackConfig } from "../../stacks/config";

const withClaims = (claims: Record<string, unknown> | undefined) =>
    parseStackConfig(
        "dev",
        {
            "glue-data-pipeline:stage": "dev",
            "glue-data-pipeline:accountId": "111111111111",
            "aws:region": "eu-west-1",
            ...(claims !== undefined ? { "glue-data-pipeline:claims": JSON.stringify(claims) } : {}),
        },
        {},
    ).claims;

describe("claims.warehouse configuration", () => {
    it("is off by default: a stack without the section has no warehouse key at all", () => {
        assert.ok(!("warehouse" in (withClaims(undefined) ?? {})));
        assert.ok(!("warehouse" in (withClaims({ minQualityScore: 97 }) ?? {})));
    });

    it("an empty section deploys the warehouse with the defaults (8 RPU, database claims, 10.42.0.0/16)", () => {
        assert.deepEqual(withClaims({ warehouse: {} })?.warehouse, { baseCapacity: 8, databaseName: "claims", vpcCidr: "10.42.0.0/16" });
    });

    it("reads every field", () => {
        assert.deepEqual(withClaims({ warehouse: { baseCapacity: 32, maxCapacity: 128, databaseName: "claims_dw", vpcCidr: "10.50.0.0/20" } })?.warehouse, {
            baseCapacity: 32,
            maxCapacity: 128,
            databaseName: "claims_dw",
            vpcCidr: "10.50.0.0/20",
        });
        assert.equal(withClaims({ warehouse: { baseCapacity: 4 } })?.warehouse?.baseCapacity, 4);
    });

    const bad: Array<[string, unknown, RegExp]> = [
        ["a misspelt field, naming the nearest", { baseCapcity: 8 }, /claims\.warehouse\.baseCapcity: unknown setting; did you mean baseCapacity\? \(known settings of claims\.warehouse: baseCapacity, maxCapacity, databaseName, vpcCidr\)/],
        ["a capacity between the steps", { baseCapacity: 12 }, /claims\.warehouse\.baseCapacity: 12 is not a Redshift Serverless capacity/],
        ["a capacity as text", { baseCapacity: "8" }, /claims\.warehouse\.baseCapacity: "8" is not a whole number from 4 to 512/],
        ["a ceiling below the base", { baseCapacity: 64, maxCapacity: 32 }, /claims\.warehouse\.maxCapacity: 32 is below baseCapacity 64/],
        ["a database name with a hyphen", { databaseName: "claims-dw" }, /claims\.warehouse\.databaseName: "claims-dw" is not a database name/],
        ["a VPC too small for three /24 subnets", { vpcCidr: "10.0.0.0/24" }, /claims\.warehouse\.vpcCidr: "10\.0\.0\.0\/24" is not an IPv4 block from \/16 to \/22/],
        ["a VPC address that is not one", { vpcCidr: "10.300.0.0/16" }, /claims\.warehouse\.vpcCidr/],
        ["a section that is not an object", true, /claims\.warehouse: expected an object/],
    ];
    for (const [title, warehouse, message] of bad) {
        it(`refuses ${title}`, () => assert.throws(() => withClaims({ warehouse }), (err: Error) => err instanceof ConfigError && message.test(err.message)));
    }
});
