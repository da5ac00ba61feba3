import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../infra/config";
import { VALID_V0, mapSource } from "./support/config";

function problemsOf(overrides: Record<string, string | undefined>): string[] {
  const values = { ...VALID_V0, ...overrides } as Record<string, string>;
  for (const [k, v] of Object.entries(overrides)) if (v === undefined) delete values[k];
  try {
    parseConfig(mapSource(values));
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe("stack configuration", () => {
  it("accepts the minimal v0 config and applies every default", () => {
    const c = parseConfig(mapSource(VALID_V0));
    expect(c.topology).toBe("v0");
    expect(c.prod).toEqual({ namespace: "airbyte-prod", host: "airbyte.example.com" });
    expect(c.ingress).toEqual({
      className: "nginx",
      controllerNamespace: "ingress-nginx",
      allowedSourceRanges: ["203.0.113.0/24"],
      tlsSecretName: undefined,
      certManagerClusterIssuer: undefined,
      proxyReadTimeoutSeconds: 3600,
      proxyBodySizeMb: 50,
    });
    expect(c.storage).toEqual({ type: "minio", size: "20Gi", logRetentionDays: 30 });
    expect(c.replicas).toEqual({
      server: 1,
      worker: 1,
      workloadLauncher: 1,
      workloadApiServer: 1,
      connectorBuilderServer: 1,
    });
    expect(c.oauth2ProxyReplicas).toBe(2);
    expect(c.oauth.provider).toBe("google");
  });

  it("takes overrides", () => {
    const c = parseConfig(
      mapSource({
        ...VALID_V0,
        prodNamespace: "data-airbyte",
        workerReplicas: "3",
        allowedSourceRanges: JSON.stringify(["10.0.0.0/8", "2001:db8::/32"]),
        oauthProvider: "oidc",
        oauthOidcIssuerUrl: "https://login.example.com/realms/main",
        logRetentionDays: "7",
      }),
    );
    expect(c.prod.namespace).toBe("data-airbyte");
    expect(c.replicas.worker).toBe(3);
    expect(c.ingress.allowedSourceRanges).toEqual(["10.0.0.0/8", "2001:db8::/32"]);
    expect(c.oauth.oidcIssuerUrl).toBe("https://login.example.com/realms/main");
    expect(c.storage.logRetentionDays).toBe(7);
  });

  it.each([
    ["unknown topology", { topology: "v9" }, "airbyte:topology: 'v9' is not one of v0, v1, v2"],
    ["missing topology", { topology: undefined }, "airbyte:topology: is required"],
    [
      "invalid hostname",
      { prodHost: "Airbyte_Prod.example.com" },
      "airbyte:prodHost: 'Airbyte_Prod.example.com' is not a valid DNS hostname",
    ],
    [
      "unqualified hostname",
      { prodHost: "airbyte" },
      "airbyte:prodHost: 'airbyte' must be a fully qualified",
    ],
    [
      "bad CIDR",
      { allowedSourceRanges: '["10.0.0.0/33"]' },
      "airbyte:allowedSourceRanges: item '10.0.0.0/33' has a prefix length over 32",
    ],
    [
      "not a CIDR",
      { allowedSourceRanges: '["10.0.0.256/8"]' },
      "item '10.0.0.256/8' is not a CIDR block",
    ],
    [
      "allowlist not a list",
      { allowedSourceRanges: "10.0.0.0/8" },
      "airbyte:allowedSourceRanges: '10.0.0.0/8' is not a list of strings",
    ],
    [
      "empty allowlist",
      { allowedSourceRanges: "[]" },
      "airbyte:allowedSourceRanges: must have at least one item",
    ],
    [
      "missing OAuth client secret",
      { oauthClientSecret: undefined },
      "airbyte:oauthClientSecret: is required but not set; fix: pulumi config set --secret airbyte:oauthClientSecret",
    ],
    [
      "negative replica count",
      { workerReplicas: "-1" },
      "airbyte:workerReplicas: -1 is out of range: must be between 0 and 20",
    ],
    [
      "non-numeric replica count",
      { serverReplicas: "two" },
      "airbyte:serverReplicas: 'two' is not a whole number",
    ],
    [
      "unknown storage type",
      { storageType: "gcs" },
      "airbyte:storageType: 'gcs' is not one of minio",
    ],
    [
      "oidc without issuer",
      { oauthProvider: "oidc" },
      "airbyte:oauthOidcIssuerUrl: is required when oauthProvider is oidc",
    ],
    ["nobody allowed in", { oauthAllowedEmailDomains: undefined }, "nobody could sign in"],
    [
      "bad e-mail",
      { oauthAllowedEmails: '["not-an-email"]' },
      "airbyte:oauthAllowedEmails: item 'not-an-email' is not an e-mail address",
    ],
    [
      "bad namespace",
      { prodNamespace: "Airbyte Prod" },
      "airbyte:prodNamespace: 'Airbyte Prod' must be a DNS-1123 label",
    ],
    [
      "bad storage size",
      { minioStorageSize: "20 gigs" },
      "airbyte:minioStorageSize: '20 gigs' is not a storage size",
    ],
    [
      "a typo'd key",
      { prodhost: "x.example.com" },
      "airbyte:prodhost: unknown key; did you mean airbyte:prodHost?",
    ],
  ])("rejects %s, naming the key", (_label, overrides, message) => {
    const problems = problemsOf(overrides);
    expect(problems.join("\n")).toContain(message);
  });

  it("reports every problem at once", () => {
    const problems = problemsOf({ topology: "v7", prodHost: "bad_host", workerReplicas: "-2" });
    expect(problems).toHaveLength(3);
  });

  it("gives a fix for each problem", () => {
    for (const p of problemsOf({ topology: "x", prodHost: "y", allowedSourceRanges: '["z"]' })) {
      expect(p).toMatch(/fix: pulumi config set/);
    }
  });
});
