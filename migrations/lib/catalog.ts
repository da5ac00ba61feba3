/**
 * Catalog introspection of one database: tables (with size, estimated rows, primary key and
 * columns), sequences, extensions, and the server's major version.
 */
import type { Client } from "pg";
import { qualified } from "./endpoint";

/** The tool's checkpoint schema on the target; never copied, verified or counted as data. */
export const CHECKPOINT_SCHEMA = "airbyte_migrate";

export interface Column {
  name: string;
  /** GENERATED ALWAYS AS (...) STORED: not written by COPY FROM. */
  generated: boolean;
  /**
   * The binary COPY form is the same on any server: built-in types (their OIDs are fixed) and
   * enums. Arrays or composites of user types embed OIDs that differ between servers; reg* types
   * are OIDs; some types have no binary form.
   */
  binarySafe: boolean;
  /** pg_type.typname of a built-in type (`int8`, `jsonb`, `_text`...); `user` for any other. */
  type: string;
}

export interface Table {
  schema: string;
  name: string;
  /** Estimated rows (reltuples; 0 when never analyzed). */
  estRows: number;
  /** Heap + TOAST bytes, the volume COPY reads. */
  bytes: number;
  /** Including indexes. */
  totalBytes: number;
  primaryKey: string[];
  /** Single integer primary key column, usable to split the table into ranges. */
  rangeKey?: string;
  columns: Column[];
}

export interface Sequence {
  schema: string;
  name: string;
}

export interface Extension {
  name: string;
  version: string;
}

const SYSTEM_SCHEMAS = `n.nspname NOT IN ('pg_catalog', 'information_schema', '${CHECKPOINT_SCHEMA}')
  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'`;

export function tableName(t: { schema: string; name: string }): string {
  return qualified(t.schema, t.name);
}

/** Short display name: `jobs` for public tables, `schema.table` otherwise. */
export function displayName(t: { schema: string; name: string }): string {
  return t.schema === "public" ? t.name : `${t.schema}.${t.name}`;
}

export async function serverMajor(client: Client): Promise<number> {
  const { rows } = await client.query<{ v: string }>(
    "SELECT current_setting('server_version_num') AS v",
  );
  return Math.floor(Number(rows[0].v) / 10000);
}

export async function serverVersion(client: Client): Promise<string> {
  const { rows } = await client.query<{ v: string }>(
    "SELECT current_setting('server_version') AS v",
  );
  return rows[0].v;
}

export async function listTables(client: Client): Promise<Table[]> {
  const { rows } = await client.query<{
    oid: string;
    schema: string;
    name: string;
    est_rows: string;
    bytes: string;
    total_bytes: string;
    pk: string[] | null;
    range_key: string | null;
  }>(`
    SELECT c.oid::int8 AS oid, n.nspname AS schema, c.relname AS name,
           greatest(c.reltuples, 0)::int8 AS est_rows,
           pg_table_size(c.oid) AS bytes, pg_total_relation_size(c.oid) AS total_bytes,
           (SELECT array_agg(a.attname::text ORDER BY k.ord)
              FROM pg_index i, unnest(i.indkey) WITH ORDINALITY k(attnum, ord), pg_attribute a
             WHERE i.indrelid = c.oid AND i.indisprimary
               AND a.attrelid = c.oid AND a.attnum = k.attnum) AS pk,
           (SELECT a.attname::text FROM pg_index i JOIN pg_attribute a
                ON a.attrelid = c.oid AND a.attnum = i.indkey[0]
             WHERE i.indrelid = c.oid AND i.indisprimary AND i.indnatts = 1
               AND a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)) AS range_key
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind = 'r' AND ${SYSTEM_SCHEMAS}
       AND NOT EXISTS (SELECT 1 FROM pg_depend d
                        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
     ORDER BY pg_table_size(c.oid) DESC, n.nspname, c.relname`);
  const columns = await listColumns(
    client,
    rows.map((r) => r.oid),
  );
  return rows.map((r) => ({
    schema: r.schema,
    name: r.name,
    estRows: Number(r.est_rows),
    bytes: Number(r.bytes),
    totalBytes: Number(r.total_bytes),
    primaryKey: r.pk ?? [],
    rangeKey: r.range_key ?? undefined,
    columns: columns.get(r.oid) ?? [],
  }));
}

async function listColumns(client: Client, oids: string[]): Promise<Map<string, Column[]>> {
  const { rows } = await client.query<{
    oid: string;
    name: string;
    generated: boolean;
    binary_safe: boolean;
    type: string;
  }>(
    `SELECT a.attrelid::int8 AS oid, a.attname AS name, a.attgenerated <> '' AS generated,
            CASE WHEN t.typnamespace = 'pg_catalog'::regnamespace THEN t.typname::text
                 ELSE 'user' END AS type,
            (t.typtype = 'e' OR (t.typnamespace = 'pg_catalog'::regnamespace
              AND t.typname !~ '^_?reg' AND t.typreceive::oid <> 0 AND t.typsend::oid <> 0
              AND (t.typelem = 0 OR EXISTS (
                    SELECT 1 FROM pg_type e WHERE e.oid = t.typelem
                       AND e.typnamespace = 'pg_catalog'::regnamespace AND e.typname !~ '^reg'
                       AND e.typreceive::oid <> 0 AND e.typsend::oid <> 0)))) AS binary_safe
       FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
      WHERE a.attrelid = ANY($1::int8[]::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attrelid, a.attnum`,
    [oids],
  );
  const byTable = new Map<string, Column[]>();
  for (const r of rows) {
    const list = byTable.get(r.oid) ?? [];
    list.push({
      name: r.name,
      generated: r.generated,
      binarySafe: r.binary_safe,
      type: r.type,
    });
    byTable.set(r.oid, list);
  }
  return byTable;
}

export async function listSequences(client: Client): Promise<Sequence[]> {
  const { rows } = await client.query<Sequence>(`
    SELECT n.nspname AS schema, c.relname AS name
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind = 'S' AND ${SYSTEM_SCHEMAS}
     ORDER BY 1, 2`);
  return rows;
}

export async function listExtensions(client: Client): Promise<Extension[]> {
  const { rows } = await client.query<Extension>(
    "SELECT extname AS name, extversion AS version FROM pg_extension ORDER BY 1",
  );
  return rows;
}

/** Number of relations (tables, views, sequences...) outside the system and checkpoint schemas. */
export async function countUserRelations(client: Client): Promise<number> {
  const { rows } = await client.query<{ n: string }>(`
    SELECT count(*) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND ${SYSTEM_SCHEMAS}`);
  return Number(rows[0].n);
}

export async function hasCheckpointSchema(client: Client): Promise<boolean> {
  const { rows } = await client.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [
    CHECKPOINT_SCHEMA,
  ]);
  return rows.length > 0;
}

/** Tables the user cannot read (SELECT privilege missing). */
export async function unreadableTables(client: Client): Promise<string[]> {
  const { rows } = await client.query<{ t: string }>(`
    SELECT format('%I.%I', n.nspname, c.relname) AS t
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'S') AND ${SYSTEM_SCHEMAS}
       AND NOT has_table_privilege(c.oid, 'SELECT')
     ORDER BY 1`);
  return rows.map((r) => r.t);
}
