/**
 * ClaimsValidationLambda: S3 ObjectCreated notifications for `raw/claims/*.csv` in the claims bucket,
 * delivered through the flow's SQS queue → validate, report, then start the claims Glue job or quarantine the
 * file. The logic lives in ./validation; this file only wires it to the Lambda runtime.
 *
 * Two event shapes, as in the CSV trigger: the queue's (the answer names the messages to receive again), and
 * a bare S3 event (the asynchronous invocation of before the queue; a failure throws, as it did).
 */
import type { Context, S3Event, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { isQueueEvent } from "../shared/s3Batch";
import { loadClaimsValidationConfig } from "./config";
import { createValidationDeps, handleClaimsEvent, handleClaimsQueueEvent, ValidationSummary } from "./validation";

// Cold start: an invalid environment (or schema) fails the init with a message naming what is wrong, and
// the clients are created once for every invocation of this execution environment.
const deps = createValidationDeps(loadClaimsValidationConfig(process.env));

export const handler = async (event: SQSEvent | S3Event, context?: Context): Promise<SQSBatchResponse | ValidationSummary> => {
    if (!isQueueEvent(event)) return handleClaimsEvent(event as S3Event, context, deps);
    const { batchItemFailures } = await handleClaimsQueueEvent(event, context, deps);
    return { batchItemFailures: [...batchItemFailures] };
};
