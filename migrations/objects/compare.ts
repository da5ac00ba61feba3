/**
 * When a target object counts as a copy of the source object (docs/objects.md, "Change
 * detection").
 *
 * A single-part upload's ETag is the MD5 of its content on MinIO and S3 (without SSE-KMS/SSE-C),
 * so equal size and equal ETag mean equal content. A multipart upload's ETag is the MD5 of its
 * parts' MD5s plus `-<parts>`: it depends on the part size the uploader chose, so the same bytes
 * uploaded by Airbyte (one part size) and by this tool (another) have different ETags. Each copy
 * therefore records the source ETag it was made from in the target's user metadata; when the
 * ETags differ, that stamp decides. Only then is a HEAD request needed, and it happens for
 * objects that are multipart (few, large) or really changed (about to be copied anyway).
 */

/** User metadata key (sent as `x-amz-meta-…`) holding the source ETag a copy was made from. */
export const SOURCE_ETAG_META = "airbyte-mirror-source-etag";

export interface Sized {
  size: number;
  etag: string;
}

/** What the listings alone say about one key present on both sides. */
export type FirstLook = "equal" | "different" | "ask-stamp";

export function firstLook(source: Sized, target: Sized): FirstLook {
  if (source.size !== target.size) return "different";
  if (normalEtag(source.etag) === normalEtag(target.etag)) return "equal";
  return "ask-stamp";
}

/** The verdict once the target's stamp is known (`undefined` when it has none). */
export function stampMatches(source: Sized, stamp: string | undefined): boolean {
  return stamp !== undefined && normalEtag(stamp) === normalEtag(source.etag);
}

/** ETags arrive quoted or not, and some servers vary hex case. */
export function normalEtag(etag: string): string {
  return etag.replace(/^"|"$/g, "").toLowerCase();
}
