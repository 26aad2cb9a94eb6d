import { describe, expect, it } from "vitest";
import { ConfigError, parseProxyConfig, type ProxyConfig } from "./config.ts";

const problemsOf = (input: unknown): string[] => {
  try {
    parseProxyConfig(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe("InvalidConfig");
    return (error as ConfigError).problems;
  }
  throw new Error("expected a ConfigError");
};

const minimal = {
  cosMap: { bucket1: { host: "s3.example.com", accessKey: "AK", secretKey: "SK" } },
};

describe("parseProxyConfig", () => {
  it("accepts the predecessor's snake_case spellings (§10 per-bucket map aliases)", () => {
    const config = parseProxyConfig({
      cos_map: {
        hmac: {
          host: "s3.example.com",
          port: 8443,
          region: "eu-west-3",
          access_key: "AK1",
          secret_key: "SK1",
          "time-to-live": 60,
        },
        ibm: {
          host: "s3.eu-de.example.com",
          api_key: "api-1",
          addressing_style: "path",
          backend_bucket: "real-ibm",
        },
        ibm2: {
          host: "s3.eu-de.example.com",
          apikey: "api-2",
          upload_encodings: "signed-chunks",
          is_tls_enabled: false,
        },
        camel: {
          host: "minio.local",
          accessKey: "AK2",
          secretKey: "SK2",
          addressingStyle: "virtual",
          backendBucket: "real",
        },
      },
      hmac_keystore: [
        { access_key: "client", secret_key: "client-secret" },
        { accessKey: "c2", secretKey: "s2" },
      ],
      skip_signature_validation: false,
      server_name: "Object-Storage-Proxy",
      virtual_host_domains: [".Proxy.Example.com"],
      validator_cache_key: "object",
    });
    const hmac = config.buckets.get("hmac")!;
    expect(hmac).toMatchObject({
      port: 8443,
      region: "eu-west-3",
      ttlSeconds: 60,
      tls: true,
      addressingStyle: "virtual",
      backendBucket: "hmac",
    });
    expect(hmac.credentials).toMatchObject({ kind: "hmac", accessKeyId: "AK1" });
    expect(hmac.credentials.kind === "hmac" && hmac.credentials.secretAccessKey).toBe("SK1");
    expect(config.buckets.get("ibm")).toMatchObject({
      addressingStyle: "path",
      backendBucket: "real-ibm",
    });
    expect(config.buckets.get("ibm")!.credentials).toMatchObject({ kind: "api-key" });
    expect(config.buckets.get("ibm2")).toMatchObject({
      uploadEncodings: "signed-chunks",
      tls: false,
      port: 80,
    });
    expect(config.buckets.get("camel")!.backendBucket).toBe("real");
    expect(config.hmacKeystore.lookup("client")).toBe("client-secret");
    expect(config.hmacKeystore.lookup("c2")).toBe("s2");
    expect(config.serverName).toBe("Object-Storage-Proxy");
    expect(config.virtualHostDomains).toEqual(["proxy.example.com"]);
    expect(config.validatorCacheKey).toBe("object");
  });

  it("applies documented defaults: port 443 (80 without TLS), us-east-1, ttl 300 s, verify on", () => {
    const config = parseProxyConfig(minimal);
    expect(config.buckets.get("bucket1")).toMatchObject({
      port: 443,
      region: "us-east-1",
      tls: true,
      addressingStyle: "virtual",
      ttlSeconds: 300,
      uploadEncodings: "all",
    });
    expect(config).toMatchObject({
      skipSignatureValidation: false,
      verifyTls: true,
      serverName: "OSP",
      secretsCacheTtlMs: 300_000,
      negativeCacheTtlMs: 30_000,
      maxSkewMs: 900_000,
      validatorCacheKey: "operation",
    });
  });

  it("D-4: rejects a skipSignatureValidation that is not strictly boolean (None must not disable verification)", () => {
    for (const value of [null, "true", 1, "false", 0]) {
      const problems = problemsOf({ ...minimal, skipSignatureValidation: value });
      expect(problems.join("\n")).toMatch(/skipSignatureValidation: must be true or false/);
    }
    expect(problemsOf({ ...minimal, skip_signature_validation: null })[0]).toMatch(
      /skipSignatureValidation/,
    );
  });

  it("D-27: reports every problem at once, each naming the bucket and the field", () => {
    const problems = problemsOf({
      cosMap: {
        a: { host: "https://s3.example.com", accessKey: "AK" },
        b: {
          host: "s3.example.com",
          port: "http",
          apiKey: "k",
          ttl: -1,
          addressingStyle: "sideways",
        },
        c: { port: 443, apiKey: "k", uploadEncodings: "gzip" },
      },
    });
    const text = problems.join("\n");
    expect(text).toContain('cosMap["a"].host: must be a host name without scheme or path');
    expect(text).toContain('cosMap["a"].secretKey: is required when accessKey is given');
    expect(text).toContain('cosMap["b"].port: must be an integer between 1 and 65535');
    expect(text).toContain('cosMap["b"].ttl: must be a non-negative integer');
    expect(text).toContain('cosMap["b"].addressingStyle: must be "virtual" or "path"');
    expect(text).toContain('cosMap["c"].host: is required');
    expect(text).toContain('cosMap["c"].uploadEncodings: must be "all" or "signed-chunks"');
    expect(problems).toHaveLength(7);
  });

  it("D-27: names an unset environment variable (null value) instead of crashing", () => {
    const problems = problemsOf({
      cosMap: { aws: { host: "s3.example.com", access_key: null, secret_key: null } },
    });
    expect(problems.join("\n")).toContain(
      'cosMap["aws"].accessKey: is null (an unset environment variable?)',
    );
  });

  it("rejects a bucket without credentials when no bucketCredsFetcher is configured", () => {
    expect(problemsOf({ cosMap: { lonely: { host: "s3.example.com" } } })[0]).toMatch(
      /cosMap\["lonely"\]: has no credentials/,
    );
    const config = parseProxyConfig({
      cosMap: { lonely: { host: "s3.example.com" } },
      bucketCredsFetcher: () => "key",
    });
    expect(config.buckets.get("lonely")!.credentials).toEqual({ kind: "fetch" });
  });

  it("rejects a host with a port, asking for the port field", () => {
    expect(problemsOf({ cosMap: { b: { host: "s3.example.com:9000", apiKey: "k" } } })[0]).toMatch(
      /put the port in "port"/,
    );
  });

  it("rejects virtual addressing for a bucket alias that cannot be a host label", () => {
    expect(
      problemsOf({
        cosMap: { b: { host: "s3.example.com", apiKey: "k", backendBucket: "under_score" } },
      })[0],
    ).toMatch(/"virtual" needs a bucket name usable in a host name/);
  });

  it("rejects callbacks that are not functions and malformed key stores", () => {
    const text = problemsOf({
      ...minimal,
      validator: "yes",
      hmacFetcher: 1,
      hmacKeystore: [
        { accessKey: "a" },
        "x",
        { accessKey: "a", secretKey: "s" },
        { accessKey: "a", secretKey: "t" },
      ],
    }).join("\n");
    expect(text).toContain("validator: must be a function");
    expect(text).toContain("hmacFetcher: must be a function");
    expect(text).toContain("hmacKeystore[0].secretKey: must be a non-empty string");
    expect(text).toContain("hmacKeystore[1]: must be an object");
    expect(text).toContain('hmacKeystore[3].accessKey: duplicate access key "a"');
  });

  it("rejects a field given under two spellings with different values", () => {
    expect(problemsOf({ ...minimal, cos_map: {} }).join("\n")).toContain(
      'cosMap: given twice with different values (as "cosMap" and "cos_map")',
    );
  });

  it("warns about unknown fields and ignores the server's listener fields silently", () => {
    const warnings: string[] = [];
    parseProxyConfig(
      {
        ...minimal,
        http_port: 6190,
        threads: 2,
        colour: "blue",
        cosMap: { b: { host: "h.example", apiKey: "k", acess_key: "typo", instance: "x" } },
      },
      { onWarning: (message) => warnings.push(message) },
    );
    expect(warnings).toEqual([
      "colour: unknown field, ignored",
      'cosMap["b"].acess_key: unknown field, ignored',
      expect.stringContaining("no hmacKeystore"),
    ]);
  });

  it("D-26: never echoes a secret, and logging the config shows none", () => {
    const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const config: ProxyConfig = parseProxyConfig({
      cosMap: {
        b: { host: "s3.example.com", accessKey: "AK", secretKey: secret },
        c: { host: "s3.example.com", apiKey: `api-${secret}` },
      },
      hmacKeystore: [{ accessKey: "client", secretKey: `client-${secret}` }],
    });
    expect(
      JSON.stringify(config, (_key, value) =>
        value instanceof Map ? Object.fromEntries(value) : value,
      ),
    ).not.toContain(secret);
    const problems = problemsOf({
      cosMap: { b: { host: "s3.example.com", accessKey: "AK", secretKey: "   " } },
    });
    expect(problems[0]).toContain("got an empty string");
  });

  it("rejects a configuration that is not an object", () => {
    expect(problemsOf(null)).toEqual(["config: must be an object (got null)"]);
    expect(problemsOf({})).toEqual(["cosMap: is required (bucket name → backend)"]);
  });
});
