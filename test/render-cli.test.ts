/** `render` end to end, spawned as a user runs it, on the fixture project. */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";

const root = path.resolve(__dirname, "..");
const fixture = path.join(root, "test/fixtures/render");
const out = fs.mkdtempSync(path.join(os.tmpdir(), "render-cli-"));

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function render(args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(
      path.join(root, "node_modules/.bin/tsx"),
      [
        "infra/render/cli.ts",
        "--project-dir",
        fixture,
        "--program",
        path.join(fixture, "program.ts"),
        "--out",
        out,
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

// Spawned together: each run is a separate process, so they may overlap.
let ok: Result,
  withPolicy: Result,
  broken: Result,
  leak: Result,
  noConfig: Result,
  unknownStack: Result,
  badFlag: Result;
beforeAll(async () => {
  [ok, withPolicy, broken, leak, noConfig, unknownStack, badFlag] = await Promise.all([
    render(["--stack", "fixture", "--stats", "--no-policy"]),
    // Its own output root: two renders of one stack must not share a folder.
    render(["--stack", "fixture", "--no-diagram", "--out", path.join(out, "with-policy")]),
    render(["--stack", "broken", "--no-diagram", "--no-policy"]),
    render(["--stack", "leak", "--no-diagram", "--no-policy"]),
    render(["--stack", "noconfig", "--no-diagram"]),
    render(["--stack", "v9"]),
    render(["--stack", "fixture", "--colour"]),
  ]);
});
afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

const read = (stack: string, rel: string) => fs.readFileSync(path.join(out, stack, rel), "utf8");

describe("render --stack fixture", () => {
  it("exits 0", () => {
    expect(ok.stderr).not.toMatch(/problem|leak|error/i);
    expect(ok.code).toBe(0);
  });

  it("writes one manifest per object and a stream of all of them", () => {
    const manifests = fs.readdirSync(path.join(out, "fixture/manifests"), { recursive: true });
    expect(manifests).toContain(path.join("airbyte-prod", "deployment-airbyte-prod-server.yaml"));
    expect(manifests).toContain(path.join("_cluster", "namespace-airbyte-prod.yaml"));
    const docs = parseAllDocuments(read("fixture", "all.yaml")).map(
      (d) => d.toJS() as { kind: string },
    );
    // 11 objects plus the StatefulSet's data claim patch (lib/kube.ts statefulSet).
    expect(docs).toHaveLength(12);
    expect(docs[0].kind).toBe("Namespace");
  });

  it("writes the summary, also to stdout, with placeholders and check results", () => {
    const summary = read("fixture", "summary.md");
    expect(ok.stdout).toContain(summary.trim());
    expect(summary).toMatch(
      /\| Deployment +\| airbyte-prod-server +\| airbyte-prod +\| AirbytePlatform airbyte-prod +\|/,
    );
    expect(summary).toContain("`airbyte:oauthClientSecret`: encrypted in the stack file");
    expect(summary).toContain(
      "`airbyte:coreWorkerPassword`: declared secret, not set in the stack file",
    );
    expect(summary).toMatch(/\| dbPassword +\| \[secret\]/);
    expect(summary).toContain("Schema validation: passed for 11 of 12 objects");
    expect(summary).toContain("(server-side apply patch)");
    expect(summary).toMatch(/secret values appear only in 2 Secret objects/);
  });

  it("puts the placeholder (never a real secret) into the Secret", () => {
    expect(
      read("fixture", "manifests/airbyte-prod/secret-airbyte-prod-oauth2-proxy.yaml"),
    ).toContain("client-secret: placeholder-oauthClientSecret");
  });

  it("writes the diagram as Mermaid and SVG", () => {
    expect(read("fixture", "architecture.mmd")).toContain("flowchart LR");
    expect(read("fixture", "architecture.svg")).toContain("<svg");
  });

  it("reports its own wall time and peak memory with --stats", () => {
    const line = ok.stderr.split("\n").find((l) => l.startsWith("RENDER_STATS "));
    const stats = JSON.parse(line!.slice("RENDER_STATS ".length)) as {
      wallMs: number;
      maxRssKb: number;
    };
    expect(stats.wallMs).toBeGreaterThan(0);
    expect(stats.maxRssKb).toBeGreaterThan(0);
  });
});

describe("render failures", () => {
  it("exits 1 listing policy violations when a program breaks the pack", () => {
    // The fixture has no default-deny NetworkPolicy, which the pack requires of every namespace.
    expect(withPolicy.code).toBe(1);
    expect(withPolicy.stderr).toMatch(
      /policy violation\(s\):\n[\s\S]*\[namespace-default-deny\] Namespace 'airbyte-prod'/,
    );
    expect(withPolicy.stdout).toContain("Policy pack: **FAILED**");
  });

  it("exits 1 naming the object and the field of an invalid object", () => {
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain(
      "Deployment airbyte-prod/airbyte-prod-server: spec.template.spec.containers[0].ports[0].containerPort: must be integer",
    );
    // The output is still written, to look at.
    expect(read("broken", "summary.md")).toContain("Schema validation: **FAILED**");
  });

  it("exits 1 naming the ConfigMap field a secret leaked into", () => {
    expect(leak.code).toBe(1);
    expect(leak.stderr).toContain(
      "ConfigMap airbyte-prod/airbyte-prod-env: data.DATABASE_PASSWORD: contains generated RandomPassword airbyte-prod-db-password",
    );
  });

  it("prints the program's own error (naming the config key) and exits 1", () => {
    expect(noConfig.code).toBe(1);
    expect(noConfig.stderr).toContain("airbyte:ingressHost");
  });

  it("exits 2 on a stack without a stack file, listing the stacks there are", () => {
    expect(unknownStack.code).toBe(2);
    expect(unknownStack.stderr).toMatch(
      /--stack v9: no stack file .*Pulumi\.v9\.yaml; available stacks: broken, external, fixture/,
    );
  });

  it("exits 2 on an unknown flag, naming it", () => {
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toContain("unknown flag --colour");
  });
});
