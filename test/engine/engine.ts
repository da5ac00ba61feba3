/**
 * Drives the real Pulumi CLI for the engine suite: a temporary project folder whose program is
 * test/engine/project/entry.ts, a file backend, a passphrase secrets provider, the providers from
 * the private PULUMI_HOME only. Every command is asynchronous so the test process keeps serving
 * (the hub address forwarder) while the engine runs.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { REPO, Toolchain } from "./toolchain";

export const STACK = "engine";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** One step of `pulumi preview --json`. */
export interface PlanStep {
  op: string;
  urn: string;
  type?: string;
  diffReasons?: string[];
  replaceReasons?: string[];
  detailedDiff?: Record<string, { kind: string }>;
  oldState?: { type?: string; inputs?: Record<string, unknown> };
  newState?: { type?: string; inputs?: Record<string, unknown> };
}

export interface Preview {
  steps: PlanStep[];
  changeSummary?: Record<string, number>;
  diagnostics?: { severity?: string; message?: string; urn?: string }[];
  policyViolations?: unknown[];
}

export interface Engine {
  dir: string;
  stateDir: string;
  stackFile: string;
  log: string;
  run(
    args: string[],
    opts?: { allowFail?: boolean; timeoutMs?: number; env?: NodeJS.ProcessEnv },
  ): Promise<RunResult>;
  config(values: Record<string, string>, secret?: boolean): Promise<void>;
  preview(extra?: string[], env?: NodeJS.ProcessEnv): Promise<Preview & { ms: number }>;
  up(extra?: string[]): Promise<RunResult>;
}

export const PASSPHRASE = "engine-suite-passphrase";

export async function createEngine(
  root: string,
  tools: Toolchain,
  kubeconfig: string,
): Promise<Engine> {
  const dir = path.join(root, "project");
  const stateDir = path.join(root, "state");
  fs.mkdirSync(dir, { recursive: true });
  fs.mkdirSync(stateDir, { recursive: true });
  // The product's project file with only `main` swapped for the test entry (config declarations,
  // runtime options and name unchanged); node_modules is the repository's.
  const project = YAML.parse(fs.readFileSync(path.join(REPO, "Pulumi.yaml"), "utf8")) as Record<
    string,
    unknown
  >;
  project.main = "index.js";
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), YAML.stringify(project));
  fs.writeFileSync(
    path.join(dir, "index.js"),
    `module.exports = require(${JSON.stringify(path.join(REPO, "test/engine/project/entry.ts"))});\n`,
  );
  fs.symlinkSync(path.join(REPO, "node_modules"), path.join(dir, "node_modules"));
  const log = path.join(root, "engine.log");

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PULUMI_HOME: tools.pulumiHome,
    PULUMI_BACKEND_URL: `file://${stateDir}`,
    PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    // Only the cache's plugins: none from PATH or beside the CLI.
    PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
    PULUMI_SKIP_CONFIRMATIONS: "true",
    PULUMI_NODEJS_TRANSPILE_ONLY: "true",
    PULUMI_NODEJS_TSCONFIG_PATH: path.join(REPO, "tsconfig.json"),
    KUBECONFIG: kubeconfig,
    // The language host lives beside the CLI.
    PATH: `${path.dirname(tools.pulumi)}:${process.env.PATH ?? ""}`,
  };
  delete env.PULUMI_ACCESS_TOKEN;

  const run: Engine["run"] = (args, opts = {}) =>
    new Promise((resolve, reject) => {
      const t0 = Date.now();
      const child = spawn(tools.pulumi, args, {
        cwd: dir,
        env: { ...env, ...opts.env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
      child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
      const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 420_000);
      child.on("error", reject);
      child.on("close", (code) => {
        clearTimeout(timer);
        const ms = Date.now() - t0;
        fs.appendFileSync(
          log,
          `\n$ pulumi ${args.join(" ")}  (exit ${code}, ${ms} ms)\n${stdout}\n${stderr}\n`,
        );
        const result = { code: code ?? -1, stdout, stderr, ms };
        if (result.code !== 0 && !opts.allowFail)
          reject(
            new Error(
              `pulumi ${args.join(" ")} exited ${result.code}:\n${stdout.slice(-6000)}\n${stderr.slice(-4000)}`,
            ),
          );
        else resolve(result);
      });
    });

  await run(["login", `file://${stateDir}`]);
  await run(["stack", "init", STACK, "--secrets-provider", "passphrase"]);
  const stackFile = path.join(dir, `Pulumi.${STACK}.yaml`);

  const engine: Engine = {
    dir,
    stateDir,
    stackFile,
    log,
    run,
    async config(values, secret = false) {
      for (const [key, value] of Object.entries(values)) {
        await run([
          "config",
          "set",
          ...(secret ? ["--secret"] : []),
          "--",
          `airbyte:${key}`,
          value,
        ]);
      }
    },
    async preview(extra = [], extraEnv = {}) {
      const r = await run(["preview", "--json", "--stack", STACK, ...extra], { env: extraEnv });
      return { ...(JSON.parse(r.stdout) as Preview), ms: r.ms };
    },
    up(extra = []) {
      return run(["up", "--yes", "--skip-preview", "--stack", STACK, ...extra]);
    },
  };
  return engine;
}

/**
 * Writes plain keys straight into the stack file, typed as Pulumi.yaml declares them (`pulumi
 * config set` stores strings); secrets go through `engine.config(..., true)`.
 */
export function setStackConfig(
  engine: Engine,
  values: Record<string, string | number | string[]>,
): void {
  const doc = YAML.parse(fs.readFileSync(engine.stackFile, "utf8")) as {
    config?: Record<string, unknown>;
  } & Record<string, unknown>;
  doc.config = { ...(doc.config ?? {}) };
  for (const [k, v] of Object.entries(values)) doc.config[`airbyte:${k}`] = v;
  fs.writeFileSync(engine.stackFile, YAML.stringify(doc));
}
