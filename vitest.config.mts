import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The real-engine suite has its own config (vitest.engine.config.mts, `npm run test:engine`).
    exclude: ["test/engine/**", "**/node_modules/**"],
    // Installs pg_dump/psql once, before the workers start (see test/global-setup.ts).
    globalSetup: ["test/global-setup.ts"],
    // Forks, not threads: the Pulumi SDK serializes closures through the inspector (see README).
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
