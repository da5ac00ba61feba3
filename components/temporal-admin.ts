/**
 * Operator access to one Airbyte's Temporal: an idle admin-tools pod for
 * `kubectl exec … temporal operator …`, and the Temporal UI served under a path prefix behind the
 * OAuth2 Proxy (DESIGN D3, D4). Neither has authentication of its own: only the proxy reaches the
 * UI, and the admin tools have no Service at all.
 */
import * as pulumi from "@pulumi/pulumi";
import { IMAGES } from "../infra/versions";
import { LabelSpec, imageTag } from "../infra/naming";
import {
  ResourceBounds,
  containerSecurityContext,
  deployment,
  execProbe,
  httpProbe,
  plainEnv,
  podSecurityContext,
  resources,
  scratchVolume,
  service,
  serviceHost,
} from "./lib/kube";
import { AIRBYTE_TEMPORAL_NAMESPACE } from "./temporal";

/** uid/gid of `temporal` in the admin-tools image. */
const ADMIN_TOOLS_UID = 1000;
/** uid/gid of `temporal` in the ui-server image. */
const UI_UID = 5000;
const UI_PORT = 8080;
const PUBLIC_PATH = /^(\/[A-Za-z0-9._~-]+)+$/;

export interface TemporalAdminResources {
  /** Default: 10m/64Mi requested, 500m/256Mi limit. */
  adminTools?: ResourceBounds;
  /** Default: 50m/64Mi requested, 250m/256Mi limit. */
  ui?: ResourceBounds;
}

export interface TemporalAdminArgs {
  /** Namespace to deploy into. */
  namespace: pulumi.Input<string>;
  /** Prefix of every object name: `<instanceName>-temporal-ui`, `<instanceName>-temporal-admin-tools`. */
  instanceName: string;
  /** `host:port` of the Temporal frontend (the Temporal component's `address`). */
  temporalAddress: pulumi.Input<string>;
  /**
   * Path prefix the UI is served under, without a trailing slash; the proxy must forward it
   * unchanged. Default: `/temporal`.
   */
  publicPath?: string;
  /**
   * External origin allowed to call the UI's API cross-origin, e.g. `https://airbyte.example.com`.
   * Not needed when the UI is reached through the proxy on the same origin. Default: none (the UI's
   * own default, `http://localhost:8080`, which no browser origin outside the pod matches).
   */
  corsOrigin?: pulumi.Input<string>;
  /** Deploy the admin-tools pod. Default: `true`. */
  enableAdminTools?: boolean;
  resources?: TemporalAdminResources;
}

const DEFAULT_ADMIN_TOOLS_RESOURCES: ResourceBounds = {
  requests: { cpu: "10m", memory: "64Mi" },
  limits: { cpu: "500m", memory: "256Mi" },
};
const DEFAULT_UI_RESOURCES: ResourceBounds = {
  requests: { cpu: "50m", memory: "64Mi" },
  limits: { cpu: "250m", memory: "256Mi" },
};

interface Settings {
  publicPath: string;
  enableAdminTools: boolean;
  adminToolsResources: ResourceBounds;
  uiResources: ResourceBounds;
}

function settingsOf(args: TemporalAdminArgs): Settings {
  const publicPath = args.publicPath ?? "/temporal";
  if (!PUBLIC_PATH.test(publicPath)) {
    throw new Error(
      `TemporalAdmin: publicPath '${publicPath}' must start with '/', not end with '/', and use only URL-safe characters (e.g. /temporal)`,
    );
  }
  return {
    publicPath,
    enableAdminTools: args.enableAdminTools ?? true,
    adminToolsResources: args.resources?.adminTools ?? DEFAULT_ADMIN_TOOLS_RESOURCES,
    uiResources: args.resources?.ui ?? DEFAULT_UI_RESOURCES,
  };
}

export class TemporalAdmin extends pulumi.ComponentResource {
  public readonly uiServiceName: pulumi.Output<string>;
  /** In-cluster DNS name of the UI Service. */
  public readonly uiHost: pulumi.Output<string>;
  /** UI Service port, 8080. */
  public readonly uiPort: pulumi.Output<number>;
  /** Path prefix with a trailing slash (`/temporal/`), as a proxy route takes it. */
  public readonly uiPath: pulumi.Output<string>;
  /** `metadata.name` of the admin-tools Deployment, for `kubectl exec deploy/<name>`; absent when disabled. */
  public readonly adminToolsName?: pulumi.Output<string>;

  constructor(name: string, args: TemporalAdminArgs, opts?: pulumi.ComponentResourceOptions) {
    const s = settingsOf(args);
    super("airbyte:temporal:TemporalAdmin", name, {}, opts);
    const child = { parent: this };

    if (s.enableAdminTools) {
      const adminLabels: LabelSpec = {
        name: "temporal-admin-tools",
        instance: args.instanceName,
        component: "workflow-engine",
        version: imageTag(IMAGES.temporalAdminTools),
      };
      // The CLI answering proves the container and its tools are intact; reachability of Temporal
      // is deliberately not part of it, so a Temporal outage does not restart the toolbox.
      const cliWorks = ["temporal", "--version"];
      const tools = deployment(
        `${name}-admin-tools`,
        {
          namespace: args.namespace,
          name: `${args.instanceName}-temporal-admin-tools`,
          labels: adminLabels,
          replicas: 1,
          securityContext: podSecurityContext(ADMIN_TOOLS_UID),
          // The image's entrypoint idles (`sleep infinity`): it is there to exec into.
          terminationGracePeriodSeconds: 5,
          containers: [
            {
              name: "admin-tools",
              image: IMAGES.temporalAdminTools,
              env: plainEnv({
                TEMPORAL_ADDRESS: args.temporalAddress,
                // tctl, still in the image, reads the older name.
                TEMPORAL_CLI_ADDRESS: args.temporalAddress,
                TEMPORAL_NAMESPACE: AIRBYTE_TEMPORAL_NAMESPACE,
              }),
              livenessProbe: execProbe(cliWorks, { periodSeconds: 60 }),
              readinessProbe: execProbe(cliWorks, { periodSeconds: 30 }),
              resources: resources(s.adminToolsResources),
              securityContext: containerSecurityContext(),
              // A writable home and /tmp for CLI env files and exported histories.
              volumeMounts: [
                { name: "home", mountPath: "/home/temporal" },
                { name: "tmp", mountPath: "/tmp" },
              ],
            },
          ],
          volumes: [scratchVolume("home", "64Mi"), scratchVolume("tmp")],
        },
        child,
      );
      this.adminToolsName = tools.metadata.name;
    }

    const uiLabels: LabelSpec = {
      name: "temporal-ui",
      instance: args.instanceName,
      component: "workflow-engine",
      version: imageTag(IMAGES.temporalUi),
    };
    const uiName = `${args.instanceName}-temporal-ui`;
    deployment(
      `${name}-ui`,
      {
        namespace: args.namespace,
        name: uiName,
        labels: uiLabels,
        replicas: 1,
        securityContext: podSecurityContext(UI_UID),
        containers: [
          {
            name: "temporal-ui",
            image: IMAGES.temporalUi,
            ports: [{ name: "http", containerPort: UI_PORT }],
            env: plainEnv({
              TEMPORAL_ADDRESS: args.temporalAddress,
              TEMPORAL_UI_PORT: String(UI_PORT),
              TEMPORAL_UI_PUBLIC_PATH: s.publicPath,
              TEMPORAL_DEFAULT_NAMESPACE: AIRBYTE_TEMPORAL_NAMESPACE,
              // Authentication is the OAuth2 Proxy's job (D4); say so rather than rely on a default.
              TEMPORAL_AUTH_ENABLED: "false",
              // The Ingress terminates TLS, so the CSRF cookie can and should be Secure.
              TEMPORAL_CSRF_COOKIE_INSECURE: "false",
              // The image is pinned; a banner about newer releases only distracts.
              TEMPORAL_NOTIFY_ON_NEW_VERSION: "false",
              ...(args.corsOrigin ? { TEMPORAL_CORS_ORIGINS: args.corsOrigin } : {}),
            }),
            // `/healthz` is answered outside the public path, so probes need no prefix.
            livenessProbe: httpProbe("/healthz", "http"),
            readinessProbe: httpProbe("/healthz", "http", { periodSeconds: 5 }),
            resources: resources(s.uiResources),
            securityContext: containerSecurityContext(),
            // The entrypoint renders its config file into ./config at every start.
            volumeMounts: [{ name: "config", mountPath: "/home/ui-server/config" }],
          },
        ],
        volumes: [scratchVolume("config", "16Mi")],
      },
      child,
    );

    const uiService = service(
      `${name}-ui-service`,
      {
        namespace: args.namespace,
        name: uiName,
        labels: uiLabels,
        ports: [{ name: "http", port: UI_PORT, targetPort: "http" }],
      },
      child,
    );

    this.uiServiceName = uiService.metadata.name;
    this.uiHost = serviceHost(uiService.metadata.name, args.namespace);
    this.uiPort = pulumi.output(UI_PORT);
    this.uiPath = pulumi.output(`${s.publicPath}/`);
    this.registerOutputs({
      uiServiceName: this.uiServiceName,
      uiHost: this.uiHost,
      uiPort: this.uiPort,
      uiPath: this.uiPath,
      ...(this.adminToolsName ? { adminToolsName: this.adminToolsName } : {}),
    });
  }
}
