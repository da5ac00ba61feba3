/**
 * A Kubernetes control plane on loopback for the engine suite: etcd and kube-apiserver, no kubelet,
 * no controller-manager. The API server runs RBAC authorization, ServiceAccount token signing (a
 * key pair made at start) and its default admission chain, which includes PodSecurity; the test
 * authenticates with a static token in group system:masters.
 */
import { ChildProcess, spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import https from "node:https";
import path from "node:path";
import { freePort } from "../support/postgres";

export interface Cluster {
  server: string;
  kubeconfig: string;
  /** GET/DELETE a path of the API; JSON body or undefined for 404. */
  api<T = unknown>(apiPath: string, method?: string): Promise<T | undefined>;
  /** The Warning headers the server returned to Pulumi are not visible here; see the engine log. */
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});

function start(bin: string, args: string[], logFile: string): ChildProcess {
  const log = fs.openSync(logFile, "a");
  const child = spawn(bin, args, { stdio: ["ignore", log, log] });
  fs.closeSync(log);
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

function tail(file: string): string {
  try {
    return fs.readFileSync(file, "utf8").split("\n").slice(-25).join("\n");
  } catch {
    return "(no log)";
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(t);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

function request(
  url: string,
  ca: Buffer,
  token: string,
  method = "GET",
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      { method, ca, headers: { Authorization: `Bearer ${token}`, Accept: "application/json" } },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

async function waitFor(
  what: string,
  child: ChildProcess,
  logFile: string,
  probe: () => Promise<boolean>,
  ms = 120_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${what} exited during startup:\n${tail(logFile)}`);
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline)
      throw new Error(`${what} not ready in ${ms / 1000} s:\n${tail(logFile)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function startCluster(
  dir: string,
  bins: { etcd: string; kubeApiserver: string },
): Promise<Cluster> {
  fs.mkdirSync(dir, { recursive: true });
  const [etcdClient, etcdPeer, apiPort] = [await freePort(), await freePort(), await freePort()];

  const etcdLog = path.join(dir, "etcd.log");
  const etcd = start(
    bins.etcd,
    [
      "--name=engine",
      `--data-dir=${path.join(dir, "etcd")}`,
      `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=engine=http://127.0.0.1:${etcdPeer}`,
      "--unsafe-no-fsync",
      "--log-level=warn",
    ],
    etcdLog,
  );
  await waitFor("etcd", etcd, etcdLog, async () => {
    const res = await fetch(`http://127.0.0.1:${etcdClient}/health`);
    return res.ok;
  });

  // ServiceAccount token signing: a fresh key pair per run.
  const { publicKey, privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  const saPub = path.join(dir, "sa.pub");
  const saKey = path.join(dir, "sa.key");
  fs.writeFileSync(saPub, publicKey.export({ type: "spki", format: "pem" }));
  fs.writeFileSync(saKey, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  const token = crypto.randomBytes(24).toString("hex");
  const tokens = path.join(dir, "tokens.csv");
  fs.writeFileSync(tokens, `${token},engine-admin,engine-admin,"system:masters"\n`, {
    mode: 0o600,
  });
  const certDir = path.join(dir, "pki");

  const apiLog = path.join(dir, "kube-apiserver.log");
  const api = start(
    bins.kubeApiserver,
    [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--secure-port=${apiPort}`,
      `--cert-dir=${certDir}`,
      `--token-auth-file=${tokens}`,
      "--authorization-mode=RBAC",
      "--anonymous-auth=false",
      `--service-account-key-file=${saPub}`,
      `--service-account-signing-key-file=${saKey}`,
      "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
      // A range to allocate Service ClusterIPs from: bookkeeping only, nothing routes there.
      "--service-cluster-ip-range=10.96.0.0/16",
      // Endpoints may not hold a loopback address; nothing needs the `kubernetes` Service here.
      "--endpoint-reconciler-type=none",
      "--enable-admission-plugins=NamespaceLifecycle,LimitRanger,ServiceAccount,DefaultStorageClass,ResourceQuota,PodSecurity",
      "--allow-privileged=false",
      "--profiling=false",
    ],
    apiLog,
  );
  const server = `https://127.0.0.1:${apiPort}`;
  let ca: Buffer | undefined;
  await waitFor("kube-apiserver", api, apiLog, async () => {
    const crt = path.join(certDir, "apiserver.crt");
    if (!fs.existsSync(crt)) return false;
    ca = fs.readFileSync(crt);
    const res = await request(`${server}/readyz`, ca, token);
    return res.status === 200;
  });
  const caFile = path.join(certDir, "apiserver.crt");

  const kubeconfig = path.join(dir, "kubeconfig");
  fs.writeFileSync(
    kubeconfig,
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      "- name: engine",
      "  cluster:",
      `    server: ${server}`,
      `    certificate-authority: ${caFile}`,
      "users:",
      "- name: engine-admin",
      "  user:",
      `    token: ${token}`,
      "contexts:",
      "- name: engine",
      "  context: {cluster: engine, user: engine-admin}",
      "current-context: engine",
      "",
    ].join("\n"),
    { mode: 0o600 },
  );

  return {
    server,
    kubeconfig,
    async api<T>(apiPath: string, method = "GET"): Promise<T | undefined> {
      const res = await request(`${server}${apiPath}`, ca as Buffer, token, method);
      if (res.status === 404) return undefined;
      if (res.status >= 300) throw new Error(`${method} ${apiPath}: ${res.status} ${res.body}`);
      return JSON.parse(res.body) as T;
    },
    async stop() {
      await stopChild(api);
      await stopChild(etcd);
    },
  };
}
