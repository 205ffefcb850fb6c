/**
 * Helpers for S3 event notifications (the `Records[].s3` shape that S3 sends to Lambda, SQS and SNS).
 *
 * The event types here are deliberately looser than @types/aws-lambda's: S3 omits `size` and `eTag` for
 * some event kinds and test tools often do too, and code that trusts a field the event lacks fails late.
 */
import { createHash } from "crypto";

export interface S3EventObject {
    /** URL-encoded, with `+` for spaces. Use decodeS3Key. */
    readonly key: string;
    readonly size?: number;
    /** Without quotes in events (HeadObject returns it quoted). */
    readonly eTag?: string;
    /** Set when the bucket is versioned. */
    readonly versionId?: string;
    readonly sequencer?: string;
}

export interface S3EventRecordLike {
    readonly eventSource?: string;
    /** e.g. "ObjectCreated:Put". S3 sends it without the `s3:` prefix the notification config uses. */
    readonly eventName?: string;
    readonly eventTime?: string;
    readonly awsRegion?: string;
    readonly s3: {
        readonly bucket: { readonly name: string; readonly arn?: string };
        readonly object: S3EventObject;
    };
}

export interface S3EventLike {
    /** Absent on the `s3:TestEvent` S3 sends when a notification configuration is saved. */
    readonly Records?: readonly S3EventRecordLike[];
}

/**
 * Decodes an object key as S3 puts it in event notifications: form-encoded, so `+` is a space and a real
 * `+` arrives as `%2B`; multi-byte UTF-8 characters arrive as several `%XX` escapes.
 * @throws URIError when the key contains a malformed escape sequence.
 */
export function decodeS3Key(encoded: string): string {
    return decodeURIComponent(encoded.replace(/\+/g, " "));
}

/** Strips the double quotes HeadObject/GetObject wrap around an ETag; events already send it bare. */
export function normaliseEtag(etag: string): string {
    return etag.replace(/^(W\/)?"(.*)"$/, "$2");
}

/** `s3://bucket/key` for a decoded key. */
export function s3Uri(bucket: string, key: string): string {
    return `s3://${bucket}/${key}`;
}

/** True for ObjectCreated:* events (and for records that carry no event name, as hand-made events often do). */
export function isObjectCreated(record: S3EventRecordLike): boolean {
    return record.eventName === undefined || record.eventName.startsWith("ObjectCreated:");
}

/**
 * The processing-record key of one version of one object: lowercase hex SHA-256 of
 * `${bucket}/${key}#${version}`, where key is decoded and version is the S3 versionId when the bucket is
 * versioned, else the ETag without quotes. Re-uploading different content therefore gets a new id, while
 * a redelivered event for the same upload gets the same one.
 */
export function deriveFileId(bucket: string, key: string, version: string): string {
    if (!bucket || !key || !version) {
        throw new Error(`file_id needs bucket, key and version, got bucket="${bucket}" key="${key}" version="${version}"`);
    }
    return createHash("sha256").update(`${bucket}/${key}#${version}`, "utf8").digest("hex");
}

/**
 * The version that identifies an upload: versionId when it names a real version, else the ETag. An empty
 * versionId and S3's literal "null" version (objects written while versioning was off or suspended) are
 * treated as absent: every such upload of a key has that same "version", so it cannot tell uploads apart.
 */
export function objectVersion(versionId: string | undefined, etag: string | undefined): string | undefined {
    if (versionId && versionId !== "null") return versionId;
    if (etag) return normaliseEtag(etag);
    return undefined;
}

// Which records to act on

export type RecordPlan =
    | { readonly action: "ignore"; readonly bucket: string; readonly key: string; readonly reason: string }
    | {
          readonly action: "process";
          readonly bucket: string;
          readonly key: string;
          readonly versionId?: string;
          readonly etag?: string;
          readonly sizeBytes?: number;
      };

/** Whether `key` names a processable file: it ends with `suffix` (case-insensitive) and has a name before it. */
export function matchesSuffix(key: string, suffix: string): boolean {
    if (!key.toLowerCase().endsWith(suffix.toLowerCase())) return false;
    const fileName = key.slice(key.lastIndexOf("/") + 1);
    return fileName.length > suffix.length;
}

/** Which keys a trigger accepts beyond the suffix. */
export interface KeyFilter {
    /** Keys must start with this (e.g. `raw-data/`). @default "" */
    readonly keyPrefix?: string;
    /** Below the prefix, keys must start with a real date `YYYY/MM/DD/`. @default false */
    readonly datedKeys?: boolean;
}

const DATED_PATH = /^(\d{4})\/(\d{2})\/(\d{2})\/[^/]/;

/** Whether `path` starts with `YYYY/MM/DD/` naming a real calendar date (so 2024/02/30/ does not). */
export function startsWithDate(path: string): boolean {
    const m = DATED_PATH.exec(path);
    if (!m) return false;
    const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const date = new Date(Date.UTC(year, month - 1, day));
    return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/**
 * Decides what to do with one record, from the event alone.
 * @throws URIError when the key is not validly encoded (the record fails; it is not silently ignored).
 */
export function planRecord(record: S3EventRecordLike, suffix: string, filter: KeyFilter = {}): RecordPlan {
    const bucket = record.s3.bucket.name;
    const key = decodeS3Key(record.s3.object.key);
    if (!isObjectCreated(record)) {
        return { action: "ignore", bucket, key, reason: `event ${record.eventName} is not an ObjectCreated event` };
    }
    if (!matchesSuffix(key, suffix)) {
        return { action: "ignore", bucket, key, reason: `key does not end with ${suffix}` };
    }
    const prefix = filter.keyPrefix ?? "";
    if (!key.startsWith(prefix)) {
        return { action: "ignore", bucket, key, reason: `key is not under ${prefix}` };
    }
    if (filter.datedKeys && !startsWithDate(key.slice(prefix.length))) {
        return { action: "ignore", bucket, key, reason: `key is not under ${prefix}YYYY/MM/DD/ with a valid date` };
    }
    const { size, eTag, versionId } = record.s3.object;
    return {
        action: "process",
        bucket,
        key,
        ...(versionId ? { versionId } : {}),
        ...(eTag ? { etag: normaliseEtag(eTag) } : {}),
        ...(typeof size === "number" ? { sizeBytes: size } : {}),
    };
}

// Keys are data, never paths to resolve

/** S3's limit on an object key, in UTF-8 bytes. */
export const MAX_S3_KEY_BYTES = 1024;

// C0 and C1 control characters and DEL: invisible in logs and consoles, and some tools split lines on them.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/u;
// Bidirectional formatting characters (marks, embeddings, overrides, isolates): they make a key display
// differently from what it is (CVE-2021-42574, "Trojan Source"), so a reviewer cannot trust what they read.
const BIDI_CHARACTERS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

function codePoint(ch: string): string {
    return `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
}

/**
 * Why `key` cannot be used as (part of) a path, or undefined when it can. Refused: `.` or `..` segments
 * (Hadoop's Path resolves them, so `x/../../a.csv` would make the job write into another file's prefix), an
 * empty segment (a leading `/` or `//`, which S3 keeps but Hadoop collapses), control characters and bidi
 * formatting characters. Glob characters (`*?[]{}` and `\`) are allowed: the job reads keys literally.
 */
export function keyProblem(key: string): string | undefined {
    const segments = key.split("/");
    if (segments.some((s, i) => s === "" && i < segments.length - 1)) {
        return "key has an empty path segment (a leading '/' or '//'), which path handling would collapse";
    }
    const dot = segments.find((s) => s === "." || s === "..");
    if (dot !== undefined) return `key has a '${dot}' path segment, which path handling would resolve to another prefix`;
    const control = CONTROL_CHARACTERS.exec(key);
    if (control) return `key holds the control character ${codePoint(control[0])}`;
    const bidi = BIDI_CHARACTERS.exec(key);
    if (bidi) return `key holds the bidirectional formatting character ${codePoint(bidi[0])}, which makes it display as something it is not`;
    return undefined;
}

/**
 * Bytes kept free below a derived output, quarantine or report prefix for the names a job writes there
 * (Spark's `part-00000-<uuid>-c000.snappy.parquet` is 66 bytes; `_SUCCESS`, a partition folder), so that no
 * object written for the file can exceed S3's key limit.
 */
export const DERIVED_NAME_RESERVE_BYTES = 128;

/**
 * Why `key` is REJECTED, or undefined: {@link keyProblem}'s classes, plus any of the keys derived from it
 * (`derived`: a label and an `s3://bucket/key` URI or a bare key) that would leave fewer than
 * {@link DERIVED_NAME_RESERVE_BYTES} of S3's 1,024-byte key limit. Every flow that derives keys from an
 * uploaded key calls this with its own derived locations.
 */
export function unsafeKeyReason(key: string, derived: readonly (readonly [label: string, location: string])[]): string | undefined {
    const problem = keyProblem(key);
    if (problem) return problem;
    for (const [label, location] of derived) {
        const derivedKey = location.replace(/^s3:\/\/[^/]+\//, "");
        const bytes = Buffer.byteLength(derivedKey, "utf8");
        if (bytes + DERIVED_NAME_RESERVE_BYTES > MAX_S3_KEY_BYTES) {
            return (
                `derived ${label} key is ${bytes} bytes; with the ${DERIVED_NAME_RESERVE_BYTES} bytes kept for the names ` +
                `written below it, it would exceed S3's ${MAX_S3_KEY_BYTES}-byte key limit`
            );
        }
    }
    return undefined;
}
