/**
 * Ownership in the recorded resource graph: which `airbyte:*` component a resource belongs to.
 * Shared by the summary (a column) and the diagram (its nodes).
 */
import type { RecordedResource } from "../mock-runtime";

/** Whether a resource is one of our component resources (`airbyte:<module>:<Name>`). */
export function isAirbyteComponent(r: RecordedResource): boolean {
  return !r.custom && r.type.startsWith("airbyte:");
}

/** `airbyte:platform:AirbytePlatform` named `airbyte-prod` → `AirbytePlatform airbyte-prod`. */
export function componentLabel(r: RecordedResource): string {
  return `${r.type.slice(r.type.lastIndexOf(":") + 1)} ${r.name}`;
}

export class Ownership {
  private readonly byUrn: Map<string, RecordedResource>;

  constructor(readonly resources: RecordedResource[]) {
    this.byUrn = new Map(resources.map((r) => [r.urn, r]));
  }

  get(urn: string | undefined): RecordedResource | undefined {
    return urn === undefined ? undefined : this.byUrn.get(urn);
  }

  /** The nearest `airbyte:*` component above a resource, if any. */
  ownerOf(r: RecordedResource): RecordedResource | undefined {
    for (let p = this.get(r.parent); p; p = this.get(p.parent)) if (isAirbyteComponent(p)) return p;
    return undefined;
  }

  /** Resources whose nearest component is `component`. */
  ownedBy(component: RecordedResource): RecordedResource[] {
    return this.resources.filter((r) => this.ownerOf(r)?.urn === component.urn);
  }

  /** The provider resource a resource was created with, when it names one explicitly. */
  providerOf(r: RecordedResource): RecordedResource | undefined {
    if (!r.provider) return undefined;
    const urn = r.provider.slice(0, r.provider.lastIndexOf("::"));
    return this.get(urn);
  }
}
