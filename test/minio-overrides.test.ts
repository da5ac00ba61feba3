import { beforeAll, describe, expect, it } from "vitest";
import { Minio } from "../components/minio";
import { Graph, envOf, podSpecOf, runGraph } from "./support/graph";
import { expectRestrictedWorkload } from "./support/workload-checks";

describe("Minio (overrides)", () => {
  let graph: Graph;
  beforeAll(async () => {
    graph = await runGraph(() => {
      new Minio("replica-minio", {
        namespace: "airbyte-replica",
        instanceName: "airbyte-replica",
        storageSize: "200Gi",
        storageClassName: "fast-ssd",
        buckets: ["airbyte-logs", "airbyte-state"],
        logRetentionDays: 7,
        resources: {
          requests: { cpu: "500m", memory: "2Gi" },
          limits: { cpu: "2", memory: "4Gi" },
        },
      });
    });
  });

  it("sizes the volume on the given StorageClass and applies the resources", () => {
    const sts = graph.one("StatefulSet", "airbyte-replica-minio");
    expect(sts.inputs.spec).toMatchObject({
      volumeClaimTemplates: [
        {
          metadata: { name: "data" },
          spec: { resources: { requests: { storage: "200Gi" } }, storageClassName: "fast-ssd" },
        },
      ],
    });
    expect(podSpecOf(sts).containers[0].resources).toEqual({
      requests: { cpu: "500m", memory: "2Gi" },
      limits: { cpu: "2", memory: "4Gi" },
    });
  });

  it("creates every bucket with the shorter retention; the first is Airbyte's", () => {
    const jobRes = graph.one("Job", "airbyte-replica-minio-buckets");
    expect(envOf(podSpecOf(jobRes).containers[0]).get("BUCKETS")?.value).toBe(
      "airbyte-logs airbyte-state",
    );
    const cm = graph.one("ConfigMap", "airbyte-replica-minio-lifecycle");
    const doc = JSON.parse((cm.inputs.data as Record<string, string>)["lifecycle.json"]);
    expect(doc.Rules).toHaveLength(1);
    expect(doc.Rules[0].Expiration).toEqual({ Days: 7 });
    const component = graph.components("airbyte:storage:Minio")[0];
    expect(component.outputs).toMatchObject({
      bucket: "airbyte-logs",
      buckets: ["airbyte-logs", "airbyte-state"],
      endpoint: "http://airbyte-replica-minio.airbyte-replica.svc.cluster.local:9000",
    });
  });

  it("re-runs the bucket Job when the lifecycle changes: its template carries the digest", async () => {
    const annotation = (g: Graph, jobName: string) =>
      (
        g.one("Job", jobName).inputs.spec as {
          template: { metadata: { annotations: Record<string, string> } };
        }
      ).template.metadata.annotations["airbyte.pulumi/lifecycle-sha256"];
    const sevenDays = annotation(graph, "airbyte-replica-minio-buckets");
    expect(sevenDays).toMatch(/^[0-9a-f]{64}$/);
    // A second mock run in one file (checked to work): setMocks installs a fresh monitor.
    const other = await runGraph(() => {
      new Minio("m", { namespace: "n", instanceName: "i", logRetentionDays: 8 });
    });
    expect(annotation(other, "i-minio-buckets")).not.toBe(sevenDays);
  });

  it("stays restricted", () => {
    for (const w of graph.workloads()) expectRestrictedWorkload(w);
  });
});
