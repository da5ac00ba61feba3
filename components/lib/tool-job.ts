/**
 * The pod of one `airbyte-migrate` run (the image `migrations/Dockerfile` builds), as the v1 copy
 * CronJob, the v2 object mirror and the v2 replication setup Job all run it: the tool's
 * entrypoint, an environment that comes only from one Secret, a scratch `/tmp` under a read-only
 * root, and the image's non-root user.
 */
import * as pulumi from "@pulumi/pulumi";
import { MIGRATION_ENTRYPOINT } from "../../migrations/job-command";
import {
  JobArgs,
  ResourceBounds,
  containerSecurityContext,
  podSecurityContext,
  resources,
  scratchVolume,
  secretEnv,
} from "./kube";

/** uid and gid of the image's `migrate` user. */
export const TOOL_UID = 10001;

export interface ToolPodArgs {
  /** Container name: `migrate`, `mirror`, `setup`. */
  container: string;
  image: pulumi.Input<string>;
  /** Arguments after the entrypoint, from the command's shared `job-command.ts`. */
  args: string[];
  /** The Secret holding every variable the command reads, each under its own name as key. */
  secretName: pulumi.Input<string>;
  secretKeys: string[];
  resources: ResourceBounds;
  /** Size of `/tmp` (pg_dump's lists, the tool's temporary files). */
  tmpSize: string;
  /** Default: {@link TOOL_UID}. */
  uid?: number;
}

/** The pod part of a Job running the tool; `restartPolicy: Never` keeps a failed pod's logs. */
export function toolPod(
  a: ToolPodArgs,
): Pick<JobArgs, "securityContext" | "restartPolicy" | "volumes" | "containers"> {
  return {
    securityContext: podSecurityContext(a.uid ?? TOOL_UID),
    restartPolicy: "Never",
    volumes: [scratchVolume("tmp", a.tmpSize)],
    containers: [
      {
        name: a.container,
        image: a.image,
        command: [...MIGRATION_ENTRYPOINT],
        args: a.args,
        env: a.secretKeys.map((k) => secretEnv(k, a.secretName, k)),
        resources: resources(a.resources),
        securityContext: containerSecurityContext(),
        volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
      },
    ],
  };
}
