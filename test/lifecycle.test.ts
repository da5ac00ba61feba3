/**
 * Lifecycle options on the v2 graph (issue 11): what holds data is protected or retained, every
 * awaited Job and slow workload is waited for as long as it may legitimately take, the replica
 * waits for core-worker-01, and pod templates carry a digest of what they read.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { BOOTLOADER_DEADLINE_SECONDS } from "../components/airbyte-platform";
import {
  AWAIT_MARGIN_SECONDS,
  CONFIG_DIGEST_ANNOTATION,
  PROVIDER_AWAIT_DEFAULT_SECONDS,
  dataDigest,
  podReadyBudgetSeconds,
} from "../components/lib/kube";
import { runV2Stack } from "./support/config-v2";
import { Graph, RecordedResource, metadataOf, podSpecOf } from "./support/graph";
import { PROD_NS, REPLICA, REPLICA_NS } from "./support/v1-checks";

let graph: Graph;
beforeAll(async () => {
  graph = await runV2Stack();
});

/** `"35m"`, `"3h5m"`, `"90s"` → seconds. */
function seconds(d: string | undefined): number {
  if (!d) return 0;
  let total = 0;
  for (const [, n, unit] of d.matchAll(/(\d+)([hms])/g)) {
    total += Number(n) * { h: 3600, m: 60, s: 1 }[unit as "h" | "m" | "s"];
  }
  return total;
}

describe("what holds data survives every command", () => {
  it("protects and retains prod's namespace, and only prod's (the replica is a standby)", () => {
    const prod = graph.one("Namespace", PROD_NS);
    expect(prod).toMatchObject({ protect: true, retainOnDelete: true });
    // A standby's namespace must be free to go on a move v1 -> v0 and come back.
    expect(graph.one("Namespace", REPLICA_NS)).toMatchObject({
      protect: false,
      retainOnDelete: false,
    });
  });

  it("keeps core-worker-01's databases and the roles owning objects in them", () => {
    const onServer = graph.resources.filter(
      (r) =>
        r.type === "postgresql:index/database:Database" || r.type === "postgresql:index/role:Role",
    );
    expect(onServer.map((r) => r.name).sort()).toEqual([
      "core-worker-01-airbyte-role",
      "core-worker-01-db-airbyte",
      "core-worker-01-migration-role",
      "core-worker-01-temporal",
      "core-worker-01-temporal-visibility",
    ]);
    for (const r of onServer) expect(r.retainOnDelete, r.name).toBe(true);
  });

  it("gives each data volume its own retained claim, applied before its StatefulSet", () => {
    for (const [sts, size] of [
      ["airbyte-prod-db", "20Gi"],
      ["airbyte-prod-minio", "20Gi"],
      [`${REPLICA}-minio`, "20Gi"],
    ]) {
      const set = graph.one("StatefulSet", sts);
      const spec = set.inputs.spec as Record<string, unknown>;
      expect(spec.persistentVolumeClaimRetentionPolicy).toEqual({
        whenDeleted: "Retain",
        whenScaled: "Retain",
      });
      // Immutable: a change would replace the StatefulSet; the claim grows instead.
      expect(set.ignoreChanges).toContain("spec.volumeClaimTemplates");
      const claim = graph.resources.find(
        (r) =>
          r.type === "kubernetes:core/v1:PersistentVolumeClaimPatch" &&
          metadataOf(r).name === `data-${sts}-0`,
      ) as RecordedResource;
      expect(claim, sts).toBeDefined();
      expect(claim.retainOnDelete).toBe(true);
      expect(metadataOf(claim).namespace).toBe(metadataOf(set).namespace);
      expect(metadataOf(claim).annotations?.["pulumi.com/patchForce"]).toBe("true");
      expect(claim.inputs.spec).toMatchObject({
        accessModes: ["ReadWriteOnce"],
        resources: { requests: { storage: size } },
      });
      expect(set.dependsOn).toContain(claim.urn);
    }
  });
});

describe("Pulumi waits as long as each awaited object may take", () => {
  it("every Job has a deadline, and a wait derived from it when it exceeds the default", () => {
    const jobs = graph.kube("Job");
    expect(jobs.length).toBeGreaterThanOrEqual(5);
    for (const j of jobs) {
      const deadline = (j.inputs.spec as { activeDeadlineSeconds?: number }).activeDeadlineSeconds;
      expect(deadline, metadataOf(j).name).toBeGreaterThan(0);
      const wait = (deadline as number) + AWAIT_MARGIN_SECONDS;
      if (wait > PROVIDER_AWAIT_DEFAULT_SECONDS) {
        expect(seconds(j.customTimeouts.create), metadataOf(j).name).toBeGreaterThanOrEqual(wait);
        expect(seconds(j.customTimeouts.update), metadataOf(j).name).toBeGreaterThanOrEqual(wait);
      }
    }
  });

  it("waits for the bootloader past its deadline, longer than the provider's 10 minutes", () => {
    const boot = graph
      .kube("Job")
      .find((j) => metadataOf(j).name?.startsWith("airbyte-prod-bootloader"));
    expect(boot).toBeDefined();
    const b = boot as RecordedResource;
    expect((b.inputs.spec as { activeDeadlineSeconds: number }).activeDeadlineSeconds).toBe(
      BOOTLOADER_DEADLINE_SECONDS,
    );
    expect(seconds(b.customTimeouts.create)).toBeGreaterThan(BOOTLOADER_DEADLINE_SECONDS);
    expect(seconds(b.customTimeouts.update)).toBeGreaterThan(BOOTLOADER_DEADLINE_SECONDS);
    expect(seconds(b.customTimeouts.create)).toBeGreaterThan(PROVIDER_AWAIT_DEFAULT_SECONDS);
  });

  it("waits 3 hours and more for the v2 setup Job, 20 minutes and more for Temporal's namespace", () => {
    const setup = graph.one("Job", "airbyte-replication-hub-setup");
    expect(seconds(setup.customTimeouts.create)).toBeGreaterThanOrEqual(3 * 3600);
    for (const ns of [PROD_NS, REPLICA_NS]) {
      const j = graph
        .kube("Job")
        .find(
          (x) =>
            metadataOf(x).namespace === ns && metadataOf(x).name?.endsWith("-temporal-namespace"),
        );
      expect(seconds(j?.customTimeouts.create), ns).toBeGreaterThanOrEqual(1200);
    }
  });

  it("waits for slow-starting workloads as long as their probes allow (Temporal: 10 min of startup)", () => {
    for (const w of [...graph.kube("Deployment"), ...graph.kube("StatefulSet")]) {
      const spec = podSpecOf(w) as unknown as Parameters<typeof podReadyBudgetSeconds>[0];
      const budget = podReadyBudgetSeconds({
        ...spec,
        terminationGracePeriodSeconds: (podSpecOf(w) as { terminationGracePeriodSeconds?: number })
          .terminationGracePeriodSeconds,
      });
      if (budget + AWAIT_MARGIN_SECONDS > PROVIDER_AWAIT_DEFAULT_SECONDS) {
        expect(seconds(w.customTimeouts.create), metadataOf(w).name).toBeGreaterThanOrEqual(budget);
      }
    }
    expect(
      seconds(graph.one("Deployment", "airbyte-prod-temporal").customTimeouts.create),
    ).toBeGreaterThan(PROVIDER_AWAIT_DEFAULT_SECONDS);
  });
});

describe("the replica waits for core-worker-01", () => {
  it("depends on every role, database and grant on the server", () => {
    const replica = graph
      .components("airbyte:instance:AirbyteInstance")
      .find((r) => r.name === REPLICA);
    const server = graph.components("airbyte:database:ExternalDatabase")[0];
    expect(replica?.dependsOn).toContain(server.urn);
    const onServer = graph
      .descendantsOf(server)
      .filter((r) => r.type.startsWith("postgresql:index/"));
    expect(onServer.length).toBeGreaterThanOrEqual(9);
    for (const r of onServer) expect(replica?.dependencies, r.name).toContain(r.urn);
  });
});

describe("pod templates carry a digest of the ConfigMaps and Secrets they read", () => {
  type Ref = { kind: "ConfigMap" | "Secret"; name: string };
  /** What a pod template reads by env, envFrom or volume. */
  function refsOf(w: RecordedResource): Ref[] {
    const spec = podSpecOf(w) as unknown as {
      containers: {
        env?: { valueFrom?: Record<string, { name: string }> }[];
        envFrom?: Record<string, { name: string }>[];
      }[];
      initContainers?: { env?: { valueFrom?: Record<string, { name: string }> }[] }[];
      volumes?: { secret?: { secretName: string }; configMap?: { name: string } }[];
    };
    const out: Ref[] = [];
    for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
      for (const e of c.env ?? []) {
        if (e.valueFrom?.secretKeyRef)
          out.push({ kind: "Secret", name: e.valueFrom.secretKeyRef.name });
        if (e.valueFrom?.configMapKeyRef)
          out.push({ kind: "ConfigMap", name: e.valueFrom.configMapKeyRef.name });
      }
    }
    for (const v of spec.volumes ?? []) {
      if (v.secret) out.push({ kind: "Secret", name: v.secret.secretName });
      if (v.configMap) out.push({ kind: "ConfigMap", name: v.configMap.name });
    }
    return out;
  }

  it("on every Deployment and StatefulSet: exactly the program's objects it reads, values hashed", () => {
    let checked = 0;
    for (const w of [...graph.kube("Deployment"), ...graph.kube("StatefulSet")]) {
      const ns = metadataOf(w).namespace;
      const read = new Map<string, RecordedResource>();
      for (const ref of refsOf(w)) {
        const obj = graph.kube(ref.kind, ref.name).find((o) => metadataOf(o).namespace === ns);
        // The platform's ConfigMap has its own per-service digest (`checksum/config`).
        if (obj && !(ref.kind === "ConfigMap" && ref.name.endsWith("-airbyte-env")))
          read.set(obj.urn, obj);
      }
      const annotations =
        (w.inputs.spec as { template: { metadata: { annotations?: Record<string, string> } } })
          .template.metadata.annotations ?? {};
      const name = metadataOf(w).name;
      if (read.size === 0) {
        expect(annotations[CONFIG_DIGEST_ANNOTATION], name).toBeUndefined();
        continue;
      }
      checked++;
      const got = annotations[CONFIG_DIGEST_ANNOTATION];
      expect(got, name).toMatch(/^[0-9a-f]{64}$/);
      // Recomputed from the recorded data of exactly the objects read.
      expect(got, name).toBe(expectedDigest([...read.values()]));
      expect(
        w.secretPaths.some((p) => p.includes("annotations")),
        name,
      ).toBe(false);
    }
    expect(checked).toBeGreaterThanOrEqual(10);
  });

  let digestOf: (data: Record<string, string>) => Promise<string>;
  beforeAll(() => {
    digestOf = (data) =>
      new Promise((resolve) => {
        dataDigest(data).apply((d) => {
          resolve(d);
          return d;
        });
      });
  });
  const digests = new Map<string, string>();
  beforeAll(async () => {
    for (const r of [...graph.kube("ConfigMap"), ...graph.kube("Secret")]) {
      const data = (r.inputs.data ?? r.inputs.stringData ?? {}) as Record<string, string>;
      digests.set(r.urn, await digestOf(data));
    }
  });
  function expectedDigest(read: RecordedResource[]): string {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const crypto = require("node:crypto") as typeof import("node:crypto");
    const ds = read.map((r) => digests.get(r.urn) as string).sort();
    return crypto.createHash("sha256").update(ds.join("\n")).digest("hex");
  }
});
