import { beforeAll, describe, expect, it } from "vitest";
import { AIRBYTE_VERSION } from "../infra/versions";
import { Graph, metadataOf, podSpecOf, runGraph } from "./support/graph";
import { expectRestrictedWorkload } from "./support/workload-checks";
import {
  AWS_KEY_ID,
  AWS_SECRET,
  DB_PASSWORD,
  SERVICES,
  containerOf,
  envSources,
  platformProgram,
  podOf,
  replicasOf,
} from "./support/airbyte-platform-fixture";

const CM = "airbyte-prod-airbyte-env";
const SECRET = "airbyte-prod-airbyte-secrets";
const AAS = "airbyte-auth-secrets";
const BOOTLOADER = `airbyte-prod-bootloader-${AIRBYTE_VERSION.replace(/\./g, "-")}`;

describe("AirbytePlatform (active, defaults)", () => {
  let graph: Graph;
  let cmData: Record<string, string>;
  let authValues: string[];
  beforeAll(async () => {
    graph = await runGraph(platformProgram());
    cmData = graph.one("ConfigMap", CM).inputs.data as Record<string, string>;
    const auth = graph.components("airbyte:platform:AirbyteAuthSecrets")[0];
    authValues = Object.values(auth.outputs as Record<string, string>);
  });

  it("runs every default service at AIRBYTE_VERSION, and the bootloader as a Job", () => {
    for (const svc of SERVICES) {
      const c = containerOf(graph, "Deployment", `airbyte-prod-${svc}`);
      expect(c.image).toBe(`airbyte/${svc}:${AIRBYTE_VERSION}`);
    }
    expect(graph.kube("Deployment")).toHaveLength(SERVICES.length);
    expect(containerOf(graph, "Job", BOOTLOADER).image).toBe(
      `airbyte/bootloader:${AIRBYTE_VERSION}`,
    );
  });

  it("puts the database, Temporal, storage and internal hosts into the ConfigMap", () => {
    expect(cmData).toMatchObject({
      AIRBYTE_VERSION,
      AIRBYTE_EDITION: "community",
      AIRBYTE_URL: "https://airbyte.example.com",
      AIRBYTE_API_HOST: "https://airbyte.example.com/api/public",
      CONTROL_PLANE_AUTH_ENDPOINT: "https://airbyte.example.com",
      DATABASE_HOST: "airbyte-prod-db.airbyte-prod.svc.cluster.local",
      DATABASE_PORT: "5432",
      DATABASE_DB: "db-airbyte",
      DATABASE_URL:
        "jdbc:postgresql://airbyte-prod-db.airbyte-prod.svc.cluster.local:5432/db-airbyte",
      TEMPORAL_HOST: "airbyte-prod-temporal.airbyte-prod.svc.cluster.local:7233",
      STORAGE_TYPE: "minio",
      STORAGE_BUCKET_LOG: "airbyte-storage",
      STORAGE_BUCKET_STATE: "airbyte-storage",
      STORAGE_BUCKET_WORKLOAD_OUTPUT: "airbyte-storage",
      STORAGE_BUCKET_ACTIVITY_PAYLOAD: "airbyte-storage",
      STORAGE_BUCKET_AUDIT_LOGGING: "airbyte-storage",
      MINIO_ENDPOINT: "http://airbyte-prod-minio.airbyte-prod.svc.cluster.local:9000",
      S3_PATH_STYLE_ACCESS: "true",
      AIRBYTE_SERVER_HOST: "airbyte-prod-server.airbyte-prod.svc.cluster.local:8001",
      INTERNAL_API_HOST: "http://airbyte-prod-server.airbyte-prod.svc.cluster.local:8001",
      CONNECTOR_BUILDER_SERVER_API_HOST:
        "http://airbyte-prod-connector-builder-server.airbyte-prod.svc.cluster.local:80",
      WORKLOAD_API_HOST:
        "http://airbyte-prod-workload-api-server.airbyte-prod.svc.cluster.local:8001",
      CONTROL_PLANE_TOKEN_ENDPOINT:
        "http://airbyte-prod-server.airbyte-prod.svc.cluster.local:8001/api/v1/dataplanes/token",
      JOB_KUBE_SERVICEACCOUNT: "airbyte-prod-job",
      SECRET_PERSISTENCE: "TESTING_CONFIG_DB_TABLE",
      MICRONAUT_ENVIRONMENTS: "k8s,control-plane,edition-community",
      LOG_LEVEL: "INFO",
      API_AUTHORIZATION_ENABLED: "false",
      AB_COOKIE_SECURE: "true",
      AB_COOKIE_SAME_SITE: "Strict",
      AB_AUTH_SECRET_CREATION_ENABLED: "true",
      AB_KUBERNETES_SECRET_NAME: AAS,
      FEATURE_FLAG_CLIENT: "configfile",
      FEATURE_FLAG_PATH: "/etc/launchdarkly/flags.yml",
      "flags.yml": "flags: []\n",
      CONTAINER_ORCHESTRATOR_IMAGE: `airbyte/container-orchestrator:${AIRBYTE_VERSION}`,
      CONNECTOR_SIDECAR_IMAGE: `airbyte/connector-sidecar:${AIRBYTE_VERSION}`,
      WORKLOAD_INIT_IMAGE: `airbyte/workload-init-container:${AIRBYTE_VERSION}`,
      JOB_MAIN_CONTAINER_CPU_REQUEST: "250m",
      JOB_MAIN_CONTAINER_CPU_LIMIT: "2",
      JOB_MAIN_CONTAINER_MEMORY_REQUEST: "512Mi",
      JOB_MAIN_CONTAINER_MEMORY_LIMIT: "2Gi",
    });
    expect(cmData.TEMPORAL_WORKER_PORTS.split(" ")).toHaveLength(41);
  });

  it("gives each service the variables upstream gives it", () => {
    const common = {
      AIRBYTE_VERSION: "cm:AIRBYTE_VERSION",
      AIRBYTE_URL: "cm:AIRBYTE_URL",
      INTERNAL_API_HOST: "cm:INTERNAL_API_HOST",
      MICRONAUT_ENVIRONMENTS: "cm:MICRONAUT_ENVIRONMENTS",
    };
    const database = {
      DATABASE_URL: "cm:DATABASE_URL",
      DATABASE_HOST: "cm:DATABASE_HOST",
      DATABASE_USER: `secret:${SECRET}/DATABASE_USER`,
      DATABASE_PASSWORD: `secret:${SECRET}/DATABASE_PASSWORD`,
    };
    const storage = {
      STORAGE_TYPE: "cm:STORAGE_TYPE",
      MINIO_ENDPOINT: "cm:MINIO_ENDPOINT",
      STORAGE_BUCKET_LOG: "cm:STORAGE_BUCKET_LOG",
      AWS_ACCESS_KEY_ID: `secret:${SECRET}/AWS_ACCESS_KEY_ID`,
      AWS_SECRET_ACCESS_KEY: `secret:${SECRET}/AWS_SECRET_ACCESS_KEY`,
    };
    const jwt = { AB_JWT_SIGNATURE_SECRET: `secret:${AAS}/jwt-signature-secret` };
    const temporal = { TEMPORAL_HOST: "cm:TEMPORAL_HOST" };
    const env = (svc: string) =>
      envSources(containerOf(graph, "Deployment", `airbyte-prod-${svc}`));

    expect(env("server")).toMatchObject({
      ...common,
      ...database,
      ...storage,
      ...jwt,
      ...temporal,
      AB_INSTANCE_ADMIN_PASSWORD: `secret:${AAS}/instance-admin-password`,
      AB_INSTANCE_ADMIN_CLIENT_ID: `secret:${AAS}/instance-admin-client-id`,
      AB_INSTANCE_ADMIN_CLIENT_SECRET: `secret:${AAS}/instance-admin-client-secret`,
      AB_COOKIE_SECURE: "cm:AB_COOKIE_SECURE",
      API_AUTHORIZATION_ENABLED: "cm:API_AUTHORIZATION_ENABLED",
      SECRET_PERSISTENCE: "cm:SECRET_PERSISTENCE",
      JOB_KUBE_NAMESPACE: "field:metadata.namespace",
      CONNECTOR_BUILDER_SERVER_API_HOST: "cm:CONNECTOR_BUILDER_SERVER_API_HOST",
    });
    expect(env("worker")).toMatchObject({
      ...common,
      ...database,
      ...storage,
      ...jwt,
      ...temporal,
      TEMPORAL_WORKER_PORTS: "cm:TEMPORAL_WORKER_PORTS",
      WORKLOAD_API_HOST: "cm:WORKLOAD_API_HOST",
      CONTAINER_ORCHESTRATOR_ENABLED: "cm:CONTAINER_ORCHESTRATOR_ENABLED",
      SECRET_PERSISTENCE: "cm:SECRET_PERSISTENCE",
      JOB_KUBE_NAMESPACE: "field:metadata.namespace",
    });
    const launcher = env("workload-launcher");
    expect(launcher).toMatchObject({
      ...common,
      ...database,
      ...storage,
      ...temporal,
      DATAPLANE_CLIENT_ID: `secret:${AAS}/dataplane-client-id`,
      DATAPLANE_CLIENT_SECRET: `secret:${AAS}/dataplane-client-secret`,
      CONTROL_PLANE_TOKEN_ENDPOINT: "cm:CONTROL_PLANE_TOKEN_ENDPOINT",
      WORKLOAD_API_HOST: "cm:WORKLOAD_API_HOST",
      CONTAINER_ORCHESTRATOR_IMAGE: "cm:CONTAINER_ORCHESTRATOR_IMAGE",
      JOB_KUBE_SERVICEACCOUNT: "cm:JOB_KUBE_SERVICEACCOUNT",
      JOB_KUBE_NAMESPACE: "field:metadata.namespace",
      JOB_MAIN_CONTAINER_MEMORY_LIMIT: "cm:JOB_MAIN_CONTAINER_MEMORY_LIMIT",
      DATA_SYNC_TASK_QUEUES: "cm:DATA_SYNC_TASK_QUEUES",
    });
    // It signs in with the dataplane credentials, not the JWT key.
    expect(launcher.AB_JWT_SIGNATURE_SECRET).toBeUndefined();
    expect(env("workload-api-server")).toMatchObject({
      ...common,
      ...database,
      ...jwt,
      ...temporal,
      WORKLOAD_API_HOST: "cm:WORKLOAD_API_HOST",
    });
    expect(env("cron")).toMatchObject({
      ...common,
      ...database,
      ...jwt,
      ...temporal,
      UPDATE_DEFINITIONS_CRON_ENABLED: "cm:UPDATE_DEFINITIONS_CRON_ENABLED",
      SECRET_PERSISTENCE: "cm:SECRET_PERSISTENCE",
      WORKLOAD_API_HOST: "cm:WORKLOAD_API_HOST",
      LOG_LEVEL: "cm:LOG_LEVEL",
    });
    const builder = env("connector-builder-server");
    expect(builder).toMatchObject({ ...common, ...jwt, AB_COOKIE_SECURE: "cm:AB_COOKIE_SECURE" });
    expect(builder.DATABASE_PASSWORD).toBeUndefined();
    for (const svc of ["workload-api-server", "cron", "connector-builder-server"]) {
      expect(env(svc).AWS_SECRET_ACCESS_KEY, svc).toBeUndefined();
    }
  });

  it("seeds the bootloader with the shared auth values and lets it create the dataplane keys", () => {
    const env = envSources(containerOf(graph, "Job", BOOTLOADER));
    expect(env).toMatchObject({
      AIRBYTE_VERSION: "cm:AIRBYTE_VERSION",
      DATABASE_URL: "cm:DATABASE_URL",
      DATABASE_USER: `secret:${SECRET}/DATABASE_USER`,
      DATABASE_PASSWORD: `secret:${SECRET}/DATABASE_PASSWORD`,
      AB_AUTH_SECRET_CREATION_ENABLED: "cm:AB_AUTH_SECRET_CREATION_ENABLED",
      AB_KUBERNETES_SECRET_NAME: "cm:AB_KUBERNETES_SECRET_NAME",
      DATAPLANE_CLIENT_ID_SECRET_KEY: "cm:DATAPLANE_CLIENT_ID_SECRET_KEY",
      AB_INSTANCE_ADMIN_PASSWORD: `secret:${SECRET}/AB_INSTANCE_ADMIN_PASSWORD`,
      AB_INSTANCE_ADMIN_CLIENT_ID: `secret:${SECRET}/AB_INSTANCE_ADMIN_CLIENT_ID`,
      AB_INSTANCE_ADMIN_CLIENT_SECRET: `secret:${SECRET}/AB_INSTANCE_ADMIN_CLIENT_SECRET`,
      AB_JWT_SIGNATURE_SECRET: `secret:${SECRET}/AB_JWT_SIGNATURE_SECRET`,
      RUN_DATABASE_MIGRATION_ON_STARTUP: "cm:RUN_DATABASE_MIGRATION_ON_STARTUP",
      JOB_KUBE_NAMESPACE: "field:metadata.namespace",
    });
    expect(env.AWS_SECRET_ACCESS_KEY).toBeUndefined();
    expect(env.AIRBYTE_URL).toBeUndefined();

    // The seeds and `airbyte-auth-secrets` carry the same generated values.
    const seeds = graph.one("Secret", SECRET).inputs.stringData as Record<string, string>;
    const aas = graph.one("Secret", AAS).inputs.stringData as Record<string, string>;
    expect(Object.keys(aas).sort()).toEqual([
      "instance-admin-client-id",
      "instance-admin-client-secret",
      "instance-admin-password",
      "jwt-signature-secret",
    ]);
    expect(aas["instance-admin-password"]).toBe(seeds.AB_INSTANCE_ADMIN_PASSWORD);
    expect(aas["instance-admin-client-id"]).toBe(seeds.AB_INSTANCE_ADMIN_CLIENT_ID);
    expect(aas["instance-admin-client-secret"]).toBe(seeds.AB_INSTANCE_ADMIN_CLIENT_SECRET);
    expect(aas["jwt-signature-secret"]).toBe(seeds.AB_JWT_SIGNATURE_SECRET);
    expect(aas["instance-admin-client-id"]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/);
    expect(authValues).toContain(aas["jwt-signature-secret"]);
  });

  it("references only keys that exist, in the ConfigMap and the two Secrets", () => {
    const seeds = Object.keys(graph.one("Secret", SECRET).inputs.stringData as object);
    // The dataplane keys are written by the bootloader, which every Deployment waits for.
    const aas = [
      ...Object.keys(graph.one("Secret", AAS).inputs.stringData as object),
      "dataplane-client-id",
      "dataplane-client-secret",
    ];
    for (const w of graph.workloads()) {
      for (const e of podSpecOf(w).containers.flatMap((c) => c.env ?? [])) {
        const where = `${metadataOf(w).name} ${e.name}`;
        const cm = e.valueFrom?.configMapKeyRef;
        const sk = e.valueFrom?.secretKeyRef;
        if (cm) {
          expect(cm.name, where).toBe(CM);
          expect(Object.keys(cmData), where).toContain(cm.key);
          expect(cm.key, where).toBe(e.name);
        } else if (sk) {
          expect([SECRET, AAS], where).toContain(sk.name);
          expect(sk.name === SECRET ? seeds : aas, where).toContain(sk.key);
        } else {
          expect(
            e.valueFrom?.fieldRef,
            `${where} is neither ConfigMap, Secret nor field`,
          ).toBeDefined();
        }
      }
    }
  });

  it("keeps credentials out of the ConfigMap, plain env, annotations and outputs", () => {
    const secrets = [DB_PASSWORD, AWS_KEY_ID, AWS_SECRET, ...authValues];
    expect(authValues).toHaveLength(4);
    const cmText = JSON.stringify(graph.one("ConfigMap", CM).inputs);
    for (const s of secrets) expect(cmText).not.toContain(s);
    for (const r of graph.resources.filter((x) => x.type.startsWith("kubernetes:"))) {
      if (r.inputs.kind === "Secret") continue;
      const text = JSON.stringify(r.inputs);
      for (const s of secrets) expect(text, `${r.name}`).not.toContain(s);
    }
    const platform = graph.components("airbyte:platform:AirbytePlatform")[0];
    const outputs = JSON.stringify(platform.outputs);
    for (const s of secrets) expect(outputs).not.toContain(s);
    for (const name of [SECRET, AAS]) {
      expect(graph.one("Secret", name).secretPaths).toContain("stringData");
    }
    const seeds = graph.one("Secret", SECRET).inputs.stringData as Record<string, string>;
    expect(seeds).toMatchObject({
      DATABASE_USER: "airbyte",
      DATABASE_PASSWORD: DB_PASSWORD,
      AWS_ACCESS_KEY_ID: AWS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: AWS_SECRET,
    });
  });

  it("runs the bootloader first: every Deployment depends on the Job", () => {
    const bootloader = graph.one("Job", BOOTLOADER);
    expect(bootloader.deleteBeforeReplace).toBe(true);
    const pod = podOf(graph, "Job", BOOTLOADER);
    expect(pod.serviceAccountName).toBe("airbyte-prod-bootloader");
    expect((pod as unknown as { restartPolicy: string }).restartPolicy).toBe("Never");
    expect(bootloader.dependencies).toContain(graph.one("Secret", AAS).urn);
    for (const d of graph.kube("Deployment")) {
      expect(d.dependencies, metadataOf(d).name).toContain(bootloader.urn);
    }
  });

  it("grants the launcher only pod management in its namespace, and the bootloader its Secret", () => {
    expect(graph.kube("ClusterRole")).toHaveLength(0);
    expect(graph.kube("ClusterRoleBinding")).toHaveLength(0);
    const launcherRole = graph.one("Role", "airbyte-prod-workload-launcher");
    expect(metadataOf(launcherRole).namespace).toBe("airbyte-prod");
    expect(launcherRole.inputs.rules).toEqual([
      {
        apiGroups: [""],
        resources: ["pods"],
        verbs: ["create", "delete", "get", "list", "patch", "watch"],
      },
    ]);
    expect(graph.one("RoleBinding", "airbyte-prod-workload-launcher").inputs).toMatchObject({
      roleRef: { kind: "Role", name: "airbyte-prod-workload-launcher" },
      subjects: [
        {
          kind: "ServiceAccount",
          name: "airbyte-prod-workload-launcher",
          namespace: "airbyte-prod",
        },
      ],
    });
    expect(graph.one("Role", "airbyte-prod-bootloader").inputs.rules).toEqual([
      { apiGroups: [""], resources: ["secrets"], verbs: ["create"] },
      { apiGroups: [""], resources: ["secrets"], resourceNames: [AAS], verbs: ["get", "update"] },
    ]);
    expect(graph.kube("RoleBinding")).toHaveLength(2);
    // Connector pods run under an identity without a token or a Role.
    const jobSa = graph.one("ServiceAccount", "airbyte-prod-job");
    expect(jobSa.inputs.automountServiceAccountToken).toBe(false);
    expect(cmData.JOB_KUBE_SERVICEACCOUNT).toBe("airbyte-prod-job");
  });

  it("mounts an API token only where the API is used", () => {
    const withToken = { "airbyte-prod-workload-launcher": "airbyte-prod-workload-launcher" };
    for (const svc of SERVICES) {
      const name = `airbyte-prod-${svc}`;
      const pod = podOf(graph, "Deployment", name) as unknown as Record<string, unknown>;
      const sa = (withToken as Record<string, string>)[name];
      expect(pod.serviceAccountName, name).toBe(sa);
      expect(pod.automountServiceAccountToken, name).toBe(sa !== undefined);
    }
  });

  it("has probes, bounds, a restricted security context and labels on every workload", () => {
    expect(graph.workloads()).toHaveLength(SERVICES.length + 1);
    for (const w of graph.workloads()) {
      expectRestrictedWorkload(w);
      const pod = podSpecOf(w);
      expect(pod.securityContext).toMatchObject({ runAsUser: 1000, fsGroup: 1000 });
      const c = pod.containers[0];
      expect(c.securityContext?.readOnlyRootFilesystem, metadataOf(w).name).toBe(true);
      expect(c.volumeMounts?.map((m) => m.mountPath)).toEqual(
        expect.arrayContaining(["/tmp", "/etc/launchdarkly"]),
      );
      const tpl = (
        w.inputs.spec as { template: { metadata: { annotations: Record<string, string> } } }
      ).template;
      expect(tpl.metadata.annotations["checksum/config"]).toMatch(/^[0-9a-f]{64}$/);
      if (w.inputs.kind === "Deployment") expect(c.startupProbe, metadataOf(w).name).toBeDefined();
    }
  });

  it("probes each service where upstream does, and cron on its management port", () => {
    const probe = (svc: string, which: "livenessProbe" | "readinessProbe") =>
      (containerOf(graph, "Deployment", `airbyte-prod-${svc}`)[which] as { httpGet: unknown })
        .httpGet;
    expect(probe("server", "livenessProbe")).toEqual({ path: "/api/v1/health", port: "http" });
    expect(probe("worker", "readinessProbe")).toEqual({ path: "/", port: "heartbeat" });
    expect(probe("workload-launcher", "readinessProbe")).toEqual({
      path: "/health/readiness",
      port: "management",
    });
    expect(probe("workload-api-server", "livenessProbe")).toEqual({
      path: "/health/liveness",
      port: "management",
    });
    expect(probe("cron", "livenessProbe")).toEqual({
      path: "/health/liveness",
      port: "management",
    });
    expect(probe("connector-builder-server", "readinessProbe")).toEqual({
      path: "/v1/health",
      port: "http",
    });
    const ports = (svc: string) =>
      Object.fromEntries(
        (containerOf(graph, "Deployment", `airbyte-prod-${svc}`).ports ?? []).map((p) => [
          p.name,
          p.containerPort,
        ]),
      );
    expect(ports("server")).toEqual({ http: 8001, management: 8085 });
    expect(ports("worker")).toEqual({ heartbeat: 9000, management: 8085 });
    expect(ports("workload-launcher")).toEqual({ heartbeat: 8016, management: 8085 });
    expect(ports("workload-api-server")).toEqual({ http: 8007, management: 8085 });
    expect(ports("cron")).toEqual({ management: 8085 });
    expect(ports("connector-builder-server")).toEqual({ http: 8080, management: 8085 });
  });

  it("exposes server, workload API and builder as ClusterIP Services on upstream ports", () => {
    const svc = (name: string) => graph.one("Service", name).inputs.spec as Record<string, unknown>;
    expect(graph.kube("Service")).toHaveLength(3);
    expect(svc("airbyte-prod-server")).toMatchObject({
      type: "ClusterIP",
      ports: [{ name: "http", port: 8001, targetPort: "http", protocol: "TCP" }],
      selector: {
        "app.kubernetes.io/name": "server",
        "app.kubernetes.io/instance": "airbyte-prod",
      },
    });
    expect(svc("airbyte-prod-workload-api-server")).toMatchObject({
      type: "ClusterIP",
      ports: [{ port: 8001, targetPort: "http" }],
    });
    expect(svc("airbyte-prod-connector-builder-server")).toMatchObject({
      type: "ClusterIP",
      ports: [{ port: 80, targetPort: "http" }],
    });
  });

  it("runs one of each by default; server and cron recreate rather than roll", () => {
    for (const svc of SERVICES) {
      expect(replicasOf(graph.one("Deployment", `airbyte-prod-${svc}`)), svc).toBe(1);
    }
    const strategy = (svc: string) =>
      (
        graph.one("Deployment", `airbyte-prod-${svc}`).inputs.spec as {
          strategy?: { type: string };
        }
      ).strategy?.type;
    expect(strategy("server")).toBe("Recreate");
    expect(strategy("cron")).toBe("Recreate");
    expect(strategy("worker")).toBeUndefined();
    expect(containerOf(graph, "Deployment", "airbyte-prod-server").resources).toEqual({
      requests: { cpu: "500m", memory: "1Gi" },
      limits: { cpu: "2", memory: "4Gi" },
    });
  });

  it("parents every child to its component and registers the outputs", () => {
    const platform = graph.components("airbyte:platform:AirbytePlatform")[0];
    const auth = graph.components("airbyte:platform:AirbyteAuthSecrets")[0];
    const owned = new Set([
      ...graph.descendantsOf(platform).map((r) => r.urn),
      ...graph.descendantsOf(auth).map((r) => r.urn),
    ]);
    const all = graph.resources.filter(
      (r) => r !== platform && r !== auth && r.type !== "pulumi:pulumi:Stack",
    );
    expect(all.filter((r) => !owned.has(r.urn)).map((r) => r.name)).toEqual([]);
    expect(platform.outputs).toEqual({
      serverServiceName: "airbyte-prod-server",
      serverHost: "airbyte-prod-server.airbyte-prod.svc.cluster.local",
      serverPort: 8001,
      connectorBuilderServiceName: "airbyte-prod-connector-builder-server",
      connectorBuilderHost: "airbyte-prod-connector-builder-server.airbyte-prod.svc.cluster.local",
      connectorBuilderPort: 80,
      serviceAccountName: "airbyte-prod-workload-launcher",
      jobServiceAccountName: "airbyte-prod-job",
      configMapName: CM,
      secretName: SECRET,
      authSecretName: AAS,
      namespace: "airbyte-prod",
      role: "active",
    });
  });

  it("labels every object it creates", () => {
    for (const r of graph.resources.filter((x) => x.type.startsWith("kubernetes:"))) {
      expect(metadataOf(r).labels, r.name).toMatchObject({
        "app.kubernetes.io/instance": "airbyte-prod",
        "app.kubernetes.io/component": "platform",
        "app.kubernetes.io/part-of": "airbyte",
        "app.kubernetes.io/managed-by": "pulumi",
        "app.kubernetes.io/version": AIRBYTE_VERSION,
      });
      expect(metadataOf(r).namespace, r.name).toBe("airbyte-prod");
    }
  });
});
