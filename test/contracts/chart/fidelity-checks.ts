/** The fidelity assertions each topology's test runs on its render. */
import { expect } from "vitest";
import type { Graph } from "../../support/graph";
import { COMPARED, judge, ourInstances } from "./compare";
import facts from "./facts.json";
import type { ChartFacts } from "./facts-types";
import { INTENDED_DIFFERENCES, Topology } from "./intended-differences";

export const CHART_FACTS = facts as unknown as ChartFacts;

/** `instances`: the Airbyte instances the topology runs (prod; from v1 the replica too). */
export function expectChartFidelity(graph: Graph, topology: Topology, instances: number): void {
  const found = ourInstances(graph);
  expect(found).toHaveLength(instances);
  // Every service of each instance is compared (a standby has no bootloader Job).
  for (const inst of found) {
    expect(Object.keys(inst.workloads).length, inst.instance).toBeGreaterThanOrEqual(
      COMPARED.length - 1,
    );
  }
  const verdict = judge(CHART_FACTS, graph, topology, INTENDED_DIFFERENCES);
  expect(
    verdict.unexplained,
    "differences from the chart that no row of the table explains",
  ).toEqual([]);
  expect(verdict.stale, "rows of the table that no longer differ").toEqual([]);
}
