/**
 * `sync check-schema`: DDL does not replicate, so an Airbyte upgrade applied on one side only
 * leaves the servers with different schemas. Logical replication tolerates a subscriber whose
 * tables are a superset (extra nullable columns, extra tables); it stops on anything else. This
 * compares the tables and columns of prod, the hub and core-worker-01, the publications and what
 * each subscription knows, and the Flyway versions, and says for each drift what to do.
 *
 * The safe upgrade order (docs/replication.md): replica side first (hub and core-worker-01 get the
 * new schema, a superset), then prod, then ALTER PUBLICATION ... ADD TABLE for new tables
 * (`sync setup` does it) and REFRESH PUBLICATION on the hub, then on core-worker-01.
 */
import type { Client } from "pg";
import { Endpoint, ident } from "../lib/endpoint";
import { MigrateError } from "../lib/errors";
import * as fmt from "../lib/format";
import { connectDb, NAMES, publicationTables, subscriptionState } from "./chain";
import type { ReplicationOptions } from "./options";

/** A column's full definition: what decides the values rows get on each server. */
interface ColumnInfo {
  type: string;
  notNull: boolean;
  /** Default expression (pg_get_expr), null when none. */
  default: string | null;
  /** `ALWAYS` / `BY DEFAULT` for identity columns, else null. */
  identity: string | null;
  /** Expression of a GENERATED ALWAYS AS (...) STORED column, else null. */
  generated: string | null;
  /** The default is volatile (now(), gen_random_uuid()): existing rows get per-server values. */
  volatileDefault: boolean;
}

/**
 * How UPDATE and DELETE find their row (pg_class.relreplident): a key (primary key or a chosen
 * unique index), every column (FULL), or nothing, which fails UPDATE/DELETE on a server whose
 * publication carries the table.
 */
type Identity = "key" | "full" | "none";

interface TableInfo {
  columns: Map<string, ColumnInfo>;
  identity: Identity;
}

type Schema = Map<string, TableInfo>;

export type Severity = "breaks" | "warning" | "info";

export interface Drift {
  severity: Severity;
  where: string;
  what: string;
  fix: string;
  /** The statements that fix it on `where`, when SQL does (the fix text quotes them). */
  sql?: string[];
}

export interface CheckSchemaResult {
  versions: Record<string, { airbyte: string | null; configs: string | null; jobs: string | null }>;
  drifts: Drift[];
  ok: boolean;
}

async function readSchema(db: Client): Promise<Schema> {
  const { rows } = await db.query<{
    t: string;
    c: string;
    type: string;
    not_null: boolean;
    dflt: string | null;
    identity: string;
    generated: string;
    volatile: boolean;
    replident: string;
    has_key: boolean;
  }>(`
    SELECT format('%I.%I', n.nspname, c.relname) AS t, a.attname AS c,
           format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
           pg_get_expr(d.adbin, d.adrelid) AS dflt, a.attidentity::text AS identity,
           a.attgenerated::text AS generated,
           -- A default calling a volatile function (now(), gen_random_uuid()): its funcids.
           coalesce((SELECT bool_or(p.provolatile = 'v')
                       FROM regexp_matches(d.adbin::text, ':funcid (\\d+)', 'g') AS m(f)
                       JOIN pg_proc p ON p.oid = m.f[1]::oid), false) AS volatile,
           c.relreplident::text AS replident,
           EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid
                    AND (i.indisprimary OR i.indisreplident)) AS has_key
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
     WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'airbyte_migrate')
       AND n.nspname NOT LIKE 'pg\\_%'
     ORDER BY 1, a.attnum`);
  const schema: Schema = new Map();
  for (const r of rows) {
    const table = schema.get(r.t) ?? {
      columns: new Map<string, ColumnInfo>(),
      identity: identityOf(r.replident, r.has_key),
    };
    const generated = r.generated === "s";
    table.columns.set(r.c, {
      type: r.type,
      notNull: r.not_null,
      default: generated ? null : r.dflt,
      identity: r.identity === "a" ? "ALWAYS" : r.identity === "d" ? "BY DEFAULT" : null,
      generated: generated ? r.dflt : null,
      volatileDefault: !generated && r.volatile,
    });
    schema.set(r.t, table);
  }
  return schema;
}

function identityOf(replident: string, hasKey: boolean): Identity {
  if (replident === "f") return "full";
  if (replident === "i") return "key";
  if (replident === "d" && hasKey) return "key";
  return "none";
}

/** The column's definition as ALTER TABLE ... ADD COLUMN takes it. */
export function columnDefinition(c: ColumnInfo): string {
  const parts = [c.type];
  if (c.generated !== null) parts.push(`GENERATED ALWAYS AS (${c.generated}) STORED`);
  else if (c.identity !== null) parts.push(`GENERATED ${c.identity} AS IDENTITY`);
  else if (c.default !== null) parts.push(`DEFAULT ${c.default}`);
  if (c.notNull) parts.push("NOT NULL");
  return parts.join(" ");
}

/** Statements that give an existing column `want`'s definition. */
function alterColumn(table: string, col: string, have: ColumnInfo, want: ColumnInfo): string[] {
  const q = `ALTER TABLE ${table} ALTER COLUMN ${ident(col)}`;
  const out: string[] = [];
  if (have.type !== want.type) out.push(`${q} TYPE ${want.type}`);
  if (have.default !== want.default && want.identity === null && want.generated === null) {
    out.push(want.default === null ? `${q} DROP DEFAULT` : `${q} SET DEFAULT ${want.default}`);
  }
  if (have.notNull !== want.notNull) out.push(`${q} ${want.notNull ? "SET" : "DROP"} NOT NULL`);
  return out;
}

async function versions(
  db: Client,
): Promise<{ airbyte: string | null; configs: string | null; jobs: string | null }> {
  const one = async (sql: string): Promise<string | null> => {
    try {
      const { rows } = await db.query<{ v: string | null }>(sql);
      return rows[0]?.v ?? null;
    } catch {
      return null;
    }
  };
  const flyway = (t: string) =>
    `SELECT version AS v FROM ${t} WHERE success ORDER BY installed_rank DESC LIMIT 1`;
  return {
    airbyte: await one("SELECT value AS v FROM airbyte_metadata WHERE key = 'airbyte_version'"),
    configs: await one(flyway("airbyte_configs_migrations")),
    jobs: await one(flyway("airbyte_jobs_migrations")),
  };
}

const UPGRADE =
  "upgrade the replica side first (run the new Airbyte version's migrations on the hub and " +
  "core-worker-01, e.g. the standby's bootloader, or apply the same DDL), then prod, then " +
  "`airbyte-migrate sync setup` (adds new tables to the publications and refreshes the subscriptions)";

/** Why a column's rows could come out different downstream, for the fix text. */
function perServerValues(c: ColumnInfo): string {
  if (c.volatileDefault) {
    return ` (its default ${c.default} is volatile: existing rows get this server's own values; copy the column's values from upstream afterwards)`;
  }
  if (c.identity !== null) {
    return " (identity: existing rows are numbered by this server; copy the column's values from upstream afterwards)";
  }
  return "";
}

/** Drift of one column present on both sides: its definition must be the same. */
function compareColumn(
  table: string,
  col: string,
  up: ColumnInfo,
  down: ColumnInfo,
  upName: string,
  downName: string,
): Drift | undefined {
  if (columnDefinition(up) === columnDefinition(down)) return undefined;
  const what =
    `column ${table}.${col} is \`${columnDefinition(up)}\` on ${upName} and ` +
    `\`${columnDefinition(down)}\` on ${downName}`;
  if (up.generated !== down.generated) {
    // Generated columns are not replicated (PostgreSQL 12-17): each subscriber computes its own
    // or, for a plain column, keeps its default.
    const sql = [
      `ALTER TABLE ${table} DROP COLUMN ${ident(col)}`,
      `ALTER TABLE ${table} ADD COLUMN ${ident(col)} ${columnDefinition(up)}`,
    ];
    return {
      severity: up.generated !== null ? "breaks" : "warning",
      where: downName,
      what: `${what}: generated columns do not replicate, so the values differ`,
      fix: `on ${downName}: ${sql.join("; ")}`,
      sql,
    };
  }
  const sql = alterColumn(table, col, down, up);
  const breaks = !up.notNull && down.notNull;
  return {
    severity: breaks ? "breaks" : "warning",
    where: downName,
    what: breaks
      ? `${what}: a NULL from ${upName} stops the apply worker`
      : `${what}: replication goes on (values are sent explicitly), but inserts made on ${downName} after a failover differ`,
    fix: `on ${downName}: ${sql.join("; ")}`,
    sql,
  };
}

/** Drift between an upstream schema and its subscriber's. */
function compare(up: Schema, down: Schema, upName: string, downName: string): Drift[] {
  const drifts: Drift[] = [];
  for (const [table, { columns: cols }] of up) {
    const other = down.get(table)?.columns;
    if (!other) {
      drifts.push({
        severity: "breaks",
        where: `${downName}`,
        what: `table ${table} exists on ${upName} but not on ${downName}`,
        fix: `create it on ${downName} (${UPGRADE})`,
      });
      continue;
    }
    for (const [col, info] of cols) {
      const o = other.get(col);
      if (!o) {
        const sql = [`ALTER TABLE ${table} ADD COLUMN ${ident(col)} ${columnDefinition(info)}`];
        drifts.push({
          severity: "breaks",
          where: downName,
          what: `column ${table}.${col} (${info.type}) exists on ${upName} but not on ${downName}: applying its changes fails`,
          fix: `on ${downName}: ${sql[0]}${perServerValues(info)}; ${UPGRADE}`,
          sql,
        });
        continue;
      }
      const d = compareColumn(table, col, info, o, upName, downName);
      if (d) drifts.push(d);
    }
    for (const [col, o] of other) {
      if (cols.has(col)) continue;
      drifts.push(
        o.notNull && o.default === null && o.identity === null && o.generated === null
          ? {
              severity: "breaks",
              where: downName,
              what: `column ${table}.${col} exists only on ${downName} and is NOT NULL without a default: rows from ${upName} cannot be inserted`,
              fix: `upgrade ${upName} to the same Airbyte version, or give the column a default on ${downName}`,
            }
          : {
              severity: "info",
              where: downName,
              what: `column ${table}.${col} exists only on ${downName} (a superset: replication goes on)`,
              fix: `upgrade ${upName} next, then run sync setup`,
            },
      );
    }
  }
  for (const table of down.keys()) {
    if (!up.has(table)) {
      drifts.push({
        severity: "info",
        where: downName,
        what: `table ${table} exists only on ${downName} (a superset: replication goes on)`,
        fix: `upgrade ${upName} next, then run sync setup`,
      });
    }
  }
  return drifts;
}

/**
 * A server whose publication carries a table without a key needs REPLICA IDENTITY FULL on it:
 * without, its UPDATE and DELETE fail. On prod those are Airbyte's own statements; on the hub
 * they are the apply worker's, which stops at the first one, so nothing replicates any more and
 * prod's slot keeps WAL.
 */
function identityDrifts(schema: Schema, name: string, applies: boolean): Drift[] {
  const drifts: Drift[] = [];
  for (const [table, t] of schema) {
    if (t.identity !== "none") continue;
    const sql = [`ALTER TABLE ${table} REPLICA IDENTITY FULL`];
    drifts.push({
      severity: "breaks",
      where: name,
      what: applies
        ? `table ${table} has no primary key and no replica identity on ${name}, which republishes it: its apply worker stops at the first UPDATE or DELETE (cannot update table ... because it does not have a replica identity and publishes updates)`
        : `table ${table} has no primary key and no replica identity on ${name}: once published, its UPDATE and DELETE fail there`,
      fix: `on ${name}: ${sql[0]} (sync setup does it)`,
      sql,
    });
  }
  return drifts;
}

/** Tables a publisher has that its publication or the subscription does not carry yet. */
async function coverage(
  publisher: Client,
  publication: string,
  subscriber: Client,
  subscription: string,
  pubName: string,
  subName: string,
  schema: Schema,
): Promise<Drift[]> {
  const drifts: Drift[] = [];
  const published = await publicationTables(publisher, publication);
  if (!published) {
    return [
      {
        severity: "breaks",
        where: pubName,
        what: `publication ${publication} is missing on ${pubName}`,
        fix: "run airbyte-migrate sync setup",
      },
    ];
  }
  for (const t of schema.keys()) {
    if (!published.includes(t)) {
      drifts.push({
        severity: "breaks",
        where: pubName,
        what: `table ${t} is not in publication ${publication}: its rows do not replicate`,
        fix: `once ${subName} has the table: run sync setup (ALTER PUBLICATION ${publication} ADD TABLE ${t}, then REFRESH PUBLICATION)`,
      });
    }
  }
  const sub = await subscriptionState(subscriber, subscription);
  if (!sub) {
    drifts.push({
      severity: "breaks",
      where: subName,
      what: `subscription ${subscription} is missing on ${subName}`,
      fix: "run airbyte-migrate sync setup",
    });
    return drifts;
  }
  for (const t of published) {
    if (!sub.tables.includes(t)) {
      drifts.push({
        severity: "breaks",
        where: subName,
        what: `table ${t} is published by ${pubName} but subscription ${subscription} does not know it`,
        fix: `ALTER SUBSCRIPTION ${subscription} REFRESH PUBLICATION on ${subName} (sync setup does it)`,
      });
    }
  }
  return drifts;
}

async function open(ep: Endpoint | undefined, db: string): Promise<Client> {
  if (!ep) throw new MigrateError("check-schema needs --hub-url (or HUB_DATABASE_URL)", 2);
  return connectDb(ep, db);
}

export async function checkSchemaCommand(opts: ReplicationOptions): Promise<CheckSchemaResult> {
  const clients: Client[] = [];
  try {
    const prod = await open(opts.prod, opts.database);
    clients.push(prod);
    const hub = await open(opts.hub, opts.database);
    clients.push(hub);
    const replica = await open(opts.replica, opts.database);
    clients.push(replica);
    const [ps, hs, rs] = await Promise.all([
      readSchema(prod),
      readSchema(hub),
      readSchema(replica),
    ]);
    const drifts = [
      ...compare(ps, hs, "prod", "the hub"),
      ...compare(hs, rs, "the hub", "core-worker-01"),
      ...identityDrifts(ps, "prod", false),
      ...identityDrifts(hs, "the hub", true),
      ...(await coverage(
        prod,
        NAMES.prodPublication,
        hub,
        NAMES.hubSubscription,
        "prod",
        "the hub",
        ps,
      )),
      ...(await coverage(
        hub,
        NAMES.hubPublication,
        replica,
        NAMES.replicaSubscription,
        "the hub",
        "core-worker-01",
        hs,
      )),
    ];
    const v = {
      prod: await versions(prod),
      hub: await versions(hub),
      "core-worker-01": await versions(replica),
    };
    if (
      v.prod.configs !== v["core-worker-01"].configs ||
      v.prod.jobs !== v["core-worker-01"].jobs
    ) {
      drifts.push({
        severity: "info",
        where: "all",
        what: `Flyway versions differ: prod configs ${v.prod.configs} / jobs ${v.prod.jobs}, core-worker-01 configs ${v["core-worker-01"].configs} / jobs ${v["core-worker-01"].jobs} (the history rows replicate, so this shows a half-done upgrade)`,
        fix: UPGRADE,
      });
    }
    return { versions: v, drifts, ok: !drifts.some((d) => d.severity === "breaks") };
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  }
}

export function formatCheckSchema(r: CheckSchemaResult): string {
  const v = fmt.table(
    ["server", "airbyte_version", "configs migration", "jobs migration"],
    Object.entries(r.versions).map(([k, x]) => [
      k,
      x.airbyte ?? "-",
      x.configs ?? "-",
      x.jobs ?? "-",
    ]),
  );
  const d =
    r.drifts.length === 0
      ? "schemas agree on the three servers; publications and subscriptions cover every table"
      : r.drifts.map((x) => `${x.severity.toUpperCase()}: ${x.what}\n  fix: ${x.fix}`).join("\n");
  return `${v}\n\n${d}`;
}
