/**
 * `airbyte-migrate objects <mirror|verify>`: the object storage group, routed here from
 * migrations/cli.ts. Same conventions as the database commands: redacted messages, `--json`
 * lines, exit 1 on failure, 2 on usage errors, 3 when verify finds differences.
 */
import { MigrateError } from "../lib/errors";
import { createReporter, Reporter } from "../lib/progress";
import { redact } from "../lib/redact";
import { parseObjectsOptions } from "./options";
import { formatWalk } from "./report";
import { runObjects } from "./walk";

/** Exit status when verify finds a difference (as for the database verify). */
const DIFFERENT = 3;

export async function objectsMain(argv: string[]): Promise<number> {
  let json = argv.includes("--json");
  let reporter: Reporter | undefined;
  try {
    const opts = parseObjectsOptions(argv);
    if (!opts) return 0;
    json = opts.json;
    reporter = createReporter(opts.json);
    const result = await runObjects(opts, reporter);
    reporter.result(`objects-${result.command}`, result, formatWalk(result));
    if (result.ok) return 0;
    return result.command === "verify" ? DIFFERENT : 1;
  } catch (err) {
    reporter?.close();
    const exitCode = err instanceof MigrateError ? err.exitCode : 1;
    const message = redact(err instanceof Error ? err.message : String(err));
    if (json) process.stdout.write(JSON.stringify({ event: "error", message, exitCode }) + "\n");
    process.stderr.write(`airbyte-migrate objects: error: ${message}\n`);
    return exitCode;
  } finally {
    reporter?.close();
  }
}
