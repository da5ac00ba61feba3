/** Lookups shared by the v1 stack tests (standby and active). */
import { mockComputedState } from "../../infra/mock-runtime";
import { Graph, RecordedResource, metadataOf } from "./graph";

export const PROD_NS = "airbyte-prod";
export const REPLICA_NS = "airbyte-replica";
export const REPLICA = "airbyte-prod-backup-replica-2";
export const MIGRATION_CRONJOB = `${REPLICA}-db-migration`;
export const SCHEDULERS = ["server", "worker", "workload-launcher", "cron"] as const;

/** A Kubernetes object by kind, name and namespace. */
export function inNamespace(
  graph: Graph,
  kind: string,
  name: string,
  ns: string,
): RecordedResource {
  const found = graph.kube(kind, name).filter((r) => metadataOf(r).namespace === ns);
  if (found.length !== 1)
    throw new Error(`expected one ${kind} ${ns}/${name}, found ${found.length}`);
  return found[0];
}

export function replicasOf(r: RecordedResource): unknown {
  return (r.inputs.spec as { replicas?: unknown }).replicas;
}

/** What the mocked @pulumi/random resources returned: every generated credential of the run. */
export function generatedValues(graph: Graph): string[] {
  return graph.resources
    .filter((r) => r.type.startsWith("random:") && r.type.endsWith("Password"))
    .map((r) => String(mockComputedState(r.type, r.name, r.inputs).result));
}

/** Every string inside a value. */
export function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === "string") out.push(v);
  else if (Array.isArray(v)) v.forEach((e) => strings(e, out));
  else if (v && typeof v === "object") Object.values(v).forEach((e) => strings(e, out));
  return out;
}

/**
 * `value` appears only where a credential belongs, and there as a Pulumi secret: the data of a
 * Kubernetes Secret, or the `password` of a `postgresql` Role or Provider.
 */
export function expectCredentialContained(
  graph: Graph,
  value: string,
  check: (ok: boolean, where: string) => void,
): void {
  for (const r of graph.resources) {
    const where = `${r.type} ${r.name}`;
    const isSecret = r.type === "kubernetes:core/v1:Secret";
    const isPg =
      r.type === "postgresql:index/role:Role" || r.type === "pulumi:providers:postgresql";
    const { stringData, data, password, ...rest } = r.inputs as Record<string, unknown>;
    const held = isSecret ? { stringData, data } : isPg ? { password } : {};
    const elsewhere = isSecret ? rest : isPg ? { ...rest, stringData, data } : r.inputs;
    check(!JSON.stringify(elsewhere).includes(value), `${where} leaks the value`);
    if (JSON.stringify(held).includes(value)) {
      const paths = isSecret ? ["stringData", "data"] : ["password"];
      check(
        r.secretPaths.some((p) => paths.some((q) => p === q || p.startsWith(`${q}.`))),
        `${where} holds the value without marking it secret`,
      );
    }
  }
}

/** Bootloader Jobs of a namespace (their name carries the Airbyte version). */
export function bootloaderJobs(graph: Graph, ns: string): RecordedResource[] {
  return graph
    .kube("Job")
    .filter(
      (r) =>
        metadataOf(r).namespace === ns &&
        metadataOf(r).labels?.["app.kubernetes.io/name"] === "bootloader",
    );
}
