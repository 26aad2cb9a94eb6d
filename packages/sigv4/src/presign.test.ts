import { describe, expect, it } from "vitest";
import { SigV4Error } from "./errors.ts";
import { presignRequest, presignUrl } from "./presign.ts";
import type { RawRequest } from "./types.ts";
import { verifyRequest } from "./verify.ts";

const credentials = {
  accessKeyId: "AKIAIOSFODNN7EXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
};
const now = Date.UTC(2013, 4, 24);
const options = { credentials, region: "us-east-1", now, expiresInSeconds: 86400 };
const lookupSecret = () => credentials.secretAccessKey;

const codeOf = (action: () => unknown): string => {
  try {
    action();
    return "ok";
  } catch (error) {
    return SigV4Error.is(error) ? error.code : "untyped";
  }
};

/** Splits a URL the way a server sees it (raw path and query, Host header). */
const asRequest = (url: string, method = "GET"): RawRequest => {
  const match = /^https?:\/\/([^/]+)([^?]*)\?(.*)$/.exec(url)!;
  return { method, path: match[2]!, query: match[3]!, headers: [["Host", match[1]!]] };
};

describe("presignRequest", () => {
  it("appends the auth parameters after the request's own query, signature last", () => {
    const presigned = presignRequest(
      { method: "GET", path: "/k", query: "versionId=3&x", headers: [["host", "h"]] },
      options,
    );
    const names = presigned.query.split("&").map((piece) => piece.split("=")[0]);
    expect(names).toEqual([
      "versionId",
      "x",
      "X-Amz-Algorithm",
      "X-Amz-Credential",
      "X-Amz-Date",
      "X-Amz-Expires",
      "X-Amz-SignedHeaders",
      "X-Amz-Signature",
    ]);
    expect(presigned.query).toContain(
      "X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request",
    );
    expect(presigned.query.endsWith(`X-Amz-Signature=${presigned.signature}`)).toBe(true);
    expect(presigned.canonicalRequest.endsWith("\nUNSIGNED-PAYLOAD")).toBe(true);
  });

  it("encodes the session token and adds X-Amz-Content-Sha256 for a stated hash", () => {
    const hash = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";
    const presigned = presignRequest(
      { method: "PUT", path: "/k", query: "", headers: [["host", "h"]] },
      { ...options, credentials: { ...credentials, sessionToken: "a+b/c=" }, payloadHash: hash },
    );
    expect(presigned.query).toContain("X-Amz-Security-Token=a%2Bb%2Fc%3D");
    expect(presigned.query).toContain(`X-Amz-Content-Sha256=${hash}`);
    expect(presigned.canonicalRequest.endsWith(`\n${hash}`)).toBe(true);
  });

  it("rejects an expiry outside 1…604800 seconds", () => {
    const request: RawRequest = { method: "GET", path: "/", query: "", headers: [["host", "h"]] };
    for (const expiresInSeconds of [0, -1, 604801, 1.5, Number.NaN]) {
      expect(codeOf(() => presignRequest(request, { ...options, expiresInSeconds }))).toBe(
        "InvalidArgument",
      );
    }
    expect(codeOf(() => presignRequest(request, { ...options, expiresInSeconds: 604800 }))).toBe(
      "ok",
    );
    expect(codeOf(() => presignRequest(request, { ...options, expiresInSeconds: 1 }))).toBe("ok");
  });

  it("rejects a query that already carries presign parameters, and a missing host", () => {
    expect(
      codeOf(() =>
        presignRequest(
          { method: "GET", path: "/", query: "X-Amz-Signature=1", headers: [["host", "h"]] },
          options,
        ),
      ),
    ).toBe("InvalidArgument");
    expect(
      codeOf(() => presignRequest({ method: "GET", path: "/", query: "", headers: [] }, options)),
    ).toBe("InvalidArgument");
  });
});

describe("presignUrl", () => {
  it("keeps keys with .. and //, and encodes spaces and + once", async () => {
    const url = presignUrl("https://bucket.example.com/a/../b//c d+e.txt", options);
    expect(
      url.startsWith("https://bucket.example.com/a/../b//c%20d%2Be.txt?X-Amz-Algorithm="),
    ).toBe(true);
    expect(presignUrl("https://h.example/k%20ey?p=a b&flag", options)).toMatch(
      /^https:\/\/h\.example\/k%20ey\?p=a%20b&flag&X-Amz-Algorithm=/,
    );
    const verified = await verifyRequest(asRequest(url), { lookupSecret, now });
    expect(verified.canonicalRequest.split("\n")[1]).toBe("/a/../b//c%20d%2Be.txt");
  });

  it("drops a default port and lower-cases the host; keeps other ports", async () => {
    expect(
      presignUrl("HTTPS://Bucket.Example.com:443/k", options).startsWith(
        "https://bucket.example.com/k?",
      ),
    ).toBe(true);
    const url = presignUrl("http://127.0.0.1:9000/b/k?x-id=GetObject#frag", options);
    expect(url.startsWith("http://127.0.0.1:9000/b/k?x-id=GetObject&X-Amz-Algorithm=")).toBe(true);
    expect(url).not.toContain("#");
    expect((await verifyRequest(asRequest(url), { lookupSecret, now })).kind).toBe("query");
  });

  it("signs extra headers and a method", async () => {
    const url = presignUrl("https://h.example/k", {
      ...options,
      method: "PUT",
      headers: [["Content-Type", "text/plain"]],
    });
    expect(url).toContain("X-Amz-SignedHeaders=content-type%3Bhost");
    const request = asRequest(url, "PUT");
    const withType: RawRequest = {
      ...request,
      headers: [...request.headers, ["Content-Type", "text/plain"]],
    };
    expect((await verifyRequest(withType, { lookupSecret, now })).signedHeaders).toEqual([
      "content-type",
      "host",
    ]);
    const error = await verifyRequest(request, { lookupSecret, now }).catch((e: unknown) => e);
    expect(SigV4Error.is(error) && error.code).toBe("SignatureDoesNotMatch");
  });

  it("rejects relative, non-http and user-info URLs", () => {
    for (const url of ["/k", "ftp://h/k", "https://user:pw@h/k", "https:///k"]) {
      expect(codeOf(() => presignUrl(url, options))).toBe("InvalidArgument");
    }
  });
});
