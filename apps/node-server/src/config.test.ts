import { ConfigError } from "@osp/core";
import { describe, expect, it } from "vitest";
import { dotenvSetting, resolveServerConfig } from "./config.ts";

const cosMap = { photos: { host: "s3.example.com", accessKey: "AK", secretKey: "backend-secret" } };

const problemsOf = (input: unknown, env: Record<string, string | undefined> = {}): string[] => {
  try {
    resolveServerConfig(input, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
};

describe("resolveServerConfig", () => {
  it("applies the defaults", () => {
    const { settings, proxyConfig, warnings } = resolveServerConfig({ httpPort: 6190, cosMap }, {});
    expect(settings).toMatchObject({
      httpPort: 6190,
      bindAddress: "0.0.0.0",
      threads: 1,
      logLevel: "info",
      dotenv: ".env",
      shutdownTimeoutMs: 30_000,
      requestCounting: false,
      handleSignals: true,
    });
    expect(proxyConfig.buckets.get("photos")?.host).toBe("s3.example.com");
    // Server fields are not reported as unknown by the core's parser.
    expect(warnings.filter((warning) => warning.includes("unknown field"))).toEqual([]);
  });

  it("accepts the predecessor's snake_case spellings", () => {
    const { settings } = resolveServerConfig(
      {
        http_port: 6190,
        bind_address: "127.0.0.1",
        admin_port: 9090,
        log_level: "debug",
        shutdown_timeout_ms: 5,
        request_counting: true,
        iam_token_url: "http://127.0.0.1:1/identity/token",
        cos_map: cosMap,
      },
      {},
    );
    expect(settings).toMatchObject({
      httpPort: 6190,
      bindAddress: "127.0.0.1",
      adminPort: 9090,
      logLevel: "debug",
      shutdownTimeoutMs: 5,
      requestCounting: true,
      iamTokenUrl: "http://127.0.0.1:1/identity/token",
    });
  });

  it("requires at least one of httpPort and httpsPort", () => {
    expect(problemsOf({ cosMap })).toContain(
      "httpPort/httpsPort: at least one of them is required",
    );
  });

  it("lists server and proxy problems together", () => {
    const problems = problemsOf({
      httpPort: 70_000,
      threads: 0,
      logLevel: "loud",
      cosMap: { "bad name!": { host: "x" } },
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^httpPort: must be an integer between 0 and 65535/),
        expect.stringMatching(/^threads: must be an integer between 1 and 1024/),
        expect.stringMatching(
          /^logLevel: must be one of fatal, error, warn, info, debug, trace, silent/,
        ),
        expect.stringMatching(/^cosMap\["bad name!"\]/),
      ]),
    );
  });

  it("refuses the same fixed port twice, but allows several ephemeral ones", () => {
    expect(problemsOf({ httpPort: 8080, adminPort: 8080, cosMap })).toContain(
      "adminPort: is the same port as httpPort (8080)",
    );
    expect(problemsOf({ httpPort: 0, adminPort: 0, cosMap })).toEqual([]);
  });

  it("reports an alias given twice with different values", () => {
    expect(problemsOf({ httpPort: 1, http_port: 2, cosMap })).toContain(
      'httpPort: given twice with different values (as "httpPort" and "http_port")',
    );
  });

  it("reads OSP_LOG_LEVEL and OSP_ENABLE_REQUEST_COUNTING when the config leaves them out", () => {
    const { settings } = resolveServerConfig(
      { httpPort: 1, cosMap },
      { OSP_LOG_LEVEL: "WARN", OSP_ENABLE_REQUEST_COUNTING: "yes" },
    );
    expect(settings).toMatchObject({ logLevel: "warn", requestCounting: true });
    const explicit = resolveServerConfig(
      { httpPort: 1, cosMap, logLevel: "error", requestCounting: false },
      { OSP_LOG_LEVEL: "debug", OSP_ENABLE_REQUEST_COUNTING: "1" },
    );
    expect(explicit.settings).toMatchObject({ logLevel: "error", requestCounting: false });
    expect(problemsOf({ httpPort: 1, cosMap }, { OSP_ENABLE_REQUEST_COUNTING: "perhaps" })).toEqual(
      ['OSP_ENABLE_REQUEST_COUNTING: must be true/false, 1/0, yes/no or on/off (got "perhaps")'],
    );
  });

  it("refuses a custom transport with worker processes", () => {
    const transport = { send: async () => ({ status: 200, headers: [], body: null }) };
    expect(problemsOf({ httpPort: 1, threads: 2, transport, cosMap })).toContain(
      "transport: a custom transport cannot be sent to worker processes; use threads: 1",
    );
    expect(resolveServerConfig({ httpPort: 1, transport, cosMap }, {}).settings.transport).toBe(
      transport,
    );
  });

  it("takes the backend timeouts in either spelling, and keeps the transport's defaults otherwise", () => {
    expect(resolveServerConfig({ httpPort: 1, cosMap }, {}).settings.backendTimeouts).toEqual({});
    const { settings } = resolveServerConfig(
      {
        httpPort: 1,
        cosMap,
        backendConnectTimeoutMs: 2_000,
        backend_headers_timeout_ms: 0,
        backendBodyTimeoutMs: 120_000,
        backend_keep_alive_timeout_ms: 30_000,
      },
      {},
    );
    expect(settings.backendTimeouts).toEqual({
      connectTimeoutMs: 2_000,
      headersTimeoutMs: 0,
      bodyTimeoutMs: 120_000,
      keepAliveTimeoutMs: 30_000,
    });
  });

  it("refuses unusable backend timeouts, and timeouts beside a custom transport", () => {
    expect(
      problemsOf({
        httpPort: 1,
        cosMap,
        backendConnectTimeoutMs: 0,
        backendHeadersTimeoutMs: -1,
        backendBodyTimeoutMs: "60s",
        backendKeepAliveTimeoutMs: Number.POSITIVE_INFINITY,
      }),
    ).toEqual([
      "backendConnectTimeoutMs: must be a positive number of milliseconds (got 0)",
      "backendHeadersTimeoutMs: must be a non-negative number of milliseconds, 0 = no limit (got -1)",
      'backendBodyTimeoutMs: must be a non-negative number of milliseconds, 0 = no limit (got "60s")',
      "backendKeepAliveTimeoutMs: must be a positive number of milliseconds (got Infinity)",
    ]);
    const transport = { send: async () => ({ status: 200, headers: [], body: null }) };
    expect(problemsOf({ httpPort: 1, cosMap, transport, backendBodyTimeoutMs: 1_000 })).toEqual([
      "transport: the built-in transport's timeouts (backendBodyTimeoutMs) do not apply to a custom one; set its own instead",
    ]);
  });

  it("checks the shapes of logDestination, dotenv, iamTokenUrl and backendCaFile", () => {
    const problems = problemsOf({
      httpPort: 1,
      cosMap,
      logDestination: "stdout",
      dotenv: 3,
      iamTokenUrl: "iam.example.com",
      backendCaFile: "/nonexistent/ca.pem",
    });
    expect(problems).toHaveLength(4);
    expect(problems).toEqual(
      expect.arrayContaining([
        'logDestination: must be an object with a write(line) method (got "stdout")',
        "dotenv: must be true, false or a file path (got 3)",
        'iamTokenUrl: must be an http(s) URL (got "iam.example.com")',
        'backendCaFile: cannot read "/nonexistent/ca.pem" (ENOENT)',
      ]),
    );
  });

  it("never echoes a secret in a problem", () => {
    const problems = problemsOf({
      httpsPort: 1,
      tlsKey: "super-secret-key-material",
      cosMap: { b: { host: "h", secretKey: "backend-secret" } },
    });
    expect(problems.join("\n")).not.toContain("super-secret-key-material");
    expect(problems.join("\n")).not.toContain("backend-secret");
    expect(problems).toContain('tlsKey: must be PEM text ("-----BEGIN …")');
  });

  it("passes only the proxy fields to the core", () => {
    const { proxyInput } = resolveServerConfig(
      { httpPort: 1, threads: 1, adminPort: 2, cosMap },
      {},
    );
    expect(Object.keys(proxyInput)).toEqual(["cosMap"]);
  });
});

describe("dotenvSetting", () => {
  it("defaults to ./.env and honours false or a path", () => {
    expect(dotenvSetting({})).toBe(".env");
    expect(dotenvSetting({ dotenv: true })).toBe(".env");
    expect(dotenvSetting({ dotenv: false })).toBe(false);
    expect(dotenvSetting({ dotenv: " /etc/osp.env " })).toBe("/etc/osp.env");
  });
});
