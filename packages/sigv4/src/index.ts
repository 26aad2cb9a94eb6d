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
export {
  calculateSignature,
  canonicalHeaders,
  canonicalQuery,
  canonicalRequest,
  canonicalUri,
  formatAmzDate,
  formatScope,
  stringToSign,
  uriEncode,
  type UriOptions,
} from "./canonical.ts";
export { defaultSignedHeaders, signRequest, type SignedRequest, type SignOptions } from "./sign.ts";
export {
  presignRequest,
  presignUrl,
  type PresignedRequest,
  type PresignOptions,
} from "./presign.ts";
export {
  parseAuthorization,
  type ParseOptions,
  type ParsedAuthorization,
} from "./parse-authorization.ts";
export {
  verifyRequest,
  verifyRequestMaybeSync,
  verifyRequestWithSecret,
  type VerifiedRequest,
  type VerifyOptions,
} from "./verify.ts";
export {
  chunkStringToSign,
  createChunkDecoder,
  parseDeclaredTrailers,
  trailerStringToSign,
  type ChunkDecoder,
  type ChunkDecoderOptions,
  type ChunkDecoderResult,
  type ChunkedPayloadMode,
  type ChunkSigningContext,
  type DecodedChunk,
} from "./chunked.ts";
export {
  createChunkEncoder,
  createUnsignedChunkEncoder,
  signedChunkedLength,
  unsignedChunkedLength,
  type ChunkedLengthOptions,
  type ChunkEncoder,
  type ChunkEncoderOptions,
  type ChunkTrailers,
  type UnsignedChunkEncoderOptions,
} from "./chunked-encoder.ts";
export {
  chunkDecoderTransform,
  chunkEncoderTransform,
  decodeChunked,
  encodeChunked,
  resignChunked,
  type ChunkDecoderTransformOptions,
  type ChunkEncoderStreamOptions,
  type ResignChunkedOptions,
} from "./chunked-streams.ts";
export {
  CHECKSUM_ALGORITHMS,
  checksumHeaderName,
  createChecksum,
  parseChecksumAlgorithm,
  type Checksum,
  type ChecksumAlgorithm,
} from "./checksums.ts";
