/**
 * The optional Airbyte settings of the stack config (connector pods, job resources, OTLP metrics,
 * secret store), read into the AirbytePlatform arguments they set. Every key defaults to "off".
 */
import type { OptionalEnvArgs, SecretsBackendArgs } from "../../components/airbyte/optional-env";
import { ConfigReader, ConfigSource } from "./reader";
import { CONFIG_SCHEMA, ConfigKey, KeySpec, SecretsBackend } from "./schema";
import {
  ResourceSettings,
  pairsToMap,
  parseToleration,
  resourceConflict,
  resourceSettings,
} from "./job-validators";

/** What the stack sets of the AirbytePlatform arguments, the same for every instance. */
export interface PlatformOptions extends OptionalEnvArgs {
  /** `JOB_MAIN_CONTAINER_*`: each set field replaces the component's default. */
  jobResources: ResourceSettings;
}

/** Default `JOB_MAIN_CONTAINER_*` of the AirbytePlatform component, for the request ≤ limit check. */
const JOB_DEFAULTS: ResourceSettings = {
  cpuRequest: "250m",
  cpuLimit: "2",
  memoryRequest: "512Mi",
  memoryLimit: "2Gi",
};

const BACKEND_KEYS: Record<Exclude<SecretsBackend, "database">, ConfigKey[]> = {
  "aws-secret-manager": [
    "awsSecretManagerRegion",
    "awsSecretManagerAccessKeyId",
    "awsSecretManagerSecretAccessKey",
    "awsSecretManagerTags",
    "awsSecretManagerKmsKeyArn",
  ],
  vault: ["vaultAddress", "vaultAuthToken", "vaultPrefix"],
};

/**
 * Whether a plain key holds something other than its declared default. The Pulumi CLI passes
 * declared defaults to the program, so presence alone says nothing.
 */
function setExplicitly(source: ConfigSource, key: ConfigKey): boolean {
  const spec = CONFIG_SCHEMA[key] as KeySpec;
  const raw = source.get(key);
  if (raw === undefined || raw === "") return false;
  if (spec.type === "array") return raw.trim() !== "[]";
  return raw !== String(spec.default ?? "");
}

export function parsePlatformOptions(r: ConfigReader, source: ConfigSource): PlatformOptions {
  const resources = (key: ConfigKey, defaults: ResourceSettings = {}): ResourceSettings => {
    const s = resourceSettings(r.array(key));
    const conflict = resourceConflict({ ...defaults, ...s });
    if (conflict) r.fail(key, `${conflict}: Kubernetes refuses such a pod; raise the limit too`);
    return s;
  };
  const options: PlatformOptions = {
    connectorPods: {
      nodeSelector: pairsToMap(r.array("connectorNodeSelector")),
      checkNodeSelector: pairsToMap(r.array("connectorCheckNodeSelector")),
      discoverNodeSelector: pairsToMap(r.array("connectorDiscoverNodeSelector")),
      customConnectorNodeSelector: pairsToMap(r.array("connectorCustomNodeSelector")),
      tolerations: r.array("connectorTolerations").map(parseToleration),
      annotations: pairsToMap(r.array("connectorAnnotations")),
      labels: pairsToMap(r.array("connectorLabels")),
      imagePullSecrets: r.array("connectorImagePullSecrets"),
      imageRegistry: r.string("connectorImageRegistry"),
      serviceAccountAnnotations: pairsToMap(r.array("connectorServiceAccountAnnotations")),
    },
    jobResources: resources("connectorResources", JOB_DEFAULTS),
    jobTypeResources: {
      check: resources("connectorCheckResources"),
      discover: resources("connectorDiscoverResources"),
      sidecar: resources("connectorSidecarResources"),
    },
    secretsBackend: parseSecretsBackend(r, source),
  };
  const endpoint = r.string("otlpMetricsEndpoint");
  const step = r.requiredString("otlpMetricsStep");
  const collectorNamespace = r.string("otlpMetricsCollectorNamespace");
  if (endpoint) {
    options.otlpMetrics = { endpoint, step, ...(collectorNamespace ? { collectorNamespace } : {}) };
  } else {
    for (const key of ["otlpMetricsStep", "otlpMetricsCollectorNamespace"] as const) {
      if (setExplicitly(source, key))
        r.fail(key, "has no effect without otlpMetricsEndpoint: set that too, or remove this");
    }
  }
  return options;
}

function parseSecretsBackend(r: ConfigReader, source: ConfigSource): SecretsBackendArgs {
  const backend = (r.string("secretsBackend") ?? "database") as SecretsBackend;
  // A setting of a backend not chosen would silently do nothing. Secrets are left out: their
  // values cannot be inspected here (render gives every unset one a placeholder), and an unread
  // secret does no harm.
  for (const [b, keys] of Object.entries(BACKEND_KEYS)) {
    if (b === backend) continue;
    for (const k of keys) {
      const spec = CONFIG_SCHEMA[k] as KeySpec;
      if (!(spec.type === "string" && spec.secret) && setExplicitly(source, k)) {
        r.fail(
          k,
          `belongs to secretsBackend ${b}, but secretsBackend is ${backend}: set secretsBackend ${b}, or remove this`,
        );
      }
    }
  }
  const required = (key: ConfigKey) => {
    if (!source.isSet(key)) r.fail(key, `is required when secretsBackend is ${backend}`);
  };
  if (backend === "aws-secret-manager") {
    required("awsSecretManagerRegion");
    const accessKeyId = r.secret("awsSecretManagerAccessKeyId", false);
    const secretAccessKey = r.secret("awsSecretManagerSecretAccessKey", false);
    if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
      r.fail(
        accessKeyId ? "awsSecretManagerSecretAccessKey" : "awsSecretManagerAccessKeyId",
        "must be set together with its pair (or leave both unset for the AWS default chain)",
      );
    }
    return {
      type: "awsSecretManager",
      region: r.string("awsSecretManagerRegion") ?? "",
      ...(accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : {}),
      tags: r.array("awsSecretManagerTags").map((t) => {
        const eq = t.indexOf("=");
        return [t.slice(0, eq), t.slice(eq + 1)] as [string, string];
      }),
      kmsKeyArn: r.string("awsSecretManagerKmsKeyArn"),
    };
  }
  if (backend === "vault") {
    required("vaultAddress");
    const token = r.secret("vaultAuthToken", false);
    if (!token) r.fail("vaultAuthToken", "is required when secretsBackend is vault (a secret)");
    return {
      type: "vault",
      address: r.string("vaultAddress") ?? "",
      prefix: r.requiredString("vaultPrefix"),
      token: token ?? "",
    };
  }
  return { type: "database" };
}
