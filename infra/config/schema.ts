/**
 * Every stack config key the program reads, in one table: validation, the `config:` block of
 * Pulumi.yaml and the README's key table are all checked against it.
 */
import {
  checkCidr,
  checkDnsLabel,
  checkEmail,
  checkEmailDomain,
  checkHostname,
  checkHttpsUrl,
  checkStorageQuantity,
  checkHostOrIp,
  checkPinnedImage,
  checkCronSchedule,
  checkIpAddress,
  checkPort,
} from "./validators";
import {
  checkAnnotationPair,
  checkAwsRegion,
  checkAwsTag,
  checkHttpUrl,
  checkImageRegistry,
  checkIsoDuration,
  checkKmsKeyArn,
  checkLabelPair,
  checkObjectAnnotationPair,
  checkResourceItem,
  checkToleration,
  checkVaultPrefix,
} from "./job-validators";

export const TOPOLOGIES = ["v0", "v1", "v2"] as const;
export type Topology = (typeof TOPOLOGIES)[number];

/** OAuth2 Proxy providers we configure and test; others need settings we don't expose. */
export const OAUTH_PROVIDERS = [
  "google",
  "github",
  "gitlab",
  "azure",
  "oidc",
  "keycloak-oidc",
] as const;
export type OAuthProvider = (typeof OAUTH_PROVIDERS)[number];

/** Object storage backends the program can deploy. */
export const STORAGE_TYPES = ["minio"] as const;
export type StorageType = (typeof STORAGE_TYPES)[number];

/** libpq sslmode values we accept for core-worker-01 (the ones that never silently fall back). */
export const SSL_MODES = ["disable", "require", "verify-ca", "verify-full"] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** What the v1/v2 replica does (DESIGN D8). */
export const REPLICA_ROLES = ["standby", "active"] as const;
export type ReplicaRole = (typeof REPLICA_ROLES)[number];

/** Which Airbyte serves prod's public host in v2 (DESIGN D8: failover moves it). */
export const ACTIVE_INSTANCES = ["prod", "replica"] as const;
export type ActiveInstance = (typeof ACTIVE_INSTANCES)[number];

const BOOLEANS = ["false", "true"] as const;

/** Where Airbyte keeps connector credentials; see {@link CONFIG_SCHEMA} `secretsBackend`. */
export const SECRETS_BACKENDS = ["database", "aws-secret-manager", "vault"] as const;
export type SecretsBackend = (typeof SECRETS_BACKENDS)[number];

interface KeyBase {
  description: string;
  /** A value that would pass, shown in the fix hint of an error. */
  example: string;
}

export interface StringKey extends KeyBase {
  type: "string";
  /** Absent: the key is required. `""` means "not set" for optional keys. */
  default?: string;
  secret?: boolean;
  oneOf?: readonly string[];
  check?: (v: string) => string | undefined;
}

export interface IntegerKey extends KeyBase {
  type: "integer";
  default: number;
  min: number;
  max?: number;
}

export interface ArrayKey extends KeyBase {
  type: "array";
  /** Absent: the key is required and must have at least one item. */
  default?: string[];
  check?: (item: string) => string | undefined;
}

export type KeySpec = StringKey | IntegerKey | ArrayKey;

const nodeSelector = (pods: string, fallback: string): ArrayKey => ({
  type: "array",
  default: [],
  check: checkLabelPair,
  example: "node-pool=connectors",
  description: `Node labels (\`key=value\`) ${pods} must match${fallback}.`,
});

const jobResources = (containers: string, env: string): ArrayKey => ({
  type: "array",
  default: [],
  check: checkResourceItem,
  example: "memoryLimit=2Gi",
  description: `Requests and limits of ${containers} as \`cpuRequest=\`, \`cpuLimit=\`, \`memoryRequest=\`, \`memoryLimit=\` items (${env}); empty: Airbyte's defaults.`,
});

const replicas = (service: string): IntegerKey => ({
  type: "integer",
  default: 1,
  min: 0,
  max: 20,
  example: "2",
  description: `Replicas of the Airbyte ${service} (0 stops it).`,
});

export const CONFIG_SCHEMA = {
  topology: {
    type: "string",
    oneOf: TOPOLOGIES,
    example: "v0",
    description:
      "Which topology this environment runs: v0 (production only), v1 (+ core-worker-01, periodic copy, standby replica), v2 (+ replication hub, continuous replication).",
  },
  kubeContext: {
    type: "string",
    default: "",
    example: "prod-cluster",
    description: "kubeconfig context to deploy into; empty uses the current context.",
  },
  prodNamespace: {
    type: "string",
    default: "airbyte-prod",
    check: checkDnsLabel,
    example: "airbyte-prod",
    description: "Namespace of the production Airbyte.",
  },
  prodHost: {
    type: "string",
    check: checkHostname,
    example: "airbyte.example.com",
    description: "Public hostname of the production Airbyte (the Ingress host).",
  },
  ingressClassName: {
    type: "string",
    default: "nginx",
    check: checkDnsLabel,
    example: "nginx",
    description: "IngressClass of the ingress-nginx controller that serves the hosts.",
  },
  ingressControllerNamespace: {
    type: "string",
    default: "ingress-nginx",
    check: checkDnsLabel,
    example: "ingress-nginx",
    description:
      "Namespace of the ingress controller; the NetworkPolicies admit only its pods to the OAuth2 Proxy.",
  },
  kubernetesApiCidrs: {
    type: "array",
    default: ["0.0.0.0/0"],
    check: checkCidr,
    example: "172.18.0.2/32",
    description:
      "Addresses of the Kubernetes API server for the NetworkPolicies of the workload-launcher and bootloader: its endpoints after Service translation (`kubectl get endpoints kubernetes -n default`), not the `kubernetes` Service IP. Default: any address, on kubernetesApiPorts only.",
  },
  kubernetesApiPorts: {
    type: "array",
    default: ["443", "6443"],
    check: checkPort,
    example: "6443",
    description:
      "Ports of the Kubernetes API server's endpoints (the port after Service translation, often 6443 on self-managed clusters, 443 on managed ones).",
  },
  kubernetesApiCiliumEntity: {
    type: "string",
    default: "false",
    oneOf: BOOLEANS,
    example: "true",
    description:
      "true adds a CiliumNetworkPolicy per instance letting the workload-launcher and bootloader reach Cilium's kube-apiserver entity on kubernetesApiPorts; needed on Cilium, where no ipBlock matches the API server.",
  },
  nodeLocalDnsCache: {
    type: "string",
    default: "false",
    oneOf: BOOLEANS,
    example: "true",
    description:
      "true lets every pod also query NodeLocal DNSCache at nodeLocalDnsAddresses (its agents run on the host network, so the cluster-DNS pod rule does not match them).",
  },
  nodeLocalDnsAddresses: {
    type: "array",
    default: ["169.254.20.10"],
    check: checkIpAddress,
    example: "169.254.20.10",
    description:
      "With nodeLocalDnsCache: the addresses NodeLocal DNSCache listens on; its link-local address (169.254.20.10 by default upstream), plus the kube-dns Service IP when kube-proxy runs in iptables mode (the agents answer there too).",
  },
  apiClientAccess: {
    type: "string",
    default: "false",
    oneOf: BOOLEANS,
    example: "true",
    description:
      "true routes /api/public and /api/v1/applications/token from the Ingress straight to the Airbyte server for API clients (Terraform provider, PyAirbyte) and turns on Airbyte's own authentication (API_AUTHORIZATION_ENABLED), which then guards them; everything else still goes through the OAuth2 Proxy, and browsers sign in there, then at Airbyte's login.",
  },
  allowedSourceRanges: {
    type: "array",
    check: checkCidr,
    example: "203.0.113.0/24",
    description: "CIDR blocks allowed to reach the Ingress (source-range allowlist).",
  },
  tlsSecretName: {
    type: "string",
    default: "",
    check: checkDnsLabel,
    example: "airbyte-prod-tls",
    description:
      "Existing kubernetes.io/tls Secret for the production host; empty means `<instance>-tls` (issued by cert-manager when certManagerClusterIssuer is set).",
  },
  certManagerClusterIssuer: {
    type: "string",
    default: "",
    check: checkDnsLabel,
    example: "letsencrypt-prod",
    description:
      "cert-manager ClusterIssuer that issues the TLS certificates; empty: bring your own Secret.",
  },
  proxyReadTimeoutSeconds: {
    type: "integer",
    default: 3600,
    min: 30,
    max: 86400,
    example: "3600",
    description:
      "Ingress read/send timeout towards the proxy; Airbyte's schema discovery and connector checks hold requests open for minutes.",
  },
  proxyBodySizeMb: {
    type: "integer",
    default: 50,
    min: 1,
    max: 1024,
    example: "50",
    description:
      "Largest request body the Ingress accepts, in MB (connector manifests and uploads).",
  },
  oauthProvider: {
    type: "string",
    default: "google",
    oneOf: OAUTH_PROVIDERS,
    example: "github",
    description: "OAuth2 Proxy identity provider.",
  },
  oauthClientId: {
    type: "string",
    example: "1234567890-abc.apps.googleusercontent.com",
    description: "OAuth client id registered with the provider.",
  },
  oauthClientSecret: {
    type: "string",
    secret: true,
    example: "<client secret>",
    description: "OAuth client secret (set with --secret).",
  },
  oauthOidcIssuerUrl: {
    type: "string",
    default: "",
    check: checkHttpsUrl,
    example: "https://login.example.com/realms/main",
    description: "OIDC issuer URL; required for the oidc and keycloak-oidc providers.",
  },
  oauthAllowedEmails: {
    type: "array",
    default: [],
    check: checkEmail,
    example: "ops@example.com",
    description:
      "E-mail addresses allowed in; with oauthAllowedEmailDomains, at least one must be set.",
  },
  oauthAllowedEmailDomains: {
    type: "array",
    default: [],
    check: checkEmailDomain,
    example: "example.com",
    description: "E-mail domains allowed in (`*` for any account the provider accepts).",
  },
  storageType: {
    type: "string",
    default: "minio",
    oneOf: STORAGE_TYPES,
    example: "minio",
    description: "Object storage for logs and state: an in-cluster MinIO per instance.",
  },
  minioStorageSize: {
    type: "string",
    default: "20Gi",
    check: checkStorageQuantity,
    example: "50Gi",
    description: "Size of each MinIO volume.",
  },
  logRetentionDays: {
    type: "integer",
    default: 30,
    min: 1,
    max: 3650,
    example: "30",
    description: "Days before job logs expire from object storage (a bucket lifecycle rule).",
  },
  databaseStorageSize: {
    type: "string",
    default: "20Gi",
    check: checkStorageQuantity,
    example: "50Gi",
    description: "Size of the bundled PostgreSQL volume.",
  },
  storageClassName: {
    type: "string",
    default: "",
    check: checkDnsLabel,
    example: "fast-ssd",
    description: "StorageClass of every volume; empty uses the cluster default.",
  },
  trackingEnabled: {
    type: "string",
    default: "true",
    oneOf: BOOLEANS,
    example: "false",
    description:
      "Airbyte's anonymous usage tracking (Segment, with the chart's write key); false logs the events instead of sending them (TRACKING_STRATEGY=logging).",
  },
  caBundleSecretName: {
    type: "string",
    default: "",
    check: checkDnsLabel,
    example: "corporate-ca",
    description:
      "Secret (in every Airbyte namespace) with a PEM CA bundle under `ca.crt`, added to the trust store of every Airbyte container; with coreWorkerSslMode verify-ca/verify-full the replica's Airbyte verifies core-worker-01 against it. Empty: the images' CAs only.",
  },
  protectData: {
    type: "string",
    default: "true",
    oneOf: BOOLEANS,
    example: "false",
    description:
      "Keep prod's data through every command: prod's namespace (with its database and MinIO volumes) is protected and retained, an active replica's namespace is protected, and core-worker-01's roles and databases are retained. false lets destroy, a namespace rename or a topology move really delete them (run pulumi up first, then destroy; docs/data-protection.md).",
  },
  serverReplicas: replicas("server (API and UI)"),
  workerReplicas: replicas("worker"),
  workloadLauncherReplicas: replicas("workload launcher"),
  workloadApiServerReplicas: replicas("workload API server"),
  connectorBuilderServerReplicas: replicas("connector builder server"),
  oauth2ProxyReplicas: {
    ...replicas("OAuth2 Proxy"),
    default: 2,
    description: "Replicas of the OAuth2 Proxy.",
  },
  connectorNodeSelector: nodeSelector(
    "every connector pod (check, discover, spec, sync)",
    " (JOB_KUBE_NODE_SELECTORS; also check, discover and spec pods' unless set below, since Airbyte does not fall back for them)",
  ),
  connectorCheckNodeSelector: nodeSelector(
    "check pods started from the UI",
    " (CHECK_JOB_KUBE_NODE_SELECTORS); empty: connectorNodeSelector",
  ),
  connectorDiscoverNodeSelector: nodeSelector(
    "discover pods started from the UI",
    " (DISCOVER_JOB_KUBE_NODE_SELECTORS); empty: connectorNodeSelector",
  ),
  connectorCustomNodeSelector: nodeSelector(
    "pods of custom connectors (images added to a workspace rather than from Airbyte's registry)",
    ", to keep third-party code on its own nodes (USE_CUSTOM_NODE_SELECTOR, JOB_ISOLATED_KUBE_NODE_SELECTORS); empty: as other connectors",
  ),
  connectorTolerations: {
    type: "array",
    default: [],
    check: checkToleration,
    example: "key=dedicated,operator=Equal,value=connectors,effect=NoSchedule",
    description:
      "Tolerations of every connector pod, one per item as `key=…,operator=Equal|Exists[,value=…],effect=…` (JOB_KUBE_TOLERATIONS).",
  },
  connectorAnnotations: {
    type: "array",
    default: [],
    check: checkAnnotationPair,
    example: "cluster-autoscaler.kubernetes.io/safe-to-evict=false",
    description:
      "Annotations (`key=value`, no `,` in values) of every connector pod (JOB_KUBE_ANNOTATIONS).",
  },
  connectorLabels: {
    type: "array",
    default: [],
    check: checkLabelPair,
    example: "team=data",
    description:
      "Extra labels (`key=value`) of every connector pod (JOB_KUBE_LABELS and the check/discover/spec variants); Airbyte's own labels stay.",
  },
  connectorImagePullSecrets: {
    type: "array",
    default: [],
    check: checkDnsLabel,
    example: "registry-credentials",
    description:
      "docker-registry Secrets in the instance namespace that connector pods pull with (JOB_KUBE_MAIN_CONTAINER_IMAGE_PULL_SECRET); create them yourself.",
  },
  connectorImageRegistry: {
    type: "string",
    default: "",
    check: checkImageRegistry,
    example: "registry.example.com/dockerhub",
    description:
      "Registry mirror (`host[:port][/path]`) for connector images (JOB_KUBE_CONNECTOR_IMAGE_REGISTRY) and the orchestrator, sidecar, init and profiler images of connector pods; empty: Docker Hub.",
  },
  connectorServiceAccountAnnotations: {
    type: "array",
    default: [],
    check: checkObjectAnnotationPair,
    example: "eks.amazonaws.com/role-arn=arn:aws:iam::123456789012:role/airbyte-connectors",
    description:
      "Annotations (`key=value`) of the connectors' ServiceAccount `<instance>-job`, e.g. IRSA's eks.amazonaws.com/role-arn or GKE's iam.gke.io/gcp-service-account.",
  },
  connectorResources: jobResources(
    "every connector container (JOB_MAIN_CONTAINER_*)",
    "Airbyte 2.0.x also sizes sync orchestrators from these; each item replaces one of the defaults 250m/2 CPU, 512Mi/2Gi memory",
  ),
  connectorCheckResources: jobResources("check containers", "CHECK_JOB_MAIN_CONTAINER_*"),
  connectorDiscoverResources: jobResources("discover containers", "DISCOVER_JOB_MAIN_CONTAINER_*"),
  connectorSidecarResources: jobResources(
    "the sidecar of check, discover and spec pods",
    "SIDECAR_MAIN_CONTAINER_*",
  ),
  otlpMetricsEndpoint: {
    type: "string",
    default: "",
    check: checkHttpUrl,
    example: "http://otel-collector.monitoring:4318/v1/metrics",
    description:
      "OTLP/HTTP metrics URL of an OpenTelemetry collector; set, every Airbyte service and sync orchestrator exports Micrometer metrics there (MICROMETER_METRICS_OTLP_ENABLED, OTEL_COLLECTOR_ENDPOINT). Empty: no metrics.",
  },
  otlpMetricsStep: {
    type: "string",
    default: "PT1M",
    check: checkIsoDuration,
    example: "PT30S",
    description: "OTLP export interval, ISO-8601 (MICROMETER_METRICS_STEP).",
  },
  otlpMetricsCollectorNamespace: {
    type: "string",
    default: "",
    check: checkDnsLabel,
    example: "monitoring",
    description:
      "Namespace of an in-cluster OTLP collector: the NetworkPolicies then let the metric-exporting services reach that namespace's pods on the otlpMetricsEndpoint port (the collector pods' own port). Empty: the collector is outside the cluster, reached by address on that port.",
  },
  secretsBackend: {
    type: "string",
    default: "database",
    oneOf: SECRETS_BACKENDS,
    example: "vault",
    description:
      "Where Airbyte stores connector credentials: database (its config database, SECRET_PERSISTENCE=TESTING_CONFIG_DB_TABLE), aws-secret-manager (AWS_SECRET_MANAGER) or vault (VAULT). Changing it does not move stored secrets.",
  },
  awsSecretManagerRegion: {
    type: "string",
    default: "",
    check: checkAwsRegion,
    example: "eu-west-1",
    description:
      "aws-secret-manager: region (AWS_SECRET_MANAGER_REGION); required with that backend.",
  },
  awsSecretManagerAccessKeyId: {
    type: "string",
    secret: true,
    default: "",
    example: "<access key id>",
    description:
      "aws-secret-manager: access key id for the Airbyte services (set with --secret, with awsSecretManagerSecretAccessKey); empty: the AWS default chain (IRSA, instance profile). Connector pods always use that chain.",
  },
  awsSecretManagerSecretAccessKey: {
    type: "string",
    secret: true,
    default: "",
    example: "<secret access key>",
    description:
      "aws-secret-manager: secret access key of awsSecretManagerAccessKeyId (set with --secret).",
  },
  awsSecretManagerTags: {
    type: "array",
    default: [],
    check: checkAwsTag,
    example: "team=data",
    description:
      "aws-secret-manager: tags (`key=value`) put on the secrets Airbyte creates (AWS_SECRET_MANAGER_SECRET_TAGS).",
  },
  awsSecretManagerKmsKeyArn: {
    type: "string",
    default: "",
    check: checkKmsKeyArn,
    example: "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    description:
      "aws-secret-manager: KMS key of the secrets (AWS_KMS_KEY_ARN); empty: the account default.",
  },
  vaultAddress: {
    type: "string",
    default: "",
    check: checkHttpUrl,
    example: "https://vault.example.com:8200",
    description: "vault: address of the Vault server (VAULT_ADDRESS); required with that backend.",
  },
  vaultPrefix: {
    type: "string",
    default: "secret/",
    check: checkVaultPrefix,
    example: "secret/airbyte/",
    description: "vault: KV path prefix of Airbyte's secrets (VAULT_PREFIX).",
  },
  vaultAuthToken: {
    type: "string",
    secret: true,
    default: "",
    example: "<vault token>",
    description:
      "vault: token (set with --secret; required with that backend); Airbyte services and connector pods read it from the instance Secret.",
  },
  coreWorkerHost: {
    type: "string",
    default: "",
    check: checkHostOrIp,
    example: "core-worker-01.example.internal",
    description:
      "v1+: host name or IP address of the external PostgreSQL server core-worker-01 (required from v1).",
  },
  coreWorkerPort: {
    type: "integer",
    default: 5432,
    min: 1,
    max: 65535,
    example: "5432",
    description: "v1+: PostgreSQL port of core-worker-01.",
  },
  coreWorkerAdminUser: {
    type: "string",
    default: "postgres",
    example: "postgres",
    description:
      "v1+: admin role Pulumi uses on core-worker-01 to create roles, databases and grants (needs CREATEROLE and CREATEDB, or superuser).",
  },
  coreWorkerAdminPassword: {
    type: "string",
    secret: true,
    default: "",
    example: "<admin password>",
    description: "v1+: password of coreWorkerAdminUser (set with --secret; required from v1).",
  },
  coreWorkerAdminSuperuser: {
    type: "string",
    default: "true",
    oneOf: BOOLEANS,
    example: "false",
    description:
      "v1+: whether coreWorkerAdminUser is a superuser; false makes the provider avoid superuser-only statements (managed PostgreSQL).",
  },
  coreWorkerSslMode: {
    type: "string",
    default: "require",
    oneOf: SSL_MODES,
    example: "verify-full",
    description:
      "v1+: libpq sslmode for every connection to core-worker-01 (Pulumi's, the migration job's, the replica's).",
  },
  coreWorkerCidrs: {
    type: "array",
    default: [],
    check: checkCidr,
    example: "10.0.4.21/32",
    description:
      "v1+: addresses of core-worker-01 for the NetworkPolicies; empty uses coreWorkerHost/32 when it is an IP address, and is required when it is a name.",
  },
  replicaNamespace: {
    type: "string",
    default: "airbyte-replica",
    check: checkDnsLabel,
    example: "airbyte-replica",
    description:
      "v1+: namespace of the replica airbyte-prod-backup-replica-2; must differ from prodNamespace.",
  },
  replicaHost: {
    type: "string",
    default: "",
    check: checkHostname,
    example: "airbyte-replica.example.com",
    description:
      "v1+: public hostname of the replica (its own Ingress; register its /oauth2/callback with the OAuth client). Required from v1; must differ from prodHost.",
  },
  replicaRole: {
    type: "string",
    default: "standby",
    oneOf: REPLICA_ROLES,
    example: "standby",
    description:
      "v1+: standby keeps the replica deployed but idle (no scheduler, worker or launcher); active runs it (failover only: never two active Airbytes on one database). active also suspends the migration CronJob.",
  },
  migrationSchedule: {
    type: "string",
    default: "0 */6 * * *",
    check: checkCronSchedule,
    example: "0 */6 * * *",
    description:
      "v1: cron schedule (UTC) of the copy of prod's db-airbyte to core-worker-01; the recovery point is this interval.",
  },
  migrationImage: {
    type: "string",
    default: "",
    check: checkPinnedImage,
    example: "ghcr.io/acme/airbyte-migrate:0.1.0",
    description:
      "v1+: image of the airbyte-migrate tool built from migrations/Dockerfile, with a version tag or digest (not latest): v1's copy CronJob, v2's replication setup Job and object mirror CronJob. Required from v1.",
  },
  migrationJobs: {
    type: "integer",
    default: 2,
    min: 1,
    max: 64,
    example: "4",
    description: "v1: parallel connections per side of the migration job (the tool's --jobs).",
  },
  migrationSuspend: {
    type: "string",
    default: "false",
    oneOf: BOOLEANS,
    example: "true",
    description:
      "v1: true pauses the scheduled copies (the CronJob stays, so manual runs still work).",
  },
  hubNamespace: {
    type: "string",
    default: "airbyte-replication",
    check: checkDnsLabel,
    example: "airbyte-replication",
    description:
      "v2: namespace of the replication hub (its PostgreSQL and the setup Job); must differ from prodNamespace and replicaNamespace.",
  },
  hubExternalHost: {
    type: "string",
    default: "",
    check: checkHostOrIp,
    example: "hub.airbyte.example.internal",
    description:
      "v2: address core-worker-01 reaches the hub at: the hub LoadBalancer's IP or a DNS name for it (in the TLS certificate). Required in v2.",
  },
  hubTlsSecretName: {
    type: "string",
    default: "",
    check: checkDnsLabel,
    example: "airbyte-replication-hub-tls",
    description:
      "v2: kubernetes.io/tls Secret (in hubNamespace) the hub serves TLS from; empty means `airbyte-replication-hub-tls` (issued by cert-manager when hubCertManagerIssuer is set).",
  },
  hubCertManagerIssuer: {
    type: "string",
    default: "",
    check: checkDnsLabel,
    example: "internal-ca",
    description:
      "v2: cert-manager ClusterIssuer that issues the hub's certificate for hubExternalHost; empty: bring your own Secret.",
  },
  objectMirrorSchedule: {
    type: "string",
    default: "*/15 * * * *",
    check: checkCronSchedule,
    example: "*/15 * * * *",
    description:
      "v2: cron schedule (UTC) of the mirror of prod's MinIO buckets to the replica's (the objects' recovery point).",
  },
  activeInstance: {
    type: "string",
    default: "prod",
    oneOf: ACTIVE_INSTANCES,
    example: "replica",
    description:
      "v2: which Airbyte serves prodHost. replica (after `airbyte-migrate failover`) moves prod's host to the replica's Ingress and needs replicaRole active.",
  },
} satisfies Record<string, KeySpec>;

export type ConfigKey = keyof typeof CONFIG_SCHEMA;
