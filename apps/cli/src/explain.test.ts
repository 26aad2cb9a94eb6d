import { createHash } from "node:crypto";
import {
  SigV4Error,
  parseAuthorization,
  presignUrl,
  signRequest,
  verifyRequestWithSecret,
} from "@osp/sigv4";
import { describe, expect, it } from "vitest";
import { amzDateMs, describeSkew, explainRequest } from "./explain.ts";
import { requestFromUrl, type WireRequest } from "./raw-http.ts";

const SECRET = "explain-secret";
const credentials = { accessKeyId: "OSPEXPLAIN0000000001", secretAccessKey: SECRET };
const SIGNED_AT = Date.UTC(2025, 0, 31, 12, 0, 0);
const body = new TextEncoder().encode("payload");
const hash = createHash("sha256").update(body).digest("hex");

const signed = (): WireRequest => {
  const result = signRequest(
    {
      method: "PUT",
      path: "/b/dir/key.txt",
      query: "tagging=",
      headers: [
        ["host", "osp.local"],
        ["x-amz-content-sha256", hash],
      ],
    },
    { credentials, region: "eu-de", now: SIGNED_AT },
  );
  return {
    method: "PUT",
    path: "/b/dir/key.txt",
    query: "tagging=",
    headers: result.headers,
    body,
    hasBody: true,
    notes: [],
  };
};

const resultOf = (report: ReturnType<typeof explainRequest>, name: string) =>
  report.checks.find((check) => check.name === name)?.result;

describe("explainRequest", () => {
  it("passes a valid request on every check", () => {
    const report = explainRequest(signed(), SECRET, { now: SIGNED_AT + 5000 });
    expect(report.valid).toBe(true);
    expect(report.checks.map((check) => [check.name, check.result])).toEqual([
      ["scope", "pass"],
      ["time", "pass"],
      ["signed headers", "pass"],
      ["signature", "pass"],
      ["payload", "pass"],
    ]);
    expect(report.skewMs).toBe(5000);
  });

  it("gives the canonical request and string to sign the verifier expects for a tampered request", () => {
    const tampered = { ...signed(), path: "/b/dir/other.txt" };
    const report = explainRequest(tampered, SECRET, { now: SIGNED_AT });
    expect(report.valid).toBe(false);
    expect(report.error?.code).toBe("SignatureDoesNotMatch");
    expect(resultOf(report, "signature")).toBe("fail");
    // The same text @osp/sigv4 puts into S3's debug detail.
    let detail: Readonly<Record<string, string>> = {};
    try {
      verifyRequestWithSecret(tampered, SECRET, {
        now: SIGNED_AT,
        parsed: parseAuthorization(tampered)!,
        debug: true,
      });
    } catch (error) {
      if (SigV4Error.is(error)) detail = error.detail;
    }
    expect(detail.CanonicalRequest).toBe(report.canonicalRequest);
    expect(detail.StringToSign).toBe(report.stringToSign);
    expect(report.canonicalRequest!.split("\n").slice(0, 3)).toEqual([
      "PUT",
      "/b/dir/other.txt",
      "tagging=",
    ]);
  });

  it("names a wrong secret as a signature mismatch without revealing signatures", () => {
    const report = explainRequest(signed(), "another-secret", { now: SIGNED_AT });
    expect(report.error?.code).toBe("SignatureDoesNotMatch");
    expect(JSON.stringify(report)).not.toContain("another-secret");
    const provided = parseAuthorization(signed())!.signature;
    expect(JSON.stringify(report.checks)).not.toContain(provided);
  });

  it("fails the time check beyond the allowed skew, both ways", () => {
    const late = explainRequest(signed(), SECRET, { now: SIGNED_AT + 16 * 60_000 });
    expect(late.error?.code).toBe("RequestTimeTooSkewed");
    expect(resultOf(late, "time")).toBe("fail");
    expect(resultOf(late, "signature")).toBe("pass");
    const early = explainRequest(signed(), SECRET, { now: SIGNED_AT - 16 * 60_000 });
    expect(early.checks.find((check) => check.name === "time")?.detail).toContain("in the future");
    expect(
      explainRequest(signed(), SECRET, { now: SIGNED_AT + 16 * 60_000, maxSkewMs: 20 * 60_000 })
        .valid,
    ).toBe(true);
  });

  it("finds unsigned x-amz-* headers and signed headers that went missing", () => {
    const request = signed();
    const extra = {
      ...request,
      headers: [...request.headers, ["x-amz-acl", "public-read"]] as Array<[string, string]>,
    };
    const report = explainRequest(extra, SECRET, { now: SIGNED_AT });
    expect(report.valid).toBe(false);
    expect(report.checks.find((check) => check.name === "signed headers")?.detail).toContain(
      "present but not signed: x-amz-acl",
    );
    const missing = { ...request, headers: request.headers.filter(([name]) => name !== "host") };
    expect(
      explainRequest(missing, SECRET, { now: SIGNED_AT }).checks.find(
        (check) => check.name === "signed headers",
      )?.detail,
    ).toContain("signed but missing from the request: host");
  });

  it("checks the body against x-amz-content-sha256", () => {
    const report = explainRequest(
      { ...signed(), body: new TextEncoder().encode("PAYLOAD") },
      SECRET,
      { now: SIGNED_AT },
    );
    expect(report.error?.code).toBe("XAmzContentSHA256Mismatch");
    expect(resultOf(report, "signature")).toBe("pass");
    expect(
      resultOf(
        explainRequest({ ...signed(), body: new Uint8Array(), hasBody: false }, SECRET, {
          now: SIGNED_AT,
        }),
        "payload",
      ),
    ).toBe("skip");
  });

  it("verifies presigned URLs and their expiry", () => {
    const url = presignUrl("https://osp.local/b/key", {
      credentials,
      region: "us-east-1",
      now: SIGNED_AT,
      expiresInSeconds: 60,
    });
    const request = requestFromUrl(url, "GET");
    expect(explainRequest(request, SECRET, { now: SIGNED_AT + 59_000 }).valid).toBe(true);
    const expired = explainRequest(request, SECRET, { now: SIGNED_AT + 61_000 });
    expect(expired.error).toEqual({ code: "AccessDenied", message: "Request has expired" });
    expect(expired.checks.find((check) => check.name === "time")?.detail).toMatch(
      /^expired 1s ago/,
    );
    expect(
      resultOf(explainRequest(requestFromUrl(url, "PUT"), SECRET, { now: SIGNED_AT }), "signature"),
    ).toBe("fail");
  });

  it("reports unsigned and malformed requests", () => {
    const anonymous = explainRequest(
      {
        method: "GET",
        path: "/",
        query: "",
        headers: [["host", "h"]],
        body: new Uint8Array(),
        hasBody: false,
        notes: [],
      },
      SECRET,
      { now: 0 },
    );
    expect(anonymous.error?.code).toBe("AccessDenied");
    const malformed = explainRequest(
      {
        method: "GET",
        path: "/",
        query: "",
        headers: [
          ["host", "h"],
          ["authorization", "AWS4-HMAC-SHA256 Credential=x"],
        ],
        body: new Uint8Array(),
        hasBody: false,
        notes: [],
      },
      SECRET,
      { now: 0 },
    );
    expect(malformed.valid).toBe(false);
    expect(malformed.checks[0]?.name).toBe("authorization");
  });
});

describe("amzDateMs / describeSkew", () => {
  it("parses timestamps and refuses impossible dates", () => {
    expect(amzDateMs("20250131T120000Z")).toBe(SIGNED_AT);
    expect(amzDateMs("20250231T120000Z")).toBeUndefined();
    expect(amzDateMs("2025-01-31")).toBeUndefined();
  });

  it("describes the direction of the skew", () => {
    expect(describeSkew(300)).toBe("in sync");
    expect(describeSkew(5000)).toBe("the request is 5s older than now");
    expect(describeSkew(-20 * 60_000)).toBe("the request is 20m in the future");
  });
});
