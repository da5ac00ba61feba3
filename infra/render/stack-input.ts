/**
 * What `render` and `diff` read before running anything: the project and stack files and the
 * program module, resolved into the config one run gets. Mistakes are usage errors that name the
 * flag and what to do.
 */
import * as fs from "node:fs";
import { UsageError } from "./flags";
import {
  type ProjectFiles,
  type ResolvedConfig,
  availableStacks,
  plainSecretsError,
  programSecretKeys,
  readProjectFiles,
  resolveConfig,
} from "./load-config";

export interface StackInput {
  stack: string;
  projectDir: string;
  program: string;
  config: Record<string, string>;
}

export function loadStackInput(opts: StackInput): { files: ProjectFiles; cfg: ResolvedConfig } {
  let files: ProjectFiles;
  try {
    files = readProjectFiles(opts.projectDir, opts.stack);
  } catch (err) {
    const stacks = fs.existsSync(opts.projectDir) ? availableStacks(opts.projectDir) : [];
    throw new UsageError(
      `--stack ${opts.stack}: ${(err as Error).message}` +
        (stacks.length
          ? `; available stacks: ${stacks.join(", ")}`
          : "; create the stack file first"),
    );
  }
  if (!fs.existsSync(opts.program))
    throw new UsageError(
      `--program ${opts.program}: no such file (the module exporting program())`,
    );
  const cfg = resolveConfig(
    files.project,
    files.declarations,
    files.stackValues,
    opts.config,
    programSecretKeys(opts.program),
  );
  const plain = plainSecretsError(files.stackFile, cfg.plainSecrets);
  if (plain) throw new UsageError(plain);
  return { files, cfg };
}
