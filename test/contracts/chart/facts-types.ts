/** Shape of `facts.json`: what the official chart renders, per workload. */

/** Where the chart and its render came from. */
export interface Provenance {
  chart: string;
  version: string;
  appVersion: string;
  /** Where the archive was read: repository, commit and file. */
  source: string;
  tgzSha256: string;
  helm: string;
  release: string;
  namespace: string;
  /** Every value set on the command line; empty means the chart's defaults throughout. */
  values: Record<string, string>;
  command: string;
}

/** One env var: a literal value, or where the value comes from (with the value when rendered). */
export type EnvSource =
  | { value: string }
  | { configMapKey: { name: string; key: string }; value?: string }
  | { secretKey: { name: string; key: string } }
  | { fieldRef: string }
  | { resourceFieldRef: string };

export interface ContainerFacts {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env: Record<string, EnvSource>;
  envFrom: Record<string, unknown>[];
  securityContext: Record<string, unknown>;
  ports: { name?: string; containerPort: number; protocol: string }[];
  probes: { liveness?: unknown; readiness?: unknown; startup?: unknown };
  volumeMounts: { name: string; mountPath: string; readOnly: boolean; subPath?: string }[];
  /** Paths the container may write; `/` when its root filesystem is writable. */
  writablePaths: string[];
  resources?: Record<string, unknown>;
}

export interface WorkloadFacts {
  kind: string;
  name: string;
  helmHook?: string;
  serviceAccountName: string;
  podSecurityContext: Record<string, unknown>;
  volumes: Record<string, unknown>[];
  initContainers: ContainerFacts[];
  containers: ContainerFacts[];
}

export interface RbacRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

export interface ChartFacts {
  provenance: Provenance;
  /** By object name without the release prefix (`server`, `workload-launcher`…). */
  workloads: Record<string, WorkloadFacts>;
  serviceAccounts: string[];
  /** Rules bound to each ServiceAccount. */
  rbac: Record<string, RbacRule[]>;
}
