/** Ports, probes and object names of each Airbyte service (reference §2). */
import type { PlatformService } from "../airbyte-platform";
import { Probe, httpProbe } from "../lib/kube";

/** Micronaut management endpoints of every Airbyte Java service. */
export const MANAGEMENT_PORT = 8085;
export const SERVER_PORT = 8001;
export const WORKLOAD_API_PORT = 8007;
export const WORKLOAD_API_SERVICE_PORT = 8001;
export const BUILDER_PORT = 8080;
export const BUILDER_SERVICE_PORT = 80;
export const WORKER_HEARTBEAT_PORT = 9000;
export const LAUNCHER_HEARTBEAT_PORT = 8016;

/** A container port and the probes that watch the service. */
export interface Runtime {
  ports: { name: string; containerPort: number }[];
  liveness: Probe;
  readiness: Probe;
}

export function runtimes(): Record<Exclude<PlatformService, "bootloader">, Runtime> {
  const management = { name: "management", containerPort: MANAGEMENT_PORT };
  return {
    // Upstream probes (reference §2); liveness timeouts are generous because a busy JVM answers
    // slowly, and a restart would only make it busier.
    server: {
      ports: [{ name: "http", containerPort: SERVER_PORT }, management],
      liveness: httpProbe("/api/v1/health", "http", { timeoutSeconds: 10 }),
      readiness: httpProbe("/api/v1/health", "http", { timeoutSeconds: 10 }),
    },
    worker: {
      ports: [{ name: "heartbeat", containerPort: WORKER_HEARTBEAT_PORT }, management],
      liveness: httpProbe("/", "heartbeat", { timeoutSeconds: 10 }),
      readiness: httpProbe("/", "heartbeat"),
    },
    workloadLauncher: {
      ports: [{ name: "heartbeat", containerPort: LAUNCHER_HEARTBEAT_PORT }, management],
      liveness: httpProbe("/health/liveness", "management", { timeoutSeconds: 10 }),
      readiness: httpProbe("/health/readiness", "management"),
    },
    workloadApiServer: {
      ports: [{ name: "http", containerPort: WORKLOAD_API_PORT }, management],
      liveness: httpProbe("/health/liveness", "management", { timeoutSeconds: 10 }),
      readiness: httpProbe("/health/liveness", "management"),
    },
    // Upstream has no cron probes (pitfall 9). Cron is a Micronaut app like the launcher and
    // serves the same management endpoints on 8085; its own port 9001 serves nothing useful.
    cron: {
      ports: [management],
      liveness: httpProbe("/health/liveness", "management", { timeoutSeconds: 10 }),
      readiness: httpProbe("/health/readiness", "management"),
    },
    connectorBuilderServer: {
      ports: [{ name: "http", containerPort: BUILDER_PORT }, management],
      liveness: httpProbe("/v1/health", "http", { timeoutSeconds: 10 }),
      readiness: httpProbe("/v1/health", "http"),
    },
  };
}

/** Kubernetes object names of a service. */
export const OBJECT_SUFFIX: Record<PlatformService, string> = {
  server: "server",
  worker: "worker",
  workloadLauncher: "workload-launcher",
  workloadApiServer: "workload-api-server",
  cron: "cron",
  connectorBuilderServer: "connector-builder-server",
  bootloader: "bootloader",
};
