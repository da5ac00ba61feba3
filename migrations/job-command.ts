/**
 * The command line the v1 migration CronJob runs, in one place: the `DbMigration` component puts
 * exactly this in the pod spec, and the end-to-end test runs exactly this against real servers.
 */

/** The executable in the tool's image (see migrations/Dockerfile). */
export const MIGRATION_ENTRYPOINT = ["airbyte-migrate"];

/** Environment variables holding the connection URLs; the job gets them from a Secret. */
export const SOURCE_URL_ENV = "SOURCE_DATABASE_URL";
export const TARGET_URL_ENV = "TARGET_DATABASE_URL";

export interface MigrationJobOptions {
  /** Databases to copy, e.g. `["db-airbyte"]`. */
  databases: string[];
  /** Role that owns the copied databases and every object in them (Airbyte's login role). */
  owner: string;
  /** Parallel connections per side. */
  jobs: number;
}

/**
 * Arguments after the entrypoint: copy into a staging database, verify it, then swap it in, so a
 * run that fails midway leaves the previous good copy in place.
 */
export function migrationJobArgs(o: MigrationJobOptions): string[] {
  return [
    "copy",
    "--databases",
    o.databases.join(","),
    "--swap",
    "--owner",
    o.owner,
    "--jobs",
    String(o.jobs),
    "--json",
  ];
}
