import { describe, expect, it } from "vitest";
import { parseProxyConfig } from "../config.ts";
import { OspError } from "../errors.ts";
import { assertUnambiguousRequest, hostName, parseRequest, parseTarget } from "./parse.ts";

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

describe("presigned form and copy source", () => {
  const PRESIGN = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=00";
  const parse = (query: string, headers: Array<[string, string]> = []) =>
    parseRequest(
      {
        method: "PUT",
        path: "/logs/dst",
        query,
        headers: [["host", "proxy:6190"], ...headers],
        body: null,
      },
      config,
    );

  it("reads the presigned form as sigv4 does: presign names in the query and no Authorization", () => {
    expect(parse(PRESIGN).presigned).toBe(true);
    expect(parse("X-Amz-Credential=a").presigned).toBe(true);
    expect(parse(PRESIGN, [["Authorization", "AWS4-HMAC-SHA256 …"]]).presigned).toBe(false);
    // sigv4 matches the names case-sensitively.
    expect(parse("x-amz-signature=00").presigned).toBe(false);
    expect(parse("").presigned).toBe(false);
  });

  it("takes the query form of x-amz-copy-source only from a presigned URL", () => {
    const query = "x-amz-copy-source=%2Flogs%2Fsrc";
    expect(parse(`${query}&${PRESIGN}`)).toMatchObject({
      operation: "CopyObject",
      copySource: "/logs/src",
    });
    const headerSigned = parse(query, [["Authorization", "AWS4-HMAC-SHA256 …"]]);
    expect(headerSigned.operation).toBe("PutObject");
    expect(headerSigned.copySource).toBeUndefined();
    expect(parse("", [["X-Amz-Copy-Source", "/logs/a"]]).copySource).toBe("/logs/a");
  });
});

describe("assertUnambiguousRequest", () => {
  const PRESIGN = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=00";
  const refusal = (request: {
    method?: string;
    path?: string;
    query?: string;
    headers?: Array<[string, string]>;
  }): string | undefined =>
    codeOf(() =>
      assertUnambiguousRequest(
        parseRequest(
          {
            method: request.method ?? "PUT",
            path: request.path ?? "/logs/k",
            query: request.query ?? "",
            headers: [["host", "proxy:6190"], ...(request.headers ?? [])],
            body: null,
          },
          config,
        ),
      ),
    );

  it("accepts ordinary requests, presigned ones included", () => {
    expect(refusal({ query: "partNumber=1&uploadId=u", headers: [["x-amz-meta-a", "1"]] })).toBe(
      undefined,
    );
    expect(refusal({ method: "GET", path: "/logs", query: "list-type=2&prefix=a%2F" })).toBe(
      undefined,
    );
    expect(refusal({ query: `x-amz-acl=private&x-amz-copy-source=%2Flogs%2Fa&${PRESIGN}` })).toBe(
      undefined,
    );
    expect(
      refusal({
        headers: [
          [":authority", "proxy:6190"],
          ["x-amz-copy-source", "/logs/a"],
        ],
      }),
    ).toBe(undefined);
  });

  it("refuses repeated query parameters, except presign parameters (left to sigv4)", () => {
    expect(refusal({ method: "GET", path: "/logs", query: "prefix=a&prefix=b" })).toBe(
      "InvalidArgument",
    );
    expect(refusal({ query: `x-amz-acl=private&X-Amz-Acl=public-read&${PRESIGN}` })).toBe(
      "InvalidArgument",
    );
    // SDK presigners may send a session token twice, in two spellings: it never goes upstream.
    expect(refusal({ query: `x-amz-security-token=t&X-Amz-Security-Token=t&${PRESIGN}` })).toBe(
      undefined,
    );
  });

  it("refuses a sub-resource combined with uploadId/partNumber, on objects and buckets", () => {
    expect(refusal({ query: "acl&partNumber=1&uploadId=u" })).toBe("InvalidArgument");
    expect(refusal({ method: "GET", path: "/logs", query: "acl&uploadId=u" })).toBe(
      "InvalidArgument",
    );
  });

  it("refuses more than one copy source, and the query form in a header-signed request", () => {
    expect(
      refusal({
        headers: [
          ["x-amz-copy-source", "/logs/a"],
          ["X-Amz-Copy-Source", "/logs/b"],
        ],
      }),
    ).toBe("InvalidArgument");
    expect(
      refusal({
        query: `x-amz-copy-source=%2Flogs%2Fb&${PRESIGN}`,
        headers: [["x-amz-copy-source", "/logs/a"]],
      }),
    ).toBe("InvalidArgument");
    expect(refusal({ query: "x-amz-copy-source=%2Flogs%2Fa" })).toBe("InvalidArgument");
  });

  it("refuses header names that are not tokens and values with CR, LF or NUL, hoisted ones included", () => {
    expect(refusal({ headers: [["x-amz-meta-a", "1\r\nx-injected: 1"]] })).toBe("InvalidArgument");
    expect(refusal({ headers: [["x-amz-meta-a", "1\0"]] })).toBe("InvalidArgument");
    expect(refusal({ headers: [["x amz meta", "1"]] })).toBe("InvalidArgument");
    expect(refusal({ query: `x-amz-meta-a=1%0D%0Ax-injected%3A%201&${PRESIGN}` })).toBe(
      "InvalidArgument",
    );
    expect(refusal({ query: `x-amz-meta-a%20b=1&${PRESIGN}` })).toBe("InvalidArgument");
    // Not presigned: the parameter stays a query parameter and never becomes a header.
    expect(refusal({ query: "x-amz-meta-a=1%0D%0A" })).toBeUndefined();
  });
});
