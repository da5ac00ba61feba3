/**
 * v2 (DESIGN §1, D5-D8, D10): prod, its database set up for logical replication; the replication
 * hub that subscribes to prod and republishes to `core-worker-01`; core-worker-01's subscription
 * as code; the standby replica on core-worker-01 as in v1; a CronJob mirroring prod's MinIO to
 * the replica's. No periodic copy: v2 replicates (D6).
 *
 * What moving v1 → v2 changes on prod (test/topology-move-v2.test.ts proves the exact set):
 * - prod's database StatefulSet gets the logical-replication settings (an in-place UPDATE: the
 *   pod restarts once; no replacement, the volume stays);
 * - NEW NetworkPolicies in prod's namespace admitting the hub, the setup Job and the object
 *   mirror to prod's database and MinIO.
 * Component names are v1's, so core-worker-01 and the replica keep their URNs; v1's copy CronJob
 * goes.
 *
 * `activeInstance: replica` (after `airbyte-migrate failover`) moves prod's public host: prod's
 * Ingress goes and the replica's Ingress, OAuth2 Proxy and Airbyte URL take prod's host, with the
 * TLS Secret name prod's host used (which must exist in the replica's namespace).
 */
import { EXTERNAL_DATABASES } from "../components/external-database";
import { ObjectMirror, objectMirrorNetwork } from "../components/object-mirror";
import { LOGICAL_REPLICATION_SETTINGS, ReplicationHub } from "../components/replication-hub";
import type { StackConfig } from "../infra/config";
import { StackContext, StackOutputs } from "./context";
import { PROD_INSTANCE, production } from "./prod";
import {
  REPLICA_INSTANCE,
  coreWorker01 as createCoreWorker01,
  podLabelsOf,
  standbyReplica,
} from "./standby";

export const HUB_INSTANCE = "airbyte-replication-hub";

/**
 * What prod's bundled server gets in v2: a logical-replication publisher, and a bound on the WAL
 * a stalled slot may hold (the hub's), so a dead hub cannot fill prod's disk; past it the slot is
 * invalidated and the chain is re-seeded (docs/replication.md).
 */
export const PROD_REPLICATION_SETTINGS: Record<string, string> = {
  ...LOGICAL_REPLICATION_SETTINGS,
  max_slot_wal_keep_size: "4GB",
};

/** The v2 sections of the config; parseConfig guarantees them for topology v2. */
function v2Sections(config: StackConfig) {
  const { coreWorker, replica, replication } = config;
  if (!coreWorker || !replica || !replication) {
    throw new Error("internal: v2 config sections missing (parseConfig fills them for v2)");
  }
  return { coreWorker, replica, replication };
}

export function v2(ctx: StackContext): StackOutputs {
  const { config } = ctx;
  const { coreWorker, replica: replicaConfig, replication } = v2Sections(config);
  const replicaActive = replicaConfig.role === "active";
  const replicaServesProdHost = replication.activeInstance === "replica";
  const prod = production(
    ctx,
    { settings: PROD_REPLICATION_SETTINGS },
    replicaServesProdHost ? { ingress: false } : {},
  );
  const prodDb = prod.instance.bundledDatabase;
  if (!prodDb) throw new Error("internal: v2 replicates from prod's bundled database");
  const kube = { providers: [ctx.kubernetes] };

  const coreWorker01 = createCoreWorker01(ctx, coreWorker);
  const prodNs = config.prod.namespace;
  const prodMinioPods = podLabelsOf(PROD_INSTANCE, "minio");

  const replica = standbyReplica(ctx, {
    prod,
    database: coreWorker01,
    coreWorker,
    replica: replicaConfig,
    ...(replicaServesProdHost
      ? {
          host: config.prod.host,
          // The Secret name prod's host had (created in this namespace by cert-manager, or
          // copied here beforehand).
          tlsSecretName: config.ingress.tlsSecretName ?? `${PROD_INSTANCE}-tls`,
        }
      : {}),
    network: objectMirrorNetwork({
      instanceName: REPLICA_INSTANCE,
      source: { namespace: prodNs, podLabels: prodMinioPods },
    }),
  });

  const hub = new ReplicationHub(
    "replication-hub",
    {
      namespace: replication.hub.namespace,
      instanceName: HUB_INSTANCE,
      source: {
        host: prodDb.host,
        port: prodDb.port,
        user: prodDb.username,
        password: prodDb.password,
        namespace: prodNs,
        instanceName: PROD_INSTANCE,
        podLabels: podLabelsOf(PROD_INSTANCE, "postgres"),
      },
      subscriber: {
        provider: coreWorker01.provider,
        host: coreWorker01.host,
        port: coreWorker01.port,
        user: coreWorker01.migrationUser,
        password: coreWorker01.migrationPassword,
        owner: coreWorker01.roleNames.airbyte,
        ...(coreWorker.adminSuperuser ? {} : { subscriptionCreator: coreWorker.adminUser }),
        sslMode: coreWorker.sslMode,
        cidrs: coreWorker.cidrs,
        dependsOn: [coreWorker01],
      },
      externalHost: replication.hub.externalHost,
      tlsSecretName: replication.hub.tlsSecretName,
      certManagerClusterIssuer: replication.hub.certManagerClusterIssuer,
      image: replication.image,
      // After failover core-worker-01 is the primary: nothing may replicate into it (D8).
      replicate: !replicaActive,
      // While standby, core-worker-01's db-airbyte is a disposable copy (v1's last one).
      dropExisting: !replicaActive,
      database: EXTERNAL_DATABASES.airbyte,
      storageSize: config.database.storageSize,
      storageClassName: config.storageClassName,
      nodeLocalDnsAddresses: config.network.nodeLocalDnsAddresses,
    },
    { ...kube, dependsOn: [prodDb.server] },
  );

  const mirror = new ObjectMirror(
    "object-mirror",
    {
      namespace: replica.namespace,
      instanceName: REPLICA_INSTANCE,
      image: replication.image,
      schedule: replication.objectMirrorSchedule,
      // An active replica writes its own objects; prod's would overwrite them.
      suspend: replicaActive,
      source: {
        endpoint: prod.instance.minio.endpoint,
        accessKeyId: prod.instance.minio.accessKeyId,
        secretAccessKey: prod.instance.minio.secretAccessKey,
      },
      target: {
        endpoint: replica.minio.endpoint,
        accessKeyId: replica.minio.accessKeyId,
        secretAccessKey: replica.minio.secretAccessKey,
      },
      sourcePods: { namespace: prodNs, instanceName: PROD_INSTANCE, podLabels: prodMinioPods },
    },
    kube,
  );

  return {
    topology: "v2",
    url: replicaServesProdHost ? replica.url : prod.instance.url,
    activeInstance: replication.activeInstance,
    namespace: prod.instance.namespace,
    services: prod.instance.serviceNames,
    replicaUrl: replica.url,
    replicaNamespace: replica.namespace,
    replicaRole: replica.role,
    replicaServices: replica.serviceNames,
    coreWorkerHost: coreWorker01.host,
    hubNamespace: hub.namespace,
    hubHost: hub.host,
    hubExternalHost: hub.externalHost,
    hubExternalService: hub.externalServiceName,
    replicationSetupJob: hub.setupJobName ?? "(none: the replica is active)",
    objectMirrorCronJob: mirror.cronJobName,
    objectMirrorSchedule: mirror.schedule,
    objectMirrorSuspended: mirror.suspended,
  };
}
