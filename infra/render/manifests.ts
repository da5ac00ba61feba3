/**
 * Turns the recorded resource graph into Kubernetes manifests: which resources are Kubernetes
 * objects, their stable order, their file names and their YAML.
 */
import { stringify } from "yaml";
import type { RecordedResource } from "../mock-runtime";

/** A Kubernetes object the program declares, with the resource that declared it. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  name: string;
  /** Empty for cluster-scoped objects. */
  namespace: string;
  /** The object as it would be sent to the API server. */
  body: Record<string, unknown>;
  /** A server-side-apply patch (`ConfigMapPatch`…): a partial object, not schema-complete. */
  patch: boolean;
  resource: RecordedResource;
}

/**
 * Apply order: what others depend on first (namespaces, identities, config, storage), then the
 * workloads, then what routes to them. Unlisted kinds go last, alphabetically.
 */
const KIND_ORDER = [
  "Namespace",
  "NetworkPolicy",
  "ResourceQuota",
  "LimitRange",
  "PodDisruptionBudget",
  "ServiceAccount",
  "Secret",
  "ConfigMap",
  "StorageClass",
  "PersistentVolume",
  "PersistentVolumeClaim",
  "CustomResourceDefinition",
  "ClusterRole",
  "ClusterRoleBinding",
  "Role",
  "RoleBinding",
  "Service",
  "DaemonSet",
  "Pod",
  "ReplicaSet",
  "Deployment",
  "HorizontalPodAutoscaler",
  "StatefulSet",
  "Job",
  "CronJob",
  "IngressClass",
  "Ingress",
];

/** `kubernetes:apps/v1:Deployment` → apiVersion `apps/v1`, kind `Deployment` (core: `v1`). */
export function typeTokenParts(type: string): { apiVersion: string; kind: string } | undefined {
  const m = /^kubernetes:([^:]+):([^:]+)$/.exec(type);
  if (!m) return undefined;
  const [group, version] = m[1].split("/");
  if (version === undefined) return undefined;
  return { apiVersion: group === "core" ? version : `${group}/${version}`, kind: m[2] };
}

/** Whether a recorded resource is a Kubernetes object (not a provider, not a component). */
export function isKubeObject(r: RecordedResource): boolean {
  return r.custom && r.type.startsWith("kubernetes:") && typeTokenParts(r.type) !== undefined;
}

/** Puts `apiVersion`, `kind`, `metadata` first, as people write manifests. */
function orderedBody(
  apiVersion: string,
  kind: string,
  inputs: Record<string, unknown>,
): Record<string, unknown> {
  const rest = Object.fromEntries(
    Object.entries(inputs).filter(([k]) => !["apiVersion", "kind", "metadata"].includes(k)),
  );
  return {
    apiVersion,
    kind,
    ...(inputs.metadata !== undefined ? { metadata: inputs.metadata } : {}),
    ...rest,
  };
}

export function kubeObjectOf(r: RecordedResource): KubeObject {
  const fromType = typeTokenParts(r.type);
  const apiVersion = String(r.inputs.apiVersion ?? fromType?.apiVersion ?? "");
  const kind = String(r.inputs.kind ?? fromType?.kind ?? "");
  const meta = (r.inputs.metadata ?? {}) as { name?: unknown; namespace?: unknown };
  return {
    apiVersion,
    kind,
    // The mock runtime fills auto-names in state, not inputs; fall back to the resource name.
    name: typeof meta.name === "string" ? meta.name : r.name,
    namespace: typeof meta.namespace === "string" ? meta.namespace : "",
    body: orderedBody(apiVersion, kind, r.inputs),
    patch: fromType?.kind.endsWith("Patch") === true && fromType.kind !== kind,
    resource: r,
  };
}

function kindRank(kind: string): number {
  const i = KIND_ORDER.indexOf(kind);
  return i === -1 ? KIND_ORDER.length : i;
}

export function compareObjects(a: KubeObject, b: KubeObject): number {
  return (
    kindRank(a.kind) - kindRank(b.kind) ||
    a.kind.localeCompare(b.kind) ||
    a.namespace.localeCompare(b.namespace) ||
    a.name.localeCompare(b.name) ||
    a.resource.urn.localeCompare(b.resource.urn)
  );
}

/** Every Kubernetes object of the graph, in apply order. */
export function kubeObjects(resources: RecordedResource[]): KubeObject[] {
  return resources.filter(isKubeObject).map(kubeObjectOf).sort(compareObjects);
}

/** `Deployment airbyte-prod/airbyte-prod-server`, the way errors name an object. */
export function objectLabel(o: Pick<KubeObject, "kind" | "namespace" | "name">): string {
  return `${o.kind} ${o.namespace ? `${o.namespace}/` : ""}${o.name}`;
}

/** Path of an object's file under `manifests/`: `<namespace>/<kind>-<name>.yaml`. */
export function manifestPath(o: KubeObject): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, "_");
  const dir = o.namespace ? safe(o.namespace) : "_cluster";
  return `${dir}/${o.kind.toLowerCase()}-${safe(o.name)}.yaml`;
}

/**
 * One object as a YAML document. Written with YAML 1.1 quoting because kubectl and most Kubernetes
 * tools read YAML 1.1, where an unquoted `on`, `yes` or `2024-01-01` is not a string.
 */
export function toYaml(o: KubeObject): string {
  return stringify(o.body, { lineWidth: 0, aliasDuplicateObjects: false, version: "1.1" });
}

/**
 * All objects as one multi-document stream, each headed by the Pulumi resource it came from.
 * `yamls` are the objects' documents when already serialized (serializing is the costly part).
 */
export function toYamlStream(objects: KubeObject[], yamls: string[] = objects.map(toYaml)): string {
  return objects
    .map((o, i) => `---\n# ${o.resource.type} ${o.resource.name}\n${yamls[i]}`)
    .join("");
}

/** Objects that would collide in the cluster (same apiVersion group, kind, namespace and name). */
export function duplicateObjects(objects: KubeObject[]): KubeObject[][] {
  const groups = new Map<string, KubeObject[]>();
  for (const o of objects) {
    const group = o.apiVersion.includes("/") ? o.apiVersion.split("/")[0] : "";
    const key = `${group}|${o.kind}|${o.namespace}|${o.name}`;
    groups.set(key, [...(groups.get(key) ?? []), o]);
  }
  return [...groups.values()].filter((g) => g.length > 1);
}
