/**
 * The OAuth2 Proxy in front of one Airbyte instance: the only thing the Ingress reaches
 * (DESIGN D4). It signs users in with the configured provider and forwards them to Airbyte and
 * the Temporal UI.
 */
import * as pulumi from "@pulumi/pulumi";
import { IMAGES } from "../infra/versions";
import { LabelSpec, imageTag } from "../infra/naming";
import {
  ResourceBounds,
  configMap,
  configMapEnv,
  containerSecurityContext,
  deployment,
  httpProbe,
  opaqueSecret,
  plainEnv,
  podDisruptionBudget,
  podSecurityContext,
  resources,
  secretEnv,
  service,
  serviceHost,
} from "./lib/kube";
import { generatedPassword } from "./lib/secrets";

/** The distroless image's `nonroot` user. */
const NONROOT_UID = 65532;
const HTTP_PORT = 4180;
const SERVICE_PORT = 80;
const EMAILS_FILE_DIR = "/etc/oauth2-proxy";

/** A path prefix routed to an in-cluster upstream. */
export interface Upstream {
  /** Path prefix, starting and ending with `/`, e.g. `/temporal/`. */
  path: string;
  /** `http://<host>:<port>` of the upstream. */
  url: pulumi.Input<string>;
}

export interface OAuth2ProxyArgs {
  /** Namespace to deploy into. */
  namespace: pulumi.Input<string>;
  /** Prefix of every object name: `<instanceName>-oauth2-proxy`. */
  instanceName: string;
  /** The public URL users reach, e.g. `https://airbyte.example.com`; the callback hangs off it. */
  externalUrl: pulumi.Input<string>;
  /** Identity provider: google, github, gitlab, azure, oidc, keycloak-oidc. */
  provider: pulumi.Input<string>;
  clientId: pulumi.Input<string>;
  /** OAuth client secret; a Pulumi secret. */
  clientSecret: pulumi.Input<string>;
  /** Issuer URL, for the oidc and keycloak-oidc providers. Default: none. */
  oidcIssuerUrl?: pulumi.Input<string>;
  /** Addresses allowed in. Default: none (then domains decide). */
  allowedEmails?: string[];
  /** Domains allowed in (`*` for any). Default: none (then only `allowedEmails`). */
  allowedEmailDomains?: string[];
  /** Where signed-in requests go, by path prefix; longest prefix wins. At least one. */
  upstreams: Upstream[];
  /** How long an upstream may take to answer, in seconds. Default: 3600 (schema discovery). */
  upstreamTimeoutSeconds?: number;
  /** Default: 2 (stateless: sessions live in the encrypted cookie). */
  replicas?: pulumi.Input<number>;
  /** Default: 50m/64Mi requested, 500m/256Mi limit. */
  resources?: ResourceBounds;
}

const DEFAULT_RESOURCES: ResourceBounds = {
  requests: { cpu: "50m", memory: "64Mi" },
  limits: { cpu: "500m", memory: "256Mi" },
};

export class OAuth2Proxy extends pulumi.ComponentResource {
  public readonly serviceName: pulumi.Output<string>;
  /** In-cluster DNS name. */
  public readonly host: pulumi.Output<string>;
  /** Service port (named `http`). */
  public readonly port: pulumi.Output<number>;
  /** Secret holding the client and cookie secrets. */
  public readonly secretName: pulumi.Output<string>;

  constructor(name: string, args: OAuth2ProxyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("airbyte:auth:OAuth2Proxy", name, {}, opts);

    const emails = args.allowedEmails ?? [];
    const domains = args.allowedEmailDomains ?? [];
    if (emails.length === 0 && domains.length === 0) {
      throw new Error("OAuth2Proxy: allowedEmails or allowedEmailDomains must name someone");
    }
    if (args.upstreams.length === 0) throw new Error("OAuth2Proxy: upstreams must not be empty");
    for (const u of args.upstreams) {
      if (!/^\/([A-Za-z0-9._~-]+\/)*$/.test(u.path)) {
        throw new Error(`OAuth2Proxy: upstreams: path '${u.path}' must start and end with '/'`);
      }
    }

    const objectName = `${args.instanceName}-oauth2-proxy`;
    const labels: LabelSpec = {
      name: "oauth2-proxy",
      instance: args.instanceName,
      component: "auth",
      version: imageTag(IMAGES.oauth2Proxy),
    };
    const child = { parent: this };

    // 32 bytes: the AES-256 key size the proxy requires of a cookie secret.
    const cookieSecret = generatedPassword(`${name}-cookie-secret`, this, 32);
    const secret = opaqueSecret(
      `${name}-secret`,
      {
        namespace: args.namespace,
        name: objectName,
        labels,
        data: { "client-secret": args.clientSecret, "cookie-secret": cookieSecret },
      },
      child,
    );

    const emailsConfig = configMap(
      `${name}-allowed-emails`,
      {
        namespace: args.namespace,
        name: `${objectName}-allowed-emails`,
        labels,
        data: { "emails.txt": emails.map((e) => `${e}\n`).join("") },
      },
      child,
    );
    const settings = configMap(
      `${name}-settings`,
      {
        namespace: args.namespace,
        name: `${objectName}-settings`,
        labels,
        data: {
          OAUTH2_PROXY_PROVIDER: args.provider,
          OAUTH2_PROXY_CLIENT_ID: args.clientId,
          OAUTH2_PROXY_REDIRECT_URL: pulumi.interpolate`${args.externalUrl}/oauth2/callback`,
          OAUTH2_PROXY_UPSTREAMS: upstreamList(args.upstreams),
          ...(domains.length ? { OAUTH2_PROXY_EMAIL_DOMAINS: domains.join(",") } : {}),
          ...(args.oidcIssuerUrl ? { OAUTH2_PROXY_OIDC_ISSUER_URL: args.oidcIssuerUrl } : {}),
        },
      },
      child,
    );

    const settingsKeys = [
      "OAUTH2_PROXY_PROVIDER",
      "OAUTH2_PROXY_CLIENT_ID",
      "OAUTH2_PROXY_REDIRECT_URL",
      "OAUTH2_PROXY_UPSTREAMS",
      ...(domains.length ? ["OAUTH2_PROXY_EMAIL_DOMAINS"] : []),
      ...(args.oidcIssuerUrl ? ["OAUTH2_PROXY_OIDC_ISSUER_URL"] : []),
    ];
    deployment(
      `${name}-deployment`,
      {
        namespace: args.namespace,
        name: objectName,
        labels,
        replicas: args.replicas ?? 2,
        securityContext: podSecurityContext(NONROOT_UID),
        // A new redirect URL (failover) or a rotated client secret restarts the proxy.
        reads: [settings, secret, emailsConfig],
        containers: [
          {
            name: "oauth2-proxy",
            image: IMAGES.oauth2Proxy,
            ports: [{ name: "http", containerPort: HTTP_PORT }],
            env: [
              ...settingsKeys.map((k) => configMapEnv(k, settings.metadata.name)),
              secretEnv("OAUTH2_PROXY_CLIENT_SECRET", secret.metadata.name, "client-secret"),
              secretEnv("OAUTH2_PROXY_COOKIE_SECRET", secret.metadata.name, "cookie-secret"),
              ...plainEnv({
                OAUTH2_PROXY_HTTP_ADDRESS: `0.0.0.0:${HTTP_PORT}`,
                OAUTH2_PROXY_AUTHENTICATED_EMAILS_FILE: `${EMAILS_FILE_DIR}/emails.txt`,
                OAUTH2_PROXY_COOKIE_SECURE: "true",
                OAUTH2_PROXY_COOKIE_SAMESITE: "lax",
                // Behind ingress-nginx: trust its X-Forwarded-* headers for scheme and client IP.
                OAUTH2_PROXY_REVERSE_PROXY: "true",
                OAUTH2_PROXY_UPSTREAM_TIMEOUT: `${args.upstreamTimeoutSeconds ?? 3600}s`,
                OAUTH2_PROXY_SKIP_PROVIDER_BUTTON: "true",
                OAUTH2_PROXY_SILENCE_PING_LOGGING: "true",
              }),
            ],
            livenessProbe: httpProbe("/ping", "http"),
            readinessProbe: httpProbe("/ready", "http"),
            resources: resources(args.resources ?? DEFAULT_RESOURCES),
            securityContext: containerSecurityContext(),
            volumeMounts: [{ name: "allowed-emails", mountPath: EMAILS_FILE_DIR, readOnly: true }],
          },
        ],
        volumes: [{ name: "allowed-emails", configMap: { name: emailsConfig.metadata.name } }],
      },
      child,
    );

    // Two replicas by default: keep one serving through node drains.
    podDisruptionBudget(
      `${name}-pdb`,
      { namespace: args.namespace, name: objectName, labels },
      child,
    );

    const svc = service(
      `${name}-service`,
      {
        namespace: args.namespace,
        name: objectName,
        labels,
        ports: [{ name: "http", port: SERVICE_PORT, targetPort: "http" }],
      },
      child,
    );

    this.serviceName = svc.metadata.name;
    this.host = serviceHost(svc.metadata.name, args.namespace);
    this.port = pulumi.output(SERVICE_PORT);
    this.secretName = secret.metadata.name;
    this.registerOutputs({
      serviceName: this.serviceName,
      host: this.host,
      port: this.port,
      secretName: this.secretName,
    });
  }
}

/** The proxy's `--upstream` list: a URL whose path is the prefix it serves. */
function upstreamList(upstreams: Upstream[]): pulumi.Output<string> {
  return pulumi
    .all(upstreams.map((u) => pulumi.interpolate`${u.url}${u.path}`))
    .apply((urls) => urls.join(","));
}
