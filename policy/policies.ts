/**
 * The project's security rules as Pulumi policies (docs/security.md). Pure objects: the pack entry
 * (`index.ts`) serves them to `pulumi preview --policy-pack policy`, and `offline.ts` runs them over
 * the resources the program registers under mocks. Nothing here imports the program, so the pack
 * also works on its own.
 */
import type {
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";

/** Annotation that declares a Service of type LoadBalancer or NodePort; its value says why. */
export const EXPOSURE_ANNOTATION = "airbyte.pulumi/declared-exposure";
/** Annotation that lets a workload keep a writable root filesystem; its value says why. */
export const WRITABLE_ROOT_ANNOTATION = "airbyte.pulumi/writable-root-filesystem";
/** Annotation on a namespace enforced below `restricted`; its value says why. */
export const POD_SECURITY_EXCEPTION_ANNOTATION = "airbyte.pulumi/pod-security-exception";

const NGINX_ALLOWLIST = [
  "nginx.ingress.kubernetes.io/allowlist-source-range",
  "nginx.ingress.kubernetes.io/whitelist-source-range",
];

// --- Reading Kubernetes objects ----------------------------------------------------------------

type Obj = Record<string, unknown>;

const obj = (v: unknown): Obj => (v && typeof v === "object" ? (v as Obj) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** `Deployment` from `kubernetes:apps/v1:Deployment`; undefined for anything not Kubernetes. */
export function kindOf(type: string): string | undefined {
  const m = /^kubernetes:[^:]+:([A-Za-z]+)$/.exec(type);
  return m ? m[1] : undefined;
}

const POD_TEMPLATE_KINDS = ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"];
export const WORKLOAD_KINDS = [...POD_TEMPLATE_KINDS, "CronJob", "Pod"];

interface PodShape {
  metadata: Obj;
  spec: Obj;
}

/** The pod template (or the pod) of a workload. */
function podOf(kind: string, props: Obj): PodShape | undefined {
  const spec = obj(props.spec);
  if (kind === "Pod") return { metadata: obj(props.metadata), spec };
  const template =
    kind === "CronJob"
      ? obj(obj(obj(obj(spec.jobTemplate).spec).template))
      : POD_TEMPLATE_KINDS.includes(kind)
        ? obj(spec.template)
        : undefined;
  return template ? { metadata: obj(template.metadata), spec: obj(template.spec) } : undefined;
}

interface ContainerShape {
  where: string;
  c: Obj;
}

function containersOf(pod: PodShape): ContainerShape[] {
  const list = (key: string, label: string) =>
    arr(pod.spec[key]).map((c) => ({ where: `${label} '${String(obj(c).name)}'`, c: obj(c) }));
  return [
    ...list("initContainers", "init container"),
    ...list("containers", "container"),
    ...list("ephemeralContainers", "ephemeral container"),
  ];
}

function describe(args: { type: string; props: Obj }): string {
  const m = obj(args.props.metadata);
  return `${kindOf(args.type) ?? args.type} '${String(m.name ?? "?")}'`;
}

/** A resource policy over Kubernetes objects of the given kinds. */
function kubePolicy(
  spec: Omit<ResourceValidationPolicy, "validateResource" | "enforcementLevel">,
  kinds: string[],
  check: (kind: string, props: Obj, report: (msg: string) => void, what: string) => void,
): ResourceValidationPolicy {
  return {
    ...spec,
    enforcementLevel: "mandatory",
    validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
      const kind = kindOf(args.type);
      if (!kind || !kinds.includes(kind)) return;
      const what = describe(args);
      check(kind, args.props, (msg) => reportViolation(`${what}: ${msg}`), what);
    },
  };
}

// --- Workloads ---------------------------------------------------------------------------------

export const restrictedSecurityContext = kubePolicy(
  {
    name: "workload-restricted-security-context",
    description:
      "Pods run non-root, without privilege escalation or host namespaces, with all capabilities dropped, seccomp RuntimeDefault and a read-only root filesystem (or a stated reason).",
    remediationSteps:
      "Use podSecurityContext() and containerSecurityContext() from components/lib/kube.ts.",
  },
  WORKLOAD_KINDS,
  (kind, props, report) => {
    const pod = podOf(kind, props);
    if (!pod) return;
    const psc = obj(pod.spec.securityContext);
    for (const host of ["hostNetwork", "hostPID", "hostIPC"]) {
      if (pod.spec[host] === true) report(`${host} must not be set`);
    }
    for (const v of arr(pod.spec.volumes)) {
      if (obj(v).hostPath) report(`volume '${String(obj(v).name)}' mounts a hostPath`);
    }
    const writableReason = str(obj(obj(props.metadata).annotations)[WRITABLE_ROOT_ANNOTATION]);
    for (const { where, c } of containersOf(pod)) {
      const sc = obj(c.securityContext);
      if (sc.runAsNonRoot !== true && psc.runAsNonRoot !== true)
        report(`${where} may run as root: set runAsNonRoot: true`);
      if (sc.runAsUser === 0 || (sc.runAsUser === undefined && psc.runAsUser === 0))
        report(`${where} runs as uid 0`);
      if (sc.privileged === true) report(`${where} is privileged`);
      if (sc.allowPrivilegeEscalation !== false)
        report(`${where} must set allowPrivilegeEscalation: false`);
      const caps = obj(sc.capabilities);
      if (!arr(caps.drop).includes("ALL")) report(`${where} must drop ALL capabilities`);
      const added = arr(caps.add).filter((a) => a !== "NET_BIND_SERVICE");
      if (added.length) report(`${where} adds capabilities ${added.join(", ")}`);
      const seccomp = str(obj(sc.seccompProfile).type) ?? str(obj(psc.seccompProfile).type);
      if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost")
        report(`${where} must use seccomp profile RuntimeDefault (has ${seccomp ?? "none"})`);
      if (sc.readOnlyRootFilesystem !== true && !writableReason)
        report(
          `${where} has a writable root filesystem: set readOnlyRootFilesystem: true (with emptyDir mounts where it writes) or annotate the workload ${WRITABLE_ROOT_ANNOTATION}: <reason>`,
        );
    }
  },
);

export const deploymentProbes = kubePolicy(
  {
    name: "deployment-probes",
    description: "Every container of every Deployment has a liveness and a readiness probe.",
  },
  ["Deployment"],
  (kind, props, report) => {
    const pod = podOf(kind, props);
    if (!pod) return;
    for (const c of arr(pod.spec.containers).map(obj)) {
      for (const probe of ["livenessProbe", "readinessProbe"]) {
        if (!c[probe]) report(`container '${String(c.name)}' has no ${probe}`);
      }
    }
  },
);

export const containerResources = kubePolicy(
  {
    name: "container-resources",
    description: "Every container requests and is limited in CPU and memory.",
  },
  WORKLOAD_KINDS,
  (kind, props, report) => {
    const pod = podOf(kind, props);
    if (!pod) return;
    for (const { where, c } of containersOf(pod)) {
      if (where.startsWith("ephemeral")) continue;
      const r = obj(c.resources);
      const missing = (["requests", "limits"] as const).flatMap((k) =>
        ["cpu", "memory"].filter((x) => !obj(r[k])[x]).map((x) => `${k}.${x}`),
      );
      if (missing.length) report(`${where} has no ${missing.join(", ")}`);
    }
  },
);

/** Why an image reference is not pinned, or undefined when it is. */
export function imagePinProblem(image: string): string | undefined {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return undefined;
  const lastSegment = image.slice(image.lastIndexOf("/") + 1);
  const colon = lastSegment.lastIndexOf(":");
  if (colon < 0) return "has no tag (it means :latest)";
  const tag = lastSegment.slice(colon + 1);
  if (tag === "" || tag === "latest") return `uses the moving tag ':${tag}'`;
  return undefined;
}

export const imagesPinned = kubePolicy(
  {
    name: "images-pinned",
    description: "Every image names a version tag or digest, never `latest` or no tag.",
    remediationSteps: "Pin images in infra/versions.ts.",
  },
  WORKLOAD_KINDS,
  (kind, props, report) => {
    const pod = podOf(kind, props);
    if (!pod) return;
    for (const { where, c } of containersOf(pod)) {
      const image = str(c.image);
      const problem = image === undefined ? "has no image" : imagePinProblem(image);
      if (problem) report(`${where} image '${image ?? ""}' ${problem}`);
    }
  },
);

// --- Exposure ----------------------------------------------------------------------------------

const OPEN_RANGES = ["0.0.0.0/0", "::/0"];

export const ingressTlsAndAllowlist = kubePolicy(
  {
    name: "ingress-tls-and-allowlist",
    description:
      "Every Ingress serves its hosts over TLS and admits only a source-range allowlist (not 0.0.0.0/0).",
  },
  ["Ingress"],
  (_kind, props, report) => {
    const spec = obj(props.spec);
    const tlsHosts = new Set(arr(spec.tls).flatMap((t) => arr(obj(t).hosts).map(String)));
    if (tlsHosts.size === 0) report("has no TLS section");
    for (const rule of arr(spec.rules).map(obj)) {
      const host = str(rule.host);
      if (host === undefined) report("has a rule without a host (it would answer any name)");
      else if (tlsHosts.size && !tlsHosts.has(host)) report(`host '${host}' is not covered by TLS`);
    }
    const annotations = obj(obj(props.metadata).annotations);
    const ranges = NGINX_ALLOWLIST.map((k) => str(annotations[k]))
      .filter((v): v is string => !!v)
      .flatMap((v) => v.split(","))
      .map((v) => v.trim())
      .filter((v) => v);
    if (ranges.length === 0)
      report(`has no source-range allowlist (annotation ${NGINX_ALLOWLIST[0]})`);
    const open = ranges.filter((r) => OPEN_RANGES.includes(r));
    if (open.length) report(`allowlist admits everyone (${open.join(", ")})`);
  },
);

/** The Services an Ingress sends traffic to, with the path (none for the default backend). */
function ingressBackends(props: Obj): { service: string; path?: string; pathType?: string }[] {
  const spec = obj(props.spec);
  const backends: { backend: Obj; path?: string; pathType?: string }[] = [
    { backend: obj(spec.defaultBackend) },
    ...arr(spec.rules).flatMap((r) =>
      arr(obj(obj(r).http).paths).map((p) => ({
        backend: obj(obj(p).backend),
        path: str(obj(p).path),
        pathType: str(obj(p).pathType),
      })),
    ),
  ];
  return backends
    .filter((b) => Object.keys(b.backend).length)
    .map((b) => ({
      service:
        str(obj(b.backend.service).name) ?? `<non-Service backend ${JSON.stringify(b.backend)}>`,
      path: b.path,
      pathType: b.pathType,
    }));
}

/**
 * The one route allowed past the proxy: Airbyte's public API and token endpoints (the same list
 * as components/ingress.ts API_CLIENT_PATHS; test/api-client-access.test.ts holds them equal), to
 * the server Service of the Ingress's namespace, and only where that instance's Airbyte
 * authenticates requests itself (`API_AUTHORIZATION_ENABLED: "true"` in a ConfigMap there).
 */
export const API_CLIENT_ROUTES = [
  { path: "/api/public", pathType: "Prefix" },
  { path: "/api/v1/applications/token", pathType: "Exact" },
];

export const ingressOnlyToOAuth2Proxy: StackValidationPolicy = {
  name: "ingress-only-to-oauth2-proxy",
  description:
    "Every Ingress backend is the OAuth2 Proxy's Service (labelled app.kubernetes.io/name: oauth2-proxy) in the Ingress's namespace: nothing bypasses sign-in, except Airbyte's public API and token endpoints routed to its server where Airbyte's own authentication is on.",
  enforcementLevel: "mandatory",
  validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
    const byKind = kubeResources(args.resources);
    const proxies = new Set(
      (byKind.get("Service") ?? [])
        .filter((s) => labelsOf(s.props)["app.kubernetes.io/name"] === "oauth2-proxy")
        .map((s) => `${namespaceOf(s.props)}/${nameOf(s.props)}`),
    );
    const servers = new Set(
      (byKind.get("Service") ?? [])
        .filter((s) => labelsOf(s.props)["app.kubernetes.io/name"] === "server")
        .map((s) => `${namespaceOf(s.props)}/${nameOf(s.props)}`),
    );
    const authOn = new Set(
      (byKind.get("ConfigMap") ?? [])
        .filter((c) => obj(c.props.data).API_AUTHORIZATION_ENABLED === "true")
        .map((c) => namespaceOf(c.props)),
    );
    for (const ing of byKind.get("Ingress") ?? []) {
      const ns = namespaceOf(ing.props);
      for (const b of ingressBackends(ing.props)) {
        if (proxies.has(`${ns}/${b.service}`)) continue;
        const apiRoute = API_CLIENT_ROUTES.some(
          (r) => r.path === b.path && r.pathType === b.pathType,
        );
        if (apiRoute && servers.has(`${ns}/${b.service}`)) {
          if (!authOn.has(ns)) {
            reportViolation(
              `Ingress '${nameOf(ing.props)}' routes API clients (${b.path}) to '${b.service}' while Airbyte's own authentication is off (API_AUTHORIZATION_ENABLED): nothing would authenticate them`,
              ing.urn,
            );
          }
          continue;
        }
        reportViolation(
          `Ingress '${nameOf(ing.props)}' routes to '${b.service}', which is not the OAuth2 Proxy's Service in its namespace`,
          ing.urn,
        );
      }
    }
  },
};

export const serviceExposure = kubePolicy(
  {
    name: "service-exposure",
    description: `No Service of type LoadBalancer or NodePort unless it is the declared exposure (annotation ${EXPOSURE_ANNOTATION}: <reason>); a declared LoadBalancer also lists loadBalancerSourceRanges.`,
  },
  ["Service"],
  (_kind, props, report) => {
    const spec = obj(props.spec);
    const type = str(spec.type) ?? "ClusterIP";
    if (type !== "LoadBalancer" && type !== "NodePort") return;
    const reason = str(obj(obj(props.metadata).annotations)[EXPOSURE_ANNOTATION]);
    if (!reason?.trim()) {
      report(
        `is of type ${type}; only the declared exposure may be (annotate ${EXPOSURE_ANNOTATION}: <reason>)`,
      );
      return;
    }
    if (type === "LoadBalancer") {
      const ranges = arr(spec.loadBalancerSourceRanges).map(String);
      if (ranges.length === 0 || ranges.some((r) => OPEN_RANGES.includes(r)))
        report("is a LoadBalancer without a loadBalancerSourceRanges allowlist");
    }
  },
);

// --- Secrets -----------------------------------------------------------------------------------

/**
 * Names that hold a secret: `DATABASE_PASSWORD`, `client-secret`, `AWS_SECRET_ACCESS_KEY`.
 * Names that point at one (`…_SECRET_NAME`, `…_SECRET_KEY`, `…_TOKEN_ENDPOINT`) do not match.
 */
const SECRET_NAME =
  /(^|[_.\-/])(password|passwd|pwd|secret|token|credentials?|api[_-]?key|access[_-]?key|private[_-]?key|client[_-]?secret)$/i;

/** Values that are secret whatever they are called. */
const SECRET_VALUES: [RegExp, string][] = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, "a PEM private key"],
  // Kubernetes `$(VAR)` references in place of the credentials are fine: they are expanded from
  // secretKeyRef variables at run time.
  [/[a-z][a-z0-9+.-]*:\/\/(?!\$\()[^\s/:@]+:(?!\$\()[^\s/@]+@/i, "a URL with inline credentials"],
  [/\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+/, "a JSON Web Token"],
  [/\bAKIA[0-9A-Z]{16}\b/, "an AWS access key id"],
];

/** Why `value` under `name` looks like secret material, or undefined. */
export function secretLooking(name: string, value: unknown): string | undefined {
  if (typeof value !== "string" || value === "") return undefined;
  if (SECRET_NAME.test(name)) return `'${name}' names a secret`;
  for (const [re, what] of SECRET_VALUES) if (re.test(value)) return `'${name}' holds ${what}`;
  return undefined;
}

export const noSecretMaterial: ResourceValidationPolicy = {
  name: "no-secret-material",
  description:
    "No secret in a ConfigMap, a plain env value or an annotation: secrets go in Secrets and reach pods through secretKeyRef.",
  enforcementLevel: "mandatory",
  validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
    const kind = kindOf(args.type);
    if (!kind || kind === "Secret") return;
    const what = describe(args);
    const report = (msg: string) => reportViolation(`${what}: ${msg}`);
    const annotations = (m: Obj, where: string) => {
      for (const [k, v] of Object.entries(obj(m.annotations))) {
        const why = secretLooking(k, v);
        if (why) report(`${where}annotation ${why}`);
      }
    };
    annotations(obj(args.props.metadata), "");
    if (kind === "ConfigMap") {
      for (const [k, v] of Object.entries(obj(args.props.data))) {
        const why = secretLooking(k, v);
        if (why) report(`data ${why}; put it in a Secret`);
      }
    }
    const pod = podOf(kind, args.props);
    if (!pod) return;
    annotations(pod.metadata, "pod template ");
    for (const { where, c } of containersOf(pod)) {
      for (const e of arr(c.env).map(obj)) {
        const why = secretLooking(String(e.name), e.value);
        if (why) report(`${where} env ${why} as a plain value; use secretKeyRef`);
      }
      for (const a of [...arr(c.command), ...arr(c.args)]) {
        const why = SECRET_VALUES.find(([re]) => re.test(String(a)));
        if (why) report(`${where} command line holds ${why[1]}`);
      }
    }
  },
};

// --- Namespaces, network, availability ---------------------------------------------------------

const PSS = "pod-security.kubernetes.io";

export const namespacePodSecurity = kubePolicy(
  {
    name: "namespace-pod-security",
    description: `Every namespace enforces a Pod Security Standard: restricted, or baseline with restricted audited and warned and the reason in annotation ${POD_SECURITY_EXCEPTION_ANNOTATION}.`,
  },
  ["Namespace"],
  (_kind, props, report) => {
    const labels = labelsOf(props);
    const enforce = labels[`${PSS}/enforce`];
    if (enforce === "restricted") return;
    if (enforce !== "baseline") {
      report(
        `must label ${PSS}/enforce: restricted (or baseline with a reason), has ${enforce ?? "none"}`,
      );
      return;
    }
    for (const mode of ["audit", "warn"]) {
      if (labels[`${PSS}/${mode}`] !== "restricted")
        report(`enforces baseline, so must label ${PSS}/${mode}: restricted`);
    }
    const reason = str(obj(obj(props.metadata).annotations)[POD_SECURITY_EXCEPTION_ANNOTATION]);
    if (!reason?.trim())
      report(
        `enforces baseline without a reason (annotation ${POD_SECURITY_EXCEPTION_ANNOTATION})`,
      );
  },
);

interface KubeObject {
  urn: string;
  props: Obj;
}

function kubeResources(resources: PolicyResource[]): Map<string, KubeObject[]> {
  const out = new Map<string, KubeObject[]>();
  for (const r of resources) {
    const kind = kindOf(r.type);
    if (!kind) continue;
    out.set(kind, [...(out.get(kind) ?? []), { urn: r.urn, props: r.props }]);
  }
  return out;
}

const nameOf = (props: Obj) => String(obj(props.metadata).name ?? "");
const namespaceOf = (props: Obj) => String(obj(props.metadata).namespace ?? "default");
const labelsOf = (props: Obj) => obj(obj(props.metadata).labels) as Record<string, string>;

/** Whether a LabelSelector selects every pod (`{}`). */
function selectsAll(selector: unknown): boolean {
  const s = obj(selector);
  return Object.keys(obj(s.matchLabels)).length === 0 && arr(s.matchExpressions).length === 0;
}

export const namespaceDefaultDeny: StackValidationPolicy = {
  name: "namespace-default-deny",
  description:
    "Every namespace the stack creates has a NetworkPolicy that selects all pods and allows nothing in or out; other policies then open single flows.",
  enforcementLevel: "mandatory",
  validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
    const byKind = kubeResources(args.resources);
    const denied = new Set(
      (byKind.get("NetworkPolicy") ?? [])
        .filter((p) => {
          const spec = obj(p.props.spec);
          const types = arr(spec.policyTypes);
          return (
            selectsAll(spec.podSelector) &&
            types.includes("Ingress") &&
            types.includes("Egress") &&
            arr(spec.ingress).length === 0 &&
            arr(spec.egress).length === 0
          );
        })
        .map((p) => namespaceOf(p.props)),
    );
    for (const ns of byKind.get("Namespace") ?? []) {
      if (!denied.has(nameOf(ns.props)))
        reportViolation(
          `Namespace '${nameOf(ns.props)}' has no default-deny NetworkPolicy (podSelector {}, policyTypes Ingress and Egress, no rules)`,
          ns.urn,
        );
    }
  },
};

export const replicatedDeploymentsHavePdb: StackValidationPolicy = {
  name: "pdb-for-replicated-deployments",
  description:
    "Every Deployment that runs more than one replica has a PodDisruptionBudget selecting its pods.",
  enforcementLevel: "mandatory",
  validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
    const byKind = kubeResources(args.resources);
    const pdbs = byKind.get("PodDisruptionBudget") ?? [];
    for (const d of byKind.get("Deployment") ?? []) {
      const spec = obj(d.props.spec);
      const replicas = typeof spec.replicas === "number" ? spec.replicas : 1;
      if (replicas <= 1) continue;
      const podLabels = obj(obj(obj(spec.template).metadata).labels);
      const covered = pdbs.some((p) => {
        if (namespaceOf(p.props) !== namespaceOf(d.props)) return false;
        const sel = obj(obj(p.props.spec).selector);
        const match = Object.entries(obj(sel.matchLabels));
        return (
          match.length > 0 &&
          arr(sel.matchExpressions).length === 0 &&
          match.every(([k, v]) => podLabels[k] === v)
        );
      });
      if (!covered)
        reportViolation(
          `Deployment '${nameOf(d.props)}' runs ${replicas} replicas without a PodDisruptionBudget selecting its pods`,
          d.urn,
        );
    }
  },
};

/** Every policy of the pack, in the order they are reported. */
export const policies: (ResourceValidationPolicy | StackValidationPolicy)[] = [
  restrictedSecurityContext,
  deploymentProbes,
  containerResources,
  imagesPinned,
  ingressTlsAndAllowlist,
  ingressOnlyToOAuth2Proxy,
  serviceExposure,
  noSecretMaterial,
  namespacePodSecurity,
  namespaceDefaultDeny,
  replicatedDeploymentsHavePdb,
];
