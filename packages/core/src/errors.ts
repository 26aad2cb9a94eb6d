// The S3 error model of the proxy: one code → status → default message table, one error class,
// one renderer. Errors the proxy makes are S3 XML; backend errors pass through untouched.

/** @public */
export const S3_ERRORS = {
  AccessDenied: { status: 403, message: "Access Denied" },
  AuthorizationHeaderMalformed: { status: 400, message: "The authorization header is malformed." },
  AuthorizationQueryParametersError: {
    status: 400,
    message: "The query parameters that authenticate the request are malformed.",
  },
  BadDigest: { status: 400, message: "The checksum you specified did not match what we received." },
  EntityTooLarge: {
    status: 400,
    message: "Your proposed upload exceeds the maximum allowed size.",
  },
  IncompleteBody: {
    status: 400,
    message: "You did not provide the number of bytes specified by the Content-Length HTTP header.",
  },
  InternalError: { status: 500, message: "We encountered an internal error. Please try again." },
  InvalidAccessKeyId: {
    status: 403,
    message: "The AWS Access Key Id you provided does not exist in our records.",
  },
  InvalidArgument: { status: 400, message: "Invalid Argument" },
  InvalidBucketName: { status: 400, message: "The specified bucket is not valid." },
  InvalidDigest: {
    status: 400,
    message: "The Content-MD5 or checksum value you specified is not valid.",
  },
  InvalidRequest: { status: 400, message: "Invalid Request" },
  InvalidURI: { status: 400, message: "Couldn't parse the specified URI." },
  MethodNotAllowed: {
    status: 405,
    message: "The specified method is not allowed against this resource.",
  },
  MissingContentLength: {
    status: 411,
    message: "You must provide the Content-Length HTTP header.",
  },
  MissingSecurityHeader: { status: 400, message: "Your request is missing a required header." },
  NoSuchBucket: { status: 404, message: "The specified bucket does not exist." },
  NotImplemented: {
    status: 501,
    message: "A header you provided implies functionality that is not implemented.",
  },
  RequestTimeTooSkewed: {
    status: 403,
    message: "The difference between the request time and the server's time is too large.",
  },
  RequestTimeout: {
    status: 400,
    message:
      "Your socket connection to the server was not read from or written to within the timeout period.",
  },
  ServiceUnavailable: { status: 503, message: "Service is unable to handle request." },
  SignatureDoesNotMatch: {
    status: 403,
    message:
      "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
  },
  SlowDown: { status: 503, message: "Please reduce your request rate." },
  XAmzContentSHA256Mismatch: {
    status: 400,
    message: "The provided 'x-amz-content-sha256' header does not match what was computed.",
  },
} as const satisfies Record<string, { status: number; message: string }>;

/** @public */
export type S3ErrorCode = keyof typeof S3_ERRORS;

/** Who is at fault: the client's request, the backend, or the proxy itself. @public */
export type ErrorSource = "client" | "upstream" | "proxy";

const BRAND = Symbol.for("osp.core.error");

/** @public */
export interface OspErrorOptions {
  message?: string;
  source?: ErrorSource;
  /** Extra S3 error elements (`RequestTime`, `ServerTime`, …). Never a secret. */
  detail?: Record<string, string>;
  /** Override the table's status (rarely needed). */
  status?: number;
  cause?: unknown;
}

/**
 * A failure with an S3 error code. Match on `code`. `OspError.is()` works across duplicate
 * installs. Messages of `upstream`/`proxy` errors are replaced by the table's generic message
 * when rendered, so internal details never reach a client.
 * @public
 */
export class OspError extends Error {
  readonly code: S3ErrorCode;
  readonly status: number;
  readonly source: ErrorSource;
  readonly detail: Readonly<Record<string, string>>;
  readonly [BRAND] = true;

  constructor(code: S3ErrorCode, options: OspErrorOptions = {}) {
    super(options.message ?? S3_ERRORS[code].message, { cause: options.cause });
    this.name = "OspError";
    this.code = code;
    this.status = options.status ?? S3_ERRORS[code].status;
    this.source = options.source ?? "client";
    this.detail = options.detail ?? {};
  }

  /** True for an `OspError` from any copy of this package. */
  static is(value: unknown): value is OspError {
    return (
      typeof value === "object" &&
      value != null &&
      (value as Record<symbol, unknown>)[BRAND] === true
    );
  }

  /**
   * Normalises anything thrown into an `OspError`. Errors that carry an S3 `code` of the table
   * (such as `SigV4Error` from `@osp/sigv4`) keep it; anything else is an `InternalError`.
   */
  static from(value: unknown): OspError {
    if (OspError.is(value)) return value;
    const code = (value as { code?: unknown } | null)?.code;
    if (typeof code === "string" && code in S3_ERRORS) {
      const { message, detail } = value as { message?: string; detail?: Record<string, string> };
      return new OspError(code as S3ErrorCode, { message, detail, cause: value });
    }
    return new OspError("InternalError", { source: "proxy", cause: value });
  }
}

/**
 * What a failing user callback (validator, `hmacFetcher`, `bucketCredsFetcher`) becomes: its own
 * `OspError` as it is, anything else an `InternalError` whose message names the callback and
 * never repeats the error's (the cause stays attached for server logs). @internal
 */
export const callbackFailure = (error: unknown, message: string): OspError =>
  OspError.is(error)
    ? error
    : new OspError("InternalError", { source: "proxy", message, cause: error });

const XML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
};

/** Escapes text for an XML element or attribute. @public */
export const escapeXml = (text: string): string => text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!);

/** The message a client may see: the error's own for client errors, the generic one otherwise. */
const exposedMessage = (error: OspError): string => {
  const message = error.source === "client" ? error.message : S3_ERRORS[error.code].message;
  // aws-cli v1 crashes on an empty <Message/>: never send one.
  return message.trim() === "" ? S3_ERRORS[error.code].message : message;
};

/** Renders the S3 error document. @public */
export const toS3ErrorXml = (
  error: OspError,
  context: { requestId: string; resource?: string },
): string => {
  const detail = Object.entries(error.detail)
    .filter(([name]) => /^[A-Za-z][A-Za-z0-9]*$/.test(name))
    .map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`)
    .join("");
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${error.code}</Code>` +
    `<Message>${escapeXml(exposedMessage(error))}</Message>${detail}` +
    `<Resource>${escapeXml(context.resource ?? "")}</Resource>` +
    `<RequestId>${escapeXml(context.requestId)}</RequestId></Error>`
  );
};
