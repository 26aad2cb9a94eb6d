// S3 operation names from method + query + path, as the validator and the audit log see them.
// Sub-resources are matched on decoded parameter NAMES, never on substrings of the raw query
// (the predecessor's `uploadId=` substring test let `?x=uploadId=` skip verification).

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
    case "GET":
      if (has("uploadId")) return "ListParts";
      if (has("attributes")) return "GetObjectAttributes";
      if (has("torrent")) return "GetObjectTorrent";
      return sub != null ? `Get${sub[1]}` : "GetObject";
    case "HEAD":
      return "HeadObject";
    case "PUT":
      if (has("uploadId") && has("partNumber")) return copySource ? "UploadPartCopy" : "UploadPart";
      if (sub != null) return `Put${sub[1]}`;
      return copySource ? "CopyObject" : "PutObject";
    case "POST":
      if (has("uploads")) return "CreateMultipartUpload";
      if (has("uploadId")) return "CompleteMultipartUpload";
      if (has("restore")) return "RestoreObject";
      if (has("select")) return "SelectObjectContent";
      return "PostObject";
    case "DELETE":
      if (has("uploadId")) return "AbortMultipartUpload";
      if (has("tagging")) return "DeleteObjectTagging";
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
 * `"Unknown"` for what S3 does not define.
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
  if (input.key == null || input.key === "") return bucketOperation(method, has);
  return objectOperation(method, has, input.copySource === true);
};
