/**
 * The Pulumi program: read and validate the stack config, then build the chosen topology.
 * Exported as a function so tests, `render` and `diff` run it under the mock runtime.
 */
import { loadConfig } from "./config";
import { kubernetesProvider } from "./providers";
import { STACKS } from "../stacks";

export async function program(): Promise<Record<string, unknown>> {
  const config = loadConfig();
  return STACKS[config.topology]({ config, kubernetes: kubernetesProvider(config) });
}
