/**
 * A stand-in for a replica's airbyte-server: it serves only the routes of
 * test/replication/airbyte-api-contract.json (Airbyte 2.0.0's spec, with its provenance), checks
 * each one's method, bearer token and required request fields, and answers 404 to any other path,
 * as the real server does. Every request is recorded so a test can see what failover asked.
 */
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";

interface ContractRoute {
  operationId: string;
  method: "GET" | "POST";
  path: string;
  requiredRequestFields: string[];
}

const contract = JSON.parse(
  fs.readFileSync(path.join(__dirname, "../replication/airbyte-api-contract.json"), "utf8"),
) as { routes: ContractRoute[] };

export const DEFAULT_ORGANIZATION_ID = "00000000-0000-0000-0000-000000000000";

export interface FakeConnection {
  connectionId: string;
  name: string;
  status: "active" | "inactive" | "deprecated";
  scheduleType?: "manual" | "basic" | "cron";
  scheduleData?: unknown;
}

export interface FakeWorkspace {
  workspaceId: string;
  name: string;
  connections: FakeConnection[];
}

export interface FakeAirbyteOptions {
  clientId: string;
  clientSecret: string;
  workspaces: FakeWorkspace[];
  /** Answer this HTTP status to every `connections/update` (a server that fails mid-way). */
  failUpdates?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  body: Record<string, unknown>;
}

export interface FakeAirbyte {
  url: string;
  requests: RecordedRequest[];
  /** Bodies of the `connections/update` calls answered 200. */
  updates: Record<string, unknown>[];
  close(): Promise<void>;
}

const TOKEN = "eyJ.fake-instance-admin.jwt";

/** ConnectionRead with the fields the spec requires (beyond what failover reads). */
function connectionRead(c: FakeConnection): Record<string, unknown> {
  return {
    sourceId: "5c3e7a7e-0000-4000-8000-000000000001",
    destinationId: "5c3e7a7e-0000-4000-8000-000000000002",
    syncCatalog: { streams: [] },
    breakingChange: false,
    ...c,
  };
}

export function startFakeAirbyte(opts: FakeAirbyteOptions): Promise<FakeAirbyte> {
  const requests: RecordedRequest[] = [];
  const updates: Record<string, unknown>[] = [];
  const byName = [...opts.workspaces].sort((a, b) => a.name.localeCompare(b.name));

  const answer = (op: string, body: Record<string, unknown>): [number, unknown] => {
    switch (op) {
      case "getInstanceConfiguration":
        return [
          200,
          {
            airbyteUrl: "http://localhost:8000",
            auth: { mode: "simple" },
            defaultOrganizationId: DEFAULT_ORGANIZATION_ID,
            defaultOrganizationEmail: "admin@example.com",
            defaultUserId: "00000000-0000-0000-0000-000000000000",
            defaultWorkspaceId: opts.workspaces[0]?.workspaceId ?? DEFAULT_ORGANIZATION_ID,
            edition: "community",
            initialSetupComplete: true,
            trackingStrategy: "logging",
            version: "2.0.0",
            licenseStatus: "pro",
          },
        ];
      case "applicationTokenRequest":
        return body.client_id === opts.clientId && body.client_secret === opts.clientSecret
          ? [200, { access_token: TOKEN }]
          : [400, { message: "Invalid client id or token" }];
      case "listWorkspacesInOrganization": {
        if (body.organizationId !== DEFAULT_ORGANIZATION_ID) return [200, { workspaces: [] }];
        const page = body.pagination as { pageSize?: number; rowOffset?: number } | undefined;
        const from = page?.rowOffset ?? 0;
        const to = page?.pageSize === undefined ? undefined : from + page.pageSize;
        const workspaces = byName.slice(from, to).map((w) => ({
          workspaceId: w.workspaceId,
          organizationId: DEFAULT_ORGANIZATION_ID,
          customerId: w.workspaceId,
          name: w.name,
          slug: w.name.toLowerCase(),
          initialSetupComplete: true,
        }));
        return [200, { workspaces }];
      }
      case "listConnectionsForWorkspace": {
        const w = opts.workspaces.find((x) => x.workspaceId === body.workspaceId);
        return w
          ? [200, { connections: w.connections.map(connectionRead) }]
          : [404, { message: "workspace not found" }];
      }
      case "updateConnection": {
        if (opts.failUpdates) return [opts.failUpdates, { message: "internal error" }];
        const c = opts.workspaces
          .flatMap((w) => w.connections)
          .find((x) => x.connectionId === body.connectionId);
        if (!c) return [404, { message: "connection not found" }];
        updates.push(body);
        return [200, connectionRead({ ...c, ...body } as FakeConnection)];
      }
      default:
        return [500, { message: `no stand-in for ${op}` }];
    }
  };

  const server = http.createServer((req, res) => {
    let raw = "";
    req.on("data", (d: Buffer) => (raw += d.toString()));
    req.on("end", () => {
      const send = (code: number, obj: unknown) => {
        res.writeHead(code, { "content-type": "application/json" });
        res.end(JSON.stringify(obj));
      };
      const url = new URL(req.url ?? "/", "http://x");
      let body: Record<string, unknown> = {};
      try {
        body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      } catch {
        return send(400, { message: "malformed JSON" });
      }
      requests.push({ method: req.method ?? "", path: url.pathname, body });
      const route = contract.routes.find((r) => r.path === url.pathname);
      if (!route) return send(404, { message: `Page Not Found: ${url.pathname}` });
      if (route.method !== req.method) return send(405, { message: "Method Not Allowed" });
      const anonymous =
        route.operationId === "getInstanceConfiguration" ||
        route.operationId === "applicationTokenRequest";
      if (!anonymous && req.headers.authorization !== `Bearer ${TOKEN}`) {
        return send(401, { message: "Unauthorized" });
      }
      const missing = route.requiredRequestFields.filter((f) => body[f] === undefined);
      if (missing.length > 0) return send(400, { message: `missing ${missing.join(", ")}` });
      const [code, obj] = answer(route.operationId, body);
      send(code, obj);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        requests,
        updates,
        close: () => new Promise<void>((r) => server.close(() => r())),
      });
    });
  });
}
