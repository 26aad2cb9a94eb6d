import { describe, expect, it } from "vitest";
import { OspError } from "./errors.ts";
import { assertUnambiguousSubresources, s3OperationName } from "./operation.ts";

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

  it("names a request with a query parameter it cannot place Unknown, never after its method alone", () => {
    const object = { bucket: "b", key: "k" };
    expect(op("GET", object, ["renameObject"])).toBe("Unknown");
    expect(op("GET", { bucket: "b" }, ["session"])).toBe("Unknown");
    expect(op("PUT", object, ["partNumber", "uploadId", "future-subresource"])).toBe("Unknown");
    expect(op("GET", object, ["x"])).toBe("Unknown");
  });

  it("keeps the operation for parameters that do not change it", () => {
    const object = { bucket: "b", key: "k" };
    expect(op("GET", object, ["versionId", "x-id", "response-content-type", "partNumber"])).toBe(
      "GetObject",
    );
    expect(op("GET", object, ["X-Amz-Algorithm", "X-Amz-Signature", "x-amz-meta-a"])).toBe(
      "GetObject",
    );
    const listing = ["list-type", "prefix", "delimiter", "max-keys", "continuation-token"];
    expect(
      op("GET", { bucket: "b" }, [...listing, "start-after", "fetch-owner", "encoding-type"]),
    ).toBe("ListObjectsV2");
    expect(op("GET", { bucket: "b" }, ["analytics", "id"])).toBe("GetBucketAnalyticsConfiguration");
  });

  it("is case-insensitive on the method", () => {
    expect(op("get", { bucket: "b", key: "k" })).toBe("GetObject");
  });

  it("names a sub-resource before uploadId/partNumber, as backends dispatch (never the weaker multipart name)", () => {
    const object = { bucket: "b", key: "k" };
    expect(op("PUT", object, ["acl", "partNumber", "uploadId"])).toBe("PutObjectAcl");
    expect(op("PUT", object, ["partNumber", "tagging", "uploadId"], true)).toBe("PutObjectTagging");
    expect(op("DELETE", object, ["tagging", "uploadId"])).toBe("DeleteObjectTagging");
    expect(op("GET", object, ["acl", "uploadId"])).toBe("GetObjectAcl");
    expect(op("GET", object, ["uploadId", "attributes"])).toBe("GetObjectAttributes");
  });
});

describe("assertUnambiguousSubresources", () => {
  const refusal = (names: string[]): string | undefined => {
    try {
      assertUnambiguousSubresources(names);
    } catch (error) {
      return OspError.is(error) ? `${error.code}: ${error.message}` : "not an OspError";
    }
    return undefined;
  };

  it.each([
    [["acl", "partNumber", "uploadId"]],
    [["partNumber", "tagging", "uploadId"]],
    [["tagging", "uploadId"]],
    [["uploadId", "acl"]],
    [["retention", "partNumber"]],
    [["legal-hold", "uploadId"]],
    [["uploads", "uploadId"]],
    [["restore", "uploadId"]],
    [["acl", "tagging"]],
    [["policy", "website"]],
    [["delete", "acl"]],
  ])("refuses %o with InvalidArgument", (names) => {
    expect(refusal(names)).toMatch(/^InvalidArgument: .*cannot be combined/);
  });

  it.each([
    [[]],
    [["partNumber", "uploadId", "x-id"]],
    [["uploadId", "max-parts", "part-number-marker"]],
    [["partNumber", "versionId"]],
    [["acl", "versionId"]],
    [["tagging", "versionId", "x-id"]],
    [["uploads", "prefix", "upload-id-marker"]],
    [["list-type", "prefix", "continuation-token"]],
    [["select", "select-type"]],
  ])("accepts %o", (names) => {
    expect(refusal(names)).toBeUndefined();
  });

  it("names both parameters in the message", () => {
    expect(refusal(["acl", "partNumber", "uploadId"])).toContain("'acl' and 'partNumber'");
  });
});
