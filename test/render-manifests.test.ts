import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import {
  isKubeObject,
  kubeObjects,
  manifestPath,
  toYaml,
  toYamlStream,
  typeTokenParts,
} from "../infra/render/manifests";
import { parseArgs, UsageError } from "../infra/render/cli";
import {
  configMapBody,
  deploymentBody,
  kube,
  recorded,
  secretBody,
} from "./fixtures/render/objects";

describe("manifests", () => {
  it("reads apiVersion and kind from a Pulumi type token", () => {
    expect(typeTokenParts("kubernetes:apps/v1:Deployment")).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
    });
    expect(typeTokenParts("kubernetes:core/v1:Service")).toEqual({
      apiVersion: "v1",
      kind: "Service",
    });
    expect(typeTokenParts("kubernetes:helm.sh/v4:Chart")).toEqual({
      apiVersion: "helm.sh/v4",
      kind: "Chart",
    });
    expect(typeTokenParts("postgresql:index/role:Role")).toBeUndefined();
  });

  it("keeps Kubernetes objects only: no providers, components or other packages", () => {
    const rs = [
      recorded("pulumi:providers:kubernetes", "k8s", {}),
      recorded("kubernetes:helm.sh/v4:Chart", "chart", {}, { custom: false }),
      recorded("postgresql:index/role:Role", "role", {}),
      kube(configMapBody({ A: "b" })).resource,
    ];
    expect(rs.filter(isKubeObject).map((r) => r.name)).toEqual(["airbyte-prod-env"]);
  });

  it("orders objects for applying: config before workloads, then by namespace and name", () => {
    const objects = kubeObjects([
      kube(deploymentBody()).resource,
      kube(configMapBody({}, "b-env")).resource,
      kube(secretBody({}, "a-secret")).resource,
      kube(configMapBody({}, "a-env")).resource,
      kube({ apiVersion: "v1", kind: "Namespace", metadata: { name: "airbyte-prod" } }).resource,
    ]);
    expect(objects.map((o) => `${o.kind}/${o.name}`)).toEqual([
      "Namespace/airbyte-prod",
      "Secret/a-secret",
      "ConfigMap/a-env",
      "ConfigMap/b-env",
      "Deployment/airbyte-prod-server",
    ]);
  });

  it("files each object under its namespace, cluster-scoped ones apart", () => {
    expect(manifestPath(kube(deploymentBody()))).toBe(
      "airbyte-prod/deployment-airbyte-prod-server.yaml",
    );
    expect(
      manifestPath(kube({ apiVersion: "v1", kind: "Namespace", metadata: { name: "x" } })),
    ).toBe("_cluster/namespace-x.yaml");
  });

  it("quotes strings that YAML 1.1 readers (kubectl) would take for booleans or dates", () => {
    const yaml = toYaml(kube(configMapBody({ ENABLED: "on", LEGACY: "yes", DAY: "2024-01-01" })));
    expect(yaml).toContain('ENABLED: "on"');
    expect(yaml).toContain('LEGACY: "yes"');
    expect(yaml).toContain('DAY: "2024-01-01"');
  });

  it("writes YAML with apiVersion, kind and metadata first, and a stream that parses back", () => {
    const o = kube({
      data: { A: "1" },
      metadata: { name: "c", namespace: "n" },
      kind: "ConfigMap",
      apiVersion: "v1",
    });
    expect(toYaml(o).split("\n").slice(0, 3)).toEqual([
      "apiVersion: v1",
      "kind: ConfigMap",
      "metadata:",
    ]);
    const docs = parseAllDocuments(toYamlStream([o, kube(deploymentBody())]));
    expect(docs.map((d) => (d.toJS() as { kind: string }).kind)).toEqual([
      "ConfigMap",
      "Deployment",
    ]);
  });
});

describe("render flags", () => {
  it("parses the documented flags", () => {
    expect(
      parseArgs(["--stack", "v0", "--out=o", "--config", "a=b=c", "--config", "x=", "--stats"]),
    ).toMatchObject({
      stack: "v0",
      out: "o",
      config: { a: "b=c", x: "" },
      stats: true,
      diagram: true,
    });
  });

  it.each([
    [["--stak", "v0"], /unknown flag --stak; known flags: --stack/],
    [[], /--stack is required, e.g. npm run render -- --stack v0/],
    [["v0"], /pass the stack as --stack v0/],
    [["--stack"], /--stack needs a value/],
    [["--stack", "v0", "--config", "novalue"], /expected key=value/],
    [["--stack", "../etc"], /a stack name is letters/],
  ])("rejects %j naming the flag and the fix", (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
    expect(() => parseArgs(argv)).toThrow(message);
  });
});
