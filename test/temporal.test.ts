import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { ENSURE_NAMESPACE_SCRIPT, Temporal } from "../components/temporal";
import { IMAGES } from "../infra/versions";
import { Graph, envOf, metadataOf, podSpecOf, runGraph } from "./support/graph";
import { expectOnlyInSecrets } from "./support/secret-checks";
import { expectRestrictedWorkload } from "./support/workload-checks";

const PASSWORD = "temporal-db-password-4f9a";
const TYPE = "airbyte:temporal:Temporal";

describe("Temporal (defaults)", () => {
  let graph: Graph;
  beforeAll(async () => {
    graph = await runGraph(() => {
      new Temporal("prod-temporal", {
        namespace: "airbyte-prod",
        instanceName: "airbyte-prod",
        database: {
          host: "airbyte-prod-db.airbyte-prod.svc.cluster.local",
          user: "airbyte",
          password: PASSWORD,
        },
      });
    });
  });

  it("creates the server, its Service, dynamic config, credentials and the namespace Job", () => {
    const kinds = graph.resources
      .filter((r) => r.type.startsWith("kubernetes:"))
      .map((r) => `${String(r.inputs.kind)}/${metadataOf(r).name}`)
      .sort();
    expect(kinds).toEqual([
      "ConfigMap/airbyte-prod-temporal-dynamic-config",
      "Deployment/airbyte-prod-temporal",
      "Job/airbyte-prod-temporal-namespace",
      "Secret/airbyte-prod-temporal-database",
      "Service/airbyte-prod-temporal",
    ]);
    const svc = graph.one("Service", "airbyte-prod-temporal");
    expect(svc.inputs.spec).toMatchObject({
      type: "ClusterIP",
      ports: [
        { name: "grpc", port: 7233, targetPort: "grpc", protocol: "TCP" },
        { name: "metrics", port: 9090, targetPort: "metrics", protocol: "TCP" },
      ],
    });
  });

  it("runs auto-setup on PostgreSQL without creating databases or namespaces itself", () => {
    const pod = podSpecOf(graph.one("Deployment", "airbyte-prod-temporal"));
    const c = pod.containers[0];
    expect(c.image).toBe(IMAGES.temporal);
    const env = envOf(c);
    const plain = (k: string) => env.get(k)?.value;
    expect(plain("DB")).toBe("postgres12");
    expect(plain("POSTGRES_SEEDS")).toBe("airbyte-prod-db.airbyte-prod.svc.cluster.local");
    expect(plain("DB_PORT")).toBe("5432");
    expect(plain("POSTGRES_USER")).toBe("airbyte");
    expect(plain("DBNAME")).toBe("temporal");
    expect(plain("VISIBILITY_DBNAME")).toBe("temporal_visibility");
    expect(plain("SKIP_DB_CREATE")).toBe("true");
    expect(plain("SKIP_DEFAULT_NAMESPACE_CREATION")).toBe("true");
    expect(plain("NUM_HISTORY_SHARDS")).toBe("4");
    expect(plain("SQL_MAX_CONNS")).toBe("10");
    expect(plain("SQL_VIS_MAX_CONNS")).toBe("5");
    expect(plain("BIND_ON_IP")).toBe("0.0.0.0");
    expect(plain("PROMETHEUS_ENDPOINT")).toBe("0.0.0.0:9090");
    expect(env.get("TEMPORAL_BROADCAST_ADDRESS")?.valueFrom?.fieldRef).toEqual({
      fieldPath: "status.podIP",
    });
    expect(env.get("POSTGRES_PWD")?.valueFrom?.secretKeyRef).toEqual({
      name: "airbyte-prod-temporal-database",
      key: "password",
    });
  });

  it("keeps TLS off unless asked, on both the schema tool and the server", () => {
    const env = envOf(podSpecOf(graph.one("Deployment", "airbyte-prod-temporal")).containers[0]);
    for (const k of ["POSTGRES_TLS_ENABLED", "SQL_TLS_ENABLED", "SQL_HOST_VERIFICATION"]) {
      expect(env.get(k)?.value, k).toBe("false");
    }
    expect(env.get("POSTGRES_TLS_DISABLE_HOST_VERIFICATION")?.value).toBe("true");
    expect(env.get("SQL_CA")?.value).toBe("");
  });

  it("mounts its own dynamic config with raised blob limits and workflow updates on", () => {
    const cm = graph.one("ConfigMap", "airbyte-prod-temporal-dynamic-config");
    const file = (cm.inputs.data as Record<string, string>)["dynamicconfig.yaml"];
    const config = parse(file) as Record<string, { value: unknown }[]>;
    expect(config["limit.blobSize.error"]).toEqual([{ value: 15 * 1024 * 1024 }]);
    expect(config["limit.blobSize.warn"]).toEqual([{ value: 10 * 1024 * 1024 }]);
    expect(config["frontend.enableUpdateWorkflowExecution"]).toEqual([{ value: true }]);
    const pod = podSpecOf(graph.one("Deployment", "airbyte-prod-temporal"));
    const env = envOf(pod.containers[0]);
    expect(env.get("DYNAMIC_CONFIG_FILE_PATH")?.value).toBe(
      "/etc/temporal/dynamicconfig/dynamicconfig.yaml",
    );
    expect(pod.containers[0].volumeMounts).toContainEqual({
      name: "dynamic-config",
      mountPath: "/etc/temporal/dynamicconfig",
      readOnly: true,
    });
  });

  it("probes: TCP startup and liveness, gRPC health for readiness", () => {
    const c = podSpecOf(graph.one("Deployment", "airbyte-prod-temporal")).containers[0];
    expect(c.startupProbe).toMatchObject({ tcpSocket: { port: "grpc" }, failureThreshold: 120 });
    expect(c.livenessProbe).toMatchObject({ tcpSocket: { port: "grpc" } });
    expect(c.readinessProbe).toMatchObject({
      grpc: { port: 7233, service: "temporal.api.workflowservice.v1.WorkflowService" },
    });
  });

  it("keeps the root filesystem read-only: the rendered config lives on a seeded emptyDir", () => {
    const pod = podSpecOf(graph.one("Deployment", "airbyte-prod-temporal"));
    const init = pod.initContainers?.[0];
    expect(init?.command).toEqual([
      "cp",
      "/etc/temporal/config/config_template.yaml",
      "/rendered/config_template.yaml",
    ]);
    expect(init?.volumeMounts).toEqual([{ name: "config", mountPath: "/rendered" }]);
    expect(pod.containers[0].volumeMounts).toContainEqual({
      name: "config",
      mountPath: "/etc/temporal/config",
    });
    for (const c of [...pod.containers, init!]) {
      expect(c.securityContext?.readOnlyRootFilesystem, c.name).toBe(true);
    }
    expect(pod.securityContext).toMatchObject({ runAsUser: 1000, fsGroup: 1000 });
    const deployment = graph.one("Deployment", "airbyte-prod-temporal");
    expect(deployment.inputs.spec).toMatchObject({ replicas: 1, strategy: { type: "Recreate" } });
  });

  it("ensures namespace default with 30 days retention, after the server is ready", () => {
    const job = graph.one("Job", "airbyte-prod-temporal-namespace");
    const c = podSpecOf(job).containers[0];
    expect(c.image).toBe(IMAGES.temporalAdminTools);
    expect(c.command?.slice(0, 2)).toEqual(["/bin/bash", "-c"]);
    const env = envOf(c);
    expect(env.get("TEMPORAL_ADDRESS")?.value).toBe(
      "airbyte-prod-temporal.airbyte-prod.svc.cluster.local:7233",
    );
    expect(env.get("NAMESPACE")?.value).toBe("default");
    expect(env.get("RETENTION")?.value).toBe("720h");
    const server = graph.one("Deployment", "airbyte-prod-temporal");
    expect(job.dependencies).toContain(server.urn);
    expect(job.deleteBeforeReplace).toBe(true);
    expect(job.inputs.spec).toMatchObject({ backoffLimit: 6, activeDeadlineSeconds: 1200 });
    const annotations = (job.inputs.spec as { template: { metadata: { annotations: unknown } } })
      .template.metadata.annotations;
    expect(annotations).toEqual({
      "airbyte.pulumi/temporal-database": "airbyte-prod-db.airbyte-prod.svc.cluster.local:5432",
    });
  });

  it("has probes, bounds, a restricted security context and labels on every workload", () => {
    const workloads = graph.workloads();
    expect(workloads).toHaveLength(2);
    for (const w of workloads) expectRestrictedWorkload(w);
  });

  it("keeps the database password in its Secret only, as a Pulumi secret", () => {
    expectOnlyInSecrets(graph, PASSWORD);
    const secret = graph.one("Secret", "airbyte-prod-temporal-database");
    expect((secret.inputs.stringData as Record<string, string>).password).toBe(PASSWORD);
    expect(secret.secretPaths).toContain("stringData");
  });

  it("parents every child to the component and registers its outputs", () => {
    const component = graph.components(TYPE)[0];
    const owned = graph.descendantsOf(component).map((r) => r.urn);
    const all = graph.resources.filter((r) => r !== component && r.type !== "pulumi:pulumi:Stack");
    expect(owned.sort()).toEqual(all.map((r) => r.urn).sort());
    expect(component.outputs).toEqual({
      host: "airbyte-prod-temporal.airbyte-prod.svc.cluster.local",
      port: 7233,
      address: "airbyte-prod-temporal.airbyte-prod.svc.cluster.local:7233",
      serviceName: "airbyte-prod-temporal",
      namespaceJobName: "airbyte-prod-temporal-namespace",
    });
  });

  it("labels every object", () => {
    for (const r of graph.resources.filter((x) => x.type.startsWith("kubernetes:"))) {
      expect(metadataOf(r).labels).toMatchObject({
        "app.kubernetes.io/instance": "airbyte-prod",
        "app.kubernetes.io/component": "workflow-engine",
        "app.kubernetes.io/part-of": "airbyte",
        "app.kubernetes.io/managed-by": "pulumi",
      });
    }
  });

  it("rejects args that would render a broken object, naming the arg", () => {
    const base = {
      namespace: "ns",
      instanceName: "x",
      database: { host: "db", user: "u", password: "p" },
    };
    expect(() => new Temporal("bad1", { ...base, defaultNamespaceRetentionDays: -1 })).toThrow(
      /defaultNamespaceRetentionDays/,
    );
    expect(() => new Temporal("bad2", { ...base, defaultNamespaceRetentionDays: 1.5 })).toThrow(
      /defaultNamespaceRetentionDays/,
    );
    expect(() => new Temporal("bad3", { ...base, maxDatabaseConnections: 0 })).toThrow(
      /maxDatabaseConnections/,
    );
    expect(() => new Temporal("bad4", { ...base, instanceName: "Airbyte_Prod" })).toThrow(
      /instanceName/,
    );
  });
});

/** Runs the namespace script with a stand-in `temporal` CLI whose state lives in a directory. */
function runEnsureNamespace(state: { exists: boolean; unhealthyChecks?: number }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "temporal-cli-"));
  fs.writeFileSync(path.join(dir, "health-left"), String(state.unhealthyChecks ?? 0));
  if (state.exists) fs.writeFileSync(path.join(dir, "ns-default"), "");
  const fake = `#!/bin/bash
echo "$*" >> "${dir}/calls"
case "$1 $2 $3" in
  "operator cluster health")
    left=$(cat "${dir}/health-left")
    if [ "$left" -gt 0 ]; then echo $((left - 1)) > "${dir}/health-left"; echo NOT_SERVING; exit 1; fi
    echo SERVING ;;
  "operator namespace describe") [ -f "${dir}/ns-$5" ] ;;
  "operator namespace create") touch "${dir}/ns-$5" ;;
  *) exit 2 ;;
esac
`;
  fs.writeFileSync(path.join(dir, "temporal"), fake, { mode: 0o755 });
  fs.writeFileSync(path.join(dir, "sleep"), "#!/bin/sh\n", { mode: 0o755 });
  const out = execFileSync("/bin/bash", ["-c", ENSURE_NAMESPACE_SCRIPT], {
    env: {
      PATH: `${dir}:${process.env.PATH}`,
      TEMPORAL_ADDRESS: "t:7233",
      NAMESPACE: "default",
      RETENTION: "720h",
    },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  const calls = fs.readFileSync(path.join(dir, "calls"), "utf8").trim().split("\n");
  const created = fs.existsSync(path.join(dir, "ns-default"));
  fs.rmSync(dir, { recursive: true, force: true });
  return { out, calls, created };
}

describe("Temporal namespace script", () => {
  it("waits for the frontend, then creates a missing namespace with the retention", () => {
    const r = runEnsureNamespace({ exists: false, unhealthyChecks: 2 });
    expect(r.created).toBe(true);
    expect(r.calls.filter((c) => c === "operator cluster health")).toHaveLength(3);
    expect(r.calls).toContainEqual(
      "operator namespace create --namespace default --retention 720h --description Airbyte workflows",
    );
  });

  it("leaves an existing namespace alone (idempotent re-run)", () => {
    const r = runEnsureNamespace({ exists: true });
    expect(r.calls.some((c) => c.startsWith("operator namespace create"))).toBe(false);
    expect(r.out).toContain("namespace default exists");
  });
});
