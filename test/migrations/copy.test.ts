/**
 * Round trip on real servers: an Airbyte-shaped PostgreSQL 13 source (the bundled database's
 * major) copied to PostgreSQL 17, through the CLI as a user runs it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensurePgClientTools } from "../support/pg-client-tools";
import { createAirbyteDatabases, tablesWithoutPrimaryKey } from "../support/pg-airbyte-fixture";
import { PgServer, startPostgres } from "../support/postgres";
import {
  allRows,
  cliEnv,
  indexesAndConstraints,
  runCli,
  userTables,
  verifyResult,
} from "./cli-helpers";

let source: PgServer;
let target: PgServer;
let renameTarget: PgServer;
const DATABASES = ["db-airbyte", "temporal", "temporal_visibility"];

beforeAll(async () => {
  ensurePgClientTools();
  [source, target, renameTarget] = await Promise.all([
    startPostgres({ major: 13 }),
    startPostgres({ major: 17 }),
    startPostgres({ major: 17 }),
  ]);
  await createAirbyteDatabases(source, { scale: { jobs: 1500 } });
  await createAirbyteDatabases(source, {
    scale: { jobs: 300 },
    airbyteDatabase: "airbyte",
    temporal: false,
  });
  // The copy needs nothing but read access on the source.
  const admin = await source.connect("postgres");
  await admin.query("CREATE ROLE reader LOGIN PASSWORD 'reader-pass'");
  await admin.end();
  for (const db of [...DATABASES, "airbyte"]) {
    const c = await source.connect(db);
    await c.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader;
                   GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO reader`);
    await c.end();
  }
  // A v2 prod publishes db-airbyte to the hub: the publication is prod's, not the copy's.
  const p = await source.connect("db-airbyte");
  await p.query("CREATE PUBLICATION airbyte_prod_pub FOR TABLE jobs, attempts");
  await p.end();
});

afterAll(async () => {
  await Promise.all([source?.stop(), target?.stop(), renameTarget?.stop()]);
});

async function expectSameContent(sourceDb: string, targetServer: PgServer, targetDb: string) {
  const s = await source.connect(sourceDb);
  const t = await targetServer.connect(targetDb);
  try {
    const tables = await userTables(s);
    expect(await userTables(t)).toEqual(tables);
    for (const table of tables) {
      const [a, b] = [await allRows(s, table), await allRows(t, table)];
      expect(b.length, table).toBe(a.length);
      expect(b, table).toEqual(a);
    }
    expect(await indexesAndConstraints(t)).toEqual(await indexesAndConstraints(s));
    const seq = "SELECT sequencename, last_value FROM pg_sequences ORDER BY 1";
    expect((await t.query(seq)).rows).toEqual((await s.query(seq)).rows);
    const checkpoints = await t.query(
      "SELECT 1 FROM pg_namespace WHERE nspname = 'airbyte_migrate'",
    );
    expect(checkpoints.rowCount).toBe(0);
  } finally {
    await s.end();
    await t.end();
  }
}

describe("copy", () => {
  it("copies the three databases 13 -> 17 with a read-only user; verify passes and every row agrees", async () => {
    const env = cliEnv({
      SOURCE_DATABASE_URL: source.url("postgres", "reader", "reader-pass"),
      TARGET_DATABASE_URL: target.url(),
    });
    const result = await runCli(["copy", "--json", "--jobs", "2", "--split-mb", "1"], env);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const verify = verifyResult(result.stdout);
    expect(verify.ok).toBe(true);
    expect(verify.tables.map((t) => t.table)).toEqual(
      expect.arrayContaining(tablesWithoutPrimaryKey),
    );
    expect(result.stdout).not.toContain("reader-pass");
    expect(result.stdout).not.toContain(target.password);
    for (const db of DATABASES) await expectSameContent(db, target, db);
    const t = await target.connect("db-airbyte");
    try {
      expect((await t.query("SELECT pubname FROM pg_publication")).rows).toEqual([]);
    } finally {
      await t.end();
    }
  }, 120_000);

  it("verify on its own reports equal, and exits 3 with the table named after a change", async () => {
    const env = cliEnv({ SOURCE_DATABASE_URL: source.url(), TARGET_DATABASE_URL: target.url() });
    const same = await runCli(["verify"], env);
    expect(same.code).toBe(0);
    expect(same.stdout).toContain("verify: 22 tables and 2 sequences equal");

    const t = await target.connect("db-airbyte");
    await t.query(
      "UPDATE secrets SET payload = payload || ' ' WHERE coordinate = 'airbyte_workspace_secret_1'",
    );
    await t.end();
    const changed = await runCli(["verify", "--databases", "db-airbyte"], env);
    expect(changed.code).toBe(3);
    expect(changed.stdout).toMatch(/secrets\s+\d+\s+\d+\s+DIFFERENT/);
    expect(changed.stdout).toContain("verify: 1 difference(s) found");
  }, 60_000);

  it("refuses a target that already holds data", async () => {
    const env = cliEnv({ SOURCE_DATABASE_URL: source.url(), TARGET_DATABASE_URL: target.url() });
    const result = await runCli(["copy", "--databases", "temporal"], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `database "temporal" on the target server 127.0.0.1:${target.port} already holds data`,
    );
    expect(result.stderr).toContain("pass --drop-existing to replace it");
  });

  it("renames airbyte to db-airbyte (docker-compose source), then replaces it with --drop-existing", async () => {
    const env = cliEnv({
      SOURCE_DATABASE_URL: source.url(),
      TARGET_DATABASE_URL: renameTarget.url(),
    });
    // With --map, the default list reads "airbyte" where it says "db-airbyte".
    const first = await runCli(["copy", "--map", "airbyte=db-airbyte"], env);
    expect(first.stderr).toContain('[db-airbyte] copy from source database "airbyte"');
    expect(first.code).toBe(0);
    await expectSameContent("airbyte", renameTarget, "db-airbyte");

    const admin = await renameTarget.connect("postgres");
    const { rows } = await admin.query("SELECT datname FROM pg_database WHERE datname = 'airbyte'");
    await admin.end();
    expect(rows).toEqual([]);

    const again = await runCli(
      ["copy", "--databases", "airbyte", "--map", "airbyte=db-airbyte", "--drop-existing"],
      env,
    );
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("(--drop-existing)");
    await expectSameContent("airbyte", renameTarget, "db-airbyte");
  }, 120_000);

  it("plan lists sizes, tables without a primary key, sequences and warnings, without writing", async () => {
    const env = cliEnv({ SOURCE_DATABASE_URL: source.url(), TARGET_DATABASE_URL: target.url() });
    const result = await runCli(["plan", "--json"], env);
    expect(result.code).toBe(0);
    const plan = JSON.parse(result.stdout.trim().split("\n").pop() ?? "{}").data as {
      source: { readOnly: boolean };
      databases: { target: string; tablesWithoutPrimaryKey: string[]; sequences: string[] }[];
      warnings: string[];
    };
    expect(plan.source.readOnly).toBe(true);
    const airbyte = plan.databases.find((d) => d.target === "db-airbyte");
    expect(airbyte?.tablesWithoutPrimaryKey.sort()).toEqual([...tablesWithoutPrimaryKey].sort());
    expect(airbyte?.sequences).toEqual(["attempts_id_seq", "jobs_id_seq"]);
    expect(plan.warnings.join("\n")).toContain('target database "db-airbyte" is not empty');

    const text = await runCli(["plan"], env);
    expect(text.stdout).toContain("nothing is written to the source");
    expect(text.stdout).toContain("tables without a primary key:");
  });
});
