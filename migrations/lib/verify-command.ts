/** `verify` on its own: each database compared under a fresh snapshot of the source. */
import { listSequences, listTables } from "./catalog";
import { Context, splitBytesFor } from "./context";
import type { Reporter } from "./progress";
import { existingDatabases } from "./servers";
import { SourceSnapshot } from "./session";
import { mergeResults, verifyDatabase, VerifyResult } from "./verify";
import { MigrateError } from "./errors";
import { describe } from "./endpoint";

export async function verifyCommand(ctx: Context, reporter: Reporter): Promise<VerifyResult> {
  const { opts } = ctx;
  const present = await existingDatabases(
    ctx.targetAdmin,
    opts.databases.map((d) => d.target),
  );
  const missing = opts.databases.filter((d) => !present.has(d.target)).map((d) => `"${d.target}"`);
  if (missing.length > 0) {
    throw new MigrateError(
      `target database(s) ${missing.join(", ")} do not exist on the ${describe(opts.target)}: run copy first, or fix --databases / --map`,
    );
  }
  const results: VerifyResult[] = [];
  for (const pair of opts.databases) {
    reporter.phase(pair.target, `verify against source database "${pair.source}"`);
    const snap = await SourceSnapshot.open(opts.source, pair.source);
    try {
      const tables = await listTables(snap.client);
      results.push(
        await verifyDatabase({
          snapshot: snap,
          tables,
          sequences: await listSequences(snap.client),
          target: opts.target,
          targetDb: pair.target,
          jobs: opts.jobs,
          splitBytes: splitBytesFor(opts, tables),
        }),
      );
    } finally {
      await snap.close();
    }
  }
  return mergeResults(results);
}
