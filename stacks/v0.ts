/** v0: one production Airbyte with its bundled database (DESIGN §1). */
import { StackContext, StackOutputs } from "./context";
import { production } from "./prod";

export function v0(ctx: StackContext): StackOutputs {
  const { instance } = production(ctx);
  return {
    topology: "v0",
    url: instance.url,
    namespace: instance.namespace,
    services: instance.serviceNames,
  };
}
