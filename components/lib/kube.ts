/**
 * Building blocks for the Kubernetes objects every component creates, so each workload gets the
 * same labels, security context, probes and resource bounds without repeating them.
 */
import * as crypto from "node:crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { LabelSpec, selectorLabels, standardLabels } from "../../infra/naming";

import core = k8s.types.input.core.v1;
export type Container = core.Container;
export type EnvVar = core.EnvVar;
export type Probe = core.Probe;
export type Volume = core.Volume;
export type VolumeMount = core.VolumeMount;

/** CPU and memory bounds of one container. */
export interface ResourceBounds {
  requests: { cpu: string; memory: string };
  limits: { cpu: string; memory: string };
}

/** Bounds for short-lived helper containers (setup Jobs, init copies): a shell and a CLI call. */
export const HELPER_RESOURCES: ResourceBounds = {
  requests: { cpu: "10m", memory: "32Mi" },
  limits: { cpu: "200m", memory: "128Mi" },
};

/**
 * How long pulumi-kubernetes waits for an object to become ready (create, update) or gone
 * (delete) when the resource has no `customTimeouts`: 10 minutes (pulumi-kubernetes
 * provider/pkg/await/await.go, `timeout := 10 * time.Minute` in Creation, Update and Deletion,
 * overridden by the engine's timeout via metadata.TimeoutDuration; mirror commit 94977969d).
 */
export const PROVIDER_AWAIT_DEFAULT_SECONDS = 600;

/** What an await adds to the time the object itself may take: scheduling, pulls, polling. */
export const AWAIT_MARGIN_SECONDS = 300;

/**
 * `customTimeouts` for an object that may legitimately take `seconds` to become ready, or none
 * when the provider's default already covers it (so the timeouts derive from the same constants
 * as the Job deadlines and probe budgets, and cannot drift from them).
 */
export function awaitTimeouts(seconds: number): pulumi.CustomTimeouts | undefined {
  const total = seconds + AWAIT_MARGIN_SECONDS;
  if (total <= PROVIDER_AWAIT_DEFAULT_SECONDS) return undefined;
  const t = `${Math.ceil(total / 60)}m`;
  return { create: t, update: t };
}

/** Seconds a probe lets a container take before it gives up on it. */
function probeBudgetSeconds(p: Probe | undefined): number {
  if (!p) return 0;
  const n = (v: unknown, d: number) => (typeof v === "number" ? v : d);
  return n(p.initialDelaySeconds, 0) + n(p.periodSeconds, 10) * n(p.failureThreshold, 3);
}

/**
 * Longest a pod of this template may legitimately take to become ready on a roll: the old pod's
 * grace period (Recreate and StatefulSets stop it first), then the slowest container's startup
 * (its startup probe's budget, else its readiness probe's).
 */
export function podReadyBudgetSeconds(args: PodArgs): number {
  const grace = args.terminationGracePeriodSeconds ?? 30;
  const startup = Math.max(
    0,
    ...args.containers.map((c) => {
      const probe = (c.startupProbe ?? c.readinessProbe) as Probe | undefined;
      return probeBudgetSeconds(probe);
    }),
  );
  return grace + startup;
}

/** Options with the derived `customTimeouts` added, unless the caller set its own. */
function withTimeouts(
  opts: pulumi.CustomResourceOptions,
  seconds: number,
): pulumi.CustomResourceOptions {
  const t = awaitTimeouts(seconds);
  return t && !opts.customTimeouts ? { ...opts, customTimeouts: t } : opts;
}

export function resources(bounds: ResourceBounds): core.ResourceRequirements {
  return { requests: { ...bounds.requests }, limits: { ...bounds.limits } };
}

/**
 * The container half of the `restricted` Pod Security Standard. `readOnlyRootFilesystem` is
 * opt-out because some images write beside their binaries; callers say why when they opt out.
 */
export function containerSecurityContext(
  opts: { readOnlyRootFilesystem?: boolean } = {},
): core.SecurityContext {
  return {
    runAsNonRoot: true,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: opts.readOnlyRootFilesystem ?? true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** Pod-level identity: a fixed non-root uid, with volumes group-owned so it can write them. */
export function podSecurityContext(uid: number, gid: number = uid): core.PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: gid,
    fsGroup: gid,
    seccompProfile: { type: "RuntimeDefault" },
  };
}

export interface ProbeTiming {
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
}

export function httpProbe(path: string, port: string | number, timing: ProbeTiming = {}): Probe {
  return {
    httpGet: { path, port },
    periodSeconds: 10,
    timeoutSeconds: 5,
    failureThreshold: 3,
    ...timing,
  };
}

export function execProbe(command: string[], timing: ProbeTiming = {}): Probe {
  return {
    exec: { command },
    periodSeconds: 10,
    timeoutSeconds: 5,
    failureThreshold: 3,
    ...timing,
  };
}

export function tcpProbe(port: string | number, timing: ProbeTiming = {}): Probe {
  return {
    tcpSocket: { port },
    periodSeconds: 10,
    timeoutSeconds: 5,
    failureThreshold: 3,
    ...timing,
  };
}

/** Plain (non-secret) environment variables, in a stable order. */
export function plainEnv(vars: Record<string, pulumi.Input<string>>): EnvVar[] {
  return Object.keys(vars)
    .sort()
    .map((name) => ({ name, value: vars[name] }));
}

export function secretEnv(name: string, secretName: pulumi.Input<string>, key: string): EnvVar {
  return { name, valueFrom: { secretKeyRef: { name: secretName, key } } };
}

export function configMapEnv(
  name: string,
  configMapName: pulumi.Input<string>,
  key: string = name,
): EnvVar {
  return { name, valueFrom: { configMapKeyRef: { name: configMapName, key } } };
}

/** A writable scratch directory for a container whose root filesystem is read-only. */
export function scratchVolume(name: string, sizeLimit = "256Mi"): Volume {
  return { name, emptyDir: { sizeLimit } };
}

export function objectMeta(
  namespace: pulumi.Input<string>,
  name: string,
  labels: LabelSpec,
  annotations?: pulumi.Input<Record<string, pulumi.Input<string>>>,
): k8s.types.input.meta.v1.ObjectMeta {
  return {
    name,
    namespace,
    labels: standardLabels(labels),
    ...(annotations ? { annotations } : {}),
  };
}

/** What every pod-owning object shares. */
export interface PodArgs {
  namespace: pulumi.Input<string>;
  /** `metadata.name` of the object. */
  name: string;
  labels: LabelSpec;
  /** Pod identity; see {@link podSecurityContext}. */
  securityContext: core.PodSecurityContext;
  containers: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
  serviceAccountName?: pulumi.Input<string>;
  /** Pod template annotations, e.g. a digest of mounted config to roll pods when it changes. */
  podAnnotations?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /**
   * The ConfigMaps and Secrets (made with {@link configMap} or {@link opaqueSecret}, or passed to
   * {@link trackData}) the pods read, by env or volume. A digest of their data goes on the pod
   * template ({@link CONFIG_DIGEST_ANNOTATION}), so changing one rolls exactly these pods: env
   * and mounted keys are read at start, and a ConfigMap replaced under the same name changes no
   * other input of the workload. Default: none.
   */
  reads?: pulumi.Resource[];
  terminationGracePeriodSeconds?: number;
  restartPolicy?: "Always" | "OnFailure" | "Never";
}

/** Pod template annotation holding the digest of what the pods read ({@link PodArgs.reads}). */
export const CONFIG_DIGEST_ANNOTATION = "airbyte.pulumi/config-sha256";

const dataDigests = new WeakMap<pulumi.Resource, pulumi.Output<string>>();

/** sha256 of a ConfigMap's or Secret's data, keys sorted. Not secret: a hash shows no value. */
export function dataDigest(
  data: pulumi.Input<Record<string, pulumi.Input<string>>>,
): pulumi.Output<string> {
  return pulumi.unsecret(
    pulumi.output(data).apply((d) =>
      crypto
        .createHash("sha256")
        .update(
          JSON.stringify(
            Object.keys(d)
              .sort()
              .map((k) => [k, d[k]]),
          ),
        )
        .digest("hex"),
    ),
  );
}

/** Records the data of a ConfigMap or Secret made without the helpers here, for {@link PodArgs.reads}. */
export function trackData<R extends pulumi.Resource>(
  resource: R,
  data: pulumi.Input<Record<string, pulumi.Input<string>>>,
): R {
  dataDigests.set(resource, dataDigest(data));
  return resource;
}

/** One digest over the data of every object in `reads`, in a stable order. */
export function readsDigest(reads: pulumi.Resource[]): pulumi.Output<string> {
  const digests = reads.map((r) => {
    const d = dataDigests.get(r);
    if (!d) throw new Error("internal: a pod reads an object whose data was not tracked");
    return d;
  });
  return pulumi.all(digests).apply((ds) =>
    crypto
      .createHash("sha256")
      .update([...ds].sort().join("\n"))
      .digest("hex"),
  );
}

function podAnnotationsOf(
  args: PodArgs,
): pulumi.Input<Record<string, pulumi.Input<string>>> | undefined {
  if (!args.reads?.length) return args.podAnnotations;
  const digest = readsDigest(args.reads);
  return pulumi
    .all([pulumi.output(args.podAnnotations ?? {}), digest])
    .apply(([a, d]) => ({ ...a, [CONFIG_DIGEST_ANNOTATION]: d }));
}

function podTemplate(args: PodArgs): core.PodTemplateSpec {
  const annotations = podAnnotationsOf(args);
  return {
    metadata: {
      labels: standardLabels(args.labels),
      ...(annotations ? { annotations } : {}),
    },
    spec: {
      ...(args.serviceAccountName
        ? { serviceAccountName: args.serviceAccountName, automountServiceAccountToken: true }
        : { automountServiceAccountToken: false }),
      securityContext: args.securityContext,
      containers: args.containers,
      ...(args.initContainers ? { initContainers: args.initContainers } : {}),
      ...(args.volumes ? { volumes: args.volumes } : {}),
      ...(args.terminationGracePeriodSeconds !== undefined
        ? { terminationGracePeriodSeconds: args.terminationGracePeriodSeconds }
        : {}),
      ...(args.restartPolicy ? { restartPolicy: args.restartPolicy } : {}),
    },
  };
}

export interface DeploymentArgs extends PodArgs {
  replicas: pulumi.Input<number>;
  /** `Recreate` for singletons that must never run twice at once. Defaults to RollingUpdate. */
  strategy?: "RollingUpdate" | "Recreate";
  minReadySeconds?: number;
}

export function deployment(
  resourceName: string,
  args: DeploymentArgs,
  opts: pulumi.CustomResourceOptions,
): k8s.apps.v1.Deployment {
  return new k8s.apps.v1.Deployment(
    resourceName,
    {
      metadata: objectMeta(args.namespace, args.name, args.labels),
      spec: {
        replicas: args.replicas,
        selector: { matchLabels: selectorLabels(args.labels) },
        ...(args.strategy ? { strategy: { type: args.strategy } } : {}),
        ...(args.minReadySeconds ? { minReadySeconds: args.minReadySeconds } : {}),
        template: podTemplate(args),
      },
    },
    withTimeouts(opts, podReadyBudgetSeconds(args)),
  );
}

export interface StatefulSetArgs extends PodArgs {
  /** The headless or regular Service that governs the pods' DNS names. */
  serviceName: pulumi.Input<string>;
  volumeClaimTemplates: ClaimTemplate[];
}

/** A claim template with a plain name (the claim patches are named after it). */
export interface ClaimTemplate {
  metadata: { name: string };
  spec: core.PersistentVolumeClaimSpec;
}

/**
 * A single-replica StatefulSet whose volumes outlive it and can grow in place:
 * - each claim of `volumeClaimTemplates` (`<template>-<name>-0`) is also applied as a
 *   `PersistentVolumeClaimPatch` before the StatefulSet: a fresh install creates the claim with
 *   it (the controller then uses the existing claim), an existing one is adopted (server-side
 *   apply, forced over the controller's fields). A larger size updates that claim in place, which
 *   Kubernetes expands (with a StorageClass that allows expansion), instead of a new template;
 * - `volumeClaimTemplates` are immutable, so changes to them are ignored (a change would replace
 *   the StatefulSet); the template only matters to the controller if a claim is missing;
 * - the claim patches are `retainOnDelete`: deleting a patch only relinquishes fields, and the
 *   provider refuses that for fields the API requires;
 * - `persistentVolumeClaimRetentionPolicy` Retain (as the Kubernetes default, stated): deleting
 *   or replacing the StatefulSet keeps the claims; only deleting the namespace deletes them.
 */
export function statefulSet(
  resourceName: string,
  args: StatefulSetArgs,
  opts: pulumi.CustomResourceOptions,
): k8s.apps.v1.StatefulSet {
  const claims = args.volumeClaimTemplates.map((t) =>
    claimPatch(`${resourceName}-${t.metadata.name}-claim`, args, t, opts),
  );
  return new k8s.apps.v1.StatefulSet(
    resourceName,
    {
      metadata: objectMeta(args.namespace, args.name, args.labels),
      spec: {
        replicas: 1,
        serviceName: args.serviceName,
        selector: { matchLabels: selectorLabels(args.labels) },
        template: podTemplate(args),
        volumeClaimTemplates: args.volumeClaimTemplates,
        persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
      },
    },
    {
      ...withTimeouts(opts, podReadyBudgetSeconds(args)),
      dependsOn: [...dependsOnList(opts.dependsOn), ...claims],
      ignoreChanges: [...(opts.ignoreChanges ?? []), "spec.volumeClaimTemplates"],
    },
  );
}

/** The claim the StatefulSet controller names `<template>-<statefulset>-<ordinal>`, ordinal 0. */
export function claimName(template: string, statefulSetName: string): string {
  return `${template}-${statefulSetName}-0`;
}

function claimPatch(
  resourceName: string,
  args: StatefulSetArgs,
  template: ClaimTemplate,
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.PersistentVolumeClaimPatch {
  return new k8s.core.v1.PersistentVolumeClaimPatch(
    resourceName,
    {
      metadata: {
        ...objectMeta(args.namespace, claimName(template.metadata.name, args.name), args.labels),
        // The controller created existing claims and owns their fields; this patch takes them.
        annotations: { "pulumi.com/patchForce": "true" },
      },
      spec: template.spec,
    },
    { parent: opts.parent, provider: opts.provider, retainOnDelete: true },
  );
}

/** `dependsOn` as a list, for adding to it. */
function dependsOnList(
  d: pulumi.CustomResourceOptions["dependsOn"],
): pulumi.Input<pulumi.Resource>[] {
  if (d === undefined) return [];
  return Array.isArray(d) ? d : [d as pulumi.Input<pulumi.Resource>];
}

/** A claim template for a StatefulSet's single data volume. */
export function dataVolumeClaim(
  name: string,
  size: pulumi.Input<string>,
  storageClassName?: pulumi.Input<string>,
): ClaimTemplate {
  return {
    metadata: { name },
    spec: {
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: size } },
      ...(storageClassName ? { storageClassName } : {}),
    },
  };
}

export interface JobArgs extends PodArgs {
  /** Retries before the Job is failed. Defaults to 6 (the Kubernetes default). */
  backoffLimit?: number;
  activeDeadlineSeconds?: number;
}

export function jobSpec(args: JobArgs): k8s.types.input.batch.v1.JobSpec {
  return {
    backoffLimit: args.backoffLimit ?? 6,
    ...(args.activeDeadlineSeconds ? { activeDeadlineSeconds: args.activeDeadlineSeconds } : {}),
    template: podTemplate({ ...args, restartPolicy: args.restartPolicy ?? "OnFailure" }),
  };
}

/** A Job Pulumi waits for: its deadline is required, and bounds the wait. */
export interface AwaitedJobArgs extends JobArgs {
  activeDeadlineSeconds: number;
}

/**
 * A run-to-completion Job that Pulumi waits for. Its pod template is immutable, so a change
 * replaces it; the fixed name makes that a delete-then-create. Pulumi waits as long as the Job's
 * own deadline allows (plus {@link AWAIT_MARGIN_SECONDS}), not the provider's 10 minutes: a
 * shorter wait fails `pulumi up` while the Job would still have succeeded.
 */
export function job(
  resourceName: string,
  args: AwaitedJobArgs,
  opts: pulumi.CustomResourceOptions,
): k8s.batch.v1.Job {
  return new k8s.batch.v1.Job(
    resourceName,
    { metadata: objectMeta(args.namespace, args.name, args.labels), spec: jobSpec(args) },
    { ...withTimeouts(opts, args.activeDeadlineSeconds), deleteBeforeReplace: true },
  );
}

export interface ServicePort {
  name: string;
  port: number;
  targetPort: string | number;
}

export interface ServiceArgs {
  namespace: pulumi.Input<string>;
  name: string;
  labels: LabelSpec;
  ports: ServicePort[];
}

/** A ClusterIP Service selecting the pods of `labels`. */
export function service(
  resourceName: string,
  args: ServiceArgs,
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.Service {
  return new k8s.core.v1.Service(
    resourceName,
    {
      metadata: objectMeta(args.namespace, args.name, args.labels),
      spec: {
        type: "ClusterIP",
        selector: selectorLabels(args.labels),
        ports: args.ports.map((p) => ({ ...p, protocol: "TCP" })),
      },
    },
    opts,
  );
}

/** An Opaque Secret whose every value is a Pulumi secret. */
export function opaqueSecret(
  resourceName: string,
  args: {
    namespace: pulumi.Input<string>;
    name: string;
    labels: LabelSpec;
    data: Record<string, pulumi.Input<string>>;
  },
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.Secret {
  const secret = new k8s.core.v1.Secret(
    resourceName,
    {
      metadata: objectMeta(args.namespace, args.name, args.labels),
      type: "Opaque",
      stringData: pulumi.secret(args.data),
    },
    opts,
  );
  return trackData(secret, args.data);
}

/** A ConfigMap whose data pods can declare they read ({@link PodArgs.reads}). */
export function configMap(
  resourceName: string,
  args: {
    namespace: pulumi.Input<string>;
    name: string;
    labels: LabelSpec;
    data: pulumi.Input<Record<string, pulumi.Input<string>>>;
  },
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.ConfigMap {
  const cm = new k8s.core.v1.ConfigMap(
    resourceName,
    { metadata: objectMeta(args.namespace, args.name, args.labels), data: args.data },
    opts,
  );
  return trackData(cm, args.data);
}

/** In-cluster DNS name of a Service. */
export function serviceHost(name: pulumi.Input<string>, namespace: pulumi.Input<string>) {
  return pulumi.interpolate`${name}.${namespace}.svc.cluster.local`;
}

/** An environment variable from the pod's own fields (`status.podIP`, `metadata.namespace`…). */
export function fieldEnv(name: string, fieldPath: string): EnvVar {
  return { name, valueFrom: { fieldRef: { fieldPath } } };
}

export interface DisruptionBudgetArgs {
  namespace: pulumi.Input<string>;
  name: string;
  /** The pods' labels; the budget selects them as their Deployment does. */
  labels: LabelSpec;
  /** Pods that may be evicted at once. Defaults to 1. */
  maxUnavailable?: number;
}

/**
 * A PodDisruptionBudget for a Deployment that may run several replicas. It caps voluntary
 * evictions (node drains, cluster upgrades) at `maxUnavailable` at a time; `maxUnavailable`
 * rather than `minAvailable`, so a service scaled to one (or to zero in standby) never blocks a
 * drain.
 */
export function podDisruptionBudget(
  resourceName: string,
  args: DisruptionBudgetArgs,
  opts: pulumi.CustomResourceOptions,
): k8s.policy.v1.PodDisruptionBudget {
  return new k8s.policy.v1.PodDisruptionBudget(
    resourceName,
    {
      metadata: objectMeta(args.namespace, args.name, args.labels),
      spec: {
        maxUnavailable: args.maxUnavailable ?? 1,
        selector: { matchLabels: selectorLabels(args.labels) },
      },
    },
    opts,
  );
}

export interface CronJobArgs {
  namespace: pulumi.Input<string>;
  name: string;
  labels: LabelSpec;
  schedule: pulumi.Input<string>;
  /** Default: `Etc/UTC`, so schedules do not follow the controller's local time. */
  timeZone?: pulumi.Input<string>;
  suspend: pulumi.Input<boolean>;
  /** A run missed by more than this (controller down) is skipped, not started late. */
  startingDeadlineSeconds: number;
  spec: k8s.types.input.batch.v1.JobSpec;
}

/**
 * A scheduled Job that never overlaps itself (`Forbid`: a run still going when the next is due
 * finishes first) and keeps a short history for logs.
 */
export function cronJob(
  resourceName: string,
  args: CronJobArgs,
  opts: pulumi.CustomResourceOptions,
): k8s.batch.v1.CronJob {
  return new k8s.batch.v1.CronJob(
    resourceName,
    {
      metadata: objectMeta(args.namespace, args.name, args.labels),
      spec: {
        schedule: args.schedule,
        timeZone: args.timeZone ?? "Etc/UTC",
        suspend: args.suspend,
        concurrencyPolicy: "Forbid",
        startingDeadlineSeconds: args.startingDeadlineSeconds,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: { metadata: { labels: standardLabels(args.labels) }, spec: args.spec },
      },
    },
    opts,
  );
}

/**
 * A NetworkPolicy in `namespace` admitting pods of another namespace to `targetPods` on one TCP
 * port. How a topology opens an existing instance to a new client: policies add up, so the
 * instance's own policies stay exactly as they are.
 */
export function admitFromNamespace(
  resourceName: string,
  args: {
    namespace: pulumi.Input<string>;
    name: string;
    labels: LabelSpec;
    targetPods: Record<string, string>;
    fromNamespace: pulumi.Input<string>;
    fromPods: Record<string, string>[];
    port: number;
  },
  opts: pulumi.CustomResourceOptions,
): k8s.networking.v1.NetworkPolicy {
  return new k8s.networking.v1.NetworkPolicy(
    resourceName,
    {
      metadata: objectMeta(args.namespace, args.name, args.labels),
      spec: {
        podSelector: { matchLabels: args.targetPods },
        policyTypes: ["Ingress"],
        ingress: [
          {
            from: args.fromPods.map((p) => ({
              namespaceSelector: {
                matchLabels: { "kubernetes.io/metadata.name": args.fromNamespace },
              },
              podSelector: { matchLabels: p },
            })),
            ports: [{ protocol: "TCP", port: args.port }],
          },
        ],
      },
    },
    opts,
  );
}
