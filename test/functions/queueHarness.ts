/**
 * Plays a Lambda SQS event source mapping against the emulator's queue, for tests of the queue-fed
 * triggers: receive up to the batch size, invoke the handler with the event AWS sends (one record per
 * message, with its attributes and message attributes), delete the messages the answer did not name in
 * `batchItemFailures`, and leave those it named (and every message of an invocation that threw) to become
 * visible again after the queue's visibility timeout. Several pollers run at once, as the mapping's
 * maximum concurrency allows.
 *
 * What the emulator does itself, and this harness therefore does not imitate: `DelaySeconds` (a re-sent
 * message stays invisible that long) and the redrive policy — moto moves a message to the dead-letter queue
 * when it would be received after maxReceiveCount receives, as SQS does. The poison-message burst tests
 * prove that, by finding exactly that message in the dead-letter queue.
 *
 * Receives never long-poll: the emulator serves one request at a time, and a waiting receive would stall
 * every other caller.
 */
import { CreateQueueCommand, DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { EMULATOR_ACCOUNT_ID, EMULATOR_REGION } from "../support/emulator";

export interface TestQueue {
    readonly url: string;
    readonly arn: string;
    readonly deadLetterUrl: string;
}

/** A queue with its dead-letter queue after `maxReceiveCount` receives, as the infrastructure builds them. */
export async function createQueueWithDlq(sqs: SQSClient, name: string, options: { readonly maxReceiveCount: number; readonly visibilityTimeoutSeconds: number }): Promise<TestQueue> {
    const deadLetterUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }))).QueueUrl!;
    const dlqArn = `arn:aws:sqs:${EMULATOR_REGION}:${EMULATOR_ACCOUNT_ID}:${name}-dlq`;
    const url = (
        await sqs.send(
            new CreateQueueCommand({
                QueueName: name,
                Attributes: {
                    VisibilityTimeout: String(options.visibilityTimeoutSeconds),
                    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: options.maxReceiveCount }),
                },
            }),
        )
    ).QueueUrl!;
    return { url, arn: `arn:aws:sqs:${EMULATOR_REGION}:${EMULATOR_ACCOUNT_ID}:${name}`, deadLetterUrl };
}

/** Messages in a queue: visible, in flight (received, not yet deleted) and delayed. */
export async function queueDepth(sqs: SQSClient, url: string): Promise<{ visible: number; inFlight: number; delayed: number; total: number }> {
    const out = await sqs.send(
        new GetQueueAttributesCommand({
            QueueUrl: url,
            AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"],
        }),
    );
    const n = (name: "ApproximateNumberOfMessages" | "ApproximateNumberOfMessagesNotVisible" | "ApproximateNumberOfMessagesDelayed") => Number(out.Attributes?.[name] ?? 0);
    const visible = n("ApproximateNumberOfMessages");
    const inFlight = n("ApproximateNumberOfMessagesNotVisible");
    const delayed = n("ApproximateNumberOfMessagesDelayed");
    return { visible, inFlight, delayed, total: visible + inFlight + delayed };
}

export type SqsHandler = (event: SQSEvent, context: object) => Promise<SQSBatchResponse | unknown>;

export interface MappingStats {
    invocations: number;
    messagesReceived: number;
    messagesDeleted: number;
    /** Messages named in `batchItemFailures` (each receive counted). */
    messagesFailed: number;
    /** Invocations that threw (their whole batch returned to the queue). */
    invocationErrors: number;
}

export class EventSourceMapping {
    readonly stats: MappingStats = { invocations: 0, messagesReceived: 0, messagesDeleted: 0, messagesFailed: 0, invocationErrors: 0 };
    private stopped = false;
    private running: Promise<void>[] = [];

    constructor(
        private readonly sqs: SQSClient,
        private readonly queue: Pick<TestQueue, "url" | "arn">,
        private readonly handler: SqsHandler,
        private readonly options: {
            readonly batchSize: number;
            readonly maximumConcurrency: number;
            readonly idleMs?: number;
            /** The function's timeout: what the context's getRemainingTimeInMillis starts from. @default 30 s */
            readonly timeoutMs?: number;
        },
    ) {}

    /** One poll: receive, invoke, delete what succeeded. Returns how many messages were received. */
    async pollOnce(requestId: string): Promise<number> {
        const out = await this.sqs.send(
            new ReceiveMessageCommand({
                QueueUrl: this.queue.url,
                MaxNumberOfMessages: this.options.batchSize,
                WaitTimeSeconds: 0,
                MessageSystemAttributeNames: ["All"],
                MessageAttributeNames: ["All"],
            }),
        );
        const messages = out.Messages ?? [];
        if (messages.length === 0) return 0;
        this.stats.invocations++;
        this.stats.messagesReceived += messages.length;
        const event: SQSEvent = {
            Records: messages.map(
                (m): SQSRecord => ({
                    messageId: m.MessageId!,
                    receiptHandle: m.ReceiptHandle!,
                    body: m.Body ?? "",
                    attributes: m.Attributes as unknown as SQSRecord["attributes"],
                    messageAttributes: Object.fromEntries(
                        Object.entries(m.MessageAttributes ?? {}).map(([name, value]) => [
                            name,
                            { dataType: value.DataType!, stringValue: value.StringValue, stringListValues: [], binaryListValues: [] },
                        ]),
                    ),
                    md5OfBody: m.MD5OfBody ?? "",
                    eventSource: "aws:sqs",
                    eventSourceARN: this.queue.arn,
                    awsRegion: EMULATOR_REGION,
                }),
            ),
        };
        let failed: Set<string>;
        try {
            const deadline = Date.now() + (this.options.timeoutMs ?? 30_000);
            const context = { awsRequestId: requestId, getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) };
            const answer = (await this.handler(event, context)) as SQSBatchResponse | undefined;
            failed = new Set((answer?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
        } catch {
            // As Lambda does: a thrown invocation returns its whole batch to the queue.
            this.stats.invocationErrors++;
            return messages.length;
        }
        this.stats.messagesFailed += failed.size;
        const done = messages.filter((m) => !failed.has(m.MessageId!));
        if (done.length > 0) {
            await this.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: this.queue.url, Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
            this.stats.messagesDeleted += done.length;
        }
        return messages.length;
    }

    /** Starts `maximumConcurrency` pollers that run until {@link stop}. */
    start(): void {
        this.stopped = false;
        const idle = this.options.idleMs ?? 100;
        this.running = Array.from({ length: this.options.maximumConcurrency }, async (_, poller) => {
            for (let n = 0; !this.stopped; n++) {
                const received = await this.pollOnce(`poller-${poller}-${n}`);
                if (received === 0) await new Promise((resolve) => setTimeout(resolve, idle));
            }
        });
    }

    async stop(): Promise<void> {
        this.stopped = true;
        await Promise.all(this.running);
    }
}

/** Waits until `done()` holds, calling `tick` between checks; throws naming `what` after `timeoutMs`. */
export async function until(what: string, done: () => Promise<boolean>, options: { readonly timeoutMs: number; readonly everyMs: number; readonly tick?: () => Promise<void> }): Promise<void> {
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
        await options.tick?.();
        if (await done()) return;
        if (Date.now() > deadline) throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, options.everyMs));
    }
}
