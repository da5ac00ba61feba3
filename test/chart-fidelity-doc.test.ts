/** docs/chart-fidelity.md publishes the table the fidelity tests enforce, and README links it. */
import * as fs from "node:fs";
import * as path from "node:path";
import { expect, it } from "vitest";
import { DOC, renderDoc } from "./contracts/chart/publish";

it("is generated from the facts and the intended-differences table", async () => {
  expect(fs.readFileSync(DOC, "utf8"), "run `npx tsx test/contracts/chart/publish.ts`").toBe(
    await renderDoc(),
  );
});

it("is linked from the README", () => {
  const readme = fs.readFileSync(path.resolve(__dirname, "../README.md"), "utf8");
  expect(readme).toContain("(docs/chart-fidelity.md)");
});
