import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../infra/config";
import { checkCronSchedule, checkHostOrIp, checkPinnedImage } from "../infra/config/validators";
import { VALID_V0, mapSource } from "./support/config";
import { VALID_V1 } from "./support/config-v1";

function problemsOf(overrides: Record<string, string | undefined>, base = VALID_V1): string[] {
  const values = { ...base, ...overrides } as Record<string, string>;
  for (const [k, v] of Object.entries(overrides)) if (v === undefined) delete values[k];
  try {
    parseConfig(mapSource(values));
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe("v1 stack configuration", () => {
  it("accepts the minimal v1 config and applies every default", () => {
    const c = parseConfig(mapSource(VALID_V1));
    expect(c.coreWorker).toMatchObject({
      host: "10.0.4.21",
      port: 5432,
      adminUser: "postgres",
      adminSuperuser: true,
      sslMode: "require",
      // An IP host is its own NetworkPolicy address.
      cidrs: ["10.0.4.21/32"],
    });
    expect(c.replica).toEqual({
      namespace: "airbyte-replica",
      host: "airbyte-replica.example.com",
      role: "standby",
    });
    expect(c.migration).toEqual({
      schedule: "0 */6 * * *",
      image: "ghcr.io/acme/airbyte-migrate:0.1.0",
      jobs: 2,
      suspend: false,
    });
  });

  it("takes overrides", () => {
    const c = parseConfig(
      mapSource({
        ...VALID_V1,
        coreWorkerHost: "core-worker-01",
        coreWorkerCidrs: JSON.stringify(["10.0.4.0/28"]),
        coreWorkerPort: "6432",
        coreWorkerAdminUser: "pulumi_admin",
        coreWorkerAdminSuperuser: "false",
        coreWorkerSslMode: "verify-full",
        replicaNamespace: "airbyte-dr",
        replicaRole: "active",
        migrationSchedule: "@hourly",
        migrationImage: "registry.local:5000/airbyte-migrate@sha256:" + "a".repeat(64),
        migrationJobs: "4",
        migrationSuspend: "true",
      }),
    );
    expect(c.coreWorker).toMatchObject({
      host: "core-worker-01",
      cidrs: ["10.0.4.0/28"],
      port: 6432,
      adminUser: "pulumi_admin",
      adminSuperuser: false,
      sslMode: "verify-full",
    });
    expect(c.replica).toMatchObject({ namespace: "airbyte-dr", role: "active" });
    expect(c.migration).toMatchObject({ schedule: "@hourly", jobs: 4, suspend: true });
  });

  it("leaves v0 alone: no v1 key is required and no v1 section is built", () => {
    const c = parseConfig(mapSource(VALID_V0));
    expect(c.coreWorker).toBeUndefined();
    expect(c.replica).toBeUndefined();
    expect(c.migration).toBeUndefined();
  });

  it("requires core-worker-01's host and admin password, the replica host and the image", () => {
    const problems = problemsOf({
      coreWorkerHost: undefined,
      coreWorkerAdminPassword: undefined,
      replicaHost: undefined,
      migrationImage: undefined,
    });
    expect(problems).toHaveLength(4);
    expect(problems[0]).toMatch(/^airbyte:coreWorkerHost: is required from topology v1 on; fix: /);
    expect(problems.join("\n")).toContain(
      "airbyte:coreWorkerAdminPassword: is required from topology v1 on (a secret); fix: pulumi config set --secret airbyte:coreWorkerAdminPassword",
    );
    expect(problems.join("\n")).toMatch(/airbyte:replicaHost: is required from topology v1 on/);
    expect(problems.join("\n")).toMatch(
      /airbyte:migrationImage: is required .*fix: pulumi config set airbyte:migrationImage ghcr.io\/acme\/airbyte-migrate:0.1.0/,
    );
  });

  it("in v0 with coreWorkerHost set, says the password is required while that key is set", () => {
    const problems = problemsOf(
      { coreWorkerHost: "10.0.4.21", coreWorkerAdminPassword: undefined, replicaHost: undefined },
      VALID_V0,
    );
    expect(problems.join("\n")).not.toContain("from topology v1 on");
    expect(problems).toEqual([
      expect.stringMatching(
        /^airbyte:coreWorkerAdminPassword: is required while coreWorkerHost is set \(v0 keeps managing core-worker-01 .*\(a secret\); fix: pulumi config set --secret airbyte:coreWorkerAdminPassword/,
      ),
      expect.stringMatching(/^airbyte:replicaHost: is required while coreWorkerHost is set /),
    ]);
  });

  it("refuses the replica in prod's namespace or on prod's host", () => {
    const problems = problemsOf({
      replicaNamespace: "airbyte-prod",
      replicaHost: "airbyte.example.com",
    });
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^airbyte:replicaNamespace: 'airbyte-prod' is prod's namespace/);
    expect(problems[1]).toMatch(/^airbyte:replicaHost: 'airbyte.example.com' is prod's host/);
    // Also when prod's namespace is overridden.
    expect(problemsOf({ prodNamespace: "data", replicaNamespace: "data" }).join("\n")).toMatch(
      /replicaNamespace: 'data' is prod's namespace/,
    );
  });

  it("needs addresses when core-worker-01 is given by name", () => {
    const problems = problemsOf({ coreWorkerHost: "core-worker-01.example.internal" });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^airbyte:coreWorkerCidrs: coreWorkerHost 'core-worker-01.example.internal' is a name.*fix: pulumi config set --path 'airbyte:coreWorkerCidrs\[0\]' 10.0.4.21\/32/,
    );
  });

  it("refuses an invalid cron schedule, naming the field", () => {
    const cases: [string, RegExp][] = [
      ["0 */6 * *", /has 4 fields, not 5/],
      ["60 * * * *", /invalid minute field '60'/],
      ["0 24 * * *", /invalid hour field/],
      ["0 0 0 * *", /invalid day of month field/],
      ["0 0 * 13 *", /invalid month field/],
      ["0 0 * * 8", /invalid day of week field/],
      ["*/0 * * * *", /step '0'/],
      ["0 5-2 * * *", /ends before it starts/],
      ["0 0 * FOO *", /invalid month field/],
      ["@every 1h", /not a known macro/],
      ["CRON_TZ=UTC 0 * * * *", /time zone/],
    ];
    for (const [schedule, why] of cases) {
      const problems = problemsOf({ migrationSchedule: schedule });
      expect(problems, schedule).toHaveLength(1);
      expect(problems[0], schedule).toMatch(/^airbyte:migrationSchedule: /);
      expect(problems[0], schedule).toMatch(why);
      expect(problems[0], schedule).toContain("fix: pulumi config set airbyte:migrationSchedule");
    }
  });

  it("accepts cron ranges, steps, lists, names and macros", () => {
    for (const s of [
      "0 */6 * * *",
      "15,45 1-5/2 * * MON-FRI",
      "0 3 1 jan,jul ?",
      "5 4 * * sun",
      "0 0 * * 7",
      "0 0 1-31/7 * *",
      "@daily",
      "@midnight",
      "@weekly",
    ]) {
      expect(checkCronSchedule(s), s).toBeUndefined();
    }
  });

  it("refuses an image without a pinned version", () => {
    expect(problemsOf({ migrationImage: "ghcr.io/acme/airbyte-migrate" })[0]).toMatch(
      /^airbyte:migrationImage: 'ghcr.io\/acme\/airbyte-migrate' has no tag/,
    );
    expect(problemsOf({ migrationImage: "ghcr.io/acme/airbyte-migrate:latest" })[0]).toMatch(
      /uses the tag 'latest'/,
    );
    // A registry port is not a tag.
    expect(checkPinnedImage("registry.local:5000/airbyte-migrate")).toMatch(/has no tag/);
    expect(checkPinnedImage("registry.local:5000/airbyte-migrate:1.2")).toBeUndefined();
  });

  it("checks the other v1 values", () => {
    const problems = problemsOf({
      coreWorkerHost: "core worker",
      coreWorkerSslMode: "prefer",
      replicaRole: "primary",
      migrationJobs: "0",
      coreWorkerCidrs: JSON.stringify(["10.0.4.21"]),
    });
    const text = problems.join("\n");
    expect(text).toMatch(/airbyte:coreWorkerHost: 'core worker' is not a host name or IP/);
    expect(text).toMatch(/airbyte:coreWorkerSslMode: 'prefer' is not one of disable, require/);
    expect(text).toMatch(/airbyte:replicaRole: 'primary' is not one of standby, active/);
    expect(text).toMatch(/airbyte:migrationJobs: 0 is out of range/);
    expect(text).toMatch(/airbyte:coreWorkerCidrs: item '10.0.4.21' is not a CIDR block/);
    expect(checkHostOrIp("2001:db8::5")).toBeUndefined();
    expect(checkHostOrIp("core-worker-01")).toBeUndefined();
  });
});

describe("an optional secret left at its declared empty default", () => {
  it("counts as unset, so v1 still demands coreWorkerAdminPassword", () => {
    try {
      parseConfig(mapSource({ ...VALID_V1, coreWorkerAdminPassword: "" }));
      throw new Error("expected a ConfigError");
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as Error).message).toContain(
        "airbyte:coreWorkerAdminPassword: is required from topology v1 on",
      );
    }
  });
});
