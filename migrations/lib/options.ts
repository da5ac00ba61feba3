/**
 * Command line and environment: parsed with node's util.parseArgs and validated, each error
 * naming the flag or variable and the fix.
 */
import { parseArgs } from "node:util";
import { Endpoint, parseEndpoint } from "./endpoint";
import { NameKind, pairWithMap, parseNameMap } from "./name-map";
import { usageError } from "./errors";

export type Command = "plan" | "copy" | "verify";
export const COMMANDS: Command[] = ["plan", "copy", "verify"];

/** Airbyte's databases on Kubernetes (chart V2). */
export const DEFAULT_DATABASES = ["db-airbyte", "temporal", "temporal_visibility"];

export interface DatabasePair {
  source: string;
  target: string;
}

export interface Options {
  command: Command;
  source: Endpoint;
  target: Endpoint;
  databases: DatabasePair[];
  jobs: number;
  /** Split tables larger than twice this into key ranges; undefined = automatic. */
  splitBytes?: number;
  resume: boolean;
  dropExisting: boolean;
  verify: boolean;
  json: boolean;
  pgDump?: string;
  /** Where pgDump came from, for messages. */
  pgDumpOrigin: string;
  keepOwners: boolean;
  /** Copy into `<target>__staging`, verify, then rename it over `<target>` (see swap.ts). */
  swap: boolean;
  /** Role that ends up owning the copied databases and every object in them. */
  owner?: string;
  /** With --swap: terminate other sessions on the databases being renamed instead of refusing. */
  terminateSessions: boolean;
}

/** Names derived from a live target database name by --swap. */
export const STAGING_SUFFIX = "__staging";
export const PREVIOUS_SUFFIX = "__previous";

export const HELP = `Usage: airbyte-migrate <plan|copy|verify> [options]

Copy Airbyte's PostgreSQL databases to another server from one consistent snapshot, without
writing to the source, and verify the copy.

Commands:
  plan      Show what copy would do: versions, databases, tables, sizes, warnings. Read-only.
  copy      Copy schema, rows, indexes and sequences; then verify (unless --no-verify).
  verify    Compare row counts, content checksums and sequences of source and target.

Other command groups, each with its own --help:
  sync      Continuous replication prod -> hub -> core-worker-01: setup, status, check-schema.
  failover  Promote core-worker-01 when prod is gone (docs/replication.md).
  objects   Mirror and verify object storage (logs, state) between S3/MinIO servers.

Connections:
  --source URL         Source server (or SOURCE_DATABASE_URL), e.g.
                       postgres://airbyte:PASSWORD@airbyte-db:5432/postgres
  --target URL         Target server (or TARGET_DATABASE_URL). The URL's database is only used
                       for server-level work (listing and creating databases); default postgres.
                       Only sslmode=... is accepted as a URL parameter.
Databases:
  --databases A,B,C    Source databases to copy (default db-airbyte,temporal,temporal_visibility).
  --map SRC=DST        Copy source database SRC into target database DST (repeatable), e.g.
                       --map airbyte=db-airbyte for a docker-compose source. In the default list a
                       mapped target name stands for its source (so the example reads "airbyte").
Copy:
  --jobs N             Parallel connections per side for rows, indexes and verify (default 2).
  --split-mb N         Split tables larger than 2*N MB with an integer key into ranges copied in
                       parallel (default: total size / (4 * jobs), at least 32 MB).
  --resume             Continue a killed copy: finished tables are kept, the rest redone.
  --drop-existing      Drop and recreate target databases that already hold data.
  --no-verify          Do not verify at the end of copy.
  --keep-owners        Keep the source's owners and privileges (those roles must exist on the
                       target). By default the target user owns everything.
  --owner ROLE         The copied databases and every object in them belong to ROLE (the target
                       user must be a member of it); the target user itself owns nothing.
Swap (periodic copies that keep the previous good copy until a new one is verified):
  --swap               Copy each database into <name>__staging (a leftover one is dropped and
                       redone), verify it, then rename <name> -> <name>__previous and the staging
                       copy -> <name> in one transaction, and drop <name>__previous. Refuses
                       while other sessions use <name>.
  --terminate-sessions With --swap: terminate other sessions on <name> instead of refusing.
  --pg-dump PATH       pg_dump to use (or PG_DUMP); pg_restore is taken from the same folder.
                       Its major must be at least the source server's.
Output:
  --json               JSON lines on stdout (progress, results, errors) instead of text.
  --help               This help.

Exit status: 0 success, 1 failure, 2 usage error, 3 verify found differences.`;

function positiveInt(
  value: string | undefined,
  flag: string,
  fallback: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > max) {
    throw usageError(
      `${flag} must be a whole number from 1 to ${max} (got "${value}"), e.g. ${flag} 4`,
    );
  }
  return n;
}

/** 63 bytes is PostgreSQL's identifier limit; longer names would be silently truncated. */
function databaseName(name: string, flag: string): string {
  if (name.length === 0 || Buffer.byteLength(name) > 63) {
    throw usageError(`${flag} has a database name "${name}": names are 1 to 63 bytes long`);
  }
  return name;
}

const DATABASES: NameKind = {
  noun: "database",
  listFlag: "--databases",
  verb: "copied",
  example: "airbyte=db-airbyte",
  check: databaseName,
};

export function resolveDatabases(list: string | undefined, mapValues: string[]): DatabasePair[] {
  const map = parseNameMap(mapValues, DATABASES);
  let sources: string[];
  if (list !== undefined) {
    sources = list.split(",").map((s) => databaseName(s.trim(), "--databases"));
  } else {
    const bySource = new Map([...map].map(([from, to]) => [to, from]));
    sources = DEFAULT_DATABASES.map((d) => bySource.get(d) ?? d);
  }
  return pairWithMap(sources, map, DATABASES);
}

function roleName(name: string): string {
  if (name.length === 0 || Buffer.byteLength(name) > 63) {
    throw usageError(`--owner has a role name "${name}": names are 1 to 63 bytes long`);
  }
  return name;
}

interface SwapFlags {
  swap?: boolean;
  resume?: boolean;
  "drop-existing"?: boolean;
  "no-verify"?: boolean;
  "keep-owners"?: boolean;
  owner?: string;
  "terminate-sessions"?: boolean;
}

/** Combinations of --swap, --owner and the other copy flags that contradict each other. */
function checkSwapFlags(command: Command, v: SwapFlags): void {
  if (v.owner !== undefined && v["keep-owners"]) {
    throw usageError("--owner and --keep-owners contradict each other: choose one");
  }
  if (v["terminate-sessions"] && !v.swap) {
    throw usageError("--terminate-sessions only applies to --swap: add --swap or drop it");
  }
  for (const flag of ["swap", "owner"] as const) {
    if (v[flag] !== undefined && command !== "copy") {
      throw usageError(`--${flag} only applies to copy: remove it from ${command}`);
    }
  }
  if (!v.swap) return;
  // A swap copy always starts its staging database afresh from one snapshot, and only a
  // verified copy may replace the live database.
  if (v.resume) {
    throw usageError(
      "--swap and --resume contradict each other: a swap copy always redoes its staging " +
        "database from one snapshot (a killed run's leftover is dropped): remove --resume",
    );
  }
  if (v["drop-existing"]) {
    throw usageError(
      "--swap and --drop-existing contradict each other: --swap replaces the live database " +
        "only after the new copy is verified, --drop-existing drops it first: choose one",
    );
  }
  if (v["no-verify"]) {
    throw usageError("--swap only swaps in a verified copy: remove --no-verify");
  }
}

/** Staging and previous names must fit PostgreSQL's 63 bytes and not be another target. */
export function checkSwapNames(pairs: DatabasePair[]): void {
  const targets = new Set(pairs.map((p) => p.target));
  for (const p of pairs) {
    for (const suffix of [STAGING_SUFFIX, PREVIOUS_SUFFIX]) {
      const derived = p.target + suffix;
      if (Buffer.byteLength(derived) > 63) {
        throw usageError(
          `--swap needs database "${derived}", longer than 63 bytes: rename the target with ` +
            `--map ${p.source}=SHORTER_NAME`,
        );
      }
      if (targets.has(derived)) {
        throw usageError(
          `--swap would use "${derived}" as a work database, but it is also a target: fix ` +
            `--databases or --map`,
        );
      }
    }
  }
}

/** Parse argv (without node and script). Returns undefined when help was printed. */
export function parseOptions(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): Options | undefined {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        source: { type: "string" },
        target: { type: "string" },
        databases: { type: "string" },
        map: { type: "string", multiple: true },
        jobs: { type: "string" },
        "split-mb": { type: "string" },
        resume: { type: "boolean" },
        "drop-existing": { type: "boolean" },
        "no-verify": { type: "boolean" },
        "keep-owners": { type: "boolean" },
        "pg-dump": { type: "string" },
        owner: { type: "string" },
        swap: { type: "boolean" },
        "terminate-sessions": { type: "boolean" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (err) {
    throw usageError(`${(err as Error).message}; see airbyte-migrate --help`);
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    process.stdout.write(HELP + "\n");
    if (positionals.length === 0 && !values.help)
      throw usageError("no command given: plan, copy or verify");
    return undefined;
  }
  const [command, ...extra] = positionals;
  if (!COMMANDS.includes(command as Command)) {
    throw usageError(`unknown command "${command}": use plan, copy or verify (see --help)`);
  }
  if (extra.length > 0) throw usageError(`unexpected argument "${extra[0]}": see --help`);
  if (values.resume && values["drop-existing"]) {
    throw usageError("--resume and --drop-existing contradict each other: choose one");
  }
  checkSwapFlags(command as Command, values);
  const splitMb =
    values["split-mb"] === undefined
      ? undefined
      : positiveInt(values["split-mb"], "--split-mb", 0, 1_000_000);
  const databases = resolveDatabases(values.databases, values.map ?? []);
  if (values.swap) checkSwapNames(databases);
  const pgDump = values["pg-dump"] ?? env.PG_DUMP;
  if (pgDump === "") throw usageError("--pg-dump / PG_DUMP is empty: give the path of pg_dump");
  return {
    command: command as Command,
    source: parseEndpoint(values.source ?? env.SOURCE_DATABASE_URL, "source"),
    target: parseEndpoint(values.target ?? env.TARGET_DATABASE_URL, "target"),
    databases,
    jobs: positiveInt(values.jobs, "--jobs", 2, 64),
    splitBytes: splitMb === undefined ? undefined : splitMb * 1_000_000,
    resume: values.resume ?? false,
    dropExisting: values["drop-existing"] ?? false,
    verify: !values["no-verify"],
    json: values.json ?? false,
    pgDump,
    pgDumpOrigin: values["pg-dump"] ? "--pg-dump" : pgDump ? "PG_DUMP" : "PATH",
    keepOwners: values["keep-owners"] ?? false,
    swap: values.swap ?? false,
    owner: values.owner === undefined ? undefined : roleName(values.owner),
    terminateSessions: values["terminate-sessions"] ?? false,
  };
}
