/** The providers every stack shares. */
import * as k8s from "@pulumi/kubernetes";
import type { StackConfig } from "./config";

/**
 * The Kubernetes provider, explicit so the target cluster is part of the stack config rather than
 * whatever kubeconfig context happens to be current.
 */
export function kubernetesProvider(config: StackConfig): k8s.Provider {
  return new k8s.Provider("kubernetes", {
    ...(config.kubeContext ? { context: config.kubeContext } : {}),
    // Server-side apply lets the bootloader own the keys it adds to airbyte-auth-secrets.
    enableServerSideApply: true,
  });
}
