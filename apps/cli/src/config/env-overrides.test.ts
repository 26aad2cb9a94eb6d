import { describe, expect, it } from "vitest";
import { applyEnvOverrides } from "./env-overrides.ts";

describe("applyEnvOverrides", () => {
  it("overrides the file's values and drops their snake_case spellings", () => {
    const result = applyEnvOverrides(
      { http_port: 6190, bindAddress: "0.0.0.0", threads: 2, logLevel: "info" },
      {
        OSP_HTTP_PORT: "7000",
        OSP_HTTPS_PORT: "0",
        OSP_BIND_ADDRESS: "127.0.0.1",
        OSP_THREADS: "4",
        OSP_LOG_LEVEL: "DEBUG",
        OSP_ENABLE_REQUEST_COUNTING: "yes",
      },
    );
    expect(result.config).toEqual({
      httpPort: 7000,
      httpsPort: 0,
      bindAddress: "127.0.0.1",
      threads: 4,
      logLevel: "debug",
      requestCounting: true,
    });
    expect(result.applied).toHaveLength(6);
    expect(result.problems).toEqual([]);
  });

  it("ignores unset and empty variables", () => {
    expect(applyEnvOverrides({ httpPort: 1 }, { OSP_HTTP_PORT: "", OSP_THREADS: "  " })).toEqual({
      config: { httpPort: 1 },
      applied: [],
      problems: [],
    });
  });

  it("names the variable of every invalid value", () => {
    const result = applyEnvOverrides(
      {},
      {
        OSP_HTTP_PORT: "80a",
        OSP_THREADS: "0",
        OSP_LOG_LEVEL: "loud",
        OSP_ENABLE_REQUEST_COUNTING: "maybe",
      },
    );
    expect(result.problems).toEqual([
      'OSP_HTTP_PORT: must be an integer from 0 to 65535 (got "80a")',
      'OSP_THREADS: must be an integer from 1 to 1024 (got "0")',
      'OSP_LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent (got "loud")',
      'OSP_ENABLE_REQUEST_COUNTING: must be true/false, 1/0, yes/no or on/off (got "maybe")',
    ]);
    expect(result.config).toEqual({});
  });
});
