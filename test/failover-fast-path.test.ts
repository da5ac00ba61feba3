/**
 * The Pulumi fast path of a failover (migrations/replication/failover.ts, docs/replication.md):
 * going from standby to active with prod's host changes nothing of prod but deleting its
 * Ingress, so a targeted `up` of what the preview lists never awaits one of prod's (dead)
 * workloads. Offline diff of the real program, v2 stack file, standby -> active.
 */
import { beforeAll, expect, it } from "vitest";
import { diffSides, type SidesDiff } from "../infra/render/diff-run";
import { FAST_PATH_NAMES, pulumiSteps } from "../migrations/replication/failover";

let sides: SidesDiff;

beforeAll(async () => {
  sides = await diffSides(
    { stack: "v2" },
    { stack: "v2", config: { replicaRole: "active", activeInstance: "replica" } },
  );
}, 120_000);

it("touches prod only by deleting its Ingress: no workload of prod is updated or awaited", () => {
  const changed = sides.diff.entries.filter((e) => !e.component);
  const ofProd = changed.filter((e) => e.prod);
  expect(ofProd.map((e) => `${e.op} ${e.object}`)).toEqual([
    "delete Ingress airbyte-prod/airbyte-prod",
  ]);
  expect(ofProd[0].urn.endsWith(FAST_PATH_NAMES.prodIngress)).toBe(true);
  for (const e of changed) {
    if (/^(Deployment|StatefulSet|DaemonSet) /.test(e.object ?? "")) {
      expect(e.object, e.urn).toMatch(/^\w+ airbyte-replica\//);
    }
  }
});

it("deletes the subscription failover already dropped: the fast path refreshes it first", () => {
  const sub = sides.diff.entries.find(
    (e) => e.type === "postgresql:index/subscription:Subscription",
  );
  expect(sub?.op).toBe("delete");
  expect(sub?.urn.endsWith(FAST_PATH_NAMES.subscription)).toBe(true);
  const steps = pulumiSteps();
  expect(steps[1]).toContain(`pulumi refresh --yes --target`);
  expect(steps[1]).toContain(FAST_PATH_NAMES.subscription);
  expect(steps[2]).toContain(FAST_PATH_NAMES.prodIngress);
  expect(steps.join("\n")).not.toMatch(/^pulumi refresh\s*(#|$)/m);
});
