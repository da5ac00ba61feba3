/**
 * Helpers for the migration tests: run the CLI as a user does (node + the bin shim), and read
 * every row of a table in a canonical text form for direct comparisons.
 */
import { ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import type { Client } from "pg";

export const CLI = path.resolve(__dirname, "../../migrations/bin/airbyte-migrate.js");

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Environment without the caller's connection variables, plus `extra`. */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.SOURCE_DATABASE_URL;
  delete env.TARGET_DATABASE_URL;
  delete env.PG_DUMP;
  return { ...env, ...extra };
}

/** Start the CLI; `done` resolves when it exits. */
export function startCli(
  args: string[],
  env: NodeJS.ProcessEnv = cliEnv(),
): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve) => {
    child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

export function runCli(args: string[], env?: NodeJS.ProcessEnv): Promise<CliResult> {
  return startCli(args, env).done;
}

/** JSON lines printed with --json. */
export function jsonEvents(stdout: string): Record<string, unknown>[] {
  return stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * SIGKILL a started CLI as soon as it prints a JSON event matching `when`; rejects if the CLI
 * exits first. Resolves with the matching event.
 */
export function killOnEvent(
  run: { child: ChildProcess; done: Promise<CliResult> },
  when: (event: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let buffered = "";
    run.child.stdout?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const complete = buffered.slice(0, buffered.lastIndexOf("\n") + 1);
      const hit = jsonEvents(complete).find(when);
      if (hit && run.child.exitCode === null && !run.child.killed) {
        run.child.kill("SIGKILL");
        resolve(hit);
      }
    });
    run.done.then(
      (r) => reject(new Error(`the CLI ended before it could be killed:\n${r.stderr}`)),
      reject,
    );
  });
}

/** The `data` of the final verify result printed with --json. */
export interface VerifyData {
  ok: boolean;
  tables: { table: string; ok: boolean }[];
  sequences: { sequence: string; ok: boolean }[];
}

export function verifyResult(stdout: string): VerifyData {
  const event = jsonEvents(stdout).find((e) => e.event === "result" && e.kind === "verify");
  if (!event) throw new Error(`no verify result in output:\n${stdout.slice(-2000)}`);
  return event.data as VerifyData;
}

/** User tables of a database, schema-qualified and quoted, excluding the tool's checkpoints. */
export async function userTables(client: Client): Promise<string[]> {
  const { rows } = await client.query<{ t: string }>(`
    SELECT format('%I.%I', schemaname, tablename) AS t FROM pg_tables
     WHERE schemaname NOT IN ('pg_catalog', 'information_schema', 'airbyte_migrate')
     ORDER BY 1`);
  return rows.map((r) => r.t);
}

/** Every row of a table as text, sorted: a multiset, so a doubled row shows. */
export async function allRows(client: Client, table: string): Promise<string[]> {
  await client.query(
    "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 1",
  );
  const { rows } = await client.query<{ r: string }>(`SELECT ROW(t.*)::text AS r FROM ${table} t`);
  return rows.map((x) => x.r).sort();
}

/** Index and constraint names of a database, sorted. */
export async function indexesAndConstraints(client: Client): Promise<string[]> {
  const { rows } = await client.query<{ n: string }>(`
    SELECT 'index ' || indexname AS n FROM pg_indexes WHERE schemaname = 'public'
    UNION ALL
    SELECT 'constraint ' || conname || ' ' || contype::text FROM pg_constraint c
      JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'public'
    ORDER BY 1`);
  return rows.map((r) => r.n);
}
