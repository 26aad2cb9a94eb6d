import { describe, expect, it } from "vitest";
import { EMPTY_SHA256, UNSIGNED_PAYLOAD } from "./constants.ts";
import { SigV4Error } from "./errors.ts";
import { defaultSignedHeaders, signRequest } from "./sign.ts";
import { createSigningKeyCache } from "./signing-key.ts";
import type { RawRequest } from "./types.ts";

const credentials = {
  accessKeyId: "AKIAIOSFODNN7EXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
};
const now = Date.UTC(2013, 4, 24);
const base: RawRequest = {
  method: "GET",
  path: "/test.txt",
  query: "",
  headers: [["Host", "examplebucket.s3.amazonaws.com"]],
};

const headerValue = (headers: ReadonlyArray<readonly [string, string]>, name: string) =>
  headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);

const codeOf = (action: () => unknown): string => {
  try {
    action();
    return "ok";
  } catch (error) {
    return SigV4Error.is(error) ? error.code : "untyped";
  }
};

describe("signRequest", () => {
  it("adds x-amz-date, x-amz-content-sha256 and authorization, and signs them with host", () => {
    const signed = signRequest(base, { credentials, region: "us-east-1", now });
    expect(signed.amzDate).toBe("20130524T000000Z");
    expect(headerValue(signed.headers, "x-amz-date")).toEqual(["20130524T000000Z"]);
    expect(headerValue(signed.headers, "x-amz-content-sha256")).toEqual([EMPTY_SHA256]);
    expect(headerValue(signed.headers, "authorization")).toEqual([signed.authorization]);
    expect(signed.signedHeaders).toEqual(["host", "x-amz-content-sha256", "x-amz-date"]);
    expect(signed.authorization).toBe(
      `AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=${signed.signature}`,
    );
    expect(signed.scope).toEqual({ date: "20130524", region: "us-east-1", service: "s3" });
    expect(signed.signature).toMatch(/^[0-9a-f]{64}$/);
  });

  it("replaces an existing authorization, x-amz-date and token instead of duplicating them", () => {
    const signed = signRequest(
      {
        ...base,
        headers: [
          ...base.headers,
          ["Authorization", "old"],
          ["X-Amz-Date", "20000101T000000Z"],
          ["X-Amz-Security-Token", "stale"],
        ],
      },
      { credentials: { ...credentials, sessionToken: "fresh" }, region: "us-east-1", now },
    );
    expect(headerValue(signed.headers, "authorization")).toEqual([signed.authorization]);
    expect(headerValue(signed.headers, "x-amz-date")).toEqual(["20130524T000000Z"]);
    expect(headerValue(signed.headers, "x-amz-security-token")).toEqual(["fresh"]);
    expect(signed.signedHeaders).toContain("x-amz-security-token");
  });

  it("takes the payload hash from the option, else from x-amz-content-sha256, else the empty hash", () => {
    const hash = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";
    const fromHeader = signRequest(
      { ...base, headers: [...base.headers, ["x-amz-content-sha256", hash]] },
      { credentials, region: "us-east-1", now },
    );
    expect(fromHeader.canonicalRequest.endsWith(`\n${hash}`)).toBe(true);
    const fromOption = signRequest(
      { ...base, headers: [...base.headers, ["x-amz-content-sha256", hash]] },
      { credentials, region: "us-east-1", now, payloadHash: UNSIGNED_PAYLOAD },
    );
    expect(headerValue(fromOption.headers, "x-amz-content-sha256")).toEqual([UNSIGNED_PAYLOAD]);
    expect(fromOption.canonicalRequest.endsWith(`\n${UNSIGNED_PAYLOAD}`)).toBe(true);
    const withoutHeader = signRequest(base, {
      credentials,
      region: "us-east-1",
      now,
      addContentSha256Header: false,
    });
    expect(headerValue(withoutHeader.headers, "x-amz-content-sha256")).toEqual([]);
    expect(withoutHeader.canonicalRequest.endsWith(`\n${EMPTY_SHA256}`)).toBe(true);
  });

  it("always signs host and x-amz-* and never hop-by-hop, user-agent or x-forwarded-*", () => {
    const signed = signRequest(
      {
        ...base,
        headers: [
          ...base.headers,
          ["x-amz-meta-a", "1"],
          ["Connection", "keep-alive"],
          ["User-Agent", "sdk"],
          ["Expect", "100-continue"],
          ["X-Forwarded-For", "10.0.0.1"],
          ["Transfer-Encoding", "chunked"],
          ["Content-Type", "text/plain"],
        ],
      },
      { credentials, region: "us-east-1", now, signedHeaders: () => true },
    );
    expect(signed.signedHeaders).toEqual([
      "content-type",
      "host",
      "x-amz-content-sha256",
      "x-amz-date",
      "x-amz-meta-a",
    ]);
    const none = signRequest(
      { ...base, headers: [...base.headers, ["x-amz-meta-a", "1"], ["Range", "bytes=0-1"]] },
      { credentials, region: "us-east-1", now, signedHeaders: () => false },
    );
    expect(none.signedHeaders).toEqual([
      "host",
      "x-amz-content-sha256",
      "x-amz-date",
      "x-amz-meta-a",
    ]);
  });

  it("chooses host, date, range, content-*, if-* and x-amz-* by default", () => {
    for (const name of [
      "host",
      "date",
      "range",
      "content-md5",
      "content-type",
      "if-match",
      "x-amz-acl",
    ]) {
      expect(defaultSignedHeaders(name)).toBe(true);
    }
    for (const name of ["accept", "user-agent", "cache-control", "origin"]) {
      expect(defaultSignedHeaders(name)).toBe(false);
    }
  });

  it("reuses the signing key from a cache", () => {
    const cache = createSigningKeyCache();
    const first = signRequest(base, {
      credentials,
      region: "us-east-1",
      now,
      signingKeyCache: cache,
    });
    const second = signRequest(base, {
      credentials,
      region: "us-east-1",
      now,
      signingKeyCache: cache,
    });
    expect(second.signingKey).toBe(first.signingKey);
    expect(cache.size).toBe(1);
  });

  it("refuses a request without host and credential parts that break the scope", () => {
    expect(
      codeOf(() =>
        signRequest({ ...base, headers: [] }, { credentials, region: "us-east-1", now }),
      ),
    ).toBe("InvalidArgument");
    expect(
      codeOf(() =>
        signRequest(base, {
          credentials: { ...credentials, accessKeyId: "a/b" },
          region: "us-east-1",
          now,
        }),
      ),
    ).toBe("InvalidArgument");
    expect(codeOf(() => signRequest(base, { credentials, region: "", now }))).toBe(
      "InvalidArgument",
    );
    expect(
      codeOf(() =>
        signRequest(base, {
          credentials: { ...credentials, secretAccessKey: "" },
          region: "us-east-1",
          now,
        }),
      ),
    ).toBe("InvalidArgument");
  });
});
