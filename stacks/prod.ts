/**
 * Production, `airbyte-prod`, as every topology has it. v1 and v2 call this unchanged (plus what
 * replication needs in v2) so moving between topologies never replaces prod's resources.
 */
import { AirbyteAuthSecrets } from "../components/airbyte-auth-secrets";
import { AirbyteInstance, BundledDatabase } from "../components/airbyte-instance";
import { StackContext } from "./context";

export const PROD_INSTANCE = "airbyte-prod";

export interface Production {
  instance: AirbyteInstance;
  /** Shared with the replica so a promoted replica accepts what prod issued (DESIGN D2). */
  authSecrets: AirbyteAuthSecrets;
}

/** What a topology may change on prod (v2 only, and only what replication or failover needs). */
export interface ProductionOptions {
  /** `false` after a failover: the replica serves prod's host (v2 `activeInstance`). Default: true. */
  ingress?: boolean;
}

/** The NetworkPolicy settings every instance takes from the stack config. */
export function instanceNetwork(config: StackContext["config"]) {
  return {
    ingressControllerNamespace: config.ingress.controllerNamespace,
    kubernetesApi: config.network.kubernetesApi,
    nodeLocalDnsAddresses: config.network.nodeLocalDnsAddresses,
  };
}

export function production(
  ctx: StackContext,
  database: Partial<BundledDatabase> = {},
  options: ProductionOptions = {},
): Production {
  const { config } = ctx;
  const authSecrets = new AirbyteAuthSecrets("airbyte-auth");
  const instance = new AirbyteInstance(
    PROD_INSTANCE,
    {
      instanceName: PROD_INSTANCE,
      namespace: config.prod.namespace,
      host: config.prod.host,
      role: "active",
      authSecrets,
      database: { kind: "bundled", storageSize: config.database.storageSize, ...database },
      storage: { size: config.storage.size, logRetentionDays: config.storage.logRetentionDays },
      storageClassName: config.storageClassName,
      oauth: { ...config.oauth, replicas: config.oauth2ProxyReplicas },
      ingress: {
        allowedSourceRanges: config.ingress.allowedSourceRanges,
        className: config.ingress.className,
        tlsSecretName: config.ingress.tlsSecretName,
        certManagerClusterIssuer: config.ingress.certManagerClusterIssuer,
        proxyTimeoutSeconds: config.ingress.proxyReadTimeoutSeconds,
        proxyBodySizeMb: config.ingress.proxyBodySizeMb,
        ...(options.ingress === false ? { enabled: false } : {}),
      },
      replicas: config.replicas,
      platform: config.platform,
      trackingEnabled: config.trackingEnabled,
      caBundleSecretName: config.caBundleSecretName,
      // Prod never leaves the program on a topology move: its namespace may go only on purpose.
      keepData: config.protectData,
      apiClientAccess: config.network.apiClientAccess,
      network: instanceNetwork(config),
    },
    { providers: [ctx.kubernetes] },
  );
  return { instance, authSecrets };
}
