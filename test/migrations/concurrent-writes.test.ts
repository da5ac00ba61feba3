/**
 * Prod keeps writing during the copy: the target must equal the source as of one instant (the
 * exported snapshot), even though tables are copied at different times by different connections.
 *
 * A writer commits numbered transactions, each inserting a job and its attempt and setting a
 * counter in `airbyte_metadata` to its number. Consistency means the target holds exactly the
 * writer's jobs 1..k and attempts 1..k, where k is the counter copied, and k is less than what the
 * source ends with (the writes went on during the copy).
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Client } from "pg";
import { ensurePgClientTools } from "../support/pg-client-tools";
import { createAirbyteDatabases } from "../support/pg-airbyte-fixture";
import { PgServer, startPostgres } from "../support/postgres";
import { cliEnv, runCli, verifyResult } from "./cli-helpers";

let source: PgServer;
let target: PgServer;

beforeAll(async () => {
  ensurePgClientTools();
  [source, target] = await Promise.all([
    startPostgres({ major: 13 }),
    startPostgres({ major: 17 }),
  ]);
  await createAirbyteDatabases(source, { scale: { jobs: 3000 }, temporal: false });
});

afterAll(async () => {
  await Promise.all([source?.stop(), target?.stop()]);
});

async function writeOnce(client: Client, n: number): Promise<void> {
  await client.query("BEGIN");
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO jobs (config_type, scope, config, status, created_at)
     VALUES ('sync', $1, jsonb_build_object('n', $2::int), 'running', now()) RETURNING id`,
    [`writer-${n}`, n],
  );
  await client.query(
    `INSERT INTO attempts (job_id, attempt_number, status, created_at) VALUES ($1, 0, 'running', now())`,
    [rows[0].id],
  );
  await client.query(
    `INSERT INTO airbyte_metadata VALUES ('writer_counter', $1)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    [String(n)],
  );
  await client.query("COMMIT");
}

it("copies a consistent snapshot while writes keep landing on the source", async () => {
  const writer = await source.connect("db-airbyte");
  let written = 0;
  let stop = false;
  const loop = (async () => {
    while (!stop) await writeOnce(writer, ++written);
  })();
  try {
    while (written < 20) await new Promise((r) => setTimeout(r, 10));
    const env = cliEnv({ SOURCE_DATABASE_URL: source.url(), TARGET_DATABASE_URL: target.url() });
    const result = await runCli(
      ["copy", "--databases", "db-airbyte", "--json", "--split-mb", "1"],
      env,
    );
    expect(result.stderr).toBe("");
    const verify = verifyResult(result.stdout);
    const differences = [...verify.tables, ...verify.sequences].filter((x) => !x.ok);
    expect(result.code, JSON.stringify(differences)).toBe(0);
    // copy's verify compares against its own snapshot, so it passes while the source moves on.
    expect(verifyResult(result.stdout).ok).toBe(true);
  } finally {
    stop = true;
    await loop;
    await writer.end();
  }

  const t = await target.connect("db-airbyte");
  try {
    const counter = await t.query<{ value: string }>(
      "SELECT value FROM airbyte_metadata WHERE key = 'writer_counter'",
    );
    const k = Number(counter.rows[0].value);
    const jobs = await t.query<{ n: number }>(
      "SELECT substr(scope, 8)::int AS n FROM jobs WHERE scope LIKE 'writer-%' ORDER BY 1",
    );
    expect(jobs.rows.map((r) => r.n)).toEqual(Array.from({ length: k }, (_, i) => i + 1));
    const attempts = await t.query<{ n: string }>(
      "SELECT count(*) AS n FROM attempts a JOIN jobs j ON j.id = a.job_id WHERE j.scope LIKE 'writer-%'",
    );
    expect(Number(attempts.rows[0].n)).toBe(k);
    expect(k).toBeGreaterThanOrEqual(20);
    expect(written).toBeGreaterThan(k);
  } finally {
    await t.end();
  }
}, 120_000);
