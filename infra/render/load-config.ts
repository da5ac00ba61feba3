/**
 * Stack config for an offline render: the stack file's values, the project's declared defaults,
 * and a clearly marked placeholder for every secret we cannot decrypt without the Pulumi CLI.
 * Secrets are never needed to render the shape of the objects, only their presence.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { CONFIG_SCHEMA } from "../config/schema";

/** One key declared in `Pulumi.yaml` under `config:`. */
export interface ConfigDeclaration {
  type?: string;
  description?: string;
  default?: unknown;
  secret?: boolean;
}

export interface ResolvedConfig {
  /** Fully qualified key (`airbyte:topology`) → value as the Pulumi CLI passes it (a string). */
  config: Record<string, string>;
  /** Fully qualified keys whose values are secrets. */
  secretKeys: string[];
  /** Keys that got a placeholder instead of a real value, with why. */
  placeholders: { key: string; reason: "encrypted" | "missing" }[];
  /** Keys set from `--config`. */
  overridden: string[];
  /** Secret keys the stack file sets as plain text: refused, as the CLI refuses them. */
  plainSecrets: string[];
}

/** The value render uses for a secret it cannot know. Recognisable in any manifest. */
export function placeholderFor(key: string): string {
  return `placeholder-${key.slice(key.indexOf(":") + 1)}`;
}

/** `topology` → `airbyte:topology`; keys of other namespaces (`kubernetes:context`) stay. */
export function qualifyKey(key: string, project: string): string {
  return key.includes(":") ? key : `${project}:${key}`;
}

/** Config values are strings on the wire; structured values travel as JSON (as the CLI does). */
export function configString(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function isSecure(value: unknown): value is { secure: string } {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as Record<string, unknown>).secure === "string"
  );
}

/**
 * Replaces every `{ secure: ... }` in a (possibly structured) value with a placeholder; structured
 * config may hold encrypted leaves (`airbyte:db: { password: { secure: ... } }`).
 */
export function withPlaceholders(
  value: unknown,
  placeholder: string,
): { value: unknown; encrypted: boolean } {
  let encrypted = false;
  const walk = (v: unknown): unknown => {
    if (isSecure(v)) {
      encrypted = true;
      return placeholder;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (typeof v === "object" && v !== null)
      return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, walk(e)]));
    return v;
  };
  const out = walk(value);
  return { value: out, encrypted };
}

/**
 * Pure core: merges declarations (`Pulumi.yaml`), stack values (`Pulumi.<stack>.yaml`) and
 * overrides (`--config k=v`). Encrypted values and declared secrets the stack lacks become
 * placeholders; both stay secret so the program treats them as it would the real values.
 */
export function resolveConfig(
  project: string,
  declarations: Record<string, ConfigDeclaration | unknown>,
  stackValues: Record<string, unknown>,
  overrides: Record<string, string> = {},
  extraSecretKeys: string[] = [],
): ResolvedConfig {
  const config: Record<string, string> = {};
  const secret = new Set<string>(extraSecretKeys.map((k) => qualifyKey(k, project)));
  const placeholders: ResolvedConfig["placeholders"] = [];
  const plainSecrets: string[] = [];

  const decls = new Map<string, ConfigDeclaration>();
  for (const [rawKey, decl] of Object.entries(declarations)) {
    const key = qualifyKey(rawKey, project);
    // `key: value` is the short form of a declaration with only a default.
    const isLong = typeof decl === "object" && decl !== null && !Array.isArray(decl);
    decls.set(key, isLong ? (decl as ConfigDeclaration) : { default: decl });
  }

  for (const [key, decl] of decls) {
    if (decl.secret) secret.add(key);
    if (decl.default !== undefined) config[key] = configString(decl.default);
  }
  for (const [rawKey, value] of Object.entries(stackValues)) {
    const key = qualifyKey(rawKey, project);
    const { value: plain, encrypted } = withPlaceholders(value, placeholderFor(key));
    config[key] = configString(plain);
    if (encrypted) {
      secret.add(key);
      placeholders.push({ key, reason: "encrypted" });
    } else if (secret.has(key)) {
      plainSecrets.push(key);
    }
  }
  for (const key of secret) {
    // "" is how an optional secret's declared default reads: unset.
    if (config[key] === undefined || config[key] === "") {
      config[key] = placeholderFor(key);
      placeholders.push({ key, reason: "missing" });
    }
  }
  const overridden: string[] = [];
  for (const [rawKey, value] of Object.entries(overrides)) {
    const key = qualifyKey(rawKey, project);
    config[key] = value;
    overridden.push(key);
  }
  const overriddenSet = new Set(overridden);
  return {
    config,
    secretKeys: [...secret].sort(),
    placeholders: placeholders
      .filter((p) => !overriddenSet.has(p.key))
      .sort((a, b) => a.key.localeCompare(b.key)),
    overridden,
    plainSecrets: plainSecrets.sort(),
  };
}

/**
 * The refusal of {@link ResolvedConfig.plainSecrets}, as `pulumi` gives it for a key Pulumi.yaml
 * declares `secret: true` (pulumi/pulumi `sdk/go/common/workspace/config.go`,
 * `validateStackConfigValue`: "must be encrypted as it's secret"), with the fix. The program
 * refuses the other secret keys of the schema itself (`infra/config/reader.ts`).
 */
export function plainSecretsError(stackFile: string, keys: string[]): string | undefined {
  if (!keys.length) return undefined;
  return (
    `${stackFile}: ${keys.join(", ")} ${keys.length === 1 ? "is a secret" : "are secrets"} set as plain text; ` +
    `set ${keys.length === 1 ? "it" : "each"} encrypted with \`pulumi config set --secret ${keys[0]} <value>\`, ` +
    "which replaces the plain value (and rotate it if the file was shared)"
  );
}

export interface ProjectFiles {
  project: string;
  declarations: Record<string, unknown>;
  stackValues: Record<string, unknown>;
  stackFile: string;
}

function readYamlObject(file: string): Record<string, unknown> {
  const doc: unknown = parse(fs.readFileSync(file, "utf8"));
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== "object" || Array.isArray(doc)) throw new Error(`${file}: not a YAML mapping`);
  return doc as Record<string, unknown>;
}

/**
 * Secret keys our own program reads beyond those Pulumi.yaml declares `secret: true`: an optional
 * secret cannot be declared so (the CLI then demands an encrypted default, pulumi/pulumi#21865),
 * so the config schema is the authority. Other programs (test fixtures) get none.
 */
export function programSecretKeys(programFile: string): string[] {
  if (path.resolve(programFile) !== path.resolve(__dirname, "..", "program.ts")) return [];
  return Object.entries(CONFIG_SCHEMA)
    .filter(([, spec]) => spec.type === "string" && "secret" in spec && spec.secret)
    .map(([key]) => key);
}

/**
 * Reads `Pulumi.yaml` and `Pulumi.<stack>.yaml` from `dir` (or the stack's config from
 * `stackFile`). Throws when either is missing.
 */
export function readProjectFiles(dir: string, stack: string, stackFile?: string): ProjectFiles {
  const projectFile = path.join(dir, "Pulumi.yaml");
  stackFile ??= path.join(dir, `Pulumi.${stack}.yaml`);
  const projectDoc = readYamlObject(projectFile);
  const stackDoc = fs.existsSync(stackFile) ? readYamlObject(stackFile) : undefined;
  if (!stackDoc) throw new Error(`no stack file ${stackFile}`);
  return {
    project: typeof projectDoc.name === "string" ? projectDoc.name : "airbyte",
    declarations: (projectDoc.config ?? {}) as Record<string, unknown>,
    stackValues: (stackDoc.config ?? {}) as Record<string, unknown>,
    stackFile,
  };
}

/** The stacks that have a `Pulumi.<stack>.yaml` in `dir`, for error messages. */
export function availableStacks(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}
