/**
 * ApiIngestion: invoked by the medallion state machine; pages through the source API into the bronze
 * layer and returns the run's metadata. The logic lives in ./ingest; this file wires it to the runtime.
 */
import type { Context } from "aws-lambda";
import { loadIngestConfig } from "./config";
import { IngestEvent } from "./bronze";
import { createIngestDeps, IngestResult, runIngestion } from "./ingest";

// Cold start: an invalid environment fails the init with every bad variable named; clients are reused.
const deps = createIngestDeps(loadIngestConfig(process.env));

export const handler = (event: IngestEvent, context?: Context): Promise<IngestResult> => runIngestion(event, context, deps);
