/**
 * `copy`: for each database, in order: target prepared (created, refused, dropped or resumed),
 * snapshot exported on the source, schema pre-data, rows, post-data, sequences, verify against the
 * same snapshot, marked complete; the run's checkpoints are dropped once every database is done.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Client } from "pg";
import {
  countUserRelations,
  listSequences,
  listTables,
  Table,
  tableName,
  unreadableTables,
} from "./catalog";
import {
  addTasks,
  completedCopy,
  dropCheckpoints,
  ensureCheckpointSchema,
  loadTasks,
  markComplete,
  markPhase,
  phaseDone,
} from "./checkpoint";
import { Context, splitBytesFor, workEndpoint } from "./context";
import { copyData } from "./copy-data";
import { connect, describe, ident } from "./endpoint";
import { MigrateError } from "./errors";
import type { DatabasePair } from "./options";
import { dumpSchema, locatePgTools, PgTools, restoreSection } from "./pgtools";
import { restorePostData } from "./post-data";
import type { Reporter } from "./progress";
import { readSequences, setSequences } from "./sequences";
import {
  createDatabase,
  databaseLocale,
  databaseOwner,
  dropDatabase,
  targetState,
} from "./servers";
import { SESSION_SETTINGS, SourceSnapshot } from "./session";
import { swapCopy } from "./swap";
import { planTasks, resolveTasks } from "./tasks";
import { mergeResults, verifyDatabase, VerifyResult } from "./verify";

/** A database an earlier run of this copy finished, with the verify result it recorded. */
interface Finished {
  verify: VerifyResult | null;
}

/**
 * Create, refuse, drop or resume the target database; with --resume, a database an earlier run
 * finished (the run was killed in a later one) is returned as finished and left as it is.
 */
async function prepareTarget(
  ctx: Context,
  pair: DatabasePair,
  reporter: Reporter,
): Promise<Finished | undefined> {
  const { opts, targetAdmin } = ctx;
  const { state, relations } = await targetState(opts.target, targetAdmin, pair.target);
  const where = `database "${pair.target}" on the ${describe(opts.target)}`;
  if (state === "data" || state === "checkpoints") {
    if (opts.dropExisting) {
      reporter.info(`dropping ${where} (--drop-existing)`);
      await dropDatabase(targetAdmin, opts.target, pair.target);
    } else if (state === "data") {
      throw new MigrateError(
        `${where} already holds data (${relations} tables or other relations) and no checkpoint ` +
          `of an unfinished copy: pass --drop-existing to replace it, or choose another target`,
      );
    } else if (!opts.resume) {
      throw new MigrateError(
        `${where} holds an unfinished copy: pass --resume to finish it, or --drop-existing to start over`,
      );
    } else {
      const finished = await finishedEarlier(ctx, pair.target);
      reporter.info(
        finished
          ? `${where} was copied${finished.verify ? " and verified" : ""} by an earlier run of ` +
              `this copy: kept as it is`
          : `resuming the unfinished copy in ${where}`,
      );
      return finished;
    }
  }
  if (state !== "empty") {
    await createDatabase(
      targetAdmin,
      opts.target,
      pair.target,
      await databaseLocale(ctx.sourceAdmin, pair.source),
      opts.owner,
    );
  } else if (opts.owner !== undefined) {
    await giveDatabase(ctx, pair.target, opts.owner);
  }
  return undefined;
}

async function finishedEarlier(ctx: Context, database: string): Promise<Finished | undefined> {
  const client = await connect(workEndpoint(ctx.opts), database);
  try {
    // A checkpoint schema of an older run lacks the completion table: create it (empty).
    await ensureCheckpointSchema(client);
    const done = await completedCopy(client);
    return done ? { verify: (done.verify as VerifyResult | null) ?? null } : undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** An existing (empty) target database passes to --owner, as a created one would be. */
async function giveDatabase(ctx: Context, database: string, owner: string): Promise<void> {
  if ((await databaseOwner(ctx.targetAdmin, database)) === owner) return;
  try {
    await ctx.targetAdmin.query(`ALTER DATABASE ${ident(database)} OWNER TO ${ident(owner)}`);
  } catch (err) {
    throw new MigrateError(
      `cannot give database "${database}" on the ${describe(ctx.opts.target)} to --owner ` +
        `"${owner}" (${(err as Error).message}): ALTER DATABASE "${database}" OWNER TO "${owner}" ` +
        `as its owner or a superuser`,
    );
  }
}

function timed<T>(reporter: Reporter, label: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  return work().then((result) => {
    reporter.info(`${label} took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return result;
  });
}

async function copyRows(
  ctx: Context,
  pair: DatabasePair,
  snap: SourceSnapshot,
  target: Client,
  tables: Table[],
  reporter: Reporter,
): Promise<void> {
  const { opts } = ctx;
  let stored = await loadTasks(target);
  const planned = new Set(stored.map((s) => `${s.schema}.${s.table}`));
  const fresh = tables.filter((t) => !planned.has(`${t.schema}.${t.name}`));
  const split = splitBytesFor(opts, tables);
  if (fresh.length > 0) {
    const more = await planTasks(snap.client, fresh, split);
    await addTasks(target, more);
    stored = stored.concat(more);
  }
  const pending = resolveTasks(
    stored.filter((s) => !s.done),
    tables,
  );
  const finished = stored.length - stored.filter((s) => !s.done).length;
  reporter.phase(
    pair.target,
    `rows: ${pending.length} task(s) over ${opts.jobs} connection(s)` +
      (finished > 0 ? `, ${finished} finished by an earlier run` : ""),
  );
  await timed(reporter, `[${pair.target}] rows`, () =>
    copyData({
      snapshot: snap,
      target: workEndpoint(opts),
      targetDb: pair.target,
      tasks: pending,
      jobs: opts.jobs,
      reporter,
    }),
  );
}

/**
 * Copy one database into `pair.target` (prepared unless `prepared`); verify unless told not.
 * With `keepCheckpoints` its checkpoints stay, marked complete, until the caller's whole run is
 * done (dropRunCheckpoints), so a kill in a later database does not strand this one.
 */
export async function copyDatabase(
  ctx: Context,
  tools: PgTools,
  pair: DatabasePair,
  reporter: Reporter,
  prepared = false,
  keepCheckpoints = false,
): Promise<VerifyResult | undefined> {
  const { opts } = ctx;
  const work = workEndpoint(opts);
  reporter.phase(pair.target, `copy from source database "${pair.source}"`);
  if (!prepared) {
    const finished = await prepareTarget(ctx, pair, reporter);
    if (finished) return opts.verify ? (finished.verify ?? undefined) : undefined;
  }
  const target = await connect(work, pair.target);
  const snap = await SourceSnapshot.open(opts.source, pair.source);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "airbyte-migrate-"));
  try {
    await target.query(SESSION_SETTINGS);
    await ensureCheckpointSchema(target);
    const tables = await listTables(snap.client);
    const sequences = await listSequences(snap.client);
    const unreadable = await unreadableTables(snap.client);
    if (unreadable.length > 0) {
      throw new MigrateError(
        `user "${opts.source.user}" cannot read ${unreadable.join(", ")} in "${pair.source}" on the ` +
          `${describe(opts.source)}: GRANT SELECT ON ALL TABLES IN SCHEMA ... (and sequences) to it, ` +
          `or connect as the database owner`,
      );
    }
    // Keep DDL off these tables until the copy is done (ACCESS SHARE does not block writes).
    if (tables.length > 0) {
      await snap.client.query(
        `LOCK TABLE ${tables.map((t) => tableName(t)).join(", ")} IN ACCESS SHARE MODE`,
      );
    }

    const dumpFile = path.join(tmp, "schema.dump");
    reporter.phase(pair.target, "schema: pg_dump pre-data and post-data");
    await timed(reporter, `[${pair.target}] schema dump`, () =>
      dumpSchema(tools, opts.source, pair.source, snap.id, dumpFile),
    );
    // pre-data is one transaction: either all of it is there (a resumed run) or none.
    if ((await countUserRelations(target)) === 0) {
      await timed(reporter, `[${pair.target}] pre-data`, () =>
        restoreSection(tools, work, pair.target, dumpFile, {
          section: "pre-data",
          jobs: 1,
          keepOwners: opts.keepOwners,
        }),
      );
    }

    await copyRows(ctx, pair, snap, target, tables, reporter);

    if (!(await phaseDone(target, "post-data"))) {
      reporter.phase(pair.target, "indexes and constraints (post-data)");
      const { skipped } = await timed(reporter, `[${pair.target}] post-data`, () =>
        restorePostData({
          tools,
          target: work,
          targetDb: pair.target,
          targetClient: target,
          dumpFile,
          jobs: opts.jobs,
          keepOwners: opts.keepOwners,
        }),
      );
      if (skipped > 0) {
        reporter.info(
          `[${pair.target}] post-data: ${skipped} object(s) built by an earlier run kept`,
        );
      }
      await markPhase(target, "post-data");
    }

    reporter.phase(pair.target, `sequences (${sequences.length})`);
    const sequenceValues = await readSequences(snap.client, sequences);
    await setSequences(target, sequenceValues);
    if (!keepCheckpoints) await dropCheckpoints(target);

    if (!opts.verify) {
      if (keepCheckpoints) await markComplete(target, undefined);
      return undefined;
    }
    reporter.phase(pair.target, "verify");
    const result = await timed(reporter, `[${pair.target}] verify`, () =>
      verifyDatabase({
        snapshot: snap,
        tables,
        sequences,
        target: work,
        targetDb: pair.target,
        jobs: opts.jobs,
        splitBytes: splitBytesFor(opts, tables),
        sourceSequences: sequenceValues,
      }),
    );
    if (keepCheckpoints) {
      // A difference is not "finished": as before, the target is left as plain data.
      if (result.ok) await markComplete(target, result);
      else await dropCheckpoints(target);
    }
    return result;
  } finally {
    await snap.close();
    await target.end().catch(() => undefined);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export async function copyCommand(
  ctx: Context,
  reporter: Reporter,
): Promise<VerifyResult | undefined> {
  const tools = await locatePgTools(ctx.opts.pgDump, ctx.opts.pgDumpOrigin, ctx.sourceInfo.major);
  if (ctx.opts.swap) {
    return swapCopy(ctx, reporter, async (pair) => {
      const result = await copyDatabase(ctx, tools, pair, reporter, true);
      if (!result) throw new MigrateError("--swap copied without verifying");
      return result;
    });
  }
  const results: VerifyResult[] = [];
  for (const pair of ctx.opts.databases) {
    const result = await copyDatabase(ctx, tools, pair, reporter, false, true);
    if (result) results.push(result);
  }
  await dropRunCheckpoints(ctx);
  return ctx.opts.verify ? mergeResults(results) : undefined;
}

/** The whole run is done: every target holds only the source's objects again. */
async function dropRunCheckpoints(ctx: Context): Promise<void> {
  for (const pair of ctx.opts.databases) {
    const client = await connect(workEndpoint(ctx.opts), pair.target);
    try {
      await dropCheckpoints(client);
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}
