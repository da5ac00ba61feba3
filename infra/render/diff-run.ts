/**
 * Runs two sides of a diff, each in its own process (the SDK allows one mock run per process), one
 * after the other (the new side is a preview against the old one's resources), and compares them. The library behind `npm run diff` and the topology tests.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { diffRuns, type DiffOptions, type TopologyDiff } from "./diff";
import type { RecordFile } from "./record";

export interface SideSpec {
  stack: string;
  /** Where `Pulumi.yaml` and the stack file are. Default `.`. */
  projectDir?: string;
  /** Module exporting `program()`. Default `infra/program.ts`. */
  program?: string;
  /** `--config` overrides for this side (`topology: "v1"`). */
  config?: Record<string, string>;
  /** The stack's config from this file instead of `<projectDir>/Pulumi.<stack>.yaml`. */
  stackFile?: string;
}

export type RecordedSide = Extract<RecordFile, { ok: true }>;

export class SideFailed extends Error {
  constructor(
    readonly side: SideSpec,
    message: string,
  ) {
    super(message);
  }
}

const RECORD = path.join(__dirname, "record.ts");

/** Records one side in a child process: `node --import tsx record.ts …` (no tsx launcher). */
export async function recordSide(
  spec: SideSpec,
  tmpDir?: string,
  /** URNs already in the state: record as a preview against them (see `record.ts`). */
  existing?: string[],
): Promise<RecordedSide> {
  const dir = tmpDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "airbyte-diff-"));
  const out = path.join(dir, `side-${process.hrtime.bigint()}.json`);
  const existingFile = `${out}.existing.json`;
  if (existing) fs.writeFileSync(existingFile, JSON.stringify(existing));
  const args = [
    "--import",
    pathToFileURL(require.resolve("tsx")).href,
    RECORD,
    "--stack",
    spec.stack,
    "--project-dir",
    spec.projectDir ?? ".",
    "--program",
    spec.program ?? "infra/program.ts",
    "--out",
    out,
    ...(spec.stackFile ? ["--stack-file", spec.stackFile] : []),
    ...(existing ? ["--existing", existingFile] : []),
    ...Object.entries(spec.config ?? {}).flatMap(([k, v]) => ["--config", `${k}=${v}`]),
  ];
  try {
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>(
      (resolve, reject) => {
        const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
        let err = "";
        child.stderr.on("data", (d: Buffer) => (err += d.toString()));
        child.on("error", reject);
        child.on("close", (c) => resolve({ code: c, stderr: err }));
      },
    );
    if (!fs.existsSync(out))
      throw new SideFailed(spec, stderr.trim() || `the recording process exited with ${code}`);
    const result = JSON.parse(fs.readFileSync(out, "utf8")) as RecordFile;
    if (!result.ok) throw new SideFailed(spec, result.error);
    return result;
  } finally {
    fs.rmSync(tmpDir ? out : dir, { recursive: true, force: true });
    fs.rmSync(existingFile, { force: true });
  }
}

export interface SidesDiff {
  diff: TopologyDiff;
  before: RecordedSide;
  after: RecordedSide;
}

/**
 * Records the old side (all values known, as in the state), then the new side as a preview
 * against it (what it creates has unknown computed values, as `pulumi preview` sees them), and
 * diffs them. Throws {@link SideFailed}.
 */
export async function diffSides(
  before: SideSpec,
  after: SideSpec,
  options: DiffOptions = {},
): Promise<SidesDiff> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "airbyte-diff-"));
  try {
    const b = await recordSide(before, tmp);
    const a = await recordSide(
      after,
      tmp,
      b.resources.map((r) => r.urn),
    );
    return { diff: diffRuns(b.resources, a.resources, options), before: b, after: a };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** The usual case: one stack file, `airbyte:topology` set to `from` on one side, `to` on the other. */
export function diffTopologies(args: {
  stack: string;
  from: string;
  to: string;
  projectDir?: string;
  program?: string;
  config?: Record<string, string>;
  options?: DiffOptions;
}): Promise<SidesDiff> {
  const side = (topology: string): SideSpec => ({
    stack: args.stack,
    projectDir: args.projectDir,
    program: args.program,
    config: { ...args.config, topology },
  });
  return diffSides(side(args.from), side(args.to), args.options);
}
