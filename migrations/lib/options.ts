/**
 * Command line and environment: parsed with node's util.parseArgs and validated, each error
 * naming the flag or variable and the fix.
 */
import { parseArgs } from "node:util";
import { Endpoint, parseEndpoint } from "./endpoint";
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
}

export const HELP = `Usage: airbyte-migrate <plan|copy|verify> [options]

Copy Airbyte's PostgreSQL databases to another server from one consistent snapshot, without
writing to the source, and verify the copy.

Commands:
  plan      Show what copy would do: versions, databases, tables, sizes, warnings. Read-only.
  copy      Copy schema, rows, indexes and sequences; then verify (unless --no-verify).
  verify    Compare row counts, content checksums and sequences of source and target.

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

function parseMap(values: string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const v of values) {
    const m = /^([^=]+)=([^=]+)$/.exec(v);
    if (!m) throw usageError(`--map "${v}" is not SOURCE=TARGET, e.g. --map airbyte=db-airbyte`);
    const [, from, to] = m;
    if (map.has(from)) throw usageError(`--map gives source database "${from}" twice: keep one`);
    map.set(databaseName(from, "--map"), databaseName(to, "--map"));
  }
  const targets = [...map.values()];
  const dup = targets.find((t, i) => targets.indexOf(t) !== i);
  if (dup) throw usageError(`--map sends two databases to "${dup}": each target name once`);
  return map;
}

export function resolveDatabases(list: string | undefined, mapValues: string[]): DatabasePair[] {
  const map = parseMap(mapValues);
  let sources: string[];
  if (list !== undefined) {
    sources = list.split(",").map((s) => databaseName(s.trim(), "--databases"));
  } else {
    const bySource = new Map([...map].map(([from, to]) => [to, from]));
    sources = DEFAULT_DATABASES.map((d) => bySource.get(d) ?? d);
  }
  for (const from of map.keys()) {
    if (!sources.includes(from)) {
      throw usageError(
        `--map names source database "${from}", which --databases does not list: add it`,
      );
    }
  }
  const pairs = sources.map((s) => ({ source: s, target: map.get(s) ?? s }));
  const targets = pairs.map((p) => p.target);
  const dup = targets.find((t, i) => targets.indexOf(t) !== i);
  if (dup)
    throw usageError(
      `two source databases would be copied into "${dup}": fix --databases or --map`,
    );
  return pairs;
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
  const splitMb =
    values["split-mb"] === undefined
      ? undefined
      : positiveInt(values["split-mb"], "--split-mb", 0, 1_000_000);
  const pgDump = values["pg-dump"] ?? env.PG_DUMP;
  if (pgDump === "") throw usageError("--pg-dump / PG_DUMP is empty: give the path of pg_dump");
  return {
    command: command as Command,
    source: parseEndpoint(values.source ?? env.SOURCE_DATABASE_URL, "source"),
    target: parseEndpoint(values.target ?? env.TARGET_DATABASE_URL, "target"),
    databases: resolveDatabases(values.databases, values.map ?? []),
    jobs: positiveInt(values.jobs, "--jobs", 2, 64),
    splitBytes: splitMb === undefined ? undefined : splitMb * 1_000_000,
    resume: values.resume ?? false,
    dropExisting: values["drop-existing"] ?? false,
    verify: !values["no-verify"],
    json: values.json ?? false,
    pgDump,
    pgDumpOrigin: values["pg-dump"] ? "--pg-dump" : pgDump ? "PG_DUMP" : "PATH",
    keepOwners: values["keep-owners"] ?? false,
  };
}
