/**
 * `airbyte-migrate sync <setup|status|check-schema>` and `airbyte-migrate failover`: the
 * replication commands of topology v2 (docs/replication.md). migrations/cli.ts routes here.
 */
import { MigrateError, pgErrorInfo } from "../lib/errors";
import { createReporter, Reporter } from "../lib/progress";
import { redact } from "../lib/redact";
import { checkSchemaCommand, formatCheckSchema } from "./check-schema";
import { failoverCommand, formatFailover } from "./failover";
import { parseReplicationOptions } from "./options";
import { formatSetup, setupCommand } from "./setup";
import { formatStatus, statusCommand } from "./status";

const DRIFT = 3;
const LAGGING = 4;
/** failover: database steps done and verified, the Airbyte API step (re-arm) failed. */
const REARM_FAILED = 5;

/** Whether argv names a replication command (for migrations/cli.ts). */
export function isReplicationCommand(argv: string[]): boolean {
  const first = argv.find((a) => !a.startsWith("-"));
  return first === "sync" || first === "failover";
}

export async function replicationMain(argv: string[]): Promise<number> {
  const json = argv.includes("--json");
  let reporter: Reporter | undefined;
  try {
    const opts = parseReplicationOptions(argv);
    if (!opts) return 0;
    const r = createReporter(opts.json);
    reporter = r;
    switch (opts.command) {
      case "setup": {
        const result = await setupCommand(opts, r);
        r.result("setup", result, formatSetup(result));
        return result.verify && !result.verify.ok ? DRIFT : 0;
      }
      case "status": {
        const result = await statusCommand(opts);
        r.result("status", result, formatStatus(result, opts));
        return result.overThreshold ? LAGGING : 0;
      }
      case "check-schema": {
        const result = await checkSchemaCommand(opts);
        r.result("check-schema", result, formatCheckSchema(result));
        return result.ok ? 0 : DRIFT;
      }
      case "failover": {
        const result = await failoverCommand(opts, r);
        r.result("failover", result, formatFailover(result));
        return result.schedulingError ? REARM_FAILED : 0;
      }
      default:
        throw new MigrateError(`unknown command ${String(opts.command satisfies never)}`, 2);
    }
  } catch (err) {
    reporter?.close();
    const exitCode = err instanceof MigrateError ? err.exitCode : 1;
    const { code, message } = pgErrorInfo(err);
    const text = code ? `${message} (SQLSTATE ${code})` : message;
    if (json) {
      process.stdout.write(
        JSON.stringify({ event: "error", message: redact(text), exitCode }) + "\n",
      );
    }
    process.stderr.write(`airbyte-migrate: error: ${redact(text)}\n`);
    return exitCode;
  } finally {
    reporter?.close();
  }
}
