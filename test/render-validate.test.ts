import { describe, expect, it } from "vitest";
import { apiRuleFailures } from "../infra/render/api-rules";
import {
  checkObjects,
  formatFailure,
  modelFor,
  pointerToPath,
  validateObject,
} from "../infra/render/validate";
import { deploymentBody, kube } from "./fixtures/render/objects";

const lines = (o: ReturnType<typeof kube>) => validateObject(o).failures.map(formatFailure);

describe("schema validation", () => {
  it("passes a valid Deployment", () => {
    expect(validateObject(kube(deploymentBody()))).toEqual({ failures: [] });
  });

  it("names the object and the field of a type error", () => {
    const broken = kube(deploymentBody({ ports: [{ name: "http", containerPort: "8001" }] }));
    expect(lines(broken)).toEqual([
      "Deployment airbyte-prod/airbyte-prod-server: spec.template.spec.containers[0].ports[0].containerPort: must be integer",
    ]);
  });

  it("reports a missing required field at the field's own path", () => {
    const body = deploymentBody();
    delete (body.spec as Record<string, unknown>).selector;
    expect(lines(kube(body))).toEqual([
      "Deployment airbyte-prod/airbyte-prod-server: spec.selector: is required",
    ]);
  });

  it("catches a misspelt field the schema does not know", () => {
    const broken = kube(deploymentBody({ contianerPort: 8001 }));
    expect(lines(broken)).toEqual([
      "Deployment airbyte-prod/airbyte-prod-server: spec.template.spec.containers[0].contianerPort: unknown field (not in the API schema)",
    ]);
  });

  it("does not call map keys unknown (labels, resources)", () => {
    const body = deploymentBody();
    (body.metadata as Record<string, unknown>).annotations = { "example.com/anything": "x" };
    expect(validateObject(kube(body)).failures).toEqual([]);
  });

  it("says what an int-or-string or quantity field accepts, once", () => {
    const broken = kube(
      deploymentBody({
        resources: { limits: { memory: "2 gigs" } },
        livenessProbe: { tcpSocket: { port: true } },
      }),
    );
    expect(lines(broken)).toEqual([
      "Deployment airbyte-prod/airbyte-prod-server: spec.template.spec.containers[0].livenessProbe.tcpSocket.port: must be a string or an integer",
      'Deployment airbyte-prod/airbyte-prod-server: spec.template.spec.containers[0].resources.limits.memory: must be a number or a "quantity" string',
    ]);
  });

  it("lists every failure of an object, not only the first", () => {
    const broken = kube(deploymentBody({ image: 3, ports: [{ containerPort: "x" }] }));
    expect(validateObject(broken).failures.map((f) => f.path)).toEqual([
      "spec.template.spec.containers[0].image",
      "spec.template.spec.containers[0].ports[0].containerPort",
    ]);
  });

  it("rejects an apiVersion/kind without a schema, unless declared", () => {
    const unknown = kube({
      apiVersion: "example.com/v1",
      kind: "Widget",
      metadata: { name: "w", namespace: "n" },
    });
    expect(lines(unknown)).toEqual([
      'Widget n/w: no API schema for apiVersion "example.com/v1" kind "Widget" (unknown type; declare it in DECLARED_CUSTOM_TYPES if it is a CRD)',
    ]);
    expect(validateObject(unknown, { "example.com/v1/Widget": "a widget CRD" })).toEqual({
      failures: [],
      skipped: "custom type (a widget CRD)",
    });
  });

  it("loads models by apiVersion/kind and nothing for odd names", () => {
    expect(modelFor("networking.k8s.io/v1", "Ingress")).not.toBeNull();
    expect(modelFor("v1", "Service")).not.toBeNull();
    expect(modelFor("v1", "../../index")).toBeNull();
    expect(modelFor("apps/v1", "Nope")).toBeNull();
  });

  it("turns JSON pointers into readable paths", () => {
    expect(pointerToPath("/metadata/labels/app.kubernetes.io~1name")).toBe(
      'metadata.labels["app.kubernetes.io/name"]',
    );
    expect(pointerToPath("/spec/ports/0/port")).toBe("spec.ports[0].port");
  });
});

describe("API server rules the schema does not express", () => {
  it("rejects names, label values and port names the API server refuses", () => {
    const body = deploymentBody({
      name: "Server",
      ports: [{ name: "http-port-too-long", containerPort: 8001 }],
    });
    (body.metadata as { labels: Record<string, string> }).labels = {
      "app.kubernetes.io/version": "2.0.1+build",
    };
    expect(apiRuleFailures(kube(body)).map((f) => `${f.path}: ${f.message}`)).toEqual([
      "metadata.labels[\"app.kubernetes.io/version\"]: \"2.0.1+build\": label value must be at most 63 alphanumerics, '-', '_' or '.', starting and ending alphanumeric",
      'spec.template.spec.containers[0].name: "Server" is not a valid DNS label',
      'spec.template.spec.containers[0].ports[0].name: "http-port-too-long" is not a valid port name (IANA service name, at most 15 characters)',
    ]);
  });

  it("requires a namespace on namespaced objects and a DNS label for Service names", () => {
    const svc = kube({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "airbyte.prod" },
      spec: { ports: [{ port: 80 }] },
    });
    expect(apiRuleFailures(svc).map((f) => f.path)).toEqual([
      "metadata.name",
      "metadata.namespace",
    ]);
    const ns = kube({ apiVersion: "v1", kind: "Namespace", metadata: { name: "airbyte-prod" } });
    expect(apiRuleFailures(ns)).toEqual([]);
  });

  it("finds two resources declaring the same object", () => {
    const a = kube(deploymentBody());
    const b = kube(deploymentBody());
    const { failures } = checkObjects([a, b]);
    expect(failures.map(formatFailure)).toEqual([
      "Deployment airbyte-prod/airbyte-prod-server: metadata.name: declared 2 times (by airbyte-prod-server, airbyte-prod-server): the objects would overwrite each other",
    ]);
  });
});
