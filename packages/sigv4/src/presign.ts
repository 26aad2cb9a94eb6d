import {
  calculateSignature,
  canonicalHeaders,
  canonicalQueryPairs,
  canonicalRequest,
  canonicalUri,
  formatAmzDate,
  formatCanonicalQuery,
  formatScope,
  stringToSign,
  type UriOptions,
} from "./canonical.ts";
import { recodeComponent, uriEncode } from "./canonical.ts";
import { ALGORITHM, MAX_PRESIGN_EXPIRES_SECONDS, UNSIGNED_PAYLOAD } from "./constants.ts";
import { nobleCryptoProvider } from "./crypto.ts";
import { SigV4Error } from "./errors.ts";
import { checkSigningInputs, chooseSignedHeaders, findHeader, signingKeyFor } from "./sign.ts";
import type { SigningKeyCache } from "./signing-key.ts";
import type { CredentialScope, Credentials, CryptoProvider, RawRequest } from "./types.ts";

/** Options of {@link presignRequest} and {@link presignUrl}. @public */
export interface PresignOptions {
  readonly credentials: Credentials;
  readonly region: string;
  /** Signing service. Default `"s3"`. */
  readonly service?: string;
  /** Signing time, epoch milliseconds; the URL is valid from then for `expiresInSeconds`. */
  readonly now: number;
  /** `X-Amz-Expires`: an integer from 1 to 604800 (7 days). */
  readonly expiresInSeconds: number;
  /** Payload line of the canonical request. Default `UNSIGNED-PAYLOAD`. */
  readonly payloadHash?: string;
  /**
   * Add `X-Amz-Content-Sha256=<payloadHash>` to the URL so a verifier can know the payload hash.
   * Default: true when `payloadHash` is not `UNSIGNED-PAYLOAD` (S3 assumes `UNSIGNED-PAYLOAD`
   * when the parameter is absent). The generic SigV4 suites sign without it.
   */
  readonly includePayloadHashParam?: boolean;
  /** Which request headers to sign (see `SignOptions.signedHeaders`); `host` always is. */
  readonly signedHeaders?: (lowerCaseName: string) => boolean;
  readonly crypto?: CryptoProvider;
  readonly signingKeyCache?: SigningKeyCache;
  /** Canonical URI rules; the default is S3's (no normalisation, single encoding). */
  readonly uriOptions?: UriOptions;
}

/** The result of {@link presignRequest}. @public */
export interface PresignedRequest {
  /** The raw query to send: the request's own query, then the `X-Amz-*` parameters, `X-Amz-Signature` last. */
  query: string;
  signature: string;
  canonicalRequest: string;
  stringToSign: string;
  amzDate: string;
  scope: CredentialScope;
  signedHeaders: string[];
}

/** Query parameters that carry presigned authentication (S3 spells them exactly so). @internal */
export const AUTH_QUERY_PARAMS = [
  "X-Amz-Algorithm",
  "X-Amz-Credential",
  "X-Amz-Date",
  "X-Amz-Expires",
  "X-Amz-SignedHeaders",
  "X-Amz-Signature",
  "X-Amz-Security-Token",
  "X-Amz-Content-Sha256",
] as const;

/**
 * Signs a request in the query string (a presigned request). The returned `query` carries the
 * request's own raw query followed by `X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`,
 * `X-Amz-Expires`, `X-Amz-Security-Token` (with a session token), `X-Amz-SignedHeaders` and
 * `X-Amz-Signature`.
 * @throws SigV4Error `InvalidArgument` for an expiry outside 1…604800 s, a missing `host`, or a
 * query that already carries presign parameters.
 * @public
 */
export const presignRequest = (request: RawRequest, options: PresignOptions): PresignedRequest => {
  const service = options.service ?? "s3";
  checkSigningInputs(options.credentials, options.region, service);
  const expires = options.expiresInSeconds;
  if (!Number.isInteger(expires) || expires < 1 || expires > MAX_PRESIGN_EXPIRES_SECONDS) {
    throw new SigV4Error(
      "InvalidArgument",
      `expiresInSeconds must be an integer from 1 to ${MAX_PRESIGN_EXPIRES_SECONDS}.`,
    );
  }
  if (findHeader(request.headers, "host") < 0) {
    throw new SigV4Error("InvalidArgument", "The request headers must include host.");
  }
  const ownPairs = canonicalQueryPairs(request.query);
  for (const pair of ownPairs) {
    if ((AUTH_QUERY_PARAMS as ReadonlyArray<string>).includes(pair.name)) {
      throw new SigV4Error("InvalidArgument", `The query already contains ${pair.name}.`);
    }
  }
  const crypto = options.crypto ?? nobleCryptoProvider;
  const amzDate = formatAmzDate(options.now);
  const scope: CredentialScope = { date: amzDate.slice(0, 8), region: options.region, service };
  const payloadHash = options.payloadHash ?? UNSIGNED_PAYLOAD;
  const includePayloadHashParam =
    options.includePayloadHashParam ?? payloadHash !== UNSIGNED_PAYLOAD;
  const signedHeaders = chooseSignedHeaders(request.headers, options.signedHeaders);

  // Already in canonical form: every value is encoded with the SigV4 rules.
  const authParams: Array<[string, string]> = [
    ["X-Amz-Algorithm", ALGORITHM],
    ["X-Amz-Credential", uriEncode(`${options.credentials.accessKeyId}/${formatScope(scope)}`)],
    ["X-Amz-Date", amzDate],
    ["X-Amz-Expires", String(expires)],
  ];
  if (includePayloadHashParam) authParams.push(["X-Amz-Content-Sha256", uriEncode(payloadHash)]);
  if (options.credentials.sessionToken !== undefined) {
    authParams.push(["X-Amz-Security-Token", uriEncode(options.credentials.sessionToken)]);
  }
  authParams.push(["X-Amz-SignedHeaders", uriEncode(signedHeaders.join(";"))]);

  const canonical = canonicalRequest({
    method: request.method,
    canonicalUri: canonicalUri(request.path, options.uriOptions),
    canonicalQuery: formatCanonicalQuery([
      ...ownPairs,
      ...authParams.map(([name, value]) => ({ name, value })),
    ]),
    canonicalHeaders: canonicalHeaders(request.headers, signedHeaders),
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
  const authQuery = authParams.map(([name, value]) => `${name}=${value}`).join("&");
  const query = `${request.query === "" ? "" : `${request.query}&`}${authQuery}&X-Amz-Signature=${signature}`;
  return {
    query,
    signature,
    canonicalRequest: canonical,
    stringToSign: toSign,
    amzDate,
    scope,
    signedHeaders,
  };
};

const URL_PATTERN = /^(https?):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?(?:#.*)?$/i;

/**
 * Presigns an absolute `http(s)` URL and returns the URL to hand out. The path and query are
 * not normalised (keys with `..` or `//` survive, unlike WHATWG `URL`); each part is re-encoded
 * once with the SigV4 rules, so `a b+c` becomes `a%20b%2Bc` and an encoded key stays as it is.
 * `host` is the URL's authority, lower-cased, without a default port. `headers` are the extra headers the holder of
 * the URL will send (they are signed); `method` defaults to `GET`.
 * @throws SigV4Error `InvalidArgument` for a URL that is not absolute http(s) or has user info.
 * @public
 */
export const presignUrl = (
  url: string,
  options: PresignOptions & { method?: string; headers?: RawRequest["headers"] },
): string => {
  const match = URL_PATTERN.exec(url);
  if (match == null) {
    throw new SigV4Error("InvalidArgument", "presignUrl needs an absolute http or https URL.");
  }
  const scheme = match[1]!.toLowerCase();
  const authority = match[2]!;
  if (authority === "" || authority.includes("@")) {
    throw new SigV4Error("InvalidArgument", "The URL needs a host and no user info.");
  }
  const defaultPort = scheme === "https" ? ":443" : ":80";
  const lowerAuthority = authority.toLowerCase();
  const host = lowerAuthority.endsWith(defaultPort)
    ? lowerAuthority.slice(0, -defaultPort.length)
    : lowerAuthority;
  // Re-encoded once with the SigV4 rules so the URL is valid as written (a space becomes %20)
  // and means the same to S3, which decodes once; `..` and `//` stay.
  const rawPath = match[3] === "" ? "/" : match[3]!;
  const path =
    options.uriOptions?.doubleEncode === true
      ? rawPath
      : recodeComponent(rawPath, { keepSlash: true });
  const query = (match[4] ?? "")
    .split("&")
    .filter((piece) => piece !== "")
    .map((piece) => {
      const equals = piece.indexOf("=");
      return equals < 0
        ? recodeComponent(piece)
        : `${recodeComponent(piece.slice(0, equals))}=${recodeComponent(piece.slice(equals + 1))}`;
    })
    .join("&");
  const headers = options.headers ?? [];
  const request: RawRequest = {
    method: options.method ?? "GET",
    path,
    query,
    headers: findHeader(headers, "host") < 0 ? [["host", host], ...headers] : headers,
  };
  const presigned = presignRequest(request, options);
  return `${scheme}://${host}${path}?${presigned.query}`;
};
