/**
 * The two extractors that write the contract facts, on small inputs made here: `helm template`
 * output for the chart's, a git repository with Dockerfiles for the images'.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { extract as extractChart } from "./contracts/chart/extract";
import { extract as extractImages } from "./contracts/images/extract";

const PROVENANCE = {
  chart: "airbyte",
  version: "0.0.1",
  appVersion: "0.0.1",
  source: "test",
  tgzSha256: "0",
  helm: "v3.19.0",
  release: "rel",
  namespace: "rel",
  values: {},
  command: "helm template rel CHART_TGZ --namespace rel",
};

const RENDERED = `
apiVersion: v1
kind: ConfigMap
metadata: { name: rel-airbyte-env }
data: { LOG_LEVEL: info }
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: airbyte-admin }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: airbyte-admin-role }
rules: [{ apiGroups: ["*"], resources: [pods], verbs: [get, create] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: airbyte-admin-binding }
roleRef: { kind: Role, name: airbyte-admin-role }
subjects: [{ kind: ServiceAccount, name: airbyte-admin }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: rel-server }
spec:
  template:
    spec:
      serviceAccountName: airbyte-admin
      securityContext: { fsGroup: 1000 }
      containers:
        - name: airbyte-server-container
          image: airbyte/server:2.0.1
          securityContext: { readOnlyRootFilesystem: false }
          env:
            - { name: LOG_LEVEL, valueFrom: { configMapKeyRef: { name: rel-airbyte-env, key: LOG_LEVEL } } }
            - { name: DATABASE_USER, valueFrom: { secretKeyRef: { name: rel-airbyte-secrets, key: DATABASE_USER } } }
            - { name: JOB_KUBE_NAMESPACE, valueFrom: { fieldRef: { fieldPath: metadata.namespace } } }
            - { name: EMPTY, value: "" }
            - { name: EMPTY, value: "later wins" }
          ports: [{ name: http, containerPort: 8001 }]
          volumeMounts: [{ name: tmp, mountPath: /tmp }, { name: cfg, mountPath: /etc/cfg, readOnly: true }]
`;

describe("chart extractor", () => {
  const facts = extractChart(RENDERED, PROVENANCE);
  it("keys workloads by name without the release and resolves every env source", () => {
    const server = facts.workloads.server;
    expect(server.serviceAccountName).toBe("airbyte-admin");
    expect(server.containers[0].env).toEqual({
      LOG_LEVEL: { configMapKey: { name: "rel-airbyte-env", key: "LOG_LEVEL" }, value: "info" },
      DATABASE_USER: { secretKey: { name: "rel-airbyte-secrets", key: "DATABASE_USER" } },
      JOB_KUBE_NAMESPACE: { fieldRef: "metadata.namespace" },
      EMPTY: { value: "later wins" },
    });
    expect(server.containers[0].ports).toEqual([
      { name: "http", containerPort: 8001, protocol: "TCP" },
    ]);
  });
  it("counts a writable root and read-write mounts as writable paths, and binds RBAC to SAs", () => {
    expect(facts.workloads.server.containers[0].writablePaths).toEqual(["/", "/tmp"]);
    expect(facts.rbac["airbyte-admin"]).toEqual([
      { apiGroups: ["*"], resources: ["pods"], verbs: ["get", "create"] },
    ]);
    expect(facts.provenance).toEqual(PROVENANCE);
  });
});

describe("image extractor", () => {
  const repo = fs.mkdtempSync(path.join(os.tmpdir(), "images-"));
  afterAll(() => fs.rmSync(repo, { recursive: true, force: true }));
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(repo, file)), { recursive: true });
    fs.writeFileSync(path.join(repo, file), text);
  };
  const git = (...a: string[]) =>
    execFileSync("git", ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@t", ...a]);

  it("follows the base image for user, entrypoint and the directories it prepares", () => {
    write(
      "airbyte-base-java-image/Dockerfile",
      'FROM amazoncorretto:21\nRUN <<EOF\ngroupadd --gid 1000 airbyte\nuseradd --uid 1000 --gid airbyte airbyte\nmkdir /secrets\nchown -R airbyte:airbyte /etc/pki/ca-trust\nEOF\nADD --chown=airbyte:airbyte entrypoint.sh /entrypoint.sh\nUSER airbyte:airbyte\nENTRYPOINT ["/entrypoint.sh"]\n',
    );
    write(
      "airbyte-base-java-image/entrypoint.sh",
      '#!/usr/bin/env bash\nset -e\nupdate-ca-trust\nexec "$@"\n',
    );
    const service =
      'ARG JDK_IMAGE=airbyte/airbyte-base-java-image:3.3\nFROM scratch as builder\nFROM ${JDK_IMAGE}\nEXPOSE 8001 8085\nUSER airbyte:airbyte\nCMD ["/bin/bash", "-c", "run"]\n';
    for (const dir of [
      "airbyte-bootloader",
      "airbyte-server",
      "airbyte-workers",
      "airbyte-workload-launcher",
      "airbyte-workload-api-server",
      "airbyte-cron",
      "airbyte-connector-builder-server",
      "airbyte-container-orchestrator",
      "airbyte-connector-sidecar",
      "airbyte-workload-init-container",
      "airbyte-async-profiler",
    ])
      write(`${dir}/Dockerfile`, service);
    git("init", "-q");
    git("add", "-A");
    git("commit", "-qm", "x");
    git("tag", "v1");
    const facts = extractImages(repo, "v1");
    expect(facts.images["airbyte/server"]).toMatchObject({
      from: "airbyte/airbyte-base-java-image:3.3",
      baseChain: ["amazoncorretto:21"],
      user: "airbyte:airbyte",
      uid: 1000,
      gid: 1000,
      entrypoint: ["/entrypoint.sh"],
      entrypointScript: ["set -e", "update-ca-trust", 'exec "$@"'],
      cmd: ["/bin/bash", "-c", "run"],
      expose: [8001, 8085],
      preparedForWriting: ["/etc/pki/ca-trust", "/secrets"],
      startupWrites: ["/etc/pki/ca-trust"],
    });
    expect(Object.keys(facts.provenance.files)).toContain("airbyte-server/Dockerfile");
  });
});
