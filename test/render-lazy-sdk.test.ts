/** The render CLI's deferred SDK dependencies still work when something does use them. */
import "../infra/render/lazy-sdk";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { runUnderMocks } from "../infra/mock-runtime";
import { deferModule } from "../infra/render/lazy-sdk";

describe("deferred modules", () => {
  it("loads nothing until used, then behaves as the real module (class, call, properties)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lazy-sdk-"));
    const file = path.join(dir, "mod.js");
    fs.writeFileSync(
      file,
      "globalThis.__lazyLoaded = true; class C { constructor(x) { this.x = x; } } C.version = 3; module.exports = C;",
    );
    deferModule(file);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const C = require(file) as { new (x: number): { x: number }; version: number };
    expect((globalThis as { __lazyLoaded?: boolean }).__lazyLoaded).toBeUndefined();
    expect(new C(7).x).toBe(7);
    expect(C.version).toBe(3);
    expect((globalThis as { __lazyLoaded?: boolean }).__lazyLoaded).toBe(true);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("still serializes a dynamic provider (which needs the TypeScript parser) under mocks", async () => {
    const shim = path.join(
      path.dirname(require.resolve("@pulumi/pulumi/package.json")),
      "typescript-shim.js",
    );
    // The SDK is imported, yet the TypeScript compiler is not loaded: the stand-in is in place.
    expect((require.cache[shim]?.exports as { __esModule?: unknown }).__esModule).toBe(true);
    class Check extends pulumi.dynamic.Resource {}
    const provider: pulumi.dynamic.ResourceProvider = {
      async create(inputs: Record<string, unknown>) {
        return { id: "x", outs: inputs };
      },
    };
    const run = await runUnderMocks({
      stack: "test",
      program: async () => {
        new Check(provider, "lazy-check", { value: 1 });
        return {};
      },
    });
    const r = run.resources.find((x) => x.name === "lazy-check");
    expect(typeof r?.inputs.__provider).toBe("string");
    expect(String(r?.inputs.__provider)).toContain("create");
  });
});
