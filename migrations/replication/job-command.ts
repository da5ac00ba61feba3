/**
 * The command line of the v2 replication setup Job, in one place: the Pulumi component puts
 * exactly this in the pod spec, and a test checks it parses to the intended options.
 * The connection URLs (with their credentials) come from a Secret as PROD_DATABASE_URL,
 * HUB_DATABASE_URL and REPLICA_DATABASE_URL, the subscriber role's password as
 * HUB_SUBSCRIBER_PASSWORD: never on the command line.
 */
export { MIGRATION_ENTRYPOINT } from "../job-command";
import { NAMES } from "./chain";

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
  /**
   * The role Pulumi's provider creates core-worker-01's subscription as, when it is not a
   * superuser (coreWorkerAdminSuperuser=false): the Job fails first, saying the fix, unless this
   * major lets it.
   */
  subscriptionCreator?: string;
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
    ...(o.subscriptionCreator ? ["--replica-subscription-creator", o.subscriptionCreator] : []),
    "--json",
  ];
}

export interface ReplicaSubscriptionOptions {
  /** Address and port core-worker-01 reaches the hub at (its LoadBalancer). */
  hubHost: string;
  hubPort: number;
  database: string;
  /** {@link SetupJobOptions.hubSubscriberRole} and its password (HUB_SUBSCRIBER_PASSWORD). */
  subscriberRole: string;
  subscriberPassword: string;
  sslMode: string;
}

/** What the v2 stack's `postgresql.Subscription` on core-worker-01 declares (DESIGN D5). */
export interface ReplicaSubscriptionSpec {
  name: string;
  database: string;
  /** libpq key=value string; holds the subscriber's password. */
  conninfo: string;
  /** Sorted: the provider compares lists in order (a permanent diff otherwise). */
  publications: string[];
  createSlot: boolean;
}

/** A libpq key=value value, quoted. */
function conninfoQuote(v: string): string {
  return `'${v.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/**
 * core-worker-01's subscription to the hub, once the setup Job ran: the component declares
 * exactly this, and the end-to-end test creates it as the provider would.
 */
export function replicaSubscriptionSpec(o: ReplicaSubscriptionOptions): ReplicaSubscriptionSpec {
  return {
    name: NAMES.replicaSubscription,
    database: o.database,
    conninfo:
      `host=${o.hubHost} port=${o.hubPort} dbname=${o.database} user=${o.subscriberRole} ` +
      `password=${conninfoQuote(o.subscriberPassword)} sslmode=${o.sslMode}`,
    publications: [NAMES.hubPublication].sort(),
    createSlot: true,
  };
}
