/**
 * Server endpoints (source and target): parsing and validation of the URL given by flag or
 * environment variable, connection settings for `pg` and for libpq tools, and connecting with
 * errors that say what to fix.
 */
import { Client, ClientConfig } from "pg";
import { MigrateError, pgErrorInfo, usageError } from "./errors";
import { registerSecret } from "./redact";

/** Which server an endpoint is: copy's two sides, or the three servers of the replication chain. */
export type Side = "source" | "target" | "prod" | "hub" | "replica";

/** The flag and environment variable that give each side's URL. */
const ORIGINS: Record<Side, { flag: string; env: string }> = {
  source: { flag: "--source", env: "SOURCE_DATABASE_URL" },
  target: { flag: "--target", env: "TARGET_DATABASE_URL" },
  prod: { flag: "--prod-url", env: "PROD_DATABASE_URL" },
  hub: { flag: "--hub-url", env: "HUB_DATABASE_URL" },
  replica: { flag: "--replica-url", env: "REPLICA_DATABASE_URL" },
};

export interface Endpoint {
  side: Side;
  host: string;
  port: number;
  user: string;
  password: string;
  /** Database used for server-level queries (listing and creating databases). */
  maintenanceDb: string;
  sslmode?: string;
  /** How the user gave it, for messages: `--source / SOURCE_DATABASE_URL`. */
  origin: string;
  /**
   * Role every session switches to after connecting (`SET ROLE`, pg_restore `--role`), so what
   * it creates belongs to that role (--owner). Unset on the maintenance connection, which needs
   * the login role's own CREATEDB.
   */
  sessionRole?: string;
}

const SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"];
const EXAMPLE = "postgres://USER:PASSWORD@HOST:5432/postgres";

export function envVarFor(side: Side): string {
  return ORIGINS[side].env;
}

/** Parse and validate a postgres:// URL for one side. */
export function parseEndpoint(raw: string | undefined, side: Side): Endpoint {
  const { flag, env } = ORIGINS[side];
  const origin = `${flag} / ${env}`;
  if (!raw) {
    throw usageError(`no ${side} server given: pass ${flag} ${EXAMPLE} or set ${env}`);
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw usageError(`${origin} is not a valid URL: expected ${EXAMPLE}`);
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    throw usageError(
      `${origin} must start with postgres:// or postgresql:// (got ${url.protocol}//): ` +
        `expected ${EXAMPLE}`,
    );
  }
  const password = decodeURIComponent(url.password);
  registerSecret(password);
  if (!url.hostname) throw usageError(`${origin} has no host: expected ${EXAMPLE}`);
  if (!url.username) {
    throw usageError(`${origin} has no user name: put it before the host, as in ${EXAMPLE}`);
  }
  const params = [...url.searchParams.keys()];
  const unknown = params.filter((p) => p !== "sslmode");
  if (unknown.length > 0) {
    throw usageError(
      `${origin} has unsupported parameter(s) ${unknown.join(", ")}: only sslmode is understood`,
    );
  }
  const sslmode = url.searchParams.get("sslmode") ?? undefined;
  if (sslmode !== undefined && !SSL_MODES.includes(sslmode)) {
    throw usageError(`${origin} has sslmode=${sslmode}: use one of ${SSL_MODES.join(", ")}`);
  }
  const maintenanceDb = decodeURIComponent(url.pathname.replace(/^\//, "")) || "postgres";
  return {
    side,
    // URL keeps IPv6 literals in brackets; libpq and net want them bare.
    host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: url.port ? Number(url.port) : 5432,
    user: decodeURIComponent(url.username),
    password,
    maintenanceDb,
    sslmode,
    origin,
  };
}

/** `source server db.example:5432`: how messages name a server (never with the password). */
export function describe(ep: Endpoint): string {
  return `${ep.side} server ${ep.host}:${ep.port}`;
}

function sslConfig(mode: string | undefined): ClientConfig["ssl"] {
  switch (mode) {
    case "require":
      return { rejectUnauthorized: false };
    case "verify-ca":
    case "verify-full":
      return { rejectUnauthorized: true };
    default:
      // disable, and allow/prefer: node-postgres cannot fall back, so these connect without TLS.
      return false;
  }
}

export function clientConfig(ep: Endpoint, database: string): ClientConfig {
  return {
    host: ep.host,
    port: ep.port,
    user: ep.user,
    password: ep.password,
    database,
    ssl: sslConfig(ep.sslmode),
    application_name: "airbyte-migrate",
    connectionTimeoutMillis: 15_000,
    keepAlive: true,
  };
}

/** Environment for libpq programs (pg_dump, pg_restore): no password on any command line. */
export function libpqEnv(ep: Endpoint, database: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith("PG")) delete env[k];
  return {
    ...env,
    PGHOST: ep.host,
    PGPORT: String(ep.port),
    PGUSER: ep.user,
    PGPASSWORD: ep.password,
    PGDATABASE: database,
    PGAPPNAME: "airbyte-migrate",
    PGCONNECT_TIMEOUT: "15",
    ...(ep.sslmode ? { PGSSLMODE: ep.sslmode } : {}),
  };
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

/** Turn a connection failure into a message naming the problem and the fix. */
export function connectionError(err: unknown, ep: Endpoint, database: string): MigrateError {
  const { code, message } = pgErrorInfo(err);
  const where = describe(ep);
  if ((code && UNREACHABLE.has(code)) || /timeout/i.test(message)) {
    return new MigrateError(
      `cannot reach the ${where} (${code ?? message}): check the host and port in ${ep.origin}, ` +
        `that the server is running and that it accepts TCP connections from this machine`,
    );
  }
  if (code === "28P01") {
    return new MigrateError(
      `the ${where} rejected the password of user "${ep.user}": fix the password in ${ep.origin}`,
    );
  }
  if (code === "28000") {
    return new MigrateError(
      `the ${where} refused user "${ep.user}" (${message}): check the user in ${ep.origin} ` +
        `and the server's pg_hba.conf`,
    );
  }
  if (code === "3D000") {
    return new MigrateError(
      `database "${database}" does not exist on the ${where}: check --databases and --map ` +
        `(or the database in ${ep.origin}), or create it`,
    );
  }
  if (code === "42501") {
    return new MigrateError(
      `user "${ep.user}" may not connect to database "${database}" on the ${where} (${message}): ` +
        `GRANT CONNECT ON DATABASE "${database}" TO "${ep.user}"`,
    );
  }
  return new MigrateError(`connecting to database "${database}" on the ${where}: ${message}`);
}

/** Connect to `database` on an endpoint; failures become a MigrateError. */
export async function connect(ep: Endpoint, database: string): Promise<Client> {
  const client = new Client(clientConfig(ep, database));
  // A dropped connection must surface as the failing query's error, not crash the process.
  client.on("error", () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw connectionError(err, ep, database);
  }
  if (ep.sessionRole !== undefined) {
    try {
      await client.query(`SET ROLE ${ident(ep.sessionRole)}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw new MigrateError(
        `user "${ep.user}" cannot act as role "${ep.sessionRole}" (--owner) on the ${describe(ep)} ` +
          `(${pgErrorInfo(err).message}): GRANT "${ep.sessionRole}" TO "${ep.user}"`,
      );
    }
  }
  return client;
}

/** Quote an SQL identifier. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `"schema"."table"` */
export function qualified(schema: string, name: string): string {
  return `${ident(schema)}.${ident(name)}`;
}
