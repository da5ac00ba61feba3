/**
 * The public entry of one Airbyte instance: one host, TLS, a source-range allowlist, routed to
 * the OAuth2 Proxy (DESIGN D4). The only other route it can express is the fixed API-client one
 * ({@link API_CLIENT_PATHS}), to the Airbyte server, whose own token authentication must then be
 * on: no argument names a path, so nothing else can bypass the proxy.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { LabelSpec } from "../infra/naming";
import { objectMeta } from "./lib/kube";

export interface IngressArgs {
  /** Namespace of the Ingress; the same as the proxy's Service. */
  namespace: pulumi.Input<string>;
  /** Prefix of the object name: `<instanceName>`. */
  instanceName: string;
  /** Public hostname, e.g. `airbyte.example.com`. */
  host: pulumi.Input<string>;
  /** The OAuth2 Proxy Service: the backend of every path but the API-client ones. */
  backend: { serviceName: pulumi.Input<string>; port: pulumi.Input<number> };
  /**
   * The Airbyte server Service, for API clients: {@link API_CLIENT_PATHS} go to it directly, under
   * Airbyte's own authentication (the caller turns `API_AUTHORIZATION_ENABLED` on). Default: none,
   * everything goes to the proxy.
   */
  apiClients?: { serviceName: pulumi.Input<string>; port: pulumi.Input<number> };
  /** CIDR blocks allowed in. At least one. */
  allowedSourceRanges: string[];
  /** Default: `nginx`. */
  className?: pulumi.Input<string>;
  /** TLS Secret for the host. Default: `<instanceName>-tls`. */
  tlsSecretName?: pulumi.Input<string>;
  /** When set, cert-manager issues `tlsSecretName` from this ClusterIssuer. Default: none. */
  certManagerClusterIssuer?: pulumi.Input<string>;
  /** Read and send timeout in seconds. Default: 3600 (long Airbyte API calls). */
  proxyTimeoutSeconds?: number;
  /** Largest request body in MB. Default: 50 (the server aggregates up to 50 MB). */
  proxyBodySizeMb?: number;
}

const NGINX = "nginx.ingress.kubernetes.io";

/**
 * What API clients need of Airbyte 2.0 (airbyte-platform v2.0.0): the public API, served under
 * `/api/public/v1` (airbyte-server/src/main/kotlin/io/airbyte/server/apis/publicapi/, e.g.
 * HealthController `/api/public/v1/health`), with its token endpoint
 * `/api/public/v1/applications/token` that the Terraform provider and the SDKs use
 * (airbyte-api/server-api/src/main/openapi/api_terraform.yaml `tokenUrl: /applications/token`);
 * and the config API's `POST /api/v1/applications/token` (config.yaml, servers `.../api`;
 * ApplicationsController.applicationTokenRequest is `@Secured(IS_ANONYMOUS)`: it checks the
 * application's client id and secret itself). Every other route stays behind the proxy.
 * ingress-nginx matches these against the normalized path (dot segments resolved), so
 * `/api/public/../v1/...` goes to the proxy.
 */
export const API_CLIENT_PATHS = [
  { path: "/api/public", pathType: "Prefix" },
  { path: "/api/v1/applications/token", pathType: "Exact" },
] as const;

export class Ingress extends pulumi.ComponentResource {
  public readonly url: pulumi.Output<string>;
  public readonly host: pulumi.Output<string>;
  public readonly ingressName: pulumi.Output<string>;
  public readonly tlsSecretName: pulumi.Output<string>;

  constructor(name: string, args: IngressArgs, opts?: pulumi.ComponentResourceOptions) {
    super("airbyte:network:Ingress", name, {}, opts);
    if (args.allowedSourceRanges.length === 0) {
      throw new Error("Ingress: allowedSourceRanges must name at least one CIDR block");
    }

    const labels: LabelSpec = {
      name: "ingress",
      instance: args.instanceName,
      component: "network",
    };
    const timeout = String(args.proxyTimeoutSeconds ?? 3600);
    const sourceRanges = args.allowedSourceRanges.join(",");
    const tlsSecretName = args.tlsSecretName ?? `${args.instanceName}-tls`;

    const annotations: Record<string, pulumi.Input<string>> = {
      // Both spellings: controllers before 1.9 read only the older one.
      [`${NGINX}/allowlist-source-range`]: sourceRanges,
      [`${NGINX}/whitelist-source-range`]: sourceRanges,
      [`${NGINX}/force-ssl-redirect`]: "true",
      [`${NGINX}/proxy-read-timeout`]: timeout,
      [`${NGINX}/proxy-send-timeout`]: timeout,
      [`${NGINX}/proxy-body-size`]: `${args.proxyBodySizeMb ?? 50}m`,
      // OAuth2 Proxy's session cookies overflow nginx's default 4k header buffer (502s).
      [`${NGINX}/proxy-buffer-size`]: "16k",
      ...(args.certManagerClusterIssuer
        ? { "cert-manager.io/cluster-issuer": args.certManagerClusterIssuer }
        : {}),
    };

    const api = args.apiClients;
    const apiRoutes = api ? API_CLIENT_PATHS.map((p) => ({ ...p, backend: backendOf(api) })) : [];
    const ingress = new k8s.networking.v1.Ingress(
      `${name}-ingress`,
      {
        metadata: objectMeta(args.namespace, args.instanceName, labels, annotations),
        spec: {
          ingressClassName: args.className ?? "nginx",
          tls: [{ hosts: [args.host], secretName: tlsSecretName }],
          rules: [
            {
              host: args.host,
              http: {
                paths: [
                  ...apiRoutes,
                  { path: "/", pathType: "Prefix", backend: backendOf(args.backend) },
                ],
              },
            },
          ],
        },
      },
      { parent: this },
    );

    this.host = pulumi.output(args.host);
    this.url = pulumi.interpolate`https://${args.host}`;
    this.ingressName = ingress.metadata.name;
    this.tlsSecretName = pulumi.output(tlsSecretName);
    this.registerOutputs({
      url: this.url,
      host: this.host,
      ingressName: this.ingressName,
      tlsSecretName: this.tlsSecretName,
    });
  }
}

function backendOf(b: { serviceName: pulumi.Input<string>; port: pulumi.Input<number> }) {
  return { service: { name: b.serviceName, port: { number: b.port } } };
}
