/** Assertions every workload in the project must pass. */
import { expect } from "vitest";
import { RecordedResource, metadataOf, podSpecOf } from "./graph";

const REQUIRED_LABELS = [
  "app.kubernetes.io/name",
  "app.kubernetes.io/instance",
  "app.kubernetes.io/component",
  "app.kubernetes.io/part-of",
  "app.kubernetes.io/managed-by",
];

/**
 * Labels, probes (long-running workloads only), requests and limits, and the restricted security
 * context on the pod and each container.
 */
export function expectRestrictedWorkload(r: RecordedResource): void {
  const what = `${String(r.inputs.kind)} ${metadataOf(r).name}`;
  const labels = metadataOf(r).labels ?? {};
  for (const l of REQUIRED_LABELS) expect(labels[l], `${what} label ${l}`).toBeTruthy();
  const pod = podSpecOf(r);
  expect(pod.securityContext?.runAsNonRoot, `${what} pod runAsNonRoot`).toBe(true);
  const longRunning = ["Deployment", "StatefulSet", "DaemonSet"].includes(String(r.inputs.kind));
  for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
    const where = `${what} container ${c.name}`;
    if (longRunning && pod.containers.includes(c)) {
      expect(c.livenessProbe, `${where} livenessProbe`).toBeDefined();
      expect(c.readinessProbe, `${where} readinessProbe`).toBeDefined();
    }
    expect(c.resources?.requests?.cpu, `${where} cpu request`).toBeTruthy();
    expect(c.resources?.requests?.memory, `${where} memory request`).toBeTruthy();
    expect(c.resources?.limits?.cpu, `${where} cpu limit`).toBeTruthy();
    expect(c.resources?.limits?.memory, `${where} memory limit`).toBeTruthy();
    expect(c.securityContext, `${where} securityContext`).toMatchObject({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(c.image, `${where} image pinned`).toMatch(/:[^:]+$/);
    expect(c.image, `${where} image not latest`).not.toMatch(/:latest$/);
  }
}
