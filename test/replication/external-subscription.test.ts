/**
 * The v2 path on three real servers: the setup Job's exact command (`setupJobArgs`, URLs and the
 * subscriber's password from the environment as the Job's Secret gives them, core-worker-01 as
 * the migration role) under a write load on prod, then core-worker-01's subscription created as
 * @pulumi/postgresql's `Subscription` creates it (the provider's statement, as its admin), from
 * the arguments components/replication-hub.ts declares. core-worker-01 is prepared as
 * ExternalDatabase leaves it; the hub and core-worker-01 serve TLS, so every URL and the
 * subscription's conninfo keep the stack's sslmode. The tests run in order on the same chain.
 */
import { Client } from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { databaseUrl } from "../../components/db-migration";
import {
  HUB_SUBSCRIBER_PASSWORD_ENV,
  HUB_URL_ENV,
  PROD_URL_ENV,
  REPLICA_URL_ENV,
  REPLICATION_NAMES,
  ReplicaSubscriptionSpec,
  replicaSubscriptionSpec,
  setupJobArgs,
} from "../../migrations/replication/job-command";
import { cliEnv, CliResult, jsonEvents, runCli } from "../migrations/cli-helpers";
import { PgServer } from "../support/postgres";
import { Load, startLoad } from "./load";
import { caughtUp, enableTls, expectSameRows, PASSWORDS, startChainServers } from "./servers";

const DATABASE = "db-airbyte";
const OWNER = "airbyte";
const MIGRATION_ROLE = "airbyte_migrate";
const SUBSCRIBER_ROLE = "airbyte_subscriber";
const OWNER_PASSWORD = "airbyte-pw-Secret5";
const MIGRATION_PASSWORD = "migrate-pw-Secret6";
// Not a generated password: a quote and a backslash exercise every layer of quoting
// (libpq conninfo, then the SQL literal the provider wraps it in).
const SUBSCRIBER_PASSWORD = "sub'pw\\Secret4";

let prod: PgServer;
let hub: PgServer;
let replica: PgServer;
let writer: Client | undefined;
let load: Load | undefined;

/** As ExternalDatabase leaves core-worker-01: roles, an empty db-airbyte, PUBLIC kept out. */
async function prepareLikeExternalDatabase(server: PgServer): Promise<void> {
  const c = await server.connect("postgres");
  try {
    await c.query(
      `CREATE ROLE ${OWNER} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION INHERIT
         PASSWORD ${c.escapeLiteral(OWNER_PASSWORD)}`,
    );
    await c.query(
      `CREATE ROLE ${MIGRATION_ROLE} LOGIN NOSUPERUSER CREATEDB NOCREATEROLE NOREPLICATION INHERIT
         PASSWORD ${c.escapeLiteral(MIGRATION_PASSWORD)}`,
    );
    await c.query(`GRANT ${OWNER} TO ${MIGRATION_ROLE}`);
    await c.query(
      `CREATE DATABASE "${DATABASE}" OWNER ${OWNER} ENCODING 'UTF8' TEMPLATE template0`,
    );
    await c.query(`REVOKE ALL ON DATABASE "${DATABASE}" FROM PUBLIC`);
    await c.query(`GRANT CONNECT ON DATABASE "${DATABASE}" TO ${MIGRATION_ROLE}`);
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  ({ prod, hub, replica } = await startChainServers());
  await Promise.all([enableTls(hub), enableTls(replica), prepareLikeExternalDatabase(replica)]);
});

afterAll(async () => {
  await load?.stop();
  await writer?.end();
  await Promise.all([prod?.stop(), hub?.stop(), replica?.stop()]);
});

/** The Job's environment, from its Secret (components/replication-hub.ts). */
function jobEnv(): NodeJS.ProcessEnv {
  const url = (s: PgServer, user: string, password: string, sslMode: "disable" | "require") =>
    databaseUrl({ host: s.host, port: s.port, user, password, sslMode });
  return cliEnv({
    // In-cluster to prod's bundled server as its superuser, without TLS.
    [PROD_URL_ENV]: url(prod, "postgres", prod.password, "disable"),
    // The hub's admin, over TLS.
    [HUB_URL_ENV]: url(hub, "postgres", hub.password, "require"),
    // core-worker-01 as the migration role (HubSubscriber.user = ExternalDatabase.migrationUser).
    [REPLICA_URL_ENV]: url(replica, MIGRATION_ROLE, MIGRATION_PASSWORD, "require"),
    [HUB_SUBSCRIBER_PASSWORD_ENV]: SUBSCRIBER_PASSWORD,
  });
}

/** The Job's container: `node migrations/bin/airbyte-migrate.js` + setupJobArgs, as v2 passes. */
function runSetupJob(): Promise<CliResult> {
  const args = setupJobArgs({
    database: DATABASE,
    replicaOwner: OWNER,
    hubSubscriberRole: SUBSCRIBER_ROLE,
    // stacks/v2.ts: `dropExisting: !replicaActive` (standby).
    dropExisting: true,
  });
  return runCli(args, jobEnv());
}

function noSecrets(text: string): void {
  for (const pw of [...Object.values(PASSWORDS), MIGRATION_PASSWORD, SUBSCRIBER_PASSWORD]) {
    expect(text).not.toContain(pw);
  }
}

function resultOf(stdout: string, kind: string): Record<string, unknown> {
  const event = jsonEvents(stdout).find((e) => e.event === "result" && e.kind === kind);
  if (!event) throw new Error(`no ${kind} result in:\n${stdout.slice(-3000)}`);
  return event.data as Record<string, unknown>;
}

/** lib/pq's QuoteIdentifier and QuoteLiteral, which the provider builds its statement with. */
function pqIdent(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}
function pqLiteral(s: string): string {
  const q = `'${s.replace(/'/g, "''")}'`;
  return s.includes("\\") ? ` E${q.replace(/\\/g, "\\\\")}` : q;
}

/**
 * What terraform-provider-postgresql's subscription Create runs (resource_postgresql_subscription
 * .go): a non-transactional `CREATE SUBSCRIPTION <ident> CONNECTION <literal> PUBLICATION
 * <idents> WITH (create_slot = <bool>[, slot_name = <literal>])` on the resource's database, as the
 * provider's user (ExternalDatabase: the admin, `postgres`).
 */
async function createAsPulumiProvider(s: ReplicaSubscriptionSpec & { slotName?: string }) {
  const params = [`create_slot = ${String(s.createSlot)}`];
  if (s.slotName !== undefined) params.push(`slot_name = ${pqLiteral(s.slotName)}`);
  const sql =
    `CREATE SUBSCRIPTION ${pqIdent(s.name)} CONNECTION ${pqLiteral(s.conninfo)} ` +
    `PUBLICATION ${s.publications.map(pqIdent).join(", ")} WITH (${params.join(", ")});`;
  const admin = await replica.connect(s.database);
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

async function one<T>(server: PgServer, db: string, sql: string, params: unknown[] = []) {
  const c = await server.connect(db);
  try {
    return (await c.query<T & Record<string, unknown>>(sql, params)).rows;
  } finally {
    await c.end();
  }
}

/** core-worker-01's `db-airbyte` ACL as `grantor>grantee:privilege`, sorted. */
async function replicaDatabaseAcl(): Promise<string[]> {
  const rows = await one<{ e: string }>(
    replica,
    "postgres",
    `SELECT pg_get_userbyid(a.grantor) || '>' ||
            CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END || ':' ||
            a.privilege_type AS e
       FROM pg_database d, aclexplode(d.datacl) a WHERE d.datname = $1 ORDER BY 1`,
    [DATABASE],
  );
  return rows.map((r) => r.e);
}

it("the setup Job's command under a write load prepares everything but the subscription", async () => {
  const acl = await replicaDatabaseAcl();
  expect(acl).toContain(`${OWNER}>${MIGRATION_ROLE}:CONNECT`);
  expect(acl.filter((e) => e.includes(">PUBLIC:"))).toEqual([]);
  writer = await prod.connect(DATABASE);
  load = startLoad(writer, 50);
  await new Promise((r) => setTimeout(r, 300));
  const job = await runSetupJob();
  expect(job.code, job.stdout + job.stderr).toBe(0);
  noSecrets(job.stdout + job.stderr);
  expect(job.stdout).toContain("left to Pulumi (--replica-subscription external)");
  const changed = resultOf(job.stdout, "setup").changed as string[];
  expect(changed.join("\n")).toContain("schema restored on the replica server");
  expect(changed.join("\n")).toContain(`created role ${SUBSCRIBER_ROLE} on the hub`);
  expect(await replicaDatabaseAcl()).toEqual(acl);

  // The Job retried before Pulumi's subscription exists (backoffLimit, or a failed `up`): it
  // replaces the schema-only database (--drop-existing) and keeps what ExternalDatabase granted.
  const retry = await runSetupJob();
  expect(retry.code, retry.stdout + retry.stderr).toBe(0);
  expect((resultOf(retry.stdout, "setup").changed as string[]).join("\n")).toContain(
    "(--drop-existing)",
  );
  expect(await replicaDatabaseAcl()).toEqual(acl);

  // core-worker-01: the schema, every relation Airbyte's role owns, no subscription.
  const owners = await one<{ kind: string; owner: string; n: string }>(
    replica,
    DATABASE,
    `SELECT c.relkind::text AS kind, pg_get_userbyid(c.relowner) AS owner, count(*)::text AS n
       FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
      WHERE s.nspname = 'public' AND c.relkind IN ('r', 'S', 'i') GROUP BY 1, 2 ORDER BY 1, 2`,
  );
  expect(owners.map((o) => o.owner)).toEqual(owners.map(() => OWNER));
  expect(owners.map((o) => o.kind)).toEqual(["S", "i", "r"]);
  const [db] = await one<{ owner: string }>(
    replica,
    "postgres",
    "SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1",
    [DATABASE],
  );
  expect(db.owner).toBe(OWNER);
  expect(await one(replica, DATABASE, "SELECT 1 FROM pg_subscription")).toHaveLength(0);
  const [replicaTables] = await one<{ n: string }>(
    replica,
    DATABASE,
    "SELECT count(*)::text AS n FROM pg_tables WHERE schemaname = 'public'",
  );

  // The hub: its publication lists every table; the subscriber role may log in, replicate and
  // read what is published, and nothing more.
  const published = await one<{ t: string }>(
    hub,
    DATABASE,
    "SELECT tablename AS t FROM pg_publication_tables WHERE pubname = $1",
    [REPLICATION_NAMES.hubPublication],
  );
  expect(published.length).toBe(Number(replicaTables.n));
  const [role] = await one<{
    login: boolean;
    repl: boolean;
    su: boolean;
    createdb: boolean;
    connect: boolean;
    unreadable: string;
  }>(
    hub,
    DATABASE,
    `SELECT rolcanlogin AS login, rolreplication AS repl, rolsuper AS su, rolcreatedb AS createdb,
            has_database_privilege(rolname, current_database(), 'CONNECT') AS connect,
            (SELECT count(*) FROM pg_publication_tables p
              WHERE p.pubname = $2
                AND NOT has_table_privilege(rolname, format('%I.%I', p.schemaname, p.tablename),
                                            'SELECT'))::text AS unreadable
       FROM pg_roles WHERE rolname = $1`,
    [SUBSCRIBER_ROLE, REPLICATION_NAMES.hubPublication],
  );
  expect(role).toEqual({
    login: true,
    repl: true,
    su: false,
    createdb: false,
    connect: true,
    unreadable: "0",
  });
}, 60_000);

it("Pulumi's subscription completes the chain: every committed row arrives, status and check-schema agree", async () => {
  const spec = replicaSubscriptionSpec({
    hubHost: hub.host,
    hubPort: hub.port,
    database: DATABASE,
    subscriberRole: SUBSCRIBER_ROLE,
    subscriberPassword: SUBSCRIBER_PASSWORD,
    // ReplicationHubArgs.subscriptionSslMode's default.
    sslMode: "require",
  });
  await createAsPulumiProvider(spec);
  // Prod keeps writing while core-worker-01 copies and catches up.
  await new Promise((r) => setTimeout(r, 1500));
  await load?.stop();
  await writer?.end();
  expect(load?.error).toBeUndefined();
  const committed = load?.committed ?? [];
  load = undefined;
  writer = undefined;
  expect(committed.length).toBeGreaterThan(50);
  await caughtUp(prod, replica, 30_000);

  const ids = committed.map((c) => c.jobId);
  const [present] = await one<{ n: string }>(
    replica,
    DATABASE,
    "SELECT count(*)::text AS n FROM jobs WHERE id = ANY($1::int8[])",
    [ids],
  );
  expect(Number(present.n)).toBe(ids.length);
  await expectSameRows(prod, replica);

  // The subscription went over TLS, as the subscriber role.
  const [conn] = await one<{ usename: string; ssl: boolean }>(
    hub,
    "postgres",
    `SELECT r.usename, s.ssl FROM pg_stat_replication r JOIN pg_stat_ssl s ON s.pid = r.pid
      WHERE r.application_name = $1`,
    [REPLICATION_NAMES.replicaSubscription],
  );
  expect(conn).toEqual({ usename: SUBSCRIBER_ROLE, ssl: true });

  const status = await runCli(["sync", "status", "--json"], jobEnv());
  expect(status.code, status.stdout + status.stderr).toBe(0);
  noSecrets(status.stdout + status.stderr);
  const data = resultOf(status.stdout, "status") as {
    hops: { hop: string; problems: string[] }[];
    tables: { table: string; prod: number; hub: number; replica: number }[];
  };
  expect(data.hops.map((h) => [h.hop, h.problems])).toEqual([
    ["prod -> hub", []],
    ["hub -> core-worker-01", []],
  ]);
  for (const t of data.tables) expect([t.hub, t.replica], t.table).toEqual([t.prod, t.prod]);

  const check = await runCli(["sync", "check-schema"], jobEnv());
  expect(check.code, check.stdout + check.stderr).toBe(0);
}, 60_000);

it("re-running the Job's command with the subscription in place changes nothing", async () => {
  const before = await one<{ oid: string; slot: string; enabled: boolean }>(
    replica,
    DATABASE,
    "SELECT oid::text, subslotname AS slot, subenabled AS enabled FROM pg_subscription",
  );
  const again = await runSetupJob();
  expect(again.code, again.stdout + again.stderr).toBe(0);
  expect(resultOf(again.stdout, "setup").changed).toEqual([]);
  expect(
    await one(
      replica,
      DATABASE,
      "SELECT oid::text, subslotname AS slot, subenabled AS enabled FROM pg_subscription",
    ),
  ).toEqual(before);
  // Still replicating.
  const p = await prod.connect(DATABASE);
  try {
    await p.query(
      `INSERT INTO jobs (config_type, scope, status, created_at) VALUES ('sync', 'after-rerun',
         'pending', now())`,
    );
  } finally {
    await p.end();
  }
  await caughtUp(prod, replica, 15_000);
}, 60_000);

it("after failover --force, Airbyte's role reads and writes on core-worker-01", async () => {
  // The Job's migration role does not own Pulumi's subscription: refused before any change.
  const refused = await runCli(["failover", "--force"], jobEnv());
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain(
    `user "${MIGRATION_ROLE}" may not stop subscription airbyte_replica_sub`,
  );
  expect(refused.stderr).toContain('it belongs to "postgres"');
  expect(await one(replica, DATABASE, "SELECT subenabled FROM pg_subscription")).toEqual([
    { subenabled: true },
  ]);

  // The runbook's way: core-worker-01's admin (the role Pulumi's provider uses); no
  // --airbyte-url, so the API step is printed instead of run.
  const adminEnv = {
    ...jobEnv(),
    [REPLICA_URL_ENV]: databaseUrl({
      host: replica.host,
      port: replica.port,
      user: "postgres",
      password: replica.password,
      sslMode: "require",
    }),
  };
  const result = await runCli(["failover", "--force", "--json"], adminEnv);
  expect(result.code, result.stdout + result.stderr).toBe(0);
  noSecrets(result.stdout + result.stderr);
  const data = resultOf(result.stdout, "failover") as {
    subscriptionDropped: boolean;
    hubSlotDropped: boolean;
    verified: boolean;
    remainingSteps: string[];
  };
  expect(data).toMatchObject({ subscriptionDropped: true, hubSlotDropped: true, verified: true });
  expect(data.remainingSteps.join("\n")).toContain("re-arm scheduling");
  expect(await one(replica, DATABASE, "SELECT 1 FROM pg_subscription")).toHaveLength(0);
  expect(
    await one(hub, DATABASE, "SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", [
      REPLICATION_NAMES.replicaSubscription,
    ]),
  ).toHaveLength(0);

  const airbyte = new Client({
    host: replica.host,
    port: replica.port,
    user: OWNER,
    password: OWNER_PASSWORD,
    database: DATABASE,
    ssl: { rejectUnauthorized: false },
  });
  await airbyte.connect();
  try {
    const { rows: maxRows } = await airbyte.query<{ m: string }>(
      "SELECT max(id)::text AS m FROM jobs",
    );
    const { rows: job } = await airbyte.query<{ id: string }>(
      `INSERT INTO jobs (config_type, scope, status, created_at) VALUES ('sync', 'after-failover',
         'pending', now()) RETURNING id::text`,
    );
    expect(BigInt(job[0].id)).toBeGreaterThan(BigInt(maxRows[0].m));
    await airbyte.query(
      "INSERT INTO attempts (job_id, attempt_number, status) VALUES ($1, 0, 'running')",
      [job[0].id],
    );
    await airbyte.query("UPDATE jobs SET status = 'succeeded' WHERE id = $1", [job[0].id]);
    await airbyte.query("DELETE FROM stream_reset WHERE stream_name LIKE 'load-%'");
    // Flyway's next migration: DDL on its own tables.
    await airbyte.query("ALTER TABLE jobs ADD COLUMN after_failover_probe integer");
  } finally {
    await airbyte.end();
  }
}, 60_000);
