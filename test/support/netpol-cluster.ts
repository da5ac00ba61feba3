/**
 * A cluster for the NetworkPolicy evaluator, built from a rendered graph: its namespaces, its
 * NetworkPolicies and CiliumNetworkPolicies, one pod per workload (labels of the pod template),
 * the pods the workload-launcher creates in its namespace (labelled as upstream labels them, see
 * test/contracts/network-flows.ts), and what a cluster has besides: the ingress controller,
 * cluster DNS, a stranger in `default`, the API server and addresses outside the cluster.
 */
import { LAUNCHED_PODS } from "../contracts/network-flows";
import { Graph, envOf, metadataOf, podSpecOf } from "./graph";
import { CiliumPolicy, CiliumRule, Cluster, External, NetworkPolicy, Pod } from "./netpol-eval";

const KUBE_NAME = "kubernetes.io/metadata.name";
const NAME = "app.kubernetes.io/name";
const INSTANCE = "app.kubernetes.io/instance";

export interface ClusterPod extends Pod {
  /** Container ports the pod listens on (for "must stay closed" sweeps). */
  ports: number[];
}

export interface BuiltCluster {
  cluster: Cluster;
  pods: ClusterPod[];
  /** Namespaces this program manages (the ones the graph creates). */
  managed: string[];
  ingressController: ClusterPod;
  dns: ClusterPod;
  stranger: ClusterPod;
  external: {
    kubernetesApi: External;
    internet: External;
    metadata: External;
    nodeLocalDns: External;
    coreWorker: External;
  };
}

/** Addresses the tests use; core-worker-01's is the test config's coreWorkerHost. */
export const ADDRESSES = {
  kubernetesApi: "172.18.0.2",
  internet: "93.184.216.34",
  metadata: "169.254.169.254",
  nodeLocalDns: "169.254.20.10",
  coreWorker: "10.0.4.21",
};

function templateOf(w: Graph["resources"][number]) {
  const spec = w.inputs.spec as Record<string, unknown>;
  const t =
    w.inputs.kind === "CronJob"
      ? (spec.jobTemplate as { spec: { template: unknown } }).spec.template
      : spec.template;
  return t as { metadata: { labels: Record<string, string> } };
}

export function buildCluster(
  graph: Graph,
  options: { ingressControllerNamespace?: string; cni?: "standard" | "cilium" } = {},
): BuiltCluster {
  const ingressNs = options.ingressControllerNamespace ?? "ingress-nginx";
  const namespaces: Record<string, Record<string, string>> = {};
  // The API server adds `kubernetes.io/metadata.name` to every namespace (Kubernetes >= 1.21).
  const addNamespace = (name: string, labels: Record<string, string> = {}) => {
    namespaces[name] = { ...labels, [KUBE_NAME]: name };
  };
  const managed: string[] = [];
  for (const ns of graph.kube("Namespace")) {
    const m = metadataOf(ns);
    addNamespace(m.name!, m.labels);
    managed.push(m.name!);
  }
  for (const n of [ingressNs, "kube-system", "default"]) addNamespace(n);

  const policies: NetworkPolicy[] = graph.kube("NetworkPolicy").map((p) => ({
    namespace: metadataOf(p).namespace!,
    name: metadataOf(p).name!,
    spec: p.inputs.spec as NetworkPolicy["spec"],
  }));
  const ciliumPolicies: CiliumPolicy[] = graph.kube("CiliumNetworkPolicy").map((p) => ({
    namespace: metadataOf(p).namespace!,
    name: metadataOf(p).name!,
    rules: [
      ...(p.inputs.spec ? [p.inputs.spec as CiliumRule] : []),
      ...((p.inputs.specs as CiliumRule[] | undefined) ?? []),
    ],
  }));

  const pods: ClusterPod[] = [];
  for (const w of graph.workloads()) {
    const m = metadataOf(w);
    const spec = podSpecOf(w);
    const containers = [...spec.containers, ...(spec.initContainers ?? [])];
    const named: Record<string, number> = {};
    for (const c of containers)
      for (const p of c.ports ?? []) if (p.name) named[p.name] = p.containerPort;
    pods.push({
      kind: "pod",
      name: `${m.namespace}/${m.name}`,
      namespace: m.namespace!,
      labels: templateOf(w).metadata.labels,
      namedPorts: named,
      ports: containers.flatMap((c) => (c.ports ?? []).map((p) => p.containerPort)),
    });
    // The launcher creates its pods in JOB_KUBE_NAMESPACE; ours sets it to its own namespace.
    const launcher = spec.containers.find((c) => envOf(c).has("JOB_KUBE_NAMESPACE"));
    if (templateOf(w).metadata.labels[NAME] === "workload-launcher" && launcher) {
      const jobNs = envOf(launcher).get("JOB_KUBE_NAMESPACE")?.valueFrom?.fieldRef?.fieldPath;
      if (jobNs !== "metadata.namespace")
        throw new Error("JOB_KUBE_NAMESPACE is not the launcher's namespace");
      for (const [kind, labels] of Object.entries(LAUNCHED_PODS)) {
        pods.push({
          kind: "pod",
          name: `${m.namespace}/${kind}`,
          namespace: m.namespace!,
          labels: { ...labels },
          ports: [],
        });
      }
    }
  }
  const infra = (
    name: string,
    namespace: string,
    labels: Record<string, string>,
    ports: number[],
  ) => {
    const p: ClusterPod = { kind: "pod", name: `${namespace}/${name}`, namespace, labels, ports };
    pods.push(p);
    return p;
  };
  const ingressController = infra(
    "ingress-nginx-controller",
    ingressNs,
    { [NAME]: "ingress-nginx", "app.kubernetes.io/component": "controller" },
    [80, 443],
  );
  const dns = infra("coredns", "kube-system", { "k8s-app": "kube-dns" }, [53]);
  const stranger = infra("stranger", "default", { app: "stranger" }, [8080]);

  const ext = (name: string, ip: string, entities?: string[]): External => ({
    kind: "external",
    name,
    ip,
    ...(entities ? { entities } : {}),
  });
  return {
    cluster: { namespaces, policies, ciliumPolicies, cni: options.cni ?? "standard" },
    pods,
    managed,
    ingressController,
    dns,
    stranger,
    external: {
      kubernetesApi: ext("kubernetes-api", ADDRESSES.kubernetesApi, ["kube-apiserver"]),
      internet: ext("internet", ADDRESSES.internet),
      metadata: ext("cloud-metadata", ADDRESSES.metadata),
      // NodeLocal DNSCache runs on the host network: Cilium sees it as the `host` entity.
      nodeLocalDns: ext("node-local-dns", ADDRESSES.nodeLocalDns, ["host"]),
      coreWorker: ext("core-worker-01", ADDRESSES.coreWorker),
    },
  };
}

/** Pods of a namespace playing a role: our `app.kubernetes.io/name`, or a launched pod kind. */
export function podsOf(built: BuiltCluster, namespace: string, role: string): ClusterPod[] {
  if (role in LAUNCHED_PODS) return built.pods.filter((p) => p.name === `${namespace}/${role}`);
  return built.pods.filter(
    (p) => p.namespace === namespace && p.labels[NAME] === role && p.labels[INSTANCE] !== undefined,
  );
}
