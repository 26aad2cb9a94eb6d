import { hmac } from "@noble/hashes/hmac.js";
import { sha1 } from "@noble/hashes/legacy.js";
import { sha256 } from "@noble/hashes/sha2.js";
import type { CryptoProvider, IncrementalHash } from "./types.ts";

const wrap = (hash: { update(d: Uint8Array): unknown; digest(): Uint8Array }): IncrementalHash => {
  const self: IncrementalHash = {
    update(data) {
      hash.update(data);
      return self;
    },
    digest: () => hash.digest(),
  };
  return self;
};

/** Pure-JS provider on `@noble/hashes`: the default, works in any runtime. @public */
export const nobleCryptoProvider: CryptoProvider = {
  sha256: (data) => sha256(data),
  hmacSha256: (key, data) => hmac(sha256, key, data),
  createSha256: () => wrap(sha256.create()),
  createSha1: () => wrap(sha1.create()),
};
