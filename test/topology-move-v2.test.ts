/**
 * Moving an environment from v1 to v2 changes on prod only what replication needs (DESIGN D1,
 * issue 5): the `v2` example stack run with `airbyte:topology` v1 and v2. On prod: its database
 * StatefulSet gains the logical-replication settings (an in-place update of the container args),
 * two NEW NetworkPolicies admit the hub, its setup Job and the object mirror; v1's own migration
 * policy in prod's namespace goes with the migration job (D6). Nothing of prod is replaced.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { ResourceDiff } from "../infra/render/diff";
import { diffTopologies, type SidesDiff } from "../infra/render/diff-run";
import { PROD_REPLICATION_SETTINGS } from "../stacks/v2";

let sides: SidesDiff;
beforeAll(async () => {
  sides = await diffTopologies({ stack: "v2", from: "v1", to: "v2" });
}, 120_000);

const describeEntry = (e: ResourceDiff) => `${e.op} ${e.object ?? `${e.type} ${e.name}`}`;

describe("v1 → v2 on the v2 stack", () => {
  it("both sides ran their topology", () => {
    expect(sides.before.outputs.topology).toBe("v1");
    expect(sides.after.outputs.topology).toBe("v2");
  });

  it("prints the diff and replaces nothing", () => {
    const lines = sides.diff.entries.map(describeEntry);
    console.log(`v1 -> v2: ${JSON.stringify(sides.diff.counts)}\n  ${lines.join("\n  ")}`);
    expect(sides.diff.counts.replace).toBe(0);
  });

  it("touches prod exactly where replication needs it", () => {
    // Everything in prod's namespace, whoever owns it.
    const inProdNamespace = sides.diff.entries
      .filter((e) => (e.object ?? "").includes(" airbyte-prod/"))
      .map(describeEntry)
      .sort();
    expect(inProdNamespace).toEqual([
      "create NetworkPolicy airbyte-prod/airbyte-prod-allow-minio-from-object-mirror",
      "create NetworkPolicy airbyte-prod/airbyte-prod-allow-postgres-from-replication",
      // v1's migration job's own policy, not a v0 resource: v2 replicates instead of copying.
      "delete NetworkPolicy airbyte-prod/airbyte-prod-allow-postgres-from-migration",
      "update StatefulSet airbyte-prod/airbyte-prod-db",
    ]);
    // Of prod itself (the airbyte-prod instance and the shared auth secrets): the database only.
    expect(sides.diff.entries.filter((e) => e.prod).map(describeEntry)).toEqual([
      "update StatefulSet airbyte-prod/airbyte-prod-db",
    ]);
    const deleted = sides.diff.entries.find(
      (e) => e.op === "delete" && (e.object ?? "").includes(" airbyte-prod/"),
    );
    expect(deleted?.owner).toMatch(/^DbMigration /);
  });

  it("prod's database update is the replication settings in the container args, nothing else", () => {
    const sts = sides.diff.entries.find(
      (e) => e.object === "StatefulSet airbyte-prod/airbyte-prod-db",
    ) as ResourceDiff;
    expect(sts.op).toBe("update");
    expect(sts.replaceReasons).toEqual([]);
    expect(sts.optionChanges).toEqual([]);
    expect(
      sts.changes.every((c) => c.path.startsWith("spec.template.spec.containers[0].args[")),
    ).toBe(true);
    const added = sts.changes.map((c) => c.new).filter((v) => v !== "-c");
    expect(added).toEqual(Object.entries(PROD_REPLICATION_SETTINGS).map(([k, v]) => `${k}=${v}`));
    expect(sts.changes.every((c) => c.old === undefined)).toBe(true);
  });

  it("no resource of v1's prod is replaced or deleted; every one keeps its URN", () => {
    const after = new Set(sides.after.resources.map((r) => r.urn));
    const prodUrns = sides.before.resources
      .filter((r) => r.urn.includes("airbyte-prod$") || r.name.startsWith("airbyte-prod-"))
      .filter((r) => !r.name.startsWith("airbyte-prod-backup-replica-2"))
      .map((r) => r.urn);
    expect(prodUrns.length).toBeGreaterThan(50);
    expect(prodUrns.filter((u) => !after.has(u))).toEqual([]);
    expect(sides.diff.prodReplacedOrDeleted.map(describeEntry)).toEqual([]);
  });

  it("outside prod: v1's copy job goes, the replica's MinIO admits the mirror, the rest is new", () => {
    const of = (op: string) =>
      sides.diff.entries
        .filter((e) => e.op === op)
        .map(describeEntry)
        .sort();
    expect(of("delete")).toEqual([
      "delete CronJob airbyte-replica/airbyte-prod-backup-replica-2-db-migration",
      "delete NetworkPolicy airbyte-prod/airbyte-prod-allow-postgres-from-migration",
      "delete NetworkPolicy airbyte-replica/airbyte-prod-backup-replica-2-allow-db-migration",
      "delete Secret airbyte-replica/airbyte-prod-backup-replica-2-db-migration",
      "delete airbyte:migration:DbMigration db-migration",
    ]);
    expect(of("update")).toEqual([
      "update NetworkPolicy airbyte-replica/airbyte-prod-backup-replica-2-allow-minio",
      "update StatefulSet airbyte-prod/airbyte-prod-db",
    ]);
    const creates = sides.diff.entries.filter((e) => e.op === "create");
    for (const e of creates) {
      expect(e.owner, describeEntry(e)).toMatch(
        /^(ReplicationHub replication-hub|ObjectMirror object-mirror|Postgres replication-hub-db|NetworkPolicies airbyte-prod-backup-replica-2-network-policies|\(stack\))$/,
      );
    }
  });
});
