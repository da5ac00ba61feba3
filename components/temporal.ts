/**
 * Temporal for one Airbyte instance: the `auto-setup` server Airbyte 2.0.x runs (all four Temporal
 * services in one pod, PostgreSQL persistence), complete on `pulumi up` (DESIGN D3): the server
 * sets up its schema itself, and a Job makes sure namespace `default` exists before anything that
 * depends on it starts.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { IMAGES } from "../infra/versions";
import { LabelSpec, imageTag } from "../infra/naming";
import { checkDnsLabel } from "../infra/config/validators";
import {
  EnvVar,
  Probe,
  ResourceBounds,
  Volume,
  VolumeMount,
  configMap,
  containerSecurityContext,
  deployment,
  fieldEnv,
  job,
  opaqueSecret,
  plainEnv,
  podSecurityContext,
  resources,
  scratchVolume,
  secretEnv,
  service,
  serviceHost,
  tcpProbe,
  HELPER_RESOURCES,
} from "./lib/kube";

/** uid/gid of `temporal` in the temporalio server and admin-tools images. */
const TEMPORAL_UID = 1000;
const FRONTEND_PORT = 7233;
const METRICS_PORT = 9090;
/** Airbyte's Temporal namespace is a constant in its code. */
export const AIRBYTE_TEMPORAL_NAMESPACE = "default";
/** auto-setup's default names, also what our Postgres component and core-worker-01 create. */
export const TEMPORAL_DATABASES = { main: "temporal", visibility: "temporal_visibility" } as const;
/**
 * Four shards is what auto-setup (and so every Airbyte install) starts with. The count is fixed
 * when the schema is first set up; pinning it keeps a copied Airbyte Temporal database readable.
 */
const HISTORY_SHARDS = "4";

const CONFIG_DIR = "/etc/temporal/config";
const DYNAMIC_CONFIG_DIR = "/etc/temporal/dynamicconfig";
const DYNAMIC_CONFIG_FILE = "dynamicconfig.yaml";
const CA_DIR = "/etc/temporal/database-ca";
/** The frontend's gRPC health service; it answers SERVING once the frontend takes requests. */
const HEALTH_SERVICE = "temporal.api.workflowservice.v1.WorkflowService";

/** Certificate verification of the database connection. */
export interface TemporalDatabaseTlsArgs {
  /** Secret (in the same namespace) holding the CA certificate of the database server. */
  caSecretName: pulumi.Input<string>;
  /** Key of the CA certificate in that Secret. Default: `ca.crt`. */
  caSecretKey?: string;
}

/** Where Temporal keeps its state: one PostgreSQL server holding `temporal` and `temporal_visibility`. */
export interface TemporalDatabaseArgs {
  /** Host name of the PostgreSQL server. */
  host: pulumi.Input<string>;
  /** Default: 5432. */
  port?: pulumi.Input<number>;
  /** Login role. It needs CREATEDB only when `createDatabases` is true. */
  user: pulumi.Input<string>;
  /** Password of `user`; kept in a Kubernetes Secret, never in the pod spec. */
  password: pulumi.Input<string>;
  /**
   * TLS to the database. Default: `false` (plain connection, as for the in-cluster server).
   * `true` encrypts without checking the server certificate (libpq `sslmode=require`); an object
   * also verifies the certificate chain and host name against a CA (`sslmode=verify-full`).
   * Set deliberately: unlike Airbyte's chart, nothing turns TLS on behind your back.
   */
  tls?: boolean | TemporalDatabaseTlsArgs;
}

export interface TemporalArgs {
  /** Namespace to deploy into. */
  namespace: pulumi.Input<string>;
  /** Prefix of every object name: `<instanceName>-temporal`. */
  instanceName: string;
  database: TemporalDatabaseArgs;
  /**
   * Let the server create `temporal` and `temporal_visibility` itself (the role then needs
   * CREATEDB). Default: `false`: our Postgres component and the external database both create
   * them beforehand, so Temporal's role needs no CREATEDB.
   */
  createDatabases?: boolean;
  /**
   * Retention of closed workflows in namespace `default` when the Job creates it, in whole days.
   * Default: 30 (Airbyte's worker later applies `TEMPORAL_HISTORY_RETENTION_IN_DAYS`, also 30).
   */
  defaultNamespaceRetentionDays?: number;
  /**
   * Connection pool size of each Temporal service (frontend, history, matching, worker all run in
   * this pod and pool separately) for the main database; visibility pools get half. Default: 10,
   * so at most 4 × (10 + 5) = 60 connections, within the bundled server's 150 next to Airbyte's.
   * At least 2.
   */
  maxDatabaseConnections?: number;
  /** Server container. Default: 250m/512Mi requested, 1 CPU/1Gi limit. */
  resources?: ResourceBounds;
}

const DEFAULT_RESOURCES: ResourceBounds = {
  requests: { cpu: "250m", memory: "512Mi" },
  limits: { cpu: "1", memory: "1Gi" },
};

interface Settings {
  port: pulumi.Input<number>;
  tls:
    | false
    | { verify: false }
    | { verify: true; caSecretName: pulumi.Input<string>; caSecretKey: string };
  createDatabases: boolean;
  retentionDays: number;
  maxConnections: number;
  resources: ResourceBounds;
}

/** Every default, applied in one place, and every check that would otherwise render a broken object. */
function settingsOf(args: TemporalArgs): Settings {
  const fail = (arg: string, why: string) => {
    throw new Error(`Temporal: ${arg}: ${why}`);
  };
  const nameError = checkDnsLabel(`${args.instanceName}-temporal-namespace`);
  if (nameError)
    fail("instanceName", `'${args.instanceName}' gives object names that ${nameError}`);
  const retentionDays = args.defaultNamespaceRetentionDays ?? 30;
  if (!Number.isInteger(retentionDays) || retentionDays < 1) {
    fail(
      "defaultNamespaceRetentionDays",
      `must be a whole number of days ≥ 1, got ${retentionDays}`,
    );
  }
  const maxConnections = args.maxDatabaseConnections ?? 10;
  if (!Number.isInteger(maxConnections) || maxConnections < 2) {
    fail("maxDatabaseConnections", `must be a whole number ≥ 2, got ${maxConnections}`);
  }
  const tls = args.database.tls ?? false;
  return {
    port: args.database.port ?? 5432,
    tls:
      tls === false
        ? false
        : tls === true
          ? { verify: false }
          : {
              verify: true,
              caSecretName: tls.caSecretName,
              caSecretKey: tls.caSecretKey ?? "ca.crt",
            },
    createDatabases: args.createDatabases ?? false,
    retentionDays,
    maxConnections,
    resources: args.resources ?? DEFAULT_RESOURCES,
  };
}

export class Temporal extends pulumi.ComponentResource {
  /** In-cluster DNS name of the frontend. */
  public readonly host: pulumi.Output<string>;
  /** Frontend gRPC port, 7233. */
  public readonly port: pulumi.Output<number>;
  /** `host:port`: what Airbyte's `TEMPORAL_HOST`, the UI and the admin tools need. */
  public readonly address: pulumi.Output<string>;
  public readonly serviceName: pulumi.Output<string>;
  /** The namespace Job's `metadata.name`. */
  public readonly namespaceJobName: pulumi.Output<string>;
  /**
   * Completes once namespace `default` exists: Airbyte's Deployments `dependsOn` it, so they start
   * against a usable Temporal (cron blocks until the namespace exists).
   */
  public readonly namespaceJob: k8s.batch.v1.Job;
  /** The server Deployment. */
  public readonly server: k8s.apps.v1.Deployment;

  constructor(name: string, args: TemporalArgs, opts?: pulumi.ComponentResourceOptions) {
    const s = settingsOf(args);
    super("airbyte:temporal:Temporal", name, {}, opts);

    const objectName = `${args.instanceName}-temporal`;
    const labels: LabelSpec = {
      name: "temporal",
      instance: args.instanceName,
      component: "workflow-engine",
      version: imageTag(IMAGES.temporal),
    };
    const child = { parent: this };

    const credentials = opaqueSecret(
      `${name}-database-credentials`,
      {
        namespace: args.namespace,
        name: `${objectName}-database`,
        labels,
        data: { password: args.database.password },
      },
      child,
    );

    const dynamicConfig = configMap(
      `${name}-dynamic-config`,
      {
        namespace: args.namespace,
        name: `${objectName}-dynamic-config`,
        labels,
        data: { [DYNAMIC_CONFIG_FILE]: DYNAMIC_CONFIG },
      },
      child,
    );

    const svc = service(
      `${name}-service`,
      {
        namespace: args.namespace,
        name: objectName,
        labels,
        ports: [
          { name: "grpc", port: FRONTEND_PORT, targetPort: "grpc" },
          { name: "metrics", port: METRICS_PORT, targetPort: "metrics" },
        ],
      },
      child,
    );

    const volumes: Volume[] = [
      // The entrypoint renders its config into the config directory at every start; an emptyDir
      // (seeded by the init container) keeps the image's root filesystem read-only.
      scratchVolume("config", "16Mi"),
      { name: "dynamic-config", configMap: { name: dynamicConfig.metadata.name } },
      scratchVolume("tmp"),
    ];
    const mounts: VolumeMount[] = [
      { name: "config", mountPath: CONFIG_DIR },
      { name: "dynamic-config", mountPath: DYNAMIC_CONFIG_DIR, readOnly: true },
      { name: "tmp", mountPath: "/tmp" },
    ];
    if (s.tls && s.tls.verify) {
      volumes.push({
        name: "database-ca",
        secret: {
          secretName: s.tls.caSecretName,
          items: [{ key: s.tls.caSecretKey, path: "ca.crt" }],
        },
      });
      mounts.push({ name: "database-ca", mountPath: CA_DIR, readOnly: true });
    }

    this.server = deployment(
      `${name}-server`,
      {
        namespace: args.namespace,
        name: objectName,
        labels,
        replicas: 1,
        // Never two servers at once: both would run schema setup and join one membership ring.
        strategy: "Recreate",
        securityContext: podSecurityContext(TEMPORAL_UID),
        terminationGracePeriodSeconds: 60,
        reads: [credentials, dynamicConfig],
        initContainers: [
          {
            name: "config-template",
            image: IMAGES.temporal,
            command: ["cp", `${CONFIG_DIR}/config_template.yaml`, "/rendered/config_template.yaml"],
            resources: resources(HELPER_RESOURCES),
            securityContext: containerSecurityContext(),
            volumeMounts: [{ name: "config", mountPath: "/rendered" }],
          },
        ],
        containers: [
          {
            name: "temporal",
            image: IMAGES.temporal,
            ports: [
              { name: "grpc", containerPort: FRONTEND_PORT },
              { name: "metrics", containerPort: METRICS_PORT },
            ],
            env: serverEnv(args, s, credentials.metadata.name),
            // The port opens only after schema setup, which on a first start can take minutes.
            startupProbe: tcpProbe("grpc", { periodSeconds: 5, failureThreshold: 120 }),
            // Liveness only asks whether the process still listens: a database outage makes the
            // frontend NOT_SERVING, and restarting would not help.
            livenessProbe: tcpProbe("grpc", { periodSeconds: 15, failureThreshold: 4 }),
            readinessProbe: grpcHealthProbe(),
            resources: resources(s.resources),
            securityContext: containerSecurityContext(),
            volumeMounts: mounts,
          },
        ],
        volumes,
      },
      child,
    );

    this.host = serviceHost(svc.metadata.name, args.namespace);
    this.port = pulumi.output(FRONTEND_PORT);
    this.address = pulumi.interpolate`${this.host}:${FRONTEND_PORT}`;
    this.serviceName = svc.metadata.name;

    this.namespaceJob = job(
      `${name}-namespace`,
      {
        namespace: args.namespace,
        name: `${objectName}-namespace`,
        labels: {
          ...labels,
          name: "temporal-namespace",
          version: imageTag(IMAGES.temporalAdminTools),
        },
        securityContext: podSecurityContext(TEMPORAL_UID),
        // A new database target replaces the Job, so the namespace is ensured there too.
        podAnnotations: {
          "airbyte.pulumi/temporal-database": pulumi.interpolate`${args.database.host}:${s.port}`,
        },
        backoffLimit: 6,
        // Bounded, so a Temporal that never comes up fails `pulumi up` instead of hanging it.
        activeDeadlineSeconds: 1200,
        containers: [
          {
            name: "ensure-namespace",
            image: IMAGES.temporalAdminTools,
            command: ["/bin/bash", "-c", ENSURE_NAMESPACE_SCRIPT],
            env: plainEnv({
              TEMPORAL_ADDRESS: this.address,
              NAMESPACE: AIRBYTE_TEMPORAL_NAMESPACE,
              // Hours: every CLI release parses Go durations; not all accept a day suffix.
              RETENTION: `${s.retentionDays * 24}h`,
            }),
            resources: resources(HELPER_RESOURCES),
            securityContext: containerSecurityContext(),
          },
        ],
      },
      // Pulumi waits for the Deployment to be ready (frontend SERVING) before starting the Job.
      { ...child, dependsOn: [this.server] },
    );
    this.namespaceJobName = this.namespaceJob.metadata.name;

    this.registerOutputs({
      host: this.host,
      port: this.port,
      address: this.address,
      serviceName: this.serviceName,
      namespaceJobName: this.namespaceJobName,
    });
  }
}

function serverEnv(args: TemporalArgs, s: Settings, secretName: pulumi.Input<string>): EnvVar[] {
  const tlsOn = s.tls !== false;
  const verify = s.tls !== false && s.tls.verify;
  const caFile = verify ? `${CA_DIR}/ca.crt` : "";
  const visibilityConnections = String(Math.max(1, Math.floor(s.maxConnections / 2)));
  return [
    ...plainEnv({
      DB: "postgres12",
      POSTGRES_SEEDS: args.database.host,
      DB_PORT: pulumi.output(s.port).apply(String),
      POSTGRES_USER: args.database.user,
      DBNAME: TEMPORAL_DATABASES.main,
      VISIBILITY_DBNAME: TEMPORAL_DATABASES.visibility,
      SKIP_DB_CREATE: String(!s.createDatabases),
      // The namespace Job owns `default` (with our retention); the sample search attributes the
      // script would add are for Temporal's own tests and Airbyte does not use them.
      SKIP_DEFAULT_NAMESPACE_CREATION: "true",
      SKIP_ADD_CUSTOM_SEARCH_ATTRIBUTES: "true",
      NUM_HISTORY_SHARDS: HISTORY_SHARDS,
      SQL_MAX_CONNS: String(s.maxConnections),
      SQL_MAX_IDLE_CONNS: String(s.maxConnections),
      SQL_VIS_MAX_CONNS: visibilityConnections,
      SQL_VIS_MAX_IDLE_CONNS: visibilityConnections,
      // Both halves of TLS, set together: the schema tool reads POSTGRES_TLS_*, the server SQL_*.
      POSTGRES_TLS_ENABLED: String(tlsOn),
      POSTGRES_TLS_DISABLE_HOST_VERIFICATION: String(!verify),
      POSTGRES_TLS_CA_FILE: caFile,
      SQL_TLS_ENABLED: String(tlsOn),
      SQL_HOST_VERIFICATION: String(verify),
      SQL_CA: caFile,
      DYNAMIC_CONFIG_FILE_PATH: `${DYNAMIC_CONFIG_DIR}/${DYNAMIC_CONFIG_FILE}`,
      PROMETHEUS_ENDPOINT: `0.0.0.0:${METRICS_PORT}`,
      // Listen on every interface (probes, port-forward), but announce the pod's own address to
      // the membership ring: 0.0.0.0 is not an address another member can reach.
      BIND_ON_IP: "0.0.0.0",
    }),
    fieldEnv("TEMPORAL_BROADCAST_ADDRESS", "status.podIP"),
    secretEnv("POSTGRES_PWD", secretName, "password"),
  ];
}

/** Native gRPC probe (Kubernetes ≥ 1.27): no process spawned in the container per check. */
function grpcHealthProbe(): Probe {
  return {
    grpc: { port: FRONTEND_PORT, service: HEALTH_SERVICE },
    periodSeconds: 10,
    timeoutSeconds: 5,
    failureThreshold: 3,
  };
}

/**
 * Waits for the frontend, then creates the namespace unless it exists. A create that loses a race
 * with another creator is fine as long as the namespace then exists.
 */
const ENSURE_NAMESPACE_SCRIPT = `set -euo pipefail
until temporal operator cluster health 2>/dev/null | grep -q SERVING; do
  echo "waiting for Temporal at $TEMPORAL_ADDRESS"
  sleep 3
done
if temporal operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1; then
  echo "namespace $NAMESPACE exists"
  exit 0
fi
echo "creating namespace $NAMESPACE (retention $RETENTION)"
temporal operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION" \\
  --description "Airbyte workflows" \\
  || temporal operator namespace describe --namespace "$NAMESPACE" >/dev/null
echo "namespace $NAMESPACE ready"
`;

/**
 * Our dynamic config. Temporal re-reads the file every minute, and a ConfigMap volume follows
 * edits, so changes apply without a restart.
 */
const DYNAMIC_CONFIG = `# Airbyte passes catalogs and connector output through workflow payloads: allow 15 MB
# (Temporal's default error limit is 2 MB), warn from 10 MB.
limit.blobSize.error:
  - value: 15728640
limit.blobSize.warn:
  - value: 10485760
# Airbyte's workers use workflow updates.
frontend.enableUpdateWorkflowExecution:
  - value: true
# Persistence rate limits per service, sized for one shared PostgreSQL server.
frontend.persistenceMaxQPS:
  - value: 3000
history.persistenceMaxQPS:
  - value: 3000
matching.persistenceMaxQPS:
  - value: 3000
`;

// Exported for tests that run the script against a stand-in CLI.
export { ENSURE_NAMESPACE_SCRIPT };
