/**
 * Schema changes on a running chain (prod 13 -> hub at its deployed major -> core-worker-01 17):
 * what check-schema says about replica identity and column definitions, the documented upgrade
 * order (replica side first, then prod, then `sync setup`) under a write load that also updates
 * and deletes a new table without a key, and sync setup's verify failing on a real difference
 * while prod writes. The tests run in order on the same chain.
 */
import type { Client } from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { cliEnv, jsonEvents, runCli } from "../migrations/cli-helpers";
import type { PgServer } from "../support/postgres";
import { startLoad } from "./load";
import { caughtUp, expectSameRows, startChainServers } from "./servers";

let prod: PgServer;
let hub: PgServer;
let replica: PgServer;

beforeAll(async () => {
  ({ prod, hub, replica } = await startChainServers(17));
  const setup = await runCli(["sync", "setup"], env());
  expect(setup.code, setup.stdout + setup.stderr).toBe(0);
}, 180_000);

afterAll(async () => {
  await Promise.all([prod?.stop(), hub?.stop(), replica?.stop()]);
});

function env(): NodeJS.ProcessEnv {
  return cliEnv({
    PROD_DATABASE_URL: prod.url(),
    HUB_DATABASE_URL: hub.url(),
    REPLICA_DATABASE_URL: replica.url(),
  });
}

interface Drift {
  severity: string;
  where: string;
  what: string;
  fix: string;
  sql?: string[];
}

async function checkSchema(): Promise<{ code: number; drifts: Drift[]; text: string }> {
  const r = await runCli(["sync", "check-schema", "--json"], env());
  const data = jsonEvents(r.stdout).find((e) => e.kind === "check-schema")?.data as
    { drifts: Drift[] } | undefined;
  if (!data) throw new Error(`check-schema printed no result: ${r.stdout}${r.stderr}`);
  return { code: r.code ?? -1, drifts: data.drifts, text: r.stdout };
}

const SERVER_OF: Record<string, () => PgServer> = {
  prod: () => prod,
  "the hub": () => hub,
  "core-worker-01": () => replica,
};

async function onServer(where: string, sql: string[]): Promise<void> {
  const c = await SERVER_OF[where]().connect("db-airbyte");
  try {
    for (const q of sql) await c.query(q);
  } finally {
    await c.end();
  }
}

async function onEach(servers: PgServer[], sql: string): Promise<void> {
  for (const s of servers) {
    const c = await s.connect("db-airbyte");
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  }
}

/** Same rows on prod, the hub and core-worker-01 in every table. */
async function allEqual(): Promise<void> {
  await caughtUp(prod, replica, 60_000);
  await expectSameRows(prod, hub);
  await expectSameRows(prod, replica);
}

it("check-schema: a table without a key and without replica identity on the hub breaks the chain", async () => {
  expect((await checkSchema()).code).toBe(0);
  // What an upgrade's DDL on the hub leaves: a key-less table with the default identity.
  await onEach([hub], "ALTER TABLE application REPLICA IDENTITY DEFAULT");
  const r = await checkSchema();
  expect(r.code).toBe(3);
  const d = r.drifts.find((x) => x.what.includes("public.application"));
  expect(d, r.text).toMatchObject({ severity: "breaks", where: "the hub" });
  expect(d?.what).toContain("apply worker stops");
  expect(d?.sql).toEqual(["ALTER TABLE public.application REPLICA IDENTITY FULL"]);
  await onServer("the hub", d?.sql ?? []);
  expect((await checkSchema()).code).toBe(0);
});

it("check-schema's fix for a NOT NULL DEFAULT column leaves the data equal", async () => {
  // The wrong order: prod first. The hub's apply worker now fails on every jobs row.
  await onEach([prod], "ALTER TABLE jobs ADD COLUMN is_priority boolean NOT NULL DEFAULT false");
  await onEach(
    [prod],
    "INSERT INTO jobs (config_type, scope, status, created_at) VALUES ('sync', 'drift', 'pending', now())",
  );
  let fixes = 0;
  for (let i = 0; i < 4; i++) {
    const r = await checkSchema();
    if (r.code === 0) break;
    const add = r.drifts.filter((d) => d.what.includes("public.jobs.is_priority"));
    expect(add.length, r.text).toBeGreaterThan(0);
    for (const d of add) {
      expect(d.sql, d.fix).toEqual([
        'ALTER TABLE public.jobs ADD COLUMN "is_priority" boolean DEFAULT false NOT NULL',
      ]);
      expect(d.fix).toContain(d.sql?.[0]);
      await onServer(d.where, d.sql ?? []);
      fixes++;
    }
  }
  expect(fixes).toBe(2); // the hub, then core-worker-01
  expect((await checkSchema()).code).toBe(0);
  await allEqual();
}, 60_000);

it("upgrade flow under load: replica side first, then prod, then sync setup; every table ends equal", async () => {
  const writer = await prod.connect("db-airbyte");
  const load = startLoad(writer, 100);
  const probe: Client = await prod.connect("db-airbyte");
  let probeError: Error | undefined;
  let probing = true;
  const probeLoop = (async () => {
    // Waits for prod's DDL, then inserts, updates and deletes rows of the new key-less table.
    for (let n = 0; probing; n++) {
      await new Promise((r) => setTimeout(r, 20));
      const exists = await probe.query("SELECT to_regclass('connection_stream_audit') AS t");
      if (exists.rows[0].t === null) continue;
      try {
        await probe.query(
          `INSERT INTO connection_stream_audit (connection_id, stream_name, state)
           VALUES (gen_random_uuid(), 'stream-' || $1::int, jsonb_build_object('n', $1::int, 'q', 'a"b\\c'))`,
          [n],
        );
        await probe.query(
          "UPDATE connection_stream_audit SET state = state || '{\"seen\": true}' WHERE stream_name = 'stream-' || ($1::int - 3)",
          [n],
        );
        if (n % 4 === 0) {
          await probe.query(
            "DELETE FROM connection_stream_audit WHERE stream_name = 'stream-' || ($1::int - 8)",
            [n],
          );
        }
      } catch (err) {
        probeError = err as Error;
        return;
      }
    }
  })();
  let setup;
  try {
    await new Promise((r) => setTimeout(r, 500));
    // An Airbyte-style migration: a table without a key, a NOT NULL column with a default, an
    // index. Replica side first (a superset: replication goes on), then prod.
    const migration = [
      `CREATE TABLE connection_stream_audit (connection_id uuid NOT NULL,
         stream_name varchar(256) NOT NULL, state jsonb, created_at timestamptz NOT NULL DEFAULT now())`,
      "ALTER TABLE attempts ADD COLUMN sync_config_version integer NOT NULL DEFAULT 1",
      "CREATE INDEX jobs_scope_status_idx ON jobs (scope, status)",
    ];
    for (const s of [hub, replica, prod]) {
      for (const q of migration) await onEach([s], q);
      await new Promise((r) => setTimeout(r, 300));
    }
    await new Promise((r) => setTimeout(r, 500));
    setup = await runCli(["sync", "setup"], env());
    await new Promise((r) => setTimeout(r, 1000));
  } finally {
    probing = false;
    await probeLoop;
    await load.stop();
    await Promise.all([writer.end(), probe.end()]);
  }
  expect(load.error).toBeUndefined();
  expect(probeError).toBeUndefined();
  expect(setup.code, setup.stdout + setup.stderr).toBe(0);
  expect(setup.stdout).toContain(
    "REPLICA IDENTITY FULL on the hub: public.connection_stream_audit",
  );
  expect(setup.stdout).toContain("added public.connection_stream_audit to publication");
  const p = await prod.connect("db-airbyte");
  try {
    const { rows } = await p.query<{ n: string; u: string }>(
      "SELECT count(*)::text AS n, count(*) FILTER (WHERE state ? 'seen')::text AS u FROM connection_stream_audit",
    );
    expect(Number(rows[0].n)).toBeGreaterThan(20);
    expect(Number(rows[0].u)).toBeGreaterThan(5);
  } finally {
    await p.end();
  }
  await allEqual();
  expect((await checkSchema()).code).toBe(0);
}, 120_000);

it("sync setup's verify under load still fails on a real difference", async () => {
  // A row core-worker-01 holds differently, which no write of prod's touches.
  await onEach(
    [replica],
    "UPDATE workspace SET name = name || ' (edited on core-worker-01)' WHERE id = (SELECT id FROM workspace ORDER BY id LIMIT 1)",
  );
  const writer = await prod.connect("db-airbyte");
  const load = startLoad(writer, 100);
  let r;
  try {
    r = await runCli(["sync", "setup"], env());
  } finally {
    await load.stop();
    await writer.end();
  }
  expect(r.code, r.stdout + r.stderr).toBe(3);
  expect(r.stdout).toMatch(/verify: 1 table\(s\) differ: workspace/);
}, 90_000);
