/**
 * The Glue job-events Lambda: Glue "Job State Change" events → the file's record, run metrics, and one
 * readable notification per run that did not succeed; scheduled events → file counts per status.
 * The logic lives in ./events; this file only wires it to the Lambda runtime.
 */
import { loadJobEventsConfig } from "./config";
import { createJobEventsDeps, EventBridgeEvent, handleEvent, HandledEvent } from "./events";

// Cold start: an invalid environment fails the init naming each bad variable; clients are created once.
const deps = createJobEventsDeps(loadJobEventsConfig(process.env));

export const handler = (event: EventBridgeEvent): Promise<HandledEvent> => handleEvent(event, deps);
