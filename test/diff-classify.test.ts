/** The offline diff's classifier (`infra/render/diff.ts`) on hand-built resource lists: each rule. */
import { describe, expect, it } from "vitest";
import type { RecordedResource } from "../infra/mock-runtime";
import { diffRuns, parsePath, type ResourceDiff, type TopologyDiff } from "../infra/render/diff";
import { UNKNOWN_AT_PREVIEW } from "../infra/preview-values";

const STACK_URN = "urn:pulumi:s::airbyte::pulumi:pulumi:Stack::airbyte-s";

function res(
  type: string,
  name: string,
  inputs: Record<string, unknown> = {},
  extra: Partial<RecordedResource> = {},
): RecordedResource {
  return {
    type,
    name,
    urn: `urn:pulumi:s::airbyte::${type}::${name}`,
    parent: STACK_URN,
    custom: !type.startsWith("airbyte:"),
    inputs,
    secretPaths: [],
    dependencies: [],
    dependsOn: [],
    propertyDependencies: {},
    protect: false,
    retainOnDelete: false,
    customTimeouts: {},
    deleteBeforeReplace: false,
    ignoreChanges: [],
    replaceOnChanges: [],
    aliases: [],
    ...extra,
  };
}

const stack = (outputs: Record<string, unknown> = {}, secretOutputPaths: string[] = []) =>
  res(
    "pulumi:pulumi:Stack",
    "airbyte-s",
    {},
    {
      urn: STACK_URN,
      parent: undefined,
      custom: false,
      outputs,
      secretOutputPaths,
    },
  );

/** A namespaced Kubernetes object of `type` with `spec`, and other top-level fields in `rest`. */
function kube(
  type: string,
  name: string,
  body: Record<string, unknown>,
  extra: Partial<RecordedResource> = {},
  namespace = "airbyte-tools",
): RecordedResource {
  const kind = type.slice(type.lastIndexOf(":") + 1);
  const gv = type.slice("kubernetes:".length, type.lastIndexOf(":"));
  return res(
    type,
    name,
    {
      apiVersion: gv.startsWith("core/") ? gv.slice(5) : gv,
      kind,
      metadata: { name, namespace },
      ...body,
    },
    extra,
  );
}

/** Diffs a one-resource world before and after. */
function one(before: RecordedResource, after: RecordedResource, extra: RecordedResource[] = []) {
  const d = diffRuns([stack(), ...extra, before], [stack(), ...extra, after]);
  return d.entries.find((e) => e.urn === after.urn);
}

const reasonRules = (e: ResourceDiff | undefined) => e?.replaceReasons.map((r) => r.rule) ?? [];

const DEPLOY = "kubernetes:apps/v1:Deployment";
const STS = "kubernetes:apps/v1:StatefulSet";
const JOB = "kubernetes:batch/v1:Job";
const SVC = "kubernetes:core/v1:Service";
const PVC = "kubernetes:core/v1:PersistentVolumeClaim";
const SECRET = "kubernetes:core/v1:Secret";
const CM = "kubernetes:core/v1:ConfigMap";

describe("matching by URN", () => {
  const a = kube(CM, "a", { data: { x: "1" } });
  const b = kube(CM, "b", { data: { x: "1" } });
  const c = kube(CM, "c", { data: { x: "1" } });

  it("identical resources are only counted", () => {
    const d = diffRuns([stack(), a, b], [stack(), a, b]);
    expect(d.entries).toEqual([]);
    expect(d.counts).toEqual({
      create: 0,
      update: 0,
      replace: 0,
      delete: 0,
      same: 2,
      possibleReplace: 0,
    });
  });

  it("a URN only on the new side is a create, only on the old side a delete", () => {
    const d = diffRuns([stack(), a, b], [stack(), a, c]);
    expect(d.entries.map((e) => [e.op, e.name])).toEqual([
      ["delete", "b"],
      ["create", "c"],
    ]);
    expect(d.counts).toMatchObject({ create: 1, delete: 1, same: 1 });
  });

  it("a resource that moved with an alias of its old URN is matched, not deleted and created", () => {
    const moved = {
      ...kube(CM, "a", { data: { x: "1" } }),
      urn: "urn:new",
      aliases: [{ urn: a.urn }],
    };
    const d = diffRuns([stack(), a], [stack(), moved]);
    expect(d.entries).toEqual([]);
    expect(d.counts.same).toBe(1);
    const changed = { ...moved, inputs: { ...moved.inputs, data: { x: "2" } } };
    const e = diffRuns([stack(), a], [stack(), changed]).entries[0];
    expect(e).toMatchObject({ op: "replace", urn: "urn:new", oldUrn: a.urn });
  });
});

describe("updates", () => {
  it("lists each changed leaf with old and new values", () => {
    const before = kube(DEPLOY, "web", {
      spec: { replicas: 1, template: { spec: { containers: [{ name: "c", image: "a:1" }] } } },
    });
    const after = kube(DEPLOY, "web", {
      spec: { replicas: 2, template: { spec: { containers: [{ name: "c", image: "a:2" }] } } },
    });
    const e = one(before, after);
    expect(e?.op).toBe("update");
    expect(e?.changes).toEqual([
      { path: "spec.replicas", old: 1, new: 2 },
      { path: "spec.template.spec.containers[0].image", old: "a:1", new: "a:2" },
    ]);
    expect(e?.object).toBe("Deployment airbyte-tools/web");
  });

  it("shows keys that are not identifiers in brackets, and added or removed fields alone", () => {
    const before = kube(CM, "x", { metadata: { name: "x", namespace: "n", labels: { a: "1" } } });
    const after = kube(CM, "x", {
      metadata: { name: "x", namespace: "n", labels: { "app.kubernetes.io/name": "x" } },
    });
    expect(one(before, after)?.changes).toEqual([
      { path: "metadata.labels.a", old: "1" },
      { path: 'metadata.labels["app.kubernetes.io/name"]', new: "x" },
    ]);
  });

  it("masks secrets, also inside an added subtree, and never prints their values", () => {
    const before = kube(
      SECRET,
      "s",
      { stringData: { password: "old-pw", user: "u" } },
      { secretPaths: ["stringData.password"] },
    );
    const after = kube(
      SECRET,
      "s",
      { stringData: { password: "new-pw", user: "v" }, data: { "tls.key": "k" } },
      { secretPaths: ["stringData.password", "data.tls.key"] },
    );
    const e = one(before, after);
    expect(e?.changes).toEqual([
      { path: "data", new: { "tls.key": "[secret]" } },
      { path: "stringData.password", old: "[secret]", new: "[secret]" },
      { path: "stringData.user", old: "u", new: "v" },
    ]);
    expect(JSON.stringify(e)).not.toMatch(/old-pw|new-pw/);
    const whole = kube(
      SECRET,
      "t",
      { stringData: { nested: { password: "pw", user: "u" } } },
      { secretPaths: ["stringData.nested.password"] },
    );
    const empty = kube(SECRET, "t", {});
    expect(one(empty, whole)?.changes).toEqual([
      { path: "stringData", new: { nested: { password: "[secret]", user: "u" } } },
    ]);
  });

  it("ignoreChanges paths are not changes", () => {
    const before = kube(
      DEPLOY,
      "web",
      { spec: { replicas: 1 } },
      { ignoreChanges: ["spec.replicas"] },
    );
    const after = kube(
      DEPLOY,
      "web",
      { spec: { replicas: 3 } },
      { ignoreChanges: ["spec.replicas"] },
    );
    expect(one(before, after)).toBeUndefined();
  });

  it("option changes are listed: protect, deleteBeforeReplace, ignoreChanges, replaceOnChanges", () => {
    const before = kube(CM, "x", { data: {} }, { protect: true });
    const after = kube(
      CM,
      "x",
      { data: {} },
      {
        protect: false,
        deleteBeforeReplace: true,
        ignoreChanges: ["data"],
        replaceOnChanges: ["*"],
      },
    );
    const e = one(before, after);
    expect(e?.op).toBe("update");
    expect(e?.optionChanges.map((o) => o.option)).toEqual([
      "protect",
      "deleteBeforeReplace",
      "ignoreChanges",
      "replaceOnChanges",
    ]);
  });
});

describe("Kubernetes replacements (the provider's force-new fields)", () => {
  const cases: [string, string, Record<string, unknown>, Record<string, unknown>, string | null][] =
    [
      [
        "metadata.name",
        CM,
        { metadata: { name: "a", namespace: "n" } },
        { metadata: { name: "b", namespace: "n" } },
        "kubernetes: ConfigMap metadata.name",
      ],
      [
        "metadata.namespace",
        DEPLOY,
        { metadata: { name: "a", namespace: "n" } },
        { metadata: { name: "a", namespace: "m" } },
        "kubernetes: Deployment metadata.namespace",
      ],
      [
        "Deployment spec.selector",
        DEPLOY,
        { spec: { selector: { matchLabels: { a: "1" } } } },
        { spec: { selector: { matchLabels: { a: "2" } } } },
        "kubernetes: Deployment spec.selector",
      ],
      [
        "Deployment pod template",
        DEPLOY,
        { spec: { template: { spec: { containers: [{ image: "a:1" }] } } } },
        { spec: { template: { spec: { containers: [{ image: "a:2" }] } } } },
        null,
      ],
      [
        "StatefulSet spec.volumeClaimTemplates",
        STS,
        {
          spec: {
            volumeClaimTemplates: [{ spec: { resources: { requests: { storage: "1Gi" } } } }],
          },
        },
        {
          spec: {
            volumeClaimTemplates: [{ spec: { resources: { requests: { storage: "2Gi" } } } }],
          },
        },
        "kubernetes: StatefulSet spec.volumeClaimTemplates",
      ],
      [
        "StatefulSet spec.serviceName",
        STS,
        { spec: { serviceName: "a" } },
        { spec: { serviceName: "b" } },
        "kubernetes: StatefulSet spec.serviceName",
      ],
      [
        "StatefulSet spec.podManagementPolicy",
        STS,
        { spec: {} },
        { spec: { podManagementPolicy: "Parallel" } },
        "kubernetes: StatefulSet spec.podManagementPolicy",
      ],
      [
        "StatefulSet spec.replicas",
        STS,
        { spec: { replicas: 1 } },
        { spec: { replicas: 2 } },
        null,
      ],
      [
        "Job spec.template",
        JOB,
        { spec: { template: { spec: { containers: [{ image: "a:1" }] } } } },
        { spec: { template: { spec: { containers: [{ image: "a:2" }] } } } },
        "kubernetes: Job spec.template",
      ],
      [
        "Job spec.backoffLimit",
        JOB,
        { spec: { backoffLimit: 1 } },
        { spec: { backoffLimit: 2 } },
        null,
      ],
      [
        "Service spec.clusterIP",
        SVC,
        { spec: { clusterIP: "None" } },
        { spec: {} },
        "kubernetes: Service spec.clusterIP",
      ],
      [
        "Service spec.type (in place)",
        SVC,
        { spec: { type: "ClusterIP" } },
        { spec: { type: "NodePort" } },
        null,
      ],
      [
        "PVC spec.storageClassName",
        PVC,
        { spec: { storageClassName: "a" } },
        { spec: { storageClassName: "b" } },
        "kubernetes: PersistentVolumeClaim spec.storageClassName",
      ],
      [
        "PVC spec.accessModes",
        PVC,
        { spec: { accessModes: ["ReadWriteOnce"] } },
        { spec: { accessModes: ["ReadWriteMany"] } },
        "kubernetes: PersistentVolumeClaim spec.accessModes",
      ],
      [
        "PVC storage request (resize in place)",
        PVC,
        { spec: { resources: { requests: { storage: "1Gi" } } } },
        { spec: { resources: { requests: { storage: "2Gi" } } } },
        null,
      ],
      [
        "Secret data (immutable by default)",
        SECRET,
        { data: { a: "MQ==" } },
        { data: { a: "Mg==" } },
        "kubernetes: Secret data",
      ],
      [
        "Secret type",
        SECRET,
        { type: "Opaque" },
        { type: "kubernetes.io/tls" },
        "kubernetes: Secret type",
      ],
      [
        "Secret labels",
        SECRET,
        { metadata: { name: "x", namespace: "n", labels: { a: "1" } } },
        { metadata: { name: "x", namespace: "n", labels: { a: "2" } } },
        null,
      ],
      [
        "ConfigMap data (immutable by default)",
        CM,
        { data: { a: "1" } },
        { data: { a: "2" } },
        "kubernetes: ConfigMap data",
      ],
      [
        "ConfigMap immutable true → false",
        CM,
        { immutable: true },
        { immutable: false },
        "kubernetes API: an immutable object cannot be made mutable",
      ],
      [
        "RoleBinding roleRef",
        "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
        { roleRef: { name: "a" } },
        { roleRef: { name: "b" } },
        "kubernetes: RoleBinding roleRef",
      ],
      [
        "Patch resource spec (in place)",
        "kubernetes:apps/v1:DeploymentPatch",
        { spec: { selector: { a: 1 } } },
        { spec: { selector: { a: 2 } } },
        null,
      ],
    ];

  it.each(cases)("%s", (_label, type, a, b, rule) => {
    const e = one(kube(type, "x", a), kube(type, "x", b));
    if (rule === null) {
      expect(e?.op).toBe("update");
      expect(e?.replaceReasons).toEqual([]);
    } else {
      expect(e?.op).toBe("replace");
      expect(reasonRules(e)).toContainEqual(expect.stringContaining(rule));
    }
  });

  it("an object replaced under the same name is deleted first; renamed, it is not", () => {
    const same = one(
      kube(SECRET, "x", { data: { a: "1" } }),
      kube(SECRET, "x", { data: { a: "2" } }),
    );
    expect(same?.deleteBeforeReplace).toBe(true);
    const renamed = one(
      kube(SECRET, "x", { metadata: { name: "a", namespace: "n" } }),
      kube(SECRET, "x", { metadata: { name: "b", namespace: "n" } }),
    );
    expect(renamed?.deleteBeforeReplace).toBe(false);
  });

  describe("with a provider that makes Secrets and ConfigMaps mutable", () => {
    const provider = res("pulumi:providers:kubernetes", "k8s", {
      enableSecretMutable: "true",
      enableConfigMapMutable: true,
    });
    const ref = { provider: `${provider.urn}::k8s-id` };
    it("their data changes in place", () => {
      expect(
        one(
          kube(SECRET, "x", { data: { a: "1" } }, ref),
          kube(SECRET, "x", { data: { a: "2" } }, ref),
          [provider],
        )?.op,
      ).toBe("update");
      expect(
        one(kube(CM, "x", { data: { a: "1" } }, ref), kube(CM, "x", { data: { a: "2" } }, ref), [
          provider,
        ])?.op,
      ).toBe("update");
    });
    it("unless they are immutable", () => {
      const e = one(
        kube(SECRET, "x", { immutable: true, data: { a: "1" } }, ref),
        kube(SECRET, "x", { immutable: true, data: { a: "2" } }, ref),
        [provider],
      );
      expect(reasonRules(e)).toEqual(["kubernetes: Secret data"]);
    });
  });
});

describe("PostgreSQL replacements (terraform-provider-postgresql ForceNew)", () => {
  const pg = (kind: string, inputs: Record<string, unknown>) =>
    res(`postgresql:index/${kind[0].toLowerCase()}${kind.slice(1)}:${kind}`, "x", inputs);
  it.each([
    [
      "Database",
      { template: "template0" },
      { template: "template1" },
      "postgresql: Database template",
    ],
    [
      "Database",
      { lcCollate: "C" },
      { lcCollate: "en_US.UTF-8" },
      "postgresql: Database lcCollate",
    ],
    ["Grant", { objects: ["a"] }, { objects: ["b"] }, "postgresql: Grant objects"],
    [
      "Subscription",
      { publications: ["a"] },
      { publications: ["b"] },
      "postgresql: Subscription publications",
    ],
    ["Publication", { allTables: false }, { allTables: true }, "postgresql: Publication allTables"],
    ["Schema", { database: "a" }, { database: "b" }, "postgresql: Schema database"],
  ])("%s %j → %j replaces", (kind, a, b, rule) => {
    const e = one(pg(kind, a), pg(kind, b));
    expect(e?.op).toBe("replace");
    expect(reasonRules(e)).toEqual([rule]);
  });

  it("renames and owner changes are in place, with a note", () => {
    const db = one(
      pg("Database", { name: "a", owner: "o" }),
      pg("Database", { name: "b", owner: "p" }),
    );
    expect(db?.op).toBe("update");
    expect(db?.notes).toHaveLength(2);
    const role = one(
      pg("Role", { name: "a", login: true }),
      pg("Role", { name: "b", login: true }),
    );
    expect(role?.op).toBe("update");
    expect(role?.notes[0]).toMatch(/Role name changes in place/);
    expect(
      one(pg("Grant", { privileges: ["SELECT"] }), pg("Grant", { privileges: ["ALL"] }))?.op,
    ).toBe("update");
  });
});

describe("random: every input change regenerates", () => {
  it.each([
    ["length", { length: 16 }, { length: 24 }],
    ["keepers", { length: 16, keepers: { a: "1" } }, { length: 16, keepers: { a: "2" } }],
  ])("%s", (_l, a, b) => {
    const e = one(
      res("random:index/randomPassword:RandomPassword", "pw", a),
      res("random:index/randomPassword:RandomPassword", "pw", b),
    );
    expect(e?.op).toBe("replace");
    expect(reasonRules(e)[0]).toMatch(/^random: every input/);
  });
});

describe("resource options", () => {
  it("replaceOnChanges paths (and *) force a replacement", () => {
    const opts = { replaceOnChanges: ["spec.template"] };
    const e = one(
      kube(DEPLOY, "x", { spec: { template: { a: 1 } } }, opts),
      kube(DEPLOY, "x", { spec: { template: { a: 2 } } }, opts),
    );
    expect(reasonRules(e)).toEqual(["replaceOnChanges: spec.template"]);
    const any = { replaceOnChanges: ["*"] };
    expect(
      one(
        res("airbyte-x:index:Thing", "t", { a: 1 }, { ...any, custom: true }),
        res("airbyte-x:index:Thing", "t", { a: 2 }, { ...any, custom: true }),
      )?.op,
    ).toBe("replace");
  });

  it("a protected resource that would be deleted or replaced is flagged", () => {
    const p = kube(CM, "x", { data: { a: "1" } }, { protect: true });
    expect(diffRuns([stack(), p], [stack()]).entries[0]).toMatchObject({
      op: "delete",
      protectedBlock: true,
    });
    expect(one(p, kube(CM, "x", { data: { a: "2" } }, { protect: true }))?.protectedBlock).toBe(
      true,
    );
  });

  it("parsePath reads Pulumi property paths", () => {
    expect(parsePath('spec.containers[*].env[0]["a.b"]')).toEqual([
      "spec",
      "containers",
      "*",
      "env",
      0,
      "a.b",
    ]);
  });
});

describe("providers", () => {
  const k8sA = res("pulumi:providers:kubernetes", "a", { context: "one" });
  const k8sB = res("pulumi:providers:kubernetes", "b", { context: "one" });
  const on = (p: RecordedResource) => ({ provider: `${p.urn}::${p.name}-id` });

  it("a resource moved to another provider is replaced", () => {
    const e = one(kube(CM, "x", { data: {} }, on(k8sA)), kube(CM, "x", { data: {} }, on(k8sB)), [
      k8sA,
      k8sB,
    ]);
    expect(e?.op).toBe("replace");
    expect(reasonRules(e)).toEqual(["provider changed from a to b"]);
    expect(e?.optionChanges).toEqual([{ option: "provider", old: "a", new: "b" }]);
  });

  it("a Kubernetes provider aimed at another context is replaced, and so is everything on it", () => {
    const moved = { ...k8sA, inputs: { context: "two" } };
    const cm = kube(CM, "x", { data: {} }, on(k8sA));
    const d = diffRuns([stack(), k8sA, cm], [stack(), moved, cm]);
    expect(d.entries.map((e) => [e.op, e.name]).sort()).toEqual([
      ["replace", "a"],
      ["replace", "x"],
    ]);
    expect(reasonRules(d.entries.find((e) => e.name === "x"))).toEqual([
      "its provider a is replaced",
    ]);
  });

  it("other provider settings change in place and do not cascade", () => {
    const ssa = { ...k8sA, inputs: { context: "one", enableServerSideApply: true } };
    const cm = kube(CM, "x", { data: {} }, on(k8sA));
    const d = diffRuns([stack(), k8sA, cm], [stack(), ssa, cm]);
    expect(d.entries.map((e) => [e.op, e.name])).toEqual([["update", "a"]]);
  });
});

describe("prod", () => {
  const instance = res("airbyte:instance:AirbyteInstance", "airbyte-prod");
  const replicaInstance = res("airbyte:instance:AirbyteInstance", "airbyte-replica");
  const auth = res("airbyte:platform:AirbyteAuthSecrets", "airbyte-auth");
  const under = (p: RecordedResource) => ({ parent: p.urn });
  const world = [
    stack(),
    instance,
    replicaInstance,
    auth,
    res("random:index/randomPassword:RandomPassword", "prod-pw", { length: 1 }, under(instance)),
    res("random:index/randomPassword:RandomPassword", "auth-pw", { length: 1 }, under(auth)),
    res(
      "random:index/randomPassword:RandomPassword",
      "replica-pw",
      { length: 1 },
      under(replicaInstance),
    ),
    kube(CM, "in-prod-ns", { data: {} }, {}, "airbyte-prod"),
    kube(CM, "elsewhere", { data: {} }, {}, "airbyte-replica"),
    res("kubernetes:core/v1:Namespace", "ns", {
      kind: "Namespace",
      metadata: { name: "airbyte-prod" },
    }),
  ];
  let d: TopologyDiff;
  const byName = (n: string) => d.entries.find((e) => e.name === n);

  it("is what is under airbyte-prod, in its namespace, or the shared auth secrets", () => {
    d = diffRuns(world, [stack()]);
    expect(byName("prod-pw")?.prod).toBe(true);
    expect(byName("auth-pw")?.prod).toBe(true);
    expect(byName("in-prod-ns")?.prod).toBe(true);
    expect(byName("ns")?.prod).toBe(true);
    expect(byName("airbyte-prod")?.prod).toBe(true);
    expect(byName("airbyte-auth")?.prod).toBe(true);
    expect(byName("replica-pw")?.prod).toBe(false);
    expect(byName("elsewhere")?.prod).toBe(false);
    expect(d.prodReplacedOrDeleted.map((e) => e.name).sort()).toEqual([
      "airbyte-auth",
      "airbyte-prod",
      "auth-pw",
      "in-prod-ns",
      "ns",
      "prod-pw",
    ]);
    expect(byName("prod-pw")?.owner).toBe("AirbyteInstance airbyte-prod");
  });

  it("leaves out what another component adds to prod's namespace (a topology's own access)", () => {
    const migration = res("airbyte:migration:DbMigration", "db-migration");
    const policy = kube(
      "kubernetes:networking.k8s.io/v1:NetworkPolicy",
      "allow-from-migration",
      { spec: {} },
      under(migration),
      "airbyte-prod",
    );
    d = diffRuns([...world, migration, policy], world);
    expect(byName("allow-from-migration")?.op).toBe("delete");
    expect(byName("allow-from-migration")?.prod).toBe(false);
    expect(d.prodReplacedOrDeleted).toEqual([]);
  });

  it("follows the prod namespace it is given", () => {
    d = diffRuns(world, [stack()], { prodNamespaces: ["airbyte-replica"] });
    expect(byName("elsewhere")?.prod).toBe(true);
    expect(byName("in-prod-ns")?.prod).toBe(false);
  });

  it("prod creates and updates do not count as replaced or deleted", () => {
    const grown = world.map((r) =>
      r.name === "in-prod-ns"
        ? {
            ...r,
            inputs: {
              ...r.inputs,
              metadata: { name: "in-prod-ns", namespace: "airbyte-prod", labels: { a: "b" } },
            },
          }
        : r,
    );
    d = diffRuns(world, [...grown, kube(CM, "new", {}, {}, "airbyte-prod")]);
    expect(d.entries.map((e) => [e.op, e.name, e.prod])).toEqual([
      ["update", "in-prod-ns", true],
      ["create", "new", true],
    ]);
    expect(d.prodReplacedOrDeleted).toEqual([]);
  });
});

describe("stack outputs", () => {
  it("lists added, removed and changed outputs, secret ones masked", () => {
    const d = diffRuns(
      [stack({ a: 1, gone: "x", pw: "old" }, ["pw"])],
      [stack({ a: 2, added: "y", pw: "new" }, ["pw"])],
    );
    expect(d.outputs).toEqual([
      { name: "a", old: 1, new: 2 },
      { name: "added", new: "y" },
      { name: "gone", old: "x" },
      { name: "pw", old: "[secret]", new: "[secret]" },
    ]);
  });
});

describe("values unknown at preview (the new side is a preview)", () => {
  const U = UNKNOWN_AT_PREVIEW;

  it("a Secret whose data is unknown is a possible replace, shown as unknown", () => {
    const e = one(
      kube(SECRET, "s", { stringData: { password: "x" } }, { secretPaths: ["stringData"] }),
      kube(SECRET, "s", { stringData: U }),
    );
    expect(e).toMatchObject({ op: "replace", possibleReplace: true });
    expect(e?.changes).toEqual([{ path: "stringData", old: "[secret]", new: U, unknown: true }]);
    expect(e?.replaceReasons[0]).toMatchObject({ possible: true });
    expect(reasonRules(e)[0]).toMatch(/kubernetes: Secret stringData; unknown at preview/);
  });

  it("counts possible replacements apart, and a known force-new change is not possible but certain", () => {
    const d = diffRuns(
      [stack(), kube(CM, "a", { data: { x: "1" } }), kube(CM, "b", { data: { x: "1" } })],
      [stack(), kube(CM, "a", { data: { x: U } }), kube(CM, "b", { data: { x: "2" } })],
    );
    expect(d.counts).toMatchObject({ replace: 2, possibleReplace: 1 });
    expect(d.entries.find((e) => e.name === "b")?.possibleReplace).toBe(false);
  });

  it("Kubernetes: an unknown replaces only at or below a force-new path (the provider's patch has null there)", () => {
    const tpl = { template: { spec: { containers: [{ name: "c", image: "i:1" }] } } };
    // A whole `spec` unknown: the patch is `spec: null`, `.spec.template` is not found in it.
    expect(one(kube(JOB, "j", { spec: tpl }), kube(JOB, "j", { spec: U }))?.op).toBe("update");
    const deep = one(
      kube(JOB, "j", { spec: tpl }),
      kube(JOB, "j", { spec: { template: { spec: { containers: [{ name: "c", image: U }] } } } }),
    );
    expect(deep).toMatchObject({ op: "replace", possibleReplace: true });
  });

  it("bridged providers: an unknown force-new attribute is a possible replace", () => {
    const t = "postgresql:index/subscription:Subscription";
    const e = one(
      res(t, "sub", { name: "s", conninfo: "host=a" }),
      res(t, "sub", { name: "s", conninfo: U }),
    );
    expect(e).toMatchObject({ op: "replace", possibleReplace: true });
    expect(e?.hazards.map((h) => h.kind)).toEqual(["replication"]);
    expect(e?.hazards[0].message).toMatch(/\(if the replacement happens\)/);
  });
});

describe("options: recorded and shown", () => {
  it("lists protect, retainOnDelete, deleteBeforeReplace, customTimeouts and deletedWith on an entry", () => {
    const job = kube(
      JOB,
      "j",
      { spec: { template: {} } },
      {
        protect: true,
        retainOnDelete: true,
        deleteBeforeReplace: true,
        customTimeouts: { create: "3h", update: "3h" },
        deletedWith: "urn:pulumi:s::airbyte::kubernetes:core/v1:Namespace::ns",
      },
    );
    const d = diffRuns([stack()], [stack(), job]);
    expect(d.entries[0].options).toEqual([
      "protect",
      "retainOnDelete",
      "deleteBeforeReplace",
      "customTimeouts(create 3h, update 3h)",
      "deletedWith ns",
    ]);
  });

  it("reports changes of retainOnDelete, customTimeouts and dependsOn", () => {
    const dep = "urn:pulumi:s::airbyte::kubernetes:core/v1:Namespace::ns";
    const e = one(
      kube(JOB, "j", { spec: {} }),
      kube(
        JOB,
        "j",
        { spec: {} },
        { retainOnDelete: true, customTimeouts: { create: "3h" }, dependsOn: [dep] },
      ),
    );
    expect(e?.optionChanges).toEqual([
      { option: "retainOnDelete", old: false, new: true },
      { option: "customTimeouts", old: {}, new: { create: "3h" } },
      { option: "dependsOn", old: [], new: ["ns"] },
    ]);
    expect(e?.op).toBe("update");
  });
});

describe("dependent replacements (the engine's, for a resource deleted before it is replaced)", () => {
  const secretBefore = kube(SECRET, "creds", { stringData: { password: "a" } });
  const secretAfter = kube(SECRET, "creds", { stringData: { password: "b" } });
  const envFrom = {
    template: {
      spec: { containers: [{ name: "c", envFrom: [{ secretRef: { name: "creds" } }] }] },
    },
  };
  const deps = { propertyDependencies: { spec: [secretBefore.urn] } };

  it("a Job reading a Secret replaced delete-first is flagged: not re-run, pods fail meanwhile", () => {
    const job = kube(JOB, "setup", { spec: envFrom }, deps);
    const d = diffRuns([stack(), secretBefore, job], [stack(), secretAfter, job]);
    const secret = d.entries.find((e) => e.name === "creds");
    expect(secret).toMatchObject({ op: "replace", deleteBeforeReplace: true });
    expect(secret?.notes.join("\n")).toMatch(
      /deleted before it is re-created while Job airbyte-tools\/setup uses it: pods starting meanwhile fail; Job airbyte-tools\/setup does not re-run with the new value/,
    );
    // The provider sees `spec` unknown as `spec: null`: not a force-new path, so the Job stays.
    expect(d.entries.find((e) => e.name === "setup")).toBeUndefined();
  });

  it("also by name alone (no property dependency): the pod still reads it", () => {
    const job = kube(JOB, "setup", { spec: envFrom });
    const d = diffRuns([stack(), secretBefore, job], [stack(), secretAfter, job]);
    expect(d.entries.find((e) => e.name === "creds")?.notes.join("\n")).toMatch(
      /Job airbyte-tools\/setup/,
    );
  });

  it("a dependent whose force-new input comes from it is replaced too, first, transitively", () => {
    const role = "postgresql:index/role:Role";
    const grant = "postgresql:index/grant:Grant";
    const rBefore = res(role, "r", { name: "a" }, { deleteBeforeReplace: true });
    const rAfter = res(role, "r", { name: "a", replicationX: true }, { deleteBeforeReplace: true });
    // Role has no force-new attribute: make it replace through replaceOnChanges.
    rAfter.replaceOnChanges = ["*"];
    const g = res(
      grant,
      "g",
      { role: "a", database: "d", objectType: "database", privileges: [] },
      {
        propertyDependencies: { role: [rBefore.urn] },
      },
    );
    const d = diffRuns([stack(), rBefore, g], [stack(), rAfter, g]);
    const ge = d.entries.find((e) => e.name === "g");
    expect(ge).toMatchObject({ op: "replace", deleteBeforeReplace: true });
    expect(ge?.replaceReasons[0].rule).toMatch(
      /depends on postgresql Role r|depends on r, deleted before/,
    );
  });
});

describe("data loss, replication and failing deletes (exit non-zero unless --allow-data-loss)", () => {
  const ns = res("kubernetes:core/v1:Namespace", "ns", {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: "airbyte-x" },
  });
  const sts = kube(
    STS,
    "db",
    { spec: { replicas: 1, volumeClaimTemplates: [{ metadata: { name: "data" } }] } },
    {},
    "airbyte-x",
  );

  it("a Namespace's deletion names the claims it deletes", () => {
    const d = diffRuns([stack(), ns, sts], [stack()]);
    const e = d.entries.find((x) => x.name === "ns");
    expect(e?.hazards).toEqual([
      {
        kind: "data-loss",
        message: "deleting the Namespace deletes everything in it, with its claims: data-db-0",
      },
    ]);
    expect(d.hazardous.map((x) => x.name)).toEqual(["ns"]);
  });

  it("retainOnDelete on a Namespace keeps it (Pulumi forgets it): no loss", () => {
    const kept = { ...ns, retainOnDelete: true };
    expect(diffRuns([stack(), kept, sts], [stack()]).hazardous.map((x) => x.name)).toEqual([]);
  });

  it("a StatefulSet that deletes its claims, a PVC, a Database without retainOnDelete", () => {
    const deleting = kube(STS, "s", {
      spec: { persistentVolumeClaimRetentionPolicy: { whenDeleted: "Delete" } },
    });
    const pvc = kube(PVC, "p", { spec: {} });
    const db = res("postgresql:index/database:Database", "db", { name: "db-airbyte" });
    const keptDb = res(
      "postgresql:index/database:Database",
      "kept",
      { name: "k" },
      { retainOnDelete: true },
    );
    const d = diffRuns([stack(), deleting, pvc, db, keptDb], [stack()]);
    expect(d.hazardous.map((x) => x.name).sort()).toEqual(["db", "p", "s"]);
  });

  it("DROP ROLE fails while databases it may own objects in are kept", () => {
    const role = res("postgresql:index/role:Role", "airbyte-role", { name: "airbyte" });
    const db = res(
      "postgresql:index/database:Database",
      "db",
      { name: "db-airbyte", owner: "airbyte" },
      { retainOnDelete: true },
    );
    const d = diffRuns([stack(), role, db], [stack()]);
    expect(d.entries.find((e) => e.name === "airbyte-role")?.hazards[0]).toMatchObject({
      kind: "fails",
      message: expect.stringMatching(
        /^DROP ROLE airbyte fails while it owns objects or holds privileges in other databases \(db-airbyte\)/,
      ),
    });
  });

  it("a replaced Subscription breaks replication (copy_data re-copies into tables with rows)", () => {
    const t = "postgresql:index/subscription:Subscription";
    const e = one(
      res(t, "sub", { name: "s", publications: ["p"] }),
      res(t, "sub", { name: "s", publications: ["p", "q"] }),
    );
    expect(e?.hazards).toEqual([
      {
        kind: "replication",
        message: expect.stringMatching(
          /re-copies every table into tables holding rows, fails on duplicate keys/,
        ),
      },
    ]);
  });

  it("a protected resource's deletion makes up fail", () => {
    const d = diffRuns([stack(), kube(CM, "c", { data: {} }, { protect: true })], [stack()]);
    expect(d.hazardous[0].hazards[0].kind).toBe("fails");
  });
});
