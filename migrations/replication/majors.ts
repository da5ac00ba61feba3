/**
 * PostgreSQL's rules per major that the v2 chain depends on, checked before anything relies on
 * them (each rule from that major's documentation):
 * - CREATE SUBSCRIPTION: superuser only up to 15 ("Logical Replication, Security"); from 16 the
 *   privileges of the predefined role pg_create_subscription plus CREATE on the database
 *   (CREATE SUBSCRIPTION, 16+).
 * With `coreWorkerAdminSuperuser=false`, Pulumi's provider creates core-worker-01's subscription
 * as coreWorkerAdminUser, so the setup Job (which runs first) checks that role.
 */
import type { Client } from "pg";
import { majorOf } from "./chain";

/** Why `role` cannot create a subscription in `database`, with the fix; or nothing. */
export async function subscriptionCreatorProblem(
  client: Client,
  role: string,
  database: string,
): Promise<string | undefined> {
  const major = await majorOf(client);
  const { rows } = await client.query<{ exists: boolean; sup: boolean; db: string }>(
    `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) AS exists,
            coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = $1), false) AS sup,
            $2::text AS db`,
    [role, database],
  );
  const { exists, sup, db } = rows[0];
  const who =
    `core-worker-01's subscription is created by Pulumi's provider as "${role}" ` +
    `(coreWorkerAdminUser, with coreWorkerAdminSuperuser=false)`;
  if (!exists)
    return `${who}, and no role "${role}" exists on core-worker-01: fix coreWorkerAdminUser`;
  if (sup) return undefined;
  if (major < 16) {
    return (
      `${who}, but PostgreSQL ${major} allows CREATE SUBSCRIPTION only to superusers: set ` +
      `coreWorkerAdminUser to a superuser and coreWorkerAdminSuperuser=true, or move ` +
      `core-worker-01 to PostgreSQL 16 or later`
    );
  }
  const { rows: p } = await client.query<{ member: boolean; create: boolean }>(
    `SELECT pg_has_role($1, 'pg_create_subscription', 'USAGE') AS member,
            has_database_privilege($1, $2, 'CREATE') AS create`,
    [role, database],
  );
  const missing: string[] = [];
  if (!p[0].member) missing.push(`GRANT pg_create_subscription TO "${role}"`);
  if (!p[0].create) missing.push(`GRANT CREATE ON DATABASE "${db}" TO "${role}"`);
  if (missing.length === 0) return undefined;
  return (
    `${who}, and PostgreSQL ${major} lets a non-superuser create one only with the privileges ` +
    `of pg_create_subscription and CREATE on "${db}": as a superuser (or your provider's ` +
    `admin role) run ${missing.join("; ")} (coreWorkerAdminSuperuser)`
  );
}
