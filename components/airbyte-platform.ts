/**
 * The Airbyte 2.0.x platform of one instance: every service the release runs by default, each its
 * own Deployment with the environment that release expects (reference §2–§4), the bootloader as a
 * Job, and the RBAC the workload-launcher needs to start connector pods. The database, Temporal,
 * object storage and the OAuth2 Proxy in front are other components; this one receives their
 * addresses and credentials.
 *
 * Roles (DESIGN D8, reference §11): `active` runs everything; `standby` keeps every object but
 * runs nothing that touches the database (all Deployments at 0 replicas, no bootloader Job), so a
 * standby can sit on a database that replication is still writing, and activation is only a
 * replica-count change plus the bootloader run.
 */
import * as crypto from "node:crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { LabelSpec } from "../infra/naming";
import { AIRBYTE_VERSION, airbyteImage } from "../infra/versions";
import { AirbyteAuthValues } from "./airbyte-auth-secrets";
import {
  Container,
  EnvVar,
  Probe,
  ResourceBounds,
  Volume,
  VolumeMount,
  configMapEnv,
  containerSecurityContext,
  deployment,
  fieldEnv,
  job,
  objectMeta,
  opaqueSecret,
  trackData,
  podDisruptionBudget,
  podSecurityContext,
  resources,
  scratchVolume,
  secretEnv,
  service,
  serviceHost,
} from "./lib/kube";
import { ConfigKey, SERVICE_ENV, SecretGroup, configKeysOf } from "./airbyte/service-env";
import {
  BUILDER_SERVICE_PORT,
  MANAGEMENT_PORT,
  OBJECT_SUFFIX,
  SERVER_PORT,
  WORKLOAD_API_SERVICE_PORT,
  runtimes,
} from "./airbyte/service-runtime";
import { databaseUrl, jdbcQuery } from "./airbyte/database-url";
import { OptionalEnvArgs, optionalEnv, optionalEnvProblems } from "./airbyte/optional-env";
import { caTrust } from "./airbyte/ca-trust";

export { configKeysOf, databaseUrl, jdbcQuery };
export type {
  ConnectorPodArgs,
  JobType,
  OtlpMetricsArgs,
  ResourceSettings,
  SecretsBackendArgs,
  Toleration,
} from "./airbyte/optional-env";

/** `airbyte` in every Airbyte image (reference §2, chart security defaults). */
const AIRBYTE_UID = 1000;

/** The bootloader creates and updates this Secret by this name (reference §7, pitfall 8). */
export const AUTH_SECRET_NAME = "airbyte-auth-secrets";
/**
 * How long the bootloader (Flyway migrations of both databases, then the dataplane keys) may run
 * before Kubernetes stops it; `pulumi up` waits this long plus a margin (lib/kube.ts `job`).
 */
export const BOOTLOADER_DEADLINE_SECONDS = 1800;
const FLAGS_DIR = "/etc/launchdarkly";
/** Segment write key the chart ships (2.0.19, `templates/config/_tracking.tpl`); not a secret. */
const SEGMENT_WRITE_KEY = "7UDdp5K55CyiGgsauOr2pNNujGvmhaeu";
const FLAGS_KEY = "flags.yml";

export type AirbyteRole = "active" | "standby";

/** Services whose replica count may be chosen. Cron is not among them: it is a singleton. */
export type ScalableService =
  "server" | "worker" | "workloadLauncher" | "workloadApiServer" | "connectorBuilderServer";

/** Replica counts per scalable service; see {@link AirbytePlatformArgs.replicas}. */
export type AirbytePlatformReplicas = Partial<Record<ScalableService, pulumi.Input<number>>>;

/** Every container this component runs. */
export type PlatformService = ScalableService | "cron" | "bootloader";

/** JDBC URL parameters: a name → value map or a `a=1&b=2` query string. */
export type JdbcParameters = string | Record<string, pulumi.Input<string>>;

export interface AirbyteDatabaseArgs {
  /** Host name of the PostgreSQL server holding `db-airbyte`. */
  host: pulumi.Input<string>;
  /** Default: `5432`. */
  port?: pulumi.Input<number>;
  /** Database name. Default: `db-airbyte` (the docker-compose era used `airbyte`). */
  name?: pulumi.Input<string>;
  /** Login role. Kept in the instance Secret, as upstream does. */
  user: pulumi.Input<string>;
  /** Password of {@link user}; a Pulumi secret. */
  password: pulumi.Input<string>;
  /**
   * JDBC parameters appended to `DATABASE_URL` (pitfall 2), as a map (`{ sslmode: "require" }`)
   * or a query string (`sslmode=require&connectTimeout=10`). Credentials (`user`, `password`) are
   * refused: the URL lives in a ConfigMap. Default: none.
   */
  jdbcParameters?: pulumi.Input<JdbcParameters>;
}

/** An S3-compatible store (MinIO); one bucket holds every document type (reference §8). */
export interface AirbyteStorageArgs {
  /** `http(s)://host:port` of the S3 API. */
  endpoint: pulumi.Input<string>;
  /** Bucket for logs, state, workload output, activity payloads and audit logs. */
  bucket: pulumi.Input<string>;
  /** A Pulumi secret. */
  accessKeyId: pulumi.Input<string>;
  /** A Pulumi secret. */
  secretAccessKey: pulumi.Input<string>;
}

/**
 * Instance-wide defaults for connector containers (`JOB_MAIN_CONTAINER_*`). Connector- and
 * connection-specific requirements set in Airbyte take precedence over these.
 */
export interface JobResourceArgs {
  /** Default: `250m`. */
  cpuRequest?: pulumi.Input<string>;
  /** Default: `2`. */
  cpuLimit?: pulumi.Input<string>;
  /** Default: `512Mi`. */
  memoryRequest?: pulumi.Input<string>;
  /** Default: `2Gi`. */
  memoryLimit?: pulumi.Input<string>;
}

/**
 * Also takes the optional settings of {@link OptionalEnvArgs} (all off by default):
 * `connectorPods` (scheduling, pull secrets, registry mirror, ServiceAccount annotations),
 * `jobTypeResources` (check, discover and sidecar containers), `otlpMetrics` and `secretsBackend`
 * (default: the config database).
 */
export interface AirbytePlatformArgs extends OptionalEnvArgs {
  /** Namespace to deploy into; connector pods run there too. */
  namespace: pulumi.Input<string>;
  /**
   * Prefix of every object name, e.g. `airbyte-prod` gives `airbyte-prod-server`. A plain string:
   * names must be known when the program runs so in-cluster DNS names are predictable.
   */
  instanceName: string;
  /** The external URL users reach (through the OAuth2 Proxy), e.g. `https://airbyte.example.com`. */
  airbyteUrl: pulumi.Input<string>;
  database: AirbyteDatabaseArgs;
  /** Temporal frontend as `host:port`. */
  temporalHost: pulumi.Input<string>;
  storage: AirbyteStorageArgs;
  /** Values of `airbyte-auth-secrets`, the same for prod and replica (an `AirbyteAuthSecrets`). */
  authSecrets: AirbyteAuthValues;
  /**
   * `active` (default) or `standby`. A plain value because it decides whether the bootloader Job
   * exists, and a program cannot create a resource depending on a value not yet known.
   */
  role?: AirbyteRole;
  /**
   * Replicas per scalable service when active. Default: 1 each. Cron always runs exactly one
   * (its jobs must never run twice); in standby everything runs zero.
   */
  replicas?: AirbytePlatformReplicas;
  /**
   * Requests and limits per service, each replacing that service's default whole. Defaults
   * (request → limit): server 500m/1Gi → 2/4Gi; worker 500m/1Gi → 2/2Gi; workloadLauncher
   * 250m/512Mi → 1/1Gi; workloadApiServer 250m/512Mi → 1/1Gi; cron 100m/512Mi → 1/1Gi;
   * connectorBuilderServer 250m/512Mi → 1/2Gi (it runs the Python CDK for test reads);
   * bootloader 250m/512Mi → 1/1Gi.
   */
  resources?: Partial<Record<PlatformService, ResourceBounds>>;
  /** Connector container defaults; see {@link JobResourceArgs}. */
  jobResources?: JobResourceArgs;
  /** `LOG_LEVEL` of every service. Default: `INFO`. */
  logLevel?: pulumi.Input<string>;
  /**
   * Airbyte's own authentication (`API_AUTHORIZATION_ENABLED`): its login and the token checks
   * of the public API. Default: `false`: the OAuth2 Proxy in front authenticates every request
   * (DESIGN D4). The instance turns it on with `apiClientAccess`, where API clients reach the
   * server through the Ingress without the proxy, and browsers then sign in at the proxy and at
   * Airbyte's login. Session cookies stay `Secure`/`SameSite=Strict` either way.
   */
  apiAuthorizationEnabled?: pulumi.Input<boolean>;
  /** Anonymous usage telemetry to Airbyte (`TRACKING_*`). Default: `true`, as upstream. */
  trackingEnabled?: pulumi.Input<boolean>;
  /**
   * Content of the feature-flag file (`FEATURE_FLAG_CLIENT=configfile`), mounted into every
   * service. Default: `flags: []` (Airbyte's built-in defaults).
   */
  featureFlags?: pulumi.Input<string>;
  /**
   * A Secret in {@link namespace} holding a PEM CA bundle under `ca.crt`, added to the trust store
   * of every Airbyte container (the image's `update-ca-trust`), e.g. the CA of an external
   * PostgreSQL verified with `verify-ca`/`verify-full`. Default: none (the image's CAs only).
   */
  caBundleSecretName?: pulumi.Input<string>;
}

const DEFAULT_RESOURCES: Record<PlatformService, ResourceBounds> = {
  server: { requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "2", memory: "4Gi" } },
  worker: { requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "2", memory: "2Gi" } },
  workloadLauncher: {
    requests: { cpu: "250m", memory: "512Mi" },
    limits: { cpu: "1", memory: "1Gi" },
  },
  workloadApiServer: {
    requests: { cpu: "250m", memory: "512Mi" },
    limits: { cpu: "1", memory: "1Gi" },
  },
  cron: { requests: { cpu: "100m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } },
  connectorBuilderServer: {
    requests: { cpu: "250m", memory: "512Mi" },
    limits: { cpu: "1", memory: "2Gi" },
  },
  bootloader: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } },
};

const DEFAULT_JOB_RESOURCES: Required<JobResourceArgs> = {
  cpuRequest: "250m",
  cpuLimit: "2",
  memoryRequest: "512Mi",
  memoryLimit: "2Gi",
};

const SCALABLE: ScalableService[] = [
  "server",
  "worker",
  "workloadLauncher",
  "workloadApiServer",
  "connectorBuilderServer",
];

const INSTANCE_NAME = /^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$/;

export class AirbytePlatform extends pulumi.ComponentResource {
  /** Service of the server (API and UI). */
  public readonly serverServiceName: pulumi.Output<string>;
  /** In-cluster DNS name of the server Service. */
  public readonly serverHost: pulumi.Output<string>;
  public readonly serverPort: pulumi.Output<number>;
  public readonly connectorBuilderServiceName: pulumi.Output<string>;
  /** In-cluster DNS name of the connector-builder-server Service. */
  public readonly connectorBuilderHost: pulumi.Output<string>;
  public readonly connectorBuilderPort: pulumi.Output<number>;
  /** The workload-launcher's ServiceAccount, the only one allowed to manage pods. */
  public readonly serviceAccountName: pulumi.Output<string>;
  /** ServiceAccount of connector pods; it has no API permissions. */
  public readonly jobServiceAccountName: pulumi.Output<string>;
  public readonly configMapName: pulumi.Output<string>;
  /** The instance Secret (database, storage and seed credentials). */
  public readonly secretName: pulumi.Output<string>;
  /** `airbyte-auth-secrets`. */
  public readonly authSecretName: pulumi.Output<string>;
  public readonly namespace: pulumi.Output<string>;
  public readonly role: pulumi.Output<AirbyteRole>;
  /** The bootloader Job when active, for others to order themselves after. */
  public readonly bootloader?: k8s.batch.v1.Job;
  /** The Deployments by service. */
  public readonly deployments: Record<
    Exclude<PlatformService, "bootloader">,
    k8s.apps.v1.Deployment
  >;

  constructor(name: string, args: AirbytePlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before anything registers, so a bad argument leaves nothing half-made.
    validate(name, args);
    super("airbyte:platform:AirbytePlatform", name, {}, opts);

    // Defaults, in one place.
    const role = args.role ?? "active";
    const active = role === "active";
    const inst = args.instanceName;
    const ns = args.namespace;
    const resourceBounds = { ...DEFAULT_RESOURCES, ...args.resources };
    const jobResources = { ...DEFAULT_JOB_RESOURCES, ...args.jobResources };
    const flags = args.featureFlags ?? "flags: []\n";
    const optional = optionalEnv(args, `${inst}-airbyte-secrets`);

    const child = { parent: this };
    const labels = (svc: string): LabelSpec => ({
      name: svc,
      instance: inst,
      component: "platform",
      version: AIRBYTE_VERSION,
    });
    const objectName = (svc: PlatformService) => `${inst}-${OBJECT_SUFFIX[svc]}`;
    const host = (svc: PlatformService) => serviceHost(objectName(svc), ns);

    // --- Identities -----------------------------------------------------------------------
    const launcherSa = serviceAccount(
      `${name}-workload-launcher`,
      ns,
      objectName("workloadLauncher"),
      labels("workload-launcher"),
      true,
      child,
    );
    // Connector pods run third-party code: their ServiceAccount gets no Role. Its automount
    // setting only covers pods that leave theirs unset: the launcher mounts the token into check,
    // discover and spec pods and not into sync pods (airbyte-platform v2.0.0 workload-launcher
    // ConnectorPodFactory.kt, ReplicationPodFactory.kt). Annotations (IRSA, Workload Identity)
    // let connectors reach a cloud API as this identity.
    const jobSa = serviceAccount(
      `${name}-job`,
      ns,
      `${inst}-job`,
      labels("job"),
      false,
      child,
      args.connectorPods?.serviceAccountAnnotations,
    );
    const bootloaderSa = serviceAccount(
      `${name}-bootloader`,
      ns,
      objectName("bootloader"),
      labels("bootloader"),
      true,
      child,
    );

    // The launcher starts, watches, labels and deletes connector pods in its own namespace
    // (server-side apply and label edits are PATCHes; waits are get/list/watch). Nothing else:
    // no exec, logs or secrets.
    roleFor(
      `${name}-workload-launcher`,
      ns,
      objectName("workloadLauncher"),
      labels("workload-launcher"),
      launcherSa,
      [
        {
          apiGroups: [""],
          resources: ["pods"],
          verbs: ["create", "delete", "get", "list", "patch", "watch"],
        },
      ],
      child,
    );
    // The bootloader checks it may create Secrets (a self access review needs no grant), creates
    // `airbyte-auth-secrets` if missing and otherwise reads it and replaces it (a PUT) with the
    // dataplane keys added. `create` cannot be limited by name; the rest is.
    roleFor(
      `${name}-bootloader`,
      ns,
      objectName("bootloader"),
      labels("bootloader"),
      bootloaderSa,
      [
        { apiGroups: [""], resources: ["secrets"], verbs: ["create"] },
        {
          apiGroups: [""],
          resources: ["secrets"],
          resourceNames: [AUTH_SECRET_NAME],
          verbs: ["get", "update"],
        },
      ],
      child,
    );

    // --- Secrets --------------------------------------------------------------------------
    const auth = args.authSecrets;
    const instanceSecret = opaqueSecret(
      `${name}-secrets`,
      {
        namespace: ns,
        name: `${inst}-airbyte-secrets`,
        labels: labels("airbyte-secrets"),
        data: {
          DATABASE_USER: args.database.user,
          DATABASE_PASSWORD: args.database.password,
          AWS_ACCESS_KEY_ID: args.storage.accessKeyId,
          AWS_SECRET_ACCESS_KEY: args.storage.secretAccessKey,
          // Seeds for the bootloader: it writes them into `airbyte-auth-secrets` on each run, so
          // the values there can never drift from the ones Pulumi holds.
          AB_INSTANCE_ADMIN_PASSWORD: auth.instanceAdminPassword,
          AB_INSTANCE_ADMIN_CLIENT_ID: auth.instanceAdminClientId,
          AB_INSTANCE_ADMIN_CLIENT_SECRET: auth.instanceAdminClientSecret,
          AB_JWT_SIGNATURE_SECRET: auth.jwtSignatureSecret,
          ...optional.secretData,
        },
      },
      child,
    );

    // `airbyte-auth-secrets` exists before the first bootloader run, with the shared values, so
    // prod and replica agree (DESIGN D2). The dataplane keys are not here: the bootloader creates
    // them with a dataplane and service account it registers in *this* database, and verifies an
    // existing pair against that database, so a value made up here would only be replaced.
    // Pulumi owns the four keys it writes; the bootloader's later update adds the other two, and
    // neither Pulumi's apply nor its diff removes keys it never wrote.
    const authValues = {
      "instance-admin-password": auth.instanceAdminPassword,
      "instance-admin-client-id": auth.instanceAdminClientId,
      "instance-admin-client-secret": auth.instanceAdminClientSecret,
      "jwt-signature-secret": auth.jwtSignatureSecret,
    };
    const authSecret = new k8s.core.v1.Secret(
      `${name}-auth-secrets`,
      {
        // patchForce: Pulumi's values win should the bootloader ever have written others.
        metadata: objectMeta(ns, AUTH_SECRET_NAME, labels("auth-secrets"), {
          "pulumi.com/patchForce": "true",
        }),
        type: "Opaque",
        stringData: pulumi.secret(authValues),
      },
      child,
    );
    // Only the keys Pulumi writes: the dataplane keys the bootloader adds are its own.
    trackData(authSecret, authValues);

    // --- Configuration --------------------------------------------------------------------
    const toText = (v: pulumi.Input<number | boolean>) => pulumi.output(v).apply(String);
    const databaseName = args.database.name ?? "db-airbyte";
    const databasePort = args.database.port ?? 5432;
    const serverUrl = pulumi.interpolate`http://${host("server")}:${SERVER_PORT}`;
    const config: Record<ConfigKey, pulumi.Input<string>> = {
      AIRBYTE_EDITION: "community",
      AIRBYTE_VERSION,
      AIRBYTE_CLUSTER_TYPE: "hybrid",
      AIRBYTE_URL: args.airbyteUrl,
      // Used in the public API's paging links, so the external URL (upstream's community default
      // of localhost:8001 only works on a laptop).
      AIRBYTE_API_HOST: pulumi.interpolate`${args.airbyteUrl}/api/public`,
      AIRBYTE_SERVER_HOST: pulumi.interpolate`${host("server")}:${SERVER_PORT}`,
      API_AUTHORIZATION_ENABLED: toText(args.apiAuthorizationEnabled ?? false),
      CONNECTOR_BUILDER_SERVER_API_HOST: pulumi.interpolate`http://${host("connectorBuilderServer")}:${BUILDER_SERVICE_PORT}`,
      INTERNAL_API_HOST: serverUrl,
      LOCAL: "false",
      AB_COOKIE_SECURE: "true",
      AB_COOKIE_SAME_SITE: "Strict",
      // Left enabled: the bootloader must add the dataplane keys itself (see above).
      AB_AUTH_SECRET_CREATION_ENABLED: "true",
      AB_KUBERNETES_SECRET_NAME: AUTH_SECRET_NAME,
      AB_INSTANCE_ADMIN_PASSWORD_SECRET_KEY: "instance-admin-password",
      AB_INSTANCE_ADMIN_CLIENT_ID_SECRET_KEY: "instance-admin-client-id",
      AB_INSTANCE_ADMIN_CLIENT_SECRET_SECRET_KEY: "instance-admin-client-secret",
      AB_JWT_SIGNATURE_SECRET_KEY: "jwt-signature-secret",
      DATAPLANE_CLIENT_ID_SECRET_KEY: "dataplane-client-id",
      DATAPLANE_CLIENT_SECRET_SECRET_KEY: "dataplane-client-secret",
      IDENTITY_PROVIDER_TYPE: "simple",
      AB_AIRBYTE_AUTH_IDENTITY_PROVIDER_VERIFY_ISSUER: "false",
      AB_AIRBYTE_AUTH_IDENTITY_PROVIDER_VERIFY_AUDIENCE: "false",
      DATABASE_HOST: args.database.host,
      DATABASE_PORT: toText(databasePort),
      DATABASE_DB: databaseName,
      DATABASE_URL: databaseUrl(
        args.database.host,
        databasePort,
        databaseName,
        args.database.jdbcParameters,
      ),
      RUN_DATABASE_MIGRATION_ON_STARTUP: "true",
      CONFIGS_DATABASE_MINIMUM_FLYWAY_MIGRATION_VERSION: "0.35.15.001",
      JOBS_DATABASE_MINIMUM_FLYWAY_MIGRATION_VERSION: "0.29.15.001",
      STORAGE_TYPE: "minio",
      STORAGE_BUCKET_ACTIVITY_PAYLOAD: args.storage.bucket,
      STORAGE_BUCKET_AUDIT_LOGGING: args.storage.bucket,
      STORAGE_BUCKET_LOG: args.storage.bucket,
      STORAGE_BUCKET_STATE: args.storage.bucket,
      STORAGE_BUCKET_WORKLOAD_OUTPUT: args.storage.bucket,
      MINIO_ENDPOINT: args.storage.endpoint,
      S3_PATH_STYLE_ACCESS: "true",
      TEMPORAL_HOST: args.temporalHost,
      // Space-separated, as the chart renders them.
      TEMPORAL_WORKER_PORTS: Array.from({ length: 41 }, (_, i) => 9000 + i).join(" "),
      JOB_KUBE_SERVICEACCOUNT: jobSa.metadata.name,
      JOB_KUBE_LOCAL_VOLUME_ENABLED: "false",
      JOB_ERROR_REPORTING_STRATEGY: "logging",
      LOG_LEVEL: args.logLevel ?? "INFO",
      MICROMETER_METRICS_ENABLED: "false",
      MICROMETER_METRICS_OTLP_ENABLED: "false",
      MICROMETER_METRICS_STATSD_ENABLED: "false",
      MICROMETER_METRICS_STATSD_FLAVOR: "datadog",
      MICROMETER_METRICS_STEP: "PT1M",
      PUBLISH_METRICS: "true",
      STATSD_PORT: "8125",
      MICRONAUT_ENVIRONMENTS: "k8s,control-plane,edition-community",
      // Explicit (pitfall 10): connector credentials live in `db-airbyte`'s `secrets` table, so
      // they travel with the database to a replica.
      SECRET_PERSISTENCE: "TESTING_CONFIG_DB_TABLE",
      // Only the strategy picks Segment's client, which refuses an empty key at start-up
      // (airbyte-platform v2.0.0, airbyte-analytics TrackingClient.kt); the launcher copies both
      // into every orchestrator pod. The key is the chart's (2.0.19 `_tracking.tpl`), shipped
      // either way as the chart does: with tracking off it is never used.
      TRACKING_ENABLED: toText(args.trackingEnabled ?? true),
      TRACKING_STRATEGY: pulumi
        .output(args.trackingEnabled ?? true)
        .apply((on) => (on ? "segment" : "logging")),
      SEGMENT_WRITE_KEY: SEGMENT_WRITE_KEY,
      CONFIG_ROOT: "/configs",
      MAX_CHECK_WORKERS: "30",
      MAX_NOTIFY_WORKERS: "30",
      MAX_SYNC_WORKERS: "5",
      SYNC_JOB_MAX_ATTEMPTS: "3",
      SYNC_JOB_MAX_TIMEOUT_DAYS: "3",
      SYNC_JOB_INIT_RETRY_TIMEOUT_MINUTES: "5",
      USE_CUSTOM_NODE_SELECTOR: "false",
      USE_STREAM_CAPABLE_STATE: "true",
      WORKSPACE_DOCKER_MOUNT: "airbyte_workspace",
      WORKSPACE_ROOT: "/workspace",
      WORKER_ENVIRONMENT: "kubernetes",
      CONNECTOR_SPECIFIC_RESOURCE_DEFAULTS_ENABLED: "true",
      JOB_MAIN_CONTAINER_CPU_REQUEST: jobResources.cpuRequest,
      JOB_MAIN_CONTAINER_CPU_LIMIT: jobResources.cpuLimit,
      JOB_MAIN_CONTAINER_MEMORY_REQUEST: jobResources.memoryRequest,
      JOB_MAIN_CONTAINER_MEMORY_LIMIT: jobResources.memoryLimit,
      FILE_TRANSFER_EPHEMERAL_STORAGE_LIMIT: "5G",
      FILE_TRANSFER_EPHEMERAL_STORAGE_REQUEST: "5G",
      WORKLOAD_API_SERVER_ENABLED: "true",
      WORKLOAD_API_HOST: pulumi.interpolate`http://${host("workloadApiServer")}:${WORKLOAD_API_SERVICE_PORT}`,
      KUBERNETES_CLIENT_MAX_IDLE_CONNECTIONS: "100",
      PUB_SUB_ENABLED: "false",
      // The chart's flags without its Datadog agent and profiler, which need a Datadog agent we
      // do not run: 75% of the pod's memory for the heap, and exit (not limp on) when it is out.
      CONTAINER_ORCHESTRATOR_JAVA_OPTS: "-XX:+ExitOnOutOfMemoryError -XX:MaxRAMPercentage=75.0",
      CONTAINER_ORCHESTRATOR_SECRET_MOUNT_PATH: "/secrets/gcp-creds",
      CONTAINER_ORCHESTRATOR_DATA_PLANE_CREDS_SECRET_KEY: "sa.json",
      CONTAINER_ORCHESTRATOR_DATA_PLANE_CREDS_SECRET_MOUNT_PATH: "/secrets/dataplane-creds",
      DATA_CHECK_TASK_QUEUES: "CHECK_CONNECTION",
      DATA_DISCOVER_TASK_QUEUES: "DISCOVER_SCHEMA",
      DATA_SYNC_TASK_QUEUES: "SYNC",
      CONTROL_PLANE_TOKEN_ENDPOINT: pulumi.interpolate`${serverUrl}/api/v1/dataplanes/token`,
      WORKLOAD_LAUNCHER_ENABLED: "true",
      WORKLOAD_LAUNCHER_PARALLELISM: "10",
      DATAPLANE_CLIENT_ID_SECRET_NAME: AUTH_SECRET_NAME,
      DATAPLANE_CLIENT_SECRET_SECRET_NAME: AUTH_SECRET_NAME,
      CONNECTOR_PROFILER_IMAGE: airbyteImage("async-profiler"),
      CONNECTOR_SIDECAR_IMAGE: airbyteImage("connector-sidecar"),
      CONTAINER_ORCHESTRATOR_ENABLED: "true",
      CONTAINER_ORCHESTRATOR_IMAGE: airbyteImage("container-orchestrator"),
      WORKLOAD_INIT_IMAGE: airbyteImage("workload-init-container"),
      CLUSTER_TYPE: "hybrid",
      CONTROL_PLANE_AUTH_ENDPOINT: args.airbyteUrl,
      CONNECTOR_REGISTRY_SEED_PROVIDER: "remote",
      ENTERPRISE_SOURCE_STUBS_URL:
        "https://connectors.airbyte.com/files/resources/connector_stubs/v1/connector_stubs.json",
      FEATURE_FLAG_CLIENT: "configfile",
      FEATURE_FLAG_PATH: `${FLAGS_DIR}/${FLAGS_KEY}`,
      UPDATE_DEFINITIONS_CRON_ENABLED: "true",
      RUN_DECLARATIVE_SOURCES_UPDATER: "true",
      AUDIT_LOGGING_ENABLED: "false",
      CONFIG_DB_MAX_POOL_SIZE: "20",
      GCS_DATA_SALES_CUSTOMER_ATTRIBUTES_OBJECT_PREFIX: "data/sales_customer_attributes",
      WEBAPP_DATADOG_SERVICE: "airbyte-webapp",
      WEBAPP_DATADOG_SITE: "datadoghq.com",
    };

    // The optional settings add keys and may replace base values (e.g. MICROMETER_METRICS_ENABLED).
    const env: Record<string, pulumi.Input<string>> = { ...config, ...optional.config };
    const keysOf = (svc: PlatformService): string[] =>
      [...new Set<string>([...configKeysOf(svc), ...optional.keysOf(svc)])].sort();

    // One ConfigMap; each container picks its keys with configMapKeyRef rather than envFrom, so
    // every service sees only what upstream gives it (the bootloader, for one, gets no storage or
    // worker settings) and tests can check each list.
    const configMap = new k8s.core.v1.ConfigMap(
      `${name}-env`,
      {
        metadata: objectMeta(ns, `${inst}-airbyte-env`, labels("airbyte-env")),
        data: { ...env, [FLAGS_KEY]: flags },
      },
      child,
    );

    // --- Workloads ------------------------------------------------------------------------
    const secretRefs = secretEnvGroups(instanceSecret.metadata.name, authSecret.metadata.name);
    // The Secrets a service reads, for the digest on its pod template (lib/kube.ts `reads`); the
    // ConfigMap's keys have their own, per service (`checksum/config`).
    const secretsOf = (svc: PlatformService): pulumi.Resource[] => {
      const groups = SERVICE_ENV[svc].secrets;
      return [
        ...(groups.some((g) => SECRET_OF_GROUP[g] === "instance") ? [instanceSecret] : []),
        ...(groups.some((g) => SECRET_OF_GROUP[g] === "auth") ? [authSecret] : []),
      ];
    };
    const envOf = (svc: PlatformService): EnvVar[] => {
      const spec = SERVICE_ENV[svc];
      const env = [
        ...keysOf(svc).map((k) => configMapEnv(k, configMap.metadata.name)),
        ...spec.secrets.flatMap((g) => secretRefs[g]),
        ...optional
          .secretKeysOf(svc)
          .map(([n, key]) => secretEnv(n, instanceSecret.metadata.name, key)),
        ...(spec.jobNamespace ? [fieldEnv("JOB_KUBE_NAMESPACE", "metadata.namespace")] : []),
        // The node's StatsD agent, as the chart points the metrics group at it.
        ...(spec.config.includes("metrics") ? [fieldEnv("STATSD_HOST", "status.hostIP")] : []),
      ];
      return env.sort((a, b) => (a.name < b.name ? -1 : 1));
    };
    // Env read from a ConfigMap is fixed at container start: a digest of the values a service
    // reads, on its pod template, rolls it when one of them changes (and re-runs the bootloader).
    const configDigest = (svc: PlatformService) =>
      pulumi.all([pulumi.all(keysOf(svc).map((k) => env[k])), flags]).apply(([values, flagsFile]) =>
        crypto
          .createHash("sha256")
          .update(JSON.stringify([keysOf(svc), values, flagsFile]))
          .digest("hex"),
      );
    // Root filesystems are read-only; the JVMs write temp files (and the builder its manifests)
    // under /tmp, and WORKSPACE_ROOT/CONFIG_ROOT get scratch space for services that have them.
    // The image's entrypoint rewrites the trust store at start: see ./airbyte/ca-trust.
    const trust = caTrust(args.caBundleSecretName);
    const volumesOf = (svc: PlatformService): { volumes: Volume[]; mounts: VolumeMount[] } => {
      const dirs: [string, string][] = [["tmp", "/tmp"]];
      if (SERVICE_ENV[svc].config.includes("workerTuning")) {
        dirs.push(["workspace", "/workspace"], ["configs", "/configs"]);
      }
      return {
        volumes: [
          ...dirs.map(([n]) => scratchVolume(n)),
          ...trust.volumes,
          {
            name: "flags",
            configMap: {
              name: configMap.metadata.name,
              items: [{ key: FLAGS_KEY, path: FLAGS_KEY }],
            },
          },
        ],
        mounts: [
          ...dirs.map(([n, path]) => ({ name: n, mountPath: path })),
          trust.mount,
          // Pods roll when the flags change (the digest includes them): the flag client's file
          // watcher looks for `flags.yml` events, which Kubernetes' symlink swap does not raise.
          { name: "flags", mountPath: FLAGS_DIR, readOnly: true },
        ],
      };
    };
    const containerOf = (svc: PlatformService, extra: Partial<Container>): Container => ({
      name: OBJECT_SUFFIX[svc],
      image: airbyteImage(OBJECT_SUFFIX[svc]),
      env: envOf(svc),
      resources: resources(resourceBounds[svc]),
      securityContext: containerSecurityContext(),
      volumeMounts: volumesOf(svc).mounts,
      ...extra,
    });

    if (active) {
      this.bootloader = job(
        `${name}-bootloader`,
        {
          namespace: ns,
          // The version in the name makes an upgrade a new Job, so the bootloader runs again.
          name: `${objectName("bootloader")}-${AIRBYTE_VERSION.replace(/\./g, "-")}`,
          labels: labels("bootloader"),
          securityContext: podSecurityContext(AIRBYTE_UID),
          serviceAccountName: bootloaderSa.metadata.name,
          podAnnotations: { "checksum/config": configDigest("bootloader") },
          // A failed pod stays for its logs; a handful of retries covers a database still starting.
          restartPolicy: "Never",
          backoffLimit: 4,
          initContainers: [trust.initContainer(airbyteImage(OBJECT_SUFFIX.bootloader))],
          // Flyway migrations on a large database take a while; Pulumi's wait derives from this.
          activeDeadlineSeconds: BOOTLOADER_DEADLINE_SECONDS,
          containers: [
            containerOf("bootloader", {
              ports: [{ name: "management", containerPort: MANAGEMENT_PORT }],
            }),
          ],
          volumes: volumesOf("bootloader").volumes,
        },
        {
          ...child,
          dependsOn: [authSecret, instanceSecret, configMap],
        },
      );
    }

    const runtime = runtimes();
    const replicaCount = (svc: ScalableService): pulumi.Input<number> =>
      active ? checkedReplicas(name, svc, args.replicas?.[svc] ?? 1) : 0;
    const startup = (p: Probe): Probe => ({ ...p, periodSeconds: 10, failureThreshold: 30 });
    const workload = (
      svc: Exclude<PlatformService, "bootloader">,
      replicas: pulumi.Input<number>,
      extra: {
        strategy?: "Recreate";
        minReadySeconds?: number;
        serviceAccountName?: pulumi.Input<string>;
      } = {},
    ) => {
      const rt = runtime[svc];
      return deployment(
        `${name}-${OBJECT_SUFFIX[svc]}`,
        {
          namespace: ns,
          name: objectName(svc),
          labels: labels(OBJECT_SUFFIX[svc]),
          replicas,
          ...extra,
          securityContext: podSecurityContext(AIRBYTE_UID),
          podAnnotations: { "checksum/config": configDigest(svc) },
          initContainers: [trust.initContainer(airbyteImage(OBJECT_SUFFIX[svc]))],
          reads: secretsOf(svc),
          containers: [
            containerOf(svc, {
              ports: rt.ports,
              // A JVM start plus the schema checks can take minutes; liveness waits for it.
              startupProbe: startup(rt.liveness),
              livenessProbe: rt.liveness,
              readinessProbe: rt.readiness,
            }),
          ],
          volumes: volumesOf(svc).volumes,
        },
        // In place of Helm's pre-install hook: nothing starts before the bootloader has migrated
        // the database and written the dataplane keys the launcher reads.
        { ...child, dependsOn: this.bootloader ? [this.bootloader] : [] },
      );
    };

    this.deployments = {
      // Recreate, as upstream: during an upgrade no old server keeps answering against the schema
      // the bootloader has just migrated, and mixed versions never serve the UI side by side.
      server: workload("server", replicaCount("server"), {
        strategy: "Recreate",
        minReadySeconds: 30,
      }),
      worker: workload("worker", replicaCount("worker")),
      workloadLauncher: workload("workloadLauncher", replicaCount("workloadLauncher"), {
        serviceAccountName: launcherSa.metadata.name,
      }),
      workloadApiServer: workload("workloadApiServer", replicaCount("workloadApiServer")),
      // Exactly one, never two even during a rollout: its scheduled jobs (definition updates,
      // DB pruning, secret cleanup, workload monitoring) must not run twice.
      cron: workload("cron", active ? 1 : 0, { strategy: "Recreate" }),
      connectorBuilderServer: workload(
        "connectorBuilderServer",
        replicaCount("connectorBuilderServer"),
      ),
    };

    // Scalable services may run several replicas: drains evict them one at a time.
    for (const svc of SCALABLE) {
      podDisruptionBudget(
        `${name}-${OBJECT_SUFFIX[svc]}-pdb`,
        { namespace: ns, name: objectName(svc), labels: labels(OBJECT_SUFFIX[svc]) },
        child,
      );
    }

    const serverSvc = service(
      `${name}-server-svc`,
      {
        namespace: ns,
        name: objectName("server"),
        labels: labels("server"),
        ports: [{ name: "http", port: SERVER_PORT, targetPort: "http" }],
      },
      child,
    );
    // 8001 in front of 8007, as chart V2 does (reference §13).
    service(
      `${name}-workload-api-server-svc`,
      {
        namespace: ns,
        name: objectName("workloadApiServer"),
        labels: labels("workload-api-server"),
        ports: [{ name: "http", port: WORKLOAD_API_SERVICE_PORT, targetPort: "http" }],
      },
      child,
    );
    const builderSvc = service(
      `${name}-connector-builder-server-svc`,
      {
        namespace: ns,
        name: objectName("connectorBuilderServer"),
        labels: labels("connector-builder-server"),
        ports: [{ name: "http", port: BUILDER_SERVICE_PORT, targetPort: "http" }],
      },
      child,
    );

    this.serverServiceName = serverSvc.metadata.name;
    this.serverHost = serviceHost(serverSvc.metadata.name, ns);
    this.serverPort = pulumi.output(SERVER_PORT);
    this.connectorBuilderServiceName = builderSvc.metadata.name;
    this.connectorBuilderHost = serviceHost(builderSvc.metadata.name, ns);
    this.connectorBuilderPort = pulumi.output(BUILDER_SERVICE_PORT);
    this.serviceAccountName = launcherSa.metadata.name;
    this.jobServiceAccountName = jobSa.metadata.name;
    this.configMapName = configMap.metadata.name;
    this.secretName = instanceSecret.metadata.name;
    this.authSecretName = authSecret.metadata.name;
    this.namespace = pulumi.output(ns);
    this.role = pulumi.output(role);
    this.registerOutputs({
      serverServiceName: this.serverServiceName,
      serverHost: this.serverHost,
      serverPort: this.serverPort,
      connectorBuilderServiceName: this.connectorBuilderServiceName,
      connectorBuilderHost: this.connectorBuilderHost,
      connectorBuilderPort: this.connectorBuilderPort,
      serviceAccountName: this.serviceAccountName,
      jobServiceAccountName: this.jobServiceAccountName,
      configMapName: this.configMapName,
      secretName: this.secretName,
      authSecretName: this.authSecretName,
      namespace: this.namespace,
      role: this.role,
    });
  }
}

/** Secret-backed variables by group; names and keys from reference §4.1. */
/** Which Secret each group of {@link secretEnvGroups} comes from. */
const SECRET_OF_GROUP: Record<SecretGroup, "instance" | "auth"> = {
  database: "instance",
  storage: "instance",
  authSeeds: "instance",
  jwt: "auth",
  auth: "auth",
  dataplane: "auth",
};

function secretEnvGroups(
  instanceSecret: pulumi.Input<string>,
  authSecret: pulumi.Input<string>,
): Record<SecretGroup, EnvVar[]> {
  const fromInstance = (n: string) => secretEnv(n, instanceSecret, n);
  return {
    database: [fromInstance("DATABASE_USER"), fromInstance("DATABASE_PASSWORD")],
    storage: [fromInstance("AWS_ACCESS_KEY_ID"), fromInstance("AWS_SECRET_ACCESS_KEY")],
    jwt: [secretEnv("AB_JWT_SIGNATURE_SECRET", authSecret, "jwt-signature-secret")],
    auth: [
      secretEnv("AB_INSTANCE_ADMIN_PASSWORD", authSecret, "instance-admin-password"),
      secretEnv("AB_INSTANCE_ADMIN_CLIENT_ID", authSecret, "instance-admin-client-id"),
      secretEnv("AB_INSTANCE_ADMIN_CLIENT_SECRET", authSecret, "instance-admin-client-secret"),
    ],
    authSeeds: [
      fromInstance("AB_INSTANCE_ADMIN_PASSWORD"),
      fromInstance("AB_INSTANCE_ADMIN_CLIENT_ID"),
      fromInstance("AB_INSTANCE_ADMIN_CLIENT_SECRET"),
      fromInstance("AB_JWT_SIGNATURE_SECRET"),
    ],
    dataplane: [
      secretEnv("DATAPLANE_CLIENT_ID", authSecret, "dataplane-client-id"),
      secretEnv("DATAPLANE_CLIENT_SECRET", authSecret, "dataplane-client-secret"),
    ],
  };
}

/** A replica count, checked to be a whole number ≥ 0 (at once when known, else when resolved). */
function checkedReplicas(
  component: string,
  svc: ScalableService,
  n: pulumi.Input<number>,
): pulumi.Input<number> {
  const check = (v: number) => {
    if (!Number.isInteger(v) || v < 0) {
      throw new Error(
        `AirbytePlatform ${component}: replicas.${svc} must be a whole number >= 0, got ${v}`,
      );
    }
    return v;
  };
  return typeof n === "number" ? check(n) : pulumi.output(n).apply(check);
}

function validate(component: string, args: AirbytePlatformArgs): void {
  const role: string = args.role ?? "active";
  const fail = (arg: string, why: string) => {
    throw new Error(`AirbytePlatform ${component}: ${arg} ${why}`);
  };
  if (!INSTANCE_NAME.test(args.instanceName)) {
    fail(
      "instanceName",
      `must be a DNS label of at most 40 characters (derived names must fit 63), got "${args.instanceName}"`,
    );
  }
  if (role !== "active" && role !== "standby")
    fail("role", `must be "active" or "standby", got "${role}"`);
  for (const svc of Object.keys(args.replicas ?? {})) {
    if (!SCALABLE.includes(svc as ScalableService)) {
      fail(
        `replicas.${svc}`,
        `is not a scalable service (cron always runs one); use one of ${SCALABLE.join(", ")}`,
      );
    }
    const n = args.replicas?.[svc as ScalableService];
    if (n !== undefined) checkedReplicas(component, svc as ScalableService, n);
  }
  // Parameter names are usually known now even when values are not; check them at once.
  const params = args.database.jdbcParameters;
  if (typeof params === "string") jdbcQuery(params);
  else if (params && !pulumi.Output.isInstance(params)) {
    jdbcQuery(Object.fromEntries(Object.keys(params).map((k) => [k, ""])));
  }
  for (const svc of Object.keys(args.resources ?? {})) {
    if (!(svc in DEFAULT_RESOURCES)) fail(`resources.${svc}`, `is not a service of this component`);
  }
  const optionalProblems = optionalEnvProblems(args);
  if (optionalProblems.length) {
    throw new Error(`AirbytePlatform ${component}: ${optionalProblems.join("; ")}`);
  }
}

function serviceAccount(
  resourceName: string,
  namespace: pulumi.Input<string>,
  objectName: string,
  labels: LabelSpec,
  automount: boolean,
  opts: pulumi.CustomResourceOptions,
  annotations?: Record<string, string>,
): k8s.core.v1.ServiceAccount {
  return new k8s.core.v1.ServiceAccount(
    resourceName,
    {
      metadata: objectMeta(
        namespace,
        objectName,
        labels,
        annotations && Object.keys(annotations).length ? annotations : undefined,
      ),
      automountServiceAccountToken: automount,
    },
    opts,
  );
}

/** A namespaced Role with exactly `rules`, bound to one ServiceAccount. */
function roleFor(
  resourceName: string,
  namespace: pulumi.Input<string>,
  objectName: string,
  labels: LabelSpec,
  sa: k8s.core.v1.ServiceAccount,
  rules: k8s.types.input.rbac.v1.PolicyRule[],
  opts: pulumi.CustomResourceOptions,
): void {
  const role = new k8s.rbac.v1.Role(
    `${resourceName}-role`,
    { metadata: objectMeta(namespace, objectName, labels), rules },
    opts,
  );
  new k8s.rbac.v1.RoleBinding(
    `${resourceName}-rolebinding`,
    {
      metadata: objectMeta(namespace, objectName, labels),
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
      subjects: [{ kind: "ServiceAccount", name: sa.metadata.name, namespace }],
    },
    opts,
  );
}
