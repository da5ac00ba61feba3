/** The optional connector-pod, metrics and secret-store arguments of AirbytePlatform itself. */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { AirbyteAuthSecrets } from "../components/airbyte-auth-secrets";
import { AirbytePlatform, AirbytePlatformArgs } from "../components/airbyte-platform";
import { runGraph } from "./support/graph";
import {
  baseArgs,
  containerOf,
  envSources,
  platformProgram,
} from "./support/airbyte-platform-fixture";
import { expectOnlyInSecrets } from "./support/secret-checks";

const CM = "airbyte-prod-airbyte-env";

async function cmOf(extra: Partial<AirbytePlatformArgs>): Promise<Record<string, string>> {
  const graph = await runGraph(platformProgram((a) => ({ ...a, ...extra })));
  return graph.one("ConfigMap", CM).inputs.data as Record<string, string>;
}

describe("AirbytePlatform optional settings", () => {
  it.each([
    [
      "a toleration Kubernetes would refuse",
      {
        connectorPods: {
          tolerations: [
            { key: "spot", operator: "Exists" as const, effect: "NoSchedule" as const, value: "x" },
          ],
        },
      },
      "connectorPods.tolerations 'effect=NoSchedule,key=spot,operator=Exists,value=x' has a value with operator Exists",
    ],
    [
      "a node selector value with a space",
      { connectorPods: { nodeSelector: { pool: "a b" } } },
      "connectorPods.nodeSelector 'pool=a b' has value 'a b' that is not a label value",
    ],
    [
      "a registry with a scheme",
      { connectorPods: { imageRegistry: "https://r.example.com" } },
      "connectorPods.imageRegistry 'https://r.example.com' has a scheme",
    ],
    [
      "a check request above its limit",
      { jobTypeResources: { check: { cpuRequest: "2", cpuLimit: "1" } } },
      "jobTypeResources.check: cpuRequest 2 is above cpuLimit 1",
    ],
    [
      "an OTLP endpoint that is no URL",
      { otlpMetrics: { endpoint: "collector:4318" } },
      "otlpMetrics.endpoint 'collector:4318' must be an http:// or https:// URL",
    ],
    [
      "one AWS key without the other",
      {
        secretsBackend: {
          type: "awsSecretManager" as const,
          region: "eu-west-1",
          accessKeyId: "AKIA",
        },
      },
      "secretsBackend: give both accessKeyId and secretAccessKey, or neither",
    ],
  ])("refuses %s before creating anything, naming the argument", (_, extra, message) => {
    // Validation runs before the component registers, so no runtime is needed to see it.
    const args = { ...baseArgs({} as AirbyteAuthSecrets), ...extra } as AirbytePlatformArgs;
    expect(() => new AirbytePlatform("bad", args)).toThrow(`AirbytePlatform bad: ${message}`);
  });

  it("replaces the images of connector pods under a registry mirror, not the services' own", async () => {
    const graph = await runGraph(
      platformProgram((a) => ({ ...a, connectorPods: { imageRegistry: "r.example.com/hub/" } })),
    );
    const cm = graph.one("ConfigMap", CM).inputs.data as Record<string, string>;
    expect(cm.JOB_KUBE_CONNECTOR_IMAGE_REGISTRY).toBe("r.example.com/hub/");
    expect(cm.CONNECTOR_SIDECAR_IMAGE).toMatch(
      /^r\.example\.com\/hub\/airbyte\/connector-sidecar:/,
    );
    expect(containerOf(graph, "Deployment", "airbyte-prod-server").image).toMatch(/^airbyte\//);
  });

  it("uses the per-type node selector where given and the common one elsewhere", async () => {
    const cm = await cmOf({
      connectorPods: { nodeSelector: { pool: "jobs" }, discoverNodeSelector: { pool: "ui" } },
    });
    expect(cm).toMatchObject({
      JOB_KUBE_NODE_SELECTORS: "pool=jobs",
      CHECK_JOB_KUBE_NODE_SELECTORS: "pool=jobs",
      DISCOVER_JOB_KUBE_NODE_SELECTORS: "pool=ui",
      SPEC_JOB_KUBE_NODE_SELECTORS: "pool=jobs",
    });
  });

  it("takes the Vault token as a Pulumi secret into the instance Secret only", async () => {
    const token = "hvs.component-token-3f9a";
    const graph = await runGraph(
      platformProgram((a) => ({
        ...a,
        secretsBackend: {
          type: "vault",
          address: "https://vault.example.com",
          token: pulumi.secret(token),
        },
      })),
    );
    expectOnlyInSecrets(graph, token);
    const env = envSources(containerOf(graph, "Deployment", "airbyte-prod-workload-launcher"));
    expect(env.VAULT_AUTH_TOKEN).toBe("secret:airbyte-prod-airbyte-secrets/VAULT_AUTH_TOKEN");
    expect(env.VAULT_AUTH_TOKEN_REF_NAME).toBe("cm:VAULT_AUTH_TOKEN_REF_NAME");
  });
});
