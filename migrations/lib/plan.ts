/**
 * `plan`: what `copy` would do, read-only on both sides: versions, databases, tables with
 * estimated rows and sizes, tables without a primary key, sequences, extensions and warnings.
 */
import {
  displayName,
  Extension,
  listExtensions,
  listSequences,
  listTables,
  unreadableTables,
} from "./catalog";
import type { Context } from "./context";
import { connect, describe } from "./endpoint";
import * as fmt from "./format";
import { locatePgTools } from "./pgtools";
import { SESSION_SETTINGS } from "./session";
import { targetState, TargetState } from "./servers";

export interface DatabasePlan {
  source: string;
  target: string;
  targetState: TargetState;
  bytes: number;
  tables: {
    name: string;
    estRows: number;
    bytes: number;
    totalBytes: number;
    primaryKey: string[];
  }[];
  tablesWithoutPrimaryKey: string[];
  sequences: string[];
  extensions: Extension[];
}

export interface Plan {
  source: { server: string; version: string; readOnly: true };
  target: { server: string; version: string };
  pgDump: string | null;
  jobs: number;
  databases: DatabasePlan[];
  warnings: string[];
}

export async function planCommand(ctx: Context): Promise<Plan> {
  const { opts } = ctx;
  const warnings: string[] = [];
  let pgDump: string | null = null;
  try {
    pgDump = (await locatePgTools(opts.pgDump, opts.pgDumpOrigin, ctx.sourceInfo.major)).pgDump;
  } catch (err) {
    warnings.push((err as Error).message);
  }
  if (ctx.targetInfo.major > ctx.sourceInfo.major) {
    warnings.push(
      `the target is a newer major (${ctx.targetInfo.major}) than the source (${ctx.sourceInfo.major}): ` +
        `fine for a copy; run the same or a newer Airbyte against it`,
    );
  }
  const databases: DatabasePlan[] = [];
  for (const pair of opts.databases) {
    const client = await connect(opts.source, pair.source);
    try {
      await client.query(`${SESSION_SETTINGS}; SET default_transaction_read_only = on`);
      const tables = await listTables(client);
      const sequences = await listSequences(client);
      const unreadable = await unreadableTables(client);
      if (unreadable.length > 0) {
        warnings.push(
          `"${pair.source}": user "${opts.source.user}" cannot read ${unreadable.join(", ")}: GRANT SELECT to it`,
        );
      }
      const { state, relations } = await targetState(opts.target, ctx.targetAdmin, pair.target);
      if (state === "data") {
        warnings.push(
          `target database "${pair.target}" is not empty (${relations} relations): copy will refuse it unless --drop-existing`,
        );
      } else if (state === "checkpoints") {
        warnings.push(
          `target database "${pair.target}" holds an unfinished copy: continue it with copy --resume`,
        );
      } else if (state === "absent") {
        const { rows } = await ctx.targetAdmin.query<{ ok: boolean }>(
          "SELECT rolcreatedb OR rolsuper AS ok FROM pg_roles WHERE rolname = current_user",
        );
        if (!rows[0]?.ok) {
          warnings.push(
            `target database "${pair.target}" does not exist and user "${opts.target.user}" may not create it: ` +
              `ALTER ROLE "${opts.target.user}" CREATEDB, or create it beforehand`,
          );
        }
      }
      databases.push({
        source: pair.source,
        target: pair.target,
        targetState: state,
        bytes: tables.reduce((s, t) => s + t.totalBytes, 0),
        tables: tables.map((t) => ({
          name: displayName(t),
          estRows: t.estRows,
          bytes: t.bytes,
          totalBytes: t.totalBytes,
          primaryKey: t.primaryKey,
        })),
        tablesWithoutPrimaryKey: tables.filter((t) => t.primaryKey.length === 0).map(displayName),
        sequences: sequences.map(displayName),
        extensions: await listExtensions(client),
      });
    } finally {
      await client.end();
    }
  }
  return {
    source: { server: describe(opts.source), version: ctx.sourceInfo.version, readOnly: true },
    target: { server: describe(opts.target), version: ctx.targetInfo.version },
    pgDump,
    jobs: opts.jobs,
    databases,
    warnings,
  };
}

export function formatPlan(plan: Plan): string {
  const out: string[] = [
    `source: ${plan.source.server}, PostgreSQL ${plan.source.version} (read-only: every session is a READ ONLY transaction; nothing is written to the source)`,
    `target: ${plan.target.server}, PostgreSQL ${plan.target.version}`,
    `pg_dump: ${plan.pgDump ?? "NOT USABLE (see warnings)"}; ${plan.jobs} parallel connection(s)`,
    "",
  ];
  for (const db of plan.databases) {
    out.push(
      `database "${db.source}" -> "${db.target}" (target: ${db.targetState}), ${fmt.bytes(db.bytes)} with indexes`,
    );
    out.push(
      fmt.table(
        ["table", "est. rows", "size", "with indexes", "primary key"],
        db.tables.map((t) => [
          t.name,
          fmt.count(t.estRows),
          fmt.bytes(t.bytes),
          fmt.bytes(t.totalBytes),
          t.primaryKey.join(", ") || "NONE",
        ]),
      ),
    );
    out.push(`tables without a primary key: ${db.tablesWithoutPrimaryKey.join(", ") || "none"}`);
    out.push(`sequences: ${db.sequences.join(", ") || "none"}`);
    out.push(
      `extensions: ${db.extensions.map((e) => `${e.name} ${e.version}`).join(", ") || "none"}`,
    );
    out.push("");
  }
  out.push(
    plan.warnings.length > 0
      ? `warnings:\n${plan.warnings.map((w) => `  - ${w}`).join("\n")}`
      : "warnings: none",
  );
  return out.join("\n");
}
