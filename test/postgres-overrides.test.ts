import { beforeAll, describe, expect, it } from "vitest";
import { Postgres } from "../components/postgres";
import { Graph, podSpecOf, runGraph } from "./support/graph";

describe("Postgres overrides", () => {
  let graph: Graph;
  beforeAll(async () => {
    graph = await runGraph(() => {
      new Postgres("hub", {
        namespace: "airbyte-prod",
        instanceName: "airbyte-hub",
        databases: ["db-airbyte"],
        username: "hub",
        storageSize: "100Gi",
        storageClassName: "fast-ssd",
        settings: { wal_level: "logical", max_connections: "300" },
        resources: { requests: { cpu: "1", memory: "4Gi" }, limits: { cpu: "2", memory: "8Gi" } },
      });
    });
  });

  it("applies the overrides", () => {
    const sts = graph.one("StatefulSet", "airbyte-hub-db");
    const spec = sts.inputs.spec as { volumeClaimTemplates: { spec: Record<string, unknown> }[] };
    expect(spec.volumeClaimTemplates[0].spec).toMatchObject({
      storageClassName: "fast-ssd",
      resources: { requests: { storage: "100Gi" } },
    });
    const c = podSpecOf(sts).containers[0];
    expect(c.args).toEqual(["-c", "max_connections=300", "-c", "wal_level=logical"]);
    expect(c.resources).toEqual({
      requests: { cpu: "1", memory: "4Gi" },
      limits: { cpu: "2", memory: "8Gi" },
    });
  });

  it("creates no extra databases when only one is asked for", () => {
    const init = graph.one("ConfigMap", "airbyte-hub-db-init");
    expect((init.inputs.data as Record<string, string>)["10-create-databases.sh"]).not.toContain(
      "CREATE DATABASE",
    );
  });

  it("rejects names that would break the init script", () => {
    expect(
      () =>
        new Postgres("bad", {
          namespace: "x",
          instanceName: "x",
          databases: ['x"; DROP'],
        }),
    ).toThrow(/databases: 'x"; DROP' is not a plain database name/);
    expect(
      () => new Postgres("bad2", { namespace: "x", instanceName: "x", settings: { "a b": "1" } }),
    ).toThrow(/settings: 'a b=1' is not a plain server setting/);
  });
});
