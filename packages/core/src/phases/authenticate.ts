// Phase 2, authenticate: SigV4 header, presigned and streaming forms through @osp/sigv4. It runs
// for every request unless `skipSignatureValidation === true`: no header, query parameter
// (`uploadId`), `Expect: 100-continue` or missing validator skips it. Client secrets come from
// the static key store, then from `hmacFetcher` through a cache that also remembers unknown keys.

import type { AbortSignalLike, CacheStatus, CredsCache } from "@osp/creds-cache";
import {
  EMPTY_SHA256,
  STREAMING_SIGNED_PAYLOAD,
  STREAMING_SIGNED_PAYLOAD_TRAILER,
  STREAMING_UNSIGNED_PAYLOAD_TRAILER,
  UNSIGNED_PAYLOAD,
  parseAuthorization,
  verifyRequestMaybeSync,
  type CryptoProvider,
  type ParsedAuthorization,
  type PayloadMode,
  type RawRequest,
  type SigningKeyCache,
  type VerifiedRequest,
} from "@osp/sigv4";
import type { ProxyConfig } from "../config.ts";
import type { ClientIdentity } from "../context.ts";
import { callbackFailure, OspError } from "../errors.ts";
import { getHeader, parseLength } from "../http.ts";
import { isPromiseLike, type MaybePromise } from "../maybe.ts";
import { reportCacheStatus, type SafeObserver } from "../observer.ts";

/** What the authenticator needs. @public */
export interface AuthenticatorOptions {
  readonly config: ProxyConfig;
  readonly now: () => number;
  readonly crypto: CryptoProvider;
  readonly signingKeyCache: SigningKeyCache;
  /** Secrets from `hmacFetcher`; `null` = unknown key (cached for `negativeCacheTtlMs`). */
  readonly secretsCache: CredsCache<string | null>;
  readonly observer: SafeObserver;
}

/** The authenticate phase. @public */
export interface Authenticator {
  /**
   * Verifies `raw` and returns who sent it; throws (or rejects with) an `OspError` (S3 code)
   * otherwise. Synchronous when the secret is at hand (key store, cached `hmacFetcher` answer).
   */
  authenticate(raw: RawRequest, signal?: AbortSignalLike): MaybePromise<ClientIdentity>;
  /** The client's secret for `accessKeyId` (key store, then `hmacFetcher`), or `undefined`. */
  lookupSecret(accessKeyId: string, signal?: AbortSignalLike): MaybePromise<string | undefined>;
}

const PAYLOAD_MODES: ReadonlyMap<string, PayloadMode> = new Map([
  [UNSIGNED_PAYLOAD, "unsigned"],
  [STREAMING_SIGNED_PAYLOAD, "streaming-signed"],
  [STREAMING_SIGNED_PAYLOAD_TRAILER, "streaming-signed-trailer"],
  [STREAMING_UNSIGNED_PAYLOAD_TRAILER, "streaming-unsigned-trailer"],
]);

/**
 * The payload mode of an unauthenticated request (only under `skipSignatureValidation`): its
 * `x-amz-content-sha256`, else the empty hash for a request without body, else UNSIGNED-PAYLOAD.
 * @internal
 */
export const unverifiedPayload = (
  raw: RawRequest,
): { payloadHash: string; payloadMode: PayloadMode } => {
  const declared = getHeader(raw.headers, "x-amz-content-sha256")?.trim();
  if (declared != null) {
    const mode = PAYLOAD_MODES.get(declared);
    if (mode != null) return { payloadHash: declared, payloadMode: mode };
    if (/^[0-9a-fA-F]{64}$/.test(declared)) return { payloadHash: declared, payloadMode: "sha256" };
  }
  const length = parseLength(getHeader(raw.headers, "content-length"));
  const hasBody =
    (length != null && length > 0) || getHeader(raw.headers, "transfer-encoding") != null;
  return hasBody
    ? { payloadHash: UNSIGNED_PAYLOAD, payloadMode: "unsigned" }
    : { payloadHash: EMPTY_SHA256, payloadMode: "sha256" };
};

/** Maps a failure of sigv4 or of a callback to an S3 error; unknown failures stay internal. */
export const toOspError = (error: unknown): OspError => {
  const converted = OspError.from(error);
  // An internal failure's message is for logs, not for the client.
  if (converted.code === "InternalError" && converted.source === "client") {
    return new OspError("InternalError", { source: "proxy", cause: error });
  }
  return converted;
};

/** Creates the authenticate phase. @public */
export const createAuthenticator = (options: AuthenticatorOptions): Authenticator => {
  const { config, observer } = options;
  const regions = config.regions;

  const lookupSecret = (
    accessKeyId: string,
    signal?: AbortSignalLike,
  ): MaybePromise<string | undefined> => {
    const stored = config.hmacKeystore.lookup(accessKeyId);
    if (stored != null) return stored;
    const fetcher = config.hmacFetcher;
    if (fetcher == null) return undefined;
    const status: CacheStatus = {};
    // read(): a cached secret (or cached "unknown key") continues synchronously.
    const secret = options.secretsCache.read(
      accessKeyId,
      async () => {
        const value: unknown = await fetcher(accessKeyId);
        if (value == null) return null;
        if (typeof value !== "string") {
          throw new OspError("InternalError", {
            source: "proxy",
            message: "hmacFetcher returned neither a string nor null",
          });
        }
        return value === "" ? null : value;
      },
      { status, ...(signal != null && { signal }) },
    );
    if (!isPromiseLike(secret)) {
      reportCacheStatus(observer, "secrets", status);
      return secret ?? undefined;
    }
    return secret.then(
      (value) => {
        reportCacheStatus(observer, "secrets", status);
        return value ?? undefined;
      },
      (error: unknown) => {
        reportCacheStatus(observer, "secrets", status);
        throw callbackFailure(error, "hmacFetcher failed");
      },
    );
  };

  const toSigV4Failure = (error: unknown): never => {
    throw toOspError(error);
  };

  const verify = (
    raw: RawRequest,
    parsed: ParsedAuthorization,
    signal?: AbortSignalLike,
  ): MaybePromise<VerifiedRequest> => {
    let verified: MaybePromise<VerifiedRequest>;
    try {
      verified = verifyRequestMaybeSync(raw, {
        lookupSecret: (accessKeyId) => lookupSecret(accessKeyId, signal),
        now: options.now(),
        maxSkewMs: config.maxSkewMs,
        ...(regions != null && { region: regions }),
        crypto: options.crypto,
        signingKeyCache: options.signingKeyCache,
        parsed,
      });
    } catch (error) {
      return toSigV4Failure(error);
    }
    return isPromiseLike(verified) ? verified.then(undefined, toSigV4Failure) : verified;
  };

  const parse = (raw: RawRequest): ParsedAuthorization | undefined => {
    try {
      return parseAuthorization(raw);
    } catch (error) {
      throw toOspError(error);
    }
  };

  const identityOf = (verified: VerifiedRequest): ClientIdentity => ({
    accessKeyId: verified.accessKeyId,
    verified: true,
    presigned: verified.kind === "query",
    payloadHash: verified.payloadHash,
    payloadMode: verified.payloadMode,
    signedHeaders: verified.signedHeaders,
    ...(verified.chunkSigning != null && { chunkSigning: verified.chunkSigning }),
  });

  const authenticate = (
    raw: RawRequest,
    signal?: AbortSignalLike,
  ): MaybePromise<ClientIdentity> => {
    if (config.skipSignatureValidation) return unverifiedIdentity(raw, signal);
    const parsed = parse(raw);
    if (parsed == null) {
      throw new OspError("AccessDenied", {
        message:
          "Anonymous requests are not allowed: sign the request with AWS Signature Version 4.",
      });
    }
    const verified = verify(raw, parsed, signal);
    return isPromiseLike(verified) ? verified.then(identityOf) : identityOf(verified);
  };

  // Development mode: the claimed identity is used as is. A signed aws-chunked body still needs
  // its chunk signatures checked to be decoded, so such a request is verified in full.
  const unverifiedIdentity = async (
    raw: RawRequest,
    signal?: AbortSignalLike,
  ): Promise<ClientIdentity> => {
    let parsed: ParsedAuthorization | undefined;
    try {
      parsed = parseAuthorization(raw);
    } catch {
      parsed = undefined;
    }
    if (parsed == null) {
      return {
        accessKeyId: "",
        verified: false,
        presigned: false,
        signedHeaders: [],
        ...unverifiedPayload(raw),
      };
    }
    if (
      parsed.payloadMode === "streaming-signed" ||
      parsed.payloadMode === "streaming-signed-trailer"
    ) {
      return identityOf(await verify(raw, parsed, signal));
    }
    return {
      accessKeyId: parsed.accessKeyId,
      verified: false,
      presigned: parsed.kind === "query",
      payloadHash: parsed.payloadHash,
      payloadMode: parsed.payloadMode,
      signedHeaders: parsed.signedHeaders,
    };
  };

  return { authenticate, lookupSecret };
};
