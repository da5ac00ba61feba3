/**
 * The v0 → v1 runbook says what a preview really checks (issue 11, item 5): the PostgreSQL
 * provider connects to core-worker-01 only inside a resource's create/read/update/delete
 * (terraform-provider-postgresql ff936b9 `helpers.go` `PGResourceFunc` → `Client.Connect()`;
 * `providerConfigure` only builds the client), so preview cannot catch a wrong address, and `up`
 * needs network access to it from where it runs.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const text = fs.readFileSync(path.resolve(__dirname, "../docs/runbook-v0-to-v1.md"), "utf8");
const section = (title: string) => {
  const start = text.indexOf(`## ${title}`);
  const end = text.indexOf("\n## ", start + 3);
  return text.slice(start, end < 0 ? undefined : end);
};

describe("docs/runbook-v0-to-v1.md", () => {
  it("does not claim that preview catches a wrong core-worker-01 address", () => {
    const preview = section("1. Preview");
    expect(preview).not.toMatch(
      /shows up here|caught by (the )?preview|preview (catches|detects)/i,
    );
    expect(preview).toMatch(/does \*\*not\*\* check\s+`core-worker-01`'s address/);
    expect(preview).toContain("psql");
  });

  it("says that up needs network access to core-worker-01 from where it runs", () => {
    expect(section("2. Up")).toMatch(
      /needs network access to `core-worker-01`[\s\S]*from where it\s+runs/,
    );
  });
});
