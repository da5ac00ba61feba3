/**
 * Killed with SIGKILL in the middle of the data copy, then `copy --resume`: the target ends with
 * exactly the source's rows (a quiescent source), none lost, none doubled, including tables
 * without a primary key (one holds deliberate duplicate rows) and tables split into key ranges.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { ensurePgClientTools } from "../support/pg-client-tools";
import { createAirbyteDatabases } from "../support/pg-airbyte-fixture";
import { PgServer, startPostgres } from "../support/postgres";
import { allRows, cliEnv, runCli, startCli, userTables, verifyResult } from "./cli-helpers";

let source: PgServer;
let target: PgServer;

beforeAll(async () => {
  ensurePgClientTools();
  [source, target] = await Promise.all([
    startPostgres({ major: 13 }),
    startPostgres({ major: 17 }),
  ]);
  await createAirbyteDatabases(source, { scale: { jobs: 12000 }, temporal: false });
});

afterAll(async () => {
  await Promise.all([source?.stop(), target?.stop()]);
});

/** done and total tasks in the target's checkpoints, or undefined before they exist. */
async function progress(): Promise<{ done: number; total: number } | undefined> {
  const t = await target.connect("db-airbyte").catch(() => undefined);
  if (!t) return undefined;
  try {
    const { rows } = await t.query<{ done: string; total: string }>(
      "SELECT count(done_at) AS done, count(*) AS total FROM airbyte_migrate.task",
    );
    return { done: Number(rows[0].done), total: Number(rows[0].total) };
  } catch {
    return undefined;
  } finally {
    await t.end();
  }
}

it("finishes a SIGKILLed copy with --resume: exactly the source's rows", async () => {
  const env = cliEnv({ SOURCE_DATABASE_URL: source.url(), TARGET_DATABASE_URL: target.url() });
  const args = ["copy", "--databases", "db-airbyte", "--json", "--jobs", "2", "--split-mb", "4"];
  const run = startCli(args, env);
  let seen: { done: number; total: number } | undefined;
  for (;;) {
    seen = await progress();
    if (seen && seen.done >= 2 && seen.done < seen.total) break;
    if (run.child.exitCode !== null) throw new Error("copy ended before it could be killed");
    await new Promise((r) => setTimeout(r, 20));
  }
  run.child.kill("SIGKILL");
  const killed = await run.done;
  expect(killed.signal).toBe("SIGKILL");

  const after = await progress();
  expect(after?.done).toBeGreaterThanOrEqual(2);
  expect(after?.done).toBeLessThan(after?.total ?? 0);

  const refused = await runCli(args, env);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain("holds an unfinished copy: pass --resume");

  const resumed = await runCli([...args, "--resume"], env);
  expect(resumed.stderr).toBe("");
  expect(resumed.code).toBe(0);
  expect(resumed.stdout).toMatch(/finished by an earlier run/);
  expect(verifyResult(resumed.stdout).ok).toBe(true);

  const s = await source.connect("db-airbyte");
  const t = await target.connect("db-airbyte");
  try {
    const tables = await userTables(s);
    expect(await userTables(t)).toEqual(tables);
    for (const table of tables) {
      const [a, b] = [await allRows(s, table), await allRows(t, table)];
      expect(b.length, table).toBe(a.length);
      expect(b, table).toEqual(a);
    }
    const dup = await t.query("SELECT count(*)::int AS n FROM application");
    expect(dup.rows[0].n).toBe(
      (await s.query("SELECT count(*)::int AS n FROM application")).rows[0].n,
    );
  } finally {
    await s.end();
    await t.end();
  }
}, 120_000);
