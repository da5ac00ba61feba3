/**
 * The test servers start from any checkout: as root the server runs as the `postgres` OS user,
 * which cannot traverse a checkout in a 0700 home (`git clone ... /root/x`). Here the package is
 * reached through such a folder, as it would be from /root/x/node_modules.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { PgServer, serverPackageDir, startPostgres } from "./support/postgres";

const home = fs.mkdtempSync(path.join(os.tmpdir(), "home-0700-"));
let server: PgServer | undefined;

afterAll(async () => {
  await server?.stop();
  fs.rmSync(home, { recursive: true, force: true });
});

it("starts a server whose package sits under a 0700 folder", async () => {
  fs.chmodSync(home, 0o700);
  const modules = path.join(home, "x", "node_modules");
  fs.mkdirSync(modules, { recursive: true });
  const pkg = path.join(modules, "pg17");
  fs.symlinkSync(serverPackageDir(17), pkg);

  server = await startPostgres({ major: 17, packageDir: pkg });
  const c = await server.connect();
  try {
    const { rows } = await c.query<{ v: string }>(
      "SELECT current_setting('server_version_num') AS v",
    );
    expect(Number(rows[0].v)).toBeGreaterThanOrEqual(170000);
  } finally {
    await c.end();
  }
  if (process.getuid?.() === 0) {
    // The postmaster runs as another user from a copy every user can traverse.
    const exe = fs.readlinkSync(`/proc/${server.pid}/exe`);
    expect(exe.startsWith(path.join(os.tmpdir(), "airbyte-test-pg17-"))).toBe(true);
    expect(fs.statSync(path.dirname(path.dirname(exe))).mode & 0o005).toBe(0o005);
  }
}, 60_000);
