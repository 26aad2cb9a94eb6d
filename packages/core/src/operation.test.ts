import { describe, expect, it } from "vitest";
import { s3OperationName } from "./operation.ts";

const op = (
  method: string,
  path: { bucket?: string; key?: string },
  query: string[] = [],
  copySource = false,
) => s3OperationName({ method, ...path, queryNames: query, copySource });

describe("s3OperationName", () => {
  it.each([
    ["GET", {}, [], "ListBuckets"],
    ["HEAD", {}, [], "ListBuckets"],
    ["PUT", {}, [], "Unknown"],
    ["GET", { bucket: "b" }, [], "ListObjects"],
    ["GET", { bucket: "b" }, ["list-type", "prefix"], "ListObjectsV2"],
    ["GET", { bucket: "b" }, ["uploads"], "ListMultipartUploads"],
    ["GET", { bucket: "b" }, ["versions"], "ListObjectVersions"],
    ["GET", { bucket: "b" }, ["location"], "GetBucketLocation"],
    ["GET", { bucket: "b" }, ["policy"], "GetBucketPolicy"],
    ["PUT", { bucket: "b" }, ["tagging"], "PutBucketTagging"],
    ["DELETE", { bucket: "b" }, ["cors"], "DeleteBucketCors"],
    ["PUT", { bucket: "b" }, [], "CreateBucket"],
    ["DELETE", { bucket: "b" }, [], "DeleteBucket"],
    ["HEAD", { bucket: "b" }, [], "HeadBucket"],
    ["POST", { bucket: "b" }, ["delete"], "DeleteObjects"],
    ["GET", { bucket: "b", key: "k" }, [], "GetObject"],
    ["GET", { bucket: "b", key: "k" }, ["uploadId"], "ListParts"],
    ["GET", { bucket: "b", key: "k" }, ["tagging"], "GetObjectTagging"],
    ["HEAD", { bucket: "b", key: "k" }, [], "HeadObject"],
    ["PUT", { bucket: "b", key: "k" }, [], "PutObject"],
    ["PUT", { bucket: "b", key: "k" }, ["partNumber", "uploadId"], "UploadPart"],
    ["PUT", { bucket: "b", key: "k" }, ["acl"], "PutObjectAcl"],
    ["POST", { bucket: "b", key: "k" }, ["uploads"], "CreateMultipartUpload"],
    ["POST", { bucket: "b", key: "k" }, ["uploadId"], "CompleteMultipartUpload"],
    ["POST", { bucket: "b", key: "k" }, ["restore"], "RestoreObject"],
    ["DELETE", { bucket: "b", key: "k" }, ["uploadId"], "AbortMultipartUpload"],
    ["DELETE", { bucket: "b", key: "k" }, [], "DeleteObject"],
    ["OPTIONS", { bucket: "b", key: "k" }, [], "PreflightRequest"],
    ["PATCH", { bucket: "b", key: "k" }, [], "Unknown"],
  ] as const)("names %s %o ?%o as %s", (method, path, query, expected) => {
    expect(op(method, path, [...query])).toBe(expected);
  });

  it("names copies by the x-amz-copy-source header (D-7)", () => {
    expect(op("PUT", { bucket: "b", key: "k" }, [], true)).toBe("CopyObject");
    expect(op("PUT", { bucket: "b", key: "k" }, ["partNumber", "uploadId"], true)).toBe(
      "UploadPartCopy",
    );
  });

  it("D-2: matches parameter names, never substrings of values (?x=uploadId= is a GetObject)", () => {
    // The decoded name list of `?response-content-type=uploadId=` holds no `uploadId`.
    expect(op("GET", { bucket: "b", key: "k" }, ["response-content-type"])).toBe("GetObject");
  });

  it("is case-insensitive on the method", () => {
    expect(op("get", { bucket: "b", key: "k" })).toBe("GetObject");
  });
});
