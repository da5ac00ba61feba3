/**
 * The real engine, back: v0 → v1 → v2 → v1 → v0, then `pulumi destroy`, with the data
 * protections of the lifecycle work (retained core-worker-01 roles and databases, prod's protected
 * and retained namespace). Each backward move is previewed: nothing of prod is replaced or
 * deleted, and the changes equal the offline diff's. What must survive survives.
 * Needs the protections from branch `lifecycle`; run with `npm run test:engine`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXTERNAL_DATABASES } from "../../components/external-database";
import { prepareHub } from "./hub";
import {
  Op,
  PROD_NAMESPACE,
  World,
  changesOf,
  offlineChanges,
  offlineDiff,
  prodUrns,
  startWorld,
  stateResources,
} from "./world";

let world: World;

beforeAll(async () => {
  world = await startWorld();
  // Forward without previews (topologies.test.ts checks those).
  await world.engine.up();
  await world.setTopology("v1");
  await world.engine.up();
  await world.setTopology("v2");
  const preview = await world.engine.preview();
  const sub = preview.steps.find(
    (s) =>
      s.type === "postgresql:index/subscription:Subscription" ||
      s.urn.endsWith("Subscription::replication-hub-core-worker-subscription"),
  );
  if (!sub) throw new Error("v2 plans no subscription");
  await world.engine.up(["--exclude", sub.urn]);
  await prepareHub(world);
  await world.engine.up();
}, 1_800_000);

afterAll(async () => {
  await world?.stop();
});

const sorted = (m: Map<string, Op>) => [...m].map(([u, op]) => `${op} ${u}`).sort();

async function moveBack(from: string, to: "v1" | "v0"): Promise<void> {
  await world.setTopology(to);
  const prod = prodUrns(await stateResources(world.engine));
  const plan = changesOf((await world.engine.preview()).steps);
  const hit = [...plan].filter(([u, op]) => prod.has(u) && (op === "replace" || op === "delete"));
  expect(hit, "the engine plans to replace or delete prod resources").toEqual([]);
  // Moving back deletes the hub's or the standby's namespace, whose claims hold copies only: the
  // diff blocks on them (the runbooks say to read the report, then accept it), never on prod.
  const offline = await offlineDiff(world.engine, from, to, true);
  expect(offline.prodReplacedOrDeleted).toEqual([]);
  expect(offline.hazardous.filter((h) => h.prod)).toEqual([]);
  expect(offline.hazardous.map((h) => `${h.op} ${h.type}`)).toEqual([
    "delete kubernetes:core/v1:Namespace",
  ]);
  expect(sorted(plan)).toEqual(sorted(offlineChanges(offline)));
  await world.engine.up();
}

async function coreWorkerObjects(): Promise<{ roles: string[]; databases: string[] }> {
  const c = await world.coreWorker.connect("postgres");
  try {
    const roles = await c.query<{ rolname: string }>(
      "SELECT rolname FROM pg_roles WHERE rolname IN ('airbyte', 'airbyte_migrate') ORDER BY 1",
    );
    const dbs = await c.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname = ANY($1) ORDER BY 1",
      [Object.values(EXTERNAL_DATABASES)],
    );
    return { roles: roles.rows.map((r) => r.rolname), databases: dbs.rows.map((r) => r.datname) };
  } finally {
    await c.end();
  }
}

const ALL = {
  roles: ["airbyte", "airbyte_migrate"],
  databases: Object.values(EXTERNAL_DATABASES).sort(),
};

describe.sequential("the real engine, v2 → v1 → v0 → destroy", () => {
  it("v2 → v1: the subscription goes, prod and core-worker-01's data stay", async () => {
    await moveBack("v2", "v1");
    const c = await world.coreWorker.connect(EXTERNAL_DATABASES.airbyte);
    try {
      expect((await c.query("SELECT subname FROM pg_subscription")).rows).toEqual([]);
    } finally {
      await c.end();
    }
    expect(await coreWorkerObjects()).toEqual(ALL);
  });

  it("v1 → v0: core-worker-01's roles and databases are retained", async () => {
    await moveBack("v1", "v0");
    expect(await coreWorkerObjects()).toEqual(ALL);
  });

  it("pulumi destroy leaves prod's namespace and core-worker-01's data", async () => {
    const r = await world.engine.run([
      "destroy",
      "--yes",
      "--skip-preview",
      "--stack",
      "engine",
      "--exclude-protected",
    ]);
    expect(r.code).toBe(0);
    const ns = await world.cluster.api<{ metadata: { deletionTimestamp?: string } }>(
      `/api/v1/namespaces/${PROD_NAMESPACE}`,
    );
    expect(ns, "prod's namespace was deleted").toBeDefined();
    expect(ns?.metadata.deletionTimestamp, "prod's namespace is being deleted").toBeUndefined();
    expect(await coreWorkerObjects()).toEqual(ALL);
  });
});
