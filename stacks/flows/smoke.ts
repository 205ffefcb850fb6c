/**
 * The smoke check's view of the flows it drives (components/delivery/smokeCheck.ts): the CSV flow and the
 * Parquet → JSON flow, whose prefixes come from the flows themselves. The flows it waits for say so in their
 * specs (`smokeDriven`).
 */
import type { SmokeFlowPrefixes } from "../../components/delivery/smokeCheck";
import { CSV_PREFIXES } from "./csv";
import { PARQUET_PREFIXES } from "./parquetToJson";

export const SMOKE_FLOW_PREFIXES: SmokeFlowPrefixes = {
    csvOutput: CSV_PREFIXES.processed,
    csvQuarantine: CSV_PREFIXES.quarantine,
    parquetInput: PARQUET_PREFIXES.raw,
    parquetOutput: PARQUET_PREFIXES.processed,
    parquetQuarantine: PARQUET_PREFIXES.quarantine,
};
