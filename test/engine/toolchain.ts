/**
 * Where the engine toolchain lives (built by `npm run engine:build`, scripts/engine/build.sh) and a
 * check that names every missing piece, so the suite fails loudly instead of downloading anything.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export const REPO = path.resolve(__dirname, "../..");

/** `NAME=value` lines of scripts/engine/versions.sh (the one place versions are pinned). */
export function pinnedVersions(): Record<string, string> {
  const text = fs.readFileSync(path.join(REPO, "scripts/engine/versions.sh"), "utf8");
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Z0-9_]+)=(\S+)$/.exec(line.trim());
    if (m) out[m[1]] = m[2];
  }
  return out;
}

export interface Toolchain {
  cache: string;
  pulumi: string;
  etcd: string;
  kubeApiserver: string;
  /** Private PULUMI_HOME holding the providers under the npm SDKs' versions. */
  pulumiHome: string;
  /** The version each provider plugin is installed under (the npm package's `pulumi.version`). */
  plugins: Record<string, string>;
}

export function cacheDir(): string {
  return (
    process.env.AIRBYTE_ENGINE_CACHE ?? path.join(os.homedir(), ".cache", "airbyte-pulumi-engine")
  );
}

function sdkPluginVersion(name: string): string {
  const pkg = JSON.parse(
    fs.readFileSync(path.join(REPO, "node_modules", "@pulumi", name, "package.json"), "utf8"),
  ) as { pulumi?: { version?: string } };
  const v = pkg.pulumi?.version;
  if (!v) throw new Error(`node_modules/@pulumi/${name}/package.json has no pulumi.version`);
  return v;
}

/** The toolchain, or an error listing each missing piece and the command that builds it. */
export function requireToolchain(): Toolchain {
  const cache = cacheDir();
  const v = pinnedVersions();
  const bin = (name: string) => path.join(cache, "bin", name);
  const pulumiHome = path.join(cache, "pulumi-home");
  const missing: string[] = [];
  const wantBinary = (name: string, version: string) => {
    const file = bin(name);
    const stamp = `${file}.version`;
    if (!fs.existsSync(file)) missing.push(`${name} ${version} (${file} absent)`);
    else if (!fs.existsSync(stamp) || fs.readFileSync(stamp, "utf8").trim() !== version)
      missing.push(`${name} ${version} (${file} is not stamped ${version})`);
  };
  wantBinary("pulumi", v.PULUMI_VERSION);
  wantBinary("pulumi-language-nodejs", v.PULUMI_VERSION);
  wantBinary("etcd", v.ETCD_VERSION);
  wantBinary("kube-apiserver", v.KUBERNETES_VERSION);
  const plugins: Record<string, string> = {};
  for (const name of ["kubernetes", "random", "postgresql"]) {
    const version = sdkPluginVersion(name);
    plugins[name] = version;
    const file = path.join(
      pulumiHome,
      "plugins",
      `resource-${name}-v${version}`,
      `pulumi-resource-${name}`,
    );
    if (!fs.existsSync(file))
      missing.push(`plugin ${name} ${version} (not installed in ${pulumiHome})`);
  }
  if (!fs.existsSync(path.join(REPO, "policy", "node_modules", "@pulumi", "policy")))
    missing.push("policy/node_modules (run `npm ci` in policy/)");
  if (missing.length)
    throw new Error(
      `engine toolchain incomplete under ${cache}:\n  - ${missing.join("\n  - ")}\n` +
        "Build it with `npm run engine:build` (cold: about an hour on 2 cores; see README).",
    );
  return {
    cache,
    pulumi: bin("pulumi"),
    etcd: bin("etcd"),
    kubeApiserver: bin("kube-apiserver"),
    pulumiHome,
    plugins,
  };
}
