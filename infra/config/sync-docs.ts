/**
 * Rewrites the generated parts of Pulumi.yaml (the `config:` declarations) and README.md (the key
 * table) from the schema: `npm run sync-docs`. Tests fail when either is out of step.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseDocument } from "yaml";
import { configTableMarkdown, pulumiConfigDeclarations } from "./declarations";

const ROOT = path.resolve(__dirname, "..", "..");
const TABLE = /<!-- config-table:start -->[\s\S]*<!-- config-table:end -->/;

export function readmeWithConfigTable(readme: string): string {
  return readme.replace(
    TABLE,
    `<!-- config-table:start -->\n${configTableMarkdown()}\n<!-- config-table:end -->`,
  );
}

export function pulumiYamlWithDeclarations(pulumiYaml: string): string {
  const doc = parseDocument(pulumiYaml);
  doc.set("config", pulumiConfigDeclarations());
  return doc.toString({ lineWidth: 0 });
}

if (require.main === module) {
  const readme = path.join(ROOT, "README.md");
  const project = path.join(ROOT, "Pulumi.yaml");
  fs.writeFileSync(readme, readmeWithConfigTable(fs.readFileSync(readme, "utf8")));
  fs.writeFileSync(project, pulumiYamlWithDeclarations(fs.readFileSync(project, "utf8")));
  console.log("updated README.md and Pulumi.yaml from infra/config/schema.ts");
}
