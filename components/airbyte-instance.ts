/**
 * One complete Airbyte: its namespace, database (bundled or external), object storage, Temporal
 * with admin tools and UI, the platform services, the OAuth2 Proxy and the Ingress. Production and
 * the standby replica are two of these; their names stay fixed across topologies so URNs do not
 * move (DESIGN §3).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { standardLabels } from "../infra/naming";
import { AirbyteAuthValues } from "./airbyte-auth-secrets";
import { AirbytePlatform, AirbytePlatformArgs, AirbytePlatformReplicas } from "./airbyte-platform";
import { CA_BUNDLE_PEM } from "./airbyte/ca-trust";
import { Ingress } from "./ingress";
import { Minio } from "./minio";
import { NetworkPolicies, NetworkPoliciesArgs } from "./network-policies";
import { externalEgressOf } from "./airbyte/optional-env";
import { OAuth2Proxy } from "./oauth2-proxy";
import { Postgres } from "./postgres";
import { Temporal } from "./temporal";
import { TemporalAdmin } from "./temporal-admin";

/** How to reach a PostgreSQL server the instance does not run itself. */
export interface DatabaseConnection {
  host: pulumi.Input<string>;
  port: pulumi.Input<number>;
  user: pulumi.Input<string>;
  /** A Pulumi secret. */
  password: pulumi.Input<string>;
  /** Airbyte's database on that server. Default: `db-airbyte`. */
  airbyteDatabase?: pulumi.Input<string>;
  /** libpq sslmode; `require` or stricter also turns on Temporal's TLS. Default: `require`. */
  sslMode?: "disable" | "require" | "verify-ca" | "verify-full";
  /**
   * Addresses of the server, for the NetworkPolicies (they take addresses, not host names).
   * Default: any address, limited to the server's port.
   */
  networkCidrs?: string[];
}

/** The bundled in-cluster PostgreSQL (v0 production). */
export interface BundledDatabase {
  kind: "bundled";
  /** Default: `20Gi`. */
  storageSize?: pulumi.Input<string>;
  /** Extra server settings, e.g. `wal_level: logical` for v2. Default: none. */
  settings?: Record<string, string>;
}

export interface ExternalDatabase {
  kind: "external";
  connection: DatabaseConnection;
}

export interface OAuthSettings {
  provider: pulumi.Input<string>;
  clientId: pulumi.Input<string>;
  clientSecret: pulumi.Input<string>;
  oidcIssuerUrl?: pulumi.Input<string>;
  allowedEmails?: string[];
  allowedEmailDomains?: string[];
  /** Default: 2. */
  replicas?: pulumi.Input<number>;
}

export interface IngressSettings {
  allowedSourceRanges: string[];
  /** Default: `nginx`. */
  className?: pulumi.Input<string>;
  /** Default: `<instanceName>-tls`. */
  tlsSecretName?: pulumi.Input<string>;
  /** Default: none (bring your own TLS Secret). */
  certManagerClusterIssuer?: pulumi.Input<string>;
  /** Default: 3600. */
  proxyTimeoutSeconds?: number;
  /** Default: 50. */
  proxyBodySizeMb?: number;
  /**
   * `false` leaves the instance without an Ingress, e.g. prod after a failover, when the replica
   * serves prod's host (two Ingresses on one host conflict). Default: `true`.
   */
  enabled?: boolean;
}

export interface AirbyteInstanceArgs {
  /** Names the instance and prefixes its objects, e.g. `airbyte-prod`. */
  instanceName: string;
  /** Namespace, created by the instance. */
  namespace: string;
  /** Public hostname. */
  host: pulumi.Input<string>;
  /** `active` (default) runs Airbyte; `standby` keeps it deployed but idle (DESIGN D8). */
  role?: "active" | "standby";
  /** The stack's shared `airbyte-auth-secrets` values (DESIGN D2). */
  authSecrets: AirbyteAuthValues;
  database: BundledDatabase | ExternalDatabase;
  storage: {
    /** Default: `20Gi`. */
    size?: pulumi.Input<string>;
    /** Default: 30. */
    logRetentionDays?: number;
  };
  /** StorageClass of every volume. Default: the cluster default. */
  storageClassName?: pulumi.Input<string>;
  oauth: OAuthSettings;
  ingress: IngressSettings;
  /** Default: 1 of each scalable Airbyte service. */
  replicas?: AirbytePlatformReplicas;
  /** Airbyte's usage tracking. Default: `true`, as the chart. */
  trackingEnabled?: boolean;
  /** Secret in {@link namespace} with a PEM CA bundle under `ca.crt`. Default: none. */
  caBundleSecretName?: string;
  /**
   * Optional platform settings: connector pods, job resources, OTLP metrics, secret store (see
   * {@link AirbytePlatformArgs}). Default: none.
   */
  platform?: PlatformSettings;
  /**
   * Protect and retain the namespace, and so the volumes in it (the database's and MinIO's
   * claims, which Kubernetes deletes with their namespace): `pulumi destroy`, a namespace rename
   * or a move that drops the instance then fails instead of deleting its data. The claims
   * themselves survive their StatefulSet (see `statefulSet` in lib/kube.ts). Default: `false`.
   */
  keepData?: boolean;
  /**
   * API clients (Terraform provider, PyAirbyte, scripts) reach Airbyte's public API and token
   * endpoint through the Ingress, straight to the server, under Airbyte's own authentication,
   * which this turns on (`API_AUTHORIZATION_ENABLED`); browsers still sign in through the OAuth2
   * Proxy, then at Airbyte's login. Default: `false` (everything through the proxy).
   */
  apiClientAccess?: boolean;
  /**
   * NetworkPolicy settings and the flows a topology adds (v1's migration job, v2's replication).
   * Default: the instance's own flows, ingress controller in `ingress-nginx`.
   */
  network?: InstanceNetworkSettings;
}

/** The platform arguments an instance passes through unchanged. */
export type PlatformSettings = Pick<
  AirbytePlatformArgs,
  "connectorPods" | "jobResources" | "jobTypeResources" | "otlpMetrics" | "secretsBackend"
>;

/** What a topology may set of the instance's {@link NetworkPoliciesArgs}. */
export type InstanceNetworkSettings = Omit<
  NetworkPoliciesArgs,
  | "namespace"
  | "instanceName"
  | "database"
  | "apiClientsThroughIngress"
  | "connectorsReadSecretsFromDatabase"
  | "externalEgress"
>;

/**
 * Pod Security Standard of the namespace. Enforced at `baseline`, because Airbyte creates
 * connector pods at run time from images and specs we do not control; `restricted` is audited and
 * warned so drift in our own workloads shows up. Our own workloads meet `restricted` (the policy
 * pack checks each one). The reason is also written on the namespace, where the policy pack and
 * operators find it.
 */
const POD_SECURITY_EXCEPTION =
  "enforce baseline, not restricted: the workload-launcher creates connector pods at run time from connector images and specs this program does not control; restricted is audited and warned";
const POD_SECURITY = {
  "pod-security.kubernetes.io/enforce": "baseline",
  "pod-security.kubernetes.io/audit": "restricted",
  "pod-security.kubernetes.io/warn": "restricted",
};

export class AirbyteInstance extends pulumi.ComponentResource {
  public readonly url: pulumi.Output<string>;
  public readonly namespace: pulumi.Output<string>;
  public readonly role: pulumi.Output<string>;
  public readonly serverServiceName: pulumi.Output<string>;
  public readonly proxyServiceName: pulumi.Output<string>;
  public readonly temporalAddress: pulumi.Output<string>;
  public readonly minioEndpoint: pulumi.Output<string>;
  /** The instance's object storage (v2 mirrors prod's to the replica's). */
  public readonly minio: Minio;
  /** The bundled database, when there is one (v2 replicates from it). */
  public readonly bundledDatabase?: Postgres;
  /** Service names, for operators and stack outputs. */
  public readonly serviceNames: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: AirbyteInstanceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("airbyte:instance:AirbyteInstance", name, {}, opts);
    const child = { parent: this };
    const instanceName = args.instanceName;
    const role = args.role ?? "active";

    const ns = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      {
        metadata: {
          name: args.namespace,
          labels: {
            ...standardLabels({
              name: "namespace",
              instance: instanceName,
              component: "namespace",
            }),
            ...POD_SECURITY,
          },
          annotations: { "airbyte.pulumi/pod-security-exception": POD_SECURITY_EXCEPTION },
        },
      },
      // Protected: a replace or delete fails before anything in it goes. Retained too, so even
      // after `pulumi state unprotect` a destroy leaves the namespace and its claims.
      { ...child, protect: args.keepData ?? false, retainOnDelete: args.keepData ?? false },
    );
    const namespace = ns.metadata.name;
    const inNamespace = { parent: this, dependsOn: [ns] };

    const db = this.database(name, args, namespace, inNamespace);
    this.bundledDatabase = db.bundled;

    const minio = new Minio(
      `${name}-minio`,
      {
        namespace,
        instanceName,
        storageSize: args.storage.size,
        storageClassName: args.storageClassName,
        logRetentionDays: args.storage.logRetentionDays,
      },
      inNamespace,
    );

    const temporal = new Temporal(
      `${name}-temporal`,
      {
        namespace,
        instanceName,
        database: {
          host: db.host,
          port: db.port,
          user: db.user,
          password: db.password,
          tls: db.tls,
        },
      },
      { ...inNamespace, dependsOn: [ns, ...db.dependsOn] },
    );

    const temporalAdmin = new TemporalAdmin(
      `${name}-temporal-admin`,
      { namespace, instanceName, temporalAddress: temporal.address },
      inNamespace,
    );

    const externalUrl = pulumi.interpolate`https://${args.host}`;
    const platform = new AirbytePlatform(
      `${name}-platform`,
      {
        namespace,
        instanceName,
        airbyteUrl: externalUrl,
        role,
        database: {
          host: db.host,
          port: db.port,
          name: db.airbyteDatabase,
          user: db.user,
          password: db.password,
          ...(db.jdbcParameters ? { jdbcParameters: db.jdbcParameters } : {}),
        },
        temporalHost: temporal.address,
        storage: {
          endpoint: minio.endpoint,
          bucket: minio.bucket,
          accessKeyId: minio.accessKeyId,
          secretAccessKey: minio.secretAccessKey,
        },
        authSecrets: args.authSecrets,
        replicas: args.replicas,
        ...args.platform,
        trackingEnabled: args.trackingEnabled,
        caBundleSecretName: args.caBundleSecretName,
        // API clients bypass the proxy only when Airbyte authenticates them itself.
        ...(args.apiClientAccess ? { apiAuthorizationEnabled: true } : {}),
      },
      { ...inNamespace, dependsOn: [ns, temporal.namespaceJob, minio.bucketJob, ...db.dependsOn] },
    );

    const proxy = new OAuth2Proxy(
      `${name}-oauth2-proxy`,
      {
        namespace,
        instanceName,
        externalUrl,
        provider: args.oauth.provider,
        clientId: args.oauth.clientId,
        clientSecret: args.oauth.clientSecret,
        oidcIssuerUrl: args.oauth.oidcIssuerUrl,
        allowedEmails: args.oauth.allowedEmails,
        allowedEmailDomains: args.oauth.allowedEmailDomains,
        replicas: args.oauth.replicas,
        upstreams: [
          {
            path: "/",
            url: pulumi.interpolate`http://${platform.serverHost}:${platform.serverPort}`,
          },
          {
            // The builder has its own service; without this route the Connector Builder gets 403s.
            path: "/api/v1/connector_builder/",
            url: pulumi.interpolate`http://${platform.connectorBuilderHost}:${platform.connectorBuilderPort}`,
          },
          {
            path: "/temporal/",
            url: pulumi.interpolate`http://${temporalAdmin.uiHost}:${temporalAdmin.uiPort}`,
          },
        ],
      },
      inNamespace,
    );

    const ingress =
      args.ingress.enabled === false
        ? undefined
        : new Ingress(
            `${name}-ingress`,
            {
              namespace,
              instanceName,
              host: args.host,
              backend: { serviceName: proxy.serviceName, port: proxy.port },
              ...(args.apiClientAccess
                ? {
                    apiClients: {
                      serviceName: platform.serverServiceName,
                      port: platform.serverPort,
                    },
                  }
                : {}),
              allowedSourceRanges: args.ingress.allowedSourceRanges,
              className: args.ingress.className,
              tlsSecretName: args.ingress.tlsSecretName,
              certManagerClusterIssuer: args.ingress.certManagerClusterIssuer,
              proxyTimeoutSeconds: args.ingress.proxyTimeoutSeconds,
              proxyBodySizeMb: args.ingress.proxyBodySizeMb,
            },
            inNamespace,
          );

    new NetworkPolicies(
      `${name}-network-policies`,
      {
        ...args.network,
        apiClientsThroughIngress: args.apiClientAccess ?? false,
        // The launcher gives connector pods database credentials only for the database store
        // (EnvVarConfigBeanFactory.kt `databaseEnvMap`, airbyte-platform v2.0.0).
        connectorsReadSecretsFromDatabase:
          (args.platform?.secretsBackend?.type ?? "database") === "database",
        externalEgress: externalEgressOf(args.platform ?? {}),
        namespace,
        instanceName,
        database: {
          peer: db.bundled ? { group: "postgres" } : { cidrs: db.networkCidrs ?? ["0.0.0.0/0"] },
          port: db.port,
        },
      },
      inNamespace,
    );

    this.url = ingress?.url ?? externalUrl;
    this.minio = minio;
    this.namespace = namespace;
    this.role = pulumi.output(role);
    this.serverServiceName = platform.serverServiceName;
    this.proxyServiceName = proxy.serviceName;
    this.temporalAddress = temporal.address;
    this.minioEndpoint = minio.endpoint;
    this.serviceNames = pulumi.all({
      server: platform.serverServiceName,
      connectorBuilder: platform.connectorBuilderServiceName,
      temporal: temporal.serviceName,
      temporalUi: temporalAdmin.uiServiceName,
      minio: minio.serviceName,
      oauth2Proxy: proxy.serviceName,
      ...(db.bundled ? { database: db.bundled.serviceName } : {}),
    });
    this.registerOutputs({
      url: this.url,
      namespace: this.namespace,
      role: this.role,
      serverServiceName: this.serverServiceName,
      proxyServiceName: this.proxyServiceName,
      temporalAddress: this.temporalAddress,
      minioEndpoint: this.minioEndpoint,
      serviceNames: this.serviceNames,
    });
  }

  /** The database the instance uses: its own bundled server, or an external one. */
  private database(
    name: string,
    args: AirbyteInstanceArgs,
    namespace: pulumi.Output<string>,
    opts: pulumi.ComponentResourceOptions,
  ) {
    if (args.database.kind === "bundled") {
      const pg = new Postgres(
        `${name}-db`,
        {
          namespace,
          instanceName: args.instanceName,
          storageSize: args.database.storageSize,
          storageClassName: args.storageClassName,
          settings: args.database.settings,
        },
        opts,
      );
      return {
        bundled: pg,
        host: pg.host,
        port: pg.port,
        user: pg.username,
        password: pg.password,
        airbyteDatabase: pulumi.output("db-airbyte"),
        tls: false,
        jdbcParameters: undefined,
        networkCidrs: undefined,
        dependsOn: [pg.server] as pulumi.Resource[],
      };
    }
    const c = args.database.connection;
    const sslMode = c.sslMode ?? "require";
    return {
      bundled: undefined,
      host: pulumi.output(c.host),
      port: pulumi.output(c.port),
      user: pulumi.output(c.user),
      password: pulumi.secret(c.password),
      airbyteDatabase: pulumi.output(c.airbyteDatabase ?? "db-airbyte"),
      tls: sslMode !== "disable",
      // PostgreSQL's JDBC driver verifies against `sslrootcert`, by default a file under the
      // user's home that the images lack; the bundle update-ca-trust extracts holds the images'
      // CAs and the one from caBundleSecretName.
      jdbcParameters: sslMode.startsWith("verify-")
        ? `sslmode=${sslMode}&sslrootcert=${CA_BUNDLE_PEM}`
        : `sslmode=${sslMode}`,
      networkCidrs: c.networkCidrs,
      dependsOn: [] as pulumi.Resource[],
    };
  }
}
