/**
 * `sync setup`: prod publishes, the hub subscribes and republishes, core-worker-01 subscribes to
 * the hub. Each step checks what exists first, so a second run on a set-up chain changes nothing
 * and says so, and a run interrupted half-way finishes the rest.
 *
 * Order matters:
 * 1. REPLICA IDENTITY FULL on prod's and the hub's tables without a primary key, before any
 *    publication lists them: from the moment a publication publishing UPDATE/DELETE includes
 *    such a table, UPDATEs and DELETEs on it fail ("cannot update table ... does not have a
 *    replica identity") - prod's own, and on the hub its apply worker's.
 * 2. Schema on the hub and core-worker-01 from pg_dump's pre-data and post-data (the copy
 *    machinery), post-data before any row arrives: the primary keys are the subscribers'
 *    replica identity indexes, without which UPDATE/DELETE cannot be applied.
 * 3. Publication on prod, subscription on the hub (initial rows by `copy_data`), publication on
 *    the hub, wait for the hub's copy, then core-worker-01's subscription to the hub. Waiting
 *    keeps core-worker-01 from copying half-filled hub tables and then receiving the rest as a
 *    stream of single inserts.
 * 4. Verify prod against core-worker-01 (row counts and checksums) at consistent points while
 *    prod keeps writing (verify-live.ts).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Client } from "pg";
import { connect, describe, Endpoint, ident } from "../lib/endpoint";
import { MigrateError } from "../lib/errors";
import { dumpSchema, locatePgTools, PgTools, restoreSection } from "../lib/pgtools";
import { subscriptionCreatorProblem } from "./majors";
import type { Reporter } from "../lib/progress";
import {
  checkMajors,
  createDatabase,
  databaseLocale,
  dropDatabase,
  serverInfo,
  targetState,
} from "../lib/servers";
import { SourceSnapshot } from "../lib/session";
import type { VerifyResult } from "../lib/verify";
import {
  connectDb,
  majorOf,
  NAMES,
  publicationTables,
  replicatedTables,
  requireLogical,
  setReplicaIdentityFull,
  subscriptionConninfo,
  subscriptionReady,
  subscriptionState,
  waitFor,
} from "./chain";
import type { ReplicationOptions } from "./options";
import { verifyLive } from "./verify-live";

export interface SetupResult {
  /** Steps that changed something; empty when the chain was already set up. */
  changed: string[];
  verify?: VerifyResult;
}

function requireHub(opts: ReplicationOptions): Endpoint {
  if (!opts.hub) throw new MigrateError("--hub-url (or HUB_DATABASE_URL) is required");
  return opts.hub;
}

/** One entry of a database's ACL other than its owner's; grantee `PUBLIC` or a quoted role. */
interface DatabaseGrant {
  grantee: string;
  privilege: string;
  grantable: boolean;
}

/**
 * The database's explicit privileges, or undefined when it has the defaults. Whoever created it
 * (ExternalDatabase on core-worker-01: PUBLIC's CONNECT revoked, CONNECT for the migration role)
 * declared them; a replaced database must keep them.
 */
async function databaseGrants(admin: Client, name: string): Promise<DatabaseGrant[] | undefined> {
  const { rows } = await admin.query<{ dflt: boolean }>(
    "SELECT datacl IS NULL AS dflt FROM pg_database WHERE datname = $1",
    [name],
  );
  if (rows.length === 0 || rows[0].dflt) return undefined;
  const acl = await admin.query<DatabaseGrant>(
    `SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee))
            END AS grantee, a.privilege_type AS privilege, a.is_grantable AS grantable
       FROM pg_database d, aclexplode(d.datacl) a
      WHERE d.datname = $1 AND a.grantee <> d.datdba ORDER BY 1, 2`,
    [name],
  );
  return acl.rows;
}

/** Give a re-created database the privileges its predecessor had (PUBLIC's included). */
async function restoreDatabaseGrants(
  admin: Client,
  name: string,
  grants: DatabaseGrant[],
): Promise<void> {
  await admin.query(`REVOKE ALL ON DATABASE ${ident(name)} FROM PUBLIC`);
  for (const g of grants) {
    await admin.query(
      `GRANT ${g.privilege} ON DATABASE ${ident(name)} TO ${g.grantee}` +
        (g.grantable ? " WITH GRANT OPTION" : ""),
    );
  }
}

/** Make the subscriber's database ready for the schema: created, or refused when it holds data. */
async function prepareSubscriberDb(
  opts: ReplicationOptions,
  ep: Endpoint,
  prodAdmin: Client,
  subscription: string,
  changed: string[],
  owner?: string,
): Promise<boolean> {
  const admin = await connect(ep, ep.maintenanceDb);
  let grants: DatabaseGrant[] | undefined;
  try {
    const { state, relations } = await targetState(ep, admin, opts.database);
    if (state === "data" || state === "checkpoints") {
      // A database this tool already subscribed keeps its rows: nothing to prepare.
      const db = await connectDb(ep, opts.database);
      try {
        if (await subscriptionState(db, subscription)) return false;
      } finally {
        await db.end();
      }
      if (!opts.dropExisting) {
        throw new MigrateError(
          `database "${opts.database}" on the ${describe(ep)} already holds data (${relations} ` +
            `relations) and no subscription ${subscription}: pass --drop-existing to replace it ` +
            `(its contents are lost), or point ${ep.origin} at another server`,
        );
      }
      grants = await databaseGrants(admin, opts.database);
      await dropDatabase(admin, ep, opts.database);
      changed.push(`dropped "${opts.database}" on the ${describe(ep)} (--drop-existing)`);
    }
    if (state !== "empty") {
      await createDatabase(
        admin,
        ep,
        opts.database,
        await databaseLocale(prodAdmin, opts.database),
        owner,
      );
      if (grants) await restoreDatabaseGrants(admin, opts.database, grants);
    }
    return true;
  } finally {
    await admin.end();
  }
}

/** Publications and subscriptions pg_dump carried over are prod's, not this server's: drop. */
async function dropCopiedReplicationObjects(db: Client): Promise<void> {
  const pubs = await db.query<{ n: string }>("SELECT pubname AS n FROM pg_publication");
  for (const p of pubs.rows) await db.query(`DROP PUBLICATION ${ident(p.n)}`);
  const subs = await db.query<{ n: string }>(
    `SELECT subname AS n FROM pg_subscription s JOIN pg_database d ON d.oid = s.subdbid
      WHERE d.datname = current_database()`,
  );
  for (const s of subs.rows) {
    await db.query(`ALTER SUBSCRIPTION ${ident(s.n)} DISABLE`);
    await db.query(`ALTER SUBSCRIPTION ${ident(s.n)} SET (slot_name = NONE)`);
    await db.query(`DROP SUBSCRIPTION ${ident(s.n)}`);
  }
}

async function restoreSchema(
  tools: PgTools,
  ep: Endpoint,
  database: string,
  dumpFile: string,
): Promise<void> {
  const common = { jobs: 1, keepOwners: false };
  await restoreSection(tools, ep, database, dumpFile, { ...common, section: "pre-data" });
  await restoreSection(tools, ep, database, dumpFile, { ...common, section: "post-data" });
  const db = await connectDb(ep, database);
  try {
    await dropCopiedReplicationObjects(db);
    // The hub applies UPDATE/DELETE on key-less tables that it republishes: same rule as prod.
    await setReplicaIdentityFull(db);
  } finally {
    await db.end();
  }
}

/** Create the publication, or add the tables it lacks (a table Airbyte added since). */
async function ensurePublication(
  db: Client,
  name: string,
  where: string,
  changed: string[],
): Promise<void> {
  const tables = await replicatedTables(db);
  // The same spelling as pg_publication_tables gives (quotes only where needed).
  const { rows } = await db.query<{ t: string }>(
    "SELECT format('%I.%I', s, n) AS t FROM unnest($1::text[], $2::text[]) AS x(s, n)",
    [tables.map((t) => t.schema), tables.map((t) => t.name)],
  );
  const wanted = rows.map((r) => r.t);
  const existing = await publicationTables(db, name);
  if (existing === undefined) {
    await db.query(`CREATE PUBLICATION ${ident(name)} FOR TABLE ${wanted.join(", ")}`);
    changed.push(`created publication ${name} on ${where} (${wanted.length} tables)`);
    return;
  }
  const have = new Set(existing);
  const missing = wanted.filter((t) => !have.has(t));
  if (missing.length > 0) {
    await db.query(`ALTER PUBLICATION ${ident(name)} ADD TABLE ${missing.join(", ")}`);
    changed.push(`added ${missing.join(", ")} to publication ${name} on ${where}`);
  }
}

/**
 * The apply worker's synchronous_commit. Subscriptions default to off, which suits a leaf
 * (core-worker-01): visibility does not wait for the flush. On the hub it would stall the second
 * hop: a walsender sends only flushed WAL, so each applied transaction would wait for the WAL
 * writer (up to wal_writer_delay, 200 ms; measured p50 156 ms on that hop). `local` flushes at
 * each commit without waiting for synchronous standbys.
 */
async function ensureSubscription(
  db: Client,
  name: string,
  conninfo: string,
  publication: string,
  where: string,
  changed: string[],
  syncCommit: "off" | "local",
): Promise<void> {
  const state = await subscriptionState(db, name);
  if (state) {
    const current = await db.query<{ c: string }>(
      "SELECT subsynccommit AS c FROM pg_subscription WHERE subname = $1",
      [name],
    );
    if (current.rows[0].c !== syncCommit) {
      await db.query(
        `ALTER SUBSCRIPTION ${ident(name)} SET (synchronous_commit = ${db.escapeLiteral(syncCommit)})`,
      );
      changed.push(`set synchronous_commit = ${syncCommit} on subscription ${name} (${where})`);
    }
    if (!state.enabled) {
      await db.query(`ALTER SUBSCRIPTION ${ident(name)} ENABLE`);
      changed.push(`enabled subscription ${name} on ${where}`);
    }
    // Tables added to the publication since are only picked up by a refresh.
    const { rows } = await db.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM pg_subscription_rel r JOIN pg_subscription s
          ON s.oid = r.srsubid WHERE s.subname = $1`,
      [name],
    );
    const published = await db.query<{ n: string }>(
      "SELECT count(*)::text AS n FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
    );
    if (Number(rows[0].n) < Number(published.rows[0].n)) {
      await db.query(`ALTER SUBSCRIPTION ${ident(name)} REFRESH PUBLICATION`);
      changed.push(`refreshed subscription ${name} on ${where}`);
    }
    return;
  }
  // PG16+ could filter out changes the publisher itself received by replication (origin=none);
  // the hub republishes exactly those, so core-worker-01 must take any origin.
  const origin = (await majorOf(db)) >= 16 ? ", origin = any" : "";
  await db.query(
    `CREATE SUBSCRIPTION ${ident(name)} CONNECTION ${db.escapeLiteral(conninfo)}
       PUBLICATION ${ident(publication)}
       WITH (copy_data = true, synchronous_commit = ${db.escapeLiteral(syncCommit)}${origin})`,
  );
  changed.push(`created subscription ${name} on ${where} (initial copy by copy_data)`);
}

/**
 * The role core-worker-01's subscription logs in to the hub as (--hub-subscriber-role): LOGIN
 * REPLICATION, its password set on every run (so a rotated secret takes effect), CONNECT on the
 * database and SELECT on what the hub publishes (the initial copy reads the tables).
 */
async function ensureHubSubscriber(
  admin: Client,
  db: Client,
  subscriber: { role: string; password: string },
  database: string,
  changed: string[],
): Promise<void> {
  const role = ident(subscriber.role);
  const exists = await admin.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [subscriber.role]);
  const verb = exists.rowCount ? "ALTER" : "CREATE";
  await admin.query(
    `${verb} ROLE ${role} LOGIN REPLICATION NOSUPERUSER NOCREATEDB NOCREATEROLE ` +
      `PASSWORD ${admin.escapeLiteral(subscriber.password)}`,
  );
  if (!exists.rowCount) changed.push(`created role ${subscriber.role} on the hub`);
  await admin.query(`GRANT CONNECT ON DATABASE ${ident(database)} TO ${role}`);
  const schemas = await db.query<{ n: string }>(
    `SELECT DISTINCT schemaname AS n FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1`,
    [NAMES.hubPublication],
  );
  for (const { n } of schemas.rows) {
    await db.query(`GRANT USAGE ON SCHEMA ${ident(n)} TO ${role}`);
    await db.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${ident(n)} TO ${role}`);
  }
}

async function waitReady(
  db: Client,
  name: string,
  where: string,
  timeoutS: number,
  reporter: Reporter,
): Promise<void> {
  const started = Date.now();
  if (!(await waitFor(() => subscriptionReady(db, name), timeoutS * 1000, 250))) {
    const s = await subscriptionState(db, name);
    throw new MigrateError(
      `subscription ${name} on ${where} has not finished its initial copy within ` +
        `${timeoutS} s (table states ${JSON.stringify(s?.states ?? {})}): raise --sync-timeout, ` +
        `or look at that server's log for apply errors, then run sync setup again`,
    );
  }
  reporter.info(`${name}: initial copy done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

export async function setupCommand(
  opts: ReplicationOptions,
  reporter: Reporter,
): Promise<SetupResult> {
  const hubEp = requireHub(opts);
  const changed: string[] = [];
  const prodAdmin = await connect(opts.prod, opts.prod.maintenanceDb);
  try {
    const hubAdmin = await connect(hubEp, hubEp.maintenanceDb);
    const replicaAdmin = await connect(opts.replica, opts.replica.maintenanceDb);
    try {
      const [pi, hi, ri] = await Promise.all([
        serverInfo(prodAdmin),
        serverInfo(hubAdmin),
        serverInfo(replicaAdmin),
      ]);
      checkMajors(pi, hi, opts.prod, hubEp);
      checkMajors(pi, ri, opts.prod, opts.replica);
      if (opts.replicaSubscription === "external" && opts.replicaSubscriptionCreator) {
        const problem = await subscriptionCreatorProblem(
          replicaAdmin,
          opts.replicaSubscriptionCreator,
          opts.database,
        );
        if (problem) throw new MigrateError(`${problem}; nothing was changed`);
      }
      await requireLogical(prodAdmin, opts.prod);
      await requireLogical(hubAdmin, hubEp);
    } finally {
      await Promise.all([hubAdmin.end(), replicaAdmin.end()]);
    }

    const needHubSchema = await prepareSubscriberDb(
      opts,
      hubEp,
      prodAdmin,
      NAMES.hubSubscription,
      changed,
    );
    const needReplicaSchema = await prepareSubscriberDb(
      opts,
      opts.replica,
      prodAdmin,
      NAMES.replicaSubscription,
      changed,
      opts.replicaOwner,
    );
    // Schema objects on core-worker-01 belong to --replica-owner (SET ROLE on connect, pg_restore
    // --role), so the replica's Airbyte owns its tables after a failover.
    const replicaEp: Endpoint =
      opts.replicaOwner === undefined
        ? opts.replica
        : { ...opts.replica, sessionRole: opts.replicaOwner };

    const prod = await connectDb(opts.prod, opts.database);
    const hub = await connectDb(hubEp, opts.database);
    const replica = await connectDb(opts.replica, opts.database);
    try {
      reporter.phase(opts.database, "replica identity on prod");
      const fixed = await setReplicaIdentityFull(prod);
      if (fixed.length > 0) {
        changed.push(`REPLICA IDENTITY FULL on prod: ${fixed.join(", ")}`);
      }

      if (needHubSchema || needReplicaSchema) {
        reporter.phase(opts.database, "schema: pg_dump pre-data and post-data");
        const tools = await locatePgTools(undefined, "PATH", await majorOf(prod));
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "airbyte-sync-"));
        try {
          const dumpFile = path.join(tmp, "schema.dump");
          const snap = await SourceSnapshot.open(opts.prod, opts.database);
          try {
            await dumpSchema(tools, opts.prod, opts.database, snap.id, dumpFile);
          } finally {
            await snap.close();
          }
          if (needHubSchema) {
            await restoreSchema(tools, hubEp, opts.database, dumpFile);
            changed.push(`schema restored on the ${describe(hubEp)}`);
          }
          if (needReplicaSchema) {
            await restoreSchema(tools, replicaEp, opts.database, dumpFile);
            changed.push(`schema restored on the ${describe(opts.replica)}`);
          }
        } finally {
          fs.rmSync(tmp, { recursive: true, force: true });
        }
      }

      // The hub republishes every table it has, so a key-less table it got by an upgrade's DDL
      // (not by this tool's schema restore) needs the same identity, or its apply worker stops
      // at the first UPDATE from prod. core-worker-01 publishes nothing: the identity FULL that
      // the hub sends is all it needs.
      const hubFixed = await setReplicaIdentityFull(hub);
      if (hubFixed.length > 0) {
        changed.push(`REPLICA IDENTITY FULL on the hub: ${hubFixed.join(", ")}`);
      }

      reporter.phase(opts.database, "publications and subscriptions");
      await ensurePublication(prod, NAMES.prodPublication, "prod", changed);
      await ensureSubscription(
        hub,
        NAMES.hubSubscription,
        subscriptionConninfo(opts.prodConninfoForHub, opts.prod, opts.database),
        NAMES.prodPublication,
        "the hub",
        changed,
        "local",
      );
      await ensurePublication(hub, NAMES.hubPublication, "the hub", changed);
      await waitReady(hub, NAMES.hubSubscription, "the hub", opts.syncTimeoutSeconds, reporter);
      if (opts.hubSubscriber) {
        const hubAdmin = await connect(hubEp, hubEp.maintenanceDb);
        try {
          await ensureHubSubscriber(hubAdmin, hub, opts.hubSubscriber, opts.database, changed);
        } finally {
          await hubAdmin.end();
        }
      }
      if (opts.replicaSubscription === "external") {
        // Pulumi creates core-worker-01's subscription (DESIGN D5) once this run succeeded; the
        // chain is verified by `sync status` afterwards.
        reporter.info(
          `${NAMES.replicaSubscription} on core-worker-01 is left to Pulumi ` +
            `(--replica-subscription external)`,
        );
        return { changed };
      }
      await ensureSubscription(
        replica,
        NAMES.replicaSubscription,
        subscriptionConninfo(opts.hubConninfoForReplica, hubEp, opts.database),
        NAMES.hubPublication,
        "core-worker-01",
        changed,
        "off",
      );
      await waitReady(
        replica,
        NAMES.replicaSubscription,
        "core-worker-01",
        opts.syncTimeoutSeconds,
        reporter,
      );

      reporter.phase(opts.database, "verify prod against core-worker-01");
      const verify = await verifyLive(
        {
          prod: opts.prod,
          hub: hubEp,
          replica: opts.replica,
          database: opts.database,
          rounds: 5,
          catchUpMs: 30_000,
        },
        reporter,
      );
      return { changed, verify };
    } finally {
      await Promise.all([prod.end(), hub.end(), replica.end()]);
    }
  } finally {
    await prodAdmin.end();
  }
}

export function formatSetup(result: SetupResult): string {
  const head =
    result.changed.length === 0
      ? "sync setup: the chain prod -> hub -> core-worker-01 was already set up; nothing changed"
      : `sync setup:\n${result.changed.map((c) => `  - ${c}`).join("\n")}`;
  const v = result.verify;
  const tail = v
    ? v.ok
      ? `verify: ${v.tables.length} tables equal on prod and core-worker-01`
      : `verify: ${v.tables.filter((t) => !t.ok).length} table(s) differ: ` +
        v.tables
          .filter((t) => !t.ok)
          .map((t) => `${t.table} (${t.sourceRows ?? "missing"} vs ${t.targetRows ?? "missing"})`)
          .join(", ")
    : "";
  return [head, tail].filter(Boolean).join("\n");
}
