/**
 * Runs the policy pack without the Pulumi CLI: over the resources the program registered under
 * mocks (`infra/mock-runtime.ts`), each policy gets the arguments the policy server would build
 * (props behind `unknownCheckingProxy`, `isType`/`asType`, `notApplicable`), and every violation
 * is collected. `@pulumi/policy` ships no such helper, and constructing a `PolicyPack` would start
 * its gRPC server, so this module never does.
 */
import type {
  PolicyResource,
  PolicyResourceOptions,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import * as proxy from "@pulumi/policy/proxy";
import type { RecordedResource } from "../infra/mock-runtime";
import { policies as packPolicies } from "./policies";

export interface PolicyViolation {
  policy: string;
  /** The resource at fault; for a stack policy that names none, the stack's URN. */
  urn: string;
  message: string;
}

type AnyPolicy = ResourceValidationPolicy | StackValidationPolicy;

/**
 * The wrapper the policy server puts around props: reading a value unknown at preview throws.
 * Exported by the module but marked internal in its typings.
 */
const unknownCheckingProxy = (proxy as unknown as { unknownCheckingProxy: <T>(v: T) => T })
  .unknownCheckingProxy;

class NotApplicable extends Error {}

function notApplicable(reason?: string): never {
  throw new NotApplicable(reason ?? "not applicable");
}

/** What `isType` compares, as the policy server does: the class's Pulumi type token. */
function isTypeOf(type: string, cls: unknown): boolean {
  const c = cls as { __pulumiType?: string; isInstance?: (o: unknown) => boolean };
  if (typeof c.__pulumiType === "string") return c.__pulumiType === type;
  return typeof c.isInstance === "function" && c.isInstance({ __pulumiType: type }) === true;
}

function optionsOf(r: RecordedResource): PolicyResourceOptions {
  return {
    protect: r.protect,
    ignoreChanges: r.ignoreChanges,
    deleteBeforeReplace: r.deleteBeforeReplace,
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
    ...(r.parent ? { parent: r.parent } : {}),
  };
}

/** A deep copy, so no policy can change the recorded inputs. */
const copy = <T>(v: T): T => structuredClone(v);

function settle(result: unknown, policy: string): void {
  if (result && typeof (result as Promise<void>).then === "function") {
    throw new Error(`policy ${policy}: asynchronous validation is not supported offline`);
  }
}

function runResourcePolicy(
  p: ResourceValidationPolicy,
  r: RecordedResource,
  report: (message: string, urn?: string) => void,
): void {
  const props = unknownCheckingProxy(copy(r.inputs)) as Record<string, unknown>;
  const args: ResourceValidationArgs = {
    type: r.type,
    props,
    urn: r.urn,
    name: r.name,
    opts: optionsOf(r),
    stackTags: new Map(),
    isType: (cls) => isTypeOf(r.type, cls),
    asType: ((cls: unknown) =>
      isTypeOf(r.type, cls) ? props : undefined) as ResourceValidationArgs["asType"],
    getConfig: <T extends object>() => ({}) as T,
    notApplicable,
  };
  const validations = Array.isArray(p.validateResource)
    ? p.validateResource
    : p.validateResource
      ? [p.validateResource]
      : [];
  const reportViolation: ReportViolation = (message, urn) => report(message, urn ?? r.urn);
  for (const validate of validations) {
    try {
      settle(validate(args, reportViolation), p.name);
    } catch (e) {
      if (!(e instanceof NotApplicable)) throw e;
    }
  }
}

function policyResources(resources: RecordedResource[]): PolicyResource[] {
  const byUrn = new Map<string, PolicyResource>();
  const out = resources.map((r) => {
    const props = unknownCheckingProxy(copy(r.inputs)) as Record<string, unknown>;
    const pr: PolicyResource = {
      type: r.type,
      props,
      urn: r.urn,
      name: r.name,
      opts: optionsOf(r),
      dependencies: [],
      propertyDependencies: {},
      isType: (cls) => isTypeOf(r.type, cls),
      asType: ((cls: unknown) =>
        isTypeOf(r.type, cls) ? props : undefined) as PolicyResource["asType"],
    };
    byUrn.set(r.urn, pr);
    return pr;
  });
  resources.forEach((r, i) => {
    const parent = r.parent ? byUrn.get(r.parent) : undefined;
    if (parent) out[i].parent = parent;
    out[i].dependencies = r.dependencies
      .map((d) => byUrn.get(d))
      .filter((d): d is PolicyResource => !!d);
  });
  return out;
}

/**
 * Every violation `policies` (default: the whole pack) find in `resources`. Components and the
 * stack are passed too, as the engine does; the policies only look at Kubernetes objects.
 */
export function runPolicies(
  resources: RecordedResource[],
  policies: AnyPolicy[] = packPolicies,
): PolicyViolation[] {
  const violations: PolicyViolation[] = [];
  const stackUrn = resources.find((r) => r.type === "pulumi:pulumi:Stack")?.urn ?? "";
  for (const p of policies) {
    if (p.enforcementLevel === "disabled") continue;
    const report = (message: string, urn?: string) =>
      violations.push({ policy: p.name, urn: urn ?? stackUrn, message });
    if ("validateStack" in p) {
      const args: StackValidationArgs = {
        resources: policyResources(resources),
        stackTags: new Map(),
        getConfig: <T extends object>() => ({}) as T,
        notApplicable,
      };
      try {
        settle(p.validateStack(args, report), p.name);
      } catch (e) {
        if (!(e instanceof NotApplicable)) throw e;
      }
    } else {
      for (const r of resources) runResourcePolicy(p, r, report);
    }
  }
  return violations;
}

/** One line per violation, for test failures and the render summary. */
export function formatViolations(violations: PolicyViolation[]): string {
  return violations.map((v) => `[${v.policy}] ${v.message} (${v.urn})`).join("\n");
}
