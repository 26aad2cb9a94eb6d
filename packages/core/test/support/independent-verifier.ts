// Verifies a captured backend request with @smithy/signature-v4 (the AWS SDK's signer), not with
// @osp/sigv4: the canonical URI is built the way S3 builds it (decode the wire path once, encode
// each segment with S3's rules) and everything else is smithy's.

import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";

/** S3's URI encoding: unreserved characters kept, everything else %XX (upper case). */
const s3Encode = (text: string): string =>
  encodeURIComponent(text).replace(
    /[!'()*]/g,
    (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`,
  );

/**
 * The path as S3-compatible servers (Ceph RGW, MinIO) canonicalise it: the wire path decoded once,
 * then each "/"-separated segment S3-encoded (so a `%2F` on the wire signs as "/").
 */
export const s3CanonicalPath = (rawPath: string): string =>
  decodeURIComponent(rawPath).split("/").map(s3Encode).join("/");

/** Decoded query for smithy (`+` stays `+`; repeated names become arrays). */
const decodedQuery = (rawQuery: string): Record<string, string | string[]> => {
  const query: Record<string, string | string[]> = {};
  for (const part of rawQuery.split("&")) {
    if (part === "") continue;
    const equals = part.indexOf("=");
    const name = decodeURIComponent(equals === -1 ? part : part.slice(0, equals));
    const value = equals === -1 ? "" : decodeURIComponent(part.slice(equals + 1));
    const existing = query[name];
    query[name] =
      existing == null ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return query;
};

export interface ParsedAuthorizationHeader {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: string[];
  readonly signature: string;
}

export const parseAuthorizationHeader = (value: string): ParsedAuthorizationHeader => {
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(
      value,
    );
  if (match == null) throw new Error(`not a SigV4 Authorization header: ${value}`);
  return {
    accessKeyId: match[1]!,
    date: match[2]!,
    region: match[3]!,
    service: match[4]!,
    signedHeaders: match[5]!.split(";"),
    signature: match[6]!,
  };
};

/** A captured request, as node:http delivered it. */
export interface CapturedRequest {
  readonly method: string;
  /** `req.url`: raw path and query. */
  readonly url: string;
  /** `req.rawHeaders`. */
  readonly rawHeaders: string[];
}

const amzDateToDate = (amzDate: string): Date =>
  new Date(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );

/**
 * Recomputes the request's signature with smithy from the raw captured request and returns the
 * parsed header when it matches; throws with the reason otherwise. Also enforces S3's rules: every
 * `x-amz-*` header and `host` must be signed.
 */
export const verifyCapturedRequest = async (
  request: CapturedRequest,
  lookupSecret: (accessKeyId: string) => string | undefined,
): Promise<ParsedAuthorizationHeader & { payloadHash: string; amzDate: string }> => {
  const headerValues = new Map<string, string[]>();
  for (let index = 0; index + 1 < request.rawHeaders.length; index += 2) {
    const name = request.rawHeaders[index]!.toLowerCase();
    headerValues.set(name, [...(headerValues.get(name) ?? []), request.rawHeaders[index + 1]!]);
  }
  const authorization = headerValues.get("authorization");
  if (authorization == null || authorization.length !== 1)
    throw new Error("no single Authorization header");
  const parsed = parseAuthorizationHeader(authorization[0]!);
  const secret = lookupSecret(parsed.accessKeyId);
  if (secret == null) throw new Error(`unknown backend access key ${parsed.accessKeyId}`);
  for (const name of headerValues.keys()) {
    if ((name.startsWith("x-amz-") || name === "host") && !parsed.signedHeaders.includes(name)) {
      throw new Error(`${name} is not signed`);
    }
  }
  const amzDate = headerValues.get("x-amz-date")?.[0];
  const payloadHash = headerValues.get("x-amz-content-sha256")?.[0];
  if (amzDate == null || payloadHash == null)
    throw new Error("x-amz-date or x-amz-content-sha256 missing");
  if (amzDate.slice(0, 8) !== parsed.date) throw new Error("scope date differs from x-amz-date");

  const headers: Record<string, string> = {};
  for (const name of parsed.signedHeaders) {
    const values = headerValues.get(name);
    if (values == null) throw new Error(`signed header ${name} is missing`);
    headers[name] = values.join(",");
  }
  const queryStart = request.url.indexOf("?");
  const rawPath = queryStart === -1 ? request.url : request.url.slice(0, queryStart);
  const rawQuery = queryStart === -1 ? "" : request.url.slice(queryStart + 1);
  const signer = new SignatureV4({
    credentials: { accessKeyId: parsed.accessKeyId, secretAccessKey: secret },
    region: parsed.region,
    service: parsed.service,
    sha256: Hash.bind(null, "sha256"),
    uriEscapePath: false,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    new HttpRequest({
      method: request.method,
      protocol: "http:",
      hostname: "ignored",
      path: s3CanonicalPath(rawPath),
      query: decodedQuery(rawQuery),
      headers,
    }),
    { signingDate: amzDateToDate(amzDate), signableHeaders: new Set(parsed.signedHeaders) },
  );
  const recomputed = parseAuthorizationHeader(String(signed.headers["authorization"]));
  if (recomputed.signedHeaders.join(";") !== parsed.signedHeaders.join(";")) {
    throw new Error(
      `smithy signed ${recomputed.signedHeaders.join(";")}, request claims ${parsed.signedHeaders.join(";")}`,
    );
  }
  if (recomputed.signature !== parsed.signature)
    throw new Error("SignatureDoesNotMatch (independent verifier)");
  return { ...parsed, payloadHash, amzDate };
};
