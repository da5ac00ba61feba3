/** Runs the real program for a topology under mocks, with the same config a user would set. */
import { program } from "../../infra/program";
import { Graph, runGraph } from "./graph";
import { SECRET_KEYS, VALID_V0 } from "./config";

export async function runStack(
  config: Record<string, string> = VALID_V0,
  stack = String(config.topology ?? "v0"),
): Promise<Graph> {
  return runGraph(() => program(), { stack, config, secretKeys: SECRET_KEYS });
}
