/**
 * Prod's promotion with the smoke requirement, through the whole composition under mocks: prod deploys only
 * a release whose smoke check passed on dev (dev's `smoke` output), and when refused registers nothing that
 * ships code. `promotion.requireSmoke: false` turns the requirement off.
 */
import * as assert from "node:assert/strict";
import { setStackReferenceOutputs } from "../../scripts/offline/pulumiMocks";
import { ofType } from "../support/graph";
import { valueOf } from "../support/outputs";
import { buildWorkload, stackConfig } from "../support/workload";

const DEV_STACK = "acme/glue-data-pipeline/dev";

describe("promotion to prod requires dev's smoke check on the same release", () => {
    let artifacts: Record<string, string>;
    let release: string;
    before(async () => {
        const { localArtifactVersions, releaseId, shippedArtifacts } = await import("../../stacks/artifacts");
        artifacts = localArtifactVersions();
        // The fixture's prod runs no medallion workflow: its release is that of what it ships.
        release = releaseId(localArtifactVersions(shippedArtifacts(false)));
    });
    afterEach(() => setStackReferenceOutputs(DEV_STACK, undefined));

    const prod = (requireSmoke?: boolean) => stackConfig("prod", { promotion: { fromStack: DEV_STACK, ...(requireSmoke === undefined ? {} : { requireSmoke }) } });
    const passedFor = (releaseId: string) => ({ releaseId, stack: DEV_STACK, runId: "r", passedAt: "2026-12-04T10:00:00.000Z", files: ["smoke/r/customers.csv"] });
    const nothingShipped = () => {
        assert.equal(ofType("aws:glue/job:Job").length, 0, "no job may be registered with an unproven release");
        assert.equal(ofType("aws:lambda/function:Function").length, 0, "no function may be registered with an unproven release");
    };

    it("deploys when dev's smoke passed for this release", async () => {
        setStackReferenceOutputs(DEV_STACK, { artifacts, smoke: passedFor(release) });
        const stack = await buildWorkload(prod());
        assert.equal(await valueOf(stack.releaseId), release);
        assert.ok(ofType("aws:glue/job:Job").length > 0);
    });

    it("refuses, before any code ships, when dev has no smoke output", async () => {
        setStackReferenceOutputs(DEV_STACK, { artifacts });
        const stack = await buildWorkload(prod());
        await assert.rejects(valueOf(stack.releaseId), /Stack acme\/glue-data-pipeline\/dev has no output "smoke".*pulumi config set smokeOnUp true --stack acme\/glue-data-pipeline\/dev/);
        nothingShipped();
    });

    it("refuses when dev's smoke passed for another release (its update for this one failed at the check)", async () => {
        setStackReferenceOutputs(DEV_STACK, { artifacts, smoke: passedFor("fedcba9876543210") });
        const stack = await buildWorkload(prod());
        await assert.rejects(valueOf(stack.releaseId), new RegExp(`for release fedcba9876543210 .*but this stack deploys release ${release}`));
        nothingShipped();
    });

    it("refuses when dev's smoke output is malformed", async () => {
        setStackReferenceOutputs(DEV_STACK, { artifacts, smoke: "passed" });
        const stack = await buildWorkload(prod());
        await assert.rejects(valueOf(stack.releaseId), /Output "smoke" of stack acme\/glue-data-pipeline\/dev is string/);
        nothingShipped();
    });

    it("with requireSmoke false, deploys on the artifacts alone", async () => {
        setStackReferenceOutputs(DEV_STACK, { artifacts });
        const stack = await buildWorkload(prod(false));
        assert.equal(await valueOf(stack.releaseId), release);
    });
});
