/**
 * What `pulumi up` would do to go from one recorded run to another, offline (DESIGN D11, issue 4).
 * Pure: two `RecordedResource[]` in, a structured {@link TopologyDiff} out. Resources are matched
 * by URN (or by an alias the new side declares); each is `create`, `delete`, `update` (with the
 * changed input paths, old → new, secrets masked) or `replace` (with the reasons).
 *
 * Replacement rules encoded here, and where each comes from:
 *
 * - **Kubernetes** (`@pulumi/kubernetes` 4.x provider, `provider/pkg/provider/diff.go`
 *   `forceNewProperties` and `provider.go` `Diff`; checked against tag v4.32.0, the newest in our
 *   mirror of pulumi/pulumi-kubernetes, whose `diff.go` is unchanged up to the mirror's head; the
 *   pinned 4.34.2 is not in it):
 *   - every object: `metadata.name`, `metadata.namespace`; removing `metadata` altogether;
 *   - Deployment, DaemonSet (apps/v1, v1beta2): `spec.selector`;
 *   - StatefulSet: `spec.selector`, `spec.serviceName`, `spec.podManagementPolicy`,
 *     `spec.volumeClaimTemplates`, `spec.revisionHistoryLimit`;
 *   - Job (batch/v1): `spec.template`, `spec.selector`, `spec.completions`, `spec.parallelism`;
 *   - Service: `spec.clusterIP` only (a `spec.type` change is an in-place update for the provider);
 *   - PersistentVolumeClaim: `spec.accessModes`, `spec.selector`, `spec.storageClassName`,
 *     `spec.volumeName` (a storage request change is an in-place resize);
 *   - Secret: `type`, and `data`/`stringData` unless the provider sets `enableSecretMutable` (and
 *     the Secret is not `immutable`); ConfigMap: `data`/`binaryData` unless the provider sets
 *     `enableConfigMapMutable` (and it is not `immutable`). Both flags default to false, so by
 *     default any Secret or ConfigMap content change replaces it;
 *   - Pod: the pod-spec and container fields of the provider's list (`POD_FIELDS`);
 *   - PersistentVolume sources, StorageClass `parameters`/`provisioner`, ResourceQuota
 *     `spec.scopes`, (Cluster)RoleBinding `roleRef`, policy/v1beta1 PodDisruptionBudget `spec`;
 *   - server-side-apply patch resources (`…Patch`): only `metadata.name`/`namespace`;
 *   - a replaced object that keeps its name and namespace is deleted before it is re-created
 *     (the provider's `DeleteBeforeReplace`), so it is briefly absent;
 *   - `apiVersion`/`kind` are part of the type token, hence of the URN: a change shows as a delete
 *     and a create. Within one URN (which the SDK does not produce) they are a replace.
 *   Not a provider rule but an API server one: `immutable: true` cannot be turned back off, so that
 *   change is reported as a replace (Pulumi would try an update that the server rejects).
 * - **PostgreSQL** (`@pulumi/postgresql` 3.18 bridges cyrilgdn/terraform-provider-postgresql, the
 *   submodule at ff936b9 = v1.26.0-3 in pulumi-postgresql v3.18.0; 3.18.1 is not in our mirror; its
 *   `ForceNew` schema attributes, Pulumi names, each file checked): see `POSTGRESQL_FORCE_NEW`. A Database's `name`
 *   and `owner` and a Role's `name` are NOT force-new: the provider renames in place
 *   (`ALTER DATABASE … RENAME`, `ALTER ROLE … RENAME`); these are updates carrying a note, because
 *   every client of the old name breaks.
 * - **random** (`@pulumi/random`: every input of every resource is force-new): any input change
 *   replaces, and a replaced generator yields a new secret for everything that uses it.
 * - **Providers**: a resource whose provider reference changes to another provider is replaced;
 *   a provider that is replaced replaces every resource it manages. A Kubernetes provider is
 *   replaced when `kubeconfig`, `context`, `cluster`, `clusterIdentifier` or
 *   `renderYamlToDirectory` change (`DiffConfig`; offline we cannot tell whether the active cluster
 *   really changed, so any change of those counts).
 * - **Resource options**: `replaceOnChanges` paths (`*` for any) force a replace; `ignoreChanges`
 *   paths are not changes; `protect`, `deleteBeforeReplace`, `ignoreChanges` and
 *   `replaceOnChanges` changes are listed as option changes; a protected resource that would be
 *   deleted or replaced makes `pulumi up` fail until it is unprotected.
 *
 * "Prod" (whose replacement or deletion blocks the CLI): the `airbyte-prod` AirbyteInstance and
 * everything under it, every object in prod's namespace (and that Namespace), and the shared
 * `AirbyteAuthSecrets` (replica and prod use the same values: DESIGN D2).
 *
 * What this cannot know: it compares the program's inputs on both sides, not the live state, so
 * server-side defaults, provider-computed fields and drift are invisible (docs/diff.md).
 */
import type { RecordedResource } from "../mock-runtime";
import { UNKNOWN_AT_PREVIEW } from "../preview-values";
import { componentLabel, Ownership } from "./graph";
import { typeTokenParts } from "./manifests";

export type DiffOp = "create" | "update" | "replace" | "delete";

/** One changed input, at a leaf (or where a subtree appears or disappears). */
export interface FieldChange {
  /** Display path: `spec.template.spec.containers[0].image`, `metadata.labels["app.kubernetes.io/name"]`. */
  path: string;
  /** `undefined` when the field is added; secret values are the string `[secret]`. */
  old?: unknown;
  /** `undefined` when the field is removed. */
  new?: unknown;
  /** The new value is unknown at preview (it comes from a resource not created yet). */
  unknown?: true;
}

export interface ReplaceReason {
  /** The changed path (or option) that forces the replacement. */
  path: string;
  /** Which rule: `kubernetes: StatefulSet spec.volumeClaimTemplates`, `replaceOnChanges: *`. */
  rule: string;
  /** Only if a value unknown at preview turns out different: a possible replacement. */
  possible?: true;
}

/** Why an entry makes the command fail even when prod's replacements are accepted. */
export interface Hazard {
  /** `data-loss`: data is deleted; `replication`: replication breaks; `fails`: `pulumi up` fails. */
  kind: "data-loss" | "replication" | "fails";
  message: string;
}

export interface OptionChange {
  option:
    | "protect"
    | "retainOnDelete"
    | "customTimeouts"
    | "deleteBeforeReplace"
    | "dependsOn"
    | "deletedWith"
    | "ignoreChanges"
    | "replaceOnChanges"
    | "provider";
  old: unknown;
  new: unknown;
}

export interface ResourceDiff {
  op: DiffOp;
  urn: string;
  /** The URN the resource had on the old side, when it moved there through an alias. */
  oldUrn?: string;
  type: string;
  name: string;
  /** Component resources (no cloud object of their own). */
  component: boolean;
  /** `AirbytePlatform airbyte-prod`: the nearest `airbyte:*` component, or `(stack)`. */
  owner: string;
  /** `Deployment airbyte-prod/airbyte-prod-server` for Kubernetes objects. */
  object?: string;
  prod: boolean;
  changes: FieldChange[];
  replaceReasons: ReplaceReason[];
  optionChanges: OptionChange[];
  /** A replace that deletes the old object first (same name): it is briefly absent. */
  deleteBeforeReplace?: boolean;
  /** A delete or replace of a resource marked `protect`: `pulumi up` refuses it. */
  protectedBlock?: boolean;
  /** Every replace reason rests on values unknown at preview: it may turn out an update. */
  possibleReplace?: boolean;
  /** The resource's options worth seeing (`protect`, `retainOnDelete`, `customTimeouts`…). */
  options: string[];
  /** Data loss, broken replication or a failing `pulumi up` (see {@link Hazard}). */
  hazards: Hazard[];
  /** Things worth knowing that are not a replacement (an in-place database rename…). */
  notes: string[];
}

export interface OutputChange {
  name: string;
  old?: unknown;
  new?: unknown;
}

export interface TopologyDiff {
  entries: ResourceDiff[];
  /** Per op; `possibleReplace` counts the replacements that rest on unknown values only. */
  counts: Record<DiffOp | "same" | "possibleReplace", number>;
  /** Stack outputs that appear, disappear or change (secret ones masked). */
  outputs: OutputChange[];
  /** Entries that replace or delete something of prod. */
  prodReplacedOrDeleted: ResourceDiff[];
  /** Entries with a {@link Hazard}: the command fails on them unless `--allow-data-loss`. */
  hazardous: ResourceDiff[];
}

export interface DiffOptions {
  /** Name of prod's AirbyteInstance component. Default `airbyte-prod`. */
  prodInstance?: string;
  /** Prod's namespaces. Default `["airbyte-prod"]`. */
  prodNamespaces?: string[];
}

export const SECRET_MASK = "[secret]";

// ---------------------------------------------------------------- paths

type Seg = string | number;

const IDENT = /^[A-Za-z_$][\w$-]*$/;

/** The format of `RecordedResource.secretPaths`: `a.b[0].c`, keys as they are. */
function dotted(segs: Seg[]): string {
  return segs.reduce<string>(
    (p, s) => (typeof s === "number" ? `${p}[${s}]` : p ? `${p}.${s}` : s),
    "",
  );
}

/** For people: keys that are not identifiers in brackets, `labels["app.kubernetes.io/name"]`. */
export function displayPath(segs: Seg[]): string {
  return segs.reduce<string>((p, s) => {
    if (typeof s === "number") return `${p}[${s}]`;
    if (!IDENT.test(s)) return `${p}[${JSON.stringify(s)}]`;
    return p ? `${p}.${s}` : s;
  }, "");
}

/**
 * Parses a property path as Pulumi options write them (`spec.template`, `a["b.c"]`, `x[*].y`,
 * `*`). `*` stands for any key or index.
 */
export function parsePath(path: string): Seg[] {
  const segs: Seg[] = [];
  const re = /\[(\d+|\*|"(?:[^"\\]|\\.)*")\]|\.?([^.[\]]+)/g;
  for (let m = re.exec(path); m; m = re.exec(path)) {
    if (m[2] !== undefined) segs.push(m[2]);
    else if (/^\d+$/.test(m[1])) segs.push(Number(m[1]));
    else if (m[1] === "*") segs.push("*");
    else segs.push(JSON.parse(m[1]) as string);
  }
  return segs;
}

/** Whether a change at `change` touches the field `rule` (either contains the other). */
function overlaps(rule: Seg[], change: Seg[]): boolean {
  const n = Math.min(rule.length, change.length);
  for (let i = 0; i < n; i++) if (rule[i] !== "*" && rule[i] !== change[i]) return false;
  return true;
}

/** Whether `prefix` covers `path` (equal or an ancestor). */
function covers(prefix: Seg[], path: Seg[]): boolean {
  return prefix.length <= path.length && overlaps(prefix, path);
}

// ---------------------------------------------------------------- values

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (isPlainObject(v))
    return Object.fromEntries(
      Object.keys(v)
        .filter((k) => v[k] !== undefined)
        .sort()
        .map((k) => [k, canonical(v[k])]),
    );
  return v;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/** Leaf-level differences between two input trees. */
function diffValues(a: unknown, b: unknown, segs: Seg[], out: { segs: Seg[] }[]): void {
  if (deepEqual(a, b)) return;
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys) diffValues(a[k], b[k], [...segs, k], out);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++)
      diffValues(a[i], b[i], [...segs, i], out);
    return;
  }
  out.push({ segs });
}

function valueAt(v: unknown, segs: Seg[]): unknown {
  let cur = v;
  for (const s of segs) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, unknown>)[s];
  }
  return cur;
}

/** Whether dotted path `outer` is `inner` or an ancestor of it (string form, so keys with dots
 * can only make it match more, never less: masking errs on the safe side). */
function within(outer: string, inner: string): boolean {
  return (
    outer === "" ||
    inner === outer ||
    inner.startsWith(`${outer}.`) ||
    inner.startsWith(`${outer}[`)
  );
}

/** Replaces every secret inside `value` (found at `segs`) by `[secret]`. */
function masked(value: unknown, segs: Seg[], secretPaths: string[]): unknown {
  if (value === undefined) return undefined;
  const here = dotted(segs);
  if (secretPaths.some((s) => within(s, here))) return SECRET_MASK;
  if (!secretPaths.some((s) => within(here, s))) return value;
  if (Array.isArray(value)) return value.map((e, i) => masked(e, [...segs, i], secretPaths));
  if (isPlainObject(value))
    return Object.fromEntries(
      Object.entries(value).map(([k, e]) => [k, masked(e, [...segs, k], secretPaths)]),
    );
  return value;
}

// ---------------------------------------------------------------- rules

interface KubeRules {
  paths: string[];
  /** Label of the rule set, for reasons: `StatefulSet`. */
  label: string;
}

const LABEL_SELECTOR = ["spec.selector"];

const CONTAINER_FIELDS = [
  "args",
  "command",
  "env",
  "image",
  "imagePullPolicy",
  "lifecycle",
  "livenessProbe",
  "ports",
  "readinessProbe",
  "resources",
  "securityContext",
  "stdin",
  "stdinOnce",
  "terminationMessagePath",
  "terminationMessagePolicy",
  "tty",
  "volumeDevices",
  "volumeMounts",
  "workingDir",
];

/** The provider's force-new list for bare Pods. */
const POD_FIELDS = [
  ...[
    "affinity",
    "automountServiceAccountToken",
    "dnsConfig",
    "dnsPolicy",
    "enableServiceLinks",
    "hostAliases",
    "hostIPC",
    "hostNetwork",
    "hostPID",
    "hostname",
    "imagePullSecrets",
    "nodeName",
    "nodeSelector",
    "overhead",
    "preemptionPolicy",
    "priority",
    "priorityClassName",
    "readinessGates",
    "restartPolicy",
    "runtimeClassName",
    "schedulerName",
    "securityContext",
    "serviceAccount",
    "serviceAccountName",
    "shareProcessNamespace",
    "subdomain",
    "terminationGracePeriodSeconds",
    "volumes",
  ].map((f) => `spec.${f}`),
  ...CONTAINER_FIELDS.flatMap((f) => [`spec.containers[*].${f}`, `spec.initContainers[*].${f}`]),
];

const PV_SOURCES = [
  "awsElasticBlockStore",
  "azureDisk",
  "azureFile",
  "cephfs",
  "cinder",
  "csi",
  "fc",
  "flexVolume",
  "flocker",
  "gcePersistentDisk",
  "glusterfs",
  "hostPath",
  "iscsi",
  "local",
  "nfs",
  "photonPersistentDisk",
  "portworxVolume",
  "quobyte",
  "rbd",
  "scaleIO",
  "storageos",
  "vsphereVolume",
].map((f) => `spec.${f}`);

/** `group/version` → kind → force-new paths, as in the provider's table. */
const KUBE_FORCE_NEW: Record<string, Record<string, string[]>> = {};
const addKube = (groupVersions: string[], kinds: Record<string, string[]>) => {
  for (const gv of groupVersions) KUBE_FORCE_NEW[gv] = { ...KUBE_FORCE_NEW[gv], ...kinds };
};
const STATEFULSET = [
  "spec.podManagementPolicy",
  "spec.revisionHistoryLimit",
  "spec.serviceName",
  "spec.volumeClaimTemplates",
  ...LABEL_SELECTOR,
];
addKube(["apps/v1beta1"], { StatefulSet: STATEFULSET });
addKube(["apps/v1beta2", "apps/v1"], {
  DaemonSet: LABEL_SELECTOR,
  Deployment: LABEL_SELECTOR,
  StatefulSet: STATEFULSET,
});
addKube(["v1", "core/v1"], {
  PersistentVolume: PV_SOURCES,
  PersistentVolumeClaim: [
    "spec.accessModes",
    "spec.selector",
    "spec.storageClassName",
    "spec.volumeName",
  ],
  Pod: POD_FIELDS,
  ResourceQuota: ["spec.scopes"],
  Secret: ["type"],
  Service: ["spec.clusterIP"],
});
addKube(["policy/v1beta1"], { PodDisruptionBudget: ["spec"] });
for (const v of ["v1alpha1", "v1beta1", "v1"])
  addKube([`rbac.authorization.k8s.io/${v}`], {
    ClusterRoleBinding: ["roleRef"],
    RoleBinding: ["roleRef"],
  });
addKube(["storage.k8s.io/v1"], { StorageClass: ["parameters", "provisioner"] });
addKube(["batch/v1beta1", "batch/v1", "batch/v2alpha1"], {
  Job: ["spec.completions", "spec.parallelism", "spec.template", ...LABEL_SELECTOR],
});

/** The Kubernetes provider's settings that decide whether Secret/ConfigMap data is mutable. */
interface KubeProviderFlags {
  enableSecretMutable: boolean;
  enableConfigMapMutable: boolean;
}

const truthy = (v: unknown) => v === true || v === "true";

function kubeRules(
  type: string,
  inputs: Record<string, unknown>,
  flags: KubeProviderFlags,
): KubeRules {
  const identity = ["metadata.name", "metadata.namespace"];
  const parts = typeTokenParts(type);
  if (!parts) return { paths: identity, label: type };
  const { apiVersion } = parts;
  const kind = parts.kind;
  if (kind.endsWith("Patch")) return { paths: identity, label: `${kind} (patch)` };
  const immutable = truthy(inputs.immutable);
  if (kind === "Secret" && (!flags.enableSecretMutable || immutable))
    return { paths: [...identity, "type", "stringData", "data"], label: "Secret" };
  const table = KUBE_FORCE_NEW[apiVersion]?.[kind];
  if (table) return { paths: [...identity, ...table], label: kind };
  if (kind === "ConfigMap" && (!flags.enableConfigMapMutable || immutable))
    return { paths: [...identity, "binaryData", "data"], label: "ConfigMap" };
  return { paths: identity, label: kind };
}

/**
 * Force-new attributes of cyrilgdn/terraform-provider-postgresql (`ForceNew: true` in each
 * `resource_postgresql_*.go` schema), by Pulumi type and Pulumi property name. Resources without
 * an Update function (GrantRole, ReplicationSlot, PhysicalReplicationSlot, Subscription) have
 * every attribute force-new.
 */
export const POSTGRESQL_FORCE_NEW: Record<string, string[]> = {
  Database: ["template", "encoding", "lcCollate", "lcCtype"],
  DefaultPrivileges: ["role", "database", "owner", "schema", "objectType", "withGrantOption"],
  DefaultPrivileg: ["role", "database", "owner", "schema", "objectType", "withGrantOption"],
  Extension: ["name", "database"],
  Function: ["schema", "name", "args", "language", "returns", "database"],
  Grant: ["role", "database", "schema", "objectType", "objects", "columns", "withGrantOption"],
  GrantRole: ["role", "grantRole", "withAdminOption"],
  PhysicalReplicationSlot: ["name"],
  Publication: ["database", "allTables"],
  ReplicationSlot: ["name", "database", "plugin"],
  Role: [],
  Schema: ["database"],
  SecurityLabel: ["objectName", "objectType", "labelProvider"],
  Server: ["serverType", "fdwName"],
  Subscription: ["name", "database", "conninfo", "publications", "createSlot", "slotName"],
  UserMapping: ["userName", "serverName"],
};

/** In-place changes of PostgreSQL objects that still break their clients. */
const POSTGRESQL_RENAMES: Record<string, string[]> = {
  Database: ["name", "owner"],
  Role: ["name"],
  Schema: ["name"],
};

/** Kubernetes provider inputs whose change replaces the provider (and all its resources). */
const KUBE_PROVIDER_REPLACE = [
  "kubeconfig",
  "context",
  "cluster",
  "clusterIdentifier",
  "renderYamlToDirectory",
];

// ---------------------------------------------------------------- classification

function providerUrn(ref: string | undefined): string | undefined {
  if (!ref) return undefined;
  const i = ref.lastIndexOf("::");
  return i > 0 ? ref.slice(0, i) : ref;
}

/** A provider's display name from its URN: `kubernetes`, `core-worker-01-provider`. */
function urnName(urn: string | undefined): string {
  if (!urn) return "the default provider";
  return urn.slice(urn.lastIndexOf("::") + 2);
}

function aliasUrns(r: RecordedResource): string[] {
  const out: string[] = [];
  for (const a of r.aliases) {
    if (typeof a === "string") out.push(a);
    else if (isPlainObject(a) && typeof a.urn === "string" && a.urn) out.push(a.urn);
  }
  return out;
}

const kindOf = (r: RecordedResource) => String(r.inputs.kind ?? typeTokenParts(r.type)?.kind ?? "");
const metaOf = (r: RecordedResource) =>
  (isPlainObject(r.inputs.metadata) ? r.inputs.metadata : {}) as {
    name?: unknown;
    namespace?: unknown;
  };

function objectLabelOf(r: RecordedResource): string | undefined {
  if (!r.custom || !typeTokenParts(r.type)) return undefined;
  const m = metaOf(r);
  const name = typeof m.name === "string" ? m.name : r.name;
  return `${kindOf(r)} ${typeof m.namespace === "string" && m.namespace ? `${m.namespace}/` : ""}${name}`;
}

class Side {
  readonly byUrn: Map<string, RecordedResource>;
  readonly ownership: Ownership;
  constructor(
    readonly resources: RecordedResource[],
    private readonly opts: Required<DiffOptions>,
  ) {
    this.byUrn = new Map(resources.map((r) => [r.urn, r]));
    this.ownership = new Ownership(resources);
  }

  owner(r: RecordedResource): string {
    const o = this.ownership.ownerOf(r);
    return o ? componentLabel(o) : "(stack)";
  }

  isProd(r: RecordedResource): boolean {
    const chain: RecordedResource[] = [];
    for (let p: RecordedResource | undefined = r; p; p = this.ownership.get(p.parent))
      chain.push(p);
    if (
      chain.some(
        (c) =>
          (c.type.endsWith(":AirbyteInstance") && c.name === this.opts.prodInstance) ||
          c.type.endsWith(":AirbyteAuthSecrets"),
      )
    )
      return true;
    // An object another component adds to prod's namespace for one topology (v1's copy job may
    // read prod's database; v2's replication replaces it) is that topology's, not prod's: removing
    // it takes nothing from prod. Only objects no component owns fall back to the namespace rule.
    if (chain.some((c) => c !== r && !c.custom && c.type.startsWith("airbyte:"))) return false;
    if (!r.type.startsWith("kubernetes:")) return false;
    const m = metaOf(r);
    if (typeof m.namespace === "string" && this.opts.prodNamespaces.includes(m.namespace))
      return true;
    return (
      kindOf(r) === "Namespace" &&
      typeof m.name === "string" &&
      this.opts.prodNamespaces.includes(m.name)
    );
  }

  kubeFlags(r: RecordedResource): KubeProviderFlags {
    const p = this.ownership.get(providerUrn(r.provider));
    return {
      enableSecretMutable: truthy(p?.inputs.enableSecretMutable),
      enableConfigMapMutable: truthy(p?.inputs.enableConfigMapMutable),
    };
  }
}

function packageOf(type: string): string {
  return type.startsWith("pulumi:providers:") ? "provider" : type.slice(0, type.indexOf(":"));
}

/** Force-new rule paths for a resource, with a label for the reason. */
function forceNewRules(
  after: RecordedResource,
  side: Side,
): { label: string; paths: string[] } | "any" {
  const pkg = packageOf(after.type);
  if (pkg === "random") return "any";
  if (pkg === "kubernetes") {
    const { label, paths } = kubeRules(after.type, after.inputs, side.kubeFlags(after));
    return { label: `kubernetes: ${label}`, paths: [...paths, "apiVersion", "kind"] };
  }
  if (pkg === "postgresql") {
    const kind = after.type.slice(after.type.lastIndexOf(":") + 1);
    return { label: `postgresql: ${kind}`, paths: POSTGRESQL_FORCE_NEW[kind] ?? [] };
  }
  if (after.type === "pulumi:providers:kubernetes")
    return { label: "kubernetes provider", paths: KUBE_PROVIDER_REPLACE };
  return { label: pkg, paths: [] };
}

const isUnknownAt = (inputs: unknown, segs: Seg[]) => valueAt(inputs, segs) === UNKNOWN_AT_PREVIEW;

/**
 * Whether a change at `change` triggers the force-new `rule`. A known change compares leaf by
 * leaf, so any overlap counts. An unknown value reaches the Kubernetes provider as `null` at its
 * path in the merge patch, and its force-new check (a JSONPath query of the rule on the patch,
 * `openapi.PatchPropertiesChanged`) only finds rules at or above that path: a whole `spec` unknown
 * does not match `spec.template`. Bridged providers compare top-level attributes: any overlap.
 */
function forceNewMatches(type: string, rule: Seg[], change: Seg[], unknown: boolean): boolean {
  if (unknown && type.startsWith("kubernetes:")) return covers(rule, change);
  return overlaps(rule, change);
}

function dependsOnNames(r: RecordedResource): string[] {
  return [...new Set((r.dependsOn ?? []).map((u) => urnName(u)))].sort();
}

/** The options a reader should see next to a resource. */
export function optionsOf(r: RecordedResource): string[] {
  const out: string[] = [];
  if (r.protect) out.push("protect");
  if (r.retainOnDelete) out.push("retainOnDelete");
  if (r.deleteBeforeReplace) out.push("deleteBeforeReplace");
  const timeouts = Object.entries(r.customTimeouts ?? {}).map(([op, t]) => `${op} ${String(t)}`);
  if (timeouts.length) out.push(`customTimeouts(${timeouts.join(", ")})`);
  if (r.deletedWith) out.push(`deletedWith ${urnName(r.deletedWith)}`);
  // `dependsOn` shows where it changes (an option change), not on every entry: it is on most.
  return out;
}

function classify(
  before: RecordedResource,
  after: RecordedResource,
  newSide: Side,
  replacedProviders: Set<string>,
): Pick<ResourceDiff, "changes" | "replaceReasons" | "optionChanges" | "notes"> {
  const ignore = after.ignoreChanges.map(parsePath);
  const found: { segs: Seg[] }[] = [];
  diffValues(before.inputs, after.inputs, [], found);
  const changed = found.filter((c) => !ignore.some((i) => covers(i, c.segs)));
  const secrets = [...before.secretPaths, ...after.secretPaths];
  const changes: FieldChange[] = changed.map(({ segs }) => {
    const change: FieldChange = { path: displayPath(segs) };
    const o = masked(valueAt(before.inputs, segs), segs, secrets);
    const unknown = isUnknownAt(after.inputs, segs);
    const n = unknown ? UNKNOWN_AT_PREVIEW : masked(valueAt(after.inputs, segs), segs, secrets);
    if (o !== undefined) change.old = o;
    if (n !== undefined) change.new = n;
    if (unknown) change.unknown = true;
    return change;
  });

  const replaceReasons: ReplaceReason[] = [];
  const rules = after.custom ? forceNewRules(after, newSide) : { label: "", paths: [] };
  const seen = new Set<string>();
  const addReason = (path: string, rule: string, possible = false) => {
    const key = `${path}\u0000${rule}`;
    if (seen.has(key)) return;
    seen.add(key);
    replaceReasons.push({ path, rule, ...(possible ? { possible: true as const } : {}) });
  };
  for (const { segs } of changed) {
    const unknown = isUnknownAt(after.inputs, segs);
    const reason = (rule: string) =>
      addReason(displayPath(segs), unknown ? `${rule}; unknown at preview` : rule, unknown);
    if (rules === "any") {
      reason(`${packageOf(after.type)}: every input is force-new`);
      continue;
    }
    for (const p of rules.paths)
      if (forceNewMatches(after.type, parsePath(p), segs, unknown)) reason(`${rules.label} ${p}`);
    for (const p of after.replaceOnChanges)
      if (p === "*" || overlaps(parsePath(p), segs)) reason(`replaceOnChanges: ${p}`);
    if (
      after.type.startsWith("kubernetes:") &&
      segs.length === 1 &&
      segs[0] === "immutable" &&
      truthy(before.inputs.immutable) &&
      !truthy(after.inputs.immutable)
    )
      addReason("immutable", "kubernetes API: an immutable object cannot be made mutable");
  }
  if (
    after.type.startsWith("kubernetes:") &&
    isPlainObject(before.inputs.metadata) &&
    after.inputs.metadata === undefined
  )
    addReason("metadata", "kubernetes: metadata removed");

  const optionChanges: OptionChange[] = [];
  const opt = <K extends OptionChange["option"]>(option: K, o: unknown, n: unknown) => {
    if (!deepEqual(o, n)) optionChanges.push({ option, old: o, new: n });
  };
  opt("protect", before.protect, after.protect);
  opt("retainOnDelete", before.retainOnDelete ?? false, after.retainOnDelete ?? false);
  opt("customTimeouts", before.customTimeouts ?? {}, after.customTimeouts ?? {});
  opt("deleteBeforeReplace", before.deleteBeforeReplace, after.deleteBeforeReplace);
  opt("dependsOn", dependsOnNames(before), dependsOnNames(after));
  opt("deletedWith", urnName(before.deletedWith), urnName(after.deletedWith));
  opt("ignoreChanges", before.ignoreChanges, after.ignoreChanges);
  opt("replaceOnChanges", before.replaceOnChanges, after.replaceOnChanges);
  const oldProvider = providerUrn(before.provider);
  const newProvider = providerUrn(after.provider);
  if (oldProvider !== newProvider) {
    opt("provider", urnName(oldProvider), urnName(newProvider));
    addReason(
      "provider",
      `provider changed from ${urnName(oldProvider)} to ${urnName(newProvider)}`,
    );
  } else if (newProvider && replacedProviders.has(newProvider)) {
    addReason("provider", `its provider ${urnName(newProvider)} is replaced`);
  }

  const notes: string[] = [];
  if (packageOf(after.type) === "postgresql") {
    const kind = after.type.slice(after.type.lastIndexOf(":") + 1);
    for (const field of POSTGRESQL_RENAMES[kind] ?? [])
      if (!deepEqual(before.inputs[field], after.inputs[field]))
        notes.push(
          `${kind} ${field} changes in place (${field === "owner" ? "ALTER … OWNER TO" : "ALTER … RENAME TO"}): clients of the old ${field} break`,
        );
  }
  return { changes, replaceReasons, optionChanges, notes };
}

/**
 * Classifies every resource of `before` and `after` by URN. Resources identical on both sides
 * (inputs, options, provider) are only counted (`counts.same`).
 */
export function diffRuns(
  before: RecordedResource[],
  after: RecordedResource[],
  options: DiffOptions = {},
): TopologyDiff {
  const opts: Required<DiffOptions> = {
    prodInstance: options.prodInstance ?? "airbyte-prod",
    prodNamespaces: options.prodNamespaces ?? ["airbyte-prod"],
  };
  const oldSide = new Side(before, opts);
  const newSide = new Side(after, opts);
  const isStack = (r: RecordedResource) => r.type === "pulumi:pulumi:Stack";

  // New URN → old resource (same URN, or an alias of the new resource naming an old URN).
  const matched = new Map<string, RecordedResource>();
  const claimed = new Set<string>();
  for (const r of after) {
    if (isStack(r)) continue;
    const old =
      oldSide.byUrn.get(r.urn) ??
      aliasUrns(r)
        .map((u) => oldSide.byUrn.get(u))
        .find(Boolean);
    if (old && !claimed.has(old.urn)) {
      matched.set(r.urn, old);
      claimed.add(old.urn);
    }
  }

  const entries: ResourceDiff[] = [];
  /** The old side of each entry that has one; unchanged pairs, for dependent replacements. */
  const oldOf = new Map<ResourceDiff, RecordedResource>();
  const unchanged = new Map<string, { old: RecordedResource; r: RecordedResource }>();
  let same = 0;
  const base = (r: RecordedResource, side: Side) => ({
    urn: r.urn,
    type: r.type,
    name: r.name,
    component: !r.custom,
    owner: side.owner(r),
    ...(objectLabelOf(r) ? { object: objectLabelOf(r) } : {}),
  });

  // Providers first, so their replacement can cascade to the resources they manage.
  const replacedProviders = new Set<string>();
  const order = [...after].sort(
    (a, b) =>
      Number(!a.type.startsWith("pulumi:providers:")) -
      Number(!b.type.startsWith("pulumi:providers:")),
  );
  for (const r of order) {
    if (isStack(r)) continue;
    const old = matched.get(r.urn);
    if (!old) {
      entries.push({
        op: "create",
        ...base(r, newSide),
        prod: newSide.isProd(r),
        changes: [],
        replaceReasons: [],
        optionChanges: [],
        notes: [],
        options: optionsOf(r),
        hazards: [],
      });
      continue;
    }
    const c = classify(old, r, newSide, replacedProviders);
    if (!c.changes.length && !c.replaceReasons.length && !c.optionChanges.length) {
      unchanged.set(old.urn, { old, r });
      same++;
      continue;
    }
    const entry: ResourceDiff = {
      op: c.replaceReasons.length ? "replace" : "update",
      ...base(r, newSide),
      ...(old.urn !== r.urn ? { oldUrn: old.urn } : {}),
      prod: newSide.isProd(r) || oldSide.isProd(old),
      ...c,
      options: optionsOf(r),
      hazards: [],
    };
    if (entry.op === "replace") {
      if (r.type.startsWith("pulumi:providers:")) replacedProviders.add(r.urn);
      markReplaced(entry, old, r);
    }
    oldOf.set(entry, old);
    entries.push(entry);
  }
  dependentReplacements(entries, oldOf, unchanged, before, newSide, base, () => same--);

  for (const r of before) {
    if (isStack(r) || claimed.has(r.urn)) continue;
    entries.push({
      op: "delete",
      ...base(r, oldSide),
      prod: oldSide.isProd(r),
      changes: [],
      replaceReasons: [],
      optionChanges: [],
      notes: [],
      options: optionsOf(r),
      hazards: [],
      ...(r.protect ? { protectedBlock: true } : {}),
    });
    oldOf.set(entries[entries.length - 1], r);
  }
  for (const e of entries) {
    const old = oldOf.get(e);
    if (old && (e.op === "replace" || e.op === "delete"))
      e.hazards = hazardsOf(e, old, oldSide, (u) => claimed.has(u));
  }

  const opRank: Record<DiffOp, number> = { replace: 0, delete: 1, update: 2, create: 3 };
  entries.sort(
    (a, b) =>
      a.owner.localeCompare(b.owner) ||
      opRank[a.op] - opRank[b.op] ||
      (a.object ?? a.urn).localeCompare(b.object ?? b.urn),
  );
  const counts = { create: 0, update: 0, replace: 0, delete: 0, same, possibleReplace: 0 };
  for (const e of entries) {
    counts[e.op]++;
    if (e.possibleReplace) counts.possibleReplace++;
  }

  return {
    entries,
    counts,
    outputs: diffOutputs(before.find(isStack), after.find(isStack)),
    prodReplacedOrDeleted: entries.filter(
      (e) => e.prod && (e.op === "replace" || e.op === "delete"),
    ),
    hazardous: entries.filter((e) => e.hazards.length),
  };
}

/** Sets what a replacement implies: delete-first when the object keeps its name, protection. */
function markReplaced(entry: ResourceDiff, old: RecordedResource, r: RecordedResource): void {
  const mOld = metaOf(old);
  const mNew = metaOf(r);
  const keepsName =
    r.type.startsWith("kubernetes:") &&
    mNew.name !== undefined &&
    mNew.name === mOld.name &&
    mNew.namespace === mOld.namespace;
  entry.deleteBeforeReplace = r.deleteBeforeReplace || keepsName;
  entry.possibleReplace = entry.replaceReasons.every((x) => x.possible);
  if (old.protect) entry.protectedBlock = true;
}

/** Pod-spec references to Secrets and ConfigMaps by name: `Secret/name`, `ConfigMap/name`. */
function referencedObjects(v: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(v)) for (const e of v) referencedObjects(e, out);
  else if (isPlainObject(v))
    for (const [k, e] of Object.entries(v)) {
      const o = isPlainObject(e) ? e : {};
      if ((k === "secretKeyRef" || k === "secretRef") && typeof o.name === "string")
        out.add(`Secret/${o.name}`);
      else if (k === "secret" && typeof o.secretName === "string")
        out.add(`Secret/${o.secretName}`);
      else if (
        (k === "configMapKeyRef" || k === "configMapRef" || k === "configMap") &&
        typeof o.name === "string"
      )
        out.add(`ConfigMap/${o.name}`);
      referencedObjects(e, out);
    }
  return out;
}

/**
 * The engine's dependent replacements (pulumi/pulumi `pkg/resource/deploy/step_generator.go`,
 * `calculateDependentReplacements`): when a resource is deleted before it is replaced, every
 * resource whose inputs come from it (its property dependencies in the state) is diffed again
 * with those inputs unknown, and replaced first if that diff replaces; so on, transitively. Those
 * that are not replaced keep running while it is absent: they are listed on its entry.
 */
function dependentReplacements(
  entries: ResourceDiff[],
  oldOf: Map<ResourceDiff, RecordedResource>,
  unchanged: Map<string, { old: RecordedResource; r: RecordedResource }>,
  before: RecordedResource[],
  newSide: Side,
  base: (r: RecordedResource, side: Side) => Omit<ResourceDiff, "op" | "prod" | RestKeys>,
  countSameAway: () => void,
): void {
  const byOldUrn = new Map<string, ResourceDiff>();
  for (const [e, old] of oldOf) byOldUrn.set(old.urn, e);
  const condemned = new Map<string, ResourceDiff>();
  for (const [e, old] of oldOf)
    if (e.op === "replace" && e.deleteBeforeReplace) condemned.set(old.urn, e);
  if (!condemned.size) return;
  const usedBy = new Map<ResourceDiff, string[]>();
  for (const d of before) {
    if (condemned.has(d.urn)) continue;
    const from = new Set<string>();
    const keys = Object.entries(d.propertyDependencies ?? {})
      .filter(([, urns]) => urns.some((u) => condemned.has(u) && from.add(u)))
      .map(([k]) => k);
    const viaProvider = condemned.has(providerUrn(d.provider) ?? "");
    const named = [...referencedObjects(d.inputs)];
    const ns = metaOf(d).namespace;
    for (const [urn, e] of condemned) {
      const m = metaOf(oldOf.get(e) ?? d);
      const label = `${e.type.slice(e.type.lastIndexOf(":") + 1)}/${String(m.name)}`;
      if (d.type.startsWith("kubernetes:") && m.namespace === ns && named.includes(label))
        from.add(urn);
    }
    if (!from.size && !viaProvider) continue;
    const pair = unchanged.get(d.urn);
    const existing = byOldUrn.get(d.urn);
    const r = pair?.r ?? newSide.byUrn.get(existing?.urn ?? "");
    if (!r || existing?.op === "delete" || existing?.op === "replace") continue;
    const rules = r.custom ? forceNewRules(r, newSide) : { label: "", paths: [] };
    const cause = [...from].map((u) => condemned.get(u)?.object ?? urnName(u)).join(", ");
    const hits = viaProvider
      ? ["provider"]
      : keys.filter(
          (k) =>
            rules === "any" ||
            rules.paths.some((p) => forceNewMatches(r.type, parsePath(p), [k], true)) ||
            r.replaceOnChanges.some((p) => p === "*" || overlaps(parsePath(p), [k])),
        );
    if (!hits.length) {
      for (const u of from) {
        const e = condemned.get(u);
        const label = objectLabelOf(r) ?? `${r.type} ${r.name}`;
        if (e) usedBy.set(e, [...(usedBy.get(e) ?? []), label]);
      }
      continue;
    }
    let entry = existing;
    if (!entry && pair) {
      countSameAway();
      unchanged.delete(d.urn);
      entry = {
        op: "replace",
        ...base(r, newSide),
        prod: newSide.isProd(r),
        changes: [],
        replaceReasons: [],
        optionChanges: [],
        notes: [],
        options: optionsOf(r),
        hazards: [],
      };
      entries.push(entry);
      oldOf.set(entry, d);
    }
    if (!entry) continue;
    entry.op = "replace";
    for (const k of hits)
      entry.replaceReasons.push({
        path: k,
        rule: `depends on ${cause}, deleted before it is re-created (engine: dependent replacement)`,
      });
    markReplaced(entry, d, r);
    entry.deleteBeforeReplace = true;
    condemned.set(d.urn, entry);
  }
  for (const [e, users] of usedBy) {
    const jobs = users.filter((u) => u.startsWith("Job ") || u.startsWith("CronJob "));
    e.notes.push(
      `deleted before it is re-created while ${users.join(", ")} use${users.length === 1 ? "s" : ""} it: pods starting meanwhile fail` +
        (jobs.length
          ? `; ${jobs.join(", ")} do${jobs.length === 1 ? "es" : ""} not re-run with the new value`
          : ""),
    );
  }
}

type RestKeys =
  "changes" | "replaceReasons" | "optionChanges" | "notes" | "options" | "hazards" | "oldUrn";

/** The claims a Namespace's deletion takes with it: its PVCs and its StatefulSets' claims. */
function claimsIn(namespace: string, side: Side): string[] {
  const out: string[] = [];
  for (const r of side.resources) {
    if (!r.custom || metaOf(r).namespace !== namespace) continue;
    const kind = kindOf(r);
    const name = String(metaOf(r).name ?? r.name);
    if (kind === "PersistentVolumeClaim") out.push(name);
    if (kind === "StatefulSet") {
      const spec = isPlainObject(r.inputs.spec) ? r.inputs.spec : {};
      const replicas = typeof spec.replicas === "number" ? spec.replicas : 1;
      for (const t of Array.isArray(spec.volumeClaimTemplates) ? spec.volumeClaimTemplates : []) {
        const tpl = isPlainObject(t) && isPlainObject(t.metadata) ? t.metadata.name : undefined;
        for (let i = 0; i < replicas; i++) out.push(`${String(tpl)}-${name}-${i}`);
      }
    }
  }
  return [...new Set(out)].sort();
}

/**
 * What a delete or replace destroys beyond the resource, or where `pulumi up` will fail. Rules:
 * - a Namespace's deletion deletes every object in it, its PersistentVolumeClaims (and so their
 *   volumes, under the usual `Delete` reclaim policy) included, whatever their own options;
 * - a PVC, or a StatefulSet whose `persistentVolumeClaimRetentionPolicy.whenDeleted` is `Delete`;
 * - a PostgreSQL Database (`DROP DATABASE`);
 * - a PostgreSQL Role: the provider runs `REASSIGN OWNED`/`DROP OWNED` only in the database it is
 *   connected to, then `DROP ROLE`, which PostgreSQL refuses while the role owns objects or holds
 *   privileges in any other database on the server (terraform-provider-postgresql ff936b9, the
 *   upstream of @pulumi/postgresql 3.18: `resource_postgresql_role.go`, `resourcePostgreSQLRoleDelete`);
 * - a replaced Subscription: the provider's `CREATE SUBSCRIPTION` never sets `copy_data`
 *   (`resource_postgresql_subscription.go`, `getOptionalParameters`: only `create_slot` and
 *   `slot_name`), so PostgreSQL's default `copy_data = true` re-copies every table into tables
 *   that already hold rows: the initial sync fails on duplicate keys and replication stops;
 * - a replaced logical replication slot: the subscriber loses its position;
 * - a protected resource: `pulumi up` refuses to delete or replace it.
 * `retainOnDelete` makes Pulumi forget instead of delete, so it loses nothing (but a Namespace's
 * deletion still takes what is in it).
 */
function hazardsOf(
  e: ResourceDiff,
  old: RecordedResource,
  side: Side,
  stays: (oldUrn: string) => boolean,
): Hazard[] {
  const out: Hazard[] = [];
  const maybe = e.possibleReplace ? " (if the replacement happens)" : "";
  if (e.protectedBlock)
    out.push({ kind: "fails", message: "protected: pulumi up refuses until it is unprotected" });
  const kind = kindOf(old);
  const pg = old.type.startsWith("postgresql:");
  const retained = old.retainOnDelete === true;
  if (old.type.startsWith("kubernetes:") && kind === "Namespace" && !retained) {
    const claims = claimsIn(String(metaOf(old).name), side);
    if (claims.length)
      out.push({
        kind: "data-loss",
        message: `deleting the Namespace deletes everything in it, with its claims: ${claims.join(", ")}${maybe}`,
      });
  }
  if (old.type.startsWith("kubernetes:") && !retained) {
    const spec = isPlainObject(old.inputs.spec) ? old.inputs.spec : {};
    const policy = isPlainObject(spec.persistentVolumeClaimRetentionPolicy)
      ? spec.persistentVolumeClaimRetentionPolicy
      : {};
    if (kind === "PersistentVolumeClaim")
      out.push({ kind: "data-loss", message: `the claim and its volume are deleted${maybe}` });
    if (kind === "StatefulSet" && policy.whenDeleted === "Delete")
      out.push({
        kind: "data-loss",
        message: `persistentVolumeClaimRetentionPolicy.whenDeleted is Delete: its claims go with it${maybe}`,
      });
  }
  const pgKind = old.type.slice(old.type.lastIndexOf(":") + 1);
  if (pg && pgKind === "Database" && !retained)
    out.push({ kind: "data-loss", message: `DROP DATABASE ${String(old.inputs.name)}${maybe}` });
  if (pg && pgKind === "Role" && !retained && e.op === "delete") {
    const kept = side.resources.filter(
      (r) =>
        r.type === "postgresql:index/database:Database" &&
        providerUrn(r.provider) === providerUrn(old.provider) &&
        (r.retainOnDelete || stays(r.urn)),
    );
    if (kept.length)
      out.push({
        kind: "fails",
        message: `DROP ROLE ${String(old.inputs.name)} fails while it owns objects or holds privileges in other databases (${kept.map((d) => String(d.inputs.name)).join(", ")}): the provider reassigns and drops owned objects only in its connection database`,
      });
  }
  if (pg && pgKind === "Subscription" && e.op === "replace")
    out.push({
      kind: "replication",
      message: `re-created without copy_data = false: it re-copies every table into tables holding rows, fails on duplicate keys and stops replicating${maybe}`,
    });
  if (pg && pgKind === "ReplicationSlot" && e.op === "replace")
    out.push({
      kind: "replication",
      message: `a new slot: the subscriber loses its position and must copy again${maybe}`,
    });
  return out;
}

function diffOutputs(
  before: RecordedResource | undefined,
  after: RecordedResource | undefined,
): OutputChange[] {
  const o = before?.outputs ?? {};
  const n = after?.outputs ?? {};
  const secret = [...(before?.secretOutputPaths ?? []), ...(after?.secretOutputPaths ?? [])];
  const out: OutputChange[] = [];
  for (const name of [...new Set([...Object.keys(o), ...Object.keys(n)])].sort()) {
    if (deepEqual(o[name], n[name])) continue;
    const change: OutputChange = { name };
    if (o[name] !== undefined) change.old = masked(o[name], [name], secret);
    if (n[name] !== undefined) change.new = masked(n[name], [name], secret);
    out.push(change);
  }
  return out;
}
