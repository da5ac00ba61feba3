/**
 * `failover`: make core-worker-01's database the live one after prod is lost (DESIGN D8).
 *
 * Database steps, in order:
 * 1. Refuse while prod answers (a real connection attempt, 3 s timeout) unless --force: two
 *    writable Airbytes on diverging copies is worse than a short outage.
 * 2. Drain: when the hub answers, wait (up to --drain-seconds) until core-worker-01 has
 *    confirmed everything the hub holds, so changes prod shipped before dying are not left on
 *    the hub.
 * 3. Stop replication: disable the subscription, detach it from its slot and drop it, so nothing
 *    can re-enable it and overwrite the new primary; drop the slot on the hub when reachable
 *    (else the hub would keep WAL for a subscriber that never returns).
 * 4. Sequences: logical replication does not carry them, and prod's state is unknown (it is
 *    dead). Prod may have handed out ids whose rows never arrived (uncommitted, or committed in
 *    the lost tail), and those ids can live on outside the database (job log paths in object
 *    storage, Temporal history). So each sequence moves to max(highest id in its column, its
 *    own value) + --sequence-gap (default 100000, more ids than prod hands out in the lag
 *    window by orders of magnitude).
 * 5. Verify: no subscription left, every sequence's next value above its column's maximum.
 * Then re-arm scheduling through the replica's Airbyte API (or print how), and print what
 * remains for Pulumi.
 */
import { Client } from "pg";
import { clientConfig, connect, describe, Endpoint, ident } from "../lib/endpoint";
import { MigrateError } from "../lib/errors";
import type { Reporter } from "../lib/progress";
import { AirbyteApi, RearmResult } from "./airbyte-api";
import { connectDb, currentLsn, NAMES, subscriptionState, waitFor } from "./chain";
import type { ReplicationOptions } from "./options";

export interface SequenceMove {
  sequence: string;
  column: string;
  maxId: string | null;
  before: string;
  after: string;
  /** False when a re-run found it already past its column's maximum and left it. */
  moved: boolean;
}

export interface FailoverResult {
  prodAnswered: boolean;
  drained: boolean | null;
  subscriptionDropped: boolean;
  hubSlotDropped: boolean;
  sequences: SequenceMove[];
  verified: boolean;
  /** The hub's subscription to prod stopped (true), left (false), or no --hub-url (null). */
  hubSubscriptionStopped: boolean | null;
  databaseSeconds: number;
  scheduling?: RearmResult;
  /** Set when the database steps are done but the API step failed (exit 5). */
  schedulingError?: string;
  remainingSteps: string[];
}

/** Whether a server accepts a connection within `timeoutMs`. */
export async function answers(ep: Endpoint, database: string, timeoutMs: number): Promise<boolean> {
  const client = new Client({ ...clientConfig(ep, database), connectionTimeoutMillis: timeoutMs });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function drain(hubEp: Endpoint, database: string, seconds: number): Promise<boolean> {
  let hub: Client;
  try {
    hub = await connectDb(hubEp, database);
  } catch {
    return false;
  }
  try {
    const target = await currentLsn(hub);
    return await waitFor(async () => {
      const { rows } = await hub.query<{ ok: boolean | null }>(
        `SELECT confirmed_flush_lsn >= $2::pg_lsn AS ok FROM pg_replication_slots
          WHERE slot_name = $1`,
        [NAMES.replicaSubscription, target],
      );
      return rows[0]?.ok === true;
    }, seconds * 1000);
  } finally {
    await hub.end().catch(() => undefined);
  }
}

async function dropHubSlot(hubEp: Endpoint, database: string): Promise<boolean> {
  try {
    const hub = await connect(hubEp, database);
    try {
      const { rows } = await hub.query<{ n: string }>(
        `SELECT count(pg_drop_replication_slot(slot_name))::text AS n FROM pg_replication_slots
          WHERE slot_name = $1 AND NOT active`,
        [NAMES.replicaSubscription],
      );
      return rows[0].n === "1";
    } finally {
      await hub.end().catch(() => undefined);
    }
  } catch {
    return false;
  }
}

/**
 * Only the subscription's owner (or a superuser) may disable and drop it. The v2 stack's is
 * created by Pulumi's provider as core-worker-01's admin, not by the migration role: say so
 * before anything changed, rather than failing half-way.
 */
async function requireSubscriptionOwner(db: Client, ep: Endpoint): Promise<void> {
  const { rows } = await db.query<{ owner: string; ok: boolean }>(
    `SELECT pg_get_userbyid(s.subowner) AS owner,
            (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
              OR pg_has_role(current_user, s.subowner, 'USAGE') AS ok
       FROM pg_subscription s JOIN pg_database d ON d.oid = s.subdbid
      WHERE s.subname = $1 AND d.datname = current_database()`,
    [NAMES.replicaSubscription],
  );
  const r = rows[0];
  if (r && !r.ok) {
    throw new MigrateError(
      `user "${ep.user}" may not stop subscription ${NAMES.replicaSubscription} on the ` +
        `${describe(ep)}: it belongs to "${r.owner}" (with the v2 stack, the admin Pulumi's ` +
        `provider connects as). Run failover with ${ep.origin} as "${r.owner}" or a superuser; ` +
        `nothing was changed`,
    );
  }
}

/** Identity and serial sequences with the column they feed (jobs.id, attempts.id). */
async function ownedSequences(db: Client): Promise<{ seq: string; table: string; col: string }[]> {
  const { rows } = await db.query<{ seq: string; tbl: string; col: string }>(`
    SELECT format('%I.%I', sn.nspname, s.relname) AS seq,
           format('%I.%I', tn.nspname, t.relname) AS tbl, a.attname AS col
      FROM pg_depend d
      JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
      JOIN pg_namespace sn ON sn.oid = s.relnamespace
      JOIN pg_class t ON t.oid = d.refobjid
      JOIN pg_namespace tn ON tn.oid = t.relnamespace
      JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
     WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
       AND d.deptype IN ('a', 'i')
     ORDER BY 1`);
  return rows.map((r) => ({ seq: r.seq, table: r.tbl, col: r.col }));
}

/**
 * Move each owned sequence to max(its column's highest id, its own value) + gap. With
 * `onlyBehind` (replication was already stopped: an earlier failover moved them, in the
 * transaction that dropped the subscription), a sequence already past its column's maximum is
 * left alone, so re-running failover adds no second gap.
 */
async function moveSequences(
  db: Client,
  gap: bigint,
  onlyBehind: boolean,
): Promise<SequenceMove[]> {
  const moves: SequenceMove[] = [];
  for (const s of await ownedSequences(db)) {
    const { rows } = await db.query<{ max: string | null; last: string; called: boolean }>(
      `SELECT (SELECT max(${ident(s.col)})::text FROM ${s.table}) AS max,
              last_value::text AS last, is_called AS called FROM ${s.seq}`,
    );
    const r = rows[0];
    const current = BigInt(r.last) + (r.called ? 1n : 0n) - 1n;
    const max = r.max === null ? null : BigInt(r.max);
    // Its next value is current + 1: past the column when current >= max.
    const ahead = max === null || current >= max;
    const move = { sequence: s.seq, column: `${s.table}.${s.col}`, maxId: r.max, before: r.last };
    if (onlyBehind && ahead) {
      moves.push({ ...move, after: r.last, moved: false });
      continue;
    }
    const target = (max !== null && max > current ? max : current) + gap;
    await db.query("SELECT setval($1::regclass, $2::int8, true)", [s.seq, target.toString()]);
    moves.push({ ...move, after: target.toString(), moved: true });
  }
  return moves;
}

async function verifySequences(db: Client): Promise<boolean> {
  for (const s of await ownedSequences(db)) {
    // The next value nextval() hands out must be above the column's maximum (rows the promoted
    // Airbyte already wrote included, so a re-run verifies too).
    const { rows } = await db.query<{ ok: boolean }>(
      `SELECT coalesce((SELECT max(${ident(s.col)}) FROM ${s.table}), 0)
                < (SELECT last_value + CASE WHEN is_called THEN 1 ELSE 0 END FROM ${s.seq}) AS ok`,
    );
    if (!rows[0].ok) return false;
  }
  return true;
}

export function pulumiSteps(): string[] {
  return PULUMI_FAST_PATH;
}

/** Names (URN suffixes) the fast path finds its targets by; test/failover-fast-path.test.ts. */
export const FAST_PATH_NAMES = {
  subscription: "::replication-hub-core-worker-subscription",
  prodIngress: "::airbyte-prod-ingress-ingress",
} as const;

/**
 * The Pulumi side with prod dead. A whole-stack `pulumi refresh` + `pulumi up` waits on prod's
 * unready workloads (the Kubernetes provider awaits Deployments and StatefulSets, 10 min each
 * by default). Going active changes nothing of prod but deleting its Ingress (proved by
 * test/failover-fast-path.test.ts): so refresh only the subscription failover dropped (the
 * provider's delete runs a plain DROP SUBSCRIPTION, which would fail), free prod's host, then
 * update exactly what the preview says changes. The whole-stack refresh and up wait until prod
 * is back or rebuilt (docs/replication.md, "Pulumi after a failover").
 */
const PULUMI_FAST_PATH = [
  "pulumi config set airbyte:replicaRole active && pulumi config set airbyte:activeInstance replica",
  `pulumi refresh --yes --target "$(pulumi stack --show-urns | grep -o 'urn:pulumi:[^ ]*${FAST_PATH_NAMES.subscription}')"   # failover dropped it`,
  `pulumi up --yes --target "$(pulumi stack --show-urns | grep -o 'urn:pulumi:[^ ]*${FAST_PATH_NAMES.prodIngress}')"   # frees prod's host first`,
  `pulumi up --yes $(pulumi preview --json | jq -r '.steps[] | select(.op != "same") | "--target=" + .urn' | sort -u)   # the replica, the hub's Job, the mirror: nothing of prod awaited`,
  "later, once prod's namespace is healthy again or rebuilt (failback): pulumi refresh && pulumi up",
];

function schedulingSteps(): string[] {
  return [
    "re-arm scheduling once the replica's airbyte-server is up: airbyte-migrate failover " +
      "--replica-url ... --prod-url ... --force --airbyte-url http://<replica airbyte-server>:8001 " +
      "--airbyte-client-id ... --airbyte-client-secret ... (repeats nothing harmful: the " +
      "database steps find no subscription and keep sequences ahead), or in the UI open each " +
      "active connection and save it",
  ];
}

/** What failover leaves on the hub and prod, said rather than left to be found. */
function chainSteps(hubStopped: boolean | null): string[] {
  const slot =
    `prod's slot ${NAMES.hubSubscription} stays on prod: if prod's server comes back, before ` +
    `anything else run SELECT pg_drop_replication_slot('${NAMES.hubSubscription}') in its ` +
    `db-airbyte (or re-seed prod by the failback), else it keeps WAL until prod's disk is full`;
  if (hubStopped) return [slot];
  return [
    `the hub is still subscribed to prod (${NAMES.hubSubscription}${hubStopped === null ? ", no --hub-url" : ", hub unreachable or not its owner"}): ` +
      `a returning prod would feed it again; run failover again with --hub-url as the hub's ` +
      `admin, or on the hub: ALTER SUBSCRIPTION ${NAMES.hubSubscription} DISABLE; ALTER ` +
      `SUBSCRIPTION ${NAMES.hubSubscription} SET (slot_name = NONE); DROP SUBSCRIPTION ` +
      `${NAMES.hubSubscription}`,
    slot,
  ];
}

/**
 * Drop a disabled subscription without its publisher (which may be gone): detach it from its
 * slot, then drop it. Both may run inside a transaction block once no slot is attached.
 */
async function detachAndDrop(db: Client, subscription: string): Promise<void> {
  const name = ident(subscription);
  await db.query(`ALTER SUBSCRIPTION ${name} SET (slot_name = NONE)`);
  await db.query(`DROP SUBSCRIPTION ${name}`);
}

/** On the hub: stop its subscription to prod, so a prod that comes back feeds nothing. */
async function stopHubSubscription(
  hubEp: Endpoint,
  database: string,
  reporter: Reporter,
): Promise<boolean> {
  let hub: Client;
  try {
    hub = await connectDb(hubEp, database);
  } catch {
    return false;
  }
  try {
    if (!(await subscriptionState(hub, NAMES.hubSubscription))) return true;
    await hub.query(`ALTER SUBSCRIPTION ${ident(NAMES.hubSubscription)} DISABLE`);
    await detachAndDrop(hub, NAMES.hubSubscription);
    reporter.info(`stopped the hub's subscription ${NAMES.hubSubscription} to prod`);
    return true;
  } catch (err) {
    reporter.warn(
      `could not stop the hub's subscription ${NAMES.hubSubscription} (${(err as Error).message})`,
    );
    return false;
  } finally {
    await hub.end().catch(() => undefined);
  }
}

export async function failoverCommand(
  opts: ReplicationOptions,
  reporter: Reporter,
): Promise<FailoverResult> {
  const prodAnswered = await answers(opts.prod, opts.prod.maintenanceDb, 3000);
  if (prodAnswered && !opts.force) {
    throw new MigrateError(
      `the ${describe(opts.prod)} still answers: failing over now would leave two writable ` +
        `Airbyte databases. Stop prod first (scale its Airbyte and database to 0), or pass ` +
        `--force if prod is unusable though reachable`,
    );
  }
  const started = Date.now();
  const db = await connectDb(opts.replica, opts.database);
  try {
    let drained: boolean | null = null;
    const sub = await subscriptionState(db, NAMES.replicaSubscription);
    if (sub) await requireSubscriptionOwner(db, opts.replica);
    if (sub && opts.hub) {
      reporter.phase(opts.database, "drain: core-worker-01 applies what the hub holds");
      drained = await drain(opts.hub, opts.database, opts.drainSeconds);
      if (!drained) {
        reporter.warn(
          `core-worker-01 did not confirm the hub's last position within ${opts.drainSeconds} s ` +
            `(or the hub is unreachable): changes held only by the hub are lost`,
        );
      }
    }
    let subscriptionDropped = false;
    let hubSlotDropped = false;
    let sequences: SequenceMove[];
    if (sub) {
      reporter.phase(opts.database, `stop subscription ${NAMES.replicaSubscription}; sequences`);
      // DISABLE commits first so the apply worker stops. The drop and the sequence moves then
      // commit together: a re-run that finds no subscription
      // knows the gap is applied and adds none (setval itself is not rolled back, so a failed
      // transaction can at worst leave a larger gap, never a smaller one).
      await db.query(`ALTER SUBSCRIPTION ${ident(NAMES.replicaSubscription)} DISABLE`);
      await db.query("BEGIN");
      try {
        await detachAndDrop(db, NAMES.replicaSubscription);
        sequences = await moveSequences(db, opts.sequenceGap, false);
        await db.query("COMMIT");
      } catch (err) {
        await db.query("ROLLBACK").catch(() => undefined);
        throw err;
      }
      subscriptionDropped = true;
      if (opts.hub) hubSlotDropped = await dropHubSlot(opts.hub, opts.database);
    } else {
      reporter.info(
        "no subscription on core-worker-01: replication was already stopped (an earlier " +
          "failover); sequences already past their columns are kept",
      );
      reporter.phase(opts.database, "sequences");
      sequences = await moveSequences(db, opts.sequenceGap, true);
    }
    const verified =
      (await subscriptionState(db, NAMES.replicaSubscription)) === undefined &&
      (await verifySequences(db));
    if (!verified) {
      throw new MigrateError(
        "failover verification failed on core-worker-01 (a subscription is left or a sequence is " +
          "not past its column's maximum): run failover again",
      );
    }
    const hubStopped = opts.hub
      ? await stopHubSubscription(opts.hub, opts.database, reporter)
      : null;
    const databaseSeconds = (Date.now() - started) / 1000;
    reporter.info(`database steps done in ${databaseSeconds.toFixed(2)} s`);

    let scheduling: RearmResult | undefined;
    let schedulingError: string | undefined;
    const remaining = [...chainSteps(hubStopped), ...pulumiSteps()];
    if (opts.airbyteUrl && opts.airbyteClientId && opts.airbyteClientSecret) {
      reporter.phase(opts.database, "re-arm scheduling through the replica's Airbyte API");
      const api = new AirbyteApi({
        url: opts.airbyteUrl,
        clientId: opts.airbyteClientId,
        clientSecret: opts.airbyteClientSecret,
      });
      try {
        scheduling = await api.rearmAll((c) => reporter.info(`re-armed ${c.name}`));
      } catch (err) {
        // The database steps are done and stay done: say so, and what to run again.
        schedulingError = (err as Error).message;
        reporter.warn(`re-arming scheduling failed: ${schedulingError}`);
        remaining.unshift(
          "re-arm scheduling: run the same failover command again once the replica's " +
            "airbyte-server answers (its database steps find no subscription and move no " +
            "sequence again; connections already re-armed are re-armed harmlessly)",
        );
      }
    } else {
      remaining.push(...schedulingSteps());
    }
    return {
      prodAnswered,
      drained,
      subscriptionDropped,
      hubSlotDropped,
      hubSubscriptionStopped: hubStopped,
      sequences,
      verified,
      databaseSeconds,
      scheduling,
      schedulingError,
      remainingSteps: remaining,
    };
  } finally {
    await db.end().catch(() => undefined);
  }
}

export function formatFailover(r: FailoverResult): string {
  const lines = [
    `failover: database steps done in ${r.databaseSeconds.toFixed(2)} s` +
      (r.prodAnswered ? " (prod still answered: --force)" : ""),
    r.subscriptionDropped
      ? `  replication stopped (subscription dropped${r.hubSlotDropped ? ", hub slot dropped" : ""})`
      : "  replication was already stopped",
    ...r.sequences.map((s) =>
      s.moved
        ? `  ${s.sequence}: ${s.before} -> ${s.after} (max ${s.column} = ${s.maxId ?? "none"})`
        : `  ${s.sequence}: ${s.before} kept, already past max ${s.column} = ${s.maxId ?? "none"}`,
    ),
  ];
  if (r.hubSubscriptionStopped) lines.push("  the hub's subscription to prod stopped");
  if (r.scheduling) {
    lines.push(
      `  scheduling re-armed for ${r.scheduling.rearmed.length} active connection(s) in ` +
        `${r.scheduling.workspaces} workspace(s); ${r.scheduling.skipped.length} inactive left alone`,
    );
  }
  if (r.schedulingError) {
    lines.push(
      `  scheduling NOT re-armed: ${r.schedulingError}`,
      "  (database steps above are done and verified; only the API step must be re-run)",
    );
  }
  lines.push("", "Remaining steps:", ...r.remainingSteps.map((s, i) => `  ${i + 1}. ${s}`));
  return lines.join("\n");
}
