import { describe, expect, it } from "vitest";
import { interpolateEnv } from "./interpolate.ts";

const env = { HOST: "s3.example.com", PORT: "8443", EMPTY: "" };

describe("interpolateEnv", () => {
  it("replaces references in every string, keys untouched", () => {
    const result = interpolateEnv(
      {
        cosMap: { "${HOST}": { host: "${HOST}", port: "${PORT}", list: ["a-${PORT}-b"] } },
        n: 1,
        t: true,
      },
      env,
    );
    expect(result).toEqual({
      value: {
        cosMap: { "${HOST}": { host: "s3.example.com", port: "8443", list: ["a-8443-b"] } },
        n: 1,
        t: true,
      },
      problems: [],
    });
  });

  it("uses defaults for unset or empty variables", () => {
    expect(interpolateEnv("${MISSING:-fallback}/${EMPTY:-e}/${HOST:-x}", env).value).toBe(
      "fallback/e/s3.example.com",
    );
    expect(interpolateEnv("${MISSING:-}", env).value).toBe("");
  });

  it("keeps $${ as a literal ${", () => {
    expect(interpolateEnv("pa$${HOST}ss", env)).toEqual({ value: "pa${HOST}ss", problems: [] });
  });

  it("names the field of every unset variable and malformed reference", () => {
    const result = interpolateEnv(
      { cosMap: { b: { accessKey: "${AK}", secretKey: "${1BAD}" } }, list: ["${OPEN"] },
      env,
    );
    expect(result.problems).toEqual([
      'cosMap["b"].accessKey: environment variable AK is not set',
      'cosMap["b"].secretKey: "${1BAD}" is not a variable reference (use ${NAME} or ${NAME:-default})',
      'list[0]: "${" without a closing "}"',
    ]);
  });
});
