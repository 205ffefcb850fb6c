/** The shared S3 batch loop (functions/shared/s3Batch) both S3-triggered handlers run, as pure logic. */
import assert from "node:assert/strict";
import { Logger } from "../../functions/shared/logger";
import { Delivery, queueUrlOfArn, requeueDelaySeconds } from "../../functions/shared/backpressure";
import { isQueueEvent, processQueueMessages, processS3Records, QueueMessageLike, readMessageBody, remainingTime } from "../../functions/shared/s3Batch";
import { S3EventRecordLike } from "../../functions/shared/s3Events";

type Outcome =
    | { outcome: "done"; key: string }
    | { outcome: "skipped"; key: string }
    | { outcome: "waiting"; key: string; wait: { waitAttempt: number; delaySeconds: number } }
    | { outcome: "failed"; key: string; error: Error };

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

describe("queue batch loop (SQS messages holding S3 events)", () => {
    const QUEUE_ARN = "arn:aws:sqs:eu-west-1:111111111111:glue-trigger-dev";
    const feed = { requeueBaseDelaySeconds: 30, requeueMaxDelaySeconds: 900, maxWaitAttempts: 5 };
    const message = (id: string, body: unknown, waitAttempt?: number): QueueMessageLike => ({
        messageId: id,
        body: typeof body === "string" ? body : JSON.stringify(body),
        eventSource: "aws:sqs",
        eventSourceARN: QUEUE_ARN,
        ...(waitAttempt !== undefined ? { messageAttributes: { wait_attempt: { stringValue: String(waitAttempt), dataType: "Number" } } } : {}),
    });
    const s3Body = (...keys: string[]) => ({ Records: keys.map(record) });
    const TEST_EVENT = { Service: "Amazon S3", Event: "s3:TestEvent", Time: "2026-01-01T00:00:00.000Z", Bucket: "b", RequestId: "r", HostId: "h" };

    /** An SQS client that records what is sent (or refuses it). */
    function fakeSqs(fail = false) {
        const sent: Record<string, any>[] = [];
        return { sent, client: { send: async (command: { input: Record<string, unknown> }) => (fail ? Promise.reject(Object.assign(new Error("down"), { name: "ServiceUnavailable" })) : (sent.push(command.input), {})) } as never };
    }

    function queueHarness(handle: (key: string, delivery: Delivery) => Outcome, options: { failSend?: boolean; queueUrl?: string } = {}) {
        const base = harness((key) => handle(key, { queued: false }));
        const deliveries: Delivery[] = [];
        const sqs = fakeSqs(options.failSend);
        return {
            ...base,
            sqs,
            deliveries,
            options: {
                ...base.options,
                outcomeKinds: ["done", "skipped", "waiting", "failed"] as Outcome["outcome"][],
                processRecord: async (r: S3EventRecordLike, _remaining: () => number, _log: Logger, delivery: Delivery): Promise<Outcome> => {
                    deliveries.push(delivery);
                    return handle(r.s3!.object!.key!, delivery);
                },
                queue: { sqs: sqs.client, config: { ...feed, ...(options.queueUrl ? { queueUrl: options.queueUrl } : {}) } },
            },
        };
    }

    const byKey = (key: string): Outcome =>
        key.startsWith("bad")
            ? { outcome: "failed", key, error: new Error(`no ${key}`) }
            : key.startsWith("full")
              ? { outcome: "waiting", key, wait: { waitAttempt: 2, delaySeconds: 60 } }
              : { outcome: "done", key };

    it("answers only the failed messages; a waiting file's message is sent back with its delay and wait number; S3's test event is dropped", async () => {
        const { options, sqs, lines } = queueHarness(byKey);
        const event = { Records: [message("m1", s3Body("a.csv")), message("m2", s3Body("bad.csv")), message("m3", s3Body("full.csv")), message("m4", TEST_EVENT)] };

        const result = await processQueueMessages(event, { awsRequestId: "req-9" }, options);

        assert.deepEqual(result.batchItemFailures, [{ itemIdentifier: "m2" }]);
        assert.deepEqual(result.counts, { done: 1, skipped: 0, waiting: 1, failed: 1 });
        assert.equal(result.requeued, 1);
        assert.equal(result.dropped, 1);
        assert.deepEqual(sqs.sent, [
            {
                QueueUrl: "https://sqs.eu-west-1.amazonaws.com/111111111111/glue-trigger-dev",
                MessageBody: JSON.stringify(s3Body("full.csv")),
                DelaySeconds: 60,
                MessageAttributes: { wait_attempt: { DataType: "Number", StringValue: "2" } },
            },
        ]);
        assert.ok(lines.some((l) => l.message === "s3:TestEvent dropped: S3 sends it when a notification configuration is saved" && l.message_id === "m4"));
        const handled = lines.find((l) => l.message === "batch handled")!;
        assert.deepEqual(
            { messages: handled.messages, requeued: handled.requeued, dropped: handled.dropped, failed: handled.messages_failed, id: handled.aws_request_id },
            { messages: 4, requeued: 1, dropped: 1, failed: 1, id: "req-9" },
        );
    });

    it("tells each record it was queued and how often its file has waited (the message's wait_attempt)", async () => {
        const { options, deliveries } = queueHarness(byKey);

        await processQueueMessages({ Records: [message("m1", s3Body("a.csv")), message("m2", s3Body("b.csv"), 3)] }, undefined, options);

        assert.deepEqual(
            deliveries.map((d) => (d.queued ? d.waitAttempts : "direct")),
            [0, 3],
        );
    });

    it("sends a message whose records wait back once, with the longest delay and the highest wait number", async () => {
        const waits: Record<string, Outcome> = {
            "x.csv": { outcome: "waiting", key: "x.csv", wait: { waitAttempt: 1, delaySeconds: 30 } },
            "y.csv": { outcome: "waiting", key: "y.csv", wait: { waitAttempt: 4, delaySeconds: 240 } },
            "z.csv": { outcome: "skipped", key: "z.csv" },
        };
        const { options, sqs } = queueHarness((key) => waits[key], { queueUrl: "http://localhost:4566/111111111111/q" });

        const result = await processQueueMessages({ Records: [message("m1", s3Body("x.csv", "y.csv", "z.csv"))] }, undefined, options);

        assert.deepEqual(result.batchItemFailures, []);
        assert.equal(sqs.sent.length, 1);
        assert.equal(sqs.sent[0].QueueUrl, "http://localhost:4566/111111111111/q", "the configured URL wins over the source ARN");
        assert.equal(sqs.sent[0].DelaySeconds, 240);
        assert.equal(sqs.sent[0].MessageAttributes.wait_attempt.StringValue, "4");
    });

    it("reports a waiting message failed when it cannot be sent back, so the queue returns it", async () => {
        const { options } = queueHarness(byKey, { failSend: true });

        const result = await processQueueMessages({ Records: [message("m1", s3Body("full.csv")), message("m2", s3Body("a.csv"))] }, undefined, options);

        assert.deepEqual(result.batchItemFailures, [{ itemIdentifier: "m1" }]);
    });

    it("reports a body S3 never sends as failed (the redrive policy takes it to the dead-letter queue), and answers a wholly failed batch instead of throwing", async () => {
        const { options } = queueHarness(byKey);

        const result = await processQueueMessages({ Records: [message("m1", "not json"), message("m2", { hello: "world" })] }, undefined, options);

        assert.deepEqual(result.batchItemFailures, [{ itemIdentifier: "m1" }, { itemIdentifier: "m2" }]);
    });

    it("tells a queue's event from a direct S3 event, and reads message bodies", () => {
        assert.equal(isQueueEvent({ Records: [message("m1", s3Body("a.csv"))] }), true);
        assert.equal(isQueueEvent(s3Body("a.csv")), false);
        assert.equal(isQueueEvent({}), false);
        assert.deepEqual(readMessageBody(JSON.stringify(TEST_EVENT)), { kind: "test-event" });
        assert.equal(readMessageBody(JSON.stringify(s3Body("a.csv"))).kind, "s3-event");
        assert.equal(readMessageBody("{").kind, "unreadable");
    });
});

describe("backpressure delays", () => {
    const feed = { requeueBaseDelaySeconds: 30, requeueMaxDelaySeconds: 900 };
    const table: [waitAttempt: number, seconds: number][] = [
        [1, 30],
        [2, 60],
        [3, 120],
        [5, 480],
        [6, 900],
        [7, 900],
        [1000, 900],
    ];
    for (const [waitAttempt, seconds] of table) {
        it(`waits ${seconds} s before the message of wait ${waitAttempt} comes back (30 s doubling, SQS's 900 s cap)`, () => assert.equal(requeueDelaySeconds(waitAttempt, feed), seconds));
    }
    it("never exceeds the configured cap nor SQS's, and a zero base delay re-sends at once", () => {
        assert.equal(requeueDelaySeconds(3, { requeueBaseDelaySeconds: 1, requeueMaxDelaySeconds: 2 }), 2);
        assert.equal(requeueDelaySeconds(20, { requeueBaseDelaySeconds: 900, requeueMaxDelaySeconds: 5000 }), 900);
        assert.equal(requeueDelaySeconds(4, { requeueBaseDelaySeconds: 0, requeueMaxDelaySeconds: 900 }), 0);
        assert.throws(() => requeueDelaySeconds(0, feed), RangeError);
    });
    it("derives a queue's URL from its ARN", () => {
        assert.equal(queueUrlOfArn("arn:aws:sqs:eu-west-1:111111111111:glue-trigger-dev"), "https://sqs.eu-west-1.amazonaws.com/111111111111/glue-trigger-dev");
        assert.equal(queueUrlOfArn("arn:aws-cn:sqs:cn-north-1:111111111111:q"), "https://sqs.cn-north-1.amazonaws.com.cn/111111111111/q");
        assert.throws(() => queueUrlOfArn("arn:aws:sns:eu-west-1:111111111111:t"), /not an SQS queue ARN/);
    });
});
