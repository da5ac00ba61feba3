/**
 * Rules the API server enforces that the OpenAPI schemas do not express: name formats, label
 * syntax, port names, data keys, and objects landing in no namespace. These are the mistakes that
 * pass a schema check and still fail `pulumi up`.
 */
import { objectLabel, type KubeObject } from "./manifests";
import type { ValidationFailure } from "./validate";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
/** IANA service name: what a named port must be. */
const PORT_NAME = /^(?=.*[a-z])[a-z0-9]([a-z0-9]|-(?!-))*[a-z0-9]$|^[a-z]$/;
const DATA_KEY = /^[-._a-zA-Z0-9]+$/;

/** Kinds whose objects live outside namespaces. */
const CLUSTER_SCOPED = new Set([
  "Namespace",
  "Node",
  "PersistentVolume",
  "StorageClass",
  "CSIDriver",
  "ClusterRole",
  "ClusterRoleBinding",
  "CustomResourceDefinition",
  "IngressClass",
  "PriorityClass",
  "RuntimeClass",
  "APIService",
  "MutatingWebhookConfiguration",
  "ValidatingWebhookConfiguration",
]);

/** Kinds whose name becomes a DNS label (Services get DNS records; namespaces appear in them). */
const DNS_LABEL_NAMED = new Set(["Namespace", "Service"]);

/** Where each workload kind keeps its pod template spec. */
const POD_SPEC_PATH: Record<string, string[]> = {
  Pod: ["spec"],
  Deployment: ["spec", "template", "spec"],
  StatefulSet: ["spec", "template", "spec"],
  DaemonSet: ["spec", "template", "spec"],
  ReplicaSet: ["spec", "template", "spec"],
  Job: ["spec", "template", "spec"],
  CronJob: ["spec", "jobTemplate", "spec", "template", "spec"],
};

type Obj = Record<string, unknown>;
const asObj = (v: unknown): Obj | undefined =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
const asArr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function at(root: Obj, path: string[]): Obj | undefined {
  let cur: Obj | undefined = root;
  for (const key of path) cur = asObj(cur?.[key]);
  return cur;
}

export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf("/");
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)))
    return "label key prefix must be a DNS subdomain";
  if (name.length > 63 || !LABEL_NAME.test(name))
    return "label key name must be at most 63 alphanumerics, '-', '_' or '.', starting and ending alphanumeric";
  return undefined;
}

export function labelValueProblem(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined; // the schema check reports the type
  if (value.length > 63 || !LABEL_VALUE.test(value))
    return "label value must be at most 63 alphanumerics, '-', '_' or '.', starting and ending alphanumeric";
  return undefined;
}

/** Problems with one object that the API server would reject it for. */
export function apiRuleFailures(o: KubeObject): ValidationFailure[] {
  const object = objectLabel(o);
  const out: ValidationFailure[] = [];
  const fail = (path: string, message: string) => out.push({ object, path, message });
  const body = o.body;
  const meta = asObj(body.metadata) ?? {};

  if (typeof meta.name === "string") {
    const label = DNS_LABEL_NAMED.has(o.kind);
    const ok = label
      ? meta.name.length <= 63 && DNS_LABEL.test(meta.name)
      : meta.name.length <= 253 && DNS_SUBDOMAIN.test(meta.name);
    if (!ok)
      fail(
        "metadata.name",
        `"${meta.name}" is not a valid ${label ? "DNS label (at most 63 of a-z, 0-9, '-')" : "DNS subdomain name"}`,
      );
  } else if (meta.generateName === undefined && !o.patch) {
    fail("metadata.name", "is required (names are explicit in this project)");
  }
  if (!CLUSTER_SCOPED.has(o.kind) && !o.patch && !meta.namespace)
    fail(
      "metadata.namespace",
      "is not set: the object would land in the provider's default namespace",
    );

  const checkLabels = (labels: unknown, path: string) => {
    for (const [k, v] of Object.entries(asObj(labels) ?? {})) {
      const keyProblem = labelKeyProblem(k);
      if (keyProblem) fail(`${path}["${k}"]`, keyProblem);
      const valueProblem = labelValueProblem(v);
      if (valueProblem) fail(`${path}["${k}"]`, `"${String(v)}": ${valueProblem}`);
    }
  };
  checkLabels(meta.labels, "metadata.labels");
  checkLabels(asObj(asObj(body.spec)?.selector)?.matchLabels, "spec.selector.matchLabels");
  checkLabels(
    asObj(at(body, ["spec", "template"])?.metadata)?.labels,
    "spec.template.metadata.labels",
  );

  if (o.kind === "ConfigMap" || o.kind === "Secret") {
    for (const field of ["data", "stringData", "binaryData"]) {
      for (const k of Object.keys(asObj(body[field]) ?? {})) {
        if (k.length > 253 || !DATA_KEY.test(k))
          fail(`${field}["${k}"]`, "key must consist of alphanumerics, '-', '_' or '.'");
      }
    }
  }

  if (o.kind === "Service") {
    asArr(asObj(body.spec)?.ports).forEach((p, i) => {
      const name = asObj(p)?.name;
      if (typeof name === "string" && (name.length > 63 || !DNS_LABEL.test(name)))
        fail(`spec.ports[${i}].name`, `"${name}" is not a valid DNS label`);
      const target = asObj(p)?.targetPort;
      if (typeof target === "string" && (target.length > 15 || !PORT_NAME.test(target)))
        fail(
          `spec.ports[${i}].targetPort`,
          `"${target}" is not a valid port name (IANA service name, at most 15 characters)`,
        );
    });
  }

  const podPath = POD_SPEC_PATH[o.kind];
  const pod = podPath ? at(body, podPath) : undefined;
  if (pod && podPath) {
    const base = podPath.join(".");
    for (const list of ["initContainers", "containers"]) {
      asArr(pod[list]).forEach((c, i) => {
        const container = asObj(c) ?? {};
        const cpath = `${base}.${list}[${i}]`;
        if (
          typeof container.name === "string" &&
          (container.name.length > 63 || !DNS_LABEL.test(container.name))
        )
          fail(`${cpath}.name`, `"${container.name}" is not a valid DNS label`);
        asArr(container.ports).forEach((p, j) => {
          const port = asObj(p) ?? {};
          if (
            typeof port.name === "string" &&
            (port.name.length > 15 || !PORT_NAME.test(port.name))
          )
            fail(
              `${cpath}.ports[${j}].name`,
              `"${port.name}" is not a valid port name (IANA service name, at most 15 characters)`,
            );
          if (
            typeof port.containerPort === "number" &&
            (port.containerPort < 1 || port.containerPort > 65535)
          )
            fail(`${cpath}.ports[${j}].containerPort`, "must be between 1 and 65535");
        });
      });
    }
  }
  return out;
}
