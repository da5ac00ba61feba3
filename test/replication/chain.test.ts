/**
 * The replication chain on three real servers: prod (PostgreSQL 13, as Airbyte's bundled
 * database), the hub (17) and core-worker-01 (15), with the Airbyte fixture and an Airbyte-like
 * write load. The tests run in order on the same chain; the crash test runs last.
 */
import type { Client } from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { FakeAirbyte, startFakeAirbyte } from "../support/fake-airbyte";
import { PgServer } from "../support/postgres";
import { cliEnv, jsonEvents, runCli } from "../migrations/cli-helpers";
import { startLoad } from "./load";
import {
  caughtUp as replicaCaughtUp,
  expectSameRows as sameRows,
  PASSWORDS,
  startChainServers,
} from "./servers";

let prod: PgServer;
let hub: PgServer;
let replica: PgServer;

beforeAll(async () => {
  ({ prod, hub, replica } = await startChainServers());
});

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

function noPasswords(text: string): void {
  for (const pw of Object.values(PASSWORDS)) expect(text).not.toContain(pw);
}

/** Wait until core-worker-01 holds as many jobs as prod (both hops applied). */
function caughtUp(timeoutMs = 30_000): Promise<void> {
  return replicaCaughtUp(prod, replica, timeoutMs);
}

function expectSameRows(): Promise<void> {
  return sameRows(prod, replica);
}

interface SlotBytes {
  /** WAL the slot holds on its server. */
  retained: number;
  /** WAL its subscriber has not confirmed yet. */
  unconfirmed: number;
  /** The server's WAL position, in bytes. */
  position: number;
}

async function slotBytes(server: PgServer, slot: string): Promise<SlotBytes> {
  const c = await server.connect("db-airbyte");
  try {
    const { rows } = await c.query<{ r: string; u: string; p: string }>(
      `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::int8::text AS r,
              pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::int8::text AS u,
              pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::int8::text AS p
         FROM pg_replication_slots WHERE slot_name = $1`,
      [slot],
    );
    return {
      retained: Number(rows[0].r),
      unconfirmed: Number(rows[0].u),
      position: Number(rows[0].p),
    };
  } finally {
    await c.end();
  }
}

it("sync setup under 200 tx/s passes first time: every committed row reaches core-worker-01; re-run is a no-op", async () => {
  const writer = await prod.connect("db-airbyte");
  const load = startLoad(writer, 200);
  let first;
  try {
    await new Promise((r) => setTimeout(r, 500));
    first = await runCli(["sync", "setup"], env());
    await new Promise((r) => setTimeout(r, 1000));
  } finally {
    await load.stop();
    await writer.end();
  }
  expect(load.error).toBeUndefined();
  noPasswords(first.stdout + first.stderr);
  // Its verify compares prod with core-worker-01 while prod writes, at consistent points.
  expect(first.code, first.stdout + first.stderr).toBe(0);
  expect(first.stdout).toMatch(/verify: \d+ tables equal/);
  expect(first.stdout).toContain("created subscription airbyte_replica_sub");
  expect(first.stdout).toContain("REPLICA IDENTITY FULL on prod");
  await caughtUp();

  const again = await runCli(["sync", "setup"], env());
  expect(again.code, again.stderr).toBe(0);
  expect(again.stdout).toContain("already set up; nothing changed");
  expect(again.stdout).toMatch(/verify: \d+ tables equal/);

  expect(load.committed.length).toBeGreaterThan(50);
  const r = await replica.connect("db-airbyte");
  try {
    const ids = load.committed.map((c) => c.jobId);
    const { rows } = await r.query<{ n: string }>(
      "SELECT count(*)::text AS n FROM jobs WHERE id = ANY($1::int8[])",
      [ids],
    );
    expect(Number(rows[0].n)).toBe(ids.length);
  } finally {
    await r.end();
  }
  await expectSameRows();
}, 90_000);

it("sync status and check-schema report a healthy chain, then explain drift", async () => {
  const status = await runCli(["sync", "status", "--json"], env());
  expect(status.code, status.stdout + status.stderr).toBe(0);
  const data = jsonEvents(status.stdout).find((e) => e.kind === "status")?.data as {
    hops: { hop: string; problems: string[]; lagBytes: number }[];
    tables: { table: string; prod: number; replica: number }[];
  };
  expect(data.hops.map((h) => h.problems)).toEqual([[], []]);
  expect(data.tables.find((t) => t.table === "secrets")?.replica).toBeGreaterThan(0);
  for (const t of data.tables) expect(t.replica, t.table).toBe(t.prod);

  expect((await runCli(["sync", "check-schema"], env())).code).toBe(0);
  const p = await prod.connect("db-airbyte");
  try {
    // An upgrade applied to prod only: a new column the subscribers lack.
    await p.query("ALTER TABLE connection ADD COLUMN drift_probe integer");
    const drift = await runCli(["sync", "check-schema"], env());
    expect(drift.code).toBe(3);
    expect(drift.stdout).toContain("column public.connection.drift_probe (integer) exists on prod");
    expect(drift.stdout).toContain("upgrade the replica side first");
    for (const s of [hub, replica]) {
      const c = await s.connect("db-airbyte");
      await c.query("ALTER TABLE connection ADD COLUMN drift_probe integer");
      await c.end();
    }
    expect((await runCli(["sync", "check-schema"], env())).code).toBe(0);
  } finally {
    await p.end();
  }
}, 60_000);

it("core-worker-01 away: the hub keeps the WAL, prod does not; it catches up on return", async () => {
  await replica.kill();
  const writer = await prod.connect("db-airbyte");
  const hubBefore = await slotBytes(hub, "airbyte_replica_sub");
  const prodBefore = await slotBytes(prod, "airbyte_hub_sub");
  const load = startLoad(writer, 200);
  const prodSamples: SlotBytes[] = [];
  try {
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      prodSamples.push(await slotBytes(prod, "airbyte_hub_sub"));
    }
  } finally {
    await load.stop();
    await writer.end();
  }
  expect(load.error).toBeUndefined();
  const hubAfter = await slotBytes(hub, "airbyte_replica_sub");
  const prodWritten = prodSamples[prodSamples.length - 1].position - prodBefore.position;
  const hubWritten = hubAfter.position - hubBefore.position;
  expect(prodWritten).toBeGreaterThan(2_000_000);
  // Prod's slot (the hub's) stays confirmed all along: the hub consumes whatever core-worker-01
  // does. Its restart point trails by at most one running-transactions record (every 15 s), a
  // bound that does not grow with the outage.
  for (const s of prodSamples) expect(s.unconfirmed).toBeLessThan(1_000_000);
  // The hub's slot for core-worker-01 keeps everything the hub wrote meanwhile.
  expect(hubAfter.retained - hubBefore.retained).toBeGreaterThan(0.9 * hubWritten);
  expect(hubAfter.unconfirmed).toBeGreaterThan(0.9 * hubWritten);
  await replica.restart();
  await caughtUp(60_000);
  await expectSameRows();
}, 90_000);

const API_CREDS = { clientId: "admin-id", clientSecret: "admin-secret-xyz" };

/** The replica's Airbyte: one workspace, two active connections and a paused one. */
function fakeAirbyte(failUpdates?: number): Promise<FakeAirbyte> {
  return startFakeAirbyte({
    ...API_CREDS,
    failUpdates,
    workspaces: [
      {
        workspaceId: "9b1c0000-0000-4000-8000-000000000001",
        name: "Default Workspace",
        connections: [
          {
            connectionId: "c1",
            name: "pg to s3",
            status: "active",
            scheduleType: "cron",
            scheduleData: { cron: { cronExpression: "0 0 * * * ?", cronTimeZone: "UTC" } },
          },
          { connectionId: "c2", name: "paused", status: "inactive", scheduleType: "manual" },
          {
            connectionId: "c3",
            name: "hourly",
            status: "active",
            scheduleType: "basic",
            scheduleData: { basicSchedule: { timeUnit: "hours", units: 1 } },
          },
        ],
      },
    ],
  });
}

async function runFailover(api: FakeAirbyte) {
  return runCli(
    [
      "failover",
      "--airbyte-url",
      api.url,
      "--airbyte-client-id",
      API_CREDS.clientId,
      "--airbyte-client-secret",
      API_CREDS.clientSecret,
    ],
    env(),
  );
}

async function sequenceValues(server: PgServer): Promise<Record<string, string>> {
  const c = await server.connect("db-airbyte");
  try {
    const { rows } = await c.query<{ s: string; v: string }>(
      "SELECT sequencename AS s, last_value::text AS v FROM pg_sequences ORDER BY 1",
    );
    return Object.fromEntries(rows.map((r) => [r.s, r.v]));
  } finally {
    await c.end();
  }
}

it("failover refuses while prod answers; after a crash it promotes core-worker-01", async () => {
  const refused = await runCli(["failover"], env());
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain("still answers");

  const writer = await prod.connect("db-airbyte");
  writer.on("error", () => undefined);
  const load = startLoad(writer, 200);
  await new Promise((r) => setTimeout(r, 3000));
  const crashAt = Date.now();
  await prod.kill();
  await load.stop();
  await writer.end().catch(() => undefined);

  // The replica's airbyte-server fails the API step: the database steps are done and say so,
  // with their own exit status and what to run again.
  const failing = await fakeAirbyte(500);
  let partial;
  try {
    partial = await runFailover(failing);
  } finally {
    await failing.close();
  }
  expect(partial.code, partial.stderr).toBe(5);
  expect(partial.stdout).toContain("database steps above are done and verified");
  expect(partial.stdout).toContain("run the same failover command again");
  expect(partial.stdout).toContain("the hub's subscription to prod stopped");
  expect(partial.stdout).toContain("pg_drop_replication_slot('airbyte_hub_sub')");
  // The promoted Airbyte writes meanwhile; a re-run must keep its ids where they are.
  const w = await replica.connect("db-airbyte");
  await w.query(`INSERT INTO jobs (config_type, scope, status, created_at)
                 VALUES ('sync', 'between-runs', 'pending', now())`);
  await w.end();
  const afterFirst = await sequenceValues(replica);

  const api = await fakeAirbyte();
  let result;
  try {
    result = await runFailover(api);
  } finally {
    await api.close();
  }
  expect(result.code, result.stderr).toBe(0);
  noPasswords(result.stdout + result.stderr);
  expect(result.stdout + result.stderr).not.toContain(API_CREDS.clientSecret);
  expect(result.stdout).toContain("pulumi config set airbyte:replicaRole active");
  // Only the two active connections, each with its own schedule sent back.
  expect(api.updates.map((u) => u.connectionId)).toEqual(["c1", "c3"]);
  expect(api.updates[1].scheduleData).toEqual({ basicSchedule: { timeUnit: "hours", units: 1 } });
  // The re-run added no second gap to the sequences.
  expect(await sequenceValues(replica)).toEqual(afterFirst);
  expect(result.stdout).toMatch(/jobs_id_seq: \d+ kept, already past max/);
  // Nothing left subscribed to prod on the hub.
  const h = await hub.connect("db-airbyte");
  try {
    expect((await h.query("SELECT subname FROM pg_subscription")).rows).toEqual([]);
  } finally {
    await h.end();
  }

  const r: Client = await replica.connect("db-airbyte");
  try {
    const ids = load.committed.map((c) => c.jobId);
    const { rows } = await r.query<{ id: string }>(
      "SELECT id::text FROM jobs WHERE id = ANY($1::int8[])",
      [ids],
    );
    const present = new Set(rows.map((x) => Number(x.id)));
    const lost = load.committed.filter((c) => !present.has(c.jobId));
    // Recovery point: nothing committed more than 1 s before the crash is lost.
    for (const l of lost) expect(crashAt - l.at).toBeLessThan(1000);
    const maxCommitted = Math.max(...ids);
    const { rows: next } = await r.query<{ id: string }>(
      `INSERT INTO jobs (config_type, scope, status, created_at) VALUES ('sync', 'after-failover',
         'pending', now()) RETURNING id::text`,
    );
    expect(Number(next[0].id)).toBeGreaterThan(maxCommitted);
    const { rows: a } = await r.query<{ id: string }>(
      `INSERT INTO attempts (job_id, attempt_number, status) VALUES ($1, 0, 'running') RETURNING id::text`,
      [next[0].id],
    );
    expect(Number(a[0].id)).toBeGreaterThan(0);
    const subs = await r.query("SELECT 1 FROM pg_subscription");
    expect(subs.rows).toHaveLength(0);
  } finally {
    await r.end();
  }
}, 90_000);
