import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../infra/config";
import { VALID_V0, mapSource } from "./support/config";

const list = (...items: string[]) => JSON.stringify(items);

function problemsOf(overrides: Record<string, string>): string[] {
  try {
    parseConfig(mapSource({ ...VALID_V0, ...overrides }));
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe("connector pod, job resource, metrics and secret-store keys", () => {
  it("default to nothing set", () => {
    const p = parseConfig(mapSource(VALID_V0)).platform;
    expect(p.connectorPods).toEqual({
      nodeSelector: {},
      checkNodeSelector: {},
      discoverNodeSelector: {},
      customConnectorNodeSelector: {},
      tolerations: [],
      annotations: {},
      labels: {},
      imagePullSecrets: [],
      imageRegistry: undefined,
      serviceAccountAnnotations: {},
    });
    expect(p.jobResources).toEqual({});
    expect(p.jobTypeResources).toEqual({ check: {}, discover: {}, sidecar: {} });
    expect(p.otlpMetrics).toBeUndefined();
    expect(p.secretsBackend).toEqual({ type: "database" });
  });

  it("reads every key into the platform arguments", () => {
    const p = parseConfig(
      mapSource({
        ...VALID_V0,
        connectorNodeSelector: list("node-pool=connectors"),
        connectorTolerations: list("key=spot,operator=Exists,effect=NoSchedule"),
        connectorAnnotations: list("a.example.com/x=1"),
        connectorImagePullSecrets: list("regcred"),
        connectorImageRegistry: "registry.example.com:5000/mirror",
        connectorCheckResources: list("cpuRequest=100m", "cpuLimit=1"),
        otlpMetricsEndpoint: "http://otel.monitoring:4318/v1/metrics",
        otlpMetricsStep: "PT30S",
        secretsBackend: "aws-secret-manager",
        awsSecretManagerRegion: "eu-west-1",
        awsSecretManagerTags: list("team=data"),
      }),
    ).platform;
    expect(p.connectorPods).toMatchObject({
      nodeSelector: { "node-pool": "connectors" },
      tolerations: [{ key: "spot", operator: "Exists", effect: "NoSchedule" }],
      annotations: { "a.example.com/x": "1" },
      imagePullSecrets: ["regcred"],
      imageRegistry: "registry.example.com:5000/mirror",
    });
    expect(p.jobTypeResources?.check).toEqual({ cpuRequest: "100m", cpuLimit: "1" });
    expect(p.otlpMetrics).toEqual({
      endpoint: "http://otel.monitoring:4318/v1/metrics",
      step: "PT30S",
    });
    expect(p.secretsBackend).toMatchObject({
      type: "awsSecretManager",
      region: "eu-west-1",
      tags: [["team", "data"]],
    });
    expect(p.secretsBackend).not.toHaveProperty("accessKeyId");
  });

  it("takes declared defaults and render's secret placeholders for unset", () => {
    // What the Pulumi CLI passes (every declared default) and what render adds (a placeholder for
    // every secret), with none of these keys set by the user.
    expect(
      problemsOf({
        vaultPrefix: "secret/",
        awsSecretManagerTags: "[]",
        otlpMetricsStep: "PT1M",
        awsSecretManagerAccessKeyId: "placeholder-awsSecretManagerAccessKeyId",
        awsSecretManagerSecretAccessKey: "placeholder-awsSecretManagerSecretAccessKey",
        vaultAuthToken: "placeholder-vaultAuthToken",
      }),
    ).toEqual([]);
  });

  it("reads the Vault token as a secret", () => {
    const p = parseConfig(
      mapSource({
        ...VALID_V0,
        secretsBackend: "vault",
        vaultAddress: "https://vault.example.com:8200",
        vaultAuthToken: "hvs.token",
      }),
    ).platform;
    expect(p.secretsBackend).toMatchObject({
      type: "vault",
      address: "https://vault.example.com:8200",
      prefix: "secret/",
    });
  });

  it.each([
    [
      "node selector without =",
      { connectorNodeSelector: list("connectors") },
      "airbyte:connectorNodeSelector: item 'connectors' is not key=value",
    ],
    [
      "node selector value that is no label value",
      { connectorCheckNodeSelector: list("pool=a b") },
      "airbyte:connectorCheckNodeSelector: item 'pool=a b' has value 'a b' that is not a label value",
    ],
    [
      "label key with a bad prefix",
      { connectorLabels: list("Example.com/team=data") },
      "airbyte:connectorLabels: item 'Example.com/team=data' has key 'Example.com/team' whose prefix is not a DNS subdomain",
    ],
    [
      "toleration without effect (the launcher would drop it)",
      { connectorTolerations: list("key=spot,operator=Exists") },
      "airbyte:connectorTolerations: item 'key=spot,operator=Exists' has no effect: the launcher would drop it",
    ],
    [
      "toleration operator Equals (the launcher's own doc example)",
      { connectorTolerations: list("key=a,operator=Equals,value=b,effect=NoSchedule") },
      "has operator 'Equals': use Equal or Exists",
    ],
    [
      "toleration with Exists and a value",
      { connectorTolerations: list("key=a,operator=Exists,value=b,effect=NoSchedule") },
      "has a value with operator Exists",
    ],
    [
      "toleration with tolerationSeconds",
      {
        connectorTolerations: list("key=a,operator=Exists,effect=NoExecute,tolerationSeconds=30"),
      },
      "has unknown field 'tolerationSeconds'",
    ],
    [
      "annotation value with a comma",
      { connectorAnnotations: list("a/b=x,y") },
      "airbyte:connectorAnnotations: item 'a/b=x,y' has a ',' in its value",
    ],
    [
      "pull secret that is no Secret name",
      { connectorImagePullSecrets: list("Reg_Cred") },
      "airbyte:connectorImagePullSecrets: item 'Reg_Cred' must be a DNS-1123 label",
    ],
    [
      "registry with a scheme",
      { connectorImageRegistry: "https://registry.example.com" },
      "airbyte:connectorImageRegistry: 'https://registry.example.com' has a scheme",
    ],
    [
      "registry that reads as a Docker Hub namespace",
      { connectorImageRegistry: "mirror/airbyte" },
      "which image references read as a Docker Hub namespace",
    ],
    [
      "resource field typo",
      { connectorDiscoverResources: list("memoryLimits=2Gi") },
      "airbyte:connectorDiscoverResources: item 'memoryLimits=2Gi' has unknown field 'memoryLimits'",
    ],
    [
      "CPU quantity given as memory",
      { connectorSidecarResources: list("cpuLimit=1Gi") },
      "item 'cpuLimit=1Gi' has '1Gi', not a CPU quantity",
    ],
    [
      "request above limit",
      { connectorCheckResources: list("memoryRequest=2Gi", "memoryLimit=1Gi") },
      "airbyte:connectorCheckResources: memoryRequest 2Gi is above memoryLimit 1Gi",
    ],
    [
      "request above the default limit",
      { connectorResources: list("cpuRequest=4") },
      "airbyte:connectorResources: cpuRequest 4 is above cpuLimit 2",
    ],
    [
      "SA annotation without =",
      { connectorServiceAccountAnnotations: list("eks.amazonaws.com/role-arn") },
      "airbyte:connectorServiceAccountAnnotations: item 'eks.amazonaws.com/role-arn' is not key=value",
    ],
    [
      "OTLP endpoint without scheme",
      { otlpMetricsEndpoint: "otel:4318" },
      "airbyte:otlpMetricsEndpoint: 'otel:4318' must be an http:// or https:// URL",
    ],
    [
      "OTLP step not ISO-8601",
      { otlpMetricsEndpoint: "http://otel:4318/v1/metrics", otlpMetricsStep: "30s" },
      "airbyte:otlpMetricsStep: '30s' is not an ISO-8601 duration",
    ],
    [
      "OTLP step without endpoint",
      { otlpMetricsStep: "PT30S" },
      "airbyte:otlpMetricsStep: has no effect without otlpMetricsEndpoint",
    ],
    [
      "OTLP collector namespace without endpoint",
      { otlpMetricsCollectorNamespace: "monitoring" },
      "airbyte:otlpMetricsCollectorNamespace: has no effect without otlpMetricsEndpoint",
    ],
    [
      "OTLP collector namespace not a DNS label",
      { otlpMetricsEndpoint: "http://otel:4318/v1/metrics", otlpMetricsCollectorNamespace: "Mon" },
      "airbyte:otlpMetricsCollectorNamespace: 'Mon'",
    ],
    [
      "unknown secrets backend",
      { secretsBackend: "gcp" },
      "airbyte:secretsBackend: 'gcp' is not one of database, aws-secret-manager, vault",
    ],
    [
      "AWS without region",
      { secretsBackend: "aws-secret-manager" },
      "airbyte:awsSecretManagerRegion: is required when secretsBackend is aws-secret-manager",
    ],
    [
      "AWS with a bad region",
      { secretsBackend: "aws-secret-manager", awsSecretManagerRegion: "Europe" },
      "airbyte:awsSecretManagerRegion: 'Europe' is not an AWS region",
    ],
    [
      "AWS with only one key",
      {
        secretsBackend: "aws-secret-manager",
        awsSecretManagerRegion: "eu-west-1",
        awsSecretManagerAccessKeyId: "AKIA123",
      },
      "airbyte:awsSecretManagerSecretAccessKey: must be set together with its pair (or leave both unset for the AWS default chain); fix: pulumi config set --secret airbyte:awsSecretManagerSecretAccessKey",
    ],
    [
      "AWS tag Airbyte's parser refuses",
      {
        secretsBackend: "aws-secret-manager",
        awsSecretManagerRegion: "eu-west-1",
        awsSecretManagerTags: list("team=data;ops"),
      },
      "airbyte:awsSecretManagerTags: item 'team=data;ops' has characters Airbyte's tag parser refuses",
    ],
    [
      "KMS key that is no ARN",
      {
        secretsBackend: "aws-secret-manager",
        awsSecretManagerRegion: "eu-west-1",
        awsSecretManagerKmsKeyArn: "my-key",
      },
      "airbyte:awsSecretManagerKmsKeyArn: 'my-key' is not a KMS key ARN",
    ],
    [
      "Vault without token",
      { secretsBackend: "vault", vaultAddress: "https://vault.example.com" },
      "airbyte:vaultAuthToken: is required when secretsBackend is vault (a secret); fix: pulumi config set --secret airbyte:vaultAuthToken",
    ],
    [
      "Vault without address",
      { secretsBackend: "vault", vaultAuthToken: "hvs.x" },
      "airbyte:vaultAddress: is required when secretsBackend is vault",
    ],
    [
      "Vault prefix with a leading slash",
      {
        secretsBackend: "vault",
        vaultAddress: "https://vault.example.com",
        vaultAuthToken: "hvs.x",
        vaultPrefix: "/secret",
      },
      "airbyte:vaultPrefix: '/secret' is not a Vault path prefix",
    ],
    [
      "a Vault setting while the backend is the database",
      { vaultAddress: "https://vault.example.com" },
      "airbyte:vaultAddress: belongs to secretsBackend vault, but secretsBackend is database",
    ],
    [
      "an AWS setting while the backend is Vault",
      {
        secretsBackend: "vault",
        vaultAddress: "https://vault.example.com",
        vaultAuthToken: "hvs.x",
        awsSecretManagerRegion: "eu-west-1",
      },
      "airbyte:awsSecretManagerRegion: belongs to secretsBackend aws-secret-manager, but secretsBackend is vault",
    ],
  ])("rejects %s, naming the key and the fix", (_, overrides, message) => {
    const problems = problemsOf(overrides);
    expect(problems.join("\n")).toContain(message);
    for (const p of problems) expect(p).toMatch(/; fix: pulumi config set /);
  });
});
