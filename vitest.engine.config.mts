import { defineConfig } from "vitest/config";

// `npm run test:engine`: the real Pulumi engine suite (test/engine/, README "Engine suite"). Not in
// `npm test`: it needs the toolchain `npm run engine:build` makes, and takes minutes.
export default defineConfig({
  test: {
    include: ["test/engine/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    pool: "forks",
    // One control plane and one engine at a time on 2 cores.
    fileParallelism: false,
    testTimeout: 900_000,
    hookTimeout: 300_000,
  },
});
