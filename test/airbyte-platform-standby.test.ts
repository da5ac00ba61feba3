import { beforeAll, describe, expect, it } from "vitest";
import { Graph, metadataOf, runGraph } from "./support/graph";
import { expectRestrictedWorkload } from "./support/workload-checks";
import { SERVICES, platformProgram, replicasOf } from "./support/airbyte-platform-fixture";

// DESIGN D8: a standby runs nothing that touches its database, yet every object exists so that
// activation is a replica-count change plus the bootloader run.
describe("AirbytePlatform (standby)", () => {
  let graph: Graph;
  beforeAll(async () => {
    graph = await runGraph(
      platformProgram((a) => ({
        ...a,
        role: "standby",
        replicas: { server: 2, worker: 3, workloadLauncher: 2 },
      })),
    );
  });

  it("keeps every Deployment at zero replicas, schedulers included", () => {
    expect(graph.kube("Deployment")).toHaveLength(SERVICES.length);
    for (const svc of SERVICES) {
      expect(replicasOf(graph.one("Deployment", `airbyte-prod-${svc}`)), svc).toBe(0);
    }
  });

  it("runs no bootloader, and no Deployment waits for one", () => {
    expect(graph.kube("Job")).toHaveLength(0);
    const jobs = graph.resources.filter((r) => r.type === "kubernetes:batch/v1:Job");
    expect(jobs).toHaveLength(0);
    for (const d of graph.kube("Deployment")) {
      const deps = d.dependencies.map((u) => graph.byUrn(u)?.type);
      expect(deps, metadataOf(d).name).not.toContain("kubernetes:batch/v1:Job");
    }
  });

  it("still has the Services, ConfigMap, Secrets and RBAC activation needs", () => {
    expect(
      graph
        .kube("Service")
        .map((r) => metadataOf(r).name)
        .sort(),
    ).toEqual([
      "airbyte-prod-connector-builder-server",
      "airbyte-prod-server",
      "airbyte-prod-workload-api-server",
    ]);
    graph.one("ConfigMap", "airbyte-prod-airbyte-env");
    graph.one("Secret", "airbyte-prod-airbyte-secrets");
    graph.one("Secret", "airbyte-auth-secrets");
    graph.one("Role", "airbyte-prod-workload-launcher");
    graph.one("Role", "airbyte-prod-bootloader");
    graph.one("ServiceAccount", "airbyte-prod-job");
  });

  it("keeps the workloads well-formed while idle", () => {
    for (const w of graph.workloads()) expectRestrictedWorkload(w);
  });

  it("reports its role", () => {
    const platform = graph.components("airbyte:platform:AirbytePlatform")[0];
    expect(platform.outputs).toMatchObject({ role: "standby", serverPort: 8001 });
  });
});
