/** The emulator harness itself: the failure message without a venv, resets, and held Glue runs. */
import assert from "node:assert/strict";
import { ListBucketsCommand } from "@aws-sdk/client-s3";
import { motoCommand, useEmulator } from "../support/emulator";

describe("emulator harness", () => {
    it("tells the user to run `npm run setup` when the venv is missing", () => {
        assert.throws(() => motoCommand("/nonexistent/.venv/bin"), /not installed: .* Run `npm run setup`/);
    });

    describe("with the emulator running", () => {
        const aws = useEmulator();

        it("points the AWS SDK environment at the emulator for the describe's duration", () => {
            assert.equal(process.env.AWS_ENDPOINT_URL, aws.endpoint);
            assert.match(aws.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
            assert.equal(process.env.AWS_REGION, "eu-west-1");
        });

        it("forgets everything on reset", async () => {
            await aws.createBucket("harness-reset-check");

            await aws.reset();

            const out = await aws.clients.s3.send(new ListBucketsCommand({}));
            assert.deepEqual(out.Buckets ?? [], []);
        });

        it("holds Glue runs in STARTING until released, so MaxConcurrentRuns is enforced", async () => {
            await aws.createGlueJob("harness-job", { maxConcurrentRuns: 1 });
            await aws.holdJobRuns();
            const runId = await aws.startJobRun("harness-job");

            await assert.rejects(aws.startJobRun("harness-job"), { name: "ConcurrentRunsExceededException" });
            assert.equal((await aws.jobRun("harness-job", runId)).JobRunState, "STARTING");

            await aws.releaseJobRuns();
            assert.equal((await aws.jobRun("harness-job", runId)).JobRunState, "SUCCEEDED");
            await aws.startJobRun("harness-job");
        });
    });
});
