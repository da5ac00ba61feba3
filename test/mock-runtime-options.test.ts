/** The mock recorder keeps the resource options the engine acts on (`infra/mock-runtime.ts`). */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { describe, expect, it } from "vitest";
import { runGraph } from "./support/graph";

class Holder extends pulumi.ComponentResource {
  constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
    super("airbyte:test:Holder", name, {}, opts);
    this.registerOutputs({});
  }
}

describe("recorded resource options", () => {
  it("records protect, retainOnDelete, customTimeouts, deleteBeforeReplace, dependsOn, ignoreChanges, replaceOnChanges, parent, provider, deletedWith", async () => {
    const g = await runGraph(() => {
      const provider = new k8s.Provider("kube", { namespace: "x" });
      const holder = new Holder("holder", { providers: [provider] });
      const ns = new k8s.core.v1.Namespace(
        "ns",
        { metadata: { name: "x" } },
        { parent: holder, protect: true, retainOnDelete: true },
      );
      const cm = new k8s.core.v1.ConfigMap(
        "cm",
        { metadata: { name: "cm", namespace: ns.metadata.name }, data: { a: "b" } },
        { parent: holder, deleteBeforeReplace: true, deletedWith: ns },
      );
      new k8s.batch.v1.Job(
        "job",
        {
          metadata: { name: "job", namespace: "x" },
          spec: { template: { spec: { restartPolicy: "Never", containers: [] } } },
        },
        {
          parent: holder,
          dependsOn: pulumi.output([cm]),
          customTimeouts: { create: "3h", update: "3h" },
          ignoreChanges: ["spec.template"],
          replaceOnChanges: ["spec.template.spec.containers"],
        },
      );
    });
    const byName = (n: string) => g.resources.find((r) => r.name === n)!;
    const holder = byName("holder");
    const ns = byName("ns");
    const cm = byName("cm");
    const job = byName("job");
    expect(ns).toMatchObject({
      parent: holder.urn,
      protect: true,
      retainOnDelete: true,
      customTimeouts: {},
      dependsOn: [],
    });
    expect(ns.provider).toMatch(/::kube::kube-id$/);
    expect(cm).toMatchObject({
      deleteBeforeReplace: true,
      retainOnDelete: false,
      protect: false,
      deletedWith: ns.urn,
      // An input that comes from `ns` is a dependency, but not a `dependsOn`.
      dependsOn: [],
      dependencies: [ns.urn],
    });
    expect(cm.propertyDependencies.metadata).toEqual([ns.urn]);
    expect(job).toMatchObject({
      dependsOn: [cm.urn],
      dependencies: [cm.urn],
      customTimeouts: { create: "3h", update: "3h" },
      ignoreChanges: ["spec.template"],
      replaceOnChanges: ["spec.template.spec.containers"],
    });
  });
});
