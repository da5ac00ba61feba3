import { beforeAll, describe, expect, it } from "vitest";
import { TemporalAdmin } from "../components/temporal-admin";
import { IMAGES } from "../infra/versions";
import { Graph, envOf, metadataOf, podSpecOf, runGraph } from "./support/graph";
import { expectRestrictedWorkload } from "./support/workload-checks";

const TYPE = "airbyte:temporal:TemporalAdmin";
const ADDRESS = "airbyte-prod-temporal.airbyte-prod.svc.cluster.local:7233";

describe("TemporalAdmin (defaults)", () => {
  let graph: Graph;
  beforeAll(async () => {
    graph = await runGraph(() => {
      new TemporalAdmin("prod-temporal-admin", {
        namespace: "airbyte-prod",
        instanceName: "airbyte-prod",
        temporalAddress: ADDRESS,
      });
    });
  });

  it("creates the admin tools, the UI and the UI's Service only", () => {
    const kinds = graph.resources
      .filter((r) => r.type.startsWith("kubernetes:"))
      .map((r) => `${String(r.inputs.kind)}/${metadataOf(r).name}`)
      .sort();
    expect(kinds).toEqual([
      "Deployment/airbyte-prod-temporal-admin-tools",
      "Deployment/airbyte-prod-temporal-ui",
      "Service/airbyte-prod-temporal-ui",
    ]);
    expect(graph.one("Service", "airbyte-prod-temporal-ui").inputs.spec).toMatchObject({
      type: "ClusterIP",
      ports: [{ name: "http", port: 8080, targetPort: "http", protocol: "TCP" }],
    });
  });

  it("serves the UI under /temporal, pointed at Temporal, without auth of its own", () => {
    const c = podSpecOf(graph.one("Deployment", "airbyte-prod-temporal-ui")).containers[0];
    expect(c.image).toBe(IMAGES.temporalUi);
    const env = envOf(c);
    expect(env.get("TEMPORAL_ADDRESS")?.value).toBe(ADDRESS);
    expect(env.get("TEMPORAL_UI_PUBLIC_PATH")?.value).toBe("/temporal");
    expect(env.get("TEMPORAL_UI_PORT")?.value).toBe("8080");
    expect(env.get("TEMPORAL_AUTH_ENABLED")?.value).toBe("false");
    expect(env.get("TEMPORAL_CSRF_COOKIE_INSECURE")?.value).toBe("false");
    expect(env.get("TEMPORAL_DEFAULT_NAMESPACE")?.value).toBe("default");
    expect(env.has("TEMPORAL_CORS_ORIGINS")).toBe(false);
    expect(c.ports).toEqual([{ name: "http", containerPort: 8080 }]);
    expect(c.livenessProbe).toMatchObject({ httpGet: { path: "/healthz", port: "http" } });
    expect(c.readinessProbe).toMatchObject({ httpGet: { path: "/healthz", port: "http" } });
  });

  it("keeps the UI's root filesystem read-only, rendering its config onto an emptyDir", () => {
    const pod = podSpecOf(graph.one("Deployment", "airbyte-prod-temporal-ui"));
    expect(pod.securityContext).toMatchObject({ runAsUser: 5000, runAsNonRoot: true });
    expect(pod.containers[0].securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(pod.containers[0].volumeMounts).toEqual([
      { name: "config", mountPath: "/home/ui-server/config" },
    ]);
  });

  it("runs an idle admin-tools pod that knows the Temporal address", () => {
    const pod = podSpecOf(graph.one("Deployment", "airbyte-prod-temporal-admin-tools"));
    const c = pod.containers[0];
    expect(c.image).toBe(IMAGES.temporalAdminTools);
    expect(c.command).toBeUndefined();
    const env = envOf(c);
    expect(env.get("TEMPORAL_ADDRESS")?.value).toBe(ADDRESS);
    expect(env.get("TEMPORAL_CLI_ADDRESS")?.value).toBe(ADDRESS);
    expect(env.get("TEMPORAL_NAMESPACE")?.value).toBe("default");
    expect(c.resources).toEqual({
      requests: { cpu: "10m", memory: "64Mi" },
      limits: { cpu: "500m", memory: "256Mi" },
    });
    expect(pod.securityContext).toMatchObject({ runAsUser: 1000 });
    expect(pod.containers[0].securityContext?.readOnlyRootFilesystem).toBe(true);
  });

  it("has probes, bounds, a restricted security context and labels on every workload", () => {
    const workloads = graph.workloads();
    expect(workloads).toHaveLength(2);
    for (const w of workloads) {
      expectRestrictedWorkload(w);
      expect(podSpecOf(w)).toMatchObject({ automountServiceAccountToken: false });
    }
  });

  it("parents every child to the component and registers its outputs", () => {
    const component = graph.components(TYPE)[0];
    const owned = graph.descendantsOf(component).map((r) => r.urn);
    const all = graph.resources.filter((r) => r !== component && r.type !== "pulumi:pulumi:Stack");
    expect(owned.sort()).toEqual(all.map((r) => r.urn).sort());
    expect(component.outputs).toEqual({
      uiServiceName: "airbyte-prod-temporal-ui",
      uiHost: "airbyte-prod-temporal-ui.airbyte-prod.svc.cluster.local",
      uiPort: 8080,
      uiPath: "/temporal/",
      adminToolsName: "airbyte-prod-temporal-admin-tools",
    });
  });

  it("rejects a public path the UI cannot serve, naming the arg", () => {
    for (const bad of ["temporal", "/temporal/", "/", "/tem poral"]) {
      expect(() => new TemporalAdmin(`bad-${bad}`, { ...base(), publicPath: bad }), bad).toThrow(
        /publicPath/,
      );
    }
  });
});

const base = () => ({ namespace: "n", instanceName: "i", temporalAddress: "t:7233" });

describe("TemporalAdmin (overrides)", () => {
  it("takes a path, a CORS origin and resources, and can leave the admin tools out", async () => {
    // A second mock run in one file (checked to work): setMocks installs a fresh monitor.
    const graph = await runGraph(() => {
      new TemporalAdmin("replica-temporal-admin", {
        namespace: "airbyte-replica",
        instanceName: "airbyte-replica",
        temporalAddress: "airbyte-replica-temporal:7233",
        publicPath: "/ops/temporal",
        corsOrigin: "https://replica.example.com",
        enableAdminTools: false,
        resources: {
          ui: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "512Mi" } },
        },
      });
    });
    expect(graph.kube("Deployment").map((r) => metadataOf(r).name)).toEqual([
      "airbyte-replica-temporal-ui",
    ]);
    const c = podSpecOf(graph.one("Deployment", "airbyte-replica-temporal-ui")).containers[0];
    const env = envOf(c);
    expect(env.get("TEMPORAL_UI_PUBLIC_PATH")?.value).toBe("/ops/temporal");
    expect(env.get("TEMPORAL_CORS_ORIGINS")?.value).toBe("https://replica.example.com");
    expect(c.resources?.limits).toEqual({ cpu: "1", memory: "512Mi" });
    const component = graph.components(TYPE)[0];
    expect(component.outputs).toEqual({
      uiServiceName: "airbyte-replica-temporal-ui",
      uiHost: "airbyte-replica-temporal-ui.airbyte-replica.svc.cluster.local",
      uiPort: 8080,
      uiPath: "/ops/temporal/",
    });
  });
});
