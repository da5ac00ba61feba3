/**
 * `.github/workflows/preview.yml` (for users' repositories): its structure, and the script that
 * decides which stacks get a topology diff (`infra/render/diff-changed-stacks.ts`).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { topologyChanges, topologyOf } from "../infra/render/diff-changed-stacks";

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  if?: string;
  permissions?: Record<string, string>;
  strategy?: { matrix?: Record<string, unknown>; "fail-fast"?: boolean };
  steps: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  jobs: Record<string, Job>;
}

const file = path.resolve(__dirname, "../.github/workflows/preview.yml");
const text = fs.readFileSync(file, "utf8");
const wf = parse(text) as Workflow;
const { preview, "offline-diff": offline } = wf.jobs;
const uses = (job: Job, action: string) => job.steps.find((s) => s.uses?.startsWith(`${action}@`));

describe("preview.yml", () => {
  it("runs on pull requests, read-only by default, with the two jobs", () => {
    expect(Object.keys(wf.on)).toEqual(["pull_request"]);
    expect(wf.permissions).toEqual({ contents: "read" });
    expect(Object.keys(wf.jobs).sort()).toEqual(["offline-diff", "preview"]);
  });

  it("pins every action to a full commit SHA", () => {
    const all = Object.values(wf.jobs).flatMap((j) => j.steps.filter((s) => s.uses));
    expect(all.length).toBeGreaterThan(0);
    for (const s of all) expect(s.uses).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
    // Each pin says which release it is.
    for (const line of text.split("\n").filter((l) => /uses: /.test(l)))
      expect(line).toMatch(/# v\d+\.\d+\.\d+$/);
  });

  it("preview: a matrix over stacks running pulumi preview --diff, commented on the PR", () => {
    expect(preview.strategy?.matrix?.stack).toMatch(/fromJSON\(vars\.PULUMI_STACKS/);
    expect(preview.strategy?.["fail-fast"]).toBe(false);
    expect(preview.permissions).toEqual({ contents: "read", "pull-requests": "write" });
    expect(uses(preview, "actions/setup-node")?.with?.["node-version"]).toBe(20);
    expect(preview.steps.some((s) => s.run?.startsWith("npm ci"))).toBe(true);
    const step = uses(preview, "pulumi/actions");
    expect(step?.with).toMatchObject({
      command: "preview",
      "stack-name": "${{ matrix.stack }}",
      diff: true,
      "comment-on-pr": true,
    });
    expect(step?.env?.PULUMI_ACCESS_TOKEN).toBe("${{ secrets.PULUMI_ACCESS_TOKEN }}");
    const kube = preview.steps.find((s) => s.env?.KUBECONFIG_CONTENT);
    expect(kube?.env?.KUBECONFIG_CONTENT).toBe("${{ secrets.KUBECONFIG }}");
    // The kubeconfig reaches pulumi through a file, never the command line or the log.
    expect(kube?.run).toContain('> "$RUNNER_TEMP/kubeconfig"');
    // Fork pull requests get no secrets: skipped rather than failing.
    expect(preview.if).toContain("head.repo.full_name == github.repository");
  });

  it("offline-diff: no credentials, renders, diffs changed topologies and comments", () => {
    expect(JSON.stringify(offline)).not.toMatch(/secrets\./);
    expect(offline.permissions).toEqual({ contents: "read", "pull-requests": "write" });
    expect(uses(offline, "actions/checkout")?.with?.["fetch-depth"]).toBe(0);
    expect(offline.steps.some((s) => s.run?.startsWith("npm ci"))).toBe(true);
    const script = offline.steps.map((s) => s.run ?? "").join("\n");
    expect(script).toContain("infra/render/diff-changed-stacks.ts --base");
    expect(script).toMatch(/npm run --silent render -- --stack "\$stack"/);
    // Every changed stack file, not only a changed topology: the base branch's file → the PR's.
    expect(script).toMatch(/npm run --silent diff -- --stack "\$stack" --from-rev "\$BASE_SHA"/);
    expect(script).toContain(".fileChanged");
    const report = offline.steps.find((s) => s.run?.includes("--from-rev"));
    expect(report?.env?.BASE_SHA).toBe("${{ github.event.pull_request.base.sha }}");
    const comment = uses(offline, "actions/github-script");
    expect(comment?.with?.script).toContain("createComment");
    expect(comment?.with?.script).toContain("updateComment");
    // The job fails at the end (after commenting) when a render or a diff failed.
    expect(offline.steps.at(-1)?.if).toBe("steps.report.outputs.failed == '1'");
  });
});

describe("preview.yml as users meet it (issue 11, item 5)", () => {
  it("never runs a fork's pull request with prod credentials", () => {
    // pull_request_target (and workflow_run) run with the base repository's secrets even for forks.
    const code = text
      .split("\n")
      .filter((l) => !l.trim().startsWith("#"))
      .join("\n");
    expect(Object.keys(wf.on)).toEqual(["pull_request"]);
    expect(code).not.toMatch(/pull_request_target|workflow_run|issue_comment/);
    expect(preview.if).toContain(
      "github.event.pull_request.head.repo.full_name == github.repository",
    );
    expect(preview.if).toContain("github.actor != 'dependabot[bot]'");
    // Only the guarded job sees secrets.
    for (const [name, job] of Object.entries(wf.jobs))
      if (name !== "preview") expect(JSON.stringify(job), name).not.toMatch(/secrets\./);
  });

  it("installs the policy pack's own dependencies and passes the pack to the preview", () => {
    const steps = preview.steps.map((s) => s.run ?? "");
    const install = steps.findIndex((r) => /npm ci .*--prefix policy/.test(r));
    const run = preview.steps.findIndex((s) => s.uses?.startsWith("pulumi/actions@"));
    expect(install).toBeGreaterThan(-1);
    expect(install).toBeLessThan(run);
    expect(uses(preview, "pulumi/actions")?.with?.policyPacks).toBe("policy");
  });

  it("works with a self-managed backend: PULUMI_BACKEND_URL logs in there, with its passphrase", () => {
    const step = uses(preview, "pulumi/actions");
    expect(step?.with?.["cloud-url"]).toBe("${{ vars.PULUMI_BACKEND_URL }}");
    expect(step?.env?.PULUMI_BACKEND_URL).toBe("${{ vars.PULUMI_BACKEND_URL }}");
    expect(step?.env?.PULUMI_CONFIG_PASSPHRASE).toBe("${{ secrets.PULUMI_CONFIG_PASSPHRASE }}");
  });
});

describe("which stacks get a diff", () => {
  const stack = (topology?: string, key = "airbyte:topology") =>
    `config:\n${topology ? `  ${key}: ${topology}\n` : ""}  airbyte:prodHost: a.example.com\n`;

  it("reads airbyte:topology (qualified or not), else the declared default", () => {
    expect(topologyOf(stack("v1"), "airbyte")).toBe("v1");
    expect(topologyOf(stack("v2", "topology"), "airbyte")).toBe("v2");
    expect(topologyOf(stack(), "airbyte", "v0")).toBe("v0");
    expect(topologyOf(stack(), "airbyte")).toBeUndefined();
    expect(topologyOf("", "airbyte", "v0")).toBe("v0");
  });

  it("a changed topology is due; unchanged and new stack files are not", () => {
    expect(
      topologyChanges(
        [
          { stack: "prod", base: stack("v0"), head: stack("v1") },
          { stack: "staging", base: stack("v1"), head: stack("v1") },
          { stack: "new", head: stack("v1") },
          {
            stack: "sized",
            base: stack("v1"),
            head: `${stack("v1")}  airbyte:databaseStorageSize: 30Gi\n`,
          },
        ],
        "airbyte",
      ),
    ).toEqual([
      { stack: "prod", from: "v0", to: "v1", changed: true, fileChanged: true },
      { stack: "staging", from: "v1", to: "v1", changed: false, fileChanged: false },
      { stack: "new", to: "v1", changed: false, fileChanged: false },
      // Not a topology change, but a config change: it gets a diff too.
      { stack: "sized", from: "v1", to: "v1", changed: false, fileChanged: true },
    ]);
  });
});
