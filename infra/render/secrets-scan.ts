/**
 * Secret hygiene: every value that is a Pulumi secret may appear in Kubernetes `Secret` objects
 * only — never in a ConfigMap, an env value, an annotation, a command line or an unsecret output.
 *
 * Which values are sensitive: secret config values (placeholders here), everything @pulumi/random
 * generated, and every string input or output the program marked secret itself. Members of a map
 * that is secret as a whole (a Secret's `stringData`) are not all sensitive (a user name, a host),
 * so they count only when they contain one of those values.
 */
import { mockComputedState, type RecordedResource } from "../mock-runtime";
import { objectLabel, type KubeObject } from "./manifests";

/** A value to look for, and where it came from (never the value itself, in messages). */
export interface SensitiveValue {
  value: string;
  origin: string;
}

export interface SecretLeak {
  /** `ConfigMap airbyte-prod/x`, or `stack output url`. */
  object: string;
  path: string;
  /** Which secret leaked (its origin), or why the field is suspect. */
  message: string;
}

export interface SecretScan {
  leaks: SecretLeak[];
  /** Secret objects that hold at least one sensitive value. */
  secretObjects: string[];
  /** How many sensitive values were looked for. */
  valueCount: number;
  /** Sensitive values too short to search for without false hits (they are still counted). */
  tooShort: string[];
}

/** Values shorter than this would match by accident (`true`, `5432`); they are not searched. */
export const MIN_SEARCHABLE = 6;

const RANDOM_FIELDS = ["result", "bcryptHash", "base64", "hex"];

/** Value at a dotted/bracketed path such as `spec.containers[0].env[1].value`. */
export function valueAt(root: unknown, path: string): unknown {
  if (!path) return root;
  const keys = path.match(/[^.[\]]+/g) ?? [];
  let cur: unknown = root;
  for (const k of keys) {
    if (typeof cur !== "object" || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

/** Every string leaf below `root` with its path (numbers and booleans are not secret-bearing). */
export function stringLeaves(root: unknown, base = ""): { path: string; value: string }[] {
  const out: { path: string; value: string }[] = [];
  const walk = (v: unknown, p: string) => {
    if (typeof v === "string") out.push({ path: p, value: v });
    else if (Array.isArray(v)) v.forEach((e, i) => walk(e, `${p}[${i}]`));
    else if (typeof v === "object" && v !== null)
      for (const [k, e] of Object.entries(v)) walk(e, p ? `${p}.${k}` : k);
  };
  walk(root, base);
  return out;
}

/** The sensitive values of a run: see the module comment for which. */
export function collectSensitiveValues(
  resources: RecordedResource[],
  secretConfig: Record<string, string>,
): SensitiveValue[] {
  const found = new Map<string, string>();
  const add = (value: string, origin: string) => {
    if (value && !found.has(value)) found.set(value, origin);
  };
  for (const [key, value] of Object.entries(secretConfig)) add(value, `secret config ${key}`);
  // Origins first, so a value is named after where it was made, not where it was passed on.
  for (const r of resources.filter((x) => x.type.startsWith("random:"))) {
    const state = mockComputedState(r.type, r.name, r.inputs);
    for (const f of RANDOM_FIELDS)
      if (typeof state[f] === "string")
        add(state[f] as string, `generated ${r.type.split(":").pop()} ${r.name}`);
  }
  for (const r of resources) {
    const marked: [Record<string, unknown> | undefined, string[] | undefined, string][] = [
      [r.inputs, r.secretPaths, "input"],
      [r.outputs, r.secretOutputPaths, "output"],
    ];
    for (const [root, paths, what] of marked) {
      for (const p of paths ?? []) {
        const v = valueAt(root, p);
        if (typeof v === "string")
          add(v, `secret ${what} ${p} of ${r.type.split(":").pop()} ${r.name}`);
      }
    }
  }
  return [...found].map(([value, origin]) => ({ value, origin }));
}

function matcher(values: SensitiveValue[]) {
  const searchable = values
    .filter((v) => v.value.length >= MIN_SEARCHABLE)
    .flatMap((v) => [
      { needle: v.value, origin: v.origin },
      { needle: Buffer.from(v.value).toString("base64"), origin: `${v.origin} (base64)` },
    ]);
  return (text: string) => searchable.filter((s) => text.includes(s.needle)).map((s) => s.origin);
}

/**
 * Scans rendered objects and unsecret outputs for sensitive values. Also flags any input of a
 * non-Secret object that Pulumi itself tracks as secret, even when the value is not one we know.
 */
export function scanSecrets(
  objects: KubeObject[],
  values: SensitiveValue[],
  outputs: { owner: string; values: Record<string, unknown>; secretPaths: string[] }[] = [],
): SecretScan {
  const find = matcher(values);
  const leaks: SecretLeak[] = [];
  const secretObjects: string[] = [];
  for (const o of objects) {
    const label = objectLabel(o);
    if (o.kind === "Secret") {
      if (stringLeaves(o.body).some((l) => find(l.value).length > 0)) secretObjects.push(label);
      continue;
    }
    for (const leaf of stringLeaves(o.body)) {
      for (const origin of find(leaf.value))
        leaks.push({ object: label, path: leaf.path, message: `contains ${origin}` });
    }
    for (const p of o.resource.secretPaths) {
      if (!leaks.some((l) => l.object === label && l.path.startsWith(p)))
        leaks.push({
          object: label,
          path: p,
          message:
            "is a Pulumi secret outside a Secret (deliver it with secretKeyRef; if it is a derived, non-sensitive value such as a digest, unsecret it explicitly)",
        });
    }
  }
  for (const out of outputs) {
    const secret = out.secretPaths;
    for (const leaf of stringLeaves(out.values)) {
      if (
        secret.some(
          (p) => leaf.path === p || leaf.path.startsWith(`${p}.`) || leaf.path.startsWith(`${p}[`),
        )
      )
        continue;
      for (const origin of find(leaf.value))
        leaks.push({
          object: out.owner,
          path: leaf.path,
          message: `unsecret output contains ${origin}`,
        });
    }
  }
  return {
    leaks,
    secretObjects,
    valueCount: values.length,
    tooShort: values.filter((v) => v.value.length < MIN_SEARCHABLE).map((v) => v.origin),
  };
}

export function formatLeak(l: SecretLeak): string {
  return `${l.object}: ${l.path}: ${l.message}`;
}
