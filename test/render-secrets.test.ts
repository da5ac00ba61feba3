import { describe, expect, it } from "vitest";
import {
  collectSensitiveValues,
  formatLeak,
  scanSecrets,
  valueAt,
  type SensitiveValue,
} from "../infra/render/secrets-scan";
import {
  configMapBody,
  deploymentBody,
  kube,
  recorded,
  secretBody,
} from "./fixtures/render/objects";

const password: SensitiveValue = {
  value: "s3cr3t-db-password",
  origin: "secret config airbyte:dbPassword",
};

describe("secret scan", () => {
  it("catches a secret value in a ConfigMap and names the object and field", () => {
    const scan = scanSecrets(
      [kube(configMapBody({ DATABASE_URL: `postgres://airbyte:${password.value}@db:5432/x` }))],
      [password],
    );
    expect(scan.leaks.map(formatLeak)).toEqual([
      "ConfigMap airbyte-prod/airbyte-prod-env: data.DATABASE_URL: contains secret config airbyte:dbPassword",
    ]);
  });

  it("passes secret values inside Secrets and counts those Secrets", () => {
    const scan = scanSecrets(
      [
        kube(secretBody({ password: password.value })),
        kube(configMapBody({ DATABASE_HOST: "db" })),
      ],
      [password],
    );
    expect(scan.leaks).toEqual([]);
    expect(scan.secretObjects).toEqual(["Secret airbyte-prod/airbyte-prod-secrets"]);
  });

  it("catches a base64-encoded secret, in a plain env value or an annotation", () => {
    const b64 = Buffer.from(password.value).toString("base64");
    const body = deploymentBody({ env: [{ name: "TOKEN", value: b64 }] });
    const scan = scanSecrets([kube(body)], [password]);
    expect(scan.leaks.map(formatLeak)).toEqual([
      "Deployment airbyte-prod/airbyte-prod-server: spec.template.spec.containers[0].env[0].value: contains secret config airbyte:dbPassword (base64)",
    ]);
  });

  it("flags an input Pulumi tracks as secret outside a Secret, even with an unknown value", () => {
    const o = kube(deploymentBody({ args: ["--token=abc"] }), {
      secretPaths: ["spec.template.spec.containers[0].args[0]"],
    });
    const [leak] = scanSecrets([o], []).leaks;
    expect(leak.path).toBe("spec.template.spec.containers[0].args[0]");
    expect(leak.message).toMatch(/Pulumi secret outside a Secret/);
  });

  it("checks unsecret outputs and skips secret ones", () => {
    const outputs = [
      {
        owner: "stack outputs",
        values: { url: "https://x", dsn: `pg://u:${password.value}@h` },
        secretPaths: [],
      },
      {
        owner: "outputs of Postgres db",
        values: { password: password.value },
        secretPaths: ["password"],
      },
    ];
    expect(scanSecrets([], [password], outputs).leaks.map(formatLeak)).toEqual([
      "stack outputs: dsn: unsecret output contains secret config airbyte:dbPassword",
    ]);
  });

  it("does not search for values too short to be told apart from ordinary text", () => {
    const scan = scanSecrets(
      [kube(configMapBody({ ENABLED: "true" }))],
      [{ value: "true", origin: "x" }],
    );
    expect(scan.leaks).toEqual([]);
    expect(scan.tooShort).toEqual(["x"]);
  });
});

describe("which values are sensitive", () => {
  const resources = [
    recorded("random:index/randomPassword:RandomPassword", "db-password", { length: 32 }),
    recorded(
      "kubernetes:core/v1:Secret",
      "db-secret",
      secretBody({ password: "generated", username: "airbyte" }),
      {
        secretPaths: ["stringData"],
      },
    ),
    recorded(
      "pulumi:providers:postgresql",
      "core-worker-01",
      { host: "core-worker-01", password: "admin-pass" },
      {
        secretPaths: ["password"],
      },
    ),
  ];
  const values = collectSensitiveValues(resources, {
    "airbyte:oauthClientSecret": "placeholder-oauthClientSecret",
  });
  const origins = values.map((v) => v.origin);

  it("includes secret config, generated values and secret leaf inputs", () => {
    expect(origins).toContain("secret config airbyte:oauthClientSecret");
    expect(origins).toContain("generated RandomPassword db-password");
    expect(values.find((v) => v.value === "admin-pass")?.origin).toBe(
      "secret input password of postgresql core-worker-01",
    );
  });

  it("does not treat every member of a secret map as sensitive (a user name is not)", () => {
    expect(values.map((v) => v.value)).not.toContain("airbyte");
  });

  it("reads values at dotted and indexed paths", () => {
    expect(valueAt({ a: [{ b: "x" }] }, "a[0].b")).toBe("x");
    expect(valueAt({ a: 1 }, "a.b.c")).toBeUndefined();
  });
});
