// Phase 1, parse: front addressing (path style or virtual host), bucket and key split by
// POSITION on the raw path, S3 operation name. The raw path, query and header list are kept
// untouched for signature verification.

import type { RawRequest } from "@osp/sigv4";
import type { ProxyConfig } from "../config.ts";
import type { RequestTarget } from "../context.ts";
import { OspError } from "../errors.ts";
import { getHeader, parseQuery, type QueryParam } from "../http.ts";
import { s3OperationName } from "../operation.ts";
import type { ProxyRequest } from "../ports.ts";

/** What the parse phase produces. @public */
export interface ParsedRequest {
  readonly raw: RawRequest;
  readonly query: QueryParam[];
  readonly target: RequestTarget;
  readonly operation: string;
}

/** Decodes a path component strictly: a malformed escape is the client's error. */
const decodePathComponent = (text: string): string => {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new OspError("InvalidURI", {
      message: "The request path contains an invalid percent-encoding.",
    });
  }
};

/** Host name of a Host/:authority value, lower case, without port; IPv6 literals kept in brackets. */
export const hostName = (authority: string): string => {
  const value = authority.trim().toLowerCase();
  if (value.startsWith("[")) {
    const end = value.indexOf("]");
    return end === -1 ? value : value.slice(0, end + 1);
  }
  const colon = value.lastIndexOf(":");
  return (colon === -1 ? value : value.slice(0, colon)).replace(/\.$/, "");
};

/** The bucket addressed through a virtual host, if the host is `<bucket>.<domain>`. */
const virtualHostBucket = (host: string, domains: ReadonlyArray<string>): string | undefined => {
  for (const domain of domains) {
    if (host.length > domain.length + 1 && host.endsWith(`.${domain}`)) {
      return host.slice(0, host.length - domain.length - 1);
    }
  }
  return undefined;
};

/**
 * Splits the raw path into bucket and key. Path style: the first segment is the bucket and
 * everything after it, by position, is the key path (`/logs/logs` → bucket `logs`, key `logs`).
 * @public
 */
export const parseTarget = (
  rawPath: string,
  host: string | undefined,
  config: Pick<ProxyConfig, "virtualHostDomains">,
): RequestTarget => {
  if (!rawPath.startsWith("/")) {
    throw new OspError("InvalidURI", { message: "The request path must start with '/'." });
  }
  const virtualBucket =
    host == null ? undefined : virtualHostBucket(hostName(host), config.virtualHostDomains);
  if (virtualBucket != null) {
    const key = rawPath.length > 1 ? decodePathComponent(rawPath.slice(1)) : undefined;
    // "/" alone addresses the bucket itself: no key path, so a path-style upstream gets "/bucket".
    const rawKeyPath = rawPath === "/" ? "" : rawPath;
    return {
      kind: "bucket",
      addressing: "virtual",
      bucket: virtualBucket,
      rawKeyPath,
      ...(key != null && { key }),
    };
  }
  if (rawPath === "/") return { kind: "service", addressing: "path" };
  const slash = rawPath.indexOf("/", 1);
  const rawBucket = slash === -1 ? rawPath.slice(1) : rawPath.slice(1, slash);
  const bucket = decodePathComponent(rawBucket);
  if (bucket === "" || bucket.includes("/")) {
    throw new OspError("InvalidBucketName", {
      message: "The request path does not start with a bucket name.",
    });
  }
  const rawKeyPath = slash === -1 ? "" : rawPath.slice(slash);
  const key = rawKeyPath.length > 1 ? decodePathComponent(rawKeyPath.slice(1)) : undefined;
  return { kind: "bucket", addressing: "path", bucket, rawKeyPath, ...(key != null && { key }) };
};

/**
 * Parse phase: never reads the body, never normalises what the client signed.
 * @public
 */
export const parseRequest = (request: ProxyRequest, config: ProxyConfig): ParsedRequest => {
  const method = request.method.toUpperCase();
  const raw: RawRequest = {
    method,
    path: request.path,
    query: request.query,
    headers: request.headers,
  };
  const query = parseQuery(request.query);
  const host = getHeader(request.headers, "host") ?? getHeader(request.headers, ":authority");
  const target = parseTarget(request.path, host, config);
  const operation = s3OperationName({
    method,
    ...(target.kind === "bucket" && { bucket: target.bucket, key: target.key }),
    queryNames: query.map((param) => param.name),
    copySource:
      getHeader(request.headers, "x-amz-copy-source") != null ||
      query.some((param) => param.name.toLowerCase() === "x-amz-copy-source"),
  });
  return { raw, query, target, operation };
};
