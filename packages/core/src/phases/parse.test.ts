import { describe, expect, it } from "vitest";
import { parseProxyConfig } from "../config.ts";
import { OspError } from "../errors.ts";
import { hostName, parseRequest, parseTarget } from "./parse.ts";

const config = parseProxyConfig({
  cosMap: { logs: { host: "s3.example.com", apiKey: "k" } },
  virtualHostDomains: ["proxy.example.com"],
});

const codeOf = (run: () => unknown): string | undefined => {
  try {
    run();
  } catch (error) {
    return OspError.is(error) ? error.code : "not an OspError";
  }
  return undefined;
};

describe("parseTarget", () => {
  it.each([
    ["/logs/logs", "logs", "/logs", "logs"],
    ["/my-logs/logs", "my-logs", "/logs", "logs"],
    ["/a/a", "a", "/a", "a"],
    ["/logs/logs/logs", "logs", "/logs/logs", "logs/logs"],
  ])("D-10: splits %s by position (bucket %s, key path %s)", (path, bucket, rawKeyPath, key) => {
    expect(parseTarget(path, "proxy:6190", config)).toEqual({
      kind: "bucket",
      addressing: "path",
      bucket,
      rawKeyPath,
      key,
    });
  });

  it("keeps the raw key path byte for byte and decodes the key once (+, %2F, unicode, //)", () => {
    expect(parseTarget("/b/a+b%2Fc%20d", undefined, config)).toMatchObject({
      rawKeyPath: "/a+b%2Fc%20d",
      key: "a+b/c d",
    });
    expect(parseTarget("/b/%E2%9C%93/x", undefined, config)).toMatchObject({
      rawKeyPath: "/%E2%9C%93/x",
      key: "✓/x",
    });
    expect(parseTarget("/b//double//slash", undefined, config)).toMatchObject({
      rawKeyPath: "//double//slash",
      key: "/double//slash",
    });
  });

  it("tells bucket-level requests from object requests", () => {
    expect(parseTarget("/b", undefined, config)).toEqual({
      kind: "bucket",
      addressing: "path",
      bucket: "b",
      rawKeyPath: "",
    });
    expect(parseTarget("/b/", undefined, config)).toEqual({
      kind: "bucket",
      addressing: "path",
      bucket: "b",
      rawKeyPath: "/",
    });
  });

  it("D-11: GET / is the service (ListBuckets)", () => {
    expect(parseTarget("/", "proxy.example.com", config)).toEqual({
      kind: "service",
      addressing: "path",
    });
  });

  it("D-11: reads the bucket from a virtual host under a configured domain", () => {
    expect(parseTarget("/logs/x", "logs.proxy.example.com:8443", config)).toEqual({
      kind: "bucket",
      addressing: "virtual",
      bucket: "logs",
      rawKeyPath: "/logs/x",
      key: "logs/x",
    });
    expect(parseTarget("/", "My.Bucket.PROXY.example.com.", config)).toEqual({
      kind: "bucket",
      addressing: "virtual",
      bucket: "my.bucket",
      rawKeyPath: "",
    });
    // A host outside the domains is path style.
    expect(parseTarget("/logs/x", "logs.other.example.com", config)).toMatchObject({
      addressing: "path",
      bucket: "logs",
    });
  });

  it("D-17: refuses malformed paths with S3 errors instead of crashing", () => {
    expect(codeOf(() => parseTarget("logs/x", undefined, config))).toBe("InvalidURI");
    expect(codeOf(() => parseTarget("/b/%E2%9C", undefined, config))).toBe("InvalidURI");
    expect(codeOf(() => parseTarget("//key", undefined, config))).toBe("InvalidBucketName");
    expect(codeOf(() => parseTarget("/a%2Fb/key", undefined, config))).toBe("InvalidBucketName");
  });
});

describe("hostName", () => {
  it("strips ports and keeps IPv6 literals", () => {
    expect(hostName("Example.COM:443")).toBe("example.com");
    expect(hostName("[::1]:8080")).toBe("[::1]");
    expect(hostName("example.com")).toBe("example.com");
  });
});

describe("parseRequest", () => {
  it("keeps the raw request for verification and names the operation", () => {
    const headers = [
      ["Host", "proxy:6190"],
      ["X-Amz-Copy-Source", "/logs/a"],
    ] as const;
    const parsed = parseRequest(
      { method: "put", path: "/logs/b%2Bc", query: "x-id=CopyObject", headers, body: null },
      config,
    );
    expect(parsed.raw).toEqual({
      method: "PUT",
      path: "/logs/b%2Bc",
      query: "x-id=CopyObject",
      headers,
    });
    expect(parsed.operation).toBe("CopyObject");
    expect(parsed.query).toEqual([
      { raw: "x-id=CopyObject", name: "x-id", value: "CopyObject", hasValue: true },
    ]);
  });

  it("uses :authority when an HTTP/2 request has no Host header (D-21)", () => {
    const parsed = parseRequest(
      {
        method: "GET",
        path: "/k",
        query: "",
        headers: [[":authority", "logs.proxy.example.com"]],
        body: null,
      },
      config,
    );
    expect(parsed.target).toMatchObject({ addressing: "virtual", bucket: "logs", key: "k" });
  });
});
