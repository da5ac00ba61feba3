/**
 * Killed with SIGKILL, then `copy --resume`: the target ends with exactly the source's rows (a
 * quiescent source), none lost, none doubled, including tables without a primary key (one holds
 * deliberate duplicate rows) and tables split into key ranges; and with exactly its indexes and
 * constraints when the kill came while they were being built.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ensurePgClientTools } from "../support/pg-client-tools";
import { createAirbyteDatabases } from "../support/pg-airbyte-fixture";
import { PgServer, startPostgres } from "../support/postgres";
import {
  allRows,
  cliEnv,
  indexesAndConstraints,
  jsonEvents,
  killOnEvent,
  runCli,
  startCli,
  userTables,
  verifyResult,
} from "./cli-helpers";

let source: PgServer;
let target: PgServer;

beforeAll(async () => {
  ensurePgClientTools();
  [source, target] = await Promise.all([
    startPostgres({ major: 13 }),
    startPostgres({ major: 17 }),
  ]);
  await createAirbyteDatabases(source, { scale: { jobs: 12000 } });
});

// A killed CLI cannot remove its temporary folder; keep those inside one we remove.
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "resume-test-"));

afterAll(async () => {
  await Promise.all([source?.stop(), target?.stop()]);
  fs.rmSync(tmp, { recursive: true, force: true });
});

const args = ["copy", "--databases", "db-airbyte", "--json", "--jobs", "2", "--split-mb", "4"];
const env = () =>
  cliEnv({ SOURCE_DATABASE_URL: source.url(), TARGET_DATABASE_URL: target.url(), TMPDIR: tmp });

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

/** Every row, index and constraint of the target equals the source's; no checkpoints left. */
async function expectExactCopy(database = "db-airbyte"): Promise<void> {
  const s = await source.connect(database);
  const t = await target.connect(database);
  try {
    const tables = await userTables(s);
    expect(await userTables(t)).toEqual(tables);
    for (const table of tables) {
      const [a, b] = [await allRows(s, table), await allRows(t, table)];
      expect(b.length, table).toBe(a.length);
      expect(b, table).toEqual(a);
    }
    expect(await indexesAndConstraints(t)).toEqual(await indexesAndConstraints(s));
    const checkpoints = await t.query(
      "SELECT 1 FROM pg_namespace WHERE nspname = 'airbyte_migrate'",
    );
    expect(checkpoints.rowCount).toBe(0);
  } finally {
    await s.end();
    await t.end();
  }
}

async function resumeAndCheck(): Promise<string> {
  const resumed = await runCli([...args, "--resume"], env());
  expect(resumed.stderr).toBe("");
  expect(resumed.code).toBe(0);
  expect(verifyResult(resumed.stdout).ok).toBe(true);
  await expectExactCopy();
  return resumed.stdout;
}

it("finishes a copy SIGKILLed during the rows with --resume: exactly the source's rows", async () => {
  const run = startCli(args, env());
  for (;;) {
    const seen = await progress();
    if (seen && seen.done >= 2 && seen.done < seen.total) break;
    if (run.child.exitCode !== null) throw new Error("copy ended before it could be killed");
    await new Promise((r) => setTimeout(r, 20));
  }
  run.child.kill("SIGKILL");
  expect((await run.done).signal).toBe("SIGKILL");

  const after = await progress();
  expect(after?.done).toBeGreaterThanOrEqual(2);
  expect(after?.done).toBeLessThan(after?.total ?? 0);

  const refused = await runCli(args, env());
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain("holds an unfinished copy: pass --resume");

  await resumeAndCheck();
}, 120_000);

it("finishes a copy SIGKILLed while building indexes with --resume", async () => {
  const run = startCli([...args, "--drop-existing"], env());
  // Kill as soon as the post-data phase starts: some indexes may exist, others not.
  await killOnEvent(run, (e) => e.event === "phase" && String(e.phase).startsWith("indexes"));
  expect((await run.done).signal).toBe("SIGKILL");
  // Whatever the killed pg_restore finished, make sure two objects exist, as after a kill halfway
  // through the phase: the resumed run must keep them and build only the rest.
  const t = await target.connect("db-airbyte");
  await t.query(`CREATE UNIQUE INDEX IF NOT EXISTS job_attempt_idx ON attempts (job_id, attempt_number);
    DO $$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'jobs_pkey') THEN
        ALTER TABLE jobs ADD CONSTRAINT jobs_pkey PRIMARY KEY (id);
      END IF;
    END $$`);
  await t.end();
  const stdout = await resumeAndCheck();
  expect(stdout).toMatch(/post-data: \d+ object\(s\) built by an earlier run kept/);
}, 120_000);

const ALL = ["db-airbyte", "temporal", "temporal_visibility"];

it.each(["temporal", "temporal_visibility"])(
  "a copy of three databases SIGKILLed in %s resumes there, keeping the finished ones",
  async (killedIn) => {
    const three = ["copy", "--databases", ALL.join(","), "--json", "--jobs", "2"];
    const run = startCli([...three, "--drop-existing"], env());
    await killOnEvent(
      run,
      (e) => e.event === "phase" && e.database === killedIn && String(e.phase).startsWith("rows"),
    );
    expect((await run.done).signal).toBe("SIGKILL");

    const resumed = await runCli([...three, "--resume"], env());
    expect(resumed.stderr).toBe("");
    expect(resumed.code).toBe(0);
    const kept = jsonEvents(resumed.stdout)
      .filter((e) => e.event === "info" && String(e.message).includes("by an earlier run of"))
      .map((e) => String(e.message));
    const finishedBefore = ALL.slice(0, ALL.indexOf(killedIn));
    expect(kept).toHaveLength(finishedBefore.length);
    for (const [i, db] of finishedBefore.entries()) {
      expect(kept[i]).toContain(`database "${db}" on the target server`);
      expect(kept[i]).toContain("copied and verified by an earlier run of this copy: kept");
    }
    const verify = verifyResult(resumed.stdout);
    expect(verify.ok).toBe(true);
    // The finished database's own verify (from the run that copied it) is part of the result.
    expect(verify.tables.some((t) => t.table.includes("jobs"))).toBe(true);
    for (const db of ALL) await expectExactCopy(db);
  },
  180_000,
);
