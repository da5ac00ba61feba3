/**
 * Copy benchmark: this tool's `copy` against `pg_dump -Fd -j2 | pg_restore -j2` and
 * `pgcopydb clone` (when installed), on the same two PostgreSQL servers in one run.
 *
 *   npx tsx bench/migrate/run.ts            # ~1.5 GB Airbyte-shaped dataset, median of 3
 *   BENCH_JOBS=20000 BENCH_RUNS=1 npx tsx bench/migrate/run.ts   # a quick smaller run
 *   BENCH_FIXTURE=real npx tsx bench/migrate/run.ts   # Airbyte 2.0 / Temporal 1.27 real schemas
 *
 * Environment: BENCH_JOBS (rows in `jobs`, default 200000), BENCH_STREAMS (stream entries per
 * jsonb document, default 6), BENCH_RUNS (default 3), BENCH_MAJOR (13, 15 or 17; default 15,
 * the newest major Debian's pg_dump 15 and pgcopydb 0.10 can read), BENCH_FIXTURE (`shaped`, the
 * default, or `real`: test/support/real-schema.ts with BENCH_ROWS rows per table, default 2000,
 * and BENCH_BIG_ROWS in history_node, executions, stream_stats and workload, default 200000).
 * With the real fixture, the longest single-table streams of our copy are printed too: those
 * tables have composite or non-integer keys, so one stream copies each.
 * Each method copies all three databases into empty target databases; the target is emptied
 * between runs. Prints wall seconds, MB/s (of the source's on-disk size, indexes included) and
 * the ratio against pgcopydb, and verify's time as a share of our copy time.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ensurePgClientTools } from "../../test/support/pg-client-tools";
import { createAirbyteDatabases } from "../../test/support/pg-airbyte-fixture";
import { createRealSchemaDatabases, REAL_DATABASES } from "../../test/support/real-schema";
import { PgMajor, PgServer, startPostgres } from "../../test/support/postgres";

const JOBS = Number(process.env.BENCH_JOBS ?? 200_000);
const STREAMS = Number(process.env.BENCH_STREAMS ?? 6);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const MAJOR = Number(process.env.BENCH_MAJOR ?? 15) as PgMajor;
const FIXTURE = process.env.BENCH_FIXTURE ?? "shaped";
const ROWS = Number(process.env.BENCH_ROWS ?? 2000);
const BIG_ROWS = Number(process.env.BENCH_BIG_ROWS ?? 200_000);
const PARALLEL = 2;
const repo = path.resolve(__dirname, "../..");

/** Same settings on both servers for every method; durable (fsync on) like a real server. */
const SETTINGS = { shared_buffers: "512MB", max_wal_size: "4GB", checkpoint_timeout: "15min" };

function ensurePgcopydb(): string | undefined {
  const found = spawnSync("sh", ["-c", "command -v pgcopydb"], { encoding: "utf8" }).stdout.trim();
  if (found) return found;
  if (process.getuid?.() !== 0) return undefined;
  const r = spawnSync("sh", ["-c", "apt-get update -qq && apt-get install -y -qq pgcopydb"], {
    stdio: "inherit",
  });
  if (r.status !== 0) return undefined;
  return (
    spawnSync("sh", ["-c", "command -v pgcopydb"], { encoding: "utf8" }).stdout.trim() || undefined
  );
}

function sh(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): void {
  const r = spawnSync(file, args, { env, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
  if (r.status !== 0) {
    throw new Error(`${path.basename(file)} ${args.join(" ")} failed (${r.status}):\n${r.stderr}`);
  }
}

async function resetTarget(target: PgServer, databases: string[]): Promise<void> {
  const admin = await target.connect("postgres");
  try {
    for (const db of databases) await admin.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
    await admin.query("CHECKPOINT");
  } finally {
    await admin.end();
  }
}

async function createTargets(target: PgServer, databases: string[]): Promise<void> {
  const admin = await target.connect("postgres");
  try {
    for (const db of databases) await admin.query(`CREATE DATABASE "${db}"`);
  } finally {
    await admin.end();
  }
}

function shOut(file: string, args: string[], env: NodeJS.ProcessEnv): string {
  const r = spawnSync(file, args, { env, encoding: "utf8", maxBuffer: 1 << 28 });
  if (r.status !== 0)
    throw new Error(`${file} ${args.join(" ")} failed (${r.status}):\n${r.stderr}`);
  return r.stdout;
}

/** The copy's per-table streams (`table` done events), longest first. */
function longestStreams(jsonOut: string): { table: string; seconds: number; bytes: number }[] {
  const out: { table: string; seconds: number; bytes: number }[] = [];
  for (const line of jsonOut.split("\n")) {
    if (!line.startsWith("{")) continue;
    const e = JSON.parse(line) as Record<string, unknown>;
    if (e.event === "table" && e.state === "done") {
      out.push({
        table: `${String(e.database)}.${String(e.table)}`,
        seconds: Number(e.seconds),
        bytes: Number(e.bytes),
      });
    }
  }
  return out.sort((a, b) => b.seconds - a.seconds);
}

const streams: { table: string; seconds: number; bytes: number }[][] = [];

function timeIt(work: () => void): number {
  const t0 = process.hrtime.bigint();
  work();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main(): Promise<void> {
  const tools = ensurePgClientTools();
  const pgcopydb = ensurePgcopydb();
  console.log(`servers: PostgreSQL ${MAJOR} x2 on one machine (${os.cpus().length} cores)`);
  const source = await startPostgres({ major: MAJOR, durable: true, settings: SETTINGS });
  const target = await startPostgres({ major: MAJOR, durable: true, settings: SETTINGS });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "bench-migrate-"));
  try {
    const t0 = Date.now();
    const databases =
      FIXTURE === "real"
        ? (await createRealSchemaDatabases(source, { rows: ROWS, bigRows: BIG_ROWS }),
          Object.keys(REAL_DATABASES))
        : await createAirbyteDatabases(source, {
            scale: { jobs: JOBS, attemptsPerJob: 2, streamsPerJob: STREAMS },
          });
    // A live database is vacuumed and hinted; fresh inserts are not, and whichever method read
    // them first would pay for setting hint bits for the others.
    for (const db of databases) {
      const c = await source.connect(db);
      await c.query("VACUUM (FREEZE, ANALYZE)");
      await c.end();
    }
    const admin = await source.connect("postgres");
    const { rows } = await admin.query<{ bytes: string }>(
      `SELECT sum(pg_database_size(datname))::int8 - 3 * pg_database_size('template1') AS bytes
         FROM pg_database WHERE datname = ANY($1)`,
      [databases],
    );
    await admin.query("CHECKPOINT");
    await admin.end();
    const mb = Number(rows[0].bytes) / 1e6;
    console.log(
      `dataset: ${mb.toFixed(0)} MB in ${databases.join(", ")} (${FIXTURE === "real" ? `real schemas, ${ROWS} rows per table, ${BIG_ROWS} in the big ones` : `${JOBS} jobs`}), generated in ${((Date.now() - t0) / 1000).toFixed(0)} s`,
    );

    const cli = path.join(repo, "migrations/bin/airbyte-migrate.js");
    const migrateEnv = {
      ...process.env,
      SOURCE_DATABASE_URL: source.url(),
      TARGET_DATABASE_URL: target.url(),
      PG_DUMP: tools.pgDump,
    };
    const libpq = (server: PgServer, db: string) => ({
      ...process.env,
      PGHOST: server.host,
      PGPORT: String(server.port),
      PGUSER: "postgres",
      PGPASSWORD: server.password,
      PGDATABASE: db,
    });

    const methods: { name: string; run: () => Promise<number> }[] = [
      {
        name: "airbyte-migrate copy",
        run: async () =>
          timeIt(() => {
            const out = shOut(
              "node",
              [cli, "copy", "--no-verify", "--json", `--jobs=${PARALLEL}`],
              migrateEnv,
            );
            streams.push(longestStreams(out));
          }),
      },
      {
        name: `pg_dump -Fd -j${PARALLEL} -Z0 + pg_restore -j${PARALLEL}`,
        run: async () => {
          await createTargets(target, databases);
          return timeIt(() => {
            for (const db of databases) {
              const dir = path.join(work, `dump-${db}`);
              fs.rmSync(dir, { recursive: true, force: true });
              sh(tools.pgDump, ["-Fd", `-j${PARALLEL}`, "-Z0", "-f", dir], libpq(source, db));
              sh(
                tools.pgRestore,
                [`-j${PARALLEL}`, "--no-owner", "--no-privileges", "-d", db, dir],
                libpq(target, db),
              );
              fs.rmSync(dir, { recursive: true, force: true });
            }
          });
        },
      },
    ];
    if (pgcopydb) {
      methods.push({
        name: `pgcopydb clone (${PARALLEL} jobs)`,
        run: async () => {
          await createTargets(target, databases);
          return timeIt(() => {
            for (const db of databases) {
              const dir = path.join(work, `pgcopydb-${db}`);
              fs.rmSync(dir, { recursive: true, force: true });
              sh(pgcopydb, [
                "clone",
                `--source=${source.url(db)}`,
                `--target=${target.url(db)}`,
                `--dir=${dir}`,
                `--table-jobs=${PARALLEL}`,
                `--index-jobs=${PARALLEL}`,
                "--no-owner",
                "--no-acl",
              ]);
              fs.rmSync(dir, { recursive: true, force: true });
            }
          });
        },
      });
    } else {
      console.log("pgcopydb is not installed (apt-get install -y pgcopydb): skipping it");
    }

    const times = new Map<string, number[]>(methods.map((m) => [m.name, []]));
    const verifyTimes: number[] = [];
    for (let run = 1; run <= RUNS; run++) {
      for (const m of methods) {
        await resetTarget(target, databases);
        const s = await m.run();
        times.get(m.name)?.push(s);
        console.log(`run ${run}: ${m.name}: ${s.toFixed(1)} s`);
        if (m.name === "airbyte-migrate copy") {
          const v = timeIt(() => sh("node", [cli, "verify", `--jobs=${PARALLEL}`], migrateEnv));
          verifyTimes.push(v);
          console.log(`run ${run}: airbyte-migrate verify: ${v.toFixed(1)} s`);
        }
      }
    }
    const baseline = pgcopydb ? median(times.get(methods[methods.length - 1].name) ?? []) : NaN;
    console.log(
      `\n${MB(mb)} ${FIXTURE === "real" ? "real Airbyte/Temporal schemas" : "Airbyte-shaped"}, PostgreSQL ${MAJOR} -> ${MAJOR}, ${PARALLEL} jobs, median of ${RUNS}\n`,
    );
    console.log("| method | seconds | MB/s | speed vs pgcopydb |");
    console.log("|---|---|---|---|");
    for (const m of methods) {
      const s = median(times.get(m.name) ?? []);
      const ratio = Number.isNaN(baseline) ? "n/a" : (baseline / s).toFixed(2);
      console.log(`| ${m.name} | ${s.toFixed(1)} | ${(mb / s).toFixed(1)} | ${ratio} |`);
    }
    const copy = median(times.get("airbyte-migrate copy") ?? []);
    const verify = median(verifyTimes);
    console.log(
      `| airbyte-migrate verify | ${verify.toFixed(1)} | ${(mb / verify).toFixed(1)} | ${((100 * verify) / copy).toFixed(0)}% of copy time |`,
    );
    const last = streams[streams.length - 1] ?? [];
    console.log(
      `\nlongest single-table streams of the last airbyte-migrate copy (of ${copy.toFixed(1)} s):`,
    );
    for (const t of last.slice(0, 5)) {
      console.log(
        `  ${t.table}: ${t.seconds.toFixed(1)} s, ${(t.bytes / 1e6).toFixed(0)} MB, ${(t.bytes / 1e6 / Math.max(t.seconds, 0.001)).toFixed(1)} MB/s`,
      );
    }
  } finally {
    await source.stop();
    await target.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function MB(mb: number): string {
  return mb >= 1000 ? `${(mb / 1000).toFixed(2)} GB` : `${mb.toFixed(0)} MB`;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
