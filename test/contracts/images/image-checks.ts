/**
 * Holds the rendered Airbyte pods to the image contract (`facts.json`, read from the Dockerfiles
 * of airbyte-platform v2.0.0): the user they run as, and every path the image writes at start is
 * writable in the pod.
 */
import { expect } from "vitest";
import type { Graph } from "../../support/graph";
import { metadataOf, podSpecOf } from "../../support/graph";
import { ourInstances } from "../chart/compare";
import { imagesFacts } from "./load";

const IMAGE_FACTS = imagesFacts();

/** `java.io.tmpdir` of the JVM on Linux (no -Djava.io.tmpdir in the images' commands). */
const JVM_TEMP = "/tmp";

type Obj = Record<string, unknown>;
interface Mount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
}

const repoOf = (image: string) => image.replace(/:[^:/]+$/, "");
const under = (path: string, dir: string) =>
  path === dir || path.startsWith(`${dir.replace(/\/$/, "")}/`);

/** Whether `path` is writable in a container: a read-write mount at or above it, or a writable root. */
export function writable(c: Obj, path: string): boolean {
  const sc = (c.securityContext ?? {}) as Obj;
  const mounts = (c.volumeMounts ?? []) as Mount[];
  // The deepest mount holding the path decides.
  const holder = mounts
    .filter((m) => under(path, m.mountPath))
    .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
  if (holder) return holder.readOnly !== true;
  return sc.readOnlyRootFilesystem !== true;
}

/** Problems of one pod spec against the image facts. */
export function imageProblems(where: string, pod: Obj): string[] {
  const problems: string[] = [];
  const podSc = (pod.securityContext ?? {}) as Obj;
  const inits = (pod.initContainers ?? []) as Obj[];
  for (const c of [...inits, ...((pod.containers ?? []) as Obj[])]) {
    const at = `${where} container ${String(c.name)}`;
    const image = IMAGE_FACTS.images[repoOf(String(c.image))];
    if (!image) {
      problems.push(`${at}: image ${String(c.image)} is not in the image contract`);
      continue;
    }
    const sc = (c.securityContext ?? {}) as Obj;
    const uid = sc.runAsUser ?? podSc.runAsUser;
    const gid = sc.runAsGroup ?? podSc.runAsGroup;
    if (uid !== image.uid)
      problems.push(`${at}: runs as uid ${String(uid)}, image user is ${image.uid}`);
    if (gid !== image.gid)
      problems.push(`${at}: runs as gid ${String(gid)}, image group is ${image.gid}`);
    if (c.command) continue; // Its own command: the image's entrypoint does not run.
    for (const p of [...image.startupWrites, JVM_TEMP]) {
      if (!writable(c, p)) problems.push(`${at}: ${p} is not writable (${image.dockerfile})`);
    }
    // An emptyDir over the trust store starts empty: an init container must fill it from the image.
    const trust = ((c.volumeMounts ?? []) as Mount[]).find((m) =>
      image.startupWrites.some((w) => m.mountPath === w),
    );
    if (trust) {
      const filler = inits.find(
        (i) =>
          repoOf(String(i.image)) === repoOf(String(c.image)) &&
          ((i.volumeMounts ?? []) as Mount[]).some((m) => m.name === trust.name && !m.readOnly),
      );
      if (!filler)
        problems.push(
          `${at}: nothing copies the image's ${trust.mountPath} into volume ${trust.name}`,
        );
    }
  }
  return problems;
}

export function expectImageContract(graph: Graph): void {
  const problems: string[] = [];
  let pods = 0;
  for (const inst of ourInstances(graph)) {
    for (const [id, r] of Object.entries(inst.workloads)) {
      if (!r) continue;
      pods++;
      problems.push(...imageProblems(`${inst.instance} ${id}`, podSpecOf(r) as unknown as Obj));
    }
    // The launcher starts pods from these images: each must be one the contract knows.
    const cm = graph
      .kube("ConfigMap", `${inst.instance}-airbyte-env`)
      .find((c) => metadataOf(c).namespace === inst.namespace);
    const data = (cm?.inputs.data ?? {}) as Record<string, string>;
    for (const key of [
      "CONTAINER_ORCHESTRATOR_IMAGE",
      "CONNECTOR_SIDECAR_IMAGE",
      "WORKLOAD_INIT_IMAGE",
      "CONNECTOR_PROFILER_IMAGE",
    ]) {
      if (!IMAGE_FACTS.images[repoOf(data[key] ?? "")]) {
        problems.push(`${inst.instance} ${key}=${data[key]} is not in the image contract`);
      }
    }
  }
  expect(pods).toBeGreaterThanOrEqual(6);
  expect(problems).toEqual([]);
}
