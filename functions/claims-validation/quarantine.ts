/**
 * Moving one version of an object: copy it (in parts beyond the single-copy limit), then delete the source
 * key without a version id. In a versioned bucket that delete only adds a delete marker, so the original
 * version stays (noncurrent) and can be restored; the copy carries the source version in its metadata.
 */
import {
    AbortMultipartUploadCommand,
    CompleteMultipartUploadCommand,
    CopyObjectCommand,
    CreateMultipartUploadCommand,
    DeleteObjectCommand,
    HeadObjectCommand,
    S3Client,
    UploadPartCopyCommand,
} from "@aws-sdk/client-s3";

export interface ObjectVersionRef {
    readonly bucket: string;
    readonly key: string;
    readonly version: string;
    /** Whether `version` is an S3 versionId (else it is an ETag and the copy reads the current object). */
    readonly isVersionId: boolean;
    readonly sizeBytes: number;
}

export interface MoveOptions {
    readonly multipartThresholdBytes: number;
    /** User metadata on the copy (x-amz-meta-*); keys lowercase. */
    readonly metadata: Record<string, string>;
    readonly contentType?: string;
}

/** S3's limits for multipart copies. */
export const MIN_PART_BYTES = 5 * 1024 ** 2;
export const MAX_PARTS = 10_000;
/** Default part size of a multipart copy: few calls for large files, far below the 5 GiB part limit. */
export const DEFAULT_PART_BYTES = 256 * 1024 ** 2;

/** `bucket/key?versionId=v` with the key URL-encoded per segment, as CopySource wants it. */
export function copySource(ref: ObjectVersionRef): string {
    const key = ref.key.split("/").map(encodeURIComponent).join("/");
    return `${ref.bucket}/${key}${ref.isVersionId ? `?versionId=${encodeURIComponent(ref.version)}` : ""}`;
}

/** Byte ranges (inclusive) of the parts of a multipart copy of `size` bytes. */
export function partRanges(size: number, preferredPartBytes: number): Array<{ first: number; last: number }> {
    if (!(size > 0)) throw new RangeError(`partRanges: size must be positive, got ${size}`);
    const partBytes = Math.max(MIN_PART_BYTES, preferredPartBytes, Math.ceil(size / MAX_PARTS));
    const ranges: Array<{ first: number; last: number }> = [];
    for (let first = 0; first < size; first += partBytes) ranges.push({ first, last: Math.min(size, first + partBytes) - 1 });
    return ranges;
}

/** Copies one object version to `target` (same or another bucket). Returns the copy's version id, if any. */
export async function copyObjectVersion(
    s3: S3Client,
    source: ObjectVersionRef,
    target: { readonly bucket: string; readonly key: string },
    options: MoveOptions,
): Promise<string | undefined> {
    const common = { Bucket: target.bucket, Key: target.key, Metadata: options.metadata, ContentType: options.contentType };
    if (source.sizeBytes < options.multipartThresholdBytes) {
        const out = await s3.send(new CopyObjectCommand({ ...common, CopySource: copySource(source), MetadataDirective: "REPLACE" }));
        return out.VersionId;
    }
    const upload = await s3.send(new CreateMultipartUploadCommand(common));
    try {
        const parts: Array<{ ETag: string; PartNumber: number }> = [];
        const ranges = partRanges(source.sizeBytes, Math.min(options.multipartThresholdBytes, DEFAULT_PART_BYTES));
        for (let i = 0; i < ranges.length; i++) {
            const { first, last } = ranges[i];
            const out = await s3.send(
                new UploadPartCopyCommand({
                    Bucket: target.bucket,
                    Key: target.key,
                    UploadId: upload.UploadId,
                    PartNumber: i + 1,
                    CopySource: copySource(source),
                    CopySourceRange: `bytes=${first}-${last}`,
                }),
            );
            if (!out.CopyPartResult?.ETag) throw new Error(`UploadPartCopy of part ${i + 1} returned no ETag`);
            parts.push({ ETag: out.CopyPartResult.ETag, PartNumber: i + 1 });
        }
        const done = await s3.send(
            new CompleteMultipartUploadCommand({ Bucket: target.bucket, Key: target.key, UploadId: upload.UploadId, MultipartUpload: { Parts: parts } }),
        );
        return done.VersionId;
    } catch (err) {
        // Parts of an abandoned upload are billed until aborted (the lifecycle aborts them after days anyway).
        await s3.send(new AbortMultipartUploadCommand({ Bucket: target.bucket, Key: target.key, UploadId: upload.UploadId })).catch(() => undefined);
        throw err;
    }
}

/**
 * Copies the version to `target`, then deletes the source key (a delete marker in a versioned bucket; the
 * version itself is kept). Copy first: a failure in between leaves the file in both places, never in none.
 * The key is deleted only while the moved version is still its current one: a newer upload of the same key
 * is another file, with its own event and validation, and must not be hidden by this one's quarantine.
 */
export async function moveObjectVersion(
    s3: S3Client,
    source: ObjectVersionRef,
    target: { readonly bucket: string; readonly key: string },
    options: MoveOptions,
): Promise<{ readonly copyVersionId?: string; readonly sourceDeleted: boolean }> {
    const copyVersionId = await copyObjectVersion(s3, source, target, options);
    const current = await s3.send(new HeadObjectCommand({ Bucket: source.bucket, Key: source.key })).catch((err: unknown) => {
        // Already gone (a previous attempt deleted it): nothing left to hide.
        if (err instanceof Error && (err.name === "NotFound" || err.name === "NoSuchKey")) return undefined;
        throw err;
    });
    if (current === undefined) return { copyVersionId, sourceDeleted: true };
    const currentVersion = source.isVersionId ? current.VersionId : current.ETag?.replace(/"/g, "");
    if (currentVersion !== source.version) return { copyVersionId, sourceDeleted: false };
    await s3.send(new DeleteObjectCommand({ Bucket: source.bucket, Key: source.key }));
    return { copyVersionId, sourceDeleted: true };
}
