/**
 * The v2 object mirror (DESIGN D10): a CronJob in the replica's namespace that copies what changed
 * in prod's MinIO buckets to the replica's with `airbyte-migrate objects mirror` (docs/objects.md),
 * so the replica's logs and state follow its database.
 *
 * Both MinIO endpoints, with their generated root credentials, reach the pod only through one
 * Secret (SOURCE_S3_URL, TARGET_S3_URL). Prod's side is one NEW NetworkPolicy in prod's namespace
 * admitting these pods to prod's MinIO; the egress half belongs in the replica's instance policies
 * ({@link objectMirrorNetwork}).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { LabelSpec, selectorLabels } from "../infra/naming";
import {
  SOURCE_S3_URL_ENV,
  TARGET_S3_URL_ENV,
  mirrorJobArgs,
} from "../migrations/objects/job-command";
import { ResourceBounds, jobSpec, opaqueSecret, admitFromNamespace, cronJob } from "./lib/kube";
import { toolPod } from "./lib/tool-job";
import { NetworkFlow, PodGroup, PORTS } from "./network-policies";

/** One MinIO, as the Minio component describes it. */
export interface MirrorEndpoint {
  /** `http://host:9000`. */
  endpoint: pulumi.Input<string>;
  accessKeyId: pulumi.Input<string>;
  /** A Pulumi secret. */
  secretAccessKey: pulumi.Input<string>;
}

export interface ObjectMirrorArgs {
  /** Namespace of the CronJob: the replica's. */
  namespace: pulumi.Input<string>;
  /** The replica's instance name (labels, object names). */
  instanceName: string;
  /** The airbyte-migrate image. */
  image: string;
  /** Cron schedule in {@link timeZone}. Default: `*\/15 * * * *`. */
  schedule?: string;
  /** Default: `Etc/UTC`. */
  timeZone?: string;
  /** Pause scheduled runs (e.g. once the replica is active). Default: `false`. */
  suspend?: boolean;
  /** Prod's MinIO: read only. */
  source: MirrorEndpoint;
  /** The replica's MinIO. */
  target: MirrorEndpoint;
  /** Buckets to mirror. Default: `["airbyte-bucket"]`. */
  buckets?: string[];
  /** Objects in parallel (`--jobs`). Default: 4. */
  jobs?: number;
  /** Where prod's MinIO pods run, for the NetworkPolicy in prod's namespace. */
  sourcePods: {
    namespace: pulumi.Input<string>;
    instanceName: string;
    podLabels: Record<string, string>;
  };
  /** Default: 100m/256Mi requested, 1 CPU/512Mi limit (4 jobs × 16 MiB parts plus Node). */
  resources?: ResourceBounds;
}

const DEFAULT_RESOURCES: ResourceBounds = {
  requests: { cpu: "100m", memory: "256Mi" },
  limits: { cpu: "1", memory: "512Mi" },
};

/** Labels of the mirror pods. */
export function objectMirrorPodLabels(instanceName: string): LabelSpec {
  return { name: "object-mirror", instance: instanceName, component: "storage" };
}

export const OBJECT_MIRROR_GROUP = "object-mirror";

/** The mirror pods' flows in the replica's instance policies: prod's MinIO and its own. */
export function objectMirrorNetwork(args: {
  instanceName: string;
  source: { namespace: string; podLabels: Record<string, string> };
}): { extraGroups: PodGroup[]; extraFlows: NetworkFlow[] } {
  const group = OBJECT_MIRROR_GROUP;
  return {
    extraGroups: [
      { name: group, matchLabels: selectorLabels(objectMirrorPodLabels(args.instanceName)) },
    ],
    extraFlows: [
      {
        from: { group },
        to: { namespace: args.source.namespace, podLabels: args.source.podLabels },
        ports: [PORTS.minio],
        why: "the object mirror reads prod's MinIO",
      },
      {
        from: { group },
        to: { group: "minio" },
        ports: [PORTS.minio],
        why: "the object mirror writes the replica's MinIO",
      },
    ],
  };
}

/** `http://KEY:SECRET@host:9000`, credentials percent-encoded; a secret. */
function s3Url(e: MirrorEndpoint): pulumi.Output<string> {
  return pulumi.secret(
    pulumi.all([e.endpoint, e.accessKeyId, e.secretAccessKey]).apply(([endpoint, key, secret]) => {
      const u = new URL(endpoint);
      u.username = encodeURIComponent(key);
      u.password = encodeURIComponent(secret);
      return u.toString().replace(/\/$/, "");
    }),
  );
}

export class ObjectMirror extends pulumi.ComponentResource {
  public readonly cronJobName: pulumi.Output<string>;
  public readonly secretName: pulumi.Output<string>;
  public readonly schedule: pulumi.Output<string>;
  public readonly suspended: pulumi.Output<boolean>;
  public readonly cronJob: k8s.batch.v1.CronJob;

  constructor(name: string, args: ObjectMirrorArgs, opts?: pulumi.ComponentResourceOptions) {
    const jobs = args.jobs ?? 4;
    const buckets = args.buckets ?? ["airbyte-bucket"];
    if (!Number.isInteger(jobs) || jobs < 1 || jobs > 64) {
      throw new Error(`ObjectMirror ${name}: jobs must be a whole number in 1-64, got ${jobs}`);
    }
    super("airbyte:storage:ObjectMirror", name, {}, opts);
    const child = { parent: this };
    const inst = args.instanceName;
    const objectName = `${inst}-object-mirror`;
    const labels = objectMirrorPodLabels(inst);
    const schedule = args.schedule ?? "*/15 * * * *";
    const suspend = args.suspend ?? false;

    const secret = opaqueSecret(
      `${name}-urls`,
      {
        namespace: args.namespace,
        name: objectName,
        labels,
        data: { [SOURCE_S3_URL_ENV]: s3Url(args.source), [TARGET_S3_URL_ENV]: s3Url(args.target) },
      },
      child,
    );

    const spec = jobSpec({
      namespace: args.namespace,
      name: objectName,
      labels,
      backoffLimit: 1,
      // A run that has not finished by the next slot gives way; the next resumes (incremental).
      activeDeadlineSeconds: 3600,
      ...toolPod({
        container: "mirror",
        image: args.image,
        args: mirrorJobArgs({ buckets, jobs }),
        secretName: secret.metadata.name,
        secretKeys: [SOURCE_S3_URL_ENV, TARGET_S3_URL_ENV],
        resources: args.resources ?? DEFAULT_RESOURCES,
        tmpSize: "256Mi",
      }),
    });

    this.cronJob = cronJob(
      `${name}-cronjob`,
      {
        namespace: args.namespace,
        name: objectName,
        labels,
        schedule,
        timeZone: args.timeZone,
        suspend,
        startingDeadlineSeconds: 300,
        spec,
      },
      child,
    );

    const src = args.sourcePods;
    admitFromNamespace(
      `${name}-source-ingress`,
      {
        namespace: src.namespace,
        name: `${src.instanceName}-allow-minio-from-object-mirror`,
        labels: { name: "network-policy", instance: src.instanceName, component: "storage" },
        targetPods: src.podLabels,
        fromNamespace: args.namespace,
        fromPods: [selectorLabels(labels)],
        port: PORTS.minio,
      },
      child,
    );

    this.cronJobName = this.cronJob.metadata.name;
    this.secretName = secret.metadata.name;
    this.schedule = pulumi.output(schedule);
    this.suspended = pulumi.output(suspend);
    this.registerOutputs({
      cronJobName: this.cronJobName,
      secretName: this.secretName,
      schedule: this.schedule,
      suspended: this.suspended,
    });
  }
}
