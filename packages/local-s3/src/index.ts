export {
  createLocalS3,
  type LocalS3,
  type LocalS3Credentials,
  type LocalS3Options,
  type LocalS3Profile,
  type LocalS3RequestEvent,
} from "./local-s3.ts";
export { S3Error, type S3ErrorCode } from "./errors.ts";
export type { S3Operation } from "./request.ts";
