/**
 * The policy pack entry, for `pulumi preview --policy-pack policy` (and `up`). Only this module
 * constructs the `PolicyPack`: that starts the policy server, so tests and `render` import
 * `policies.ts` and `offline.ts` instead.
 */
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("airbyte-security", {
  description: "Security by default for Airbyte on Kubernetes (docs/security.md).",
  enforcementLevel: "mandatory",
  policies,
});
