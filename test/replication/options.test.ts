/** Flags of the replication commands: each error names the flag or variable and the fix. */
import { expect, it } from "vitest";
import { parseReplicationOptions } from "../../migrations/replication/options";
import { replicationMajorProblem, subscriptionConninfo } from "../../migrations/replication/chain";
import { parseEndpoint } from "../../migrations/lib/endpoint";
import { redact } from "../../migrations/lib/redact";

const urls = {
  PROD_DATABASE_URL: "postgres://airbyte:prodpass1@prod:5432/postgres",
  HUB_DATABASE_URL: "postgres://postgres:hubpass22@hub:5432/postgres",
  REPLICA_DATABASE_URL: "postgres://postgres:reppass33@cw01:5432/postgres",
};

function error(argv: string[], env: NodeJS.ProcessEnv = urls): string {
  try {
    parseReplicationOptions(argv, env);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error("no error");
}

it("names the missing server's flag and variable", () => {
  expect(error(["sync", "setup"], {})).toContain("--prod-url");
  expect(error(["sync", "setup"], {})).toContain("PROD_DATABASE_URL");
  const { HUB_DATABASE_URL: _, ...noHub } = urls;
  expect(error(["sync", "status"], noHub)).toContain("--hub-url");
  expect(error(["sync", "setup"], { ...urls, REPLICA_DATABASE_URL: "mysql://x@y/z" })).toContain(
    "--replica-url / REPLICA_DATABASE_URL",
  );
});

it("rejects unknown commands and bad values with the fix", () => {
  expect(error(["sync", "teleport"])).toContain("use sync setup, sync status");
  expect(error(["failover", "--sequence-gap", "-5"])).toContain("--sequence-gap");
  expect(error(["sync", "status", "--max-lag-seconds", "soon"])).toContain("--max-lag-seconds");
  expect(error(["failover", "--airbyte-url", "ftp://x"])).toContain("http:// or https://");
  expect(error(["failover", "--airbyte-url", "http://x:8001"])).toContain("--airbyte-client-id");
  expect(error(["sync", "setup", "--prod-conninfo-for-hub", "nope"])).toContain(
    "--prod-conninfo-for-hub",
  );
});

it("failover needs only prod and the replica; conninfo passwords are redacted", () => {
  const { HUB_DATABASE_URL: _, ...noHub } = urls;
  const opts = parseReplicationOptions(
    ["failover", "--prod-conninfo-for-hub", "postgres://rep:inclusterpw@airbyte-db.svc/x"],
    noHub,
  );
  expect(opts?.hub).toBeUndefined();
  expect(opts?.sequenceGap).toBe(100000n);
  expect(redact("password inclusterpw")).not.toContain("inclusterpw");
  if (!opts) throw new Error("no options");
  const conninfo = subscriptionConninfo(undefined, opts.prod, "db-airbyte");
  expect(conninfo).toContain("dbname='db-airbyte'");
  expect(redact(conninfo)).not.toContain("prodpass1");
  expect(subscriptionConninfo("postgres://rep:pw@h:5432/other", opts.prod, "db-airbyte")).toBe(
    "postgres://rep:pw@h:5432/db-airbyte",
  );
});

it("refuses a PostgreSQL 12 server in the chain, naming its flag and the fix", () => {
  const ep = parseEndpoint("postgres://u:p@prod:5432/postgres", "prod");
  expect(replicationMajorProblem(12, ep)).toMatch(
    /runs PostgreSQL 12; replication needs 13 or later \(sync status reads pg_replication_slots\.wal_status.*--prod-url \/ PROD_DATABASE_URL/,
  );
  expect(replicationMajorProblem(13, ep)).toBeUndefined();
});
