import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../infra/config";
import { mapSource } from "./support/config";
import { VALID_V2 } from "./support/config-v2";

function problemsOf(overrides: Record<string, string | undefined>): string[] {
  const values = { ...VALID_V2, ...overrides } as Record<string, string>;
  for (const [k, v] of Object.entries(overrides)) if (v === undefined) delete values[k];
  try {
    parseConfig(mapSource(values));
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe("v2 stack configuration", () => {
  it("accepts the minimal v2 config and applies every default", () => {
    const c = parseConfig(mapSource(VALID_V2));
    expect(c.replication).toEqual({
      image: "ghcr.io/acme/airbyte-migrate:0.1.0",
      hub: {
        namespace: "airbyte-replication",
        externalHost: "hub.airbyte.example.com",
        tlsSecretName: undefined,
        certManagerClusterIssuer: undefined,
      },
      objectMirrorSchedule: "*/15 * * * *",
      activeInstance: "prod",
    });
    // v2 replicates: no copy section.
    expect(c.migration).toBeUndefined();
    expect(c.replica?.role).toBe("standby");
  });

  it("refuses activeInstance replica while the replica is standby, naming both keys", () => {
    const p = problemsOf({ activeInstance: "replica" });
    expect(p).toHaveLength(1);
    expect(p[0]).toContain("airbyte:activeInstance");
    expect(p[0]).toContain("airbyte:replicaRole");
    expect(problemsOf({ activeInstance: "replica", replicaRole: "active" })).toEqual([]);
    expect(problemsOf({ activeInstance: "both" })[0]).toContain("is not one of prod, replica");
  });

  it("requires the hub's external address and the tool's image", () => {
    const p = problemsOf({ hubExternalHost: undefined, migrationImage: undefined });
    expect(p.some((x) => x.startsWith("airbyte:hubExternalHost: is required in topology v2"))).toBe(
      true,
    );
    expect(p.some((x) => x.startsWith("airbyte:migrationImage: is required"))).toBe(true);
    expect(problemsOf({ hubExternalHost: "not a host!" })[0]).toContain("airbyte:hubExternalHost");
  });

  it("keeps the hub out of prod's and the replica's namespaces", () => {
    expect(problemsOf({ hubNamespace: "airbyte-prod" })[0]).toContain("airbyte:hubNamespace");
    expect(problemsOf({ hubNamespace: "airbyte-replica" })[0]).toContain("airbyte:hubNamespace");
    expect(problemsOf({ hubNamespace: "Bad_NS" })[0]).toContain("DNS-1123");
  });

  it("checks the mirror schedule and the hub's TLS settings", () => {
    expect(problemsOf({ objectMirrorSchedule: "every 15 minutes" })[0]).toContain(
      "airbyte:objectMirrorSchedule",
    );
    expect(problemsOf({ hubTlsSecretName: "Not_A_Name" })[0]).toContain("airbyte:hubTlsSecretName");
    const c = parseConfig(
      mapSource({ ...VALID_V2, hubTlsSecretName: "hub-tls", hubCertManagerIssuer: "internal-ca" }),
    );
    expect(c.replication?.hub).toMatchObject({
      tlsSecretName: "hub-tls",
      certManagerClusterIssuer: "internal-ca",
    });
  });

  it("still needs v1's keys (core-worker-01 and the replica)", () => {
    const p = problemsOf({ coreWorkerHost: undefined, replicaHost: undefined });
    expect(p.some((x) => x.startsWith("airbyte:coreWorkerHost"))).toBe(true);
    expect(p.some((x) => x.startsWith("airbyte:replicaHost"))).toBe(true);
  });
});
