/**
 * One side of `diff`: runs the program under the mock runtime for one stack and one config, and
 * writes what it registered as JSON. A separate process per side because the SDK keeps its runtime
 * state in process globals (one mock run per process); `diff-cli.ts` starts two of these at once.
 *
 *   tsx infra/render/record.ts --stack v1 --config topology=v0 --out /tmp/v0.json
 *
 * `--stack-file F` reads the stack's config from F instead of `Pulumi.<stack>.yaml` (the other
 * side of a config diff); `--existing F` (a JSON list of URNs, the other side's resources) runs
 * it as a preview against a state holding those resources (values unknown at preview stay so).
 *
 * The file holds a {@link RecordFile}. Exit status: 0 recorded; 1 the program failed (the file
 * holds its message); 2 wrong usage (message on stderr).
 */
// First: makes the SDK's import cheaper, so it must run before anything imports the SDK.
import "./lazy-sdk";
import * as fs from "node:fs";
import * as path from "node:path";
import type { MockRun } from "../mock-runtime";
import {
  readProjectFiles,
  plainSecretsError,
  programSecretKeys,
  resolveConfig,
  type ResolvedConfig,
} from "./load-config";

export interface RecordArgs {
  stack: string;
  projectDir: string;
  program: string;
  config: Record<string, string>;
  out: string;
  /** Config from this file instead of `Pulumi.<stack>.yaml`. */
  stackFile?: string;
  /** A JSON file listing the URNs already in the state: run as a preview against them. */
  existing?: string;
}

/** What a side's child writes. */
export type RecordFile =
  | ({ ok: true } & MockRun & Pick<ResolvedConfig, "placeholders" | "overridden">)
  | { ok: false; error: string };

export function parseRecordArgs(argv: string[]): RecordArgs {
  const args: RecordArgs = {
    stack: "",
    projectDir: ".",
    program: "infra/program.ts",
    config: {},
    out: "",
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === "--stack") args.stack = value;
    else if (flag === "--project-dir") args.projectDir = value;
    else if (flag === "--program") args.program = value;
    else if (flag === "--out") args.out = value;
    else if (flag === "--stack-file") args.stackFile = value;
    else if (flag === "--existing") args.existing = value;
    else if (flag === "--config") {
      const sep = value.indexOf("=");
      if (sep <= 0) throw new Error(`--config ${value}: expected key=value`);
      args.config[value.slice(0, sep)] = value.slice(sep + 1);
    } else throw new Error(`unknown flag ${flag}`);
  }
  if (!args.stack || !args.out) throw new Error("--stack and --out are required");
  return args;
}

export async function record(args: RecordArgs): Promise<RecordFile> {
  const files = readProjectFiles(args.projectDir, args.stack, args.stackFile);
  const cfg = resolveConfig(
    files.project,
    files.declarations,
    files.stackValues,
    args.config,
    programSecretKeys(args.program),
  );
  const plain = plainSecretsError(files.stackFile, cfg.plainSecrets);
  if (plain) return { ok: false, error: plain };
  // Loaded here, not at the top: the SDK must come after lazy-sdk, and a usage error needs no SDK.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { runUnderMocks } = require("../mock-runtime") as typeof import("../mock-runtime");
  const programFile = path.resolve(args.program);
  try {
    const run = await runUnderMocks({
      project: files.project,
      stack: args.stack,
      config: cfg.config,
      secretKeys: cfg.secretKeys,
      ...(args.existing
        ? { preview: { existing: JSON.parse(fs.readFileSync(args.existing, "utf8")) as string[] } }
        : {}),
      program: async () => {
        // Required inside the run, after the mocks are in place, as the language host would.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const mod = require(programFile) as { program?: () => Promise<Record<string, unknown>> };
        if (typeof mod.program !== "function")
          throw new Error(`${args.program} does not export program()`);
        return mod.program();
      },
    });
    return {
      ok: true,
      ...run,
      placeholders: cfg.placeholders,
      overridden: cfg.overridden,
    };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

if (require.main === module) {
  // As in the render CLI: no source-mapped stack per resource (about 0.25 s of CPU).
  if (process.env.RENDER_SOURCE_MAPS !== "1") process.setSourceMapsEnabled(false);
  let args: RecordArgs;
  try {
    args = parseRecordArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`record: ${(err as Error).message}`);
    process.exit(2);
  }
  record(args)
    .then((result) => {
      fs.writeFileSync(args.out, JSON.stringify(result));
      // The SDK may leave handles open after a mock run; the record is complete here.
      process.exit(result.ok ? 0 : 1);
    })
    .catch((err: unknown) => {
      fs.writeFileSync(
        args.out,
        JSON.stringify({ ok: false, error: err instanceof Error ? err.message : String(err) }),
      );
      process.exit(1);
    });
}
