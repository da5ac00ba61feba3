/**
 * core-worker-01 with `coreWorkerAdminSuperuser=false` (a managed server's admin: CREATEROLE and
 * CREATEDB, no SUPERUSER), on real PostgreSQL 15 and 17, as a real non-superuser:
 * - the statements Pulumi's provider runs for ExternalDatabase (cyrilgdn/terraform-provider-postgresql
 *   at the commit @pulumi/postgresql 3.18 builds, ff936b9: a database grant runs
 *   `REVOKE ALL PRIVILEGES ON DATABASE ... FROM public` with no role granted around it, and
 *   `CREATE DATABASE ... OWNER` borrows the owner's membership only when the admin lacks it):
 *   without the admin's own membership in the owner the REVOKE only warns and PUBLIC keeps
 *   CONNECT; with it (ExternalDatabase's `admin-member` GrantRole) PUBLIC loses CONNECT;
 * - CREATE SUBSCRIPTION: superuser only on 15; on 16+ members of pg_create_subscription with
 *   CREATE on the database. `subscriptionCreatorProblem` says so before Pulumi tries.
 */
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { subscriptionCreatorProblem } from "../../migrations/replication/majors";
import { PgServer, startPostgres } from "../support/postgres";

const ADMIN = "cw_admin";
const ADMIN_PW = "cw-admin-pw-7Qx";

async function asAdmin(server: PgServer, database = "postgres"): Promise<Client> {
  const c = new Client({ connectionString: server.url(database, ADMIN, ADMIN_PW) });
  c.on("notice", () => undefined);
  await c.connect();
  return c;
}

/** PUBLIC's CONNECT on a database, as has_database_privilege sees it. */
async function publicConnects(server: PgServer, database: string): Promise<boolean> {
  const c = await server.connect();
  try {
    const { rows } = await c.query<{ ok: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM pg_database d, aclexplode(coalesce(d.datacl,
                acldefault('d', d.datdba))) a
               WHERE d.datname = $1 AND a.grantee = 0 AND a.privilege_type = 'CONNECT') AS ok`,
      [database],
    );
    return rows[0].ok;
  } finally {
    await c.end();
  }
}

describe.each([15, 17] as const)("PostgreSQL %i, admin without SUPERUSER", (major) => {
  let server: PgServer;

  beforeAll(async () => {
    server = await startPostgres({ major, settings: { wal_level: "logical" } });
    const c = await server.connect();
    await c.query(`CREATE ROLE ${ADMIN} LOGIN CREATEROLE CREATEDB PASSWORD '${ADMIN_PW}'`);
    await c.end();
    const a = await asAdmin(server);
    await a.query("CREATE ROLE airbyte LOGIN PASSWORD 'x'");
    // The provider's CREATE DATABASE for a non-superuser: borrow the owner's membership.
    for (const db of ["without_member", "with_member"]) {
      await a.query("GRANT airbyte TO " + ADMIN);
      await a.query(`CREATE DATABASE ${db} OWNER airbyte TEMPLATE template0`);
      await a.query("REVOKE airbyte FROM " + ADMIN);
    }
    await a.end();
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
  });

  it("REVOKE of PUBLIC only warns unless the admin is a member of the owner", async () => {
    const a = await asAdmin(server);
    const warnings: string[] = [];
    a.on("notice", (n) => warnings.push(n.message ?? ""));
    try {
      await a.query("REVOKE ALL PRIVILEGES ON DATABASE without_member FROM public");
      expect(warnings.join(" ")).toMatch(/no privileges could be revoked/);
      expect(await publicConnects(server, "without_member")).toBe(true);

      // ExternalDatabase's GrantRole: the admin stays a member of the owner.
      await a.query(`GRANT airbyte TO ${ADMIN}`);
      await a.query("REVOKE ALL PRIVILEGES ON DATABASE with_member FROM public");
      expect(await publicConnects(server, "with_member")).toBe(false);
    } finally {
      await a.end();
    }
  });

  it("CREATE SUBSCRIPTION: the rule of this major, checked before Pulumi tries", async () => {
    const admin = await server.connect("with_member");
    const create = async () => {
      const a = await asAdmin(server, "with_member");
      try {
        await a.query(
          `CREATE SUBSCRIPTION probe_sub CONNECTION 'host=127.0.0.1 dbname=x password=y'
             PUBLICATION p WITH (connect = false, slot_name = NONE)`,
        );
        await a.query("DROP SUBSCRIPTION probe_sub");
      } finally {
        await a.end();
      }
    };
    try {
      const problem = await subscriptionCreatorProblem(admin, ADMIN, "with_member");
      await expect(create()).rejects.toThrow(
        /must be superuser|permission denied to create subscription/,
      );
      expect(problem).toContain("coreWorkerAdminSuperuser");
      if (major === 15) {
        expect(problem).toContain("PostgreSQL 15 allows CREATE SUBSCRIPTION only to superusers");
        return;
      }
      expect(problem).toContain(`GRANT pg_create_subscription TO "${ADMIN}"`);
      await admin.query(`GRANT pg_create_subscription TO ${ADMIN}`);
      await admin.query(`GRANT CREATE ON DATABASE with_member TO ${ADMIN}`);
      expect(await subscriptionCreatorProblem(admin, ADMIN, "with_member")).toBeUndefined();
      await create();
    } finally {
      await admin.end();
    }
  });
});
