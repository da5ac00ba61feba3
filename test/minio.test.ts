import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { BUCKETS_SCRIPT, Minio, checkBucketName, lifecycleDocument } from "../components/minio";
import { IMAGES } from "../infra/versions";
import { Graph, envOf, metadataOf, podSpecOf, runGraph } from "./support/graph";
import { expectOnlyInSecrets } from "./support/secret-checks";
import { expectRestrictedWorkload } from "./support/workload-checks";

const TYPE = "airbyte:storage:Minio";

describe("Minio (defaults)", () => {
  let graph: Graph;
  beforeAll(async () => {
    graph = await runGraph(() => {
      new Minio("prod-minio", { namespace: "airbyte-prod", instanceName: "airbyte-prod" });
    });
  });
  const component = () => graph.components(TYPE)[0];

  it("creates a StatefulSet with a 20Gi volume, a Service, credentials, lifecycle and bucket Job", () => {
    const kinds = graph.resources
      .filter((r) => r.type.startsWith("kubernetes:"))
      .map((r) => `${String(r.inputs.kind)}/${metadataOf(r).name}`)
      .sort();
    expect(kinds).toEqual([
      "ConfigMap/airbyte-prod-minio-lifecycle",
      "Job/airbyte-prod-minio-buckets",
      // The data claim, applied before the StatefulSet so it can grow in place (lib/kube.ts).
      "PersistentVolumeClaim/data-airbyte-prod-minio-0",
      "Secret/airbyte-prod-minio-credentials",
      "Service/airbyte-prod-minio",
      "StatefulSet/airbyte-prod-minio",
    ]);
    const sts = graph.one("StatefulSet", "airbyte-prod-minio");
    expect(sts.inputs.spec).toMatchObject({
      replicas: 1,
      serviceName: "airbyte-prod-minio",
      volumeClaimTemplates: [
        {
          metadata: { name: "data" },
          spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "20Gi" } } },
        },
      ],
    });
    expect(graph.one("Service", "airbyte-prod-minio").inputs.spec).toMatchObject({
      type: "ClusterIP",
      ports: [{ name: "api", port: 9000, targetPort: "api", protocol: "TCP" }],
    });
  });

  it("runs MinIO non-root on a group-writable volume, console off, health probes on the API", () => {
    const pod = podSpecOf(graph.one("StatefulSet", "airbyte-prod-minio"));
    const c = pod.containers[0];
    expect(c.image).toBe(IMAGES.minio);
    expect(c.args).toEqual([
      "server",
      "/data/minio",
      "--address",
      ":9000",
      "--certs-dir",
      "/certs",
    ]);
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 1000,
      fsGroup: 1000,
      fsGroupChangePolicy: "OnRootMismatch",
    });
    expect(c.securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(c.volumeMounts).toContainEqual({ name: "data", mountPath: "/data" });
    const env = envOf(c);
    expect(env.get("MINIO_BROWSER")?.value).toBe("off");
    expect(env.get("MINIO_ROOT_USER")?.valueFrom?.secretKeyRef).toEqual({
      name: "airbyte-prod-minio-credentials",
      key: "AWS_ACCESS_KEY_ID",
    });
    expect(env.get("MINIO_ROOT_PASSWORD")?.valueFrom?.secretKeyRef).toEqual({
      name: "airbyte-prod-minio-credentials",
      key: "AWS_SECRET_ACCESS_KEY",
    });
    expect(c.livenessProbe).toMatchObject({ httpGet: { path: "/minio/health/live", port: "api" } });
    expect(c.readinessProbe).toMatchObject({
      httpGet: { path: "/minio/health/ready", port: "api" },
    });
  });

  it("creates airbyte-bucket and expires job logs after 30 days, after MinIO is ready", () => {
    const cm = graph.one("ConfigMap", "airbyte-prod-minio-lifecycle");
    const doc = JSON.parse((cm.inputs.data as Record<string, string>)["lifecycle.json"]);
    expect(doc).toEqual({
      Rules: [
        {
          ID: "expire-airbyte-job-logs",
          Status: "Enabled",
          Filter: { Prefix: "job-logging/" },
          Expiration: { Days: 30 },
        },
      ],
    });
    const jobRes = graph.one("Job", "airbyte-prod-minio-buckets");
    expect(jobRes.dependencies).toContain(graph.one("StatefulSet", "airbyte-prod-minio").urn);
    expect(jobRes.deleteBeforeReplace).toBe(true);
    const pod = podSpecOf(jobRes);
    const c = pod.containers[0];
    expect(c.image).toBe(IMAGES.minio);
    expect(c.command?.slice(0, 2)).toEqual(["/bin/sh", "-c"]);
    const env = envOf(c);
    expect(env.get("BUCKETS")?.value).toBe("airbyte-bucket");
    expect(env.get("MC_CONFIG_DIR")?.value).toBe("/tmp/mc");
    expect(c.volumeMounts).toContainEqual({ name: "tmp", mountPath: "/tmp" });
  });

  it("hands the Job its credentials only through secretKeyRef and $(VAR) expansion", () => {
    const c = podSpecOf(graph.one("Job", "airbyte-prod-minio-buckets")).containers[0];
    const names = (c.env ?? []).map((e) => e.name);
    // $(VAR) only expands variables defined earlier in the list.
    expect(names.indexOf("MC_HOST_minio")).toBeGreaterThan(names.indexOf("MINIO_ROOT_USER"));
    expect(names.indexOf("MC_HOST_minio")).toBeGreaterThan(names.indexOf("MINIO_ROOT_PASSWORD"));
    const env = envOf(c);
    expect(env.get("MINIO_ROOT_PASSWORD")?.valueFrom?.secretKeyRef?.key).toBe(
      "AWS_SECRET_ACCESS_KEY",
    );
    expect(env.get("MC_HOST_minio")?.value).toBe(
      "http://$(MINIO_ROOT_USER):$(MINIO_ROOT_PASSWORD)@airbyte-prod-minio.airbyte-prod.svc.cluster.local:9000",
    );
  });

  it("generates both root credentials and keeps them secret everywhere", () => {
    const outputs = component().outputs as Record<string, string>;
    expect(outputs.accessKeyId).toMatch(/^[A-Za-z0-9]{20}$/);
    expect(outputs.secretAccessKey).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(component().secretOutputPaths).toEqual(
      expect.arrayContaining(["accessKeyId", "secretAccessKey"]),
    );
    expectOnlyInSecrets(graph, outputs.accessKeyId);
    expectOnlyInSecrets(graph, outputs.secretAccessKey);
    const secret = graph.one("Secret", "airbyte-prod-minio-credentials");
    expect(Object.keys(secret.inputs.stringData as object).sort()).toEqual([
      "AWS_ACCESS_KEY_ID",
      "AWS_SECRET_ACCESS_KEY",
    ]);
  });

  it("has probes, bounds, a restricted security context and labels on every workload", () => {
    const workloads = graph.workloads();
    expect(workloads).toHaveLength(2);
    for (const w of workloads) expectRestrictedWorkload(w);
  });

  it("parents every child to the component and registers its outputs", () => {
    const owned = graph.descendantsOf(component()).map((r) => r.urn);
    const all = graph.resources.filter(
      (r) => r !== component() && r.type !== "pulumi:pulumi:Stack",
    );
    expect(owned.sort()).toEqual(all.map((r) => r.urn).sort());
    expect(component().outputs).toMatchObject({
      endpoint: "http://airbyte-prod-minio.airbyte-prod.svc.cluster.local:9000",
      host: "airbyte-prod-minio.airbyte-prod.svc.cluster.local",
      port: 9000,
      serviceName: "airbyte-prod-minio",
      bucket: "airbyte-bucket",
      buckets: ["airbyte-bucket"],
      secretName: "airbyte-prod-minio-credentials",
      bucketJobName: "airbyte-prod-minio-buckets",
    });
  });

  it("rejects args that would render a broken object, naming the arg", () => {
    const base = { namespace: "n", instanceName: "i" };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ buckets: [] }, /buckets: must name at least one/],
      [{ buckets: ["Airbyte"] }, /buckets: 'Airbyte'/],
      [{ buckets: ["a", "b"] }, /buckets: 'a'/],
      [{ buckets: ["logs", "logs"] }, /buckets: names 'logs' twice/],
      [{ logRetentionDays: -1 }, /logRetentionDays/],
      [{ logRetentionDays: 0 }, /logRetentionDays/],
      [{ logRetentionDays: 2.5 }, /logRetentionDays/],
      [{ storageSize: "twenty" }, /storageSize/],
      [{ instanceName: "Prod" }, /instanceName/],
    ];
    for (const [extra, error] of cases) {
      expect(() => new Minio("bad", { ...base, ...extra }), JSON.stringify(extra)).toThrow(error);
    }
  });
});

describe("S3 bucket names", () => {
  it("accepts valid names and rejects what S3 and MinIO reject", () => {
    for (const ok of ["airbyte-bucket", "abc", "logs.airbyte-prod", "a1b2", "x".repeat(63)]) {
      expect(checkBucketName(ok), ok).toBeUndefined();
    }
    for (const bad of [
      "ab",
      "x".repeat(64),
      "-abc",
      "abc-",
      "ab_c",
      "a..b",
      "a.-b",
      "a-.b",
      "192.168.1.1",
      "xn--abc",
      "sthree-abc",
      "abc-s3alias",
      "abc--ol-s3",
    ]) {
      expect(checkBucketName(bad), bad).toBeDefined();
    }
  });

  it("builds the lifecycle document for any retention", () => {
    expect(JSON.parse(lifecycleDocument(7)).Rules[0].Expiration).toEqual({ Days: 7 });
  });
});

/** Runs the bucket script with a stand-in `mc` that keeps buckets and lifecycles in a directory. */
function runBucketScript(existing: Record<string, string>, buckets: string, lifecycle: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mc-"));
  const store = path.join(dir, "store");
  fs.mkdirSync(store);
  for (const [b, ilm] of Object.entries(existing)) {
    fs.mkdirSync(path.join(store, b));
    fs.writeFileSync(path.join(store, b, "ilm.json"), ilm);
  }
  const fake = `#!/bin/sh
echo "$*" >> "${dir}/calls"
case "$1" in
  ls) exit 0 ;;
  mb) [ "$2" = "--ignore-existing" ] || exit 3; mkdir -p "${store}/\${3#minio/}" ;;
  ilm) [ "$2" = "import" ] || exit 3; b="\${3#minio/}"; [ -d "${store}/$b" ] || exit 4; cat > "${store}/$b/ilm.json" ;;
  *) exit 2 ;;
esac
`;
  fs.writeFileSync(path.join(dir, "mc"), fake, { mode: 0o755 });
  const lifecycleFile = path.join(dir, "lifecycle.json");
  fs.writeFileSync(lifecycleFile, lifecycle);
  execFileSync("/bin/sh", ["-c", BUCKETS_SCRIPT], {
    env: { PATH: `${dir}:${process.env.PATH}`, BUCKETS: buckets, LIFECYCLE_FILE: lifecycleFile },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const result = Object.fromEntries(
    fs.readdirSync(store).map((b) => [b, fs.readFileSync(path.join(store, b, "ilm.json"), "utf8")]),
  );
  fs.rmSync(dir, { recursive: true, force: true });
  return result;
}

describe("Minio bucket script", () => {
  it("creates missing buckets and sets exactly one lifecycle document on each", () => {
    const doc = lifecycleDocument(30);
    expect(runBucketScript({}, "airbyte-bucket airbyte-state", doc)).toEqual({
      "airbyte-bucket": doc,
      "airbyte-state": doc,
    });
  });

  it("re-running replaces an older rule instead of stacking, and keeps existing buckets", () => {
    const old = lifecycleDocument(90);
    const doc = lifecycleDocument(14);
    expect(runBucketScript({ "airbyte-bucket": old }, "airbyte-bucket", doc)).toEqual({
      "airbyte-bucket": doc,
    });
  });
});
