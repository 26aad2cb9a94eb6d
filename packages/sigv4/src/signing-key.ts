import { nobleCryptoProvider } from "./crypto.ts";
import { utf8 } from "./encoding.ts";
import type { CredentialScope, CryptoProvider } from "./types.ts";

/**
 * Derives the SigV4 signing key: HMAC chain from `"AWS4" + secret` over date, region, service
 * and `aws4_request`.
 * @public
 */
export const deriveSigningKey = (
  secretAccessKey: string,
  scope: CredentialScope,
  crypto: CryptoProvider = nobleCryptoProvider,
): Uint8Array => {
  const dateKey = crypto.hmacSha256(utf8(`AWS4${secretAccessKey}`), utf8(scope.date));
  const regionKey = crypto.hmacSha256(dateKey, utf8(scope.region));
  const serviceKey = crypto.hmacSha256(regionKey, utf8(scope.service));
  return crypto.hmacSha256(serviceKey, utf8("aws4_request"));
};

/** @public */
export interface SigningKeyCache {
  /** The signing key for this secret and scope, derived once and then reused. */
  get(secretAccessKey: string, scope: CredentialScope): Uint8Array;
  clear(): void;
  readonly size: number;
}

/** @public */
export interface SigningKeyCacheOptions {
  /** Most keys kept; the least recently used goes first. Default 1024. */
  maxEntries?: number;
  crypto?: CryptoProvider;
}

/**
 * A bounded LRU of derived signing keys. A key changes once a day per secret and region, so a
 * warm cache saves four HMACs per request. Keyed by the secret itself (never logged, never
 * exposed) so a rotated secret can never reuse a stale key.
 * @public
 */
export const createSigningKeyCache = (options: SigningKeyCacheOptions = {}): SigningKeyCache => {
  const maxEntries = options.maxEntries ?? 1024;
  const crypto = options.crypto ?? nobleCryptoProvider;
  const entries = new Map<string, Uint8Array>();
  return {
    get(secretAccessKey, scope) {
      // NUL cannot occur in any of the parts, so the joined key is unambiguous.
      const cacheKey = `${secretAccessKey}\0${scope.date}\0${scope.region}\0${scope.service}`;
      const hit = entries.get(cacheKey);
      if (hit !== undefined) {
        entries.delete(cacheKey);
        entries.set(cacheKey, hit);
        return hit;
      }
      const key = deriveSigningKey(secretAccessKey, scope, crypto);
      entries.set(cacheKey, key);
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
      return key;
    },
    clear: () => entries.clear(),
    get size() {
      return entries.size;
    },
  };
};
