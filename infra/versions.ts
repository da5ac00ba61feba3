/**
 * Every image the program deploys, pinned in one place (DESIGN D2). Airbyte images share one
 * release; the others are the versions that Airbyte release is built and tested with.
 */

/** The Airbyte platform release (chart 2.0.19 ships app 2.0.1). */
export const AIRBYTE_VERSION = "2.0.1";

/** Airbyte platform images, all at {@link AIRBYTE_VERSION}. */
export function airbyteImage(component: string): string {
  return `airbyte/${component}:${AIRBYTE_VERSION}`;
}

export const IMAGES = {
  /** Airbyte's bundled database is PostgreSQL 13; alpine, whose `postgres` user is uid 70. */
  postgres: "postgres:13.22-alpine",
  /**
   * The v2 replication hub: a relay we deploy new, so a supported major rather than prod's. 13
   * is past its end of life (13.23, November 2025, was its last release; docker-library dropped
   * the tag on 2025-11-14, official-images c4b26e2), and the hub is the one database exposed
   * outside the cluster. 17: subscribing to an older publisher (prod, 13) and publishing to any
   * core-worker-01 of 13 or newer is supported; the v2 tests run this major (17.x), and
   * 18 would change the image's data directory layout. Tag present in docker-library's
   * official-images `library/postgres` (37079fb, 2026-08-21): `17.11-alpine`.
   */
  hubPostgres: "postgres:17.11-alpine",
  /** The server image Airbyte 2.0.x runs; it sets up its own schema. */
  temporal: "temporalio/auto-setup:1.27.2",
  /** Same Temporal release, with the `temporal` CLI and `temporal-sql-tool`. */
  temporalAdminTools: "temporalio/admin-tools:1.27.2-tctl-1.18.2-cli-1.3.0",
  temporalUi: "temporalio/ui:2.30.1",
  /** The MinIO release Airbyte 2.0.x bundles; its image also carries the `mc` client. */
  minio: "minio/minio:RELEASE.2023-11-20T22-40-07Z",
  oauth2Proxy: "quay.io/oauth2-proxy/oauth2-proxy:v7.12.0",
} as const;
