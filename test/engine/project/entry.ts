/**
 * The engine suite's program: the product's own program(), unchanged, plus one test-only resource
 * transform. With no kubelet nothing ever becomes ready, so every Kubernetes object gets the
 * provider's `pulumi.com/skipAwait: "true"` annotation (pulumi-kubernetes v4.32.0,
 * provider/pkg/metadata/overrides.go: ReadyCondition/DeletedCondition), and the engine does not
 * wait for rollouts, Job completion, Ingress or LoadBalancer status. No kube-controller-manager runs
 * either, so nothing would ever remove the `foregroundDeletion` finalizer the provider's default
 * (Foreground) delete sets: `pulumi.com/deletionPropagationPolicy: "background"` deletes at once
 * (overrides.go: DeletionPropagation; no dependents exist without controllers).
 */
import * as pulumi from "@pulumi/pulumi";
import { program } from "../../../infra/program";
import { DELETION_PROPAGATION, SKIP_AWAIT, VIOLATION_ENV } from "./names";

type Plain = Record<string, unknown>;

function isPlain(v: unknown): v is Plain {
  return (
    typeof v === "object" &&
    v !== null &&
    !Array.isArray(v) &&
    !pulumi.Output.isInstance(v) &&
    !(v instanceof Promise)
  );
}

/** metadata with the annotation added, keeping known values known (no apply unless needed). */
function withSkipAwait(meta: unknown): unknown {
  const add = (ann: unknown) => ({
    ...(ann as Plain | undefined),
    [SKIP_AWAIT]: "true",
    [DELETION_PROPAGATION]: "background",
  });
  if (meta === undefined) return { annotations: add(undefined) };
  if (!isPlain(meta))
    return pulumi.output(meta as Plain).apply((m) => ({ ...m, annotations: add(m?.annotations) }));
  const ann = meta.annotations;
  return {
    ...meta,
    annotations:
      ann === undefined || isPlain(ann) ? add(ann) : pulumi.output(ann as Plain).apply(add),
  };
}

pulumi.runtime.registerResourceTransform((args) => {
  if (!args.custom || !args.type.startsWith("kubernetes:")) return undefined;
  const props: Plain = { ...args.props, metadata: withSkipAwait(args.props.metadata) };
  if (process.env[VIOLATION_ENV] === "1" && args.type === "kubernetes:core/v1:ConfigMap")
    props.data = pulumi.output(args.props.data as Plain | undefined).apply((d) => ({
      ...d,
      "admin-password": "plain-text-in-a-configmap",
    }));
  return { props, opts: args.opts };
});

export = program();
