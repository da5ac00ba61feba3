import { beforeAll, describe, expect, it } from "vitest";
import { DbMigration, databaseUrl, migrationNetwork } from "../components/db-migration";
import { MIGRATION_ENTRYPOINT, migrationJobArgs } from "../migrations/job-command";
import { Graph, RecordedResource, metadataOf, podSpecOf, runGraph } from "./support/graph";
import { expectOnlyInSecrets } from "./support/secret-checks";
import { expectRestrictedWorkload } from "./support/workload-checks";

// Characters that must be percent-encoded in a URL's userinfo.
const SOURCE_PASSWORD = "src:pw@/#?%4b";
const TARGET_PASSWORD = "target-pw-91ce27";
const NAME = "replica-db-migration";

describe("DbMigration", () => {
  let graph: Graph;
  let component: RecordedResource;
  let cron: RecordedResource;

  beforeAll(async () => {
    graph = await runGraph(
      () =>
        new DbMigration("db-migration", {
          namespace: "airbyte-replica",
          instanceName: "replica",
          image: "ghcr.io/acme/airbyte-migrate:0.1.0",
          schedule: "30 */4 * * *",
          source: {
            host: "airbyte-prod-db.airbyte-prod.svc.cluster.local",
            user: "airbyte",
            password: SOURCE_PASSWORD,
            sslMode: "disable",
          },
          target: {
            host: "10.0.4.21",
            port: 6432,
            user: "airbyte_migrate",
            password: TARGET_PASSWORD,
          },
          owner: "airbyte",
          jobs: 3,
          sourcePods: {
            namespace: "airbyte-prod",
            instanceName: "airbyte-prod",
            podLabels: { "app.kubernetes.io/name": "postgres" },
          },
        }),
    );
    [component] = graph.components("airbyte:migration:DbMigration");
    cron = graph.one("CronJob", NAME);
  });

  it("schedules the copy: no overlap, a deadline, bounded history, UTC", () => {
    expect(metadataOf(cron).namespace).toBe("airbyte-replica");
    const spec = cron.inputs.spec as Record<string, unknown>;
    expect(spec).toMatchObject({
      schedule: "30 */4 * * *",
      timeZone: "Etc/UTC",
      suspend: false,
      concurrencyPolicy: "Forbid",
      startingDeadlineSeconds: 600,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
    });
    expect((spec.jobTemplate as { spec: Record<string, unknown> }).spec).toMatchObject({
      backoffLimit: 1,
      activeDeadlineSeconds: 14400,
    });
    expect(podSpecOf(cron)).toMatchObject({
      restartPolicy: "Never",
      automountServiceAccountToken: false,
    });
  });

  it("runs exactly the shared command line, with the image given", () => {
    const [c] = podSpecOf(cron).containers;
    expect(c.image).toBe("ghcr.io/acme/airbyte-migrate:0.1.0");
    expect([...(c.command ?? []), ...(c.args ?? [])]).toEqual([
      ...MIGRATION_ENTRYPOINT,
      ...migrationJobArgs({ databases: ["db-airbyte"], owner: "airbyte", jobs: 3 }),
    ]);
    expect(c.args).toContain("--swap");
  });

  it("takes both URLs from its Secret only, credentials percent-encoded", () => {
    const [c] = podSpecOf(cron).containers;
    expect(c.env).toEqual([
      {
        name: "SOURCE_DATABASE_URL",
        valueFrom: { secretKeyRef: { name: NAME, key: "SOURCE_DATABASE_URL" } },
      },
      {
        name: "TARGET_DATABASE_URL",
        valueFrom: { secretKeyRef: { name: NAME, key: "TARGET_DATABASE_URL" } },
      },
    ]);
    const secret = graph.one("Secret", NAME);
    expect(secret.inputs.stringData).toEqual({
      SOURCE_DATABASE_URL: `postgres://airbyte:${encodeURIComponent(SOURCE_PASSWORD)}@airbyte-prod-db.airbyte-prod.svc.cluster.local:5432/postgres?sslmode=disable`,
      TARGET_DATABASE_URL: `postgres://airbyte_migrate:${TARGET_PASSWORD}@10.0.4.21:6432/postgres?sslmode=require`,
    });
    expect(
      new URL(String((secret.inputs.stringData as Record<string, string>).SOURCE_DATABASE_URL))
        .password,
    ).toBe(encodeURIComponent(SOURCE_PASSWORD));
    expectOnlyInSecrets(graph, TARGET_PASSWORD);
    expectOnlyInSecrets(graph, encodeURIComponent(SOURCE_PASSWORD));
  });

  it("is a restricted, labelled workload with a writable /tmp only", () => {
    expectRestrictedWorkload(cron);
    const pod = podSpecOf(cron);
    expect(pod.containers[0].securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(pod.containers[0].volumeMounts).toEqual([{ name: "tmp", mountPath: "/tmp" }]);
    const labels = (
      cron.inputs.spec as {
        jobTemplate: { spec: { template: { metadata: { labels: Record<string, string> } } } };
      }
    ).jobTemplate.spec.template.metadata.labels;
    expect(labels).toMatchObject({
      "app.kubernetes.io/name": "db-migration",
      "app.kubernetes.io/instance": "replica",
    });
  });

  it("admits its pods to the source database with a policy in the source's namespace", () => {
    const np = graph.one("NetworkPolicy", "airbyte-prod-allow-postgres-from-migration");
    expect(metadataOf(np).namespace).toBe("airbyte-prod");
    expect(np.inputs.spec).toEqual({
      podSelector: { matchLabels: { "app.kubernetes.io/name": "postgres" } },
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [
            {
              namespaceSelector: {
                matchLabels: { "kubernetes.io/metadata.name": "airbyte-replica" },
              },
              podSelector: {
                matchLabels: {
                  "app.kubernetes.io/name": "db-migration",
                  "app.kubernetes.io/instance": "replica",
                },
              },
            },
          ],
          ports: [{ protocol: "TCP", port: 5432 }],
        },
      ],
    });
  });

  it("parents everything to itself and outputs names, schedule and the manual-run command", () => {
    const below = graph.descendantsOf(component);
    for (const r of graph.resources.filter((x) => x.custom)) expect(below, r.urn).toContain(r);
    expect(component.outputs).toEqual({
      cronJobName: NAME,
      secretName: NAME,
      schedule: "30 */4 * * *",
      suspended: false,
      manualRunCommand: `kubectl -n airbyte-replica create job --from=cronjob/${NAME} ${NAME}-manual-$(date +%Y%m%d%H%M)`,
    });
  });

  it("describes its flows for the instance's NetworkPolicies", () => {
    const net = migrationNetwork({
      instanceName: "replica",
      source: { namespace: "airbyte-prod", podLabels: { a: "b" } },
      target: { cidrs: ["10.0.4.21/32"], port: 6432 },
    });
    expect(net.extraGroups).toEqual([
      {
        name: "db-migration",
        matchLabels: {
          "app.kubernetes.io/name": "db-migration",
          "app.kubernetes.io/instance": "replica",
        },
      },
    ]);
    expect(net.extraFlows.map((f) => [f.from, f.to, f.ports])).toEqual([
      [{ group: "db-migration" }, { namespace: "airbyte-prod", podLabels: { a: "b" } }, [5432]],
      [{ group: "db-migration" }, { cidrs: ["10.0.4.21/32"] }, [6432]],
    ]);
  });

  it("builds URLs for IPv6 hosts and refuses bad arguments", () => {
    expect(
      databaseUrl({
        host: "2001:db8::5",
        port: 5432,
        user: "u",
        password: "p w",
        sslMode: "verify-full",
      }),
    ).toBe("postgres://u:p%20w@[2001:db8::5]:5432/postgres?sslmode=verify-full");
    const base = {
      namespace: "n",
      instanceName: "i",
      image: "img:1",
      schedule: "@daily",
      source: { host: "s", user: "u", password: "p" },
      target: { host: "t", user: "u", password: "p" },
      owner: "airbyte",
    };
    expect(() => new DbMigration("x", { ...base, jobs: 0 })).toThrow(/jobs must be/);
    expect(() => new DbMigration("x", { ...base, databases: [] })).toThrow(/databases is empty/);
  });
});
