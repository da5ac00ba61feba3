/**
 * Server-level checks and target database preparation: versions, which databases exist,
 * whether a target database is empty, half-copied (checkpoints) or full, creating and dropping.
 */
import type { Client } from "pg";
import { countUserRelations, hasCheckpointSchema, serverMajor, serverVersion } from "./catalog";
import { connect, describe, Endpoint, ident } from "./endpoint";
import { MigrateError, pgErrorInfo } from "./errors";

export interface ServerInfo {
  version: string;
  major: number;
}

export async function serverInfo(client: Client): Promise<ServerInfo> {
  return { version: await serverVersion(client), major: await serverMajor(client) };
}

/** Refuse a target whose major is older than the source's (a dump may not load there). */
export function checkMajors(
  source: ServerInfo,
  target: ServerInfo,
  sourceEp: Endpoint,
  targetEp: Endpoint,
): void {
  // Catalog columns and hash functions this tool reads appeared in PostgreSQL 12.
  if (source.major < 12) {
    throw new MigrateError(
      `the ${describe(sourceEp)} runs PostgreSQL ${source.version}; airbyte-migrate needs 12 or ` +
        `newer: upgrade it in place first, or copy it with pg_dump/pg_restore`,
    );
  }
  if (target.major < source.major) {
    throw new MigrateError(
      `the ${describe(targetEp)} runs PostgreSQL ${target.version}, older than the source ` +
        `(${source.version}): use a target server of major ${source.major} or newer`,
    );
  }
}

export async function existingDatabases(admin: Client, names: string[]): Promise<Set<string>> {
  const { rows } = await admin.query<{ datname: string }>(
    "SELECT datname FROM pg_database WHERE datname = ANY($1)",
    [names],
  );
  return new Set(rows.map((r) => r.datname));
}

export async function requireSourceDatabases(
  admin: Client,
  ep: Endpoint,
  names: string[],
): Promise<void> {
  const found = await existingDatabases(admin, names);
  const missing = names.filter((n) => !found.has(n));
  if (missing.length > 0) {
    throw new MigrateError(
      `database(s) ${missing.map((m) => `"${m}"`).join(", ")} do not exist on the ${describe(ep)}: ` +
        `choose the databases to copy with --databases (and rename with --map, e.g. ` +
        `--map airbyte=db-airbyte for a docker-compose source)`,
    );
  }
}

export type TargetState = "absent" | "empty" | "checkpoints" | "data";

export async function targetState(
  ep: Endpoint,
  admin: Client,
  database: string,
): Promise<{ state: TargetState; relations: number }> {
  if ((await existingDatabases(admin, [database])).size === 0)
    return { state: "absent", relations: 0 };
  const client = await connect(ep, database);
  try {
    const relations = await countUserRelations(client);
    if (await hasCheckpointSchema(client)) return { state: "checkpoints", relations };
    return { state: relations > 0 ? "data" : "empty", relations };
  } finally {
    await client.end();
  }
}

function privilegeError(err: unknown, ep: Endpoint, action: string, fix: string): MigrateError {
  const { code, message } = pgErrorInfo(err);
  if (code === "42501") {
    return new MigrateError(
      `user "${ep.user}" may not ${action} on the ${describe(ep)} (${message}): ${fix}`,
    );
  }
  return new MigrateError(`could not ${action} on the ${describe(ep)}: ${message}`);
}

/** Create a target database with the source's encoding (and locale when the target has it). */
export async function createDatabase(
  admin: Client,
  ep: Endpoint,
  name: string,
  like: { encoding: string; collate: string; ctype: string },
  owner?: string,
): Promise<void> {
  const base =
    `CREATE DATABASE ${ident(name)} TEMPLATE template0 ENCODING '${like.encoding}'` +
    (owner === undefined ? "" : ` OWNER ${ident(owner)}`);
  const fix =
    owner === undefined
      ? `ALTER ROLE "${ep.user}" CREATEDB, or create database "${name}" owned by "${ep.user}" beforehand`
      : `ALTER ROLE "${ep.user}" CREATEDB and GRANT "${owner}" TO "${ep.user}"`;
  try {
    try {
      await admin.query(`${base} LC_COLLATE '${like.collate}' LC_CTYPE '${like.ctype}'`);
    } catch (err) {
      // The source's locale may not exist on the target machine: its default locale then.
      if (pgErrorInfo(err).code !== "22023") throw err;
      await admin.query(base);
    }
  } catch (err) {
    throw privilegeError(err, ep, `create database "${name}"`, fix);
  }
}

/** Owner of a database, or undefined when it does not exist. */
export async function databaseOwner(admin: Client, name: string): Promise<string | undefined> {
  const { rows } = await admin.query<{ owner: string }>(
    "SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1",
    [name],
  );
  return rows[0]?.owner;
}

export async function dropDatabase(
  admin: Client,
  ep: Endpoint,
  name: string,
  force = true,
): Promise<void> {
  if (name === ep.maintenanceDb) {
    throw new MigrateError(
      `cannot drop "${name}": it is the database of ${ep.origin}; ` +
        `point that URL at another database, e.g. /postgres`,
    );
  }
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${ident(name)}${force ? " WITH (FORCE)" : ""}`);
  } catch (err) {
    throw privilegeError(err, ep, `drop database "${name}"`, `run as its owner or a superuser`);
  }
}

export async function databaseLocale(
  admin: Client,
  name: string,
): Promise<{ encoding: string; collate: string; ctype: string }> {
  const { rows } = await admin.query<{ encoding: string; collate: string; ctype: string }>(
    `SELECT pg_encoding_to_char(encoding) AS encoding, datcollate AS collate, datctype AS ctype
       FROM pg_database WHERE datname = $1`,
    [name],
  );
  return rows[0];
}
