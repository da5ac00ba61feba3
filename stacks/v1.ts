/**
 * v1 (DESIGN §1, D5, D6, D8): production exactly as in v0, plus the external PostgreSQL server
 * `core-worker-01`, the migration job that copies prod's database there on a schedule, and the
 * standby replica `airbyte-prod-backup-replica-2` on that server.
 *
 * Prod is built by the same `production(ctx)` call as in v0, with nothing added to its arguments,
 * so every v0 resource keeps its URN and its inputs; what prod's side needs (letting the migration
 * job reach prod's database) is a new object owned by the migration component.
 */
import { AirbyteInstance } from "../components/airbyte-instance";
import { DbMigration, migrationNetwork } from "../components/db-migration";
import { EXTERNAL_DATABASES, ExternalDatabase } from "../components/external-database";
import { instanceGroups } from "../components/network-policies";
import type { StackConfig } from "../infra/config";
import { StackContext, StackOutputs } from "./context";
import { PROD_INSTANCE, production } from "./prod";

export const REPLICA_INSTANCE = "airbyte-prod-backup-replica-2";
export const CORE_WORKER = "core-worker-01";

/** The v1 sections of the config; parseConfig guarantees them for topology v1. */
function v1Sections(config: StackConfig) {
  const { coreWorker, replica, migration } = config;
  if (!coreWorker || !replica || !migration) {
    throw new Error("internal: v1 config sections missing (parseConfig fills them for v1)");
  }
  return { coreWorker, replica, migration };
}

export function v1(ctx: StackContext): StackOutputs {
  const { config } = ctx;
  const { coreWorker, replica: replicaConfig, migration: migrationConfig } = v1Sections(config);
  const prod = production(ctx);
  const prodDb = prod.instance.bundledDatabase;
  if (!prodDb) throw new Error("internal: v1 copies from prod's bundled database");
  const kube = { providers: [ctx.kubernetes] };

  const coreWorker01 = new ExternalDatabase(
    CORE_WORKER,
    {
      host: coreWorker.host,
      port: coreWorker.port,
      adminUser: coreWorker.adminUser,
      adminPassword: coreWorker.adminPassword,
      adminIsSuperuser: coreWorker.adminSuperuser,
      sslMode: coreWorker.sslMode,
    },
    kube,
  );

  const prodDbPods = instanceGroups(PROD_INSTANCE).find((g) => g.name === "postgres");
  if (!prodDbPods) throw new Error("internal: no postgres pod group");
  const source = {
    namespace: config.prod.namespace,
    podLabels: prodDbPods.matchLabels,
    port: 5432,
  };

  const replica = new AirbyteInstance(
    REPLICA_INSTANCE,
    {
      instanceName: REPLICA_INSTANCE,
      namespace: replicaConfig.namespace,
      host: replicaConfig.host,
      role: replicaConfig.role,
      // The same generated values as prod, so a promoted replica accepts what prod issued (D2).
      authSecrets: prod.authSecrets,
      database: {
        kind: "external",
        connection: {
          host: coreWorker01.host,
          port: coreWorker01.port,
          user: coreWorker01.airbyteUser,
          password: coreWorker01.airbytePassword,
          // Resolves once the databases and grants exist, so nothing connects before them.
          airbyteDatabase: coreWorker01.databases.apply((d) => d.airbyte),
          sslMode: coreWorker.sslMode,
          networkCidrs: coreWorker.cidrs,
        },
      },
      storage: { size: config.storage.size, logRetentionDays: config.storage.logRetentionDays },
      storageClassName: config.storageClassName,
      // Same OAuth client as prod; the replica's callback URL must be registered with it.
      oauth: { ...config.oauth, replicas: config.oauth2ProxyReplicas },
      ingress: {
        allowedSourceRanges: config.ingress.allowedSourceRanges,
        className: config.ingress.className,
        // Its own certificate (`<instance>-tls`): tlsSecretName is prod's host's.
        certManagerClusterIssuer: config.ingress.certManagerClusterIssuer,
        proxyTimeoutSeconds: config.ingress.proxyReadTimeoutSeconds,
        proxyBodySizeMb: config.ingress.proxyBodySizeMb,
      },
      replicas: config.replicas,
      network: {
        ingressControllerNamespace: config.ingress.controllerNamespace,
        ...migrationNetwork({
          instanceName: REPLICA_INSTANCE,
          source,
          target: { cidrs: coreWorker.cidrs, port: coreWorker.port },
        }),
      },
    },
    // Temporal and the platform start only once core-worker-01's roles and databases exist.
    { ...kube, dependsOn: [coreWorker01] },
  );

  const migration = new DbMigration(
    "db-migration",
    {
      namespace: replica.namespace,
      instanceName: REPLICA_INSTANCE,
      image: migrationConfig.image,
      schedule: migrationConfig.schedule,
      // An active replica writes to core-worker-01 itself: a copy would overwrite its data (D8).
      suspend: migrationConfig.suspend || replicaConfig.role === "active",
      source: {
        host: prodDb.host,
        port: prodDb.port,
        user: prodDb.username,
        password: prodDb.password,
        // In-cluster traffic to the bundled server, which has no TLS (as prod's own clients).
        sslMode: "disable",
      },
      target: {
        host: coreWorker01.host,
        port: coreWorker01.port,
        user: coreWorker01.migrationUser,
        password: coreWorker01.migrationPassword,
        sslMode: coreWorker.sslMode,
      },
      owner: coreWorker01.roleNames.airbyte,
      databases: [EXTERNAL_DATABASES.airbyte],
      jobs: migrationConfig.jobs,
      sourcePods: { ...source, instanceName: PROD_INSTANCE },
    },
    { ...kube, dependsOn: [coreWorker01] },
  );

  return {
    topology: "v1",
    url: prod.instance.url,
    namespace: prod.instance.namespace,
    services: prod.instance.serviceNames,
    replicaUrl: replica.url,
    replicaNamespace: replica.namespace,
    replicaRole: replica.role,
    replicaServices: replica.serviceNames,
    coreWorkerHost: coreWorker01.host,
    migrationCronJob: migration.cronJobName,
    migrationSchedule: migration.schedule,
    migrationSuspended: migration.suspended,
    migrationManualRun: migration.manualRunCommand,
  };
}
