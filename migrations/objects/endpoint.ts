/**
 * S3 endpoints of `objects mirror|verify`: one URL per side carrying the credentials, so a job
 * needs one Secret key per side (like the database URLs) and nothing secret is ever a separate
 * flag. Parsing, validation, the MinIO client, and S3 errors turned into messages naming the fix.
 */
import * as Minio from "minio";
import { MigrateError, usageError } from "../lib/errors";
import { registerSecret } from "../lib/redact";

export type Side = "source" | "target";

export interface S3Endpoint {
  side: Side;
  useSSL: boolean;
  host: string;
  port: number;
  accessKey: string;
  secretKey: string;
  region: string;
  pathStyle: boolean;
  /** How the user gave it, for messages: `--source-s3 / SOURCE_S3_URL`. */
  origin: string;
}

const EXAMPLE = "http://ACCESS_KEY:SECRET_KEY@airbyte-minio.airbyte-prod.svc.cluster.local:9000";
const PARAMS = ["region", "path-style"];
/** MinIO ignores the region, but SigV4 signs one; this is what MinIO and Airbyte default to. */
const DEFAULT_REGION = "us-east-1";

export function envVarFor(side: Side): string {
  return side === "source" ? "SOURCE_S3_URL" : "TARGET_S3_URL";
}

export function flagFor(side: Side): string {
  return `--${side}-s3`;
}

function decoded(part: string, what: string, origin: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw usageError(`${origin} has a malformed ${what}: percent-encode '%' as %25`);
  }
}

/** Parse and validate an http(s):// S3 URL with credentials for one side. */
export function parseS3Endpoint(raw: string | undefined, side: Side): S3Endpoint {
  const origin = `${flagFor(side)} / ${envVarFor(side)}`;
  if (!raw) {
    throw usageError(
      `no ${side} S3 server given: pass ${flagFor(side)} ${EXAMPLE} or set ${envVarFor(side)}`,
    );
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw usageError(`${origin} is not a valid URL: expected ${EXAMPLE}`);
  }
  // Registered before any further check, so no later message can show it.
  const secretKey = decoded(url.password, "secret key", origin);
  registerSecret(secretKey);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw usageError(
      `${origin} must start with http:// or https:// (got ${url.protocol}//): expected ${EXAMPLE}`,
    );
  }
  if (!url.hostname) throw usageError(`${origin} has no host: expected ${EXAMPLE}`);
  if (!url.username || !url.password) {
    throw usageError(
      `${origin} has no access key and secret key: put them before the host, as in ${EXAMPLE} ` +
        `(percent-encode '/', '+', ':' and '@' in them)`,
    );
  }
  if (url.pathname !== "/" && url.pathname !== "") {
    throw usageError(
      `${origin} has a path (${url.pathname}): give only scheme, credentials, host and port; ` +
        `name buckets with --buckets`,
    );
  }
  const unknown = [...url.searchParams.keys()].filter((p) => !PARAMS.includes(p));
  if (unknown.length > 0) {
    throw usageError(
      `${origin} has unsupported parameter(s) ${unknown.join(", ")}: only ${PARAMS.join(" and ")} are understood`,
    );
  }
  const pathStyleParam = url.searchParams.get("path-style") ?? "true";
  if (pathStyleParam !== "true" && pathStyleParam !== "false") {
    throw usageError(`${origin} has path-style=${pathStyleParam}: use true (MinIO) or false`);
  }
  const region = url.searchParams.get("region") ?? DEFAULT_REGION;
  if (!/^[a-z0-9-]{1,64}$/.test(region)) {
    throw usageError(`${origin} has region=${region}: use a region name such as ${DEFAULT_REGION}`);
  }
  const useSSL = url.protocol === "https:";
  return {
    side,
    useSSL,
    host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: url.port ? Number(url.port) : useSSL ? 443 : 80,
    accessKey: decoded(url.username, "access key", origin),
    secretKey,
    region,
    pathStyle: pathStyleParam === "true",
    origin,
  };
}

/** `source S3 server minio:9000`: how messages name a server (never with credentials). */
export function describeS3(ep: S3Endpoint): string {
  return `${ep.side} S3 server ${ep.host}:${ep.port}`;
}

export function s3Client(ep: S3Endpoint, partSize: number): Minio.Client {
  return new Minio.Client({
    endPoint: ep.host,
    port: ep.port,
    useSSL: ep.useSSL,
    accessKey: ep.accessKey,
    secretKey: ep.secretKey,
    region: ep.region,
    pathStyle: ep.pathStyle,
    partSize,
    // The client's own retries would hide an unreachable server for minutes; a failed object is
    // counted and the next run (the CronJob's next tick) picks it up again.
    retryOptions: { disableRetry: true },
  });
}

const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "ECONNRESET",
]);

/** The S3 error code (`NoSuchBucket`) or system error code (`ECONNREFUSED`) of an error. */
export function errorCode(err: unknown): string | undefined {
  if (err instanceof Error) {
    const code = (err as Error & { code?: unknown }).code;
    if (typeof code === "string") return code;
  }
  return undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Turn a failure while talking to `ep` into a message naming the problem and the fix. `bucket`
 * is the bucket in use, for NoSuchBucket.
 */
export function s3Error(
  err: unknown,
  ep: S3Endpoint,
  action: string,
  bucket?: string,
): MigrateError {
  if (err instanceof MigrateError) return err;
  if (err instanceof Minio.InvalidBucketNameError) {
    return new MigrateError(
      `${bucket === undefined ? "a bucket" : `"${bucket}"`} is not a valid bucket name (3 to 63 ` +
        `lowercase letters, digits, '.' and '-'): fix --buckets or --map`,
      2,
    );
  }
  const code = errorCode(err);
  const where = describeS3(ep);
  if (code && UNREACHABLE.has(code)) {
    return new MigrateError(
      `cannot reach the ${where} while ${action} (${code}): check the scheme, host and port in ` +
        `${ep.origin} and that the server is running`,
    );
  }
  if (code === "InvalidAccessKeyId" || code === "SignatureDoesNotMatch") {
    return new MigrateError(
      `the ${where} rejected the credentials while ${action} (${code}): fix the access key ` +
        `and secret key in ${ep.origin}`,
    );
  }
  if (code === "AccessDenied") {
    return new MigrateError(
      `the ${where} denied ${action} (AccessDenied): the access key in ${ep.origin} needs ` +
        (ep.side === "source" ? "list and read rights" : "list, read, write and delete rights"),
    );
  }
  if (code === "NoSuchBucket" && bucket !== undefined) {
    return new MigrateError(
      `bucket "${bucket}" does not exist on the ${where}: check --buckets and --map`,
    );
  }
  return new MigrateError(`${action} on the ${where}: ${code ? `${code}: ` : ""}${messageOf(err)}`);
}
