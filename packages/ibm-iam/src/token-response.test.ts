import { OspError } from "@osp/core";
import { describe, expect, it } from "vitest";
import { parseTokenAnswer, type IssuedToken } from "./token-response.ts";

const NOW_MS = 1_900_000_000_000;
const POLICY = { refreshMarginMs: 300_000, minCacheMs: 10_000, maxCacheMs: 86_400_000 };

const parse = (answer: unknown): IssuedToken | OspError =>
  parseTokenAnswer(JSON.stringify(answer), NOW_MS, POLICY);

describe("parseTokenAnswer", () => {
  it("caches until expiration minus the margin", () => {
    const expiration = NOW_MS / 1000 + 3600;
    expect(parse({ access_token: "t", expiration, expires_in: 3600 })).toEqual({
      accessToken: "t",
      cacheUntilMs: NOW_MS + 3_300_000,
    });
  });

  it("prefers the absolute expiration over expires_in", () => {
    const result = parse({ access_token: "t", expiration: NOW_MS / 1000 + 1200, expires_in: 3600 });
    expect((result as IssuedToken).cacheUntilMs).toBe(NOW_MS + 900_000);
  });

  it("falls back to expires_in", () => {
    expect((parse({ access_token: "t", expires_in: 600 }) as IssuedToken).cacheUntilMs).toBe(
      NOW_MS + 300_000,
    );
  });

  it("clamps an expiration inside the margin or in the past to the minimum, and a far one to the maximum", () => {
    expect(
      (parse({ access_token: "t", expiration: NOW_MS / 1000 + 60 }) as IssuedToken).cacheUntilMs,
    ).toBe(NOW_MS + 10_000);
    expect((parse({ access_token: "t", expiration: 1 }) as IssuedToken).cacheUntilMs).toBe(
      NOW_MS + 10_000,
    );
    expect((parse({ access_token: "t", expiration: 1e12 }) as IssuedToken).cacheUntilMs).toBe(
      NOW_MS + 86_400_000,
    );
  });

  it.each([
    ["not JSON", "<html>"],
    ["null", "null"],
    ["an array", "[1]"],
    ["a number token", JSON.stringify({ access_token: 5, expires_in: 60 })],
    ["no lifetime", JSON.stringify({ access_token: "t" })],
    ["a string expiration", JSON.stringify({ access_token: "t", expiration: "1900000000" })],
    ["an infinite lifetime", '{"access_token":"t","expires_in":1e999}'],
  ])("rejects %s as InternalError", (_label, body) => {
    const result = parseTokenAnswer(body, NOW_MS, POLICY);
    expect(OspError.is(result)).toBe(true);
    expect(result).toMatchObject({ code: "InternalError", source: "upstream" });
  });
});
