/**
 * The command line the v2 object mirror CronJob runs, in one place: the Pulumi component puts
 * exactly this in the pod spec, and the end-to-end test runs exactly this against real servers.
 * The endpoints (with their credentials) come from a Secret as SOURCE_S3_URL / TARGET_S3_URL.
 */
export { MIGRATION_ENTRYPOINT } from "../job-command";

export const SOURCE_S3_URL_ENV = "SOURCE_S3_URL";
export const TARGET_S3_URL_ENV = "TARGET_S3_URL";

export interface MirrorJobOptions {
  /** Source buckets, e.g. `["airbyte-bucket"]`. */
  buckets: string[];
  /** Key prefixes to mirror; empty for every key. */
  prefixes?: string[];
  /** Objects transferred in parallel. */
  jobs: number;
  /** Multipart part size in MiB (memory ≈ jobs × part size). */
  partSizeMb?: number;
  /** Delete replica objects prod no longer has (see docs/objects.md before enabling). */
  delete?: boolean;
}

/** Arguments after the entrypoint: mirror, then the job's status says whether every object made it. */
export function mirrorJobArgs(o: MirrorJobOptions): string[] {
  return [
    "objects",
    "mirror",
    "--buckets",
    o.buckets.join(","),
    ...(o.prefixes ?? []).flatMap((p) => ["--prefix", p]),
    "--jobs",
    String(o.jobs),
    ...(o.partSizeMb === undefined ? [] : ["--part-size-mb", String(o.partSizeMb)]),
    ...(o.delete ? ["--delete"] : []),
    "--json",
  ];
}
