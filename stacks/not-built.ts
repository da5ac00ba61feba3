/** Topologies whose issue has not landed yet fail clearly instead of deploying half a system. */
import { StackProgram } from "./context";

export function notBuiltYet(topology: string, issue: string): StackProgram {
  return () => {
    throw new Error(
      `airbyte:topology: ${topology} is not built yet (${issue}); ` +
        `use v0 for now: pulumi config set airbyte:topology v0`,
    );
  };
}
