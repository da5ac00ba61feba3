/**
 * Benchmark of `render`: wall time and peak memory of rendering a stack, run as a user runs it
 * (a fresh `tsx infra/render/cli.ts` process each time). Target: under 3 s for v0 on 2 cores.
 *
 *   npx tsx bench/render.ts [--stack v0] [--runs 5] [--warmup 1] [--project-dir .] [--program f]
 *
 * Wall time is measured around the child process, so it includes tsx and SDK start-up. Peak
 * memory is the render process's own `maxRSS`, which it prints under `--stats`, as well as its CPU
 * time: on a shared machine wall time depends on the load, so both are reported with the load. Until the real
 * program and `Pulumi.v0.yaml` exist, the fixture project under test/fixtures/render is used.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";

const TARGET_MS = 3000;
const root = path.resolve(__dirname, "..");

interface Options {
  stack: string;
  runs: number;
  warmup: number;
  projectDir?: string;
  program?: string;
}

function parse(argv: string[]): Options {
  const opts: Options = { stack: "v0", runs: 5, warmup: 1 };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === "--stack") opts.stack = value;
    else if (flag === "--runs") opts.runs = Math.max(1, Number(value));
    else if (flag === "--warmup") opts.warmup = Math.max(0, Number(value));
    else if (flag === "--project-dir") opts.projectDir = value;
    else if (flag === "--program") opts.program = value;
    else
      throw new Error(
        `unknown flag ${flag}; known: --stack, --runs, --warmup, --project-dir, --program`,
      );
  }
  return opts;
}

/** The real project when it exists, else the render fixture (said so on the output). */
function target(opts: Options): { args: string[]; what: string } {
  if (opts.projectDir || opts.program) {
    const args = ["--stack", opts.stack];
    if (opts.projectDir) args.push("--project-dir", opts.projectDir);
    if (opts.program) args.push("--program", opts.program);
    return {
      args,
      what: `stack ${opts.stack} (${opts.projectDir ?? "."}, ${opts.program ?? "infra/program.ts"})`,
    };
  }
  const real =
    fs.existsSync(path.join(root, "infra/program.ts")) &&
    fs.existsSync(path.join(root, `Pulumi.${opts.stack}.yaml`));
  if (real) return { args: ["--stack", opts.stack], what: `stack ${opts.stack} (real program)` };
  const fixture = "test/fixtures/render";
  return {
    args: ["--stack", "fixture", "--project-dir", fixture, "--program", `${fixture}/program.ts`],
    what: `render fixture (infra/program.ts or Pulumi.${opts.stack}.yaml not there yet)`,
  };
}

interface Run {
  wallMs: number;
  /** CPU time of the render process (user + system): unlike wall time, load does not inflate it. */
  cpuMs: number;
  /** CPU time of the whole command, tsx launcher included (GNU time), when available. */
  totalCpuMs?: number;
  maxRssKb: number;
  phases: Record<string, number>;
}

/** GNU time, when installed, also counts the tsx launcher process that `--stats` cannot see. */
const GNU_TIME = "/usr/bin/time";

function renderOnce(args: string[], out: string): Promise<Run> {
  const timeFile = path.join(out, "..", `${path.basename(out)}.time`);
  const command = [path.join(root, "node_modules/.bin/tsx"), "infra/render/cli.ts", ...args];
  command.push("--out", out, "--stats");
  const withTime = fs.existsSync(GNU_TIME)
    ? [GNU_TIME, "-f", "%U %S", "-o", timeFile, ...command]
    : command;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(withTime[0], withTime.slice(1), {
      cwd: root,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      const wallMs = performance.now() - started;
      if (code !== 0) return reject(new Error(`render exited ${code}:\n${stderr}`));
      const line = stderr.split("\n").find((l) => l.startsWith("RENDER_STATS "));
      if (!line) return reject(new Error(`render printed no RENDER_STATS line:\n${stderr}`));
      const stats = JSON.parse(line.slice("RENDER_STATS ".length)) as Omit<Run, "wallMs">;
      let totalCpuMs: number | undefined;
      if (fs.existsSync(timeFile)) {
        const [user, sys] = fs.readFileSync(timeFile, "utf8").trim().split(/\s+/).map(Number);
        totalCpuMs = (user + sys) * 1000;
        fs.rmSync(timeFile);
      }
      resolve({
        wallMs,
        cpuMs: stats.cpuMs,
        totalCpuMs,
        maxRssKb: stats.maxRssKb,
        phases: stats.phases,
      });
    });
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function main(): Promise<void> {
  const opts = parse(process.argv.slice(2));
  const { args, what } = target(opts);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "bench-render-"));
  try {
    console.log(`render benchmark: ${what}, ${opts.runs} runs after ${opts.warmup} warm-up`);
    console.log(
      `machine: ${os.cpus().length} CPUs, node ${process.version}, load average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")}`,
    );
    for (let i = 0; i < opts.warmup; i++) await renderOnce(args, out);
    const runs: Run[] = [];
    for (let i = 0; i < opts.runs; i++) {
      const r = await renderOnce(args, out);
      runs.push(r);
      console.log(
        `  run ${i + 1}: ${sec(r.wallMs)} wall, ${sec(r.cpuMs)} CPU, ${(r.maxRssKb / 1024).toFixed(0)} MB peak RSS`,
      );
    }
    const walls = runs.map((r) => r.wallMs);
    const med = median(walls);
    const peak = Math.max(...runs.map((r) => r.maxRssKb));
    const typical = runs.find((r) => r.wallMs === walls.find((w) => w >= med)) ?? runs[0];
    let prev = 0;
    const phases = Object.entries(typical.phases)
      .map(([name, at]) => {
        const s = `${name} ${at - prev} ms`;
        prev = at;
        return s;
      })
      .join(", ");
    console.log(
      `wall time: min ${sec(Math.min(...walls))}, median ${sec(med)}, max ${sec(Math.max(...walls))}`,
    );
    const cpus = runs.map((r) => r.cpuMs);
    console.log(
      `CPU time: min ${sec(Math.min(...cpus))}, median ${sec(median(cpus))}, max ${sec(Math.max(...cpus))}`,
    );
    const totals = runs.map((r) => r.totalCpuMs).filter((t): t is number => t !== undefined);
    if (totals.length) console.log(`CPU time with the tsx launcher: median ${sec(median(totals))}`);
    console.log(`peak memory: ${(peak / 1024).toFixed(0)} MB RSS`);
    console.log(`phases (in-process, a median run): ${phases}`);
    console.log(
      `load average after: ${os.loadavg()[0].toFixed(1)} (wall times grow with it; CPU time does not)`,
    );
    console.log(
      `target ${sec(TARGET_MS)}: median wall is ${((med / TARGET_MS) * 100).toFixed(0)}% of it (${med <= TARGET_MS ? "within" : "OVER"})`,
    );
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`bench/render: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
