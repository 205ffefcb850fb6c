/**
 * What the monitoring tests share: real-shaped Glue state-change events, and SDK clients adjusted for the two
 * things moto 5.1 speaks differently from AWS, at the wire level only (the code under test is unchanged):
 *
 * - Glue: moto writes job-run timestamps (StartedOn, CompletedOn, LastModifiedOn) as ISO strings where the
 *   API returns epoch seconds, and the SDK then fails to parse GetJobRun/GetJobRuns. A middleware rewrites
 *   those three fields in the response body before the SDK reads it.
 * - CloudWatch: the SDK now sends the JSON protocol, which moto rejects for CloudWatch; CloudWatch also
 *   accepts the older Query protocol (the client is generated `awsQueryCompatible`), which moto speaks, so
 *   the test client is told to use it.
 */
import { Readable } from "node:stream";
import { CloudWatchClient, GetMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { AwsQueryProtocol } from "@aws-sdk/core/protocols";
import { GlueClient } from "@aws-sdk/client-glue";
import { CreateTopicCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { EventBridgeEvent, GlueJobStateChangeDetail } from "../../functions/glue-job-events/events";
import { EMULATOR_REGION } from "../support/emulator";

const TIMESTAMP_FIELDS = /"(StartedOn|CompletedOn|LastModifiedOn)"\s*:\s*"([^"]+)"/g;

/** Rewrites moto's ISO job-run timestamps to the epoch seconds the Glue API returns. */
export function epochTimestamps(body: string): string {
    return body.replace(TIMESTAMP_FIELDS, (_all, field: string, iso: string) => {
        const zoned = /[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : `${iso}Z`;
        return `"${field}": ${Date.parse(zoned) / 1000}`;
    });
}

/** A Glue client that reads moto's job runs (see the module comment). */
export function motoGlueClient(endpoint: string): GlueClient {
    const client = new GlueClient({ endpoint, region: EMULATOR_REGION, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
    client.middlewareStack.add(
        (next) => async (args) => {
            const out = (await next(args)) as { response?: { body?: unknown } };
            const body = out.response?.body as AsyncIterable<Uint8Array> | undefined;
            if (body && typeof (body as any)[Symbol.asyncIterator] === "function") {
                const chunks: Buffer[] = [];
                for await (const chunk of body) chunks.push(Buffer.from(chunk));
                (out.response as { body: unknown }).body = Readable.from([Buffer.from(epochTimestamps(Buffer.concat(chunks).toString("utf8")))]);
            }
            return out as any;
        },
        // Inside the deserializer: this sees the raw response before it is parsed.
        { step: "deserialize", priority: "low", name: "motoGlueTimestamps" },
    );
    return client;
}

/** A CloudWatch client speaking the Query protocol (see the module comment). */
export function motoCloudWatchClient(endpoint: string): CloudWatchClient {
    return new CloudWatchClient({
        endpoint,
        region: EMULATOR_REGION,
        credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
        protocol: AwsQueryProtocol as any,
    });
}

/**
 * A "Glue Job State Change" event exactly as EventBridge delivers it. The envelope and the detail fields
 * (jobName, severity, state, jobRunId, message) are those of events captured from AWS; a FAILED run's
 * message is Glue's short error text, e.g. "SystemExit: 1".
 */
export function glueStateChange(jobName: string, jobRunId: string, state: string, message?: string, time = "2026-03-01T12:34:06Z"): EventBridgeEvent<GlueJobStateChangeDetail> {
    const defaults: Record<string, string> = {
        SUCCEEDED: "Job run succeeded",
        FAILED: "SystemExit: 1",
        TIMEOUT: "Job run timed out",
        STOPPED: "Job run stopped",
    };
    return {
        version: "0",
        id: "ad3c3da1-148c-d5da-9a6a-79f1bc9a8a2e",
        "detail-type": "Glue Job State Change",
        source: "aws.glue",
        account: "123456789012",
        time,
        region: EMULATOR_REGION,
        resources: [],
        detail: {
            jobName,
            severity: state === "SUCCEEDED" ? "INFO" : "ERROR",
            state,
            jobRunId,
            message: message ?? defaults[state] ?? state,
        },
    };
}

/** The event EventBridge sends for a `rate(...)` schedule. */
export function scheduledEvent(time = "2026-03-01T12:35:00Z"): EventBridgeEvent<Record<string, never>> {
    return {
        version: "0",
        id: "89d1a02d-5ec7-412e-82f5-13505f849b41",
        "detail-type": "Scheduled Event",
        source: "aws.events",
        account: "123456789012",
        time,
        region: EMULATOR_REGION,
        resources: ["arn:aws:events:eu-west-1:123456789012:rule/GlueJobEvents-test-status-counts"],
        detail: {},
    };
}

/** An SNS topic with an SQS queue subscribed to it, so a test can read what was published (subject included). */
export async function capturingTopic(endpoint: string, name: string): Promise<{ topicArn: string; receive: () => Promise<SnsEnvelope[]> }> {
    const common = { endpoint, region: EMULATOR_REGION, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } };
    const sns = new SNSClient(common);
    const sqs = new SQSClient(common);
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: name }));
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-capture` }));
    const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }));
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: "sqs", Endpoint: attrs.Attributes!.QueueArn }));
    return {
        topicArn: TopicArn!,
        receive: async () => {
            const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
            return (out.Messages ?? []).map((m) => JSON.parse(m.Body!) as SnsEnvelope);
        },
    };
}

export interface SnsEnvelope {
    readonly Subject?: string;
    readonly Message: string;
    readonly MessageAttributes?: Record<string, { Type: string; Value: string }>;
}

/** Data points moto holds for one metric (Sum and SampleCount over the last day, one-day period). */
export async function metricStats(cw: CloudWatchClient, namespace: string, metricName: string, dimensions: Record<string, string>): Promise<{ sum: number; count: number }> {
    const now = Date.now();
    const metric = { Namespace: namespace, MetricName: metricName, Dimensions: Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value })) };
    const out = await cw.send(
        new GetMetricDataCommand({
            // Wide window: the data points carry the event's time, which tests fix in 2026.
            StartTime: new Date(Date.UTC(2020, 0, 1)),
            EndTime: new Date(now + 86_400_000 * 3650),
            MetricDataQueries: [
                { Id: "s", MetricStat: { Metric: metric, Period: 86400 * 3650, Stat: "Sum" } },
                { Id: "n", MetricStat: { Metric: metric, Period: 86400 * 3650, Stat: "SampleCount" } },
            ],
        }),
    );
    const total = (id: string) => (out.MetricDataResults ?? []).find((r) => r.Id === id)?.Values?.reduce((a, b) => a + b, 0) ?? 0;
    return { sum: total("s"), count: total("n") };
}
