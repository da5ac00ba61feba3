/**
 * Listings as sorted streams and the merge walk over two of them. S3 lists keys in ascending
 * UTF-8 byte order, page by page; walking both sides in step holds one page per side in memory,
 * whatever the bucket's size, instead of a map of every key.
 */
import type * as Minio from "minio";
import { MigrateError } from "../lib/errors";
import { describeS3, errorCode, S3Endpoint, s3Error } from "./endpoint";

export interface Listed {
  key: string;
  size: number;
  /** Without quotes, as the server gives it (a content MD5, or `<md5>-<parts>` for multipart). */
  etag: string;
}

export interface Pair {
  key: string;
  source?: Listed;
  target?: Listed;
}

/** S3's key order: UTF-8 bytes (JS string order differs beyond the Basic Multilingual Plane). */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

export interface ListSpec {
  client: Minio.Client;
  endpoint: S3Endpoint;
  bucket: string;
  prefix: string;
  pageSize: number;
}

/**
 * Every object under `prefix`, in order, fetched a page at a time as the consumer advances. A
 * listing that goes backwards would make the merge walk report wrong differences (and, with
 * --delete, delete wrongly), so it stops the run.
 */
export async function* listSorted(spec: ListSpec): AsyncGenerator<Listed> {
  const { client, endpoint, bucket, prefix, pageSize } = spec;
  let token = "";
  let previous: string | undefined;
  for (;;) {
    let page;
    try {
      page = await client.listObjectsV2Query(bucket, prefix, token, "", pageSize, "");
    } catch (err) {
      throw s3Error(err, endpoint, `listing bucket "${bucket}"`, bucket);
    }
    for (const item of page.objects) {
      if (item.name === undefined) continue;
      if (previous !== undefined && compareKeys(previous, item.name) >= 0) {
        throw new MigrateError(
          `the ${describeS3(endpoint)} listed bucket "${bucket}" out of order ("${item.name}" ` +
            `after "${previous}"): S3 lists keys in ascending byte order and the comparison ` +
            `depends on it; use an S3-compatible server such as MinIO`,
        );
      }
      previous = item.name;
      yield { key: item.name, size: item.size, etag: item.etag };
    }
    if (!page.isTruncated) return;
    if (!page.nextContinuationToken) {
      throw new MigrateError(
        `the ${describeS3(endpoint)} returned a truncated listing of "${bucket}" without a continuation token`,
      );
    }
    token = page.nextContinuationToken;
  }
}

/** Whether a bucket exists, asked with a one-key listing: its errors carry precise codes. */
export async function bucketExists(
  client: Minio.Client,
  endpoint: S3Endpoint,
  bucket: string,
): Promise<boolean> {
  try {
    await client.listObjectsV2Query(bucket, "", "", "", 1, "");
    return true;
  } catch (err) {
    if (errorCode(err) === "NoSuchBucket") return false;
    throw s3Error(err, endpoint, `listing bucket "${bucket}"`, bucket);
  }
}

async function next<T>(it: AsyncIterator<T>): Promise<T | undefined> {
  const r = await it.next();
  return r.done ? undefined : r.value;
}

/** Pairs of the two sorted listings by key: both sides, source only, or target only. */
export async function* mergeWalk(
  source: AsyncIterable<Listed>,
  target: AsyncIterable<Listed>,
): AsyncGenerator<Pair> {
  const si = source[Symbol.asyncIterator]();
  const ti = target[Symbol.asyncIterator]();
  let s = await next(si);
  let t = await next(ti);
  while (s !== undefined || t !== undefined) {
    const order = s === undefined ? 1 : t === undefined ? -1 : compareKeys(s.key, t.key);
    if (order < 0 && s) {
      yield { key: s.key, source: s };
      s = await next(si);
    } else if (order > 0 && t) {
      yield { key: t.key, target: t };
      t = await next(ti);
    } else if (s && t) {
      yield { key: s.key, source: s, target: t };
      [s, t] = await Promise.all([next(si), next(ti)]);
    }
  }
}
