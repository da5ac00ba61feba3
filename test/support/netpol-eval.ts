/**
 * An evaluator of rendered NetworkPolicies (networking.k8s.io/v1 semantics), plus the one Cilium
 * construct the program renders (a CiliumNetworkPolicy egress rule `toEntities`).
 *
 * A flow A → B:port is allowed when both ends allow it:
 * - egress of A: A is not selected by any policy with policyType Egress, or one of those
 *   policies has an egress rule whose peers match B and whose ports match;
 * - ingress of B: the same with Ingress rules and peers matching A.
 * A pod outside the cluster's policies (an external address) has no side of its own.
 *
 * Deliberate simplifications, each on the strict side:
 * - an `ipBlock` never matches a pod inside the cluster (CNIs differ there, so nothing may rely
 *   on it);
 * - under `cni: "cilium"`, an `ipBlock` also never matches an address Cilium knows as an entity
 *   (the API server, nodes: `kube-apiserver`, `host`, `remote-node`), only entity rules do;
 * - named ports are resolved against the receiving pod's container ports when it is a pod, and
 *   never match an external address.
 */

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export interface PolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}

export interface PolicyPort {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}

export interface PolicyRule {
  from?: PolicyPeer[];
  to?: PolicyPeer[];
  ports?: PolicyPort[];
}

export interface NetworkPolicy {
  namespace: string;
  name: string;
  spec: {
    podSelector: LabelSelector;
    policyTypes?: string[];
    ingress?: PolicyRule[];
    egress?: PolicyRule[];
  };
}

/** The subset of a CiliumNetworkPolicy rule the program renders. */
export interface CiliumRule {
  endpointSelector: LabelSelector;
  egress?: {
    toEntities?: string[];
    toPorts?: { ports: { port: string; protocol?: string }[] }[];
  }[];
}

export interface CiliumPolicy {
  namespace: string;
  name: string;
  rules: CiliumRule[];
}

export interface Pod {
  kind: "pod";
  /** For messages. */
  name: string;
  namespace: string;
  labels: Record<string, string>;
  /** Named container ports, for policies that name them. */
  namedPorts?: Record<string, number>;
}

export interface External {
  kind: "external";
  name: string;
  ip: string;
  /** Cilium's identities for the address, e.g. `kube-apiserver`. */
  entities?: string[];
}

export type Endpoint = Pod | External;

export interface Cluster {
  namespaces: Record<string, Record<string, string>>;
  policies: NetworkPolicy[];
  ciliumPolicies?: CiliumPolicy[];
  /** `standard` (default): NetworkPolicy only. `cilium`: also CiliumNetworkPolicies. */
  cni?: "standard" | "cilium";
}

export function selects(selector: LabelSelector | undefined, labels: Record<string, string>) {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {}))
    if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = e.key in labels;
    const values = e.values ?? [];
    const ok =
      e.operator === "In"
        ? has && values.includes(labels[e.key])
        : e.operator === "NotIn"
          ? !has || !values.includes(labels[e.key])
          : e.operator === "Exists"
            ? has
            : e.operator === "DoesNotExist"
              ? !has
              : fail(`unknown selector operator ${e.operator}`);
    if (!ok) return false;
  }
  return true;
}

function fail(why: string): never {
  throw new Error(`netpol-eval: ${why}`);
}

function ipv4(addr: string): number | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(addr);
  if (!m) return undefined;
  return ((+m[1] << 24) | (+m[2] << 16) | (+m[3] << 8) | +m[4]) >>> 0;
}

/** Whether an IPv4 address lies in a CIDR; IPv6 ranges never match an IPv4 address. */
export function inCidr(ip: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split("/");
  const a = ipv4(ip);
  const b = ipv4(base);
  if (a === undefined) fail(`only IPv4 endpoints are modelled, got ${ip}`);
  if (b === undefined) return false;
  const bits = Number(bitsText);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (a & mask) >>> 0 === (b & mask) >>> 0;
}

const CILIUM_CLUSTER_ENTITIES = ["kube-apiserver", "host", "remote-node"];

export class Evaluator {
  constructor(readonly cluster: Cluster) {
    for (const p of cluster.policies) {
      if (!(p.namespace in cluster.namespaces))
        fail(`policy ${p.name} is in namespace ${p.namespace}, which the cluster lacks`);
    }
  }

  private get cilium() {
    return this.cluster.cni === "cilium";
  }

  private peerMatches(peer: PolicyPeer, policyNamespace: string, other: Endpoint): boolean {
    if (peer.ipBlock) {
      if (other.kind === "pod") return false;
      if (this.cilium && (other.entities ?? []).some((e) => CILIUM_CLUSTER_ENTITIES.includes(e)))
        return false;
      return (
        inCidr(other.ip, peer.ipBlock.cidr) &&
        !(peer.ipBlock.except ?? []).some((x) => inCidr(other.ip, x))
      );
    }
    if (other.kind !== "pod") return false;
    if (peer.namespaceSelector) {
      const nsLabels = this.cluster.namespaces[other.namespace];
      if (!nsLabels) fail(`pod ${other.name} is in unknown namespace ${other.namespace}`);
      if (!selects(peer.namespaceSelector, nsLabels)) return false;
    } else if (other.namespace !== policyNamespace) return false;
    return selects(peer.podSelector, other.labels);
  }

  private portMatches(
    ports: PolicyPort[] | undefined,
    dest: Endpoint,
    port: number,
    protocol: string,
  ) {
    if (!ports || ports.length === 0) return true;
    return ports.some((p) => {
      if ((p.protocol ?? "TCP") !== protocol) return false;
      if (p.port === undefined) return true;
      if (typeof p.port === "string") {
        const resolved = dest.kind === "pod" ? dest.namedPorts?.[p.port] : undefined;
        return resolved === port;
      }
      return p.endPort !== undefined ? port >= p.port && port <= p.endPort : port === p.port;
    });
  }

  /** Policies of a type selecting the pod. */
  private selecting(pod: Pod, type: "Ingress" | "Egress"): NetworkPolicy[] {
    return this.cluster.policies.filter(
      (p) =>
        p.namespace === pod.namespace &&
        policyTypes(p).includes(type) &&
        selects(p.spec.podSelector, pod.labels),
    );
  }

  private ciliumEgressRules(pod: Pod): CiliumRule[] {
    if (!this.cilium) return [];
    return (this.cluster.ciliumPolicies ?? [])
      .filter((c) => c.namespace === pod.namespace)
      .flatMap((c) => c.rules)
      .filter((r) => r.egress && selects(r.endpointSelector, pod.labels));
  }

  /** Whether `from` may send to `to` on the egress side of `from`. */
  egressAllows(from: Pod, to: Endpoint, port: number, protocol = "TCP"): boolean {
    const policies = this.selecting(from, "Egress");
    const cilium = this.ciliumEgressRules(from);
    if (policies.length === 0 && cilium.length === 0) return true;
    const byPolicy = policies.some((p) =>
      (p.spec.egress ?? []).some(
        (r) =>
          (r.to === undefined ||
            r.to.length === 0 ||
            r.to.some((peer) => this.peerMatches(peer, p.namespace, to))) &&
          this.portMatches(r.ports, to, port, protocol),
      ),
    );
    const byEntity =
      to.kind === "external" &&
      cilium.some((r) =>
        (r.egress ?? []).some(
          (e) =>
            (e.toEntities ?? []).some((x) => (to.entities ?? []).includes(x)) &&
            (e.toPorts ?? []).some((tp) =>
              tp.ports.some((p) => Number(p.port) === port && (p.protocol ?? "TCP") === protocol),
            ),
        ),
      );
    return byPolicy || byEntity;
  }

  /** Whether `to` admits `from` on the ingress side of `to`. */
  ingressAllows(from: Endpoint, to: Pod, port: number, protocol = "TCP"): boolean {
    const policies = this.selecting(to, "Ingress");
    if (policies.length === 0) return true;
    return policies.some((p) =>
      (p.spec.ingress ?? []).some(
        (r) =>
          (r.from === undefined ||
            r.from.length === 0 ||
            r.from.some((peer) => this.peerMatches(peer, p.namespace, from))) &&
          this.portMatches(r.ports, to, port, protocol),
      ),
    );
  }

  /** Both sides. */
  allows(from: Endpoint, to: Endpoint, port: number, protocol = "TCP"): boolean {
    const out = from.kind === "pod" ? this.egressAllows(from, to, port, protocol) : true;
    const inn = to.kind === "pod" ? this.ingressAllows(from, to, port, protocol) : true;
    return out && inn;
  }
}

function policyTypes(p: NetworkPolicy): string[] {
  // The API server's defaulting: Ingress always, Egress when egress rules exist.
  return p.spec.policyTypes ?? ["Ingress", ...(p.spec.egress ? ["Egress"] : [])];
}
