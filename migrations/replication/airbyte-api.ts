/**
 * A small client for Airbyte's config API (airbyte-server, `/api/v1/...`), just what failover
 * needs: a token for the instance admin application, the default organization's workspaces, their
 * connections, and an update per active connection. Only routes of Airbyte 2.0.0's spec
 * (airbytehq/airbyte-platform v2.0.0, airbyte-api/server-api/src/main/openapi/config.yaml; the
 * facts are in test/replication/airbyte-api-contract.json): `workspaces/list` is gone since 1.7.
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

/** Workspaces asked for per page of `workspaces/list_by_organization_id`. */
const WORKSPACE_PAGE = 100;

export class AirbyteApi {
  private token: string | undefined;

  constructor(private readonly creds: AirbyteCredentials) {}

  private endpoint(path: string): string {
    return new URL(`/api/v1/${path}`, this.creds.url).toString();
  }

  private async post(path: string, body: unknown, auth = true): Promise<Record<string, unknown>> {
    return this.call("POST", path, body, auth);
  }

  private async call(
    method: "GET" | "POST",
    path: string,
    body: unknown,
    auth: boolean,
  ): Promise<Record<string, unknown>> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (method === "POST") headers["content-type"] = "application/json";
    if (auth) headers.authorization = `Bearer ${await this.accessToken()}`;
    let res: Response;
    try {
      res = await fetch(this.endpoint(path), {
        method,
        headers,
        body: method === "POST" ? JSON.stringify(body) : undefined,
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
        res.status === 401 || res.status === 403 || (res.status === 400 && !auth)
          ? ": check --airbyte-client-id/--airbyte-client-secret (airbyte-auth-secrets)"
          : res.status === 404
            ? ": no such route or object (is --airbyte-url Airbyte 2.0's airbyte-server, port 8001?)"
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
      // ApplicationTokenRequest: client_id and client_secret, nothing else (2.0.0 answers 400
      // unless both are the instance admin's).
      { client_id: this.creds.clientId, client_secret: this.creds.clientSecret },
      false,
    );
    const token = body.access_token;
    if (typeof token !== "string") {
      throw new MigrateError("Airbyte applications/token returned no access_token");
    }
    this.token = token;
    return token;
  }

  /** The instance's default organization, as `instance_configuration` (anonymous) names it. */
  async defaultOrganizationId(): Promise<string> {
    const body = await this.call("GET", "instance_configuration", undefined, false);
    const id = body.defaultOrganizationId;
    if (typeof id !== "string") {
      throw new MigrateError("Airbyte instance_configuration returned no defaultOrganizationId");
    }
    return id;
  }

  /** Every workspace of the default organization, a page at a time (the instance admin sees all). */
  async workspaceIds(pageSize = WORKSPACE_PAGE): Promise<string[]> {
    const organizationId = await this.defaultOrganizationId();
    const ids: string[] = [];
    for (let rowOffset = 0; ; rowOffset += pageSize) {
      const body = await this.post("workspaces/list_by_organization_id", {
        organizationId,
        pagination: { pageSize, rowOffset },
      });
      const list: unknown[] = Array.isArray(body.workspaces) ? body.workspaces : [];
      for (const w of list) {
        if (isRecord(w) && typeof w.workspaceId === "string") ids.push(w.workspaceId);
      }
      if (list.length < pageSize) return ids;
    }
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
