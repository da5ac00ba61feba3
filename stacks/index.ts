/** Topology name → stack program (DESIGN D1). */
import type { Topology } from "../infra/config";
import { StackProgram } from "./context";
import { v0 } from "./v0";
import { v1 } from "./v1";
import { v2 } from "./v2";

export const STACKS: Record<Topology, StackProgram> = { v0, v1, v2 };
