/**
 * GlueTriggerLambda (and ParquetToJsonTrigger, the same code configured by environment): S3 ObjectCreated
 * events on the input bucket → one Glue job run per new object version that matches the configured suffix
 * and prefix, tracked in the processing-metadata table. The logic lives in ./trigger; this file only wires
 * it to the Lambda runtime.
 */
import type { Context, S3Event } from "aws-lambda";
import { loadTriggerConfig } from "./config";
import { createTriggerDeps, handleS3Event, TriggerSummary } from "./trigger";

// Cold start: an invalid environment fails the init with a message naming each bad variable, and the
// clients are created once and reused by every invocation of this execution environment.
const deps = createTriggerDeps(loadTriggerConfig(process.env));

export const handler = (event: S3Event, context?: Context): Promise<TriggerSummary> => handleS3Event(event, context, deps);
