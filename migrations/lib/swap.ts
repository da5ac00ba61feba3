/**
 * `copy --swap`: the periodic copy that never damages the previous good copy.
 *
 * Each database `<name>` is copied into `<name>__staging` and verified; only when every staging
 * copy verifies are they swapped in, all in ONE transaction on the maintenance connection
 * (`<name>` -> `<name>__previous`, `<name>__staging` -> `<name>`; ALTER DATABASE ... RENAME is
 * transactional), after which the `__previous` databases are dropped. Until that commit `<name>`
 * is untouched, so a run that fails or is killed at any earlier point leaves it as it was.
 *
 * Leftovers are cleaned at the start of the next run: a `__staging` database made by this tool
 * (it carries a marker comment) or an empty one is dropped and redone from a fresh snapshot (not
 * resumed: a resumed copy would mix two instants of a source that keeps writing); a
 * `__previous` database is dropped once `<name>` exists (the rename committed, only the drop
 * was missed).
 */
import type { Client } from "pg";
import { countUserRelations } from "./catalog";
import type { Context } from "./context";
import { connect, describe, ident } from "./endpoint";
import { MigrateError, pgErrorInfo } from "./errors";
import { DatabasePair, PREVIOUS_SUFFIX, STAGING_SUFFIX } from "./options";
import type { Reporter } from "./progress";
import { createDatabase, databaseLocale, dropDatabase, existingDatabases } from "./servers";
import { mergeResults, VerifyResult } from "./verify";

export interface SwapNames {
  source: string;
  live: string;
  staging: string;
  previous: string;
}

export function swapNames(pair: DatabasePair): SwapNames {
  return {
    source: pair.source,
    live: pair.target,
    staging: pair.target + STAGING_SUFFIX,
    previous: pair.target + PREVIOUS_SUFFIX,
  };
}

/** Marker comment on a staging database: proves it is ours to drop. */
function stagingMarker(live: string): string {
  return `airbyte-migrate staging copy of "${live}"; replaces it once verified`;
}

/** Arbitrary first key of this tool's advisory locks (second key: hash of the database name). */
const LOCK_CLASS = 0x41424d;

/**
 * One --swap run per live database at a time (two overlapping CronJob runs would drop each
 * other's staging copy). Session-level locks: released when the maintenance connection closes.
 */
async function lockDatabases(ctx: Context, names: SwapNames[]): Promise<void> {
  for (const n of names) {
    const { rows } = await ctx.targetAdmin.query<{ ok: boolean }>(
      "SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok",
      [LOCK_CLASS, n.live],
    );
    if (!rows[0].ok) {
      throw new MigrateError(
        `another airbyte-migrate --swap run is copying into "${n.live}" on the ` +
          `${describe(ctx.opts.target)}: wait for it to finish (a CronJob should use ` +
          `concurrencyPolicy: Forbid)`,
      );
    }
  }
}

export interface Session {
  database: string;
  pid: number;
  user: string | null;
  application: string;
}

/** Sessions other than ours on any of `databases`. */
export async function otherSessions(admin: Client, databases: string[]): Promise<Session[]> {
  const { rows } = await admin.query<Session>(
    `SELECT datname AS database, pid, usename AS "user", application_name AS application
       FROM pg_stat_activity WHERE datname = ANY($1) AND pid <> pg_backend_pid() ORDER BY 1, 2`,
    [databases],
  );
  return rows;
}

function sessionList(sessions: Session[]): string {
  return sessions
    .map(
      (s) =>
        `"${s.database}": pid ${s.pid}, user "${s.user ?? "?"}", application ` +
        `"${s.application || "(none)"}"`,
    )
    .join("; ");
}

function inUseError(ctx: Context, sessions: Session[]): MigrateError {
  return new MigrateError(
    `cannot swap: other sessions use the database(s) on the ${describe(ctx.opts.target)} ` +
      `(${sessionList(sessions)}); renaming a database needs it unused. Stop those clients (the ` +
      `v1 replica must be standby, with nothing connected), or pass --terminate-sessions`,
  );
}

/** Terminate `sessions`; the rename then waits (up to 5 s) for them to exit. */
async function terminate(ctx: Context, sessions: Session[], reporter: Reporter): Promise<void> {
  if (sessions.length === 0) return;
  reporter.warn(`terminating ${sessions.length} session(s): ${sessionList(sessions)}`);
  const { rows } = await ctx.targetAdmin.query<{ pid: number; ok: boolean }>(
    "SELECT pid, pg_terminate_backend(pid) AS ok FROM unnest($1::int[]) pid",
    [sessions.map((s) => s.pid)],
  );
  const refused = rows.filter((r) => !r.ok).map((r) => r.pid);
  if (refused.length > 0) {
    throw new MigrateError(
      `could not terminate session(s) ${refused.join(", ")} on the ${describe(ctx.opts.target)}: ` +
        `user "${ctx.opts.target.user}" may only end sessions of roles it is a member of; ` +
        `GRANT pg_signal_backend TO "${ctx.opts.target.user}", or stop those clients`,
    );
  }
}

async function requireRoleRights(ctx: Context): Promise<void> {
  const { opts, targetAdmin } = ctx;
  const where = `the ${describe(opts.target)}`;
  const { rows } = await targetAdmin.query<{ createdb: boolean }>(
    "SELECT rolcreatedb OR rolsuper AS createdb FROM pg_roles WHERE rolname = current_user",
  );
  if (!rows[0]?.createdb) {
    throw new MigrateError(
      `--swap creates and renames databases, but user "${opts.target.user}" lacks CREATEDB on ` +
        `${where}: ALTER ROLE "${opts.target.user}" CREATEDB`,
    );
  }
  if (opts.owner === undefined) return;
  // Renaming and dropping need the owner's privileges (INHERIT); creating objects as the owner
  // needs SET ROLE to it (a separate right from PostgreSQL 16).
  // pg_has_role with a list of rights is true if ANY is held: test each one.
  const rights = ctx.targetInfo.major >= 16 ? ["USAGE", "SET"] : ["USAGE"];
  const check = await targetAdmin.query<{ ok: boolean }>(
    `SELECT ${rights.map((r) => `pg_has_role(current_user, oid, '${r}')`).join(" AND ")} AS ok
       FROM pg_roles WHERE rolname = $1`,
    [opts.owner],
  );
  if (check.rows.length === 0) {
    throw new MigrateError(
      `--owner role "${opts.owner}" does not exist on ${where}: create it (Airbyte's login role) ` +
        `or fix --owner`,
    );
  }
  if (!check.rows[0].ok) {
    throw new MigrateError(
      `user "${opts.target.user}" is not a member of --owner role "${opts.owner}" on ${where} ` +
        `(with INHERIT and SET): GRANT "${opts.owner}" TO "${opts.target.user}"`,
    );
  }
}

/** Owners of existing live databases must be roles this user acts for (to rename them). */
async function requireLiveOwnership(ctx: Context, names: SwapNames[]): Promise<void> {
  const { rows } = await ctx.targetAdmin.query<{ name: string; owner: string; ok: boolean }>(
    `SELECT datname AS name, pg_get_userbyid(datdba) AS owner,
            pg_has_role(current_user, datdba, 'USAGE') AS ok
       FROM pg_database WHERE datname = ANY($1)`,
    [names.map((n) => n.live)],
  );
  const owner = ctx.opts.owner ?? ctx.opts.target.user;
  for (const r of rows.filter((x) => !x.ok)) {
    throw new MigrateError(
      `database "${r.name}" on the ${describe(ctx.opts.target)} belongs to "${r.owner}", whose ` +
        `privileges user "${ctx.opts.target.user}" lacks, so --swap cannot rename it: ` +
        `ALTER DATABASE "${r.name}" OWNER TO "${owner}"`,
    );
  }
}

async function databaseComment(admin: Client, name: string): Promise<string | null | undefined> {
  const { rows } = await admin.query<{ comment: string | null }>(
    "SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1",
    [name],
  );
  return rows.length === 0 ? undefined : rows[0].comment;
}

/** Drop a killed run's staging database; refuse one this tool did not make. */
async function dropLeftoverStaging(ctx: Context, n: SwapNames, reporter: Reporter): Promise<void> {
  const comment = await databaseComment(ctx.targetAdmin, n.staging);
  if (comment === undefined) return;
  if (comment !== stagingMarker(n.live)) {
    const client = await connect(ctx.opts.target, n.staging);
    const relations = await countUserRelations(client).finally(() => client.end());
    if (relations > 0) {
      throw new MigrateError(
        `database "${n.staging}" on the ${describe(ctx.opts.target)} holds data but was not made ` +
          `by airbyte-migrate --swap: --swap needs that name for its staging copy; rename or ` +
          `drop it`,
      );
    }
  }
  reporter.info(`dropping "${n.staging}", left by an earlier run that did not finish`);
  // Its only sessions can be a killed run's lingering ones: ours to end.
  await dropDatabase(ctx.targetAdmin, ctx.opts.target, n.staging, true);
}

/** A `__previous` left by a run that committed its swap but was stopped before the drop. */
async function dropLeftoverPrevious(
  ctx: Context,
  n: SwapNames,
  present: Set<string>,
  reporter: Reporter,
): Promise<void> {
  if (!present.has(n.previous)) return;
  if (!present.has(n.live)) {
    throw new MigrateError(
      `"${n.previous}" exists on the ${describe(ctx.opts.target)} but "${n.live}" does not: an ` +
        `earlier swap was interrupted by hand? Rename it back (ALTER DATABASE "${n.previous}" ` +
        `RENAME TO "${n.live}") or drop it, then run again`,
    );
  }
  reporter.info(`dropping "${n.previous}", the copy replaced by an earlier run`);
  await dropDatabase(ctx.targetAdmin, ctx.opts.target, n.previous, ctx.opts.terminateSessions);
}

async function createStaging(ctx: Context, n: SwapNames): Promise<void> {
  await createDatabase(
    ctx.targetAdmin,
    ctx.opts.target,
    n.staging,
    await databaseLocale(ctx.sourceAdmin, n.source),
    ctx.opts.owner,
  );
  await ctx.targetAdmin.query(
    `COMMENT ON DATABASE ${ident(n.staging)} IS ${literal(stagingMarker(n.live))}`,
  );
}

function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/**
 * SQL that gives `to` the database-level settings of `from`: privileges, per-database
 * settings, connection limit and comment. Whoever manages the live database (Pulumi) then
 * sees no drift after a swap. Per-role-in-database settings are left alone (they need
 * CREATEROLE); a warning names them.
 */
async function carryOverSql(
  ctx: Context,
  from: string,
  to: string,
  reporter: Reporter,
): Promise<string[]> {
  const admin = ctx.targetAdmin;
  const db = await admin.query<{
    acl: string[] | null;
    connlimit: number;
    comment: string | null;
  }>(
    `SELECT datacl::text[] AS acl, datconnlimit AS connlimit,
            shobj_description(oid, 'pg_database') AS comment
       FROM pg_database WHERE datname = $1`,
    [from],
  );
  const sql: string[] = [];
  const d = db.rows[0];
  if (!d) {
    // No live database yet: nothing to carry, only the marker to remove.
    return [`COMMENT ON DATABASE ${ident(to)} IS NULL`];
  }
  const target = ident(to);
  if (d.acl !== null) {
    const grants = await admin.query<{ grantee: string; privilege: string; grantable: boolean }>(
      `SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee))
              END AS grantee, a.privilege_type AS privilege, a.is_grantable AS grantable
         FROM pg_database d, aclexplode(d.datacl) a WHERE d.datname = $1`,
      [from],
    );
    sql.push(`REVOKE ALL ON DATABASE ${target} FROM PUBLIC`);
    for (const g of grants.rows) {
      sql.push(
        `GRANT ${g.privilege} ON DATABASE ${target} TO ${g.grantee}` +
          (g.grantable ? " WITH GRANT OPTION" : ""),
      );
    }
  }
  sql.push(`ALTER DATABASE ${target} CONNECTION LIMIT ${d.connlimit}`);
  sql.push(`COMMENT ON DATABASE ${target} IS ${d.comment === null ? "NULL" : literal(d.comment)}`);
  const settings = await admin.query<{ role: string | null; setting: string }>(
    `SELECT CASE WHEN s.setrole = 0 THEN NULL ELSE pg_get_userbyid(s.setrole) END AS role,
            unnest(s.setconfig) AS setting
       FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
      WHERE d.datname = $1`,
    [from],
  );
  for (const s of settings.rows) {
    const eq = s.setting.indexOf("=");
    const [name, value] = [s.setting.slice(0, eq), s.setting.slice(eq + 1)];
    if (s.role === null) {
      sql.push(`ALTER DATABASE ${target} SET ${ident(name)} = ${literal(value)}`);
    } else {
      reporter.warn(
        `"${from}" has a setting for role "${s.role}" (${name}) that the swap does not carry ` +
          `over: ALTER ROLE "${s.role}" IN DATABASE "${from}" SET ${name} = ... again after it`,
      );
    }
  }
  return sql;
}

/** The renames (and carried-over settings) of every database, in one transaction. */
async function swapAll(
  ctx: Context,
  names: SwapNames[],
  present: Set<string>,
  reporter: Reporter,
): Promise<void> {
  const admin = ctx.targetAdmin;
  const involved = names.flatMap((n) => [n.live, n.staging]);
  // Terminated clients may reconnect before the rename: try a few times.
  const attempts = ctx.opts.terminateSessions ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    const statements: string[] = [];
    for (const n of names) {
      statements.push(...(await carryOverSql(ctx, n.live, n.staging, reporter)));
      if (present.has(n.live)) {
        statements.push(`ALTER DATABASE ${ident(n.live)} RENAME TO ${ident(n.previous)}`);
      }
      statements.push(`ALTER DATABASE ${ident(n.staging)} RENAME TO ${ident(n.live)}`);
    }
    const sessions = await otherSessions(admin, involved);
    if (sessions.length > 0 && !ctx.opts.terminateSessions) throw inUseError(ctx, sessions);
    await terminate(ctx, sessions, reporter);
    await admin.query("BEGIN");
    try {
      for (const sql of statements) await admin.query(sql);
      await admin.query("COMMIT");
      return;
    } catch (err) {
      await admin.query("ROLLBACK").catch(() => undefined);
      // 55006: object in use (a session connected between our check and the rename).
      if (pgErrorInfo(err).code === "55006") {
        const now = await otherSessions(admin, involved);
        if (attempt < attempts && now.length > 0) continue;
        throw inUseError(ctx, now);
      }
      throw new MigrateError(
        `swapping in the new copy failed on the ${describe(ctx.opts.target)}, nothing renamed: ` +
          `${pgErrorInfo(err).message}`,
      );
    }
  }
}

/**
 * Run `copyOne` into a staging database per pair, then swap all of them in when every copy
 * verified. Returns the merged verify result (databases named by their live name).
 */
export async function swapCopy(
  ctx: Context,
  reporter: Reporter,
  copyOne: (pair: DatabasePair) => Promise<VerifyResult>,
): Promise<VerifyResult> {
  const { opts } = ctx;
  const names = opts.databases.map(swapNames);
  const used = names.flatMap((n) => [n.live, n.staging, n.previous]);
  const maintenance = used.find((d) => d === opts.target.maintenanceDb);
  if (maintenance !== undefined) {
    throw new MigrateError(
      `--swap must rename or drop "${maintenance}", the database of ${opts.target.origin}: ` +
        `point that URL at another database, e.g. /postgres`,
    );
  }
  await requireRoleRights(ctx);
  await lockDatabases(ctx, names);
  const present = await existingDatabases(ctx.targetAdmin, used);
  await requireLiveOwnership(ctx, names);
  // Fail before a long copy rather than after it.
  const early = await otherSessions(
    ctx.targetAdmin,
    names.map((n) => n.live),
  );
  if (early.length > 0 && !opts.terminateSessions) throw inUseError(ctx, early);

  const results: VerifyResult[] = [];
  for (const n of names) {
    await dropLeftoverPrevious(ctx, n, present, reporter);
    await dropLeftoverStaging(ctx, n, reporter);
    await createStaging(ctx, n);
    const result = await copyOne({ source: n.source, target: n.staging });
    results.push(relabel(result, n.staging, n.live));
    if (!result.ok) break;
  }
  const merged = mergeResults(results);
  if (!merged.ok) {
    reporter.warn(
      `verify found differences: nothing swapped, ${names.map((n) => `"${n.live}"`).join(", ")} ` +
        `left as they were (the staging copies stay for inspection until the next run)`,
    );
    return merged;
  }
  reporter.phase(names.map((n) => n.live).join(","), "swap: renaming the verified copies in");
  await swapAll(ctx, names, present, reporter);
  reporter.info(`swapped in ${names.map((n) => `"${n.live}"`).join(", ")}`);
  const now = await existingDatabases(
    ctx.targetAdmin,
    names.map((n) => n.previous),
  );
  for (const n of names.filter((x) => now.has(x.previous))) {
    try {
      await dropDatabase(ctx.targetAdmin, opts.target, n.previous, opts.terminateSessions);
    } catch (err) {
      // The swap itself is done; the next run drops it.
      reporter.warn(
        `could not drop "${n.previous}" (${(err as Error).message}): the next run will`,
      );
    }
  }
  return merged;
}

function relabel(result: VerifyResult, from: string, to: string): VerifyResult {
  const name = (d: string) => (d === from ? to : d);
  return {
    ok: result.ok,
    tables: result.tables.map((t) => ({ ...t, database: name(t.database) })),
    sequences: result.sequences.map((s) => ({ ...s, database: name(s.database) })),
  };
}
