import { beforeAll, describe, expect, it } from "vitest";
import {
  CONNECTOR_POD_LABELS,
  CONNECTORS,
  PORTS,
  instanceGroups,
} from "../components/network-policies";
import { Graph, RecordedResource, metadataOf, podSpecOf } from "./support/graph";
import { runStack } from "./support/stack";

interface Selector {
  matchLabels?: Record<string, string>;
}
interface Peer {
  podSelector?: Selector;
  namespaceSelector?: Selector;
  ipBlock?: { cidr: string; except?: string[] };
}
interface Rule {
  from?: Peer[];
  to?: Peer[];
  ports?: { protocol: string; port: number }[];
}
interface Spec {
  podSelector: Selector;
  policyTypes: string[];
  ingress?: Rule[];
  egress?: Rule[];
}

const INSTANCE = "airbyte-prod";
const groups = instanceGroups(INSTANCE);
const canonical = (labels: Record<string, string>) => JSON.stringify(Object.entries(labels).sort());
const groupOf = (s: Selector | undefined): string => {
  const g = groups.find((x) => canonical(x.matchLabels) === canonical(s?.matchLabels ?? {}));
  return g ? g.name : `?${JSON.stringify(s)}`;
};
const peerName = (p: Peer): string => {
  if (p.ipBlock)
    return `cidr:${p.ipBlock.cidr}${p.ipBlock.except ? ` except ${p.ipBlock.except}` : ""}`;
  if (p.namespaceSelector)
    return `ns:${p.namespaceSelector.matchLabels?.["kubernetes.io/metadata.name"]}${p.podSelector ? `/${JSON.stringify(p.podSelector.matchLabels)}` : ""}`;
  return groupOf(p.podSelector);
};
const portList = (r: Rule) =>
  r.ports
    ? r.ports.map((p) => `${p.protocol === "TCP" ? "" : `${p.protocol}/`}${p.port}`).join(",")
    : "*";

/** Each allowed connection as `from -> to :ports`, from one side of the policies. */
function edges(policies: RecordedResource[], direction: "ingress" | "egress"): string[] {
  const out: string[] = [];
  for (const p of policies) {
    const spec = p.inputs.spec as Spec;
    const self = groupOf(spec.podSelector);
    for (const rule of spec[direction] ?? []) {
      for (const peer of (direction === "ingress" ? rule.from : rule.to) ?? []) {
        const other = peerName(peer);
        out.push(
          direction === "ingress"
            ? `${other} -> ${self} :${portList(rule)}`
            : `${self} -> ${other} :${portList(rule)}`,
        );
      }
    }
  }
  return out.sort();
}

const INTERNET = "cidr:0.0.0.0/0 except 169.254.169.254/32";
const many = (froms: string[], to: string, ports: string) =>
  froms.map((f) => `${f} -> ${to} :${ports}`);

/** Every flow in the namespace. Anything not here must not be open. */
const EXPECTED_LOCAL = [
  "ns:ingress-nginx -> oauth2-proxy :4180",
  "oauth2-proxy -> server :8001",
  "oauth2-proxy -> connector-builder-server :8080",
  "oauth2-proxy -> temporal-ui :8080",
  ...many(
    [
      "server",
      "worker",
      "workload-launcher",
      "workload-api-server",
      "cron",
      "bootloader",
      "temporal",
      // Their init container reads connector secrets (SECRET_PERSISTENCE=TESTING_CONFIG_DB_TABLE).
      CONNECTORS,
    ],
    "postgres",
    "5432",
  ),
  ...many(
    [
      "server",
      "worker",
      "workload-launcher",
      "workload-api-server",
      "cron",
      "temporal-ui",
      "temporal-admin-tools",
      "temporal-namespace",
    ],
    "temporal",
    "7233",
  ),
  "temporal -> temporal :*",
  ...many(["server", "worker", "workload-launcher", CONNECTORS, "minio-buckets"], "minio", "9000"),
  ...many(["worker", "workload-launcher", "cron", CONNECTORS], "workload-api-server", "8007"),
  ...many(
    [
      "worker",
      "workload-launcher",
      "workload-api-server",
      "cron",
      "connector-builder-server",
      CONNECTORS,
    ],
    "server",
    "8001",
  ),
  "server -> connector-builder-server :8080",
];
const EXPECTED_EXTERNAL = [
  `oauth2-proxy -> ${INTERNET} :443`,
  ...many(["workload-launcher", "bootloader"], INTERNET, "443,6443"),
  ...many(["server", "worker", "workload-launcher", "cron", "bootloader"], INTERNET, "443"),
  ...many([CONNECTORS, "connector-builder-server"], INTERNET, "*"),
];

describe("NetworkPolicies of the v0 instance", () => {
  let graph: Graph;
  let policies: RecordedResource[];
  beforeAll(async () => {
    graph = await runStack();
    policies = graph.kube("NetworkPolicy");
  });

  it("is a component of the instance, parent of every policy", () => {
    const [component] = graph.components("airbyte:network:NetworkPolicies");
    const [instance] = graph.components("airbyte:instance:AirbyteInstance");
    expect(graph.descendantsOf(instance)).toContain(component);
    expect(graph.descendantsOf(component)).toEqual(expect.arrayContaining(policies));
    expect(graph.descendantsOf(component)).toHaveLength(policies.length);
    expect((component.outputs?.policyNames as string[])[0]).toBe(`${INSTANCE}-default-deny`);
    for (const p of policies) {
      expect(metadataOf(p).namespace).toBe("airbyte-prod");
      expect(metadataOf(p).labels?.["app.kubernetes.io/component"]).toBe("network");
    }
  });

  it("denies everything in and out of every pod by default", () => {
    const deny = graph.one("NetworkPolicy", `${INSTANCE}-default-deny`);
    expect(deny.inputs.spec).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
  });

  it("lets every pod resolve names through cluster DNS, and nothing else", () => {
    const dns = graph.one("NetworkPolicy", `${INSTANCE}-allow-dns`);
    expect(dns.inputs.spec).toEqual({
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
              podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
            },
          ],
          ports: [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 53 },
          ],
        },
      ],
    });
  });

  it("opens exactly the required flows inside the namespace, on both ends", () => {
    const own = policies.filter((p) => !/default-deny|allow-dns/.test(metadataOf(p).name ?? ""));
    const ingress = edges(own, "ingress");
    const egress = edges(own, "egress");
    const local = (e: string) => !e.includes(" -> cidr:") && !e.startsWith("ns:");
    // A flow between two pods of the namespace is allowed where it leaves and where it arrives.
    expect(egress.filter(local)).toEqual(ingress.filter((e) => !e.startsWith("ns:")));
    expect(new Set([...ingress, ...egress.filter(local)])).toEqual(new Set(EXPECTED_LOCAL));
    expect(egress.filter((e) => !local(e)).sort()).toEqual([...EXPECTED_EXTERNAL].sort());
  });

  it("admits only the ingress controller's namespace from outside, to the proxy only", () => {
    const fromOutside = edges(policies, "ingress").filter((e) => /^(ns:|cidr:)/.test(e));
    expect(fromOutside).toEqual(["ns:ingress-nginx -> oauth2-proxy :4180"]);
  });

  it("selects real pods: every group but the connectors matches a workload of the graph", () => {
    const podLabels = graph.workloads().map((w) => {
      const t = (w.inputs.spec as { template: { metadata: { labels: Record<string, string> } } })
        .template;
      return t.metadata.labels;
    });
    for (const g of groups) {
      if (g.name === CONNECTORS) continue;
      const matches = podLabels.filter((l) =>
        Object.entries(g.matchLabels).every(([k, v]) => l[k] === v),
      );
      expect(matches, g.name).toHaveLength(1);
    }
    // No pod of ours is mistaken for a connector pod.
    for (const l of podLabels) expect(l.airbyte).toBeUndefined();
    expect(groups.find((g) => g.name === CONNECTORS)?.matchLabels).toEqual(CONNECTOR_POD_LABELS);
  });

  it("opens container ports the receiving pods actually listen on", () => {
    const portsOf = (group: string) => {
      const g = groups.find((x) => x.name === group)!;
      const w = graph
        .workloads()
        .find((x) =>
          Object.entries(g.matchLabels).every(
            ([k, v]) =>
              (x.inputs.spec as { template: { metadata: { labels: Record<string, string> } } })
                .template.metadata.labels[k] === v,
          ),
        )!;
      return podSpecOf(w).containers.flatMap((c) => (c.ports ?? []).map((p) => p.containerPort));
    };
    expect(portsOf("oauth2-proxy")).toContain(PORTS.oauth2Proxy);
    expect(portsOf("server")).toContain(PORTS.server);
    expect(portsOf("connector-builder-server")).toContain(PORTS.connectorBuilderServer);
    expect(portsOf("workload-api-server")).toContain(PORTS.workloadApiServer);
    expect(portsOf("temporal")).toContain(PORTS.temporal);
    expect(portsOf("temporal-ui")).toContain(PORTS.temporalUi);
    expect(portsOf("postgres")).toContain(PORTS.postgres);
    expect(portsOf("minio")).toContain(PORTS.minio);
  });

  it("never lets any egress reach the cloud metadata service", () => {
    for (const p of policies) {
      for (const rule of (p.inputs.spec as Spec).egress ?? []) {
        for (const peer of rule.to ?? []) {
          if (peer.ipBlock?.cidr === "0.0.0.0/0")
            expect(peer.ipBlock.except, metadataOf(p).name).toEqual(["169.254.169.254/32"]);
        }
      }
    }
  });
});
