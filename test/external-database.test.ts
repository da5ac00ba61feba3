import { beforeAll, describe, expect, it } from "vitest";
import { ExternalDatabase } from "../components/external-database";
import { Graph, RecordedResource, runGraph } from "./support/graph";

const ADMIN_PASSWORD = "admin-pw-3d9f01";
const TYPE = "airbyte:database:ExternalDatabase";

describe("ExternalDatabase", () => {
  let graph: Graph;
  let component: RecordedResource;
  let provider: RecordedResource;
  const byName = (name: string) => {
    const r = graph.resources.find((x) => x.name === name);
    if (!r) throw new Error(`no resource ${name}`);
    return r;
  };

  beforeAll(async () => {
    graph = await runGraph(
      () =>
        new ExternalDatabase("core-worker-01", {
          host: "core-worker-01.example.internal",
          adminPassword: ADMIN_PASSWORD,
        }),
    );
    [component] = graph.components(TYPE);
    [provider] = graph.ofType("pulumi:providers:postgresql");
  });

  it("creates a provider for the host with the defaults, the password a secret", () => {
    expect(provider.name).toBe("core-worker-01-provider");
    expect(provider.inputs).toMatchObject({
      host: "core-worker-01.example.internal",
      port: "5432",
      username: "postgres",
      password: ADMIN_PASSWORD,
      sslmode: "require",
      superuser: "true",
      database: "postgres",
    });
    expect(provider.secretPaths).toContain("password");
  });

  it("creates a least-privilege Airbyte role and a migration role that is its member", () => {
    const airbyte = byName("core-worker-01-airbyte-role");
    expect(airbyte.inputs).toMatchObject({
      name: "airbyte",
      login: true,
      superuser: false,
      createDatabase: false,
      createRole: false,
      replication: false,
    });
    expect(airbyte.inputs.roles).toBeUndefined();
    const migration = byName("core-worker-01-migration-role");
    expect(migration.inputs).toMatchObject({
      name: "airbyte_migrate",
      login: true,
      superuser: false,
      createDatabase: true,
      createRole: false,
      replication: false,
      roles: ["airbyte"],
    });
    for (const role of [airbyte, migration]) {
      expect(String(role.inputs.password)).toMatch(/^[A-Za-z0-9]{32}$/);
      expect(role.secretPaths).toContain("password");
    }
    expect(airbyte.inputs.password).not.toBe(migration.inputs.password);
  });

  it("creates the three databases owned by the Airbyte role, kept on delete", () => {
    const dbs = graph.ofType("postgresql:index/database:Database");
    expect(dbs.map((d) => d.inputs.name).sort()).toEqual([
      "db-airbyte",
      "temporal",
      "temporal_visibility",
    ]);
    for (const d of dbs) {
      expect(d.inputs).toMatchObject({ owner: "airbyte", encoding: "UTF8", template: "template0" });
    }
    expect(byName("core-worker-01-db-airbyte").inputs.name).toBe("db-airbyte");
    expect(byName("core-worker-01-temporal-visibility").inputs.name).toBe("temporal_visibility");
  });

  it("revokes PUBLIC's CONNECT on each database and grants the migration role CONNECT", () => {
    const grants = graph.ofType("postgresql:index/grant:Grant");
    const revokes = grants.filter((g) => g.inputs.role === "public");
    expect(revokes.map((g) => g.inputs.database).sort()).toEqual([
      "db-airbyte",
      "temporal",
      "temporal_visibility",
    ]);
    for (const g of revokes)
      expect(g.inputs).toMatchObject({ objectType: "database", privileges: [] });
    const connect = grants.filter((g) => g.inputs.role === "airbyte_migrate");
    expect(connect.map((g) => g.inputs)).toEqual([
      {
        database: "db-airbyte",
        role: "airbyte_migrate",
        objectType: "database",
        privileges: ["CONNECT"],
      },
    ]);
  });

  it("puts every postgresql resource on its own provider, parented to the component", () => {
    const pg = graph.resources.filter((r) => r.type.startsWith("postgresql:"));
    expect(pg).toHaveLength(9);
    for (const r of pg) expect(r.provider?.replace(/::[^:]+$/, ""), r.urn).toBe(provider.urn);
    const all = graph.resources.filter(
      (r) => r.urn !== component.urn && r.type !== "pulumi:pulumi:Stack",
    );
    const below = graph.descendantsOf(component);
    for (const r of all) expect(below, r.urn).toContain(r);
  });

  it("outputs the connection details, passwords as secrets", () => {
    const out = component.outputs ?? {};
    expect(out).toMatchObject({
      host: "core-worker-01.example.internal",
      port: 5432,
      sslMode: "require",
      airbyteUser: "airbyte",
      migrationUser: "airbyte_migrate",
      databases: {
        airbyte: "db-airbyte",
        temporal: "temporal",
        temporalVisibility: "temporal_visibility",
      },
    });
    expect(String(out.airbytePassword)).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(component.secretOutputPaths).toEqual(
      expect.arrayContaining(["airbytePassword", "migrationPassword"]),
    );
    expect(component.secretOutputPaths).not.toContain("host");
  });

  it("refuses bad role names before creating anything", () => {
    expect(
      () => new ExternalDatabase("x", { host: "h", adminPassword: "p", airbyteRole: "Air-Byte" }),
    ).toThrow(/airbyteRole 'Air-Byte' is not a plain role name/);
    expect(
      () =>
        new ExternalDatabase("x", {
          host: "h",
          adminPassword: "p",
          airbyteRole: "same",
          migrationRole: "same",
        }),
    ).toThrow(/must differ/);
  });
});

describe("ExternalDatabase with a non-superuser admin", () => {
  it("keeps the admin a member of the Airbyte role, so the REVOKE of PUBLIC takes effect", async () => {
    const graph = await runGraph(
      () =>
        new ExternalDatabase("core-worker-01", {
          host: "core-worker-01.example.internal",
          adminUser: "cw_admin",
          adminPassword: ADMIN_PASSWORD,
          adminIsSuperuser: false,
        }),
    );
    const members = graph.ofType("postgresql:index/grantRole:GrantRole");
    expect(members.map((m) => m.inputs)).toEqual([{ role: "cw_admin", grantRole: "airbyte" }]);
    const [provider] = graph.ofType("pulumi:providers:postgresql");
    expect(provider.inputs.superuser).toBe("false");
  });
});
