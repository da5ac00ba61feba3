import { beforeAll, describe, expect, it } from "vitest";
import { AirbyteAuthSecrets } from "../components/airbyte-auth-secrets";
import { Graph, runGraph } from "./support/graph";

describe("AirbyteAuthSecrets", () => {
  let graph: Graph;
  beforeAll(async () => {
    graph = await runGraph(() => {
      new AirbyteAuthSecrets("airbyte-auth");
    });
  });

  it("generates the four values with @pulumi/random, 32 characters by default", () => {
    const component = graph.components("airbyte:platform:AirbyteAuthSecrets")[0];
    const children = graph.childrenOf(component);
    expect(children.map((r) => r.type).sort()).toEqual([
      "random:index/randomPassword:RandomPassword",
      "random:index/randomPassword:RandomPassword",
      "random:index/randomPassword:RandomPassword",
      "random:index/randomUuid:RandomUuid",
    ]);
    for (const pw of children.filter((r) => r.type.endsWith("RandomPassword"))) {
      expect(pw.inputs).toMatchObject({ length: 32, special: false });
    }
    const all = graph.resources.filter((r) => r !== component && r.type !== "pulumi:pulumi:Stack");
    expect(all.map((r) => r.urn).sort()).toEqual(children.map((r) => r.urn).sort());
  });

  it("registers every value as a secret output", () => {
    const component = graph.components("airbyte:platform:AirbyteAuthSecrets")[0];
    const outputs = component.outputs as Record<string, string>;
    expect(Object.keys(outputs).sort()).toEqual([
      "instanceAdminClientId",
      "instanceAdminClientSecret",
      "instanceAdminPassword",
      "jwtSignatureSecret",
    ]);
    expect([...(component.secretOutputPaths ?? [])].sort()).toEqual(Object.keys(outputs).sort());
    expect(outputs.instanceAdminClientId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
    expect(outputs.jwtSignatureSecret).toHaveLength(32);
    expect(new Set(Object.values(outputs)).size).toBe(4);
  });

  it("refuses a length the JWT signer would reject, before creating anything", () => {
    const before = graph.resources.length;
    expect(() => new AirbyteAuthSecrets("short", { length: 16 })).toThrow(
      /length must be an integer >= 32/,
    );
    expect(graph.resources.length).toBe(before);
  });
});
