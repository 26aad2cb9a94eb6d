import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { formatIssues, knownKeysAt, suggestKey } from "./issues.ts";
import { configJsonSchema, fileConfigSchema } from "./schema.ts";

const problemsOf = (input: unknown): string[] => {
  const result = fileConfigSchema.safeParse(input, { reportInput: true });
  return result.success ? [] : formatIssues(result.error.issues, fileConfigSchema);
};

describe("config-schema.json", () => {
  it("is the current JSON Schema of the zod schema (regenerate: node scripts/gen-schema.mjs)", () => {
    const committed = JSON.parse(
      readFileSync(new URL("../../config-schema.json", import.meta.url), "utf8"),
    ) as unknown;
    expect(committed).toEqual(configJsonSchema());
  });

  it("describes every top-level field and forbids unknown ones", () => {
    const schema = configJsonSchema() as {
      properties: Record<string, { description?: string }>;
      additionalProperties: boolean;
    };
    expect(schema.additionalProperties).toBe(false);
    for (const [name, property] of Object.entries(schema.properties)) {
      expect(property.description, name).toBeTruthy();
    }
  });
});

describe("fileConfigSchema", () => {
  it("accepts a full configuration, converting interpolated numbers and booleans", () => {
    const result = fileConfigSchema.parse({
      $schema: "./node_modules/@osp/cli/config-schema.json",
      httpPort: "6190",
      httpsPort: 8443,
      tlsCertPath: "cert.pem",
      tlsKeyPath: "key.pem",
      threads: 2,
      requestCounting: "true",
      cosMap: {
        "proxy-bucket01": {
          host: "s3.eu-de.cloud-object-storage.appdomain.cloud",
          port: 443,
          ttl: 300,
          api_key: "k",
        },
      },
      hmac_keystore: [{ access_key: "a", secret_key: "s" }],
      clientKeys: { static: [{ accessKey: "b", secretKey: "t" }], env: { prefix: "CLIENT_" } },
      validator: {
        webhook: {
          url: "https://authz.internal/decide",
          timeoutMs: 500,
          headers: { authorization: "Bearer x" },
        },
      },
      bucketCredentials: { apiKeyEnv: "COS_API_KEY" },
    });
    expect(result.httpPort).toBe(6190);
    expect(result.requestCounting).toBe(true);
  });

  it("reports each problem on its own line with the field path and the value", () => {
    expect(
      problemsOf({
        httpPort: -1,
        threads: "many",
        logLevel: "loud",
        cosMap: { b: { host: "", port: 0, secretKey: 12 }, "bad name!": { host: "h" } },
        hmacKeystore: [{ accessKey: "a", secretKye: "s" }],
      }),
    ).toEqual([
      "httpPort: must be an integer from 0 to 65535 (got -1)",
      'threads: must be an integer from 1 to 1024 (got "many")',
      'logLevel: must be one of fatal, error, warn, info, debug, trace, silent (got "loud")',
      'cosMap["b"].host: must not be empty',
      'cosMap["b"].port: must be an integer from 1 to 65535 (got 0)',
      'cosMap["b"].secretKey: must be a string (got 12)',
      'cosMap["bad name!"]: is not a valid bucket name',
      'hmacKeystore[0].secretKye: unknown field (did you mean "secretKey"?)',
    ]);
  });

  it("never repeats a secret field's text", () => {
    const problems = problemsOf({ cosMap: { b: { host: "h", apiKey: "" } }, tlsKey: "" });
    expect(problems).toEqual([
      "tlsKey: must not be empty",
      'cosMap["b"].apiKey: must not be empty',
    ]);
    expect(problemsOf({ cosMap: { b: { host: "h", secretKey: ["s3cr3t"] } } })).toEqual([
      'cosMap["b"].secretKey: must be a string (got a list)',
    ]);
    expect(
      problemsOf({ validator: { webhook: { url: "http://a", headers: { authorization: 7 } } } }),
    ).toEqual(['validator.webhook.headers["authorization"]: must be a string (got 7)']);
  });

  it("requires exactly one bucket credentials provider and some client key source", () => {
    expect(problemsOf({ bucketCredentials: {} })).toEqual([
      'bucketCredentials: needs exactly one of "env" and "apiKeyEnv"',
    ]);
    expect(problemsOf({ bucketCredentials: { env: true, apiKeyEnv: "K" } })).toEqual([
      'bucketCredentials: needs exactly one of "env" and "apiKeyEnv"',
    ]);
    expect(problemsOf({ clientKeys: { env: false } })).toEqual([
      'clientKeys: needs "static" or "env"',
    ]);
    expect(problemsOf({ bucketCredentials: { apiKeyEnv: "NOT-A-NAME" } })).toEqual([
      'bucketCredentials.apiKeyEnv: must be an environment variable name (letters, digits, _) (got "NOT-A-NAME")',
    ]);
  });
});

describe("knownKeysAt / suggestKey", () => {
  it("finds the field names at a path, through maps and lists", () => {
    expect(knownKeysAt(fileConfigSchema, ["cosMap", "any"])).toContain("addressingStyle");
    expect(knownKeysAt(fileConfigSchema, ["hmacKeystore", 0])).toEqual([
      "accessKey",
      "secretKey",
      "access_key",
      "secret_key",
    ]);
    expect(knownKeysAt(fileConfigSchema, ["validator", "webhook"])).toEqual([
      "url",
      "timeoutMs",
      "headers",
    ]);
  });

  it("suggests only close names", () => {
    expect(suggestKey("adressingStyle", ["addressingStyle", "host"])).toBe("addressingStyle");
    expect(suggestKey("HTTPPORT", ["httpPort"])).toBe("httpPort");
    expect(suggestKey("banana", ["httpPort", "host"])).toBeUndefined();
  });
});
