/** Airbyte's `DATABASE_URL`: JDBC, with optional parameters such as `sslmode` (pitfall 2). */
import * as pulumi from "@pulumi/pulumi";
import type { JdbcParameters } from "../airbyte-platform";

/**
 * The `?a=1&b=2` tail of `DATABASE_URL`: names sorted, values URL-encoded. Throws on credentials,
 * which would otherwise land in the ConfigMap.
 */
export function jdbcQuery(parameters: string | Record<string, string>): string {
  const map: Record<string, string> =
    typeof parameters === "string"
      ? Object.fromEntries(new URLSearchParams(parameters))
      : parameters;
  const names = Object.keys(map).sort();
  for (const n of names) {
    if (/^(user|password)$/i.test(n)) {
      throw new Error(
        `database.jdbcParameters.${n}: credentials may not go into DATABASE_URL (a ConfigMap); ` +
          `use database.user and database.password`,
      );
    }
  }
  const pairs = names.map((n) => `${encodeURIComponent(n)}=${encodeURIComponent(map[n])}`);
  return pairs.length ? `?${pairs.join("&")}` : "";
}

/** `jdbc:postgresql://host:port/db` plus {@link jdbcQuery}. */
export function databaseUrl(
  host: pulumi.Input<string>,
  port: pulumi.Input<number>,
  database: pulumi.Input<string>,
  parameters?: pulumi.Input<JdbcParameters>,
): pulumi.Output<string> {
  const query = pulumi.output(parameters ?? {}).apply(jdbcQuery);
  return pulumi.interpolate`jdbc:postgresql://${host}:${port}/${database}${query}`;
}
