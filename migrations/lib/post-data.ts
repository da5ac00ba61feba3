/**
 * The post-data phase: indexes, constraints and triggers built after the rows, in parallel by
 * `pg_restore --jobs` (which orders foreign keys after the indexes they need).
 *
 * A killed run may have built some of them already; each is built in its own transaction, so it
 * either exists completely or not at all. Entries whose object already exists on the target are
 * commented out of the restore list, which makes this phase safe to run again on --resume.
 */
import fs from "node:fs";
import path from "node:path";
import type { Client } from "pg";
import type { Endpoint } from "./endpoint";
import { listContents, PgTools, restoreSection } from "./pgtools";

/** Names (schema-qualified) of indexes, constraints and triggers present on the target. */
async function existingObjects(target: Client): Promise<Set<string>> {
  const { rows } = await target.query<{ k: string }>(`
    SELECT 'INDEX ' || n.nspname || ' ' || c.relname AS k
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('i', 'I')
    UNION ALL
    SELECT 'CONSTRAINT ' || n.nspname || ' ' || c.relname || ' ' || con.conname
      FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
    UNION ALL
    SELECT 'TRIGGER ' || n.nspname || ' ' || c.relname || ' ' || t.tgname
      FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT t.tgisinternal`);
  return new Set(rows.map((r) => r.k));
}

/**
 * The key under which an entry of `pg_restore --list` would exist on the target, e.g.
 * `123; 2606 16412 FK CONSTRAINT public attempts attempts_job_id_fkey owner`
 * -> `CONSTRAINT public attempts attempts_job_id_fkey`.
 */
export function entryKey(line: string): string | undefined {
  const m = /^\d+; \d+ \d+ (INDEX|CONSTRAINT|FK CONSTRAINT|TRIGGER) (\S+) (.*)$/.exec(line);
  if (!m) return undefined;
  const [, kind, schema, rest] = m;
  const words = rest.split(" ");
  if (kind === "INDEX") return `INDEX ${schema} ${words[0]}`;
  const type = kind === "TRIGGER" ? "TRIGGER" : "CONSTRAINT";
  return `${type} ${schema} ${words[0]} ${words[1]}`;
}

/** Restore list with entries that already exist on the target commented out. */
export function filterContents(
  contents: string,
  existing: Set<string>,
): { list: string; skipped: number } {
  let skipped = 0;
  const list = contents
    .split("\n")
    .map((line) => {
      const key = entryKey(line);
      if (key && existing.has(key)) {
        skipped++;
        return `;${line}`;
      }
      return line;
    })
    .join("\n");
  return { list, skipped };
}

export async function restorePostData(opts: {
  tools: PgTools;
  target: Endpoint;
  targetDb: string;
  targetClient: Client;
  dumpFile: string;
  jobs: number;
  keepOwners: boolean;
}): Promise<{ skipped: number }> {
  const contents = await listContents(opts.tools, opts.dumpFile);
  const { list, skipped } = filterContents(contents, await existingObjects(opts.targetClient));
  const listFile = path.join(path.dirname(opts.dumpFile), "post-data.list");
  fs.writeFileSync(listFile, list);
  await restoreSection(opts.tools, opts.target, opts.targetDb, opts.dumpFile, {
    section: "post-data",
    jobs: opts.jobs,
    listFile,
    keepOwners: opts.keepOwners,
  });
  return { skipped };
}
