/**
 * `npm run diff -- --stack prod --from v0 --to v1`, `npm run diff -- --stack prod --from-rev main`,
 * `npm run diff -- --stack prod --config airbyte:databaseStorageSize=30Gi`: what `pulumi up` would
 * create, update, replace and delete when the stack moves from one configuration to another,
 * offline. The old side is the stack file (or that file at a git revision, or another file, with
 * `--from` and `--from-config` on top); the new side is the working stack file with `--to` and
 * `--config`. Both run the real program under the mock runtime, the new one as a preview against
 * the old one's resources, and are compared by URN (`diff.ts` holds the rules).
 *
 * Exit status: 0 nothing of prod is replaced or deleted (or `--allow-replace`) and nothing loses
 * data or breaks replication (or `--allow-data-loss`); 1 otherwise, or a side's program failed;
 * 2 wrong usage.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  SECRET_MASK,
  type DiffOp,
  type FieldChange,
  type ResourceDiff,
  type TopologyDiff,
} from "./diff";
import { diffSides, SideFailed, type SideSpec } from "./diff-run";
import { UsageError, checkStackName, configPair, scanFlags } from "./flags";
import { loadStackInput } from "./stack-input";
import { qualifyKey } from "./load-config";
import { UNKNOWN_AT_PREVIEW } from "../preview-values";

export const USAGE = `Usage: npm run diff -- --stack <name> [old side] [new side] [options]

  --stack <name>           the stack (Pulumi.<name>.yaml) (required)
Old side (default: the working stack file as it is):
  --from <topology>        its airbyte:topology, e.g. v0
  --from-rev <git rev>     its stack file as committed at that revision, e.g. main, HEAD~1
  --from-file <file>       its stack file is this file
  --from-config <k=v>      override a config value on the old side, repeatable
New side (default: the working stack file as it is):
  --to <topology>          its airbyte:topology, e.g. v1
  --config <key=value>     override a config value on the new side (as pulumi config set
                           would), repeatable
Options:
  --allow-replace          exit 0 even if something of prod would be replaced or deleted
  --allow-data-loss        exit 0 even if data would be deleted or replication would break
  --json                   print the structured diff as JSON instead of the report
  --project-dir <dir>      where Pulumi.yaml and the stack files are (default: .)
  --program <file>         module exporting program() (default: infra/program.ts)
  --help                   show this help

Both sides run the working program. Offline: it compares the program's inputs, not the live
state; see docs/diff.md.`;

export interface DiffCliOptions {
  stack: string;
  /** Old side's topology, when it differs from its stack file's. */
  from?: string;
  /** New side's topology, when it differs from its stack file's. */
  to?: string;
  fromRev?: string;
  fromFile?: string;
  fromConfig: Record<string, string>;
  allowReplace: boolean;
  allowDataLoss: boolean;
  json: boolean;
  /** New side's overrides. */
  config: Record<string, string>;
  projectDir: string;
  program: string;
}

const FLAGS = {
  value: [
    "--stack",
    "--from",
    "--to",
    "--from-rev",
    "--from-file",
    "--from-config",
    "--config",
    "--project-dir",
    "--program",
  ],
  bool: ["--allow-replace", "--allow-data-loss", "--json", "--help"],
  repeat: ["--from-config"],
  positionalHint: (arg: string) =>
    `unexpected argument "${arg}"; flags take their value after them, e.g. --stack ${arg}`,
};

const NAME = /^[A-Za-z0-9_.-]+$/;

function overrides(pairs: string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of pairs) {
    const [key, value] = configPair(c, "databaseStorageSize=30Gi");
    if (key === "topology" || key.endsWith(":topology"))
      throw new UsageError(
        `${flag} ${key}: a side's topology is ${flag === "--config" ? "--to" : "--from"}`,
      );
    out[key] = value;
  }
  return out;
}

/** Parses argv (without node and script). Throws UsageError naming the flag and the fix. */
export function parseDiffArgs(argv: string[]): DiffCliOptions | "help" {
  const scanned = scanFlags(argv, FLAGS);
  if (scanned === "help") return "help";
  const { values, bools } = scanned;
  const opts: DiffCliOptions = {
    stack: values.get("--stack") ?? "",
    from: values.get("--from"),
    to: values.get("--to"),
    fromRev: values.get("--from-rev"),
    fromFile: values.get("--from-file"),
    fromConfig: overrides(scanned.repeated.get("--from-config") ?? [], "--from-config"),
    allowReplace: bools.has("--allow-replace"),
    allowDataLoss: bools.has("--allow-data-loss"),
    json: bools.has("--json"),
    config: overrides(scanned.config, "--config"),
    projectDir: values.get("--project-dir") ?? ".",
    program: values.get("--program") ?? "infra/program.ts",
  };
  checkStackName(opts.stack, "npm run diff -- --stack v1 --from v0 --to v1");
  for (const [flag, v] of [
    ["--from", opts.from],
    ["--to", opts.to],
  ] as const) {
    if (v !== undefined && !NAME.test(v))
      throw new UsageError(`${flag} ${v}: a topology is a name such as v0, v1, v2`);
  }
  if (opts.fromRev !== undefined && opts.fromFile !== undefined)
    throw new UsageError("--from-rev and --from-file both set the old side's stack file: pick one");
  if (opts.fromRev !== undefined && !/^[\w./~^@{}-]+$/.test(opts.fromRev))
    throw new UsageError(`--from-rev ${opts.fromRev}: a git revision such as main or HEAD~1`);
  if (opts.fromFile !== undefined && !fs.existsSync(opts.fromFile))
    throw new UsageError(`--from-file ${opts.fromFile}: no such file (a Pulumi.<stack>.yaml)`);
  return opts;
}

/** The stack file as committed at `rev`, written to `dir`. Throws UsageError. */
export function stackFileAtRev(
  projectDir: string,
  stack: string,
  rev: string,
  dir: string,
): string {
  const file = `Pulumi.${stack}.yaml`;
  let text: string;
  try {
    text = execFileSync("git", ["-C", projectDir, "show", `${rev}:./${file}`], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? "").trim();
    throw new UsageError(
      `--from-rev ${rev}: cannot read ${file} at that revision (${stderr || "git failed"}); ` +
        "name a commit or branch where the stack file exists, or use --from-file",
    );
  }
  const out = path.join(dir, `Pulumi.${stack}.at-rev.yaml`);
  fs.writeFileSync(out, text);
  return out;
}

// ---------------------------------------------------------------- report

const MARK: Record<DiffOp, string> = { create: "+", update: "~", replace: "+-", delete: "-" };
const MAX_CHANGES = 25;
const HAZARD = { "data-loss": "data loss", replication: "breaks replication", fails: "up fails" };

export function formatValue(v: unknown): string {
  if (v === undefined) return "(none)";
  if (v === SECRET_MASK || v === UNKNOWN_AT_PREVIEW) return v;
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
    e.op === "replace" && e.possibleReplace
      ? "(possible: only if values unknown at preview change)"
      : "",
    e.protectedBlock ? "(protected: pulumi up refuses until unprotected)" : "",
    e.oldUrn ? `(was ${e.oldUrn})` : "",
  ].filter(Boolean);
  const lines = [
    `  ${MARK[e.op].padEnd(2)} ${e.op.padEnd(7)} ${what(e)}${flags.length ? ` ${flags.join(" ")}` : ""}`,
  ];
  const pad = "             ";
  for (const h of e.hazards) lines.push(`${pad}!! ${HAZARD[h.kind]}: ${h.message}`);
  for (const r of e.replaceReasons)
    lines.push(
      r.possible
        ? `${pad}replaces if ${r.path} changes (${r.rule})`
        : `${pad}replaces because ${r.path} changed (${r.rule})`,
    );
  for (const c of e.changes.slice(0, MAX_CHANGES)) lines.push(`${pad}${formatChange(c)}`);
  if (e.changes.length > MAX_CHANGES)
    lines.push(`${pad}... and ${e.changes.length - MAX_CHANGES} more (--json lists all)`);
  for (const o of e.optionChanges)
    lines.push(`${pad}option ${o.option}: ${formatValue(o.old)} → ${formatValue(o.new)}`);
  for (const n of e.notes) lines.push(`${pad}note: ${n}`);
  if (e.options.length) lines.push(`${pad}options: ${e.options.join(", ")}`);
  return lines;
}

/** The human report: counts, then entries grouped by owning component, then stack outputs. */
export function formatReport(
  diff: TopologyDiff,
  meta: { stack: string; from: string; to: string },
): string {
  const { counts } = diff;
  const possible = counts.possibleReplace ? ` (${counts.possibleReplace} possible)` : "";
  const lines = [
    `Diff for stack ${meta.stack}: ${meta.from} → ${meta.to} (offline; see docs/diff.md)`,
    "",
    `  + ${counts.create} to create   ~ ${counts.update} to update   +- ${counts.replace} to replace${possible}   - ${counts.delete} to delete   (${counts.same} unchanged)`,
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

/** `Pulumi.v1.yaml at main, topology v0, databaseStorageSize=30Gi`: what one side runs. */
function describeSide(parts: {
  file: string;
  topology?: string;
  config: Record<string, string>;
  secretKeys: Set<string>;
  project: string;
}): string {
  const cfg = Object.entries(parts.config).map(
    ([k, v]) => `${k}=${parts.secretKeys.has(qualifyKey(k, parts.project)) ? SECRET_MASK : v}`,
  );
  return [parts.file, parts.topology ? `topology ${parts.topology}` : "", ...cfg]
    .filter(Boolean)
    .join(", ");
}

export async function main(argv: string[]): Promise<number> {
  let opts: DiffCliOptions | "help";
  let prodNamespace: string;
  let before: SideSpec;
  let after: SideSpec;
  let meta: { stack: string; from: string; to: string };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "airbyte-diff-rev-"));
  try {
    try {
      opts = parseDiffArgs(argv);
      if (opts === "help") {
        console.log(USAGE);
        return 0;
      }
      const { files, cfg } = loadStackInput(opts);
      prodNamespace = cfg.config[qualifyKey("prodNamespace", files.project)] ?? "airbyte-prod";
      const stackFile =
        opts.fromRev !== undefined
          ? stackFileAtRev(opts.projectDir, opts.stack, opts.fromRev, tmp)
          : opts.fromFile;
      const secretKeys = new Set(cfg.secretKeys);
      const o = opts;
      const side = (file: string | undefined, topology: string | undefined, config: object) => ({
        stack: o.stack,
        projectDir: o.projectDir,
        program: o.program,
        ...(file ? { stackFile: file } : {}),
        config: { ...config, ...(topology ? { topology } : {}) },
      });
      before = side(stackFile, opts.from, opts.fromConfig);
      after = side(undefined, opts.to, opts.config);
      const name = path.basename(files.stackFile);
      meta = {
        stack: opts.stack,
        from: describeSide({
          file:
            opts.fromRev !== undefined
              ? `${name} at ${opts.fromRev}`
              : (opts.fromFile ?? `${name}`),
          topology: opts.from,
          config: opts.fromConfig,
          secretKeys,
          project: files.project,
        }),
        to: describeSide({
          file: name,
          topology: opts.to,
          config: opts.config,
          secretKeys,
          project: files.project,
        }),
      };
    } catch (err) {
      if (err instanceof UsageError) {
        console.error(`diff: ${err.message}\n\n${USAGE}`);
        return 2;
      }
      throw err;
    }

    let diff: TopologyDiff;
    try {
      ({ diff } = await diffSides(before, after, { prodNamespaces: [prodNamespace] }));
    } catch (err) {
      if (err instanceof SideFailed) {
        const isNew = err.side === after;
        console.error(
          `diff: the program failed for stack ${opts.stack} on the ${isNew ? "new" : "old"} side (${isNew ? meta.to : meta.from}):\n${err.message}` +
            (isNew
              ? "\n(The stack file must hold every key the new side needs; add them, or pass --config key=value.)"
              : ""),
        );
        return 1;
      }
      throw err;
    }

    console.log(
      opts.json
        ? JSON.stringify({ stack: opts.stack, from: meta.from, to: meta.to, ...diff }, null, 2)
        : formatReport(diff, meta),
    );
    return exitStatus(diff, opts);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Prints what blocks (or was accepted) on stderr; 1 when anything still blocks. */
function exitStatus(diff: TopologyDiff, opts: DiffCliOptions): number {
  const list = (es: ResourceDiff[]) =>
    es.map((e) => `  ${MARK[e.op]} ${e.op} ${what(e)}`).join("\n");
  let code = 0;
  const prod = diff.prodReplacedOrDeleted;
  if (prod.length) {
    if (opts.allowReplace) {
      console.error(
        `diff: ${prod.length} resource(s) of prod would be replaced or deleted (accepted by --allow-replace):\n${list(prod)}`,
      );
    } else {
      console.error(
        `diff: ${prod.length} resource(s) of prod would be replaced or deleted:\n${list(prod)}\n` +
          "Review them; if that is intended, run again with --allow-replace.",
      );
      code = 1;
    }
  }
  const hazards = diff.hazardous;
  if (hazards.length) {
    const detail = hazards
      .map(
        (e) =>
          `  ${MARK[e.op]} ${e.op} ${what(e)}\n${e.hazards.map((h) => `      ${HAZARD[h.kind]}: ${h.message}`).join("\n")}`,
      )
      .join("\n");
    if (opts.allowDataLoss) {
      console.error(
        `diff: ${hazards.length} resource(s) lose data, break replication or fail (accepted by --allow-data-loss):\n${detail}`,
      );
    } else {
      console.error(
        `diff: ${hazards.length} resource(s) lose data, break replication or make pulumi up fail:\n${detail}\n` +
          "Change the program or the config so they are kept; if you really mean it, run again with --allow-data-loss (docs/diff.md).",
      );
      code = 1;
    }
  }
  return code;
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
