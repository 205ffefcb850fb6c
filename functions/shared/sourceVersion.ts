/**
 * The version uploaded is the version processed: every flow that starts work for an S3 object (the CSV and
 * Parquet triggers, claims validation) asks S3 which version of the key is current before it starts, and
 * records the event's object as SUPERSEDED (a newer version exists; that version's own event handles it) or
 * SOURCE_DELETED (the key is gone) instead of starting work on whatever the key holds now.
 *
 * Real S3 events always carry size and eTag (and versionId on a versioned bucket), so the event alone cannot
 * tell that the object was overwritten or deleted since: only a HeadObject of the key, without a version,
 * can. The callers' roles hold s3:ListBucket on the bucket, so a missing key answers 404, not 403.
 */
import { HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { normaliseEtag, objectVersion, s3Uri } from "./s3Events";

/** The object version a run is for: the job checks it is still current before and after it reads. */
export interface RunVersion {
    /** S3 versionId on a versioned bucket (absent, or S3's "null", otherwise). */
    readonly versionId?: string;
    /** ETag without quotes. */
    readonly etag?: string;
}

/** What an event says about its object (the `process` plan of ./s3Events' planRecord). */
export interface EventObjectFacts {
    readonly bucket: string;
    readonly key: string;
    readonly versionId?: string;
    readonly etag?: string;
    readonly sizeBytes?: number;
}

/** The event's object as it stands now. `version` is what its file_id is derived from (./s3Events' objectVersion). */
export type SourceCheck =
    /** The event's version is the key's current one: process it, pinned to `runVersion`. */
    | {
          readonly state: "current";
          readonly version: string;
          /** True when `version` is an S3 versionId (read it with VersionId), false when it is an ETag. */
          readonly isVersionId: boolean;
          readonly sizeBytes: number;
          readonly runVersion: RunVersion;
      }
    /** A newer version of the key is current; `reason` names both. */
    | { readonly state: "superseded"; readonly version: string; readonly sizeBytes: number; readonly reason: string }
    /** The key no longer exists (deleted, or a delete marker is current). */
    | { readonly state: "gone"; readonly version: string; readonly sizeBytes: number; readonly reason: string };

/** What HeadObject says about the key's current version, or `gone` when the key no longer exists. */
export type CurrentObject =
    | { readonly gone: true }
    | { readonly gone: false; readonly versionId?: string; readonly etag?: string; readonly sizeBytes?: number };

/** A 404 from HeadObject or GetObject (HeadObject has no body, so the SDK names it NotFound). */
export function isNotFound(err: unknown): boolean {
    return err instanceof Error && (err.name === "NotFound" || err.name === "NoSuchKey" || err.name === "NoSuchVersion");
}

/** HeadObject on the key without a version: its current version, or `gone` (a delete marker answers 404 too). */
export async function headCurrent(s3: S3Client, bucket: string, key: string): Promise<CurrentObject> {
    try {
        const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return {
            gone: false,
            ...(head.VersionId ? { versionId: head.VersionId } : {}),
            ...(head.ETag ? { etag: normaliseEtag(head.ETag) } : {}),
            ...(head.ContentLength !== undefined ? { sizeBytes: head.ContentLength } : {}),
        };
    } catch (err) {
        if (isNotFound(err)) return { gone: true };
        throw err;
    }
}

function realVersionId(versionId: string | undefined): string | undefined {
    return versionId && versionId !== "null" ? versionId : undefined;
}

/**
 * Why the version in the event is not the key's current one, or undefined when it is (or the event names no
 * version to compare). Like is compared with like: a versionId with the current versionId, else the ETag
 * (an unversioned bucket, or S3's "null" version).
 */
export function supersededReason(eventVersion: RunVersion, current: { readonly versionId?: string; readonly etag?: string }): string | undefined {
    const versionId = realVersionId(eventVersion.versionId);
    if (versionId) {
        return current.versionId === versionId
            ? undefined
            : `version ${versionId} is no longer current (version ${current.versionId} is); the newer version's own event processes it`;
    }
    if (eventVersion.etag && current.etag !== undefined && current.etag !== eventVersion.etag) {
        return `ETag ${eventVersion.etag} is no longer current (ETag ${current.etag} is): the key was overwritten; the newer upload's own event processes it`;
    }
    return undefined;
}

/**
 * Asks S3 whether the event's object is still the key's current version. An event that names no version
 * (hand-made, or a test tool's) takes the current one. Throws when the key is gone and the event named no
 * version: there is then no file_id to record it under, so the record fails (and reaches the DLQ after
 * Lambda's retries) rather than vanishing from sight.
 */
export async function checkSourceVersion(s3: S3Client, event: EventObjectFacts): Promise<SourceCheck> {
    const current = await headCurrent(s3, event.bucket, event.key);
    const eventVersion = objectVersion(event.versionId, event.etag);
    if (current.gone) {
        if (eventVersion === undefined) throw new Error(`object ${s3Uri(event.bucket, event.key)} does not exist`);
        const named = realVersionId(event.versionId) ? `version ${event.versionId}` : `ETag ${event.etag}`;
        return {
            state: "gone",
            version: eventVersion,
            sizeBytes: event.sizeBytes ?? 0,
            reason: `object was deleted before it was processed (the event named ${named})`,
        };
    }
    const versionId = realVersionId(event.versionId) ?? realVersionId(current.versionId);
    const etag = event.etag ?? current.etag;
    const version = objectVersion(versionId, etag);
    if (version === undefined) throw new Error(`HeadObject returned neither VersionId nor ETag for ${s3Uri(event.bucket, event.key)}`);
    const sizeBytes = event.sizeBytes ?? current.sizeBytes ?? 0;
    const superseded = supersededReason({ versionId: event.versionId, etag: event.etag }, current);
    if (superseded) return { state: "superseded", version, sizeBytes, reason: superseded };
    return {
        state: "current",
        version,
        isVersionId: version === versionId,
        sizeBytes,
        runVersion: { ...(versionId ? { versionId } : {}), ...(etag ? { etag } : {}) },
    };
}
