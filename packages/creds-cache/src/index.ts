export { createCredsCache } from "./creds-cache.ts";
export { withExpiry, type CacheEntry } from "./entry.ts";
export type {
  AbortSignalLike,
  CacheStats,
  CacheStatus,
  CredsCache,
  CredsCacheOptions,
  GetOptions,
  LoadContext,
  Loader,
} from "./types.ts";
