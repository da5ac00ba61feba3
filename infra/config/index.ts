/**
 * The stack configuration, read once, validated, and typed. Every key has a default or a clear
 * "required" error (see schema.ts); all problems are reported together.
 */
import * as pulumi from "@pulumi/pulumi";
import { ConfigReader, ConfigSource, pulumiConfigSource } from "./reader";
import { OAuthProvider, StorageType, Topology } from "./schema";

export { ConfigError, PROJECT } from "./reader";
export type { ConfigSource } from "./reader";
export { CONFIG_SCHEMA, TOPOLOGIES } from "./schema";
export type { ConfigKey, KeySpec, Topology } from "./schema";

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

export interface StackConfig {
  topology: Topology;
  kubeContext?: string;
  prod: { namespace: string; host: string };
  ingress: IngressConfig;
  oauth: OAuthConfig;
  oauth2ProxyReplicas: number;
  storage: { type: StorageType; size: string; logRetentionDays: number };
  database: { storageSize: string };
  storageClassName?: string;
  replicas: ReplicaCounts;
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
    oauth,
    oauth2ProxyReplicas: r.integer("oauth2ProxyReplicas"),
    storage: {
      type: (r.string("storageType") ?? "minio") as StorageType,
      size: r.requiredString("minioStorageSize"),
      logRetentionDays: r.integer("logRetentionDays"),
    },
    database: { storageSize: r.requiredString("databaseStorageSize") },
    storageClassName: r.string("storageClassName"),
    replicas: {
      server: r.integer("serverReplicas"),
      worker: r.integer("workerReplicas"),
      workloadLauncher: r.integer("workloadLauncherReplicas"),
      workloadApiServer: r.integer("workloadApiServerReplicas"),
      connectorBuilderServer: r.integer("connectorBuilderServerReplicas"),
    },
  };
  r.done();
  return config;
}

/** The running stack's configuration. */
export function loadConfig(): StackConfig {
  return parseConfig(pulumiConfigSource());
}
