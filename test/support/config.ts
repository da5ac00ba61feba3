/** Stack config for tests: a valid baseline and a map-backed ConfigSource. */
import * as pulumi from "@pulumi/pulumi";
import type { ConfigSource } from "../../infra/config";

/** The smallest valid v0 configuration. */
export const VALID_V0: Record<string, string> = {
  topology: "v0",
  prodHost: "airbyte.example.com",
  allowedSourceRanges: JSON.stringify(["203.0.113.0/24"]),
  oauthClientId: "client-id.apps.example.com",
  oauthClientSecret: "test-client-secret-value",
  oauthAllowedEmailDomains: JSON.stringify(["example.com"]),
};

export const SECRET_KEYS = ["oauthClientSecret"];

export function mapSource(values: Record<string, string>): ConfigSource {
  return {
    get: (k) => values[k],
    getSecret: (k) => (values[k] === undefined ? undefined : pulumi.secret(values[k])),
    isSet: (k) => Boolean(values[k]),
    keys: () => Object.keys(values).map((k) => `airbyte:${k}`),
  };
}
