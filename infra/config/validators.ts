/** Pure checks for config values; each returns an error fragment or undefined. */

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** RFC 1123 hostname with at least two labels, as an Ingress host must be. */
export function checkHostname(v: string): string | undefined {
  if (v.length > 253) return "is longer than 253 characters";
  const labels = v.split(".");
  if (labels.length < 2) return "must be a fully qualified DNS name such as airbyte.example.com";
  for (const l of labels) {
    if (l.length === 0 || l.length > 63 || !DNS_LABEL.test(l)) {
      return "is not a valid DNS hostname (lowercase letters, digits, '-' and '.', e.g. airbyte.example.com)";
    }
  }
  return undefined;
}

/** A Kubernetes namespace or object name (DNS-1123 label). */
export function checkDnsLabel(v: string): string | undefined {
  if (v.length > 63 || !DNS_LABEL.test(v)) {
    return "must be a DNS-1123 label: at most 63 lowercase letters, digits and '-', starting and ending alphanumeric";
  }
  return undefined;
}

function checkIpv4(addr: string): boolean {
  const parts = addr.split(".");
  return (
    parts.length === 4 &&
    parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255 && String(Number(p)) === p)
  );
}

function checkIpv6(addr: string): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(addr) || addr.split("::").length > 2) return false;
  const groups = addr.split(":").filter((g) => g !== "");
  const hasEmbeddedV4 = groups.length > 0 && groups[groups.length - 1].includes(".");
  if (hasEmbeddedV4 && !checkIpv4(groups[groups.length - 1])) return false;
  const hexGroups = hasEmbeddedV4 ? groups.slice(0, -1) : groups;
  if (!hexGroups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  const width = hexGroups.length + (hasEmbeddedV4 ? 2 : 0);
  return addr.includes("::") ? width < 8 : width === 8;
}

/** An IPv4 or IPv6 CIDR block with an explicit prefix length. */
export function checkCidr(v: string): string | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(v);
  const hint = "is not a CIDR block (e.g. 203.0.113.0/24 or 2001:db8::/32)";
  if (!m) return hint;
  const [, addr, prefix] = m;
  const bits = Number(prefix);
  if (checkIpv4(addr)) return bits <= 32 ? undefined : "has a prefix length over 32";
  if (checkIpv6(addr)) return bits <= 128 ? undefined : "has a prefix length over 128";
  return hint;
}

export function checkEmail(v: string): string | undefined {
  return /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(v) ? undefined : "is not an e-mail address";
}

export function checkEmailDomain(v: string): string | undefined {
  return v === "*" || checkHostname(v) === undefined
    ? undefined
    : "is not a domain (e.g. example.com, or * for any)";
}

export function checkHttpsUrl(v: string): string | undefined {
  try {
    const u = new URL(v);
    return u.protocol === "https:" ? undefined : "must be an https:// URL";
  } catch {
    return "is not a URL (e.g. https://accounts.example.com)";
  }
}

/** A Kubernetes resource quantity for storage, e.g. 20Gi. */
export function checkStorageQuantity(v: string): string | undefined {
  return /^[1-9]\d*(Ki|Mi|Gi|Ti|Pi|K|M|G|T|P)?$/.test(v)
    ? undefined
    : "is not a storage size (e.g. 20Gi)";
}

/**
 * A database server address: an IPv4 or IPv6 address, or a DNS name of one or more labels
 * (`core-worker-01` is a valid name on a private network, unlike an Ingress host).
 */
export function checkHostOrIp(v: string): string | undefined {
  if (checkIpv4(v) || checkIpv6(v)) return undefined;
  if (v.length <= 253 && v.split(".").every((l) => l.length <= 63 && DNS_LABEL.test(l))) {
    return undefined;
  }
  return "is not a host name or IP address (e.g. core-worker-01, db.example.com or 10.0.4.21)";
}

/** The address as a single-host CIDR block when `v` is an IP address, else undefined. */
export function hostCidr(v: string): string | undefined {
  if (checkIpv4(v)) return `${v}/32`;
  if (checkIpv6(v)) return `${v}/128`;
  return undefined;
}

/**
 * An image reference with an explicit version: `registry/repo:tag` (not `latest`) or
 * `registry/repo@sha256:<64 hex>`.
 */
export function checkPinnedImage(v: string): string | undefined {
  const digest = /^[a-z0-9][a-z0-9._\-/:]*@sha256:[0-9a-f]{64}$/;
  if (digest.test(v)) return undefined;
  const slash = v.lastIndexOf("/");
  const colon = v.lastIndexOf(":");
  if (colon <= slash) return "has no tag: pin a version, e.g. ghcr.io/acme/airbyte-migrate:0.1.0";
  const repo = v.slice(0, colon);
  const tag = v.slice(colon + 1);
  if (!/^[a-z0-9]+([._\-/:][a-z0-9]+)*$/.test(repo)) {
    return "is not an image reference (e.g. ghcr.io/acme/airbyte-migrate:0.1.0)";
  }
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) return `has an invalid tag '${tag}'`;
  if (tag === "latest") return "uses the tag 'latest': pin a version so every run is the same";
  return undefined;
}

const CRON_MACROS = [
  "@yearly",
  "@annually",
  "@monthly",
  "@weekly",
  "@daily",
  "@midnight",
  "@hourly",
];
const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

interface CronField {
  what: string;
  min: number;
  max: number;
  /** Names standing for numbers, the first for `min`. */
  names?: string[];
  /** `?` (no specific value) is allowed, as in Kubernetes' parser. */
  question?: boolean;
}

const CRON_FIELDS: CronField[] = [
  { what: "minute", min: 0, max: 59 },
  { what: "hour", min: 0, max: 23 },
  { what: "day of month", min: 1, max: 31, question: true },
  { what: "month", min: 1, max: 12, names: MONTHS },
  { what: "day of week", min: 0, max: 7, names: DAYS, question: true },
];

function cronValue(s: string, f: CronField): number | undefined {
  const named = f.names?.indexOf(s.toUpperCase()) ?? -1;
  if (named >= 0) return f.min + named;
  if (!/^\d{1,2}$/.test(s)) return undefined;
  const n = Number(s);
  return n >= f.min && n <= f.max ? n : undefined;
}

function checkCronField(field: string, f: CronField): string | undefined {
  const bad = (why: string) => `has an invalid ${f.what} field '${field}': ${why}`;
  if (f.question && field === "?") return undefined;
  for (const item of field.split(",")) {
    const [range, step, extra] = item.split("/");
    if (extra !== undefined) return bad(`'${item}' has two steps`);
    if (step !== undefined && !(/^\d{1,2}$/.test(step) && Number(step) >= 1)) {
      return bad(`step '${step}' is not a whole number of at least 1`);
    }
    if (range === "*") continue;
    const [lo, hi, more] = range.split("-");
    if (more !== undefined) return bad(`'${range}' is not a range`);
    const a = cronValue(lo, f);
    if (a === undefined) return bad(`'${lo}' is not in ${f.min}-${f.max}`);
    if (hi !== undefined) {
      const b = cronValue(hi, f);
      if (b === undefined) return bad(`'${hi}' is not in ${f.min}-${f.max}`);
      if (b < a) return bad(`range '${range}' ends before it starts`);
    }
  }
  return undefined;
}

/**
 * A Kubernetes CronJob schedule: five fields (minute hour day-of-month month day-of-week) with
 * `*`, lists, ranges, steps and month/day names, or a macro such as `@daily`. Time zones belong
 * in the CronJob's `timeZone`, not in the schedule, so `CRON_TZ=`/`TZ=` prefixes are refused.
 */
export function checkCronSchedule(v: string): string | undefined {
  const s = v.trim();
  if (s.startsWith("@")) {
    return CRON_MACROS.includes(s)
      ? undefined
      : `is not a known macro (one of ${CRON_MACROS.join(", ")})`;
  }
  if (/^(CRON_)?TZ=/.test(s)) return "must not set a time zone (schedules run in UTC)";
  const fields = s.split(/\s+/);
  if (fields.length !== 5) {
    return `has ${fields.length} field${fields.length === 1 ? "" : "s"}, not 5 (minute hour day-of-month month day-of-week, e.g. '0 */6 * * *')`;
  }
  for (let i = 0; i < 5; i++) {
    const problem = checkCronField(fields[i], CRON_FIELDS[i]);
    if (problem) return problem;
  }
  return undefined;
}

/** An IPv4 or IPv6 address, without a prefix length. */
export function checkIpAddress(v: string): string | undefined {
  return checkIpv4(v) || checkIpv6(v) ? undefined : "is not an IP address (e.g. 169.254.20.10)";
}

/** A TCP port number, 1-65535, in decimal. */
export function checkPort(v: string): string | undefined {
  return /^[1-9]\d{0,4}$/.test(v) && Number(v) <= 65535
    ? undefined
    : "is not a port number (1-65535, e.g. 6443)";
}
