/** Assertions that a secret value stays inside Kubernetes Secrets and Pulumi secrets. */
import { expect } from "vitest";
import { Graph } from "./graph";

/**
 * `value` appears in no input of any resource except the `stringData`/`data` of a Secret, and
 * there only as a Pulumi secret. Catches it in ConfigMaps, env values, annotations, commands.
 */
export function expectOnlyInSecrets(graph: Graph, value: string): void {
  expect(value.length, "a needle long enough to be meaningful").toBeGreaterThanOrEqual(8);
  for (const r of graph.resources) {
    const isSecret = r.type === "kubernetes:core/v1:Secret";
    const { stringData, data, ...rest } = r.inputs as Record<string, unknown>;
    const where = `${r.type} ${r.name}`;
    expect(JSON.stringify(isSecret ? rest : r.inputs), `${where} leaks the secret`).not.toContain(
      value,
    );
    if (isSecret && JSON.stringify({ stringData, data }).includes(value)) {
      expect(
        r.secretPaths.some(
          (p) => p === "stringData" || p === "data" || p.startsWith("stringData."),
        ),
        `${where} holds the value without marking it secret`,
      ).toBe(true);
    }
  }
}
