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
