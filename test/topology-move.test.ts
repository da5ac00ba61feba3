/**
 * Moving an environment from v0 to v1 only adds (DESIGN D1, issue 4): the `v1` example stack run
 * with `airbyte:topology` v0 and v1 (same stack file, so the v1 keys are already there, as in the
 * real workflow); every v0 resource keeps its URN, inputs, options and provider, and
 * `npm run diff -- --stack v1 --from v0 --to v1` exits 0 reporting only creates.
 */
import { spawn } from "node:child_process";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { RecordedResource } from "../infra/mock-runtime";
import type { TopologyDiff } from "../infra/render/diff";
import { diffTopologies, type SidesDiff } from "../infra/render/diff-run";

const root = path.resolve(__dirname, "..");

let sides: SidesDiff;
let cli: { code: number | null; stdout: string; stderr: string };
beforeAll(async () => {
  [sides, cli] = await Promise.all([
    diffTopologies({ stack: "v1", from: "v0", to: "v1" }),
    new Promise<typeof cli>((resolve) => {
      const child = spawn(
        "npm",
        ["run", "--silent", "diff", "--", "--stack", "v1", "--from", "v0", "--to", "v1", "--json"],
        { cwd: root },
      );
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.on("close", (code) => resolve({ code, stdout, stderr }));
    }),
  ]);
});

/** What must not move: everything Pulumi compares for a resource, except its outputs. */
const identity = (r: RecordedResource) => ({
  type: r.type,
  name: r.name,
  parent: r.parent,
  custom: r.custom,
  provider: r.provider,
  inputs: r.inputs,
  secretPaths: [...r.secretPaths].sort(),
  protect: r.protect,
  deleteBeforeReplace: r.deleteBeforeReplace,
  ignoreChanges: r.ignoreChanges,
  replaceOnChanges: r.replaceOnChanges,
  aliases: r.aliases,
});

describe("v0 → v1 on the v1 stack", () => {
  it("both sides ran their topology", () => {
    expect(sides.before.outputs.topology).toBe("v0");
    expect(sides.after.outputs.topology).toBe("v1");
    expect(sides.after.resources.length).toBeGreaterThan(sides.before.resources.length);
  });

  it("every v0 resource is in v1 under the same URN with identical inputs, options and provider", () => {
    const after = new Map(sides.after.resources.map((r) => [r.urn, r]));
    const missing = sides.before.resources.filter((r) => !after.has(r.urn)).map((r) => r.urn);
    expect(missing).toEqual([]);
    for (const r of sides.before.resources) {
      if (r.type === "pulumi:pulumi:Stack") continue;
      expect(identity(after.get(r.urn) as RecordedResource), r.urn).toEqual(identity(r));
    }
  });

  it("the diff has only creates", () => {
    const { counts, entries, prodReplacedOrDeleted } = sides.diff;
    expect(counts).toMatchObject({ update: 0, replace: 0, delete: 0 });
    expect(counts.create).toBeGreaterThan(0);
    expect(counts.same).toBe(sides.before.resources.length - 1); // all but the Stack
    expect(entries.every((e) => e.op === "create")).toBe(true);
    expect(prodReplacedOrDeleted).toEqual([]);
  });

  it("npm run diff -- --stack v1 --from v0 --to v1 exits 0 reporting only creates", () => {
    expect(cli.stderr).not.toMatch(/^diff:/m);
    expect(cli.code).toBe(0);
    const d = JSON.parse(cli.stdout) as TopologyDiff;
    expect(d.counts).toEqual(sides.diff.counts);
    expect(d.entries.map((e) => e.op)).toEqual(d.entries.map(() => "create"));
  });
});
