/** v2 after a failover: replicaRole active + activeInstance replica. */
import { beforeAll, describe, expect, it } from "vitest";
import { formatViolations, runPolicies } from "../policy/offline";
import { runV2Stack } from "./support/config-v2";
import { VALID_V2 } from "./support/config-v2";
import { Graph, metadataOf } from "./support/graph";
import { REPLICA, REPLICA_NS, SCHEDULERS, inNamespace, replicasOf } from "./support/v1-checks";

type Obj = Record<string, unknown>;

describe("v2 with the replica serving prod's host", () => {
  let graph: Graph;
  beforeAll(async () => {
    graph = await runV2Stack({ ...VALID_V2, replicaRole: "active", activeInstance: "replica" });
  });

  it("one Ingress carries prod's host: the replica's, with prod's host's TLS Secret name", () => {
    const ingresses = graph.kube("Ingress");
    expect(ingresses.map((i) => metadataOf(i).namespace)).toEqual([REPLICA_NS]);
    const spec = ingresses[0].inputs.spec as Obj;
    expect(JSON.stringify(spec.rules)).toContain('"airbyte.example.com"');
    expect(spec.tls).toEqual([{ hosts: ["airbyte.example.com"], secretName: "airbyte-prod-tls" }]);
    expect(graph.run.outputs.url).toBe("https://airbyte.example.com");
  });

  it("runs the replica's schedulers, and replicates nothing into it", () => {
    for (const svc of SCHEDULERS)
      expect(replicasOf(inNamespace(graph, "Deployment", `${REPLICA}-${svc}`, REPLICA_NS))).toBe(1);
    expect(graph.ofType("postgresql:index/subscription:Subscription")).toEqual([]);
    expect(graph.kube("Job").filter((j) => metadataOf(j).name?.endsWith("-setup"))).toEqual([]);
    const cron = inNamespace(graph, "CronJob", `${REPLICA}-object-mirror`, REPLICA_NS);
    expect((cron.inputs.spec as Obj).suspend).toBe(true);
  });

  it("passes the policy pack", () => {
    const violations = runPolicies(graph.resources);
    expect(violations, formatViolations(violations)).toEqual([]);
  });
});
