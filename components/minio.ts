/**
 * The object storage of one Airbyte instance (reference §8): a single-node MinIO on a persistent
 * volume, generated root credentials, and a Job that creates Airbyte's bucket(s) and keeps a
 * lifecycle rule expiring job logs. Airbyte reads the credentials from the same Secret.
 */
import * as crypto from "node:crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { IMAGES } from "../infra/versions";
import { LabelSpec, imageTag } from "../infra/naming";
import { checkDnsLabel, checkStorageQuantity } from "../infra/config/validators";
import {
  EnvVar,
  ResourceBounds,
  containerSecurityContext,
  dataVolumeClaim,
  httpProbe,
  job,
  objectMeta,
  opaqueSecret,
  plainEnv,
  podSecurityContext,
  resources,
  scratchVolume,
  secretEnv,
  service,
  serviceHost,
  statefulSet,
  HELPER_RESOURCES,
} from "./lib/kube";
import { generatedPassword } from "./lib/secrets";

/** The image runs as whatever uid it is given; the volume is group-owned through fsGroup. */
const MINIO_UID = 1000;
const API_PORT = 9000;
/** Key names Airbyte 2.0 reads its storage credentials from (reference §3). */
export const ACCESS_KEY_ID_KEY = "AWS_ACCESS_KEY_ID";
export const SECRET_ACCESS_KEY_KEY = "AWS_SECRET_ACCESS_KEY";
/** Where Airbyte writes job logs inside a bucket (reference §8). */
export const JOB_LOG_PREFIX = "job-logging/";
const LIFECYCLE_DIR = "/etc/minio-lifecycle";
const DATA_DIR = "/data/minio";

export interface MinioArgs {
  /** Namespace to deploy into. */
  namespace: pulumi.Input<string>;
  /** Prefix of every object name: `<instanceName>-minio`. */
  instanceName: string;
  /** Size of the data volume. Default: `20Gi`. */
  storageSize?: pulumi.Input<string>;
  /** StorageClass of the data volume. Default: the cluster default. */
  storageClassName?: pulumi.Input<string>;
  /**
   * Buckets to create; the first is the one Airbyte uses (`bucket` output). Names follow the S3
   * rules. Default: `["airbyte-bucket"]` (one bucket holds every document type, reference §8).
   */
  buckets?: string[];
  /** Job logs (`job-logging/…`) are deleted after this many whole days. Default: 30. */
  logRetentionDays?: number;
  /** Server container. Default: 250m/1Gi requested, 1 CPU/2Gi limit. */
  resources?: ResourceBounds;
}

const DEFAULT_RESOURCES: ResourceBounds = {
  requests: { cpu: "250m", memory: "1Gi" },
  limits: { cpu: "1", memory: "2Gi" },
};

interface Settings {
  storageSize: pulumi.Input<string>;
  buckets: string[];
  logRetentionDays: number;
  resources: ResourceBounds;
}

/** Every default, applied in one place, and every check that would otherwise render a broken object. */
function settingsOf(args: MinioArgs): Settings {
  const fail = (arg: string, why: string): never => {
    throw new Error(`Minio: ${arg}: ${why}`);
  };
  const nameError = checkDnsLabel(`${args.instanceName}-minio-buckets`);
  if (nameError)
    fail("instanceName", `'${args.instanceName}' gives object names that ${nameError}`);
  const storageSize = args.storageSize ?? "20Gi";
  if (typeof storageSize === "string") {
    const sizeError = checkStorageQuantity(storageSize);
    if (sizeError) fail("storageSize", `'${storageSize}' ${sizeError}`);
  }
  const buckets = args.buckets ?? ["airbyte-bucket"];
  if (buckets.length === 0) fail("buckets", "must name at least one bucket");
  for (const b of buckets) {
    const why = checkBucketName(b);
    if (why) fail("buckets", `'${b}' is not a valid S3 bucket name: ${why}`);
  }
  const duplicate = buckets.find((b, i) => buckets.indexOf(b) !== i);
  if (duplicate) fail("buckets", `names '${duplicate}' twice`);
  const logRetentionDays = args.logRetentionDays ?? 30;
  if (!Number.isInteger(logRetentionDays) || logRetentionDays < 1) {
    fail("logRetentionDays", `must be a whole number of days ≥ 1, got ${logRetentionDays}`);
  }
  return { storageSize, buckets, logRetentionDays, resources: args.resources ?? DEFAULT_RESOURCES };
}

/** S3 bucket naming rules (the strict, DNS-compatible set MinIO enforces). */
export function checkBucketName(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return "must be 3 to 63 characters long";
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) {
    return "must use lowercase letters, digits, '.' and '-', and start and end with a letter or digit";
  }
  if (/\.\.|\.-|-\./.test(name)) return "must not contain '..', '.-' or '-.'";
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return "must not look like an IP address";
  if (/^(xn--|sthree-)/.test(name) || /(-s3alias|--ol-s3)$/.test(name)) {
    return "uses a prefix or suffix S3 reserves";
  }
  return undefined;
}

/** The bucket lifecycle document: one rule, so importing it again replaces rather than stacks. */
export function lifecycleDocument(logRetentionDays: number): string {
  const config = {
    Rules: [
      {
        ID: "expire-airbyte-job-logs",
        Status: "Enabled",
        Filter: { Prefix: JOB_LOG_PREFIX },
        Expiration: { Days: logRetentionDays },
      },
    ],
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

export class Minio extends pulumi.ComponentResource {
  /** `http://<host>:9000`: Airbyte's `MINIO_ENDPOINT`. */
  public readonly endpoint: pulumi.Output<string>;
  /** In-cluster DNS name of the S3 API. */
  public readonly host: pulumi.Output<string>;
  public readonly port: pulumi.Output<number>;
  public readonly serviceName: pulumi.Output<string>;
  /** The bucket Airbyte uses (the first of `buckets`). */
  public readonly bucket: pulumi.Output<string>;
  public readonly buckets: pulumi.Output<string[]>;
  /** Secret holding `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`; Airbyte can reference it. */
  public readonly secretName: pulumi.Output<string>;
  /** Root access key; a secret. */
  public readonly accessKeyId: pulumi.Output<string>;
  /** Root secret key; a secret. */
  public readonly secretAccessKey: pulumi.Output<string>;
  /** Completes once the buckets and their lifecycle exist; Airbyte's services `dependsOn` it. */
  public readonly bucketJob: k8s.batch.v1.Job;
  public readonly bucketJobName: pulumi.Output<string>;
  /** The StatefulSet, for others to depend on. */
  public readonly server: k8s.apps.v1.StatefulSet;

  constructor(name: string, args: MinioArgs, opts?: pulumi.ComponentResourceOptions) {
    const s = settingsOf(args);
    super("airbyte:storage:Minio", name, {}, opts);

    const objectName = `${args.instanceName}-minio`;
    const labels: LabelSpec = {
      name: "minio",
      instance: args.instanceName,
      component: "storage",
      version: imageTag(IMAGES.minio),
    };
    const child = { parent: this };

    // Both halves generated: the root user is MinIO's admin identity, and a well-known name
    // (`minio`, as upstream ships) would be half of a guessable login.
    const accessKeyId = generatedPassword(`${name}-access-key-id`, this, 20);
    const secretAccessKey = generatedPassword(`${name}-secret-access-key`, this, 40);
    const credentials = opaqueSecret(
      `${name}-credentials`,
      {
        namespace: args.namespace,
        name: `${objectName}-credentials`,
        labels,
        data: { [ACCESS_KEY_ID_KEY]: accessKeyId, [SECRET_ACCESS_KEY_KEY]: secretAccessKey },
      },
      child,
    );
    const rootCredentials: EnvVar[] = [
      secretEnv("MINIO_ROOT_USER", credentials.metadata.name, ACCESS_KEY_ID_KEY),
      secretEnv("MINIO_ROOT_PASSWORD", credentials.metadata.name, SECRET_ACCESS_KEY_KEY),
    ];

    const svc = service(
      `${name}-service`,
      {
        namespace: args.namespace,
        name: objectName,
        labels,
        ports: [{ name: "api", port: API_PORT, targetPort: "api" }],
      },
      child,
    );

    this.server = statefulSet(
      `${name}-server`,
      {
        namespace: args.namespace,
        name: objectName,
        labels,
        serviceName: svc.metadata.name,
        // Re-own the volume only when its root is not ours yet: a recursive chown of every
        // object at each start would make restarts slow as the bucket grows.
        securityContext: {
          ...podSecurityContext(MINIO_UID),
          fsGroupChangePolicy: "OnRootMismatch",
        },
        terminationGracePeriodSeconds: 30,
        reads: [credentials],
        containers: [
          {
            name: "minio",
            image: IMAGES.minio,
            // The image's entrypoint prepends `minio`. Data goes one level below the mount, away
            // from a root-owned lost+found. The certs directory defaults to ~/.minio/certs,
            // which a non-root user cannot create on a read-only root.
            args: ["server", DATA_DIR, "--address", `:${API_PORT}`, "--certs-dir", "/certs"],
            ports: [{ name: "api", containerPort: API_PORT }],
            env: [
              ...rootCredentials,
              // No web console: it would be a second login outside the OAuth2 Proxy (DESIGN D4);
              // operators use `mc` through `kubectl exec` or a port-forward.
              ...plainEnv({ MINIO_BROWSER: "off" }),
            ],
            livenessProbe: httpProbe("/minio/health/live", "api", { failureThreshold: 6 }),
            readinessProbe: httpProbe("/minio/health/ready", "api", { periodSeconds: 5 }),
            resources: resources(s.resources),
            securityContext: containerSecurityContext(),
            volumeMounts: [
              { name: "data", mountPath: "/data" },
              { name: "certs", mountPath: "/certs" },
              { name: "tmp", mountPath: "/tmp" },
            ],
          },
        ],
        volumes: [scratchVolume("certs", "1Mi"), scratchVolume("tmp")],
        volumeClaimTemplates: [dataVolumeClaim("data", s.storageSize, args.storageClassName)],
      },
      child,
    );

    this.host = serviceHost(svc.metadata.name, args.namespace);
    this.port = pulumi.output(API_PORT);
    this.endpoint = pulumi.interpolate`http://${this.host}:${API_PORT}`;

    const lifecycle = lifecycleDocument(s.logRetentionDays);
    const lifecycleConfig = new k8s.core.v1.ConfigMap(
      `${name}-lifecycle`,
      {
        metadata: objectMeta(args.namespace, `${objectName}-lifecycle`, labels),
        data: { "lifecycle.json": lifecycle },
      },
      child,
    );

    this.bucketJob = job(
      `${name}-buckets`,
      {
        namespace: args.namespace,
        name: `${objectName}-buckets`,
        labels: { ...labels, name: "minio-buckets" },
        securityContext: podSecurityContext(MINIO_UID),
        // The Job only reads the ConfigMap; its digest in the template replaces (re-runs) the
        // Job whenever the rule changes.
        podAnnotations: {
          "airbyte.pulumi/lifecycle-sha256": crypto
            .createHash("sha256")
            .update(lifecycle)
            .digest("hex"),
        },
        backoffLimit: 6,
        activeDeadlineSeconds: 600,
        containers: [
          {
            name: "buckets",
            image: IMAGES.minio,
            command: ["/bin/sh", "-c", BUCKETS_SCRIPT],
            env: [
              ...rootCredentials,
              // mc takes an alias from MC_HOST_<alias>; Kubernetes expands $(VAR) from the
              // entries above, so the credentials never appear in the spec or on a command line.
              {
                name: "MC_HOST_minio",
                value: pulumi.interpolate`http://$(MINIO_ROOT_USER):$(MINIO_ROOT_PASSWORD)@${this.host}:${API_PORT}`,
              },
              ...plainEnv({
                BUCKETS: s.buckets.join(" "),
                LIFECYCLE_FILE: `${LIFECYCLE_DIR}/lifecycle.json`,
                MC_CONFIG_DIR: "/tmp/mc",
              }),
            ],
            resources: resources(HELPER_RESOURCES),
            securityContext: containerSecurityContext(),
            volumeMounts: [
              { name: "lifecycle", mountPath: LIFECYCLE_DIR, readOnly: true },
              { name: "tmp", mountPath: "/tmp" },
            ],
          },
        ],
        volumes: [
          { name: "lifecycle", configMap: { name: lifecycleConfig.metadata.name } },
          scratchVolume("tmp", "16Mi"),
        ],
      },
      // Pulumi waits for the StatefulSet to be ready before starting the Job.
      { ...child, dependsOn: [this.server] },
    );

    this.serviceName = svc.metadata.name;
    this.bucket = pulumi.output(s.buckets[0]);
    this.buckets = pulumi.output(s.buckets);
    this.secretName = credentials.metadata.name;
    this.accessKeyId = accessKeyId;
    this.secretAccessKey = secretAccessKey;
    this.bucketJobName = this.bucketJob.metadata.name;
    this.registerOutputs({
      endpoint: this.endpoint,
      host: this.host,
      port: this.port,
      serviceName: this.serviceName,
      bucket: this.bucket,
      buckets: this.buckets,
      secretName: this.secretName,
      accessKeyId: this.accessKeyId,
      secretAccessKey: this.secretAccessKey,
      bucketJobName: this.bucketJobName,
    });
  }
}

/**
 * Waits for MinIO to accept the credentials, then for each bucket: create it unless it exists,
 * and import the lifecycle document, which replaces the bucket's whole lifecycle configuration.
 */
export const BUCKETS_SCRIPT = `set -eu
until mc ls minio >/dev/null 2>&1; do
  echo "waiting for MinIO"
  sleep 3
done
for bucket in $BUCKETS; do
  mc mb --ignore-existing "minio/$bucket"
  mc ilm import "minio/$bucket" < "$LIFECYCLE_FILE"
  echo "bucket $bucket ready"
done
`;
