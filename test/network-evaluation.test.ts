/**
 * The rendered NetworkPolicies of every namespace of every topology, evaluated: each flow Airbyte
 * needs (test/contracts/network-flows.ts, read from upstream) is allowed on both its egress and
 * its ingress side, and the flows that must stay closed are closed.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { LAUNCHED_POD_ROLES, NEEDED_FLOWS } from "./contracts/network-flows";
import { SECRET_KEYS, VALID_V0 } from "./support/config";
import { V1_SECRET_KEYS } from "./support/config-v1";
import { runGraph } from "./support/graph";
import { program } from "../infra/program";
import { VALID_V1, runV1Stack } from "./support/config-v1";
import { VALID_V2, runV2Stack } from "./support/config-v2";
import { BuiltCluster, ClusterPod, buildCluster, podsOf } from "./support/netpol-cluster";
import { Endpoint, Evaluator } from "./support/netpol-eval";
import { runStack } from "./support/stack";
import { validateObject } from "../infra/render/validate";
import type { Graph } from "./support/graph";

const PROD = "airbyte-prod";
const REPLICA = "airbyte-replica";
const HUB = "airbyte-replication";
/** Ports any of our servers listen on; swept besides each pod's own. */
const COMMON_PORTS = [80, 443, 4180, 5432, 7233, 8001, 8007, 8080, 8085, 9000];

interface Topology {
  name: string;
  run: () => Promise<Graph>;
  /** Instance namespaces, and where each one's database is. */
  instances: { namespace: string; database: "bundled" | "core-worker-01" }[];
  /** Flows between namespaces (or from outside) that the topology opens, `from -> to:port`. */
  crossNamespace: string[];
}

const TOPOLOGIES: Topology[] = [
  {
    name: "v0",
    run: () => runStack(VALID_V0),
    instances: [{ namespace: PROD, database: "bundled" }],
    crossNamespace: [],
  },
  {
    name: "v1",
    run: () => runV1Stack(VALID_V1),
    instances: [
      { namespace: PROD, database: "bundled" },
      { namespace: REPLICA, database: "core-worker-01" },
    ],
    crossNamespace: [`${REPLICA}/db-migration -> ${PROD}/postgres:5432`],
  },
  {
    name: "v2",
    run: () => runV2Stack(VALID_V2),
    instances: [
      { namespace: PROD, database: "bundled" },
      { namespace: REPLICA, database: "core-worker-01" },
    ],
    crossNamespace: [
      `${HUB}/postgres -> ${PROD}/postgres:5432`,
      `${HUB}/replication-setup -> ${PROD}/postgres:5432`,
      `${REPLICA}/object-mirror -> ${PROD}/minio:9000`,
    ],
  },
  {
    name: "v2 after failover",
    run: () => runV2Stack({ ...VALID_V2, replicaRole: "active", activeInstance: "replica" }),
    instances: [
      { namespace: PROD, database: "bundled" },
      { namespace: REPLICA, database: "core-worker-01" },
    ],
    // The replica is active: nothing replicates into core-worker-01, so no setup Job.
    crossNamespace: [
      `${HUB}/postgres -> ${PROD}/postgres:5432`,
      `${REPLICA}/object-mirror -> ${PROD}/minio:9000`,
    ],
  },
];

const role = (p: ClusterPod) =>
  p.labels["app.kubernetes.io/name"] ?? p.name.slice(p.name.indexOf("/") + 1);
const label = (e: Endpoint) =>
  e.kind === "pod" ? `${e.namespace}/${role(e as ClusterPod)}` : e.name;

/** Every (pod, port) of `targets` that `from` reaches. */
function reachable(ev: Evaluator, from: Endpoint, targets: ClusterPod[]): string[] {
  const out = new Set<string>();
  for (const t of targets) {
    for (const port of new Set([...t.ports, ...COMMON_PORTS])) {
      if (ev.allows(from, t, port)) out.add(`${label(from)} -> ${label(t)}:${port}`);
    }
  }
  return [...out].sort();
}

/** Roles (ours and launched pods) whose needed flows were evaluated somewhere. */
const covered = new Set<string>();

describe.each(TOPOLOGIES)("NetworkPolicies of $name, evaluated", (topology) => {
  let built: BuiltCluster;
  let ev: Evaluator;
  beforeAll(async () => {
    built = buildCluster(await topology.run());
    ev = new Evaluator(built.cluster);
  });

  it("covers every namespace the topology creates", () => {
    const expected = [PROD, ...(topology.name === "v0" ? [] : [REPLICA])];
    if (topology.name.startsWith("v2")) expected.push(HUB);
    expect([...built.managed].sort()).toEqual(expected.sort());
  });

  it("opens every flow Airbyte needs, on both sides, in every instance namespace", () => {
    const failures: string[] = [];
    for (const inst of topology.instances) {
      for (const flow of NEEDED_FLOWS) {
        const targets: Endpoint[] =
          flow.to === "kubernetes-api"
            ? [built.external.kubernetesApi]
            : flow.to === "database"
              ? inst.database === "bundled"
                ? podsOf(built, inst.namespace, "postgres")
                : [built.external.coreWorker]
              : podsOf(built, inst.namespace, flow.to);
        if (targets.length === 0) failures.push(`${inst.namespace}: no ${flow.to} to reach`);
        for (const r of flow.from) {
          for (const from of podsOf(built, inst.namespace, r)) {
            covered.add(r);
            for (const to of targets) {
              if (!ev.allows(from, to, flow.port))
                failures.push(`${label(from)} -> ${label(to)}:${flow.port} (${flow.why})`);
            }
          }
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it("lets every pod of every namespace it creates resolve names through cluster DNS", () => {
    for (const p of built.pods.filter((x) => built.managed.includes(x.namespace))) {
      expect(ev.allows(p, built.dns, 53, "UDP"), p.name).toBe(true);
      expect(ev.allows(p, built.dns, 53, "TCP"), p.name).toBe(true);
    }
  });

  it("admits the ingress controller to the OAuth2 Proxy and nothing else", () => {
    const managedPods = built.pods.filter((p) => built.managed.includes(p.namespace));
    const proxies = topology.instances.map(
      (i) => `ingress-nginx/ingress-nginx -> ${i.namespace}/oauth2-proxy:4180`,
    );
    expect(reachable(ev, built.ingressController, managedPods)).toEqual(proxies.sort());
  });

  it("admits nothing from another namespace to any pod, database, MinIO or Temporal included", () => {
    const managedPods = built.pods.filter((p) => built.managed.includes(p.namespace));
    expect(reachable(ev, built.stranger, managedPods)).toEqual([]);
    expect(reachable(ev, built.dns, managedPods)).toEqual([]);
  });

  it("opens between its namespaces exactly the topology's replication and copy flows", () => {
    const managedPods = built.pods.filter((p) => built.managed.includes(p.namespace));
    const found: string[] = [];
    for (const from of managedPods) {
      found.push(
        ...reachable(
          ev,
          from,
          managedPods.filter((t) => t.namespace !== from.namespace),
        ),
      );
    }
    expect([...new Set(found)].sort()).toEqual([...topology.crossNamespace].sort());
  });

  it("keeps connector pods off Temporal, the other services' ports and the metadata service", () => {
    for (const inst of topology.instances) {
      for (const kind of LAUNCHED_POD_ROLES) {
        const [pod] = podsOf(built, inst.namespace, kind);
        const local = built.pods.filter((p) => p.namespace === inst.namespace);
        const allowed = reachable(ev, pod, local).map((e) => e.split(" -> ")[1]);
        const db = inst.database === "bundled" ? [`${inst.namespace}/postgres:5432`] : [];
        expect(allowed, kind).toEqual(
          [
            ...db,
            `${inst.namespace}/minio:9000`,
            `${inst.namespace}/server:8001`,
            `${inst.namespace}/workload-api-server:8007`,
          ].sort(),
        );
        expect(ev.allows(pod, built.external.metadata, 80)).toBe(false);
        expect(ev.allows(pod, built.external.internet, 5432)).toBe(true);
      }
    }
  });

  if (topology.instances.some((i) => i.database === "core-worker-01")) {
    it("lets the replica's database clients, and only them, reach core-worker-01", () => {
      const clients = built.pods
        .filter((p) => p.namespace === REPLICA && ev.allows(p, built.external.coreWorker, 5432))
        .map(role)
        .sort();
      const expected = [
        "server",
        "worker",
        "workload-launcher",
        "workload-api-server",
        "cron",
        "temporal",
        ...LAUNCHED_POD_ROLES,
        ...(topology.name === "v1" ? ["db-migration"] : []),
        ...(topology.name === "v2 after failover" ? ["bootloader"] : []),
        // Wide egress by design: they reach user-configured systems anywhere.
        "connector-builder-server",
      ];
      expect(clients).toEqual(expected.sort());
    });
  }

  if (topology.name.startsWith("v2")) {
    it("admits core-worker-01 to the hub's database, and only there", () => {
      const managedPods = built.pods.filter((p) => built.managed.includes(p.namespace));
      expect(reachable(ev, built.external.coreWorker, managedPods)).toEqual([
        `core-worker-01 -> ${HUB}/postgres:5432`,
      ]);
    });
  }
});

describe("NetworkPolicy evaluation coverage", () => {
  it("evaluated the needed flows of every role, our workloads and every launched pod kind", () => {
    const roles = new Set(NEEDED_FLOWS.flatMap((f) => f.from));
    expect([...roles].filter((r) => !covered.has(r))).toEqual([]);
  });
});

describe("NetworkPolicy settings of the cluster, evaluated on v2 (every namespace kind)", () => {
  const SETTINGS = {
    ...VALID_V2,
    kubernetesApiCidrs: JSON.stringify(["172.18.0.2/32"]),
    kubernetesApiPorts: JSON.stringify(["6443"]),
    kubernetesApiCiliumEntity: "true",
    nodeLocalDnsCache: "true",
    apiClientAccess: "true",
  };
  let defaults: Graph;
  let custom: Graph;
  beforeAll(async () => {
    defaults = await runV2Stack(VALID_V2);
    custom = await runV2Stack(SETTINGS);
  });
  const apiClients = (b: BuiltCluster) =>
    b.pods.filter((p) => ["workload-launcher", "bootloader"].includes(role(p)));
  const managedPods = (b: BuiltCluster) => b.pods.filter((p) => b.managed.includes(p.namespace));

  // (443 stays open to any address for these pods: the connector registry and telemetry.)
  it("reaches the API server by address, on the configured address and port only", () => {
    const b = buildCluster(custom);
    const ev = new Evaluator(b.cluster);
    const elsewhere = { ...b.external.kubernetesApi, ip: "172.18.0.9", name: "not-the-api" };
    expect(apiClients(b).length).toBeGreaterThanOrEqual(3);
    for (const p of apiClients(b)) {
      expect(ev.allows(p, b.external.kubernetesApi, 6443), p.name).toBe(true);
      expect(ev.allows(p, elsewhere, 6443), p.name).toBe(false);
    }
  });

  it("renders the CiliumNetworkPolicy as a declared custom type", () => {
    for (const r of custom.kube("CiliumNetworkPolicy")) {
      const m = r.inputs.metadata as { name: string; namespace: string };
      const v = validateObject({
        apiVersion: String(r.inputs.apiVersion),
        kind: "CiliumNetworkPolicy",
        name: m.name,
        namespace: m.namespace,
        body: r.inputs,
        patch: false,
        resource: r,
      });
      expect(v.failures).toEqual([]);
      expect(r.inputs.apiVersion).toBe("cilium.io/v2");
    }
  });

  it("on Cilium, reaches the API server only through the kube-apiserver entity", () => {
    // Defaults: the 0.0.0.0/0 ipBlock alone does not reach it there.
    const plain = buildCluster(defaults, { cni: "cilium" });
    const evPlain = new Evaluator(plain.cluster);
    for (const p of apiClients(plain))
      expect(evPlain.allows(p, plain.external.kubernetesApi, 6443), p.name).toBe(false);
    const b = buildCluster(custom, { cni: "cilium" });
    const ev = new Evaluator(b.cluster);
    expect(b.cluster.ciliumPolicies?.map((c) => c.name).sort()).toEqual([
      "airbyte-prod-allow-kube-apiserver",
      "airbyte-prod-backup-replica-2-allow-kube-apiserver",
    ]);
    const callers = managedPods(b)
      .filter((p) => ev.allows(p, b.external.kubernetesApi, 6443))
      .map((p) => p.name);
    expect(callers.sort()).toEqual(
      apiClients(b)
        .map((p) => p.name)
        .sort(),
    );
  });

  it("lets every pod of every namespace query NodeLocal DNSCache when it is on, and not otherwise", () => {
    const on = buildCluster(custom);
    const evOn = new Evaluator(on.cluster);
    const off = buildCluster(defaults);
    const evOff = new Evaluator(off.cluster);
    expect(new Set(managedPods(on).map((p) => p.namespace))).toEqual(new Set([PROD, REPLICA, HUB]));
    for (const p of managedPods(on)) {
      expect(evOn.allows(p, on.external.nodeLocalDns, 53, "UDP"), p.name).toBe(true);
      expect(evOn.allows(p, on.external.nodeLocalDns, 53, "TCP"), p.name).toBe(true);
      expect(evOn.allows(p, on.dns, 53, "UDP"), p.name).toBe(true);
    }
    // Connector pods reach any address anyway; everything else is held to cluster DNS.
    const held = managedPods(off).filter(
      (p) => !LAUNCHED_POD_ROLES.includes(role(p)) && role(p) !== "connector-builder-server",
    );
    for (const p of held)
      expect(evOff.allows(p, off.external.nodeLocalDns, 53, "UDP"), p.name).toBe(false);
  });

  it("with API clients on, admits the ingress controller to the proxy and the server only", () => {
    const b = buildCluster(custom);
    const ev = new Evaluator(b.cluster);
    expect(reachable(ev, b.ingressController, managedPods(b))).toEqual(
      [PROD, REPLICA]
        .flatMap((ns) => [
          `ingress-nginx/ingress-nginx -> ${ns}/oauth2-proxy:4180`,
          `ingress-nginx/ingress-nginx -> ${ns}/server:8001`,
        ])
        .sort(),
    );
  });
});

describe("NetworkPolicy egress of the optional platform settings, evaluated", () => {
  // Readers per test/contracts/chart-keys.json: `metrics` and `secretsManager` groups.
  const METRICS = [
    "server",
    "worker",
    "workload-launcher",
    "workload-api-server",
    "cron",
    "connector-builder-server",
  ];
  const SECRETS = ["bootloader", "server", "worker", "workload-launcher", "cron"];
  const OTLP = { otlpMetricsEndpoint: "http://otel-collector.example.com:4318/v1/metrics" };
  const VAULT = {
    secretsBackend: "vault",
    vaultAddress: "https://vault.example.com:8200",
    vaultAuthToken: "hvs.token",
  };
  let plain: BuiltCluster;
  let otlp: BuiltCluster;
  let vault: BuiltCluster;
  let vaultV2: BuiltCluster;
  beforeAll(async () => {
    const withToken = (config: Record<string, string>, secretKeys: string[]) =>
      runGraph(() => program(), {
        stack: config.topology,
        config,
        secretKeys: [...secretKeys, "vaultAuthToken"],
      });
    plain = buildCluster(await runStack(VALID_V0));
    otlp = buildCluster(await runStack({ ...VALID_V0, ...OTLP }));
    vault = buildCluster(await withToken({ ...VALID_V0, ...VAULT }, SECRET_KEYS));
    vaultV2 = buildCluster(await withToken({ ...VALID_V2, ...VAULT }, V1_SECRET_KEYS));
  });
  /** Roles of `b`'s Airbyte pods that reach an outside address on `port`. */
  const reaching = (b: BuiltCluster, port: number) => {
    const ev = new Evaluator(b.cluster);
    const out = new Set<string>();
    for (const p of b.pods.filter((x) => x.namespace === PROD))
      if (ev.allows(p, b.external.internet, port)) out.add(role(p));
    return [...out].filter((r) => !LAUNCHED_POD_ROLES.includes(r)).sort();
  };
  // The builder reaches any outside port by design (user-configured test reads).
  const wide = ["connector-builder-server"];

  it("opens the OTLP collector's port for the services that export metrics, only when set", () => {
    expect(reaching(plain, 4318)).toEqual(wide);
    expect(reaching(otlp, 4318)).toEqual([...METRICS].sort());
    expect(reaching(otlp, 4317)).toEqual(wide);
    const ev = new Evaluator(otlp.cluster);
    for (const p of otlp.pods.filter((x) => x.namespace === PROD && role(x) === "server"))
      expect(ev.allows(p, otlp.external.metadata, 4318)).toBe(false);
  });

  it("with the collector in the cluster, opens its namespace's pods on that port instead", async () => {
    const b = buildCluster(
      await runStack({
        ...VALID_V0,
        otlpMetricsEndpoint: "http://otel-collector.default:4318/v1/metrics",
        otlpMetricsCollectorNamespace: "default",
      }),
    );
    const collectorClients = (c: BuiltCluster) => {
      const ev = new Evaluator(c.cluster);
      return c.pods
        .filter((p) => p.namespace === PROD && ev.allows(p, c.stranger, 4318))
        .map(role)
        .sort();
    };
    expect(collectorClients(b)).toEqual([...METRICS].sort());
    expect(collectorClients(otlp)).toEqual([]);
    expect(reaching(b, 4318)).toEqual(wide);
  });

  it("opens Vault's port for the services that read the secret store, only when set", () => {
    expect(reaching(plain, 8200)).toEqual(wide);
    expect(reaching(vault, 8200)).toEqual([...SECRETS, ...wide].sort());
  });

  it("keeps connector pods off PostgreSQL unless secrets live in the database", () => {
    const pg = (b: BuiltCluster, ns: string) => {
      const ev = new Evaluator(b.cluster);
      const [db] = podsOf(b, ns, "postgres");
      return LAUNCHED_POD_ROLES.map((k) => ev.allows(podsOf(b, ns, k)[0], db, 5432));
    };
    expect(pg(plain, PROD).every(Boolean)).toBe(true);
    expect(pg(vault, PROD).some(Boolean)).toBe(false);
    expect(pg(vaultV2, PROD).some(Boolean)).toBe(false);
  });
});
