/** `policy/` says how to install the pack before `pulumi preview --policy-pack policy` (issue 11, item 5). */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const dir = path.resolve(__dirname, "../policy");

describe("policy/README.md", () => {
  it("documents npm ci in policy/ before the preview that loads the pack", () => {
    const text = fs.readFileSync(path.join(dir, "README.md"), "utf8");
    const install = text.indexOf("(cd policy && npm ci");
    const preview = text.indexOf("pulumi preview --diff --policy-pack policy");
    expect(install).toBeGreaterThan(-1);
    expect(preview).toBeGreaterThan(install);
    // npm ci needs the lock file it names.
    expect(fs.existsSync(path.join(dir, "package-lock.json"))).toBe(true);
  });
});
