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
