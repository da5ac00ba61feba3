/**
 * Reads keys through the schema, collecting every problem so one run reports them all, each
 * naming the key and how to fix it.
 */
import * as pulumi from "@pulumi/pulumi";
import { ArrayKey, CONFIG_SCHEMA, ConfigKey, IntegerKey, KeySpec, StringKey } from "./schema";

export const PROJECT = "airbyte";

/** Where raw values come from: Pulumi config in a real run, a map in tests. */
export interface ConfigSource {
  get(key: string): string | undefined;
  getSecret(key: string): pulumi.Output<string> | undefined;
  /**
   * Whether a key holds a non-empty value. Secrets need this: an optional secret is declared with
   * an empty default, and its Output cannot be inspected while the config is validated.
   */
  isSet(key: string): boolean;
  /** Every key set for the project, for catching typos. */
  keys(): string[];
  /** Whether a set key's value is encrypted (`pulumi config set --secret`). Absent: unknown. */
  isSecret?(key: string): boolean;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

function fixHint(key: string, spec: KeySpec): string {
  const q = `${PROJECT}:${key}`;
  if (spec.type === "array") return `pulumi config set --path '${q}[0]' ${spec.example}`;
  if (spec.type === "string" && spec.secret)
    return `pulumi config set --secret ${q} ${spec.example}`;
  return `pulumi config set ${q} ${spec.example}`;
}

function closest(name: string, candidates: string[]): string | undefined {
  const lower = name.toLowerCase();
  return (
    candidates.find((c) => c.toLowerCase() === lower) ??
    candidates.find((c) => c.toLowerCase().startsWith(lower.slice(0, 5)))
  );
}

export class ConfigReader {
  private readonly problems: string[] = [];

  constructor(private readonly source: ConfigSource) {
    const known = Object.keys(CONFIG_SCHEMA);
    for (const full of source.keys()) {
      if (!full.startsWith(`${PROJECT}:`)) continue;
      const key = full.slice(PROJECT.length + 1);
      if (!known.includes(key)) {
        const guess = closest(key, known);
        this.problems.push(
          `${full}: unknown key${guess ? `; did you mean ${PROJECT}:${guess}?` : ""} (remove it with \`pulumi config rm ${full}\`)`,
        );
      }
    }
  }

  /** Adds a problem about `key` with the standard fix hint. */
  fail(key: ConfigKey, message: string): void {
    this.problems.push(`${PROJECT}:${key}: ${message}; fix: ${fixHint(key, CONFIG_SCHEMA[key])}`);
  }

  private raw(key: ConfigKey): string | undefined {
    const v = this.source.get(key);
    return v === undefined || v === "" ? undefined : v;
  }

  /** A string key; undefined only for optional keys left unset. */
  string(key: ConfigKey): string | undefined {
    const spec = CONFIG_SCHEMA[key] as StringKey;
    const v = this.raw(key) ?? (spec.default === "" ? undefined : spec.default);
    if (v === undefined) {
      if (spec.default === undefined) this.fail(key, "is required but not set");
      return undefined;
    }
    if (spec.oneOf && !spec.oneOf.includes(v)) {
      this.fail(key, `'${v}' is not one of ${spec.oneOf.join(", ")}`);
      return undefined;
    }
    const problem = spec.check?.(v);
    if (problem) {
      this.fail(key, `'${v}' ${problem}`);
      return undefined;
    }
    return v;
  }

  /** A required string key; the placeholder only stands in while errors are collected. */
  requiredString(key: ConfigKey): string {
    return this.string(key) ?? "";
  }

  /** A secret key; its value is never read here, so only presence is checked. */
  secret(key: ConfigKey, required: boolean): pulumi.Output<string> | undefined {
    // getSecret, never get: reading a secret as plain text makes the SDK warn and could log it.
    const v = this.source.isSet(key) ? this.source.getSecret(key) : undefined;
    if (v === undefined && required) this.fail(key, "is required but not set");
    // A plain value sits readable in Pulumi.<stack>.yaml (and in git): refuse it.
    if (v !== undefined && this.source.isSecret?.(key) === false)
      this.fail(
        key,
        `is set as plain text, but it is a secret: set it encrypted with \`pulumi config set --secret ${PROJECT}:${key} <value>\`, which replaces the plain value in Pulumi.<stack>.yaml (and rotate it if that file was shared)`,
      );
    return v === undefined ? undefined : pulumi.secret(v);
  }

  integer(key: ConfigKey): number {
    const spec = CONFIG_SCHEMA[key] as IntegerKey;
    const v = this.raw(key);
    if (v === undefined) return spec.default;
    const n = Number(v);
    if (!/^-?\d+$/.test(v.trim()) || !Number.isSafeInteger(n)) {
      this.fail(key, `'${v}' is not a whole number`);
      return spec.default;
    }
    if (n < spec.min || (spec.max !== undefined && n > spec.max)) {
      const range =
        spec.max === undefined ? `at least ${spec.min}` : `between ${spec.min} and ${spec.max}`;
      this.fail(key, `${n} is out of range: must be ${range}`);
      return spec.default;
    }
    return n;
  }

  array(key: ConfigKey): string[] {
    const spec = CONFIG_SCHEMA[key] as ArrayKey;
    const v = this.raw(key);
    if (v === undefined) {
      if (spec.default === undefined) this.fail(key, "is required but not set (a list)");
      return spec.default ?? [];
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch {
      parsed = undefined;
    }
    if (!Array.isArray(parsed) || !parsed.every((e) => typeof e === "string")) {
      this.fail(key, `'${v}' is not a list of strings`);
      return spec.default ?? [];
    }
    if (parsed.length === 0 && spec.default === undefined) {
      this.fail(key, "must have at least one item");
    }
    const bad = parsed
      .map((item) => [item, spec.check?.(item)] as const)
      .filter(([, problem]) => problem !== undefined);
    for (const [item, problem] of bad) this.fail(key, `item '${item}' ${problem}`);
    return bad.length ? (spec.default ?? []) : parsed;
  }

  /** Throws one error listing every problem found, if any. */
  done(): void {
    if (this.problems.length) throw new ConfigError(this.problems);
  }
}

/** The stack's own Pulumi config as a {@link ConfigSource}. */
export function pulumiConfigSource(): ConfigSource {
  const config = new pulumi.Config(PROJECT);
  return {
    get: (k) => config.get(k),
    getSecret: (k) => config.getSecret(k),
    // The raw map: presence only, without the SDK's "read a secret as plain text" path.
    isSet: (k) => Boolean(pulumi.runtime.allConfig()[`${PROJECT}:${k}`]),
    keys: () => Object.keys(pulumi.runtime.allConfig()),
    // The SDK's own record of which keys the engine passed encrypted (PULUMI_CONFIG_SECRET_KEYS);
    // not in its typings, so read defensively: without it, nothing is refused.
    isSecret: (k) => {
      const rt = pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean };
      return rt.isConfigSecret ? rt.isConfigSecret(`${PROJECT}:${k}`) : true;
    },
  };
}
