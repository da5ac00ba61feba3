/**
 * `npm run diff -- --stack prod --from v0 --to v1`: what `pulumi up` would create, update, replace
 * and delete when the stack's `airbyte:topology` moves from one value to another, offline. Both
 * sides run the real program under the mock runtime with the same stack file (only the topology
 * differs), in two processes at once, and are compared by URN (`diff.ts` holds the rules).
 *
 * Exit status: 0 nothing of prod is replaced or deleted (or `--allow-replace`); 1 something of prod
 * would be replaced or deleted, or a side's program failed; 2 wrong usage.
 */
import {
  SECRET_MASK,
  type DiffOp,
  type FieldChange,
  type ResourceDiff,
  type TopologyDiff,
} from "./diff";
import { diffTopologies, SideFailed } from "./diff-run";
import { UsageError, checkStackName, configPair, scanFlags } from "./flags";
import { loadStackInput } from "./stack-input";
import { qualifyKey } from "./load-config";

export const USAGE = `Usage: npm run diff -- --stack <name> --from <topology> --to <topology> [options]

  --stack <name>         stack whose file (Pulumi.<name>.yaml) both sides use (required)
  --from <topology>      topology the stack runs today, e.g. v0 (required)
  --to <topology>        topology to move to, e.g. v1 (required)
  --allow-replace        exit 0 even if something of prod would be replaced or deleted
  --json                 print the structured diff as JSON instead of the report
  --config <key=value>   override a config value on both sides, repeatable
  --project-dir <dir>    where Pulumi.yaml and the stack files are (default: .)
  --program <file>       module exporting program() (default: infra/program.ts)
  --help                 show this help

The stack file must already hold every key the target topology needs (set the keys, then flip
the topology). Offline: it compares the program's inputs, not the live state; see docs/diff.md.`;

export interface DiffCliOptions {
  stack: string;
  from: string;
  to: string;
  allowReplace: boolean;
  json: boolean;
  config: Record<string, string>;
  projectDir: string;
  program: string;
}

const FLAGS = {
  value: ["--stack", "--from", "--to", "--config", "--project-dir", "--program"],
  bool: ["--allow-replace", "--json", "--help"],
  positionalHint: (arg: string) =>
    `unexpected argument "${arg}"; flags take their value after them, e.g. --stack ${arg}`,
};

const NAME = /^[A-Za-z0-9_.-]+$/;

/** Parses argv (without node and script). Throws UsageError naming the flag and the fix. */
export function parseDiffArgs(argv: string[]): DiffCliOptions | "help" {
  const scanned = scanFlags(argv, FLAGS);
  if (scanned === "help") return "help";
  const { values, bools } = scanned;
  const config: Record<string, string> = {};
  for (const c of scanned.config) {
    const [key, value] = configPair(c, "prodHost=a.b");
    if (key === "topology" || key.endsWith(":topology"))
      throw new UsageError(`--config ${key}: the topology of each side is --from and --to`);
    config[key] = value;
  }
  const opts: DiffCliOptions = {
    stack: values.get("--stack") ?? "",
    from: values.get("--from") ?? "",
    to: values.get("--to") ?? "",
    allowReplace: bools.has("--allow-replace"),
    json: bools.has("--json"),
    config,
    projectDir: values.get("--project-dir") ?? ".",
    program: values.get("--program") ?? "infra/program.ts",
  };
  checkStackName(opts.stack, "npm run diff -- --stack v1 --from v0 --to v1");
  for (const [flag, v] of [
    ["--from", opts.from],
    ["--to", opts.to],
  ] as const) {
    if (!v) throw new UsageError(`${flag} is required: the topology, e.g. ${flag} v1`);
    if (!NAME.test(v))
      throw new UsageError(`${flag} ${v}: a topology is a name such as v0, v1, v2`);
  }
  return opts;
}

// ---------------------------------------------------------------- report

const MARK: Record<DiffOp, string> = { create: "+", update: "~", replace: "+-", delete: "-" };
const MAX_CHANGES = 25;

export function formatValue(v: unknown): string {
  if (v === undefined) return "(none)";
  if (v === SECRET_MASK) return SECRET_MASK;
  const s = typeof v === "string" ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v));
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function formatChange(c: FieldChange): string {
  if (c.old === undefined) return `${c.path}: + ${formatValue(c.new)}`;
  if (c.new === undefined) return `${c.path}: - ${formatValue(c.old)}`;
  return `${c.path}: ${formatValue(c.old)} → ${formatValue(c.new)}`;
}

/** `postgresql:index/role:Role` → `postgresql Role`; the stack's own types stay as they are. */
function shortType(type: string): string {
  const parts = type.split(":");
  if (parts.length !== 3) return type;
  return parts[1] === "providers" ? `provider ${parts[2]}` : `${parts[0]} ${parts[2]}`;
}

function what(e: ResourceDiff): string {
  if (e.object) return e.object;
  if (e.component) return `component ${e.type.slice(e.type.lastIndexOf(":") + 1)} ${e.name}`;
  return `${shortType(e.type)} ${e.name}`;
}

function entryLines(e: ResourceDiff): string[] {
  const flags = [
    e.prod ? "[prod]" : "",
    e.op === "replace" && e.deleteBeforeReplace ? "(deleted first: briefly absent)" : "",
    e.protectedBlock ? "(protected: pulumi up refuses until unprotected)" : "",
    e.oldUrn ? `(was ${e.oldUrn})` : "",
  ].filter(Boolean);
  const lines = [
    `  ${MARK[e.op].padEnd(2)} ${e.op.padEnd(7)} ${what(e)}${flags.length ? ` ${flags.join(" ")}` : ""}`,
  ];
  const pad = "             ";
  for (const r of e.replaceReasons)
    lines.push(`${pad}replaces because ${r.path} changed (${r.rule})`);
  for (const c of e.changes.slice(0, MAX_CHANGES)) lines.push(`${pad}${formatChange(c)}`);
  if (e.changes.length > MAX_CHANGES)
    lines.push(`${pad}... and ${e.changes.length - MAX_CHANGES} more (--json lists all)`);
  for (const o of e.optionChanges)
    lines.push(`${pad}option ${o.option}: ${formatValue(o.old)} → ${formatValue(o.new)}`);
  for (const n of e.notes) lines.push(`${pad}note: ${n}`);
  return lines;
}

/** The human report: counts, then entries grouped by owning component, then stack outputs. */
export function formatReport(
  diff: TopologyDiff,
  meta: { stack: string; from: string; to: string },
): string {
  const { counts } = diff;
  const lines = [
    `Topology diff for stack ${meta.stack}: ${meta.from} → ${meta.to} (offline; see docs/diff.md)`,
    "",
    `  + ${counts.create} to create   ~ ${counts.update} to update   +- ${counts.replace} to replace   - ${counts.delete} to delete   (${counts.same} unchanged)`,
  ];
  const groups = new Map<string, ResourceDiff[]>();
  for (const e of diff.entries) groups.set(e.owner, [...(groups.get(e.owner) ?? []), e]);
  for (const [owner, entries] of groups) {
    lines.push("", `${owner}${entries.every((e) => e.prod) ? " [prod]" : ""}`);
    for (const e of entries) lines.push(...entryLines(e));
  }
  if (diff.outputs.length) {
    lines.push("", "Stack outputs");
    for (const o of diff.outputs) {
      if (o.old === undefined) lines.push(`  +  ${o.name}: ${formatValue(o.new)}`);
      else if (o.new === undefined) lines.push(`  -  ${o.name}: ${formatValue(o.old)}`);
      else lines.push(`  ~  ${o.name}: ${formatValue(o.old)} → ${formatValue(o.new)}`);
    }
  }
  if (!diff.entries.length && !diff.outputs.length) lines.push("", "No changes.");
  return lines.join("\n");
}

// ---------------------------------------------------------------- main

export async function main(argv: string[]): Promise<number> {
  let opts: DiffCliOptions | "help";
  let prodNamespace: string;
  try {
    opts = parseDiffArgs(argv);
    if (opts === "help") {
      console.log(USAGE);
      return 0;
    }
    const { files, cfg } = loadStackInput(opts);
    prodNamespace = cfg.config[qualifyKey("prodNamespace", files.project)] ?? "airbyte-prod";
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`diff: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }

  let diff: TopologyDiff;
  try {
    ({ diff } = await diffTopologies({
      stack: opts.stack,
      from: opts.from,
      to: opts.to,
      projectDir: opts.projectDir,
      program: opts.program,
      config: opts.config,
      options: { prodNamespaces: [prodNamespace] },
    }));
  } catch (err) {
    if (err instanceof SideFailed) {
      const topology = err.side.config?.topology ?? "?";
      console.error(
        `diff: the program failed for stack ${opts.stack} with topology ${topology}:\n${err.message}` +
          (topology === opts.to
            ? `\n(The stack file must hold every key topology ${topology} needs; add them, or pass --config key=value.)`
            : ""),
      );
      return 1;
    }
    throw err;
  }

  console.log(
    opts.json
      ? JSON.stringify({ stack: opts.stack, from: opts.from, to: opts.to, ...diff }, null, 2)
      : formatReport(diff, opts),
  );
  const blocked = diff.prodReplacedOrDeleted;
  if (blocked.length) {
    const list = blocked.map((e) => `  ${MARK[e.op]} ${e.op} ${what(e)}`).join("\n");
    if (opts.allowReplace) {
      console.error(
        `diff: ${blocked.length} resource(s) of prod would be replaced or deleted (accepted by --allow-replace):\n${list}`,
      );
      return 0;
    }
    console.error(
      `diff: ${blocked.length} resource(s) of prod would be replaced or deleted:\n${list}\n` +
        "Review them; if that is intended, run again with --allow-replace.",
    );
    return 1;
  }
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2))
    // exitCode, not exit(): a long --json report on a pipe is written out in full first.
    .then((code) => (process.exitCode = code))
    .catch((err: unknown) => {
      console.error(
        `diff: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
      process.exit(1);
    });
}
