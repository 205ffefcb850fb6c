/**
 * The two SNS message formats of the claims flow, exactly as the claims flow's requirements ("SNS Message Formats") specify
 * them: a `job_status_update` on the processing topic, an `error` on the error topic. The message body has
 * the specified keys and nothing else, so every subscriber written against that specification parses it; what a
 * subscriber may want to filter on (file id, quality score, report location) travels as SNS message
 * attributes instead. The Glue job publishes the same formats (glue_pipeline/claims_notifications.py);
 * both are tested against the specification's examples (test/fixtures/claims/seed_messages.json).
 */
import type { MessageAttributeValue } from "@aws-sdk/client-sns";

export type JobStatus = "STARTED" | "SUCCEEDED" | "FAILED";
export const JOB_STATUSES: readonly JobStatus[] = ["STARTED", "SUCCEEDED", "FAILED"];

export interface JobStatusUpdate {
    readonly event_type: "job_status_update";
    readonly job_id: string;
    readonly status: JobStatus;
    readonly input_file: string;
    readonly timestamp: string;
}

export interface ErrorNotification {
    readonly event_type: "error";
    readonly error_message: string;
    readonly error_type: string;
    readonly context: { readonly function_name: string; readonly file: string };
    readonly timestamp: string;
}

/** The requirements' timestamp form: ISO-8601 UTC to the second, `2024-01-01T12:00:00Z`. */
export function seedTimestamp(moment: Date): string {
    return moment.toISOString().replace(/\.\d{3}Z$/, "Z");
}

export interface OutgoingMessage {
    /** The JSON body (the requirements' format). */
    readonly message: string;
    /** Email subject: SNS allows up to 100 printable ASCII characters. */
    readonly subject: string;
    readonly attributes: Record<string, MessageAttributeValue>;
}

/** SNS subjects: printable ASCII, no line breaks, at most 100 characters. */
export function snsSubject(text: string): string {
    const ascii = text.replace(/[^\x20-\x7E]/g, "?");
    return ascii.length <= 100 ? ascii : `${ascii.slice(0, 97)}...`;
}

function stringAttributes(values: Readonly<Record<string, string | number | undefined>>): Record<string, MessageAttributeValue> {
    const out: Record<string, MessageAttributeValue> = {};
    for (const [name, value] of Object.entries(values)) {
        if (value === undefined || value === "") continue;
        out[name] = typeof value === "number" ? { DataType: "Number", StringValue: String(value) } : { DataType: "String", StringValue: value };
    }
    return out;
}

export interface JobStatusInput {
    /** The Glue job run id. */
    readonly jobId: string;
    readonly status: JobStatus;
    /** `s3://bucket/key` of the claims file (`file://` for a local run). */
    readonly inputFile: string;
    readonly at: Date;
    /** Sent as message attributes, never in the body. */
    readonly attributes?: Readonly<Record<string, string | number | undefined>>;
}

export function jobStatusUpdate(input: JobStatusInput): OutgoingMessage {
    if (!JOB_STATUSES.includes(input.status)) throw new Error(`jobStatusUpdate: status ${input.status} is not one of ${JOB_STATUSES.join(", ")}`);
    if (!input.jobId) throw new Error("jobStatusUpdate: jobId is required");
    // s3:// on AWS; a local run of the job reports a file:// URI.
    if (!/^[a-z][a-z0-9+.-]*:\/\/.+/.test(input.inputFile)) throw new Error(`jobStatusUpdate: inputFile ${JSON.stringify(input.inputFile)} is not a URI such as s3://bucket/key`);
    const body: JobStatusUpdate = {
        event_type: "job_status_update",
        job_id: input.jobId,
        status: input.status,
        input_file: input.inputFile,
        timestamp: seedTimestamp(input.at),
    };
    return {
        message: JSON.stringify(body),
        subject: snsSubject(`Claims job ${input.status.toLowerCase()}: ${input.inputFile}`),
        attributes: stringAttributes({ event_type: body.event_type, status: body.status, ...input.attributes }),
    };
}

export interface ErrorInput {
    readonly errorMessage: string;
    /** e.g. ValidationError, StartJobError, ValidationTimeout. */
    readonly errorType: string;
    readonly functionName: string;
    /** The object key of the claims file. */
    readonly file: string;
    readonly at: Date;
    readonly attributes?: Readonly<Record<string, string | number | undefined>>;
}

/** SNS caps a message at 256 KB; an error message is for people, so it is kept far below. */
export const MAX_ERROR_MESSAGE_CHARS = 4000;

export function errorNotification(input: ErrorInput): OutgoingMessage {
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(input.errorType)) throw new Error(`errorNotification: errorType ${JSON.stringify(input.errorType)} is not an error class name`);
    const text = input.errorMessage.length <= MAX_ERROR_MESSAGE_CHARS ? input.errorMessage : `${input.errorMessage.slice(0, MAX_ERROR_MESSAGE_CHARS - 1)}…`;
    const body: ErrorNotification = {
        event_type: "error",
        error_message: text,
        error_type: input.errorType,
        context: { function_name: input.functionName, file: input.file },
        timestamp: seedTimestamp(input.at),
    };
    return {
        message: JSON.stringify(body),
        subject: snsSubject(`Claims ${input.errorType}: ${input.file}`),
        attributes: stringAttributes({ event_type: body.event_type, error_type: body.error_type, ...input.attributes }),
    };
}
