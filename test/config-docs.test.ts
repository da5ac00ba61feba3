import * as fs from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { pulumiConfigDeclarations } from "../infra/config/declarations";
import { pulumiYamlWithDeclarations, readmeWithConfigTable } from "../infra/config/sync-docs";

describe("config documentation", () => {
  it("Pulumi.yaml declares exactly the schema's keys (npm run sync-docs)", () => {
    const text = fs.readFileSync("Pulumi.yaml", "utf8");
    expect(parse(text).config).toEqual(pulumiConfigDeclarations());
    expect(pulumiYamlWithDeclarations(text)).toBe(text);
  });

  it("the README's key table matches the schema (npm run sync-docs)", () => {
    const readme = fs.readFileSync("README.md", "utf8");
    expect(readmeWithConfigTable(readme)).toBe(readme);
  });

  it("the project is airbyte on the Node.js runtime with TypeScript", () => {
    const project = parse(fs.readFileSync("Pulumi.yaml", "utf8"));
    expect(project.name).toBe("airbyte");
    expect(project.runtime).toEqual({ name: "nodejs", options: { typescript: true } });
    expect(project.main).toBe("infra/index.ts");
  });

  it("each example stack selects its own topology and holds no secret", () => {
    for (const t of ["v0", "v1", "v2"]) {
      const text = fs.readFileSync(`Pulumi.${t}.yaml`, "utf8");
      expect(parse(text).config["airbyte:topology"]).toBe(t);
      expect(text).not.toMatch(/secure:/);
    }
  });
});
