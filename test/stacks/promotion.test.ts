import * as assert from "node:assert/strict";
import { checkPromotion, PromotionError } from "../../stacks/promotion";

const sha = (c: string) => c.repeat(64);
const local = { fileProcessorScript: sha("a"), triggerBundle: sha("b") };
const DEV = "acme/glue-data-pipeline/dev";

describe("promotion contract", () => {
    it("passes when the source stack deployed exactly these artifacts", () => {
        assert.deepEqual(checkPromotion(DEV, { ...local, somethingElse: sha("c") }, local), local);
    });

    const refusals: Array<[string, unknown, RegExp]> = [
        ["output missing", undefined, /has no output "artifacts".*pulumi up --stack acme\/glue-data-pipeline\/dev/],
        ["output null", null, /has no output "artifacts"/],
        ["output a string", "abc", /is string, expected an object/],
        ["output an array", [sha("a")], /is an array, expected an object/],
        ["artifact missing", { fileProcessorScript: sha("a") }, /has not deployed artifact "triggerBundle" \(sha256 bbbbbbbbbbbb\)/],
        ["artifact of the wrong type", { ...local, triggerBundle: 42 }, /exported artifact "triggerBundle" as 42, expected a SHA-256/],
        ["artifact at another version", { ...local, fileProcessorScript: sha("f") }, /"fileProcessorScript" here is sha256 aaaaaaaaaaaa, but .* runs ffffffffffff/],
        ["output an empty object (dev deployed nothing of this contract)", {}, /has not deployed artifact "fileProcessorScript"/],
        ["artifact a hash in capitals", { ...local, triggerBundle: sha("B") }, /exported artifact "triggerBundle" as "B{64}", expected a SHA-256 in hex/],
        ["artifact a truncated hash", { ...local, triggerBundle: sha("b").slice(0, 12) }, /exported artifact "triggerBundle" as "b{12}", expected a SHA-256 in hex/],
        ["artifact an object", { ...local, triggerBundle: { sha256: sha("b") } }, /exported artifact "triggerBundle" as \{"sha256":"b{64}"\}, expected a SHA-256/],
    ];
    for (const [title, exported, message] of refusals) {
        it(`refuses: ${title}`, () => {
            assert.throws(() => checkPromotion(DEV, exported, local), (err: Error) => {
                assert.ok(err instanceof PromotionError);
                assert.match(err.message, message);
                return true;
            });
        });
    }
});
