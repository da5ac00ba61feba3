/** Each policy of the pack, on a hand-built resource that breaks it and one that conforms. */
import { describe, expect, it } from "vitest";
import type { RecordedResource } from "../infra/mock-runtime";
import { PolicyViolation, runPolicies } from "../policy/offline";
import {
  EXPOSURE_ANNOTATION,
  POD_SECURITY_EXCEPTION_ANNOTATION,
  WRITABLE_ROOT_ANNOTATION,
  containerResources,
  deploymentProbes,
  imagePinProblem,
  imagesPinned,
  ingressOnlyToOAuth2Proxy,
  ingressTlsAndAllowlist,
  namespaceDefaultDeny,
  namespacePodSecurity,
  noSecretMaterial,
  policies,
  replicatedDeploymentsHavePdb,
  restrictedSecurityContext,
  secretLooking,
  serviceExposure,
} from "../policy/policies";

type Obj = Record<string, unknown>;

const TYPES: Record<string, string> = {
  Deployment: "kubernetes:apps/v1:Deployment",
  StatefulSet: "kubernetes:apps/v1:StatefulSet",
  Job: "kubernetes:batch/v1:Job",
  CronJob: "kubernetes:batch/v1:CronJob",
  Pod: "kubernetes:core/v1:Pod",
  Service: "kubernetes:core/v1:Service",
  ConfigMap: "kubernetes:core/v1:ConfigMap",
  Secret: "kubernetes:core/v1:Secret",
  Namespace: "kubernetes:core/v1:Namespace",
  Ingress: "kubernetes:networking.k8s.io/v1:Ingress",
  NetworkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
  PodDisruptionBudget: "kubernetes:policy/v1:PodDisruptionBudget",
};

/** A recorded Kubernetes object, as the mock runtime would hand it over. */
function kube(kind: string, name: string, rest: Obj, metadata: Obj = {}): RecordedResource {
  return {
    type: TYPES[kind],
    name,
    urn: `urn:pulumi:test::airbyte::${TYPES[kind]}::${name}`,
    custom: true,
    inputs: { kind, metadata: { name, namespace: "ns", ...metadata }, ...rest },
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
  };
}

const LABELS = { "app.kubernetes.io/name": "web", "app.kubernetes.io/instance": "i" };

function goodContainer(over: Obj = {}): Obj {
  return {
    name: "web",
    image: "example/web:1.2.3",
    livenessProbe: { httpGet: { path: "/", port: 80 } },
    readinessProbe: { httpGet: { path: "/", port: 80 } },
    resources: {
      requests: { cpu: "10m", memory: "16Mi" },
      limits: { cpu: "100m", memory: "64Mi" },
    },
    securityContext: {
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    },
    ...over,
  };
}

function deployment(
  container: Obj = goodContainer(),
  over: { replicas?: number; pod?: Obj; metadata?: Obj; podMetadata?: Obj } = {},
): RecordedResource {
  return kube(
    "Deployment",
    "web",
    {
      spec: {
        replicas: over.replicas ?? 1,
        selector: { matchLabels: LABELS },
        template: {
          metadata: {
            labels: { ...LABELS, "app.kubernetes.io/part-of": "x" },
            ...over.podMetadata,
          },
          spec: {
            securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
            containers: [container],
            ...over.pod,
          },
        },
      },
    },
    over.metadata,
  );
}

function check(
  policy: (typeof policies)[number],
  ...resources: RecordedResource[]
): PolicyViolation[] {
  return runPolicies(resources, [policy]);
}
const messages = (v: PolicyViolation[]) => v.map((x) => x.message);

describe("workload-restricted-security-context", () => {
  it("passes a restricted Deployment", () => {
    expect(check(restrictedSecurityContext, deployment())).toEqual([]);
  });

  it("names each missing control of each container", () => {
    const bad = deployment(
      goodContainer({
        securityContext: { privileged: true, capabilities: { add: ["NET_ADMIN"] } },
      }),
      { pod: { securityContext: {}, hostNetwork: true } },
    );
    const found = messages(check(restrictedSecurityContext, bad));
    expect(found).toEqual(
      expect.arrayContaining([
        "Deployment 'web': hostNetwork must not be set",
        "Deployment 'web': container 'web' may run as root: set runAsNonRoot: true",
        "Deployment 'web': container 'web' is privileged",
        "Deployment 'web': container 'web' must set allowPrivilegeEscalation: false",
        "Deployment 'web': container 'web' must drop ALL capabilities",
        "Deployment 'web': container 'web' adds capabilities NET_ADMIN",
        "Deployment 'web': container 'web' must use seccomp profile RuntimeDefault (has none)",
        expect.stringMatching(/container 'web' has a writable root filesystem/),
      ]),
    );
    expect(check(restrictedSecurityContext, bad)[0].policy).toBe(
      "workload-restricted-security-context",
    );
  });

  it("checks init containers, Jobs and CronJobs too", () => {
    const init = goodContainer({ name: "init", securityContext: {} });
    const job = kube("Job", "j", {
      spec: { template: { spec: { containers: [goodContainer()], initContainers: [init] } } },
    });
    expect(messages(check(restrictedSecurityContext, job))).toContain(
      "Job 'j': init container 'init' must drop ALL capabilities",
    );
    const cron = kube("CronJob", "c", {
      spec: {
        jobTemplate: {
          spec: { template: { spec: { containers: [{ name: "x", image: "a:1" }] } } },
        },
      },
    });
    expect(check(restrictedSecurityContext, cron).length).toBeGreaterThan(0);
  });

  it("accepts a writable root filesystem only with a stated reason", () => {
    const writable = goodContainer({
      securityContext: {
        ...(goodContainer().securityContext as Obj),
        readOnlyRootFilesystem: false,
      },
    });
    expect(check(restrictedSecurityContext, deployment(writable))).toHaveLength(1);
    const explained = deployment(writable, {
      metadata: { annotations: { [WRITABLE_ROOT_ANNOTATION]: "the image writes /var/cache" } },
    });
    expect(check(restrictedSecurityContext, explained)).toEqual([]);
  });

  it("refuses hostPath volumes", () => {
    const d = deployment(goodContainer(), {
      pod: {
        securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
        volumes: [{ name: "h", hostPath: { path: "/" } }],
      },
    });
    expect(messages(check(restrictedSecurityContext, d))).toEqual([
      "Deployment 'web': volume 'h' mounts a hostPath",
    ]);
  });
});

describe("deployment-probes", () => {
  it("passes a Deployment whose containers have both probes", () => {
    expect(check(deploymentProbes, deployment())).toEqual([]);
  });
  it("fails one without them", () => {
    const bad = deployment(goodContainer({ livenessProbe: undefined, readinessProbe: undefined }));
    expect(messages(check(deploymentProbes, bad))).toEqual([
      "Deployment 'web': container 'web' has no livenessProbe",
      "Deployment 'web': container 'web' has no readinessProbe",
    ]);
  });
  it("leaves Jobs alone (they run to completion)", () => {
    const job = kube("Job", "j", { spec: { template: { spec: { containers: [{ name: "x" }] } } } });
    expect(check(deploymentProbes, job)).toEqual([]);
  });
});

describe("container-resources", () => {
  it("passes containers with requests and limits", () => {
    expect(check(containerResources, deployment())).toEqual([]);
  });
  it("lists what is missing", () => {
    const bad = deployment(goodContainer({ resources: { requests: { cpu: "10m" } } }));
    expect(messages(check(containerResources, bad))).toEqual([
      "Deployment 'web': container 'web' has no requests.memory, limits.cpu, limits.memory",
    ]);
  });
});

describe("images-pinned", () => {
  it.each([
    ["airbyte/server:2.0.1", undefined],
    ["quay.io/oauth2-proxy/oauth2-proxy:v7.12.0", undefined],
    ["localhost:5000/app:1.0", undefined],
    [`busybox@sha256:${"a".repeat(64)}`, undefined],
    ["busybox", "has no tag (it means :latest)"],
    ["localhost:5000/app", "has no tag (it means :latest)"],
    ["busybox:latest", "uses the moving tag ':latest'"],
  ])("%s", (image, problem) => {
    expect(imagePinProblem(image)).toBe(problem);
  });
  it("fails a workload with an unpinned image and passes a pinned one", () => {
    expect(check(imagesPinned, deployment())).toEqual([]);
    expect(
      messages(check(imagesPinned, deployment(goodContainer({ image: "nginx:latest" })))),
    ).toEqual([
      "Deployment 'web': container 'web' image 'nginx:latest' uses the moving tag ':latest'",
    ]);
  });
});

function ingress(over: { annotations?: Obj; tls?: unknown; backend?: string; host?: string } = {}) {
  return kube(
    "Ingress",
    "i",
    {
      spec: {
        ...(over.tls === null
          ? {}
          : { tls: over.tls ?? [{ hosts: ["a.example.com"], secretName: "t" }] }),
        rules: [
          {
            ...(over.host === "" ? {} : { host: over.host ?? "a.example.com" }),
            http: {
              paths: [
                {
                  path: "/",
                  pathType: "Prefix",
                  backend: {
                    service: { name: over.backend ?? "i-oauth2-proxy", port: { number: 80 } },
                  },
                },
              ],
            },
          },
        ],
      },
    },
    {
      annotations: over.annotations ?? {
        "nginx.ingress.kubernetes.io/allowlist-source-range": "203.0.113.0/24",
      },
    },
  );
}
const proxyService = kube(
  "Service",
  "i-oauth2-proxy",
  { spec: { type: "ClusterIP", ports: [{ port: 80 }] } },
  { labels: { "app.kubernetes.io/name": "oauth2-proxy" } },
);

describe("ingress-tls-and-allowlist", () => {
  it("passes an Ingress with TLS for its host and an allowlist", () => {
    expect(check(ingressTlsAndAllowlist, ingress())).toEqual([]);
  });
  it("fails without TLS or without an allowlist", () => {
    expect(messages(check(ingressTlsAndAllowlist, ingress({ tls: null })))).toEqual([
      "Ingress 'i': has no TLS section",
    ]);
    expect(messages(check(ingressTlsAndAllowlist, ingress({ annotations: {} })))).toEqual([
      "Ingress 'i': has no source-range allowlist (annotation nginx.ingress.kubernetes.io/allowlist-source-range)",
    ]);
  });
  it("fails an allowlist open to everyone, a host without TLS, a rule without host", () => {
    const open = ingress({
      annotations: {
        "nginx.ingress.kubernetes.io/whitelist-source-range": "10.0.0.0/8, 0.0.0.0/0",
      },
    });
    expect(messages(check(ingressTlsAndAllowlist, open))).toEqual([
      "Ingress 'i': allowlist admits everyone (0.0.0.0/0)",
    ]);
    expect(messages(check(ingressTlsAndAllowlist, ingress({ host: "b.example.com" })))).toEqual([
      "Ingress 'i': host 'b.example.com' is not covered by TLS",
    ]);
    expect(messages(check(ingressTlsAndAllowlist, ingress({ host: "" })))).toEqual([
      "Ingress 'i': has a rule without a host (it would answer any name)",
    ]);
  });
});

describe("ingress-only-to-oauth2-proxy", () => {
  it("passes an Ingress whose backend is the proxy's Service", () => {
    expect(check(ingressOnlyToOAuth2Proxy, ingress(), proxyService)).toEqual([]);
  });
  it("fails one routed elsewhere, naming the backend", () => {
    const server = kube(
      "Service",
      "i-server",
      { spec: {} },
      { labels: { "app.kubernetes.io/name": "server" } },
    );
    const found = check(
      ingressOnlyToOAuth2Proxy,
      ingress({ backend: "i-server" }),
      proxyService,
      server,
    );
    expect(messages(found)).toEqual([
      "Ingress 'i' routes to 'i-server', which is not the OAuth2 Proxy's Service in its namespace",
    ]);
    expect(found[0].urn).toMatch(/Ingress::i$/);
  });
  it("fails one whose proxy Service is in another namespace", () => {
    const elsewhere = kube(
      "Service",
      "i-oauth2-proxy",
      { spec: {} },
      {
        namespace: "other",
        labels: { "app.kubernetes.io/name": "oauth2-proxy" },
      },
    );
    expect(check(ingressOnlyToOAuth2Proxy, ingress(), elsewhere)).toHaveLength(1);
  });
});

describe("service-exposure", () => {
  it("passes ClusterIP Services", () => {
    expect(check(serviceExposure, proxyService)).toEqual([]);
  });
  it("fails an undeclared LoadBalancer or NodePort", () => {
    for (const type of ["LoadBalancer", "NodePort"]) {
      const svc = kube("Service", "s", { spec: { type } });
      expect(messages(check(serviceExposure, svc))).toEqual([
        `Service 's': is of type ${type}; only the declared exposure may be (annotate ${EXPOSURE_ANNOTATION}: <reason>)`,
      ]);
    }
  });
  it("passes the declared exposure, a LoadBalancer only with source ranges", () => {
    const declared = { annotations: { [EXPOSURE_ANNOTATION]: "the hub's replication endpoint" } };
    const lb = (ranges?: string[]) =>
      kube(
        "Service",
        "hub",
        { spec: { type: "LoadBalancer", loadBalancerSourceRanges: ranges } },
        declared,
      );
    expect(check(serviceExposure, lb(["198.51.100.7/32"]))).toEqual([]);
    expect(messages(check(serviceExposure, lb()))).toEqual([
      "Service 'hub': is a LoadBalancer without a loadBalancerSourceRanges allowlist",
    ]);
    expect(
      check(serviceExposure, kube("Service", "np", { spec: { type: "NodePort" } }, declared)),
    ).toEqual([]);
  });
});

describe("no-secret-material", () => {
  it.each([
    ["DATABASE_PASSWORD", "hunter2", "'DATABASE_PASSWORD' names a secret"],
    ["client-secret", "x", "'client-secret' names a secret"],
    ["AWS_SECRET_ACCESS_KEY", "x", "'AWS_SECRET_ACCESS_KEY' names a secret"],
    ["DSN", "postgres://u:pw@db:5432/x", "'DSN' holds a URL with inline credentials"],
    ["K", "-----BEGIN RSA PRIVATE KEY-----\nMII", "'K' holds a PEM private key"],
    ["K", "AKIAABCDEFGHIJKLMNOP", "'K' holds an AWS access key id"],
    ["DATAPLANE_CLIENT_SECRET_SECRET_NAME", "airbyte-auth-secrets", undefined],
    ["AB_JWT_SIGNATURE_SECRET_KEY", "jwt-signature-secret", undefined],
    ["CONTROL_PLANE_TOKEN_ENDPOINT", "http://server:8001/api/v1/dataplanes/token", undefined],
    ["MC_HOST_minio", "http://$(USER):$(PASSWORD)@minio:9000", undefined],
    ["checksum/config", "a".repeat(64), undefined],
    ["DATABASE_PASSWORD", "", undefined],
  ])("%s=%s", (name, value, why) => {
    expect(secretLooking(name, value)).toBe(why);
  });

  it("fails secrets in ConfigMaps, plain env values and annotations; passes references", () => {
    const cm = kube("ConfigMap", "c", { data: { DATABASE_PASSWORD: "pw", HOST: "db" } });
    expect(messages(check(noSecretMaterial, cm))).toEqual([
      "ConfigMap 'c': data 'DATABASE_PASSWORD' names a secret; put it in a Secret",
    ]);
    const env = deployment(
      goodContainer({
        env: [
          { name: "API_TOKEN", value: "abc" },
          { name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "s", key: "p" } } },
        ],
        args: ["--dsn=postgres://u:pw@db/x"],
      }),
      { podMetadata: { annotations: { "vendor/api-key": "k" } } },
    );
    expect(messages(check(noSecretMaterial, env))).toEqual([
      "Deployment 'web': pod template annotation 'vendor/api-key' names a secret",
      "Deployment 'web': container 'web' env 'API_TOKEN' names a secret as a plain value; use secretKeyRef",
      "Deployment 'web': container 'web' command line holds a URL with inline credentials",
    ]);
    const annotated = kube("Service", "s", { spec: {} }, { annotations: { token: "t" } });
    expect(check(noSecretMaterial, annotated)).toHaveLength(1);
    expect(check(noSecretMaterial, deployment())).toEqual([]);
    expect(
      check(noSecretMaterial, kube("Secret", "s", { stringData: { password: "pw" } })),
    ).toEqual([]);
  });
});

describe("namespace-pod-security", () => {
  const ns = (labels: Obj, annotations: Obj = {}) =>
    kube("Namespace", "n", {}, { namespace: undefined, labels, annotations });
  const PSS = "pod-security.kubernetes.io";
  it("passes restricted, and baseline with restricted audit/warn and a reason", () => {
    expect(check(namespacePodSecurity, ns({ [`${PSS}/enforce`]: "restricted" }))).toEqual([]);
    const baseline = ns(
      {
        [`${PSS}/enforce`]: "baseline",
        [`${PSS}/audit`]: "restricted",
        [`${PSS}/warn`]: "restricted",
      },
      { [POD_SECURITY_EXCEPTION_ANNOTATION]: "connector pods" },
    );
    expect(check(namespacePodSecurity, baseline)).toEqual([]);
  });
  it("fails no label, privileged, and baseline without audit/warn or a reason", () => {
    expect(messages(check(namespacePodSecurity, ns({})))).toEqual([
      `Namespace 'n': must label ${PSS}/enforce: restricted (or baseline with a reason), has none`,
    ]);
    expect(check(namespacePodSecurity, ns({ [`${PSS}/enforce`]: "privileged" }))).toHaveLength(1);
    expect(messages(check(namespacePodSecurity, ns({ [`${PSS}/enforce`]: "baseline" })))).toEqual([
      `Namespace 'n': enforces baseline, so must label ${PSS}/audit: restricted`,
      `Namespace 'n': enforces baseline, so must label ${PSS}/warn: restricted`,
      `Namespace 'n': enforces baseline without a reason (annotation ${POD_SECURITY_EXCEPTION_ANNOTATION})`,
    ]);
  });
});

describe("namespace-default-deny", () => {
  const ns = kube("Namespace", "ns", {}, { namespace: undefined });
  const deny = (spec: Obj, namespace = "ns") =>
    kube("NetworkPolicy", "deny", { spec }, { namespace });
  const DENY = { podSelector: {}, policyTypes: ["Ingress", "Egress"] };
  it("passes a namespace with a default-deny policy", () => {
    expect(check(namespaceDefaultDeny, ns, deny(DENY))).toEqual([]);
  });
  it("fails a namespace without one, or with one that is not a full deny", () => {
    const msg = [
      "Namespace 'ns' has no default-deny NetworkPolicy (podSelector {}, policyTypes Ingress and Egress, no rules)",
    ];
    expect(messages(check(namespaceDefaultDeny, ns))).toEqual(msg);
    expect(messages(check(namespaceDefaultDeny, ns, deny(DENY, "other")))).toEqual(msg);
    expect(
      messages(check(namespaceDefaultDeny, ns, deny({ ...DENY, policyTypes: ["Ingress"] }))),
    ).toEqual(msg);
    expect(messages(check(namespaceDefaultDeny, ns, deny({ ...DENY, egress: [{}] })))).toEqual(msg);
    expect(
      messages(
        check(
          namespaceDefaultDeny,
          ns,
          deny({ ...DENY, podSelector: { matchLabels: { a: "b" } } }),
        ),
      ),
    ).toEqual(msg);
  });
});

describe("pdb-for-replicated-deployments", () => {
  const pdb = (matchLabels: Obj) =>
    kube("PodDisruptionBudget", "web", { spec: { maxUnavailable: 1, selector: { matchLabels } } });
  it("passes a single replica without a PDB, and several replicas with one", () => {
    expect(check(replicatedDeploymentsHavePdb, deployment())).toEqual([]);
    expect(
      check(
        replicatedDeploymentsHavePdb,
        deployment(goodContainer(), { replicas: 3 }),
        pdb(LABELS),
      ),
    ).toEqual([]);
  });
  it("fails several replicas without a PDB selecting them", () => {
    const d = deployment(goodContainer(), { replicas: 2 });
    const msg = [
      "Deployment 'web' runs 2 replicas without a PodDisruptionBudget selecting its pods",
    ];
    expect(messages(check(replicatedDeploymentsHavePdb, d))).toEqual(msg);
    expect(messages(check(replicatedDeploymentsHavePdb, d, pdb({ app: "other" })))).toEqual(msg);
  });
});

describe("the pack", () => {
  it("has every policy mandatory, with a unique name and a description", () => {
    expect(policies).toHaveLength(11);
    expect(new Set(policies.map((p) => p.name)).size).toBe(policies.length);
    for (const p of policies) {
      expect(p.enforcementLevel, p.name).toBe("mandatory");
      expect(p.description.length, p.name).toBeGreaterThan(20);
    }
  });

  it("skips what is not Kubernetes, and a policy that declares itself not applicable", () => {
    const component: RecordedResource = {
      ...deployment(),
      type: "airbyte:platform:AirbytePlatform",
      custom: false,
    };
    expect(runPolicies([component])).toEqual([]);
    const na = {
      name: "na",
      description: "declares itself not applicable",
      enforcementLevel: "mandatory" as const,
      validateResource: (args: { notApplicable: (r: string) => never }) =>
        args.notApplicable("n/a"),
    };
    expect(runPolicies([deployment()], [na])).toEqual([]);
  });

  it("reads props through the policy server's unknown-checking proxy", () => {
    const seen: boolean[] = [];
    const probe = {
      name: "probe",
      description: "records whether props is the policy server's proxy",
      enforcementLevel: "mandatory" as const,
      validateResource: (args: { props: Obj }) => {
        seen.push(args.props.__isSpecialProxy === true);
      },
    };
    runPolicies([deployment()], [probe]);
    expect(seen).toEqual([true]);
  });
});
