/** Shared arguments and lookups for the AirbytePlatform tests. */
import { AirbyteAuthSecrets } from "../../components/airbyte-auth-secrets";
import { AirbytePlatform, AirbytePlatformArgs } from "../../components/airbyte-platform";
import { ContainerSpec, EnvVar, Graph, PodSpec, RecordedResource, podSpecOf } from "./graph";

/** Recognisable secret inputs, so tests can look for them where they must not be. */
export const DB_PASSWORD = "db-pass-7f3a9c";
export const AWS_KEY_ID = "minio-key-51c2";
export const AWS_SECRET = "minio-secret-a9e0d4";

export const SERVICES = [
  "server",
  "worker",
  "workload-launcher",
  "workload-api-server",
  "cron",
  "connector-builder-server",
] as const;

export function baseArgs(authSecrets: AirbyteAuthSecrets): AirbytePlatformArgs {
  return {
    namespace: "airbyte-prod",
    instanceName: "airbyte-prod",
    airbyteUrl: "https://airbyte.example.com",
    database: {
      host: "airbyte-prod-db.airbyte-prod.svc.cluster.local",
      port: 5432,
      user: "airbyte",
      password: DB_PASSWORD,
    },
    temporalHost: "airbyte-prod-temporal.airbyte-prod.svc.cluster.local:7233",
    storage: {
      endpoint: "http://airbyte-prod-minio.airbyte-prod.svc.cluster.local:9000",
      bucket: "airbyte-storage",
      accessKeyId: AWS_KEY_ID,
      secretAccessKey: AWS_SECRET,
    },
    authSecrets,
  };
}

/** Creates the stack's auth values and one platform from `args`. */
export function platformProgram(
  override: (a: AirbytePlatformArgs) => AirbytePlatformArgs = (a) => a,
): () => void {
  return () => {
    const auth = new AirbyteAuthSecrets("airbyte-auth");
    new AirbytePlatform("prod-platform", override(baseArgs(auth)));
  };
}

export function containerOf(graph: Graph, kind: string, name: string): ContainerSpec {
  return podSpecOf(graph.one(kind, name)).containers[0];
}

export function podOf(graph: Graph, kind: string, name: string): PodSpec {
  return podSpecOf(graph.one(kind, name));
}

export function replicasOf(r: RecordedResource): unknown {
  return (r.inputs.spec as { replicas?: unknown }).replicas;
}

/** `{ name → "cm:KEY" | "secret:NAME/KEY" | "field:PATH" | "value:V" }` for compact assertions. */
export function envSources(c: ContainerSpec): Record<string, string> {
  const describe = (e: EnvVar): string => {
    const v = e.valueFrom;
    if (v?.configMapKeyRef) return `cm:${v.configMapKeyRef.key}`;
    if (v?.secretKeyRef) return `secret:${v.secretKeyRef.name}/${v.secretKeyRef.key}`;
    if (v?.fieldRef) return `field:${v.fieldRef.fieldPath}`;
    return `value:${e.value}`;
  };
  return Object.fromEntries((c.env ?? []).map((e) => [e.name, describe(e)]));
}
