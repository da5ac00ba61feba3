/** The whole policy pack over the real v0 graph, and the graph-wide scan for generated secrets. */
import { beforeAll, describe, expect, it } from "vitest";
import { mockComputedState } from "../infra/mock-runtime";
import { formatViolations, runPolicies } from "../policy/offline";
import { VALID_V0 } from "./support/config";
import { Graph, RecordedResource, metadataOf } from "./support/graph";
import { expectOnlyInSecrets } from "./support/secret-checks";
import { runStack } from "./support/stack";

type Obj = Record<string, unknown>;

/** Every generated credential of the run: what the mocked @pulumi/random resources returned. */
function generatedValues(graph: Graph): string[] {
  return graph.resources
    .filter((r) => r.type.startsWith("random:"))
    .map((r) => String(mockComputedState(r.type, r.name, r.inputs).result));
}

/** A copy of the graph's resources with one Kubernetes object changed or removed. */
function edited(
  graph: Graph,
  kind: string,
  name: string,
  edit: (inputs: Obj) => Obj | undefined,
): RecordedResource[] {
  return graph.resources.flatMap((r) => {
    if (r.inputs.kind !== kind || metadataOf(r).name !== name) return [r];
    const inputs = edit(structuredClone(r.inputs));
    return inputs ? [{ ...r, inputs }] : [];
  });
}

describe("policy pack on the v0 graph", () => {
  let graph: Graph;
  beforeAll(async () => {
    graph = await runStack();
  });

  it("passes every policy", () => {
    const violations = runPolicies(graph.resources);
    expect(violations, formatViolations(violations)).toEqual([]);
  });

  it("catches a change to the real graph (the pack is not vacuous)", () => {
    const latest = edited(graph, "Deployment", "airbyte-prod-server", (d) => {
      const c = (d.spec as { template: { spec: { containers: Obj[] } } }).template.spec.containers;
      c[0].image = "airbyte/server:latest";
      delete c[0].readinessProbe;
      return d;
    });
    expect(runPolicies(latest).map((v) => v.policy)).toEqual([
      "deployment-probes",
      "images-pinned",
    ]);

    const noDeny = edited(graph, "NetworkPolicy", "airbyte-prod-default-deny", () => undefined);
    expect(runPolicies(noDeny).map((v) => v.message)).toEqual([
      "Namespace 'airbyte-prod' has no default-deny NetworkPolicy (podSelector {}, policyTypes Ingress and Egress, no rules)",
    ]);

    const noPdb = edited(
      graph,
      "PodDisruptionBudget",
      "airbyte-prod-oauth2-proxy",
      () => undefined,
    );
    expect(runPolicies(noPdb).map((v) => v.message)).toEqual([
      "Deployment 'airbyte-prod-oauth2-proxy' runs 2 replicas without a PodDisruptionBudget selecting its pods",
    ]);

    const leaked = edited(graph, "ConfigMap", "airbyte-prod-airbyte-env", (cm) => {
      (cm.data as Obj).DATABASE_PASSWORD = "leaked";
      return cm;
    });
    expect(runPolicies(leaked).map((v) => v.policy)).toEqual(["no-secret-material"]);

    const bypass = edited(graph, "Ingress", "airbyte-prod", (ing) => {
      const spec = ing.spec as { rules: { http: { paths: { backend: Obj }[] } }[] };
      spec.rules[0].http.paths[0].backend = {
        service: { name: "airbyte-prod-server", port: { number: 8001 } },
      };
      return ing;
    });
    expect(runPolicies(bypass).map((v) => v.policy)).toEqual(["ingress-only-to-oauth2-proxy"]);
  });

  it("finds every generated credential and the OAuth client secret only inside Secrets", () => {
    const values = [...generatedValues(graph), VALID_V0.oauthClientSecret];
    // Database, MinIO (2), cookie, auth seeds (4).
    expect(values.length).toBeGreaterThanOrEqual(8);
    for (const v of values) expectOnlyInSecrets(graph, v);
  });

  it("keeps them out of stack outputs and out of component outputs unless marked secret", () => {
    const values = [...generatedValues(graph), VALID_V0.oauthClientSecret];
    const outputs = JSON.stringify(graph.run.outputs);
    for (const v of values) expect(outputs.includes(v), "stack outputs").toBe(false);
    const at = (root: unknown, path: string): unknown =>
      path
        .split(/\.|\[(\d+)\]/)
        .filter((p) => p)
        .reduce<unknown>((o, k) => (o as Obj | undefined)?.[k], root);
    for (const r of graph.resources.filter((x) => !x.custom && x.outputs)) {
      const secret = (r.secretOutputPaths ?? []).map((p) => JSON.stringify(at(r.outputs, p)));
      for (const v of values) {
        if (!JSON.stringify(r.outputs).includes(v)) continue;
        expect(
          secret.some((s) => s.includes(v)),
          `${r.urn} exposes a secret`,
        ).toBe(true);
      }
    }
  });
});
