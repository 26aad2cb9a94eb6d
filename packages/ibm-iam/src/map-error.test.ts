import { describe, expect, it } from "vitest";
import { fromFetchFailure, fromIamStatus, iamErrorCode } from "./map-error.ts";

describe("fromIamStatus", () => {
  it.each([
    [400, "InternalError", "proxy"],
    [401, "InternalError", "proxy"],
    [403, "InternalError", "proxy"],
    [404, "InternalError", "proxy"],
    [429, "SlowDown", "upstream"],
    [500, "ServiceUnavailable", "upstream"],
    [503, "ServiceUnavailable", "upstream"],
  ] as const)("maps HTTP %i to %s from the %s", (status, code, source) => {
    expect(fromIamStatus(status, "")).toMatchObject({ code, source });
  });

  it("names IAM's error code but copies nothing else from the body", () => {
    const error = fromIamStatus(
      400,
      JSON.stringify({ errorCode: "BXNIM0415E", errorMessage: "key abc123secret not found" }),
    );
    expect(error.message).toContain("BXNIM0415E");
    expect(error.message).not.toContain("abc123secret");
  });
});

describe("iamErrorCode", () => {
  it("accepts only codes shaped like IAM's", () => {
    expect(iamErrorCode('{"errorCode":"BXNIM0415E"}')).toBe("BXNIM0415E");
    expect(iamErrorCode('{"errorCode":"my api key is xyz"}')).toBeUndefined();
    expect(iamErrorCode("not json")).toBeUndefined();
    expect(iamErrorCode("null")).toBeUndefined();
  });
});

describe("fromFetchFailure", () => {
  it("names the network code found in the cause chain, without keeping the cause", () => {
    const failure = new TypeError("fetch failed", {
      cause: Object.assign(new Error("connect ECONNREFUSED apikey=s3cr3t"), {
        code: "ECONNREFUSED",
      }),
    });
    const error = fromFetchFailure(failure, false, 10_000);
    expect(error).toMatchObject({ code: "ServiceUnavailable", source: "upstream" });
    expect(error.message).toBe("IBM Cloud IAM is unreachable (ECONNREFUSED)");
    expect(error.cause).toBeUndefined();
  });

  it("reports a timeout with its duration", () => {
    expect(fromFetchFailure(new Error("aborted"), true, 2500).message).toBe(
      "IBM Cloud IAM did not answer within 2500 ms",
    );
  });
});
