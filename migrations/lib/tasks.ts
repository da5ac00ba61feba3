/**
 * Units of copy and verify work: a whole table, or one key range of a large table with a single
 * integer primary key, so one big table (Airbyte's `attempts` or `jobs`) is spread over all
 * connections instead of leaving the others idle.
 */
import type { Client } from "pg";
import { ident, qualified } from "./endpoint";
import type { StoredTask } from "./checkpoint";
import type { Table } from "./catalog";

export interface Task {
  table: Table;
  part: number;
  /** Number of parts of this table. */
  parts: number;
  lo: string | null;
  hi: string | null;
  /** Expected share of the table's bytes. */
  estBytes: number;
}

/** Tables at least twice `splitBytes` with a single integer key are split in ~`splitBytes` parts. */
export async function planTasks(
  snapshotClient: Client,
  tables: Table[],
  splitBytes: number,
): Promise<StoredTask[]> {
  const out: StoredTask[] = [];
  for (const t of tables) {
    const whole = { schema: t.schema, table: t.name, part: 0, lo: null, hi: null, done: false };
    if (!t.rangeKey || t.bytes < 2 * splitBytes) {
      out.push(whole);
      continue;
    }
    const key = ident(t.rangeKey);
    const { rows } = await snapshotClient.query<{ lo: string | null; hi: string | null }>(
      `SELECT min(${key})::text AS lo, max(${key})::text AS hi FROM ONLY ${qualified(t.schema, t.name)}`,
    );
    const { lo, hi } = rows[0];
    const parts = Math.min(64, Math.ceil(t.bytes / splitBytes));
    if (lo === null || hi === null || BigInt(hi) - BigInt(lo) < BigInt(parts)) {
      out.push(whole);
      continue;
    }
    const min = BigInt(lo);
    const span = BigInt(hi) - min + 1n;
    // Open ends: rows outside today's [min, max] (a resumed run's new snapshot) still land in a part.
    const bounds = Array.from({ length: parts - 1 }, (_, i) =>
      (min + (span * BigInt(i + 1)) / BigInt(parts)).toString(),
    );
    for (let i = 0; i < parts; i++) {
      out.push({
        schema: t.schema,
        table: t.name,
        part: i,
        lo: i === 0 ? null : bounds[i - 1],
        hi: i === parts - 1 ? null : bounds[i],
        done: false,
      });
    }
  }
  return out;
}

/** Attach catalog facts to stored tasks; largest first so big tables start early. */
export function resolveTasks(stored: StoredTask[], tables: Table[]): Task[] {
  const byName = new Map(tables.map((t) => [`${t.schema}.${t.name}`, t]));
  const parts = new Map<string, number>();
  for (const s of stored)
    parts.set(`${s.schema}.${s.table}`, (parts.get(`${s.schema}.${s.table}`) ?? 0) + 1);
  const tasks: Task[] = [];
  for (const s of stored) {
    const table = byName.get(`${s.schema}.${s.table}`);
    if (!table) continue;
    const n = parts.get(`${s.schema}.${s.table}`) ?? 1;
    tasks.push({ table, part: s.part, parts: n, lo: s.lo, hi: s.hi, estBytes: table.bytes / n });
  }
  return tasks.sort((a, b) => b.estBytes - a.estBytes);
}

/** SQL condition selecting a task's key range, or undefined for a whole table. */
export function rangeCondition(
  task: Pick<Task, "table" | "parts" | "lo" | "hi">,
  alias?: string,
): string | undefined {
  if (task.parts === 1 || !task.table.rangeKey) return undefined;
  const key = (alias ? `${alias}.` : "") + ident(task.table.rangeKey);
  const conds: string[] = [];
  if (task.lo !== null) conds.push(`${key} >= ${BigInt(task.lo).toString()}`);
  if (task.hi !== null) conds.push(`${key} < ${BigInt(task.hi).toString()}`);
  return conds.length > 0 ? conds.join(" AND ") : "true";
}
