/**
 * Which of Airbyte's environment a service reads: the chart's variable groups (reference §4.1) and
 * the groups each service gets (reference §4.2).
 */
import type { PlatformService } from "../airbyte-platform";

/**
 * ConfigMap keys by the chart's groups (reference §4.1). Every key the chart 2.0.19 renders with
 * a non-empty default is here; keys it renders empty are left out (an absent variable lets the
 * app use its own default). Each other difference is in the reviewed table of
 * `test/contracts/chart/intended-differences.ts`, which the fidelity test holds this to.
 */
export const GROUPS = {
  common: [
    "AIRBYTE_EDITION",
    "AIRBYTE_VERSION",
    "AIRBYTE_CLUSTER_TYPE",
    "AIRBYTE_URL",
    "AIRBYTE_API_HOST",
    "AIRBYTE_SERVER_HOST",
    "API_AUTHORIZATION_ENABLED",
    "CONNECTOR_BUILDER_SERVER_API_HOST",
    "INTERNAL_API_HOST",
    "LOCAL",
  ],
  cookie: ["AB_COOKIE_SECURE", "AB_COOKIE_SAME_SITE"],
  authBootstrap: [
    "AB_AUTH_SECRET_CREATION_ENABLED",
    "AB_KUBERNETES_SECRET_NAME",
    "AB_INSTANCE_ADMIN_PASSWORD_SECRET_KEY",
    "AB_INSTANCE_ADMIN_CLIENT_ID_SECRET_KEY",
    "AB_INSTANCE_ADMIN_CLIENT_SECRET_SECRET_KEY",
    "AB_JWT_SIGNATURE_SECRET_KEY",
    "DATAPLANE_CLIENT_ID_SECRET_KEY",
    "DATAPLANE_CLIENT_SECRET_SECRET_KEY",
  ],
  identityProvider: [
    "IDENTITY_PROVIDER_TYPE",
    "AB_AIRBYTE_AUTH_IDENTITY_PROVIDER_VERIFY_ISSUER",
    "AB_AIRBYTE_AUTH_IDENTITY_PROVIDER_VERIFY_AUDIENCE",
  ],
  database: ["DATABASE_HOST", "DATABASE_PORT", "DATABASE_URL", "DATABASE_DB"],
  migrations: [
    "RUN_DATABASE_MIGRATION_ON_STARTUP",
    "CONFIGS_DATABASE_MINIMUM_FLYWAY_MIGRATION_VERSION",
    "JOBS_DATABASE_MINIMUM_FLYWAY_MIGRATION_VERSION",
  ],
  storage: [
    "STORAGE_TYPE",
    "STORAGE_BUCKET_ACTIVITY_PAYLOAD",
    "STORAGE_BUCKET_AUDIT_LOGGING",
    "STORAGE_BUCKET_LOG",
    "STORAGE_BUCKET_STATE",
    "STORAGE_BUCKET_WORKLOAD_OUTPUT",
    "MINIO_ENDPOINT",
    "S3_PATH_STYLE_ACCESS",
  ],
  temporal: ["TEMPORAL_HOST"],
  temporalWorker: ["TEMPORAL_WORKER_PORTS"],
  jobs: ["JOB_KUBE_SERVICEACCOUNT", "JOB_KUBE_LOCAL_VOLUME_ENABLED"],
  jobsErrors: ["JOB_ERROR_REPORTING_STRATEGY"],
  logging: ["LOG_LEVEL"],
  // Exporters stay off unless enabled; the chart renders their settings either way.
  metrics: [
    "MICROMETER_METRICS_ENABLED",
    "MICROMETER_METRICS_OTLP_ENABLED",
    "MICROMETER_METRICS_STATSD_ENABLED",
    "MICROMETER_METRICS_STATSD_FLAVOR",
    "MICROMETER_METRICS_STEP",
    "PUBLISH_METRICS",
    "STATSD_PORT",
  ],
  micronaut: ["MICRONAUT_ENVIRONMENTS"],
  secretsManager: ["SECRET_PERSISTENCE"],
  tracking: ["TRACKING_ENABLED", "TRACKING_STRATEGY", "SEGMENT_WRITE_KEY"],
  workerTuning: [
    "CONFIG_ROOT",
    "MAX_CHECK_WORKERS",
    "MAX_NOTIFY_WORKERS",
    "MAX_SYNC_WORKERS",
    "SYNC_JOB_MAX_ATTEMPTS",
    "SYNC_JOB_MAX_TIMEOUT_DAYS",
    "SYNC_JOB_INIT_RETRY_TIMEOUT_MINUTES",
    "USE_CUSTOM_NODE_SELECTOR",
    "USE_STREAM_CAPABLE_STATE",
    "WORKSPACE_DOCKER_MOUNT",
    "WORKSPACE_ROOT",
    "WORKER_ENVIRONMENT",
  ],
  workloadResources: [
    "CONNECTOR_SPECIFIC_RESOURCE_DEFAULTS_ENABLED",
    "JOB_MAIN_CONTAINER_CPU_REQUEST",
    "JOB_MAIN_CONTAINER_CPU_LIMIT",
    "JOB_MAIN_CONTAINER_MEMORY_REQUEST",
    "JOB_MAIN_CONTAINER_MEMORY_LIMIT",
    "FILE_TRANSFER_EPHEMERAL_STORAGE_LIMIT",
    "FILE_TRANSFER_EPHEMERAL_STORAGE_REQUEST",
  ],
  workloadApi: ["WORKLOAD_API_SERVER_ENABLED", "WORKLOAD_API_HOST"],
  workloads: [
    "KUBERNETES_CLIENT_MAX_IDLE_CONNECTIONS",
    "PUB_SUB_ENABLED",
    // The orchestrator pods' JVM flags (heap share, exit on OOM), read by the launcher.
    "CONTAINER_ORCHESTRATOR_JAVA_OPTS",
    "CONTAINER_ORCHESTRATOR_SECRET_MOUNT_PATH",
    "CONTAINER_ORCHESTRATOR_DATA_PLANE_CREDS_SECRET_KEY",
    "CONTAINER_ORCHESTRATOR_DATA_PLANE_CREDS_SECRET_MOUNT_PATH",
  ],
  queues: ["DATA_CHECK_TASK_QUEUES", "DATA_DISCOVER_TASK_QUEUES", "DATA_SYNC_TASK_QUEUES"],
  launcher: [
    "CONTROL_PLANE_TOKEN_ENDPOINT",
    "WORKLOAD_LAUNCHER_ENABLED",
    "WORKLOAD_LAUNCHER_PARALLELISM",
  ],
  launcherDataplane: [
    "DATAPLANE_CLIENT_ID_SECRET_NAME",
    "DATAPLANE_CLIENT_ID_SECRET_KEY",
    "DATAPLANE_CLIENT_SECRET_SECRET_NAME",
    "DATAPLANE_CLIENT_SECRET_SECRET_KEY",
  ],
  launcherImages: [
    "CONNECTOR_PROFILER_IMAGE",
    "CONNECTOR_SIDECAR_IMAGE",
    "CONTAINER_ORCHESTRATOR_ENABLED",
    "CONTAINER_ORCHESTRATOR_IMAGE",
    "WORKLOAD_INIT_IMAGE",
  ],
  cluster: ["CLUSTER_TYPE", "CONTROL_PLANE_AUTH_ENDPOINT"],
  connector: ["CONNECTOR_REGISTRY_SEED_PROVIDER", "ENTERPRISE_SOURCE_STUBS_URL"],
  // Upstream gives the flag file settings to the bootloader and cron only; every service here
  // gets them (and the mounted file) so a flag set in `featureFlags` applies everywhere alike.
  featureFlags: ["FEATURE_FLAG_CLIENT", "FEATURE_FLAG_PATH"],
  cron: ["UPDATE_DEFINITIONS_CRON_ENABLED", "RUN_DECLARATIVE_SOURCES_UPDATER"],
  server: [
    "AUDIT_LOGGING_ENABLED",
    "CONFIG_DB_MAX_POOL_SIZE",
    "GCS_DATA_SALES_CUSTOMER_ATTRIBUTES_OBJECT_PREFIX",
    "WEBAPP_DATADOG_SERVICE",
    "WEBAPP_DATADOG_SITE",
  ],
} as const satisfies Record<string, readonly string[]>;

export type Group = keyof typeof GROUPS;
export type ConfigKey = (typeof GROUPS)[Group][number];

/** Secret-backed variables, by where they come from (reference §4.1). */
export type SecretGroup = "database" | "storage" | "jwt" | "auth" | "authSeeds" | "dataplane";

/** What one service reads; mirrors the chart's per-service group lists (reference §4.2). */
export interface ServiceEnv {
  config: Group[];
  secrets: SecretGroup[];
  /** Gets `JOB_KUBE_NAMESPACE` from its own namespace. */
  jobNamespace: boolean;
  /** Extra ConfigMap keys outside its groups. */
  extraKeys?: ConfigKey[];
}

export const SERVICE_ENV: Record<PlatformService, ServiceEnv> = {
  // The bootloader gets the version only, not the full common group (chart behaviour), and the
  // secret store type, which it writes into the default secret-storage row: absent, it logs a
  // warning and falls back to the same value.
  bootloader: {
    config: [
      "identityProvider",
      "authBootstrap",
      "connector",
      "database",
      "featureFlags",
      "logging",
      "micronaut",
      "secretsManager",
    ],
    extraKeys: ["AIRBYTE_VERSION", "RUN_DATABASE_MIGRATION_ON_STARTUP"],
    secrets: ["database", "authSeeds"],
    jobNamespace: true,
  },
  server: {
    config: [
      "cookie",
      "common",
      "cluster",
      "connector",
      "database",
      "migrations",
      "featureFlags",
      "jobs",
      "jobsErrors",
      "logging",
      "metrics",
      "micronaut",
      "secretsManager",
      "server",
      "storage",
      "temporal",
      "tracking",
      "workerTuning",
      "workloadResources",
    ],
    secrets: ["auth", "jwt", "database", "storage"],
    jobNamespace: true,
  },
  worker: {
    config: [
      "common",
      "database",
      "migrations",
      "featureFlags",
      "jobs",
      "jobsErrors",
      "logging",
      "metrics",
      "micronaut",
      "secretsManager",
      "storage",
      "temporal",
      "temporalWorker",
      "tracking",
      "workerTuning",
      "workloadResources",
      "workloadApi",
    ],
    extraKeys: ["CONTAINER_ORCHESTRATOR_ENABLED"],
    secrets: ["jwt", "database", "storage"],
    jobNamespace: true,
  },
  // No JWT key: the launcher authenticates with the dataplane client credentials.
  workloadLauncher: {
    config: [
      "cluster",
      "common",
      "database",
      "migrations",
      "featureFlags",
      "jobs",
      "jobsErrors",
      "logging",
      "metrics",
      "micronaut",
      "storage",
      "secretsManager",
      "temporal",
      "temporalWorker",
      "tracking",
      "workerTuning",
      "workloadApi",
      "workloads",
      "queues",
      "workloadResources",
      "launcher",
      "launcherDataplane",
      "launcherImages",
    ],
    secrets: ["database", "storage", "dataplane"],
    jobNamespace: true,
  },
  workloadApiServer: {
    config: [
      "common",
      "database",
      "featureFlags",
      "metrics",
      "logging",
      "micronaut",
      "temporal",
      "workloadApi",
    ],
    secrets: ["jwt", "database"],
    jobNamespace: false,
  },
  // Upstream gives cron no LOG_LEVEL; here `logLevel` applies to every service.
  cron: {
    config: [
      "common",
      "connector",
      "cron",
      "database",
      "migrations",
      "featureFlags",
      "logging",
      "metrics",
      "micronaut",
      "secretsManager",
      "temporal",
      "tracking",
      "workerTuning",
      "workloadApi",
    ],
    secrets: ["jwt", "database"],
    jobNamespace: false,
  },
  // No database: the builder talks to the server only.
  connectorBuilderServer: {
    config: ["cookie", "common", "featureFlags", "logging", "metrics", "micronaut", "tracking"],
    secrets: ["jwt"],
    jobNamespace: false,
  },
};

/** The ConfigMap keys a service reads, in a stable order. */
export function configKeysOf(svc: PlatformService): ConfigKey[] {
  const spec = SERVICE_ENV[svc];
  const keys = new Set<ConfigKey>([
    ...spec.config.flatMap((g) => GROUPS[g] as readonly ConfigKey[]),
    ...(spec.extraKeys ?? []),
  ]);
  return [...keys].sort();
}
