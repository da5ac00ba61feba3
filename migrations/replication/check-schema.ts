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
import { Endpoint } from "../lib/endpoint";
import { MigrateError } from "../lib/errors";
import * as fmt from "../lib/format";
import { connectDb, NAMES, publicationTables, subscriptionState } from "./chain";
import type { ReplicationOptions } from "./options";

interface ColumnInfo {
  type: string;
  notNull: boolean;
  hasDefault: boolean;
}

type Schema = Map<string, Map<string, ColumnInfo>>;

export type Severity = "breaks" | "warning" | "info";

export interface Drift {
  severity: Severity;
  where: string;
  what: string;
  fix: string;
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
    has_default: boolean;
  }>(`
    SELECT format('%I.%I', n.nspname, c.relname) AS t, a.attname AS c,
           format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
           a.atthasdef OR a.attidentity <> '' AS has_default
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
     WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'airbyte_migrate')
       AND n.nspname NOT LIKE 'pg\\_%'
     ORDER BY 1, a.attnum`);
  const schema: Schema = new Map();
  for (const r of rows) {
    const cols = schema.get(r.t) ?? new Map<string, ColumnInfo>();
    cols.set(r.c, { type: r.type, notNull: r.not_null, hasDefault: r.has_default });
    schema.set(r.t, cols);
  }
  return schema;
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

/** Drift between an upstream schema and its subscriber's. */
function compare(up: Schema, down: Schema, upName: string, downName: string): Drift[] {
  const drifts: Drift[] = [];
  for (const [table, cols] of up) {
    const other = down.get(table);
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
        drifts.push({
          severity: "breaks",
          where: downName,
          what: `column ${table}.${col} (${info.type}) exists on ${upName} but not on ${downName}: applying its changes fails`,
          fix: `ALTER TABLE ${table} ADD COLUMN ${col} ${info.type} on ${downName}; ${UPGRADE}`,
        });
      } else if (o.type !== info.type) {
        drifts.push({
          severity: "warning",
          where: downName,
          what: `column ${table}.${col} is ${info.type} on ${upName} and ${o.type} on ${downName}`,
          fix: `give both the same type (values are applied through their text form and may fail)`,
        });
      }
    }
    for (const [col, o] of other) {
      if (cols.has(col)) continue;
      drifts.push(
        o.notNull && !o.hasDefault
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
