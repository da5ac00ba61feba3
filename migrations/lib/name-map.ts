/**
 * `--map SRC=DST` renaming shared by the commands that copy named things (databases, buckets):
 * parse the map, pair it with the list of sources, and refuse maps that would lose or merge data.
 */
import { usageError } from "./errors";

export interface NamePair {
  source: string;
  target: string;
}

/** What is being named, for messages and validation. */
export interface NameKind {
  /** `database`, `bucket`. */
  noun: string;
  /** The flag that lists the sources: `--databases`, `--buckets`. */
  listFlag: string;
  /** What happens to a source: `copied`, `mirrored`. */
  verb: string;
  /** A valid `--map` value for the error hint. */
  example: string;
  /** Validates one name, throwing a usage error that names `flag`; returns it. */
  check(name: string, flag: string): string;
}

export function parseNameMap(values: string[], kind: NameKind): Map<string, string> {
  const map = new Map<string, string>();
  for (const v of values) {
    const m = /^([^=]+)=([^=]+)$/.exec(v);
    if (!m) throw usageError(`--map "${v}" is not SOURCE=TARGET, e.g. --map ${kind.example}`);
    const from = kind.check(m[1], "--map");
    if (map.has(from)) {
      throw usageError(`--map gives source ${kind.noun} "${from}" twice: keep one`);
    }
    map.set(from, kind.check(m[2], "--map"));
  }
  const targets = [...map.values()];
  const dup = targets.find((t, i) => targets.indexOf(t) !== i);
  if (dup) throw usageError(`--map sends two ${kind.noun}s to "${dup}": each target name once`);
  return map;
}

/** Each source with its target name; every mapped source must be listed, no target twice. */
export function pairWithMap(
  sources: string[],
  map: Map<string, string>,
  kind: NameKind,
): NamePair[] {
  if (new Set(sources).size !== sources.length) {
    throw usageError(`${kind.listFlag} names a ${kind.noun} twice: list each once`);
  }
  for (const from of map.keys()) {
    if (!sources.includes(from)) {
      throw usageError(
        `--map names source ${kind.noun} "${from}", which ${kind.listFlag} does not list: add it`,
      );
    }
  }
  const pairs = sources.map((s) => ({ source: s, target: map.get(s) ?? s }));
  const targets = pairs.map((p) => p.target);
  const dup = targets.find((t, i) => targets.indexOf(t) !== i);
  if (dup) {
    throw usageError(
      `two source ${kind.noun}s would be ${kind.verb} into "${dup}": fix ${kind.listFlag} or --map`,
    );
  }
  return pairs;
}
