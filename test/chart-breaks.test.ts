/**
 * Breaks a real install of the chart's images would hit (issue 9), each checked on the rendered
 * v1 stack (verify-full towards core-worker-01) with no new config key, so each fails on the code
 * before the fixes: the trust store the images' entrypoint rewrites, tracking without a Segment
 * key, and the orchestrators' JVM flags. The CA bundle key has its own file.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ourInstances } from "./contracts/chart/compare";
import { writable } from "./contracts/images/image-checks";
import { VALID_V1, runV1Stack } from "./support/config-v1";
import { Graph, RecordedResource, metadataOf, podSpecOf } from "./support/graph";

type Obj = Record<string, unknown>;
let graph: Graph;
beforeAll(async () => {
  graph = await runV1Stack({ ...VALID_V1, coreWorkerSslMode: "verify-full" });
});

/** Every Airbyte workload of both instances, with its instance's namespace. */
function airbyteWorkloads(): { ns: string; id: string; r: RecordedResource }[] {
  return ourInstances(graph).flatMap((inst) =>
    Object.entries(inst.workloads).map(([id, r]) => ({ ns: inst.namespace, id, r: r! })),
  );
}

/** A container's environment with ConfigMap references resolved. */
function resolvedEnv(ns: string, c: Obj): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of (c.env as Obj[]) ?? []) {
    const ref = (e.valueFrom as Obj | undefined)?.configMapKeyRef as Obj | undefined;
    if (!ref) continue;
    const cm = graph
      .kube("ConfigMap", String(ref.name))
      .find((m) => metadataOf(m).namespace === ns);
    out[String(e.name)] = String((cm?.inputs.data as Obj)[String(ref.key)]);
  }
  return out;
}

describe("break 1: update-ca-trust under a read-only root", () => {
  it("gives every Airbyte container a writable /etc/pki/ca-trust, filled from its own image", () => {
    const found = airbyteWorkloads();
    expect(found.length).toBeGreaterThanOrEqual(13); // 7 in prod, 6 in the standby replica
    for (const { id, r } of found) {
      const pod = podSpecOf(r) as unknown as Obj;
      const main = (pod.containers as Obj[])[0];
      expect((main.securityContext as Obj).readOnlyRootFilesystem, id).toBe(true);
      expect(writable(main, "/etc/pki/ca-trust/extracted/pem"), id).toBe(true);
      const init = ((pod.initContainers as Obj[]) ?? []).find((c) => c.name === "ca-trust");
      expect(init, `${id} ca-trust init container`).toBeDefined();
      expect(init!.image).toBe(main.image);
      expect((init!.securityContext as Obj).readOnlyRootFilesystem).toBe(true);
      expect((init!.command as string[]).join(" ")).toContain(
        "cp -R /etc/pki/ca-trust/. /ca-trust/",
      );
      expect(
        ((pod.volumes as Obj[]) ?? []).some((v) => v.name === "ca-bundle"),
        id,
      ).toBe(false);
    }
  });

  it("has the replica verify core-worker-01 against the extracted bundle", () => {
    const cm = graph.one("ConfigMap", "airbyte-prod-backup-replica-2-airbyte-env");
    expect((cm.inputs.data as Obj).DATABASE_URL).toMatch(
      /\?sslmode=verify-full&sslrootcert=%2Fetc%2Fpki%2Fca-trust%2Fextracted%2Fpem%2Ftls-ca-bundle\.pem$/,
    );
  });
});

describe("break 2: Segment tracking needs its write key", () => {
  it("ships the chart's key wherever the strategy is segment, the launcher included", () => {
    let segment = 0;
    for (const { ns, id, r } of airbyteWorkloads()) {
      const env = resolvedEnv(ns, (podSpecOf(r) as unknown as { containers: Obj[] }).containers[0]);
      if (env.TRACKING_STRATEGY !== "segment") continue;
      segment++;
      expect(env.SEGMENT_WRITE_KEY, id).toBe("7UDdp5K55CyiGgsauOr2pNNujGvmhaeu");
    }
    // server, worker, launcher, cron and builder of both instances.
    expect(segment).toBe(10);
  });
});

describe("break 4: the orchestrators' JVM flags", () => {
  it("hands the launcher CONTAINER_ORCHESTRATOR_JAVA_OPTS: 75% heap, exit on out-of-memory", () => {
    for (const { ns, id, r } of airbyteWorkloads().filter((w) => w.id === "workload-launcher")) {
      const env = resolvedEnv(ns, (podSpecOf(r) as unknown as { containers: Obj[] }).containers[0]);
      expect(env.CONTAINER_ORCHESTRATOR_JAVA_OPTS, id).toBe(
        "-XX:+ExitOnOutOfMemoryError -XX:MaxRAMPercentage=75.0",
      );
    }
  });
});
