/**
 * The command-line scanner shared by `render` and `diff`: `--flag value`, `--flag=value`, boolean
 * flags, repeatable `--config key=value`, and errors that name the flag and the fix.
 */

export class UsageError extends Error {}

export interface FlagSpec {
  /** Flags that take a value. */
  value: string[];
  /** Flags that take none (`--help` among them). */
  bool: string[];
  /** Value flags that may repeat besides `--config`; all their values are kept in order. */
  repeat?: string[];
  /** What to say about a bare word, e.g. a stack name without `--stack`. */
  positionalHint: (arg: string) => string;
}

export interface ScannedFlags {
  /** Last value of each value flag (`--config` is in `config`). */
  values: Map<string, string>;
  bools: Set<string>;
  /** `--config key=value`, repeatable, raw `key=value` strings in order. */
  config: string[];
  /** Values of the {@link FlagSpec.repeat} flags, in order. */
  repeated: Map<string, string[]>;
}

export function scanFlags(argv: string[], spec: FlagSpec): ScannedFlags | "help" {
  const out: ScannedFlags = {
    values: new Map(),
    bools: new Set(),
    config: [],
    repeated: new Map(),
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf("=");
    const flag = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    if (spec.bool.includes(flag)) {
      if (flag !== arg) throw new UsageError(`${flag} takes no value`);
      if (flag === "--help") return "help";
      out.bools.add(flag);
      continue;
    }
    if (!spec.value.includes(flag)) {
      throw new UsageError(
        arg.startsWith("-")
          ? `unknown flag ${arg}; known flags: ${[...spec.value, ...spec.bool].join(", ")}`
          : spec.positionalHint(arg),
      );
    }
    const value = flag !== arg ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || (flag === arg && value.startsWith("--")))
      throw new UsageError(
        `${flag} needs a value, e.g. ${flag === "--config" ? "--config key=value" : `${flag} <value>`}`,
      );
    if (flag === "--config") out.config.push(value);
    else if (spec.repeat?.includes(flag))
      out.repeated.set(flag, [...(out.repeated.get(flag) ?? []), value]);
    else out.values.set(flag, value);
  }
  return out;
}

/** Splits a `--config key=value`; `example` completes the error's hint. */
export function configPair(value: string, example: string): [string, string] {
  const sep = value.indexOf("=");
  if (sep <= 0)
    throw new UsageError(`--config ${value}: expected key=value, e.g. --config ${example}`);
  return [value.slice(0, sep), value.slice(sep + 1)];
}

/** A stack name as Pulumi allows it. */
export function checkStackName(stack: string, example: string): void {
  if (!stack) throw new UsageError(`--stack is required, e.g. ${example}`);
  if (!/^[A-Za-z0-9_.-]+$/.test(stack) || stack.startsWith("."))
    throw new UsageError(`--stack ${stack}: a stack name is letters, digits, '-', '_' or '.'`);
}
