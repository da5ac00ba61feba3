/** What every topology's stack function receives and returns. */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../infra/config";

export interface StackContext {
  config: StackConfig;
  kubernetes: k8s.Provider;
}

/** Stack outputs; never a secret in plain text. */
export type StackOutputs = Record<string, pulumi.Input<unknown>>;

export type StackProgram = (ctx: StackContext) => StackOutputs;
