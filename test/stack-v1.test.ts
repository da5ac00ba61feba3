import { beforeAll, describe, expect, it } from "vitest";
import { MIGRATION_ENTRYPOINT, migrationJobArgs } from "../migrations/job-command";
import { formatViolations, runPolicies } from "../policy/offline";
import { CORE_WORKER_ADMIN_PASSWORD, runV1Stack } from "./support/config-v1";
import { Graph, envOf, metadataOf, podSpecOf } from "./support/graph";
import {
  MIGRATION_CRONJOB,
  PROD_NS,
  REPLICA,
  REPLICA_NS,
  SCHEDULERS,
  bootloaderJobs,
  expectCredentialContained,
  generatedValues,
  inNamespace,
  replicasOf,
  strings,
} from "./support/v1-checks";
import { expectRestrictedWorkload } from "./support/workload-checks";

type Obj = Record<string, unknown>;

describe("v1 topology (replica standby, the default)", () => {
  let graph: Graph;
  beforeAll(async () => {
    graph = await runV1Stack();
  });

  it("composes prod, core-worker-01, the replica and the migration job", () => {
    const instances = graph.components("airbyte:instance:AirbyteInstance").map((c) => c.name);
    expect(instances.sort()).toEqual(["airbyte-prod", REPLICA]);
    expect(graph.components("airbyte:database:ExternalDatabase").map((c) => c.name)).toEqual([
      "core-worker-01",
    ]);
    expect(graph.components("airbyte:migration:DbMigration")).toHaveLength(1);
    graph.one("Namespace", PROD_NS);
    graph.one("Namespace", REPLICA_NS);
    // The replica has its own Temporal and MinIO, and no bundled database.
    for (const kind of ["Deployment", "Service"])
      inNamespace(graph, kind, `${REPLICA}-temporal`, REPLICA_NS);
    inNamespace(graph, "StatefulSet", `${REPLICA}-minio`, REPLICA_NS);
    expect(
      graph.kube("StatefulSet").filter((r) => metadataOf(r).namespace === REPLICA_NS),
    ).toHaveLength(1);
  });

  it("runs no scheduler on the standby replica and no bootloader Job", () => {
    for (const svc of SCHEDULERS) {
      expect(
        replicasOf(inNamespace(graph, "Deployment", `${REPLICA}-${svc}`, REPLICA_NS)),
        svc,
      ).toBe(0);
      // Prod is active and untouched.
      expect(
        replicasOf(inNamespace(graph, "Deployment", `airbyte-prod-${svc}`, PROD_NS)),
        svc,
      ).toBe(1);
    }
    expect(bootloaderJobs(graph, REPLICA_NS)).toEqual([]);
    expect(bootloaderJobs(graph, PROD_NS)).toHaveLength(1);
    expect(graph.run.outputs.replicaRole).toBe("standby");
  });

  it("never points prod and the replica at the same database", () => {
    const env = (ns: string, inst: string) =>
      inNamespace(graph, "ConfigMap", `${inst}-airbyte-env`, ns).inputs.data as Record<
        string,
        string
      >;
    const prod = env(PROD_NS, "airbyte-prod");
    const replica = env(REPLICA_NS, REPLICA);
    expect(prod.DATABASE_HOST).toBe("airbyte-prod-db.airbyte-prod.svc.cluster.local");
    expect(replica.DATABASE_HOST).toBe("10.0.4.21");
    expect(replica.DATABASE_HOST).not.toBe(prod.DATABASE_HOST);
    expect(replica.DATABASE_URL).toMatch(
      /^jdbc:postgresql:\/\/10\.0\.4\.21:5432\/db-airbyte\?sslmode=require$/,
    );
    // Temporal's too.
    const seeds = (ns: string, inst: string) =>
      strings(
        podSpecOf(inNamespace(graph, "Deployment", `${inst}-temporal`, ns)).containers[0].env,
      );
    expect(seeds(REPLICA_NS, REPLICA)).toContain("10.0.4.21");
    expect(seeds(REPLICA_NS, REPLICA)).not.toContain(
      "airbyte-prod-db.airbyte-prod.svc.cluster.local",
    );
  });

  it("manages core-worker-01 through its own provider", () => {
    const [provider] = graph.ofType("pulumi:providers:postgresql");
    expect(provider.name).toBe("core-worker-01-provider");
    expect(provider.inputs).toMatchObject({
      host: "10.0.4.21",
      // Provider inputs travel as strings.
      port: "5432",
      username: "postgres",
      superuser: "true",
      sslmode: "require",
    });
    expect(provider.secretPaths).toContain("password");
    const pg = graph.resources.filter((r) => r.type.startsWith("postgresql:"));
    expect(pg.map((r) => r.type).sort()).toEqual([
      ...Array(3).fill("postgresql:index/database:Database"),
      ...Array(4).fill("postgresql:index/grant:Grant"),
      ...Array(2).fill("postgresql:index/role:Role"),
    ]);
    // A provider reference is `<provider urn>::<provider id>`.
    for (const r of pg) expect(r.provider?.replace(/::[^:]+$/, ""), r.urn).toBe(provider.urn);
  });

  it("runs the migration CronJob with the shared command, its image and schedule", () => {
    const cron = inNamespace(graph, "CronJob", MIGRATION_CRONJOB, REPLICA_NS);
    const spec = cron.inputs.spec as Obj;
    expect(spec).toMatchObject({
      schedule: "0 */6 * * *",
      timeZone: "Etc/UTC",
      suspend: false,
      concurrencyPolicy: "Forbid",
    });
    const [c] = podSpecOf(cron).containers;
    expect(c.image).toBe("ghcr.io/acme/airbyte-migrate:0.1.0");
    expect([...(c.command ?? []), ...(c.args ?? [])]).toEqual([
      ...MIGRATION_ENTRYPOINT,
      ...migrationJobArgs({ databases: ["db-airbyte"], owner: "airbyte", jobs: 2 }),
    ]);
    for (const e of c.env ?? []) {
      expect(e.value, e.name).toBeUndefined();
      expect(e.valueFrom?.secretKeyRef?.name, e.name).toBe(MIGRATION_CRONJOB);
    }
    expect([...envOf(c).keys()].sort()).toEqual(["SOURCE_DATABASE_URL", "TARGET_DATABASE_URL"]);
    const secret = inNamespace(graph, "Secret", MIGRATION_CRONJOB, REPLICA_NS);
    const urls = secret.inputs.stringData as Record<string, string>;
    expect(urls.SOURCE_DATABASE_URL).toMatch(
      /^postgres:\/\/airbyte:[A-Za-z0-9]+@airbyte-prod-db\.airbyte-prod\.svc\.cluster\.local:5432\/postgres\?sslmode=disable$/,
    );
    expect(urls.TARGET_DATABASE_URL).toMatch(
      /^postgres:\/\/airbyte_migrate:[A-Za-z0-9]+@10\.0\.4\.21:5432\/postgres\?sslmode=require$/,
    );
    expect(secret.secretPaths).toContain("stringData");
  });

  it("lets the migration pods reach prod's database with a new policy, prod's own untouched", () => {
    const extra = inNamespace(
      graph,
      "NetworkPolicy",
      "airbyte-prod-allow-postgres-from-migration",
      PROD_NS,
    );
    expect(graph.descendantsOf(graph.components("airbyte:migration:DbMigration")[0])).toContain(
      extra,
    );
    expect(extra.inputs.spec).toEqual({
      podSelector: {
        matchLabels: {
          "app.kubernetes.io/name": "postgres",
          "app.kubernetes.io/instance": "airbyte-prod",
        },
      },
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": REPLICA_NS } },
              podSelector: {
                matchLabels: {
                  "app.kubernetes.io/name": "db-migration",
                  "app.kubernetes.io/instance": REPLICA,
                },
              },
            },
          ],
          ports: [{ protocol: "TCP", port: 5432 }],
        },
      ],
    });
    // The migration pods carry the labels that policy selects.
    const cron = inNamespace(graph, "CronJob", MIGRATION_CRONJOB, REPLICA_NS);
    const podLabels = (
      cron.inputs.spec as { jobTemplate: { spec: { template: { metadata: { labels: Obj } } } } }
    ).jobTemplate.spec.template.metadata.labels;
    expect(podLabels).toMatchObject({
      "app.kubernetes.io/name": "db-migration",
      "app.kubernetes.io/instance": REPLICA,
    });
    // Egress on the replica side: to prod's database pods and to core-worker-01 only.
    const egress = inNamespace(graph, "NetworkPolicy", `${REPLICA}-allow-db-migration`, REPLICA_NS)
      .inputs.spec as {
      egress: unknown[];
      policyTypes: string[];
    };
    expect(egress.policyTypes).toEqual(["Egress"]);
    expect(egress.egress).toEqual([
      {
        to: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": PROD_NS } },
            podSelector: {
              matchLabels: {
                "app.kubernetes.io/name": "postgres",
                "app.kubernetes.io/instance": "airbyte-prod",
              },
            },
          },
        ],
        ports: [{ protocol: "TCP", port: 5432 }],
      },
      { to: [{ ipBlock: { cidr: "10.0.4.21/32" } }], ports: [{ protocol: "TCP", port: 5432 }] },
    ]);
    // Airbyte and Temporal of the replica reach core-worker-01's address, not any address.
    const server = inNamespace(graph, "NetworkPolicy", `${REPLICA}-allow-server`, REPLICA_NS);
    expect(JSON.stringify(server.inputs.spec)).toContain('"cidr":"10.0.4.21/32"');
  });

  it("shares prod's airbyte-auth-secrets values with the replica", () => {
    const [prod, replica] = [PROD_NS, REPLICA_NS].map(
      (ns) => inNamespace(graph, "Secret", "airbyte-auth-secrets", ns).inputs.stringData,
    );
    expect(replica).toEqual(prod);
    expect(graph.components("airbyte:platform:AirbyteAuthSecrets")).toHaveLength(1);
  });

  it("serves the replica on its own host, behind its own OAuth2 Proxy", () => {
    const ingress = inNamespace(graph, "Ingress", `${REPLICA}`, REPLICA_NS);
    expect(strings((ingress.inputs.spec as Obj).rules)).toEqual(
      expect.arrayContaining(["airbyte-replica.example.com", `${REPLICA}-oauth2-proxy`]),
    );
    inNamespace(graph, "Deployment", `${REPLICA}-oauth2-proxy`, REPLICA_NS);
  });

  it("gives every workload probes, requests and limits, non-root security and labels", () => {
    for (const w of graph.workloads()) expectRestrictedWorkload(w);
  });

  it("keeps every credential secret: no password in plain env, command or ConfigMap", () => {
    const values = [...generatedValues(graph), CORE_WORKER_ADMIN_PASSWORD];
    expect(values.length).toBeGreaterThanOrEqual(10);
    const problems: string[] = [];
    for (const v of values)
      expectCredentialContained(graph, v, (ok, where) => ok || problems.push(where));
    expect(problems).toEqual([]);
    for (const w of graph.workloads()) {
      for (const c of podSpecOf(w).containers) {
        for (const e of c.env ?? []) {
          if (e.value !== undefined)
            expect(e.name, `${metadataOf(w).name}`).not.toMatch(/PASSWORD|SECRET|_URL$/);
        }
      }
    }
  });

  it("passes the policy pack", () => {
    const violations = runPolicies(graph.resources);
    expect(violations, formatViolations(violations)).toEqual([]);
  });

  it("exposes both URLs, the replica role, the schedule and core-worker-01, and no secret", () => {
    expect(graph.run.outputs).toMatchObject({
      topology: "v1",
      url: "https://airbyte.example.com",
      replicaUrl: "https://airbyte-replica.example.com",
      replicaNamespace: REPLICA_NS,
      replicaRole: "standby",
      coreWorkerHost: "10.0.4.21",
      migrationSchedule: "0 */6 * * *",
      migrationCronJob: MIGRATION_CRONJOB,
      migrationSuspended: false,
    });
    expect(graph.run.secretOutputs).toEqual([]);
    expect(JSON.stringify(graph.run.outputs)).not.toContain(CORE_WORKER_ADMIN_PASSWORD);
  });
});
