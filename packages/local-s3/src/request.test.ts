import { describe, expect, it } from "vitest";
import { S3Error } from "./errors.ts";
import {
  headerMap,
  parseQuery,
  percentDecode,
  resolveOperation,
  resolveTarget,
} from "./request.ts";

describe("percentDecode", () => {
  it("decodes once and keeps + literal", () => {
    expect(percentDecode("a%2Bb+c%20d")).toBe("a+b+c d");
    expect(percentDecode("%2525")).toBe("%25");
    expect(percentDecode("%E2%82%AC%F0%9F%98%80")).toBe("€😀");
  });

  it("rejects malformed escapes and invalid UTF-8 with InvalidURI", () => {
    for (const bad of ["%", "%G0", "%a", "%FF%FE"]) {
      expect(() => percentDecode(bad)).toThrow(S3Error);
      try {
        percentDecode(bad);
      } catch (error) {
        expect((error as S3Error).code).toBe("InvalidURI");
      }
    }
  });
});

describe("resolveTarget", () => {
  const domains = ["localhost"];

  it("splits path-style bucket and key, keeping // and dot segments", () => {
    expect(resolveTarget("/bucket/a//b/../c%3Fd", "127.0.0.1:9000", domains)).toEqual({
      bucket: "bucket",
      key: "a//b/../c?d",
      addressing: "path",
    });
    expect(resolveTarget("/bucket//lead", "127.0.0.1", domains).key).toBe("/lead");
  });

  it("treats /bucket and /bucket/ as bucket-level and / as service-level", () => {
    expect(resolveTarget("/bucket", undefined, domains)).toEqual({
      bucket: "bucket",
      addressing: "path",
    });
    expect(resolveTarget("/bucket/", undefined, domains)).toEqual({
      bucket: "bucket",
      addressing: "path",
    });
    expect(resolveTarget("/", undefined, domains)).toEqual({ addressing: "path" });
  });

  it("reads the bucket from a virtual-host Host header", () => {
    expect(resolveTarget("/dir/file%20name.txt", "my.bucket.localhost:4567", domains)).toEqual({
      bucket: "my.bucket",
      key: "dir/file name.txt",
      addressing: "virtual-host",
    });
    expect(resolveTarget("/", "photos.LOCALHOST", domains)).toEqual({
      bucket: "photos",
      addressing: "virtual-host",
    });
  });

  it("uses path style for a bare domain", () => {
    expect(resolveTarget("/b/k", "localhost:80", domains).addressing).toBe("path");
  });
});

describe("parseQuery", () => {
  it("decodes names and values once, first occurrence wins", () => {
    const query = parseQuery("prefix=a%2Bb+c&delete&x=1&x=2&empty=");
    expect(query.get("prefix")).toBe("a+b+c");
    expect(query.get("delete")).toBe("");
    expect(query.get("x")).toBe("1");
    expect(query.get("empty")).toBe("");
  });
});

describe("headerMap", () => {
  it("lower-cases names and joins repeated headers", () => {
    const headers = headerMap([
      ["Host", "h"],
      ["X-Amz-Meta-A", "1"],
      ["x-amz-meta-a", "2"],
    ]);
    expect(headers.get("host")).toBe("h");
    expect(headers.get("x-amz-meta-a")).toBe("1,2");
  });
});

describe("resolveOperation", () => {
  const path = (raw: string) => resolveTarget(raw, "127.0.0.1", []);
  const op = (method: string, raw: string, query = "", copy = false) =>
    resolveOperation(method, path(raw), parseQuery(query), copy);

  it.each([
    ["GET", "/", "", false, "ListBuckets"],
    ["GET", "/", "x-id=ListBuckets&max-buckets=10", false, "ListBuckets"],
    ["PUT", "/b", "", false, "CreateBucket"],
    ["HEAD", "/b", "", false, "HeadBucket"],
    ["DELETE", "/b", "", false, "DeleteBucket"],
    ["GET", "/b", "location", false, "GetBucketLocation"],
    ["GET", "/b", "versioning", false, "GetBucketVersioning"],
    ["GET", "/b", "uploads&prefix=a", false, "ListMultipartUploads"],
    ["GET", "/b", "list-type=2&prefix=a", false, "ListObjectsV2"],
    ["GET", "/b", "marker=a", false, "ListObjects"],
    ["POST", "/b", "delete=", false, "DeleteObjects"],
    ["PUT", "/b/k", "x-id=PutObject", false, "PutObject"],
    ["PUT", "/b/k", "", true, "CopyObject"],
    ["GET", "/b/k", "response-content-type=a", false, "GetObject"],
    ["HEAD", "/b/k", "", false, "HeadObject"],
    ["DELETE", "/b/k", "", false, "DeleteObject"],
    ["POST", "/b/k", "uploads", false, "CreateMultipartUpload"],
    ["PUT", "/b/k", "partNumber=1&uploadId=u", false, "UploadPart"],
    ["PUT", "/b/k", "partNumber=1&uploadId=u", true, "UploadPartCopy"],
    ["POST", "/b/k", "uploadId=u", false, "CompleteMultipartUpload"],
    ["DELETE", "/b/k", "uploadId=u", false, "AbortMultipartUpload"],
    ["GET", "/b/k", "uploadId=u", false, "ListParts"],
    ["GET", "/b/k", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=x", false, "GetObject"],
  ])("maps %s %s?%s (copy %s) to %s", (method, raw, query, copy, expected) => {
    expect(op(method, raw, query, copy)).toBe(expected);
  });

  it.each([
    ["GET", "/b", "acl"],
    ["PUT", "/b", "policy"],
    ["GET", "/b/k", "tagging"],
    ["PUT", "/b/k", "uploadId=u"],
    ["POST", "/b/k", "restore"],
    ["PATCH", "/b/k", ""],
    ["PUT", "/", ""],
    ["GET", "/b", "versions"],
  ])("maps %s %s?%s to NotImplemented", (method, raw, query) => {
    expect(op(method, raw, query)).toBe("NotImplemented");
  });
});
