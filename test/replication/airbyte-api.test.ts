/**
 * The failover's Airbyte client against the stand-in of Airbyte 2.0.0's config API
 * (test/support/fake-airbyte.ts, contract in airbyte-api-contract.json): only spec routes, the
 * default organization's workspaces page by page, and errors that say what to check.
 */
import { afterEach, expect, it } from "vitest";
import { AirbyteApi } from "../../migrations/replication/airbyte-api";
import { FakeAirbyte, FakeWorkspace, startFakeAirbyte } from "../support/fake-airbyte";

const creds = { clientId: "admin-id", clientSecret: "admin-secret-xyz" };
let api: FakeAirbyte | undefined;

afterEach(async () => {
  await api?.close();
  api = undefined;
});

function workspaces(n: number): FakeWorkspace[] {
  return Array.from({ length: n }, (_, i) => ({
    workspaceId: `7a0f0000-0000-4000-8000-00000000000${i}`,
    name: `ws-${i}`,
    connections: [
      { connectionId: `c${i}`, name: `active ${i}`, status: "active", scheduleType: "manual" },
      { connectionId: `d${i}`, name: `off ${i}`, status: "inactive", scheduleType: "manual" },
    ],
  }));
}

it("lists the default organization's workspaces a page at a time and re-arms the active connections", async () => {
  api = await startFakeAirbyte({ ...creds, workspaces: workspaces(5) });
  const client = new AirbyteApi({ url: api.url, ...creds });
  expect(await client.workspaceIds(2)).toHaveLength(5);
  const lists = api.requests.filter((r) => r.path === "/api/v1/workspaces/list_by_organization_id");
  expect(lists.map((r) => r.body.pagination)).toEqual([
    { pageSize: 2, rowOffset: 0 },
    { pageSize: 2, rowOffset: 2 },
    { pageSize: 2, rowOffset: 4 },
  ]);
  expect(lists[0].body.organizationId).toBe("00000000-0000-0000-0000-000000000000");

  const result = await new AirbyteApi({ url: api.url, ...creds }).rearmAll();
  expect(result.workspaces).toBe(5);
  expect(api.updates.map((u) => u.connectionId)).toEqual(["c0", "c1", "c2", "c3", "c4"]);
  // Every call was a route of the v2.0.0 spec: the stand-in answers 404 to anything else.
  expect(api.requests.map((r) => `${r.method} ${r.path}`)).not.toContain(
    "POST /api/v1/workspaces/list",
  );
  const token = api.requests.find((r) => r.path === "/api/v1/applications/token");
  expect(Object.keys(token?.body ?? {}).sort()).toEqual(["client_id", "client_secret"]);
});

it("the stand-in answers 404 to a route Airbyte 2.0.0 does not have", async () => {
  api = await startFakeAirbyte({ ...creds, workspaces: workspaces(1) });
  const res = await fetch(`${api.url}/api/v1/workspaces/list`, { method: "POST", body: "{}" });
  expect(res.status).toBe(404);
});

it("wrong instance admin credentials and a wrong URL say what to check", async () => {
  api = await startFakeAirbyte({ ...creds, workspaces: workspaces(1) });
  await expect(
    new AirbyteApi({ url: api.url, clientId: "admin-id", clientSecret: "nope" }).rearmAll(),
  ).rejects.toThrow(/HTTP 400: check --airbyte-client-id\/--airbyte-client-secret/);
  await expect(new AirbyteApi({ url: api.url, ...creds }).connections("missing")).rejects.toThrow(
    /connections\/list answered HTTP 404: no such route or object/,
  );
});
