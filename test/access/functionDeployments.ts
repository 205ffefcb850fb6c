/**
 * Which function resources of the workload graphs run the code of each `functions/<folder>/` (the glue
 * trigger's code runs as the CSV and the Parquet trigger). test/access/sdkCommands.test.ts fails when a
 * deployed function of dev or prod is missing here; test/support/sdkRecorder.ts holds the mapped folders'
 * tests to the recorded list.
 */
export const FUNCTION_DEPLOYMENTS: Readonly<Record<string, readonly string[]>> = {
    "glue-trigger": ["glue-trigger-function", "parquet-trigger-function"],
    "claims-validation": ["claims-validation-function"],
    "api-ingest": ["medallion-ingest-function"],
    "glue-job-events": ["monitoring-glue-events-function"],
};
