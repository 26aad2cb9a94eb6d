import { createCrc32, createCrc32c, createCrc64Nvme } from "./checksum-crc.ts";
import { nobleCryptoProvider } from "./crypto.ts";
import type { CryptoProvider } from "./types.ts";

/**
 * The flexible-checksum algorithms S3 accepts in `x-amz-checksum-<algorithm>` headers and
 * trailers (lower case, as in the header names).
 * @public
 */
export type ChecksumAlgorithm = "crc32" | "crc32c" | "crc64nvme" | "sha1" | "sha256";

/** Every {@link ChecksumAlgorithm}, in S3's documentation order. @public */
export const CHECKSUM_ALGORITHMS: ReadonlyArray<ChecksumAlgorithm> = [
  "crc32",
  "crc32c",
  "crc64nvme",
  "sha1",
  "sha256",
];

/** An incremental checksum; the digest is what S3 sends: base64 of the big-endian value. @public */
export interface Checksum {
  readonly algorithm: ChecksumAlgorithm;
  update(bytes: Uint8Array): void;
  /** Raw digest bytes (4, 8, 20 or 32). Call once, after the last update. */
  digest(): Uint8Array;
  /** Base64 of {@link Checksum.digest}, the `x-amz-checksum-*` value. Call once. */
  digestBase64(): string;
}

const DIGEST_BYTES: { readonly [A in ChecksumAlgorithm]: number } = {
  crc32: 4,
  crc32c: 4,
  crc64nvme: 8,
  sha1: 20,
  sha256: 32,
};

const BASE64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Standard padded base64 (no Buffer or btoa, so it runs anywhere). @internal */
export const toBase64 = (bytes: Uint8Array): string => {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out +=
      BASE64_ALPHABET[n >>> 18]! +
      BASE64_ALPHABET[(n >>> 12) & 63]! +
      BASE64_ALPHABET[(n >>> 6) & 63]! +
      BASE64_ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += `${BASE64_ALPHABET[n >>> 18]!}${BASE64_ALPHABET[(n >>> 12) & 63]!}==`;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += `${BASE64_ALPHABET[n >>> 18]!}${BASE64_ALPHABET[(n >>> 12) & 63]!}${BASE64_ALPHABET[(n >>> 6) & 63]!}=`;
  }
  return out;
};

/** Length of the base64 text of an algorithm's digest (8, 12, 28 or 44 characters). @internal */
export const checksumBase64Length = (algorithm: ChecksumAlgorithm): number =>
  Math.ceil(DIGEST_BYTES[algorithm] / 3) * 4;

/**
 * Whether `value` is shaped like a base64 digest of `algorithm` (right length, alphabet and
 * padding). A value that is not is malformed (S3: InvalidRequest) rather than a mismatch.
 * @internal
 */
export const isChecksumValueWellFormed = (algorithm: ChecksumAlgorithm, value: string): boolean => {
  const length = checksumBase64Length(algorithm);
  const padding = length - Math.ceil((DIGEST_BYTES[algorithm] * 4) / 3);
  if (value.length !== length) return false;
  for (let i = 0; i < length; i++) {
    const isPad = value[i] === "=";
    if (i >= length - padding ? !isPad : isPad || !BASE64_ALPHABET.includes(value[i]!))
      return false;
  }
  return true;
};

/**
 * Creates an incremental checksum. CRCs are computed here (table-driven, slice-by-8); SHA-1 and
 * SHA-256 go through the crypto provider so a server can use `node:crypto`.
 * @public
 */
export const createChecksum = (
  algorithm: ChecksumAlgorithm,
  crypto: CryptoProvider = nobleCryptoProvider,
): Checksum => {
  const state =
    algorithm === "crc32"
      ? createCrc32()
      : algorithm === "crc32c"
        ? createCrc32c()
        : algorithm === "crc64nvme"
          ? createCrc64Nvme()
          : algorithm === "sha1"
            ? crypto.createSha1()
            : crypto.createSha256();
  return {
    algorithm,
    update(bytes) {
      state.update(bytes);
    },
    digest: () => state.digest(),
    digestBase64: () => toBase64(state.digest()),
  };
};

/** `x-amz-checksum-<algorithm>`: the header or trailer that carries the checksum. @public */
export const checksumHeaderName = <A extends ChecksumAlgorithm>(
  algorithm: A,
): `x-amz-checksum-${A}` => `x-amz-checksum-${algorithm}`;

/**
 * The algorithm named by a checksum header or trailer (`x-amz-checksum-crc32c`) or by an
 * `x-amz-sdk-checksum-algorithm` value (`CRC32C`), case-insensitive; `undefined` for anything
 * else (including `x-amz-checksum-mode` and `x-amz-checksum-type`).
 * @public
 */
export const parseChecksumAlgorithm = (
  headerOrTrailerName: string,
): ChecksumAlgorithm | undefined => {
  const lower = headerOrTrailerName.trim().toLowerCase();
  const name = lower.startsWith("x-amz-checksum-") ? lower.slice("x-amz-checksum-".length) : lower;
  return (CHECKSUM_ALGORITHMS as ReadonlyArray<string>).includes(name)
    ? (name as ChecksumAlgorithm)
    : undefined;
};
