import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import type { ProcessingMetadataTable, ProcessingMetadataTableArgs } from "../../components/tracking/processingMetadataTable";
import { descendantsOf, named, ofType, resetRecorded, waitForRegistrations } from "../support/graph";

// Loaded in before(), after the --require'd mocks, as the house convention asks.
let m: typeof import("../../components/tracking/processingMetadataTable");

const TABLE = "aws:dynamodb/table:Table";
const ACCOUNT = "111111111111";
const REGION = "eu-west-1";


async function build(name: string, args: Partial<ProcessingMetadataTableArgs> = {}): Promise<ProcessingMetadataTable> {
    resetRecorded();
    const component = new m.ProcessingMetadataTable(name, { stage: "dev", ...args });
    await waitForRegistrations();
    return component;
}

const output = <T>(o: pulumi.Output<T>): Promise<T> => new Promise((resolve) => o.apply(resolve));

describe("ProcessingMetadataTable", () => {
    before(async () => {
        m = await import("../../components/tracking/processingMetadataTable");
    });

    describe("with defaults", () => {
        let component: ProcessingMetadataTable;
        let inputs: Record<string, any>;
        before(async () => {
            component = await build("m");
            inputs = named("m-table", TABLE).inputs;
        });

        it("names the table etl-pipeline-metadata-{stage} and bills on demand", () => {
            assert.equal(inputs.name, "etl-pipeline-metadata-dev");
            assert.equal(inputs.billingMode, "PAY_PER_REQUEST");
            assert.equal(inputs.readCapacity, undefined);
            assert.equal(inputs.writeCapacity, undefined);
        });

        it("keys on file_id (S) and declares only key attributes", () => {
            assert.equal(inputs.hashKey, "file_id");
            assert.equal(inputs.rangeKey, undefined);
            assert.deepEqual(inputs.attributes, [
                { name: "file_id", type: "S" },
                { name: "processing_status", type: "S" },
                { name: "updated_at", type: "S" },
            ]);
        });

        it("has the by-status GSI: processing_status → updated_at, projecting ALL", () => {
            assert.deepEqual(inputs.globalSecondaryIndexes, [
                {
                    name: "by-status",
                    keySchemas: [
                        { attributeName: "processing_status", keyType: "HASH" },
                        { attributeName: "updated_at", keyType: "RANGE" },
                    ],
                    projectionType: "ALL",
                },
            ]);
        });

        it("turns on point-in-time recovery for 35 days", () => {
            assert.deepEqual(inputs.pointInTimeRecovery, { enabled: true, recoveryPeriodInDays: 35 });
        });

        it("encrypts with an AWS owned key when none is given", () => {
            assert.deepEqual(inputs.serverSideEncryption, { enabled: false });
        });

        it("has no deletion protection and no TTL, but is retained on delete", () => {
            assert.equal(inputs.deletionProtectionEnabled, false);
            assert.equal(inputs.ttl, undefined);
            assert.equal(named("m-table").retainOnDelete, true);
        });

        it("exposes the table, its name, ARN and the status index ARN", async () => {
            const arn = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/etl-pipeline-metadata-dev`;
            assert.equal(await output(component.tableName), "etl-pipeline-metadata-dev");
            assert.equal(await output(component.table.arn), arn);
            assert.equal(await output(component.tableArn), arn);
            assert.equal(await output(component.statusIndexArn), `${arn}/index/by-status`);
        });

        it("parents the table to the component", () => {
            const root = named("m", "glue-pipeline:tracking:ProcessingMetadataTable");
            assert.deepEqual(descendantsOf(root).map((r) => r.name), ["m-table"]);
        });
    });

    describe("in prod (customer key, deletion protection, TTL)", () => {
        const key = `arn:aws:kms:${REGION}:${ACCOUNT}:key/prod`;
        let inputs: Record<string, any>;
        before(async () => {
            await build("prod", { stage: "prod", kmsKeyArn: pulumi.output(key), deletionProtection: true, ttlAttribute: "expires_at", pointInTimeRecoveryDays: 14 });
            inputs = named("prod-table", TABLE).inputs;
        });
        it("encrypts with the given key", () => assert.deepEqual(inputs.serverSideEncryption, { enabled: true, kmsKeyArn: key }));
        it("turns deletion protection on", () => assert.equal(inputs.deletionProtectionEnabled, true));
        it("expires records on the TTL attribute", () => assert.deepEqual(inputs.ttl, { enabled: true, attributeName: "expires_at" }));
        it("keeps the configured recovery window", () => assert.equal(inputs.pointInTimeRecovery.recoveryPeriodInDays, 14));
        it("names the table after the stage", () => assert.equal(inputs.name, "etl-pipeline-metadata-prod"));
    });

    describe("with deletion allowed and an explicit name", () => {
        before(() => build("tmp", { tableName: "my.metadata_table-1", allowDestroy: true }));
        it("uses the name and does not retain the table", () => {
            assert.equal(named("tmp-table", TABLE).inputs.name, "my.metadata_table-1");
            assert.equal(named("tmp-table").retainOnDelete, false);
            assert.equal(ofType(TABLE).length, 1);
        });
    });

    describe("argument validation", () => {
        const cases: [string, Partial<ProcessingMetadataTableArgs>, RegExp][] = [
            ["an invalid stage", { stage: "Dev" }, /stage "Dev" is invalid/],
            ["an invalid stage even with a table name", { stage: "a b", tableName: "ok-name" }, /stage "a b" is invalid/],
            ["a table name with a slash", { tableName: "a/b" }, /tableName "a\/b" is invalid/],
            ["a two-character table name", { tableName: "ab" }, /tableName "ab" is invalid/],
            ["TTL on a key attribute", { ttlAttribute: "updated_at" }, /ttlAttribute updated_at is a string key attribute/],
            ["an invalid TTL attribute name", { ttlAttribute: "expires at" }, /ttlAttribute "expires at" is not a valid attribute name/],
            ["a recovery window of 36 days", { pointInTimeRecoveryDays: 36 }, /pointInTimeRecoveryDays must be a whole number from 1 to 35, got 36/],
            ["a recovery window of 0 days", { pointInTimeRecoveryDays: 0 }, /pointInTimeRecoveryDays/],
        ];
        for (const [title, args, message] of cases) {
            it(`rejects ${title}`, () => {
                assert.throws(() => new m.ProcessingMetadataTable(`bad-${title.replace(/\W+/g, "-")}`, { stage: "dev", ...args }), message);
            });
        }
    });

    describe("pure helpers", () => {
        const names: [string, string][] = [
            ["dev", "etl-pipeline-metadata-dev"],
            ["prod", "etl-pipeline-metadata-prod"],
            ["pr-7", "etl-pipeline-metadata-pr-7"],
        ];
        for (const [stage, expected] of names) it(`m.metadataTableName(${stage})`, () => assert.equal(m.metadataTableName(stage), expected));

        const tableNames: [string, boolean][] = [
            ["abc", true],
            ["a".repeat(255), true],
            ["a".repeat(256), false],
            ["ab", false],
            ["etl pipeline", false],
            ["etl_pipeline.metadata-1", true],
        ];
        for (const [name, ok] of tableNames) {
            it(`m.validateTableName(${name.length > 20 ? `${name.length} chars` : JSON.stringify(name)}) ${ok ? "accepts" : "rejects"}`, () => {
                if (ok) assert.doesNotThrow(() => m.validateTableName(name));
                else assert.throws(() => m.validateTableName(name), /tableName/);
            });
        }

        it("schema: every key attribute is declared, and every declared attribute is a key", () => {
            const schema = m.metadataTableSchema();
            const declared = schema.attributes.map((a) => a.name).sort();
            const keys = [schema.hashKey, ...schema.globalSecondaryIndexes.flatMap((i) => i.keySchemas.map((k) => k.attributeName))];
            // DynamoDB rejects declared attributes that no key uses, and keys that are not declared.
            assert.deepEqual([...new Set(keys)].sort(), declared);
        });

        const arns: [string | undefined, string][] = [
            [undefined, "arn:aws:dynamodb:eu-west-1:1:table/t/index/by-status"],
            ["other", "arn:aws:dynamodb:eu-west-1:1:table/t/index/other"],
        ];
        for (const [index, expected] of arns) it(`m.indexArn(${index ?? "by-status (default)"})`, () => assert.equal(m.indexArn("arn:aws:dynamodb:eu-west-1:1:table/t", index), expected));
    });
});
