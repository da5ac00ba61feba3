/**
 * The replication chain prod -> hub -> core-worker-01 (DESIGN D7): object names, connections
 * to the replicated database on each server, the connection strings stored in subscriptions,
 * and the catalog reads the commands share (slots, subscriptions, replicated tables).
 */
import type { Client } from "pg";
import { listTables, Table, tableName } from "../lib/catalog";
import { connect, describe, Endpoint } from "../lib/endpoint";
import { MigrateError } from "../lib/errors";
import { SESSION_SETTINGS } from "../lib/session";

/**
 * Fixed names, so every command (and the v2 Pulumi stack, which declares the same objects)
 * finds them without configuration. A subscription's slot on its publisher has its name.
 */
export const NAMES = {
  prodPublication: "airbyte_prod_pub",
  hubSubscription: "airbyte_hub_sub",
  hubPublication: "airbyte_hub_pub",
  replicaSubscription: "airbyte_replica_sub",
} as const;

export type Role = "prod" | "hub" | "replica";

/**
 * The oldest major the replication commands accept: `sync status` reads
 * pg_replication_slots.wal_status, new in 13
 * (PostgreSQL 13 docs, "pg_replication_slots"; 12 is out of support since November 2024).
 */
export const REPLICATION_MIN_MAJOR = 13;

/** Why a server of `major` cannot take part in the chain, naming the flag to fix; or nothing. */
export function replicationMajorProblem(major: number, ep: Endpoint): string | undefined {
  if (major >= REPLICATION_MIN_MAJOR) return undefined;
  return (
    `the ${describe(ep)} (${ep.origin}) runs PostgreSQL ${major}; replication needs ` +
    `${REPLICATION_MIN_MAJOR} or later (sync status reads pg_replication_slots.wal_status, new ` +
    `in 13): upgrade that server (e.g. airbyte-migrate copy to a 13+ server) and point ` +
    `${ep.origin} at it`
  );
}

export async function connectDb(ep: Endpoint, database: string): Promise<Client> {
  const client = await connect(ep, database);
  try {
    const problem = replicationMajorProblem(await majorOf(client), ep);
    if (problem) throw new MigrateError(problem);
    await client.query(SESSION_SETTINGS);
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
  return client;
}

/** Quote a value for a libpq key=value connection string. */
function conninfoValue(v: string): string {
  return `'${v.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/**
 * The connection string a subscriber stores to reach its publisher: the override URL (pointed
 * at `database`) when given, else the tool's own endpoint. PostgreSQL keeps it, password
 * included, in pg_subscription.subconninfo, which only superusers can read; it is never printed.
 */
export function subscriptionConninfo(
  override: string | undefined,
  ep: Endpoint,
  database: string,
): string {
  if (override) {
    const url = new URL(override);
    url.pathname = `/${encodeURIComponent(database)}`;
    return url.toString();
  }
  const parts: [string, string][] = [
    ["host", ep.host],
    ["port", String(ep.port)],
    ["user", ep.user],
    ["password", ep.password],
    ["dbname", database],
  ];
  if (ep.sslmode) parts.push(["sslmode", ep.sslmode]);
  return parts.map(([k, v]) => `${k}=${conninfoValue(v)}`).join(" ");
}

/** Tables replicated: every user table of the database (the `secrets` table included). */
export async function replicatedTables(client: Client): Promise<Table[]> {
  const tables = await listTables(client);
  // Sorted by qualified name: publications list them in this order (Pulumi's Publication
  // resource wants its table list sorted, so the stack and this tool agree on one form).
  return tables.sort((a, b) => tableName(a).localeCompare(tableName(b)));
}

/** Tables without a primary key whose replica identity is still DEFAULT (i.e. none). */
export async function tablesNeedingIdentity(client: Client): Promise<string[]> {
  const { rows } = await client.query<{ t: string }>(`
    SELECT format('%I.%I', n.nspname, c.relname) AS t
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind = 'r' AND c.relreplident IN ('d', 'n')
       AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'airbyte_migrate')
       AND n.nspname NOT LIKE 'pg\\_%'
       AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)
     ORDER BY 1`);
  return rows.map((r) => r.t);
}

/** REPLICA IDENTITY FULL on every table without a key, so its UPDATEs and DELETEs publish. */
export async function setReplicaIdentityFull(client: Client): Promise<string[]> {
  const tables = await tablesNeedingIdentity(client);
  for (const t of tables) await client.query(`ALTER TABLE ${t} REPLICA IDENTITY FULL`);
  return tables;
}

export async function publicationTables(
  client: Client,
  publication: string,
): Promise<string[] | undefined> {
  const exists = await client.query("SELECT 1 FROM pg_publication WHERE pubname = $1", [
    publication,
  ]);
  if (exists.rows.length === 0) return undefined;
  const { rows } = await client.query<{ t: string }>(
    `SELECT format('%I.%I', schemaname, tablename) AS t FROM pg_publication_tables
      WHERE pubname = $1 ORDER BY 1`,
    [publication],
  );
  return rows.map((r) => r.t);
}

export interface SubscriptionState {
  name: string;
  enabled: boolean;
  slot: string | null;
  /** Apply worker running. */
  running: boolean;
  /** Tables by sync state: i init, d copying, f finished copy, s synchronized, r ready. */
  states: Record<string, number>;
  /** Tables the subscription knows (pg_subscription_rel). */
  tables: string[];
  lastMessage: Date | null;
  latestEnd: Date | null;
  /** PG16+: which changes it receives (`any` includes those the publisher itself applied). */
  origin: string | null;
}

export async function subscriptionState(
  client: Client,
  name: string,
): Promise<SubscriptionState | undefined> {
  const { rows } = await client.query<{
    enabled: boolean;
    slot: string | null;
    origin: string | null;
  }>(
    `SELECT s.subenabled AS enabled, s.subslotname AS slot,
            ${(await majorOf(client)) >= 16 ? "s.suborigin" : "NULL::text"} AS origin
       FROM pg_subscription s JOIN pg_database d ON d.oid = s.subdbid
      WHERE s.subname = $1 AND d.datname = current_database()`,
    [name],
  );
  if (rows.length === 0) return undefined;
  const rels = await client.query<{ t: string; state: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS t, r.srsubstate AS state
       FROM pg_subscription_rel r JOIN pg_subscription s ON s.oid = r.srsubid
       JOIN pg_class c ON c.oid = r.srrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE s.subname = $1 ORDER BY 1`,
    [name],
  );
  const states: Record<string, number> = {};
  for (const r of rels.rows) states[r.state] = (states[r.state] ?? 0) + 1;
  const stat = await client.query<{ pid: number | null; msg: Date | null; end: Date | null }>(
    `SELECT pid, last_msg_receipt_time AS msg, latest_end_time AS end
       FROM pg_stat_subscription WHERE subname = $1 AND relid IS NULL`,
    [name],
  );
  const main = stat.rows[0];
  return {
    name,
    enabled: rows[0].enabled,
    slot: rows[0].slot,
    running: main?.pid !== null && main?.pid !== undefined,
    states,
    tables: rels.rows.map((r) => r.t),
    lastMessage: main?.msg ?? null,
    latestEnd: main?.end ?? null,
    origin: rows[0].origin,
  };
}

export async function majorOf(client: Client): Promise<number> {
  const { rows } = await client.query<{ v: string }>(
    "SELECT current_setting('server_version_num') AS v",
  );
  return Math.floor(Number(rows[0].v) / 10000);
}

export interface SlotState {
  name: string;
  active: boolean;
  /** WAL the slot keeps on its server (current position minus restart_lsn). */
  retainedBytes: number;
  /** WAL not yet confirmed by the subscriber (current position minus confirmed_flush_lsn). */
  lagBytes: number;
  walStatus: string | null;
  /** replay_lag of the walsender serving it, when connected and recently active. */
  lagSeconds: number | null;
}

export async function slotState(client: Client, name: string): Promise<SlotState | undefined> {
  const { rows } = await client.query<{
    active: boolean;
    retained: string | null;
    lag: string | null;
    wal_status: string | null;
    lag_s: number | null;
  }>(
    `SELECT s.active,
            pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn)::int8::text AS retained,
            pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn)::int8::text AS lag,
            s.wal_status,
            (SELECT extract(epoch FROM r.replay_lag)::float8 FROM pg_stat_replication r
              WHERE r.pid = s.active_pid) AS lag_s
       FROM pg_replication_slots s WHERE s.slot_name = $1`,
    [name],
  );
  if (rows.length === 0) return undefined;
  const r = rows[0];
  return {
    name,
    active: r.active,
    retainedBytes: Number(r.retained ?? 0),
    lagBytes: Math.max(0, Number(r.lag ?? 0)),
    walStatus: r.wal_status,
    lagSeconds: r.lag_s,
  };
}

export async function currentLsn(client: Client): Promise<string> {
  const { rows } = await client.query<{ l: string }>("SELECT pg_current_wal_lsn()::text AS l");
  return rows[0].l;
}

/** Whether the slot's subscriber has confirmed everything up to `lsn`. */
async function slotReached(client: Client, slot: string, lsn: string): Promise<boolean> {
  const { rows } = await client.query<{ ok: boolean | null }>(
    `SELECT confirmed_flush_lsn >= $2::pg_lsn AS ok FROM pg_replication_slots WHERE slot_name = $1`,
    [slot, lsn],
  );
  return rows[0]?.ok === true;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Wait until `check` is true, polling; false on timeout. */
export async function waitFor(
  check: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(intervalMs);
  }
}

/**
 * Wait until what prod had written when called (or up to `prodLsn`) has reached core-worker-01:
 * the hub confirms
 * prod's position, then core-worker-01 confirms the hub's position at that moment.
 */
export async function waitCaughtUp(
  prod: Client,
  hub: Client,
  timeoutMs: number,
  prodLsn?: string,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  prodLsn ??= await currentLsn(prod);
  if (!(await waitFor(() => slotReached(prod, NAMES.hubSubscription, prodLsn), timeoutMs))) {
    return false;
  }
  const hubLsn = await currentLsn(hub);
  return waitFor(
    () => slotReached(hub, NAMES.replicaSubscription, hubLsn),
    Math.max(0, deadline - Date.now()),
  );
}

/** Every table of the subscription in state `r` (initial copy done, streaming). */
export async function subscriptionReady(client: Client, name: string): Promise<boolean> {
  const s = await subscriptionState(client, name);
  if (!s) return false;
  const total = Object.values(s.states).reduce((a, b) => a + b, 0);
  return total > 0 && (s.states.r ?? 0) === total;
}

/** wal_level must be logical on a server that publishes. */
export async function requireLogical(client: Client, ep: Endpoint): Promise<void> {
  const { rows } = await client.query<{ w: string }>("SELECT current_setting('wal_level') AS w");
  if (rows[0].w !== "logical") {
    throw new MigrateError(
      `the ${describe(ep)} has wal_level=${rows[0].w}; it publishes, which needs logical: ` +
        `ALTER SYSTEM SET wal_level = logical (and max_replication_slots, max_wal_senders of at ` +
        `least 4), then restart it`,
    );
  }
}
