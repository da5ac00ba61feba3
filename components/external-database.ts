/**
 * The external PostgreSQL server `core-worker-01`, managed as code (DESIGN D5): a
 * `postgresql.Provider` for the host, the Airbyte login role, the migration job's role, the three
 * databases Airbyte and Temporal use, and the grants that keep other roles out of them.
 *
 * Privileges, least first:
 * - the Airbyte role (`airbyte`) logs in and owns `db-airbyte`, `temporal` and
 *   `temporal_visibility`: Airbyte's Flyway migrations and Temporal's schema tool create tables in
 *   them, which ownership allows; it gets no SUPERUSER, CREATEROLE, CREATEDB or REPLICATION;
 * - the migration role (`airbyte_migrate`) logs in with CREATEDB and is a member of the Airbyte
 *   role: the copy goes into a staging database it creates, whose ownership it hands to the
 *   Airbyte role (`--owner`, which needs that membership) before swapping it in by renames (which
 *   need ownership, inherited through the membership, and CREATEDB);
 * - PUBLIC loses CONNECT on the three databases, so other roles on the server cannot connect.
 *   A non-superuser admin (`adminIsSuperuser: false`) stays a member of the Airbyte role for
 *   that: a REVOKE by a role that neither owns the database nor belongs to its owner removes
 *   nothing (PostgreSQL only warns), and the provider borrows the owner's membership only while
 *   it creates a database, not around a database grant.
 */
import * as postgresql from "@pulumi/postgresql";
import * as pulumi from "@pulumi/pulumi";
import { generatedPassword } from "./lib/secrets";

export type SslMode = "disable" | "require" | "verify-ca" | "verify-full";

/** Names of the databases Airbyte and Temporal use (Airbyte's chart names). */
export const EXTERNAL_DATABASES = {
  airbyte: "db-airbyte",
  temporal: "temporal",
  temporalVisibility: "temporal_visibility",
} as const;

const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export interface ExternalDatabaseArgs {
  /** Host name or IP address of the server, as Pulumi and the pods reach it. */
  host: pulumi.Input<string>;
  /** Default: 5432. */
  port?: pulumi.Input<number>;
  /** Admin role Pulumi connects as (CREATEROLE and CREATEDB, or superuser). Default: `postgres`. */
  adminUser?: pulumi.Input<string>;
  /** Password of {@link adminUser}; wrapped as a Pulumi secret here whatever it arrives as. */
  adminPassword: pulumi.Input<string>;
  /**
   * Whether the admin role is a superuser. `false` (managed PostgreSQL) makes the provider avoid
   * superuser-only statements: it then grants itself membership of a role to create a database
   * owned by it. Default: `true`.
   */
  adminIsSuperuser?: boolean;
  /** libpq sslmode of Pulumi's connection, and the one to hand to every client. Default: `require`. */
  sslMode?: SslMode;
  /**
   * CA certificate file (on the machine running Pulumi) for `verify-ca`/`verify-full`.
   * Default: libpq's `~/.postgresql/root.crt`.
   */
  sslRootCertPath?: pulumi.Input<string>;
  /** Airbyte's login role, owner of the three databases. Default: `airbyte`. */
  airbyteRole?: string;
  /** The migration job's login role. Default: `airbyte_migrate`. */
  migrationRole?: string;
  /**
   * Keep the databases, and the roles that own objects in them, on the server when they leave
   * the program (`pulumi destroy`, a rename): after a failover they hold production's data.
   * Roles too, because the provider's role delete runs `REASSIGN OWNED`/`DROP OWNED` only in its
   * connection database (`postgres`), so `DROP ROLE` fails while the retained databases hold
   * objects the role owns (terraform-provider-postgresql ff936b9,
   * postgresql/resource_postgresql_role.go, resourcePostgreSQLRoleDelete). Default: `true`.
   */
  retainOnDelete?: boolean;
}

export class ExternalDatabase extends pulumi.ComponentResource {
  /** The provider every `postgresql:*` resource of this server uses. */
  public readonly provider: postgresql.Provider;
  public readonly host: pulumi.Output<string>;
  public readonly port: pulumi.Output<number>;
  public readonly sslMode: pulumi.Output<SslMode>;
  /** Airbyte's and Temporal's login role. */
  public readonly airbyteUser: pulumi.Output<string>;
  /** Password of {@link airbyteUser}; a secret. */
  public readonly airbytePassword: pulumi.Output<string>;
  /** The migration job's login role. */
  public readonly migrationUser: pulumi.Output<string>;
  /** Password of {@link migrationUser}; a secret. */
  public readonly migrationPassword: pulumi.Output<string>;
  /** Role names as plain values, for command lines built before anything resolves. */
  public readonly roleNames: { airbyte: string; migration: string };
  /** `{ airbyte, temporal, temporalVisibility }` database names, once they exist. */
  public readonly databases: pulumi.Output<typeof EXTERNAL_DATABASES>;

  constructor(name: string, args: ExternalDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    const airbyteRole = args.airbyteRole ?? "airbyte";
    const migrationRole = args.migrationRole ?? "airbyte_migrate";
    for (const [what, role] of [
      ["airbyteRole", airbyteRole],
      ["migrationRole", migrationRole],
    ]) {
      if (!ROLE_NAME.test(role)) {
        throw new Error(`ExternalDatabase ${name}: ${what} '${role}' is not a plain role name`);
      }
    }
    if (airbyteRole === migrationRole) {
      throw new Error(`ExternalDatabase ${name}: airbyteRole and migrationRole must differ`);
    }
    super("airbyte:database:ExternalDatabase", name, {}, opts);

    const port = args.port ?? 5432;
    const sslMode = args.sslMode ?? "require";
    const retainOnDelete = args.retainOnDelete ?? true;

    this.provider = new postgresql.Provider(
      `${name}-provider`,
      {
        host: args.host,
        port,
        username: args.adminUser ?? "postgres",
        password: pulumi.secret(args.adminPassword),
        sslmode: sslMode,
        ...(args.sslRootCertPath ? { sslrootcert: args.sslRootCertPath } : {}),
        superuser: args.adminIsSuperuser ?? true,
        database: "postgres",
        connectTimeout: 15,
      },
      { parent: this },
    );
    const onServer = { parent: this, provider: this.provider };

    const airbytePassword = generatedPassword(`${name}-airbyte-password`, this);
    const airbyte = new postgresql.Role(
      `${name}-airbyte-role`,
      {
        name: airbyteRole,
        login: true,
        password: airbytePassword,
        superuser: false,
        createDatabase: false,
        createRole: false,
        replication: false,
        inherit: true,
      },
      { ...onServer, retainOnDelete },
    );

    const migrationPassword = generatedPassword(`${name}-migration-password`, this);
    const migration = new postgresql.Role(
      `${name}-migration-role`,
      {
        name: migrationRole,
        login: true,
        password: migrationPassword,
        superuser: false,
        createDatabase: true,
        createRole: false,
        replication: false,
        inherit: true,
        roles: [airbyte.name],
      },
      { ...onServer, retainOnDelete },
    );

    // Before the databases: the provider then finds the membership and keeps it.
    const adminMember =
      (args.adminIsSuperuser ?? true)
        ? undefined
        : new postgresql.GrantRole(
            `${name}-admin-member`,
            { role: args.adminUser ?? "postgres", grantRole: airbyte.name },
            onServer,
          );
    const afterMembership = adminMember ? { dependsOn: [adminMember] } : {};

    const databases = Object.values(EXTERNAL_DATABASES).map((dbName) => {
      const slug = dbName.replace(/_/g, "-");
      const db = new postgresql.Database(
        `${name}-${slug}`,
        {
          name: dbName,
          owner: airbyte.name,
          encoding: "UTF8",
          template: "template0",
          allowConnections: true,
        },
        { ...onServer, ...afterMembership, retainOnDelete },
      );
      // Without this every role on the server could connect (PostgreSQL's default for PUBLIC).
      const revoke = new postgresql.Grant(
        `${name}-${slug}-revoke-public`,
        { database: db.name, role: "public", objectType: "database", privileges: [] },
        { ...onServer, ...afterMembership },
      );
      return { db, revoke };
    });

    // Explicit rather than only inherited, so the migration role keeps CONNECT if its
    // membership is ever narrowed; only on the database it copies into.
    const migrationConnect = new postgresql.Grant(
      `${name}-db-airbyte-migration-connect`,
      {
        database: databases[0].db.name,
        role: migration.name,
        objectType: "database",
        privileges: ["CONNECT"],
      },
      onServer,
    );

    this.roleNames = { airbyte: airbyteRole, migration: migrationRole };
    this.host = pulumi.output(args.host);
    this.port = pulumi.output(port);
    this.sslMode = pulumi.output(sslMode);
    this.airbyteUser = airbyte.name;
    this.airbytePassword = pulumi.secret(airbytePassword);
    this.migrationUser = migration.name;
    this.migrationPassword = pulumi.secret(migrationPassword);
    // Resolves once every database and grant exists, so consumers of the names wait for them.
    this.databases = pulumi
      .all([...databases.flatMap(({ db, revoke }) => [db.name, revoke.id]), migrationConnect.id])
      .apply(() => EXTERNAL_DATABASES);

    this.registerOutputs({
      host: this.host,
      port: this.port,
      sslMode: this.sslMode,
      airbyteUser: this.airbyteUser,
      airbytePassword: this.airbytePassword,
      migrationUser: this.migrationUser,
      migrationPassword: this.migrationPassword,
      databases: this.databases,
    });
  }
}
