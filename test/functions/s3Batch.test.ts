/** The shared S3 batch loop (functions/shared/s3Batch) both S3-triggered handlers run, as pure logic. */
import assert from "node:assert/strict";
import { Logger } from "../../functions/shared/logger";
import { processS3Records, remainingTime } from "../../functions/shared/s3Batch";
import { S3EventRecordLike } from "../../functions/shared/s3Events";

type Outcome = { outcome: "done"; key: string } | { outcome: "skipped"; key: string } | { outcome: "failed"; key: string; error: Error };

const record = (key: string): S3EventRecordLike => ({ eventName: "ObjectCreated:Put", s3: { bucket: { name: "b" }, object: { key } } }) as S3EventRecordLike;

class BatchFailed extends Error {
    constructor(
        readonly failures: readonly { key: string }[],
        readonly total: number,
    ) {
        super(`${failures.length} of ${total} failed: ${failures.map((f) => f.key).join(", ")}`);
    }
}

function harness(handle: (key: string) => Outcome) {
    const lines: Record<string, unknown>[] = [];
    const seen: { key: string; requestId: unknown; remaining: number }[] = [];
    const options = {
        logger: new Logger({ service: "batch", level: "DEBUG", sink: (l) => lines.push(JSON.parse(l)) }),
        outcomeKinds: ["done", "skipped", "failed"] as Outcome["outcome"][],
        processRecord: async (r: S3EventRecordLike, remainingMs: () => number, log: Logger): Promise<Outcome> => {
            const key = r.s3!.object!.key!;
            log.info("handling", { key });
            seen.push({ key, requestId: lines.at(-1)?.aws_request_id, remaining: remainingMs() });
            return handle(key);
        },
        batchError: (failures: readonly Extract<Outcome, { outcome: "failed" }>[], total: number) => new BatchFailed(failures, total),
    };
    return { lines, seen, options };
}

describe("S3 batch loop", () => {
    it("handles every record in event order, counts the outcomes and logs them with the request id", async () => {
        const { lines, seen, options } = harness((key) => (key.startsWith("dup") ? { outcome: "skipped", key } : { outcome: "done", key }));

        const result = await processS3Records({ Records: [record("a.csv"), record("dup.csv"), record("b.csv")] }, { awsRequestId: "req-1" }, options);

        assert.deepEqual(seen.map((s) => s.key), ["a.csv", "dup.csv", "b.csv"]);
        assert.ok(seen.every((s) => s.requestId === "req-1"));
        assert.deepEqual(result.counts, { done: 2, skipped: 1, failed: 0 });
        assert.deepEqual(result.outcomes.map((o) => o.key), ["a.csv", "dup.csv", "b.csv"]);
        const handled = lines.find((l) => l.message === "event handled")!;
        assert.deepEqual({ done: handled.done, skipped: handled.skipped, failed: handled.failed, id: handled.aws_request_id }, { done: 2, skipped: 1, failed: 0, id: "req-1" });
    });

    it("goes on after a failed record, then throws one error naming every failure", async () => {
        const { seen, lines, options } = harness((key) => (key.startsWith("bad") ? { outcome: "failed", key, error: new Error(`no ${key}`) } : { outcome: "done", key }));

        await assert.rejects(
            processS3Records({ Records: [record("bad1.csv"), record("a.csv"), record("bad2.csv")] }, undefined, options),
            (err: BatchFailed) => err instanceof BatchFailed && err.total === 3 && err.message === "2 of 3 failed: bad1.csv, bad2.csv",
        );
        assert.equal(seen.length, 3);
        assert.equal(lines.find((l) => l.message === "event handled")!.failed, 2);
    });

    it("says so for an event without records (S3's test event) and returns zero counts", async () => {
        const { lines, options } = harness((key) => ({ outcome: "done", key }));

        const result = await processS3Records({}, undefined, options);

        assert.deepEqual(result.counts, { done: 0, skipped: 0, failed: 0 });
        assert.ok(lines.some((l) => l.message === "event has no records (e.g. s3:TestEvent); nothing to do"));
    });

    it("passes the invocation's remaining time through, and no limit outside Lambda", async () => {
        const { seen, options } = harness((key) => ({ outcome: "done", key }));
        let left = 9000;
        const context = {
            getRemainingTimeInMillis(this: unknown) {
                assert.equal(this, context, "called on the context, as the Lambda runtime's method expects");
                return (left -= 1000);
            },
        };

        await processS3Records({ Records: [record("a.csv"), record("b.csv")] }, context, options);

        assert.deepEqual(seen.map((s) => s.remaining), [8000, 7000]);
        assert.equal(remainingTime(undefined)(), Number.POSITIVE_INFINITY);
    });
});
