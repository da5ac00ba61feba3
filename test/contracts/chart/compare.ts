/**
 * Holds our rendered Airbyte workloads to the chart's facts: both sides become flat
 * `path → value` views, and every path where they differ must be explained by exactly the
 * intended-differences table (see `intended-differences.ts`).
 */
import type { Graph, RecordedResource } from "../../support/graph";
import { metadataOf, podSpecOf } from "../../support/graph";
import type { ChartFacts, ContainerFacts, EnvSource, RbacRule, WorkloadFacts } from "./facts-types";

/** Chart workload ids (object name without the release) of the services we run. */
export const COMPARED = [
  "bootloader",
  "server",
  "worker",
  "workload-launcher",
  "workload-api-server",
  "cron",
  "connector-builder-server",
] as const;
export type WorkloadId = (typeof COMPARED)[number];

/** Stands for the release (chart) or the instance name and namespace (ours) inside values. */
export const RELEASE = "<release>";

export type View = Record<string, string>;

export interface Difference {
  workload: WorkloadId;
  path: string;
  chart: string | undefined;
  ours: string | undefined;
}

function flatten(prefix: string, v: unknown, out: View): void {
  if (v === undefined || v === null) return;
  if (Array.isArray(v)) {
    if (v.every((e) => typeof e !== "object")) out[prefix] = v.map(String).join(",");
    else v.forEach((e, i) => flatten(`${prefix}[${i}]`, e, out));
  } else if (typeof v === "object") {
    for (const [k, e] of Object.entries(v as Record<string, unknown>))
      flatten(`${prefix}.${k}`, e, out);
  } else out[prefix] = String(v);
}

function envText(e: EnvSource): string {
  if ("secretKey" in e) return `secret ${e.secretKey.name}/${e.secretKey.key}`;
  if ("fieldRef" in e) return `field ${e.fieldRef}`;
  if ("resourceFieldRef" in e) return `resource ${e.resourceFieldRef}`;
  return e.value ?? "";
}

function rbacView(rules: RbacRule[], out: View): void {
  for (const r of rules) {
    for (const g of r.apiGroups.length ? r.apiGroups : [""])
      for (const res of r.resources)
        for (const verb of r.verbs) {
          const names = r.resourceNames?.length ? `[${[...r.resourceNames].sort().join(",")}]` : "";
          out[`rbac.${g || "core"}/${res}${names}.${verb}`] = "allow";
        }
  }
}

/** The flat view of one workload, in the shape both sides share. */
function view(
  w: {
    kind: string;
    serviceAccountName: string;
    podSecurityContext: Record<string, unknown>;
    initContainers: string[];
    main: ContainerFacts;
  },
  rbac: RbacRule[],
  normalize: (s: string) => string,
): View {
  const out: View = {};
  const c = w.main;
  out.kind = w.kind;
  out.serviceAccount = normalize(w.serviceAccountName);
  out.image = c.image;
  out["container.name"] = c.name;
  if (c.command) out.command = c.command.join(" ");
  if (c.args) out.args = c.args.join(" ");
  out.initContainers = w.initContainers.join(",");
  for (const [name, e] of Object.entries(c.env)) out[`env.${name}`] = normalize(envText(e));
  flatten("securityContext", c.securityContext, out);
  flatten("podSecurityContext", w.podSecurityContext, out);
  for (const p of c.writablePaths) out[`writable.${p}`] = "rw";
  for (const p of c.ports) out[`ports.${p.containerPort}/${p.protocol}`] = p.name ?? "";
  for (const [k, p] of Object.entries(c.probes)) flatten(`probes.${k}`, p, out);
  rbacView(rbac, out);
  return out;
}

/** The chart side: a workload of the facts file. */
export function chartView(facts: ChartFacts, id: WorkloadId): View {
  const w: WorkloadFacts = facts.workloads[id];
  const rel = facts.provenance.release;
  const normalize = (s: string) => s.split(rel).join(RELEASE);
  return view(
    {
      kind: w.kind,
      serviceAccountName: w.serviceAccountName,
      podSecurityContext: w.podSecurityContext,
      initContainers: w.initContainers.map((c) => c.name),
      main: w.containers[0],
    },
    facts.rbac[w.serviceAccountName] ?? [],
    normalize,
  );
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === "object" ? (v as Obj) : {});

/** Our container in the facts' shape, ConfigMap values resolved from the same graph. */
function ourContainer(graph: Graph, namespace: string, c: Obj): ContainerFacts {
  const configMap = (name: string) =>
    graph
      .kube("ConfigMap")
      .find((r) => metadataOf(r).name === name && metadataOf(r).namespace === namespace);
  const env: Record<string, EnvSource> = {};
  for (const e of (c.env as Obj[] | undefined) ?? []) {
    const from = obj(e.valueFrom);
    const name = String(e.name);
    if (from.configMapKeyRef) {
      const ref = obj(from.configMapKeyRef);
      const data = obj(configMap(String(ref.name))?.inputs.data);
      const value = data[String(ref.key)];
      env[name] = {
        configMapKey: { name: String(ref.name), key: String(ref.key) },
        ...(typeof value === "string" ? { value } : {}),
      };
    } else if (from.secretKeyRef) {
      const ref = obj(from.secretKeyRef);
      env[name] = { secretKey: { name: String(ref.name), key: String(ref.key) } };
    } else if (from.fieldRef) env[name] = { fieldRef: String(obj(from.fieldRef).fieldPath) };
    else env[name] = { value: String(e.value ?? "") };
  }
  const sc = obj(c.securityContext);
  const mounts = ((c.volumeMounts as Obj[] | undefined) ?? []).map((m) => ({
    name: String(m.name),
    mountPath: String(m.mountPath),
    readOnly: m.readOnly === true,
  }));
  const probes: ContainerFacts["probes"] = {};
  if (c.livenessProbe) probes.liveness = c.livenessProbe;
  if (c.readinessProbe) probes.readiness = c.readinessProbe;
  if (c.startupProbe) probes.startup = c.startupProbe;
  return {
    name: String(c.name),
    image: String(c.image),
    ...(c.command ? { command: (c.command as unknown[]).map(String) } : {}),
    ...(c.args ? { args: (c.args as unknown[]).map(String) } : {}),
    env,
    envFrom: [],
    securityContext: sc,
    ports: ((c.ports as Obj[] | undefined) ?? []).map((p) => ({
      ...(p.name ? { name: String(p.name) } : {}),
      containerPort: Number(p.containerPort),
      protocol: String(p.protocol ?? "TCP"),
    })),
    probes,
    volumeMounts: mounts,
    writablePaths: [
      ...(sc.readOnlyRootFilesystem === true ? [] : ["/"]),
      ...mounts.filter((m) => !m.readOnly).map((m) => m.mountPath),
    ].sort(),
  };
}

/** Rules bound to a ServiceAccount in a namespace, through RoleBindings of the graph. */
function ourRbac(graph: Graph, namespace: string, sa: string): RbacRule[] {
  const inNs = (r: RecordedResource) => metadataOf(r).namespace === namespace;
  const rules: RbacRule[] = [];
  for (const b of graph.kube("RoleBinding").filter(inNs)) {
    const subjects = (b.inputs.subjects as Obj[] | undefined) ?? [];
    if (!subjects.some((s) => s.kind === "ServiceAccount" && s.name === sa)) continue;
    const ref = obj(b.inputs.roleRef);
    const role = graph.kube("Role", String(ref.name)).find(inNs);
    for (const r of (role?.inputs.rules as Obj[] | undefined) ?? []) {
      rules.push({
        apiGroups: (r.apiGroups as string[] | undefined) ?? [],
        resources: (r.resources as string[] | undefined) ?? [],
        verbs: (r.verbs as string[] | undefined) ?? [],
        ...(r.resourceNames ? { resourceNames: r.resourceNames as string[] } : {}),
      });
    }
  }
  return rules;
}

/** One Airbyte instance of our render: its namespace, instance name and workloads by id. */
export interface OurInstance {
  instance: string;
  namespace: string;
  workloads: Partial<Record<WorkloadId, RecordedResource>>;
}

/** Every Airbyte platform of the graph, by the AirbytePlatform components it registered. */
export function ourInstances(graph: Graph): OurInstance[] {
  const out: OurInstance[] = [];
  for (const p of graph.components("airbyte:platform:AirbytePlatform")) {
    const outputs = obj(p.outputs);
    const namespace = String(outputs.namespace);
    const server = String(outputs.serverServiceName);
    const instance = server.replace(/-server$/, "");
    const workloads: OurInstance["workloads"] = {};
    for (const w of graph.descendantsOf(p).filter((r) => r.custom)) {
      const kind = String(w.inputs.kind);
      if (kind !== "Deployment" && kind !== "Job") continue;
      const name = String(metadataOf(w).name).slice(instance.length + 1);
      const id = (
        kind === "Job" && name.startsWith("bootloader") ? "bootloader" : name
      ) as WorkloadId;
      if ((COMPARED as readonly string[]).includes(id)) workloads[id] = w;
    }
    out.push({ instance, namespace, workloads });
  }
  return out;
}

/** Our side: a workload of one instance. */
export function ourView(graph: Graph, inst: OurInstance, id: WorkloadId): View | undefined {
  const r = inst.workloads[id];
  if (!r) return undefined;
  const pod = podSpecOf(r) as unknown as Obj;
  const sa = typeof pod.serviceAccountName === "string" ? pod.serviceAccountName : "default";
  // Longest first: a replica's instance name contains prod's.
  const names = [inst.instance, inst.namespace].sort((a, b) => b.length - a.length);
  const normalize = (s: string) => names.reduce((t, n) => t.split(n).join(RELEASE), s);
  return view(
    {
      kind: String(r.inputs.kind),
      serviceAccountName: sa,
      podSecurityContext: obj(pod.securityContext),
      initContainers: ((pod.initContainers as Obj[] | undefined) ?? []).map((c) => String(c.name)),
      main: ourContainer(graph, inst.namespace, (pod.containers as Obj[])[0]),
    },
    ourRbac(graph, inst.namespace, sa),
    normalize,
  );
}

/** Every path where the two views differ. */
export function differences(id: WorkloadId, chart: View, ours: View): Difference[] {
  const paths = [...new Set([...Object.keys(chart), ...Object.keys(ours)])].sort();
  return paths
    .filter((p) => chart[p] !== ours[p])
    .map((path) => ({ workload: id, path, chart: chart[path], ours: ours[path] }));
}

/** A `*` glob as a regular expression over a whole path. */
function glob(pattern: string): RegExp {
  const body = pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, "\\$&"));
  return new RegExp(`^${body.join(".*")}$`);
}

export interface TableRow {
  workloads: "*" | readonly string[];
  paths: readonly string[];
  topologies?: readonly string[];
}

export interface Verdict {
  /** Differences no row explains, as `instance workload path: chart → ours`. */
  unexplained: string[];
  /** Rows (path, and workload where the row names them) that no longer differ anywhere. */
  stale: string[];
}

/**
 * Holds every Airbyte workload of every instance in `graph` to the chart's facts, against the
 * table's rows that apply to `topology`.
 */
export function judge(
  facts: ChartFacts,
  graph: Graph,
  topology: string,
  table: readonly TableRow[],
): Verdict {
  const rows = table.filter((r) => !r.topologies || r.topologies.includes(topology));
  const used = new Set<string>();
  const unexplained: string[] = [];
  for (const inst of ourInstances(graph)) {
    for (const id of COMPARED) {
      const ours = ourView(graph, inst, id);
      if (!ours) continue;
      for (const d of differences(id, chartView(facts, id), ours)) {
        let explained = false;
        rows.forEach((row, i) => {
          if (row.workloads !== "*" && !row.workloads.includes(id)) return;
          for (const p of row.paths) {
            if (!glob(p).test(d.path)) continue;
            explained = true;
            used.add(`${i} ${p} ${row.workloads === "*" ? "*" : id}`);
          }
        });
        if (!explained) {
          unexplained.push(
            `${inst.instance} ${id} ${d.path}: chart ${JSON.stringify(d.chart)} → ours ${JSON.stringify(d.ours)}`,
          );
        }
      }
    }
  }
  const stale: string[] = [];
  rows.forEach((row, i) => {
    for (const p of row.paths) {
      for (const w of row.workloads === "*" ? ["*"] : row.workloads) {
        if (!used.has(`${i} ${p} ${w}`)) stale.push(`row ${i}: ${p} (${w}) no longer differs`);
      }
    }
  });
  return { unexplained, stale };
}
