/**
 * GlueTriggerLambda (and ParquetToJsonTrigger, the same code configured by environment): S3 ObjectCreated
 * notifications on the input bucket, delivered through the flow's SQS queue → one Glue job run per new object
 * version that matches the configured suffix and prefix, tracked in the processing-metadata table; in the CSV
 * flow, a file at or below FAST_PATH_MAX_BYTES goes to the CSV converter's queue instead (./fastPath). The
 * logic lives in ./trigger; this file only wires it to the Lambda runtime.
 *
 * Two event shapes: the queue's (an event source mapping with ReportBatchItemFailures; the answer names the
 * messages to receive again), and a bare S3 event (the asynchronous invocation of before the queue, so events
 * in flight during that change are still handled; a failure throws, as it did).
 */
import type { Context, S3Event, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { isQueueEvent } from "../shared/s3Batch";
import { loadTriggerConfig } from "./config";
import { createTriggerDeps, handleQueueEvent, handleS3Event, TriggerSummary } from "./trigger";

// Cold start: an invalid environment fails the init with a message naming each bad variable, and the
// clients are created once and reused by every invocation of this execution environment.
const deps = createTriggerDeps(loadTriggerConfig(process.env));

export const handler = async (event: SQSEvent | S3Event, context?: Context): Promise<SQSBatchResponse | TriggerSummary> => {
    if (!isQueueEvent(event)) return handleS3Event(event as S3Event, context, deps);
    // Exactly the mapping's answer: nothing but the failed messages.
    const { batchItemFailures } = await handleQueueEvent(event, context, deps);
    return { batchItemFailures: [...batchItemFailures] };
};
