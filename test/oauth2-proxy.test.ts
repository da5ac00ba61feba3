import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { OAuth2Proxy } from "../components/oauth2-proxy";
import { IMAGES } from "../infra/versions";
import { Graph, envOf, podSpecOf, runGraph } from "./support/graph";
import { expectRestrictedWorkload } from "./support/workload-checks";

const CLIENT_SECRET = "oauth-client-secret-for-tests";

describe("OAuth2Proxy", () => {
  let graph: Graph;
  beforeAll(async () => {
    graph = await runGraph(() => {
      new OAuth2Proxy("prod-proxy", {
        namespace: "airbyte-prod",
        instanceName: "airbyte-prod",
        externalUrl: "https://airbyte.example.com",
        provider: "github",
        clientId: "client-123",
        clientSecret: pulumi.secret(CLIENT_SECRET),
        allowedEmails: ["ops@example.com", "data@example.com"],
        upstreams: [
          {
            path: "/",
            url: "http://airbyte-prod-airbyte-server-svc.airbyte-prod.svc.cluster.local:8001",
          },
          {
            path: "/temporal/",
            url: "http://airbyte-prod-temporal-ui.airbyte-prod.svc.cluster.local:8080",
          },
        ],
      });
    });
  });

  it("runs the pinned proxy behind a Service on port 80", () => {
    const d = graph.one("Deployment", "airbyte-prod-oauth2-proxy");
    expect(podSpecOf(d).containers[0].image).toBe(IMAGES.oauth2Proxy);
    expect((d.inputs.spec as { replicas: number }).replicas).toBe(2);
    const svc = graph.one("Service", "airbyte-prod-oauth2-proxy");
    expect((svc.inputs.spec as { ports: unknown[] }).ports).toEqual([
      { name: "http", port: 80, targetPort: "http", protocol: "TCP" },
    ]);
    expectRestrictedWorkload(d);
  });

  it("routes each path prefix to its upstream and calls back on the external URL", () => {
    const settings = graph.one("ConfigMap", "airbyte-prod-oauth2-proxy-settings");
    const data = settings.inputs.data as Record<string, string>;
    expect(data.OAUTH2_PROXY_UPSTREAMS).toBe(
      "http://airbyte-prod-airbyte-server-svc.airbyte-prod.svc.cluster.local:8001/," +
        "http://airbyte-prod-temporal-ui.airbyte-prod.svc.cluster.local:8080/temporal/",
    );
    expect(data.OAUTH2_PROXY_REDIRECT_URL).toBe("https://airbyte.example.com/oauth2/callback");
    expect(data.OAUTH2_PROXY_PROVIDER).toBe("github");
    expect(data.OAUTH2_PROXY_EMAIL_DOMAINS).toBeUndefined();
  });

  it("lets in only the listed addresses", () => {
    const emails = graph.one("ConfigMap", "airbyte-prod-oauth2-proxy-allowed-emails");
    expect((emails.inputs.data as Record<string, string>)["emails.txt"]).toBe(
      "ops@example.com\ndata@example.com\n",
    );
    const env = envOf(
      podSpecOf(graph.one("Deployment", "airbyte-prod-oauth2-proxy")).containers[0],
    );
    expect(env.get("OAUTH2_PROXY_AUTHENTICATED_EMAILS_FILE")?.value).toBe(
      "/etc/oauth2-proxy/emails.txt",
    );
    expect(env.get("OAUTH2_PROXY_COOKIE_SECURE")?.value).toBe("true");
  });

  it("delivers the client and generated cookie secrets only through a Secret", () => {
    const secret = graph.one("Secret", "airbyte-prod-oauth2-proxy");
    expect(secret.secretPaths).toContain("stringData");
    const data = secret.inputs.stringData as Record<string, string>;
    expect(data["client-secret"]).toBe(CLIENT_SECRET);
    expect(data["cookie-secret"]).toHaveLength(32);
    const env = envOf(
      podSpecOf(graph.one("Deployment", "airbyte-prod-oauth2-proxy")).containers[0],
    );
    expect(env.get("OAUTH2_PROXY_CLIENT_SECRET")?.valueFrom?.secretKeyRef?.key).toBe(
      "client-secret",
    );
    expect(env.get("OAUTH2_PROXY_COOKIE_SECRET")?.valueFrom?.secretKeyRef?.key).toBe(
      "cookie-secret",
    );
    for (const cm of graph.kube("ConfigMap")) {
      expect(JSON.stringify(cm.inputs)).not.toContain(CLIENT_SECRET);
      expect(JSON.stringify(cm.inputs)).not.toContain(data["cookie-secret"]);
    }
  });

  it("parents every child and registers its outputs", () => {
    const component = graph.components("airbyte:auth:OAuth2Proxy")[0];
    expect(graph.descendantsOf(component)).toHaveLength(graph.resources.length - 2);
    expect(component.outputs).toEqual({
      serviceName: "airbyte-prod-oauth2-proxy",
      host: "airbyte-prod-oauth2-proxy.airbyte-prod.svc.cluster.local",
      port: 80,
      secretName: "airbyte-prod-oauth2-proxy",
    });
  });

  it("refuses a configuration that would lock everyone out or mis-route", () => {
    const base = {
      namespace: "x",
      instanceName: "x",
      externalUrl: "https://x.example.com",
      provider: "google",
      clientId: "id",
      clientSecret: "s",
      upstreams: [{ path: "/", url: "http://a:1" }],
    };
    expect(() => new OAuth2Proxy("a", base)).toThrow(/allowedEmails or allowedEmailDomains/);
    expect(
      () =>
        new OAuth2Proxy("b", {
          ...base,
          allowedEmailDomains: ["*"],
          upstreams: [{ path: "temporal", url: "http://a:1" }],
        }),
    ).toThrow(/path 'temporal' must start and end with '\/'/);
  });
});
