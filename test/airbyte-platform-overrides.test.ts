import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { AirbyteAuthSecrets } from "../components/airbyte-auth-secrets";
import {
  AirbytePlatform,
  AirbytePlatformArgs,
  databaseUrl,
  jdbcQuery,
} from "../components/airbyte-platform";
import { Graph, metadataOf, runGraph } from "./support/graph";
import {
  baseArgs,
  containerOf,
  platformProgram,
  replicasOf,
} from "./support/airbyte-platform-fixture";

const valueOf = <T>(o: pulumi.Input<T>) =>
  new Promise<T>((resolve) =>
    pulumi.output(o).apply((v) => {
      resolve(v as T);
      return v;
    }),
  );

const overrides = (a: AirbytePlatformArgs): AirbytePlatformArgs => ({
  ...a,
  database: {
    ...a.database,
    port: 6432,
    name: "airbyte",
    jdbcParameters: { sslmode: "verify-full", sslrootcert: "/etc/ssl/ca bundle.pem" },
  },
  replicas: { server: 2, worker: pulumi.output(3), workloadLauncher: 2 },
  resources: {
    worker: { requests: { cpu: "1", memory: "2Gi" }, limits: { cpu: "4", memory: "4Gi" } },
  },
  jobResources: { memoryLimit: "8Gi" },
  logLevel: "DEBUG",
  apiAuthorizationEnabled: true,
  trackingEnabled: false,
  featureFlags: "flags:\n  - name: heartbeat.failSync\n    serve: false\n",
});

describe("AirbytePlatform (overrides)", () => {
  let graph: Graph;
  let cm: Record<string, string>;
  beforeAll(async () => {
    graph = await runGraph(() => {
      platformProgram(overrides)();
      // Three more instances to compare the bootloader's config digest: it must change with a
      // value the bootloader reads (LOG_LEVEL) and not with one it does not (job resources).
      const auth = new AirbyteAuthSecrets("digest-auth");
      const digestArgs = (instanceName: string, over: Partial<AirbytePlatformArgs>) => ({
        ...baseArgs(auth),
        instanceName,
        ...over,
      });
      new AirbytePlatform("digest-a", digestArgs("airbyte-a", {}));
      new AirbytePlatform("digest-b", digestArgs("airbyte-b", { jobResources: { cpuLimit: "8" } }));
      new AirbytePlatform("digest-c", digestArgs("airbyte-c", { logLevel: "WARN" }));
    });
    cm = graph.one("ConfigMap", "airbyte-prod-airbyte-env").inputs.data as Record<string, string>;
  });

  it("scales the services it is told to, leaves the rest at one and cron at exactly one", () => {
    const replicas = (svc: string) => replicasOf(graph.one("Deployment", `airbyte-prod-${svc}`));
    expect(replicas("server")).toBe(2);
    expect(replicas("worker")).toBe(3);
    expect(replicas("workload-launcher")).toBe(2);
    expect(replicas("workload-api-server")).toBe(1);
    expect(replicas("connector-builder-server")).toBe(1);
    expect(replicas("cron")).toBe(1);
  });

  it("replaces a service's resources whole and keeps the others' defaults", () => {
    expect(containerOf(graph, "Deployment", "airbyte-prod-worker").resources).toEqual({
      requests: { cpu: "1", memory: "2Gi" },
      limits: { cpu: "4", memory: "4Gi" },
    });
    expect(containerOf(graph, "Deployment", "airbyte-prod-server").resources).toEqual({
      requests: { cpu: "500m", memory: "1Gi" },
      limits: { cpu: "2", memory: "4Gi" },
    });
    expect(cm.JOB_MAIN_CONTAINER_MEMORY_LIMIT).toBe("8Gi");
    expect(cm.JOB_MAIN_CONTAINER_CPU_LIMIT).toBe("2");
  });

  it("appends JDBC parameters to DATABASE_URL, encoded and in a stable order", () => {
    expect(cm.DATABASE_URL).toBe(
      "jdbc:postgresql://airbyte-prod-db.airbyte-prod.svc.cluster.local:6432/airbyte" +
        "?sslmode=verify-full&sslrootcert=%2Fetc%2Fssl%2Fca%20bundle.pem",
    );
    expect(cm.DATABASE_PORT).toBe("6432");
    expect(cm.DATABASE_DB).toBe("airbyte");
  });

  it("passes log level, auth, tracking and feature flags through", () => {
    expect(cm).toMatchObject({
      LOG_LEVEL: "DEBUG",
      API_AUTHORIZATION_ENABLED: "true",
      AB_COOKIE_SECURE: "true",
      TRACKING_ENABLED: "false",
      TRACKING_STRATEGY: "logging",
    });
    expect(cm["flags.yml"]).toContain("heartbeat.failSync");
  });

  it("accepts JDBC parameters as a query string and refuses credentials in the URL", async () => {
    expect(jdbcQuery("sslmode=require&b=1")).toBe("?b=1&sslmode=require");
    expect(jdbcQuery({})).toBe("");
    expect(() => jdbcQuery({ password: "x" })).toThrow(/jdbcParameters\.password/);
    expect(() => jdbcQuery("sslmode=require&user=airbyte")).toThrow(/jdbcParameters\.user/);
    expect(await valueOf(databaseUrl("db", 5432, "db-airbyte", "sslmode=require"))).toBe(
      "jdbc:postgresql://db:5432/db-airbyte?sslmode=require",
    );
  });

  it("rolls a workload only when a value it reads changes", () => {
    const digest = (instance: string) => {
      const job = graph.kube("Job").find((j) => metadataOf(j).name?.startsWith(`${instance}-`));
      const spec = job?.inputs.spec as {
        template: { metadata: { annotations: Record<string, string> } };
      };
      return spec.template.metadata.annotations["checksum/config"];
    };
    expect(digest("airbyte-a")).toMatch(/^[0-9a-f]{64}$/);
    expect(digest("airbyte-b")).toBe(digest("airbyte-a"));
    expect(digest("airbyte-c")).not.toBe(digest("airbyte-a"));
  });

  it("refuses invalid arguments by name before creating anything", () => {
    const before = graph.resources.length;
    const auth = { ...baseArgs({} as AirbyteAuthSecrets) };
    const make = (over: object) => () =>
      new AirbytePlatform("bad", { ...auth, ...over } as ConstructorParameters<
        typeof AirbytePlatform
      >[1]);
    expect(make({ replicas: { worker: -1 } })).toThrow(
      /replicas\.worker must be a whole number >= 0/,
    );
    expect(make({ replicas: { server: 1.5 } })).toThrow(/replicas\.server/);
    expect(make({ replicas: { cron: 2 } })).toThrow(/replicas\.cron is not a scalable service/);
    expect(make({ role: "primary" })).toThrow(/role must be "active" or "standby"/);
    expect(make({ instanceName: "Airbyte_Prod" })).toThrow(/instanceName/);
    expect(make({ resources: { webapp: {} } })).toThrow(/resources\.webapp/);
    expect(
      make({ database: { ...auth.database, jdbcParameters: { PASSWORD: pulumi.output("x") } } }),
    ).toThrow(/jdbcParameters\.PASSWORD/);
    expect(graph.resources.length).toBe(before);
  });
});
