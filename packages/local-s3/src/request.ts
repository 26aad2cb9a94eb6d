// From the raw request line to bucket, key, query and operation. The wire path is decoded
// exactly once (a key "a%2Bb" is "a+b", a raw "+" stays "+"), never normalised: "//" and "."
// segments are part of the key.
import { S3Error } from "./errors.ts";

const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

const hexValue = (code: number): number => {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
};

/**
 * Decodes `%XX` escapes once into UTF-8 text. `+` is kept (S3 paths are not form-encoded).
 * @throws S3Error InvalidURI on a malformed escape or invalid UTF-8.
 */
export const percentDecode = (text: string): string => {
  if (!text.includes("%")) return text;
  const source = Buffer.from(text, "utf8");
  const out = Buffer.allocUnsafe(source.length);
  let length = 0;
  for (let i = 0; i < source.length; i++) {
    const byte = source[i]!;
    if (byte !== 0x25) {
      out[length++] = byte;
      continue;
    }
    const high = hexValue(source[i + 1] ?? -1);
    const low = hexValue(source[i + 2] ?? -1);
    if (high < 0 || low < 0) throw new S3Error("InvalidURI");
    out[length++] = high * 16 + low;
    i += 2;
  }
  try {
    return utf8Decoder.decode(out.subarray(0, length));
  } catch {
    throw new S3Error("InvalidURI");
  }
};

/** Where a request points. `key` is absent for service- and bucket-level requests. */
export interface RequestTarget {
  readonly bucket?: string;
  readonly key?: string;
  readonly addressing: "path" | "virtual-host";
}

/** The host name of a Host header, lower case, without port (IPv6 brackets kept). */
export const hostName = (host: string | undefined): string => {
  if (host == null) return "";
  const value = host.trim().toLowerCase();
  if (value.startsWith("[")) return value.slice(0, value.indexOf("]") + 1);
  const colon = value.lastIndexOf(":");
  return colon >= 0 ? value.slice(0, colon) : value;
};

/**
 * Resolves bucket and key. A Host `<bucket>.<domain>` for one of `virtualHostDomains` selects
 * virtual-host addressing (the whole path is the key); otherwise the first path segment is
 * the bucket.
 */
export const resolveTarget = (
  rawPath: string,
  host: string | undefined,
  virtualHostDomains: ReadonlyArray<string>,
): RequestTarget => {
  if (!rawPath.startsWith("/")) throw new S3Error("InvalidURI");
  const name = hostName(host);
  for (const domain of virtualHostDomains) {
    const suffix = `.${domain}`;
    if (name.length > suffix.length && name.endsWith(suffix)) {
      const bucket = name.slice(0, -suffix.length);
      const key = percentDecode(rawPath.slice(1));
      return key === ""
        ? { bucket, addressing: "virtual-host" }
        : { bucket, key, addressing: "virtual-host" };
    }
  }
  if (rawPath === "/") return { addressing: "path" };
  const slash = rawPath.indexOf("/", 1);
  const bucket = percentDecode(slash < 0 ? rawPath.slice(1) : rawPath.slice(1, slash));
  const key = slash < 0 ? "" : percentDecode(rawPath.slice(slash + 1));
  return key === "" ? { bucket, addressing: "path" } : { bucket, key, addressing: "path" };
};

/**
 * Decoded query parameters, first occurrence of a name wins. Names and values are decoded
 * once; `+` stays `+`, as in SigV4's canonical query.
 */
export const parseQuery = (rawQuery: string): ReadonlyMap<string, string> => {
  const params = new Map<string, string>();
  if (rawQuery === "") return params;
  for (const pair of rawQuery.split("&")) {
    if (pair === "") continue;
    const equals = pair.indexOf("=");
    const name = percentDecode(equals < 0 ? pair : pair.slice(0, equals));
    const value = equals < 0 ? "" : percentDecode(pair.slice(equals + 1));
    if (!params.has(name)) params.set(name, value);
  }
  return params;
};

/** Header name (lower case) → value; repeated headers joined with ",", as HTTP allows. */
export const headerMap = (
  rawHeaders: ReadonlyArray<readonly [string, string]>,
): ReadonlyMap<string, string> => {
  const headers = new Map<string, string>();
  for (const [name, value] of rawHeaders) {
    const lower = name.toLowerCase();
    const previous = headers.get(lower);
    headers.set(lower, previous == null ? value : `${previous},${value}`);
  }
  return headers;
};

/** The operations local-s3 implements, plus `NotImplemented` for everything else. @public */
export type S3Operation =
  | "ListBuckets"
  | "CreateBucket"
  | "HeadBucket"
  | "DeleteBucket"
  | "GetBucketLocation"
  | "GetBucketVersioning"
  | "ListObjects"
  | "ListObjectsV2"
  | "PutObject"
  | "GetObject"
  | "HeadObject"
  | "DeleteObject"
  | "DeleteObjects"
  | "CopyObject"
  | "CreateMultipartUpload"
  | "UploadPart"
  | "UploadPartCopy"
  | "CompleteMultipartUpload"
  | "AbortMultipartUpload"
  | "ListParts"
  | "ListMultipartUploads"
  | "NotImplemented";

// Query parameters that are arguments, not sub-resources. Any other name (acl, tagging,
// policy, …) selects a sub-resource local-s3 does not implement.
const ARGUMENTS = new Set([
  "prefix",
  "delimiter",
  "marker",
  "max-keys",
  "list-type",
  "continuation-token",
  "start-after",
  "encoding-type",
  "fetch-owner",
  "key-marker",
  "upload-id-marker",
  "max-uploads",
  "max-parts",
  "part-number-marker",
  "partNumber",
  "uploadId",
  "versionId",
  "x-id",
  "max-buckets",
  "bucket-region",
  "response-content-type",
  "response-content-language",
  "response-expires",
  "response-cache-control",
  "response-content-disposition",
  "response-content-encoding",
]);

const isArgument = (name: string): boolean =>
  ARGUMENTS.has(name) || name.toLowerCase().startsWith("x-amz-");

/** Maps method + target + query names to an operation. */
export const resolveOperation = (
  method: string,
  target: RequestTarget,
  query: ReadonlyMap<string, string>,
  hasCopySource: boolean,
): S3Operation => {
  const has = (name: string) => query.has(name);
  const subresources = [...query.keys()].filter((name) => !isArgument(name));
  const only = (...allowed: string[]) => subresources.every((name) => allowed.includes(name));
  if (target.bucket == null) return method === "GET" && only() ? "ListBuckets" : "NotImplemented";
  if (target.key == null) {
    switch (method) {
      case "GET":
        if (has("location") && only("location")) return "GetBucketLocation";
        if (has("versioning") && only("versioning")) return "GetBucketVersioning";
        if (has("uploads") && only("uploads")) return "ListMultipartUploads";
        if (!only()) return "NotImplemented";
        return query.get("list-type") === "2" ? "ListObjectsV2" : "ListObjects";
      case "HEAD":
        return only() ? "HeadBucket" : "NotImplemented";
      case "PUT":
        return only() ? "CreateBucket" : "NotImplemented";
      case "DELETE":
        return only() ? "DeleteBucket" : "NotImplemented";
      case "POST":
        return has("delete") && only("delete") ? "DeleteObjects" : "NotImplemented";
      default:
        return "NotImplemented";
    }
  }
  switch (method) {
    case "GET":
      if (!only()) return "NotImplemented";
      return has("uploadId") ? "ListParts" : "GetObject";
    case "HEAD":
      return only() ? "HeadObject" : "NotImplemented";
    case "PUT":
      if (!only()) return "NotImplemented";
      if (has("uploadId") || has("partNumber")) {
        if (!(has("uploadId") && has("partNumber"))) return "NotImplemented";
        return hasCopySource ? "UploadPartCopy" : "UploadPart";
      }
      return hasCopySource ? "CopyObject" : "PutObject";
    case "POST":
      if (has("uploads") && only("uploads")) return "CreateMultipartUpload";
      if (has("uploadId") && only()) return "CompleteMultipartUpload";
      return "NotImplemented";
    case "DELETE":
      if (!only()) return "NotImplemented";
      return has("uploadId") ? "AbortMultipartUpload" : "DeleteObject";
    default:
      return "NotImplemented";
  }
};
