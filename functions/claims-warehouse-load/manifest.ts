/**
 * The COPY manifest of one file's Parquet. The claims table is laid out `year=/month=/file_id=/`, so a file's
 * objects share no prefix (a file spans months) and COPY, which takes a prefix or a manifest, needs a
 * manifest. The objects are found by listing: the year prefixes, their month prefixes, then the file's
 * directory under each month. Redshift requires `meta.content_length` on each entry for Parquet.
 */
import { ListObjectsV2Command, ListObjectsV2CommandOutput, S3Client } from "@aws-sdk/client-s3";

export const CLAIMS_TABLE_PREFIX = "processed/claims/";
export const MANIFEST_PREFIX = "processed/warehouse-manifests/";

export interface ManifestEntry {
    readonly url: string;
    readonly mandatory: true;
    readonly meta: { readonly content_length: number };
}

export interface Manifest {
    readonly entries: readonly ManifestEntry[];
}

/** Key of a file's manifest (rewritten by each load of the file). */
export const manifestKey = (fileId: string): string => `${MANIFEST_PREFIX}${fileId}.manifest`;

async function* pages(s3: S3Client, bucket: string, prefix: string, delimiter?: string): AsyncGenerator<ListObjectsV2CommandOutput> {
    let token: string | undefined;
    do {
        const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: delimiter, ContinuationToken: token }));
        yield out;
        token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
}

async function childPrefixes(s3: S3Client, bucket: string, prefix: string, pattern: RegExp): Promise<string[]> {
    const found: string[] = [];
    for await (const page of pages(s3, bucket, prefix, "/")) {
        for (const p of page.CommonPrefixes ?? []) if (p.Prefix && pattern.test(p.Prefix.slice(prefix.length))) found.push(p.Prefix);
    }
    return found;
}

/** Every Parquet object of `fileId` under the claims table, sorted by key. */
export async function listFileParquet(s3: S3Client, bucket: string, fileId: string): Promise<ManifestEntry[]> {
    const entries: ManifestEntry[] = [];
    for (const year of await childPrefixes(s3, bucket, CLAIMS_TABLE_PREFIX, /^year=[^/]+\/$/)) {
        for (const month of await childPrefixes(s3, bucket, year, /^month=[^/]+\/$/)) {
            for await (const page of pages(s3, bucket, `${month}file_id=${fileId}/`)) {
                for (const o of page.Contents ?? []) {
                    if (o.Key?.endsWith(".parquet") && (o.Size ?? 0) > 0) {
                        entries.push({ url: `s3://${bucket}/${o.Key}`, mandatory: true, meta: { content_length: o.Size ?? 0 } });
                    }
                }
            }
        }
    }
    return entries.sort((a, b) => (a.url < b.url ? -1 : a.url > b.url ? 1 : 0));
}
