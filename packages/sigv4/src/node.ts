// The one module of @osp/sigv4 that touches Node: a separate entry (`@osp/sigv4/node`) so the
// main entry stays pure. node:crypto runs SHA-256 about 10× faster than the pure-JS default.
import { createHash, createHmac, hash as oneShotHash } from "node:crypto";
import type { CryptoProvider, IncrementalHash } from "./types.ts";

const incremental = (algorithm: "sha256" | "sha1"): IncrementalHash => {
  const hash = createHash(algorithm);
  const self: IncrementalHash = {
    update(data) {
      hash.update(data);
      return self;
    },
    digest: () => new Uint8Array(hash.digest()),
  };
  return self;
};

/** `node:crypto`-backed provider for servers on Node. @public */
export const nodeCryptoProvider: CryptoProvider = {
  sha256: (data) => new Uint8Array(createHash("sha256").update(data).digest()),
  hmacSha256: (key, data) => new Uint8Array(createHmac("sha256", key).update(data).digest()),
  createSha256: () => incremental("sha256"),
  createSha1: () => incremental("sha1"),
  // Strings go straight to OpenSSL: no TextEncoder copy, hex made natively. The one-shot
  // crypto.hash (Node ≥ 20.12) skips the Hash object: about twice as fast for a canonical request.
  sha256Hex: (text) => oneShotHash("sha256", text, "hex"),
  hmacSha256Hex: (key, text) => createHmac("sha256", key).update(text, "utf8").digest("hex"),
};
