/**
 * `sync status`: per hop (prod -> hub, hub -> core-worker-01) the slot on the publisher (lag and
 * retained WAL in bytes, replay lag in seconds) and the subscription on the subscriber (enabled,
 * worker running, table states); then row counts per table on the three servers.
 *
 * Seconds come from the walsender's replay_lag, which PostgreSQL measures per flushed position;
 * it is empty when the hop is idle (then the lag is 0 when no byte is pending). A hop whose
 * subscriber is gone has no seconds: the time since its last message stands in.
 */
import type { Client } from "pg";
import { displayName, tableName } from "../lib/catalog";
import { describe, Endpoint } from "../lib/endpoint";
import { pgErrorInfo } from "../lib/errors";
import * as fmt from "../lib/format";
import {
  connectDb,
  NAMES,
  replicatedTables,
  SlotState,
  slotState,
  subscriptionState,
  SubscriptionState,
} from "./chain";
import type { ReplicationOptions } from "./options";

export interface HopStatus {
  hop: string;
  slot?: SlotState;
  subscription?: SubscriptionState;
  lagBytes: number | null;
  lagSeconds: number | null;
  /** Why the hop is not healthy, if it is not. */
  problems: string[];
}

export interface TableCount {
  table: string;
  prod: number | null;
  hub: number | null;
  replica: number | null;
}

export interface StatusResult {
  hops: HopStatus[];
  tables: TableCount[];
  /** Some hop lags over the thresholds, or is broken. */
  overThreshold: boolean;
}

async function tryConnect(ep: Endpoint | undefined, db: string): Promise<Client | string> {
  if (!ep) return "not given";
  try {
    return await connectDb(ep, db);
  } catch (err) {
    return pgErrorInfo(err).message;
  }
}

async function hop(
  name: string,
  publisher: Client | string,
  subscriber: Client | string,
  subscription: string,
  opts: ReplicationOptions,
): Promise<HopStatus> {
  const problems: string[] = [];
  const slot = typeof publisher === "string" ? undefined : await slotState(publisher, subscription);
  const sub =
    typeof subscriber === "string" ? undefined : await subscriptionState(subscriber, subscription);
  if (typeof publisher === "string") problems.push(`publisher unreachable: ${publisher}`);
  else if (!slot) problems.push(`no slot ${subscription} on the publisher: run sync setup`);
  if (typeof subscriber === "string") problems.push(`subscriber unreachable: ${subscriber}`);
  else if (!sub) problems.push(`no subscription ${subscription}: run sync setup`);
  if (sub && !sub.enabled) problems.push("subscription disabled");
  if (sub?.enabled && !sub.running) problems.push("apply worker not running (see its server log)");
  const notReady = sub ? Object.entries(sub.states).filter(([s]) => s !== "r") : [];
  if (notReady.length > 0) {
    problems.push(`tables still copying: ${notReady.map(([s, n]) => `${n} in state ${s}`)}`);
  }
  if (slot && !slot.active) problems.push("slot not in use: the subscriber is disconnected");
  let lagSeconds: number | null = null;
  if (slot?.active) lagSeconds = slot.lagSeconds ?? (slot.lagBytes === 0 ? 0 : null);
  if (lagSeconds === null && sub?.lastMessage) {
    lagSeconds = (Date.now() - sub.lastMessage.getTime()) / 1000;
  }
  const lagBytes = slot ? slot.lagBytes : null;
  if (lagBytes !== null && lagBytes > opts.maxLagBytes) {
    problems.push(`lag ${fmt.bytes(lagBytes)} over --max-lag-mb`);
  }
  if (lagSeconds !== null && lagSeconds > opts.maxLagSeconds) {
    problems.push(`lag ${lagSeconds.toFixed(1)} s over --max-lag-seconds`);
  }
  return { hop: name, slot, subscription: sub, lagBytes, lagSeconds, problems };
}

async function counts(client: Client | string, tables: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (typeof client === "string") return out;
  for (const t of tables) {
    try {
      const { rows } = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${t}`);
      out.set(t, Number(rows[0].n));
    } catch {
      // Missing on this server: shown as such; check-schema explains.
    }
  }
  return out;
}

export async function statusCommand(opts: ReplicationOptions): Promise<StatusResult> {
  const [prod, hub, replica] = await Promise.all([
    tryConnect(opts.prod, opts.database),
    tryConnect(opts.hub, opts.database),
    tryConnect(opts.replica, opts.database),
  ]);
  try {
    const hops = [
      await hop("prod -> hub", prod, hub, NAMES.hubSubscription, opts),
      await hop("hub -> core-worker-01", hub, replica, NAMES.replicaSubscription, opts),
    ];
    let tables: TableCount[] = [];
    const lister = [prod, hub, replica].find((c): c is Client => typeof c !== "string");
    if (opts.counts && lister) {
      const list = await replicatedTables(lister);
      const names = list.map((t) => tableName(t));
      const [a, b, c] = await Promise.all([
        counts(prod, names),
        counts(hub, names),
        counts(replica, names),
      ]);
      tables = list.map((t) => {
        const n = tableName(t);
        return {
          table: displayName(t),
          prod: a.get(n) ?? null,
          hub: b.get(n) ?? null,
          replica: c.get(n) ?? null,
        };
      });
    }
    return { hops, tables, overThreshold: hops.some((h) => h.problems.length > 0) };
  } finally {
    await Promise.all(
      [prod, hub, replica].map((c) =>
        typeof c === "string" ? undefined : c.end().catch(() => undefined),
      ),
    );
  }
}

export function formatStatus(result: StatusResult, opts: ReplicationOptions): string {
  const n = (v: number | null) => (v === null ? "-" : fmt.count(v));
  const hopText = fmt.table(
    ["hop", "lag", "lag s", "slot retains", "slot", "subscription", "state"],
    result.hops.map((h) => [
      h.hop,
      h.lagBytes === null ? "-" : fmt.bytes(h.lagBytes),
      h.lagSeconds === null ? "-" : h.lagSeconds.toFixed(3),
      h.slot ? fmt.bytes(h.slot.retainedBytes) : "-",
      h.slot ? (h.slot.active ? "active" : "inactive") : "missing",
      h.subscription
        ? `${h.subscription.enabled ? "enabled" : "disabled"}${h.subscription.running ? ", running" : ""}`
        : "missing",
      h.problems.length === 0 ? "ok" : h.problems.join("; "),
    ]),
  );
  const servers = `prod ${describe(opts.prod)}, hub ${opts.hub ? describe(opts.hub) : "-"}, core-worker-01 ${describe(opts.replica)}`;
  const tableText =
    result.tables.length === 0
      ? ""
      : "\n\n" +
        fmt.table(
          ["table", "prod rows", "hub rows", "core-worker-01 rows", ""],
          result.tables.map((t) => [
            t.table,
            n(t.prod),
            n(t.hub),
            n(t.replica),
            t.prod === t.hub && t.hub === t.replica ? "" : "differs (in flight or broken)",
          ]),
        );
  return `${servers}\n\n${hopText}${tableText}`;
}
