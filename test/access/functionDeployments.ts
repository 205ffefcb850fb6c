/**
 * Which function resources of the workload graphs run the code of each `functions/<folder>/` (the glue
 * trigger's code runs as the CSV and the Parquet trigger). test/access/sdkCommands.test.ts fails when a
 * deployed function of a workload graph is missing here; test/support/sdkRecorder.ts holds the mapped
 * folders' tests to the recorded list.
 */
export const FUNCTION_DEPLOYMENTS: Readonly<Record<string, readonly string[]>> = {
    "glue-trigger": ["glue-trigger-function", "parquet-trigger-function"],
    "claims-validation": ["claims-validation-function"],
    "api-ingest": ["medallion-ingest-function"],
    "glue-job-events": ["monitoring-glue-events-function"],
    "claims-warehouse-load": ["claims-warehouse-load-function"],
    // Python: its calls are recorded by its own tests (glue/tests/fixtures/csv_converter_calls.json).
    "csv-converter": ["csv-converter-function"],
};

/** The workload graphs a function can be judged on (test/access/graphs.ts). */
export type WorkloadGraph = "dev" | "prod" | "warehouse";

/**
 * Where each function resource is deployed, when not in dev and prod: a feature that is off by default runs
 * only in the graph that enables it (the claims warehouse: `warehouse`, dev's stack file with
 * `claims.warehouse`). sdkCommands.test.ts checks this against the graphs.
 */
export const DEPLOYED_ONLY_IN: Readonly<Record<string, readonly WorkloadGraph[]>> = {
    "claims-warehouse-load-function": ["warehouse"],
};

/** The workload graphs a function resource is judged on. */
export const graphsOf = (logical: string): readonly WorkloadGraph[] => DEPLOYED_ONLY_IN[logical] ?? ["dev", "prod"];
