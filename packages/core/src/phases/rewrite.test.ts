import { describe, expect, it } from "vitest";
import { parseProxyConfig } from "../config.ts";
import { OspError } from "../errors.ts";
import { parseQuery } from "../http.ts";
import {
  forwardHeaders,
  hoistedHeaders,
  parseCopySource,
  rewriteCopySource,
  upstreamTarget,
} from "./rewrite.ts";

const config = parseProxyConfig({
  cosMap: {
    virt: { host: "s3.example.com", apiKey: "k" },
    virtport: { host: "s3.example.com", port: 8443, apiKey: "k" },
    plain: { host: "127.0.0.1", port: 80, tls: false, addressingStyle: "path", apiKey: "k" },
    plainport: {
      host: "127.0.0.1",
      port: 7480,
      tls: false,
      addressingStyle: "path",
      apiKey: "k",
      backendBucket: "real_bucket",
    },
    alias: { host: "s3.example.com", apiKey: "k", backendBucket: "real-bucket" },
    tls80: { host: "s3.example.com", port: 80, apiKey: "k" },
  },
});
const bucket = (name: string) => config.buckets.get(name)!;

describe("upstreamTarget", () => {
  it("uses bucket.host and leaves the scheme's default port out of Host (§10 upstream virtual-host)", () => {
    expect(upstreamTarget(bucket("virt"), "/a/b", [])).toEqual({
      origin: "https://virt.s3.example.com",
      host: "virt.s3.example.com",
      path: "/a/b",
      query: "",
    });
    expect(upstreamTarget(bucket("virtport"), "", []).host).toBe("virtport.s3.example.com:8443");
    expect(upstreamTarget(bucket("virtport"), "", []).path).toBe("/");
    expect(upstreamTarget(bucket("tls80"), "/k", []).host).toBe("tls80.s3.example.com:80");
  });

  it("D-11: addresses path-style and plain-HTTP backends", () => {
    expect(upstreamTarget(bucket("plain"), "/k", [])).toMatchObject({
      origin: "http://127.0.0.1",
      host: "127.0.0.1",
      path: "/plain/k",
    });
    expect(upstreamTarget(bucket("plainport"), "", [])).toMatchObject({
      origin: "http://127.0.0.1:7480",
      path: "/real_bucket",
    });
    expect(upstreamTarget(bucket("plainport"), "/", []).path).toBe("/real_bucket/");
  });

  it("applies the bucket alias", () => {
    expect(upstreamTarget(bucket("alias"), "/k", []).host).toBe("real-bucket.s3.example.com");
  });

  it("keeps the key's raw encoding exactly (+, %2F, unicode, //)", () => {
    expect(upstreamTarget(bucket("plain"), "/a+b%2Fc/%E2%9C%93//x", []).path).toBe(
      "/plain/a+b%2Fc/%E2%9C%93//x",
    );
  });

  it("D-12: drops presign parameters, whatever their case, and keeps the rest raw and in order", () => {
    const query = parseQuery(
      "X-Amz-Algorithm=AWS4-HMAC-SHA256&response-content-disposition=attachment%3B%20a%2Bb&X-Amz-Credential=a%2F&x-amz-signature=00&X-Amz-Date=1&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Security-Token=t&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD&x-id=GetObject&uploads",
    );
    expect(upstreamTarget(bucket("virt"), "/k", query).query).toBe(
      "response-content-disposition=attachment%3B%20a%2Bb&x-id=GetObject&uploads",
    );
  });
});

describe("forwardHeaders", () => {
  const client: Array<[string, string]> = [
    ["Host", "proxy:6190"],
    ["Authorization", "AWS4-HMAC-SHA256 Credential=…"],
    ["X-Amz-Security-Token", "client-token"],
    ["X-Amz-Date", "20240101T000000Z"],
    ["X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD"],
    ["Content-Length", "5"],
    ["Transfer-Encoding", "chunked"],
    ["Connection", "keep-alive, X-Custom-Hop, x-amz-copy-source"],
    ["Keep-Alive", "timeout=5"],
    ["Proxy-Authorization", "Basic x"],
    ["TE", "trailers"],
    ["Trailer", "x-amz-checksum-crc32"],
    ["Upgrade", "h2c"],
    ["Expect", "100-continue"],
    ["X-Forwarded-For", "10.0.0.1"],
    ["X-Forwarded-Proto", "https"],
    ["Forwarded", "for=10.0.0.1"],
    ["Via", "1.1 lb"],
    ["Accept-Encoding", "gzip"],
    ["X-Custom-Hop", "1"],
    // Everything S3 gives meaning to (D-7, D-8):
    ["Content-Type", "text/plain"],
    ["Content-MD5", "XrY7u+Ae7tCTyyK7j1rNww=="],
    ["Content-Encoding", "gzip"],
    ["Content-Disposition", "attachment"],
    ["Content-Language", "en"],
    ["Cache-Control", "no-cache"],
    ["Expires", "Thu, 01 Dec 1994 16:00:00 GMT"],
    ["x-amz-meta-Color", "blue"],
    ["x-amz-copy-source", "/src/key"],
    ["x-amz-copy-source-if-match", '"etag"'],
    ["x-amz-copy-source-range", "bytes=0-9"],
    ["x-amz-metadata-directive", "REPLACE"],
    ["x-amz-tagging-directive", "COPY"],
    ["x-amz-server-side-encryption", "AES256"],
    ["x-amz-server-side-encryption-customer-key", "c2VjcmV0"],
    ["x-amz-acl", "private"],
    ["x-amz-grant-read", "id=1"],
    ["x-amz-tagging", "a=b"],
    ["x-amz-storage-class", "STANDARD_IA"],
    ["x-amz-website-redirect-location", "/x"],
    ["x-amz-object-lock-mode", "GOVERNANCE"],
    ["x-amz-expected-bucket-owner", "123"],
    ["x-amz-request-payer", "requester"],
    ["If-Match", '"a"'],
    ["If-None-Match", "*"],
    ["If-Modified-Since", "Thu, 01 Dec 1994 16:00:00 GMT"],
    ["If-Unmodified-Since", "Thu, 01 Dec 1994 16:00:00 GMT"],
    ["Range", "bytes=0-1"],
    ["x-amz-checksum-crc32", "AAAAAA=="],
    ["x-amz-sdk-checksum-algorithm", "CRC32"],
    ["x-amz-trailer", "x-amz-checksum-crc32"],
    ["x-amz-decoded-content-length", "5"],
    ["Origin", "https://app.example.com"],
    ["User-Agent", "aws-cli/2"],
  ];

  it("D-7/D-8: forwards every S3 semantic header and strips only hop-by-hop, client auth and proxy headers", () => {
    const kept = forwardHeaders(client, ["host", "x-amz-copy-source", "x-amz-date"]);
    const names = kept.map(([name]) => name);
    expect(names).toEqual([
      "content-type",
      "content-md5",
      "content-encoding",
      "content-disposition",
      "content-language",
      "cache-control",
      "expires",
      "x-amz-meta-color",
      "x-amz-copy-source",
      "x-amz-copy-source-if-match",
      "x-amz-copy-source-range",
      "x-amz-metadata-directive",
      "x-amz-tagging-directive",
      "x-amz-server-side-encryption",
      "x-amz-server-side-encryption-customer-key",
      "x-amz-acl",
      "x-amz-grant-read",
      "x-amz-tagging",
      "x-amz-storage-class",
      "x-amz-website-redirect-location",
      "x-amz-object-lock-mode",
      "x-amz-expected-bucket-owner",
      "x-amz-request-payer",
      "if-match",
      "if-none-match",
      "if-modified-since",
      "if-unmodified-since",
      "range",
      "x-amz-checksum-crc32",
      "x-amz-sdk-checksum-algorithm",
      "x-amz-trailer",
      "x-amz-decoded-content-length",
      "origin",
      "user-agent",
    ]);
    expect(kept.find(([name]) => name === "x-amz-meta-color")![1]).toBe("blue");
  });

  it("never lets a Connection header strip a header the client signed (copy source stays)", () => {
    expect(forwardHeaders(client, []).map(([name]) => name)).not.toContain("x-amz-copy-source");
    expect(forwardHeaders(client, ["x-amz-copy-source"]).map(([name]) => name)).toContain(
      "x-amz-copy-source",
    );
  });

  it("D-14: never forwards the client's x-amz-security-token", () => {
    expect(forwardHeaders([["x-amz-security-token", "t"]]).length).toBe(0);
  });
});

describe("hoistedHeaders", () => {
  it("turns x-amz-* query parameters of a presigned URL back into headers", () => {
    const query = parseQuery(
      "X-Amz-Signature=00&x-amz-acl=public-read&X-Amz-Meta-A=1&x-id=PutObject",
    );
    expect(hoistedHeaders(query, [["x-amz-meta-a", "header wins"]])).toEqual([
      ["x-amz-acl", "public-read"],
    ]);
  });

  it("refuses query text that would split an upstream header (CR, LF, NUL, non-token names)", () => {
    for (const raw of [
      "x-amz-meta-note=a%0D%0Ax-injected%3A%201",
      "x-amz-meta-note=a%0Ab",
      "x-amz-meta-note=a%00",
      "x-amz-meta-a%20b=1",
      "x-amz-meta-a%3A=1",
    ]) {
      let error: unknown;
      try {
        hoistedHeaders(parseQuery(raw), []);
      } catch (caught) {
        error = caught;
      }
      expect(OspError.is(error) && error.code, raw).toBe("InvalidArgument");
    }
  });
});

describe("copy source", () => {
  it("D-7: parses both forms, keeps the key encoding and versionId", () => {
    expect(parseCopySource("/src/a%2Bb%20c?versionId=v%2B1")).toEqual({
      bucket: "src",
      key: "a+b c",
      versionId: "v+1",
      leadingSlash: true,
      rawRest: "a%2Bb%20c?versionId=v%2B1",
    });
    expect(parseCopySource("src/dir/k")).toMatchObject({
      bucket: "src",
      key: "dir/k",
      leadingSlash: false,
    });
  });

  it("rewrites the alias into the source bucket and leaves the rest byte for byte", () => {
    const source = parseCopySource("/alias/a%2Bb?versionId=1");
    expect(rewriteCopySource(source, bucket("alias"))).toBe("/real-bucket/a%2Bb?versionId=1");
    expect(rewriteCopySource(parseCopySource("alias/k"), bucket("alias"))).toBe("real-bucket/k");
  });

  it("refuses copy sources that are not bucket/key", () => {
    for (const value of ["", "/", "bucket", "/bucket/", "%zz/k", "/b/%E2"]) {
      let error: unknown;
      try {
        parseCopySource(value);
      } catch (caught) {
        error = caught;
      }
      expect(OspError.is(error) && error.code).toBe("InvalidArgument");
    }
  });
});
