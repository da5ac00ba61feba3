/**
 * Runs two sides of a diff, each in its own process (the SDK allows one mock run per process), at
 * the same time, and compares them. The library behind `npm run diff` and the topology tests.
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
export async function recordSide(spec: SideSpec, tmpDir?: string): Promise<RecordedSide> {
  const dir = tmpDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "airbyte-diff-"));
  const out = path.join(dir, `side-${process.hrtime.bigint()}.json`);
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
  }
}

export interface SidesDiff {
  diff: TopologyDiff;
  before: RecordedSide;
  after: RecordedSide;
}

/** Records both sides concurrently and diffs them. Throws {@link SideFailed}. */
export async function diffSides(
  before: SideSpec,
  after: SideSpec,
  options: DiffOptions = {},
): Promise<SidesDiff> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "airbyte-diff-"));
  try {
    const [b, a] = await Promise.all([recordSide(before, tmp), recordSide(after, tmp)]);
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
