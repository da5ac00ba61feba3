/**
 * Command line and environment of `airbyte-migrate objects`: parsed with node's util.parseArgs
 * and validated, each error naming the flag or variable and the fix.
 */
import { parseArgs } from "node:util";
import { usageError } from "../lib/errors";
import { NameKind, pairWithMap, parseNameMap } from "../lib/name-map";
import { parseS3Endpoint, S3Endpoint } from "./endpoint";

export type ObjectsCommand = "mirror" | "verify";
const COMMANDS: ObjectsCommand[] = ["mirror", "verify"];

/** Airbyte 2.0 keeps every document type in one bucket (reference §8). */
export const DEFAULT_BUCKETS = ["airbyte-bucket"];
const MIB = 1024 * 1024;

export interface BucketPair {
  source: string;
  target: string;
}

export interface ObjectsOptions {
  command: ObjectsCommand;
  source: S3Endpoint;
  target: S3Endpoint;
  buckets: BucketPair[];
  /** Key prefixes to walk; `[""]` is the whole bucket. Never overlapping. */
  prefixes: string[];
  jobs: number;
  /** mirror: remove target objects the source no longer has. */
  delete: boolean;
  /** verify: count objects only the target has as differences. */
  strict: boolean;
  /** Multipart part size on the target; also the most one upload holds in memory. */
  partSize: number;
  /** Keys per listing request (S3 allows at most 1000). */
  pageSize: number;
  json: boolean;
}

export const OBJECTS_HELP = `Usage: airbyte-migrate objects <mirror|verify> [options]

Mirror Airbyte's object storage (logs, state, workload output) from prod's S3/MinIO to the
replica's, incrementally, and compare the two. Never writes to the source.

Commands:
  mirror    Copy objects missing on the target or different from the source (size, ETag, see
            docs/objects.md); with --delete also remove target objects the source lacks.
  verify    Compare without copying: equal, missing on target, different, extra on target.

Servers:
  --source-s3 URL      Source (or SOURCE_S3_URL), e.g.
                       http://ACCESS_KEY:SECRET_KEY@airbyte-minio.airbyte-prod.svc.cluster.local:9000
                       Percent-encode '/', '+', ':' and '@' in the keys. Parameters:
                       ?region=us-east-1 (default) and &path-style=true (default; MinIO needs it).
  --target-s3 URL      Target (or TARGET_S3_URL), same form.
What:
  --buckets A,B        Source buckets (default airbyte-bucket).
  --map SRC=DST        Mirror source bucket SRC into target bucket DST (repeatable).
  --prefix P           Only keys starting with P (repeatable), e.g. --prefix job-logging/.
                       Default: every key.
Mirror:
  --delete             Also delete target objects absent on the source (off by default).
  --jobs N             Objects transferred in parallel (default 4).
  --part-size-mb N     Multipart part size for uploads, 5 to 1024 (default 16). Each transfer
                       holds up to one part in memory: about jobs x part size in all.
  --page-size N        Keys per listing request, 1 to 1000 (default 1000).
Verify:
  --strict             Objects only the target has count as differences too.
Output:
  --json               JSON lines on stdout (progress, result, errors) instead of text.
  --help               This help.

Exit status: 0 success, 1 failure (any object failed), 2 usage error, 3 verify found differences.`;

export function positiveInt(
  value: string | undefined,
  flag: string,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw usageError(
      `${flag} must be a whole number from ${min} to ${max} (got "${value}"), e.g. ${flag} ${fallback}`,
    );
  }
  return n;
}

/**
 * Only the shape is checked here; the naming rules are the MinIO client's, applied before the
 * first request (see `s3Error`), so they are not restated in this tool.
 */
function bucketName(name: string, flag: string): string {
  if (name.length === 0 || /[/\s]/.test(name)) {
    throw usageError(`${flag} has "${name}", which is not a bucket name, e.g. airbyte-bucket`);
  }
  return name;
}

const BUCKETS: NameKind = {
  noun: "bucket",
  listFlag: "--buckets",
  verb: "mirrored",
  example: "airbyte-bucket=replica-bucket",
  check: bucketName,
};

export function resolveBuckets(list: string | undefined, mapValues: string[]): BucketPair[] {
  const sources =
    list === undefined
      ? DEFAULT_BUCKETS
      : list.split(",").map((s) => bucketName(s.trim(), "--buckets"));
  return pairWithMap(sources, parseNameMap(mapValues, BUCKETS), BUCKETS);
}

/**
 * Overlapping prefixes would walk (and, with --delete, judge) the same keys twice, so they are
 * refused; the shorter one already covers the longer.
 */
export function resolvePrefixes(values: string[]): string[] {
  if (values.length === 0) return [""];
  for (const p of values) {
    if (p === "") throw usageError(`--prefix is empty: omit --prefix to mirror every key`);
    if (Buffer.byteLength(p) > 1024)
      throw usageError(`--prefix "${p.slice(0, 40)}…" is longer than S3's 1024-byte key limit`);
  }
  for (const a of values) {
    for (const b of values) {
      if (a !== b && b.startsWith(a)) {
        throw usageError(`--prefix "${a}" already covers --prefix "${b}": drop "${b}"`);
      }
    }
  }
  return [...new Set(values)].sort();
}

/** Parse argv after `objects`. Returns undefined when help was printed. */
export function parseObjectsOptions(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): ObjectsOptions | undefined {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        "source-s3": { type: "string" },
        "target-s3": { type: "string" },
        buckets: { type: "string" },
        map: { type: "string", multiple: true },
        prefix: { type: "string", multiple: true },
        delete: { type: "boolean" },
        strict: { type: "boolean" },
        jobs: { type: "string" },
        "part-size-mb": { type: "string" },
        "page-size": { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (err) {
    throw usageError(`${(err as Error).message}; see airbyte-migrate objects --help`);
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    process.stdout.write(OBJECTS_HELP + "\n");
    if (positionals.length === 0 && !values.help) {
      throw usageError("no objects command given: mirror or verify");
    }
    return undefined;
  }
  const [command, ...extra] = positionals;
  if (!COMMANDS.includes(command as ObjectsCommand)) {
    throw usageError(
      `unknown objects command "${command}": use mirror or verify (see objects --help)`,
    );
  }
  if (extra.length > 0) throw usageError(`unexpected argument "${extra[0]}": see objects --help`);
  if (command === "verify" && values.delete) {
    throw usageError("--delete belongs to objects mirror: verify never changes anything");
  }
  if (command === "mirror" && values.strict) {
    throw usageError("--strict belongs to objects verify: mirror with --delete removes extras");
  }
  const source = parseS3Endpoint(values["source-s3"] ?? env.SOURCE_S3_URL, "source");
  const target = parseS3Endpoint(values["target-s3"] ?? env.TARGET_S3_URL, "target");
  const buckets = resolveBuckets(values.buckets, values.map ?? []);
  if (
    source.host === target.host &&
    source.port === target.port &&
    buckets.some((b) => b.source === b.target)
  ) {
    throw usageError(
      `--source-s3 and --target-s3 are the same server and a bucket would be mirrored onto ` +
        `itself: point --target-s3 at the replica, or --map the bucket to another name`,
    );
  }
  return {
    command: command as ObjectsCommand,
    source,
    target,
    buckets,
    prefixes: resolvePrefixes(values.prefix ?? []),
    jobs: positiveInt(values.jobs, "--jobs", 4, 1, 64),
    delete: values.delete ?? false,
    strict: values.strict ?? false,
    partSize: positiveInt(values["part-size-mb"], "--part-size-mb", 16, 5, 1024) * MIB,
    pageSize: positiveInt(values["page-size"], "--page-size", 1000, 1, 1000),
    json: values.json ?? false,
  };
}
