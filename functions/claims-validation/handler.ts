/**
 * ClaimsValidationLambda: S3 ObjectCreated events for `raw/claims/*.csv` in the claims bucket → validate,
 * report, then start the claims Glue job or quarantine the file. The logic lives in ./validation; this file
 * only wires it to the Lambda runtime.
 */
import type { Context, S3Event } from "aws-lambda";
import { loadClaimsValidationConfig } from "./config";
import { createValidationDeps, handleClaimsEvent, ValidationSummary } from "./validation";

// Cold start: an invalid environment (or schema) fails the init with a message naming what is wrong, and
// the clients are created once for every invocation of this execution environment.
const deps = createValidationDeps(loadClaimsValidationConfig(process.env));

export const handler = (event: S3Event, context?: Context): Promise<ValidationSummary> => handleClaimsEvent(event, context, deps);
