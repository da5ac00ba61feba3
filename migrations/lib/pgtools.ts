/**
 * pg_dump and pg_restore: where they are, whether they are new enough, and running them for the
 * schema sections (pre-data before the rows, post-data after).
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { Endpoint, libpqEnv } from "./endpoint";
import { MigrateError } from "./errors";
import { redact } from "./redact";

export interface PgTools {
  pgDump: string;
  pgRestore: string;
  major: number;
  /** Where the pg_dump path came from, for messages. */
  origin: string;
}

function onPath(program: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(dir, program);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

let setpriv: string | undefined | null = null;

/**
 * A killed tool must not leave pg_restore building indexes behind it (a --resume would race it):
 * where util-linux's setpriv exists, children get SIGKILL when this process dies.
 */
function withParentDeathSignal(file: string, args: string[]): [string, string[]] {
  if (setpriv === null) setpriv = process.platform === "linux" ? onPath("setpriv") : undefined;
  return setpriv ? [setpriv, ["--pdeathsig", "SIGKILL", "--", file, ...args]] : [file, args];
}

function run(file: string, args: string[], env?: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const [cmd, argv] = withParentDeathSignal(file, args);
    const child = spawn(cmd, argv, { env: env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

function installHint(major: number): string {
  return `install postgresql-client-${major} (apt-get install -y postgresql-client-${major}) and pass its pg_dump with --pg-dump (or PG_DUMP), e.g. --pg-dump /usr/lib/postgresql/${major}/bin/pg_dump`;
}

/**
 * Find pg_dump (as given by --pg-dump or PG_DUMP, else on PATH) and pg_restore beside it, and check pg_dump can
 * dump a server of `sourceMajor`.
 */
export async function locatePgTools(
  given: string | undefined,
  origin: string,
  sourceMajor: number,
): Promise<PgTools> {
  const pgDump = given ?? onPath("pg_dump");
  if (!pgDump) {
    throw new MigrateError(`pg_dump is not on PATH: ${installHint(sourceMajor)}`);
  }
  try {
    fs.accessSync(pgDump, fs.constants.X_OK);
  } catch {
    throw new MigrateError(
      `pg_dump not found or not executable at ${pgDump} (from ${origin}): ${installHint(sourceMajor)}`,
    );
  }
  const version = await run(pgDump, ["--version"]);
  const match = /\(PostgreSQL\)\s+(\d+)/.exec(version.stdout);
  if (version.code !== 0 || !match) {
    throw new MigrateError(
      `${pgDump} (from ${origin}) is not a working pg_dump: ${installHint(sourceMajor)}`,
    );
  }
  const major = Number(match[1]);
  if (major < sourceMajor) {
    throw new MigrateError(
      `pg_dump at ${pgDump} (from ${origin}) is version ${major}, older than the source server ` +
        `(PostgreSQL ${sourceMajor}); pg_dump must be at least the source's major: ${installHint(sourceMajor)}`,
    );
  }
  const pgRestore = path.join(path.dirname(pgDump), "pg_restore");
  if (!fs.existsSync(pgRestore)) {
    throw new MigrateError(`pg_restore is missing beside ${pgDump}: ${installHint(major)}`);
  }
  return { pgDump, pgRestore, major, origin };
}

async function runOrFail(
  what: string,
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<string> {
  const result = await run(file, args, env);
  if (result.code !== 0) {
    const tail = result.stderr.trim().split("\n").slice(-8).join("\n");
    throw new MigrateError(
      redact(`${what} failed (${path.basename(file)} exit ${result.code}):\n${tail}`),
    );
  }
  return result.stdout;
}

/** Dump the schema (no rows) of `database` as of the exported snapshot, custom format. */
export async function dumpSchema(
  tools: PgTools,
  ep: Endpoint,
  database: string,
  snapshotId: string,
  file: string,
): Promise<void> {
  await runOrFail(
    `dumping the schema of "${database}"`,
    tools.pgDump,
    [
      "--format=custom",
      "--schema-only",
      `--snapshot=${snapshotId}`,
      "--exclude-schema=airbyte_migrate",
      // A v2 prod's publication (and any subscription) belongs to its server's replication,
      // not to a copy: carried over, the copy would publish prod's tables to nobody.
      "--no-publications",
      "--no-subscriptions",
      `--file=${file}`,
    ],
    libpqEnv(ep, database),
  );
}

/** The table of contents of a custom-format dump (`pg_restore -l`). */
export function listContents(tools: PgTools, file: string): Promise<string> {
  return runOrFail("listing the schema dump", tools.pgRestore, ["--list", file], process.env);
}

export interface RestoreOptions {
  section: "pre-data" | "post-data";
  jobs: number;
  /** Restore only the entries of this list file (`pg_restore -L`). */
  listFile?: string;
  /** Keep the source's owners and privileges (the roles must exist on the target). */
  keepOwners: boolean;
}

export async function restoreSection(
  tools: PgTools,
  ep: Endpoint,
  database: string,
  file: string,
  opts: RestoreOptions,
): Promise<void> {
  const args = [`--section=${opts.section}`, "--exit-on-error", `--dbname=${database}`];
  // One transaction makes pre-data all-or-nothing, so a killed run never leaves half a schema.
  args.push(opts.jobs > 1 ? `--jobs=${opts.jobs}` : "--single-transaction");
  if (!opts.keepOwners) args.push("--no-owner", "--no-privileges");
  if (opts.listFile) args.push(`--use-list=${opts.listFile}`);
  // Objects are created by (and so belong to) the --owner role.
  if (ep.sessionRole !== undefined) args.push(`--role=${ep.sessionRole}`);
  args.push(file);
  const env = {
    ...libpqEnv(ep, database),
    // Index builds: memory for sorts; commits need not wait for the WAL flush.
    PGOPTIONS: "-c maintenance_work_mem=256MB -c synchronous_commit=off",
  };
  await runOrFail(
    `restoring the ${opts.section} schema of "${database}"`,
    tools.pgRestore,
    args,
    env,
  );
}
