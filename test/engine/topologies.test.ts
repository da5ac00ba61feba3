/**
 * The real engine, forward: `pulumi up` of v0, then v0 → v1 → v2, each move previewed with
 * `pulumi preview --json` first. Asserted from the engine's own plan: nothing of prod is replaced
 * or deleted, and the set of changes equals what the offline `npm run diff` predicts for the same
 * move. Per topology the policy pack passes under `pulumi preview --policy-pack policy`, and a
 * violating change fails it. On core-worker-01 (a real PostgreSQL) the roles, databases, grants
 * and v2's subscription exist and replicate; the state holds no secret in plain text.
 * Run with `npm run test:engine` (README "Engine suite").
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXTERNAL_DATABASES } from "../../components/external-database";
import { NAMES } from "../../migrations/replication/chain";
import { PROBE_TABLE, prepareHub, subscriberPassword } from "./hub";
import { VIOLATION_ENV } from "./project/names";
import { REPO } from "./toolchain";
import {
  Op,
  PROD_NAMESPACE,
  SECRETS,
  World,
  changesOf,
  offlineChanges,
  offlineDiff,
  prodUrns,
  startWorld,
  urnKey,
  stateResources,
} from "./world";

let world: World;
const figures: Record<string, number> = {};

beforeAll(async () => {
  world = await startWorld();
});

afterAll(async () => {
  if (Object.keys(figures).length) console.log(`engine figures (ms): ${JSON.stringify(figures)}`);
  await world?.stop();
});

function sorted(m: Map<string, Op>): string[] {
  return [...m].map(([urn, op]) => `${op} ${urn}`).sort();
}

/** preview --json, the plan's checks, then the offline diff of the same move; returns the plan. */
async function previewMove(from: string, to: string) {
  const before = prodUrns(await stateResources(world.engine));
  const preview = await world.engine.preview();
  figures[`preview ${from}->${to}`] = preview.ms;
  const engine = changesOf(preview.steps);
  const prodHit = [...engine].filter(
    ([urn, op]) => before.has(urn) && (op === "replace" || op === "delete"),
  );
  expect(prodHit, "the engine plans to replace or delete prod resources").toEqual([]);
  const offline = await offlineDiff(world.engine, from, to);
  expect(offline.prodReplacedOrDeleted).toEqual([]);
  expect(sorted(engine)).toEqual(sorted(offlineChanges(offline)));
  // Prod's part of the change, both ways.
  const prodOf = (m: Map<string, Op>, prod: (urn: string) => boolean) =>
    sorted(new Map([...m].filter(([urn]) => prod(urn))));
  const offlineProd = new Set(offline.entries.filter((e) => e.prod).map((e) => urnKey(e.urn)));
  expect(prodOf(engine, (u) => before.has(u) || offlineProd.has(u))).toEqual(
    prodOf(offlineChanges(offline), (u) => offlineProd.has(u) || before.has(u)),
  );
  return preview;
}

async function policyPasses(topology: string): Promise<void> {
  const r = await world.engine.run(
    ["preview", "--stack", "engine", "--policy-pack", path.join(REPO, "policy")],
    { allowFail: true },
  );
  figures[`preview --policy-pack ${topology}`] = r.ms;
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
  expect(r.stdout).not.toMatch(/mandatory/i);
}

async function upAndCheckAdmission(extra: string[] = []): Promise<void> {
  const r = await world.engine.up(extra);
  // PodSecurity answers a workload object that breaks a namespace's enforced level with a
  // "would violate PodSecurity" warning naming the level (the pods would then be refused).
  const out = r.stdout + r.stderr;
  for (const level of ["baseline", "privileged"])
    expect(out).not.toContain(`would violate PodSecurity "${level}`);
  const restricted = out.match(/would violate PodSecurity "restricted[^\n]*/g) ?? [];
  if (restricted.length)
    console.log(`PodSecurity warn-level (restricted) warnings:\n${restricted.join("\n")}`);
}

async function query<T>(database: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = await world.coreWorker.connect(database);
  try {
    return (await c.query(sql, params)).rows as T[];
  } finally {
    await c.end();
  }
}

describe.sequential("the real engine, v0 → v1 → v2", () => {
  it("v0: pulumi up stores every object; the API server admits them", async () => {
    const preview = await world.engine.preview();
    figures["preview v0"] = preview.ms;
    expect(changesOf(preview.steps).size).toBeGreaterThan(50);
    await upAndCheckAdmission();
    const ns = await world.cluster.api<{ metadata: { labels: Record<string, string> } }>(
      `/api/v1/namespaces/${PROD_NAMESPACE}`,
    );
    expect(ns?.metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("baseline");
    const deployments = await world.cluster.api<{ items: unknown[] }>(
      `/apis/apps/v1/namespaces/${PROD_NAMESPACE}/deployments`,
    );
    expect(deployments?.items.length).toBeGreaterThan(3);
    // Nothing left to do: a second preview plans no change.
    expect(changesOf((await world.engine.preview()).steps).size).toBe(0);
  });

  it("v0: the policy pack passes, and a violating change fails it", async () => {
    await policyPasses("v0");
    const bad = await world.engine.run(
      ["preview", "--stack", "engine", "--policy-pack", path.join(REPO, "policy")],
      { allowFail: true, env: { [VIOLATION_ENV]: "1" } },
    );
    expect(bad.code).not.toBe(0);
    expect(bad.stdout + bad.stderr).toMatch(/no-secret-material/);
  });

  it("v0 → v1: the plan matches the offline diff; core-worker-01 gets roles, databases, grants", async () => {
    await world.setTopology("v1");
    await previewMove("v0", "v1");
    await upAndCheckAdmission();
    await policyPasses("v1");

    const roles = await query<{ rolname: string; rolsuper: boolean; rolcreatedb: boolean }>(
      "postgres",
      "SELECT rolname, rolsuper, rolcreatedb FROM pg_roles WHERE rolname IN ('airbyte', 'airbyte_migrate') ORDER BY 1",
    );
    expect(roles).toEqual([
      { rolname: "airbyte", rolsuper: false, rolcreatedb: false },
      { rolname: "airbyte_migrate", rolsuper: false, rolcreatedb: true },
    ]);
    const dbs = await query<{ datname: string; owner: string }>(
      "postgres",
      "SELECT datname, pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = ANY($1) ORDER BY 1",
      [Object.values(EXTERNAL_DATABASES)],
    );
    expect(dbs.map((d) => d.datname).sort()).toEqual(Object.values(EXTERNAL_DATABASES).sort());
    for (const d of dbs) expect(d.owner).toBe("airbyte");
    const [grants] = await query<{ pub: boolean; migrate: boolean }>(
      "postgres",
      `SELECT has_database_privilege('public', 'db-airbyte', 'CONNECT') AS pub,
              has_database_privilege('airbyte_migrate', 'db-airbyte', 'CONNECT') AS migrate`,
    );
    expect(grants).toEqual({ pub: false, migrate: true });
  });

  it("v1 → v2: the plan matches the offline diff; the subscription exists and replicates", async () => {
    await world.setTopology("v2");
    const preview = await previewMove("v1", "v2");
    const sub = preview.steps.find((s) =>
      s.urn.endsWith("Subscription::replication-hub-core-worker-subscription"),
    );
    expect(sub?.op).toBe("create");
    // First everything but the subscription (as if the setup Job then ran), then the rest.
    await upAndCheckAdmission(["--exclude", sub!.urn]);
    await prepareHub(world);
    await upAndCheckAdmission();
    await policyPasses("v2");

    const subs = await query<{ subname: string; subenabled: boolean; subpublications: string[] }>(
      EXTERNAL_DATABASES.airbyte,
      "SELECT subname, subenabled, subpublications FROM pg_subscription",
    );
    expect(subs).toEqual([
      {
        subname: NAMES.replicaSubscription,
        subenabled: true,
        subpublications: [NAMES.hubPublication],
      },
    ]);
    const hub = await world.hub.connect(EXTERNAL_DATABASES.airbyte);
    try {
      await hub.query(
        `INSERT INTO ${PROBE_TABLE} VALUES (1, 'through the engine''s subscription')`,
      );
    } finally {
      await hub.end();
    }
    const deadline = Date.now() + 60_000;
    let rows: { note: string }[] = [];
    while (Date.now() < deadline && rows.length === 0) {
      rows = await query<{ note: string }>(
        EXTERNAL_DATABASES.airbyte,
        `SELECT note FROM ${PROBE_TABLE}`,
      );
      if (!rows.length) await new Promise((r) => setTimeout(r, 500));
    }
    expect(rows).toEqual([{ note: "through the engine's subscription" }]);
  });

  it("the state file holds no secret value in plain text", async () => {
    const values = new Set<string>([...Object.values(SECRETS), await subscriberPassword(world)]);
    // Every password-like value the stack put into a Kubernetes Secret (generated ones included).
    const secrets = await world.cluster.api<{
      items: { metadata: { name: string }; data?: Record<string, string> }[];
    }>("/api/v1/secrets");
    for (const s of secrets?.items ?? [])
      for (const [k, v] of Object.entries(s.data ?? {})) {
        const plain = Buffer.from(v, "base64").toString("utf8");
        if (/password|secret|token|key|url/i.test(k) && plain.length >= 12) values.add(plain);
      }
    expect(values.size).toBeGreaterThan(5);
    const files: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true }))
        if (e.isDirectory()) walk(path.join(d, e.name));
        else files.push(path.join(d, e.name));
    };
    walk(world.engine.stateDir);
    walk(world.engine.dir);
    const leaks: string[] = [];
    for (const f of files) {
      if (fs.lstatSync(f).isSymbolicLink()) continue;
      const text = fs.readFileSync(f, "utf8");
      for (const v of values)
        if (text.includes(v)) leaks.push(`${path.relative(world.root, f)}: ${v.slice(0, 4)}…`);
    }
    expect(leaks).toEqual([]);
  });
});
