/**
 * The S3 error codes this package can produce. They are S3's own strings so that a server can
 * put them straight into an S3 error document.
 * @public
 */
export type SigV4ErrorCode =
  | "AccessDenied"
  | "AuthorizationHeaderMalformed"
  | "AuthorizationQueryParametersError"
  | "IncompleteBody"
  | "InvalidAccessKeyId"
  | "InvalidArgument"
  | "InvalidDigest"
  | "InvalidRequest"
  | "MissingSecurityHeader"
  | "RequestTimeTooSkewed"
  | "SignatureDoesNotMatch"
  | "XAmzContentSHA256Mismatch"
  | "BadDigest"
  | "InternalError";

/** HTTP status S3 answers with for each code. @public */
export const SIGV4_ERROR_STATUS: { readonly [C in SigV4ErrorCode]: number } = {
  AccessDenied: 403,
  AuthorizationHeaderMalformed: 400,
  AuthorizationQueryParametersError: 400,
  IncompleteBody: 400,
  InvalidAccessKeyId: 403,
  InvalidArgument: 400,
  InvalidDigest: 400,
  InvalidRequest: 400,
  MissingSecurityHeader: 400,
  RequestTimeTooSkewed: 403,
  SignatureDoesNotMatch: 403,
  XAmzContentSHA256Mismatch: 400,
  BadDigest: 400,
  InternalError: 500,
};

const BRAND = Symbol.for("osp.sigv4.error");

/**
 * A typed failure with an S3 error code. Match on `code`, never on `message`.
 * `detail` holds extra S3 error fields (e.g. `RequestTime`, `ServerTime` for skew); it never
 * holds a secret. `SigV4Error.is()` works across duplicate installs of the package.
 * @public
 */
export class SigV4Error extends Error {
  readonly code: SigV4ErrorCode;
  readonly status: number;
  readonly detail: Readonly<Record<string, string>>;
  readonly [BRAND] = true;

  constructor(
    code: SigV4ErrorCode,
    message: string,
    detail: Record<string, string> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "SigV4Error";
    this.code = code;
    this.status = SIGV4_ERROR_STATUS[code];
    this.detail = detail;
  }

  static is(value: unknown): value is SigV4Error {
    return (
      typeof value === "object" &&
      value != null &&
      (value as Record<symbol, unknown>)[BRAND] === true
    );
  }
}
