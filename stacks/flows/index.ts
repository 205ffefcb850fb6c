/**
 * Every flow of the workload, in the order monitoring lists them. Adding a flow: write its module here
 * (a spec for a file-triggered flow) and add one line below; docs/adding-a-flow.md says what else.
 */
import { claimsFlow } from "./claims";
import { csvFlow } from "./csv";
import { legislatorsFlow } from "./legislators";
import { medallionFlow } from "./medallion";
import { parquetToJsonFlow } from "./parquetToJson";

export const WORKLOAD_FLOWS = {
    csv: csvFlow,
    parquetToJson: parquetToJsonFlow,
    legislators: legislatorsFlow,
    claims: claimsFlow,
    medallion: medallionFlow,
} as const;

export * from "./flow";
export * from "./fileTriggeredFlow";
export * from "./csv";
export * from "./parquetToJson";
export * from "./legislators";
export * from "./claims";
export * from "./medallion";
export * from "./smoke";
