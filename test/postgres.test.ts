import { beforeAll, describe, expect, it } from "vitest";
import { Postgres } from "../components/postgres";
import { IMAGES } from "../infra/versions";
import { Graph, envOf, metadataOf, podSpecOf, runGraph } from "./support/graph";
import { expectRestrictedWorkload } from "./support/workload-checks";

describe("Postgres", () => {
  let graph: Graph;
  beforeAll(async () => {
    graph = await runGraph(() => {
      new Postgres("prod-db", { namespace: "airbyte-prod", instanceName: "airbyte-prod" });
    });
  });

  it("creates a StatefulSet with a data volume, a Service, credentials and an init script", () => {
    const sts = graph.one("StatefulSet", "airbyte-prod-db");
    const spec = sts.inputs.spec as Record<string, unknown>;
    expect(spec.serviceName).toBe("airbyte-prod-db");
    expect(spec.volumeClaimTemplates).toEqual([
      {
        metadata: { name: "data" },
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "20Gi" } } },
      },
    ]);
    const svc = graph.one("Service", "airbyte-prod-db");
    expect((svc.inputs.spec as { ports: unknown[] }).ports).toEqual([
      { name: "postgres", port: 5432, targetPort: "postgres", protocol: "TCP" },
    ]);
    graph.one("Secret", "airbyte-prod-db-credentials");
    const init = graph.one("ConfigMap", "airbyte-prod-db-init");
    const script = (init.inputs.data as Record<string, string>)["10-create-databases.sh"];
    expect(script).toContain(`CREATE DATABASE "temporal"`);
    expect(script).toContain(`CREATE DATABASE "temporal_visibility"`);
    expect(script).not.toContain(`CREATE DATABASE "db-airbyte"`);
  });

  it("runs PostgreSQL 13 as uid 70 with db-airbyte as its default database", () => {
    const pod = podSpecOf(graph.one("StatefulSet", "airbyte-prod-db"));
    const c = pod.containers[0];
    expect(c.image).toBe(IMAGES.postgres);
    expect(pod.securityContext).toMatchObject({ runAsUser: 70, fsGroup: 70, runAsNonRoot: true });
    const env = envOf(c);
    expect(env.get("POSTGRES_DB")?.value).toBe("db-airbyte");
    expect(env.get("POSTGRES_PASSWORD")?.valueFrom?.secretKeyRef).toEqual({
      name: "airbyte-prod-db-credentials",
      key: "password",
    });
    expect(c.args).toEqual(["-c", "max_connections=150"]);
  });

  it("has probes, bounds, a restricted security context and labels", () => {
    expectRestrictedWorkload(graph.one("StatefulSet", "airbyte-prod-db"));
  });

  it("keeps the generated password secret", () => {
    const secret = graph.one("Secret", "airbyte-prod-db-credentials");
    expect(secret.secretPaths).toContain("stringData");
    const component = graph.components("airbyte:database:Postgres")[0];
    expect(component.secretOutputPaths).toContain("password");
  });

  it("parents every child to the component and registers its outputs", () => {
    const component = graph.components("airbyte:database:Postgres")[0];
    const owned = graph.descendantsOf(component).map((r) => r.urn);
    const all = graph.resources.filter((r) => r !== component && r.type !== "pulumi:pulumi:Stack");
    expect(owned.sort()).toEqual(all.map((r) => r.urn).sort());
    expect(component.outputs).toMatchObject({
      host: "airbyte-prod-db.airbyte-prod.svc.cluster.local",
      port: 5432,
      serviceName: "airbyte-prod-db",
      username: "airbyte",
      secretName: "airbyte-prod-db-credentials",
      databases: ["db-airbyte", "temporal", "temporal_visibility"],
    });
    expect(String(component.outputs?.password)).toHaveLength(32);
  });

  it("labels every object", () => {
    for (const r of graph.resources.filter((x) => x.type.startsWith("kubernetes:"))) {
      expect(metadataOf(r).labels).toMatchObject({
        "app.kubernetes.io/name": "postgres",
        "app.kubernetes.io/instance": "airbyte-prod",
        "app.kubernetes.io/part-of": "airbyte",
        "app.kubernetes.io/managed-by": "pulumi",
      });
    }
  });
});
