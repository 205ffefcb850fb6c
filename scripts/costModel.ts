/**
 * The monthly cost of a stack, computed from its offline synth graph (what it deploys, with which settings)
 * and a declared workload (how much it does). Pure: no AWS, no clock; every figure traces to a line with a
 * quantity, a unit price and a note.
 *
 * What comes from the graph: Glue jobs (worker type, worker cap, STANDARD or FLEX), Lambda functions (memory,
 * architecture, and what invokes them: S3 notifications, Glue state-change rules, schedules), buckets and
 * their lifecycle rules (expiration, noncurrent expiration, transitions), DynamoDB tables (billing mode,
 * PITR, indexes), alarms (metrics per alarm), dashboards, log groups (retention), KMS keys, email
 * subscriptions. What comes from the workload: files a month, run minutes and workers, trigger invocations,
 * data landed, Parquet size ratio, requests, log volume.
 *
 * Prices are an assumption stated in {@link PRICES_EU_WEST_1} (region, currency, date) and in docs/cost.md.
 *
 * One import for the CLI (scripts/cost.ts) and the tests; the parts live beside it: ./costPrices.ts (unit
 * prices), ./costWorkloads.ts (workloads and the published estimates), ./costInventory.ts (reading the
 * graph), ./costEstimate.ts (the arithmetic), ./costFastPath.ts (one file on each engine, routing by size),
 * ./costReport.ts (the printed table).
 */
export * from "./costEstimate";
export * from "./costFastPath";
export * from "./costInventory";
export * from "./costPrices";
export * from "./costReport";
export * from "./costWorkloads";
