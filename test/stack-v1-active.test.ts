import { beforeAll, describe, expect, it } from "vitest";
import { formatViolations, runPolicies } from "../policy/offline";
import { VALID_V1, runV1Stack } from "./support/config-v1";
import { Graph, metadataOf } from "./support/graph";
import {
  MIGRATION_CRONJOB,
  REPLICA,
  REPLICA_NS,
  SCHEDULERS,
  bootloaderJobs,
  inNamespace,
  replicasOf,
} from "./support/v1-checks";

// DESIGN D8: `active` is for a failover only. The replica then runs its schedulers and its
// bootloader, and the periodic copy stops, because it would overwrite what the replica writes.
describe("v1 topology (replica active)", () => {
  let graph: Graph;
  beforeAll(async () => {
    graph = await runV1Stack({ ...VALID_V1, replicaRole: "active", workerReplicas: "2" });
  });

  it("runs the replica's schedulers, workers and launcher", () => {
    for (const svc of SCHEDULERS) {
      const d = inNamespace(graph, "Deployment", `${REPLICA}-${svc}`, REPLICA_NS);
      expect(replicasOf(d), svc).toBeGreaterThanOrEqual(1);
    }
    expect(replicasOf(inNamespace(graph, "Deployment", `${REPLICA}-worker`, REPLICA_NS))).toBe(2);
    expect(bootloaderJobs(graph, REPLICA_NS)).toHaveLength(1);
    expect(graph.run.outputs.replicaRole).toBe("active");
  });

  it("suspends the periodic copy onto the active replica's database", () => {
    const cron = inNamespace(graph, "CronJob", MIGRATION_CRONJOB, REPLICA_NS);
    expect((cron.inputs.spec as { suspend: boolean }).suspend).toBe(true);
    expect(graph.run.outputs.migrationSuspended).toBe(true);
  });

  it("still points the replica at core-worker-01 only", () => {
    const data = inNamespace(graph, "ConfigMap", `${REPLICA}-airbyte-env`, REPLICA_NS).inputs
      .data as Record<string, string>;
    expect(data.DATABASE_HOST).toBe("10.0.4.21");
    expect(metadataOf(graph.one("Namespace", REPLICA_NS)).name).toBe(REPLICA_NS);
  });

  it("passes the policy pack", () => {
    const violations = runPolicies(graph.resources);
    expect(violations, formatViolations(violations)).toEqual([]);
  });
});
