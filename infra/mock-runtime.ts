/**
 * Runs the real program under the Pulumi SDK's mock runtime and records every resource it
 * registers, with parent, provider, options and inputs. Used by `render`, `diff` and the tests:
 * no CLI, no plugins and no cluster are needed.
 */
import * as crypto from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { UNKNOWN_AT_PREVIEW } from "./preview-values";

/** The wire signature the SDK uses to mark a value as secret (see SDK runtime/rpc.js). */
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export interface RecordedResource {
  type: string;
  name: string;
  urn: string;
  /** URN of the parent resource; the stack itself has none. */
  parent?: string;
  custom: boolean;
  /** Provider reference `"<urn>::<id>"`, empty when the default provider is used. */
  provider?: string;
  /** Inputs with secret markers removed; see `secretPaths` for which ones were secret. */
  inputs: Record<string, unknown>;
  /** Dotted paths of inputs that were Pulumi secrets (`stringData.password`). */
  secretPaths: string[];
  /** Every resource this one waits for: explicit `dependsOn` plus those its inputs come from. */
  dependencies: string[];
  /** URNs named in the `dependsOn` option itself (a subset of `dependencies`). */
  dependsOn: string[];
  /** Per input property, the URNs its value comes from. */
  propertyDependencies: Record<string, string[]>;
  protect: boolean;
  /** `retainOnDelete`: the engine forgets the resource on delete instead of deleting it. */
  retainOnDelete: boolean;
  /** `customTimeouts` as sent to the engine; only the operations that were set. */
  customTimeouts: CustomTimeouts;
  /** URN of the `deletedWith` resource, when set. */
  deletedWith?: string;
  deleteBeforeReplace: boolean;
  ignoreChanges: string[];
  replaceOnChanges: string[];
  aliases: unknown[];
  /** What the resource passed to `registerOutputs` (components and the stack), secrets unwrapped. */
  outputs?: Record<string, unknown>;
  /** Dotted paths of `outputs` that were secret. */
  secretOutputPaths?: string[];
}

export interface CustomTimeouts {
  create?: string;
  update?: string;
  delete?: string;
  read?: string;
}

export interface MockRunOptions {
  /** Project name; config keys are namespaced by it. Defaults to `airbyte`. */
  project?: string;
  stack: string;
  /** Stack config as `key: value`, keys with or without the `<project>:` prefix. */
  config?: Record<string, string>;
  /** Keys of `config` that are secrets. */
  secretKeys?: string[];
  program: () => unknown;
  /**
   * Run as a real `pulumi preview` would: custom resources whose URN is not in `existing` are
   * being created, so their id and every output the provider computes (not echoed from the
   * inputs) are unknown, and so is every input built from them. Without it, all values are known.
   */
  preview?: { existing: string[] };
}

export interface MockRun {
  resources: RecordedResource[];
  /** Stack outputs, resolved, secrets unwrapped. */
  outputs: Record<string, unknown>;
  /** Names of stack outputs that are secret. */
  secretOutputs: string[];
}

/** Only appears in runs with {@link MockRunOptions.preview}. */
export { UNKNOWN_AT_PREVIEW };

/** Deterministic stand-ins for values providers compute, so rendering is reproducible. */
export function mockComputedState(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
): Record<string, unknown> {
  const digest = (n: number) =>
    crypto.createHash("sha256").update(`${type}/${name}`).digest("hex").slice(0, n);
  switch (type) {
    case "random:index/randomPassword:RandomPassword":
    case "random:index/randomString:RandomString": {
      const length = typeof inputs.length === "number" ? inputs.length : 16;
      const seed = `mock${digest(64)}${digest(64)}`;
      return { result: seed.slice(0, length), bcryptHash: `$2a$10$${digest(53)}` };
    }
    case "random:index/randomUuid:RandomUuid": {
      const h = digest(32);
      return {
        result: `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`,
      };
    }
    case "random:index/randomBytes:RandomBytes": {
      const length = typeof inputs.length === "number" ? inputs.length : 32;
      const bytes = Buffer.from(digest(64).repeat(4), "hex").subarray(0, length);
      return { base64: bytes.toString("base64"), hex: bytes.toString("hex") };
    }
    default:
      break;
  }
  if (type.startsWith("kubernetes:") && type !== "kubernetes:index:Provider") {
    const metadata = (inputs.metadata ?? {}) as Record<string, unknown>;
    if (metadata.name === undefined) return { metadata: { ...metadata, name } };
  }
  return {};
}

function isSecretMarker(v: unknown): v is { value: unknown } {
  return (
    typeof v === "object" &&
    v !== null &&
    (v as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG
  );
}

/** Strips secret markers from a deserialized value, noting where they were. */
export function unwrapSecrets(
  value: unknown,
  path = "",
  found: string[] = [],
): { value: unknown; secretPaths: string[] } {
  const walk = (v: unknown, p: string): unknown => {
    if (pulumi.isUnknown(v)) return UNKNOWN_AT_PREVIEW;
    if (isSecretMarker(v)) {
      found.push(p);
      return walk(v.value, p);
    }
    if (Array.isArray(v)) return v.map((e, i) => walk(e, `${p}[${i}]`));
    if (v && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>).map(([k, e]) => [
          k,
          walk(e, p ? `${p}.${k}` : k),
        ]),
      );
    }
    return v;
  };
  return { value: walk(value, path), secretPaths: found };
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getProvider(): string;
  getObject(): unknown;
  getDependenciesList(): string[];
  getPropertydependenciesMap(): {
    forEach(f: (deps: { getUrnsList(): string[] }, key: string) => void): void;
  };
  getProtect(): boolean;
  getRetainondelete(): boolean | undefined;
  getCustomtimeouts():
    | { getCreate(): string; getUpdate(): string; getDelete(): string; getRead(): string }
    | undefined;
  getDeletedwith(): string;
  getDeletebeforereplace(): boolean;
  getIgnorechangesList(): string[];
  getReplaceonchangesList(): string[];
  getAliasesList(): unknown[];
}
interface RegisterResponse {
  getUrn(): string;
  setId(id: string): void;
  setObject(state: unknown): void;
}
type Callback = (err: Error | null, resp?: RegisterResponse) => void;
interface OutputsRequest {
  getUrn(): string;
  getOutputs(): unknown;
}
interface RecordingMonitor {
  registerResource(req: RegisterRequest, cb: Callback): void;
  registerResourceOutputs(req: OutputsRequest, cb: (err: Error | null) => void): void;
}

/** What the request carries of `customTimeouts`: empty strings mean "not set". */
function timeoutsOf(req: RegisterRequest): CustomTimeouts {
  const t = req.getCustomtimeouts();
  if (!t) return {};
  const set: CustomTimeouts = {
    create: t.getCreate(),
    update: t.getUpdate(),
    delete: t.getDelete(),
    read: t.getRead(),
  };
  return Object.fromEntries(Object.entries(set).filter(([, v]) => v)) as CustomTimeouts;
}

function propertyDependenciesOf(req: RegisterRequest): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  req.getPropertydependenciesMap().forEach((deps, key) => {
    out[key] = deps.getUrnsList();
  });
  return out;
}

/** The SDK's own (internal) way to wait for an Output's value. */
interface OutputInternals {
  promise(): Promise<unknown>;
}

/** Resolves a `dependsOn` option (resources, arrays, Outputs or promises of them) to URNs. */
async function dependsOnUrns(value: unknown): Promise<string[]> {
  if (value === undefined || value === null) return [];
  if (pulumi.Output.isInstance(value))
    return dependsOnUrns(await (value as unknown as OutputInternals).promise());
  if (value instanceof Promise) return dependsOnUrns(await value);
  if (Array.isArray(value)) return (await Promise.all(value.map(dependsOnUrns))).flat();
  if (pulumi.Resource.isInstance(value))
    return [String(await (value.urn as unknown as OutputInternals).promise())];
  return [];
}

interface RuntimeInternals {
  waitForRPCs(): Promise<void>;
  deserializeProperties(struct: unknown): Record<string, unknown>;
}
const internals = pulumi.runtime as unknown as RuntimeInternals;

/**
 * Runs `program` as the Pulumi language host would (inside a root Stack resource) against the
 * mock monitor. One run per process: the SDK keeps its runtime state in process globals.
 */
export async function runUnderMocks(options: MockRunOptions): Promise<MockRun> {
  const project = options.project ?? "airbyte";
  const qualify = (k: string) => (k.includes(":") ? k : `${project}:${k}`);
  const config = Object.fromEntries(
    Object.entries(options.config ?? {}).map(([k, v]) => [qualify(k), v]),
  );
  pulumi.runtime.setAllConfig(config, (options.secretKeys ?? []).map(qualify));

  await pulumi.runtime.setMocks(
    {
      newResource: (args) => ({
        id: `${args.name}-id`,
        state: { ...args.inputs, ...mockComputedState(args.type, args.name, args.inputs) },
      }),
      call: (args) => args.inputs,
    },
    project,
    options.stack,
    options.preview !== undefined,
  );
  const existing = new Set(options.preview?.existing ?? []);

  const resources: RecordedResource[] = [];
  const monitor = pulumi.runtime.getMonitor() as unknown as RecordingMonitor;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) =>
    register(req, (err, resp) => {
      if (!err && resp) {
        const raw = internals.deserializeProperties(req.getObject());
        const { value, secretPaths } = unwrapSecrets(raw);
        resources.push({
          type: req.getType(),
          name: req.getName(),
          urn: resp.getUrn(),
          parent: req.getParent() || undefined,
          custom: req.getCustom(),
          provider: req.getProvider() || undefined,
          inputs: value as Record<string, unknown>,
          secretPaths,
          dependencies: req.getDependenciesList(),
          dependsOn: [],
          propertyDependencies: propertyDependenciesOf(req),
          protect: req.getProtect(),
          retainOnDelete: req.getRetainondelete() ?? false,
          customTimeouts: timeoutsOf(req),
          deletedWith: req.getDeletedwith() || undefined,
          deleteBeforeReplace: req.getDeletebeforereplace(),
          ignoreChanges: req.getIgnorechangesList(),
          replaceOnChanges: req.getReplaceonchangesList(),
          aliases: req.getAliasesList(),
        });
      }
      // What the engine hands back for a resource a preview would create: no id, and outputs only
      // where the provider echoes its inputs (Kubernetes: `Create` with preview returns the inputs;
      // bridged providers and random: computed attributes unknown).
      if (!err && resp && options.preview && req.getCustom() && !existing.has(resp.getUrn())) {
        resp.setId("");
        resp.setObject(req.getObject());
      }
      cb(err, resp);
    });

  const registeredOutputs = new Map<string, { value: unknown; secretPaths: string[] }>();
  const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
  monitor.registerResourceOutputs = (req, cb) => {
    const raw = req.getOutputs();
    if (raw)
      registeredOutputs.set(req.getUrn(), unwrapSecrets(internals.deserializeProperties(raw)));
    registerOutputs(req, cb);
  };

  // The register request merges `dependsOn` into `dependencies`; the option itself is seen only
  // by a transformation. The legacy stack transformation runs inside the SDK, so it works under
  // mocks (the newer `registerResourceTransform` needs the engine's callback server). Registered
  // before the program creates anything: children copy their parent's transformations when built.
  const explicitDeps: { resource: pulumi.Resource; dependsOn: unknown }[] = [];
  await pulumi.runtime.runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation((t) => {
      if (t.opts.dependsOn !== undefined)
        explicitDeps.push({ resource: t.resource, dependsOn: t.opts.dependsOn });
      return undefined;
    });
    return options.program();
  });
  await internals.waitForRPCs();

  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  for (const { resource, dependsOn } of explicitDeps) {
    const urn = String(await (resource.urn as unknown as OutputInternals).promise());
    const recorded = byUrn.get(urn);
    if (recorded) recorded.dependsOn = [...new Set(await dependsOnUrns(dependsOn))];
  }

  for (const r of resources) {
    const out = registeredOutputs.get(r.urn);
    if (out) {
      r.outputs = out.value as Record<string, unknown>;
      r.secretOutputPaths = out.secretPaths;
    }
  }
  const stack = resources.find((r) => r.type === "pulumi:pulumi:Stack");
  const secretOutputs = [
    ...new Set((stack?.secretOutputPaths ?? []).map((p) => p.split(/[.[]/)[0])),
  ];
  return { resources, outputs: stack?.outputs ?? {}, secretOutputs };
}
