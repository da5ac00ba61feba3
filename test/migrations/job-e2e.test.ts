/**
 * The v1 migration CronJob end to end: the exact command line of `migrationJobArgs`, run as the
 * image runs it (the bin shim, URLs in SOURCE_DATABASE_URL / TARGET_DATABASE_URL), against a
 * PostgreSQL 13 "prod" (Airbyte's bundled database: superuser `airbyte`) and a PostgreSQL 17
 * "core-worker-01" set up as Pulumi sets it up: Airbyte's login role `airbyte`, a migration role
 * with nothing but CREATEDB and membership in `airbyte`, and the live databases created empty.
 *
 * Run 1 fills the target; writes on prod; run 2 brings the target to the new state; run 3 is
 * SIGKILLed during its staging copy and leaves the live databases at run 2's state and usable;
 * run 4 cleans up the leftover staging database and completes.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Client } from "pg";
import { migrationJobArgs, SOURCE_URL_ENV, TARGET_URL_ENV } from "../../migrations/job-command";
import { ensurePgClientTools } from "../support/pg-client-tools";
import { createAirbyteDatabases } from "../support/pg-airbyte-fixture";
import { PgServer, startPostgres } from "../support/postgres";
import {
  allRows,
  cliEnv,
  CliResult,
  indexesAndConstraints,
  killOnEvent,
  runCli,
  startCli,
  userTables,
  verifyResult,
} from "./cli-helpers";

const DATABASES = ["db-airbyte", "temporal", "temporal_visibility"];
const OWNER = "airbyte";
const OWNER_PASSWORD = "owner-Pass-1";
const MIGRATOR = "airbyte_migrate";
const MIGRATOR_PASSWORD = "migrator-Pass-2";
const PROD_PASSWORD = "prod-Pass-3";

let prod: PgServer;
let core: PgServer;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "job-e2e-"));

beforeAll(async () => {
  ensurePgClientTools();
  [prod, core] = await Promise.all([startPostgres({ major: 13 }), startPostgres({ major: 17 })]);
  await createAirbyteDatabases(prod, { scale: { jobs: 2000 } });
  // Airbyte's bundled database: POSTGRES_USER=airbyte, a superuser owning its databases.
  const p = await prod.connect();
  await p.query(`CREATE ROLE ${OWNER} SUPERUSER LOGIN PASSWORD '${PROD_PASSWORD}'`);
  for (const db of DATABASES) await p.query(`ALTER DATABASE "${db}" OWNER TO ${OWNER}`);
  await p.end();
  // core-worker-01 as the Pulumi program leaves it (docs/migrations.md, "Privileges").
  const c = await core.connect();
  await c.query(`CREATE ROLE ${OWNER} LOGIN PASSWORD '${OWNER_PASSWORD}';
    CREATE ROLE ${MIGRATOR} LOGIN CREATEDB PASSWORD '${MIGRATOR_PASSWORD}';
    GRANT ${OWNER} TO ${MIGRATOR}`);
  for (const db of DATABASES) await c.query(`CREATE DATABASE "${db}" OWNER ${OWNER}`);
  // Database-level settings an operator may have made: a swap must keep them.
  await c.query(`REVOKE ALL ON DATABASE "db-airbyte" FROM PUBLIC;
    GRANT CONNECT, TEMPORARY ON DATABASE "db-airbyte" TO ${OWNER};
    ALTER DATABASE "db-airbyte" SET lock_timeout = '7s'`);
  await c.end();
});

afterAll(async () => {
  await Promise.all([prod?.stop(), core?.stop()]);
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Exactly what the CronJob runs. */
const jobArgs = migrationJobArgs({ databases: DATABASES, owner: OWNER, jobs: 2 });
const jobEnv = () =>
  cliEnv({
    [SOURCE_URL_ENV]: prod.url("postgres", OWNER, PROD_PASSWORD),
    [TARGET_URL_ENV]: core.url("postgres", MIGRATOR, MIGRATOR_PASSWORD),
    // A killed run cannot remove its temporary folder.
    TMPDIR: tmp,
  });

function expectSuccess(result: CliResult): void {
  expect(result.code, result.stderr + result.stdout.slice(-3000)).toBe(0);
  expect(verifyResult(result.stdout).ok).toBe(true);
  for (const secret of [PROD_PASSWORD, MIGRATOR_PASSWORD]) {
    expect(result.stdout + result.stderr).not.toContain(secret);
  }
}

type Contents = Map<string, string[]>;

/** Every row of every table of every database, plus indexes, constraints and sequences. */
async function contents(server: PgServer): Promise<Contents> {
  const out: Contents = new Map();
  for (const db of DATABASES) {
    const client = await server.connect(db);
    try {
      const tables = await userTables(client);
      out.set(`${db} tables`, tables);
      for (const t of tables) out.set(`${db} ${t}`, await allRows(client, t));
      out.set(`${db} indexes`, await indexesAndConstraints(client));
      const seq = await client.query<{ s: string }>(
        "SELECT sequencename || '=' || last_value AS s FROM pg_sequences ORDER BY 1",
      );
      out.set(
        `${db} sequences`,
        seq.rows.map((r) => r.s),
      );
    } finally {
      await client.end();
    }
  }
  return out;
}

function expectSameContents(actual: Contents, expected: Contents): void {
  expect([...actual.keys()]).toEqual([...expected.keys()]);
  for (const [key, rows] of expected) expect(actual.get(key), key).toEqual(rows);
}

async function databaseNames(): Promise<string[]> {
  const c = await core.connect();
  const { rows } = await c.query<{ datname: string }>(
    "SELECT datname FROM pg_database WHERE NOT datistemplate AND datname <> 'postgres' ORDER BY 1",
  );
  await c.end();
  return rows.map((r) => r.datname);
}

/** The live databases and every object in them belong to the owner role; nothing to the tool. */
async function expectOwnedByOwner(): Promise<void> {
  const c = await core.connect();
  const dbs = await c.query<{ datname: string; owner: string }>(
    "SELECT datname, pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = ANY($1)",
    [DATABASES],
  );
  expect(dbs.rows.map((r) => r.owner)).toEqual(DATABASES.map(() => OWNER));
  await c.end();
  for (const db of DATABASES) {
    const d = await core.connect(db);
    const { rows } = await d.query<{ what: string; owner: string }>(`
      SELECT 'relation ' || c.relname AS what, pg_get_userbyid(c.relowner) AS owner
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
      UNION ALL
      SELECT 'type ' || t.typname, pg_get_userbyid(t.typowner) FROM pg_type t
        JOIN pg_namespace n ON n.oid = t.typnamespace
       WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
      UNION ALL
      SELECT 'schema ' || nspname, pg_get_userbyid(nspowner) FROM pg_namespace
       WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'`);
    await d.end();
    expect(rows.length).toBeGreaterThan(0);
    const notOwned = rows.filter((r) => r.owner !== OWNER && r.owner !== "pg_database_owner");
    expect(notOwned, db).toEqual([]);
  }
}

/** Airbyte's login role can read, write and migrate its schema. */
async function expectOwnerCanUse(): Promise<void> {
  const c = new Client({ connectionString: core.url("db-airbyte", OWNER, OWNER_PASSWORD) });
  await c.connect();
  try {
    const { rows } = await c.query<{ n: string }>("SELECT count(*) AS n FROM jobs");
    expect(Number(rows[0].n)).toBeGreaterThan(0);
    await c.query("BEGIN");
    await c.query("ALTER TABLE jobs ADD COLUMN e2e_probe integer");
    await c.query("CREATE TABLE e2e_probe (id integer PRIMARY KEY)");
    await c.query("ROLLBACK");
    await c.query(`INSERT INTO airbyte_metadata VALUES ('e2e_probe', 'written by airbyte')`);
  } finally {
    await c.end();
  }
}

/** Inserts, updates and deletes on prod, in two databases, moving the jobs sequence. */
async function writeOnProd(round: number): Promise<void> {
  const a = await prod.connect("db-airbyte");
  await a.query(`
    INSERT INTO jobs (config_type, scope, config, status, created_at, updated_at)
      SELECT 'sync', 'round-${round}-' || i, jsonb_build_object('round', ${round}, 'i', i),
             'running', now(), now() FROM generate_series(1, 50) i;
    UPDATE jobs SET status = 'failed', updated_at = now() WHERE id % 97 = ${round};
    DELETE FROM stream_stats WHERE attempt_id % 89 = ${round};
    DELETE FROM application WHERE name = 'App ${round}';
    UPDATE airbyte_metadata SET value = '2.0.${round + 1}' WHERE key = 'airbyte_version'`);
  await a.end();
  const t = await prod.connect("temporal");
  await t.query(`UPDATE executions SET next_event_id = next_event_id + 1 WHERE shard_id = 1;
    DELETE FROM history_node WHERE node_id = ${round}`);
  await t.end();
}

it("runs the CronJob's command twice, survives a SIGKILL mid-copy, and cleans up", async () => {
  const c = await core.connect();
  const roles = await c.query<{ rolsuper: boolean }>(
    `SELECT rolsuper FROM pg_roles WHERE rolname = '${MIGRATOR}'`,
  );
  expect(roles.rows[0].rolsuper).toBe(false);
  await c.end();

  // Run 1: the empty live databases (as Pulumi created them) become a copy of prod.
  const first = await runCli(jobArgs, jobEnv());
  expectSuccess(first);
  expectSameContents(await contents(core), await contents(prod));
  await expectOwnedByOwner();
  expect(await databaseNames()).toEqual(DATABASES);

  // Run 2, after writes on prod: the target follows.
  await writeOnProd(1);
  const second = await runCli(jobArgs, jobEnv());
  expectSuccess(second);
  const afterRun2 = await contents(prod);
  expectSameContents(await contents(core), afterRun2);
  await expectOwnedByOwner();
  expect(await databaseNames()).toEqual(DATABASES);
  // Database-level privileges and settings survive the swap.
  const d = await core.connect();
  const live = await d.query<{ acl: string; settings: string[] }>(
    `SELECT datacl::text AS acl, (SELECT setconfig FROM pg_db_role_setting s
                                   WHERE s.setdatabase = d.oid AND s.setrole = 0) AS settings
       FROM pg_database d WHERE datname = 'db-airbyte'`,
  );
  await d.end();
  expect(live.rows[0].acl).not.toContain("=Tc/"); // PUBLIC still has no CONNECT
  expect(live.rows[0].acl).toContain(`${OWNER}=`);
  expect(live.rows[0].settings).toEqual(["lock_timeout=7s"]);

  // Run 3, SIGKILLed once its staging copy has committed a table.
  await writeOnProd(2);
  const third = startCli(jobArgs, jobEnv());
  await killOnEvent(
    third,
    (e) => e.event === "table" && e.state === "done" && e.database === "db-airbyte__staging",
  );
  expect((await third.done).signal).toBe("SIGKILL");
  expect(await databaseNames()).toContain("db-airbyte__staging");
  // The live databases still hold run 2's copy, and Airbyte can use them.
  expectSameContents(await contents(core), afterRun2);
  await expectOwnerCanUse();

  // Run 4, same command: drops the leftover staging copy, redoes it, swaps it in.
  const fourth = await runCli(jobArgs, jobEnv());
  expectSuccess(fourth);
  expect(fourth.stdout).toContain('dropping \\"db-airbyte__staging\\", left by an earlier run');
  expectSameContents(await contents(core), await contents(prod));
  await expectOwnedByOwner();
  expect(await databaseNames()).toEqual(DATABASES);
}, 120_000);

it("refuses to swap while a client uses a live database, naming it, and leaves it alone", async () => {
  const airbyte = new Client({
    connectionString: core.url("temporal", OWNER, OWNER_PASSWORD),
    application_name: "airbyte-temporal",
  });
  // Terminated below on purpose: its error event must not fail the run.
  airbyte.on("error", () => undefined);
  await airbyte.connect();
  try {
    const refused = await runCli(jobArgs, jobEnv());
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("other sessions use the database(s)");
    expect(refused.stderr).toMatch(
      /"temporal": pid \d+, user "airbyte", application "airbyte-temporal"/,
    );
    expect(refused.stderr).toContain("--terminate-sessions");
    expect(await databaseNames()).toEqual(DATABASES);

    // With --terminate-sessions the client is ended and the swap goes ahead; a `__previous` an
    // interrupted run left behind is dropped on the way.
    const admin = await core.connect();
    await admin.query(`CREATE DATABASE "temporal__previous" OWNER ${OWNER}`);
    await admin.end();
    const forced = await runCli([...jobArgs, "--terminate-sessions"], jobEnv());
    expectSuccess(forced);
    expect(forced.stdout).toMatch(/terminating 1 session\(s\): \\"temporal\\": pid \d+/);
    expect(forced.stdout).toContain('dropping \\"temporal__previous\\"');
    expect(await databaseNames()).toEqual(DATABASES);
    await expect(airbyte.query("SELECT 1")).rejects.toThrow();
  } finally {
    await airbyte.end().catch(() => undefined);
  }
});

it("refuses a __staging database it did not make, before copying anything", async () => {
  const admin = await core.connect();
  await admin.query(`CREATE DATABASE "db-airbyte__staging" OWNER ${OWNER}`);
  const other = await core.connect("db-airbyte__staging");
  await other.query("CREATE TABLE someone_elses (id int)");
  await other.end();
  try {
    const refused = await runCli(jobArgs, jobEnv());
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      'database "db-airbyte__staging" on the target server 127.0.0.1:',
    );
    expect(refused.stderr).toContain("was not made by airbyte-migrate --swap");
    const still = await core.connect("db-airbyte__staging");
    expect((await still.query("SELECT count(*) FROM someone_elses")).rowCount).toBe(1);
    await still.end();
  } finally {
    await admin.query(`DROP DATABASE "db-airbyte__staging"`);
    await admin.end();
  }
});
