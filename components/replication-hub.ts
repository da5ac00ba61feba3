/**
 * The v2 replication hub (DESIGN D7): an in-cluster PostgreSQL in its own namespace that
 * subscribes to prod's publication and republishes to `core-worker-01`, the Job that sets the
 * chain up with `airbyte-migrate sync setup`, and core-worker-01's subscription as a
 * `postgresql.Subscription` on core-worker-01's provider (D5).
 *
 * Why its own namespace: the hub is the one thing in the system exposed outside the cluster (a
 * LoadBalancer for core-worker-01), so it gets its own default-deny policies, a `restricted` Pod
 * Security level (it runs only our images) and a lifecycle apart from prod's; prod's namespace
 * gains only one new NetworkPolicy admitting the hub and the setup Job to prod's database.
 *
 * Exposure, to core-worker-01 only, in four layers: the LoadBalancer's
 * `loadBalancerSourceRanges`, `externalTrafficPolicy: Local` (keeps the client address, which
 * the next two layers need), a NetworkPolicy admitting those addresses, and pg_hba admitting them
 * only as the subscriber role, to `db-airbyte`, over TLS (`hostssl`).
 */
import * as k8s from "@pulumi/kubernetes";
import * as postgresql from "@pulumi/postgresql";
import * as pulumi from "@pulumi/pulumi";
import { LabelSpec, selectorLabels } from "../infra/naming";
import { IMAGES } from "../infra/versions";
import {
  HUB_SUBSCRIBER_PASSWORD_ENV,
  HUB_URL_ENV,
  PROD_URL_ENV,
  REPLICA_URL_ENV,
  replicaSubscriptionSpec,
  setupJobArgs,
} from "../migrations/replication/job-command";
import { databaseUrl } from "./db-migration";
import { SslMode } from "./external-database";
import { ResourceBounds, job, objectMeta, opaqueSecret, admitFromNamespace } from "./lib/kube";
import { toolPod } from "./lib/tool-job";
import { CLUSTER_DNS, DEFAULT_DENY, dnsEgress } from "./network-policies";
import { generatedPassword } from "./lib/secrets";
import { Postgres } from "./postgres";

import net = k8s.types.input.networking.v1;

/** Annotation the policy pack requires on a LoadBalancer (policy `service-exposure`). */
export const EXPOSURE_ANNOTATION = "airbyte.pulumi/declared-exposure";

/** Server settings a logical-replication publisher needs (prod and the hub alike). */
export const LOGICAL_REPLICATION_SETTINGS: Record<string, string> = {
  wal_level: "logical",
  // PostgreSQL 13's defaults, stated so a lower image default cannot break the chain: one slot
  // and one sender per subscriber, plus table-sync workers during initial copies.
  max_replication_slots: "10",
  max_wal_senders: "10",
};

/** Prod's bundled database, as the hub and the setup Job reach it (in-cluster, no TLS). */
export interface HubSource {
  host: pulumi.Input<string>;
  port: pulumi.Input<number>;
  /** A superuser of prod's server (the bundled image's POSTGRES_USER): it publishes. */
  user: pulumi.Input<string>;
  /** A Pulumi secret. */
  password: pulumi.Input<string>;
  namespace: string;
  /** Instance name the new NetworkPolicy in prod's namespace is filed under. */
  instanceName: string;
  /** Labels of prod's database pods. */
  podLabels: Record<string, string>;
}

/** core-worker-01, managed by an ExternalDatabase. */
export interface HubSubscriber {
  /** The `postgresql.Provider` of core-worker-01: the subscription is created through it (D5). */
  provider: postgresql.Provider;
  host: pulumi.Input<string>;
  port: pulumi.Input<number>;
  /** Role the setup Job prepares the schema as (the migration role: CREATEDB, member of owner). */
  user: pulumi.Input<string>;
  /** A Pulumi secret. */
  password: pulumi.Input<string>;
  /** Owner of `db-airbyte` there: Airbyte's login role. */
  owner: string;
  /**
   * The provider's admin role when it is not a superuser: the setup Job checks it may create the
   * subscription on this major. Default: none (a superuser admin).
   */
  subscriptionCreator?: string;
  sslMode: SslMode;
  /** Addresses core-worker-01 connects from: the only ones the hub admits from outside. */
  cidrs: string[];
  /** Resources the Job waits for (the roles, databases and grants). */
  dependsOn?: pulumi.Input<pulumi.Resource>[];
}

export interface ReplicationHubArgs {
  /** Namespace, created here. */
  namespace: string;
  /** Prefix of object names. Default: `airbyte-replication-hub`. */
  instanceName?: string;
  source: HubSource;
  subscriber: HubSubscriber;
  /** Address core-worker-01 reaches the LoadBalancer at (in the certificate; the conninfo host). */
  externalHost: string;
  /** kubernetes.io/tls Secret the hub serves. Default: `<instanceName>-tls`. */
  tlsSecretName?: string;
  /** cert-manager ClusterIssuer that issues {@link tlsSecretName}. Default: none (bring your own). */
  certManagerClusterIssuer?: string;
  /** libpq sslmode of core-worker-01's subscription to the hub. Default: `require`. */
  subscriptionSslMode?: "require" | "verify-ca" | "verify-full";
  /** The airbyte-migrate image (version tag or digest). */
  image: string;
  /**
   * Run the setup Job and declare core-worker-01's subscription. `false` once the replica is
   * active (after failover its database is production's, D8). Default: `true`.
   */
  replicate?: boolean;
  /**
   * Let the Job replace a core-worker-01 `db-airbyte` that holds data but no subscription (v1's
   * last copy). Default: `false`.
   */
  dropExisting?: boolean;
  /** The replicated database (D7). Default: `db-airbyte`. */
  database?: string;
  /** Login role on the hub core-worker-01 subscribes as. Default: `airbyte_subscriber`. */
  subscriberRole?: string;
  /** Default: `20Gi`. */
  storageSize?: pulumi.Input<string>;
  /** Default: the cluster default. */
  storageClassName?: pulumi.Input<string>;
  /** The setup Job's pod. Default: 100m/256Mi requested, 1 CPU/1Gi limit. */
  jobResources?: ResourceBounds;
  /** NodeLocal DNSCache addresses, allowed for DNS as in the instances. Default: none. */
  nodeLocalDnsAddresses?: string[];
}

const PORT = 5432;
const DEFAULT_JOB_RESOURCES: ResourceBounds = {
  requests: { cpu: "100m", memory: "256Mi" },
  limits: { cpu: "1", memory: "1Gi" },
};
const KUBE_NAME = "kubernetes.io/metadata.name";

/**
 * pg_hba of the hub, first match wins: the pod's own socket; core-worker-01's addresses only as
 * the subscriber role, to the replicated database, over TLS, and nothing else from them; every
 * other in-cluster client (the NetworkPolicy admits only the setup Job) as the admin over TLS.
 */
export function hubHbaRules(o: {
  database: string;
  subscriberRole: string;
  adminUser: string;
  cidrs: string[];
}): string[] {
  return [
    "# TYPE  DATABASE  USER  ADDRESS  METHOD",
    "local all all trust",
    "host all all 127.0.0.1/32 scram-sha-256",
    ...o.cidrs.map((c) => `hostssl "${o.database}" ${o.subscriberRole} ${c} scram-sha-256`),
    ...o.cidrs.map((c) => `host all all ${c} reject`),
    `host all ${o.subscriberRole} all reject`,
    `hostssl all ${o.adminUser} all scram-sha-256`,
  ];
}

export class ReplicationHub extends pulumi.ComponentResource {
  /** In-cluster address of the hub. */
  public readonly host: pulumi.Output<string>;
  public readonly namespace: pulumi.Output<string>;
  /** The LoadBalancer Service core-worker-01 connects to. */
  public readonly externalServiceName: pulumi.Output<string>;
  public readonly externalHost: pulumi.Output<string>;
  public readonly tlsSecretName: pulumi.Output<string>;
  /** The setup Job's name; absent when not replicating. */
  public readonly setupJobName?: pulumi.Output<string>;
  /** core-worker-01's subscription; absent when not replicating. */
  public readonly subscription?: postgresql.Subscription;
  public readonly subscriberRole: pulumi.Output<string>;
  /** The hub's server (its component). */
  public readonly server: Postgres;

  constructor(name: string, args: ReplicationHubArgs, opts?: pulumi.ComponentResourceOptions) {
    const sub = args.subscriber;
    if (sub.cidrs.length === 0) {
      throw new Error(`ReplicationHub ${name}: subscriber.cidrs is empty: nobody could connect`);
    }
    super("airbyte:replication:ReplicationHub", name, {}, opts);
    const inst = args.instanceName ?? "airbyte-replication-hub";
    const database = args.database ?? "db-airbyte";
    const subscriberRole = args.subscriberRole ?? "airbyte_subscriber";
    const replicate = args.replicate ?? true;
    const tlsSecretName = args.tlsSecretName ?? `${inst}-tls`;
    const sslMode = args.subscriptionSslMode ?? "require";
    const child = { parent: this };
    const labels = (component: string, n = component): LabelSpec => ({
      name: n,
      instance: inst,
      component,
    });

    const ns = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      {
        metadata: {
          name: args.namespace,
          labels: {
            ...objectMeta("", "", labels("namespace")).labels,
            // Only our own images run here: the strictest level is enforced.
            "pod-security.kubernetes.io/enforce": "restricted",
          },
        },
      },
      child,
    );
    const inNs = { parent: this, dependsOn: [ns] };
    const namespace = ns.metadata.name;

    if (args.certManagerClusterIssuer) {
      new k8s.apiextensions.CustomResource(
        `${name}-certificate`,
        {
          apiVersion: "cert-manager.io/v1",
          kind: "Certificate",
          metadata: objectMeta(namespace, inst, labels("tls", "certificate")),
          spec: {
            secretName: tlsSecretName,
            dnsNames: [args.externalHost],
            issuerRef: { kind: "ClusterIssuer", name: args.certManagerClusterIssuer },
          },
        },
        inNs,
      );
    }

    const adminUser = "airbyte";
    this.server = new Postgres(
      `${name}-db`,
      {
        namespace,
        instanceName: inst,
        databases: [database],
        username: adminUser,
        image: IMAGES.hubPostgres,
        storageSize: args.storageSize,
        storageClassName: args.storageClassName,
        settings: LOGICAL_REPLICATION_SETTINGS,
        tls: { secretName: tlsSecretName },
        hbaRules: hubHbaRules({ database, subscriberRole, adminUser, cidrs: sub.cidrs }),
      },
      inNs,
    );
    const hubPods = this.server.podLabels;

    const external = new k8s.core.v1.Service(
      `${name}-external`,
      {
        metadata: objectMeta(namespace, `${inst}-external`, labels("database", "postgres"), {
          [EXPOSURE_ANNOTATION]:
            "core-worker-01 subscribes to the hub's publication (DESIGN D7); only its addresses, only over TLS",
        }),
        spec: {
          type: "LoadBalancer",
          selector: hubPods,
          ports: [{ name: "postgres", port: PORT, targetPort: "postgres", protocol: "TCP" }],
          loadBalancerSourceRanges: sub.cidrs,
          // Keeps core-worker-01's address as the source, for the NetworkPolicy and pg_hba.
          externalTrafficPolicy: "Local",
        },
      },
      inNs,
    );

    const setupLabels = labels("replication", "replication-setup");
    const setupPods = selectorLabels(setupLabels);
    const policy = (suffix: string, spec: net.NetworkPolicySpec) =>
      new k8s.networking.v1.NetworkPolicy(
        `${name}-policy-${suffix}`,
        {
          metadata: objectMeta(namespace, `${inst}-${suffix}`, labels("network", "network-policy")),
          spec,
        },
        inNs,
      );
    const prodDb: net.NetworkPolicyPeer = {
      namespaceSelector: { matchLabels: { [KUBE_NAME]: args.source.namespace } },
      podSelector: { matchLabels: args.source.podLabels },
    };
    const pgPort = [{ protocol: "TCP", port: PORT }];
    const cidrPeers = sub.cidrs.map((cidr) => ({ ipBlock: { cidr } }));
    policy("default-deny", DEFAULT_DENY);
    policy("allow-dns", dnsEgress(CLUSTER_DNS, args.nodeLocalDnsAddresses));
    policy("allow-postgres", {
      podSelector: { matchLabels: hubPods },
      policyTypes: ["Ingress", "Egress"],
      ingress: [
        { from: cidrPeers, ports: pgPort },
        { from: [{ podSelector: { matchLabels: setupPods } }], ports: pgPort },
      ],
      // The hub's subscription streams from prod's database.
      egress: [{ to: [prodDb], ports: pgPort }],
    });
    policy("allow-replication-setup", {
      podSelector: { matchLabels: setupPods },
      policyTypes: ["Egress"],
      egress: [
        { to: [prodDb], ports: pgPort },
        { to: [{ podSelector: { matchLabels: hubPods } }], ports: pgPort },
        { to: cidrPeers, ports: [{ protocol: "TCP", port: sub.port }] },
      ],
    });
    // Prod's side: one NEW policy in prod's namespace (policies add up; prod's own stay as they are).
    admitFromNamespace(
      `${name}-prod-ingress`,
      {
        namespace: args.source.namespace,
        name: `${args.source.instanceName}-allow-postgres-from-replication`,
        labels: {
          name: "network-policy",
          instance: args.source.instanceName,
          component: "replication",
        },
        targetPods: args.source.podLabels,
        fromNamespace: args.namespace,
        fromPods: [hubPods, setupPods],
        port: PORT,
      },
      child,
    );

    const subscriberPassword = generatedPassword(`${name}-subscriber-password`, this);
    this.host = this.server.host;
    this.namespace = namespace;
    this.externalServiceName = external.metadata.name;
    this.externalHost = pulumi.output(args.externalHost);
    this.tlsSecretName = pulumi.output(tlsSecretName);
    this.subscriberRole = pulumi.output(subscriberRole);

    if (replicate) {
      const url = (
        e: { host: pulumi.Input<string>; port: pulumi.Input<number>; user: pulumi.Input<string> },
        password: pulumi.Input<string>,
        mode: SslMode,
      ) =>
        pulumi.secret(
          pulumi
            .all([e.host, e.port, e.user, password])
            .apply(([host, port, user, pw]) =>
              databaseUrl({ host, port, user, password: pw, sslMode: mode }),
            ),
        );
      const urls = opaqueSecret(
        `${name}-setup-urls`,
        {
          namespace,
          name: `${inst}-setup`,
          labels: setupLabels,
          data: {
            // In-cluster to prod's bundled server, which has no TLS (as prod's own clients).
            [PROD_URL_ENV]: url(args.source, args.source.password, "disable"),
            [HUB_URL_ENV]: url(
              { host: this.server.host, port: this.server.port, user: this.server.username },
              this.server.password,
              "require",
            ),
            [REPLICA_URL_ENV]: url(sub, sub.password, sub.sslMode),
            [HUB_SUBSCRIBER_PASSWORD_ENV]: subscriberPassword,
          },
        },
        inNs,
      );
      const setup = job(
        `${name}-setup`,
        {
          namespace,
          name: `${inst}-setup`,
          labels: setupLabels,
          backoffLimit: 3,
          // The initial copies of a large db-airbyte take a while (sync setup's own timeout: 1 h each).
          activeDeadlineSeconds: 3 * 3600,
          ...toolPod({
            container: "setup",
            image: args.image,
            args: setupJobArgs({
              database,
              replicaOwner: sub.owner,
              subscriptionCreator: sub.subscriptionCreator,
              hubSubscriberRole: subscriberRole,
              dropExisting: args.dropExisting ?? false,
            }),
            secretName: urls.metadata.name,
            secretKeys: [PROD_URL_ENV, HUB_URL_ENV, REPLICA_URL_ENV, HUB_SUBSCRIBER_PASSWORD_ENV],
            resources: args.jobResources ?? DEFAULT_JOB_RESOURCES,
            // pg_dump's schema file goes to /tmp.
            tmpSize: "1Gi",
          }),
        },
        { ...inNs, dependsOn: [ns, this.server.server, ...(sub.dependsOn ?? [])] },
      );
      this.setupJobName = setup.metadata.name;

      const subscription = (password: string) =>
        replicaSubscriptionSpec({
          hubHost: args.externalHost,
          hubPort: PORT,
          database,
          subscriberRole,
          subscriberPassword: password,
          sslMode,
        });
      // Everything but the conninfo is known now; the conninfo holds the password: a secret.
      const declared = subscription("");
      this.subscription = new postgresql.Subscription(
        `${name}-core-worker-subscription`,
        {
          name: declared.name,
          database: declared.database,
          conninfo: pulumi.secret(
            pulumi.all([subscriberPassword]).apply(([pw]) => subscription(pw).conninfo),
          ),
          publications: declared.publications,
          createSlot: declared.createSlot,
        },
        // After the Job: the hub's publication, the schema on core-worker-01 and the role exist.
        { parent: this, provider: sub.provider, dependsOn: [setup] },
      );
    }

    this.registerOutputs({
      host: this.host,
      namespace: this.namespace,
      externalServiceName: this.externalServiceName,
      externalHost: this.externalHost,
      tlsSecretName: this.tlsSecretName,
      subscriberRole: this.subscriberRole,
      ...(this.setupJobName ? { setupJobName: this.setupJobName } : {}),
    });
  }
}
