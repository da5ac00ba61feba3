/**
 * Streamed upload of one object with a known size, holding at most one part in memory. Objects
 * up to the part size go in one PUT; larger ones as a multipart upload this module drives itself
 * (the client's own streaming upload first looks for unfinished uploads to resume, a call not
 * every S3 server offers, and leaves failed uploads behind). A failed or short read aborts the
 * upload, so a truncated body never becomes an object on the target.
 */
import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import type * as Minio from "minio";

export interface UploadSpec {
  client: Minio.Client;
  bucket: string;
  key: string;
  body: Readable;
  /** Bytes the body must deliver. */
  size: number;
  /** Full header names: `content-type`, `x-amz-meta-…`. */
  headers: Record<string, string>;
  partSize: number;
  /** Called with each chunk's length as it is read, for progress. */
  onBytes?: (n: number) => void;
}

function shortRead(seen: number, size: number): Error {
  return new Error(`the source delivered ${seen} bytes instead of ${size}`);
}

/** Parts of exactly `partSize` bytes (the last one shorter) from a byte stream. */
async function* parts(body: Readable, partSize: number, onBytes?: (n: number) => void) {
  let held: Buffer[] = [];
  let length = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    onBytes?.(chunk.length);
    held.push(chunk);
    length += chunk.length;
    while (length >= partSize) {
      const all = Buffer.concat(held);
      yield all.subarray(0, partSize);
      held = [all.subarray(partSize)];
      length -= partSize;
    }
  }
  if (length > 0 || held.length === 0) yield Buffer.concat(held);
}

export async function uploadObject(u: UploadSpec): Promise<void> {
  if (u.size <= u.partSize) {
    let body = Buffer.alloc(0);
    for await (const part of parts(u.body, u.partSize + 1, u.onBytes)) body = part;
    if (body.length !== u.size) throw shortRead(body.length, u.size);
    await u.client.putObject(u.bucket, u.key, body, body.length, u.headers);
    return;
  }
  const uploadId = await u.client.initiateNewMultipartUpload(u.bucket, u.key, u.headers);
  try {
    const etags: { part: number; etag: string }[] = [];
    let seen = 0;
    for await (const chunk of parts(u.body, u.partSize, u.onBytes)) {
      seen += chunk.length;
      if (chunk.length === 0) break;
      const part = etags.length + 1;
      const res = await u.client.uploadPart(
        {
          bucketName: u.bucket,
          objectName: u.key,
          uploadID: uploadId,
          partNumber: part,
          headers: {
            "Content-Length": chunk.length,
            "Content-MD5": createHash("md5").update(chunk).digest("base64"),
          },
        },
        chunk,
      );
      etags.push({ part, etag: res.etag });
    }
    if (seen !== u.size) throw shortRead(seen, u.size);
    await u.client.completeMultipartUpload(u.bucket, u.key, uploadId, etags);
  } catch (err) {
    await u.client.abortMultipartUpload(u.bucket, u.key, uploadId).catch(() => undefined);
    throw err;
  }
}
