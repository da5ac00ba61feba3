/**
 * Building blocks for the Kubernetes objects every component creates, so each workload gets the
 * same labels, security context, probes and resource bounds without repeating them.
 */
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
  terminationGracePeriodSeconds?: number;
  restartPolicy?: "Always" | "OnFailure" | "Never";
}

function podTemplate(args: PodArgs): core.PodTemplateSpec {
  return {
    metadata: {
      labels: standardLabels(args.labels),
      ...(args.podAnnotations ? { annotations: args.podAnnotations } : {}),
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
    opts,
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
      ...opts,
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

/**
 * A run-to-completion Job that Pulumi waits for. Its pod template is immutable, so a change
 * replaces it; the fixed name makes that a delete-then-create.
 */
export function job(
  resourceName: string,
  args: JobArgs,
  opts: pulumi.CustomResourceOptions,
): k8s.batch.v1.Job {
  return new k8s.batch.v1.Job(
    resourceName,
    { metadata: objectMeta(args.namespace, args.name, args.labels), spec: jobSpec(args) },
    { ...opts, deleteBeforeReplace: true },
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
  return new k8s.core.v1.Secret(
    resourceName,
    {
      metadata: objectMeta(args.namespace, args.name, args.labels),
      type: "Opaque",
      stringData: pulumi.secret(args.data),
    },
    opts,
  );
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
