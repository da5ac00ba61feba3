/**
 * What a config change touches (issue 11): the `v2` example stack recorded as is and with one
 * change each. A rotated OAuth client secret rolls exactly the pods that read it; a failover
 * rolls the replica's OAuth2 Proxy (its redirect URL); a larger database volume grows the claim
 * and leaves the StatefulSet as it is.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { CONFIG_DIGEST_ANNOTATION } from "../components/lib/kube";
import type { RecordedResource } from "../infra/mock-runtime";
import { recordSide } from "../infra/render/diff-run";
import { metadataOf } from "./support/graph";

let base: RecordedResource[];
let rotated: RecordedResource[];
let failover: RecordedResource[];
let grown: RecordedResource[];

beforeAll(async () => {
  [base, rotated, failover, grown] = (
    await Promise.all([
      recordSide({ stack: "v2" }),
      recordSide({ stack: "v2", config: { oauthClientSecret: "rotated-client-secret-7f3a" } }),
      recordSide({ stack: "v2", config: { replicaRole: "active", activeInstance: "replica" } }),
      recordSide({ stack: "v2", config: { databaseStorageSize: "30Gi" } }),
    ])
  ).map((s) => s.resources);
}, 300_000);

const POD_OWNERS = ["Deployment", "StatefulSet", "Job", "CronJob"];
const templateOf = (r: RecordedResource) => {
  const spec = r.inputs.spec as Record<string, unknown>;
  return r.inputs.kind === "CronJob"
    ? (spec.jobTemplate as { spec: { template: unknown } }).spec.template
    : spec.template;
};

/** `Kind/name` of every pod owner whose pod template differs between two runs. */
function rolled(before: RecordedResource[], after: RecordedResource[]): string[] {
  const old = new Map(before.map((r) => [r.urn, r]));
  return after
    .filter((r) => POD_OWNERS.includes(String(r.inputs.kind)) && old.has(r.urn))
    .filter((r) => JSON.stringify(templateOf(r)) !== JSON.stringify(templateOf(old.get(r.urn)!)))
    .map((r) => `${String(r.inputs.kind)}/${metadataOf(r).name}`)
    .sort();
}

const one = (run: RecordedResource[], kind: string, name: string) =>
  run.find((r) => r.inputs.kind === kind && metadataOf(r).name === name) as RecordedResource;

describe("a change rolls exactly the pods that read it", () => {
  it("a rotated OAuth client secret: both OAuth2 Proxies, nothing else, the value never shown", () => {
    expect(rolled(base, rotated)).toEqual([
      "Deployment/airbyte-prod-backup-replica-2-oauth2-proxy",
      "Deployment/airbyte-prod-oauth2-proxy",
    ]);
    const proxy = one(rotated, "Deployment", "airbyte-prod-oauth2-proxy");
    expect(JSON.stringify(proxy.inputs)).not.toContain("rotated-client-secret-7f3a");
  });

  it("a failover: the replica's OAuth2 Proxy restarts with prod's redirect URL", () => {
    const name = "airbyte-prod-backup-replica-2-oauth2-proxy";
    expect(rolled(base, failover)).toContain(`Deployment/${name}`);
    const digest = (run: RecordedResource[]) =>
      (
        templateOf(one(run, "Deployment", name)) as {
          metadata: { annotations: Record<string, string> };
        }
      ).metadata.annotations[CONFIG_DIGEST_ANNOTATION];
    expect(digest(failover)).not.toBe(digest(base));
    expect(
      (one(failover, "ConfigMap", `${name}-settings`).inputs.data as Record<string, string>)
        .OAUTH2_PROXY_REDIRECT_URL,
    ).toBe("https://airbyte.example.com/oauth2/callback");
  });
});

describe("a larger database volume", () => {
  it("grows the claim in place and changes nothing the StatefulSet does not ignore", () => {
    const claim = (run: RecordedResource[]) =>
      run.find(
        (r) =>
          r.type === "kubernetes:core/v1:PersistentVolumeClaimPatch" &&
          metadataOf(r).name === "data-airbyte-prod-db-0",
      ) as RecordedResource;
    expect(claim(base).urn).toBe(claim(grown).urn);
    expect(claim(grown).inputs.spec).toMatchObject({
      resources: { requests: { storage: "30Gi" } },
    });

    const before = one(base, "StatefulSet", "airbyte-prod-db");
    const after = one(grown, "StatefulSet", "airbyte-prod-db");
    expect(after.ignoreChanges).toContain("spec.volumeClaimTemplates");
    const withoutTemplates = (r: RecordedResource) => ({
      ...r.inputs,
      spec: { ...(r.inputs.spec as object), volumeClaimTemplates: undefined },
    });
    expect(withoutTemplates(after)).toEqual(withoutTemplates(before));
    // Nothing else changes; the hub's server takes the same size.
    const changed = grown
      .filter((r) => {
        const b = base.find((x) => x.urn === r.urn);
        return b && JSON.stringify(b.inputs) !== JSON.stringify(r.inputs);
      })
      .map((r) => r.name)
      .sort();
    expect(changed).toEqual([
      "airbyte-prod-db-server",
      "airbyte-prod-db-server-data-claim",
      "replication-hub-db-server",
      "replication-hub-db-server-data-claim",
    ]);
  });
});
