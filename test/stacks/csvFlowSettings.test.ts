/**
 * The CSV flow's delimiter and encoding, end to end on the Pulumi side: the stack file's `csv` section →
 * StackConfig → FileProcessorV2's default arguments (--delimiter, --encoding), which Glue hands to every run
 * the trigger starts. glue/tests/test_fidelity.py runs the job's entry point with the same arguments.
 */
import * as assert from "node:assert/strict";
import { ConfigError, parseStackConfig, PROJECT } from "../../stacks/config";
import { named } from "../support/graph";
import { buildWorkload, stackConfig } from "../support/workload";

const BASE = { [`${PROJECT}:stage`]: "dev", [`${PROJECT}:accountId`]: "111111111111", "aws:region": "eu-west-1" };

describe("the CSV flow's delimiter and encoding", () => {
    describe("stack configuration", () => {
        it("defaults to comma and UTF-8", () => {
            assert.deepEqual(parseStackConfig("dev", BASE, {}).csv, { delimiter: "comma", encoding: "utf-8" });
        });

        it("reads a semicolon-delimited Latin-1 source from the csv section", () => {
            const cfg = parseStackConfig("dev", { ...BASE, [`${PROJECT}:csv`]: JSON.stringify({ delimiter: "semicolon", encoding: "latin-1" }) }, {});
            assert.deepEqual(cfg.csv, { delimiter: "semicolon", encoding: "latin-1" });
        });

        for (const [field, value, message] of [
            ["delimiter", ";", /csv\.delimiter: ";" is not one of comma, semicolon, tab, pipe/],
            ["encoding", "cp1252", /csv\.encoding: "cp1252" is not one of utf-8, latin-1/],
            ["separator", "tab", /csv\.separator: unknown setting/],
        ] as const) {
            it(`refuses csv.${field} = ${value}`, () => {
                assert.throws(() => parseStackConfig("dev", { ...BASE, [`${PROJECT}:csv`]: JSON.stringify({ [field]: value }) }, {}), (err: unknown) => {
                    assert.ok(err instanceof ConfigError);
                    assert.match(err.message, message);
                    return true;
                });
            });
        }
    });

    describe("FileProcessorV2's default arguments", () => {
        it("carry the configured delimiter and encoding", async () => {
            await buildWorkload(stackConfig("dev", { csv: { delimiter: "tab", encoding: "latin-1" } }));
            const args = named("file-processor-job", "aws:glue/job:Job").inputs.defaultArguments;
            assert.equal(args["--delimiter"], "tab");
            assert.equal(args["--encoding"], "latin-1");
        });

        it("are comma and utf-8 when the stack sets nothing", async () => {
            await buildWorkload(stackConfig("dev"));
            const args = named("file-processor-job", "aws:glue/job:Job").inputs.defaultArguments;
            assert.equal(args["--delimiter"], "comma");
            assert.equal(args["--encoding"], "utf-8");
        });
    });
});
