/**
 * The chain prod (13) -> hub (its deployed major) -> core-worker-01 (15) on Airbyte 2.0.0's real
 * `db-airbyte` schema (test/support/real-schema.ts), set up while prod writes: jobs inserted and
 * finished, and the tables without a key updated and deleted by full-row identity - `application`
 * and `stream_reset` hold duplicate rows, which REPLICA IDENTITY FULL must apply one by one.
 */
import type { Client } from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { cliEnv, runCli } from "../migrations/cli-helpers";
import { ensurePgClientTools } from "../support/pg-client-tools";
import { PgServer, startPostgres } from "../support/postgres";
import { createRealSchemaDatabases, insertRowsSql } from "../support/real-schema";
import { caughtUp, expectSameRows, HUB_MAJOR, PROD_MAJOR } from "./servers";

let prod: PgServer;
let hub: PgServer;
let replica: PgServer;
const logical = { wal_level: "logical", max_replication_slots: 10, max_wal_senders: 10 };

beforeAll(async () => {
  ensurePgClientTools();
  [prod, hub, replica] = await Promise.all([
    startPostgres({ major: PROD_MAJOR, settings: logical }),
    startPostgres({ major: HUB_MAJOR, settings: logical }),
    startPostgres({ major: 15, settings: logical }),
  ]);
  await createRealSchemaDatabases(prod, { rows: 30, bigRows: 200 });
}, 180_000);

afterAll(async () => {
  await Promise.all([prod?.stop(), hub?.stop(), replica?.stop()]);
});

const env = () =>
  cliEnv({
    PROD_DATABASE_URL: prod.url(),
    HUB_DATABASE_URL: hub.url(),
    REPLICA_DATABASE_URL: replica.url(),
  });

/** One Airbyte-like transaction on the real schema; `n` numbers the generated rows. */
async function transaction(c: Client, n: number): Promise<void> {
  const g = 1_000_000 + n;
  await c.query("BEGIN");
  await c.query(insertRowsSql("db-airbyte", "jobs", g, 1));
  await c.query("UPDATE jobs SET status = 'succeeded', updated_at = now() WHERE id = $1", [g - 1]);
  await c.query(insertRowsSql("db-airbyte", "stream_stats", 2 * g, 2));
  await c.query(insertRowsSql("db-airbyte", "stream_reset", g, 1));
  await c.query("DELETE FROM stream_reset WHERE id = md5('stream_reset.id.' || $1::int)::uuid", [
    g - 5,
  ]);
  // Both copies of a duplicated row change, or go.
  await c.query(
    "UPDATE application SET name = 'app ' || $1::int WHERE id = md5('application.id.' || ($1::int % 30 + 1))::uuid",
    [n],
  );
  if (n % 7 === 0 && n <= 30 * 7) {
    await c.query("DELETE FROM stream_reset WHERE id = md5('stream_reset.id.' || $1::int)::uuid", [
      n / 7,
    ]);
    await c.query("DELETE FROM observability_stream_stats WHERE job_id = $1", [n / 7]);
  }
  await c.query(
    "UPDATE observability_stream_stats SET records_loaded = records_loaded + 1 WHERE job_id = (SELECT max(job_id) FROM observability_stream_stats)",
  );
  await c.query("COMMIT");
}

it("sync setup on the real schema under writes to tables without a key: all equal on the three servers", async () => {
  const writer = await prod.connect("db-airbyte");
  let writing = true;
  let error: Error | undefined;
  let n = 0;
  const load = (async () => {
    while (writing) {
      try {
        await transaction(writer, ++n);
      } catch (err) {
        error = err as Error;
        return;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  let setup;
  try {
    await new Promise((r) => setTimeout(r, 300));
    setup = await runCli(["sync", "setup"], env());
    await new Promise((r) => setTimeout(r, 1500));
  } finally {
    writing = false;
    await load;
    await writer.end();
  }
  expect(error).toBeUndefined();
  expect(n).toBeGreaterThan(20);
  expect(setup.code, setup.stdout + setup.stderr).toBe(0);
  expect(setup.stdout).toContain(
    "REPLICA IDENTITY FULL on prod: public.actor_definition_workspace_grant, public.application",
  );
  await caughtUp(prod, replica, 60_000);
  await expectSameRows(prod, hub);
  await expectSameRows(prod, replica);
}, 180_000);
