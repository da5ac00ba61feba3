/**
 * The NetworkPolicies of one Airbyte instance: deny everything in and out of its namespace, allow
 * DNS, then allow exactly the flows the system needs (docs/security.md has the table). Flows are
 * data: each names a client and a server, and becomes an egress rule on the client's policy and an
 * ingress rule on the server's, so both ends always agree. Later topologies add theirs through
 * `extraGroups` and `extraFlows` (v1: the migration job to both databases; v2: replication between
 * prod, the hub and core-worker-01) without touching the defaults.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { LabelSpec } from "../infra/naming";
import { objectMeta } from "./lib/kube";

import net = k8s.types.input.networking.v1;

/** Egress on one port from some pod groups to outside addresses, or to another namespace's pods. */
export interface ExternalEgress {
  /** Pod group names. */
  clients: string[];
  port: number;
  /** All pods of this namespace instead of outside addresses. Default: outside addresses. */
  namespace?: string;
  why: string;
}

/** Pods of the instance's namespace, by labels. */
export interface PodGroup {
  /** Key that flows refer to, e.g. `server`; unique within the instance. */
  name: string;
  matchLabels: Record<string, string>;
}

/** One end of a flow. */
export type Peer =
  /** A {@link PodGroup} of this namespace. */
  | { group: string }
  /** Pods of another namespace (all of them when `podLabels` is absent). */
  | { namespace: string; podLabels?: Record<string, string> }
  /** Addresses outside the cluster's pod network. */
  | { cidrs: string[] };

/** A connection some pod opens to another, or to or from outside. */
export interface NetworkFlow {
  from: Peer;
  to: Peer;
  /** TCP ports on the receiving side: container ports, not Service ports. Absent: every port. */
  ports?: pulumi.Input<number>[];
  /** Why the flow exists. */
  why: string;
}

export interface NetworkPoliciesArgs {
  /** The instance's namespace; every policy lives there. */
  namespace: pulumi.Input<string>;
  /** The instance name in the pods' `app.kubernetes.io/instance` label, e.g. `airbyte-prod`. */
  instanceName: string;
  /** Namespace of the ingress controller, the only client of the OAuth2 Proxy. Default: `ingress-nginx`. */
  ingressControllerNamespace?: string;
  /** Where cluster DNS runs. Default: namespace `kube-system`, pods labelled `k8s-app: kube-dns`. */
  dns?: { namespace: string; podLabels: Record<string, string> };
  /**
   * The Kubernetes API server, called by the workload-launcher (connector pods) and the bootloader
   * (its Secret). Network plugins match the API server's endpoint address, after the `kubernetes`
   * Service is translated, so `cidrs` are the addresses `kubectl get endpoints kubernetes -n
   * default` lists. Cilium gives those addresses an identity (`kube-apiserver`, `host`,
   * `remote-node`) that no `ipBlock` matches: `ciliumEntity` adds a CiliumNetworkPolicy allowing
   * its `kube-apiserver` entity on the same ports. Default: any address (`0.0.0.0/0`) on 443 and
   * 6443, no Cilium policy.
   */
  kubernetesApi?: { cidrs?: string[]; ports?: number[]; ciliumEntity?: boolean };
  /**
   * NodeLocal DNSCache: the addresses its node-local agents listen on (the link-local address,
   * and in kube-proxy iptables mode also the kube-dns Service IP), allowed for DNS besides the
   * cluster DNS pods. Default: none (no NodeLocal DNSCache).
   */
  nodeLocalDnsAddresses?: string[];
  /**
   * Whether connector pods reach the database: with `SECRET_PERSISTENCE=TESTING_CONFIG_DB_TABLE`
   * the launcher gives their init container `DATABASE_URL`/`USER`/`PASSWORD` to read connector
   * secrets (airbyte-platform v2.0.0, airbyte-workload-launcher/src/main/kotlin/config/
   * EnvVarConfigBeanFactory.kt, `databaseEnvMap`). Default: `true`.
   */
  connectorsReadSecretsFromDatabase?: boolean;
  /**
   * API clients reach the server directly through the Ingress (`/api/public`,
   * `/api/v1/applications/token`), under Airbyte's own token authentication: admits the ingress
   * controller to the server's port as well. Default: `false` (the proxy only).
   */
  apiClientsThroughIngress?: boolean;
  /**
   * Extra ports some pods open to outside addresses ({@link internetCidrs} minus
   * {@link blockedCidrs}), or to another namespace's pods: an OTLP collector, a secret store.
   * Default: none.
   */
  externalEgress?: ExternalEgress[];
  /** Where "the internet" is, for the flows that go out. Default: `["0.0.0.0/0"]`. */
  internetCidrs?: string[];
  /**
   * Carved out of {@link internetCidrs} wherever they contain it. Default: `["169.254.169.254/32"]`,
   * the cloud metadata service, which would hand node credentials to connector code.
   */
  blockedCidrs?: string[];
  /**
   * Where Airbyte and Temporal reach their database. Default: the bundled server's pods on 5432;
   * an instance on an external server passes its addresses and port.
   */
  database?: { peer: Peer; port: pulumi.Input<number> };
  /** Pod groups beyond the instance's own, e.g. v1's migration job. Default: none. */
  extraGroups?: PodGroup[];
  /** Flows beyond the instance's own, e.g. replication from the hub. Default: none. */
  extraFlows?: NetworkFlow[];
}

/** Container ports the flows open (the components' own constants; tests check them against the pods). */
export const PORTS = {
  oauth2Proxy: 4180,
  server: 8001,
  connectorBuilderServer: 8080,
  workloadApiServer: 8007,
  temporal: 7233,
  temporalUi: 8080,
  postgres: 5432,
  minio: 9000,
  https: 443,
} as const;

/**
 * The label Airbyte's workload-launcher puts on every pod it creates (check, discover, spec and
 * replication pods; its pod sweeper finds them by it): `airbyte: job-pod`.
 */
export const CONNECTOR_POD_LABELS = { airbyte: "job-pod" } as const;

/** Label names of the pods each component runs (`app.kubernetes.io/name`). */
const INSTANCE_PODS = [
  "oauth2-proxy",
  "server",
  "connector-builder-server",
  "workload-api-server",
  "worker",
  "workload-launcher",
  "cron",
  "bootloader",
  "temporal",
  "temporal-namespace",
  "temporal-ui",
  "temporal-admin-tools",
  "postgres",
  "minio",
  "minio-buckets",
] as const;

/** The pods that call the Kubernetes API (the launcher manages pods; the bootloader a Secret). */
const KUBERNETES_API_CLIENTS = ["workload-launcher", "bootloader"];

/**
 * Cilium's form of "these pods may reach the Kubernetes API": its `kube-apiserver` entity, which
 * follows the API server's endpoints wherever they are (cilium/cilium PR 17823, docs PR 18396;
 * issue 14724 explains why an ipBlock cannot).
 */
export function ciliumKubeApiServerRules(
  clients: Record<string, string>[],
  ports: number[],
): Record<string, unknown>[] {
  return clients.map((matchLabels) => ({
    description: "the workload-launcher and the bootloader call the Kubernetes API",
    endpointSelector: { matchLabels },
    egress: [
      {
        toEntities: ["kube-apiserver"],
        toPorts: [{ ports: ports.map((p) => ({ port: String(p), protocol: "TCP" })) }],
      },
    ],
  }));
}

/** The group of connector pods. */
export const CONNECTORS = "connectors";

/** Nothing in, nothing out, for every pod of the namespace, unless another policy allows it. */
export const DEFAULT_DENY: net.NetworkPolicySpec = {
  podSelector: {},
  policyTypes: ["Ingress", "Egress"],
};

/** Where cluster DNS usually runs (CoreDNS keeps kube-dns's label). */
export const CLUSTER_DNS = { namespace: "kube-system", podLabels: { "k8s-app": "kube-dns" } };

/**
 * Every pod of the namespace may ask cluster DNS (UDP and TCP 53), and NodeLocal DNSCache at
 * `nodeLocalDns` when given: its agents run on the host network, so only an address matches them.
 */
export function dnsEgress(
  dns: { namespace: string; podLabels: Record<string, string> },
  nodeLocalDns: string[] = [],
): net.NetworkPolicySpec {
  return {
    podSelector: {},
    policyTypes: ["Egress"],
    egress: [
      {
        to: [
          {
            namespaceSelector: { matchLabels: { [KUBE_NAME]: dns.namespace } },
            podSelector: { matchLabels: dns.podLabels },
          },
          ...nodeLocalDns.map((a) => ({ ipBlock: { cidr: hostCidrOf(a) } })),
        ],
        ports: [
          { protocol: "UDP", port: 53 },
          { protocol: "TCP", port: 53 },
        ],
      },
    ],
  };
}

/** The instance's pod groups: its components' pods, and the connector pods Airbyte launches. */
export function instanceGroups(instanceName: string): PodGroup[] {
  return [
    ...INSTANCE_PODS.map((name) => ({
      name,
      matchLabels: { "app.kubernetes.io/name": name, "app.kubernetes.io/instance": instanceName },
    })),
    // The namespace holds one instance, so the launcher's label alone identifies its pods.
    { name: CONNECTORS, matchLabels: { ...CONNECTOR_POD_LABELS } },
  ];
}

interface Resolved {
  ingressControllerNamespace: string;
  dns: { namespace: string; podLabels: Record<string, string> };
  kubernetesApi: { cidrs: string[]; ports: number[]; ciliumEntity: boolean };
  nodeLocalDns: string[];
  connectorsReadSecrets: boolean;
  externalEgress: ExternalEgress[];
  apiClients: boolean;
  internet: string[];
  blocked: string[];
  database: { peer: Peer; port: pulumi.Input<number> };
}

function resolve(args: NetworkPoliciesArgs): Resolved {
  return {
    ingressControllerNamespace: args.ingressControllerNamespace ?? "ingress-nginx",
    dns: args.dns ?? CLUSTER_DNS,
    kubernetesApi: {
      cidrs: args.kubernetesApi?.cidrs ?? ["0.0.0.0/0"],
      ports: args.kubernetesApi?.ports ?? [443, 6443],
      ciliumEntity: args.kubernetesApi?.ciliumEntity ?? false,
    },
    nodeLocalDns: args.nodeLocalDnsAddresses ?? [],
    connectorsReadSecrets: args.connectorsReadSecretsFromDatabase ?? true,
    externalEgress: args.externalEgress ?? [],
    apiClients: args.apiClientsThroughIngress ?? false,
    internet: args.internetCidrs ?? ["0.0.0.0/0"],
    blocked: args.blockedCidrs ?? ["169.254.169.254/32"],
    database: args.database ?? { peer: { group: "postgres" }, port: PORTS.postgres },
  };
}

/**
 * Every flow one instance needs. Who calls what follows from the settings each Airbyte service
 * gets (reference §4.2): the `database` group → the database, `temporal` → Temporal, `storage` →
 * MinIO, `workload-api` → the workload API server, `common` (INTERNAL_API_HOST) → the server,
 * `connector`/`tracking` → Airbyte's registry and telemetry over HTTPS.
 */
export function instanceFlows(args: NetworkPoliciesArgs): NetworkFlow[] {
  const s = resolve(args);
  const g = (group: string): Peer => ({ group });
  const many = (
    clients: string[],
    to: Peer,
    ports: pulumi.Input<number>[] | undefined,
    why: string,
  ): NetworkFlow[] => clients.map((c) => ({ from: g(c), to, ports, why }));
  const internet: Peer = { cidrs: s.internet };
  return [
    {
      from: { namespace: s.ingressControllerNamespace },
      to: g("oauth2-proxy"),
      ports: [PORTS.oauth2Proxy],
      why: "the Ingress reaches the OAuth2 Proxy and nothing else (D4)",
    },
    ...(s.apiClients
      ? [
          {
            from: { namespace: s.ingressControllerNamespace },
            to: g("server"),
            ports: [PORTS.server],
            why: "API clients: the Ingress routes the public API and the token endpoint to the server, under Airbyte's token authentication",
          },
        ]
      : []),
    {
      from: g("oauth2-proxy"),
      to: internet,
      ports: [PORTS.https],
      why: "sign-in: the identity provider's token and user-info endpoints",
    },
    {
      from: g("oauth2-proxy"),
      to: g("server"),
      ports: [PORTS.server],
      why: "signed-in users to the Airbyte UI and API",
    },
    {
      from: g("oauth2-proxy"),
      to: g("connector-builder-server"),
      ports: [PORTS.connectorBuilderServer],
      why: "signed-in users to the Connector Builder",
    },
    {
      from: g("oauth2-proxy"),
      to: g("temporal-ui"),
      ports: [PORTS.temporalUi],
      why: "signed-in users to the Temporal UI under /temporal",
    },
    ...many(
      [
        "server",
        "worker",
        "workload-launcher",
        "workload-api-server",
        "cron",
        "bootloader",
        "temporal",
      ],
      s.database.peer,
      [s.database.port],
      "Airbyte's and Temporal's database",
    ),
    ...(s.connectorsReadSecrets
      ? many(
          [CONNECTORS],
          s.database.peer,
          [s.database.port],
          "connector pods' init container reads connector secrets from the database (SECRET_PERSISTENCE=TESTING_CONFIG_DB_TABLE)",
        )
      : []),
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
      g("temporal"),
      [PORTS.temporal],
      "Temporal's frontend",
    ),
    {
      from: g("temporal"),
      to: g("temporal"),
      why: "Temporal's four services share one pod and find each other through its address",
    },
    ...many(
      ["server", "worker", "workload-launcher", CONNECTORS, "minio-buckets"],
      g("minio"),
      [PORTS.minio],
      "logs, state and workload output in MinIO",
    ),
    ...many(
      ["worker", "workload-launcher", "cron", CONNECTORS],
      g("workload-api-server"),
      [PORTS.workloadApiServer],
      "the workload API: claims, heartbeats, status",
    ),
    ...many(
      [
        "worker",
        "workload-launcher",
        "workload-api-server",
        "cron",
        "connector-builder-server",
        CONNECTORS,
      ],
      g("server"),
      [PORTS.server],
      "Airbyte's internal API (INTERNAL_API_HOST, the dataplane token endpoint)",
    ),
    {
      from: g("server"),
      to: g("connector-builder-server"),
      ports: [PORTS.connectorBuilderServer],
      why: "the server's Connector Builder calls",
    },
    ...many(
      KUBERNETES_API_CLIENTS,
      { cidrs: s.kubernetesApi.cidrs },
      s.kubernetesApi.ports,
      "the Kubernetes API: the launcher manages connector pods, the bootloader its Secret",
    ),
    ...many(
      ["server", "worker", "workload-launcher", "cron", "bootloader"],
      internet,
      [PORTS.https],
      "Airbyte's connector registry and telemetry over HTTPS",
    ),
    ...s.externalEgress.flatMap((e) =>
      many(e.clients, e.namespace ? { namespace: e.namespace } : internet, [e.port], e.why),
    ),
    // Wide on purpose: connectors and the builder's test reads talk to whatever sources and
    // destinations users configure, on any port and possibly in private networks. The servers they
    // could otherwise reach in this namespace admit them only where listed above.
    ...many(
      [CONNECTORS, "connector-builder-server"],
      internet,
      undefined,
      "connectors and builder test reads reach user-configured sources and destinations",
    ),
  ];
}

/** An address as a one-host CIDR (`/32`, `/128`); a CIDR stays as it is. */
function hostCidrOf(address: string): string {
  if (address.includes("/")) return address;
  return address.includes(":") ? `${address}/128` : `${address}/32`;
}

/** Parses `a.b.c.d/n` into a 32-bit network and mask; undefined for anything else (IPv6). */
function ipv4(cidr: string): { net: number; mask: number } | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  if (!m) return undefined;
  const bits = Number(m[5]);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  const addr = ((+m[1] << 24) | (+m[2] << 16) | (+m[3] << 8) | +m[4]) >>> 0;
  return { net: (addr & mask) >>> 0, mask };
}

/** Whether `inner` lies strictly inside `outer` (IPv4 only). */
export function cidrContains(outer: string, inner: string): boolean {
  const o = ipv4(outer);
  const i = ipv4(inner);
  if (!o || !i || i.mask === o.mask) return false;
  return (i.mask & o.mask) >>> 0 === o.mask && (i.net & o.mask) >>> 0 === o.net;
}

const KUBE_NAME = "kubernetes.io/metadata.name";

function peersOf(peer: Peer, blocked: string[]): net.NetworkPolicyPeer[] {
  if ("group" in peer) throw new Error("internal: a group peer has no external form");
  if ("namespace" in peer) {
    return [
      {
        namespaceSelector: { matchLabels: { [KUBE_NAME]: peer.namespace } },
        ...(peer.podLabels ? { podSelector: { matchLabels: peer.podLabels } } : {}),
      },
    ];
  }
  return peer.cidrs.map((cidr) => {
    const except = blocked.filter((b) => cidrContains(cidr, b));
    return { ipBlock: { cidr, ...(except.length ? { except } : {}) } };
  });
}

function portsOf(ports: pulumi.Input<number>[] | undefined): net.NetworkPolicyPort[] | undefined {
  return ports?.map((port) => ({ protocol: "TCP", port }));
}

function validate(groups: PodGroup[], flows: NetworkFlow[]): void {
  const fail = (why: string) => {
    throw new Error(`NetworkPolicies: ${why}`);
  };
  const names = new Set<string>();
  for (const g of groups) {
    if (names.has(g.name)) fail(`pod group '${g.name}' is defined twice`);
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(g.name))
      fail(`pod group '${g.name}' is not a DNS label`);
    if (Object.keys(g.matchLabels).length === 0)
      fail(`pod group '${g.name}' selects no labels: it would match every pod`);
    names.add(g.name);
  }
  for (const f of flows) {
    for (const end of [f.from, f.to]) {
      if ("group" in end && !names.has(end.group))
        fail(`flow "${f.why}" names unknown pod group '${end.group}'`);
      if ("cidrs" in end && end.cidrs.length === 0) fail(`flow "${f.why}" has an empty cidrs list`);
    }
    if (!("group" in f.from) && !("group" in f.to))
      fail(`flow "${f.why}" has no end in this namespace`);
    for (const p of f.ports ?? []) {
      if (typeof p === "number" && !(Number.isInteger(p) && p >= 1 && p <= 65535))
        fail(`flow "${f.why}" has port ${p}, not in 1-65535`);
    }
    if (f.ports && f.ports.length === 0)
      fail(`flow "${f.why}": ports is empty; leave it out to mean every port`);
  }
}

export class NetworkPolicies extends pulumi.ComponentResource {
  /** `metadata.name` of every NetworkPolicy, default deny first. */
  public readonly policyNames: pulumi.Output<string[]>;

  constructor(name: string, args: NetworkPoliciesArgs, opts?: pulumi.ComponentResourceOptions) {
    const s = resolve(args);
    const groups = [...instanceGroups(args.instanceName), ...(args.extraGroups ?? [])];
    const flows = [...instanceFlows(args), ...(args.extraFlows ?? [])];
    validate(groups, flows);
    super("airbyte:network:NetworkPolicies", name, {}, opts);

    const inst = args.instanceName;
    const labels: LabelSpec = { name: "network-policy", instance: inst, component: "network" };
    const child = { parent: this };
    const policy = (resourceName: string, objectName: string, spec: net.NetworkPolicySpec) =>
      new k8s.networking.v1.NetworkPolicy(
        resourceName,
        { metadata: objectMeta(args.namespace, objectName, labels), spec },
        child,
      );

    const created = [
      // Nothing in, nothing out, for every pod, unless a policy below allows it.
      policy(`${name}-default-deny`, `${inst}-default-deny`, DEFAULT_DENY),
      policy(`${name}-dns`, `${inst}-allow-dns`, dnsEgress(s.dns, s.nodeLocalDns)),
    ];

    const selectorOf = new Map(groups.map((g) => [g.name, g.matchLabels]));
    const peer = (p: Peer): net.NetworkPolicyPeer[] =>
      "group" in p
        ? [{ podSelector: { matchLabels: selectorOf.get(p.group) } }]
        : peersOf(p, s.blocked);
    for (const g of groups) {
      const ingress = flows
        .filter((f) => "group" in f.to && f.to.group === g.name)
        .map((f) => ({ from: peer(f.from), ...optionalPorts(f.ports) }));
      const egress = flows
        .filter((f) => "group" in f.from && f.from.group === g.name)
        .map((f) => ({ to: peer(f.to), ...optionalPorts(f.ports) }));
      if (ingress.length === 0 && egress.length === 0) continue;
      created.push(
        policy(`${name}-${g.name}`, `${inst}-allow-${g.name}`, {
          podSelector: { matchLabels: g.matchLabels },
          policyTypes: [
            ...(ingress.length ? (["Ingress"] as const) : []),
            ...(egress.length ? (["Egress"] as const) : []),
          ],
          ...(ingress.length ? { ingress } : {}),
          ...(egress.length ? { egress } : {}),
        }),
      );
    }

    const names = created.map((p) => p.metadata.name);
    if (s.kubernetesApi.ciliumEntity) {
      // Cilium merges its own policies with NetworkPolicies: this adds an allow, it opens nothing
      // else. Same clients and ports as the ipBlock flow above.
      const cnp = new k8s.apiextensions.CustomResource(
        `${name}-kube-apiserver`,
        {
          apiVersion: "cilium.io/v2",
          kind: "CiliumNetworkPolicy",
          metadata: objectMeta(args.namespace, `${inst}-allow-kube-apiserver`, labels),
          // `specs`: a CiliumNetworkPolicy's list of rules, beside its single `spec`.
          specs: ciliumKubeApiServerRules(
            KUBERNETES_API_CLIENTS.map((c) => selectorOf.get(c) ?? {}),
            s.kubernetesApi.ports,
          ),
        },
        child,
      );
      names.push(cnp.metadata.name);
    }

    this.policyNames = pulumi.all(names);
    this.registerOutputs({ policyNames: this.policyNames });
  }
}

function optionalPorts(ports: pulumi.Input<number>[] | undefined): {
  ports?: net.NetworkPolicyPort[];
} {
  const p = portsOf(ports);
  return p ? { ports: p } : {};
}
