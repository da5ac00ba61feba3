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
}

export interface FailoverResult {
  prodAnswered: boolean;
  drained: boolean | null;
  subscriptionDropped: boolean;
  hubSlotDropped: boolean;
  sequences: SequenceMove[];
  verified: boolean;
  databaseSeconds: number;
  scheduling?: RearmResult;
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

async function moveSequences(db: Client, gap: bigint): Promise<SequenceMove[]> {
  const moves: SequenceMove[] = [];
  for (const s of await ownedSequences(db)) {
    const { rows } = await db.query<{ max: string | null; last: string; called: boolean }>(
      `SELECT (SELECT max(${ident(s.col)})::text FROM ${s.table}) AS max,
              last_value::text AS last, is_called AS called FROM ${s.seq}`,
    );
    const r = rows[0];
    const current = BigInt(r.last) + (r.called ? 1n : 0n) - 1n;
    const base = r.max !== null && BigInt(r.max) > current ? BigInt(r.max) : current;
    const target = base + gap;
    await db.query("SELECT setval($1::regclass, $2::int8, true)", [s.seq, target.toString()]);
    moves.push({
      sequence: s.seq,
      column: `${s.table}.${s.col}`,
      maxId: r.max,
      before: r.last,
      after: target.toString(),
    });
  }
  return moves;
}

async function verifySequences(db: Client): Promise<boolean> {
  for (const s of await ownedSequences(db)) {
    const { rows } = await db.query<{ ok: boolean }>(
      `SELECT coalesce((SELECT max(${ident(s.col)}) FROM ${s.table}), 0)
                < (SELECT last_value FROM ${s.seq}) AS ok`,
    );
    if (!rows[0].ok) return false;
  }
  return true;
}

export function pulumiSteps(): string[] {
  return [
    "pulumi config set airbyte:replicaRole active   # scales the replica's Airbyte up (D8)",
    "pulumi config set airbyte:activeInstance replica   # prod's public host -> the replica's Ingress",
    "pulumi refresh   # the subscription failover dropped leaves Pulumi's state",
    "pulumi up --target '<prod Ingress URN>'   # frees prod's host first (docs/runbook-v1-to-v2.md)",
    "pulumi up",
  ];
}

function schedulingSteps(): string[] {
  return [
    "re-arm scheduling once the replica's airbyte-server is up: airbyte-migrate failover " +
      "--replica-url ... --prod-url ... --force --airbyte-url http://<replica airbyte-server>:8001 " +
      "--airbyte-client-id ... --airbyte-client-secret ... (repeats nothing harmful: the " +
      "database steps find no subscription and keep sequences ahead), or in the UI open each " +
      "active connection and save it",
  ];
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
    if (sub) {
      reporter.phase(opts.database, `stop subscription ${NAMES.replicaSubscription}`);
      const name = ident(NAMES.replicaSubscription);
      await db.query(`ALTER SUBSCRIPTION ${name} DISABLE`);
      // Without a slot, DROP does not need the hub (which may be gone too).
      await db.query(`ALTER SUBSCRIPTION ${name} SET (slot_name = NONE)`);
      await db.query(`DROP SUBSCRIPTION ${name}`);
      subscriptionDropped = true;
      if (opts.hub) hubSlotDropped = await dropHubSlot(opts.hub, opts.database);
    } else {
      reporter.info("no subscription on core-worker-01: replication was already stopped");
    }
    reporter.phase(opts.database, "sequences");
    const sequences = await moveSequences(db, opts.sequenceGap);
    const verified =
      (await subscriptionState(db, NAMES.replicaSubscription)) === undefined &&
      (await verifySequences(db));
    if (!verified) {
      throw new MigrateError(
        "failover verification failed on core-worker-01 (a subscription is left or a sequence is " +
          "not past its column's maximum): run failover again",
      );
    }
    const databaseSeconds = (Date.now() - started) / 1000;
    reporter.info(`database steps done in ${databaseSeconds.toFixed(2)} s`);

    let scheduling: RearmResult | undefined;
    const remaining = pulumiSteps();
    if (opts.airbyteUrl && opts.airbyteClientId && opts.airbyteClientSecret) {
      reporter.phase(opts.database, "re-arm scheduling through the replica's Airbyte API");
      const api = new AirbyteApi({
        url: opts.airbyteUrl,
        clientId: opts.airbyteClientId,
        clientSecret: opts.airbyteClientSecret,
      });
      scheduling = await api.rearmAll((c) => reporter.info(`re-armed ${c.name}`));
    } else {
      remaining.push(...schedulingSteps());
    }
    return {
      prodAnswered,
      drained,
      subscriptionDropped,
      hubSlotDropped,
      sequences,
      verified,
      databaseSeconds,
      scheduling,
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
    ...r.sequences.map(
      (s) => `  ${s.sequence}: ${s.before} -> ${s.after} (max ${s.column} = ${s.maxId ?? "none"})`,
    ),
  ];
  if (r.scheduling) {
    lines.push(
      `  scheduling re-armed for ${r.scheduling.rearmed.length} active connection(s) in ` +
        `${r.scheduling.workspaces} workspace(s); ${r.scheduling.skipped.length} inactive left alone`,
    );
  }
  lines.push("", "Remaining steps:", ...r.remainingSteps.map((s, i) => `  ${i + 1}. ${s}`));
  return lines.join("\n");
}
