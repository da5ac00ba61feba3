/**
 * An Airbyte-like write load on prod's `db-airbyte`, shared by the replication tests and the
 * benchmark. Each transaction inserts a job (its id is the probe: jobs.id grows with commit
 * order because one connection writes), an attempt and two stream_stats rows, finishes the
 * previous job and attempt, and every few transactions updates and deletes rows of the tables
 * without a primary key (observability_stream_stats, application, stream_reset) - the statements
 * that fail on prod if their REPLICA IDENTITY is missing.
 */
import type { Client } from "pg";

export interface Committed {
  jobId: number;
  /** Date.now() when COMMIT returned: an upper bound of the commit instant. */
  at: number;
}

export interface Load {
  committed: Committed[];
  /** Transactions whose COMMIT was sent but did not return (crash tests). */
  inFlight: number;
  /** Why the writer stopped on its own (the server died, or a statement failed). */
  error: Error | undefined;
  stop(): Promise<void>;
}

async function transaction(
  client: Client,
  n: number,
  previous: number | undefined,
): Promise<number> {
  await client.query("BEGIN");
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO jobs (config_type, scope, config, status, started_at, created_at, updated_at)
     VALUES ('sync', 'load-' || $1::int, jsonb_build_object('n', $1::int, 'streams', 4),
             'running', now(), now(), now()) RETURNING id`,
    [n],
  );
  const jobId = Number(rows[0].id);
  const attempt = await client.query<{ id: string }>(
    `INSERT INTO attempts (job_id, attempt_number, status, created_at, updated_at, log_path)
     VALUES ($1::int8, 0, 'running', now(), now(), '/workspace/' || $1::text || '/0/logs.log') RETURNING id`,
    [jobId],
  );
  await client.query(
    `INSERT INTO stream_stats (id, attempt_id, stream_name, records_emitted, bytes_emitted)
     SELECT gen_random_uuid(), $1, 'stream_' || g, g * 100, g * 4096 FROM generate_series(1, 2) g`,
    [attempt.rows[0].id],
  );
  if (previous !== undefined) {
    await client.query("UPDATE jobs SET status = 'succeeded', updated_at = now() WHERE id = $1", [
      previous,
    ]);
    await client.query(
      "UPDATE attempts SET status = 'succeeded', ended_at = now() WHERE job_id = $1",
      [previous],
    );
  }
  if (n % 5 === 0) {
    // Tables without a primary key: updates and deletes by full-row identity.
    await client.query(
      `UPDATE observability_stream_stats SET records_loaded = records_loaded + 1
        WHERE job_id = (SELECT min(job_id) FROM observability_stream_stats)`,
    );
    await client.query(
      `DELETE FROM observability_stream_stats
        WHERE job_id = (SELECT max(job_id) FROM observability_stream_stats WHERE job_id < 1000000)`,
    );
    await client.query(
      `INSERT INTO observability_stream_stats VALUES
         (gen_random_uuid(), 1000000 + $1::int, 'public', 'load', 1, 1, 0, false, 0.5)`,
      [n],
    );
  }
  if (n % 10 === 0) {
    await client.query(
      "UPDATE application SET name = 'App load ' || $1::int WHERE client_id = 'client-1'",
      [n],
    );
    await client.query(
      `INSERT INTO stream_reset VALUES (gen_random_uuid(), gen_random_uuid(), NULL, 'load-' || $1::int, now())`,
      [n],
    );
    await client.query("DELETE FROM stream_reset WHERE stream_name = 'load-' || ($1::int - 10)", [
      n,
    ]);
  }
  await client.query("COMMIT");
  return jobId;
}

/** Write at `rate` transactions a second until stopped (or until the server dies). */
export function startLoad(client: Client, rate: number): Load {
  const committed: Committed[] = [];
  let stopped = false;
  let inFlight = 0;
  let error: Error | undefined;
  const interval = 1000 / rate;
  const loop = (async () => {
    const start = Date.now();
    let previous: number | undefined;
    for (let n = 1; !stopped; n++) {
      const due = start + n * interval;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      inFlight = 1;
      try {
        previous = await transaction(client, n, previous);
      } catch (err) {
        // The server died (crash test): what committed is in `committed`.
        error = err as Error;
        return;
      }
      inFlight = 0;
      committed.push({ jobId: previous, at: Date.now() });
    }
  })();
  return {
    committed,
    get inFlight() {
      return inFlight;
    },
    get error() {
      return error;
    },
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
