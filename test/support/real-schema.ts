/**
 * Airbyte 2.0.0's `db-airbyte` and Temporal 1.27.2's `temporal` and `temporal_visibility`, built
 * from the facts of their schemas in test/fixtures/real-schema/facts.json (extracted from the
 * upstream sources by scripts/real-schema-facts.py, provenance inside), and filled with rows that
 * stress the copy format: jsonb and text with quotes, backslashes, `\N`, control and non-BMP
 * characters; NULLs; arrays with NULL elements; values over 1 MB; duplicate rows in the tables
 * without any key. Foreign keys are left out (the rows are generated per table).
 *
 * ```ts
 * await createRealSchemaDatabases(server, { rows: 40 });
 * ```
 */
import fs from "node:fs";
import path from "node:path";
import type { Client } from "pg";
import type { PgServer } from "./postgres";

interface ColumnFact {
  name: string;
  type: string | { enum: string };
  notNull: boolean;
  default: string | null;
  identity: string | null;
  generated: string | null;
  serial?: boolean;
}

interface TableFact {
  name: string;
  columns: ColumnFact[];
  primaryKey: string[];
  unique: { name: string; columns: string[] }[];
  checks?: { name: string; expression: string }[];
}

interface IndexFact {
  name: string;
  table: string;
  unique: boolean;
  method: string;
  keys: string;
  where: string | null;
}

interface DatabaseFacts {
  tables: TableFact[];
  indexes: IndexFact[];
  enums?: Record<string, { values: string[]; source: string }>;
  extensions?: string[];
  functions?: string[];
}

interface Facts {
  airbyte: DatabaseFacts;
  temporal: DatabaseFacts;
  temporal_visibility: DatabaseFacts;
}

const FACTS_FILE = path.resolve(__dirname, "../fixtures/real-schema/facts.json");

export function realSchemaFacts(): Facts {
  return JSON.parse(fs.readFileSync(FACTS_FILE, "utf8")) as Facts;
}

/** The three databases and the facts each is built from. */
export const REAL_DATABASES = {
  "db-airbyte": "airbyte",
  temporal: "temporal",
  temporal_visibility: "temporal_visibility",
} as const;

export type RealDatabase = keyof typeof REAL_DATABASES;

/** The biggest tables in a real deployment; `bigRows` gives them more rows. */
export const BIG_TABLES = ["history_node", "executions", "stream_stats", "workload"];

export interface RealSchemaOptions {
  /** Rows per table (duplicated once more in tables without any key). */
  rows: number;
  /** Rows in the {@link BIG_TABLES}. Default: `rows`. */
  bigRows?: number;
  /** Add one value over 1 MB to a jsonb, a text and a bytea column. Default true. */
  hugeValues?: boolean;
}

const q = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** jOOQ prints an unbounded varchar as varchar(2147483647), over PostgreSQL's limit. */
function sqlType(c: ColumnFact): string {
  if (typeof c.type !== "string") return q(c.type.enum);
  if (c.serial) return "bigserial";
  return c.type.replace(/varchar\(2147483647\)/g, "varchar");
}

function columnDdl(c: ColumnFact): string {
  const parts = [q(c.name), sqlType(c)];
  if (c.generated !== null) parts.push(`GENERATED ALWAYS AS (${c.generated}) STORED`);
  else if (c.identity !== null) parts.push(`GENERATED ${c.identity} AS IDENTITY`);
  else if (c.default !== null) parts.push(`DEFAULT ${c.default}`);
  if (c.notNull) parts.push("NOT NULL");
  return parts.join(" ");
}

/** DDL of one database from its facts: enums, extensions, functions, tables, indexes. */
export function schemaDdl(db: DatabaseFacts): string[] {
  const out: string[] = [];
  for (const e of db.extensions ?? []) out.push(`CREATE EXTENSION IF NOT EXISTS ${q(e)}`);
  for (const f of db.functions ?? []) {
    // Temporal's visibility schema parses search attributes' timestamps with convert_ts(text):
    // an IMMUTABLE function (generated columns need one) reading the text as UTC.
    if (f !== "convert_ts") throw new Error(`no definition for function ${f}`);
    out.push(`CREATE FUNCTION convert_ts(s varchar) RETURNS timestamp LANGUAGE sql IMMUTABLE
                RETURNS NULL ON NULL INPUT AS $$ SELECT s::timestamptz AT TIME ZONE 'UTC' $$`);
  }
  for (const [name, e] of Object.entries(db.enums ?? {})) {
    const values = e.values.map((v) => `'${v.replace(/'/g, "''")}'`).join(", ");
    out.push(`CREATE TYPE ${q(name)} AS ENUM (${values})`);
  }
  for (const t of db.tables) {
    const defs = t.columns.map(columnDdl);
    if (t.primaryKey.length > 0) defs.push(`PRIMARY KEY (${t.primaryKey.map(q).join(", ")})`);
    for (const u of t.unique)
      defs.push(`CONSTRAINT ${q(u.name)} UNIQUE (${u.columns.map(q).join(", ")})`);
    for (const c of t.checks ?? []) defs.push(`CONSTRAINT ${q(c.name)} CHECK (${c.expression})`);
    out.push(`CREATE TABLE ${q(t.name)} (\n  ${defs.join(",\n  ")}\n)`);
  }
  for (const i of db.indexes) {
    out.push(
      `CREATE ${i.unique ? "UNIQUE " : ""}INDEX ${q(i.name)} ON ${q(i.table)} USING ${i.method} ` +
        `(${i.keys})${i.where ? ` WHERE ${i.where}` : ""}`,
    );
  }
  return out;
}

/** Columns whose values must be unique: keys, unique constraints and unique indexes. */
function keyColumns(db: DatabaseFacts, t: TableFact): Set<string> {
  const keys = new Set([...t.primaryKey, ...t.unique.flatMap((u) => u.columns)]);
  for (const i of db.indexes) {
    if (i.table !== t.name || !i.unique) continue;
    for (const k of i.keys.split(",")) keys.add(k.trim().split(/\s+/)[0].toLowerCase());
  }
  return keys;
}

/** Text that trips up COPY's text format and encodings, varied by row. */
const STRESS =
  `(CASE g % 6 WHEN 0 THEN E'quote '' "dq" back\\\\slash \\\\N tab\\there'` +
  ` WHEN 1 THEN E'ctl \\x01\\x1f bell\\x07 nl\\nline cr\\r'` +
  ` WHEN 2 THEN E'non-BMP \\U0001F600 \\U00010348 accents é ü'` +
  ` WHEN 3 THEN '\\N'` +
  ` WHEN 4 THEN ''` +
  ` ELSE 'plain ' || g END)`;

/** Search attributes the visibility schema's generated columns read. */
const SEARCH_ATTRIBUTES = `jsonb_build_object(
  'TemporalChangeVersion', jsonb_build_array('v' || g), 'BinaryChecksums', jsonb_build_array(md5(g::text)),
  'BatcherUser', 'user-' || g, 'TemporalScheduledStartTime', '2024-05-01T10:00:00Z',
  'TemporalScheduledById', 'sched-' || g, 'TemporalSchedulePaused', g % 2 = 0,
  'BuildIds', jsonb_build_array('b' || g % 3), 'Bool01', true, 'Datetime01', '2024-01-02T03:04:05.678Z',
  'Double01', g / 7.0, 'Int01', g, 'Keyword01', 'kw ' || g, 'Text01', 'quick brown fox ' || g,
  'KeywordList01', jsonb_build_array('a', 'b', g::text), 'CustomStress', ${STRESS})`;

function valueSql(
  t: TableFact,
  c: ColumnFact,
  isKey: boolean,
  enums: DatabaseFacts["enums"],
): string {
  const seed = `'${t.name}.${c.name}.' || g`;
  const type = typeof c.type === "string" ? c.type.toLowerCase() : "enum";
  let v: string;
  if (typeof c.type !== "string") {
    const values = enums?.[c.type.enum]?.values ?? [];
    if (values.length === 0) throw new Error(`enum ${c.type.enum} has no values in the facts`);
    const arr = values.map((x) => `'${x}'`).join(", ");
    v = `(ARRAY[${arr}])[1 + g % ${values.length}]::${q(c.type.enum)}`;
  } else if (type === "uuid") v = `md5(${seed})::uuid`;
  else if (/^(bigint|int|integer|bigserial)$/.test(type))
    v = isKey ? "g" : "((g::int8 * 7919) % 100003)::int";
  else if (type === "smallint") v = "(g % 30000)::smallint";
  else if (type === "boolean") v = "g % 2 = 0";
  else if (type.startsWith("timestamp"))
    v = `timestamptz '2024-01-01 00:00:00+00' + g * interval '37.123456 seconds'`;
  else if (type === "date") v = "date '2024-01-01' + g % 400";
  else if (type.startsWith("decimal") || type.startsWith("numeric")) v = "round(g / 7.0, 5)";
  else if (type === "jsonb") {
    v =
      c.name === "search_attributes"
        ? SEARCH_ATTRIBUTES
        : `jsonb_build_object('n', g, 's', ${STRESS}, 'a', jsonb_build_array(1, NULL, 'x'), 'o', jsonb_build_object('k\\"q', 'v\\\\b'))`;
  } else if (type === "bytea") v = `decode(md5(${seed}) || md5(g::text), 'hex')`;
  else if (type.endsWith("[]")) v = `ARRAY['first', NULL, ${STRESS}]::varchar[]`;
  else {
    const m = /^(?:varchar|char|character varying)\((\d+)\)$/.exec(type);
    const len = m ? Number(m[1]) : 4000;
    const len2 = Math.min(len, 4000);
    v = isKey
      ? `left(g::text || '-' || ${seed}, ${len2})`
      : `left(${STRESS} || ' ' || ${seed}, ${len2})`;
  }
  if (!c.notNull && !isKey) v = `CASE WHEN g % 11 = 0 THEN NULL ELSE ${v} END`;
  return v;
}

/**
 * INSERT of the generated rows `first` .. `first + count - 1` of one table (rows with other
 * numbers never collide on a key), for fills and write loads.
 */
export function insertRowsSql(
  database: RealDatabase,
  table: string,
  first: number,
  count: number,
): string {
  const db = realSchemaFacts()[REAL_DATABASES[database]];
  const t = db.tables.find((x) => x.name === table);
  if (!t) throw new Error(`no table ${table} in ${database}'s facts`);
  return insertSql(db, t, first, count);
}

function insertSql(db: DatabaseFacts, t: TableFact, first: number, count: number): string {
  const keys = keyColumns(db, t);
  const cols = t.columns.filter((c) => c.generated === null);
  const exprs = cols.map((c) => valueSql(t, c, keys.has(c.name), db.enums));
  return `INSERT INTO ${q(t.name)} (${cols.map((c) => q(c.name)).join(", ")})
          OVERRIDING SYSTEM VALUE SELECT ${exprs.join(", ")}
          FROM generate_series(${first}, ${first + count - 1}) g`;
}

async function fillTable(
  client: Client,
  db: DatabaseFacts,
  t: TableFact,
  n: number,
): Promise<void> {
  // A CHECK such as Temporal's only_one_row (id = 0) admits one row: g counts from 0 there.
  const insert = (t.checks ?? []).length > 0 ? insertSql(db, t, 0, 1) : insertSql(db, t, 1, n);
  await client.query(insert);
  if (keyColumns(db, t).size === 0) await client.query(insert); // duplicate rows, no key
}

/** One value over 1 MB in a jsonb, a text-like and a bytea column, on tables that have them. */
async function hugeValues(client: Client, db: DatabaseFacts): Promise<string[]> {
  const big = "repeat(E'x\"\\\\\\t\\U0001F600', 200000)";
  const done = new Set<string>();
  const placed: string[] = [];
  for (const t of db.tables) {
    const keys = keyColumns(db, t);
    for (const c of t.columns) {
      if (c.generated !== null || keys.has(c.name) || typeof c.type !== "string") continue;
      const type = c.type.toLowerCase();
      const kind =
        type === "jsonb"
          ? "jsonb"
          : type === "bytea"
            ? "bytea"
            : /^(text|varchar\(2147483647\))$/.test(type)
              ? "text"
              : undefined;
      if (!kind || done.has(kind)) continue;
      const value =
        kind === "jsonb"
          ? `jsonb_build_object('huge', ${big})`
          : kind === "bytea"
            ? `convert_to(${big}, 'UTF8')`
            : big;
      const r = await client.query(
        `UPDATE ${q(t.name)} SET ${q(c.name)} = ${value} WHERE ctid = (SELECT min(ctid) FROM ${q(t.name)})`,
      );
      if (r.rowCount) {
        done.add(kind);
        placed.push(`${t.name}.${c.name}`);
      }
    }
  }
  return placed;
}

/**
 * Create and fill `db-airbyte`, `temporal` and `temporal_visibility` on `server`; returns the
 * columns (`database.table.column`) given a value over 1 MB.
 */
export async function createRealSchemaDatabases(
  server: PgServer,
  options: RealSchemaOptions,
): Promise<string[]> {
  const huge: string[] = [];
  const facts = realSchemaFacts();
  const admin = await server.connect("postgres");
  try {
    for (const name of Object.keys(REAL_DATABASES)) await admin.query(`CREATE DATABASE ${q(name)}`);
  } finally {
    await admin.end();
  }
  for (const [name, key] of Object.entries(REAL_DATABASES)) {
    const db = facts[key];
    const client = await server.connect(name);
    try {
      for (const stmt of schemaDdl(db)) await client.query(stmt);
      for (const t of db.tables) {
        const n = BIG_TABLES.includes(t.name) ? (options.bigRows ?? options.rows) : options.rows;
        await fillTable(client, db, t, n);
      }
      if (options.hugeValues !== false) {
        for (const c of await hugeValues(client, db)) huge.push(`${name}.${c}`);
      }
      await client.query("ANALYZE");
    } finally {
      await client.end();
    }
  }
  return huge;
}
