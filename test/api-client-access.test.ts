/**
 * API clients through the front door (`apiClientAccess`): the rendered Ingress sends the public
 * API and the token endpoint to the Airbyte server, whose own authentication is then on, and every
 * other path to the OAuth2 Proxy, whose routes stay as they were (no skip-auth route).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { API_CLIENT_PATHS } from "../components/ingress";
import { runPolicies } from "../policy/offline";
import { API_CLIENT_ROUTES } from "../policy/policies";
import { VALID_V0 } from "./support/config";
import { VALID_V1, runV1Stack } from "./support/config-v1";
import { Graph, RecordedResource } from "./support/graph";
import { runStack } from "./support/stack";

interface IngressPath {
  path: string;
  pathType: "Prefix" | "Exact";
  backend: { service: { name: string; port: { number: number } } };
}

function pathsOf(ingress: RecordedResource): IngressPath[] {
  const spec = ingress.inputs.spec as { rules: { http: { paths: IngressPath[] } }[] };
  expect(spec.rules).toHaveLength(1);
  return spec.rules[0].http.paths;
}

/**
 * The Service a request path reaches, by the Ingress API's matching rules: Exact or element-wise
 * Prefix, longest path wins, Exact before Prefix at equal length. The request path is the one
 * ingress-nginx matches on: percent-decoded, dot segments resolved.
 */
function route(paths: IngressPath[], requestPath: string): string | undefined {
  const normalized = new URL(decodeURIComponent(requestPath), "https://h").pathname;
  const matches = paths.filter((p) =>
    p.pathType === "Exact"
      ? normalized === p.path
      : p.path === "/" ||
        normalized === p.path.replace(/\/$/, "") ||
        normalized.startsWith(`${p.path.replace(/\/$/, "")}/`),
  );
  matches.sort((a, b) => b.path.length - a.path.length || (a.pathType === "Exact" ? -1 : 1));
  return matches[0]?.backend.service.name;
}

const TO_SERVER = [
  "/api/public/v1/applications/token",
  "/api/public/v1/workspaces",
  "/api/public/v1/connections/abc/jobs?limit=5",
  "/api/public",
  "/api/v1/applications/token",
];
const TO_PROXY = [
  "/",
  "/workspaces/abc/connections",
  "/api/v1/workspaces/list",
  "/api/v1/applications/list",
  "/api/v1/applications/token/extra",
  "/api/v1/applications/tokens",
  "/api/v1/dataplanes/token",
  "/api/v1/connector_builder/stream/read",
  "/api/publicity",
  "/api/public/../v1/workspaces/list",
  "/api/public/%2e%2e/v1/workspaces/list",
  "/temporal/namespaces/default",
  "/oauth2/callback",
];

function configOf(graph: Graph, instance: string): Record<string, string> {
  return graph.one("ConfigMap", `${instance}-airbyte-env`).inputs.data as Record<string, string>;
}
function proxySettings(graph: Graph, instance: string): Record<string, string> {
  return graph.one("ConfigMap", `${instance}-oauth2-proxy-settings`).inputs.data as Record<
    string,
    string
  >;
}

describe("API client access", () => {
  let off: Graph;
  let on: Graph;
  let onV1: Graph;
  beforeAll(async () => {
    off = await runStack(VALID_V0);
    on = await runStack({ ...VALID_V0, apiClientAccess: "true" });
    onV1 = await runV1Stack({ ...VALID_V1, apiClientAccess: "true" });
  });

  it("is off by default: one path, to the proxy, and Airbyte's own authentication off", () => {
    const paths = pathsOf(off.one("Ingress", "airbyte-prod"));
    expect(paths.map((p) => [p.path, p.backend.service.name])).toEqual([
      ["/", "airbyte-prod-oauth2-proxy"],
    ]);
    expect(configOf(off, "airbyte-prod").API_AUTHORIZATION_ENABLED).toBe("false");
  });

  it("routes the public API and the token endpoint to the server, everything else to the proxy", () => {
    const paths = pathsOf(on.one("Ingress", "airbyte-prod"));
    expect(paths.map((p) => [p.path, p.pathType, p.backend.service.name])).toEqual([
      ["/api/public", "Prefix", "airbyte-prod-server"],
      ["/api/v1/applications/token", "Exact", "airbyte-prod-server"],
      ["/", "Prefix", "airbyte-prod-oauth2-proxy"],
    ]);
    const server = on.one("Service", "airbyte-prod-server");
    const ports = (server.inputs.spec as { ports: { port: number }[] }).ports.map((p) => p.port);
    for (const p of paths.slice(0, 2)) expect(ports).toContain(p.backend.service.port.number);
    for (const r of TO_SERVER) expect(route(paths, r), r).toBe("airbyte-prod-server");
    for (const r of TO_PROXY) expect(route(paths, r), r).toBe("airbyte-prod-oauth2-proxy");
  });

  it("turns Airbyte's own authentication on, which then guards those routes", () => {
    expect(configOf(on, "airbyte-prod").API_AUTHORIZATION_ENABLED).toBe("true");
  });

  it("leaves the proxy's routes as they were: same upstreams, no route skips its sign-in", () => {
    const a = proxySettings(off, "airbyte-prod");
    const b = proxySettings(on, "airbyte-prod");
    expect(b).toEqual(a);
    expect(Object.keys(b).filter((k) => /SKIP_AUTH|TRUSTED_IP|SKIP_JWT/.test(k))).toEqual([]);
    const proxy = on.one("Deployment", "airbyte-prod-oauth2-proxy");
    const env = JSON.stringify(proxy.inputs.spec);
    expect(env).not.toMatch(/SKIP_AUTH|TRUSTED_IP|SKIP_JWT_BEARER/);
  });

  it("applies to the replica too, each Ingress to its own server", () => {
    for (const inst of ["airbyte-prod", "airbyte-prod-backup-replica-2"]) {
      const paths = pathsOf(onV1.one("Ingress", inst));
      expect(route(paths, "/api/public/v1/workspaces")).toBe(`${inst}-server`);
      expect(route(paths, "/api/v1/workspaces/list")).toBe(`${inst}-oauth2-proxy`);
      expect(configOf(onV1, inst).API_AUTHORIZATION_ENABLED).toBe("true");
    }
  });

  it("names only the public API and the token endpoint, as the policy pack does", () => {
    expect(API_CLIENT_PATHS.map((p) => p.path)).toEqual([
      "/api/public",
      "/api/v1/applications/token",
    ]);
    expect(API_CLIENT_ROUTES).toEqual(API_CLIENT_PATHS.map((p) => ({ ...p })));
  });

  it("passes the policy pack, which refuses the route when Airbyte's authentication is off", () => {
    expect(runPolicies(on.resources)).toEqual([]);
    expect(runPolicies(onV1.resources)).toEqual([]);
    const authOff = on.resources.map((r) =>
      r.inputs.kind === "ConfigMap" &&
      (r.inputs.metadata as { name: string }).name === "airbyte-prod-airbyte-env"
        ? {
            ...r,
            inputs: {
              ...r.inputs,
              data: { ...(r.inputs.data as object), API_AUTHORIZATION_ENABLED: "false" },
            },
          }
        : r,
    );
    expect(runPolicies(authOff).map((v) => v.message)).toEqual([
      expect.stringMatching(
        /routes API clients \(\/api\/public\) to 'airbyte-prod-server' while Airbyte's own authentication is off/,
      ),
      expect.stringMatching(/\(\/api\/v1\/applications\/token\) to 'airbyte-prod-server'/),
    ]);
    // Any other path to the server is a bypass, whatever Airbyte's setting.
    const widened = on.resources.map((r) => {
      if (r.inputs.kind !== "Ingress") return r;
      const inputs = structuredClone(r.inputs) as {
        spec: { rules: { http: { paths: IngressPath[] } }[] };
      };
      inputs.spec.rules[0].http.paths[0].path = "/api/v1";
      return { ...r, inputs: inputs as unknown as typeof r.inputs };
    });
    expect(runPolicies(widened).map((v) => v.policy)).toEqual(["ingress-only-to-oauth2-proxy"]);
  });
});
