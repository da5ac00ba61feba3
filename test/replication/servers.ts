/**
 * The three servers of the replication tests: prod (PostgreSQL 13, as Airbyte's bundled
 * database) filled with the Airbyte fixture, the hub (the major the program deploys it with,
 * 17) and core-worker-01 (15 here; the upgrade test runs 17), plus the checks the tests share
 * (core-worker-01 caught up, same rows on both ends) and TLS on a server.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { expect } from "vitest";
import { IMAGES } from "../../infra/versions";
import { allRows, userTables } from "../migrations/cli-helpers";
import { createAirbyteDatabases } from "../support/pg-airbyte-fixture";
import { ensurePgClientTools } from "../support/pg-client-tools";
import { PgMajor, PgServer, startPostgres } from "../support/postgres";

/** The major of a `postgres:<major>.<minor>-...` image, as one the tests can run. */
export function imageMajor(image: string): PgMajor {
  const m = /^postgres:(\d+)\./.exec(image);
  const major = Number(m?.[1]);
  if (major !== 13 && major !== 15 && major !== 17) {
    throw new Error(`no test server package for ${image}: add one to package.json (pg${major})`);
  }
  return major;
}

/** Prod's bundled database and the hub, at the majors the program deploys them with. */
export const PROD_MAJOR = imageMajor(IMAGES.postgres);
export const HUB_MAJOR = imageMajor(IMAGES.hubPostgres);

export interface ChainServers {
  prod: PgServer;
  hub: PgServer;
  replica: PgServer;
}

export const PASSWORDS = {
  prod: "prod-pw-Secret1",
  hub: "hub-pw-Secret2",
  replica: "replica-pw-Secret3",
} as const;

const logical = { wal_level: "logical", max_replication_slots: 10, max_wal_senders: 10 };

/** Start prod, the hub and core-worker-01; prod gets `db-airbyte` with 2000 jobs. */
export async function startChainServers(replicaMajor: PgMajor = 15): Promise<ChainServers> {
  ensurePgClientTools();
  const [prod, hub, replica] = await Promise.all([
    startPostgres({ major: PROD_MAJOR, settings: logical, password: PASSWORDS.prod }),
    startPostgres({ major: HUB_MAJOR, settings: logical, password: PASSWORDS.hub }),
    startPostgres({ major: replicaMajor, settings: logical, password: PASSWORDS.replica }),
  ]);
  await createAirbyteDatabases(prod, { scale: { jobs: 2000 }, temporal: false });
  return { prod, hub, replica };
}

/**
 * Serve TLS with a fresh self-signed certificate (`server.crt`/`server.key` in the data
 * directory, PostgreSQL's defaults), switched on by a reload: clients can then use
 * `sslmode=require`, as the v2 stack's do.
 */
export async function enableTls(server: PgServer): Promise<void> {
  const crt = path.join(server.dataDir, "server.crt");
  const key = path.join(server.dataDir, "server.key");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
    ].concat(["-keyout", key, "-out", crt]),
    { stdio: "pipe" },
  );
  const owner = fs.statSync(server.dataDir);
  for (const f of [crt, key]) {
    fs.chownSync(f, owner.uid, owner.gid);
    fs.chmodSync(f, 0o600);
  }
  const c = await server.connect("postgres");
  try {
    await c.query("ALTER SYSTEM SET ssl = on");
    await c.query("SELECT pg_reload_conf()");
    for (let i = 0; i < 50; i++) {
      const { rows } = await c.query<{ s: string }>("SELECT current_setting('ssl') AS s");
      if (rows[0].s === "on") return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error("ssl did not switch on after the reload");
  } finally {
    await c.end();
  }
}

/** Wait until core-worker-01 holds prod's highest job id (both hops applied). */
export async function caughtUp(
  prod: PgServer,
  replica: PgServer,
  timeoutMs = 30_000,
): Promise<void> {
  const p = await prod.connect("db-airbyte");
  const r = await replica.connect("db-airbyte");
  try {
    const deadline = Date.now() + timeoutMs;
    const want = (await p.query<{ m: string }>("SELECT max(id)::text AS m FROM jobs")).rows[0].m;
    for (;;) {
      const got = (await r.query<{ m: string }>("SELECT max(id)::text AS m FROM jobs")).rows[0].m;
      if (got === want) return;
      if (Date.now() > deadline) throw new Error(`replica at job ${got}, prod at ${want}`);
      await new Promise((res) => setTimeout(res, 50));
    }
  } finally {
    await Promise.all([p.end(), r.end()]);
  }
}

/** Every table of `db-airbyte` holds the same rows on prod and core-worker-01. */
export async function expectSameRows(prod: PgServer, replica: PgServer): Promise<void> {
  const p = await prod.connect("db-airbyte");
  const r = await replica.connect("db-airbyte");
  try {
    const tables = await userTables(p);
    expect(await userTables(r)).toEqual(tables);
    for (const t of tables) {
      expect(await allRows(r, t), t).toEqual(await allRows(p, t));
    }
  } finally {
    await Promise.all([p.end(), r.end()]);
  }
}
