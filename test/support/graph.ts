/**
 * Test helpers over a recorded resource graph: run a program or a single component under the
 * mock runtime and query what it registered.
 */
import { MockRun, RecordedResource, runUnderMocks } from "../../infra/mock-runtime";

export type { MockRun, RecordedResource };

export class Graph {
  constructor(readonly run: MockRun) {}

  get resources(): RecordedResource[] {
    return this.run.resources;
  }

  /** Resources of a Pulumi type, e.g. `kubernetes:apps/v1:Deployment`. */
  ofType(type: string): RecordedResource[] {
    return this.resources.filter((r) => r.type === type);
  }

  /** Kubernetes objects of a kind (`Deployment`, `Secret`…), optionally by `metadata.name`. */
  kube(kind: string, name?: string): RecordedResource[] {
    return this.resources.filter(
      (r) =>
        r.type.startsWith("kubernetes:") &&
        r.inputs.kind === kind &&
        (name === undefined || metadataOf(r).name === name),
    );
  }

  /** The one Kubernetes object of a kind and name; throws when missing or ambiguous. */
  one(kind: string, name: string): RecordedResource {
    const found = this.kube(kind, name);
    if (found.length !== 1) {
      const have = this.kube(kind).map((r) => metadataOf(r).name);
      throw new Error(
        `expected one ${kind} ${name}, found ${found.length}; have: ${have.join(", ")}`,
      );
    }
    return found[0];
  }

  byUrn(urn: string): RecordedResource | undefined {
    return this.resources.find((r) => r.urn === urn);
  }

  /** Direct children of a resource. */
  childrenOf(parent: RecordedResource): RecordedResource[] {
    return this.resources.filter((r) => r.parent === parent.urn);
  }

  /** Every resource below `root` in the parent tree. */
  descendantsOf(root: RecordedResource): RecordedResource[] {
    const out: RecordedResource[] = [];
    const walk = (p: RecordedResource) => {
      for (const c of this.childrenOf(p)) {
        out.push(c);
        walk(c);
      }
    };
    walk(root);
    return out;
  }

  /** The component resources of a type token such as `airbyte:storage:Minio`. */
  components(type: string): RecordedResource[] {
    return this.resources.filter((r) => !r.custom && r.type === type);
  }

  /** Kubernetes objects that own pods. */
  workloads(): RecordedResource[] {
    return this.resources.filter(
      (r) =>
        r.type.startsWith("kubernetes:") &&
        ["Deployment", "StatefulSet", "Job", "CronJob", "DaemonSet"].includes(
          String(r.inputs.kind),
        ),
    );
  }
}

export interface Metadata {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export function metadataOf(r: RecordedResource): Metadata {
  return (r.inputs.metadata ?? {}) as Metadata;
}

/** The pod spec of a workload (Deployment, StatefulSet, Job, CronJob). */
export function podSpecOf(r: RecordedResource): PodSpec {
  const spec = r.inputs.spec as Record<string, unknown>;
  if (r.inputs.kind === "CronJob") {
    const jobTemplate = spec.jobTemplate as { spec: { template: { spec: PodSpec } } };
    return jobTemplate.spec.template.spec;
  }
  return (spec.template as { spec: PodSpec }).spec;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string };
    configMapKeyRef?: { name: string; key: string };
    fieldRef?: { fieldPath: string };
  };
}

export interface ContainerSpec {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  ports?: { name?: string; containerPort: number }[];
  livenessProbe?: unknown;
  readinessProbe?: unknown;
  startupProbe?: unknown;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string }[];
}

export interface PodSpec {
  containers: ContainerSpec[];
  initContainers?: ContainerSpec[];
  securityContext?: Record<string, unknown>;
  serviceAccountName?: string;
  volumes?: Record<string, unknown>[];
}

/** Environment of a container as a name → EnvVar map. */
export function envOf(c: ContainerSpec): Map<string, EnvVar> {
  return new Map((c.env ?? []).map((e) => [e.name, e]));
}

/** Run a program (a stack function or a component factory) under mocks and return its graph. */
export async function runGraph(
  program: () => unknown,
  options: { stack?: string; config?: Record<string, string>; secretKeys?: string[] } = {},
): Promise<Graph> {
  const run = await runUnderMocks({
    stack: options.stack ?? "test",
    config: options.config,
    secretKeys: options.secretKeys,
    program,
  });
  return new Graph(run);
}
