/** @public */ export const ALGORITHM = "AWS4-HMAC-SHA256";
/** @public */ export const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";
/** @public */ export const STREAMING_SIGNED_PAYLOAD = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
/** @public */ export const STREAMING_SIGNED_PAYLOAD_TRAILER =
  "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
/** @public */ export const STREAMING_UNSIGNED_PAYLOAD_TRAILER =
  "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
/** SHA-256 of the empty string. @public */
export const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/** S3 accepts request times within ±15 minutes of its clock. @public */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;
/** Presigned URLs live at most 7 days. @public */
export const MAX_PRESIGN_EXPIRES_SECONDS = 7 * 24 * 60 * 60;
/** Every aws-chunked chunk but the last must carry at least 8 KiB. @public */
export const MIN_CHUNK_SIZE_BYTES = 8 * 1024;
