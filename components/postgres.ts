/**
 * The bundled PostgreSQL server of one Airbyte instance: Airbyte's `db-airbyte` and Temporal's two
 * databases on one server, as Airbyte's own release ships it (reference §6).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { IMAGES } from "../infra/versions";
import { LabelSpec, imageTag, selectorLabels } from "../infra/naming";
import {
  ResourceBounds,
  configMap,
  containerSecurityContext,
  dataVolumeClaim,
  execProbe,
  opaqueSecret,
  podSecurityContext,
  resources,
  scratchVolume,
  secretEnv,
  service,
  serviceHost,
  statefulSet,
} from "./lib/kube";
import { generatedPassword } from "./lib/secrets";

/** uid/gid of `postgres` in the alpine images. */
const POSTGRES_UID = 70;
const PORT = 5432;
const DATABASE_NAME = /^[a-z_][a-z0-9_-]{0,62}$/;
const SETTING_NAME = /^[a-z_][a-z0-9_.]*$/;
const TLS_DIR = "/etc/postgresql/tls";
const HBA_DIR = "/etc/postgresql/hba";

export interface PostgresArgs {
  /** Namespace to deploy into. */
  namespace: pulumi.Input<string>;
  /** Prefix of every object name, e.g. `airbyte-prod` gives `airbyte-prod-db`. */
  instanceName: string;
  /**
   * Databases to create on first start. The first is the server's default database.
   * Default: `["db-airbyte", "temporal", "temporal_visibility"]`.
   */
  databases?: string[];
  /** Login role that owns the databases. Default: `airbyte`. */
  username?: string;
  /** Size of the data volume. Default: `20Gi`. */
  storageSize?: pulumi.Input<string>;
  /** StorageClass of the data volume. Default: the cluster default. */
  storageClassName?: pulumi.Input<string>;
  /**
   * Server settings passed as `-c name=value`. Merged over the defaults
   * `{ max_connections: "150" }` (Airbyte's own image raises it to 150; Temporal and the
   * Airbyte services each hold pools). v2 adds `wal_level: logical` here.
   */
  settings?: Record<string, string>;
  /** Default: 250m/1Gi requested, 2 CPU/2Gi limit. */
  resources?: ResourceBounds;
  /** Default: {@link IMAGES.postgres} (PostgreSQL 13, Airbyte's bundled major). */
  image?: string;
  /**
   * Serve TLS from this existing `kubernetes.io/tls` Secret (`tls.crt`, `tls.key`): adds
   * `ssl=on` and the file settings. Default: none (no TLS, as Airbyte's bundled server).
   */
  tls?: { secretName: pulumi.Input<string> };
  /**
   * Replace the image's pg_hba.conf (which admits every address with a password) by these lines,
   * from a ConfigMap, via `hba_file`. Default: none (the image's file).
   */
  hbaRules?: string[];
}

const DEFAULT_RESOURCES: ResourceBounds = {
  requests: { cpu: "250m", memory: "1Gi" },
  limits: { cpu: "2", memory: "2Gi" },
};

export class Postgres extends pulumi.ComponentResource {
  /** In-cluster DNS name of the server. */
  public readonly host: pulumi.Output<string>;
  public readonly port: pulumi.Output<number>;
  public readonly serviceName: pulumi.Output<string>;
  public readonly username: pulumi.Output<string>;
  /** Generated password of {@link username}; a secret. */
  public readonly password: pulumi.Output<string>;
  /** Secret holding `username` and `password`. */
  public readonly secretName: pulumi.Output<string>;
  public readonly databases: pulumi.Output<string[]>;
  /** The StatefulSet, for others to depend on. */
  public readonly server: k8s.apps.v1.StatefulSet;
  /** Labels that select the server's pod, for Services and NetworkPolicies of others. */
  public readonly podLabels: Record<string, string>;

  constructor(name: string, args: PostgresArgs, opts?: pulumi.ComponentResourceOptions) {
    super("airbyte:database:Postgres", name, {}, opts);

    const databases = args.databases ?? ["db-airbyte", "temporal", "temporal_visibility"];
    const username = args.username ?? "airbyte";
    const settings: Record<string, string> = { max_connections: "150", ...args.settings };
    if (args.tls) {
      Object.assign(settings, {
        ssl: "on",
        ssl_cert_file: `${TLS_DIR}/tls.crt`,
        ssl_key_file: `${TLS_DIR}/tls.key`,
      });
    }
    if (args.hbaRules) settings.hba_file = `${HBA_DIR}/pg_hba.conf`;
    const image = args.image ?? IMAGES.postgres;
    validate(databases, username, settings);

    const objectName = `${args.instanceName}-db`;
    const labels: LabelSpec = {
      name: "postgres",
      instance: args.instanceName,
      component: "database",
      version: imageTag(image),
    };
    const child = { parent: this };

    const password = generatedPassword(`${name}-password`, this);
    const credentials = opaqueSecret(
      `${name}-credentials`,
      {
        namespace: args.namespace,
        name: `${objectName}-credentials`,
        labels,
        data: { username, password },
      },
      child,
    );

    // Runs once, on an empty data directory: the image's entrypoint creates the first database.
    const initScript = configMap(
      `${name}-init`,
      {
        namespace: args.namespace,
        name: `${objectName}-init`,
        labels,
        data: { "10-create-databases.sh": createDatabasesScript(databases.slice(1)) },
      },
      child,
    );
    const reads: pulumi.Resource[] = [credentials, initScript];

    // Optional extras (TLS, pg_hba); absent unless asked for, so existing servers are unchanged.
    const extraMounts: k8s.types.input.core.v1.VolumeMount[] = [];
    const extraVolumes: k8s.types.input.core.v1.Volume[] = [];
    if (args.tls) {
      extraMounts.push({ name: "tls", mountPath: TLS_DIR, readOnly: true });
      // Owned by root, group postgres (fsGroup), 0640: the only modes PostgreSQL accepts for a
      // key file it does not own.
      extraVolumes.push({
        name: "tls",
        secret: { secretName: args.tls.secretName, defaultMode: 0o640 },
      });
    }
    if (args.hbaRules) {
      const hba = configMap(
        `${name}-hba`,
        {
          namespace: args.namespace,
          name: `${objectName}-hba`,
          labels,
          data: { "pg_hba.conf": [...args.hbaRules, ""].join("\n") },
        },
        child,
      );
      reads.push(hba);
      extraMounts.push({ name: "hba", mountPath: HBA_DIR, readOnly: true });
      extraVolumes.push({ name: "hba", configMap: { name: hba.metadata.name } });
    }

    const svc = service(
      `${name}-service`,
      {
        namespace: args.namespace,
        name: objectName,
        labels,
        ports: [{ name: "postgres", port: PORT, targetPort: "postgres" }],
      },
      child,
    );

    const ready = [
      "pg_isready",
      "-h",
      "127.0.0.1",
      "-p",
      String(PORT),
      "-U",
      username,
      "-d",
      databases[0],
    ];
    this.server = statefulSet(
      `${name}-server`,
      {
        namespace: args.namespace,
        name: objectName,
        labels,
        serviceName: svc.metadata.name,
        securityContext: podSecurityContext(POSTGRES_UID),
        terminationGracePeriodSeconds: 60,
        reads,
        containers: [
          {
            name: "postgres",
            image,
            args: Object.entries(settings).flatMap(([k, v]) => ["-c", `${k}=${v}`]),
            ports: [{ name: "postgres", containerPort: PORT }],
            env: [
              { name: "POSTGRES_DB", value: databases[0] },
              secretEnv("POSTGRES_USER", credentials.metadata.name, "username"),
              secretEnv("POSTGRES_PASSWORD", credentials.metadata.name, "password"),
              // A subdirectory: the volume's root may hold lost+found, which initdb refuses.
              { name: "PGDATA", value: "/var/lib/postgresql/data/pgdata" },
            ],
            startupProbe: execProbe(ready, { periodSeconds: 5, failureThreshold: 60 }),
            livenessProbe: execProbe(ready, { periodSeconds: 15, failureThreshold: 6 }),
            readinessProbe: execProbe(ready, { periodSeconds: 5 }),
            resources: resources(args.resources ?? DEFAULT_RESOURCES),
            securityContext: containerSecurityContext(),
            volumeMounts: [
              { name: "data", mountPath: "/var/lib/postgresql/data" },
              { name: "init", mountPath: "/docker-entrypoint-initdb.d", readOnly: true },
              { name: "run", mountPath: "/var/run/postgresql" },
              { name: "tmp", mountPath: "/tmp" },
              { name: "shm", mountPath: "/dev/shm" },
              ...extraMounts,
            ],
          },
        ],
        volumes: [
          { name: "init", configMap: { name: initScript.metadata.name, defaultMode: 0o555 } },
          scratchVolume("run", "16Mi"),
          scratchVolume("tmp"),
          // The container default of 64Mi is too small for parallel queries and index builds.
          { name: "shm", emptyDir: { medium: "Memory", sizeLimit: "256Mi" } },
          ...extraVolumes,
        ],
        volumeClaimTemplates: [
          dataVolumeClaim("data", args.storageSize ?? "20Gi", args.storageClassName),
        ],
      },
      child,
    );

    this.podLabels = selectorLabels(labels);
    this.host = serviceHost(svc.metadata.name, args.namespace);
    this.port = pulumi.output(PORT);
    this.serviceName = svc.metadata.name;
    this.username = pulumi.output(username);
    this.password = password;
    this.secretName = credentials.metadata.name;
    this.databases = pulumi.output(databases);
    this.registerOutputs({
      host: this.host,
      port: this.port,
      serviceName: this.serviceName,
      username: this.username,
      password: this.password,
      secretName: this.secretName,
      databases: this.databases,
    });
  }
}

function validate(databases: string[], username: string, settings: Record<string, string>): void {
  if (databases.length === 0)
    throw new Error("Postgres: databases must name at least one database");
  for (const db of databases) {
    if (!DATABASE_NAME.test(db)) {
      throw new Error(
        `Postgres: databases: '${db}' is not a plain database name ([a-z_][a-z0-9_-]*)`,
      );
    }
  }
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(username)) {
    throw new Error(
      `Postgres: username: '${username}' is not a plain role name ([a-z_][a-z0-9_]*)`,
    );
  }
  for (const [k, v] of Object.entries(settings)) {
    if (!SETTING_NAME.test(k) || /[\s'"\\]/.test(v)) {
      throw new Error(`Postgres: settings: '${k}=${v}' is not a plain server setting`);
    }
  }
}

/** Shell for the image's init hook; names are validated, and quoted as identifiers in SQL. */
function createDatabasesScript(databases: string[]): string {
  const creates = databases.map(
    (db) =>
      `psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -c 'CREATE DATABASE "${db}"'`,
  );
  return ["#!/bin/sh", "set -eu", ...creates, ""].join("\n");
}
