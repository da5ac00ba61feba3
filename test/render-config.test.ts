import * as path from "node:path";
import { describe, expect, it } from "vitest";
import {
  availableStacks,
  placeholderFor,
  readProjectFiles,
  resolveConfig,
} from "../infra/render/load-config";

const declarations = {
  "airbyte:topology": { type: "string", default: "v0" },
  "airbyte:replicas": { type: "integer", default: 2 },
  "airbyte:oauthClientSecret": { type: "string", secret: true },
  "airbyte:coreWorkerPassword": { type: "string", secret: true },
  "airbyte:dbPassword": { type: "string", secret: true },
  legacyShortForm: "x",
};

describe("stack config for an offline render", () => {
  const cfg = resolveConfig("airbyte", declarations, {
    "airbyte:topology": "v1",
    "airbyte:oauthClientSecret": { secure: "v1:abc:def" },
    "airbyte:dbPassword": "plain-in-stack-file",
    "airbyte:allowedCidrs": ["10.0.0.0/8"],
  });

  it("replaces an encrypted value with a placeholder, still secret", () => {
    expect(cfg.config["airbyte:oauthClientSecret"]).toBe("placeholder-oauthClientSecret");
    expect(cfg.secretKeys).toContain("airbyte:oauthClientSecret");
  });

  it("gives a declared secret the stack lacks a placeholder", () => {
    expect(cfg.config["airbyte:coreWorkerPassword"]).toBe(
      placeholderFor("airbyte:coreWorkerPassword"),
    );
    expect(cfg.placeholders).toEqual([
      { key: "airbyte:coreWorkerPassword", reason: "missing" },
      { key: "airbyte:oauthClientSecret", reason: "encrypted" },
    ]);
  });

  it("keeps a declared secret's plain value but marks it secret", () => {
    expect(cfg.config["airbyte:dbPassword"]).toBe("plain-in-stack-file");
    expect(cfg.secretKeys).toEqual([
      "airbyte:coreWorkerPassword",
      "airbyte:dbPassword",
      "airbyte:oauthClientSecret",
    ]);
  });

  it("applies declared defaults and passes values as the CLI does (strings, JSON)", () => {
    expect(cfg.config["airbyte:topology"]).toBe("v1");
    expect(cfg.config["airbyte:replicas"]).toBe("2");
    expect(cfg.config["airbyte:legacyShortForm"]).toBe("x");
    expect(cfg.config["airbyte:allowedCidrs"]).toBe('["10.0.0.0/8"]');
  });

  it("replaces encrypted leaves of structured config too, and marks the key secret", () => {
    const o = resolveConfig(
      "airbyte",
      {},
      {
        "airbyte:coreWorker": { host: "core-worker-01", password: { secure: "v1:x" } },
      },
    );
    expect(JSON.parse(o.config["airbyte:coreWorker"])).toEqual({
      host: "core-worker-01",
      password: "placeholder-coreWorker",
    });
    expect(o.secretKeys).toEqual(["airbyte:coreWorker"]);
    expect(o.placeholders).toEqual([{ key: "airbyte:coreWorker", reason: "encrypted" }]);
  });

  it("lets --config override anything, including a placeholder", () => {
    const o = resolveConfig(
      "airbyte",
      declarations,
      { "airbyte:oauthClientSecret": { secure: "x" } },
      {
        oauthClientSecret: "mine",
        topology: "v2",
      },
    );
    expect(o.config["airbyte:oauthClientSecret"]).toBe("mine");
    expect(o.config["airbyte:topology"]).toBe("v2");
    expect(o.placeholders.map((p) => p.key)).not.toContain("airbyte:oauthClientSecret");
    expect(o.overridden).toEqual(["airbyte:oauthClientSecret", "airbyte:topology"]);
  });

  it("reads Pulumi.yaml and a stack file, and lists the stacks there are", () => {
    const dir = path.join(__dirname, "fixtures/render");
    const files = readProjectFiles(dir, "fixture");
    expect(files.project).toBe("airbyte");
    expect(files.stackValues["airbyte:oauthClientSecret"]).toEqual({ secure: expect.any(String) });
    expect(() => readProjectFiles(dir, "nope")).toThrow(/no stack file .*Pulumi\.nope\.yaml/);
    expect(availableStacks(dir)).toEqual(["broken", "external", "fixture", "leak", "noconfig"]);
  });
});

describe("secrets only the config schema knows", () => {
  it("get placeholders for our program, whatever Pulumi.yaml declares", async () => {
    const { programSecretKeys, resolveConfig } = await import("../infra/render/load-config");
    const keys = programSecretKeys("infra/program.ts");
    expect(keys).toContain("coreWorkerAdminPassword");
    expect(keys).toContain("oauthClientSecret");
    expect(programSecretKeys("test/fixtures/render/program.ts")).toEqual([]);
    // Declared as a plain optional key with an empty default, as Pulumi.yaml must.
    const cfg = resolveConfig(
      "airbyte",
      { coreWorkerAdminPassword: { type: "string", default: "" } },
      {},
      {},
      keys,
    );
    expect(cfg.secretKeys).toContain("airbyte:coreWorkerAdminPassword");
    expect(cfg.placeholders.map((p) => p.key)).toContain("airbyte:coreWorkerAdminPassword");
  });
});
