import { beforeAll, describe, expect, it } from "vitest";
import { Ingress } from "../components/ingress";
import { Graph, metadataOf, runGraph } from "./support/graph";

describe("Ingress", () => {
  let graph: Graph;
  beforeAll(async () => {
    graph = await runGraph(() => {
      new Ingress("prod-ingress", {
        namespace: "airbyte-prod",
        instanceName: "airbyte-prod",
        host: "airbyte.example.com",
        backend: { serviceName: "airbyte-prod-oauth2-proxy", port: 80 },
        allowedSourceRanges: ["203.0.113.0/24", "198.51.100.7/32"],
        certManagerClusterIssuer: "letsencrypt-prod",
      });
      new Ingress("other-ingress", {
        namespace: "airbyte-replica",
        instanceName: "airbyte-replica",
        host: "replica.example.com",
        backend: { serviceName: "airbyte-replica-oauth2-proxy", port: 80 },
        allowedSourceRanges: ["10.0.0.0/8"],
        className: "internal-nginx",
        tlsSecretName: "wildcard-tls",
        proxyTimeoutSeconds: 600,
        proxyBodySizeMb: 10,
      });
    });
  });

  it("routes the whole host to the OAuth2 Proxy only, over TLS", () => {
    const ing = graph.one("Ingress", "airbyte-prod");
    const spec = ing.inputs.spec as Record<string, unknown>;
    expect(spec.ingressClassName).toBe("nginx");
    expect(spec.tls).toEqual([{ hosts: ["airbyte.example.com"], secretName: "airbyte-prod-tls" }]);
    expect(spec.rules).toEqual([
      {
        host: "airbyte.example.com",
        http: {
          paths: [
            {
              path: "/",
              pathType: "Prefix",
              backend: { service: { name: "airbyte-prod-oauth2-proxy", port: { number: 80 } } },
            },
          ],
        },
      },
    ]);
  });

  it("carries the allowlist, long timeouts, body size and cert-manager issuer", () => {
    const a = metadataOf(graph.one("Ingress", "airbyte-prod")).annotations ?? {};
    expect(a["nginx.ingress.kubernetes.io/whitelist-source-range"]).toBe(
      "203.0.113.0/24,198.51.100.7/32",
    );
    expect(a["nginx.ingress.kubernetes.io/allowlist-source-range"]).toBe(
      "203.0.113.0/24,198.51.100.7/32",
    );
    expect(a["nginx.ingress.kubernetes.io/proxy-read-timeout"]).toBe("3600");
    expect(a["nginx.ingress.kubernetes.io/proxy-send-timeout"]).toBe("3600");
    expect(a["nginx.ingress.kubernetes.io/proxy-body-size"]).toBe("50m");
    expect(a["nginx.ingress.kubernetes.io/force-ssl-redirect"]).toBe("true");
    expect(a["cert-manager.io/cluster-issuer"]).toBe("letsencrypt-prod");
  });

  it("takes overrides", () => {
    const ing = graph.one("Ingress", "airbyte-replica");
    const spec = ing.inputs.spec as { ingressClassName: string; tls: { secretName: string }[] };
    expect(spec.ingressClassName).toBe("internal-nginx");
    expect(spec.tls[0].secretName).toBe("wildcard-tls");
    const a = metadataOf(ing).annotations ?? {};
    expect(a["nginx.ingress.kubernetes.io/proxy-read-timeout"]).toBe("600");
    expect(a["nginx.ingress.kubernetes.io/proxy-body-size"]).toBe("10m");
    expect(a["cert-manager.io/cluster-issuer"]).toBeUndefined();
  });

  it("parents its object and registers outputs", () => {
    const [prod] = graph.components("airbyte:network:Ingress");
    expect(graph.childrenOf(prod).map((r) => r.type)).toEqual([
      "kubernetes:networking.k8s.io/v1:Ingress",
    ]);
    expect(prod.outputs).toEqual({
      url: "https://airbyte.example.com",
      host: "airbyte.example.com",
      ingressName: "airbyte-prod",
      tlsSecretName: "airbyte-prod-tls",
    });
  });

  it("refuses an empty allowlist", () => {
    expect(
      () =>
        new Ingress("open", {
          namespace: "x",
          instanceName: "x",
          host: "x.example.com",
          backend: { serviceName: "p", port: 80 },
          allowedSourceRanges: [],
        }),
    ).toThrow(/allowedSourceRanges must name at least one CIDR block/);
  });
});
