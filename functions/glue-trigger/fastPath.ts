/**
 * The CSV flow's fast path, the trigger's side: which engine a claimed file goes to, and the
 * ConversionRequest (functions/csv-converter/contract.ts) that hands it to the CSV converter.
 *
 * Routing is by the object's size alone: at or below the configured limit (FAST_PATH_MAX_BYTES) the
 * converter, above it Glue. The limit is what the converter's memory, time and /tmp can hold; a file that
 * turns out not to fit anyway falls back to Glue from the converter itself, so the trigger need not be exact.
 *
 * Order of the two effects, so that no failure loses a file: the request is SENT first, then STARTED is
 * recorded under its run id (./trigger). A send that fails leaves the record CLAIMED, marked START_FAILED and
 * the S3 message retried, as a refused Glue start does. A STARTED write that fails after the send leaves the
 * record CLAIMED: the converter returns the request to its queue while the record is still CLAIMED for this
 * attempt (it never converts without STARTED), the trigger's message is retried, and once the claim's lease
 * has expired the retry claims again and sends a new request; the old one then finds another run recorded
 * and does nothing. If the request keeps returning it reaches the converter's dead-letter queue, which
 * `npm run replay` drains. The other order (record, then send) would leave a STARTED record with no request
 * behind it whenever the invocation died between the two, and nothing would ever pick that file up.
 *
 * Bundled into the Lambda with ./trigger: no Pulumi imports.
 */
import { randomUUID } from "node:crypto";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { CONVERSION_REQUEST_VERSION, ConversionRequest, Engine, ENGINES, FAST_RUN_ID_PREFIX } from "../csv-converter/contract";
import type { FastPathConfig } from "./config";

export { ENGINES };

/** The engine chosen for a file, and why (recorded as `engine` and `engine_reason`). */
export interface Route {
    readonly engine: Engine;
    readonly reason: string;
}

const UNITS = ["bytes", "KiB", "MiB", "GiB", "TiB"] as const;

/** A size for people: `256 MiB`, `12.3 MiB`, `900 bytes`. */
export function formatBytes(bytes: number): string {
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < UNITS.length - 1) {
        value /= 1024;
        unit++;
    }
    return `${Number.isInteger(value) ? value : value.toFixed(1)} ${UNITS[unit]}`;
}

/** "12.3 MiB (12897484 bytes)": rounded for reading, exact for the boundary. */
function sizeWithBytes(bytes: number): string {
    return bytes < 1024 ? `${bytes} bytes` : `${formatBytes(bytes)} (${bytes} bytes)`;
}

/** Which engine converts a file of `sizeBytes`: the converter at or below the fast-path limit, else Glue. */
export function chooseEngine(sizeBytes: number, fastPath: Pick<FastPathConfig, "maxBytes"> | undefined): Route {
    if (!fastPath) return { engine: ENGINES.glue, reason: "the fast path is not configured for this flow" };
    const limit = `the fast-path limit of ${sizeWithBytes(fastPath.maxBytes)}`;
    return sizeBytes <= fastPath.maxBytes
        ? { engine: ENGINES.fast, reason: `${sizeWithBytes(sizeBytes)} <= ${limit}` }
        : { engine: ENGINES.glue, reason: `${sizeWithBytes(sizeBytes)} > ${limit}` };
}

/** A fast run's id: the contract's prefix and a UUID (Glue's run ids start `jr_`, so the two never meet). */
export function newFastRunId(uuid: () => string = randomUUID): string {
    return `${FAST_RUN_ID_PREFIX}${uuid()}`;
}

/** The request for one claimed file; `jobArguments` are exactly the Glue job's, so a fallback reuses them. */
export function conversionRequest(fields: Omit<ConversionRequest, "version">): ConversionRequest {
    return {
        version: CONVERSION_REQUEST_VERSION,
        fileId: fields.fileId,
        attempt: fields.attempt,
        runId: fields.runId,
        jobArguments: { ...fields.jobArguments },
        sizeBytes: fields.sizeBytes,
        routedBecause: fields.routedBecause,
    };
}

/** Sends `request` to the converter's queue (sqs:SendMessage on that queue, nothing else). */
export async function sendConversionRequest(sqs: SQSClient, queueUrl: string, request: ConversionRequest): Promise<string | undefined> {
    const out = await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(request) }));
    return out.MessageId;
}

/**
 * A message body read back as a ConversionRequest (replay drains the converter's dead-letter queue), or
 * undefined when it is not one: the fields the converter itself requires, checked the same way.
 */
export function parseConversionRequest(body: string): ConversionRequest | undefined {
    let parsed: unknown;
    try {
        parsed = JSON.parse(body);
    } catch {
        return undefined;
    }
    const m = parsed as Partial<ConversionRequest> | null;
    if (!m || typeof m !== "object" || m.version !== CONVERSION_REQUEST_VERSION) return undefined;
    if (typeof m.fileId !== "string" || m.fileId === "" || typeof m.runId !== "string" || !m.runId.startsWith(FAST_RUN_ID_PREFIX)) return undefined;
    if (typeof m.attempt !== "number" || typeof m.sizeBytes !== "number") return undefined;
    const args = m.jobArguments as unknown;
    if (!args || typeof args !== "object" || Array.isArray(args) || !Object.values(args).every((v) => typeof v === "string")) return undefined;
    return conversionRequest({ fileId: m.fileId, attempt: m.attempt, runId: m.runId, jobArguments: args as Record<string, string>, sizeBytes: m.sizeBytes, routedBecause: String(m.routedBecause ?? "") });
}
