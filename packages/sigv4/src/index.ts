export type {
  CredentialScope,
  Credentials,
  CryptoProvider,
  IncrementalHash,
  PayloadMode,
  RawRequest,
} from "./types.ts";
export { SigV4Error, SIGV4_ERROR_STATUS, type SigV4ErrorCode } from "./errors.ts";
export { nobleCryptoProvider } from "./crypto.ts";
export { timingSafeEqual, toHex, utf8 } from "./encoding.ts";
export {
  ALGORITHM,
  EMPTY_SHA256,
  MAX_CLOCK_SKEW_MS,
  MAX_PRESIGN_EXPIRES_SECONDS,
  MIN_CHUNK_SIZE_BYTES,
  STREAMING_SIGNED_PAYLOAD,
  STREAMING_SIGNED_PAYLOAD_TRAILER,
  STREAMING_UNSIGNED_PAYLOAD_TRAILER,
  UNSIGNED_PAYLOAD,
} from "./constants.ts";
export {
  createSigningKeyCache,
  deriveSigningKey,
  type SigningKeyCache,
  type SigningKeyCacheOptions,
} from "./signing-key.ts";
