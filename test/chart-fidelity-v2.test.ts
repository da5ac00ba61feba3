/** Every Airbyte workload of the v2 render, held to the official chart (test/contracts/chart). */
import { beforeAll, describe, it } from "vitest";
import { expectChartFidelity } from "./contracts/chart/fidelity-checks";
import { expectImageContract } from "./contracts/images/image-checks";
import type { Graph } from "./support/graph";
import { runV2Stack } from "./support/config-v2";

describe("v2 against chart airbyte 2.0.19 and the images of airbyte-platform v2.0.0", () => {
  let graph: Graph;
  beforeAll(async () => {
    graph = await runV2Stack();
  });

  it("differs from the chart only as the intended-differences table says", () => {
    expectChartFidelity(graph, "v2", 2);
  });

  it("gives every image what it writes at start, under the user it runs as", () => {
    expectImageContract(graph);
  });
});
