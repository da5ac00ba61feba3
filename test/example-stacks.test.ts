/**
 * The example stacks (`Pulumi.v0/v1/v2.yaml`) are previewable as users meet them (issue 11,
 * item 5): no secret is stored in them, and each one's header names every secret its topology
 * requires with the command that sets it (`pulumi preview` stops at the first one missing).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ConfigError, parseConfig } from "../infra/config";
import { CONFIG_SCHEMA } from "../infra/config/schema";
import { configString } from "../infra/render/load-config";
import { mapSource } from "./support/config";

const root = path.resolve(__dirname, "..");
const SECRET_KEYS = Object.entries(CONFIG_SCHEMA)
  .filter(([, s]) => s.type === "string" && "secret" in s && s.secret)
  .map(([k]) => k);

describe.each(["v0", "v1", "v2"])("Pulumi.%s.yaml", (stack) => {
  const text = fs.readFileSync(path.join(root, `Pulumi.${stack}.yaml`), "utf8");
  const config = (parse(text) as { config: Record<string, unknown> }).config;
  const values = Object.fromEntries(
    Object.entries(config).map(([k, v]) => [k.replace(/^airbyte:/, ""), configString(v)]),
  );

  it("stores no secret, plain or encrypted", () => {
    for (const k of SECRET_KEYS) expect(values[k], k).toBeUndefined();
    expect(text).not.toMatch(/secure:/);
  });

  it("names every secret the topology requires, with `pulumi config set --secret`", () => {
    let problems: string[] = [];
    try {
      parseConfig(mapSource(values));
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems = e.problems;
    }
    const missing = SECRET_KEYS.filter((k) => problems.some((p) => p.startsWith(`airbyte:${k}:`)));
    // Everything else in the file is valid: only the secrets are left to set.
    expect(problems.filter((p) => !missing.some((k) => p.startsWith(`airbyte:${k}:`)))).toEqual([]);
    expect(missing).toContain("oauthClientSecret");
    const header = text.slice(0, text.indexOf("config:"));
    for (const k of missing)
      expect(header, k).toMatch(new RegExp(`pulumi config set --secret airbyte:${k} <`));
  });

  it("says how to preview it: a stack of one's own, and what preview needs", () => {
    const header = text.slice(0, text.indexOf("config:"));
    expect(header).toMatch(/pulumi stack init/);
    expect(header).toMatch(/docs\/runbook|README/);
  });
});
