/**
 * The render summary (`summary.md`, also printed): every object with the component that owns it,
 * counts per kind, stack outputs (secrets masked), placeholders used and the check results.
 */
import { componentLabel, type Ownership } from "./graph";
import type { KubeObject } from "./manifests";
import type { SecretScan } from "./secrets-scan";
import { formatFailure, type ValidationFailure } from "./validate";
import { formatLeak } from "./secrets-scan";
import { formatViolations, type PolicyViolation } from "../../policy/offline";

export interface SummaryRow {
  kind: string;
  name: string;
  namespace: string;
  component: string;
}

export interface SummaryInput {
  stack: string;
  objects: KubeObject[];
  ownership: Ownership;
  outputs: Record<string, unknown>;
  secretOutputs: string[];
  placeholders: { key: string; reason: "encrypted" | "missing" }[];
  overridden: string[];
  failures: ValidationFailure[];
  /** Objects that were not schema-checked, with why. */
  skipped: { object: string; reason: string }[];
  secrets: SecretScan;
  /** Policy pack findings; absent when the pack was not run. */
  violations?: PolicyViolation[];
}

export function summaryRows(objects: KubeObject[], ownership: Ownership): SummaryRow[] {
  return objects.map((o) => {
    const owner = ownership.ownerOf(o.resource);
    return {
      kind: o.kind,
      name: o.name,
      namespace: o.namespace || "(cluster)",
      component: owner ? componentLabel(owner) : "(stack)",
    };
  });
}

export function countsByKind(objects: KubeObject[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const o of objects) counts.set(o.kind, (counts.get(o.kind) ?? 0) + 1);
  return [...counts].sort((a, b) => a[0].localeCompare(b[0]));
}

/** A Markdown table whose columns are padded, so it reads well on a terminal too. */
export function markdownTable(header: string[], rows: string[][]): string {
  const esc = (s: string) => s.replace(/\|/g, "\\|");
  const all = [header, ...rows].map((r) => r.map(esc));
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i].length), 3));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [
    line(all[0]),
    `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`,
    ...all.slice(1).map(line),
  ].join("\n");
}

export function outputValue(name: string, value: unknown, secretOutputs: string[]): string {
  if (secretOutputs.includes(name)) return "[secret]";
  return typeof value === "string" ? value : JSON.stringify(value);
}

export function renderSummary(s: SummaryInput): string {
  const rows = summaryRows(s.objects, s.ownership);
  const parts: string[] = [];
  parts.push(`# Render of stack \`${s.stack}\``, "");
  parts.push(
    markdownTable(
      ["Kind", "Name", "Namespace", "Component"],
      rows.map((r) => [r.kind, r.name, r.namespace, r.component]),
    ),
    "",
  );
  parts.push(`## Objects per kind (${s.objects.length} in all)`, "");
  parts.push(
    markdownTable(
      ["Kind", "Count"],
      countsByKind(s.objects).map(([k, n]) => [k, String(n)]),
    ),
    "",
  );

  parts.push("## Stack outputs", "");
  const outputNames = Object.keys(s.outputs).sort();
  parts.push(
    outputNames.length
      ? markdownTable(
          ["Output", "Value"],
          outputNames.map((n) => [n, outputValue(n, s.outputs[n], s.secretOutputs)]),
        )
      : "(none)",
    "",
  );

  parts.push("## Config", "");
  if (s.placeholders.length) {
    parts.push("Placeholders stand in for secrets that cannot be decrypted offline:", "");
    for (const p of s.placeholders)
      parts.push(
        `- \`${p.key}\`: ${p.reason === "encrypted" ? "encrypted in the stack file" : "declared secret, not set in the stack file"}`,
      );
  } else {
    parts.push("No placeholders were needed.");
  }
  if (s.overridden.length)
    parts.push("", `Overridden with --config: ${s.overridden.map((k) => `\`${k}\``).join(", ")}`);
  parts.push("");

  parts.push("## Checks", "");
  parts.push(
    s.failures.length
      ? `- Schema validation: **FAILED**, ${s.failures.length} problem(s):\n${s.failures.map((f) => `  - ${formatFailure(f)}`).join("\n")}`
      : `- Schema validation: passed for ${s.objects.length - s.skipped.length} of ${s.objects.length} objects`,
  );
  for (const k of s.skipped) parts.push(`  - not schema-checked: ${k.object} (${k.reason})`);
  parts.push(
    s.secrets.leaks.length
      ? `- Secret hygiene: **FAILED**, ${s.secrets.leaks.length} leak(s):\n${s.secrets.leaks.map((l) => `  - ${formatLeak(l)}`).join("\n")}`
      : `- Secret hygiene: passed; ${s.secrets.valueCount} secret values appear only in ${s.secrets.secretObjects.length} Secret objects`,
  );
  if (s.violations)
    parts.push(
      s.violations.length
        ? `- Policy pack: **FAILED**, ${s.violations.length} violation(s):\n${formatViolations(s.violations).replace(/^/gm, "  - ")}`
        : "- Policy pack: passed (every policy in `policy/`)",
    );
  if (s.secrets.tooShort.length)
    parts.push(`  - too short to search for: ${s.secrets.tooShort.join(", ")}`);
  parts.push("");
  return parts.join("\n");
}
