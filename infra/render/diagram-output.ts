/**
 * Writes the diagram model (`diagram.ts`) as Mermaid (for Markdown viewers) and as Graphviz DOT,
 * rendered to SVG offline by Graphviz compiled to WebAssembly.
 */
import type { DiagramModel, DiagramNode } from "./diagram";

/** At most `max` labels per edge, so a busy edge stays readable. */
function edgeText(labels: string[], max = 3): string[] {
  return labels.length > max
    ? [...labels.slice(0, max - 1), `+${labels.length - max + 1} more`]
    : labels;
}

function mermaidText(s: string): string {
  return s.replace(/"/g, "#quot;").replace(/</g, "#lt;").replace(/>/g, "#gt;");
}

/** Mermaid `flowchart LR` source of the model. */
export function toMermaid(m: DiagramModel): string {
  const lines = ["---", `title: ${JSON.stringify(m.title)}`, "---", "flowchart LR"];
  const nodeLine = (n: DiagramNode, indent: string) => {
    const text = [`<b>${mermaidText(n.title)}</b>`, n.subtitle, n.detail]
      .filter(Boolean)
      .map((s, i) => (i === 0 ? s : mermaidText(s)))
      .join("<br/>");
    const shape =
      n.kind === "external" ? [`[("`, `")]`] : n.kind === "entry" ? [`(["`, `"])`] : [`["`, `"]`];
    return `${indent}${n.id}${shape[0]}${text}${shape[1]}:::${n.kind}`;
  };
  for (const n of m.nodes.filter((x) => !x.group)) lines.push(nodeLine(n, "  "));
  for (const g of m.groups) {
    lines.push(`  subgraph ${g.id}["${mermaidText(g.label)}"]`);
    for (const n of m.nodes.filter((x) => x.group === g.id)) lines.push(nodeLine(n, "    "));
    lines.push("  end");
  }
  for (const e of m.edges) {
    const label = edgeText(e.labels).map(mermaidText).join("<br/>");
    lines.push(label ? `  ${e.from} -->|"${label}"| ${e.to}` : `  ${e.from} --> ${e.to}`);
  }
  lines.push(
    "  classDef component fill:#e8f0fe,stroke:#4a6fa5,color:#1a1a1a",
    "  classDef external fill:#fff4e0,stroke:#c07a00,color:#1a1a1a",
    "  classDef entry fill:#eeeeee,stroke:#555555,color:#1a1a1a",
  );
  return `${lines.join("\n")}\n`;
}

/** Fill and border per role; unknown roles share a neutral blue. */
const ROLE_COLOURS: Record<string, [string, string]> = {
  entry: ["#f2f2f2", "#666666"],
  ingress: ["#e6f4ea", "#2e7d32"],
  auth: ["#fce8e6", "#c5221f"],
  platform: ["#e8f0fe", "#1a56c4"],
  database: ["#fef7e0", "#b06000"],
  storage: ["#f3e8fd", "#7b1fa2"],
  workflow: ["#e0f7fa", "#00838f"],
  temporal: ["#e0f7fa", "#00838f"],
  migration: ["#ede7f6", "#4527a0"],
  secrets: ["#f1f3f4", "#5f6368"],
  replication: ["#ede7f6", "#4527a0"],
  external: ["#fff4e0", "#c07a00"],
};

function dotString(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

/** Graphviz DOT source of the same model: clusters per namespace, HTML labels. */
export function toDot(m: DiagramModel): string {
  const out: string[] = [];
  out.push("digraph architecture {");
  out.push(
    `  graph [rankdir=LR, fontname="Helvetica", fontsize=16, labelloc=t, label=<<b>${dotString(m.title)}</b>>, nodesep=0.45, ranksep=1.0, pad=0.4, bgcolor="white", newrank=true];`,
    `  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=12, margin="0.25,0.12", penwidth=1.4];`,
    `  edge [fontname="Helvetica", fontsize=10, color="#5f6368", fontcolor="#3c4043", arrowsize=0.8, penwidth=1.2];`,
  );
  const nodeLine = (n: DiagramNode, indent: string) => {
    const [fill, border] = ROLE_COLOURS[n.role] ?? ["#e8f0fe", "#4a6fa5"];
    const rows = [`<b>${dotString(n.title)}</b>`];
    if (n.subtitle) rows.push(dotString(n.subtitle));
    if (n.detail) rows.push(`<font point-size="10" color="#5f6368">${dotString(n.detail)}</font>`);
    const shape = n.kind === "external" ? "cylinder" : n.kind === "entry" ? "oval" : "box";
    const style = n.kind === "component" ? "rounded,filled" : "filled";
    return `${indent}${n.id} [label=<${rows.join("<br/>")}>, shape=${shape}, style="${style}", fillcolor="${fill}", color="${border}"];`;
  };
  for (const n of m.nodes.filter((x) => !x.group)) out.push(nodeLine(n, "  "));
  for (const g of m.groups) {
    out.push(`  subgraph cluster_${g.id} {`);
    out.push(
      `    label=<<b>${dotString(g.label)}</b>>; labeljust=l; fontsize=13; style="rounded,dashed"; color="#9aa0a6"; fontcolor="#3c4043"; margin=16;`,
    );
    for (const n of m.nodes.filter((x) => x.group === g.id)) out.push(nodeLine(n, "    "));
    out.push("  }");
  }
  for (const e of m.edges) {
    const label = edgeText(e.labels).map(dotString).join("<br/>");
    out.push(`  ${e.from} -> ${e.to}${label ? ` [label=<${label}>]` : ""};`);
  }
  out.push("}");
  return `${out.join("\n")}\n`;
}

/** Renders DOT to SVG with Graphviz compiled to WebAssembly: no browser, no system Graphviz. */
export async function renderSvg(dot: string): Promise<string> {
  // Loaded here, not at the top: the WASM module costs time only when a diagram is drawn.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const viz = await (require("@viz-js/viz") as typeof import("@viz-js/viz")).instance();
  return viz.renderString(dot, { format: "svg", engine: "dot" });
}
