// Symbol.for so that an entry made by one installed copy of the package is recognised by another.
const ENTRY_BRAND: unique symbol = Symbol.for("@osp/creds-cache.entry");

/**
 * A loaded value with its own lifetime, made by {@link withExpiry}. The brand keeps a plain object
 * value that happens to have a `value` field from being mistaken for an entry.
 * @public
 */
export interface CacheEntry<V> {
  readonly value: V;
  /** Lifetime from the moment the load completes. */
  readonly ttlMs?: number;
  /** Absolute expiry, epoch milliseconds. */
  readonly expiresAt?: number;
  readonly [ENTRY_BRAND]: true;
}

/**
 * Wraps a loaded value with its own lifetime, e.g. an IAM token's expiry. With both fields the
 * earlier expiry wins; with neither the call's or the cache's default TTL applies.
 * @throws RangeError if `ttlMs` is negative or not a number, or `expiresAt` is not a number.
 * @public
 */
export const withExpiry = <V>(
  value: V,
  expiry: { ttlMs?: number; expiresAt?: number },
): CacheEntry<V> => {
  const { ttlMs, expiresAt } = expiry;
  if (ttlMs != null && (typeof ttlMs !== "number" || !(ttlMs >= 0))) {
    throw new RangeError(`withExpiry: ttlMs must be a number >= 0, got ${String(ttlMs)}`);
  }
  if (expiresAt != null && (typeof expiresAt !== "number" || Number.isNaN(expiresAt))) {
    throw new RangeError("withExpiry: expiresAt must be epoch milliseconds, got NaN");
  }
  return { value, ttlMs, expiresAt, [ENTRY_BRAND]: true };
};

/** @internal */
export const isCacheEntry = (candidate: unknown): candidate is CacheEntry<unknown> =>
  typeof candidate === "object" &&
  candidate != null &&
  (candidate as Partial<CacheEntry<unknown>>)[ENTRY_BRAND] === true;
