/**
 * For the pull-request workflow (`.github/workflows/preview.yml`): which stacks exist, which stack
 * files the pull request changes (those get `npm run diff -- --from-rev <base>`), and whose
 * `airbyte:topology` it changes, comparing each `Pulumi.<stack>.yaml` of the work tree with the
 * same file on the base branch.
 *
 *   tsx infra/render/diff-changed-stacks.ts --base origin/main [--project-dir .]
 *
 * Prints one JSON array of {@link StackTopology} on stdout. A stack file that is new in the pull
 * request has no `from` (nothing to move from); a stack file without a topology uses the declared
 * default, if any.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { availableStacks, qualifyKey } from "./load-config";

export interface StackTopology {
  stack: string;
  /** The topology on the base branch; absent when the stack file is new. */
  from?: string;
  /** The topology in the pull request. */
  to?: string;
  /** Whether the topology differs (and both sides have one). */
  changed: boolean;
  /** Whether the stack file exists on the base branch and differs: a config diff is due. */
  fileChanged: boolean;
}

/** `airbyte:topology` of a stack file's text, else the project's declared default. */
export function topologyOf(
  stackYaml: string,
  project: string,
  declaredDefault?: string,
): string | undefined {
  const doc = parse(stackYaml) as { config?: Record<string, unknown> } | null;
  const config = doc?.config ?? {};
  for (const [k, v] of Object.entries(config))
    if (qualifyKey(k, project) === `${project}:topology` && typeof v === "string") return v;
  return declaredDefault;
}

/** Pure core: compares base and head texts of each stack file. */
export function topologyChanges(
  stacks: { stack: string; base?: string; head: string }[],
  project: string,
  declaredDefault?: string,
): StackTopology[] {
  return stacks.map(({ stack, base, head }) => {
    const to = topologyOf(head, project, declaredDefault);
    const from = base === undefined ? undefined : topologyOf(base, project, declaredDefault);
    return {
      stack,
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
      changed: from !== undefined && to !== undefined && from !== to,
      fileChanged: base !== undefined && base !== head,
    };
  });
}

/** The project's name and declared topology default, from `Pulumi.yaml`. */
function projectInfo(dir: string): { project: string; declaredDefault?: string } {
  const doc = parse(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8")) as {
    name?: string;
    config?: Record<string, unknown>;
  };
  const project = doc.name ?? "airbyte";
  for (const [k, v] of Object.entries(doc.config ?? {})) {
    if (qualifyKey(k, project) !== `${project}:topology`) continue;
    const d = typeof v === "object" && v !== null ? (v as { default?: unknown }).default : v;
    if (typeof d === "string") return { project, declaredDefault: d };
  }
  return { project };
}

/** The file at `ref` (a commit, `origin/main`), or undefined when it does not exist there. */
function gitShow(ref: string, file: string, cwd: string): string | undefined {
  try {
    return execFileSync("git", ["show", `${ref}:./${file}`], {
      cwd,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
  } catch {
    return undefined;
  }
}

export function changedStacks(base: string, dir = "."): StackTopology[] {
  const { project, declaredDefault } = projectInfo(dir);
  return topologyChanges(
    availableStacks(dir).map((stack) => {
      const file = `Pulumi.${stack}.yaml`;
      return {
        stack,
        base: gitShow(base, file, dir),
        head: fs.readFileSync(path.join(dir, file), "utf8"),
      };
    }),
    project,
    declaredDefault,
  );
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  const flag = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const base = flag("--base");
  if (!base) {
    console.error("diff-changed-stacks: --base <git ref> is required, e.g. --base origin/main");
    process.exit(2);
  }
  console.log(JSON.stringify(changedStacks(base, flag("--project-dir") ?? ".")));
}
