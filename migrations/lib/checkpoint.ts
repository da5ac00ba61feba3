/**
 * Per-table checkpoints kept on the target, in schema `airbyte_migrate` of each target database.
 *
 * The task list (whole tables, or key ranges of large tables) is written once, before any row is
 * copied; each task's row is marked done in the same transaction that copies its rows, so after a
 * kill a task is either fully copied and marked, or not there at all. A database whose copy is
 * finished (and verified) is marked complete with its verify result; the schemas of all the
 * run's databases are dropped when the whole run completes, so a run killed in its second or
 * third database resumes there and a finished target holds only the source's objects.
 */
import type { Client } from "pg";
import { CHECKPOINT_SCHEMA } from "./catalog";
import { ident } from "./endpoint";

const S = ident(CHECKPOINT_SCHEMA);

export interface StoredTask {
  schema: string;
  table: string;
  part: number;
  /** Key range [lo, hi) as decimal strings; null is unbounded. */
  lo: string | null;
  hi: string | null;
  done: boolean;
}

export type Phase = "post-data" | "sequences";

export async function ensureCheckpointSchema(client: Client): Promise<void> {
  await client.query(`
    CREATE SCHEMA IF NOT EXISTS ${S};
    COMMENT ON SCHEMA ${S} IS 'airbyte-migrate checkpoints of an unfinished copy; dropped when the copy completes';
    CREATE TABLE IF NOT EXISTS ${S}.task (
      schema_name text NOT NULL, table_name text NOT NULL, part integer NOT NULL,
      lo numeric, hi numeric, rows bigint, done_at timestamptz,
      PRIMARY KEY (schema_name, table_name, part));
    CREATE TABLE IF NOT EXISTS ${S}.phase (name text PRIMARY KEY, done_at timestamptz NOT NULL);
    CREATE TABLE IF NOT EXISTS ${S}.complete (done_at timestamptz NOT NULL, verify jsonb);`);
}

export async function loadTasks(client: Client): Promise<StoredTask[]> {
  const { rows } = await client.query<{
    schema_name: string;
    table_name: string;
    part: number;
    lo: string | null;
    hi: string | null;
    done: boolean;
  }>(`SELECT schema_name, table_name, part, lo::text, hi::text, done_at IS NOT NULL AS done
        FROM ${S}.task ORDER BY 1, 2, 3`);
  return rows.map((r) => ({
    schema: r.schema_name,
    table: r.table_name,
    part: r.part,
    lo: r.lo,
    hi: r.hi,
    done: r.done,
  }));
}

/** Record new tasks, all in one transaction. */
export async function addTasks(client: Client, tasks: StoredTask[]): Promise<void> {
  if (tasks.length === 0) return;
  await client.query(
    `INSERT INTO ${S}.task (schema_name, table_name, part, lo, hi)
     SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::numeric[], $5::numeric[])`,
    [
      tasks.map((t) => t.schema),
      tasks.map((t) => t.table),
      tasks.map((t) => t.part),
      tasks.map((t) => t.lo),
      tasks.map((t) => t.hi),
    ],
  );
}

/** Mark a task done; run it inside the transaction that copied the task's rows. */
export async function markTaskDone(client: Client, task: StoredTask, rows: number): Promise<void> {
  await client.query(
    `UPDATE ${S}.task SET done_at = now(), rows = $4
      WHERE schema_name = $1 AND table_name = $2 AND part = $3`,
    [task.schema, task.table, task.part, rows],
  );
}

export async function phaseDone(client: Client, phase: Phase): Promise<boolean> {
  const { rows } = await client.query(`SELECT 1 FROM ${S}.phase WHERE name = $1`, [phase]);
  return rows.length > 0;
}

export async function markPhase(client: Client, phase: Phase): Promise<void> {
  await client.query(`INSERT INTO ${S}.phase VALUES ($1, now()) ON CONFLICT DO NOTHING`, [phase]);
}

/**
 * Whether this database's copy finished in an earlier run, and the verify result it recorded
 * then (null when it ran without verify). Undefined when not finished.
 */
export async function completedCopy(client: Client): Promise<{ verify: unknown } | undefined> {
  const { rows } = await client.query<{ verify: unknown }>(
    `SELECT verify FROM ${S}.complete LIMIT 1`,
  );
  return rows[0];
}

/** Mark this database's copy finished (verified when `verify` is given). */
export async function markComplete(client: Client, verify: unknown): Promise<void> {
  await client.query(`INSERT INTO ${S}.complete VALUES (now(), $1::jsonb)`, [
    verify === undefined ? null : JSON.stringify(verify),
  ]);
}

export async function dropCheckpoints(client: Client): Promise<void> {
  await client.query(`DROP SCHEMA IF EXISTS ${S} CASCADE`);
}
