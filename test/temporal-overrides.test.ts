import { beforeAll, describe, expect, it } from "vitest";
import { Temporal } from "../components/temporal";
import { Graph, envOf, podSpecOf, runGraph } from "./support/graph";
import { expectOnlyInSecrets } from "./support/secret-checks";
import { expectRestrictedWorkload } from "./support/workload-checks";

const PASSWORD = "external-db-password-77c1";

describe("Temporal (overrides: external database with verified TLS)", () => {
  let graph: Graph;
  beforeAll(async () => {
    graph = await runGraph(() => {
      new Temporal("replica-temporal", {
        namespace: "airbyte-replica",
        instanceName: "airbyte-replica",
        database: {
          host: "core-worker-01.example.net",
          port: 6432,
          user: "temporal",
          password: PASSWORD,
          tls: { caSecretName: "core-worker-01-ca", caSecretKey: "root.pem" },
        },
        createDatabases: true,
        defaultNamespaceRetentionDays: 7,
        maxDatabaseConnections: 20,
        resources: { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "2", memory: "2Gi" } },
      });
    });
  });

  const server = () => podSpecOf(graph.one("Deployment", "airbyte-replica-temporal"));

  it("points at the external server and lets auto-setup create the databases", () => {
    const env = envOf(server().containers[0]);
    expect(env.get("POSTGRES_SEEDS")?.value).toBe("core-worker-01.example.net");
    expect(env.get("DB_PORT")?.value).toBe("6432");
    expect(env.get("POSTGRES_USER")?.value).toBe("temporal");
    expect(env.get("SKIP_DB_CREATE")?.value).toBe("false");
    expect(env.get("SQL_MAX_CONNS")?.value).toBe("20");
    expect(env.get("SQL_VIS_MAX_CONNS")?.value).toBe("10");
  });

  it("verifies the server certificate against the CA from the given Secret", () => {
    const pod = server();
    const env = envOf(pod.containers[0]);
    expect(env.get("POSTGRES_TLS_ENABLED")?.value).toBe("true");
    expect(env.get("POSTGRES_TLS_DISABLE_HOST_VERIFICATION")?.value).toBe("false");
    expect(env.get("POSTGRES_TLS_CA_FILE")?.value).toBe("/etc/temporal/database-ca/ca.crt");
    expect(env.get("SQL_TLS_ENABLED")?.value).toBe("true");
    expect(env.get("SQL_HOST_VERIFICATION")?.value).toBe("true");
    expect(env.get("SQL_CA")?.value).toBe("/etc/temporal/database-ca/ca.crt");
    expect(pod.volumes).toContainEqual({
      name: "database-ca",
      secret: { secretName: "core-worker-01-ca", items: [{ key: "root.pem", path: "ca.crt" }] },
    });
    expect(pod.containers[0].volumeMounts).toContainEqual({
      name: "database-ca",
      mountPath: "/etc/temporal/database-ca",
      readOnly: true,
    });
  });

  it("applies the retention and resources, and re-runs the Job for a new database target", () => {
    const job = graph.one("Job", "airbyte-replica-temporal-namespace");
    expect(envOf(podSpecOf(job).containers[0]).get("RETENTION")?.value).toBe("168h");
    const annotations = (job.inputs.spec as { template: { metadata: { annotations: unknown } } })
      .template.metadata.annotations;
    expect(annotations).toEqual({
      "airbyte.pulumi/temporal-database": "core-worker-01.example.net:6432",
    });
    expect(server().containers[0].resources).toEqual({
      requests: { cpu: "1", memory: "1Gi" },
      limits: { cpu: "2", memory: "2Gi" },
    });
  });

  it("stays restricted and keeps the password secret", () => {
    for (const w of graph.workloads()) expectRestrictedWorkload(w);
    expectOnlyInSecrets(graph, PASSWORD);
  });

  it("registers outputs for the replica's names", () => {
    const component = graph.components("airbyte:temporal:Temporal")[0];
    expect(component.outputs).toMatchObject({
      address: "airbyte-replica-temporal.airbyte-replica.svc.cluster.local:7233",
      namespaceJobName: "airbyte-replica-temporal-namespace",
    });
  });
});

describe("Temporal (TLS without a CA)", () => {
  it("encrypts without verifying (sslmode=require semantics)", async () => {
    // A second mock run in one file (checked to work): setMocks installs a fresh monitor.
    const graph = await runGraph(() => {
      new Temporal("t", {
        namespace: "n",
        instanceName: "i",
        database: { host: "h", user: "u", password: "p", tls: true },
      });
    });
    const env = envOf(podSpecOf(graph.one("Deployment", "i-temporal")).containers[0]);
    expect(env.get("SQL_TLS_ENABLED")?.value).toBe("true");
    expect(env.get("POSTGRES_TLS_ENABLED")?.value).toBe("true");
    expect(env.get("SQL_HOST_VERIFICATION")?.value).toBe("false");
    expect(env.get("POSTGRES_TLS_DISABLE_HOST_VERIFICATION")?.value).toBe("true");
    expect(podSpecOf(graph.one("Deployment", "i-temporal")).volumes).not.toContainEqual(
      expect.objectContaining({ name: "database-ca" }),
    );
  });
});
