/** Names the engine suite's program entry and its tests share. */
export const SKIP_AWAIT = "pulumi.com/skipAwait";
export const DELETION_PROPAGATION = "pulumi.com/deletionPropagationPolicy";
/** Set by the policy test only: a ConfigMap value the policy pack must refuse (no-secret-material). */
export const VIOLATION_ENV = "ENGINE_POLICY_VIOLATION";
