/**
 * The architecture diagram, drawn from the recorded resource graph rather than by hand.
 *
 * Nodes are the `airbyte:*` components that own resources, grouped by namespace; hosts outside the
 * cluster (resources on a non-Kubernetes provider) and, when there is an Ingress, the users in
 * front of it get nodes too. An edge A → B means an object of A names B: one of B's Service DNS
 * names or (same namespace) Service names in an env value, argument, referenced ConfigMap/Secret
 * or Ingress backend, a ConfigMap/Secret that B owns, or a credential B generated. The model is
 * written out by `diagram-output.ts`.
 */
import { componentLabel, isAirbyteComponent, Ownership } from "./graph";
import { kubeObjectOf, isKubeObject, type KubeObject } from "./manifests";
import { mockComputedState, type RecordedResource } from "../mock-runtime";
import { stringLeaves } from "./secrets-scan";

export interface DiagramNode {
  id: string;
  kind: "component" | "external" | "entry";
  /** First line: the component class, host name, or "Users". */
  title: string;
  /** Second line: the instance name, or what the external node is. */
  subtitle: string;
  /** Third line: what it runs (`3 Deployments · 2 Services`). */
  detail: string;
  /** Cluster (namespace) id; empty for nodes outside the cluster. */
  group: string;
  /** Role, from the `app.kubernetes.io/component` labels of its objects; picks the colour. */
  role: string;
}

export interface DiagramEdge {
  from: string;
  to: string;
  /** What the reference names (`airbyte-prod-db:5432`, `secret x`), one per line. */
  labels: string[];
}

export interface DiagramModel {
  title: string;
  nodes: DiagramNode[];
  edges: DiagramEdge[];
  groups: { id: string; label: string }[];
}

const slug = (s: string) => s.replace(/[^A-Za-z0-9]+/g, "_").replace(/^_|_$/g, "");

/** Paths that identify an object rather than refer to others (names, labels, selectors). */
function isReferencePath(path: string): boolean {
  return !/(^|\.)(metadata|selector)(\.|\[|$)/.test(path);
}

function mostCommon(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ?? "";
}

function plural(kind: string, n: number): string {
  if (n === 1) return `1 ${kind}`;
  if (kind.endsWith("ss")) return `${n} ${kind}es`;
  if (/[^aeiou]y$/.test(kind)) return `${n} ${kind.slice(0, -1)}ies`;
  return `${n} ${kind}s`;
}

const ROLE_OF_KIND_ORDER = ["Deployment", "StatefulSet", "CronJob", "Job", "Service", "Ingress"];

function detailOf(objects: KubeObject[], others: RecordedResource[]): string {
  const counts = new Map<string, number>();
  for (const o of objects) counts.set(o.kind, (counts.get(o.kind) ?? 0) + 1);
  for (const r of others) {
    const kind = r.type.slice(r.type.lastIndexOf(":") + 1);
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  const shown = [...counts]
    .filter(([k]) => ROLE_OF_KIND_ORDER.includes(k) || others.some((r) => r.type.endsWith(`:${k}`)))
    .sort((a, b) => {
      const rank = (k: string) => (ROLE_OF_KIND_ORDER.indexOf(k) + 100) % 100;
      return rank(a[0]) - rank(b[0]) || a[0].localeCompare(b[0]);
    });
  // A component with no workload (network policies, RBAC) is described by what it has.
  const described = shown.length ? shown : [...counts].sort((a, b) => b[1] - a[1]).slice(0, 2);
  return described.map(([k, n]) => plural(k, n)).join(" · ");
}

/** Reference strings in objects: every string leaf except names, labels and selectors. */
function referenceStrings(objects: KubeObject[]): string[] {
  return objects.flatMap((o) =>
    stringLeaves(o.body)
      .filter((l) => isReferencePath(l.path))
      .map((l) => l.value),
  );
}

/** Names of ConfigMaps and Secrets a workload or object points at (env, envFrom, volumes). */
export function referencedConfigNames(
  o: KubeObject,
): { kind: "ConfigMap" | "Secret"; name: string }[] {
  const out: { kind: "ConfigMap" | "Secret"; name: string }[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (typeof v !== "object" || v === null) return;
    const rec = v as Record<string, unknown>;
    for (const [k, e] of Object.entries(rec)) {
      const name = (e as { name?: unknown; secretName?: unknown } | null) ?? {};
      if (
        (k === "configMapKeyRef" || k === "configMapRef" || k === "configMap") &&
        typeof name.name === "string"
      )
        out.push({ kind: "ConfigMap", name: name.name });
      else if ((k === "secretKeyRef" || k === "secretRef") && typeof name.name === "string")
        out.push({ kind: "Secret", name: name.name });
      else if (k === "secret" && typeof name.secretName === "string")
        out.push({ kind: "Secret", name: name.secretName });
      walk(e);
    }
  };
  walk(o.body.spec);
  return out;
}

interface Address {
  /** A regex source matching the address with boundaries. */
  pattern: RegExp;
  service: string;
  /** Bare names only resolve inside the Service's own namespace. */
  namespace?: string;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** How a Service can be named by a client: its DNS names anywhere, its bare name nearby. */
function serviceAddresses(svc: KubeObject): Address[] {
  const fq = `${svc.name}.${svc.namespace}`;
  return [
    {
      pattern: new RegExp(
        `(?<![A-Za-z0-9.-])${escapeRe(fq)}(?![A-Za-z0-9-])(?:[.a-z]*)(?::(\\d+))?`,
      ),
      service: svc.name,
    },
    {
      pattern: new RegExp(`(?<![A-Za-z0-9.-])${escapeRe(svc.name)}(?![A-Za-z0-9.-])(?::(\\d+))?`),
      service: svc.name,
      namespace: svc.namespace,
    },
  ];
}

function hostPattern(host: string): RegExp {
  return new RegExp(`(?<![A-Za-z0-9.-])${escapeRe(host)}(?![A-Za-z0-9-])(?::(\\d+))?`);
}

const FRIENDLY_PACKAGE: Record<string, string> = { postgresql: "PostgreSQL", mysql: "MySQL" };

/** Builds the diagram model from the recorded graph. */
export function buildDiagram(resources: RecordedResource[], title: string): DiagramModel {
  const own = new Ownership(resources);
  const objects = resources.filter(isKubeObject).map(kubeObjectOf);
  const objectsByUrn = new Map(objects.map((o) => [o.resource.urn, o]));

  // Components that own something directly are nodes; pure groupings are not.
  const owned = new Map<string, RecordedResource[]>();
  for (const r of resources) {
    if (isAirbyteComponent(r)) continue;
    const owner = own.ownerOf(r);
    if (owner) owned.set(owner.urn, [...(owned.get(owner.urn) ?? []), r]);
  }
  // A component that owns only its Namespace names a cluster instead of being a node.
  const isNamespace = (r: RecordedResource) => objectsByUrn.get(r.urn)?.kind === "Namespace";
  const components = resources.filter(
    (r) =>
      isAirbyteComponent(r) &&
      (owned.get(r.urn) ?? []).some(
        (x) => x.custom && !isNamespace(x) && !x.type.startsWith("pulumi:providers:"),
      ),
  );
  const namespaceOwners = new Map<string, string>();
  for (const o of objects) {
    const owner = o.kind === "Namespace" ? own.ownerOf(o.resource) : undefined;
    if (owner) namespaceOwners.set(o.name, componentLabel(owner));
  }

  const nodes: DiagramNode[] = [];
  const edges = new Map<string, DiagramEdge>();
  const addEdge = (from: string, to: string, label: string) => {
    if (from === to) return;
    const key = `${from}->${to}`;
    const e = edges.get(key) ?? { from, to, labels: [] };
    if (label && !e.labels.includes(label)) e.labels.push(label);
    edges.set(key, e);
  };

  const nodeId = new Map<string, string>();
  const kubeOf = new Map<string, KubeObject[]>();
  for (const c of components) {
    const mine = (owned.get(c.urn) ?? []).flatMap((r) => objectsByUrn.get(r.urn) ?? []);
    const nonKube = (owned.get(c.urn) ?? []).filter(
      (r) => r.custom && !objectsByUrn.has(r.urn) && !r.type.startsWith("pulumi:providers:"),
    );
    // Generated values are worth naming only where they are all the component makes.
    const notRandom = nonKube.filter((r) => !r.type.startsWith("random:"));
    const others = mine.length || notRandom.length ? notRandom : nonKube;
    kubeOf.set(c.urn, mine);
    const id = `c_${slug(componentLabel(c))}`;
    nodeId.set(c.urn, id);
    const namespace = mostCommon(mine.map((o) => o.namespace).filter(Boolean));
    const roleLabels = mine.map(
      (o) =>
        ((o.body.metadata as { labels?: Record<string, string> } | undefined)?.labels ?? {})[
          "app.kubernetes.io/component"
        ] ?? "",
    );
    nodes.push({
      id,
      kind: "component",
      title: c.type.slice(c.type.lastIndexOf(":") + 1),
      subtitle: c.name,
      detail: detailOf(mine, others),
      group: namespace ? `ns_${slug(namespace)}` : "",
      role:
        mostCommon(roleLabels.filter(Boolean)) ||
        (notRandom.length ? "external" : others.length ? "secrets" : ""),
    });
  }

  // In-cluster DNS names of every Service → the node of the component that owns it.
  const serviceOwnerByDns = new Map<string, string>();
  for (const svc of objects.filter((o) => o.kind === "Service")) {
    const owner = own.ownerOf(svc.resource);
    if (!owner || !nodeId.has(owner.urn)) continue;
    for (const suffix of ["", ".svc", ".svc.cluster.local"])
      serviceOwnerByDns.set(`${svc.name}.${svc.namespace}${suffix}`, nodeId.get(owner.urn)!);
  }

  // Hosts outside the cluster: the providers of non-Kubernetes resources.
  const hostNodes = new Map<string, { id: string; host: string }>();
  const managed = new Map<string, string[]>();
  for (const r of resources) {
    const provider = own.providerOf(r);
    if (!provider || !r.custom || provider.type === "pulumi:providers:kubernetes") continue;
    const pkg = provider.type.replace("pulumi:providers:", "");
    const host = [provider.inputs.host, provider.inputs.endpoint, provider.inputs.address].find(
      (v): v is string => typeof v === "string",
    );
    const name = host ?? provider.name;
    // A provider pointed at an in-cluster Service manages that Service's component, not a host.
    const inCluster =
      host === undefined ? undefined : serviceOwnerByDns.get(host.replace(/\.$/, ""));
    let node = inCluster ? { id: inCluster, host: "" } : hostNodes.get(name);
    if (!node) {
      node = { id: `x_${slug(name)}`, host: name };
      hostNodes.set(name, node);
      nodes.push({
        id: node.id,
        kind: "external",
        title: name,
        subtitle: `${FRIENDLY_PACKAGE[pkg] ?? pkg} host, outside the cluster`,
        detail: "",
        group: "",
        role: "external",
      });
    }
    const owner = own.ownerOf(r);
    const kind = r.type.slice(r.type.lastIndexOf(":") + 1);
    if (owner && nodeId.has(owner.urn)) {
      managed.set(`${owner.urn}|${node.id}`, [
        ...(managed.get(`${owner.urn}|${node.id}`) ?? []),
        kind,
      ]);
    }
  }
  for (const [key, kinds] of managed) {
    const [ownerUrn, target] = [
      key.slice(0, key.lastIndexOf("|")),
      key.slice(key.lastIndexOf("|") + 1),
    ];
    addEdge(nodeId.get(ownerUrn)!, target, `manages ${[...new Set(kinds)].sort().join(", ")}`);
  }

  // References between components, through Service names, DNS names and external host names.
  const addressesOf = new Map<string, Address[]>();
  for (const c of components)
    addressesOf.set(
      c.urn,
      (kubeOf.get(c.urn) ?? []).filter((o) => o.kind === "Service").flatMap(serviceAddresses),
    );
  const configObjects = objects.filter((o) => o.kind === "ConfigMap" || o.kind === "Secret");
  for (const a of components) {
    const mine = kubeOf.get(a.urn) ?? [];
    const from = nodeId.get(a.urn)!;
    // ConfigMaps and Secrets the workloads point at, wherever they are owned.
    const referenced = mine.flatMap((o) =>
      referencedConfigNames(o).flatMap((ref) =>
        configObjects.filter(
          (c) => c.kind === ref.kind && c.name === ref.name && c.namespace === o.namespace,
        ),
      ),
    );
    for (const ref of referenced) {
      const refOwner = own.ownerOf(ref.resource);
      if (refOwner && refOwner.urn !== a.urn && nodeId.has(refOwner.urn))
        addEdge(
          from,
          nodeId.get(refOwner.urn)!,
          `${ref.kind === "Secret" ? "secret" : "config"} ${ref.name}`,
        );
    }
    const namespaces = new Set(mine.map((o) => o.namespace));
    const texts = referenceStrings([...mine, ...referenced]);
    for (const b of components) {
      if (b.urn === a.urn) continue;
      for (const addr of addressesOf.get(b.urn) ?? []) {
        if (addr.namespace !== undefined && !namespaces.has(addr.namespace)) continue;
        for (const t of texts) {
          // The substring test first: most strings name no Service, and it is much cheaper.
          const m = t.includes(addr.service) ? addr.pattern.exec(t) : null;
          if (m) addEdge(from, nodeId.get(b.urn)!, m[1] ? `${addr.service}:${m[1]}` : addr.service);
        }
      }
    }
    for (const { id, host } of hostNodes.values()) {
      const re = hostPattern(host);
      for (const t of texts) {
        const m = t.includes(host) ? re.exec(t) : null;
        if (m) addEdge(from, id, m[1] ? `${host}:${m[1]}` : host);
      }
    }
  }

  // Generated credentials used by another component, where no other reference links the two.
  const generated = resources
    .filter((r) => r.type.startsWith("random:"))
    .flatMap((r) => {
      const owner = own.ownerOf(r);
      const value = mockComputedState(r.type, r.name, r.inputs).result;
      return owner && nodeId.has(owner.urn) && typeof value === "string"
        ? [{ node: nodeId.get(owner.urn)!, value }]
        : [];
    });
  for (const a of components) {
    const from = nodeId.get(a.urn)!;
    const texts = stringLeaves((kubeOf.get(a.urn) ?? []).map((o) => o.body)).map((l) => l.value);
    for (const g of generated) {
      if (g.node === from || edges.has(`${from}->${g.node}`)) continue;
      if (texts.some((t) => t.includes(g.value))) addEdge(from, g.node, "generated credentials");
    }
  }

  // Users reach whatever owns an Ingress.
  const ingresses = objects.filter((o) => o.kind === "Ingress");
  if (ingresses.length) {
    nodes.push({
      id: "users",
      kind: "entry",
      title: "Users",
      subtitle: "",
      detail: "",
      group: "",
      role: "entry",
    });
    for (const ing of ingresses) {
      const owner = own.ownerOf(ing.resource);
      const spec = (ing.body.spec ?? {}) as { rules?: { host?: string }[]; tls?: unknown[] };
      const hosts = (spec.rules ?? []).map((r) => r.host).filter((h): h is string => !!h);
      const scheme = spec.tls?.length ? "https" : "http";
      if (owner && nodeId.has(owner.urn))
        addEdge(
          "users",
          nodeId.get(owner.urn)!,
          hosts.length ? hosts.map((h) => `${scheme}://${h}`).join(", ") : scheme,
        );
    }
  }

  const groupIds = [...new Set(nodes.map((n) => n.group).filter(Boolean))].sort();
  const groups = groupIds.map((id) => {
    const ns = objects.find((o) => `ns_${slug(o.namespace)}` === id)?.namespace ?? id;
    const owner = namespaceOwners.get(ns);
    return { id, label: owner ? `${owner} · namespace ${ns}` : `namespace ${ns}` };
  });
  nodes.sort((x, y) => x.group.localeCompare(y.group) || x.id.localeCompare(y.id));
  const edgeList = [...edges.values()].sort(
    (x, y) => x.from.localeCompare(y.from) || x.to.localeCompare(y.to),
  );
  for (const e of edgeList) {
    // `svc:5432` says all that `svc` does.
    e.labels = e.labels.filter((l) => !e.labels.some((m) => m.startsWith(`${l}:`))).sort();
  }
  return { title, nodes, edges: edgeList, groups };
}
