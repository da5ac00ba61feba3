/**
 * `npm run diff` compares configurations, not only topologies (issue 11, item 4): a `--config`
 * override on the new side, the stack file at a git revision or another file on the old side;
 * and it exits non-zero on what loses data or makes `pulumi up` fail (v1 → v0 drops roles on
 * core-worker-01 that still own objects in the retained databases).
 */
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ResourceDiff, TopologyDiff } from "../infra/render/diff";

const root = path.resolve(__dirname, "..");
const fixture = path.join(root, "test/fixtures/diff");

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function diff(args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "infra/render/diff-cli.ts", ...args],
      {
        cwd: root,
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

type Json = TopologyDiff & { from: string; to: string };
const json = (r: Result) => JSON.parse(r.stdout) as Json;

/** A git repository holding the fixture project, its stack file committed at topology v1. */
let repo: string;
const git = (...args: string[]) =>
  execFileSync(
    "git",
    ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.com", ...args],
    { stdio: "pipe" },
  );

let storage: Result, back: Result, fromRev: Result, fromFile: Result, badRev: Result;
beforeAll(async () => {
  repo = fs.mkdtempSync(path.join(os.tmpdir(), "diff-rev-"));
  for (const f of ["Pulumi.yaml", "Pulumi.fixture.yaml"])
    fs.copyFileSync(path.join(fixture, f), path.join(repo, f));
  const stackFile = path.join(repo, "Pulumi.fixture.yaml");
  const v0 = fs.readFileSync(stackFile, "utf8");
  fs.writeFileSync(stackFile, v0.replace("airbyte:topology: v0", "airbyte:topology: v1"));
  git("init", "-q");
  git("add", ".");
  git("commit", "-qm", "v1");
  fs.writeFileSync(stackFile, v0.replace("airbyte:topology: v0", "airbyte:topology: v2"));
  const other = path.join(repo, "old.yaml");
  fs.writeFileSync(other, v0.replace("airbyte:topology: v0", "airbyte:topology: v1"));
  const fx = [
    "--project-dir",
    repo,
    "--program",
    path.join(fixture, "program.ts"),
    "--stack",
    "fixture",
  ];
  // Two at a time (2 cores); each records two sides.
  [storage, back] = await Promise.all([
    diff(["--stack", "v0", "--config", "airbyte:databaseStorageSize=30Gi", "--json"]),
    diff(["--stack", "v1", "--from", "v1", "--to", "v0", "--json"]),
  ]);
  [fromRev, fromFile] = await Promise.all([
    diff([...fx, "--from-rev", "HEAD", "--json"]),
    diff([...fx, "--from-file", other, "--allow-replace", "--allow-data-loss"]),
  ]);
  badRev = await diff([...fx, "--from-rev", "no-such-branch"]);
});
afterAll(() => fs.rmSync(repo, { recursive: true, force: true }));

describe("--config on the new side: prod's database storage", () => {
  it("shows prod's database change", () => {
    const d = json(storage);
    expect(d.from).toBe("Pulumi.v0.yaml");
    expect(d.to).toBe("Pulumi.v0.yaml, airbyte:databaseStorageSize=30Gi");
    const changed = d.entries.filter(
      (e) => e.prod && e.changes.some((c) => c.new === "30Gi" || String(c.new).includes("30Gi")),
    );
    expect(changed.length, storage.stdout.slice(0, 2000)).toBeGreaterThan(0);
  });

  it("does not exit 0 if that replaces anything of prod (a StatefulSet's claim templates)", () => {
    const d = json(storage);
    if (d.prodReplacedOrDeleted.length) {
      expect(storage.code).toBe(1);
      expect(storage.stderr).toContain("of prod would be replaced or deleted");
    } else {
      // Growth is an expansion of the claim (issue 11 item 1): an update, and exit 0.
      expect(storage.code).toBe(0);
    }
  });
});

describe("v1 → v0 on the v1 stack", () => {
  it("does not exit 0 while it drops roles or databases on core-worker-01 that are not retained", () => {
    const d = json(back);
    const pg = d.entries.filter(
      (e: ResourceDiff) =>
        e.op === "delete" && /^postgresql:index\/(role:Role|database:Database)$/.test(e.type),
    );
    // (Today v0 keeps core-worker-01's roles and databases, so there may be none: the rule
    // itself is proven on hand-built resources in diff-classify.test.ts.)
    const dropped = pg.filter((e) => !e.options.includes("retainOnDelete"));
    for (const e of dropped) expect(e.hazards.length, e.name).toBeGreaterThan(0);
    if (dropped.length) {
      expect(back.code).toBe(1);
      expect(back.stderr).toMatch(/DROP (ROLE|DATABASE)/);
    }
  });

  it("shows which deletes are only forgotten (retainOnDelete) and the Namespace's claims", () => {
    const d = json(back);
    const dbs = d.entries.filter((e) => e.type === "postgresql:index/database:Database");
    expect(dbs.every((e) => e.options.includes("retainOnDelete"))).toBe(true);
    const ns = d.entries.find((e) => e.object === "Namespace airbyte-replica");
    expect(ns?.op).toBe("delete");
    if (!ns?.options.includes("retainOnDelete")) {
      expect(ns?.hazards[0]?.message).toMatch(/with its claims: .*minio/);
      expect(back.code).toBe(1);
      expect(back.stderr).toContain("--allow-data-loss");
    }
  });
});

describe("the old side from git or from another file", () => {
  it("--from-rev reads the stack file as committed: v1 there, v2 in the working file", () => {
    expect(fromRev.stderr).not.toContain("program failed");
    const d = json(fromRev);
    expect(d.from).toBe("Pulumi.fixture.yaml at HEAD");
    expect(d.to).toBe("Pulumi.fixture.yaml");
    expect(d.outputs).toContainEqual({ name: "topology", old: "v1", new: "v2" });
    expect(d.prodReplacedOrDeleted.length).toBeGreaterThan(0);
    expect(fromRev.code).toBe(1);
  });

  it("--from-file compares another file with the working one", () => {
    expect(fromFile.stdout).toMatch(/^Diff for stack fixture: .*old\.yaml → Pulumi\.fixture\.yaml/);
    expect(fromFile.stdout).toContain('topology: "v1" → "v2"');
    expect(fromFile.code).toBe(0);
  });

  it("a revision without the file is a usage error naming the fix", () => {
    expect(badRev.code).toBe(2);
    expect(badRev.stderr).toContain("--from-rev no-such-branch: cannot read Pulumi.fixture.yaml");
    expect(badRev.stderr).toContain("use --from-file");
  });
});
