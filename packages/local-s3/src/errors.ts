// The S3 errors this server answers with: one code → status → default message table and one
// error class. Signature failures from @osp/sigv4 keep their own code and status.
import { SigV4Error } from "@osp/sigv4";
import { escapeXml } from "./xml.ts";

const S3_ERRORS = {
  AccessDenied: { status: 403, message: "Access Denied" },
  BadDigest: { status: 400, message: "The checksum you specified did not match what we received." },
  BucketAlreadyOwnedByYou: {
    status: 409,
    message: "Your previous request to create the named bucket succeeded and you already own it.",
  },
  BucketNotEmpty: { status: 409, message: "The bucket you tried to delete is not empty." },
  EntityTooLarge: {
    status: 400,
    message: "Your proposed upload exceeds the maximum allowed size.",
  },
  EntityTooSmall: {
    status: 400,
    message: "Your proposed upload is smaller than the minimum allowed object size.",
  },
  IllegalLocationConstraintException: {
    status: 400,
    message: "The location constraint does not match the region of this endpoint.",
  },
  IncompleteBody: {
    status: 400,
    message: "You did not provide the number of bytes specified by the Content-Length HTTP header.",
  },
  InternalError: { status: 500, message: "We encountered an internal error. Please try again." },
  InvalidArgument: { status: 400, message: "Invalid Argument" },
  InvalidBucketName: { status: 400, message: "The specified bucket is not valid." },
  InvalidDigest: { status: 400, message: "The Content-MD5 you specified is not valid." },
  InvalidPart: {
    status: 400,
    message:
      "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
  },
  InvalidPartOrder: {
    status: 400,
    message: "The list of parts was not in ascending order. Parts must be ordered by part number.",
  },
  InvalidPartNumber: { status: 416, message: "The requested partnumber is not satisfiable" },
  InvalidRange: { status: 416, message: "The requested range is not satisfiable" },
  InvalidRequest: { status: 400, message: "Invalid Request" },
  InvalidURI: { status: 400, message: "Couldn't parse the specified URI." },
  KeyTooLongError: { status: 400, message: "Your key is too long." },
  MalformedXML: {
    status: 400,
    message:
      "The XML you provided was not well-formed or did not validate against our published schema.",
  },
  MaxMessageLengthExceeded: { status: 400, message: "Your request was too big." },
  MetadataTooLarge: {
    status: 400,
    message: "Your metadata headers exceed the maximum allowed metadata size.",
  },
  MethodNotAllowed: {
    status: 405,
    message: "The specified method is not allowed against this resource.",
  },
  MissingContentLength: {
    status: 411,
    message: "You must provide the Content-Length HTTP header.",
  },
  NoSuchBucket: { status: 404, message: "The specified bucket does not exist." },
  NoSuchKey: { status: 404, message: "The specified key does not exist." },
  NoSuchUpload: {
    status: 404,
    message:
      "The specified multipart upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
  },
  NoSuchVersion: { status: 404, message: "The specified version does not exist." },
  NotImplemented: {
    status: 501,
    message: "A header you provided implies functionality that is not implemented.",
  },
  NotModified: { status: 304, message: "Not Modified" },
  PreconditionFailed: {
    status: 412,
    message: "At least one of the preconditions you specified did not hold.",
  },
} as const satisfies Record<string, { status: number; message: string }>;

/**
 * The S3 error codes local-s3 answers with: its own table plus every code of `@osp/sigv4`
 * (`SignatureDoesNotMatch`, `XAmzContentSHA256Mismatch`, …).
 * @public
 */
export type S3ErrorCode = keyof typeof S3_ERRORS | SigV4Error["code"];

/**
 * A failure that becomes an S3 error document. `detail` holds extra XML elements (`Key`,
 * `BucketName`, `RequestTime`, …); it never holds a secret.
 * @public
 */
export class S3Error extends Error {
  readonly code: S3ErrorCode;
  readonly status: number;
  readonly detail: Readonly<Record<string, string>>;
  /** Extra response headers (`Content-Range` of a 416). */
  readonly responseHeaders: Readonly<Record<string, string>>;

  constructor(
    code: S3ErrorCode,
    message?: string,
    options: {
      detail?: Record<string, string>;
      status?: number;
      responseHeaders?: Record<string, string>;
      cause?: unknown;
    } = {},
  ) {
    const known = (S3_ERRORS as Record<string, { status: number; message: string }>)[code];
    super(message ?? known?.message ?? code, { cause: options.cause });
    this.name = "S3Error";
    this.code = code;
    this.status = options.status ?? known?.status ?? 400;
    this.detail = options.detail ?? {};
    this.responseHeaders = options.responseHeaders ?? {};
  }
}

/**
 * Normalises anything thrown while serving a request. Unknown errors become a generic
 * `InternalError` so that no internal message or stack reaches the client.
 */
export const toS3Error = (error: unknown): S3Error => {
  if (error instanceof S3Error) return error;
  if (SigV4Error.is(error)) {
    return new S3Error(error.code, error.message || error.code, {
      status: error.status,
      detail: { ...error.detail },
      cause: error,
    });
  }
  return new S3Error("InternalError", undefined, { cause: error });
};

/** The S3 `<Error>` document. */
export const errorDocument = (error: S3Error, resource: string, requestId: string): string => {
  const detail = Object.entries(error.detail)
    .filter(([name]) => /^[A-Za-z][A-Za-z0-9]*$/.test(name))
    .map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`)
    .join("");
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${error.code}</Code><Message>${escapeXml(error.message)}</Message>${detail}` +
    `<Resource>${escapeXml(resource)}</Resource><RequestId>${requestId}</RequestId></Error>`
  );
};
