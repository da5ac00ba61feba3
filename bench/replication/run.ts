/**
 * Replication benchmark: `npx tsx bench/replication/run.ts [seconds]`.
 *
 * Three durable PostgreSQL servers on this machine (prod 13 -> hub 17 -> core-worker-01 15),
 * the Airbyte fixture, then:
 * 0. `sync setup` while prod takes 200 tx/s of the Airbyte-like mix: it must pass first time
 *    (its verify compares at consistent points, verify-live.ts); its duration is printed.
 * 1. Lag per transaction at 200 tx/s of the Airbyte-like mix (test/replication/load.ts). The
 *    probe is each transaction's job row: one connection writes, so jobs.id grows in commit
 *    order and "max(jobs.id) >= id" on a subscriber means that transaction (and every earlier
 *    one) has been applied there. One observer per subscriber polls max(id) about every
 *    millisecond (an index-only lookup of ~0.2 ms; LISTEN/NOTIFY is not replicated and a trigger
 *    on the subscriber would add to the apply path). A transaction's lag is the first poll that
 *    saw it minus the moment its COMMIT returned on prod; the polling adds up to ~1 ms.
 * 2. A crash: the load runs, prod is SIGKILLed, `failover` runs; recovery point = committed
 *    transactions missing on core-worker-01 (count, and how long before the crash the oldest
 *    committed), failover duration = its database steps.
 */
import os from "node:os";
import type { Client } from "pg";
import { createReporter } from "../../migrations/lib/progress";
import { failoverCommand } from "../../migrations/replication/failover";
import { parseReplicationOptions } from "../../migrations/replication/options";
import { setupCommand } from "../../migrations/replication/setup";
import type { SetupResult } from "../../migrations/replication/setup";
import { createAirbyteDatabases } from "../../test/support/pg-airbyte-fixture";
import { startFakeAirbyte } from "../../test/support/fake-airbyte";
import { PgServer, startPostgres } from "../../test/support/postgres";
import { Committed, startLoad } from "../../test/replication/load";

const RATE = 200;
const seconds = Number(process.argv[2] ?? 30);

interface Observation {
  at: number;
  maxId: number;
}

function observe(client: Client): { samples: Observation[]; stop: () => Promise<void> } {
  // Connections still open when a server stops must not crash the run.
  client.on("error", () => undefined);
  const samples: Observation[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const { rows } = await client.query<{ m: string }>("SELECT max(id)::text AS m FROM jobs");
      samples.push({ at: Date.now(), maxId: Number(rows[0].m) });
      await new Promise((r) => setTimeout(r, 1));
    }
  })();
  return {
    samples,
    stop: async () => {
      stopped = true;
      await loop;
      await client.end();
    },
  };
}

/** Per committed transaction, ms until a sample shows it (samples are in time order). */
function lags(committed: Committed[], samples: Observation[]): number[] {
  const out: number[] = [];
  let i = 0;
  for (const c of committed) {
    while (i < samples.length && samples[i].maxId < c.jobId) i++;
    if (i === samples.length) break;
    out.push(Math.max(0, samples[i].at - c.at));
  }
  return out;
}

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

function options(prod: PgServer, hub: PgServer, replica: PgServer, extra: string[]) {
  const opts = parseReplicationOptions(extra, {
    PROD_DATABASE_URL: prod.url(),
    HUB_DATABASE_URL: hub.url(),
    REPLICA_DATABASE_URL: replica.url(),
  });
  if (!opts) throw new Error("no options");
  return opts;
}

interface SetupRun {
  seconds: number;
  result: SetupResult;
  txPerSecond: number;
}

async function chain(): Promise<[PgServer, PgServer, PgServer, SetupRun]> {
  const settings = { wal_level: "logical", max_replication_slots: 10, max_wal_senders: 10 };
  const servers = await Promise.all([
    startPostgres({ major: 13, settings, durable: true }),
    startPostgres({ major: 17, settings, durable: true }),
    startPostgres({ major: 15, settings, durable: true }),
  ]);
  await createAirbyteDatabases(servers[0], { scale: { jobs: 20_000 }, temporal: false });
  const [prod, hub, replica] = servers;
  const writer = await prod.connect("db-airbyte");
  const load = startLoad(writer, RATE);
  await new Promise((r) => setTimeout(r, 1000));
  const started = Date.now();
  const before = load.committed.length;
  let result: SetupResult;
  try {
    result = await setupCommand(
      options(prod, hub, replica, ["sync", "setup"]),
      createReporter(false),
    );
  } finally {
    await load.stop();
    await writer.end();
  }
  const seconds = (Date.now() - started) / 1000;
  if (load.error) throw load.error;
  const txPerSecond = (load.committed.length - before) / seconds;
  process.stderr.write(
    `sync setup under ${txPerSecond.toFixed(0)} tx/s: ${seconds.toFixed(1)} s, verify ` +
      `${result.verify?.ok ? "passed" : "FAILED"}\n`,
  );
  return [prod, hub, replica, { seconds, result, txPerSecond }];
}

async function main(): Promise<void> {
  const [prod, hub, replica, setup] = await chain();
  try {
    const writer = await prod.connect("db-airbyte");
    const hubObs = observe(await hub.connect("db-airbyte"));
    const repObs = observe(await replica.connect("db-airbyte"));
    const load = startLoad(writer, RATE);
    const load1 = os.loadavg()[0];
    await new Promise((r) => setTimeout(r, seconds * 1000));
    await load.stop();
    await new Promise((r) => setTimeout(r, 1000));
    await Promise.all([hubObs.stop(), repObs.stop()]);
    const loadAvg = (load1 + os.loadavg()[0]) / 2;
    await writer.end();
    if (load.error) throw load.error;
    const achieved = load.committed.length / seconds;
    const hop1 = lags(load.committed, hubObs.samples);
    const e2e = lags(load.committed, repObs.samples);
    const hop2 = e2e.map((v, i) => Math.max(0, v - (hop1[i] ?? 0)));

    // Crash run: a few seconds of load, SIGKILL prod, failover.
    const w2 = await prod.connect("db-airbyte");
    w2.on("error", () => undefined);
    const crashLoad = startLoad(w2, RATE);
    await new Promise((r) => setTimeout(r, 5000));
    const crashAt = Date.now();
    await prod.kill();
    await crashLoad.stop();
    // The replica's Airbyte API as the stand-in of Airbyte 2.0.0's spec: 50 workspaces of 4
    // connections (3 active), so the API step's figure covers paging and 150 updates.
    const api = await startFakeAirbyte({
      clientId: "bench-id",
      clientSecret: "bench-secret",
      workspaces: Array.from({ length: 50 }, (_, w) => ({
        workspaceId: `w${w}`,
        name: `workspace ${String(w).padStart(2, "0")}`,
        connections: Array.from({ length: 4 }, (_, c) => ({
          connectionId: `w${w}c${c}`,
          name: `c${c}`,
          status: c === 3 ? ("inactive" as const) : ("active" as const),
          scheduleType: "manual" as const,
        })),
      })),
    });
    const foStarted = Date.now();
    const fo = await failoverCommand(
      options(prod, hub, replica, [
        "failover",
        "--drain-seconds",
        "5",
        "--airbyte-url",
        api.url,
        "--airbyte-client-id",
        "bench-id",
        "--airbyte-client-secret",
        "bench-secret",
      ]),
      createReporter(false),
    );
    const foSeconds = (Date.now() - foStarted) / 1000;
    await api.close();
    const r = await replica.connect("db-airbyte");
    const { rows } = await r.query<{ id: string }>(
      "SELECT id::text FROM jobs WHERE id = ANY($1::int8[])",
      [crashLoad.committed.map((c) => c.jobId)],
    );
    await r.end();
    const present = new Set(rows.map((x) => Number(x.id)));
    const lost = crashLoad.committed.filter((c) => !present.has(c.jobId));
    const lostSeconds =
      lost.length === 0 ? 0 : (crashAt - Math.min(...lost.map((l) => l.at))) / 1000;

    const f = (v: number) => v.toFixed(1);
    const row = (name: string, value: string, target: string, ratio: string) =>
      `| ${name} | ${value} | ${target} | ${ratio} |`;
    const lines = [
      `Replication benchmark: ${seconds} s at ${RATE} tx/s target (${achieved.toFixed(0)} achieved), ` +
        `${load.committed.length} transactions; load average ~${loadAvg.toFixed(2)} on ${os.cpus().length} cores`,
      "",
      "| measure | value | target | value / target |",
      "| --- | --- | --- | --- |",
      row(
        `sync setup under ${setup.txPerSecond.toFixed(0)} tx/s: duration (s), verify first time`,
        `${setup.seconds.toFixed(1)}, ${setup.result.verify?.ok ? "passed" : "FAILED"}`,
        "passes first time",
        "-",
      ),
      row("lag prod -> hub p50 / p99 (ms)", `${f(pct(hop1, 50))} / ${f(pct(hop1, 99))}`, "-", "-"),
      row(
        "lag hub -> core-worker-01 p50 / p99 (ms)",
        `${f(pct(hop2, 50))} / ${f(pct(hop2, 99))}`,
        "-",
        "-",
      ),
      row(
        "lag end to end p50 / p99 (ms)",
        `${f(pct(e2e, 50))} / ${f(pct(e2e, 99))}`,
        "p99 < 100",
        (pct(e2e, 99) / 100).toFixed(2),
      ),
      row(
        "failover, database steps (s)",
        fo.databaseSeconds.toFixed(2),
        "< 10",
        (fo.databaseSeconds / 10).toFixed(3),
      ),
      row(
        `failover, whole command incl. API re-arm of ${fo.scheduling?.rearmed.length ?? 0} connections (s)`,
        foSeconds.toFixed(2),
        "-",
        "-",
      ),
      row(
        "recovery point: committed transactions lost / oldest lost (s before crash)",
        `${lost.length} / ${lostSeconds.toFixed(3)}`,
        "nothing older than 1 s",
        (lostSeconds / 1).toFixed(3),
      ),
    ];
    process.stdout.write(lines.join("\n") + "\n");
  } finally {
    await Promise.all([prod.stop(), hub.stop(), replica.stop()]);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exitCode = 1;
});
