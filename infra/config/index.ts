/**
 * The stack configuration, read once, validated, and typed. Every key has a default or a clear
 * "required" error (see schema.ts); all problems are reported together.
 */
import * as pulumi from "@pulumi/pulumi";
import { ConfigReader, ConfigSource, pulumiConfigSource } from "./reader";
import {
  ActiveInstance,
  OAuthProvider,
  ReplicaRole,
  SslMode,
  StorageType,
  Topology,
} from "./schema";
import { hostCidr } from "./validators";
import { PlatformOptions, parsePlatformOptions } from "./platform-options";

export { ConfigError, PROJECT } from "./reader";
export type { PlatformOptions } from "./platform-options";
export type { ConfigSource } from "./reader";
export { CONFIG_SCHEMA, TOPOLOGIES } from "./schema";
export type { ActiveInstance, ConfigKey, KeySpec, ReplicaRole, SslMode, Topology } from "./schema";

export interface IngressConfig {
  className: string;
  /** Where the ingress controller runs (NetworkPolicy peer of the OAuth2 Proxy). */
  controllerNamespace: string;
  allowedSourceRanges: string[];
  /** Empty: `<instance>-tls`. */
  tlsSecretName?: string;
  certManagerClusterIssuer?: string;
  proxyReadTimeoutSeconds: number;
  proxyBodySizeMb: number;
}

/** NetworkPolicy settings of the cluster, and the API-client route (DESIGN D4). */
export interface NetworkConfig {
  kubernetesApi: { cidrs: string[]; ports: number[]; ciliumEntity: boolean };
  /** Empty: no NodeLocal DNSCache. */
  nodeLocalDnsAddresses: string[];
  /** API clients reach the server through the Ingress under Airbyte's own authentication. */
  apiClientAccess: boolean;
}

export interface OAuthConfig {
  provider: OAuthProvider;
  clientId: string;
  clientSecret: pulumi.Output<string>;
  oidcIssuerUrl?: string;
  allowedEmails: string[];
  allowedEmailDomains: string[];
}

export interface ReplicaCounts {
  server: number;
  worker: number;
  workloadLauncher: number;
  workloadApiServer: number;
  connectorBuilderServer: number;
}

/** The external PostgreSQL server `core-worker-01` (v1+, DESIGN D5). */
export interface CoreWorkerConfig {
  host: string;
  port: number;
  adminUser: string;
  adminPassword: pulumi.Output<string>;
  adminSuperuser: boolean;
  sslMode: SslMode;
  /** Addresses of the server for NetworkPolicies; never empty once validated. */
  cidrs: string[];
}

/** The standby replica `airbyte-prod-backup-replica-2` (v1+, DESIGN D8). */
export interface ReplicaConfig {
  namespace: string;
  host: string;
  role: ReplicaRole;
}

/** The periodic copy of prod's database to core-worker-01 (v1, DESIGN D6). */
export interface MigrationConfig {
  schedule: string;
  image: string;
  jobs: number;
  suspend: boolean;
}

/** Continuous replication, the hub and failover (v2, DESIGN D6, D7, D8). */
export interface ReplicationConfig {
  /** The airbyte-migrate image (migrationImage). */
  image: string;
  hub: {
    namespace: string;
    /** Where core-worker-01 reaches the hub's LoadBalancer. */
    externalHost: string;
    /** Empty: `airbyte-replication-hub-tls`. */
    tlsSecretName?: string;
    certManagerClusterIssuer?: string;
  };
  objectMirrorSchedule: string;
  activeInstance: ActiveInstance;
}

export interface StackConfig {
  topology: Topology;
  kubeContext?: string;
  prod: { namespace: string; host: string };
  ingress: IngressConfig;
  network: NetworkConfig;
  oauth: OAuthConfig;
  oauth2ProxyReplicas: number;
  storage: { type: StorageType; size: string; logRetentionDays: number };
  database: { storageSize: string };
  storageClassName?: string;
  /** Airbyte's usage tracking (trackingEnabled). */
  trackingEnabled: boolean;
  /** Secret with extra CA certificates for Airbyte's containers (caBundleSecretName). */
  caBundleSecretName?: string;
  /** `airbyte:protectData` (default true): protect and retain what holds data. */
  protectData: boolean;
  replicas: ReplicaCounts;
  /** Connector pods, job resources, metrics and secret store of every Airbyte (off by default). */
  platform: PlatformOptions;
  /** Present from v1, and in v0 while `coreWorkerHost` is set. */
  coreWorker?: CoreWorkerConfig;
  /** Present from v1. */
  replica?: ReplicaConfig;
  /** Present in v1 (v2 replicates instead of copying). */
  migration?: MigrationConfig;
  /** Present in v2. */
  replication?: ReplicationConfig;
}

const OIDC_PROVIDERS: OAuthProvider[] = ["oidc", "keycloak-oidc"];

export function parseConfig(source: ConfigSource): StackConfig {
  const r = new ConfigReader(source);

  const oauth: OAuthConfig = {
    provider: (r.string("oauthProvider") ?? "google") as OAuthProvider,
    clientId: r.requiredString("oauthClientId"),
    clientSecret: r.secret("oauthClientSecret", true) ?? pulumi.secret(""),
    oidcIssuerUrl: r.string("oauthOidcIssuerUrl"),
    allowedEmails: r.array("oauthAllowedEmails"),
    allowedEmailDomains: r.array("oauthAllowedEmailDomains"),
  };
  if (OIDC_PROVIDERS.includes(oauth.provider) && !oauth.oidcIssuerUrl) {
    r.fail("oauthOidcIssuerUrl", `is required when oauthProvider is ${oauth.provider}`);
  }
  if (oauth.allowedEmails.length === 0 && oauth.allowedEmailDomains.length === 0) {
    r.fail(
      "oauthAllowedEmailDomains",
      "nobody could sign in: set oauthAllowedEmailDomains or oauthAllowedEmails",
    );
  }

  const config: StackConfig = {
    topology: (r.string("topology") ?? "v0") as Topology,
    kubeContext: r.string("kubeContext"),
    prod: { namespace: r.requiredString("prodNamespace"), host: r.requiredString("prodHost") },
    ingress: {
      className: r.requiredString("ingressClassName"),
      controllerNamespace: r.requiredString("ingressControllerNamespace"),
      allowedSourceRanges: r.array("allowedSourceRanges"),
      tlsSecretName: r.string("tlsSecretName"),
      certManagerClusterIssuer: r.string("certManagerClusterIssuer"),
      proxyReadTimeoutSeconds: r.integer("proxyReadTimeoutSeconds"),
      proxyBodySizeMb: r.integer("proxyBodySizeMb"),
    },
    network: parseNetwork(r),
    oauth,
    oauth2ProxyReplicas: r.integer("oauth2ProxyReplicas"),
    storage: {
      type: (r.string("storageType") ?? "minio") as StorageType,
      size: r.requiredString("minioStorageSize"),
      logRetentionDays: r.integer("logRetentionDays"),
    },
    database: { storageSize: r.requiredString("databaseStorageSize") },
    storageClassName: r.string("storageClassName"),
    trackingEnabled: r.string("trackingEnabled") !== "false",
    caBundleSecretName: r.string("caBundleSecretName"),
    protectData: r.string("protectData") !== "false",
    replicas: {
      server: r.integer("serverReplicas"),
      worker: r.integer("workerReplicas"),
      workloadLauncher: r.integer("workloadLauncherReplicas"),
      workloadApiServer: r.integer("workloadApiServerReplicas"),
      connectorBuilderServer: r.integer("connectorBuilderServerReplicas"),
    },
    platform: parsePlatformOptions(r, source),
  };
  // v0 keeps managing core-worker-01 while the stack still names it: its roles and databases
  // then never leave the program on a move v1 -> v0, so coming back finds them in the state
  // instead of failing on CREATE ROLE/DATABASE for objects the provider cannot adopt.
  if (config.topology === "v1" || config.topology === "v2" || source.get("coreWorkerHost")) {
    // Why the keys below are required, for their error messages.
    const when =
      config.topology === "v0"
        ? "while coreWorkerHost is set (v0 keeps managing core-worker-01 then; remove coreWorkerHost once it is gone)"
        : "from topology v1 on";
    config.coreWorker = parseCoreWorker(r, source, when);
    config.replica = parseReplica(r, source, config.prod, when);
  }
  if (config.topology === "v1") config.migration = parseMigration(r, source);
  if (config.topology === "v2" && config.replica) {
    config.replication = parseReplication(r, source, config.prod.namespace, config.replica);
  }
  r.done();
  return config;
}

function parseNetwork(r: ConfigReader): NetworkConfig {
  const nonEmpty = (key: "kubernetesApiCidrs" | "kubernetesApiPorts" | "nodeLocalDnsAddresses") => {
    const items = r.array(key);
    if (items.length === 0)
      r.fail(key, "is empty: list at least one item, or unset it for the default");
    return items;
  };
  const cidrs = nonEmpty("kubernetesApiCidrs");
  const ports = nonEmpty("kubernetesApiPorts").map(Number);
  const nodeLocal = nonEmpty("nodeLocalDnsAddresses");
  return {
    kubernetesApi: {
      cidrs,
      ports,
      ciliumEntity: r.string("kubernetesApiCiliumEntity") === "true",
    },
    nodeLocalDnsAddresses: r.string("nodeLocalDnsCache") === "true" ? nodeLocal : [],
    apiClientAccess: r.string("apiClientAccess") === "true",
  };
}

/** A key the schema marks optional (v0 has no use for it) that topologies from v1 require. */
function requiredFromV1(
  r: ConfigReader,
  source: ConfigSource,
  key: "coreWorkerHost" | "replicaHost" | "migrationImage",
  when = "from topology v1 on",
): string {
  // Unset (not merely invalid, which string() has reported already).
  if (!source.get(key)) r.fail(key, `is required ${when}`);
  return r.string(key) ?? "";
}

function parseCoreWorker(r: ConfigReader, source: ConfigSource, when: string): CoreWorkerConfig {
  const host = requiredFromV1(r, source, "coreWorkerHost", when);
  const adminPassword = r.secret("coreWorkerAdminPassword", false);
  if (!adminPassword) {
    r.fail("coreWorkerAdminPassword", `is required ${when} (a secret)`);
  }
  let cidrs = r.array("coreWorkerCidrs");
  if (cidrs.length === 0 && host) {
    const single = hostCidr(host);
    if (single) cidrs = [single];
    else {
      r.fail(
        "coreWorkerCidrs",
        `coreWorkerHost '${host}' is a name, and NetworkPolicies need addresses: list the addresses it resolves to`,
      );
    }
  }
  return {
    host,
    port: r.integer("coreWorkerPort"),
    adminUser: r.requiredString("coreWorkerAdminUser"),
    adminPassword: adminPassword ?? pulumi.secret(""),
    adminSuperuser: r.string("coreWorkerAdminSuperuser") !== "false",
    sslMode: (r.string("coreWorkerSslMode") ?? "require") as SslMode,
    cidrs,
  };
}

function parseReplica(
  r: ConfigReader,
  source: ConfigSource,
  prod: { namespace: string; host: string },
  when: string,
): ReplicaConfig {
  const namespace = r.requiredString("replicaNamespace");
  if (namespace && namespace === prod.namespace) {
    r.fail(
      "replicaNamespace",
      `'${namespace}' is prod's namespace (prodNamespace): the replica needs its own, e.g. airbyte-replica`,
    );
  }
  const host = requiredFromV1(r, source, "replicaHost", when);
  if (host && host === prod.host) {
    r.fail(
      "replicaHost",
      `'${host}' is prod's host (prodHost): the replica needs its own Ingress host`,
    );
  }
  return { namespace, host, role: (r.string("replicaRole") ?? "standby") as ReplicaRole };
}

function parseMigration(r: ConfigReader, source: ConfigSource): MigrationConfig {
  return {
    schedule: r.requiredString("migrationSchedule").trim(),
    image: requiredFromV1(r, source, "migrationImage"),
    jobs: r.integer("migrationJobs"),
    suspend: r.string("migrationSuspend") === "true",
  };
}

function parseReplication(
  r: ConfigReader,
  source: ConfigSource,
  prodNamespace: string,
  replica: ReplicaConfig,
): ReplicationConfig {
  const namespace = r.requiredString("hubNamespace");
  if (namespace && (namespace === prodNamespace || namespace === replica.namespace)) {
    r.fail(
      "hubNamespace",
      `'${namespace}' is prod's or the replica's namespace: the hub needs its own (its exposure and policies are its own), e.g. airbyte-replication`,
    );
  }
  if (!source.get("hubExternalHost")) {
    r.fail(
      "hubExternalHost",
      "is required in topology v2: the address core-worker-01 reaches the hub's LoadBalancer at",
    );
  }
  const externalHost = r.string("hubExternalHost") ?? "";
  const activeInstance = (r.string("activeInstance") ?? "prod") as ActiveInstance;
  if (activeInstance === "replica" && replica.role !== "active") {
    r.fail(
      "activeInstance",
      "is replica but airbyte:replicaRole is standby: the replica can serve prod's host only when active (run airbyte-migrate failover, then set airbyte:replicaRole active too)",
    );
  }
  return {
    image: requiredFromV1(r, source, "migrationImage"),
    hub: {
      namespace,
      externalHost,
      tlsSecretName: r.string("hubTlsSecretName"),
      certManagerClusterIssuer: r.string("hubCertManagerIssuer"),
    },
    objectMirrorSchedule: r.requiredString("objectMirrorSchedule").trim(),
    activeInstance,
  };
}

/** The running stack's configuration. */
export function loadConfig(): StackConfig {
  return parseConfig(pulumiConfigSource());
}
