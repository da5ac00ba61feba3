/** The NetworkPolicy evaluator itself, on hand-written policies with known answers. */
import { describe, expect, it } from "vitest";
import {
  Cluster,
  Evaluator,
  External,
  NetworkPolicy,
  Pod,
  inCidr,
  selects,
} from "./support/netpol-eval";

const NS = "kubernetes.io/metadata.name";
const pod = (
  namespace: string,
  labels: Record<string, string>,
  namedPorts?: Record<string, number>,
): Pod => ({
  kind: "pod",
  name: `${namespace}/${JSON.stringify(labels)}`,
  namespace,
  labels,
  ...(namedPorts ? { namedPorts } : {}),
});
const ext = (ip: string, entities?: string[]): External => ({
  kind: "external",
  name: ip,
  ip,
  ...(entities ? { entities } : {}),
});
const policy = (namespace: string, spec: NetworkPolicy["spec"]): NetworkPolicy => ({
  namespace,
  name: "p",
  spec,
});
const cluster = (policies: NetworkPolicy[], extra: Partial<Cluster> = {}): Evaluator =>
  new Evaluator({
    namespaces: { a: { [NS]: "a", team: "x" }, b: { [NS]: "b" } },
    policies,
    ...extra,
  });

const web = pod("a", { app: "web" }, { http: 8080 });
const db = pod("a", { app: "db" });
const other = pod("b", { app: "web" });

describe("NetworkPolicy evaluator", () => {
  it("allows everything when no policy selects either end", () => {
    expect(cluster([]).allows(web, db, 5432)).toBe(true);
  });

  it("needs both the egress and the ingress side", () => {
    const denyAll = policy("a", { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    const egress = policy("a", {
      podSelector: { matchLabels: { app: "web" } },
      policyTypes: ["Egress"],
      egress: [{ to: [{ podSelector: { matchLabels: { app: "db" } } }], ports: [{ port: 5432 }] }],
    });
    const ingress = policy("a", {
      podSelector: { matchLabels: { app: "db" } },
      policyTypes: ["Ingress"],
      ingress: [{ from: [{ podSelector: { matchLabels: { app: "web" } } }] }],
    });
    expect(cluster([denyAll, egress]).allows(web, db, 5432)).toBe(false);
    expect(cluster([denyAll, ingress]).allows(web, db, 5432)).toBe(false);
    expect(cluster([denyAll, egress, ingress]).allows(web, db, 5432)).toBe(true);
    expect(cluster([denyAll, egress, ingress]).allows(web, db, 5433)).toBe(false);
    expect(cluster([denyAll, egress, ingress]).allows(web, db, 5432, "UDP")).toBe(false);
  });

  it("reads a bare podSelector as this namespace only, namespaceSelector+podSelector as both", () => {
    const admitWeb = (peer: NonNullable<NetworkPolicy["spec"]["ingress"]>[number]["from"]) =>
      cluster([
        policy("a", { podSelector: { matchLabels: { app: "db" } }, ingress: [{ from: peer }] }),
      ]);
    expect(admitWeb([{ podSelector: { matchLabels: { app: "web" } } }]).allows(other, db, 1)).toBe(
      false,
    );
    expect(
      admitWeb([
        {
          namespaceSelector: { matchLabels: { [NS]: "b" } },
          podSelector: { matchLabels: { app: "web" } },
        },
      ]).allows(other, db, 1),
    ).toBe(true);
    expect(
      admitWeb([
        {
          namespaceSelector: { matchLabels: { [NS]: "b" } },
          podSelector: { matchLabels: { app: "x" } },
        },
      ]).allows(other, db, 1),
    ).toBe(false);
    expect(admitWeb([{ namespaceSelector: {} }]).allows(other, db, 1)).toBe(true);
    // An ipBlock never matches a pod, whatever its address.
    expect(admitWeb([{ ipBlock: { cidr: "0.0.0.0/0" } }]).allows(other, db, 1)).toBe(false);
    expect(admitWeb([{ ipBlock: { cidr: "0.0.0.0/0" } }]).allows(ext("10.1.2.3"), db, 1)).toBe(
      true,
    );
    // Empty `from` admits everyone; a rule list that is empty admits no one.
    expect(admitWeb([]).allows(other, db, 1)).toBe(true);
    expect(cluster([policy("a", { podSelector: {}, ingress: [] })]).allows(other, db, 1)).toBe(
      false,
    );
  });

  it("defaults policyTypes as the API server does", () => {
    const ingressOnly = policy("a", { podSelector: {} });
    expect(cluster([ingressOnly]).allows(web, ext("8.8.8.8"), 53)).toBe(true);
    expect(cluster([ingressOnly]).allows(other, web, 80)).toBe(false);
    const withEgress = policy("a", { podSelector: {}, egress: [] });
    expect(cluster([withEgress]).allows(web, ext("8.8.8.8"), 53)).toBe(false);
  });

  it("carves except ranges out of an ipBlock", () => {
    const out = policy("a", {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["169.254.169.254/32"] } }] }],
    });
    expect(cluster([out]).allows(web, ext("169.254.169.254"), 80)).toBe(false);
    expect(cluster([out]).allows(web, ext("169.254.169.253"), 80)).toBe(true);
  });

  it("resolves named ports on the receiving pod and honours endPort", () => {
    const named = policy("a", { podSelector: {}, ingress: [{ ports: [{ port: "http" }] }] });
    expect(cluster([named]).allows(db, web, 8080)).toBe(true);
    expect(cluster([named]).allows(db, web, 8081)).toBe(false);
    const range = policy("a", {
      podSelector: {},
      ingress: [{ ports: [{ port: 9000, endPort: 9040 }] }],
    });
    expect(cluster([range]).allows(db, web, 9040)).toBe(true);
    expect(cluster([range]).allows(db, web, 9041)).toBe(false);
  });

  it("matches selectors' expressions", () => {
    const l = { app: "web", tier: "front" };
    expect(
      selects({ matchExpressions: [{ key: "app", operator: "In", values: ["web"] }] }, l),
    ).toBe(true);
    expect(
      selects({ matchExpressions: [{ key: "app", operator: "NotIn", values: ["web"] }] }, l),
    ).toBe(false);
    expect(selects({ matchExpressions: [{ key: "x", operator: "DoesNotExist" }] }, l)).toBe(true);
    expect(selects({ matchExpressions: [{ key: "tier", operator: "Exists" }] }, l)).toBe(true);
    expect(selects({ matchLabels: { app: "web", tier: "back" } }, l)).toBe(false);
  });

  it("under Cilium, matches the API server by entity only, never by ipBlock", () => {
    const api = ext("172.18.0.2", ["kube-apiserver"]);
    const any = policy("a", {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ port: 6443 }] }],
    });
    expect(cluster([any]).allows(web, api, 6443)).toBe(true);
    expect(cluster([any], { cni: "cilium" }).allows(web, api, 6443)).toBe(false);
    const entity = {
      namespace: "a",
      name: "c",
      rules: [
        {
          endpointSelector: { matchLabels: { app: "web" } },
          egress: [
            {
              toEntities: ["kube-apiserver"],
              toPorts: [{ ports: [{ port: "6443", protocol: "TCP" }] }],
            },
          ],
        },
      ],
    };
    const ev = cluster([any], { cni: "cilium", ciliumPolicies: [entity] });
    expect(ev.allows(web, api, 6443)).toBe(true);
    expect(ev.allows(web, api, 443)).toBe(false);
    expect(ev.allows(db, api, 6443)).toBe(false);
    // A CiliumNetworkPolicy alone also puts its pods under default deny for egress.
    expect(
      cluster([], { cni: "cilium", ciliumPolicies: [entity] }).allows(web, ext("8.8.8.8"), 53),
    ).toBe(false);
  });

  it("compares IPv4 addresses with CIDRs", () => {
    expect(inCidr("10.0.4.21", "10.0.4.21/32")).toBe(true);
    expect(inCidr("10.0.4.22", "10.0.4.21/32")).toBe(false);
    expect(inCidr("10.0.4.22", "10.0.0.0/8")).toBe(true);
    expect(inCidr("10.0.4.22", "::/0")).toBe(false);
  });
});
