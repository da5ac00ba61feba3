/** The result tables of `objects mirror` and `objects verify`, for people. */
import * as fmt from "../lib/format";
import type { Counts, Scope, WalkResult } from "./walk";

function where(s: Scope): string {
  const bucket =
    s.sourceBucket === s.targetBucket ? s.sourceBucket : `${s.sourceBucket} -> ${s.targetBucket}`;
  return s.prefix ? `${bucket} ${s.prefix}` : bucket;
}

const n = fmt.count;

function mirrorRow(label: string, c: Counts): string[] {
  return [
    label,
    n(c.copied),
    fmt.bytes(c.bytes),
    n(c.equal),
    n(c.deleted),
    n(c.extra),
    n(c.vanished),
    n(c.errors),
  ];
}

function verifyRow(label: string, c: Counts): string[] {
  return [label, n(c.equal), n(c.missing), n(c.different), n(c.extra)];
}

export function formatWalk(r: WalkResult): string {
  const mirror = r.command === "mirror";
  const header = mirror
    ? [
        "bucket / prefix",
        "copied",
        "bytes",
        "unchanged",
        "deleted",
        "kept extra",
        "vanished",
        "failed",
      ]
    : ["bucket / prefix", "equal", "missing on target", "different", "extra on target"];
  const row = mirror ? mirrorRow : verifyRow;
  const rows = r.scopes.map((s) => row(where(s), s));
  if (r.scopes.length > 1) rows.push(row("total", r.totals));
  const lines = [fmt.table(header, rows)];
  if (r.examples.length > 0) {
    lines.push("", mirror ? "failed objects:" : "differences:");
    for (const e of r.examples) lines.push(`  ${e.bucket}/${e.key}: ${e.message}`);
  }
  const verdict = mirror
    ? r.ok
      ? "mirror OK"
      : `mirror FAILED for ${n(r.totals.errors)} object(s): run it again to retry them`
    : r.ok
      ? "verify OK: the target holds a copy of every source object"
      : "verify found differences: run objects mirror";
  lines.push("", `${verdict} (${r.seconds.toFixed(1)} s)`);
  return lines.join("\n");
}
