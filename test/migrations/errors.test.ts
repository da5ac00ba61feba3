/**
 * Every error a user can meet, through the CLI: the message names what is wrong and what to do,
 * the exit status is non-zero, and no password is ever printed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensurePgClientTools } from "../support/pg-client-tools";
import { createAirbyteDatabases } from "../support/pg-airbyte-fixture";
import { freePort, PgServer, startPostgres } from "../support/postgres";
import { cliEnv, runCli } from "./cli-helpers";

let pg13: PgServer;
let pg17: PgServer;
const PASSWORD = "s3cret-Pa55word";

beforeAll(async () => {
  ensurePgClientTools();
  [pg13, pg17] = await Promise.all([
    startPostgres({ major: 13, password: PASSWORD }),
    startPostgres({ major: 17, password: PASSWORD }),
  ]);
  await createAirbyteDatabases(pg13, { scale: { jobs: 50 }, temporal: false });
  const admin = await pg13.connect("db-airbyte");
  await admin.query(`CREATE ROLE partial LOGIN PASSWORD 'partial-pass';
    GRANT SELECT ON ALL TABLES IN SCHEMA public TO partial;
    GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO partial;
    REVOKE SELECT ON secrets FROM partial`);
  await admin.end();
});

afterAll(async () => {
  await Promise.all([pg13?.stop(), pg17?.stop()]);
});

/** Run the CLI and check it failed with `code` and a message containing every `parts`. */
async function expectError(
  args: string[],
  env: Record<string, string>,
  code: number,
  ...parts: string[]
) {
  const result = await runCli(args, cliEnv(env));
  expect(result.code, result.stderr).toBe(code);
  for (const p of parts) expect(result.stderr).toContain(p);
  expect(result.stderr + result.stdout).not.toContain(PASSWORD);
  return result;
}

const copyDb = ["copy", "--databases", "db-airbyte"];

describe("errors", () => {
  it("malformed URLs name the flag or variable and the expected form", async () => {
    await expectError(
      copyDb,
      { SOURCE_DATABASE_URL: "not a url", TARGET_DATABASE_URL: pg17.url() },
      2,
      "--source / SOURCE_DATABASE_URL is not a valid URL",
      "expected postgres://",
    );
    await expectError(
      [...copyDb, "--target", "mysql://u:p@h/db", "--source", pg13.url()],
      {},
      2,
      "--target / TARGET_DATABASE_URL must start with postgres:// or postgresql://",
    );
    await expectError(
      [...copyDb, "--source", pg13.url()],
      {},
      2,
      "no target server given: pass --target",
      "or set TARGET_DATABASE_URL",
    );
    await expectError(
      [...copyDb, "--source", `${pg13.url()}?connect_timeout=3`, "--target", pg17.url()],
      {},
      2,
      "unsupported parameter(s) connect_timeout",
    );
  });

  it("usage errors name the flag and the fix", async () => {
    const env = { SOURCE_DATABASE_URL: pg13.url(), TARGET_DATABASE_URL: pg17.url() };
    await expectError(
      [...copyDb, "--jobs", "0"],
      env,
      2,
      "--jobs must be a whole number from 1 to 64",
    );
    await expectError(
      [...copyDb, "--map", "airbyte"],
      env,
      2,
      '--map "airbyte" is not SOURCE=TARGET',
    );
    await expectError([...copyDb, "--resume", "--drop-existing"], env, 2, "choose one");
    await expectError(["copy", "--bogus"], env, 2, "--bogus", "see airbyte-migrate --help");
    await expectError(["migrate"], env, 2, 'unknown command "migrate"');
  });

  it("an unreachable host", async () => {
    const port = await freePort();
    await expectError(
      copyDb,
      {
        SOURCE_DATABASE_URL: `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`,
        TARGET_DATABASE_URL: pg17.url(),
      },
      1,
      `cannot reach the source server 127.0.0.1:${port} (ECONNREFUSED)`,
      "check the host and port in --source / SOURCE_DATABASE_URL",
    );
  });

  it("a wrong password, without printing either password", async () => {
    const wrong = "wrong-Pa55word-xyz";
    const result = await expectError(
      copyDb,
      {
        SOURCE_DATABASE_URL: pg13.url(),
        TARGET_DATABASE_URL: pg17.url("postgres", "postgres", wrong),
      },
      1,
      `the target server 127.0.0.1:${pg17.port} rejected the password of user "postgres"`,
      "fix the password in --target / TARGET_DATABASE_URL",
    );
    expect(result.stderr).not.toContain(wrong);
  });

  it("a missing database", async () => {
    await expectError(
      ["copy", "--databases", "db-airbyte,nope"],
      {
        SOURCE_DATABASE_URL: pg13.url(),
        TARGET_DATABASE_URL: pg17.url(),
      },
      1,
      `database(s) "nope" do not exist on the source server 127.0.0.1:${pg13.port}`,
      "--databases",
    );
    await expectError(
      copyDb,
      {
        SOURCE_DATABASE_URL: pg13.url("gone"),
        TARGET_DATABASE_URL: pg17.url(),
      },
      1,
      `database "gone" does not exist on the source server`,
    );
  });

  it("a missing privilege on the source", async () => {
    await expectError(
      copyDb,
      {
        SOURCE_DATABASE_URL: pg13.url("postgres", "partial", "partial-pass"),
        TARGET_DATABASE_URL: pg17.url(),
      },
      1,
      'user "partial" cannot read public.secrets in "db-airbyte"',
      "GRANT SELECT",
    );
  });

  it("a target older than the source", async () => {
    await expectError(
      ["copy", "--databases", "postgres"],
      {
        SOURCE_DATABASE_URL: pg17.url(),
        TARGET_DATABASE_URL: pg13.url(),
      },
      1,
      `the target server 127.0.0.1:${pg13.port} runs PostgreSQL 13.`,
      "use a target server of major 17 or newer",
    );
  });

  it("pg_dump missing, or older than the source", async () => {
    const env = { SOURCE_DATABASE_URL: pg13.url(), TARGET_DATABASE_URL: pg17.url() };
    await expectError(
      [...copyDb, "--pg-dump", "/nonexistent/pg_dump"],
      env,
      1,
      "pg_dump not found or not executable at /nonexistent/pg_dump (from --pg-dump)",
      "install postgresql-client-13",
    );
    await expectError(copyDb, { ...env, PG_DUMP: "/nonexistent/bin/pg_dump" }, 1, "(from PG_DUMP)");
    const tools = ensurePgClientTools();
    // The source on 17 needs pg_dump 17; the Debian client on this machine is older.
    if (tools.major < 17) {
      await expectError(
        ["copy", "--databases", "postgres", "--map", "postgres=pg_copy"],
        {
          SOURCE_DATABASE_URL: pg17.url(),
          TARGET_DATABASE_URL: pg17.url(),
        },
        1,
        `is version ${tools.major}, older than the source server (PostgreSQL 17)`,
        "install postgresql-client-17",
      );
    }
  });
});
