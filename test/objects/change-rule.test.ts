/**
 * The change-detection rule against a real S3 server: what s3rver's ETags are (the rule's
 * assumptions, checked rather than believed), the stamp every copy carries, the stamp deciding
 * when ETags differ, and the guard against a listing out of S3 order.
 */
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { firstLook, SOURCE_ETAG_META, stampMatches } from "../../migrations/objects/compare";
import { uploadObject } from "../../migrations/objects/upload";
import type { WalkResult } from "../../migrations/objects/walk";
import { cliEnv, CliResult, jsonEvents, runCli } from "../migrations/cli-helpers";
import { content, S3Server, startS3 } from "./s3-servers";

const BUCKET = "airbyte-bucket";
const MB = 1024 * 1024;
let src: S3Server;
let dst: S3Server;

const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");

async function upload(server: S3Server, bucket: string, key: string, body: Buffer, meta = {}) {
  await uploadObject({
    client: server.client(),
    bucket,
    key,
    body: Readable.from([body]),
    size: body.length,
    headers: meta,
    partSize: 5 * MB,
  });
}

function run(args: string[]): Promise<CliResult> {
  return runCli(
    ["objects", ...args],
    cliEnv({ SOURCE_S3_URL: src.url(), TARGET_S3_URL: dst.url() }),
  );
}

function totals(r: CliResult): WalkResult["totals"] {
  const e = jsonEvents(r.stdout).find((x) => x.event === "result");
  if (!e) throw new Error(`no result (exit ${r.code}): ${r.stderr}`);
  return (e.data as WalkResult).totals;
}

beforeAll(async () => {
  [src, dst] = await Promise.all([startS3([BUCKET, "unordered"]), startS3()]);
});

afterAll(async () => {
  await Promise.all([src?.stop(), dst?.stop()]);
});

describe("change detection", () => {
  it("s3rver's ETag is the content MD5, for single and multipart uploads alike", async () => {
    const small = content(1000, 1);
    const large = content(11 * MB, 2);
    await upload(src, BUCKET, "state/small.json", small);
    await upload(src, BUCKET, "workload/output/large.bin", large); // 3 parts of 5 MiB
    const c = src.client();
    expect((await c.statObject(BUCKET, "state/small.json")).etag).toBe(md5(small));
    // MinIO and S3 would answer `<md5 of part md5s>-3` here; s3rver stores the whole object and
    // answers its MD5. The rule does not depend on either (see the stamp tests below).
    expect((await c.statObject(BUCKET, "workload/output/large.bin")).etag).toBe(md5(large));
  });

  it("every copy records the source ETag it was made from; a re-run sends nothing", async () => {
    const r = await run(["mirror", "--json", "--part-size-mb", "5"]);
    expect(r.code, r.stderr).toBe(0);
    expect(totals(r)).toMatchObject({ copied: 2 });
    for (const key of ["state/small.json", "workload/output/large.bin"]) {
      const [s, t] = await Promise.all([
        src.client().statObject(BUCKET, key),
        dst.client().statObject(BUCKET, key),
      ]);
      expect(t.metaData[SOURCE_ETAG_META]).toBe(s.etag);
    }
    expect(totals(await run(["mirror", "--json"]))).toMatchObject({ copied: 0, equal: 2 });
  });

  it("when ETags differ at equal size, the stamp decides (the multipart case)", async () => {
    const key = "state/small.json";
    const sourceEtag = (await src.client().statObject(BUCKET, key)).etag;
    // A target object whose ETag differs from the source's, as a copy uploaded with another part
    // size has, but stamped with the source's current ETag: counted equal, not copied again.
    await upload(dst, BUCKET, key, content(1000, 99), {
      [`x-amz-meta-${SOURCE_ETAG_META}`]: sourceEtag,
    });
    const v = await run(["verify", "--json"]);
    expect(v.code, v.stderr).toBe(0);
    expect(totals(v)).toMatchObject({ equal: 2, different: 0 });
    // Without the stamp (written by something else) the same object is different and recopied.
    await upload(dst, BUCKET, key, content(1000, 99));
    expect(totals(await run(["verify", "--json"]))).toMatchObject({ equal: 1, different: 1 });
    expect(totals(await run(["mirror", "--json"]))).toMatchObject({ copied: 1, different: 1 });
    expect((await dst.client().statObject(BUCKET, key)).etag).toBe(sourceEtag);
  });

  it("judges by size first, then ETag, then stamp", () => {
    const multipart = { size: 12 * MB, etag: "9b2cf535f27731c974343645a3985328-3" };
    expect(firstLook({ size: 5, etag: "a" }, { size: 6, etag: "a" })).toBe("different");
    expect(firstLook({ size: 5, etag: '"ABC"' }, { size: 5, etag: "abc" })).toBe("equal");
    expect(firstLook(multipart, { size: 12 * MB, etag: "0f343b0931126a20f133d67c2b018a3b" })).toBe(
      "ask-stamp",
    );
    expect(stampMatches(multipart, multipart.etag)).toBe(true);
    expect(stampMatches(multipart, undefined)).toBe(false);
    expect(stampMatches(multipart, "9b2cf535f27731c974343645a3985328-4")).toBe(false);
  });

  it("refuses a listing out of S3's byte order rather than judging keys wrongly", async () => {
    // s3rver walks its folders: "k/x" (folder k) comes before "k-b", S3 lists "k-b" first.
    await upload(src, "unordered", "k/x", content(10, 3));
    await upload(src, "unordered", "k-b", content(10, 4));
    const r = await run(["verify", "--buckets", "unordered"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('listed bucket "unordered" out of order');
  });
});
