/** `trackingEnabled: false`: no Airbyte service (nor, through the launcher, any orchestrator) uses Segment. */
import { beforeAll, expect, it } from "vitest";
import { VALID_V0 } from "./support/config";
import { Graph } from "./support/graph";
import { runStack } from "./support/stack";

let graph: Graph;
beforeAll(async () => {
  graph = await runStack({ ...VALID_V0, trackingEnabled: "false" });
});

it("logs tracking events instead of sending them", () => {
  const data = graph.one("ConfigMap", "airbyte-prod-airbyte-env").inputs.data as Record<
    string,
    string
  >;
  expect(data.TRACKING_ENABLED).toBe("false");
  expect(data.TRACKING_STRATEGY).toBe("logging");
});
