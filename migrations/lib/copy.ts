/**
 * `copy`: for each database, in order: target prepared (created, refused, dropped or resumed),
 * snapshot exported on the source, schema pre-data, rows, post-data, sequences, checkpoints
 * dropped, then verify against the same snapshot.
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
  dropCheckpoints,
  ensureCheckpointSchema,
  loadTasks,
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

/** Create, refuse, drop or resume the target database. */
async function prepareTarget(ctx: Context, pair: DatabasePair, reporter: Reporter): Promise<void> {
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
      reporter.info(`resuming the unfinished copy in ${where}`);
      return;
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

/** Copy one database into `pair.target` (prepared unless `prepared`); verify unless told not. */
export async function copyDatabase(
  ctx: Context,
  tools: PgTools,
  pair: DatabasePair,
  reporter: Reporter,
  prepared = false,
): Promise<VerifyResult | undefined> {
  const { opts } = ctx;
  const work = workEndpoint(opts);
  reporter.phase(pair.target, `copy from source database "${pair.source}"`);
  if (!prepared) await prepareTarget(ctx, pair, reporter);
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
    await dropCheckpoints(target);

    if (!opts.verify) return undefined;
    reporter.phase(pair.target, "verify");
    return await timed(reporter, `[${pair.target}] verify`, () =>
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
    const result = await copyDatabase(ctx, tools, pair, reporter);
    if (result) results.push(result);
  }
  return ctx.opts.verify ? mergeResults(results) : undefined;
}
