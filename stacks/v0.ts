/**
 * v0: one production Airbyte with its bundled database (DESIGN §1). While the stack still names
 * `core-worker-01` (after a move v1 -> v0), its roles and databases stay managed, untouched: the
 * PostgreSQL provider cannot adopt existing ones, so letting them leave the state would make the
 * way back to v1 fail on CREATE ROLE (docs/runbooks.md, "What the program protects").
 */
import { StackContext, StackOutputs } from "./context";
import { production } from "./prod";
import { coreWorker01 } from "./standby";

export function v0(ctx: StackContext): StackOutputs {
  const { instance } = production(ctx);
  const kept = ctx.config.coreWorker ? coreWorker01(ctx, ctx.config.coreWorker) : undefined;
  return {
    topology: "v0",
    url: instance.url,
    namespace: instance.namespace,
    services: instance.serviceNames,
    ...(kept ? { coreWorkerHost: kept.host } : {}),
  };
}
