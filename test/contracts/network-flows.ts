/**
 * Facts: the connections Airbyte 2.0 makes, and how its workload-launcher labels the pods it
 * creates, read from airbyte-platform at tag v2.0.0 (the closest tag to app 2.0.1, chart 2.0.19).
 * Paths are relative to that repository. The NetworkPolicy evaluation
 * (test/network-evaluation.test.ts) holds the rendered policies to these flows; nothing here is
 * taken from our own components.
 */

export const PROVENANCE = {
  repository: "github.com/airbytehq/airbyte-platform",
  tag: "v2.0.0",
} as const;

/**
 * Labels on every pod the launcher creates (PodLabeler.getSharedLabels): pass-through labels,
 * mutex_key, workload_id, auto_id, and the pod sweeper's `airbyte: job-pod`; then per kind.
 * Source: airbyte-workload-launcher/src/main/kotlin/pods/PodLabeler.kt and
 * airbyte-commons-worker/src/main/kotlin/io/airbyte/workers/pod/Metadata.kt.
 * Values of ids and image names below are examples.
 */
const SHARED = {
  airbyte: "job-pod",
  auto_id: "6a0c0f3e-0000-4000-8000-000000000001",
  workload_id: "example-workload",
  mutex_key: "example-connection",
};

/**
 * The namespace: `JOB_KUBE_NAMESPACE` (airbyte-workload-launcher/src/main/resources/
 * application.yml, `airbyte.worker.job.kubernetes.namespace`), used by KubePodLauncher.create.
 */
export const LAUNCHED_PODS: Record<string, Record<string, string>> = {
  "connector:check": { ...SHARED, job_type: "check" },
  "connector:discover": { ...SHARED, job_type: "discover" },
  "connector:spec": { ...SHARED, job_type: "spec" },
  // One pod: orchestrator, source and destination containers (ReplicationPodFactory.create).
  "connector:replication": {
    ...SHARED,
    job_type: "sync",
    sync_step: "replication",
    orchestrator_image_name: "container-orchestrator",
    orchestrator_image_version: "2.0.1",
    source_image_name: "source-postgres",
    source_image_version: "3.6.0",
    destination_image_name: "destination-s3",
    destination_image_version: "1.5.0",
  },
};

export const LAUNCHED_POD_ROLES = Object.keys(LAUNCHED_PODS);

/** Who needs whom, by role: an `app.kubernetes.io/name` of ours, or a launched pod kind. */
export interface NeededFlow {
  from: string[];
  /** A role, or `kubernetes-api`, `database` (wherever the instance's database is), `internet`. */
  to: string;
  /** Upstream's container port (micronaut.server.port or the image's default). */
  port: number;
  why: string;
  source: string;
}

const LAUNCHED = LAUNCHED_POD_ROLES;
const ENV = "airbyte-workload-launcher/src/main/kotlin/config/EnvVarConfigBeanFactory.kt";
const ORCH = "airbyte-workload-launcher/src/main/kotlin/config/OrchestratorEnvVarFactory.kt";

export const NEEDED_FLOWS: NeededFlow[] = [
  {
    from: LAUNCHED,
    to: "database",
    port: 5432,
    why: "init container reads connector secrets (SECRET_PERSISTENCE=TESTING_CONFIG_DB_TABLE gives it DATABASE_URL/USER/PASSWORD)",
    source: `${ENV} databaseEnvMap, initEnvVars; airbyte-workload-init-container/src/main/resources/application-local-secrets.yml`,
  },
  {
    from: LAUNCHED,
    to: "minio",
    port: 9000,
    why: "sidecar and orchestrator write logs and workload output to storage",
    source: `${ENV} sideCarEnvVars (storageEnvironmentVariableProvider); ${ORCH}`,
  },
  {
    from: LAUNCHED,
    to: "workload-api-server",
    port: 8007,
    why: "init, sidecar and orchestrator call the workload API (WORKLOAD_API_HOST)",
    source: `${ENV} workloadApiEnvMap; airbyte-workload-api-server/src/main/resources/application.yml micronaut.server.port`,
  },
  {
    from: LAUNCHED,
    to: "server",
    port: 8001,
    why: "init, sidecar and orchestrator call the internal API and its token endpoint (INTERNAL_API_HOST, CONTROL_PLANE_TOKEN_ENDPOINT)",
    source: `${ENV} apiClientEnvMap; airbyte-server/src/main/resources/application.yml micronaut.server.port`,
  },
  {
    from: ["server", "worker", "workload-launcher", "workload-api-server", "cron", "bootloader"],
    to: "database",
    port: 5432,
    why: "Airbyte's configs and jobs database (DATABASE_URL)",
    source:
      "charts/v2/airbyte/templates/config/_database.tpl; each service's application.yml datasources",
  },
  {
    from: ["temporal"],
    to: "database",
    port: 5432,
    why: "Temporal's persistence",
    source:
      "charts/v2/airbyte/templates/airbyte-temporal/deployment.yaml (airbyte.temporal.database.envs), containerPort 7233",
  },
  {
    from: ["server", "worker", "workload-launcher", "workload-api-server", "cron"],
    to: "temporal",
    port: 7233,
    why: "Temporal frontend (TEMPORAL_HOST)",
    source: "charts/v2/airbyte/templates/config/_temporal.tpl",
  },
  {
    from: ["temporal-ui", "temporal-admin-tools", "temporal-namespace"],
    to: "temporal",
    port: 7233,
    why: "Temporal's UI, CLI and the namespace job talk to its frontend",
    source: "temporalio/temporal v1.27.2 frontend port 7233",
  },
  {
    from: ["server", "worker", "workload-launcher", "minio-buckets"],
    to: "minio",
    port: 9000,
    why: "logs, state, workload output (STORAGE_*, MINIO_ENDPOINT)",
    source: "charts/v2/airbyte/templates/config/_storage.tpl, _minio.tpl",
  },
  {
    from: ["worker", "workload-launcher", "cron"],
    to: "workload-api-server",
    port: 8007,
    why: "workload claims, heartbeats, status (WORKLOAD_API_HOST)",
    source: "charts/v2/airbyte/templates/config/_workloadApiServer.tpl",
  },
  {
    from: [
      "worker",
      "workload-launcher",
      "workload-api-server",
      "cron",
      "connector-builder-server",
    ],
    to: "server",
    port: 8001,
    why: "internal API (INTERNAL_API_HOST) and the dataplane token endpoint",
    source: "charts/v2/airbyte/templates/config/_common.tpl INTERNAL_API_HOST",
  },
  {
    from: ["server"],
    to: "connector-builder-server",
    port: 8080,
    why: "CONNECTOR_BUILDER_SERVER_API_HOST",
    source:
      "airbyte-connector-builder-server/src/main/resources/application.yml micronaut.server.port",
  },
  {
    from: ["workload-launcher", "bootloader"],
    to: "kubernetes-api",
    port: 443,
    why: "the launcher creates and watches pods (KubePodLauncher); the bootloader writes airbyte-auth-secrets",
    source:
      "airbyte-workload-launcher/src/main/kotlin/pods/KubePodLauncher.kt; airbyte-bootloader (AB_KUBERNETES_SECRET_NAME)",
  },
  {
    from: ["oauth2-proxy"],
    to: "server",
    port: 8001,
    why: "signed-in users to the UI and API",
    source: "DESIGN D4 (our front door)",
  },
  {
    from: ["oauth2-proxy"],
    to: "connector-builder-server",
    port: 8080,
    why: "signed-in users to the Connector Builder",
    source: "DESIGN D4",
  },
  {
    from: ["oauth2-proxy"],
    to: "temporal-ui",
    port: 8080,
    why: "signed-in users to the Temporal UI",
    source: "DESIGN D4",
  },
];
