// Phase 5, rewrite: the upstream URL (virtual `bucket.host[:port]` or path style, alias applied),
// the headers to forward and those to strip. Everything S3 gives meaning to is forwarded; only
// hop-by-hop headers, the client's credentials, presign parameters and proxy headers go.

import type { BucketConfig } from "../config.ts";
import { OspError } from "../errors.ts";
import { assertHeaderField, type QueryParam } from "../http.ts";
import type { HeaderList } from "../ports.ts";

/** Where and how a request goes upstream (before signing). @public */
export interface UpstreamTarget {
  /** `https://bucket.s3.example.com` or `http://127.0.0.1:7480`. */
  readonly origin: string;
  /** The `Host` header, exactly as signed. */
  readonly host: string;
  /** Raw path (the client's key encoding kept byte for byte). */
  readonly path: string;
  /** Raw query without the presign parameters; `""` when none remain. */
  readonly query: string;
}

// Query parameters that carry the client's presigned authentication.
const PRESIGN_PARAMS = new Set([
  "x-amz-algorithm",
  "x-amz-credential",
  "x-amz-date",
  "x-amz-expires",
  "x-amz-signedheaders",
  "x-amz-signature",
  "x-amz-security-token",
  "x-amz-content-sha256",
]);

/** True for a presign query parameter (`X-Amz-Signature`, …), whatever its case. @public */
export const isPresignParam = (name: string): boolean => PRESIGN_PARAMS.has(name.toLowerCase());

/**
 * The upstream origin, Host and raw path for a bucket. The port is left out when it is the
 * scheme's default, as the backend expects in the signed Host header.
 * @public
 */
export const upstreamTarget = (
  bucket: BucketConfig,
  rawKeyPath: string,
  query: ReadonlyArray<QueryParam>,
): UpstreamTarget => {
  const scheme = bucket.tls ? "https" : "http";
  const hostPort =
    bucket.port === (bucket.tls ? 443 : 80) ? bucket.host : `${bucket.host}:${bucket.port}`;
  const host =
    bucket.addressingStyle === "virtual" ? `${bucket.backendBucket}.${hostPort}` : hostPort;
  const path =
    bucket.addressingStyle === "virtual"
      ? rawKeyPath === ""
        ? "/"
        : rawKeyPath
      : `/${bucket.backendBucket}${rawKeyPath}`;
  const forwarded = query.filter((param) => !isPresignParam(param.name)).map((param) => param.raw);
  return { origin: `${scheme}://${host}`, host, path, query: forwarded.join("&") };
};

// Hop-by-hop (RFC 9110 §7.6.1) and the client's credentials and proxy headers. Host,
// Content-Length, x-amz-date and x-amz-content-sha256 are rebuilt by the sign phase.
const STRIPPED = new Set([
  "connection",
  "keep-alive",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "expect",
  "authorization",
  "x-amz-security-token",
  "forwarded",
  "via",
  "x-real-ip",
  "accept-encoding",
  "host",
  "content-length",
  "x-amz-date",
  "x-amz-content-sha256",
]);

/** `Connection: keep-alive` or `close` (any case): lists no header besides the fixed set. */
export const isPlainConnectionValue = (value: string): boolean => {
  if (value.length !== 10 && value.length !== 5) return false;
  const lower = value.toLowerCase();
  return lower === "keep-alive" || lower === "close";
};

const isStripped = (name: string): boolean =>
  STRIPPED.has(name) ||
  name.startsWith("proxy-") ||
  name.startsWith("x-forwarded-") ||
  name.startsWith(":");

/**
 * The client headers to forward. Names listed in `Connection` are hop-by-hop too, except those
 * the client signed: otherwise anyone replaying a captured request could add
 * `Connection: x-amz-copy-source` and turn a CopyObject into a 0-byte PutObject.
 * @public
 */
export const forwardHeaders = (
  headers: ReadonlyArray<readonly [string, string]>,
  clientSignedHeaders: ReadonlyArray<string> = [],
): HeaderList => {
  // The sets are built only for a request with a Connection header.
  let signed: Set<string> | undefined;
  let connectionTokens: Set<string> | undefined;
  for (const [name, value] of headers) {
    if (name.length !== 10 || name.toLowerCase() !== "connection") continue;
    // The usual values name nothing but themselves: no sets to build.
    if (isPlainConnectionValue(value)) continue;
    signed ??= new Set(clientSignedHeaders.map((signedName) => signedName.toLowerCase()));
    connectionTokens ??= new Set<string>();
    for (const token of value.split(",")) {
      const listed = token.trim().toLowerCase();
      if (listed !== "" && !signed.has(listed)) connectionTokens.add(listed);
    }
  }
  const kept: HeaderList = [];
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (isStripped(lower) || connectionTokens?.has(lower) === true) continue;
    kept.push([lower, value]);
  }
  return kept;
};

/**
 * Presigned URLs carry some `x-amz-*` request headers as query parameters (SDKs hoist them into
 * the signature). The upstream request is header-signed, so they become headers again.
 * @throws OspError `InvalidArgument` for a name that is not an HTTP token or a value with CR, LF
 * or NUL (query text must never split an upstream header).
 * @public
 */
export const hoistedHeaders = (
  query: ReadonlyArray<QueryParam>,
  headers: HeaderList,
): HeaderList => {
  const present = new Set(headers.map(([name]) => name));
  const extra: HeaderList = [];
  for (const param of query) {
    const name = param.name.toLowerCase();
    if (name.startsWith("x-amz-") && !isPresignParam(name) && !present.has(name)) {
      assertHeaderField(name, param.value);
      extra.push([name, param.value]);
      present.add(name);
    }
  }
  return extra;
};

/** A parsed `x-amz-copy-source` value. @public */
export interface ParsedCopySource {
  readonly bucket: string;
  /** Decoded key. */
  readonly key: string;
  readonly versionId?: string;
  /** Whether the value started with "/". */
  readonly leadingSlash: boolean;
  /** The raw text after the bucket and its "/": encoded key and `?versionId=…`. */
  readonly rawRest: string;
}

/**
 * Parses `x-amz-copy-source` (URL-encoded `/bucket/key` or `bucket/key`, optional
 * `?versionId=`). Throws `InvalidArgument` for anything else.
 * @public
 */
export const parseCopySource = (value: string): ParsedCopySource => {
  const invalid = () =>
    new OspError("InvalidArgument", {
      message: "x-amz-copy-source must be a URL-encoded bucket/key.",
    });
  const trimmed = value.trim();
  const leadingSlash = trimmed.startsWith("/");
  const text = leadingSlash ? trimmed.slice(1) : trimmed;
  const slash = text.indexOf("/");
  if (slash <= 0) throw invalid();
  const rawRest = text.slice(slash + 1);
  const question = rawRest.indexOf("?");
  const rawKey = question === -1 ? rawRest : rawRest.slice(0, question);
  const versionMatch =
    question === -1 ? null : /(?:^|&)versionId=([^&]*)/.exec(rawRest.slice(question + 1));
  let bucket: string;
  let key: string;
  let versionId: string | undefined;
  try {
    bucket = decodeURIComponent(text.slice(0, slash));
    key = decodeURIComponent(rawKey);
    versionId = versionMatch?.[1] == null ? undefined : decodeURIComponent(versionMatch[1]);
  } catch {
    throw invalid();
  }
  if (key === "") throw invalid();
  return { bucket, key, leadingSlash, rawRest, ...(versionId != null && { versionId }) };
};

/**
 * `x-amz-copy-source` for the backend: the source bucket's alias replaces the client's name;
 * the key's encoding and `versionId` are kept as sent.
 * @public
 */
export const rewriteCopySource = (source: ParsedCopySource, sourceBucket: BucketConfig): string =>
  `${source.leadingSlash ? "/" : ""}${encodeURIComponent(sourceBucket.backendBucket)}/${source.rawRest}`;
