import {
  calculateSignature,
  canonicalHeaders,
  canonicalQuery,
  canonicalRequest,
  canonicalUri,
  formatAmzDate,
  formatScope,
  stringToSign,
  type UriOptions,
} from "./canonical.ts";
import { ALGORITHM, EMPTY_SHA256 } from "./constants.ts";
import { nobleCryptoProvider } from "./crypto.ts";
import { SigV4Error } from "./errors.ts";
import { deriveSigningKey, type SigningKeyCache } from "./signing-key.ts";
import type { CredentialScope, Credentials, CryptoProvider, RawRequest } from "./types.ts";

/** Options of {@link signRequest}. @public */
export interface SignOptions {
  readonly credentials: Credentials;
  readonly region: string;
  /** Signing service. Default `"s3"`. */
  readonly service?: string;
  /** Signing time, epoch milliseconds. */
  readonly now: number;
  /**
   * The payload line of the canonical request: a hex SHA-256, `UNSIGNED-PAYLOAD` or a
   * `STREAMING-…` literal. Default: the request's `x-amz-content-sha256` value, else the SHA-256
   * of the empty body.
   */
  readonly payloadHash?: string;
  /**
   * Which of the request's headers to sign, by lower-case name. Default: `host`, `date`,
   * `range`, `expires`, `content-*`, `if-*` and `x-amz-*`. Whatever it says, `host` and every
   * `x-amz-*` header are signed (S3 refuses unsigned ones) and `authorization`, `user-agent`,
   * `expect`, `x-forwarded-*` and hop-by-hop headers never are.
   */
  readonly signedHeaders?: (lowerCaseName: string) => boolean;
  /** Hash provider; default `nobleCryptoProvider`. Inject `nodeCryptoProvider` on Node. */
  readonly crypto?: CryptoProvider;
  readonly signingKeyCache?: SigningKeyCache;
  /** Canonical URI rules; the default is S3's (no normalisation, single encoding). */
  readonly uriOptions?: UriOptions;
  /**
   * Set `x-amz-content-sha256` to the payload hash (and sign it). Default true: S3 requires the
   * header. The generic SigV4 suites sign without it.
   */
  readonly addContentSha256Header?: boolean;
}

/** The result of {@link signRequest}. @public */
export interface SignedRequest {
  /** Input headers plus `x-amz-date`, `x-amz-content-sha256`, `x-amz-security-token` and `authorization`. */
  headers: Array<[string, string]>;
  authorization: string;
  signature: string;
  amzDate: string;
  scope: CredentialScope;
  signedHeaders: string[];
  canonicalRequest: string;
  stringToSign: string;
  /** The derived key: an aws-chunked body is signed with it after the seed signature. */
  signingKey: Uint8Array;
}

// Headers a signature must never cover: they are rewritten hop by hop or by every proxy.
const NEVER_SIGNED = new Set([
  "authorization",
  "connection",
  "expect",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "user-agent",
  "x-amzn-trace-id",
]);
const DEFAULT_SIGNED = new Set(["host", "date", "range", "expires"]);

/** The default signed-header choice of {@link SignOptions.signedHeaders}. @public */
export const defaultSignedHeaders = (lowerCaseName: string): boolean =>
  DEFAULT_SIGNED.has(lowerCaseName) ||
  lowerCaseName.startsWith("content-") ||
  lowerCaseName.startsWith("if-") ||
  lowerCaseName.startsWith("x-amz-");

/** Sorted, unique lower-case names of the headers to sign. @internal */
export const chooseSignedHeaders = (
  headers: RawRequest["headers"],
  predicate: (lowerCaseName: string) => boolean = defaultSignedHeaders,
): string[] => {
  const names = new Set<string>();
  for (const [rawName] of headers) {
    const name = rawName.toLowerCase();
    if (NEVER_SIGNED.has(name) || name.startsWith("x-forwarded-")) continue;
    if (name === "host" || name.startsWith("x-amz-") || predicate(name)) names.add(name);
  }
  return [...names].sort();
};

const checkScopePart = (label: string, value: string): void => {
  if (typeof value !== "string" || value === "" || /[/\s,=]/.test(value)) {
    throw new SigV4Error(
      "InvalidArgument",
      `The ${label} is empty or contains "/", ",", "=" or whitespace.`,
    );
  }
};

/** Refuses credential and scope parts that would make the `Credential=` value ambiguous. @internal */
export const checkSigningInputs = (
  credentials: Credentials,
  region: string,
  service: string,
): void => {
  checkScopePart("accessKeyId", credentials.accessKeyId);
  checkScopePart("region", region);
  checkScopePart("service", service);
  if (typeof credentials.secretAccessKey !== "string" || credentials.secretAccessKey === "") {
    throw new SigV4Error("InvalidArgument", "The secretAccessKey is empty.");
  }
};

interface LastKey {
  secretAccessKey: string;
  date: string;
  region: string;
  service: string;
  key: Uint8Array;
}
// Per cache, the last key it returned: consecutive requests of one client skip building and
// hashing the cache's lookup string. Weak, so it lives exactly as long as the cache.
const lastKeys = new WeakMap<SigningKeyCache, LastKey>();

/** The signing key from the cache when one is given. @internal */
export const signingKeyFor = (
  secretAccessKey: string,
  scope: CredentialScope,
  crypto: CryptoProvider,
  cache: SigningKeyCache | undefined,
): Uint8Array => {
  if (cache === undefined) return deriveSigningKey(secretAccessKey, scope, crypto);
  const last = lastKeys.get(cache);
  if (
    last !== undefined &&
    last.secretAccessKey === secretAccessKey &&
    last.date === scope.date &&
    last.region === scope.region &&
    last.service === scope.service
  ) {
    return last.key;
  }
  const key = cache.get(secretAccessKey, scope);
  lastKeys.set(cache, {
    secretAccessKey,
    date: scope.date,
    region: scope.region,
    service: scope.service,
    key,
  });
  return key;
};

/** Index of the first header with this lower-case name, or -1. @internal */
export const findHeader = (headers: RawRequest["headers"], lowerCaseName: string): number =>
  headers.findIndex(([name]) => name.toLowerCase() === lowerCaseName);

/**
 * Signs a request with the `Authorization` header (SigV4 header auth). Adds `x-amz-date`,
 * `x-amz-content-sha256` (the payload hash; S3 requires it), `x-amz-security-token` when the
 * credentials carry a session token, and `authorization`; an existing value of any of them is
 * replaced. `request.headers` must include `host`.
 * @throws SigV4Error `InvalidArgument` when `host` is missing or a credential part is unusable.
 * @public
 */
export const signRequest = (request: RawRequest, options: SignOptions): SignedRequest => {
  const service = options.service ?? "s3";
  checkSigningInputs(options.credentials, options.region, service);
  const crypto = options.crypto ?? nobleCryptoProvider;
  const amzDate = formatAmzDate(options.now);
  const scope: CredentialScope = { date: amzDate.slice(0, 8), region: options.region, service };
  const sessionToken = options.credentials.sessionToken;
  const addContentSha256Header = options.addContentSha256Header !== false;

  let existingPayloadHash: string | undefined;
  const headers: Array<[string, string]> = [];
  for (const [name, value] of request.headers) {
    const lower = name.toLowerCase();
    if (lower === "authorization" || lower === "x-amz-date") continue;
    if (lower === "x-amz-security-token" && sessionToken !== undefined) continue;
    if (lower === "x-amz-content-sha256") {
      existingPayloadHash ??= value.trim();
      if (addContentSha256Header) continue;
    }
    headers.push([name, value]);
  }
  if (findHeader(headers, "host") < 0) {
    throw new SigV4Error("InvalidArgument", "The request headers must include host.");
  }
  const payloadHash = options.payloadHash ?? existingPayloadHash ?? EMPTY_SHA256;
  headers.push(["x-amz-date", amzDate]);
  if (addContentSha256Header) headers.push(["x-amz-content-sha256", payloadHash]);
  if (sessionToken !== undefined) headers.push(["x-amz-security-token", sessionToken]);

  const signedHeaders = chooseSignedHeaders(headers, options.signedHeaders);
  const canonical = canonicalRequest({
    method: request.method,
    canonicalUri: canonicalUri(request.path, options.uriOptions),
    canonicalQuery: canonicalQuery(request.query),
    canonicalHeaders: canonicalHeaders(headers, signedHeaders),
    signedHeaders,
    payloadHash,
  });
  const toSign = stringToSign(amzDate, scope, canonical, crypto);
  const signingKey = signingKeyFor(
    options.credentials.secretAccessKey,
    scope,
    crypto,
    options.signingKeyCache,
  );
  const signature = calculateSignature(signingKey, toSign, crypto);
  const authorization = `${ALGORITHM} Credential=${options.credentials.accessKeyId}/${formatScope(scope)}, SignedHeaders=${signedHeaders.join(";")}, Signature=${signature}`;
  headers.push(["authorization", authorization]);
  return {
    headers,
    authorization,
    signature,
    amzDate,
    scope,
    signedHeaders,
    canonicalRequest: canonical,
    stringToSign: toSign,
    signingKey,
  };
};
