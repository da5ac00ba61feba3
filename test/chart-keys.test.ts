/**
 * The optional chart settings, held to test/contracts/chart-keys.json: for each recorded case, the
 * stack config renders the values the chart renders, to exactly the services whose chart template
 * includes the group, and nothing of it appears when the keys are unset.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { program } from "../infra/program";
import { AIRBYTE_VERSION } from "../infra/versions";
import { Graph, metadataOf, runGraph } from "./support/graph";
import { containerOf, envSources } from "./support/airbyte-platform-fixture";
import { SECRET_KEYS, VALID_V0 } from "./support/config";
import { expectOnlyInSecrets } from "./support/secret-checks";
import { VALID_V1, V1_SECRET_KEYS } from "./support/config-v1";

interface Rendered {
  group: string;
  value?: string;
  secretKeyRef?: { name: string; key: string };
}
interface Case {
  name: string;
  stackConfig: Record<string, string | string[]>;
  rendered: Record<string, Rendered>;
  beyondChart?: Record<string, Rendered>;
}
interface Facts {
  provenance: { chart: { version: string; appVersion: string } };
  groups: Record<string, { includedBy: string[] }>;
  cases: Case[];
}

const FACTS: Facts = JSON.parse(
  fs.readFileSync(path.join(__dirname, "contracts", "chart-keys.json"), "utf8"),
);
const SERVICES = [
  "bootloader",
  "server",
  "worker",
  "workload-launcher",
  "workload-api-server",
  "cron",
  "connector-builder-server",
];
const OPTIONAL_SECRETS = [
  "awsSecretManagerAccessKeyId",
  "awsSecretManagerSecretAccessKey",
  "vaultAuthToken",
];

function stackConfig(base: Record<string, string>, c: Case): Record<string, string> {
  const out = { ...base };
  for (const [k, v] of Object.entries(c.stackConfig)) {
    out[k] = Array.isArray(v) ? JSON.stringify(v) : v;
  }
  return out;
}

function run(config: Record<string, string>, secretKeys = SECRET_KEYS): Promise<Graph> {
  return runGraph(() => program(), {
    stack: config.topology,
    config,
    secretKeys: [...secretKeys, ...OPTIONAL_SECRETS],
  });
}

/** `{ service → env sources }` of one instance. */
function envByService(graph: Graph, instance: string): Record<string, Record<string, string>> {
  const bootloader = `${instance}-bootloader-${AIRBYTE_VERSION.replace(/\./g, "-")}`;
  return Object.fromEntries(
    SERVICES.map((svc) => [
      svc,
      svc === "bootloader"
        ? envSources(containerOf(graph, "Job", bootloader))
        : envSources(containerOf(graph, "Deployment", `${instance}-${svc}`)),
    ]),
  );
}

describe("chart-keys contract", () => {
  it("records the chart the facts come from", () => {
    expect(FACTS.provenance.chart).toMatchObject({ version: "2.0.19", appVersion: "2.0.1" });
    expect(FACTS.provenance.chart.appVersion).toBe(AIRBYTE_VERSION);
  });

  for (const c of FACTS.cases) {
    it(`renders what the chart renders: ${c.name}`, async () => {
      const graph = await run(stackConfig(VALID_V0, c));
      const cm = graph.one("ConfigMap", "airbyte-prod-airbyte-env").inputs.data as Record<
        string,
        string
      >;
      const env = envByService(graph, "airbyte-prod");
      const secret = graph.one("Secret", "airbyte-prod-airbyte-secrets").inputs
        .stringData as Record<string, string>;
      for (const [name, r] of Object.entries({ ...c.rendered, ...c.beyondChart })) {
        const readers = FACTS.groups[r.group].includedBy;
        const source = r.secretKeyRef
          ? `secret:${r.secretKeyRef.name}/${r.secretKeyRef.key}`
          : `cm:${name}`;
        if (r.secretKeyRef) expect(Object.keys(secret)).toContain(r.secretKeyRef.key);
        else expect(cm[name], name).toBe(r.value);
        for (const svc of SERVICES) {
          expect(env[svc][name], `${name} in ${svc}`).toBe(
            readers.includes(svc) ? source : undefined,
          );
        }
      }
      // Credentials stay Pulumi secrets inside the instance Secret.
      for (const k of OPTIONAL_SECRETS) {
        const v = c.stackConfig[k];
        if (typeof v === "string") expectOnlyInSecrets(graph, v);
      }
    });
  }

  it("adds none of it when the keys are unset", async () => {
    const graph = await run(VALID_V0);
    const cm = graph.one("ConfigMap", "airbyte-prod-airbyte-env").inputs.data as Record<
      string,
      string
    >;
    const env = envByService(graph, "airbyte-prod");
    // Keys the base ConfigMap has anyway, with the values it had before these settings existed.
    const base: Record<string, string> = {
      SECRET_PERSISTENCE: "TESTING_CONFIG_DB_TABLE",
      MICROMETER_METRICS_ENABLED: "false",
      // A chart default restored by the fidelity contract (test/contracts/chart/facts.json).
      MICROMETER_METRICS_OTLP_ENABLED: "false",
      MICROMETER_METRICS_STEP: "PT1M",
      USE_CUSTOM_NODE_SELECTOR: "false",
      CONNECTOR_SIDECAR_IMAGE: `airbyte/connector-sidecar:${AIRBYTE_VERSION}`,
      CONTAINER_ORCHESTRATOR_IMAGE: `airbyte/container-orchestrator:${AIRBYTE_VERSION}`,
      WORKLOAD_INIT_IMAGE: `airbyte/workload-init-container:${AIRBYTE_VERSION}`,
      CONNECTOR_PROFILER_IMAGE: `airbyte/async-profiler:${AIRBYTE_VERSION}`,
    };
    for (const c of FACTS.cases) {
      for (const name of Object.keys({ ...c.rendered, ...c.beyondChart })) {
        expect(cm[name], name).toBe(base[name]);
        if (base[name] === undefined) {
          for (const svc of SERVICES) expect(env[svc][name], `${name} in ${svc}`).toBeUndefined();
        }
      }
    }
    const secret = graph.one("Secret", "airbyte-prod-airbyte-secrets").inputs.stringData as Record<
      string,
      string
    >;
    expect(Object.keys(secret).filter((k) => /SECRET_MANAGER|VAULT/.test(k))).toEqual([]);
    expect(metadataOf(graph.one("ServiceAccount", "airbyte-prod-job")).annotations).toBeUndefined();
  });

  it("annotates the connectors' ServiceAccount, and only that one", async () => {
    const graph = await run({
      ...VALID_V0,
      connectorServiceAccountAnnotations: JSON.stringify([
        "eks.amazonaws.com/role-arn=arn:aws:iam::123456789012:role/airbyte-connectors",
        "iam.gke.io/gcp-service-account=airbyte@project.iam.gserviceaccount.com",
      ]),
    });
    expect(metadataOf(graph.one("ServiceAccount", "airbyte-prod-job")).annotations).toEqual({
      "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/airbyte-connectors",
      "iam.gke.io/gcp-service-account": "airbyte@project.iam.gserviceaccount.com",
    });
    const sa = graph.one("ServiceAccount", "airbyte-prod-job").inputs as {
      automountServiceAccountToken?: boolean;
    };
    expect(sa.automountServiceAccountToken).toBe(false);
    for (const r of graph.kube("ServiceAccount")) {
      if (metadataOf(r).name !== "airbyte-prod-job") {
        expect(metadataOf(r).annotations ?? {}, metadataOf(r).name).not.toHaveProperty(
          "eks.amazonaws.com/role-arn",
        );
      }
    }
  });

  it("sets connectorResources as the JOB_MAIN_CONTAINER_* defaults, field by field", async () => {
    const graph = await run({
      ...VALID_V0,
      connectorResources: JSON.stringify(["memoryLimit=4Gi", "cpuRequest=500m"]),
    });
    const cm = graph.one("ConfigMap", "airbyte-prod-airbyte-env").inputs.data as Record<
      string,
      string
    >;
    expect(cm).toMatchObject({
      JOB_MAIN_CONTAINER_CPU_REQUEST: "500m",
      JOB_MAIN_CONTAINER_CPU_LIMIT: "2",
      JOB_MAIN_CONTAINER_MEMORY_REQUEST: "512Mi",
      JOB_MAIN_CONTAINER_MEMORY_LIMIT: "4Gi",
    });
  });

  it("gives the v1 replica the same settings (one config for both instances)", async () => {
    const c = FACTS.cases[0];
    const graph = await run(stackConfig(VALID_V1, c), V1_SECRET_KEYS);
    const cms = graph
      .kube("ConfigMap")
      .filter((r) => (metadataOf(r).name ?? "").endsWith("-airbyte-env"))
      .map((r) => r.inputs.data as Record<string, string>);
    expect(cms).toHaveLength(2);
    for (const cm of cms) {
      expect(cm.JOB_KUBE_NODE_SELECTORS).toBe(c.rendered.JOB_KUBE_NODE_SELECTORS.value);
      expect(cm.OTEL_COLLECTOR_ENDPOINT).toBe(c.rendered.OTEL_COLLECTOR_ENDPOINT.value);
    }
  });

  it("points Vault's token reference at the instance's own Secret", async () => {
    const vault = FACTS.cases.find((c) => c.name === "Vault");
    if (!vault) throw new Error("no Vault case in the facts");
    const graph = await run(stackConfig(VALID_V1, vault), V1_SECRET_KEYS);
    for (const r of graph
      .kube("ConfigMap")
      .filter((x) => (metadataOf(x).name ?? "").endsWith("-airbyte-env"))) {
      const instance = (metadataOf(r).name ?? "").replace(/-airbyte-env$/, "");
      const data = r.inputs.data as Record<string, string>;
      expect(data.VAULT_AUTH_TOKEN_REF_NAME).toBe(`${instance}-airbyte-secrets`);
      const secret = graph.one("Secret", `${instance}-airbyte-secrets`);
      expect(metadataOf(secret).namespace).toBe(metadataOf(r).namespace);
    }
  });
});
