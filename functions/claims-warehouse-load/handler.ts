/**
 * ClaimsWarehouseLoad: a successful claims ETL run (Glue state-change event) or a replay (`{ "fileId": … }`)
 * → the file's rows in Redshift Serverless. The logic lives in ./load; this file only wires it to the Lambda
 * runtime.
 */
import type { Context } from "aws-lambda";
import { loadWarehouseLoadConfig } from "./config";
import { createWarehouseLoadDeps, handleLoadEvent, LoadEvent, LoadOutcome } from "./load";

// Cold start: an invalid environment fails the init naming what is wrong; clients are created once.
const deps = createWarehouseLoadDeps(loadWarehouseLoadConfig(process.env));

export const handler = (event: LoadEvent, context?: Context): Promise<LoadOutcome> => handleLoadEvent(event, deps, context);
