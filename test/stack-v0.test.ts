import { beforeAll, describe, expect, it } from "vitest";
import { Graph, RecordedResource, envOf, metadataOf, podSpecOf } from "./support/graph";
import { runStack } from "./support/stack";
import { expectRestrictedWorkload } from "./support/workload-checks";

/** Every string inside a value, for scanning. */
function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === "string") out.push(v);
  else if (Array.isArray(v)) v.forEach((e) => strings(e, out));
  else if (v && typeof v === "object") Object.values(v).forEach((e) => strings(e, out));
  return out;
}

/** Values at the recorded secret paths of a resource (inputs or outputs). */
function secretValues(r: RecordedResource): string[] {
  const at = (root: unknown, path: string): unknown =>
    path
      .split(/\.|\[(\d+)\]/)
      .filter((p) => p !== undefined && p !== "")
      .reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], root);
  return [
    ...r.secretPaths.flatMap((p) => strings(at(r.inputs, p))),
    ...(r.secretOutputPaths ?? []).flatMap((p) => strings(at(r.outputs, p))),
  ].filter((s) => s.length >= 8);
}

describe("v0 topology", () => {
  let graph: Graph;
  beforeAll(async () => {
    graph = await runStack();
  });

  it("composes one production Airbyte in namespace airbyte-prod", () => {
    const [prod] = graph.components("airbyte:instance:AirbyteInstance");
    expect(prod.name).toBe("airbyte-prod");
    const ns = graph.one("Namespace", "airbyte-prod");
    expect(metadataOf(ns).labels?.["pod-security.kubernetes.io/enforce"]).toBe("baseline");
    for (const type of [
      "airbyte:platform:AirbytePlatform",
      "airbyte:database:Postgres",
      "airbyte:temporal:Temporal",
      "airbyte:temporal:TemporalAdmin",
      "airbyte:storage:Minio",
      "airbyte:auth:OAuth2Proxy",
      "airbyte:network:Ingress",
    ]) {
      const [c] = graph.components(type);
      expect(c, type).toBeDefined();
      expect(graph.descendantsOf(prod)).toContain(c);
    }
  });

  it("puts every namespaced object in airbyte-prod, on the explicit Kubernetes provider", () => {
    const kube = graph.resources.filter(
      (r) =>
        r.custom && r.type.startsWith("kubernetes:") && r.type !== "pulumi:providers:kubernetes",
    );
    expect(kube.length).toBeGreaterThan(30);
    for (const r of kube) {
      if (r.inputs.kind !== "Namespace")
        expect(metadataOf(r).namespace, r.urn).toBe("airbyte-prod");
      expect(r.provider, r.urn).toMatch(/pulumi:providers:kubernetes::kubernetes::kubernetes-id$/);
    }
  });

  it("gives every workload probes, requests and limits, non-root security and labels", () => {
    const workloads = graph.workloads();
    expect(workloads.length).toBeGreaterThanOrEqual(12);
    for (const w of workloads) expectRestrictedWorkload(w);
  });

  it("labels every Kubernetes object with app.kubernetes.io/*", () => {
    for (const r of graph.resources.filter((x) => x.custom && x.inputs.kind)) {
      expect(metadataOf(r).labels?.["app.kubernetes.io/part-of"], r.urn).toBe("airbyte");
      expect(metadataOf(r).labels?.["app.kubernetes.io/managed-by"], r.urn).toBe("pulumi");
    }
  });

  it("keeps every password a Pulumi secret, out of ConfigMaps and plain env values", () => {
    const secrets = new Set(graph.resources.flatMap(secretValues));
    // Database, MinIO, auth seeds, cookie and client secrets at least.
    expect(secrets.size).toBeGreaterThanOrEqual(8);
    for (const r of graph.resources) {
      if (r.inputs.kind === "Secret") continue;
      const plain = r.inputs.kind === "ConfigMap" ? strings(r.inputs.data) : [];
      if (["Deployment", "StatefulSet", "Job", "CronJob"].includes(String(r.inputs.kind))) {
        const pod = podSpecOf(r);
        for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
          for (const e of envOf(c).values()) if (e.value) plain.push(e.value);
          plain.push(...(c.args ?? []), ...(c.command ?? []));
        }
      }
      for (const value of plain) {
        for (const s of secrets) expect(value.includes(s), `${r.urn} leaks a secret`).toBe(false);
      }
    }
    for (const secret of graph.kube("Secret")) {
      expect(secret.secretPaths, metadataOf(secret).name).toContain("stringData");
    }
  });

  it("routes the Ingress to the OAuth2 Proxy and nowhere else", () => {
    const ingresses = graph.kube("Ingress");
    expect(ingresses).toHaveLength(1);
    const backends = strings((ingresses[0].inputs.spec as { rules: unknown }).rules).filter((s) =>
      s.startsWith("airbyte-prod"),
    );
    expect(backends).toEqual(["airbyte-prod-oauth2-proxy"]);
    const proxy = graph.one("Service", "airbyte-prod-oauth2-proxy");
    expect((proxy.inputs.spec as { type: string }).type).toBe("ClusterIP");
    for (const svc of graph.kube("Service")) {
      expect((svc.inputs.spec as { type: string }).type, metadataOf(svc).name).toBe("ClusterIP");
    }
  });

  it("exposes URL, namespace and service names, and no secret", () => {
    expect(graph.run.outputs).toMatchObject({
      topology: "v0",
      url: "https://airbyte.example.com",
      namespace: "airbyte-prod",
    });
    expect(graph.run.secretOutputs).toEqual([]);
    const services = graph.run.outputs.services as Record<string, string>;
    expect(services).toMatchObject({
      server: expect.stringMatching(/^airbyte-prod-/),
      temporal: "airbyte-prod-temporal",
      oauth2Proxy: "airbyte-prod-oauth2-proxy",
      database: "airbyte-prod-db",
    });
  });

  it("keeps URNs stable (snapshot)", () => {
    const urns = graph.resources.map((r) => r.urn).sort();
    expect(urns).toMatchSnapshot();
  });
});
