/** `caBundleSecretName` and `trackingEnabled`: validated keys, and the CA bundle in every Airbyte pod. */
import { beforeAll, describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../infra/config";
import { ourInstances } from "./contracts/chart/compare";
import { VALID_V0, mapSource } from "./support/config";
import { VALID_V1, runV1Stack } from "./support/config-v1";
import { Graph, podSpecOf } from "./support/graph";

type Obj = Record<string, unknown>;
let graph: Graph;
beforeAll(async () => {
  graph = await runV1Stack({ ...VALID_V1, caBundleSecretName: "corporate-ca" });
});

describe("caBundleSecretName", () => {
  it("adds the Secret's ca.crt to the anchors update-ca-trust reads, in both instances", () => {
    const pods = ourInstances(graph).flatMap((i) => Object.values(i.workloads));
    expect(pods.length).toBeGreaterThanOrEqual(13);
    for (const r of pods) {
      const pod = podSpecOf(r!) as unknown as Obj;
      const bundle = ((pod.volumes as Obj[]) ?? []).find((v) => v.name === "ca-bundle");
      // Not optional: a missing Secret holds the pod rather than starting it without the CA.
      expect(bundle?.secret).toEqual({
        secretName: "corporate-ca",
        items: [{ key: "ca.crt", path: "airbyte-custom-ca.crt" }],
      });
      const init = ((pod.initContainers as Obj[]) ?? []).find((c) => c.name === "ca-trust")!;
      expect((init.command as string[])[2]).toBe(
        "cp -R /etc/pki/ca-trust/. /ca-trust/ && " +
          "cp -L /ca-bundle/airbyte-custom-ca.crt /ca-trust/source/anchors/airbyte-custom-ca.crt",
      );
      expect(init.volumeMounts).toContainEqual({
        name: "ca-bundle",
        mountPath: "/ca-bundle",
        readOnly: true,
      });
      // Only the init container sees the Secret.
      const main = (pod.containers as Obj[])[0];
      expect((main.volumeMounts as Obj[]).some((m) => m.name === "ca-bundle")).toBe(false);
    }
  });
});

describe("trackingEnabled and caBundleSecretName", () => {
  const problems = (extra: Record<string, string>) => {
    try {
      parseConfig(mapSource({ ...VALID_V0, ...extra }));
      return [];
    } catch (e) {
      if (e instanceof ConfigError) return e.problems;
      throw e;
    }
  };
  it("defaults to tracking on and no extra CA", () => {
    const c = parseConfig(mapSource(VALID_V0));
    expect(c.trackingEnabled).toBe(true);
    expect(c.caBundleSecretName).toBeUndefined();
    expect(parseConfig(mapSource({ ...VALID_V0, trackingEnabled: "false" })).trackingEnabled).toBe(
      false,
    );
  });
  it("rejects bad values, naming the key and the fix", () => {
    expect(problems({ trackingEnabled: "off" }).join("\n")).toMatch(
      /airbyte:trackingEnabled.*'off' is not one of false, true/,
    );
    expect(problems({ caBundleSecretName: "Corporate_CA" }).join("\n")).toMatch(
      /airbyte:caBundleSecretName.*DNS-1123 label/,
    );
  });
});
