/**
 * The diagram and summary drawn from a real recorded graph: the fixture program with topology v1
 * (Ingress → OAuth2 proxy → platform → database, plus an external PostgreSQL host and a replica).
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  mockComputedState,
  runUnderMocks,
  type MockRun,
  type RecordedResource,
} from "../infra/mock-runtime";
import { buildDiagram, type DiagramModel } from "../infra/render/diagram";
import { renderSvg, toDot, toMermaid } from "../infra/render/diagram-output";
import { Ownership } from "../infra/render/graph";
import { kubeObjects } from "../infra/render/manifests";
import { renderSummary, summaryRows } from "../infra/render/summary";
import { deploymentBody, kube, recorded, secretBody } from "./fixtures/render/objects";
import { program } from "./fixtures/render/program";

let run: MockRun;
let model: DiagramModel;

beforeAll(async () => {
  run = await runUnderMocks({
    stack: "external",
    config: {
      topology: "v1",
      ingressHost: "airbyte.example.com",
      oauthClientSecret: "placeholder-oauthClientSecret",
      coreWorkerPassword: "placeholder-coreWorkerPassword",
    },
    secretKeys: ["oauthClientSecret", "coreWorkerPassword"],
    program,
  });
  model = buildDiagram(run.resources, "Airbyte: stack external");
});

const edge = (from: string, to: string) => model.edges.find((e) => e.from === from && e.to === to);

describe("architecture diagram model", () => {
  it("has a node per component that owns resources, grouped by namespace", () => {
    expect(model.nodes.map((n) => [n.id, n.group])).toEqual([
      ["c_CoreWorkerDatabase_core_worker_01", ""],
      ["users", ""],
      ["x_core_worker_01", ""],
      ["c_AirbytePlatform_airbyte_prod", "ns_airbyte_prod"],
      ["c_Ingress_airbyte_prod", "ns_airbyte_prod"],
      ["c_OAuth2Proxy_airbyte_prod", "ns_airbyte_prod"],
      ["c_Postgres_airbyte_prod", "ns_airbyte_prod"],
      ["c_AirbytePlatform_airbyte_replica", "ns_airbyte_replica"],
    ]);
    expect(model.groups).toEqual([
      { id: "ns_airbyte_prod", label: "namespace airbyte-prod" },
      { id: "ns_airbyte_replica", label: "namespace airbyte-replica" },
    ]);
  });

  it("draws the request path from real references: Ingress backend, proxy upstream, DB host", () => {
    expect(edge("users", "c_Ingress_airbyte_prod")?.labels).toEqual([
      "https://airbyte.example.com",
    ]);
    expect(edge("c_Ingress_airbyte_prod", "c_OAuth2Proxy_airbyte_prod")?.labels).toEqual([
      "airbyte-prod-oauth2-proxy",
    ]);
    expect(edge("c_OAuth2Proxy_airbyte_prod", "c_AirbytePlatform_airbyte_prod")?.labels).toEqual([
      "airbyte-prod-server:8001",
    ]);
    // Through the ConfigMap it reads (DATABASE_HOST) and the Secret it takes the password from.
    expect(edge("c_AirbytePlatform_airbyte_prod", "c_Postgres_airbyte_prod")?.labels).toEqual([
      "airbyte-prod-db",
      "secret airbyte-prod-db-secrets",
    ]);
  });

  it("gives the external host a node, managed by its component and used by the replica", () => {
    expect(model.nodes.find((n) => n.id === "x_core_worker_01")).toMatchObject({
      kind: "external",
      title: "core-worker-01",
      subtitle: "PostgreSQL host, outside the cluster",
    });
    expect(edge("c_CoreWorkerDatabase_core_worker_01", "x_core_worker_01")?.labels).toEqual([
      "manages Database, Role",
    ]);
    expect(edge("c_AirbytePlatform_airbyte_replica", "x_core_worker_01")?.labels).toEqual([
      "core-worker-01",
    ]);
  });

  it("has no edge that the graph does not show", () => {
    expect(model.edges).toHaveLength(6);
    expect(edge("c_AirbytePlatform_airbyte_replica", "c_Postgres_airbyte_prod")).toBeUndefined();
  });

  it("writes Mermaid with a subgraph per namespace", () => {
    const mmd = toMermaid(model);
    expect(mmd).toContain("flowchart LR");
    expect(mmd).toContain('subgraph ns_airbyte_prod["namespace airbyte-prod"]');
    expect(mmd).toContain(
      'c_OAuth2Proxy_airbyte_prod -->|"airbyte-prod-server:8001"| c_AirbytePlatform_airbyte_prod',
    );
  });

  it("renders the same model to SVG through Graphviz (WASM)", async () => {
    const dot = toDot(model);
    expect(dot).toContain("subgraph cluster_ns_airbyte_prod");
    const svg = await renderSvg(dot);
    expect(svg).toMatch(/^<\?xml|<svg/);
    expect(svg).toContain("AirbytePlatform");
    expect(svg).toContain("PostgreSQL host, outside the cluster");
  });
});

describe("summary", () => {
  it("names the owning component of every object", () => {
    const rows = summaryRows(kubeObjects(run.resources), new Ownership(run.resources));
    expect(rows).toContainEqual({
      kind: "Deployment",
      name: "airbyte-prod-server",
      namespace: "airbyte-prod",
      component: "AirbytePlatform airbyte-prod",
    });
    expect(rows).toContainEqual({
      kind: "Namespace",
      name: "airbyte-prod",
      namespace: "(cluster)",
      component: "(stack)",
    });
  });

  it("masks secret stack outputs", () => {
    const text = renderSummary({
      stack: "external",
      objects: kubeObjects(run.resources),
      ownership: new Ownership(run.resources),
      outputs: run.outputs,
      secretOutputs: run.secretOutputs,
      placeholders: [{ key: "airbyte:oauthClientSecret", reason: "encrypted" }],
      overridden: [],
      failures: [],
      skipped: [],
      secrets: { leaks: [], secretObjects: ["a", "b"], valueCount: 5, tooShort: [] },
    });
    expect(text).toMatch(/\| dbPassword +\| \[secret\] +\|/);
    expect(text).not.toContain(String(run.outputs.dbPassword));
    expect(text).toContain("5 secret values appear only in 2 Secret objects");
    expect(text).toContain("`airbyte:oauthClientSecret`: encrypted in the stack file");
  });
});

describe("diagram rules on a hand-made graph", () => {
  const comp = (type: string, name: string) => recorded(type, name, {}, { custom: false });
  const instance = comp("airbyte:x:Instance", "prod");
  const auth = comp("airbyte:x:AuthSecrets", "auth");
  const platform = comp("airbyte:x:Platform", "platform");
  const db = comp("airbyte:x:Db", "db");
  const child = (r: RecordedResource, parent: RecordedResource) => ({ ...r, parent: parent.urn });
  const password = mockComputedState("random:index/randomPassword:RandomPassword", "auth-pw", {
    length: 32,
  });
  const resources = [
    instance,
    auth,
    platform,
    db,
    child(
      kube({ apiVersion: "v1", kind: "Namespace", metadata: { name: "airbyte-prod" } }).resource,
      instance,
    ),
    child(recorded("random:index/randomPassword:RandomPassword", "auth-pw", { length: 32 }), auth),
    child(kube(secretBody({ "auth-password": String(password.result) })).resource, platform),
    child(
      kube(
        deploymentBody({
          env: [
            { name: "DB", value: "db.airbyte-prod.svc:5432" },
            { name: "DB_HOST", value: "db" },
          ],
        }),
      ).resource,
      platform,
    ),
    child(
      kube({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "db", namespace: "airbyte-prod" },
        spec: {},
      }).resource,
      db,
    ),
  ];
  const hub = comp("airbyte:x:Hub", "hub");
  const pgProvider = child(
    recorded("pulumi:providers:postgresql", "hub-pg", {
      host: "db.airbyte-prod.svc.cluster.local",
    }),
    hub,
  );
  const publication = child(
    recorded(
      "postgresql:index/publication:Publication",
      "pub",
      { name: "airbyte" },
      {
        provider: `${pgProvider.urn}::hub-pg-id`,
      },
    ),
    hub,
  );
  resources.push(hub, pgProvider, publication);
  const m = buildDiagram(resources, "t");

  it("labels a namespace cluster with the component owning the Namespace, not a node of its own", () => {
    expect(m.groups).toEqual([
      { id: "ns_airbyte_prod", label: "Instance prod · namespace airbyte-prod" },
    ]);
    expect(m.nodes.map((n) => n.id)).not.toContain("c_Instance_prod");
  });

  it("links a component to the one that generated credentials it holds", () => {
    expect(m.edges.find((e) => e.to === "c_AuthSecrets_auth")).toEqual({
      from: "c_Platform_platform",
      to: "c_AuthSecrets_auth",
      labels: ["generated credentials"],
    });
    expect(m.nodes.find((n) => n.id === "c_AuthSecrets_auth")?.detail).toBe("1 RandomPassword");
  });

  it("links a provider aimed at an in-cluster Service to that Service's component, not a host", () => {
    expect(m.edges.find((e) => e.from === "c_Hub_hub")).toEqual({
      from: "c_Hub_hub",
      to: "c_Db_db",
      labels: ["manages Publication"],
    });
    expect(m.nodes.filter((n) => n.kind === "external")).toEqual([]);
  });

  it("keeps the most specific label of a reference (with its port)", () => {
    expect(
      m.edges.find((e) => e.from === "c_Platform_platform" && e.to === "c_Db_db")?.labels,
    ).toEqual(["db:5432"]);
  });
});
