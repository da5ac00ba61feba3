import { beforeAll, describe, expect, it } from "vitest";
import { NetworkPolicies, NetworkPoliciesArgs, cidrContains } from "../components/network-policies";
import { Graph, metadataOf } from "./support/graph";
import { runGraph } from "./support/graph";

/** What v1 will add: its migration job reaching both databases, and an external database. */
const ARGS: NetworkPoliciesArgs = {
  namespace: "airbyte-replica",
  instanceName: "airbyte-replica",
  ingressControllerNamespace: "edge",
  dns: { namespace: "dns-system", podLabels: { app: "coredns" } },
  kubernetesApi: { cidrs: ["10.0.0.1/32"], ports: [443] },
  internetCidrs: ["0.0.0.0/0", "::/0"],
  database: { peer: { cidrs: ["192.0.2.10/32"] }, port: 5433 },
  extraGroups: [{ name: "migration", matchLabels: { "app.kubernetes.io/name": "migration" } }],
  extraFlows: [
    {
      from: { group: "migration" },
      to: { cidrs: ["192.0.2.10/32"] },
      ports: [5433],
      why: "the migration job writes core-worker-01",
    },
    {
      from: { group: "migration" },
      to: { namespace: "airbyte-prod", podLabels: { "app.kubernetes.io/name": "postgres" } },
      ports: [5432],
      why: "the migration job reads prod",
    },
    {
      from: { namespace: "hub", podLabels: { app: "hub" } },
      to: { group: "postgres" },
      ports: [5432],
      why: "replication from the hub",
    },
  ],
};

interface Spec {
  podSelector: { matchLabels?: Record<string, string> };
  policyTypes: string[];
  ingress?: { from: unknown[]; ports?: unknown[] }[];
  egress?: { to: unknown[]; ports?: unknown[] }[];
}

describe("NetworkPolicies with a topology's extra flows", () => {
  let graph: Graph;
  const spec = (name: string) => graph.one("NetworkPolicy", name).inputs.spec as Spec;
  beforeAll(async () => {
    graph = await runGraph(() => new NetworkPolicies("np", ARGS));
  });

  it("adds a policy for an extra pod group with exactly its flows", () => {
    expect(spec("airbyte-replica-allow-migration")).toEqual({
      podSelector: { matchLabels: { "app.kubernetes.io/name": "migration" } },
      policyTypes: ["Egress"],
      egress: [
        {
          to: [{ ipBlock: { cidr: "192.0.2.10/32" } }],
          ports: [{ protocol: "TCP", port: 5433 }],
        },
        {
          to: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "airbyte-prod" } },
              podSelector: { matchLabels: { "app.kubernetes.io/name": "postgres" } },
            },
          ],
          ports: [{ protocol: "TCP", port: 5432 }],
        },
      ],
    });
  });

  it("admits a peer from another namespace to a local group", () => {
    expect(spec("airbyte-replica-allow-postgres")).toEqual({
      podSelector: {
        matchLabels: {
          "app.kubernetes.io/name": "postgres",
          "app.kubernetes.io/instance": "airbyte-replica",
        },
      },
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "hub" } },
              podSelector: { matchLabels: { app: "hub" } },
            },
          ],
          ports: [{ protocol: "TCP", port: 5432 }],
        },
      ],
    });
  });

  it("sends Airbyte and Temporal to the external database's address and port", () => {
    for (const client of ["server", "temporal", "bootloader"]) {
      const egress = spec(`airbyte-replica-allow-${client}`).egress ?? [];
      expect(egress, client).toContainEqual({
        to: [{ ipBlock: { cidr: "192.0.2.10/32" } }],
        ports: [{ protocol: "TCP", port: 5433 }],
      });
    }
  });

  it("uses the configured ingress namespace, DNS, API server and internet ranges", () => {
    expect(spec("airbyte-replica-allow-oauth2-proxy").ingress).toEqual([
      {
        from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "edge" } } }],
        ports: [{ protocol: "TCP", port: 4180 }],
      },
    ]);
    const dns = spec("airbyte-replica-allow-dns").egress?.[0].to;
    expect(dns).toEqual([
      {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "dns-system" } },
        podSelector: { matchLabels: { app: "coredns" } },
      },
    ]);
    const launcher = spec("airbyte-replica-allow-workload-launcher").egress ?? [];
    expect(launcher).toContainEqual({
      to: [{ ipBlock: { cidr: "10.0.0.1/32" } }],
      ports: [{ protocol: "TCP", port: 443 }],
    });
    const connectors = spec("airbyte-replica-allow-connectors").egress ?? [];
    // The metadata address is carved out of IPv4 only; IPv6 has no such exception to make.
    expect(connectors).toContainEqual({
      to: [
        { ipBlock: { cidr: "0.0.0.0/0", except: ["169.254.169.254/32"] } },
        { ipBlock: { cidr: "::/0" } },
      ],
    });
    for (const p of graph.kube("NetworkPolicy"))
      expect(metadataOf(p).namespace).toBe("airbyte-replica");
  });
});

describe("NetworkPolicies arguments", () => {
  const base = { namespace: "ns", instanceName: "i" };
  it.each([
    [{ extraGroups: [{ name: "server", matchLabels: { a: "b" } }] }, /'server' is defined twice/],
    [{ extraGroups: [{ name: "x", matchLabels: {} }] }, /would match every pod/],
    [
      { extraFlows: [{ from: { group: "nope" }, to: { group: "server" }, why: "w" }] },
      /unknown pod group 'nope'/,
    ],
    [
      { extraFlows: [{ from: { cidrs: ["10.0.0.0/8"] }, to: { namespace: "x" }, why: "w" }] },
      /no end in this namespace/,
    ],
    [
      { extraFlows: [{ from: { group: "server" }, to: { group: "cron" }, ports: [0], why: "w" }] },
      /port 0/,
    ],
    [
      { extraFlows: [{ from: { group: "server" }, to: { group: "cron" }, ports: [], why: "w" }] },
      /ports is empty/,
    ],
  ] as [Partial<NetworkPoliciesArgs>, RegExp][])("refuses %j", (extra, message) => {
    expect(() => new NetworkPolicies("bad", { ...base, ...extra })).toThrow(message);
  });

  it("carves blocked ranges only out of ranges that contain them", () => {
    expect(cidrContains("0.0.0.0/0", "169.254.169.254/32")).toBe(true);
    expect(cidrContains("169.254.0.0/16", "169.254.169.254/32")).toBe(true);
    expect(cidrContains("10.0.0.0/8", "169.254.169.254/32")).toBe(false);
    expect(cidrContains("10.0.0.0/8", "10.0.0.0/8")).toBe(false);
    expect(cidrContains("::/0", "169.254.169.254/32")).toBe(false);
  });
});
