/**
 * A small client for Airbyte's config API (airbyte-server, `/api/v1/...`), just what failover
 * needs: a token for the instance admin application, the workspaces, their connections, and an
 * update per active connection.
 *
 * Why an update: scheduling lives in Temporal (one ConnectionManager workflow per connection) and
 * the replica's Temporal starts empty. The server's connection update path terminates any
 * leftover workflow and submits a new one (reference/airbyte-platform.md §11), so sending each
 * active connection's own status and schedule back re-arms it without changing it.
 */
import { MigrateError } from "../lib/errors";

export interface AirbyteCredentials {
  url: string;
  clientId: string;
  clientSecret: string;
}

export interface ConnectionSummary {
  connectionId: string;
  name: string;
  status: string;
  scheduleType?: string;
  scheduleData?: unknown;
}

export interface RearmResult {
  workspaces: number;
  rearmed: ConnectionSummary[];
  skipped: ConnectionSummary[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export class AirbyteApi {
  private token: string | undefined;

  constructor(private readonly creds: AirbyteCredentials) {}

  private endpoint(path: string): string {
    return new URL(`/api/v1/${path}`, this.creds.url).toString();
  }

  private async post(path: string, body: unknown, auth = true): Promise<Record<string, unknown>> {
    const headers: Record<string, string> = {
      "content-type": "application/json",
      accept: "application/json",
    };
    if (auth) headers.authorization = `Bearer ${await this.accessToken()}`;
    let res: Response;
    try {
      res = await fetch(this.endpoint(path), {
        method: "POST",
        headers,
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      throw new MigrateError(
        `cannot reach Airbyte at ${this.creds.url} (${(err as Error).message}): check --airbyte-url ` +
          `and that the replica's airbyte-server is running`,
      );
    }
    const text = await res.text();
    if (!res.ok) {
      const hint =
        res.status === 401 || res.status === 403
          ? ": check --airbyte-client-id/--airbyte-client-secret (airbyte-auth-secrets)"
          : "";
      throw new MigrateError(
        `Airbyte ${path} answered HTTP ${res.status}${hint}: ${text.slice(0, 300)}`,
      );
    }
    const parsed: unknown = text ? JSON.parse(text) : {};
    if (!isRecord(parsed)) throw new MigrateError(`Airbyte ${path} answered ${text.slice(0, 200)}`);
    return parsed;
  }

  async accessToken(): Promise<string> {
    if (this.token) return this.token;
    const body = await this.post(
      "applications/token",
      {
        client_id: this.creds.clientId,
        client_secret: this.creds.clientSecret,
        // Public clients spell the grant type both ways and the server ignores what it does
        // not read; sending both keeps either server version content.
        grant_type: "client_credentials",
        "grant-type": "client_credentials",
      },
      false,
    );
    const token = body.access_token;
    if (typeof token !== "string") {
      throw new MigrateError("Airbyte applications/token returned no access_token");
    }
    this.token = token;
    return token;
  }

  async workspaceIds(): Promise<string[]> {
    const body = await this.post("workspaces/list", {});
    const list = Array.isArray(body.workspaces) ? body.workspaces : [];
    return list.flatMap((w: unknown) =>
      isRecord(w) && typeof w.workspaceId === "string" ? [w.workspaceId] : [],
    );
  }

  async connections(workspaceId: string): Promise<ConnectionSummary[]> {
    const body = await this.post("connections/list", { workspaceId });
    const list = Array.isArray(body.connections) ? body.connections : [];
    return list.flatMap((c: unknown) =>
      isRecord(c) && typeof c.connectionId === "string" && typeof c.status === "string"
        ? [
            {
              connectionId: c.connectionId,
              name: typeof c.name === "string" ? c.name : c.connectionId,
              status: c.status,
              scheduleType: typeof c.scheduleType === "string" ? c.scheduleType : undefined,
              scheduleData: c.scheduleData,
            },
          ]
        : [],
    );
  }

  /** Send the connection's own status and schedule back: the server re-creates its workflow. */
  async rearm(c: ConnectionSummary): Promise<void> {
    const body: Record<string, unknown> = { connectionId: c.connectionId, status: c.status };
    if (c.scheduleType !== undefined) body.scheduleType = c.scheduleType;
    if (c.scheduleData !== undefined) body.scheduleData = c.scheduleData;
    await this.post("connections/update", body);
  }

  /** Re-arm every active connection of every workspace. */
  async rearmAll(onEach?: (c: ConnectionSummary) => void): Promise<RearmResult> {
    const workspaces = await this.workspaceIds();
    const rearmed: ConnectionSummary[] = [];
    const skipped: ConnectionSummary[] = [];
    for (const w of workspaces) {
      for (const c of await this.connections(w)) {
        if (c.status !== "active") {
          skipped.push(c);
          continue;
        }
        await this.rearm(c);
        rearmed.push(c);
        onEach?.(c);
      }
    }
    return { workspaces: workspaces.length, rearmed, skipped };
  }
}
