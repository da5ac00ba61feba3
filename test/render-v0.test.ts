/** `npm run render -- --stack v0` on the real program: renders, validates and passes its checks. */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";

const root = path.resolve(__dirname, "..");
const out = fs.mkdtempSync(path.join(os.tmpdir(), "render-v0-"));
const result = spawnSync(
  path.join(root, "node_modules/.bin/tsx"),
  ["infra/render/cli.ts", "--stack", "v0", "--out", out],
  { cwd: root, encoding: "utf8" },
);
afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

const read = (rel: string) => fs.readFileSync(path.join(out, "v0", rel), "utf8");

describe("render --stack v0", () => {
  it("exits 0 with every object valid and no secret outside a Secret", () => {
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    // Every object but the data claims' server-side apply patches, which the schema cannot check.
    const [, passed, total] = /Schema validation: passed for (\d+) of (\d+) objects/.exec(
      result.stdout,
    ) ?? ["", "0", "-1"];
    const skipped = result.stdout.match(/not schema-checked: .*\n/g) ?? [];
    expect(skipped.every((l) => l.includes("(server-side apply patch)"))).toBe(true);
    expect(Number(passed) + skipped.length).toBe(Number(total));
    expect(result.stdout).toMatch(
      /Secret hygiene: passed; \d+ secret values appear only in \d+ Secret objects/,
    );
    expect(result.stdout).toContain("Policy pack: passed");
  });

  it("renders the v0 architecture: ingress, proxy, platform, database, Temporal, MinIO", () => {
    const docs = parseAllDocuments(read("all.yaml")).map(
      (d) => d.toJS() as { kind: string; metadata: { name: string } },
    );
    const kinds = new Set(docs.map((d) => d.kind));
    for (const k of [
      "Namespace",
      "Ingress",
      "Deployment",
      "StatefulSet",
      "Service",
      "Secret",
      "Job",
    ])
      expect(kinds).toContain(k);
    const mmd = read("architecture.mmd");
    for (const c of ["Ingress", "OAuth2Proxy", "AirbytePlatform", "Postgres", "Temporal", "Minio"])
      expect(mmd).toContain(`<b>${c}</b>`);
    // The request path and the platform's dependencies are edges found in the graph.
    expect(mmd).toMatch(/c_Ingress_\w+ -->\|[^|]*\| c_OAuth2Proxy_/);
    expect(mmd).toMatch(/c_OAuth2Proxy_\w+ -->\|[^|]*\| c_AirbytePlatform_/);
    for (const dep of ["Postgres", "Temporal", "Minio"])
      expect(mmd).toMatch(new RegExp(`c_AirbytePlatform_\\w+ -->\\|[^|]*\\| c_${dep}_`));
    expect(read("architecture.svg")).toContain("<svg");
  });

  it("lists the secrets that got placeholders and masks secret outputs", () => {
    const summary = read("summary.md");
    expect(summary).toContain("`airbyte:oauthClientSecret`");
    expect(summary).not.toMatch(/placeholder-oauthClientSecret/);
  });
});
