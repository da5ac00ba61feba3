/**
 * Everything one engine test file needs, on loopback: the control plane, core-worker-01 (a real
 * PostgreSQL serving TLS, as the stack's `coreWorkerSslMode: require` asks), the replication hub's
 * stand-in (a real PostgreSQL at the address v2's subscription dials: hubExternalHost 127.0.0.2,
 * the hub's fixed port 5432, forwarded to the server), and a Pulumi stack in a file backend.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { PgServer, startPostgres } from "../support/postgres";
import { enableTls } from "../replication/servers";
import { Cluster, startCluster } from "./cluster";
import { Engine, PlanStep, createEngine, setStackConfig } from "./engine";
import { REPO, Toolchain, requireToolchain } from "./toolchain";

export const PROD_NAMESPACE = "airbyte-prod";
export const HUB_ADDRESS = "127.0.0.2";
export const HUB_PORT = 5432;
export const SECRETS = {
  oauthClientSecret: "oauth-Secret-7f3a9c1e",
  coreWorkerAdminPassword: "core-worker-Admin-5b8d2e",
};

export interface World {
  root: string;
  tools: Toolchain;
  cluster: Cluster;
  coreWorker: PgServer;
  hub: PgServer;
  engine: Engine;
  setTopology(t: "v0" | "v1" | "v2"): Promise<void>;
  stop(): Promise<void>;
}

/** Listens on HUB_ADDRESS:HUB_PORT and pipes each connection to the hub stand-in. */
function forward(toPort: number): Promise<{ close(): Promise<void> }> {
  const open = new Set<net.Socket>();
  return new Promise((resolve, reject) => {
    const srv = net.createServer((c) => {
      const up = net.connect(toPort, "127.0.0.1");
      for (const s of [c, up]) {
        open.add(s);
        s.once("close", () => open.delete(s));
      }
      c.pipe(up).pipe(c);
      c.on("error", () => up.destroy());
      up.on("error", () => c.destroy());
    });
    srv.once("error", (err) =>
      reject(
        new Error(`hub stand-in: cannot listen on ${HUB_ADDRESS}:${HUB_PORT}: ${err.message}`),
      ),
    );
    srv.listen(HUB_PORT, HUB_ADDRESS, () =>
      resolve({
        // A subscription's walreceiver keeps its connection: end those too.
        close: () =>
          new Promise<void>((r) => {
            srv.close(() => r());
            for (const s of open) s.destroy();
          }),
      }),
    );
  });
}

export async function startWorld(): Promise<World> {
  const tools = requireToolchain();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "airbyte-engine-"));
  const cluster = await startCluster(path.join(root, "cluster"), tools);
  const [coreWorker, hub] = await Promise.all([
    startPostgres({ major: 17, password: SECRETS.coreWorkerAdminPassword }),
    startPostgres({ major: 17, settings: { wal_level: "logical" } }),
  ]);
  await Promise.all([enableTls(coreWorker), enableTls(hub)]);
  const forwarder = await forward(hub.port);
  const engine = await createEngine(root, tools, cluster.kubeconfig);

  // As the README's v2 stack file, with core-worker-01 and the hub at their loopback stand-ins.
  setStackConfig(engine, {
    topology: "v0",
    prodHost: "airbyte.example.com",
    oauthProvider: "google",
    oauthClientId: "000000000000-example.apps.googleusercontent.com",
    coreWorkerHost: "127.0.0.1",
    coreWorkerPort: coreWorker.port,
    coreWorkerSslMode: "require",
    replicaNamespace: "airbyte-replica",
    replicaHost: "airbyte-replica.example.com",
    replicaRole: "standby",
    migrationSchedule: "0 */6 * * *",
    migrationImage: "ghcr.io/example/airbyte-migrate:0.1.0",
    hubNamespace: "airbyte-replication",
    hubExternalHost: HUB_ADDRESS,
    objectMirrorSchedule: "*/15 * * * *",
    activeInstance: "prod",
    allowedSourceRanges: ["203.0.113.0/24"],
    oauthAllowedEmailDomains: ["example.com"],
    coreWorkerCidrs: ["127.0.0.1/32"],
  });
  await engine.config(SECRETS, true);

  return {
    root,
    tools,
    cluster,
    coreWorker,
    hub,
    engine,
    async setTopology(t) {
      setStackConfig(engine, { topology: t });
    },
    async stop() {
      await forwarder.close();
      await Promise.all([cluster.stop(), coreWorker.stop(), hub.stop()]);
      if (!process.env.ENGINE_KEEP) fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

// ------------------------------------------------------------------ plans

export type Op = "create" | "update" | "replace" | "delete";

/**
 * `type::name` of a URN. The engine's URN carries the whole chain of parent types
 * (`…::airbyte:instance:AirbyteInstance$airbyte:platform:AirbytePlatform$kubernetes:apps/v1:Deployment::n`)
 * where the SDK's mock runtime, which the offline diff records, puts only the nearest parent's;
 * plans are compared on this key.
 */
export function urnKey(urn: string): string {
  const parts = urn.split("::");
  const type = parts[2]?.split("$").pop() ?? "";
  return `${type}::${parts.slice(3).join("::")}`;
}

/** The engine's plan as urnKey -> op (a replacement's several steps collapse to `replace`). */
export function changesOf(steps: PlanStep[]): Map<string, Op> {
  const out = new Map<string, Op>();
  for (const s of steps) {
    let op: Op | undefined;
    if (s.op === "create") op = "create";
    else if (s.op === "update") op = "update";
    else if (s.op === "delete") op = "delete";
    else if (
      ["replace", "create-replacement", "delete-replaced", "discard-replaced"].includes(s.op)
    )
      op = "replace";
    if (!op) continue;
    if (s.urn.endsWith("pulumi:pulumi:Stack::airbyte-engine")) continue;
    const key = urnKey(s.urn);
    if (out.has(key) && out.get(key) !== op && out.get(key) !== "replace" && op !== "replace")
      throw new Error(`two resources share ${key}; compare on full URNs instead`);
    out.set(key, out.get(key) === "replace" ? "replace" : op);
  }
  return out;
}

interface StateResource {
  urn: string;
  type: string;
  custom?: boolean;
  parent?: string;
  inputs?: Record<string, unknown>;
}

/** Resources of the stack's current state (`pulumi stack export`). */
export async function stateResources(engine: Engine): Promise<StateResource[]> {
  const r = await engine.run(["stack", "export", "--stack", "engine"]);
  const doc = JSON.parse(r.stdout) as { deployment?: { resources?: StateResource[] } };
  return doc.deployment?.resources ?? [];
}

/**
 * Prod's resources in a state, by the rule docs/diff.md states (infra/render/diff.ts isProd): under
 * prod's AirbyteInstance or its AirbyteAuthSecrets; else a Kubernetes object no component owns
 * in prod's namespace, or that namespace.
 */
export function prodUrns(resources: StateResource[]): Set<string> {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const out = new Set<string>();
  for (const r of resources) {
    const chain: StateResource[] = [];
    for (let p: StateResource | undefined = r; p; p = p.parent ? byUrn.get(p.parent) : undefined)
      chain.push(p);
    const name = (x: StateResource) => x.urn.split("::").pop();
    if (
      chain.some(
        (c) =>
          (c.type.endsWith(":AirbyteInstance") && name(c) === "airbyte-prod") ||
          c.type.endsWith(":AirbyteAuthSecrets"),
      )
    ) {
      out.add(urnKey(r.urn));
      continue;
    }
    if (chain.some((c) => c !== r && !c.custom && c.type.startsWith("airbyte:"))) continue;
    if (!r.type.startsWith("kubernetes:")) continue;
    const meta = (r.inputs?.metadata ?? {}) as { namespace?: string; name?: string };
    if (meta.namespace === PROD_NAMESPACE) out.add(urnKey(r.urn));
    else if (r.type === "kubernetes:core/v1:Namespace" && meta.name === PROD_NAMESPACE)
      out.add(urnKey(r.urn));
  }
  return out;
}

// ------------------------------------------------------------------ offline diff

export interface OfflineDiff {
  entries: { op: Op; urn: string; prod: boolean; component: boolean }[];
  prodReplacedOrDeleted: unknown[];
  /** What the diff blocks on (data loss, replication), accepted only with `--allow-data-loss`. */
  hazardous: { op: Op; type: string; object: string; prod: boolean }[];
}

const run = promisify(execFile);

/**
 * `npm run diff -- --json` over the engine's own project and stack files; `allowDataLoss` is the
 * operator's answer to a report that blocks (the runbooks' moves back to v1 and v0).
 */
export async function offlineDiff(
  engine: Engine,
  from: string,
  to: string,
  allowDataLoss = false,
): Promise<OfflineDiff> {
  const { stdout } = await run(
    process.execPath,
    [
      path.join(REPO, "node_modules/tsx/dist/cli.mjs"),
      "infra/render/diff-cli.ts",
      "--stack",
      "engine",
      "--from",
      from,
      "--to",
      to,
      "--project-dir",
      engine.dir,
      "--json",
      ...(allowDataLoss ? ["--allow-data-loss"] : []),
    ],
    { cwd: REPO, maxBuffer: 64 * 1024 * 1024 },
  );
  return JSON.parse(stdout) as OfflineDiff;
}

/** The diff's changes as urnKey -> op. */
export function offlineChanges(d: OfflineDiff): Map<string, Op> {
  return new Map(d.entries.map((e) => [urnKey(e.urn), e.op]));
}
