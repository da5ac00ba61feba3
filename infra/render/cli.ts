/**
 * `npm run render -- --stack v0`: runs the real program under the SDK's mock runtime and writes
 * what it would deploy to `out/<stack>/`: one YAML file per Kubernetes object, `all.yaml`,
 * `summary.md` and an architecture diagram (`architecture.mmd`, `architecture.svg`). Every object
 * is checked against the Kubernetes API schemas and every secret value must stay inside Secrets.
 *
 * Exit status: 0 rendered and every check passed; 1 the program failed or a check failed (the
 * output is still written, to look at); 2 wrong usage.
 */
// First: makes the SDK's import cheaper, so it must run before anything imports the SDK.
import "./lazy-sdk";
import * as fs from "node:fs";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { runUnderMocks, type MockRun } from "../mock-runtime";
import { buildDiagram } from "./diagram";
import { renderSvg, toDot, toMermaid } from "./diagram-output";
import { componentLabel, isAirbyteComponent, Ownership } from "./graph";
import { placeholderFor, type ResolvedConfig } from "./load-config";
import { kubeObjects, manifestPath, toYaml, toYamlStream, type KubeObject } from "./manifests";
import { collectSensitiveValues, formatLeak, scanSecrets, type SecretScan } from "./secrets-scan";
import { renderSummary } from "./summary";
import { UsageError, checkStackName, configPair, scanFlags } from "./flags";
import { loadStackInput } from "./stack-input";
import { checkObjects, formatFailure, type ValidationFailure } from "./validate";
import { formatViolations, runPolicies, type PolicyViolation } from "../../policy/offline";

export { UsageError };

/** Milliseconds since process start at the end of each phase, for `--stats`. */
export const phases: [string, number][] = [];
const mark = (name: string) => phases.push([name, Math.round(performance.now())]);

export const USAGE = `Usage: npm run render -- --stack <name> [options]

  --stack <name>         stack to render; reads Pulumi.<name>.yaml (required)
  --out <dir>            output root; files go to <dir>/<stack>/ (default: out)
  --config <key=value>   override a config value, repeatable (e.g. --config replicaCount=2)
  --no-diagram           skip the architecture diagram
  --no-policy            skip the policy pack (policy/), e.g. for a program other than ours
  --stats                print wall time and peak memory (RENDER_STATS line on stderr)
  --project-dir <dir>    where Pulumi.yaml and the stack files are (default: .)
  --program <file>       module exporting program() (default: infra/program.ts)
  --help                 show this help`;

export interface CliOptions {
  stack: string;
  out: string;
  config: Record<string, string>;
  diagram: boolean;
  policy: boolean;
  stats: boolean;
  projectDir: string;
  program: string;
}

const FLAGS = {
  value: ["--stack", "--out", "--config", "--project-dir", "--program"],
  bool: ["--no-diagram", "--no-policy", "--stats", "--help"],
  positionalHint: (arg: string) => `unexpected argument "${arg}"; pass the stack as --stack ${arg}`,
};

/** Parses argv (without node and script). Throws UsageError naming the flag and the fix. */
export function parseArgs(argv: string[]): CliOptions | "help" {
  const scanned = scanFlags(argv, FLAGS);
  if (scanned === "help") return "help";
  const { values, bools } = scanned;
  const opts: CliOptions = {
    stack: values.get("--stack") ?? "",
    out: values.get("--out") ?? "out",
    config: Object.fromEntries(scanned.config.map((c) => configPair(c, "topology=v1"))),
    diagram: !bools.has("--no-diagram"),
    policy: !bools.has("--no-policy"),
    stats: bools.has("--stats"),
    projectDir: values.get("--project-dir") ?? ".",
    program: values.get("--program") ?? "infra/program.ts",
  };
  checkStackName(opts.stack, "npm run render -- --stack v0");
  return opts;
}

/** Marks a directory as render output, so a later render may clear it without asking. */
const MARKER = ".render-output";

/** Empties `dir` if it is ours (or empty); refuses to delete anything else. */
export function prepareOutputDir(dir: string): void {
  if (fs.existsSync(dir)) {
    const entries = fs.readdirSync(dir);
    if (entries.length && !entries.includes(MARKER))
      throw new UsageError(
        `refusing to clear ${dir}: it is not a render output (no ${MARKER}); pick another --out`,
      );
    fs.rmSync(dir, { recursive: true, force: true });
  }
  fs.mkdirSync(path.join(dir, "manifests"), { recursive: true });
  fs.writeFileSync(
    path.join(dir, MARKER),
    "Written by `npm run render`; cleared on every render.\n",
  );
}

export interface RenderResult {
  objects: KubeObject[];
  failures: ValidationFailure[];
  skipped: { object: string; reason: string }[];
  secrets: SecretScan;
  /** What the policy pack (`policy/`) finds in the resources the program registered. */
  violations?: PolicyViolation[];
  summary: string;
  files: string[];
}

/** Checks and writes everything for one recorded run. */
export async function writeRender(
  run: MockRun,
  cfg: ResolvedConfig,
  opts: Pick<CliOptions, "stack" | "out" | "diagram"> & { policy?: boolean },
): Promise<RenderResult> {
  const dir = path.join(opts.out, opts.stack);
  const objects = kubeObjects(run.resources);
  const { failures, skipped } = checkObjects(objects);
  mark("validate");

  const secretConfig: Record<string, string> = Object.fromEntries(
    cfg.secretKeys.map((k) => [k, cfg.config[k]]),
  );
  // A placeholder may sit inside a structured value; look for it on its own too.
  for (const p of cfg.placeholders) secretConfig[`${p.key} (placeholder)`] = placeholderFor(p.key);
  const outputs = run.resources
    .filter((r) => r.outputs && (r.type === "pulumi:pulumi:Stack" || isAirbyteComponent(r)))
    .map((r) => ({
      owner: r.type === "pulumi:pulumi:Stack" ? "stack outputs" : `outputs of ${componentLabel(r)}`,
      values: r.outputs ?? {},
      secretPaths: r.secretOutputPaths ?? [],
    }));
  const secrets = scanSecrets(
    objects,
    collectSensitiveValues(run.resources, secretConfig),
    outputs,
  );

  mark("secret scan");
  const violations = opts.policy === false ? undefined : runPolicies(run.resources);
  mark("policy pack");
  const summary = renderSummary({
    stack: opts.stack,
    objects,
    ownership: new Ownership(run.resources),
    outputs: run.outputs,
    secretOutputs: run.secretOutputs,
    placeholders: cfg.placeholders,
    overridden: cfg.overridden,
    failures,
    skipped,
    secrets,
    violations,
  });

  prepareOutputDir(dir);
  const files: string[] = [];
  const write = (rel: string, text: string) => {
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    files.push(rel);
  };
  const yamls = objects.map(toYaml);
  objects.forEach((o, i) => write(path.join("manifests", manifestPath(o)), yamls[i]));
  write("all.yaml", toYamlStream(objects, yamls));
  write("summary.md", summary);
  mark("write manifests");
  if (opts.diagram) {
    const model = buildDiagram(run.resources, `Airbyte: stack ${opts.stack}`);
    write("architecture.mmd", toMermaid(model));
    const dot = toDot(model);
    write("architecture.dot", dot);
    mark("diagram model");
    write("architecture.svg", await renderSvg(dot));
    mark("diagram svg");
  }
  return { objects, failures, skipped, secrets, violations, summary, files };
}

function loadProgram(file: string): () => Promise<Record<string, unknown>> {
  const resolved = path.resolve(file);
  return async () => {
    // Required inside the run, after the mocks are in place, as the language host would.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(resolved) as { program?: () => Promise<Record<string, unknown>> };
    if (typeof mod.program !== "function") throw new Error(`${file} does not export program()`);
    return mod.program();
  };
}

export async function main(argv: string[]): Promise<number> {
  let opts: CliOptions | "help";
  let cfg: ResolvedConfig;
  try {
    opts = parseArgs(argv);
    if (opts === "help") {
      console.log(USAGE);
      return 0;
    }
    ({ cfg } = loadStackInput(opts));
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`render: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }

  mark("startup and config");
  let run: MockRun;
  try {
    run = await runUnderMocks({
      stack: opts.stack,
      config: cfg.config,
      secretKeys: cfg.secretKeys,
      program: loadProgram(opts.program),
    });
  } catch (err) {
    console.error(
      `render: the program failed for stack ${opts.stack}:\n${(err as Error).message ?? String(err)}`,
    );
    return 1;
  }

  mark("program under mocks");
  let result: RenderResult;
  try {
    result = await writeRender(run, cfg, opts);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`render: ${err.message}`);
      return 2;
    }
    throw err;
  }
  console.log(result.summary);
  const dir = path.join(opts.out, opts.stack);
  console.log(`Wrote ${result.objects.length} objects and ${result.files.length} files to ${dir}/`);
  let status = 0;
  if (result.failures.length) {
    console.error(`render: ${result.failures.length} object problem(s):`);
    for (const f of result.failures) console.error(`  ${formatFailure(f)}`);
    status = 1;
  }
  if (result.secrets.leaks.length) {
    console.error(`render: ${result.secrets.leaks.length} secret leak(s):`);
    for (const l of result.secrets.leaks) console.error(`  ${formatLeak(l)}`);
    status = 1;
  }
  if (result.violations?.length) {
    console.error(`render: ${result.violations.length} policy violation(s):`);
    console.error(formatViolations(result.violations).replace(/^/gm, "  "));
    status = 1;
  }
  return status;
}

if (require.main === module) {
  // The SDK records a source-mapped stack trace for every resource, which a render never uses:
  // without source maps that is about 0.25 s less CPU. RENDER_SOURCE_MAPS=1 keeps them, for
  // readable stacks when debugging the render itself.
  if (process.env.RENDER_SOURCE_MAPS !== "1") process.setSourceMapsEnabled(false);
  const argv = process.argv.slice(2);
  const stats = argv.includes("--stats");
  main(argv)
    .then((code) => {
      if (stats) {
        const wallMs = Math.round(performance.now());
        const usage = process.resourceUsage();
        const maxRssKb = usage.maxRSS;
        // CPU time does not grow when other processes share the machine; wall time does.
        const cpuMs = Math.round((usage.userCPUTime + usage.systemCPUTime) / 1000);
        console.error(
          `render: ${wallMs} ms wall, ${cpuMs} ms CPU, ${(maxRssKb / 1024).toFixed(0)} MB peak RSS; ` +
            phases.map(([n, t]) => `${n} @${t}`).join(", ") +
            `\nRENDER_STATS ${JSON.stringify({ wallMs, cpuMs, maxRssKb, phases: Object.fromEntries(phases) })}`,
        );
      }
      // The SDK may leave handles open after a mock run; the render is complete here.
      process.exit(code);
    })
    .catch((err: unknown) => {
      console.error(
        `render: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
      process.exit(1);
    });
}
