/** PodDisruptionBudgets, with several replicas configured, and the pack passing on that graph. */
import { beforeAll, describe, expect, it } from "vitest";
import { runPolicies, formatViolations } from "../policy/offline";
import { VALID_V0 } from "./support/config";
import { Graph, metadataOf } from "./support/graph";
import { runStack } from "./support/stack";

interface DeploymentSpec {
  replicas: number;
  selector: { matchLabels: Record<string, string> };
}

const REPLICATED = [
  "airbyte-prod-oauth2-proxy",
  "airbyte-prod-server",
  "airbyte-prod-worker",
  "airbyte-prod-workload-launcher",
  "airbyte-prod-workload-api-server",
  "airbyte-prod-connector-builder-server",
];

describe("PodDisruptionBudgets", () => {
  let graph: Graph;
  beforeAll(async () => {
    graph = await runStack({
      ...VALID_V0,
      oauth2ProxyReplicas: "3",
      serverReplicas: "2",
      workerReplicas: "3",
      workloadLauncherReplicas: "2",
    });
  });

  it("covers every Deployment that may run several replicas, one pod at a time", () => {
    const pdbs = graph.kube("PodDisruptionBudget");
    expect(pdbs.map((p) => metadataOf(p).name).sort()).toEqual([...REPLICATED].sort());
    for (const name of REPLICATED) {
      const d = graph.one("Deployment", name).inputs.spec as DeploymentSpec;
      const pdb = graph.one("PodDisruptionBudget", name);
      // maxUnavailable, not minAvailable: a service scaled to one never blocks a node drain.
      expect(pdb.inputs.spec, name).toEqual({ maxUnavailable: 1, selector: d.selector });
      expect(metadataOf(pdb).namespace).toBe("airbyte-prod");
      expect(metadataOf(pdb).labels?.["app.kubernetes.io/part-of"]).toBe("airbyte");
    }
  });

  it("leaves singletons alone: cron, Temporal, its UI and tools run exactly one", () => {
    for (const d of graph.kube("Deployment")) {
      const name = metadataOf(d).name ?? "";
      if (REPLICATED.includes(name)) continue;
      expect((d.inputs.spec as DeploymentSpec).replicas, name).toBe(1);
    }
  });

  it("is parented to the component that owns the Deployment", () => {
    const [proxy] = graph.components("airbyte:auth:OAuth2Proxy");
    const [platform] = graph.components("airbyte:platform:AirbytePlatform");
    expect(graph.childrenOf(proxy)).toContain(
      graph.one("PodDisruptionBudget", "airbyte-prod-oauth2-proxy"),
    );
    expect(
      graph.childrenOf(platform).filter((r) => r.inputs.kind === "PodDisruptionBudget"),
    ).toHaveLength(5);
  });

  it("passes the whole policy pack with these replica counts", () => {
    const replicas = (n: string) =>
      (graph.one("Deployment", n).inputs.spec as DeploymentSpec).replicas;
    expect(replicas("airbyte-prod-worker")).toBe(3);
    const violations = runPolicies(graph.resources);
    expect(violations, formatViolations(violations)).toEqual([]);
  });
});
