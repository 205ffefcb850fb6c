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

    describe("with the smoke requirement (promotion.requireSmoke)", () => {
        const RELEASE = "0123456789abcdef";
        const passed = { releaseId: RELEASE, stack: "dev", runId: "r", passedAt: "2026-12-04T10:00:00.000Z", files: ["smoke/r/customers.csv"] };
        const check = (smoke: unknown) => checkPromotion(DEV, local, local, { exported: smoke, releaseId: RELEASE });

        it("passes when dev's smoke check passed for the release deployed here", () => assert.deepEqual(check(passed), local));
        it("is not consulted without the requirement (requireSmoke false)", () => assert.deepEqual(checkPromotion(DEV, local, local), local));
        it("checks the artifacts first: a missing artifact is named even when smoke is missing too", () => {
            assert.throws(() => checkPromotion(DEV, {}, local, { exported: undefined, releaseId: RELEASE }), /has not deployed artifact/);
        });

        // Where dev simply has not proven this release, the message also says how to promote without the check;
        // a malformed output is a wiring problem, not a choice.
        const refusals: Array<[string, unknown, RegExp, boolean]> = [
            ["no smoke output (smokeOnUp off on dev, or never passed)", undefined, /has no output "smoke": no smoke check has passed there\. Turn it on \(pulumi config set smokeOnUp true --stack acme\/glue-data-pipeline\/dev\) and deploy it \(pulumi up --stack acme\/glue-data-pipeline\/dev\)/, true],
            ["smoke output null", null, /has no output "smoke"/, true],
            ["smoke output a string", "passed", /Output "smoke" of stack acme\/glue-data-pipeline\/dev is string, expected an object \{releaseId, passedAt, files\}\. Check that .* runs this project's smoke check \(smokeOnUp\)/, false],
            ["smoke output an array", [passed], /is an array/, false],
            ["smoke without a release id", { ...passed, releaseId: undefined }, /has releaseId undefined, expected a release id/, false],
            ["smoke without files", { ...passed, files: [] }, /has files \[\], expected the non-empty list of keys smoke checked/, false],
            ["smoke with a timestamp that is not one", { ...passed, passedAt: "today" }, /has passedAt "today"/, false],
            [
                "smoke passed for another release",
                { ...passed, releaseId: "fedcba9876543210" },
                /Smoke passed on acme\/glue-data-pipeline\/dev for release fedcba9876543210 \(2026-12-04T10:00:00\.000Z\), but this stack deploys release 0123456789abcdef: .*Deploy this release there \(pulumi up --stack acme\/glue-data-pipeline\/dev\)/,
                true,
            ],
        ];
        for (const [title, smoke, message, optOut] of refusals) {
            it(`refuses: ${title}`, () => {
                assert.throws(() => check(smoke), (err: Error) => {
                    assert.ok(err instanceof PromotionError);
                    assert.match(err.message, message);
                    assert.equal(/set promotion\.requireSmoke to false/.test(err.message), optOut, err.message);
                    return true;
                });
            });
        }
    });
});
