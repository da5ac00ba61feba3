import { beforeAll, describe, expect, it } from "vitest";
import { mirrorJobArgs } from "../migrations/objects/job-command";
import { MIGRATION_ENTRYPOINT, setupJobArgs } from "../migrations/replication/job-command";
import { formatViolations, runPolicies } from "../policy/offline";
import { CORE_WORKER_ADMIN_PASSWORD } from "./support/config-v1";
import { runV2Stack } from "./support/config-v2";
import { Graph, envOf, metadataOf, podSpecOf } from "./support/graph";
import {
  PROD_NS,
  REPLICA,
  REPLICA_NS,
  SCHEDULERS,
  expectCredentialContained,
  generatedValues,
  inNamespace,
  replicasOf,
} from "./support/v1-checks";
import { expectRestrictedWorkload } from "./support/workload-checks";
import { HUB_MAJOR, imageMajor, PROD_MAJOR } from "./replication/servers";

const HUB_NS = "airbyte-replication";
const HUB = "airbyte-replication-hub";
type Obj = Record<string, unknown>;

describe("v2 topology (replica standby, prod active)", () => {
  let graph: Graph;
  beforeAll(async () => {
    graph = await runV2Stack();
  });

  it("runs the hub in its own namespace with logical replication and TLS", () => {
    graph.one("Namespace", HUB_NS);
    const sts = inNamespace(graph, "StatefulSet", `${HUB}-db`, HUB_NS);
    const c = podSpecOf(sts).containers[0];
    const args = (c as unknown as { args: string[] }).args.join(" ");
    for (const s of ["wal_level=logical", "ssl=on", "ssl_cert_file=", "ssl_key_file=", "hba_file="])
      expect(args).toContain(s);
    const volumes = podSpecOf(sts).volumes as Obj[];
    expect(volumes.find((v) => v.name === "tls")).toMatchObject({
      secret: { secretName: `${HUB}-tls`, defaultMode: 0o640 },
    });
  });

  it("deploys the hub and prod's database at the majors the replication tests run", () => {
    const hub = podSpecOf(inNamespace(graph, "StatefulSet", `${HUB}-db`, HUB_NS)).containers[0];
    const prod = podSpecOf(inNamespace(graph, "StatefulSet", "airbyte-prod-db", PROD_NS))
      .containers[0];
    expect(imageMajor(String(hub.image))).toBe(HUB_MAJOR);
    expect(imageMajor(String(prod.image))).toBe(PROD_MAJOR);
    expect([HUB_MAJOR, PROD_MAJOR]).toEqual([17, 13]);
  });

  it("exposes the hub to core-worker-01 only: LoadBalancer allowlist, hostssl pg_hba, policy", () => {
    const svc = inNamespace(graph, "Service", `${HUB}-external`, HUB_NS);
    const spec = svc.inputs.spec as Obj;
    expect(spec.type).toBe("LoadBalancer");
    expect(spec.loadBalancerSourceRanges).toEqual(["10.0.4.21/32"]);
    expect(spec.externalTrafficPolicy).toBe("Local");
    expect(metadataOf(svc).annotations?.["airbyte.pulumi/declared-exposure"]).toBeTruthy();
    // No other LoadBalancer or NodePort anywhere.
    const exposed = graph
      .kube("Service")
      .filter((s) => ["LoadBalancer", "NodePort"].includes(String((s.inputs.spec as Obj).type)));
    expect(exposed.map((s) => metadataOf(s).name)).toEqual([`${HUB}-external`]);
    const hba = String(
      (inNamespace(graph, "ConfigMap", `${HUB}-db-hba`, HUB_NS).inputs.data as Obj)["pg_hba.conf"],
    );
    const external = hba.split("\n").filter((l) => l.includes("10.0.4.21/32"));
    expect(external).toEqual([
      'hostssl "db-airbyte" airbyte_subscriber 10.0.4.21/32 scram-sha-256',
      "host all all 10.0.4.21/32 reject",
    ]);
    expect(hba).not.toMatch(/^host all all (0\.0\.0\.0\/0|all) /m);
    const policy = inNamespace(graph, "NetworkPolicy", `${HUB}-allow-postgres`, HUB_NS);
    const ingress = (policy.inputs.spec as Obj).ingress as Obj[];
    expect(JSON.stringify(ingress[0])).toContain("10.0.4.21/32");
    expect(JSON.stringify(ingress)).not.toContain("0.0.0.0/0");
  });

  it("prod's database is a logical-replication publisher, updated in place", () => {
    const sts = inNamespace(graph, "StatefulSet", "airbyte-prod-db", PROD_NS);
    const args = (podSpecOf(sts).containers[0] as unknown as { args: string[] }).args;
    expect(args).toContain("wal_level=logical");
    expect(args).toContain("max_replication_slots=10");
    expect(args).toContain("max_wal_senders=10");
    inNamespace(graph, "NetworkPolicy", "airbyte-prod-allow-postgres-from-replication", PROD_NS);
    inNamespace(graph, "NetworkPolicy", "airbyte-prod-allow-minio-from-object-mirror", PROD_NS);
  });

  it("the setup Job runs the shared command, URLs from a Secret only", () => {
    const job = inNamespace(graph, "Job", `${HUB}-setup`, HUB_NS);
    const c = podSpecOf(job).containers[0] as unknown as { command: string[]; args: string[] };
    expect(c.command).toEqual(MIGRATION_ENTRYPOINT);
    expect(c.args).toEqual(
      setupJobArgs({
        database: "db-airbyte",
        replicaOwner: "airbyte",
        hubSubscriberRole: "airbyte_subscriber",
        dropExisting: true,
      }),
    );
    const env = envOf(podSpecOf(job).containers[0]);
    for (const k of [
      "PROD_DATABASE_URL",
      "HUB_DATABASE_URL",
      "REPLICA_DATABASE_URL",
      "HUB_SUBSCRIBER_PASSWORD",
    ]) {
      expect(env.get(k)?.value, k).toBeUndefined();
      expect(env.get(k)?.valueFrom?.secretKeyRef?.name, k).toBe(`${HUB}-setup`);
    }
  });

  it("core-worker-01's subscription is a postgresql.Subscription on its provider, after the Job", () => {
    const subs = graph.ofType("postgresql:index/subscription:Subscription");
    expect(subs).toHaveLength(1);
    const sub = subs[0];
    const provider = graph.ofType("pulumi:providers:postgresql")[0];
    expect(sub.provider?.startsWith(provider.urn)).toBe(true);
    expect(sub.inputs.name).toBe("airbyte_replica_sub");
    expect(sub.inputs.database).toBe("db-airbyte");
    const pubs = sub.inputs.publications as string[];
    expect(pubs).toEqual([...pubs].sort());
    expect(pubs).toEqual(["airbyte_hub_pub"]);
    expect(sub.secretPaths).toContain("conninfo");
    const conninfo = String(sub.inputs.conninfo);
    expect(conninfo).toMatch(/^host=hub\.airbyte\.example\.com port=5432 dbname=db-airbyte /);
    expect(conninfo).toMatch(/sslmode=(require|verify-ca|verify-full)$/);
    expect(conninfo).toContain("user=airbyte_subscriber");
    const job = inNamespace(graph, "Job", `${HUB}-setup`, HUB_NS);
    expect(sub.dependencies).toContain(job.urn);
  });

  it("mirrors prod's MinIO to the replica's every 15 minutes", () => {
    const cron = inNamespace(graph, "CronJob", `${REPLICA}-object-mirror`, REPLICA_NS);
    const spec = cron.inputs.spec as Obj;
    expect(spec.schedule).toBe("*/15 * * * *");
    expect(spec.suspend).toBe(false);
    const pod = ((spec.jobTemplate as Obj).spec as Obj).template as Obj;
    const c = ((pod.spec as Obj).containers as Obj[])[0];
    expect(c.args).toEqual(mirrorJobArgs({ buckets: ["airbyte-bucket"], jobs: 4 }));
    const secret = inNamespace(graph, "Secret", `${REPLICA}-object-mirror`, REPLICA_NS);
    expect(secret.secretPaths.some((p) => p.startsWith("stringData"))).toBe(true);
    const urls = secret.inputs.stringData as Record<string, string>;
    expect(urls.SOURCE_S3_URL).toContain("airbyte-prod-minio.airbyte-prod");
    expect(urls.TARGET_S3_URL).toContain(`${REPLICA}-minio.${REPLICA_NS}`);
  });

  it("keeps the replica standby and has no copy CronJob", () => {
    for (const svc of SCHEDULERS) {
      expect(replicasOf(inNamespace(graph, "Deployment", `${REPLICA}-${svc}`, REPLICA_NS))).toBe(0);
    }
    expect(graph.kube("CronJob").map((r) => metadataOf(r).name)).toEqual([
      `${REPLICA}-object-mirror`,
    ]);
    expect(graph.components("airbyte:migration:DbMigration")).toEqual([]);
    expect(graph.run.outputs.url).toBe("https://airbyte.example.com");
    const hosts = graph.kube("Ingress").map((i) => JSON.stringify((i.inputs.spec as Obj).rules));
    expect(hosts.filter((h) => h.includes('"airbyte.example.com"'))).toHaveLength(1);
  });

  it("every hub and mirror workload is restricted and labelled", () => {
    for (const r of graph.workloads().filter((w) => {
      const ns = metadataOf(w).namespace;
      return ns === HUB_NS || metadataOf(w).name?.endsWith("object-mirror");
    }))
      expectRestrictedWorkload(r);
  });

  it("keeps every credential in Secrets (or the provider/subscription) as Pulumi secrets", () => {
    const values = [...generatedValues(graph), CORE_WORKER_ADMIN_PASSWORD];
    expect(values.length).toBeGreaterThan(5);
    for (const v of values) {
      expectCredentialContained(
        {
          ...graph,
          resources: graph.resources.filter((r) => !r.type.endsWith("Subscription")),
        } as Graph,
        v,
        (ok, where) => expect(ok, where).toBe(true),
      );
    }
  });

  it("passes the policy pack", () => {
    const violations = runPolicies(graph.resources);
    expect(violations, formatViolations(violations)).toEqual([]);
  });
});
