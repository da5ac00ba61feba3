/**
 * The v1 migration job (DESIGN D6, D9): a CronJob that copies prod's database to `core-worker-01`
 * on a schedule with `airbyte-migrate`, into a staging database that is swapped in only after it
 * verified, so a run that fails midway leaves the previous good copy in place.
 *
 * It lives in the replica's namespace, not prod's: prod only gains objects in v1, never changes
 * (DESIGN D1), and the copy belongs to the replica it feeds. Prod's side is one NEW NetworkPolicy
 * in prod's namespace admitting these pods to prod's database; NetworkPolicies are additive, so
 * prod's own policies stay exactly as they are.
 *
 * One-off runs use the CronJob as their template, the documented way, so a manual copy is exactly
 * the scheduled one (same image, command, Secret, limits):
 * `kubectl -n <namespace> create job --from=cronjob/<name> <name>-manual-<suffix>`
 * (see {@link DbMigration.manualRunCommand}). `concurrencyPolicy: Forbid` keeps scheduled runs
 * from overlapping; a manual run is not counted by it, so start one only when none is running.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { LabelSpec, selectorLabels } from "../infra/naming";
import { SOURCE_URL_ENV, TARGET_URL_ENV, migrationJobArgs } from "../migrations/job-command";
import { ResourceBounds, jobSpec, opaqueSecret, admitFromNamespace, cronJob } from "./lib/kube";
import { toolPod } from "./lib/tool-job";
import { SslMode } from "./external-database";
import { NetworkFlow, PodGroup } from "./network-policies";

/** A PostgreSQL server the job connects to, as one role. */
export interface MigrationEndpoint {
  host: pulumi.Input<string>;
  /** Default: 5432. */
  port?: pulumi.Input<number>;
  user: pulumi.Input<string>;
  /** A Pulumi secret; it reaches the pod only inside the job's Secret. */
  password: pulumi.Input<string>;
  /** libpq sslmode. Default: `require`. */
  sslMode?: SslMode;
}

/** Where the source database's pods run, for the NetworkPolicy that admits the job to them. */
export interface MigrationSourcePods {
  /** Namespace of the source database (prod's). */
  namespace: pulumi.Input<string>;
  /** Instance the policy is filed under in that namespace, e.g. `airbyte-prod`. */
  instanceName: string;
  /** Labels of the database pods. */
  podLabels: Record<string, string>;
  /** The database container's port. Default: 5432. */
  port?: number;
}

export interface DbMigrationArgs {
  /** Namespace of the CronJob and its Secret: the replica's. */
  namespace: pulumi.Input<string>;
  /** Instance the job belongs to (labels, object names): the replica's. */
  instanceName: string;
  /** The tool's image with a version tag or digest (built from migrations/Dockerfile). */
  image: string;
  /** Cron schedule, interpreted in {@link timeZone}. */
  schedule: string;
  /** IANA time zone of {@link schedule}. Default: `Etc/UTC`. */
  timeZone?: string;
  /** Pause scheduled runs; the CronJob stays as the template of manual runs. Default: `false`. */
  suspend?: boolean;
  /** Prod's database server (read only: the tool never writes to its source). */
  source: MigrationEndpoint;
  /** `core-worker-01`, as the migration role. */
  target: MigrationEndpoint;
  /** Role that owns the copied databases on the target (the tool's `--owner`). */
  owner: string;
  /**
   * Databases to copy. Default: `["db-airbyte"]` only: the replica's Temporal runs on its own
   * `temporal` databases of the target and must not have them replaced under it (DESIGN D7, D8:
   * activation re-arms the schedules).
   */
  databases?: string[];
  /** Connections per side (`--jobs`). Default: 2. */
  jobs?: number;
  /** Admits the job to the source's pods with a NetworkPolicy in their namespace. Default: none. */
  sourcePods?: MigrationSourcePods;
  /** Kill a run after this long; the staging copy is abandoned, the good copy stays. Default: 14400 (4 h). */
  activeDeadlineSeconds?: number;
  /** Pod retries of one run before it counts as failed. Default: 1. */
  backoffLimit?: number;
  /** Default: 250m/512Mi requested, 2 CPU/2Gi limit (Node plus pg_dump and pg_restore). */
  resources?: ResourceBounds;
  /** Non-root uid (and gid) of the pod. Default: 10001, the image's `migrate` user. */
  uid?: number;
}

const DEFAULT_RESOURCES: ResourceBounds = {
  requests: { cpu: "250m", memory: "512Mi" },
  limits: { cpu: "2", memory: "2Gi" },
};

/** Labels of the migration pods, which NetworkPolicies on both sides select. */
export function migrationPodLabels(instanceName: string): LabelSpec {
  return { name: "db-migration", instance: instanceName, component: "migration" };
}

/** The pod group of the migration job in its instance's NetworkPolicies. */
export const MIGRATION_GROUP = "db-migration";

/**
 * What the migration pods need in the NetworkPolicies of the namespace they run in (pass it to
 * that instance's `network`): egress to the source database's pods and to the target's addresses.
 */
export function migrationNetwork(args: {
  instanceName: string;
  source: { namespace: string; podLabels: Record<string, string>; port?: number };
  target: { cidrs: string[]; port: pulumi.Input<number> };
}): { extraGroups: PodGroup[]; extraFlows: NetworkFlow[] } {
  const group = MIGRATION_GROUP;
  return {
    extraGroups: [
      { name: group, matchLabels: selectorLabels(migrationPodLabels(args.instanceName)) },
    ],
    extraFlows: [
      {
        from: { group },
        to: { namespace: args.source.namespace, podLabels: args.source.podLabels },
        ports: [args.source.port ?? 5432],
        why: "the migration job reads prod's database",
      },
      {
        from: { group },
        to: { cidrs: args.target.cidrs },
        ports: [args.target.port],
        why: "the migration job writes the copy to core-worker-01",
      },
    ],
  };
}

/** A libpq URL with the credentials percent-encoded; its server-level database is `postgres`. */
export function databaseUrl(e: {
  host: string;
  port: number;
  user: string;
  password: string;
  sslMode: SslMode;
}): string {
  const host = e.host.includes(":") ? `[${e.host}]` : e.host;
  const auth = `${encodeURIComponent(e.user)}:${encodeURIComponent(e.password)}`;
  return `postgres://${auth}@${host}:${e.port}/postgres?sslmode=${e.sslMode}`;
}

function urlOf(e: MigrationEndpoint): pulumi.Output<string> {
  return pulumi.secret(
    pulumi
      .all([e.host, e.port ?? 5432, e.user, e.password])
      .apply(([host, port, user, password]) =>
        databaseUrl({ host, port, user, password, sslMode: e.sslMode ?? "require" }),
      ),
  );
}

export class DbMigration extends pulumi.ComponentResource {
  public readonly cronJobName: pulumi.Output<string>;
  /** Secret holding the two connection URLs. */
  public readonly secretName: pulumi.Output<string>;
  public readonly schedule: pulumi.Output<string>;
  public readonly suspended: pulumi.Output<boolean>;
  /** The command that starts a one-off copy now, from the CronJob's template. */
  public readonly manualRunCommand: pulumi.Output<string>;
  /** The CronJob, for dependents. */
  public readonly cronJob: k8s.batch.v1.CronJob;

  constructor(name: string, args: DbMigrationArgs, opts?: pulumi.ComponentResourceOptions) {
    const jobs = args.jobs ?? 2;
    const databases = args.databases ?? ["db-airbyte"];
    if (!Number.isInteger(jobs) || jobs < 1 || jobs > 64) {
      throw new Error(`DbMigration ${name}: jobs must be a whole number in 1-64, got ${jobs}`);
    }
    if (databases.length === 0) throw new Error(`DbMigration ${name}: databases is empty`);
    super("airbyte:migration:DbMigration", name, {}, opts);

    const inst = args.instanceName;
    const child = { parent: this };
    const objectName = `${inst}-db-migration`;
    const labels = migrationPodLabels(inst);
    const suspend = args.suspend ?? false;

    const secret = opaqueSecret(
      `${name}-urls`,
      {
        namespace: args.namespace,
        name: objectName,
        labels,
        data: { [SOURCE_URL_ENV]: urlOf(args.source), [TARGET_URL_ENV]: urlOf(args.target) },
      },
      child,
    );

    const spec = jobSpec({
      namespace: args.namespace,
      name: objectName,
      labels,
      backoffLimit: args.backoffLimit ?? 1,
      activeDeadlineSeconds: args.activeDeadlineSeconds ?? 14400,
      ...toolPod({
        container: "migrate",
        image: args.image,
        args: migrationJobArgs({ databases, owner: args.owner, jobs }),
        secretName: secret.metadata.name,
        secretKeys: [SOURCE_URL_ENV, TARGET_URL_ENV],
        resources: args.resources ?? DEFAULT_RESOURCES,
        tmpSize: "1Gi",
        uid: args.uid,
      }),
    });

    this.cronJob = cronJob(
      `${name}-cronjob`,
      {
        namespace: args.namespace,
        name: objectName,
        labels,
        schedule: args.schedule,
        timeZone: args.timeZone,
        suspend,
        startingDeadlineSeconds: 600,
        spec,
      },
      child,
    );

    if (args.sourcePods) {
      const src = args.sourcePods;
      admitFromNamespace(
        `${name}-source-ingress`,
        {
          namespace: src.namespace,
          name: `${src.instanceName}-allow-postgres-from-migration`,
          labels: { name: "network-policy", instance: src.instanceName, component: "migration" },
          targetPods: src.podLabels,
          fromNamespace: args.namespace,
          fromPods: [selectorLabels(labels)],
          port: src.port ?? 5432,
        },
        child,
      );
    }

    this.cronJobName = this.cronJob.metadata.name;
    this.secretName = secret.metadata.name;
    this.schedule = pulumi.output(args.schedule);
    this.suspended = pulumi.output(suspend);
    this.manualRunCommand = pulumi.interpolate`kubectl -n ${args.namespace} create job --from=cronjob/${this.cronJobName} ${objectName}-manual-$(date +%Y%m%d%H%M)`;
    this.registerOutputs({
      cronJobName: this.cronJobName,
      secretName: this.secretName,
      schedule: this.schedule,
      suspended: this.suspended,
      manualRunCommand: this.manualRunCommand,
    });
  }
}
