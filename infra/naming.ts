/** Names and labels shared by every Kubernetes object the program creates (DESIGN §3). */

export type Labels = Record<string, string>;

export interface LabelSpec {
  /** What the thing is: `server`, `temporal`, `minio`… */
  name: string;
  /** Which Airbyte it belongs to: `airbyte-prod`, `airbyte-prod-backup-replica-2`. */
  instance: string;
  /** Its role in the architecture: `platform`, `database`, `storage`, `auth`… */
  component: string;
  /** The version of what runs, when there is one. */
  version?: string;
}

/** The `app.kubernetes.io/*` labels every object carries. */
export function standardLabels(spec: LabelSpec): Labels {
  return {
    "app.kubernetes.io/name": spec.name,
    "app.kubernetes.io/instance": spec.instance,
    "app.kubernetes.io/component": spec.component,
    "app.kubernetes.io/part-of": "airbyte",
    "app.kubernetes.io/managed-by": "pulumi",
    ...(spec.version ? { "app.kubernetes.io/version": spec.version } : {}),
  };
}

/** The subset used in selectors: selectors are immutable, so they never carry a version. */
export function selectorLabels(spec: LabelSpec): Labels {
  return {
    "app.kubernetes.io/name": spec.name,
    "app.kubernetes.io/instance": spec.instance,
  };
}

/** Version string for a label value, from an image reference (`repo:tag` → `tag`). */
export function imageTag(image: string): string {
  const tag = image.slice(image.lastIndexOf(":") + 1);
  // Label values allow at most 63 of [A-Za-z0-9_.-].
  return tag.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 63);
}
