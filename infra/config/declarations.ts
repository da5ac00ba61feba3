/**
 * The schema as Pulumi project config declarations (the `config:` block of Pulumi.yaml) and as a
 * Markdown table for the README; tests keep both files equal to these.
 */
import { CONFIG_SCHEMA, KeySpec } from "./schema";
import { PROJECT } from "./reader";

export interface Declaration {
  type: "string" | "integer" | "array";
  description: string;
  default?: string | number | string[];
  secret?: boolean;
  items?: { type: "string" };
}

/**
 * Required keys are declared without a default so the CLI asks for them too. Optional string keys
 * default to "", which the program reads as unset.
 */
export function declarationOf(spec: KeySpec): Declaration {
  const d: Declaration = { type: spec.type, description: spec.description };
  if (spec.type === "array") d.items = { type: "string" };
  // Only required secrets are declared `secret: true`: the CLI refuses a secret key whose
  // default is not encrypted (pulumi/pulumi#21865), which would break every stack that leaves an
  // optional secret (coreWorkerAdminPassword in v0) unset. The program still reads it as a secret.
  if (spec.type === "string" && spec.secret && spec.default === undefined) d.secret = true;
  if (spec.default !== undefined) d.default = spec.default;
  return d;
}

export function pulumiConfigDeclarations(): Record<string, Declaration> {
  return Object.fromEntries(
    // Unqualified: project-level declarations live in the project's own namespace.
    Object.entries(CONFIG_SCHEMA).map(([k, spec]) => [k, declarationOf(spec)]),
  );
}

function defaultCell(spec: KeySpec): string {
  if (spec.default === undefined) return "**required**";
  if (Array.isArray(spec.default))
    return spec.default.length ? `\`${JSON.stringify(spec.default)}\`` : "`[]`";
  if (spec.default === "") return "(unset)";
  return `\`${spec.default}\``;
}

/** The README's table of config keys. */
export function configTableMarkdown(): string {
  const rows = Object.entries(CONFIG_SCHEMA).map(([k, s]) => {
    const spec = s as KeySpec;
    const type = spec.type === "string" && spec.secret ? "secret" : spec.type;
    const allowed =
      spec.type === "string" && spec.oneOf ? ` One of: ${spec.oneOf.join(", ")}.` : "";
    return `| \`${PROJECT}:${k}\` | ${type} | ${defaultCell(spec)} | ${spec.description}${allowed} |`;
  });
  return ["| key | type | default | what it sets |", "|---|---|---|---|", ...rows].join("\n");
}
