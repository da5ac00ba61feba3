/**
 * Checks and parsers for the connector-pod, metrics and secret-store settings, in the formats
 * Airbyte's workload-launcher parses (airbytehq/airbyte-platform v2.0.0; each function cites the
 * file). Pure, shared by the stack config schema and the AirbytePlatform component.
 */

const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A Kubernetes label or annotation key: `[prefix/]name`, prefix a DNS subdomain. */
function checkQualifiedKey(k: string): string | undefined {
  const slash = k.lastIndexOf("/");
  const prefix = slash >= 0 ? k.slice(0, slash) : undefined;
  const name = slash >= 0 ? k.slice(slash + 1) : k;
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    return `has key '${k}' whose prefix is not a DNS subdomain (e.g. example.com/team)`;
  }
  if (!LABEL_NAME.test(name)) {
    return `has key '${k}' that is not a label/annotation name (at most 63 letters, digits, '-', '_', '.')`;
  }
  return undefined;
}

function splitPair(v: string): [string, string] | undefined {
  const eq = v.indexOf("=");
  return eq > 0 ? [v.slice(0, eq), v.slice(eq + 1)] : undefined;
}

/**
 * `key=value` with a label key and label value: node selectors and pod labels. The launcher
 * splits the joined list on `,` and each item on the first `=` (WorkerConfigs.kt `toKeyValues`).
 */
export function checkLabelPair(v: string): string | undefined {
  const pair = splitPair(v);
  if (!pair) return "is not key=value (e.g. node-pool=connectors)";
  const keyProblem = checkQualifiedKey(pair[0]);
  if (keyProblem) return keyProblem;
  if (pair[1] !== "" && !LABEL_NAME.test(pair[1])) {
    return `has value '${pair[1]}' that is not a label value (at most 63 letters, digits, '-', '_', '.')`;
  }
  return undefined;
}

/** `key=value` with an annotation key; the value may hold anything but `,` (the list separator). */
export function checkAnnotationPair(v: string): string | undefined {
  const pair = splitPair(v);
  if (!pair)
    return "is not key=value (e.g. eks.amazonaws.com/role-arn=arn:aws:iam::123456789012:role/airbyte)";
  const keyProblem = checkQualifiedKey(pair[0]);
  if (keyProblem) return keyProblem;
  if (pair[1].includes(",")) return "has a ',' in its value: the launcher splits the list on ','";
  if (pair[1] !== pair[1].trim()) return "has spaces around its value: the launcher trims them";
  return undefined;
}

/** A ServiceAccount annotation: any value (it is set on the object, not passed through env). */
export function checkObjectAnnotationPair(v: string): string | undefined {
  const pair = splitPair(v);
  if (!pair)
    return "is not key=value (e.g. eks.amazonaws.com/role-arn=arn:aws:iam::123456789012:role/airbyte)";
  return checkQualifiedKey(pair[0]);
}

/** `["a=1", "b=2"]` as a map; later items win. Assumes the items passed their check. */
export function pairsToMap(items: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const pair = splitPair(item);
    if (pair) out[pair[0]] = pair[1];
  }
  return out;
}

/**
 * A map as the chart renders it into env (templates/_helpers.tpl `airbyte.flattenMap`): `k=v`
 * pairs sorted by key, as Go templates range over maps, joined by `,`.
 */
export function flattenMap(m: Record<string, string>): string {
  return Object.keys(m)
    .sort()
    .map((k) => `${k}=${m[k]}`)
    .join(",");
}

/** One toleration as the launcher reads it (TolerationPOJO.kt): key, operator, effect, value. */
export interface Toleration {
  key: string;
  operator: "Equal" | "Exists";
  effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
  value?: string;
}

const TOLERATION_FIELDS = ["key", "operator", "value", "effect"];
const EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"];
const TOLERATION_EXAMPLE = "key=dedicated,operator=Equal,value=connectors,effect=NoSchedule";

/**
 * `key=K,operator=Equal|Exists[,value=V],effect=E`. The launcher (config-models TolerationPOJO.kt)
 * splits tolerations on `;`, fields on `,` and `=`, and silently drops a toleration without key,
 * operator or effect; it has no tolerationSeconds. Kubernetes wants a value with Equal and none
 * with Exists.
 */
export function checkToleration(v: string): string | undefined {
  const fields: Record<string, string> = {};
  for (const part of v.split(",")) {
    const pair = splitPair(part);
    if (!pair || pair[1].includes("=") || pair[1].includes(";")) {
      return `has '${part}', not field=value (e.g. ${TOLERATION_EXAMPLE})`;
    }
    if (!TOLERATION_FIELDS.includes(pair[0])) {
      return `has unknown field '${pair[0]}' (the launcher reads only ${TOLERATION_FIELDS.join(", ")})`;
    }
    if (pair[0] in fields) return `has '${pair[0]}' twice`;
    fields[pair[0]] = pair[1];
  }
  for (const required of ["key", "operator", "effect"]) {
    if (!fields[required]) {
      return `has no ${required}: the launcher would drop it (e.g. ${TOLERATION_EXAMPLE})`;
    }
  }
  const keyProblem = checkQualifiedKey(fields.key);
  if (keyProblem) return keyProblem;
  if (fields.operator !== "Equal" && fields.operator !== "Exists") {
    return `has operator '${fields.operator}': use Equal or Exists`;
  }
  if (!EFFECTS.includes(fields.effect)) {
    return `has effect '${fields.effect}': use one of ${EFFECTS.join(", ")}`;
  }
  if (fields.operator === "Exists" && fields.value !== undefined) {
    return "has a value with operator Exists: drop the value or use Equal";
  }
  if (fields.operator === "Equal" && fields.value === undefined) {
    return "has operator Equal but no value";
  }
  if (fields.value && !LABEL_NAME.test(fields.value)) {
    return `has value '${fields.value}' that is not a label value`;
  }
  return undefined;
}

export function parseToleration(v: string): Toleration {
  const f: Record<string, string> = {};
  for (const part of v.split(",")) {
    const pair = splitPair(part);
    if (pair) f[pair[0]] = pair[1];
  }
  return {
    key: f.key,
    operator: f.operator as Toleration["operator"],
    effect: f.effect as Toleration["effect"],
    ...(f.value !== undefined ? { value: f.value } : {}),
  };
}

/**
 * Tolerations as the chart renders `global.jobs.kube.tolerations` (`airbyte.flattenArrayMap`):
 * each one's fields sorted by name and joined by `,`, tolerations joined by `;`.
 */
export function tolerationsEnv(ts: readonly Toleration[]): string {
  return ts
    .map((t) =>
      flattenMap(Object.fromEntries(Object.entries(t).filter(([, v]) => v !== undefined))),
    )
    .join(";");
}

/** Names of the per-container settings (the chart's `cpu.request`… and the launcher's env). */
export const RESOURCE_FIELDS = ["cpuRequest", "cpuLimit", "memoryRequest", "memoryLimit"] as const;
export type ResourceField = (typeof RESOURCE_FIELDS)[number];
export type ResourceSettings = Partial<Record<ResourceField, string>>;

const CPU = /^(\d+(\.\d+)?|\.\d+)m?$/;
const MEMORY = /^(\d+(\.\d+)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/;
const UNITS: Record<string, number> = {
  "": 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A CPU or memory quantity in base units (cores, bytes). */
export function quantityValue(q: string): number {
  const m = /^([\d.]+)([A-Za-z]*)$/.exec(q);
  return m ? Number(m[1]) * (UNITS[m[2]] ?? NaN) : NaN;
}

/** `cpuRequest=250m`, `memoryLimit=2Gi`…: one Kubernetes quantity for one container setting. */
export function checkResourceItem(v: string): string | undefined {
  const pair = splitPair(v);
  const example = "e.g. cpuRequest=250m or memoryLimit=2Gi";
  if (!pair) return `is not field=quantity (${example})`;
  const [field, q] = pair;
  if (!(RESOURCE_FIELDS as readonly string[]).includes(field)) {
    return `has unknown field '${field}' (one of ${RESOURCE_FIELDS.join(", ")})`;
  }
  const ok = field.startsWith("cpu") ? CPU.test(q) : MEMORY.test(q);
  if (!ok || quantityValue(q) <= 0) {
    return `has '${q}', not a ${field.startsWith("cpu") ? "CPU quantity (e.g. 500m or 2)" : "memory quantity (e.g. 512Mi or 2Gi)"}`;
  }
  return undefined;
}

/** Items to settings; later items win. Assumes the items passed {@link checkResourceItem}. */
export function resourceSettings(items: readonly string[]): ResourceSettings {
  return pairsToMap(items) as ResourceSettings;
}

/** A request above its limit, which Kubernetes refuses when it creates the pod. */
export function resourceConflict(s: ResourceSettings): string | undefined {
  for (const kind of ["cpu", "memory"] as const) {
    const req = s[`${kind}Request`];
    const lim = s[`${kind}Limit`];
    if (req && lim && quantityValue(req) > quantityValue(lim)) {
      return `${kind}Request ${req} is above ${kind}Limit ${lim}`;
    }
  }
  return undefined;
}

/**
 * A registry host with an optional path, no scheme: the launcher writes `<registry>/<image>` for
 * every connector image without a registry of its own (PayloadKubeInputMapper.kt
 * `withImageRegistry`, trailing `/` trimmed).
 */
export function checkImageRegistry(v: string): string | undefined {
  if (/^[a-z]+:\/\//i.test(v))
    return "has a scheme: give host[:port][/path] (e.g. registry.example.com/airbyte)";
  const [host, ...path] = v.replace(/\/+$/, "").split("/");
  if (!/^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]*[a-z0-9])?(:\d{1,5})?$/.test(host)) {
    return "does not start with a registry host (e.g. registry.example.com or registry.example.com:5000)";
  }
  if (!host.includes(".") && !host.includes(":") && host !== "localhost") {
    return "has a host without '.' or ':', which image references read as a Docker Hub namespace (e.g. registry.example.com)";
  }
  if (!path.every((p) => /^[a-z0-9]+([._-][a-z0-9]+)*$/.test(p))) {
    return "has a path that is not lowercase repository components (e.g. registry.example.com/mirror/airbyte)";
  }
  return undefined;
}

/** A connector image under a registry mirror, as the launcher and the chart's `imageUrl` write it. */
export function withRegistry(registry: string | undefined, image: string): string {
  return registry ? `${registry.replace(/\/+$/, "")}/${image}` : image;
}

/** An `http://` or `https://` URL (the OTLP collector, Vault). */
export function checkHttpUrl(v: string): string | undefined {
  try {
    const u = new URL(v);
    if (u.protocol !== "http:" && u.protocol !== "https:")
      return "must be an http:// or https:// URL";
    if (u.username || u.password) return "must not hold credentials";
    return undefined;
  } catch {
    return "is not a URL (e.g. http://otel-collector.monitoring:4318/v1/metrics)";
  }
}

/** An ISO-8601 duration as Micronaut reads `micrometer.export.otlp.step`, e.g. PT1M or PT30S. */
export function checkIsoDuration(v: string): string | undefined {
  return v !== "PT" && /^PT(\d+H)?(\d+M)?(\d+(\.\d+)?S)?$/.test(v)
    ? undefined
    : "is not an ISO-8601 duration such as PT1M or PT30S";
}

export function checkAwsRegion(v: string): string | undefined {
  return /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/.test(v)
    ? undefined
    : "is not an AWS region (e.g. eu-west-1)";
}

export function checkKmsKeyArn(v: string): string | undefined {
  return /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[A-Za-z0-9/_+=,.@-]+$/.test(v)
    ? undefined
    : "is not a KMS key ARN (e.g. arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab)";
}

/**
 * An AWS Secrets Manager tag `key=value`. Airbyte checks the joined list against this character
 * class and refuses to start otherwise (config-secrets AwsSecretManagerPersistence.kt `parseTags`).
 */
export function checkAwsTag(v: string): string | undefined {
  const pair = splitPair(v);
  if (!pair || pair[1] === "") return "is not key=value (e.g. team=data)";
  const ok = /^[\w\s._:/=+\-@]+$/;
  if (!ok.test(pair[0]) || !ok.test(pair[1]) || pair[1].includes(",")) {
    return "has characters Airbyte's tag parser refuses (letters, digits, spaces and _ . : / = + - @ only)";
  }
  return undefined;
}

/** A Vault KV path prefix, e.g. `secret/` or `secret/airbyte/`. */
export function checkVaultPrefix(v: string): string | undefined {
  return /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*\/?$/.test(v)
    ? undefined
    : "is not a Vault path prefix (e.g. secret/ or secret/airbyte/)";
}
