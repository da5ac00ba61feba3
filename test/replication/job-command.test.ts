/** The v2 setup Job's argv: it parses to external-subscription mode, secrets only from env. */
import { expect, it } from "vitest";
import { parseReplicationOptions } from "../../migrations/replication/options";
import {
  HUB_SUBSCRIBER_PASSWORD_ENV,
  HUB_URL_ENV,
  PROD_URL_ENV,
  REPLICA_URL_ENV,
  setupJobArgs,
} from "../../migrations/replication/job-command";
import { redact } from "../../migrations/lib/redact";

const env = {
  [PROD_URL_ENV]: "postgres://airbyte:prodpass1@prod:5432/postgres?sslmode=disable",
  [HUB_URL_ENV]: "postgres://airbyte:hubpass22@hub:5432/postgres?sslmode=require",
  [REPLICA_URL_ENV]: "postgres://airbyte_migrate:reppass33@cw01:5432/postgres?sslmode=require",
  [HUB_SUBSCRIBER_PASSWORD_ENV]: "subscriberpw44",
};

const args = setupJobArgs({
  database: "db-airbyte",
  replicaOwner: "airbyte",
  hubSubscriberRole: "airbyte_subscriber",
  dropExisting: true,
});

it("parses to sync setup with the subscription left to Pulumi", () => {
  const opts = parseReplicationOptions(args, env);
  expect(opts?.command).toBe("setup");
  expect(opts?.replicaSubscription).toBe("external");
  expect(opts?.replicaOwner).toBe("airbyte");
  expect(opts?.hubSubscriber).toEqual({ role: "airbyte_subscriber", password: "subscriberpw44" });
  expect(opts?.dropExisting).toBe(true);
  expect(opts?.hub?.host).toBe("hub");
  expect(redact("pw subscriberpw44")).not.toContain("subscriberpw44");
});

it("carries no credential and defaults to the internal subscription", () => {
  expect(args.join(" ")).not.toMatch(/pass|pw|postgres:\/\//);
  const opts = parseReplicationOptions(["sync", "setup"], env);
  expect(opts?.replicaSubscription).toBe("internal");
  expect(opts?.hubSubscriber).toBeUndefined();
  expect(
    setupJobArgs({
      database: "db-airbyte",
      replicaOwner: "a",
      hubSubscriberRole: "b",
      dropExisting: false,
    }),
  ).not.toContain("--drop-existing");
});

it("names the flag on bad values", () => {
  const fail = (argv: string[], e: NodeJS.ProcessEnv = env) => {
    try {
      parseReplicationOptions(argv, e);
    } catch (err) {
      return (err as Error).message;
    }
    return "no error";
  };
  expect(fail(["sync", "setup", "--replica-subscription", "pulumi"])).toContain(
    "--replica-subscription must be internal or external",
  );
  expect(fail(["sync", "setup", "--replica-owner", "Bad-Name"])).toContain("--replica-owner");
  const { [HUB_SUBSCRIBER_PASSWORD_ENV]: _, ...noPw } = env;
  expect(fail(["sync", "setup", "--hub-subscriber-role", "sub"], noPw)).toContain(
    "HUB_SUBSCRIBER_PASSWORD",
  );
});

it("passes a non-superuser admin as the subscription creator the Job checks first", () => {
  const withCreator = setupJobArgs({
    database: "db-airbyte",
    replicaOwner: "airbyte",
    hubSubscriberRole: "airbyte_subscriber",
    dropExisting: false,
    subscriptionCreator: "cw_admin",
  });
  expect(parseReplicationOptions(withCreator, env)?.replicaSubscriptionCreator).toBe("cw_admin");
  expect(parseReplicationOptions(args, env)?.replicaSubscriptionCreator).toBeUndefined();
});
