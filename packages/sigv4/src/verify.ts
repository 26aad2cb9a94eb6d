import {
  calculateSignature,
  canonicalHeaderValue,
  canonicalQueryPairs,
  canonicalRequest,
  canonicalUri,
  formatCanonicalQuery,
  stringToSign,
  type UriOptions,
} from "./canonical.ts";
import { MAX_CLOCK_SKEW_MS, MAX_PRESIGN_EXPIRES_SECONDS } from "./constants.ts";
import { nobleCryptoProvider } from "./crypto.ts";
import { timingSafeEqual } from "./encoding.ts";
import { SigV4Error } from "./errors.ts";
import {
  parseAmzDate,
  parseAuthorization,
  type ParsedAuthorization,
} from "./parse-authorization.ts";
import { signingKeyFor } from "./sign.ts";
import type { SigningKeyCache } from "./signing-key.ts";
import type { ChunkSigningContext } from "./chunked.ts";
import type { CryptoProvider, RawRequest } from "./types.ts";

/** Options of {@link verifyRequest}. @public */
export interface VerifyOptions {
  /**
   * The secret of an access key, sync or async. `null`/`undefined` → `InvalidAccessKeyId`; a
   * throw → `InternalError` (a thrown `SigV4Error` is passed through as it is).
   */
  readonly lookupSecret: (
    accessKeyId: string,
  ) => string | null | undefined | Promise<string | null | undefined>;
  /** The server's clock, epoch milliseconds. */
  readonly now: number;
  /** Allowed clock difference. Default `MAX_CLOCK_SKEW_MS` (15 minutes). */
  readonly maxSkewMs?: number;
  /** Accepted credential-scope regions: one, a list, or a predicate. Default: any. */
  readonly region?: string | ReadonlyArray<string> | ((region: string) => boolean);
  /** Required credential-scope service. Default `"s3"`. */
  readonly service?: string;
  /** Hash provider; default `nobleCryptoProvider`. Inject `nodeCryptoProvider` on Node. */
  readonly crypto?: CryptoProvider;
  /** Reuse derived signing keys across requests (four HMACs saved per request). */
  readonly signingKeyCache?: SigningKeyCache;
  /**
   * A parse already done with {@link parseAuthorization}. Its fields are trusted: a caller may
   * set `payloadHash` to a body hash it computed (generic SigV4 presigned requests).
   */
  readonly parsed?: ParsedAuthorization;
  /** Canonical URI rules; the default is S3's (no normalisation, single encoding). */
  readonly uriOptions?: UriOptions;
  /** Passed to {@link parseAuthorization} (generic SigV4 services only; S3 states the hash). */
  readonly defaultPayloadHash?: string;
  /**
   * Put `CanonicalRequest` and `StringToSign` into the detail of `SignatureDoesNotMatch`, as S3
   * does. Off by default: they echo request contents into error bodies.
   */
  readonly debug?: boolean;
}

/** A request whose signature verified. Carries no secret. @public */
export interface VerifiedRequest extends ParsedAuthorization {
  secretAccessKey?: never;
  signingKey: Uint8Array;
  canonicalRequest: string;
  stringToSign: string;
  /** Present for the `streaming-signed` and `streaming-signed-trailer` payload modes. */
  chunkSigning?: ChunkSigningContext;
}

type SignatureOptions = Omit<VerifyOptions, "lookupSecret" | "parsed">;

const malformed = (kind: ParsedAuthorization["kind"], message: string): SigV4Error =>
  new SigV4Error(
    kind === "header" ? "AuthorizationHeaderMalformed" : "AuthorizationQueryParametersError",
    message,
  );

const isoOf = (epochMs: number): string =>
  Number.isFinite(epochMs) ? new Date(epochMs).toISOString() : String(epochMs);

const skewDetail = (amzDate: string, now: number, maxSkewMs: number) => ({
  RequestTime: amzDate,
  ServerTime: isoOf(now),
  MaxAllowedSkewMilliseconds: String(maxSkewMs),
});

const regionAccepted = (region: string, accepted: VerifyOptions["region"]): boolean => {
  if (accepted === undefined) return true;
  if (typeof accepted === "string") return region === accepted;
  if (typeof accepted === "function") return accepted(region);
  return accepted.includes(region);
};

// A client controls the SignedHeaders list: past a few names, look them up in a hash table so a
// long list times many headers stays linear.
const LINEAR_SEARCH_LIMIT = 16;
const positions = (names: ReadonlyArray<string>): ((name: string) => number) => {
  if (names.length <= LINEAR_SEARCH_LIMIT) return (name) => names.indexOf(name);
  const table = new Map<string, number>();
  names.forEach((name, index) => table.set(name, index));
  return (name) => table.get(name) ?? -1;
};
const membership = (names: ReadonlyArray<string>): ((name: string) => boolean) => {
  if (names.length <= LINEAR_SEARCH_LIMIT) return (name) => names.includes(name);
  const set = new Set(names);
  return (name) => set.has(name);
};

/**
 * Checks that need no secret: scope, time window and which headers are signed. Runs before the
 * secret lookup so replayed or malformed requests never reach the key store.
 */
const checkPolicy = (
  request: RawRequest,
  parsed: ParsedAuthorization,
  options: SignatureOptions,
): void => {
  const { kind, scope } = parsed;
  const service = options.service ?? "s3";
  if (scope.service !== service) {
    throw malformed(
      kind,
      `The credential scope service '${scope.service}' is wrong; expecting '${service}'.`,
    );
  }
  if (!regionAccepted(scope.region, options.region)) {
    throw new SigV4Error(
      kind === "header" ? "AuthorizationHeaderMalformed" : "AuthorizationQueryParametersError",
      `The credential scope region '${scope.region}' is not accepted here.`,
      typeof options.region === "string" ? { Region: options.region } : {},
    );
  }
  const requestTimeMs = parseAmzDate(parsed.amzDate);
  if (requestTimeMs === undefined) {
    throw new SigV4Error(
      "AccessDenied",
      "AWS authentication requires a valid Date or x-amz-date header.",
    );
  }
  if (scope.date.length !== 8 || !parsed.amzDate.startsWith(scope.date)) {
    throw malformed(
      kind,
      `The credential scope date '${scope.date}' does not match the request date '${parsed.amzDate.slice(0, 8)}'.`,
    );
  }
  const now = options.now;
  const maxSkewMs = options.maxSkewMs ?? MAX_CLOCK_SKEW_MS;
  if (kind === "header") {
    // Not `Math.abs(…) > max`: a NaN clock must refuse, not pass.
    if (!(Math.abs(now - requestTimeMs) <= maxSkewMs)) {
      throw new SigV4Error(
        "RequestTimeTooSkewed",
        "The difference between the request time and the current time is too large.",
        skewDetail(parsed.amzDate, now, maxSkewMs),
      );
    }
  } else {
    const expires = parsed.expiresInSeconds;
    if (
      expires === undefined ||
      !Number.isInteger(expires) ||
      expires < 1 ||
      expires > MAX_PRESIGN_EXPIRES_SECONDS
    ) {
      throw malformed(kind, "X-Amz-Expires must be an integer from 1 to 604800.");
    }
    if (!(requestTimeMs - now <= maxSkewMs)) {
      throw new SigV4Error(
        "RequestTimeTooSkewed",
        "The presigned request is dated too far in the future.",
        skewDetail(parsed.amzDate, now, maxSkewMs),
      );
    }
    if (now > requestTimeMs + expires * 1000) {
      throw new SigV4Error("AccessDenied", "Request has expired", {
        "X-Amz-Expires": String(expires),
        Expires: isoOf(requestTimeMs + expires * 1000),
        ServerTime: isoOf(now),
      });
    }
  }
  const signed = parsed.signedHeaders;
  if (!signed.includes("host")) {
    throw new SigV4Error(
      "AccessDenied",
      "The host header must be signed (listed in SignedHeaders).",
    );
  }
  const headers = request.headers;
  const isSigned = membership(signed);
  for (let index = 0; index < headers.length; index++) {
    const rawName = headers[index]![0];
    const first = rawName.charCodeAt(0) | 0x20;
    if (first !== 0x78 || rawName.length < 6) continue; // only x-amz-* matter here
    const name = rawName.toLowerCase();
    if (!name.startsWith("x-amz-") || isSigned(name)) continue;
    // A presigned URL is used by clients that may add a content hash it never covered.
    if (kind === "query" && name === "x-amz-content-sha256") continue;
    throw new SigV4Error(
      "AccessDenied",
      `There were headers present in the request which were not signed: ${name}.`,
      { HeadersNotSigned: name },
    );
  }
};

/**
 * Canonical header block for verification, from one pass over the headers. Throws when a
 * signed header is absent: the client signed something this request does not carry.
 */
const verifiedCanonicalHeaders = (
  headers: RawRequest["headers"],
  signedHeaders: ReadonlyArray<string>,
): string => {
  const values: Array<string | undefined> = [];
  for (let index = 0; index < signedHeaders.length; index++) values.push(undefined);
  const positionOf = positions(signedHeaders);
  // Bit n set: some signed name has length n (mod 32). Most unsigned headers skip the lower-casing.
  let lengths = 0;
  for (const name of signedHeaders) lengths |= 1 << (name.length & 31);
  for (let headerIndex = 0; headerIndex < headers.length; headerIndex++) {
    const header = headers[headerIndex]!;
    const rawName = header[0];
    if ((lengths & (1 << (rawName.length & 31))) === 0) continue;
    const index = positionOf(rawName.toLowerCase());
    if (index < 0) continue;
    const value = canonicalHeaderValue(header[1]);
    const current = values[index];
    values[index] = current === undefined ? value : `${current},${value}`;
  }
  let out = "";
  for (let index = 0; index < signedHeaders.length; index++) {
    const value = values[index];
    if (value === undefined) {
      throw new SigV4Error(
        "SignatureDoesNotMatch",
        `The signed header '${signedHeaders[index]}' is missing from the request.`,
      );
    }
    out += `${signedHeaders[index]}:${value}\n`;
  }
  return out;
};

const QUERY_SIGNATURE_PARAM = ["X-Amz-Signature"];

const checkSignature = (
  request: RawRequest,
  parsed: ParsedAuthorization,
  secretAccessKey: string,
  options: SignatureOptions,
): VerifiedRequest => {
  const crypto = options.crypto ?? nobleCryptoProvider;
  const canonical = canonicalRequest({
    method: request.method,
    canonicalUri: canonicalUri(request.path, options.uriOptions),
    canonicalQuery: formatCanonicalQuery(
      canonicalQueryPairs(request.query),
      parsed.kind === "query" ? QUERY_SIGNATURE_PARAM : undefined,
    ),
    canonicalHeaders: verifiedCanonicalHeaders(request.headers, parsed.signedHeaders),
    signedHeaders: parsed.signedHeaders,
    payloadHash: parsed.payloadHash,
  });
  const toSign = stringToSign(parsed.amzDate, parsed.scope, canonical, crypto);
  const signingKey = signingKeyFor(secretAccessKey, parsed.scope, crypto, options.signingKeyCache);
  const expected = calculateSignature(signingKey, toSign, crypto);
  if (!timingSafeEqual(expected, parsed.signature)) {
    throw new SigV4Error(
      "SignatureDoesNotMatch",
      "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
      options.debug === true
        ? { AWSAccessKeyId: parsed.accessKeyId, StringToSign: toSign, CanonicalRequest: canonical }
        : { AWSAccessKeyId: parsed.accessKeyId },
    );
  }
  const streamingSigned =
    parsed.payloadMode === "streaming-signed" || parsed.payloadMode === "streaming-signed-trailer";
  // Spelled out (not spread) so every result has one shape.
  return {
    kind: parsed.kind,
    accessKeyId: parsed.accessKeyId,
    scope: parsed.scope,
    signedHeaders: parsed.signedHeaders,
    signature: parsed.signature,
    amzDate: parsed.amzDate,
    expiresInSeconds: parsed.expiresInSeconds,
    sessionToken: parsed.sessionToken,
    payloadHash: parsed.payloadHash,
    payloadMode: parsed.payloadMode,
    signingKey,
    canonicalRequest: canonical,
    stringToSign: toSign,
    chunkSigning: streamingSigned
      ? {
          signingKey,
          amzDate: parsed.amzDate,
          scope: parsed.scope,
          seedSignature: parsed.signature,
        }
      : undefined,
  };
};

/**
 * Verifies a request with a secret already in hand (the synchronous core of
 * {@link verifyRequest}): scope, clock skew or expiry, signed-header rules, then the signature
 * in constant time.
 * @throws SigV4Error as {@link verifyRequest} (never `InvalidAccessKeyId`).
 * @public
 */
export const verifyRequestWithSecret = (
  request: RawRequest,
  secretAccessKey: string,
  options: Omit<VerifyOptions, "lookupSecret"> & { parsed: ParsedAuthorization },
): VerifiedRequest => {
  checkPolicy(request, options.parsed, options);
  return checkSignature(request, options.parsed, secretAccessKey, options);
};

/**
 * Verifies a SigV4 request (header or presigned) against the raw request it arrived as.
 *
 * Order: parse → scope (service, region, date) → time (±`maxSkewMs`; presigned: expiry) →
 * `host` and every `x-amz-*` header signed → secret lookup → signature (constant time). The
 * body is not read: a `sha256` payload hash is only a claim until the caller hashes the body.
 * @throws SigV4Error `AccessDenied` (anonymous request, unsigned `host`/`x-amz-*` header,
 * expired presigned URL), `RequestTimeTooSkewed` (detail `RequestTime`, `ServerTime`),
 * `AuthorizationHeaderMalformed` / `AuthorizationQueryParametersError` (syntax, scope date,
 * service, region), `InvalidAccessKeyId`, `SignatureDoesNotMatch`, `InternalError` (the lookup
 * threw), and the parse errors of {@link parseAuthorization}.
 * @public
 */
export const verifyRequest = (
  request: RawRequest,
  options: VerifyOptions,
): Promise<VerifiedRequest> => {
  try {
    const verified = verifyRequestMaybeSync(request, options);
    return isThenable(verified) ? verified : Promise.resolve(verified);
  } catch (error) {
    return Promise.reject(error);
  }
};

/**
 * {@link verifyRequest} without the promise when it is not needed: the same checks in the same
 * order, and when `lookupSecret` answers synchronously, the result comes back (or the
 * `SigV4Error` is thrown) synchronously. For servers that continue in the same tick on a static
 * key store; the promise and microtask it saves are a visible share of a small request.
 * @throws SigV4Error as {@link verifyRequest} rejects, when the lookup was synchronous.
 * @public
 */
export const verifyRequestMaybeSync = (
  request: RawRequest,
  options: VerifyOptions,
): VerifiedRequest | Promise<VerifiedRequest> => {
  const parsed = options.parsed ?? parseAuthorization(request, options);
  if (parsed === undefined) {
    throw new SigV4Error("AccessDenied", "The request is not signed.");
  }
  checkPolicy(request, parsed, options);
  let secret: ReturnType<VerifyOptions["lookupSecret"]>;
  try {
    secret = options.lookupSecret(parsed.accessKeyId);
  } catch (error) {
    throw lookupFailure(error);
  }
  if (isThenable(secret)) {
    return Promise.resolve(secret).then(
      (resolved) => withSecret(request, parsed, resolved, options),
      (error: unknown) => {
        throw lookupFailure(error);
      },
    );
  }
  return withSecret(request, parsed, secret, options);
};

const isThenable = <T>(value: T | PromiseLike<T>): value is PromiseLike<T> =>
  value != null &&
  typeof value === "object" &&
  typeof (value as { then?: unknown }).then === "function";

/** A lookup that threw: its own SigV4Error passes through, anything else becomes InternalError. */
const lookupFailure = (error: unknown): SigV4Error =>
  SigV4Error.is(error)
    ? error
    : // The cause stays attached for server logs; the message never repeats it.
      new SigV4Error("InternalError", "The credential lookup failed.", {}, { cause: error });

const withSecret = (
  request: RawRequest,
  parsed: ParsedAuthorization,
  secret: string | null | undefined,
  options: VerifyOptions,
): VerifiedRequest => {
  if (secret == null) {
    throw new SigV4Error(
      "InvalidAccessKeyId",
      "The AWS Access Key Id you provided does not exist in our records.",
      { AWSAccessKeyId: parsed.accessKeyId },
    );
  }
  if (typeof secret !== "string" || secret === "") {
    // An empty secret would let anyone sign: treat it as a broken key store, never as a key.
    throw new SigV4Error("InternalError", "The credential lookup returned an unusable secret.");
  }
  return checkSignature(request, parsed, secret, options);
};
