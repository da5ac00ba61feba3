/**
 * A stand-in for what `pulumi up` does on a PostgreSQL server through pulumi-postgresql 3.18.1,
 * for the recorded graphs of two program runs: the engine's part (create what is new, delete what
 * is gone, dependents first; forget instead of delete what is `retainOnDelete`) and the
 * provider's SQL for the resource types the program uses. Only what the program uses is modelled;
 * any other `postgresql:` type fails.
 *
 * Provider facts (pulumi/pulumi-postgresql v3.18.x wraps cyrilgdn/terraform-provider-postgresql
 * at submodule commit ff936b9, "Upgrade terraform-provider-postgresql to v1.27.0" #974; files
 * under postgresql/ at that commit):
 * - Role create (resource_postgresql_role.go, resourcePostgreSQLRoleCreate): `CREATE ROLE` with
 *   the attribute keywords and `PASSWORD`, then `GRANT <role> TO <name>` for `roles`; no check
 *   for an existing role, so an existing one fails the create.
 * - Role delete (resourcePostgreSQLRoleDelete): one transaction on the provider's connection
 *   database (`startTransaction(db.client, "")`): `REASSIGN OWNED BY <role> TO <admin>`,
 *   `DROP OWNED BY <role>`, `DROP ROLE <role>`; both OWNED statements act on the current
 *   database (and shared objects) only.
 * - Database create (resource_postgresql_database.go, createDatabase): `CREATE DATABASE <name>
 *   OWNER <owner> TEMPLATE <t> ENCODING <e> ...`; an existing database fails the create.
 * - Database delete (resourcePostgreSQLDatabaseDelete): terminate its connections, `DROP
 *   DATABASE <name> WITH ( FORCE )` on PostgreSQL 13+.
 * - Grant on a database (resource_postgresql_grant.go): create = one transaction on that
 *   database revoking the role's privileges then `GRANT <privs> ON DATABASE ... TO <role>`;
 *   delete = the revoke (createRevokeQuery).
 */
import type { Client } from "pg";
import type { RecordedResource } from "../../infra/mock-runtime";
import type { PgServer } from "./postgres";

export type State = Map<string, RecordedResource>;

const q = (id: string) => `"${id.replace(/"/g, '""')}"`;
const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;
const grantee = (role: string) => (role.toLowerCase() === "public" ? "PUBLIC" : q(role));

const MODELLED = new Set([
  "postgresql:index/role:Role",
  "postgresql:index/database:Database",
  "postgresql:index/grant:Grant",
]);

/** What happened to each resource of one `up`, for assertions. */
export interface Step {
  op: "create" | "delete" | "forget";
  name: string;
}

/** The postgresql resources of a run, in dependency order (dependencies first). */
function ordered(resources: RecordedResource[]): RecordedResource[] {
  const pg = resources.filter((r) => r.type.startsWith("postgresql:index/"));
  for (const r of pg) if (!MODELLED.has(r.type)) throw new Error(`not modelled: ${r.type}`);
  const byUrn = new Map(pg.map((r) => [r.urn, r]));
  const out: RecordedResource[] = [];
  const seen = new Set<string>();
  const visit = (r: RecordedResource) => {
    if (seen.has(r.urn)) return;
    seen.add(r.urn);
    for (const d of r.dependencies) {
      const dep = byUrn.get(d);
      if (dep) visit(dep);
    }
    out.push(r);
  };
  pg.forEach(visit);
  return out;
}

export class ProviderStandIn {
  readonly steps: Step[] = [];
  constructor(
    private readonly server: PgServer,
    private readonly admin = "postgres",
  ) {}

  /** One `pulumi up` from `state` to the program run `next`; returns the new state. */
  async up(state: State, next: RecordedResource[]): Promise<State> {
    const wanted = ordered(next);
    const wantedUrns = new Set(wanted.map((r) => r.urn));
    const result: State = new Map(state);
    // Deletes first, dependents before what they depend on (the engine's reverse order).
    const gone = ordered([...state.values()]).filter((r) => !wantedUrns.has(r.urn));
    for (const r of gone.reverse()) {
      if (r.retainOnDelete) this.steps.push({ op: "forget", name: r.name });
      else {
        await this.delete(r);
        this.steps.push({ op: "delete", name: r.name });
      }
      result.delete(r.urn);
    }
    for (const r of wanted) {
      if (result.has(r.urn)) continue;
      await this.create(r);
      this.steps.push({ op: "create", name: r.name });
      result.set(r.urn, r);
    }
    return result;
  }

  private async inDb<T>(database: string, f: (c: Client) => Promise<T>): Promise<T> {
    const c = await this.server.connect(database);
    try {
      return await f(c);
    } finally {
      await c.end();
    }
  }

  private async txn(database: string, statements: string[]): Promise<void> {
    await this.inDb(database, async (c) => {
      await c.query("BEGIN");
      try {
        for (const s of statements) await c.query(s);
        await c.query("COMMIT");
      } catch (err) {
        await c.query("ROLLBACK");
        throw err;
      }
    });
  }

  private async create(r: RecordedResource): Promise<void> {
    const i = r.inputs as Record<string, unknown>;
    const name = String(i.name);
    if (r.type === "postgresql:index/role:Role") {
      const flag = (v: unknown, on: string) => (v === true || v === "true" ? on : `NO${on}`);
      await this.txn("postgres", [
        `CREATE ROLE ${q(name)} ${flag(i.login, "LOGIN")} ${flag(i.createDatabase, "CREATEDB")} ` +
          `${flag(i.superuser, "SUPERUSER")} ${flag(i.createRole, "CREATEROLE")} ` +
          `${flag(i.inherit, "INHERIT")} ${flag(i.replication, "REPLICATION")}` +
          (i.password ? ` PASSWORD ${lit(String(i.password))}` : ""),
        ...((i.roles as string[] | undefined) ?? []).map((m) => `GRANT ${q(m)} TO ${q(name)}`),
      ]);
    } else if (r.type === "postgresql:index/database:Database") {
      await this.inDb("postgres", (c) =>
        c.query(
          `CREATE DATABASE ${q(name)} OWNER ${q(String(i.owner))} TEMPLATE ${q(String(i.template))} ` +
            `ENCODING ${lit(String(i.encoding))}`,
        ),
      );
    } else {
      const db = String(i.database);
      const privs = (i.privileges as string[] | undefined) ?? [];
      await this.txn(db, [
        `REVOKE ALL PRIVILEGES ON DATABASE ${q(db)} FROM ${grantee(String(i.role))}`,
        ...(privs.length
          ? [`GRANT ${privs.join(",")} ON DATABASE ${q(db)} TO ${grantee(String(i.role))}`]
          : []),
      ]);
    }
  }

  private async delete(r: RecordedResource): Promise<void> {
    const i = r.inputs as Record<string, unknown>;
    const name = String(i.name);
    if (r.type === "postgresql:index/role:Role") {
      await this.txn("postgres", [
        `REASSIGN OWNED BY ${q(name)} TO ${q(this.admin)}`,
        `DROP OWNED BY ${q(name)}`,
        `DROP ROLE ${q(name)}`,
      ]);
    } else if (r.type === "postgresql:index/database:Database") {
      await this.inDb("postgres", (c) => c.query(`DROP DATABASE ${q(name)} WITH ( FORCE )`));
    } else {
      const db = String(i.database);
      await this.txn(db, [
        `REVOKE ALL PRIVILEGES ON DATABASE ${q(db)} FROM ${grantee(String(i.role))}`,
      ]);
    }
  }
}
