// The chunk-signature chain on bytes rather than strings. Each chunk needs one HMAC over a string
// to sign that differs from the previous one only in two 64-digit hex fields; writing those digits
// in place into a reused buffer (no string building, no UTF-8 encoding) keeps the per-chunk cost
// small next to hashing 64 KiB, which is what lets verify + re-sign run near one SHA-256 pass.
import { EMPTY_SHA256 } from "./constants.ts";
import { utf8 } from "./encoding.ts";
import { SigV4Error } from "./errors.ts";
import type { CredentialScope, CryptoProvider } from "./types.ts";

const HEX_DIGITS = utf8("0123456789abcdef");
const EMPTY_SHA256_HEX = utf8(EMPTY_SHA256);

/** Writes `bytes` as lower-case hex into `target` at `offset`. @internal */
export const writeHex = (target: Uint8Array, offset: number, bytes: Uint8Array): void => {
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    target[offset + 2 * i] = HEX_DIGITS[byte >>> 4]!;
    target[offset + 2 * i + 1] = HEX_DIGITS[byte & 15]!;
  }
};

/**
 * Compares `length` bytes of `a` from `start` with all of `b`, in time that depends only on the
 * lengths. @internal
 */
export const bytesEqualConstantTime = (
  a: Uint8Array,
  start: number,
  length: number,
  b: Uint8Array,
): boolean => {
  let diff = length ^ b.length;
  const n = Math.min(length, b.length);
  for (let i = 0; i < n; i++) diff |= a[start + i]! ^ b[i]!;
  return diff === 0;
};

/** @internal */
export interface ChunkSignatureChain {
  /**
   * Signs the next chunk from its raw SHA-256 (`undefined`: the empty final chunk) and returns the
   * signature as 64 hex bytes: a view that the following call overwrites.
   */
  next(chunkSha256: Uint8Array | undefined): Uint8Array;
  /** The latest signature (the seed before the first chunk) as a string. */
  current(): string;
}

/** @internal */
export const createChunkSignatureChain = (
  signingKey: Uint8Array,
  amzDate: string,
  scope: CredentialScope,
  seedSignature: string,
  crypto: CryptoProvider,
): ChunkSignatureChain => {
  const prefix = utf8(
    `AWS4-HMAC-SHA256-PAYLOAD\n${amzDate}\n${scope.date}/${scope.region}/${scope.service}/aws4_request\n`,
  );
  // prefix | previous signature (64) | \n | SHA-256 of "" (64) | \n | chunk SHA-256 (64)
  const previousAt = prefix.length;
  const hashAt = previousAt + 64 + 1 + 64 + 1;
  const toSign = new Uint8Array(hashAt + 64);
  toSign.set(prefix);
  const seed = utf8(seedSignature);
  if (seed.length !== 64)
    throw new SigV4Error("InvalidArgument", "seedSignature must be a 64-digit hex signature");
  toSign.set(seed, previousAt);
  toSign[previousAt + 64] = 10;
  toSign.set(EMPTY_SHA256_HEX, previousAt + 65);
  toSign[hashAt - 1] = 10;
  const signature = toSign.subarray(previousAt, previousAt + 64);
  return {
    next(chunkSha256) {
      if (chunkSha256 === undefined) toSign.set(EMPTY_SHA256_HEX, hashAt);
      else writeHex(toSign, hashAt, chunkSha256);
      writeHex(toSign, previousAt, crypto.hmacSha256(signingKey, toSign));
      return signature;
    },
    current() {
      let text = "";
      for (let i = 0; i < 64; i++) text += String.fromCharCode(signature[i]!);
      return text;
    },
  };
};
