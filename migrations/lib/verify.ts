/**
 * Verification: per table, row count and a content checksum computed server-side on both sides;
 * per sequence, the target's next value at or past the source's.
 *
 * The checksum is order-independent: the sum of each row's md5 (of its text form, with session
 * settings that make text forms identical on any major), taken as two signed 64-bit halves.
 * jsonb columns enter the row as jsonb_hash_extended(value, 0) rather than their text: printing
 * jsonb is the costliest part of a text form, and that hash walks the stored form instead. It is
 * the hash-partitioning support function of jsonb, which PostgreSQL keeps stable across majors
 * (partitions survive pg_upgrade), so both sides agree. Large
 * tables are checked in key ranges in parallel, and source and target compute at the same time.
 * The source side reads the snapshot it is given: after `copy`, the copy's own snapshot, so a
 * source that kept taking writes still verifies equal.
 */
import type { Client } from "pg";
import { displayName, listTables, Sequence, Table, tableName } from "./catalog";
import { connect, Endpoint, ident, qualified } from "./endpoint";
import * as fmt from "./format";
import { forEachParallel, openAll } from "./pool";
import { nextValue, readSequences } from "./sequences";
import { SESSION_SETTINGS, SourceSnapshot } from "./session";
import { planTasks, rangeCondition, resolveTasks, Task } from "./tasks";

export interface TableCheck {
  database: string;
  table: string;
  sourceRows: number | null;
  targetRows: number | null;
  checksumEqual: boolean;
  ok: boolean;
}

export interface SequenceCheck {
  database: string;
  sequence: string;
  sourceNext: string;
  targetNext: string | null;
  ok: boolean;
}

export interface VerifyResult {
  tables: TableCheck[];
  sequences: SequenceCheck[];
  ok: boolean;
}

interface Sums {
  rows: bigint;
  a: bigint;
  b: bigint;
}

/** The row as hashed: every column, jsonb ones replaced by their 64-bit hash. */
function rowExpression(table: Table): string {
  const cols = table.columns.map((c) =>
    c.jsonb ? `jsonb_hash_extended(t.${ident(c.name)}, 0)` : `t.${ident(c.name)}`,
  );
  return cols.length > 0 ? `ROW(${cols.join(", ")})` : "ROW()";
}

function checksumSql(task: Task): string {
  const where = rangeCondition(task, "t");
  return `SELECT count(*)::text AS n,
                 coalesce(sum(('x' || substr(h, 1, 16))::bit(64)::int8), 0)::text AS a,
                 coalesce(sum(('x' || substr(h, 17, 16))::bit(64)::int8), 0)::text AS b
            FROM (SELECT md5(${rowExpression(task.table)}::text) AS h FROM ONLY ${tableName(task.table)} t
                  ${where ? `WHERE ${where}` : ""}) s`;
}

async function sums(client: Client, sql: string): Promise<Sums> {
  const { rows } = await client.query<{ n: string; a: string; b: string }>(sql);
  return { rows: BigInt(rows[0].n), a: BigInt(rows[0].a), b: BigInt(rows[0].b) };
}

function add(x: Sums, y: Sums): Sums {
  return { rows: x.rows + y.rows, a: x.a + y.a, b: x.b + y.b };
}

export interface VerifyOptions {
  snapshot: SourceSnapshot;
  tables: Table[];
  sequences: Sequence[];
  target: Endpoint;
  targetDb: string;
  jobs: number;
  splitBytes: number;
}

async function targetSession(ep: Endpoint, db: string): Promise<Client> {
  const c = await connect(ep, db);
  await c.query(`${SESSION_SETTINGS}; BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`);
  return c;
}

export async function verifyDatabase(opts: VerifyOptions): Promise<VerifyResult> {
  const { targetDb } = opts;
  const targetAdmin = await targetSession(opts.target, targetDb);
  try {
    const targetTables = await listTables(targetAdmin);
    const onTarget = new Set(targetTables.map((t) => tableName(t)));
    const present = opts.tables.filter((t) => onTarget.has(tableName(t)));
    const tasks = resolveTasks(
      await planTasks(opts.snapshot.client, present, opts.splitBytes),
      present,
    );

    const totals = new Map<string, { source: Sums; target: Sums }>();
    const zero = (): Sums => ({ rows: 0n, a: 0n, b: 0n });
    for (const t of present) totals.set(tableName(t), { source: zero(), target: zero() });
    const workers = await openAll(
      Math.min(opts.jobs, Math.max(1, tasks.length)),
      async () => ({
        source: await opts.snapshot.session(),
        target: await targetSession(opts.target, targetDb),
      }),
      async (w) => {
        await Promise.all([w.source.end(), w.target.end()]);
      },
    );
    try {
      await forEachParallel(tasks, workers, async (task, w) => {
        const sql = checksumSql(task);
        const [s, t] = await Promise.all([sums(w.source, sql), sums(w.target, sql)]);
        const entry = totals.get(tableName(task.table));
        if (!entry) return;
        entry.source = add(entry.source, s);
        entry.target = add(entry.target, t);
      });
    } finally {
      await Promise.all(workers.map((w) => Promise.all([w.source.end(), w.target.end()])));
    }

    const tables: TableCheck[] = opts.tables.map((t) => {
      const entry = totals.get(tableName(t));
      if (!entry) {
        return {
          database: targetDb,
          table: displayName(t),
          sourceRows: null,
          targetRows: null,
          checksumEqual: false,
          ok: false,
        };
      }
      const checksumEqual = entry.source.a === entry.target.a && entry.source.b === entry.target.b;
      const rowsEqual = entry.source.rows === entry.target.rows;
      return {
        database: targetDb,
        table: displayName(t),
        sourceRows: Number(entry.source.rows),
        targetRows: Number(entry.target.rows),
        checksumEqual,
        ok: checksumEqual && rowsEqual,
      };
    });
    const sourceNames = new Set(opts.tables.map((t) => tableName(t)));
    for (const t of targetTables) {
      if (!sourceNames.has(tableName(t))) {
        tables.push({
          database: targetDb,
          table: displayName(t),
          sourceRows: null,
          targetRows: t.estRows,
          checksumEqual: false,
          ok: false,
        });
      }
    }

    const sourceSeq = await readSequences(opts.snapshot.client, opts.sequences);
    const sequences: SequenceCheck[] = [];
    for (const s of sourceSeq) {
      const exists = await targetAdmin.query(`SELECT to_regclass($1) IS NOT NULL AS ok`, [
        qualified(s.schema, s.name),
      ]);
      const targetValue = exists.rows[0].ok
        ? (await readSequences(targetAdmin, [s]))[0]
        : undefined;
      const targetNext = targetValue ? nextValue(targetValue) : null;
      sequences.push({
        database: targetDb,
        sequence: displayName(s),
        sourceNext: nextValue(s).toString(),
        targetNext: targetNext === null ? null : targetNext.toString(),
        ok: targetNext !== null && targetNext >= nextValue(s),
      });
    }
    return { tables, sequences, ok: tables.every((t) => t.ok) && sequences.every((s) => s.ok) };
  } finally {
    await targetAdmin.end().catch(() => undefined);
  }
}

export function mergeResults(results: VerifyResult[]): VerifyResult {
  return {
    tables: results.flatMap((r) => r.tables),
    sequences: results.flatMap((r) => r.sequences),
    ok: results.every((r) => r.ok),
  };
}

export function formatVerify(result: VerifyResult): string {
  const rows = (n: number | null) => (n === null ? "missing" : fmt.count(n));
  const tableText = fmt.table(
    ["database", "table", "source rows", "target rows", "checksum", "result"],
    result.tables.map((t) => [
      t.database,
      t.table,
      rows(t.sourceRows),
      rows(t.targetRows),
      t.sourceRows === null || t.targetRows === null
        ? "-"
        : t.checksumEqual
          ? "equal"
          : "DIFFERENT",
      t.ok ? "ok" : "DIFFERENT",
    ]),
  );
  const seqText = fmt.table(
    ["database", "sequence", "source next", "target next", "result"],
    result.sequences.map((s) => [
      s.database,
      s.sequence,
      s.sourceNext,
      s.targetNext ?? "missing",
      s.ok ? "ok" : "BEHIND",
    ]),
  );
  const bad =
    result.tables.filter((t) => !t.ok).length + result.sequences.filter((s) => !s.ok).length;
  const summary = result.ok
    ? `verify: ${result.tables.length} tables and ${result.sequences.length} sequences equal`
    : `verify: ${bad} difference(s) found`;
  return `${tableText}\n\n${seqText}\n\n${summary}`;
}
