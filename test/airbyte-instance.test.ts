/**
 * AirbyteInstance on an external database, standby, without an Ingress: what it composes, how it
 * wires the database into Airbyte and Temporal, and that it parents and reports everything.
 * (The bundled-database default is the v0 stack: test/stack-v0.test.ts.)
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { AirbyteAuthSecrets } from "../components/airbyte-auth-secrets";
import { AirbyteInstance } from "../components/airbyte-instance";
import { Graph, envOf, metadataOf, podSpecOf, runGraph } from "./support/graph";

describe("AirbyteInstance on an external database", () => {
  let graph: Graph;
  beforeAll(async () => {
    graph = await runGraph(() => {
      const auth = new AirbyteAuthSecrets("auth");
      new AirbyteInstance("replica", {
        instanceName: "airbyte-replica",
        namespace: "airbyte-replica",
        host: "replica.example.com",
        role: "standby",
        authSecrets: auth,
        database: {
          kind: "external",
          connection: {
            host: "db.example.internal",
            port: 6432,
            user: "airbyte",
            password: pulumi.secret("external-db-password"),
            sslMode: "verify-full",
            networkCidrs: ["10.20.0.5/32"],
          },
        },
        storage: { size: "5Gi", logRetentionDays: 7 },
        oauth: {
          provider: "github",
          clientId: "id",
          clientSecret: pulumi.secret("oauth-secret"),
          allowedEmailDomains: ["example.com"],
        },
        ingress: { allowedSourceRanges: ["10.0.0.0/8"], enabled: false },
      });
    });
  });

  const instance = () => graph.components("airbyte:instance:AirbyteInstance")[0];

  it("runs no database of its own and no Ingress", () => {
    expect(graph.components("airbyte:database:Postgres")).toEqual([]);
    expect(graph.kube("StatefulSet").map((r) => metadataOf(r).name)).toEqual([
      "airbyte-replica-minio",
    ]);
    expect(graph.kube("Ingress")).toEqual([]);
    expect(graph.components("airbyte:network:Ingress")).toEqual([]);
  });

  it("points Airbyte at the external server with its sslmode, and Temporal with TLS", () => {
    const env = graph.one("ConfigMap", "airbyte-replica-airbyte-env").inputs.data as Record<
      string,
      string
    >;
    // verify-full: PostgreSQL's JDBC driver checks against `sslrootcert`, the bundle the images'
    // update-ca-trust extracts (its default, ~/.postgresql/root.crt, is in no Airbyte image).
    expect(env.DATABASE_URL).toBe(
      "jdbc:postgresql://db.example.internal:6432/db-airbyte?sslmode=verify-full" +
        "&sslrootcert=%2Fetc%2Fpki%2Fca-trust%2Fextracted%2Fpem%2Ftls-ca-bundle.pem",
    );
    const temporal = podSpecOf(graph.one("Deployment", "airbyte-replica-temporal")).containers[0];
    const tenv = envOf(temporal);
    expect(tenv.get("POSTGRES_SEEDS")?.value).toBe("db.example.internal");
    expect(tenv.get("SQL_TLS_ENABLED")?.value).toBe("true");
    expect(tenv.get("POSTGRES_TLS_ENABLED")?.value).toBe("true");
  });

  it("is standby: every Airbyte Deployment at zero and no bootloader", () => {
    const platform = graph.components("airbyte:platform:AirbytePlatform")[0];
    const deployments = graph.descendantsOf(platform).filter((r) => r.inputs.kind === "Deployment");
    expect(deployments.length).toBe(6);
    for (const d of deployments) {
      expect((d.inputs.spec as { replicas: number }).replicas, metadataOf(d).name).toBe(0);
    }
    expect(graph.kube("Job").map((j) => metadataOf(j).name)).not.toContainEqual(
      expect.stringMatching(/bootloader/),
    );
  });

  it("lets the database traffic out only to the external server's addresses", () => {
    const egressTo = graph
      .kube("NetworkPolicy")
      .flatMap((p) => ((p.inputs.spec as { egress?: unknown[] }).egress ?? []) as unknown[])
      .filter((e) => JSON.stringify(e).includes('"port":6432'));
    expect(egressTo.length).toBeGreaterThan(0);
    for (const e of egressTo) expect(JSON.stringify(e)).toContain("10.20.0.5/32");
  });

  it("parents everything below it and registers its outputs", () => {
    const owned = new Set(graph.descendantsOf(instance()).map((r) => r.urn));
    const others = graph.resources.filter(
      (r) =>
        r !== instance() &&
        r.type !== "pulumi:pulumi:Stack" &&
        !owned.has(r.urn) &&
        !r.urn.includes("AirbyteAuthSecrets"),
    );
    expect(others.map((r) => r.urn)).toEqual([]);
    expect(instance().outputs).toMatchObject({
      url: "https://replica.example.com",
      namespace: "airbyte-replica",
      role: "standby",
      temporalAddress: "airbyte-replica-temporal.airbyte-replica.svc.cluster.local:7233",
      minioEndpoint: "http://airbyte-replica-minio.airbyte-replica.svc.cluster.local:9000",
    });
    expect(JSON.stringify(instance().outputs)).not.toContain("external-db-password");
  });
});
