/**
 * Airbyte settings that are off unless asked for: where connector pods run, what they pull, how
 * big the check/discover/sidecar containers are, OTLP metrics and an external secret store. Each
 * becomes the variables the official chart renders for the same values (chart `airbyte` 2.0.19,
 * `templates/config/_jobs.tpl`, `_workloads.tpl`, `_workloadLauncher.tpl`, `_metrics.tpl`,
 * `_secretsManager.tpl`), given to the services whose chart templates include that group; with
 * nothing set, nothing is added. Names, formats and readers are recorded with their sources in
 * test/contracts/chart-keys.json.
 */
import * as pulumi from "@pulumi/pulumi";
import type { PlatformService } from "../airbyte-platform";
import { airbyteImage } from "../../infra/versions";
import {
  ResourceField,
  ResourceSettings,
  Toleration,
  checkAnnotationPair,
  checkAwsRegion,
  checkAwsTag,
  checkHttpUrl,
  checkImageRegistry,
  checkIsoDuration,
  checkKmsKeyArn,
  checkLabelPair,
  checkObjectAnnotationPair,
  checkResourceItem,
  checkToleration,
  checkVaultPrefix,
  flattenMap,
  resourceConflict,
  tolerationsEnv,
} from "../../infra/config/job-validators";
import type { ExternalEgress } from "../network-policies";
import { Group, SERVICE_ENV } from "./service-env";

export type { ResourceSettings, Toleration } from "../../infra/config/job-validators";

/** Where connector pods (check, discover, spec, sync) run and what they pull. */
export interface ConnectorPodArgs {
  /**
   * Node labels every connector pod must match (`JOB_KUBE_NODE_SELECTORS`). Also used for check,
   * discover and spec pods unless their own is set: the launcher does not fall back for those
   * (WorkerConfigs.kt `getConfig`). Default: none.
   */
  nodeSelector?: Record<string, string>;
  /** Node labels of check pods started from the UI (`CHECK_JOB_KUBE_NODE_SELECTORS`). Default: {@link nodeSelector}. */
  checkNodeSelector?: Record<string, string>;
  /** Node labels of discover pods started from the UI (`DISCOVER_JOB_KUBE_NODE_SELECTORS`). Default: {@link nodeSelector}. */
  discoverNodeSelector?: Record<string, string>;
  /**
   * Node labels of pods running custom connectors (images added to a workspace, not Airbyte's
   * registry), to keep third-party code on its own nodes (`USE_CUSTOM_NODE_SELECTOR`,
   * `JOB_ISOLATED_KUBE_NODE_SELECTORS`; KubeNodeSelector.kt). Default: none (like the rest).
   */
  customConnectorNodeSelector?: Record<string, string>;
  /** Tolerations of every connector pod (`JOB_KUBE_TOLERATIONS`). Default: none. */
  tolerations?: Toleration[];
  /** Annotations of every connector pod (`JOB_KUBE_ANNOTATIONS`). Default: none. */
  annotations?: Record<string, string>;
  /**
   * Extra labels of every connector pod (`JOB_KUBE_LABELS`, and the per-type variables the
   * launcher reads without falling back to it). Airbyte's own labels stay. Default: none.
   */
  labels?: Record<string, string>;
  /** Secrets in the namespace to pull connector images with (`JOB_KUBE_MAIN_CONTAINER_IMAGE_PULL_SECRET`). Default: none. */
  imagePullSecrets?: string[];
  /**
   * A registry mirror (`host[:port][/path]`) for connector images (`JOB_KUBE_CONNECTOR_IMAGE_REGISTRY`)
   * and the orchestrator, sidecar, init and profiler images in connector pods, as the chart's
   * `global.image.registry` does. Default: none (Docker Hub).
   */
  imageRegistry?: string;
  /** Annotations of the connectors' ServiceAccount, e.g. for IRSA or Workload Identity. Default: none. */
  serviceAccountAnnotations?: Record<string, string>;
}

/** Job types whose containers the chart and launcher size separately. */
export type JobType = "check" | "discover" | "sidecar";

/** OTLP metrics export of every Airbyte service (Micronaut's OTLP registry). */
export interface OtlpMetricsArgs {
  /** The collector's OTLP/HTTP metrics URL, e.g. `http://otel-collector.monitoring:4318/v1/metrics`. */
  endpoint: string;
  /** Export interval, ISO-8601. Default: `PT1M` (the chart's). */
  step?: string;
  /**
   * Namespace of an in-cluster collector, for the NetworkPolicies: its pods on the endpoint's
   * port. Default: none (the collector is outside the cluster, reached by address).
   */
  collectorNamespace?: string;
}

/** Where Airbyte keeps connector credentials (`SECRET_PERSISTENCE`). */
export type SecretsBackendArgs =
  | { type: "database" }
  | {
      type: "awsSecretManager";
      region: string;
      /**
       * Static credentials (Pulumi secrets). Default: none: Airbyte then uses the AWS default
       * chain (IRSA, instance profile). Connector pods never get static keys from the chart's
       * variables, so they always use that chain.
       */
      accessKeyId?: pulumi.Input<string>;
      secretAccessKey?: pulumi.Input<string>;
      /** Tags put on the secrets Airbyte creates, in order. Default: none. */
      tags?: [string, string][];
      /** KMS key for the secrets. Default: the account's default key. */
      kmsKeyArn?: string;
    }
  | {
      type: "vault";
      /** e.g. `https://vault.example.com:8200`. */
      address: string;
      /** KV path prefix. Default: `secret/` (the chart's). */
      prefix?: string;
      /** Vault token (a Pulumi secret). */
      token: pulumi.Input<string>;
    };

export interface OptionalEnvArgs {
  connectorPods?: ConnectorPodArgs;
  jobTypeResources?: Partial<Record<JobType, ResourceSettings>>;
  otlpMetrics?: OtlpMetricsArgs;
  secretsBackend?: SecretsBackendArgs;
}

/** What the optional settings add to the platform. */
export interface OptionalEnv {
  /** ConfigMap entries; a key the base ConfigMap has too is replaced. */
  config: Record<string, pulumi.Input<string>>;
  /** ConfigMap keys `svc` reads beyond its base groups' (sorted). */
  keysOf(svc: PlatformService): string[];
  /** Secret-backed variables of `svc`: env name → key in the instance Secret. */
  secretKeysOf(svc: PlatformService): [string, string][];
  /** Entries of the instance Secret. */
  secretData: Record<string, pulumi.Input<string>>;
}

const servicesWith = (group: Group): PlatformService[] =>
  (Object.keys(SERVICE_ENV) as PlatformService[]).filter((s) =>
    SERVICE_ENV[s].config.includes(group),
  );

/**
 * Who reads each variable: the services whose chart template includes the group that renders it.
 * `jobs` (airbyte.jobs.envs): server, worker, launcher; `scheduling` (airbyte.jobs.scheduling.envs):
 * server and launcher only; `resources` (airbyte.workloads.resources.envs), `metrics`,
 * `secretsManager`, `launcherImages` as the base groups of the same names. `launcher`: variables
 * only the launcher reads (its application.yml) and the chart does not render.
 */
const READERS = {
  jobs: servicesWith("jobs"),
  scheduling: ["server", "workloadLauncher"] as PlatformService[],
  resources: servicesWith("workloadResources"),
  launcherImages: servicesWith("launcherImages"),
  metrics: servicesWith("metrics"),
  secretsManager: servicesWith("secretsManager"),
  launcher: ["workloadLauncher"] as PlatformService[],
  workerTuning: servicesWith("workerTuning"),
};

/** Env name prefix per job type (chart `_workloads.tpl`; launcher application.yml). */
const RESOURCE_PREFIX: Record<JobType, string> = {
  check: "CHECK_JOB_MAIN_CONTAINER",
  discover: "DISCOVER_JOB_MAIN_CONTAINER",
  sidecar: "SIDECAR_MAIN_CONTAINER",
};
const RESOURCE_SUFFIX: Record<ResourceField, string> = {
  cpuRequest: "CPU_REQUEST",
  cpuLimit: "CPU_LIMIT",
  memoryRequest: "MEMORY_REQUEST",
  memoryLimit: "MEMORY_LIMIT",
};

/** The images the launcher puts into connector pods, by the variable that names each. */
const JOB_POD_IMAGES: Record<string, string> = {
  CONNECTOR_PROFILER_IMAGE: "async-profiler",
  CONNECTOR_SIDECAR_IMAGE: "connector-sidecar",
  CONTAINER_ORCHESTRATOR_IMAGE: "container-orchestrator",
  WORKLOAD_INIT_IMAGE: "workload-init-container",
};

/** `SECRET_PERSISTENCE` values (config-secrets SecretPersistenceType). */
const PERSISTENCE = {
  database: "TESTING_CONFIG_DB_TABLE",
  awsSecretManager: "AWS_SECRET_MANAGER",
  vault: "VAULT",
} as const;

/** A service's pod name: `workloadLauncher` → `workload-launcher`. */
const podNameOf = (s: PlatformService) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The port a validated http(s) URL connects to. */
function portOf(url: string): number {
  const u = new URL(url);
  return u.port ? Number(u.port) : u.protocol === "https:" ? 443 : 80;
}

/**
 * The outbound connections the optional settings add, for the NetworkPolicies: the services that
 * read them (READERS) to the OTLP collector's port and to the secret store's (Vault: its
 * address's port; AWS Secrets Manager and KMS: HTTPS); an in-cluster collector by its namespace.
 * Connector pods' init containers read the
 * store too; their egress to outside addresses is open on every port already.
 */
export function externalEgressOf(args: OptionalEnvArgs): ExternalEgress[] {
  const out: ExternalEgress[] = [];
  if (args.otlpMetrics) {
    out.push({
      clients: READERS.metrics.map(podNameOf),
      port: portOf(args.otlpMetrics.endpoint),
      ...(args.otlpMetrics.collectorNamespace
        ? { namespace: args.otlpMetrics.collectorNamespace }
        : {}),
      why: "OTLP metrics export to the collector (OTEL_COLLECTOR_ENDPOINT)",
    });
  }
  const b = args.secretsBackend;
  if (b && b.type !== "database") {
    out.push({
      clients: READERS.secretsManager.map(podNameOf),
      port: b.type === "vault" ? portOf(b.address) : 443,
      why:
        b.type === "vault"
          ? "connector secrets in Vault (VAULT_ADDRESS)"
          : "connector secrets in AWS Secrets Manager and KMS over HTTPS",
    });
  }
  return out;
}

export function optionalEnv(args: OptionalEnvArgs, instanceSecretName: string): OptionalEnv {
  const config: Record<string, pulumi.Input<string>> = {};
  const readers = new Map<string, Set<PlatformService>>();
  const secrets: { name: string; key: string; services: PlatformService[] }[] = [];
  const secretData: Record<string, pulumi.Input<string>> = {};
  const set = (services: PlatformService[], name: string, value: pulumi.Input<string>) => {
    config[name] = value;
    const r = readers.get(name) ?? new Set<PlatformService>();
    for (const s of services) r.add(s);
    readers.set(name, r);
  };
  const fromSecret = (services: PlatformService[], name: string, value: pulumi.Input<string>) => {
    secretData[name] = value;
    secrets.push({ name, key: name, services });
  };
  const nonEmpty = <T extends object>(m: T | undefined): m is T =>
    m !== undefined && Object.keys(m).length > 0;

  const pods = args.connectorPods ?? {};
  if (nonEmpty(pods.nodeSelector)) {
    set(READERS.jobs, "JOB_KUBE_NODE_SELECTORS", flattenMap(pods.nodeSelector));
    set(READERS.launcher, "SPEC_JOB_KUBE_NODE_SELECTORS", flattenMap(pods.nodeSelector));
  }
  const check = nonEmpty(pods.checkNodeSelector) ? pods.checkNodeSelector : pods.nodeSelector;
  if (nonEmpty(check)) set(READERS.scheduling, "CHECK_JOB_KUBE_NODE_SELECTORS", flattenMap(check));
  const discover = nonEmpty(pods.discoverNodeSelector)
    ? pods.discoverNodeSelector
    : pods.nodeSelector;
  if (nonEmpty(discover)) {
    set(READERS.scheduling, "DISCOVER_JOB_KUBE_NODE_SELECTORS", flattenMap(discover));
  }
  if (nonEmpty(pods.customConnectorNodeSelector)) {
    // airbyte.worker.envs renders USE_CUSTOM_NODE_SELECTOR (the base workerTuning group).
    set(READERS.workerTuning, "USE_CUSTOM_NODE_SELECTOR", "true");
    set(
      READERS.scheduling,
      "JOB_ISOLATED_KUBE_NODE_SELECTORS",
      flattenMap(pods.customConnectorNodeSelector),
    );
  }
  if (pods.tolerations?.length) {
    set(READERS.jobs, "JOB_KUBE_TOLERATIONS", tolerationsEnv(pods.tolerations));
  }
  if (nonEmpty(pods.annotations)) {
    set(READERS.jobs, "JOB_KUBE_ANNOTATIONS", flattenMap(pods.annotations));
  }
  if (nonEmpty(pods.labels)) {
    set(READERS.jobs, "JOB_KUBE_LABELS", flattenMap(pods.labels));
    for (const t of ["CHECK", "DISCOVER", "SPEC"]) {
      set(READERS.launcher, `${t}_JOB_KUBE_LABELS`, flattenMap(pods.labels));
    }
  }
  if (pods.imagePullSecrets?.length) {
    // The chart's `airbyte.imagePullSecretNames`: names joined by `,`, read as a list.
    set(READERS.jobs, "JOB_KUBE_MAIN_CONTAINER_IMAGE_PULL_SECRET", pods.imagePullSecrets.join(","));
  }
  if (pods.imageRegistry) {
    set(READERS.launcherImages, "JOB_KUBE_CONNECTOR_IMAGE_REGISTRY", pods.imageRegistry);
    const registry = pods.imageRegistry.replace(/\/+$/, "");
    for (const [name, component] of Object.entries(JOB_POD_IMAGES)) {
      set(READERS.launcherImages, name, `${registry}/${airbyteImage(component)}`);
    }
  }

  for (const [type, settings] of Object.entries(args.jobTypeResources ?? {}) as [
    JobType,
    ResourceSettings,
  ][]) {
    for (const [field, value] of Object.entries(settings) as [ResourceField, string][]) {
      if (value)
        set(READERS.resources, `${RESOURCE_PREFIX[type]}_${RESOURCE_SUFFIX[field]}`, value);
    }
  }

  if (args.otlpMetrics) {
    set(READERS.metrics, "MICROMETER_METRICS_ENABLED", "true");
    set(READERS.metrics, "MICROMETER_METRICS_OTLP_ENABLED", "true");
    set(READERS.metrics, "OTEL_COLLECTOR_ENDPOINT", args.otlpMetrics.endpoint);
    set(READERS.metrics, "MICROMETER_METRICS_STEP", args.otlpMetrics.step ?? "PT1M");
  }

  const backend = args.secretsBackend;
  if (backend && backend.type !== "database") {
    const readersOf = READERS.secretsManager;
    set(readersOf, "SECRET_PERSISTENCE", PERSISTENCE[backend.type]);
    if (backend.type === "awsSecretManager") {
      set(readersOf, "AWS_SECRET_MANAGER_REGION", backend.region);
      set(
        readersOf,
        "AWS_SECRET_MANAGER_SECRET_TAGS",
        (backend.tags ?? []).map(([k, v]) => `${k}=${v}`).join(","),
      );
      set(readersOf, "AWS_KMS_KEY_ARN", backend.kmsKeyArn ?? "");
      // Rendered even when empty, as the chart does: empty keys select the default AWS chain.
      fromSecret(readersOf, "AWS_SECRET_MANAGER_ACCESS_KEY_ID", backend.accessKeyId ?? "");
      fromSecret(readersOf, "AWS_SECRET_MANAGER_SECRET_ACCESS_KEY", backend.secretAccessKey ?? "");
    } else {
      set(readersOf, "VAULT_ADDRESS", backend.address);
      set(readersOf, "VAULT_PREFIX", backend.prefix ?? "secret/");
      // The launcher gives connector pods the token from this Secret and key
      // (EnvVarConfigBeanFactory.kt `secretPersistenceSecretsEnvMap`).
      set(readersOf, "VAULT_AUTH_TOKEN_REF_NAME", instanceSecretName);
      set(readersOf, "VAULT_AUTH_TOKEN_REF_KEY", "VAULT_AUTH_TOKEN");
      fromSecret(readersOf, "VAULT_AUTH_TOKEN", backend.token);
    }
  }

  return {
    config,
    keysOf: (svc) =>
      [...readers.entries()]
        .filter(([, r]) => r.has(svc))
        .map(([k]) => k)
        .sort(),
    secretKeysOf: (svc) =>
      secrets.filter((s) => s.services.includes(svc)).map((s) => [s.name, s.key]),
    secretData,
  };
}

/** Problems with the optional arguments, each naming the argument; empty when all is well. */
export function optionalEnvProblems(args: OptionalEnvArgs): string[] {
  const problems: string[] = [];
  const pods = args.connectorPods ?? {};
  const pairs = (
    arg: string,
    m: Record<string, string> | undefined,
    check: (v: string) => string | undefined,
  ) => {
    for (const [k, v] of Object.entries(m ?? {})) {
      const p = check(`${k}=${v}`);
      if (p) problems.push(`${arg} '${k}=${v}' ${p}`);
    }
  };
  pairs("connectorPods.nodeSelector", pods.nodeSelector, checkLabelPair);
  pairs("connectorPods.checkNodeSelector", pods.checkNodeSelector, checkLabelPair);
  pairs("connectorPods.discoverNodeSelector", pods.discoverNodeSelector, checkLabelPair);
  pairs(
    "connectorPods.customConnectorNodeSelector",
    pods.customConnectorNodeSelector,
    checkLabelPair,
  );
  pairs("connectorPods.labels", pods.labels, checkLabelPair);
  pairs("connectorPods.annotations", pods.annotations, checkAnnotationPair);
  pairs(
    "connectorPods.serviceAccountAnnotations",
    pods.serviceAccountAnnotations,
    checkObjectAnnotationPair,
  );
  for (const t of pods.tolerations ?? []) {
    const text = tolerationsEnv([t]);
    const p = checkToleration(text);
    if (p) problems.push(`connectorPods.tolerations '${text}' ${p}`);
  }
  for (const s of pods.imagePullSecrets ?? []) {
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(s) || s.length > 253) {
      problems.push(`connectorPods.imagePullSecrets '${s}' is not a Secret name`);
    }
  }
  if (pods.imageRegistry !== undefined) {
    const p = checkImageRegistry(pods.imageRegistry);
    if (p) problems.push(`connectorPods.imageRegistry '${pods.imageRegistry}' ${p}`);
  }
  for (const [type, settings] of Object.entries(args.jobTypeResources ?? {})) {
    for (const [field, value] of Object.entries(settings ?? {})) {
      const p = checkResourceItem(`${field}=${value}`);
      if (p) problems.push(`jobTypeResources.${type} '${field}=${value}' ${p}`);
    }
    const conflict = resourceConflict(settings ?? {});
    if (conflict) problems.push(`jobTypeResources.${type}: ${conflict}`);
  }
  if (args.otlpMetrics) {
    const p = checkHttpUrl(args.otlpMetrics.endpoint);
    if (p) problems.push(`otlpMetrics.endpoint '${args.otlpMetrics.endpoint}' ${p}`);
    const step = args.otlpMetrics.step;
    const q = step === undefined ? undefined : checkIsoDuration(step);
    if (q) problems.push(`otlpMetrics.step '${step}' ${q}`);
  }
  const b = args.secretsBackend;
  if (b?.type === "awsSecretManager") {
    const r = checkAwsRegion(b.region);
    if (r) problems.push(`secretsBackend.region '${b.region}' ${r}`);
    if (b.kmsKeyArn) {
      const k = checkKmsKeyArn(b.kmsKeyArn);
      if (k) problems.push(`secretsBackend.kmsKeyArn '${b.kmsKeyArn}' ${k}`);
    }
    for (const [k, v] of b.tags ?? []) {
      const t = checkAwsTag(`${k}=${v}`);
      if (t) problems.push(`secretsBackend.tags '${k}=${v}' ${t}`);
    }
    if ((b.accessKeyId === undefined) !== (b.secretAccessKey === undefined)) {
      problems.push("secretsBackend: give both accessKeyId and secretAccessKey, or neither");
    }
  } else if (b?.type === "vault") {
    const a = checkHttpUrl(b.address);
    if (a) problems.push(`secretsBackend.address '${b.address}' ${a}`);
    if (b.prefix !== undefined) {
      const p = checkVaultPrefix(b.prefix);
      if (p) problems.push(`secretsBackend.prefix '${b.prefix}' ${p}`);
    }
  }
  return problems;
}
