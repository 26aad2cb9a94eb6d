// Phase 1, parse: front addressing (path style or virtual host), bucket and key split by
// POSITION on the raw path, S3 operation name. The raw path, query and header list are kept
// untouched for signature verification.

import type { RawRequest } from "@osp/sigv4";
import type { ProxyConfig } from "../config.ts";
import type { RequestTarget } from "../context.ts";
import { OspError } from "../errors.ts";
import {
  assertHeaderField,
  getHeader,
  getHeaderValues,
  parseQuery,
  repeatedQueryName,
  type QueryParam,
} from "../http.ts";
import { assertUnambiguousSubresources, s3OperationName } from "../operation.ts";
import type { ProxyRequest } from "../ports.ts";
import { isPresignParam } from "./rewrite.ts";

/** What the parse phase produces. @public */
export interface ParsedRequest {
  readonly raw: RawRequest;
  readonly query: QueryParam[];
  readonly target: RequestTarget;
  readonly operation: string;
  /**
   * Whether the request has the presigned (query) form, as `@osp/sigv4` reads it. Only then are
   * `x-amz-*` query parameters request headers: for the operation name, the copy-source check and
   * the upstream headers alike.
   */
  readonly presigned: boolean;
  /** The one `x-amz-copy-source` (header, or query parameter of a presigned URL), raw. */
  readonly copySource?: string;
}

/** Decodes a path component strictly: a malformed escape is the client's error. */
const decodePathComponent = (text: string): string => {
  // Without a "%" there is nothing to decode (and nothing malformed): most keys.
  if (!text.includes("%")) return text;
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
    host == null || config.virtualHostDomains.length === 0
      ? undefined
      : virtualHostBucket(hostName(host), config.virtualHostDomains);
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
  const presigned = isPresignedForm(request.headers, query);
  const copySource = copySourcesOf(request.headers, query, presigned)[0];
  const queryNames = query.map((param) => param.name);
  const operation = s3OperationName(
    target.kind === "bucket"
      ? {
          method,
          bucket: target.bucket,
          key: target.key,
          queryNames,
          copySource: copySource != null,
        }
      : { method, queryNames, copySource: copySource != null },
  );
  // Spelled out, not spread: this runs for every request.
  return copySource == null
    ? { raw, query, target, operation, presigned }
    : { raw, query, target, operation, presigned, copySource };
};

// The names @osp/sigv4 takes as the presigned form (case-sensitive, as S3 does).
const PRESIGN_MARKERS: ReadonlySet<string> = new Set([
  "X-Amz-Algorithm",
  "X-Amz-Credential",
  "X-Amz-Signature",
]);

/** No `Authorization` header and a presign parameter in the query: what sigv4 verifies as "query". */
const isPresignedForm = (
  headers: ProxyRequest["headers"],
  query: ReadonlyArray<QueryParam>,
): boolean =>
  getHeader(headers, "authorization") == null &&
  query.some((param) => PRESIGN_MARKERS.has(param.name));

const COPY_SOURCE = "x-amz-copy-source";

/** Every copy source: the headers, then (presigned URLs only) the query parameter. */
const copySourcesOf = (
  headers: ProxyRequest["headers"],
  query: ReadonlyArray<QueryParam>,
  presigned: boolean,
): string[] => {
  const values = getHeaderValues(headers, COPY_SOURCE);
  if (presigned) {
    for (const param of query)
      if (param.name.toLowerCase() === COPY_SOURCE) values.push(param.value);
  }
  return values;
};

const isHoistable = (name: string): boolean =>
  name.length > 6 && name.slice(0, 6).toLowerCase() === "x-amz-" && !isPresignParam(name);

/**
 * Refusals that wait for authentication (an unauthenticated client learns only that), and come
 * before authorization: requests the validator and the backend could read differently.
 * - A repeated query parameter (the validator sees one value, backends keep the first, the last
 *   or all). Presign parameters are left to sigv4: they never reach the validator or the backend.
 * - Two sub-resources, or one with `uploadId`/`partNumber` (see `assertUnambiguousSubresources`).
 * - More than one copy source (two headers, or header and presigned query parameter): only one
 *   would be authorized. The query form in a header-signed request is refused, not ignored: a
 *   backend reading it would copy a source nobody authorized.
 * - A header name that is not an HTTP token, or a value with CR, LF or NUL, among the client's
 *   headers and the query parameters a presigned URL turns into headers: every forwarded header
 *   comes from these. Pseudo-headers (`:authority`) are never forwarded.
 * @throws OspError `InvalidArgument`.
 * @public
 */
export const assertUnambiguousRequest = (parsed: ParsedRequest): void => {
  const { query, raw, target } = parsed;
  const repeated = repeatedQueryName(query, isPresignParam);
  if (repeated != null) {
    throw new OspError("InvalidArgument", {
      message: /^[\x21-\x7e]{1,64}$/.test(repeated)
        ? `The query parameter '${repeated}' appears more than once.`
        : "A query parameter appears more than once.",
    });
  }
  if (target.kind === "bucket") assertUnambiguousSubresources(query.map((param) => param.name));
  if (!parsed.presigned && query.some((param) => param.name.toLowerCase() === COPY_SOURCE)) {
    throw new OspError("InvalidArgument", {
      message: "x-amz-copy-source is accepted as a query parameter only in a presigned URL.",
    });
  }
  if (copySourcesOf(raw.headers, query, parsed.presigned).length > 1) {
    throw new OspError("InvalidArgument", {
      message: "The request carries more than one x-amz-copy-source.",
    });
  }
  for (const [name, value] of raw.headers) if (name[0] !== ":") assertHeaderField(name, value);
  if (parsed.presigned) {
    for (const param of query)
      if (isHoistable(param.name)) assertHeaderField(param.name.toLowerCase(), param.value);
  }
};
