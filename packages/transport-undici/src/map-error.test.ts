import { OspError } from "@osp/core";
import { describe, expect, it } from "vitest";
import {
  CallerAbortError,
  RequestBodyError,
  errorCode,
  safeOrigin,
  toOspError,
} from "./map-error.ts";

const ORIGIN = "https://user:pa55word@bucket.s3.example.com:8443";

const withCode = (code: string, message = `${code} something happened`): Error =>
  Object.assign(new Error(message), { code });

describe("toOspError", () => {
  it.each([
    ["ECONNREFUSED", "ServiceUnavailable", 503],
    ["ENOTFOUND", "ServiceUnavailable", 503],
    ["EAI_AGAIN", "ServiceUnavailable", 503],
    ["EHOSTUNREACH", "ServiceUnavailable", 503],
    ["UND_ERR_CONNECT_TIMEOUT", "ServiceUnavailable", 503],
    ["DEPTH_ZERO_SELF_SIGNED_CERT", "ServiceUnavailable", 503],
    ["ERR_TLS_CERT_ALTNAME_INVALID", "ServiceUnavailable", 503],
    ["ERR_SSL_WRONG_VERSION_NUMBER", "ServiceUnavailable", 503],
    ["CERT_HAS_EXPIRED", "ServiceUnavailable", 503],
    ["ECONNRESET", "ServiceUnavailable", 503],
    ["UND_ERR_SOCKET", "ServiceUnavailable", 503],
    ["UND_ERR_HEADERS_TIMEOUT", "SlowDown", 503],
    ["UND_ERR_BODY_TIMEOUT", "RequestTimeout", 400],
    ["UND_ERR_RES_EXCEEDED_MAX_SIZE", "InternalError", 500],
  ])("maps %s before the response to %s", (code, s3Code, status) => {
    const error = toOspError(withCode(code), ORIGIN, "before-response");
    expect(error).toMatchObject({ code: s3Code, status, source: "upstream" });
    expect(error.message).toContain(code);
  });

  it("maps a connection lost mid-body to InternalError", () => {
    for (const code of ["ECONNRESET", "UND_ERR_SOCKET", "UND_ERR_RES_CONTENT_LENGTH_MISMATCH"]) {
      expect(toOspError(withCode(code), ORIGIN, "response-body")).toMatchObject({
        code: "InternalError",
        source: "upstream",
      });
    }
  });

  it("blames the proxy for a request undici refuses to send", () => {
    expect(toOspError(withCode("UND_ERR_INVALID_ARG"), ORIGIN, "before-response")).toMatchObject({
      code: "InternalError",
      source: "proxy",
    });
  });

  it("reads the code of the first error of an AggregateError", () => {
    const aggregate = new AggregateError(
      [withCode("ECONNREFUSED"), withCode("ENETUNREACH")],
      "all failed",
    );
    expect(errorCode(aggregate)).toBe("ECONNREFUSED");
    expect(toOspError(aggregate, ORIGIN, "before-response").code).toBe("ServiceUnavailable");
  });

  it("never copies the original message, user info or a stack into its message", () => {
    const original = withCode(
      "ECONNREFUSED",
      "connect ECONNREFUSED Authorization: Bearer s3cr3t-token",
    );
    const error = toOspError(original, ORIGIN, "before-response");
    expect(error.message).toBe(
      "Backend https://bucket.s3.example.com:8443: connection refused (ECONNREFUSED)",
    );
    expect(error.message).not.toContain("s3cr3t");
    expect(error.message).not.toContain("pa55word");
    expect(error.message).not.toContain("\n    at ");
    expect(error.cause).toBe(original);
  });

  it("passes OspErrors through, including those a request body threw", () => {
    const digest = new OspError("BadDigest");
    expect(toOspError(digest, ORIGIN, "before-response")).toBe(digest);
    expect(toOspError(new RequestBodyError(digest), ORIGIN, "before-response")).toBe(digest);
  });

  it("maps any other request body failure to IncompleteBody from the client", () => {
    const error = toOspError(new RequestBodyError(new Error("aborted")), ORIGIN, "before-response");
    expect(error).toMatchObject({ code: "IncompleteBody", source: "client", status: 400 });
  });

  it("uses the caller's abort reason when it is an OspError", () => {
    const reason = new OspError("RequestTimeout", { source: "client" });
    expect(toOspError(new CallerAbortError(reason), ORIGIN, "response-body")).toBe(reason);
    const plain = toOspError(
      new CallerAbortError(new Error("client left")),
      ORIGIN,
      "response-body",
    );
    expect(plain).toMatchObject({ code: "InternalError", source: "client" });
    expect(plain.message).toBe("The request was aborted by the caller");
  });

  it("maps an error without a code to InternalError", () => {
    expect(toOspError(new Error("weird"), ORIGIN, "before-response")).toMatchObject({
      code: "InternalError",
      source: "upstream",
    });
    expect(toOspError("a string", ORIGIN, "before-response").code).toBe("InternalError");
  });
});

describe("safeOrigin", () => {
  it("strips user info and falls back for garbage", () => {
    expect(safeOrigin("http://a:b@127.0.0.1:80")).toBe("http://127.0.0.1");
    expect(safeOrigin("not a url")).toBe("the backend");
  });
});
