/**
 * What a real `pulumi preview` shows as unknown (issue 11, "Why" 6): the example stacks recorded
 * as a first preview (nothing exists yet, so every id and provider-computed output is unknown, as
 * the engine hands them back) must still carry prod's host, known, everywhere the program puts it:
 * Ingress rules and TLS hosts, the OAuth2 redirect URL, Airbyte's URLs. A host routed through an
 * Output a preview cannot know shows `[unknown at preview]` there and fails this test.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { RecordedResource } from "../infra/mock-runtime";
import { UNKNOWN_AT_PREVIEW } from "../infra/preview-values";
import { recordSide, type RecordedSide } from "../infra/render/diff-run";

const HOST = "airbyte.example.com"; // airbyte:prodHost in Pulumi.v0/v1/v2.yaml
const STACKS = ["v0", "v1", "v2"] as const;

type Seg = string | number;
/** Paths of strings naming the host itself (not `hub.airbyte.example.com`). */
function hostPaths(v: unknown, segs: Seg[] = [], out: Seg[][] = []): Seg[][] {
  if (
    typeof v === "string" &&
    new RegExp(`(^|[^\\w.-])${HOST.replace(/\./g, "\\.")}($|[^\\w.-])`).test(v)
  )
    out.push(segs);
  else if (Array.isArray(v)) v.forEach((e, i) => hostPaths(e, [...segs, i], out));
  else if (v && typeof v === "object")
    for (const [k, e] of Object.entries(v)) hostPaths(e, [...segs, k], out);
  return out;
}
const at = (v: unknown, segs: Seg[]) =>
  segs.reduce<unknown>(
    (c, k) =>
      c !== null && typeof c === "object" ? (c as Record<Seg, unknown>)[k] : UNKNOWN_AT_PREVIEW,
    v,
  );

const known: Record<string, RecordedSide> = {};
const preview: Record<string, RecordedSide> = {};
beforeAll(async () => {
  for (const stack of STACKS) {
    [known[stack], preview[stack]] = await Promise.all([
      recordSide({ stack }),
      recordSide({ stack }, undefined, []),
    ]);
  }
});

describe.each(STACKS)("stack %s, first preview", (stack) => {
  it("registers the same resources as the run with every value known", () => {
    expect(preview[stack].resources.map((r) => r.urn).sort()).toEqual(
      known[stack].resources.map((r) => r.urn).sort(),
    );
  });

  it("models the preview: generated passwords are unknown, so the Secrets holding them are", () => {
    const unknownAnywhere = preview[stack].resources.filter((r) =>
      JSON.stringify(r.inputs).includes(UNKNOWN_AT_PREVIEW),
    );
    expect(unknownAnywhere.some((r) => r.type === "kubernetes:core/v1:Secret")).toBe(true);
  });

  it("prod's host is known wherever the program uses it", () => {
    const byUrn = new Map(preview[stack].resources.map((r) => [r.urn, r]));
    const uses: string[] = [];
    const unknown: string[] = [];
    for (const r of known[stack].resources as RecordedResource[]) {
      for (const segs of hostPaths(r.inputs)) {
        const where = `${r.name} ${segs.join(".")}`;
        uses.push(where);
        if (at(byUrn.get(r.urn)?.inputs, segs) !== at(r.inputs, segs)) unknown.push(where);
      }
    }
    expect(uses.some((u) => /ingress .*spec\.rules\.0\.host/.test(u))).toBe(true);
    expect(uses.some((u) => /spec\.tls\.0\.hosts\.0/.test(u))).toBe(true);
    expect(unknown).toEqual([]);
  });
});
