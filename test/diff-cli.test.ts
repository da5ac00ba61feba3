/** `npm run diff` end to end, spawned as a user runs it, on the diff fixture project. */
import { spawn } from "node:child_process";
import * as path from "node:path";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { ResourceDiff, TopologyDiff } from "../infra/render/diff";
import { main } from "../infra/render/diff-cli";

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
      [
        "--import",
        "tsx",
        "infra/render/diff-cli.ts",
        "--project-dir",
        fixture,
        "--program",
        path.join(fixture, "program.ts"),
        ...args,
      ],
      { cwd: root },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const STACK = ["--stack", "fixture"];
const fixtureArgs = ["--project-dir", fixture, "--program", path.join(fixture, "program.ts")];

/** Usage errors need no program run: `main` in this process, stderr captured. */
async function usageOf(args: string[]): Promise<{ code: number; stderr: string }> {
  const spy = vi.spyOn(console, "error").mockImplementation(() => undefined);
  try {
    const code = await main([...fixtureArgs, ...args]);
    return { code, stderr: spy.mock.calls.map((c) => c.join(" ")).join("\n") };
  } finally {
    spy.mockRestore();
  }
}

let adds: Result, breaks: Result, allowedJson: Result, elsewhere: Result, failing: Result;
let badFlagProcess: Result;
beforeAll(async () => {
  // Each run records the program twice (two processes); two runs at a time on 2 cores.
  [adds, breaks] = await Promise.all([
    diff([...STACK, "--from", "v0", "--to", "v1"]),
    diff([...STACK, "--from", "v1", "--to", "v2"]),
  ]);
  [allowedJson, elsewhere] = await Promise.all([
    diff([
      ...STACK,
      "--from",
      "v1",
      "--to",
      "v2",
      "--allow-replace",
      "--allow-data-loss",
      "--json",
    ]),
    diff(["--stack", "elsewhere", "--from", "v1", "--to", "v2"]),
  ]);
  [failing, badFlagProcess] = await Promise.all([
    diff([...STACK, "--from", "v0", "--to", "v9"]),
    diff([...STACK, "--from", "v0", "--to", "v1", "--colour"]),
  ]);
});

describe("v0 → v1: only additions (and an update of prod)", () => {
  it("exits 0 and counts what changes", () => {
    expect(adds.stderr).toBe("");
    expect(adds.code).toBe(0);
    expect(adds.stdout).toContain(
      "Diff for stack fixture: Pulumi.fixture.yaml, topology v0 → Pulumi.fixture.yaml, topology v1",
    );
    expect(adds.stdout).toMatch(
      /\+ 5 to create {3}~ 1 to update {3}\+- 0 to replace {3}- 0 to delete/,
    );
  });

  it("lists creates with +, and updates with ~ and each changed field, prod marked", () => {
    expect(adds.stdout).toMatch(
      /^ {2}\+ {2}create {2}Deployment airbyte-replica\/airbyte-replica-server$/m,
    );
    expect(adds.stdout).toMatch(/^ {2}\+ {2}create {2}postgresql Role core-worker-01-role$/m);
    expect(adds.stdout).toMatch(
      /^ {2}~ {2}update {2}Deployment airbyte-prod\/airbyte-prod-server \[prod\]\n {13}spec\.replicas: 1 → 2$/m,
    );
  });

  it("groups entries under their component", () => {
    expect(adds.stdout).toMatch(/^AirbyteInstance airbyte-prod \[prod\]\n {2}~ {2}update/m);
  });
});

describe("v1 → v2: replaces and deletes", () => {
  it("exits 1 naming each replaced or deleted resource of prod, and how to accept", () => {
    expect(breaks.code).toBe(1);
    expect(breaks.stderr).toContain("3 resource(s) of prod would be replaced or deleted");
    expect(breaks.stderr).toContain("+- replace StatefulSet airbyte-prod/airbyte-prod-db");
    expect(breaks.stderr).toContain("+- replace Secret airbyte-prod/airbyte-prod-db-secrets");
    expect(breaks.stderr).toContain("+- replace random RandomPassword airbyte-prod-db-password");
    expect(breaks.stderr).toContain("--allow-replace");
    // Not prod: reported, but it does not block.
    expect(breaks.stderr).not.toContain("tools-settings");
    // Not prod either, but a replaced database is dropped: that blocks on its own.
    expect(breaks.stderr).toContain(
      "1 resource(s) lose data, break replication or make pulumi up fail:\n  +- replace postgresql Database core-worker-01-db\n      data loss: DROP DATABASE db-airbyte",
    );
    expect(breaks.stderr).toContain("--allow-data-loss");
  });

  it("shows replacements with +- and the reason, deletes with -", () => {
    expect(breaks.stdout).toMatch(
      /\+- replace StatefulSet airbyte-prod\/airbyte-prod-db \[prod\] \(deleted first: briefly absent\)\n {13}replaces because spec\.volumeClaimTemplates\[0\]\.spec\.resources\.requests\.storage changed \(kubernetes: StatefulSet spec\.volumeClaimTemplates\)\n {13}spec\.volumeClaimTemplates\[0\]\.spec\.resources\.requests\.storage: "1Gi" → "2Gi"/,
    );
    expect(breaks.stdout).toMatch(
      /replaces because length changed \(random: every input is force-new\)/,
    );
    expect(breaks.stdout).toMatch(
      /\+- replace postgresql Database core-worker-01-db\n {13}!! data loss: DROP DATABASE db-airbyte\n {13}replaces because template changed \(postgresql: Database template\)/,
    );
    expect(breaks.stdout).toMatch(/^ {2}- {2}delete {2}ConfigMap airbyte-tools\/tools-settings$/m);
    expect(breaks.stdout).toMatch(/note: Role name changes in place/);
    expect(breaks.stdout).toMatch(/option protect: true → false/);
  });

  it("masks secrets", () => {
    expect(breaks.stdout).toContain("stringData.password: [secret] → [secret]");
    expect(breaks.stdout).toContain("dbPassword: [secret] → [secret]");
    expect(breaks.stdout).not.toMatch(/mock[0-9a-f]{8}/);
  });

  it("--allow-replace accepts them (exit 0, still listed); --json prints the structured diff", () => {
    expect(allowedJson.code).toBe(0);
    expect(allowedJson.stderr).toContain("3 resource(s) of prod");
    expect(allowedJson.stderr).toContain("accepted by --allow-replace");
    expect(allowedJson.stderr).toContain("accepted by --allow-data-loss");
    const d = JSON.parse(allowedJson.stdout) as TopologyDiff & { from: string; to: string };
    expect(d).toMatchObject({
      from: "Pulumi.fixture.yaml, topology v1",
      to: "Pulumi.fixture.yaml, topology v2",
    });
    expect(d.counts).toEqual({
      create: 0,
      update: 2,
      replace: 4,
      delete: 1,
      same: 10,
      possibleReplace: 0,
    });
    const byName = (n: string) => d.entries.find((e: ResourceDiff) => e.name === n);
    expect(byName("airbyte-prod-db")).toMatchObject({
      op: "replace",
      prod: true,
      deleteBeforeReplace: true,
      owner: "AirbyteInstance airbyte-prod",
    });
    expect(byName("tools-settings")).toMatchObject({ op: "delete", prod: false });
    expect(byName("core-worker-01-role")).toMatchObject({ op: "update", prod: false });
    expect(d.prodReplacedOrDeleted.map((e) => e.name).sort()).toEqual([
      "airbyte-prod-db",
      "airbyte-prod-db-password",
      "airbyte-prod-db-secrets",
    ]);
  });

  it("prod follows the stack's prodNamespace", () => {
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stdout).toContain("StatefulSet airbyte-main/airbyte-prod-db [prod]");
  });
});

describe("failures and usage", () => {
  it("a side whose program fails: exit 1 with its message and a hint about the stack keys", () => {
    expect(failing.code).toBe(1);
    expect(failing.stderr).toContain(
      "the program failed for stack fixture on the new side (Pulumi.fixture.yaml, topology v9)",
    );
    expect(failing.stderr).toContain("airbyte:topology: v9 is not built yet");
    expect(failing.stderr).toContain("must hold every key the new side needs");
  });

  it("wrong usage exits 2 naming the flag and the fix", async () => {
    expect(badFlagProcess.code).toBe(2);
    expect(badFlagProcess.stderr).toContain("unknown flag --colour");
    expect(badFlagProcess.stderr).toContain("Usage: npm run diff");
    const cases: [string[], string | RegExp][] = [
      [
        [...STACK, "--from-rev", "main", "--from-file", "Pulumi.yaml"],
        "--from-rev and --from-file both set the old side's stack file",
      ],
      [[...STACK, "--from-file", "nowhere.yaml"], "--from-file nowhere.yaml: no such file"],
      [["--from", "v0", "--to", "v1"], "--stack is required"],
      [
        ["--stack", "nope", "--from", "v0", "--to", "v1"],
        /--stack nope: no stack file .*; available stacks: elsewhere, fixture/,
      ],
      [
        [...STACK, "--from", "v0", "--to", "v1", "--config", "topology=v2"],
        "--config topology: a side's topology is --to",
      ],
      [
        [...STACK, "--from", "v0", "--to", "v1", "--config", "novalue"],
        "--config novalue: expected key=value",
      ],
      [[...STACK, "--from", "v0", "--to", "v1", "--json=yes"], "--json takes no value"],
      [[...STACK, "--from", "v 0", "--to", "v1"], "--from v 0: a topology is a name"],
      [
        [...STACK, "--from-config", "topology=v1"],
        "--from-config topology: a side's topology is --from",
      ],
    ];
    for (const [args, message] of cases) {
      const r = await usageOf(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });
});
