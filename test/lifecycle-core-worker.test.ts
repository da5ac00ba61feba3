/**
 * core-worker-01 through topology moves and `destroy`, on a real PostgreSQL with the PostgreSQL
 * provider's own statements (test/support/pg-provider.ts, with provenance): the recorded program
 * runs of the `v1` example stack at topology v1 and v0 are applied in turn, as `pulumi up` would.
 *
 * - v0 → v1 → v0 → v1 works and keeps what Airbyte wrote (v0 keeps managing the server while the
 *   stack names it, so nothing leaves the state);
 * - `destroy` leaves the databases and the roles owning objects in them (retainOnDelete);
 * - `airbyte:protectData false` then really deletes;
 * - the old program (v0 without core-worker-01; roles not retained) fails as issue 11 says:
 *   `DROP ROLE` on the way to v0, then `CREATE ... already exists` on the way back.
 */
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RecordedResource } from "../infra/mock-runtime";
import { recordSide } from "../infra/render/diff-run";
import { ProviderStandIn, State } from "./support/pg-provider";
import { PgServer, startPostgres } from "./support/postgres";

let v1: RecordedResource[];
let v0: RecordedResource[];
let v1Unprotected: RecordedResource[];
const servers: PgServer[] = [];

beforeAll(async () => {
  [v1, v0, v1Unprotected] = (
    await Promise.all([
      recordSide({ stack: "v1", config: { topology: "v1" } }),
      recordSide({ stack: "v1", config: { topology: "v0" } }),
      recordSide({ stack: "v1", config: { topology: "v1", protectData: "false" } }),
    ])
  ).map((s) => s.resources);
}, 300_000);
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

async function server(): Promise<PgServer> {
  const s = await startPostgres({ major: 15 });
  servers.push(s);
  return s;
}

const role = (run: RecordedResource[], name: string) =>
  run.find(
    (r) => r.type === "postgresql:index/role:Role" && r.inputs.name === name,
  ) as RecordedResource;

/** What Airbyte and Temporal do once running: tables owned by the Airbyte role, with rows. */
async function writeAsAirbyte(s: PgServer, run: RecordedResource[]): Promise<void> {
  const password = String(role(run, "airbyte").inputs.password);
  for (const db of ["db-airbyte", "temporal"]) {
    const c = new Client({ connectionString: s.url(db, "airbyte", password) });
    await c.connect();
    await c.query("CREATE TABLE IF NOT EXISTS kept (id int PRIMARY KEY)");
    await c.query("INSERT INTO kept VALUES (42) ON CONFLICT DO NOTHING");
    await c.end();
  }
}

async function keptRows(s: PgServer): Promise<number[]> {
  const c = await s.connect("db-airbyte");
  try {
    const { rows } = await c.query<{ id: number }>("SELECT id FROM kept");
    return rows.map((r) => r.id);
  } finally {
    await c.end();
  }
}

async function exists(s: PgServer, what: "role" | "database", name: string): Promise<boolean> {
  const c = await s.connect("postgres");
  try {
    const sql =
      what === "role"
        ? "SELECT 1 FROM pg_roles WHERE rolname = $1"
        : "SELECT 1 FROM pg_database WHERE datname = $1";
    return (await c.query(sql, [name])).rowCount === 1;
  } finally {
    await c.end();
  }
}

describe("core-worker-01 across topology moves and destroy", () => {
  it("v0 keeps the server's roles, databases and grants under the same URNs as v1", () => {
    const pgOf = (run: RecordedResource[]) =>
      run
        .filter((r) => r.type.startsWith("postgresql:"))
        .map((r) => r.urn)
        .sort();
    expect(pgOf(v1).length).toBeGreaterThanOrEqual(9); // 2 roles, 3 databases, 4 grants
    expect(pgOf(v0)).toEqual(pgOf(v1));
  });

  it("v0 → v1 → v0 → v1 works and keeps core-worker-01's data", async () => {
    const s = await server();
    const p = new ProviderStandIn(s);
    let state: State = new Map();
    state = await p.up(
      state,
      v0.filter((r) => !r.type.startsWith("postgresql:")),
    ); // plain v0
    state = await p.up(state, v1);
    await writeAsAirbyte(s, v1);
    state = await p.up(state, v0);
    state = await p.up(state, v1);
    state = await p.up(state, v0);
    state = await p.up(state, v1);
    expect(p.steps.filter((x) => x.op !== "create")).toEqual([]);
    expect(await keptRows(s)).toEqual([42]);
    // And destroy: the engine forgets the databases and roles, revokes only the grants.
    state = await p.up(state, []);
    expect(state.size).toBe(0);
    expect(
      p.steps
        .filter((x) => x.op === "delete")
        .every((x) => x.name.includes("-revoke-public") || x.name.endsWith("-connect")),
    ).toBe(true);
    for (const n of ["airbyte", "airbyte_migrate"]) expect(await exists(s, "role", n)).toBe(true);
    for (const n of ["db-airbyte", "temporal", "temporal_visibility"])
      expect(await exists(s, "database", n)).toBe(true);
    expect(await keptRows(s)).toEqual([42]);
  });

  it("airbyte:protectData false: nothing is protected or retained but the claim patches", () => {
    const kept = v1Unprotected.filter((r) => r.protect || r.retainOnDelete).map((r) => r.type);
    expect(new Set(kept)).toEqual(new Set(["kubernetes:core/v1:PersistentVolumeClaimPatch"]));
    const protectedByDefault = v1.filter((r) => r.protect).map((r) => r.name);
    expect(protectedByDefault).toEqual(["airbyte-prod-namespace"]);
  });

  it("airbyte:protectData false: destroy really drops the databases and roles", async () => {
    const s = await server();
    const p = new ProviderStandIn(s);
    const state = await p.up(new Map(), v1Unprotected);
    await writeAsAirbyte(s, v1Unprotected);
    expect((await p.up(state, [])).size).toBe(0);
    expect(p.steps.filter((x) => x.op === "forget")).toEqual([]);
    for (const n of ["airbyte", "airbyte_migrate"]) expect(await exists(s, "role", n)).toBe(false);
    for (const n of ["db-airbyte", "temporal", "temporal_visibility"])
      expect(await exists(s, "database", n)).toBe(false);
  });

  it("the old program fails as the issue says: DROP ROLE going to v0, CREATE coming back", async () => {
    const oldV0 = v0.filter((r) => !r.type.startsWith("postgresql:"));
    const rolesNotRetained = v1.map((r) =>
      r.type === "postgresql:index/role:Role" ? { ...r, retainOnDelete: false } : r,
    );
    const s = await server();
    const p = new ProviderStandIn(s);
    const state = await p.up(new Map(), rolesNotRetained);
    await writeAsAirbyte(s, rolesNotRetained);
    await expect(p.up(state, oldV0)).rejects.toThrow(
      /role "airbyte_migrate" cannot be dropped|role "airbyte" cannot be dropped/,
    );

    // Roles retained but v0 without the server: v0 works, the way back does not.
    const s2 = await server();
    const p2 = new ProviderStandIn(s2);
    let state2 = await p2.up(new Map(), v1);
    await writeAsAirbyte(s2, v1);
    state2 = await p2.up(state2, oldV0);
    await expect(p2.up(state2, v1)).rejects.toThrow(/already exists/);
  });
});
