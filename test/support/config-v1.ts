/** Stack config for the v1 tests: the smallest valid v1 configuration and a runner for it. */
import { program } from "../../infra/program";
import { VALID_V0 } from "./config";
import { Graph, runGraph } from "./graph";

/** Recognisable, so tests can look for it where it must not be. */
export const CORE_WORKER_ADMIN_PASSWORD = "core-worker-admin-pw-5e1b";

export const VALID_V1: Record<string, string> = {
  ...VALID_V0,
  topology: "v1",
  coreWorkerHost: "10.0.4.21",
  coreWorkerAdminPassword: CORE_WORKER_ADMIN_PASSWORD,
  replicaHost: "airbyte-replica.example.com",
  migrationImage: "ghcr.io/acme/airbyte-migrate:0.1.0",
};

export const V1_SECRET_KEYS = ["oauthClientSecret", "coreWorkerAdminPassword"];

/** Runs the real program for `config` (v1 by default) under mocks. */
export function runV1Stack(config: Record<string, string> = VALID_V1): Promise<Graph> {
  return runGraph(() => program(), { stack: "v1", config, secretKeys: V1_SECRET_KEYS });
}
