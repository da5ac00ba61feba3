/**
 * The data phase: rows streamed with COPY from source sessions (all in the exported snapshot)
 * into target sessions, over several connections, largest tasks first.
 *
 * Each task is one target transaction: a whole table is TRUNCATEd then loaded with
 * COPY ... FREEZE (rows written already frozen, so the first reads and vacuum do not rewrite
 * them), a key range is appended; either way the checkpoint row is marked in the same transaction,
 * so a kill leaves each task either complete and marked or absent.
 */
import { pipeline } from "node:stream/promises";
import type { Client } from "pg";
import { from as copyFrom, to as copyTo } from "pg-copy-streams";
import { displayName, tableName } from "./catalog";
import { markTaskDone } from "./checkpoint";
import { connect, Endpoint, ident } from "./endpoint";
import { forEachParallel, openAll } from "./pool";
import type { Reporter, TableBar } from "./progress";
import { SESSION_SETTINGS, SourceSnapshot } from "./session";
import { rangeCondition, Task } from "./tasks";

/** Target session settings for bulk loading. */
const TARGET_LOAD_SETTINGS = `${SESSION_SETTINGS}; SET synchronous_commit = off`;

interface Worker {
  source: Client;
  target: Client;
}

export interface CopyDataOptions {
  snapshot: SourceSnapshot;
  target: Endpoint;
  targetDb: string;
  tasks: Task[];
  jobs: number;
  reporter: Reporter;
}

async function closeWorker(w: Worker): Promise<void> {
  await Promise.all([w.source.end().catch(() => undefined), w.target.end().catch(() => undefined)]);
}

/** Copy every task; resolves when all are committed on the target. */
export async function copyData(opts: CopyDataOptions): Promise<void> {
  const { tasks, reporter } = opts;
  if (tasks.length === 0) return;
  reporter.expectTotal(tasks.reduce((sum, t) => sum + t.estBytes, 0));
  const workers = await openAll(
    Math.min(opts.jobs, tasks.length),
    async () => {
      const source = await opts.snapshot.session();
      const target = await connect(opts.target, opts.targetDb).catch(async (err) => {
        await source.end();
        throw err;
      });
      await target.query(TARGET_LOAD_SETTINGS);
      return { source, target };
    },
    closeWorker,
  );
  const bars = new TableBars(opts.targetDb, tasks, reporter);
  try {
    await forEachParallel(tasks, workers, (task, worker) => copyTask(task, worker, bars));
  } finally {
    await Promise.all(workers.map(closeWorker));
  }
}

/** One progress bar per table, however many parts of it are in flight. */
class TableBars {
  private bars = new Map<string, { bar: TableBar; left: number; rows: number }>();
  private partsLeft = new Map<string, number>();

  constructor(
    private database: string,
    tasks: Task[],
    private reporter: Reporter,
  ) {
    for (const t of tasks) {
      const k = tableName(t.table);
      this.partsLeft.set(k, (this.partsLeft.get(k) ?? 0) + 1);
    }
  }

  start(task: Task): TableBar {
    const k = tableName(task.table);
    let entry = this.bars.get(k);
    if (!entry) {
      const left = this.partsLeft.get(k) ?? 1;
      const bar = this.reporter.table(
        this.database,
        displayName(task.table),
        task.estBytes * left,
        (task.table.estRows * left) / task.parts,
      );
      entry = { bar, left, rows: 0 };
      this.bars.set(k, entry);
    }
    const e = entry;
    return {
      add: (n) => e.bar.add(n),
      done: (rows) => {
        e.rows += rows;
        if (--e.left === 0) e.bar.done(e.rows);
      },
    };
  }
}

function copyFormat(task: Task): string {
  return task.table.columns.every((c) => c.binarySafe) ? "binary" : "text";
}

async function copyTask(task: Task, worker: Worker, bars: TableBars): Promise<void> {
  const table = tableName(task.table);
  const columns = task.table.columns
    .filter((c) => !c.generated)
    .map((c) => ident(c.name))
    .join(", ");
  const format = copyFormat(task);
  const range = rangeCondition(task);
  const sourceSql = range
    ? `COPY (SELECT ${columns} FROM ONLY ${table} WHERE ${range}) TO STDOUT (FORMAT ${format})`
    : `COPY ${table} (${columns}) TO STDOUT (FORMAT ${format})`;
  const freeze = range ? "" : ", FREEZE";
  const targetSql = `COPY ${table} (${columns}) FROM STDIN (FORMAT ${format}${freeze})`;

  const bar = bars.start(task);
  const { target, source } = worker;
  await target.query("BEGIN");
  try {
    // TRUNCATE makes a redone table start empty and allows FREEZE.
    if (!range) await target.query(`TRUNCATE ONLY ${table}`);
    const from = source.query(copyTo(sourceSql));
    const into = target.query(copyFrom(targetSql));
    from.on("data", (chunk: Buffer) => bar.add(chunk.length));
    await pipeline(from, into);
    await markTaskDone(
      target,
      {
        schema: task.table.schema,
        table: task.table.name,
        part: task.part,
        lo: task.lo,
        hi: task.hi,
        done: true,
      },
      into.rowCount,
    );
    await target.query("COMMIT");
    bar.done(into.rowCount);
  } catch (err) {
    await target.query("ROLLBACK").catch(() => undefined);
    throw err;
  }
}
