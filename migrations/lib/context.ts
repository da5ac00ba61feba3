/**
 * What every command first needs: both servers reachable, their versions compatible, the source
 * databases present, and a maintenance connection to each side.
 */
import type { Client } from "pg";
import type { Table } from "./catalog";
import { connect, Endpoint } from "./endpoint";
import type { Options } from "./options";
import { checkMajors, requireSourceDatabases, ServerInfo, serverInfo } from "./servers";

export interface Context {
  opts: Options;
  sourceAdmin: Client;
  targetAdmin: Client;
  sourceInfo: ServerInfo;
  targetInfo: ServerInfo;
  close(): Promise<void>;
}

export async function openContext(opts: Options): Promise<Context> {
  const sourceAdmin = await connect(opts.source, opts.source.maintenanceDb);
  let targetAdmin: Client | undefined;
  try {
    // Nothing this tool runs on the source may write.
    await sourceAdmin.query("SET default_transaction_read_only = on");
    targetAdmin = await connect(opts.target, opts.target.maintenanceDb);
    const sourceInfo = await serverInfo(sourceAdmin);
    const targetInfo = await serverInfo(targetAdmin);
    checkMajors(sourceInfo, targetInfo, opts.source, opts.target);
    await requireSourceDatabases(
      sourceAdmin,
      opts.source,
      opts.databases.map((d) => d.source),
    );
    const t = targetAdmin;
    return {
      opts,
      sourceAdmin,
      targetAdmin: t,
      sourceInfo,
      targetInfo,
      close: async () => {
        await Promise.all([
          sourceAdmin.end().catch(() => undefined),
          t.end().catch(() => undefined),
        ]);
      },
    };
  } catch (err) {
    await sourceAdmin.end().catch(() => undefined);
    await targetAdmin?.end().catch(() => undefined);
    throw err;
  }
}

/** Automatic split size: about four parts per connection, never below 32 MB. */
export function splitBytesFor(opts: Options, tables: Table[]): number {
  const totalBytes = tables.reduce((sum, t) => sum + t.bytes, 0);
  return opts.splitBytes ?? Math.max(32_000_000, Math.ceil(totalBytes / (4 * opts.jobs)));
}

/** The target as sessions inside the copied databases use it: acting as --owner when given. */
export function workEndpoint(opts: Options): Endpoint {
  return opts.owner === undefined ? opts.target : { ...opts.target, sessionRole: opts.owner };
}
