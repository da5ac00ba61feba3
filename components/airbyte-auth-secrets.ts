/**
 * The values of Airbyte's `airbyte-auth-secrets` Secret, generated once per stack (DESIGN D2,
 * reference §7). Prod and the standby replica receive the same instance, so tokens prod issued
 * (signed with the JWT key) and the instance admin credentials stay valid after a failover.
 */
import * as pulumi from "@pulumi/pulumi";
import { generatedPassword, generatedUuid } from "./lib/secrets";

/**
 * The four seed values of `airbyte-auth-secrets` (reference §7). The dataplane pair is absent on
 * purpose: only the bootloader can create it (see `AirbytePlatform`).
 */
export interface AirbyteAuthValues {
  /** Key `instance-admin-password`: password of the instance admin user. */
  instanceAdminPassword: pulumi.Input<string>;
  /** Key `instance-admin-client-id`: a UUID, the instance admin's API client id. */
  instanceAdminClientId: pulumi.Input<string>;
  /** Key `instance-admin-client-secret`: the instance admin's API client secret. */
  instanceAdminClientSecret: pulumi.Input<string>;
  /** Key `jwt-signature-secret`: HMAC key of every token the server issues. */
  jwtSignatureSecret: pulumi.Input<string>;
}

export interface AirbyteAuthSecretsArgs {
  /**
   * Length of the generated password and secrets, at least 32. Default: `32`, the length the
   * bootloader itself would generate.
   */
  length?: number;
}

/**
 * Generates the auth values with @pulumi/random. Create it once per stack and hand it to every
 * `AirbytePlatform`; every output is a Pulumi secret.
 */
export class AirbyteAuthSecrets extends pulumi.ComponentResource implements AirbyteAuthValues {
  public readonly instanceAdminPassword: pulumi.Output<string>;
  public readonly instanceAdminClientId: pulumi.Output<string>;
  public readonly instanceAdminClientSecret: pulumi.Output<string>;
  public readonly jwtSignatureSecret: pulumi.Output<string>;

  constructor(
    name: string,
    args: AirbyteAuthSecretsArgs = {},
    opts?: pulumi.ComponentResourceOptions,
  ) {
    const length = args.length ?? 32;
    // The JWT key signs with HS256, whose signer refuses keys under 256 bits (32 characters).
    if (!Number.isInteger(length) || length < 32) {
      throw new Error(`AirbyteAuthSecrets ${name}: length must be an integer >= 32, got ${length}`);
    }
    super("airbyte:platform:AirbyteAuthSecrets", name, {}, opts);

    this.instanceAdminPassword = generatedPassword(`${name}-instance-admin-password`, this, length);
    this.instanceAdminClientId = generatedUuid(`${name}-instance-admin-client-id`, this);
    this.instanceAdminClientSecret = generatedPassword(
      `${name}-instance-admin-client-secret`,
      this,
      length,
    );
    this.jwtSignatureSecret = generatedPassword(`${name}-jwt-signature-secret`, this, length);

    this.registerOutputs({
      instanceAdminPassword: this.instanceAdminPassword,
      instanceAdminClientId: this.instanceAdminClientId,
      instanceAdminClientSecret: this.instanceAdminClientSecret,
      jwtSignatureSecret: this.jwtSignatureSecret,
    });
  }
}
