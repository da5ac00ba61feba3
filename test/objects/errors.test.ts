/**
 * Every error a user of `objects` can meet, through the CLI: the message names the flag or
 * variable and the fix, the exit status is non-zero, and no secret key is ever printed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliEnv, CliResult, runCli } from "../migrations/cli-helpers";
import { freePort } from "../support/postgres";
import { S3Server, SECRET_KEY, startS3 } from "./s3-servers";

let src: S3Server;
let dst: S3Server;
const WRONG = "Wrong-Secret-7731";

beforeAll(async () => {
  [src, dst] = await Promise.all([startS3(["airbyte-bucket"]), startS3()]);
});

afterAll(async () => {
  await Promise.all([src?.stop(), dst?.stop()]);
});

async function expectError(
  args: string[],
  env: Record<string, string>,
  code: number,
  ...parts: string[]
): Promise<CliResult> {
  const r = await runCli(["objects", ...args], cliEnv(env));
  expect(r.code, r.stderr).toBe(code);
  for (const p of parts) expect(r.stderr).toContain(p);
  for (const s of [SECRET_KEY, encodeURIComponent(SECRET_KEY), WRONG]) {
    expect(r.stdout + r.stderr).not.toContain(s);
  }
  return r;
}

const both = () => ({ SOURCE_S3_URL: src.url(), TARGET_S3_URL: dst.url() });

describe("objects errors", () => {
  it("malformed endpoints name the flag or variable and the expected form", async () => {
    await expectError(
      ["mirror", "--source-s3", "not a url"],
      both(),
      2,
      "--source-s3 / SOURCE_S3_URL is not a valid URL",
      "http://ACCESS_KEY:",
    );
    await expectError(
      ["mirror"],
      { SOURCE_S3_URL: src.url(), TARGET_S3_URL: `ftp://a:${WRONG}@h:21` },
      2,
      "--target-s3 / TARGET_S3_URL must start with http:// or https://",
    );
    await expectError(
      ["verify", "--source-s3", "http://127.0.0.1:9000"],
      both(),
      2,
      "has no access key and secret key",
    );
    await expectError(
      ["verify", "--target-s3", `http://a:${WRONG}@h:9000/airbyte-bucket`],
      both(),
      2,
      "has a path",
      "--buckets",
    );
    await expectError(
      ["verify", "--target-s3", `http://a:${WRONG}@h:9000?secure=1`],
      both(),
      2,
      "unsupported parameter(s) secure",
    );
    await expectError(
      ["verify"],
      { TARGET_S3_URL: dst.url() },
      2,
      "no source S3 server given",
      "SOURCE_S3_URL",
    );
  });

  it("flags are checked before any request", async () => {
    await expectError(["verify", "--delete"], both(), 2, "--delete belongs to objects mirror");
    await expectError(["mirror", "--strict"], both(), 2, "--strict belongs to objects verify");
    await expectError(
      ["mirror", "--jobs", "0"],
      both(),
      2,
      "--jobs must be a whole number from 1 to 64",
    );
    await expectError(
      ["mirror", "--part-size-mb", "2"],
      both(),
      2,
      "--part-size-mb must be a whole number from 5",
    );
    await expectError(
      ["mirror", "--prefix", "job-", "--prefix", "job-logging/"],
      both(),
      2,
      '--prefix "job-" already covers',
    );
    await expectError(["mirror", "--map", "x"], both(), 2, '--map "x" is not SOURCE=TARGET');
    await expectError(
      ["mirror", "--buckets", "Bad_Name"],
      both(),
      2,
      '"Bad_Name" is not a valid bucket name',
      "--buckets",
    );
    await expectError(["copy"], both(), 2, 'unknown objects command "copy"');
    await expectError(["mirror", "--target-s3", src.url()], both(), 2, "same server");
  });

  // s3rver checks the access key but not SigV4 signatures, so a wrong key stands for wrong
  // credentials here; MinIO answers a wrong secret with SignatureDoesNotMatch, mapped alike.
  it("wrong credentials name the side's flag and print no secret", async () => {
    const r = await expectError(
      ["mirror", "--json"],
      { ...both(), SOURCE_S3_URL: src.url("nobody", WRONG) },
      1,
      "source S3 server",
      "rejected the credentials",
      "--source-s3 / SOURCE_S3_URL",
    );
    expect(r.stdout).toContain('"event":"error"');
    await expectError(
      ["mirror"],
      { ...both(), TARGET_S3_URL: dst.url("nobody", WRONG) },
      1,
      "target S3 server",
      "--target-s3 / TARGET_S3_URL",
    );
  });

  it("an unreachable server and a missing source bucket say what to check", async () => {
    const port = await freePort();
    await expectError(
      ["verify"],
      { ...both(), SOURCE_S3_URL: `http://a:${WRONG}@127.0.0.1:${port}` },
      1,
      "cannot reach the source S3 server",
      "ECONNREFUSED",
      "--source-s3 / SOURCE_S3_URL",
    );
    await expectError(
      ["mirror", "--buckets", "nope-bucket"],
      both(),
      1,
      'bucket "nope-bucket" does not exist on the source S3 server',
      "--buckets",
    );
  });
});
