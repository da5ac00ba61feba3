/**
 * Validates Kubernetes objects against the API's OpenAPI schemas (the `kubernetes-models`
 * package), loading only the model of each apiVersion/kind met, so a render pays for what it uses.
 *
 * The schemas do not forbid unknown fields, yet the API server rejects them (strict field
 * validation) or drops them silently, which hides typos such as `contianerPort`. We find them by
 * watching which properties the schema validator reads: a property it never looks at is not in
 * the schema.
 */
import { apiRuleFailures } from "./api-rules";
import { duplicateObjects, objectLabel, type KubeObject } from "./manifests";

export interface ValidationFailure {
  /** `Deployment airbyte-prod/airbyte-prod-server`. */
  object: string;
  /** Dotted field path, `spec.template.spec.containers[0].ports[0].containerPort`. */
  path: string;
  message: string;
}

/** `Deployment airbyte-prod/x: spec.replicas: must be integer`. */
export function formatFailure(f: ValidationFailure): string {
  return `${f.object}: ${f.path ? `${f.path}: ` : ""}${f.message}`;
}

/**
 * Custom resource types the program may declare, which have no model here. Their objects are
 * written but not schema-checked; the summary says so. Key: `apiVersion/kind`.
 */
export const DECLARED_CUSTOM_TYPES: Record<string, string> = {
  "cert-manager.io/v1/Certificate": "cert-manager Certificate",
  "cert-manager.io/v1/Issuer": "cert-manager Issuer",
  "monitoring.coreos.com/v1/ServiceMonitor": "Prometheus Operator ServiceMonitor",
  "monitoring.coreos.com/v1/PrometheusRule": "Prometheus Operator PrometheusRule",
  "cilium.io/v2/CiliumNetworkPolicy": "Cilium CiliumNetworkPolicy (kubernetesApiCiliumEntity)",
};

interface AjvError {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

/** What a `kubernetes-models` class offers us: its prototype's `validate`, run on any `this`. */
interface ModelClass {
  prototype: { validate(this: unknown): void };
}

const modelCache = new Map<string, ModelClass | null>();

/**
 * The model class of an apiVersion/kind, or null when `kubernetes-models` has none. Each model
 * is its own module (`kubernetes-models/apps/v1/Deployment`), so only what is used gets loaded.
 */
export function modelFor(apiVersion: string, kind: string): ModelClass | null {
  const key = `${apiVersion}/${kind}`;
  const cached = modelCache.get(key);
  if (cached !== undefined) return cached;
  let model: ModelClass | null = null;
  // Only plausible names reach `require`, so an odd kind cannot point outside the package.
  if (/^([a-z0-9.-]+\/)?v[0-9a-z]+$/.test(apiVersion) && /^[A-Za-z0-9]+$/.test(kind)) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require(`kubernetes-models/${apiVersion}/${kind}`) as Record<string, unknown>;
      const cls = mod[kind] as ModelClass | undefined;
      model = typeof cls === "function" ? cls : null;
    } catch {
      model = null;
    }
  }
  modelCache.set(key, model);
  return model;
}

/** `/spec/containers/0/ports/0` → `spec.containers[0].ports[0]`; odd keys are quoted. */
export function pointerToPath(pointer: string): string {
  if (!pointer) return "";
  return pointer
    .slice(1)
    .split("/")
    .map((seg) => seg.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce((acc, seg) => {
      if (/^\d+$/.test(seg)) return `${acc}[${seg}]`;
      if (/^[A-Za-z_$][\w$-]*$/.test(seg)) return acc ? `${acc}.${seg}` : seg;
      return `${acc}[${JSON.stringify(seg)}]`;
    }, "");
}

function joinPath(path: string, key: string): string {
  if (/^[A-Za-z_$][\w$-]*$/.test(key)) return path ? `${path}.${key}` : key;
  return `${path}[${JSON.stringify(key)}]`;
}

function describeAlternative(e: AjvError): string | undefined {
  if (e.keyword === "type") {
    const t = String(e.params.type);
    return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
  }
  if (e.keyword === "format") return `a "${String(e.params.format)}" string`;
  if (e.keyword === "enum") return `one of ${(e.params.allowedValues as unknown[]).join(", ")}`;
  return undefined;
}

function describe(e: AjvError): string {
  switch (e.keyword) {
    case "required":
      return "is required";
    case "type":
      return `must be ${String(e.params.type)}`;
    case "enum":
      return `must be one of: ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
    case "format":
      return `must match format "${String(e.params.format)}"`;
    default:
      return e.message ?? `fails ${e.keyword}`;
  }
}

/**
 * Turns raw schema errors into one line per field. A `oneOf` over alternatives (int-or-string,
 * quantity) becomes a single "must be an integer or a string" instead of three errors.
 */
export function schemaFailures(object: string, errors: AjvError[]): ValidationFailure[] {
  const byPath = new Map<string, AjvError[]>();
  for (const e of errors) byPath.set(e.instancePath, [...(byPath.get(e.instancePath) ?? []), e]);
  const out: ValidationFailure[] = [];
  for (const [pointer, errs] of byPath) {
    const path = pointerToPath(pointer);
    const union = errs.find((e) => e.keyword === "oneOf" || e.keyword === "anyOf");
    if (union) {
      const alternatives = errs
        .filter((e) => e !== union)
        .map(describeAlternative)
        .filter((s): s is string => s !== undefined);
      const unique = [...new Set(alternatives)];
      out.push({
        object,
        path,
        message: unique.length ? `must be ${unique.join(" or ")}` : describe(union),
      });
      continue;
    }
    for (const e of errs) {
      const missing = e.keyword === "required" ? String(e.params.missingProperty) : undefined;
      out.push({
        object,
        path: missing !== undefined ? joinPath(path, missing) : path,
        message: describe(e),
      });
    }
  }
  return out;
}

/** A deep copy (plain JSON data) wrapped so that every property read is recorded. */
function tracked(root: unknown): {
  proxy: unknown;
  data: unknown;
  seen: WeakMap<object, Set<string>>;
} {
  const data: unknown = JSON.parse(JSON.stringify(root));
  const seen = new WeakMap<object, Set<string>>();
  const proxies = new WeakMap<object, object>();
  const wrap = (value: unknown): unknown => {
    if (typeof value !== "object" || value === null) return value;
    const existing = proxies.get(value);
    if (existing) return existing;
    const proxy = new Proxy(value, {
      get(target, prop, receiver) {
        if (typeof prop === "string" && !Array.isArray(target)) {
          const keys = seen.get(target) ?? new Set<string>();
          keys.add(prop);
          seen.set(target, keys);
        }
        return wrap(Reflect.get(target, prop, receiver));
      },
    });
    proxies.set(value, proxy);
    return proxy;
  };
  return { proxy: wrap(data), data, seen };
}

/** Fields present in `data` that the validator never read: not part of the schema. */
function unknownFields(
  object: string,
  data: unknown,
  seen: WeakMap<object, Set<string>>,
  skip: Set<string>,
): ValidationFailure[] {
  const out: ValidationFailure[] = [];
  const walk = (node: unknown, path: string) => {
    if (skip.has(path)) return;
    if (Array.isArray(node)) {
      node.forEach((e, i) => walk(e, `${path}[${i}]`));
    } else if (typeof node === "object" && node !== null) {
      const read = seen.get(node) ?? new Set<string>();
      for (const [k, v] of Object.entries(node)) {
        const p = joinPath(path, k);
        if (read.has(k)) walk(v, p);
        else out.push({ object, path: p, message: "unknown field (not in the API schema)" });
      }
    }
  };
  walk(data, "");
  return out;
}

export interface ObjectValidation {
  failures: ValidationFailure[];
  /** Why the object was not schema-checked (declared custom type, patch), if it was not. */
  skipped?: string;
}

/** Validates one object against its schema; collects every failure instead of stopping. */
export function validateObject(
  o: KubeObject,
  customTypes: Record<string, string> = DECLARED_CUSTOM_TYPES,
): ObjectValidation {
  const object = objectLabel(o);
  if (o.patch) return { failures: [], skipped: "server-side apply patch" };
  const model = modelFor(o.apiVersion, o.kind);
  if (!model) {
    const declared = customTypes[`${o.apiVersion}/${o.kind}`];
    if (declared) return { failures: [], skipped: `custom type (${declared})` };
    return {
      failures: [
        {
          object,
          path: "",
          message: `no API schema for apiVersion "${o.apiVersion}" kind "${o.kind}" (unknown type; declare it in DECLARED_CUSTOM_TYPES if it is a CRD)`,
        },
      ],
    };
  }
  const t = tracked(o.body);
  let errors: AjvError[] = [];
  try {
    model.prototype.validate.call(t.proxy);
  } catch (err) {
    const raw = (err as { errors?: unknown }).errors;
    if (!Array.isArray(raw)) throw err;
    errors = raw as AjvError[];
  }
  const failures = schemaFailures(object, errors);
  // Below a field of the wrong type the validator reads nothing; do not call its members unknown.
  const wrongType = new Set(failures.map((f) => f.path));
  return { failures: [...failures, ...unknownFields(object, t.data, t.seen, wrongType)] };
}

/** Schema, API rules and duplicates, for every object. */
export function checkObjects(objects: KubeObject[]): {
  failures: ValidationFailure[];
  skipped: { object: string; reason: string }[];
} {
  const failures: ValidationFailure[] = [];
  const skipped: { object: string; reason: string }[] = [];
  for (const o of objects) {
    const v = validateObject(o);
    failures.push(...v.failures, ...(o.patch ? [] : apiRuleFailures(o)));
    if (v.skipped) skipped.push({ object: objectLabel(o), reason: v.skipped });
  }
  for (const dup of duplicateObjects(objects))
    failures.push({
      object: objectLabel(dup[0]),
      path: "metadata.name",
      message: `declared ${dup.length} times (by ${dup.map((o) => o.resource.name).join(", ")}): the objects would overwrite each other`,
    });
  return { failures, skipped };
}
