/**
 * The migration tool's image, checked without a Docker engine: migrations/Dockerfile read
 * statically (entrypoint, COPY sources and .dockerignore, user, pinned bases, no secrets), its
 * package manifest against the repository's, and the tool started the two ways it is installed
 * (the image's layout on PATH, and as an npm package bin) from a folder with no tsconfig.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { MIGRATION_ENTRYPOINT, SOURCE_URL_ENV } from "../../migrations/job-command";

const root = path.resolve(__dirname, "../..");
const read = (p: string) => fs.readFileSync(path.join(root, p), "utf8");

interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile instructions, continuation lines joined and comments dropped. */
function instructions(text: string): Instruction[] {
  const logical = text
    .split("\n")
    .filter((l) => !/^\s*#/.test(l))
    .join("\n")
    .replace(/\\\n/g, " ");
  return logical
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(" ") };
    });
}

/** Whether .dockerignore sends `file` (Docker's rules: last match wins, parents match too). */
function sentToBuilder(file: string, ignore: string): boolean {
  const patterns = ignore
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  const parts = path.posix.normalize(file).replace(/\/$/, "").split("/");
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join("/"));
  let sent = true;
  for (const raw of patterns) {
    const negated = raw.startsWith("!");
    const pattern = path.posix.normalize(raw.replace(/^!/, "")).replace(/\/$/, "");
    const re = new RegExp(
      "^" +
        pattern
          .split(/(\*\*\/|\*\*|\*|\?)/)
          .map((tok) =>
            tok === "**/"
              ? "(?:.*/)?"
              : tok === "**"
                ? ".*"
                : tok === "*"
                  ? "[^/]*"
                  : tok === "?"
                    ? "[^/]"
                    : tok.replace(/[.+^${}()|[\]\\]/g, "\\$&"),
          )
          .join("") +
        "$",
    );
    if (candidates.some((c) => re.test(c))) sent = negated;
  }
  return sent;
}

const dockerfile = instructions(read("migrations/Dockerfile"));
const ignore = read(".dockerignore");
const imageManifest = JSON.parse(read("migrations/package.json")) as {
  bin: Record<string, string>;
  dependencies: Record<string, string>;
  type: string;
};
const rootManifest = JSON.parse(read("package.json")) as {
  bin: Record<string, string>;
  dependencies: Record<string, string>;
};
const stages = dockerfile.filter((i) => i.op === "FROM");
const lastStage = dockerfile.slice(dockerfile.lastIndexOf(stages[stages.length - 1]));

describe("migrations/Dockerfile", () => {
  it("starts the tool by MIGRATION_ENTRYPOINT, linked to the manifest's bin", () => {
    const entry = lastStage.filter((i) => i.op === "ENTRYPOINT");
    expect(entry).toHaveLength(1);
    expect(JSON.parse(entry[0].args)).toEqual(MIGRATION_ENTRYPOINT);
    const [program] = MIGRATION_ENTRYPOINT;
    expect(Object.keys(imageManifest.bin)).toEqual([program]);
    const link = `ln -s /opt/airbyte-migrate/${imageManifest.bin[program]} /usr/local/bin/${program}`;
    expect(lastStage.some((i) => i.op === "RUN" && i.args.includes(link))).toBe(true);
    expect(lastStage.some((i) => i.op === "WORKDIR" && i.args === "/opt/airbyte-migrate")).toBe(
      true,
    );
  });

  it("copies only files that exist and that .dockerignore sends", () => {
    const copies = dockerfile.filter((i) => i.op === "COPY" && !i.args.includes("--from="));
    expect(copies.length).toBeGreaterThan(0);
    for (const c of copies) {
      const sources = c.args.split(/\s+/).slice(0, -1);
      for (const src of sources) {
        expect(fs.existsSync(path.join(root, src)), src).toBe(true);
        expect(sentToBuilder(src, ignore), src).toBe(true);
        if (fs.statSync(path.join(root, src)).isDirectory()) {
          // The sources the tool runs from must all be sent.
          expect(sentToBuilder(`${src}/cli.ts`, ignore)).toBe(true);
          expect(sentToBuilder(`${src}/lib/copy.ts`, ignore)).toBe(true);
        }
      }
    }
    // Nothing else of the repository (secrets in stack config, node_modules) reaches the builder.
    for (const other of ["Pulumi.v1.yaml", "node_modules/pg/package.json", "infra", ".git"]) {
      expect(sentToBuilder(other, ignore), other).toBe(false);
    }
    expect(sentToBuilder("migrations/node_modules/pg/index.js", ignore)).toBe(false);
  });

  it("runs as a numeric non-root user", () => {
    const users = lastStage.filter((i) => i.op === "USER");
    expect(users.length).toBeGreaterThan(0);
    const user = users[users.length - 1].args;
    expect(user).toMatch(/^\d+(:\d+)?$/);
    expect(Number(user.split(":")[0])).toBeGreaterThan(0);
    // Nothing after USER runs as root again.
    const after = lastStage.slice(lastStage.lastIndexOf(users[users.length - 1]));
    expect(after.filter((i) => i.op === "RUN")).toEqual([]);
  });

  it("pins its base images to a full version tag: Node 20 and a Debian with pg_dump >= 13", () => {
    const clientMajorOf: Record<string, number> = { bookworm: 15, trixie: 17 };
    const aliases = new Set<string>();
    for (const from of stages) {
      const [image, as, alias] = from.args.split(/\s+/);
      if (as?.toUpperCase() === "AS") aliases.add(alias);
      if (aliases.has(image) && image !== alias) continue;
      const m = /^node:(\d+)\.\d+\.\d+-(\w+)-slim$/.exec(image);
      expect(m, image).not.toBeNull();
      expect(Number(m?.[1])).toBe(20);
      expect(clientMajorOf[m?.[2] ?? ""]).toBeGreaterThanOrEqual(13);
    }
    const install = lastStage.find((i) => i.op === "RUN" && i.args.includes("apt-get install"));
    expect(install?.args).toMatch(/--no-install-recommends postgresql-client\b/);
  });

  it("installs production dependencies only, exactly as locked, and bakes in no secret", () => {
    const npm = dockerfile.filter((i) => i.op === "RUN" && /\bnpm\b/.test(i.args));
    expect(npm.map((i) => i.args)).toEqual([expect.stringMatching(/^npm ci --omit=dev\b/)]);
    for (const i of dockerfile.filter((x) => x.op === "ENV" || x.op === "ARG")) {
      expect(i.args).not.toMatch(/PASSWORD|SECRET|TOKEN|DATABASE_URL|postgres:\/\//i);
    }
    expect(dockerfile.some((i) => i.args.includes(SOURCE_URL_ENV))).toBe(false);
  });
});

describe("the image's package manifest", () => {
  it("pins the repository's versions and covers every package the tool imports", () => {
    for (const [name, version] of Object.entries(imageManifest.dependencies)) {
      expect(rootManifest.dependencies[name], name).toBe(version);
    }
    const imported = new Set<string>();
    const walk = (dir: string): void => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory() && e.name !== "node_modules") walk(p);
        else if (e.name.endsWith(".ts")) {
          for (const m of fs.readFileSync(p, "utf8").matchAll(/from "([^".][^"]*)"/g)) {
            const spec = m[1];
            if (spec.startsWith("node:")) continue;
            const parts = spec.split("/");
            imported.add(spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]);
          }
        }
      }
    };
    walk(path.join(root, "migrations"));
    for (const name of imported) expect(imageManifest.dependencies, name).toHaveProperty(name);
    // tsx loads the TypeScript sources at start.
    expect(imageManifest.dependencies).toHaveProperty("tsx");
    expect(imageManifest.type).toBe("commonjs");
    const lock = JSON.parse(read("migrations/package-lock.json")) as {
      packages: Record<string, { dependencies?: Record<string, string> }>;
    };
    expect(lock.packages[""].dependencies).toEqual(imageManifest.dependencies);
    expect(rootManifest.bin[MIGRATION_ENTRYPOINT[0]]).toBe(
      `migrations/${imageManifest.bin[MIGRATION_ENTRYPOINT[0]]}`,
    );
  });
});

describe("airbyte-migrate on PATH", () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "image-test-"));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  /** Run `program` found on PATH=`binDir` from a folder without tsconfig or package.json. */
  function runFromPath(binDir: string, args: string[]): { code: number; out: string } {
    const cwd = fs.mkdtempSync(path.join(tmp, "cwd-"));
    const env = { PATH: `${binDir}:${path.dirname(process.execPath)}:/usr/bin:/bin` };
    try {
      const out = execFileSync(MIGRATION_ENTRYPOINT[0], args, {
        cwd,
        env,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      });
      return { code: 0, out };
    } catch (err) {
      const e = err as { status: number; stdout: string; stderr: string };
      return { code: e.status, out: e.stdout + e.stderr };
    }
  }

  function expectWorking(binDir: string): void {
    const help = runFromPath(binDir, ["--help"]);
    expect(help.code, help.out).toBe(0);
    expect(help.out).toContain("Usage: airbyte-migrate");
    expect(help.out).toContain("--swap");
    const usage = runFromPath(binDir, ["copy", "--swap", "--resume"]);
    expect(usage.code).toBe(2);
    expect(usage.out).toContain("--swap and --resume contradict each other");
  }

  it("works in the image's layout: the migrations folder as a package, its bin linked", () => {
    const pkg = path.join(tmp, "opt", "airbyte-migrate");
    fs.cpSync(path.join(root, "migrations"), pkg, { recursive: true });
    fs.symlinkSync(path.join(root, "node_modules"), path.join(pkg, "node_modules"));
    const bin = path.join(tmp, "usr-local-bin");
    fs.mkdirSync(bin);
    fs.symlinkSync(
      path.join(pkg, imageManifest.bin[MIGRATION_ENTRYPOINT[0]]),
      path.join(bin, MIGRATION_ENTRYPOINT[0]),
    );
    expectWorking(bin);
  });

  it("works as the repository package's bin, linked by npm into node_modules/.bin", () => {
    const project = path.join(tmp, "project");
    const modules = path.join(project, "node_modules");
    fs.mkdirSync(path.join(modules, ".bin"), { recursive: true });
    fs.symlinkSync(root, path.join(modules, "airbyte-pulumi"));
    fs.symlinkSync(
      path.join("..", "airbyte-pulumi", rootManifest.bin[MIGRATION_ENTRYPOINT[0]]),
      path.join(modules, ".bin", MIGRATION_ENTRYPOINT[0]),
    );
    expectWorking(path.join(modules, ".bin"));
  });
});
