/**
 * Turns `helm template` output of the official Airbyte chart into the facts file the fidelity
 * test holds our render to (`facts.json` beside this file). Run through `render.sh`, which
 * fetches nothing: it renders the chart archive it is given and passes the provenance here.
 *
 *   tsx test/contracts/chart/extract.ts --rendered out.yaml --provenance prov.json --out facts.json
 *
 * Facts only: names, values, sources and settings as the chart renders them; no template text.
 */
import * as fs from "node:fs";
import { parseAllDocuments } from "yaml";
import {
  ChartFacts,
  EnvSource,
  Provenance,
  RbacRule,
  WorkloadFacts,
  ContainerFacts,
} from "./facts-types";

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === "object" ? (v as Obj) : {});
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

const POD_OWNERS = new Set(["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod"]);

/** The pod spec and template metadata of a pod-owning object. */
function podOf(o: Obj): { spec: Obj; meta: Obj } {
  const kind = str(o.kind);
  if (kind === "Pod") return { spec: obj(o.spec), meta: obj(o.metadata) };
  if (kind === "CronJob") {
    const t = obj(obj(obj(obj(o.spec).jobTemplate).spec).template);
    return { spec: obj(t.spec), meta: obj(t.metadata) };
  }
  const t = obj(obj(o.spec).template);
  return { spec: obj(t.spec), meta: obj(t.metadata) };
}

function envOf(c: Obj, configMaps: Map<string, Obj>): Record<string, EnvSource> {
  const env: Record<string, EnvSource> = {};
  // Later definitions of a name win, as in Kubernetes.
  for (const e of arr(c.env)) {
    const name = String(e.name);
    const from = obj(e.valueFrom);
    if (from.configMapKeyRef) {
      const ref = obj(from.configMapKeyRef);
      const cm = configMaps.get(String(ref.name));
      const value = cm ? str(obj(cm.data)[String(ref.key)]) : undefined;
      env[name] = {
        configMapKey: { name: String(ref.name), key: String(ref.key) },
        ...(value !== undefined ? { value } : {}),
      };
    } else if (from.secretKeyRef) {
      const ref = obj(from.secretKeyRef);
      env[name] = { secretKey: { name: String(ref.name), key: String(ref.key) } };
    } else if (from.fieldRef) {
      env[name] = { fieldRef: String(obj(from.fieldRef).fieldPath) };
    } else if (from.resourceFieldRef) {
      env[name] = { resourceFieldRef: String(obj(from.resourceFieldRef).resource) };
    } else {
      env[name] = { value: e.value === undefined || e.value === null ? "" : String(e.value) };
    }
  }
  return env;
}

function probeOf(p: unknown): Obj | undefined {
  return p === undefined ? undefined : obj(p);
}

function containerOf(c: Obj, configMaps: Map<string, Obj>): ContainerFacts {
  const image = String(c.image ?? "");
  const sc = obj(c.securityContext);
  const mounts = arr(c.volumeMounts).map((m) => ({
    name: String(m.name),
    mountPath: String(m.mountPath),
    readOnly: m.readOnly === true,
    ...(m.subPath ? { subPath: String(m.subPath) } : {}),
  }));
  return {
    name: String(c.name),
    image,
    ...(c.command ? { command: (c.command as unknown[]).map(String) } : {}),
    ...(c.args ? { args: (c.args as unknown[]).map(String) } : {}),
    env: envOf(c, configMaps),
    envFrom: arr(c.envFrom).map((e) => JSON.parse(JSON.stringify(e)) as Obj),
    securityContext: sc,
    ports: arr(c.ports).map((p) => ({
      ...(p.name ? { name: String(p.name) } : {}),
      containerPort: Number(p.containerPort),
      protocol: String(p.protocol ?? "TCP"),
    })),
    probes: {
      ...(c.livenessProbe ? { liveness: probeOf(c.livenessProbe) } : {}),
      ...(c.readinessProbe ? { readiness: probeOf(c.readinessProbe) } : {}),
      ...(c.startupProbe ? { startup: probeOf(c.startupProbe) } : {}),
    },
    volumeMounts: mounts,
    // Where the container may write: every read-write mount, and `/` when the root is writable.
    writablePaths: [
      ...(sc.readOnlyRootFilesystem === true ? [] : ["/"]),
      ...mounts.filter((m) => !m.readOnly).map((m) => m.mountPath),
    ].sort(),
    ...(c.resources ? { resources: obj(c.resources) } : {}),
  };
}

/** RBAC rules of each ServiceAccount, through Role/ClusterRole bindings in the render. */
function rbacOf(objects: Obj[]): Record<string, RbacRule[]> {
  const roles = new Map<string, Obj>();
  for (const o of objects) {
    if (o.kind === "Role" || o.kind === "ClusterRole") {
      roles.set(`${String(o.kind)}/${String(obj(o.metadata).name)}`, o);
    }
  }
  const out: Record<string, RbacRule[]> = {};
  for (const b of objects) {
    if (b.kind !== "RoleBinding" && b.kind !== "ClusterRoleBinding") continue;
    const ref = obj(b.roleRef);
    const role = roles.get(`${String(ref.kind)}/${String(ref.name)}`);
    for (const s of arr(b.subjects)) {
      if (s.kind !== "ServiceAccount") continue;
      const rules = arr(role?.rules).map((r) => ({
        apiGroups: (r.apiGroups as string[] | undefined) ?? [],
        resources: (r.resources as string[] | undefined) ?? [],
        verbs: (r.verbs as string[] | undefined) ?? [],
        ...(r.resourceNames ? { resourceNames: r.resourceNames as string[] } : {}),
      }));
      const key = String(s.name);
      out[key] = [...(out[key] ?? []), ...rules];
    }
  }
  return out;
}

export function extract(renderedYaml: string, provenance: Provenance): ChartFacts {
  const objects = parseAllDocuments(renderedYaml)
    .map((d) => d.toJS() as unknown)
    .filter((o): o is Obj => Boolean(o) && typeof o === "object");
  const configMaps = new Map<string, Obj>();
  for (const o of objects) {
    if (o.kind === "ConfigMap") configMaps.set(String(obj(o.metadata).name), o);
  }
  const prefix = `${provenance.release}-`;
  const workloads: Record<string, WorkloadFacts> = {};
  for (const o of objects) {
    if (!POD_OWNERS.has(String(o.kind))) continue;
    const name = String(obj(o.metadata).name);
    const id = name.startsWith(prefix) ? name.slice(prefix.length) : name;
    const { spec } = podOf(o);
    const annotations = obj(obj(o.metadata).annotations);
    workloads[id] = {
      kind: String(o.kind),
      name,
      ...(annotations["helm.sh/hook"] ? { helmHook: String(annotations["helm.sh/hook"]) } : {}),
      serviceAccountName: str(spec.serviceAccountName) ?? "default",
      podSecurityContext: obj(spec.securityContext),
      volumes: arr(spec.volumes).map((v) => JSON.parse(JSON.stringify(v)) as Obj),
      initContainers: arr(spec.initContainers).map((c) => containerOf(c, configMaps)),
      containers: arr(spec.containers).map((c) => containerOf(c, configMaps)),
    };
  }
  return {
    provenance,
    workloads: Object.fromEntries(Object.entries(workloads).sort(([a], [b]) => (a < b ? -1 : 1))),
    serviceAccounts: objects
      .filter((o) => o.kind === "ServiceAccount")
      .map((o) => String(obj(o.metadata).name))
      .sort(),
    rbac: rbacOf(objects),
  };
}

function main(argv: string[]): void {
  const flag = (n: string) => {
    const i = argv.indexOf(n);
    if (i < 0 || !argv[i + 1]) throw new Error(`${n} is required`);
    return argv[i + 1];
  };
  const rendered = fs.readFileSync(flag("--rendered"), "utf8");
  const provenance = JSON.parse(fs.readFileSync(flag("--provenance"), "utf8")) as Provenance;
  const facts = extract(rendered, provenance);
  fs.writeFileSync(flag("--out"), `${JSON.stringify(facts, null, 2)}\n`);
}

if (require.main === module) main(process.argv.slice(2));
