/**
 * v1 (DESIGN §1, D5, D6, D8): production exactly as in v0, plus the external PostgreSQL server
 * `core-worker-01`, the migration job that copies prod's database there on a schedule, and the
 * standby replica `airbyte-prod-backup-replica-2` on that server.
 *
 * Prod is built by the same `production(ctx)` call as in v0, with nothing added to its arguments,
 * so every v0 resource keeps its URN and its inputs; what prod's side needs (letting the migration
 * job reach prod's database) is a new object owned by the migration component.
 */
import { DbMigration, migrationNetwork } from "../components/db-migration";
import { EXTERNAL_DATABASES } from "../components/external-database";
import type { StackConfig } from "../infra/config";
import { StackContext, StackOutputs } from "./context";
import { PROD_INSTANCE, production } from "./prod";
import {
  REPLICA_INSTANCE,
  coreWorker01 as createCoreWorker01,
  podLabelsOf,
  standbyReplica,
} from "./standby";

export { CORE_WORKER, REPLICA_INSTANCE } from "./standby";

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

  const coreWorker01 = createCoreWorker01(ctx, coreWorker);
  const source = {
    namespace: config.prod.namespace,
    podLabels: podLabelsOf(PROD_INSTANCE, "postgres"),
    port: 5432,
  };

  const replica = standbyReplica(ctx, {
    prod,
    database: coreWorker01,
    coreWorker,
    replica: replicaConfig,
    network: migrationNetwork({
      instanceName: REPLICA_INSTANCE,
      source,
      target: { cidrs: coreWorker.cidrs, port: coreWorker.port },
    }),
  });

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
