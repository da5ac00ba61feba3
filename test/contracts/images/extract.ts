/**
 * Reads what each Airbyte image needs at run time from its Dockerfile in airbyte-platform at a
 * tag, and writes `facts.json` beside this file: entrypoint and command, user and group, the
 * directories the image prepares for writing and the ones its entrypoint writes.
 *
 *   tsx test/contracts/images/extract.ts --repo PATH_TO_AIRBYTE_PLATFORM_GIT --tag v2.0.0
 *
 * Facts only (names, paths, ids); the Dockerfiles themselves are not copied.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { ImageFacts, ImagesFacts } from "./facts-types";

/** Published image → its Dockerfile's directory in airbyte-platform. */
export const IMAGE_SOURCES: Record<string, string> = {
  "airbyte/bootloader": "airbyte-bootloader",
  "airbyte/server": "airbyte-server",
  "airbyte/worker": "airbyte-workers",
  "airbyte/workload-launcher": "airbyte-workload-launcher",
  "airbyte/workload-api-server": "airbyte-workload-api-server",
  "airbyte/cron": "airbyte-cron",
  "airbyte/connector-builder-server": "airbyte-connector-builder-server",
  "airbyte/container-orchestrator": "airbyte-container-orchestrator",
  "airbyte/connector-sidecar": "airbyte-connector-sidecar",
  "airbyte/workload-init-container": "airbyte-workload-init-container",
  "airbyte/async-profiler": "airbyte-async-profiler",
};
/** Base images built in the same repository. */
const BASES: Record<string, string> = {
  "airbyte/airbyte-base-java-image": "airbyte-base-java-image",
  "airbyte/airbyte-base-java-python-image": "airbyte-base-java-python-image",
};

interface Parsed {
  from: string;
  user?: string;
  entrypoint?: string[];
  cmd?: string[];
  expose: number[];
  /** Directories made (`mkdir`) or handed to the image user (`chown`) in RUN steps. */
  prepared: string[];
  uid?: number;
  gid?: number;
  copiedEntrypoint?: string;
}

/** Dockerfile instructions, with heredoc RUN bodies joined and `${ARG}` defaults substituted. */
function parseDockerfile(text: string): Parsed {
  const args: Record<string, string> = {};
  const lines = text.split("\n");
  const out: Parsed = { from: "", expose: [], prepared: [] };
  const sub = (s: string) => s.replace(/\$\{?(\w+)\}?/g, (m, n: string) => args[n] ?? m);
  const json = (s: string) => JSON.parse(s) as string[];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    const [word, ...rest] = line.split(/\s+/);
    const body = rest.join(" ");
    switch (word?.toUpperCase()) {
      case "ARG": {
        const [n, v] = body.split("=");
        if (v !== undefined) args[n] = v;
        break;
      }
      case "FROM":
        out.from = sub(body.split(/\s+/)[0]);
        // Each stage starts over; only the last one is the image.
        out.user = undefined;
        out.expose = [];
        break;
      case "USER":
        out.user = body;
        break;
      case "ENTRYPOINT":
        out.entrypoint = json(body);
        break;
      case "CMD":
        out.cmd = json(body);
        break;
      case "EXPOSE":
        out.expose.push(...body.split(/\s+/).map(Number));
        break;
      case "ADD":
      case "COPY":
        if (/entrypoint\.sh\s+\/entrypoint\.sh$/.test(body))
          out.copiedEntrypoint = "/entrypoint.sh";
        break;
      case "RUN": {
        const steps: string[] = [];
        if (body.startsWith("<<EOF")) {
          while (lines[++i] !== undefined && lines[i].trim() !== "EOF") steps.push(lines[i].trim());
        } else steps.push(body);
        for (const s of steps) {
          const mk = /^mkdir (?:-p )?(\S+)$/.exec(s);
          const own = /^chown -R airbyte:airbyte (\S+)$/.exec(s);
          const uid = /useradd --uid (\d+)/.exec(s);
          const gid = /groupadd --gid (\d+)/.exec(s);
          for (const m of [mk, own]) if (m && !out.prepared.includes(m[1])) out.prepared.push(m[1]);
          if (uid) out.uid = Number(uid[1]);
          if (gid) out.gid = Number(gid[1]);
        }
        break;
      }
      default:
        break;
    }
  }
  return out;
}

function git(repo: string, ...a: string[]): string {
  return execFileSync("git", ["-C", repo, ...a], { encoding: "utf8" });
}

export function extract(repo: string, tag: string): ImagesFacts {
  const commit = git(repo, "rev-list", "-n", "1", tag).trim();
  const files: Record<string, string> = {};
  const read = (file: string) => {
    files[file] = git(repo, "rev-parse", `${tag}:${file}`).trim();
    return git(repo, "show", `${tag}:${file}`);
  };
  const entrypointScript = "airbyte-base-java-image/entrypoint.sh";
  const entrypointCommands = read(entrypointScript)
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  // Follows FROM through the bases built here, nearest first.
  const chain = (dir: string): Parsed[] => {
    const p = parseDockerfile(read(`${dir}/Dockerfile`));
    const base = BASES[p.from.split(":")[0]];
    return [p, ...(base ? chain(base) : [])];
  };
  const images: Record<string, ImageFacts> = {};
  for (const [image, dir] of Object.entries(IMAGE_SOURCES)) {
    const layers = chain(dir);
    const first = <K extends keyof Parsed>(k: K) => layers.find((l) => l[k] !== undefined)?.[k];
    const entrypoint = first("entrypoint") as string[] | undefined;
    const runsUpdateCaTrust =
      entrypoint?.[0] === "/entrypoint.sh" &&
      layers.some((l) => l.copiedEntrypoint) &&
      entrypointCommands.includes("update-ca-trust");
    images[image] = {
      dockerfile: `${dir}/Dockerfile`,
      from: layers[0].from,
      baseChain: layers.slice(1).map((l) => l.from),
      user: (first("user") as string | undefined) ?? "root",
      uid: first("uid") as number | undefined,
      gid: first("gid") as number | undefined,
      entrypoint: entrypoint ?? [],
      entrypointScript: runsUpdateCaTrust ? entrypointCommands : undefined,
      cmd: (first("cmd") as string[] | undefined) ?? [],
      expose: layers[0].expose,
      preparedForWriting: [...new Set(layers.flatMap((l) => l.prepared))].sort(),
      // What the entrypoint rewrites before the service starts.
      startupWrites: runsUpdateCaTrust ? ["/etc/pki/ca-trust"] : [],
    };
  }
  return {
    provenance: {
      repository: "github:airbytehq/airbyte-platform",
      tag,
      commit,
      files,
    },
    images,
  };
}

function main(argv: string[]): void {
  const flag = (n: string) => {
    const i = argv.indexOf(n);
    if (i < 0 || !argv[i + 1]) throw new Error(`${n} is required`);
    return argv[i + 1];
  };
  const facts = extract(flag("--repo"), flag("--tag"));
  const out = path.join(__dirname, "facts.json");
  fs.writeFileSync(out, `${JSON.stringify(facts, null, 2)}\n`);
  console.log(`wrote ${out}`);
}

if (require.main === module) main(process.argv.slice(2));
