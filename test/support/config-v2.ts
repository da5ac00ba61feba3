/** Stack config for the v2 tests: the smallest valid v2 configuration and a runner for it. */
import { program } from "../../infra/program";
import { Graph, runGraph } from "./graph";
import { V1_SECRET_KEYS, VALID_V1 } from "./config-v1";

export const VALID_V2: Record<string, string> = {
  ...VALID_V1,
  topology: "v2",
  hubExternalHost: "hub.airbyte.example.com",
};

/** Runs the real program for `config` (v2 by default) under mocks. */
export function runV2Stack(config: Record<string, string> = VALID_V2): Promise<Graph> {
  return runGraph(() => program(), { stack: "v2", config, secretKeys: V1_SECRET_KEYS });
}
