/**
 * Command line of the replication commands (`sync setup|status|check-schema`, `failover`):
 * parsed with node's util.parseArgs, each error naming the flag or variable and the fix.
 * Server URLs go through the same parser, validation and redaction as copy's.
 */
import { parseArgs } from "node:util";
import { Endpoint, parseEndpoint, Side } from "../lib/endpoint";
import { usageError } from "../lib/errors";
import { registerSecret } from "../lib/redact";

export type ReplicationCommand = "setup" | "status" | "check-schema" | "failover";

export interface ReplicationOptions {
  command: ReplicationCommand;
  prod: Endpoint;
  hub?: Endpoint;
  replica: Endpoint;
  /** The replicated database; the same name on the three servers (D7: only db-airbyte). */
  database: string;
  /** Connection string the hub uses to reach prod (libpq URL), when not the tool's own. */
  prodConninfoForHub?: string;
  /** Connection string core-worker-01 uses to reach the hub. */
  hubConninfoForReplica?: string;
  /** setup: replace a core-worker-01 (or hub) database that holds data. */
  dropExisting: boolean;
  /** setup: seconds to wait for the initial copies. */
  syncTimeoutSeconds: number;
  /**
   * setup: who creates core-worker-01's subscription. `internal` (default): this tool.
   * `external`: the v2 Pulumi stack (a `postgresql.Subscription`, DESIGN D5); the tool prepares
   * everything else (core-worker-01's database and schema, the hub's publication and subscriber
   * role) and stops there.
   */
  replicaSubscription: "internal" | "external";
  /** setup: role that owns core-worker-01's database and restored schema (Airbyte's login role). */
  replicaOwner?: string;
  /**
   * setup (external): the role Pulumi's provider creates core-worker-01's subscription as
   * (coreWorkerAdminUser); checked against this major's CREATE SUBSCRIPTION rule first.
   */
  replicaSubscriptionCreator?: string;
  /**
   * setup: login role on the hub that core-worker-01's subscription connects as; created with
   * LOGIN REPLICATION and the password in HUB_SUBSCRIBER_PASSWORD, granted SELECT on what the
   * hub publishes.
   */
  hubSubscriber?: { role: string; password: string };
  /** status: exit non-zero when a hop lags more than this. */
  maxLagSeconds: number;
  maxLagBytes: number;
  /** status: skip the per-table row counts (they scan every table on three servers). */
  counts: boolean;
  /** failover */
  force: boolean;
  sequenceGap: bigint;
  drainSeconds: number;
  airbyteUrl?: string;
  airbyteClientId?: string;
  airbyteClientSecret?: string;
  json: boolean;
}

export const REPLICATION_HELP = `Usage: airbyte-migrate sync <setup|status|check-schema> [options]
       airbyte-migrate failover [options]

Continuous logical replication of db-airbyte: prod -> replication hub -> core-worker-01 (v2).
See docs/replication.md.

Commands:
  sync setup          Publication on prod, subscription + publication on the hub, subscription
                      on core-worker-01; schema copied first, REPLICA IDENTITY FULL on tables
                      without a primary key. Idempotent.
  sync status         Per hop: lag (bytes, seconds), slot retention, subscription state; per-table
                      row counts. Exit 4 when a hop lags more than --max-lag-seconds/--max-lag-mb.
  sync check-schema   Compare the schema on the three servers and say how to fix drift. Exit 3 on
                      drift that breaks or will break replication.
  failover            On core-worker-01: stop replication, move sequences past prod's, verify,
                      re-arm scheduling through the replica's Airbyte API; print Pulumi's steps.

Connections (postgres://USER:PASSWORD@HOST:PORT/postgres):
  --prod-url URL               Prod's server (or PROD_DATABASE_URL).
  --hub-url URL                The replication hub (or HUB_DATABASE_URL).
  --replica-url URL            core-worker-01 (or REPLICA_DATABASE_URL).
  --database NAME              Replicated database (default db-airbyte).
  --prod-conninfo-for-hub URL  How the hub reaches prod when it differs from --prod-url (e.g.
                               in-cluster DNS). Stored in the hub's pg_subscription.
  --hub-conninfo-for-replica URL  How core-worker-01 reaches the hub.
setup:
  --drop-existing              Replace a non-empty database on the hub or core-worker-01.
  --sync-timeout S             Seconds to wait for each initial copy (default 3600).
  --replica-subscription M     internal (default): create core-worker-01's subscription too.
                               external: leave it to Pulumi (v2 stack); prepare the rest.
  --replica-owner ROLE         Owner of core-worker-01's database and schema (SET ROLE; the
                               --replica-url user must be a member of ROLE).
  --replica-subscription-creator ROLE  With external: the role that will create core-worker-01's
                               subscription (Pulumi's coreWorkerAdminUser); fail first unless
                               it may (superuser; 16+: pg_create_subscription and CREATE).
  --hub-subscriber-role ROLE   Create/update this LOGIN REPLICATION role on the hub with the
                               password in HUB_SUBSCRIBER_PASSWORD; grant it SELECT on the
                               hub's published tables (core-worker-01 subscribes as it).
status:
  --max-lag-seconds S          Threshold for exit 4 (default 60).
  --max-lag-mb N               Threshold for exit 4 (default 1024).
  --no-counts                  Skip the per-table row counts.
failover:
  --force                      Run even though prod still answers (split brain is then yours).
  --sequence-gap N             Move jobs.id and attempts.id this far past the highest id seen on
                               core-worker-01 (default 100000).
  --drain-seconds S            Wait up to S seconds for core-worker-01 to apply what the hub
                               holds (default 10; needs --hub-url).
  --airbyte-url URL            The replica's Airbyte server (e.g. http://airbyte-server:8001);
                               without it the scheduling steps are printed instead.
  --airbyte-client-id ID       Instance admin client id (or AIRBYTE_CLIENT_ID), from the
                               airbyte-auth-secrets Secret (instance-admin-client-id).
  --airbyte-client-secret S    (or AIRBYTE_CLIENT_SECRET): instance-admin-client-secret.
Output:
  --json                       JSON lines on stdout.
  --help                       This help.

Exit status: 0 success, 1 failure, 2 usage error, 3 schema drift, 4 lag over the threshold,
5 failover's database steps done and verified but re-arming scheduling through the Airbyte API
failed (run the same failover command again: it moves no sequence twice).`;

const COMMANDS: Record<string, ReplicationCommand> = {
  "sync setup": "setup",
  "sync status": "status",
  "sync check-schema": "check-schema",
  failover: "failover",
};

function number(value: string | undefined, flag: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || n <= 0 || n > max) {
    throw usageError(`${flag} must be a number above 0 and at most ${max} (got "${value}")`);
  }
  return n;
}

/**
 * A connection string another server uses (stored in its pg_subscription): a postgres:// URL
 * checked like the tool's own, its password registered for redaction.
 */
export function parseConninfo(raw: string | undefined, flag: string): string | undefined {
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw usageError(`${flag} is not a valid URL: expected postgres://USER:PASSWORD@HOST:5432/DB`);
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    throw usageError(`${flag} must start with postgres:// (got ${url.protocol}//)`);
  }
  if (!url.hostname || !url.username) {
    throw usageError(`${flag} needs a user and a host: postgres://USER:PASSWORD@HOST:5432/DB`);
  }
  registerSecret(decodeURIComponent(url.password));
  return raw;
}

function endpoint(
  raw: string | undefined,
  side: Side,
  required: boolean,
  command: string,
): Endpoint | undefined {
  if (raw === undefined && !required) return undefined;
  if (raw === undefined) {
    const flag = side === "prod" ? "--prod-url" : side === "hub" ? "--hub-url" : "--replica-url";
    throw usageError(`${command} needs the ${side} server: pass ${flag} (see --help)`);
  }
  return parseEndpoint(raw, side);
}

/** Parse argv after the tool's name (`sync setup ...` or `failover ...`). */
export function parseReplicationOptions(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): ReplicationOptions | undefined {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        "prod-url": { type: "string" },
        "hub-url": { type: "string" },
        "replica-url": { type: "string" },
        database: { type: "string" },
        "prod-conninfo-for-hub": { type: "string" },
        "hub-conninfo-for-replica": { type: "string" },
        "drop-existing": { type: "boolean" },
        "sync-timeout": { type: "string" },
        "replica-subscription": { type: "string" },
        "replica-owner": { type: "string" },
        "replica-subscription-creator": { type: "string" },
        "hub-subscriber-role": { type: "string" },
        "max-lag-seconds": { type: "string" },
        "max-lag-mb": { type: "string" },
        "no-counts": { type: "boolean" },
        force: { type: "boolean" },
        "sequence-gap": { type: "string" },
        "drain-seconds": { type: "string" },
        "airbyte-url": { type: "string" },
        "airbyte-client-id": { type: "string" },
        "airbyte-client-secret": { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (err) {
    throw usageError(`${(err as Error).message}; see airbyte-migrate sync --help`);
  }
  const { values: v, positionals } = parsed;
  if (v.help) {
    process.stdout.write(REPLICATION_HELP + "\n");
    return undefined;
  }
  const key = positionals[0] === "sync" ? positionals.slice(0, 2).join(" ") : positionals[0];
  const command = COMMANDS[key];
  const consumed = positionals[0] === "sync" ? 2 : 1;
  if (!command) {
    throw usageError(
      `unknown replication command "${positionals.join(" ")}": use sync setup, sync status, ` +
        `sync check-schema or failover (see airbyte-migrate sync --help)`,
    );
  }
  if (positionals.length > consumed) {
    throw usageError(`unexpected argument "${positionals[consumed]}": see --help`);
  }
  const database = v.database ?? "db-airbyte";
  if (database.length === 0 || Buffer.byteLength(database) > 63) {
    throw usageError(`--database "${database}": names are 1 to 63 bytes long`);
  }
  const needsChain = command === "setup" || command === "status" || command === "check-schema";
  const gapText = v["sequence-gap"] ?? "100000";
  if (!/^\d{1,15}$/.test(gapText) || BigInt(gapText) < 1n) {
    throw usageError(`--sequence-gap must be a whole number of at least 1 (got "${gapText}")`);
  }
  const airbyteUrl = v["airbyte-url"] ?? env.AIRBYTE_URL;
  if (airbyteUrl !== undefined) {
    let u: URL;
    try {
      u = new URL(airbyteUrl);
    } catch {
      throw usageError(`--airbyte-url is not a URL: e.g. http://airbyte-server:8001`);
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") {
      throw usageError(`--airbyte-url must be http:// or https:// (got ${u.protocol}//)`);
    }
  }
  const clientId = v["airbyte-client-id"] ?? env.AIRBYTE_CLIENT_ID;
  const clientSecret = v["airbyte-client-secret"] ?? env.AIRBYTE_CLIENT_SECRET;
  if (clientSecret) registerSecret(clientSecret);
  if (airbyteUrl && (!clientId || !clientSecret)) {
    throw usageError(
      "--airbyte-url needs --airbyte-client-id and --airbyte-client-secret (or AIRBYTE_CLIENT_ID " +
        "and AIRBYTE_CLIENT_SECRET): the instance-admin-client-id/-secret keys of the " +
        "airbyte-auth-secrets Secret",
    );
  }
  const name = positionals.slice(0, consumed).join(" ");
  const replicaSubscription = v["replica-subscription"] ?? "internal";
  if (replicaSubscription !== "internal" && replicaSubscription !== "external") {
    throw usageError(
      `--replica-subscription must be internal or external (got "${replicaSubscription}")`,
    );
  }
  const roleFlag = (flag: string, value: string | undefined): string | undefined => {
    if (value !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(value)) {
      throw usageError(`${flag} "${value}" is not a plain role name ([a-z_][a-z0-9_]*)`);
    }
    return value;
  };
  const replicaOwner = roleFlag("--replica-owner", v["replica-owner"]);
  const replicaSubscriptionCreator = roleFlag(
    "--replica-subscription-creator",
    v["replica-subscription-creator"],
  );
  const subscriberRole = roleFlag("--hub-subscriber-role", v["hub-subscriber-role"]);
  const subscriberPassword = env.HUB_SUBSCRIBER_PASSWORD;
  if (subscriberRole !== undefined && !subscriberPassword) {
    throw usageError("--hub-subscriber-role needs the role's password in HUB_SUBSCRIBER_PASSWORD");
  }
  if (subscriberPassword) registerSecret(subscriberPassword);
  return {
    command,
    // failover needs prod too: it must see prod is gone before it promotes anything.
    prod: parseEndpoint(v["prod-url"] ?? env.PROD_DATABASE_URL, "prod"),
    hub: endpoint(v["hub-url"] ?? env.HUB_DATABASE_URL, "hub", needsChain, name),
    // The replica is required everywhere; parseEndpoint names the flag and variable when absent.
    replica: parseEndpoint(v["replica-url"] ?? env.REPLICA_DATABASE_URL, "replica"),
    database,
    prodConninfoForHub: parseConninfo(v["prod-conninfo-for-hub"], "--prod-conninfo-for-hub"),
    hubConninfoForReplica: parseConninfo(
      v["hub-conninfo-for-replica"],
      "--hub-conninfo-for-replica",
    ),
    dropExisting: v["drop-existing"] ?? false,
    syncTimeoutSeconds: number(v["sync-timeout"], "--sync-timeout", 3600, 86_400),
    replicaSubscription,
    replicaOwner,
    replicaSubscriptionCreator,
    hubSubscriber:
      subscriberRole !== undefined && subscriberPassword
        ? { role: subscriberRole, password: subscriberPassword }
        : undefined,
    maxLagSeconds: number(v["max-lag-seconds"], "--max-lag-seconds", 60, 86_400),
    maxLagBytes: number(v["max-lag-mb"], "--max-lag-mb", 1024, 1_000_000) * 1_000_000,
    counts: !v["no-counts"],
    force: v.force ?? false,
    sequenceGap: BigInt(gapText),
    drainSeconds: number(v["drain-seconds"], "--drain-seconds", 10, 3600),
    airbyteUrl,
    airbyteClientId: clientId,
    airbyteClientSecret: clientSecret,
    json: v.json ?? false,
  };
}
