// S3 operation names from method + query + path, as the validator and the audit log see them.
// Sub-resources are matched on decoded parameter NAMES, never on substrings of the raw query
// (the predecessor's `uploadId=` substring test let `?x=uploadId=` skip verification).

import { OspError } from "./errors.ts";

/** What the operation name depends on. @public */
export interface OperationInput {
  readonly method: string;
  /** Absent for service-level requests (`GET /`). */
  readonly bucket?: string;
  /** Absent (or empty) for bucket-level requests. */
  readonly key?: string;
  /** Decoded query parameter names (values are not needed). */
  readonly queryNames: ReadonlySet<string> | ReadonlyArray<string>;
  /** Whether the request carries `x-amz-copy-source`. */
  readonly copySource?: boolean;
}

// Bucket sub-resources: query name → operation suffix ("Get"/"Put"/"Delete" + suffix).
const BUCKET_SUBRESOURCES: ReadonlyArray<readonly [query: string, suffix: string]> = [
  ["accelerate", "BucketAccelerateConfiguration"],
  ["acl", "BucketAcl"],
  ["analytics", "BucketAnalyticsConfiguration"],
  ["cors", "BucketCors"],
  ["encryption", "BucketEncryption"],
  ["intelligent-tiering", "BucketIntelligentTieringConfiguration"],
  ["inventory", "BucketInventoryConfiguration"],
  ["lifecycle", "BucketLifecycleConfiguration"],
  ["logging", "BucketLogging"],
  ["metrics", "BucketMetricsConfiguration"],
  ["notification", "BucketNotificationConfiguration"],
  ["object-lock", "ObjectLockConfiguration"],
  ["ownershipControls", "BucketOwnershipControls"],
  ["policy", "BucketPolicy"],
  ["policyStatus", "BucketPolicyStatus"],
  ["publicAccessBlock", "PublicAccessBlock"],
  ["replication", "BucketReplication"],
  ["requestPayment", "BucketRequestPayment"],
  ["tagging", "BucketTagging"],
  ["versioning", "BucketVersioning"],
  ["website", "BucketWebsite"],
];

const OBJECT_SUBRESOURCES: ReadonlyArray<readonly [query: string, suffix: string]> = [
  ["acl", "ObjectAcl"],
  ["legal-hold", "ObjectLegalHold"],
  ["retention", "ObjectRetention"],
  ["tagging", "ObjectTagging"],
];

// Every query name that selects what a request does, beyond its method and path.
const SUBRESOURCES: ReadonlySet<string> = new Set([
  ...BUCKET_SUBRESOURCES.map(([query]) => query),
  ...OBJECT_SUBRESOURCES.map(([query]) => query),
  "attributes",
  "delete",
  "location",
  "restore",
  "select",
  "torrent",
  "uploads",
  "versions",
]);
const MULTIPART_PARAMS: ReadonlyArray<string> = ["uploadId", "partNumber"];

// Query names that never change which operation a request performs: listing and paging,
// version and part selection, response header overrides, the SDKs' `x-id` hint, the `id` of a
// bucket configuration, and Ceph's `allow-unordered`. Names starting with `x-amz-` (presign
// parameters and presigned headers) are neutral too.
const NEUTRAL_PARAMS: ReadonlySet<string> = new Set([
  "allow-unordered",
  "continuation-token",
  "delimiter",
  "encoding-type",
  "fetch-owner",
  "id",
  "key-marker",
  "list-type",
  "marker",
  "max-keys",
  "max-parts",
  "max-uploads",
  "part-number-marker",
  "prefix",
  "response-cache-control",
  "response-content-disposition",
  "response-content-encoding",
  "response-content-language",
  "response-content-type",
  "response-expires",
  "select-type",
  "start-after",
  "upload-id-marker",
  "version-id-marker",
  "versionId",
  "x-id",
]);

/**
 * True when the query holds a name OSP cannot place: S3 keeps adding sub-resources (and
 * backends have their own), and naming such a request after its method alone would show the
 * validator a weaker operation than the backend performs.
 */
const hasUnknownParam = (names: ReadonlySet<string>): boolean => {
  for (const name of names) {
    if (SUBRESOURCES.has(name) || MULTIPART_PARAMS.includes(name) || NEUTRAL_PARAMS.has(name)) {
      continue;
    }
    if (name.length >= 6 && name.slice(0, 6).toLowerCase() === "x-amz-") continue;
    return true;
  }
  return false;
};

/**
 * Refuses requests whose query selects more than one operation: two sub-resources (`?acl&tagging`)
 * or a sub-resource with `uploadId`/`partNumber` (`PUT ?acl&partNumber=1&uploadId=u`). S3 defines
 * no such request, and backends resolve them differently (Ceph RGW dispatches on the sub-resource,
 * so `?acl&uploadId` would be authorized as one operation and performed as another). Refusing is
 * safer than any precedence: the validator and the backend can never disagree on the operation.
 * @throws OspError `InvalidArgument`, naming the conflicting parameters.
 * @internal
 */
export const assertUnambiguousSubresources = (queryNames: ReadonlyArray<string>): void => {
  let subresource: string | undefined;
  let multipart: string | undefined;
  for (const name of queryNames) {
    if (MULTIPART_PARAMS.includes(name)) multipart ??= name;
    else if (!SUBRESOURCES.has(name)) continue;
    else if (subresource == null || subresource === name) subresource = name;
    else throw conflict(subresource, name);
    if (subresource != null && multipart != null) throw conflict(subresource, multipart);
  }
};

const conflict = (first: string, second: string): OspError =>
  new OspError("InvalidArgument", {
    message: `The query parameters '${first}' and '${second}' cannot be combined in one request.`,
  });

const bucketOperation = (method: string, has: (name: string) => boolean): string => {
  if (method === "HEAD") return "HeadBucket";
  if (method === "POST") return has("delete") ? "DeleteObjects" : "PostObject";
  const sub = BUCKET_SUBRESOURCES.find(([query]) => has(query));
  if (method === "GET") {
    if (has("location")) return "GetBucketLocation";
    if (has("uploads")) return "ListMultipartUploads";
    if (has("versions")) return "ListObjectVersions";
    if (sub != null) return `Get${sub[1]}`;
    return has("list-type") ? "ListObjectsV2" : "ListObjects";
  }
  if (method === "PUT") return sub != null ? `Put${sub[1]}` : "CreateBucket";
  if (method === "DELETE") return sub != null ? `Delete${sub[1]}` : "DeleteBucket";
  return method === "OPTIONS" ? "PreflightRequest" : "Unknown";
};

const objectOperation = (
  method: string,
  has: (name: string) => boolean,
  copySource: boolean,
): string => {
  const sub = OBJECT_SUBRESOURCES.find(([query]) => has(query));
  switch (method) {
    // Sub-resources are named before uploadId/partNumber: backends (Ceph RGW) dispatch on the
    // sub-resource first, so the name must never be the weaker multipart operation. The parse
    // phase refuses such combinations anyway (`assertUnambiguousSubresources`).
    case "GET":
      if (has("attributes")) return "GetObjectAttributes";
      if (has("torrent")) return "GetObjectTorrent";
      if (sub != null) return `Get${sub[1]}`;
      return has("uploadId") ? "ListParts" : "GetObject";
    case "HEAD":
      return "HeadObject";
    case "PUT":
      if (sub != null) return `Put${sub[1]}`;
      if (has("uploadId") && has("partNumber")) return copySource ? "UploadPartCopy" : "UploadPart";
      return copySource ? "CopyObject" : "PutObject";
    case "POST":
      if (has("uploads")) return "CreateMultipartUpload";
      if (has("uploadId")) return "CompleteMultipartUpload";
      if (has("restore")) return "RestoreObject";
      if (has("select")) return "SelectObjectContent";
      return "PostObject";
    case "DELETE":
      if (has("tagging")) return "DeleteObjectTagging";
      if (has("uploadId")) return "AbortMultipartUpload";
      return "DeleteObject";
    case "OPTIONS":
      return "PreflightRequest";
    default:
      return "Unknown";
  }
};

/**
 * The S3 operation a request performs: `"ListBuckets"`, `"GetObject"`, `"PutObject"`,
 * `"UploadPart"`, `"CreateMultipartUpload"`, `"ListObjectsV2"`, `"CopyObject"`, … and
 * `"Unknown"` for what S3 does not define or a bucket/object request carrying a query parameter
 * OSP does not know (a validator that allows by operation name then sees `"Unknown"`).
 * @public
 */
export const s3OperationName = (input: OperationInput): string => {
  const method = input.method.toUpperCase();
  const names = input.queryNames instanceof Set ? input.queryNames : new Set(input.queryNames);
  const has = (name: string) => names.has(name);
  if (input.bucket == null || input.bucket === "") {
    if (method === "GET" || method === "HEAD") return "ListBuckets";
    return method === "OPTIONS" ? "PreflightRequest" : "Unknown";
  }
  if (hasUnknownParam(names)) return "Unknown";
  if (input.key == null || input.key === "") return bucketOperation(method, has);
  return objectOperation(method, has, input.copySource === true);
};
