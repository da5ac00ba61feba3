/**
 * Source sessions: read-only, all in one exported snapshot.
 *
 * One connection (the holder) opens a REPEATABLE READ READ ONLY transaction and exports its
 * snapshot; every worker and pg_dump import it, so each table is read as of the same instant
 * while the source keeps taking writes. The export is only valid while the holder's transaction
 * is open, so the holder stays open until the caller closes the snapshot.
 */
import type { Client } from "pg";
import { connect, Endpoint } from "./endpoint";

/**
 * Settings that make text forms identical on both servers (verify compares them) and that keep
 * long copies from being cut off by server-side timeouts.
 */
export const SESSION_SETTINGS = `
  SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres';
  SET extra_float_digits = 1; SET bytea_output = 'hex';
  SET statement_timeout = 0; SET idle_in_transaction_session_timeout = 0`;

/** Open a source session that cannot write, whatever it is asked. */
async function readOnlySession(ep: Endpoint, database: string): Promise<Client> {
  const client = await connect(ep, database);
  await client.query(`${SESSION_SETTINGS}; SET default_transaction_read_only = on`);
  return client;
}

export class SourceSnapshot {
  private constructor(
    private readonly ep: Endpoint,
    readonly database: string,
    readonly id: string,
    /** The holder, inside the snapshot transaction: use it for catalog reads. */
    readonly client: Client,
  ) {}

  static async open(ep: Endpoint, database: string): Promise<SourceSnapshot> {
    const client = await readOnlySession(ep, database);
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    const { rows } = await client.query<{ id: string }>("SELECT pg_export_snapshot() AS id");
    return new SourceSnapshot(ep, database, rows[0].id, client);
  }

  /** A new connection inside the same snapshot; the caller ends it. */
  async session(): Promise<Client> {
    const client = await readOnlySession(this.ep, this.database);
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    await client.query(`SET TRANSACTION SNAPSHOT '${this.id}'`);
    return client;
  }

  async close(): Promise<void> {
    await this.client.query("COMMIT").catch(() => undefined);
    await this.client.end().catch(() => undefined);
  }
}
