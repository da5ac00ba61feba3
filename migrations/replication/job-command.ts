/**
 * The command line of the v2 replication setup Job, in one place: the Pulumi component puts
 * exactly this in the pod spec, and a test checks it parses to the intended options.
 * The connection URLs (with their credentials) come from a Secret as PROD_DATABASE_URL,
 * HUB_DATABASE_URL and REPLICA_DATABASE_URL, the subscriber role's password as
 * HUB_SUBSCRIBER_PASSWORD: never on the command line.
 */
export { MIGRATION_ENTRYPOINT } from "../job-command";
export { NAMES as REPLICATION_NAMES } from "./chain";

export const PROD_URL_ENV = "PROD_DATABASE_URL";
export const HUB_URL_ENV = "HUB_DATABASE_URL";
export const REPLICA_URL_ENV = "REPLICA_DATABASE_URL";
export const HUB_SUBSCRIBER_PASSWORD_ENV = "HUB_SUBSCRIBER_PASSWORD";

export interface SetupJobOptions {
  /** Replicated database (D7: only `db-airbyte`). */
  database: string;
  /** Owner of core-worker-01's database and schema: Airbyte's login role there. */
  replicaOwner: string;
  /** Role on the hub that core-worker-01's subscription (created by Pulumi) logs in as. */
  hubSubscriberRole: string;
  /**
   * Replace a core-worker-01 database that holds data but no subscription: v1's last copy.
   * Only while the replica is standby; an active replica's database is production's.
   */
  dropExisting: boolean;
}

/**
 * Arguments after the entrypoint: everything but core-worker-01's subscription, which Pulumi
 * declares (`--replica-subscription external`, DESIGN D5). Idempotent: a second run changes nothing.
 */
export function setupJobArgs(o: SetupJobOptions): string[] {
  return [
    "sync",
    "setup",
    "--database",
    o.database,
    "--replica-subscription",
    "external",
    "--replica-owner",
    o.replicaOwner,
    "--hub-subscriber-role",
    o.hubSubscriberRole,
    ...(o.dropExisting ? ["--drop-existing"] : []),
    "--json",
  ];
}
