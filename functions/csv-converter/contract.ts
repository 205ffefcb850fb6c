/**
 * The CSV converter's contract (the fast path of the CSV flow: small files converted by a Python Lambda with
 * the same rules as the Glue job, large ones and resource failures on Glue). Three parties share it:
 *
 * - the glue trigger, which routes a claimed file by size and sends a {@link ConversionRequest} to the
 *   converter's queue (functions/glue-trigger);
 * - the converter itself, Python (./handler.py), which reads the same names from ./converter-contract.json;
 * - the stack that deploys it (components/compute/csvConverter.ts, stacks/flows/csv.ts) and watches it
 *   (components/monitoring).
 *
 * The names live in ./converter-contract.json so the TypeScript and the Python side read one spelling.
 *
 * Bundled into the Lambdas: no Pulumi or AWS SDK imports here.
 */
// Not named contract.json: Node's require (ts-node, the tests) would resolve "./contract" to the JSON before
// this file, and every export here would be undefined under test while the esbuild bundles got this module.
import contract from "./converter-contract.json";

/** The whole contract, for code that reads several of its parts. */
export const CSV_CONVERTER_CONTRACT = contract;

/** Environment variable names of the converter function, by the configuration field they fill. */
export const CSV_CONVERTER_ENV = contract.env;

export type CsvConverterEnvName = (typeof CSV_CONVERTER_ENV)[keyof typeof CSV_CONVERTER_ENV];

/** Which engine converted (or is converting) a file: the record's `engine` attribute. */
export const ENGINES = contract.engines;
export type Engine = (typeof ENGINES)[keyof typeof ENGINES];

/** The record attributes that say which engine ran and why (`engine_reason`: the routing or fallback reason). */
export const ENGINE_RECORD_ATTRIBUTES = contract.recordAttributes;

/** The run id the trigger records for a fast-path run: this prefix and a UUID (Glue's ids start `jr_`). */
export const FAST_RUN_ID_PREFIX = contract.runIdPrefix;

/**
 * Metrics the converter publishes (CloudWatch embedded metric format, namespace METRIC_NAMESPACE, default the
 * job-events' GluePipeline), dimension {@link CSV_CONVERTER_METRIC_DIMENSION}. A data failure (FAILED, e.g. a
 * file in the wrong delimiter) is alerted through an alarm on `failed`; it is replayable like a Glue failure.
 */
export const CSV_CONVERTER_METRICS = contract.metrics;
/** The dimension of the converter's own metrics: the converter's function name. */
export const CSV_CONVERTER_METRIC_DIMENSION = contract.functionDimension;
/**
 * Per-file metrics the converter publishes under the same names and JobName dimension as the job-events
 * handler (functions/glue-job-events/contract.ts METRIC_NAMES), with the flow's Glue job name, so a flow's
 * rows-written totals count both engines.
 */
export const CSV_CONVERTER_JOB_METRICS = contract.jobMetrics;

export const CSV_CONVERTER_DEFAULTS = contract.defaults;

/**
 * The message the trigger sends to the converter's queue for one claimed file. `jobArguments` are exactly
 * the Glue job's arguments for this file (the trigger's buildJobArguments), so a fallback starts the Glue job
 * with them unchanged and both engines write to the same places.
 */
export interface ConversionRequest {
    readonly version: typeof contract.requestVersion;
    readonly fileId: string;
    /** The claim number on the record (its `attempts`). */
    readonly attempt: number;
    /** The record's `job_run_id` for this run: {@link FAST_RUN_ID_PREFIX} + a UUID. */
    readonly runId: string;
    readonly jobArguments: Readonly<Record<string, string>>;
    readonly sizeBytes: number;
    /** Why the trigger chose the fast path (recorded as `engine_reason`). */
    readonly routedBecause: string;
}

export const CONVERSION_REQUEST_VERSION = contract.requestVersion;
