/** Generated credentials: @pulumi/random values, always handed on as Pulumi secrets. */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

/**
 * A random alphanumeric credential. Alphanumeric because it lands in URLs, JDBC strings and shell
 * commands; 32 characters give about 190 bits.
 */
export function generatedPassword(
  name: string,
  parent: pulumi.Resource,
  length = 32,
): pulumi.Output<string> {
  const pw = new random.RandomPassword(name, { length, special: false }, { parent });
  // The engine marks `result` secret; under mocks and in a few SDK paths it does not, so we do.
  return pulumi.secret(pw.result);
}

/** A random UUID, secret (Airbyte uses one as the instance admin client id). */
export function generatedUuid(name: string, parent: pulumi.Resource): pulumi.Output<string> {
  return pulumi.secret(new random.RandomUuid(name, {}, { parent }).result);
}
