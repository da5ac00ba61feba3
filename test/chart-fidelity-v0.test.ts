/** Every Airbyte workload of the v0 render, held to the official chart (test/contracts/chart). */
import { beforeAll, describe, it } from "vitest";
import { expectChartFidelity } from "./contracts/chart/fidelity-checks";
import { expectImageContract } from "./contracts/images/image-checks";
import type { Graph } from "./support/graph";
import { runStack } from "./support/stack";

describe("v0 against chart airbyte 2.0.19 and the images of airbyte-platform v2.0.0", () => {
  let graph: Graph;
  beforeAll(async () => {
    graph = await runStack();
  });

  it("differs from the chart only as the intended-differences table says", () => {
    expectChartFidelity(graph, "v0", 1);
  });

  it("gives every image what it writes at start, under the user it runs as", () => {
    expectImageContract(graph);
  });
});
