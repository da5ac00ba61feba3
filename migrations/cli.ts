/**
 * airbyte-migrate: copy, verify and resume Airbyte's PostgreSQL databases between servers.
 * `npm run migrate -- <plan|copy|verify> [options]`; see `--help` and docs/migrations.md.
 */
import { openContext } from "./lib/context";
import { copyCommand } from "./lib/copy";
import { MigrateError, pgErrorInfo } from "./lib/errors";
import { parseOptions } from "./lib/options";
import { formatPlan, planCommand } from "./lib/plan";
import { createReporter, Reporter } from "./lib/progress";
import { redact } from "./lib/redact";
import { formatVerify, VerifyResult } from "./lib/verify";
import { verifyCommand } from "./lib/verify-command";
import { isReplicationCommand, replicationMain } from "./replication/cli";

/** Exit status when verify finds a difference. */
const DIFFERENT = 3;

function reportVerify(reporter: Reporter, result: VerifyResult): number {
  reporter.result("verify", result, formatVerify(result));
  return result.ok ? 0 : DIFFERENT;
}

function describeFailure(err: unknown): { message: string; exitCode: number } {
  if (err instanceof MigrateError) return { message: err.message, exitCode: err.exitCode };
  const { code, message } = pgErrorInfo(err);
  return { message: code ? `${message} (SQLSTATE ${code})` : message, exitCode: 1 };
}

export async function main(argv: string[]): Promise<number> {
  // Object storage has its own flags and module (migrations/objects/cli.ts), loaded only when
  // asked for: its S3 client must not weigh on (or break) the database commands.
  if (argv[0] === "objects") {
    // A CommonJS require: tsx resolves it like the static imports (a dynamic import() it does not).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const objects = require("./objects/cli") as typeof import("./objects/cli");
    return objects.objectsMain(argv.slice(1));
  }
  // Replication (sync setup|status|check-schema, failover): migrations/replication/cli.ts.
  if (isReplicationCommand(argv)) return replicationMain(argv);
  let json = argv.includes("--json");
  let reporter: Reporter | undefined;
  try {
    const opts = parseOptions(argv);
    if (!opts) return 0;
    json = opts.json;
    const r = createReporter(opts.json);
    reporter = r;
    const ctx = await openContext(opts);
    try {
      switch (opts.command) {
        case "plan": {
          const plan = await planCommand(ctx);
          r.result("plan", plan, formatPlan(plan));
          return 0;
        }
        case "verify":
          return reportVerify(r, await verifyCommand(ctx, r));
        case "copy": {
          const started = Date.now();
          const result = await copyCommand(ctx, r);
          r.info(`copy finished in ${((Date.now() - started) / 1000).toFixed(1)} s`);
          return result ? reportVerify(r, result) : 0;
        }
        default:
          throw new MigrateError(`unknown command ${String(opts.command satisfies never)}`, 2);
      }
    } finally {
      await ctx.close();
    }
  } catch (err) {
    reporter?.close();
    const { message, exitCode } = describeFailure(err);
    if (json)
      process.stdout.write(
        JSON.stringify({ event: "error", message: redact(message), exitCode }) + "\n",
      );
    process.stderr.write(`airbyte-migrate: error: ${redact(message)}\n`);
    return exitCode;
  } finally {
    reporter?.close();
  }
}

/** Run with the process arguments and set the exit status. */
export function run(): void {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`airbyte-migrate: unexpected error: ${redact(String(err))}\n`);
      process.exitCode = 1;
    },
  );
}

if (require.main === module) run();
