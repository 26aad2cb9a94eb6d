// Bucket-name and key rules S3 enforces.
import { S3Error } from "./errors.ts";

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Whether `name` is a valid S3 bucket name: 3–63 characters of a-z, 0-9, "." and "-",
 * starting and ending with a letter or digit, no "..", not an IPv4 address.
 */
export const isValidBucketName = (name: string): boolean =>
  BUCKET_NAME.test(name) &&
  !name.includes("..") &&
  !name.includes(".-") &&
  !name.includes("-.") &&
  !/^\d{1,3}(\.\d{1,3}){3}$/.test(name) &&
  !name.startsWith("xn--") &&
  !name.endsWith("-s3alias");

/** @throws S3Error InvalidBucketName */
export const assertBucketName = (name: string): void => {
  if (!isValidBucketName(name))
    throw new S3Error("InvalidBucketName", undefined, { detail: { BucketName: name } });
};

/** S3 keys are at most 1024 bytes of UTF-8. */
export const MAX_KEY_BYTES = 1024;

/** @throws S3Error KeyTooLongError */
export const assertKey = (key: string): void => {
  if (Buffer.byteLength(key, "utf8") > MAX_KEY_BYTES)
    throw new S3Error("KeyTooLongError", undefined, { detail: { Key: key.slice(0, 64) } });
};
