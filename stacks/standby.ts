/**
 * What v1 and v2 share: the external server `core-worker-01` and the standby replica
 * `airbyte-prod-backup-replica-2` on it. One definition, so moving v1 → v2 keeps their URNs and
 * changes only what the topology asks for (the replica's extra network flows, its host after a
 * failover).
 */
import { AirbyteInstance, AirbyteInstanceArgs } from "../components/airbyte-instance";
import { ExternalDatabase } from "../components/external-database";
import { instanceGroups } from "../components/network-policies";
import type { StackConfig } from "../infra/config";
import { StackContext } from "./context";
import { Production, instanceNetwork } from "./prod";

export const REPLICA_INSTANCE = "airbyte-prod-backup-replica-2";
export const CORE_WORKER = "core-worker-01";

type CoreWorkerConfig = NonNullable<StackConfig["coreWorker"]>;
type ReplicaConfig = NonNullable<StackConfig["replica"]>;

/** The pod labels of one of an instance's pod groups (for NetworkPolicy peers). */
export function podLabelsOf(instanceName: string, group: string): Record<string, string> {
  const g = instanceGroups(instanceName).find((x) => x.name === group);
  if (!g) throw new Error(`internal: no ${group} pod group`);
  return g.matchLabels;
}

/**
 * `core-worker-01`, managed through its own PostgreSQL provider (DESIGN D5). Every topology calls
 * this while the stack names the server (v0 too), so its resources keep their URNs across moves.
 */
export function coreWorker01(ctx: StackContext, coreWorker: CoreWorkerConfig): ExternalDatabase {
  return new ExternalDatabase(
    CORE_WORKER,
    {
      host: coreWorker.host,
      port: coreWorker.port,
      adminUser: coreWorker.adminUser,
      adminPassword: coreWorker.adminPassword,
      adminIsSuperuser: coreWorker.adminSuperuser,
      sslMode: coreWorker.sslMode,
      // After a failover these hold production's data; airbyte:protectData false really drops.
      retainOnDelete: ctx.config.protectData,
    },
    { providers: [ctx.kubernetes] },
  );
}

export interface StandbyReplicaArgs {
  prod: Production;
  database: ExternalDatabase;
  coreWorker: CoreWorkerConfig;
  replica: ReplicaConfig;
  /** Default: the replica's own host. v2's failover gives it prod's. */
  host?: string;
  /** Default: `<instance>-tls`. Serving prod's host, the Secret name prod's host used. */
  tlsSecretName?: string;
  /** The topology's extra flows for the replica's namespace. */
  network: Omit<NonNullable<AirbyteInstanceArgs["network"]>, "ingressControllerNamespace">;
}

/** The standby (or, after failover, active) replica on `core-worker-01`. */
export function standbyReplica(ctx: StackContext, args: StandbyReplicaArgs): AirbyteInstance {
  const { config } = ctx;
  const db = args.database;
  return new AirbyteInstance(
    REPLICA_INSTANCE,
    {
      instanceName: REPLICA_INSTANCE,
      namespace: args.replica.namespace,
      host: args.host ?? args.replica.host,
      role: args.replica.role,
      // The same generated values as prod, so a promoted replica accepts what prod issued (D2).
      authSecrets: args.prod.authSecrets,
      database: {
        kind: "external",
        connection: {
          host: db.host,
          port: db.port,
          user: db.airbyteUser,
          password: db.airbytePassword,
          // Resolves once the databases and grants exist, so nothing connects before them.
          airbyteDatabase: db.databases.apply((d) => d.airbyte),
          sslMode: args.coreWorker.sslMode,
          networkCidrs: args.coreWorker.cidrs,
        },
      },
      storage: { size: config.storage.size, logRetentionDays: config.storage.logRetentionDays },
      storageClassName: config.storageClassName,
      // Same OAuth client as prod; the replica's callback URL must be registered with it.
      oauth: { ...config.oauth, replicas: config.oauth2ProxyReplicas },
      ingress: {
        allowedSourceRanges: config.ingress.allowedSourceRanges,
        className: config.ingress.className,
        tlsSecretName: args.tlsSecretName,
        certManagerClusterIssuer: config.ingress.certManagerClusterIssuer,
        proxyTimeoutSeconds: config.ingress.proxyReadTimeoutSeconds,
        proxyBodySizeMb: config.ingress.proxyBodySizeMb,
      },
      replicas: config.replicas,
      platform: config.platform,
      trackingEnabled: config.trackingEnabled,
      caBundleSecretName: config.caBundleSecretName,
      // Active, the replica is production (after a failover): a move or destroy must not drop it.
      // A standby's data is core-worker-01's (retained) and a mirror of prod's objects; protecting
      // it would block the move v1 -> v0, and retaining it would make the way back fail on the
      // existing namespace (the Kubernetes provider does not adopt existing objects).
      keepData: config.protectData && args.replica.role === "active",
      apiClientAccess: config.network.apiClientAccess,
      network: { ...instanceNetwork(config), ...args.network },
    },
    // Temporal and the platform start only once core-worker-01's roles and databases exist.
    { providers: [ctx.kubernetes], dependsOn: [db] },
  );
}
