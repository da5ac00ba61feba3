/**
 * The public entry of one Airbyte instance: one host, TLS, a source-range allowlist, routed to
 * the OAuth2 Proxy and nothing else (DESIGN D4). Taking a single backend makes a route that
 * bypasses authentication impossible to express.
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
  /** The OAuth2 Proxy Service: the only backend. */
  backend: { serviceName: pulumi.Input<string>; port: pulumi.Input<number> };
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
                  {
                    path: "/",
                    pathType: "Prefix",
                    backend: {
                      service: {
                        name: args.backend.serviceName,
                        port: { number: args.backend.port },
                      },
                    },
                  },
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
