/** Flag and URL validation, database mapping and redaction: no server needed. */
import { describe, expect, it } from "vitest";
import { parseEndpoint } from "../../migrations/lib/endpoint";
import { parseOptions, resolveDatabases } from "../../migrations/lib/options";
import { migrationJobArgs } from "../../migrations/job-command";
import { redact } from "../../migrations/lib/redact";
import { entryKey } from "../../migrations/lib/post-data";

describe("endpoint URLs", () => {
  it("parses user, password, host, port, database and sslmode", () => {
    const ep = parseEndpoint(
      "postgresql://air%40byte:p%3Ass@db.example:6543/admin?sslmode=require",
      "target",
    );
    expect(ep).toMatchObject({
      user: "air@byte",
      password: "p:ss",
      host: "db.example",
      port: 6543,
      maintenanceDb: "admin",
      sslmode: "require",
    });
    expect(parseEndpoint("postgres://u:pw@[::1]/", "source")).toMatchObject({
      host: "::1",
      port: 5432,
      maintenanceDb: "postgres",
    });
  });

  it("rejects what libpq would misread, naming the flag and the env var", () => {
    expect(() => parseEndpoint("postgres://db:5432/x", "source")).toThrow(
      /--source \/ SOURCE_DATABASE_URL has no user name/,
    );
    expect(() => parseEndpoint("postgres://u:p@h/x?sslmode=maybe", "target")).toThrow(
      /sslmode=maybe: use one of disable/,
    );
  });
});

describe("redaction", () => {
  it("masks passwords in URLs and registered passwords anywhere", () => {
    parseEndpoint("postgres://u:hunter22@h/x", "source");
    expect(redact("failed for postgres://u:hunter22@h/x")).toBe("failed for postgres://u:***@h/x");
    expect(redact("PGPASSWORD=hunter22")).toBe("PGPASSWORD=***");
  });
});

describe("database list and --map", () => {
  it("defaults to Airbyte's three databases", () => {
    expect(resolveDatabases(undefined, [])).toEqual([
      { source: "db-airbyte", target: "db-airbyte" },
      { source: "temporal", target: "temporal" },
      { source: "temporal_visibility", target: "temporal_visibility" },
    ]);
  });
  it("reads the docker-compose name for a mapped default", () => {
    expect(resolveDatabases(undefined, ["airbyte=db-airbyte"])[0]).toEqual({
      source: "airbyte",
      target: "db-airbyte",
    });
  });
  it("refuses maps that collide or name unlisted databases", () => {
    expect(() => resolveDatabases("a,b", ["a=x", "b=x"])).toThrow(/two databases to "x"/);
    expect(() => resolveDatabases("a", ["c=d"])).toThrow(/--databases does not list/);
    expect(() => resolveDatabases("a,b", ["a=b"])).toThrow(/copied into "b"/);
  });
});

describe("--swap and --owner", () => {
  const env = {
    SOURCE_DATABASE_URL: "postgres://u:pw@s/postgres",
    TARGET_DATABASE_URL: "postgres://m:pw@t/postgres",
  };
  const parse = (...argv: string[]) => parseOptions(argv, env);

  it("parses the CronJob's command line", () => {
    const args = migrationJobArgs({
      databases: ["db-airbyte", "temporal"],
      owner: "airbyte",
      jobs: 3,
    });
    expect(parse(...args)).toMatchObject({
      command: "copy",
      swap: true,
      owner: "airbyte",
      jobs: 3,
      json: true,
      verify: true,
      resume: false,
      terminateSessions: false,
      databases: [
        { source: "db-airbyte", target: "db-airbyte" },
        { source: "temporal", target: "temporal" },
      ],
    });
  });

  it("rejects contradictions, naming the flags and the fix", () => {
    const cases: [string[], RegExp][] = [
      [["copy", "--swap", "--resume"], /--swap and --resume contradict.*remove --resume/],
      [["copy", "--swap", "--drop-existing"], /--swap and --drop-existing contradict.*choose one/],
      [
        ["copy", "--swap", "--no-verify"],
        /--swap only swaps in a verified copy: remove --no-verify/,
      ],
      [["copy", "--owner", "a", "--keep-owners"], /--owner and --keep-owners contradict/],
      [["copy", "--terminate-sessions"], /--terminate-sessions only applies to --swap/],
      [["verify", "--swap"], /--swap only applies to copy/],
      [["plan", "--owner", "airbyte"], /--owner only applies to copy/],
      [["copy", "--owner", ""], /--owner has a role name ""/],
      [
        ["copy", "--swap", "--databases", "x".repeat(60)],
        /longer than 63 bytes: rename the target with --map/,
      ],
      [["copy", "--swap", "--databases", "a,a__staging"], /"a__staging" as a work database/],
    ];
    for (const [argv, message] of cases) {
      expect(() => parse(...argv), argv.join(" ")).toThrow(message);
    }
  });

  it("swaps into a --map target name", () => {
    expect(parse("copy", "--swap", "--map", "airbyte=db-airbyte")?.databases[0]).toEqual({
      source: "airbyte",
      target: "db-airbyte",
    });
  });
});

describe("post-data restore list", () => {
  it("keys pg_restore entries by the object they create", () => {
    expect(entryKey("231; 1259 16520 INDEX public jobs_scope_idx postgres")).toBe(
      "INDEX public jobs_scope_idx",
    );
    expect(
      entryKey("240; 2606 16530 FK CONSTRAINT public attempts attempts_job_id_fkey postgres"),
    ).toBe("CONSTRAINT public attempts attempts_job_id_fkey");
    expect(entryKey("215; 1259 16400 TABLE public jobs postgres")).toBeUndefined();
  });
});
