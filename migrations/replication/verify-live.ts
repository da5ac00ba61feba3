/**
 * Verify prod against core-worker-01 while prod keeps writing (sync setup's last step).
 *
 * Both sides must be compared at one point of prod's history, but core-worker-01 is always a
 * little behind and moves on while it is read. So each round brackets it between two snapshots
 * of prod: S1 (its WAL position L1), then core-worker-01's snapshot C once it has applied L1,
 * then S2. Every transaction C contains but S1 does not committed between S1 and S2, so the rows
 * it touched are known on prod by their transaction ids: in S2, versions whose xmin is not
 * visible to S1 (inserted or updated since); in S1, versions whose xmax is not visible to S1
 * (deleted or updated since). Their keys (the primary key, or the whole row for a table without
 * one) are left out on both sides, and the rest, the rows no transaction touched in between,
 * must hash equal. A table that still differs (a row inserted and deleted between S1 and S2,
 * or an updated duplicate of a key-less row) is checked again in the next round with new
 * snapshots; a real difference differs in every round and fails. Rows written in every round
 * (a heartbeat) are never compared: they are rewritten faster than any snapshot pair.
 *
 * Costs, per table and round: one pass over the table in S2 and in S1, one on core-worker-01.
 */
import type { Client } from "pg";
import { displayName, Table, tableName } from "../lib/catalog";
import type { Endpoint } from "../lib/endpoint";
import type { Reporter } from "../lib/progress";
import { rowHash, TableCheck, VerifyResult } from "../lib/verify";
import { connectDb, replicatedTables, waitCaughtUp } from "./chain";

export interface LiveVerifyOptions {
  prod: Endpoint;
  hub: Endpoint;
  replica: Endpoint;
  database: string;
  /** Rounds before a table that keeps differing counts as different. */
  rounds: number;
  /** How long core-worker-01 may take to reach a round's starting point. */
  catchUpMs: number;
}

/**
 * A 64-bit transaction id from a 32-bit one (xmin, xmax), in the epoch of `snap`'s xmax: ids
 * more than 2^31 away belong to the neighbouring epoch. 0-2 (none, bootstrap, frozen) map below
 * every snapshot, i.e. visible.
 */
function fullXid(xid: string, snap: string): string {
  const x = `${xid}::text::int8`;
  const top = `txid_snapshot_xmax(${snap})`;
  const low = `(${top} & 4294967295)`;
  return `(CASE WHEN ${x} < 3 THEN 0::int8
           ELSE (${top} - ${low}) + ${x}
                + CASE WHEN ${x} - ${low} > 2147483648 THEN -4294967296
                       WHEN ${low} - ${x} > 2147483648 THEN 4294967296 ELSE 0 END END)`;
}

/** Hash identifying a row: its primary key's, or the whole row's for a table without one. */
function keyHash(table: Table): string {
  if (table.primaryKey.length === 0) return rowHash(table);
  const pk = table.primaryKey.map((k) => {
    const c = table.columns.find((x) => x.name === k);
    if (!c) throw new Error(`primary key column ${k} of ${tableName(table)} not found`);
    return c;
  });
  return rowHash({ ...table, columns: pk });
}

interface Side {
  rows: bigint;
  hash: bigint;
}

async function begin(client: Client): Promise<void> {
  await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
}

/** Compare one table at the round's points; the keys left out are those touched in between. */
async function compareTable(
  table: Table,
  s1: Client,
  snap1: string,
  s2: Client,
  c: Client,
): Promise<{ prod: Side; replica: Side }> {
  const t = tableName(table);
  const kh = keyHash(table);
  const touched = await s2.query<{ k: string }>(
    `SELECT DISTINCT (${kh})::text AS k FROM ONLY ${t} t
      WHERE NOT txid_visible_in_snapshot(${fullXid("t.xmin", "$1::txid_snapshot")}, $1::txid_snapshot)`,
    [snap1],
  );
  const later = touched.rows.map((r) => r.k);
  const sums = (filter: string) =>
    `count(*) FILTER (WHERE ${filter})::text AS n,
     coalesce(sum(h) FILTER (WHERE ${filter}), 0)::text AS h`;
  const prod = await s1.query<{ n: string; h: string; gone: string[] | null }>(
    `SELECT ${sums("NOT (k = ANY($2::int8[]) OR gone)")},
            array_agg(k::text) FILTER (WHERE gone AND NOT k = ANY($2::int8[])) AS gone
       FROM (SELECT ${kh} AS k, ${rowHash(table)} AS h,
                    t.xmax::text::int8 <> 0 AND NOT txid_visible_in_snapshot(
                      ${fullXid("t.xmax", "$1::txid_snapshot")}, $1::txid_snapshot) AS gone
               FROM ONLY ${t} t) x`,
    [snap1, later],
  );
  const skip = later.concat(prod.rows[0].gone ?? []);
  const replica = await c.query<{ n: string; h: string }>(
    `SELECT ${sums("NOT k = ANY($1::int8[])")}
       FROM (SELECT ${kh} AS k, ${rowHash(table)} AS h FROM ONLY ${t} t) x`,
    [skip],
  );
  const side = (r: { n: string; h: string }): Side => ({ rows: BigInt(r.n), hash: BigInt(r.h) });
  return { prod: side(prod.rows[0]), replica: side(replica.rows[0]) };
}

export async function verifyLive(
  opts: LiveVerifyOptions,
  reporter: Reporter,
): Promise<VerifyResult> {
  const { database } = opts;
  const s1 = await connectDb(opts.prod, database);
  const s2 = await connectDb(opts.prod, database);
  const hub = await connectDb(opts.hub, database);
  const c = await connectDb(opts.replica, database);
  try {
    await Promise.all([s1, s2].map((x) => x.query("SET default_transaction_read_only = on")));
    const tables = await replicatedTables(s1);
    const onReplica = await replicatedTables(c);
    const replicaTables = new Set(onReplica.map((x) => tableName(x)));
    const checks = new Map<string, TableCheck>();
    for (const t of tables) {
      checks.set(tableName(t), {
        database,
        table: displayName(t),
        sourceRows: null,
        targetRows: null,
        checksumEqual: false,
        ok: false,
      });
    }
    let pending = tables.filter((t) => replicaTables.has(tableName(t)));
    for (let round = 1; round <= opts.rounds && pending.length > 0; round++) {
      await begin(s1);
      const { rows } = await s1.query<{ snap: string; lsn: string }>(
        "SELECT txid_current_snapshot()::text AS snap, pg_current_wal_lsn()::text AS lsn",
      );
      const { snap, lsn } = rows[0];
      try {
        if (!(await waitCaughtUp(s1, hub, opts.catchUpMs, lsn))) {
          reporter.info(
            `verify round ${round}: core-worker-01 did not reach prod's ${lsn} within ` +
              `${opts.catchUpMs / 1000} s`,
          );
          continue;
        }
        await begin(c);
        await c.query("SELECT 1");
        await begin(s2);
        await s2.query("SELECT 1");
        const differing: Table[] = [];
        for (const t of pending) {
          const r = await compareTable(t, s1, snap, s2, c);
          const check = checks.get(tableName(t));
          if (!check) continue;
          check.sourceRows = Number(r.prod.rows);
          check.targetRows = Number(r.replica.rows);
          check.checksumEqual = r.prod.hash === r.replica.hash;
          check.ok = check.checksumEqual && r.prod.rows === r.replica.rows;
          if (!check.ok) differing.push(t);
        }
        pending = differing;
        if (pending.length > 0) {
          reporter.info(
            `verify round ${round}: ${pending.map(displayName).join(", ")} differ; checking again`,
          );
        }
      } finally {
        await Promise.all([s1, s2, c].map((x) => x.query("ROLLBACK")));
      }
    }
    const result: TableCheck[] = [...checks.values()];
    for (const t of onReplica) {
      if (!checks.has(tableName(t))) {
        result.push({
          database,
          table: displayName(t),
          sourceRows: null,
          targetRows: null,
          checksumEqual: false,
          ok: false,
        });
      }
    }
    return { tables: result, sequences: [], ok: result.every((t) => t.ok) };
  } finally {
    await Promise.all([s1, s2, hub, c].map((x) => x.end().catch(() => undefined)));
  }
}
