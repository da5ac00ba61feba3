/**
 * `objects mirror` and `objects verify` through the CLI, as the CronJob runs them, between two
 * S3 servers on loopback: a first full copy, a second run that copies nothing, then new, changed
 * (also at equal size) and deleted source objects, `--delete`, prefixes and bucket mapping.
 */
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mirrorJobArgs } from "../../migrations/objects/job-command";
import { uploadObject } from "../../migrations/objects/upload";
import type { WalkResult } from "../../migrations/objects/walk";
import { cliEnv, CliResult, jsonEvents, runCli } from "../migrations/cli-helpers";
import { content, listAll, readObject, S3Server, SECRET_KEY, startS3 } from "./s3-servers";

const BUCKET = "airbyte-bucket";
const MB = 1024 * 1024;
let src: S3Server;
let dst: S3Server;

/** Key → content of what the source holds, kept in step with every change the test makes. */
const expected = new Map<string, Buffer>();

async function put(key: string, body: Buffer): Promise<void> {
  // 6 MiB parts on the source, 5 MiB on the target (--part-size-mb 5): both sides see multipart.
  await uploadObject({
    client: src.client(),
    bucket: BUCKET,
    key,
    body: Readable.from([body]),
    size: body.length,
    headers: { "content-type": "application/octet-stream" },
    partSize: 6 * MB,
  });
  expected.set(key, body);
}

async function remove(key: string): Promise<void> {
  await src.client().removeObject(BUCKET, key);
  expected.delete(key);
}

function logKey(job: number, attempt: number, file: string): string {
  return `job-logging/workspace/w1/connection/c1/job/${job}/attempt/${attempt}/${file}`;
}

function env(): NodeJS.ProcessEnv {
  const e = cliEnv({ SOURCE_S3_URL: src.url(), TARGET_S3_URL: dst.url() });
  return e;
}

async function objects(args: string[]): Promise<CliResult> {
  const r = await runCli(["objects", ...args], env());
  // No run, whatever its outcome, may print the secret key in any form.
  for (const s of [SECRET_KEY, encodeURIComponent(SECRET_KEY)]) {
    expect(r.stdout + r.stderr).not.toContain(s);
  }
  return r;
}

function result(r: CliResult): WalkResult {
  const e = jsonEvents(r.stdout).find((x) => x.event === "result");
  if (!e) throw new Error(`no result event (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  return e.data as WalkResult;
}

const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");

/** The target bucket holds exactly `keys` (default: the source's), byte for byte. */
async function expectTargetMatches(bucket = BUCKET, keys = [...expected.keys()]): Promise<void> {
  const listed = await listAll(dst.client(), bucket);
  expect([...listed.keys()].sort()).toEqual([...keys].sort());
  for (const key of keys) {
    const body = await readObject(dst.client(), bucket, key);
    expect(md5(body), key).toBe(md5(expected.get(key) ?? Buffer.alloc(0)));
  }
}

beforeAll(async () => {
  [src, dst] = await Promise.all([startS3([BUCKET]), startS3()]);
  const puts: Promise<void>[] = [];
  for (let job = 101; job <= 104; job++) {
    for (let attempt = 0; attempt < 2; attempt++) {
      for (const file of ["log-a.txt", "log-b.txt", "log-c.txt"]) {
        puts.push(
          put(logKey(job, attempt, file), content(200 + job * 7 + attempt, job * 10 + attempt)),
        );
      }
    }
  }
  for (let i = 1; i <= 5; i++) puts.push(put(`state/c1/state-${i}.json`, content(64 * i, 500 + i)));
  puts.push(put("workload/output/wl-1.json", content(900, 600)));
  puts.push(put("activity-payloads/p-1.json", content(300, 700)));
  puts.push(put("audit-logging/day-01.log", content(4000, 800)));
  puts.push(put("audit-logging/empty.log", Buffer.alloc(0)));
  puts.push(put("workload/output/big-a.bin", content(13 * MB, 900)));
  puts.push(put("workload/output/big-b.bin", content(7 * MB + 3, 901)));
  await Promise.all(puts);
});

afterAll(async () => {
  await Promise.all([src?.stop(), dst?.stop()]);
});

describe("objects mirror and verify", () => {
  it("copies everything into a created bucket with the CronJob's command; verify passes", async () => {
    const args = [
      ...mirrorJobArgs({ buckets: [BUCKET], jobs: 3, partSizeMb: 5 }),
      "--page-size",
      "7",
    ];
    const first = await runCli(args, env());
    expect(first.code, first.stderr).toBe(0);
    const r = result(first);
    const total = [...expected.values()].reduce((n, b) => n + b.length, 0);
    expect(r.totals).toMatchObject({ copied: expected.size, bytes: total, errors: 0, equal: 0 });
    expect(jsonEvents(first.stdout).some((e) => String(e.message).includes("created bucket"))).toBe(
      true,
    );
    await expectTargetMatches();

    const verify = await objects(["verify", "--page-size", "5", "--json"]);
    expect(verify.code, verify.stderr).toBe(0);
    expect(result(verify).totals).toMatchObject({
      equal: expected.size,
      missing: 0,
      different: 0,
      extra: 0,
    });
  });

  it("a second run copies nothing (incremental, idempotent)", async () => {
    const again = await objects(["mirror", "--json", "--part-size-mb", "5"]);
    expect(again.code, again.stderr).toBe(0);
    expect(result(again).totals).toMatchObject({ copied: 0, bytes: 0, equal: expected.size });
  });

  it("copies exactly the new and changed objects, keeps deleted ones until --delete", async () => {
    const added = [
      "state/c2/state-1.json",
      logKey(105, 0, "log-a.txt"),
      "workload/output/big-c.bin",
    ];
    await put(added[0], content(128, 1000));
    await put(added[1], content(700, 1001));
    await put(added[2], content(6 * MB, 1002));
    // Changed at a new size, and changed at the same size (only the content tells).
    await put("state/c1/state-2.json", content(999, 1003));
    await put(logKey(102, 1, "log-b.txt"), content(200 + 102 * 7 + 1, 4242));
    await put("workload/output/big-b.bin", content(7 * MB + 3, 4243));
    const gone = [logKey(101, 0, "log-a.txt"), "activity-payloads/p-1.json"];
    const goneBodies = gone.map((k) => expected.get(k));
    for (const k of gone) await remove(k);

    const before = await objects(["verify", "--json"]);
    expect(before.code).toBe(3);
    expect(result(before).totals).toMatchObject({ missing: 3, different: 3, extra: 2 });

    const mirror = await objects(["mirror", "--json", "--jobs", "2", "--part-size-mb", "5"]);
    expect(mirror.code, mirror.stderr).toBe(0);
    const m = result(mirror).totals;
    expect(m).toMatchObject({
      copied: 6,
      missing: 3,
      different: 3,
      deleted: 0,
      extra: 2,
      errors: 0,
    });
    expect(m.equal).toBe(expected.size - 6);
    expect(m.bytes).toBe(
      [...added, "state/c1/state-2.json", logKey(102, 1, "log-b.txt"), "workload/output/big-b.bin"]
        .map((k) => expected.get(k)?.length ?? 0)
        .reduce((a, b) => a + b, 0),
    );
    // Deleted on the source, still on the target as last copied.
    gone.forEach((k, i) => expected.set(k, goneBodies[i] ?? Buffer.alloc(0)));
    await expectTargetMatches();
    for (const k of gone) expected.delete(k);

    // Extras are not differences unless --strict (logs expire on prod first).
    const lenient = await objects(["verify", "--json"]);
    expect(lenient.code, lenient.stderr).toBe(0);
    expect(result(lenient).totals).toMatchObject({ equal: expected.size, extra: 2 });
    const strict = await objects(["verify", "--strict"]);
    expect(strict.code).toBe(3);
    for (const k of gone) expect(strict.stdout).toContain(k);

    const del = await objects(["mirror", "--delete", "--json"]);
    expect(del.code, del.stderr).toBe(0);
    expect(result(del).totals).toMatchObject({ copied: 0, deleted: 2, extra: 0 });
    await expectTargetMatches();
    const clean = await objects(["verify", "--strict"]);
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stdout).toContain("verify OK");
  });

  it("mirrors only the given prefix into a mapped bucket, with a readable summary", async () => {
    const r = await objects(["mirror", "--prefix", "job-logging/", "--map", `${BUCKET}=logs-copy`]);
    expect(r.code, r.stderr).toBe(0);
    const logs = [...expected.keys()].filter((k) => k.startsWith("job-logging/"));
    await expectTargetMatches("logs-copy", logs);
    expect(r.stdout).toMatch(/airbyte-bucket -> logs-copy job-logging\/\s+\d+/);
    expect(r.stdout).toContain("mirror OK");
    const v = await objects([
      "verify",
      "--prefix",
      "job-logging/",
      "--map",
      `${BUCKET}=logs-copy`,
      "--strict",
    ]);
    expect(v.code, v.stdout + v.stderr).toBe(0);
  });
});
