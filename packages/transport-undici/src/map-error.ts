// The one place where undici, net and tls failures become S3 error codes. Messages are composed
// here from the error code and the backend origin only: never from the original message, which
// could one day carry request data, and never with a stack.
import { OspError } from "@osp/core";

/** Where the exchange was when it failed: before the response head, or while streaming its body. */
export type FailurePhase = "before-response" | "response-body";

/** Thrown by the request body wrapper when the caller's body iterable fails. */
export class RequestBodyError extends Error {
  constructor(cause: unknown) {
    super("The request body could not be read", { cause });
    this.name = "RequestBodyError";
  }
}

/** The reason the transport aborts with when the caller's signal fires. */
export class CallerAbortError extends Error {
  constructor(cause: unknown) {
    super("The request was aborted by the caller", { cause });
    this.name = "CallerAbortError";
  }
}

/** Reason used when the consumer stops reading a response body before its end. */
export class ConsumerCancelledError extends Error {
  constructor() {
    super("The response body was cancelled by its consumer");
    this.name = "ConsumerCancelledError";
  }
}

/** Connect-phase failures: the backend cannot be reached at all. Retryable. */
const UNREACHABLE: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "host name not found",
  EAI_AGAIN: "host name lookup failed temporarily",
  EAI_FAIL: "host name lookup failed",
  EHOSTUNREACH: "host unreachable",
  EHOSTDOWN: "host down",
  ENETUNREACH: "network unreachable",
  ENETDOWN: "network down",
  ETIMEDOUT: "connection timed out",
  EADDRNOTAVAIL: "address not available",
  UND_ERR_CONNECT_TIMEOUT: "connect timeout",
};

/** Connection losses: 503 before the response head (nothing was answered yet), 500 mid-body. */
const CONNECTION_LOST: Readonly<Record<string, string>> = {
  ECONNRESET: "connection reset",
  ECONNABORTED: "connection aborted",
  EPIPE: "connection closed while sending",
  UND_ERR_SOCKET: "connection closed",
  UND_ERR_CLOSED: "connection closed",
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: "response shorter than its Content-Length",
};

/** Node/OpenSSL certificate verification codes (`tls.TLSSocket#authorizationError` values). */
const TLS_CERT_CODES: ReadonlySet<string> = new Set([
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_REVOKED",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "CERT_SIGNATURE_FAILURE",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "HOSTNAME_MISMATCH",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "ERR_TLS_HANDSHAKE_TIMEOUT",
  "EPROTO",
]);

const isTlsCode = (code: string): boolean =>
  TLS_CERT_CODES.has(code) || code.startsWith("ERR_SSL_") || code.startsWith("ERR_TLS_");

/** The error's `code`, looking inside an `AggregateError` (Happy Eyeballs reports one per address). */
export const errorCode = (error: unknown): string | undefined => {
  if (typeof error !== "object" || error == null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && code !== "") return code;
  const nested = (error as { errors?: unknown }).errors;
  return Array.isArray(nested) && nested.length > 0 ? errorCode(nested[0]) : undefined;
};

/** `scheme://host:port` without any user info, for messages. */
export const safeOrigin = (origin: string): string => {
  try {
    return new URL(origin).origin;
  } catch {
    return "the backend";
  }
};

const upstream = (
  code: "ServiceUnavailable" | "SlowDown" | "RequestTimeout" | "InternalError",
  origin: string,
  what: string,
  errorCodeText: string | undefined,
  cause: unknown,
): OspError =>
  new OspError(code, {
    source: "upstream",
    message: `Backend ${safeOrigin(origin)}: ${what}${errorCodeText == null ? "" : ` (${errorCodeText})`}`,
    cause,
  });

/**
 * Maps whatever undici, net or tls reported into an `OspError`:
 *
 * | condition | code | status |
 * |---|---|---|
 * | refused, DNS, unreachable, connect timeout, TLS/certificate failure | ServiceUnavailable | 503 |
 * | connection reset before the response head | ServiceUnavailable | 503 |
 * | headers timeout (backend accepted the request but did not answer in time) | SlowDown | 503 |
 * | body timeout (backend stalled mid-body) | RequestTimeout | 400 |
 * | connection lost mid-body, anything else | InternalError | 500 |
 *
 * `OspError`s pass through unchanged, so a caller's body iterable can fail with its own code
 * (`BadDigest`, `IncompleteBody`, …).
 */
export const toOspError = (error: unknown, origin: string, phase: FailurePhase): OspError => {
  if (OspError.is(error)) return error;
  if (error instanceof CallerAbortError) {
    const reason = error.cause;
    return OspError.is(reason)
      ? reason
      : new OspError("InternalError", { source: "client", message: error.message, cause: reason });
  }
  if (error instanceof RequestBodyError) {
    const reason = error.cause;
    return OspError.is(reason)
      ? reason
      : new OspError("IncompleteBody", {
          source: "client",
          message: "The request body could not be read to its end",
          cause: reason,
        });
  }
  const code = errorCode(error);
  if (code == null) return upstream("InternalError", origin, "request failed", undefined, error);
  const unreachable = UNREACHABLE[code];
  if (unreachable != null) return upstream("ServiceUnavailable", origin, unreachable, code, error);
  if (isTlsCode(code)) {
    return upstream("ServiceUnavailable", origin, "TLS connection failed", code, error);
  }
  if (code === "UND_ERR_HEADERS_TIMEOUT") {
    return upstream("SlowDown", origin, "no response head within the headers timeout", code, error);
  }
  if (code === "UND_ERR_BODY_TIMEOUT") {
    return upstream(
      "RequestTimeout",
      origin,
      "response body stalled past the body timeout",
      code,
      error,
    );
  }
  const lost = CONNECTION_LOST[code];
  if (lost != null) {
    return phase === "before-response"
      ? upstream("ServiceUnavailable", origin, lost, code, error)
      : upstream("InternalError", origin, `${lost} mid-body`, code, error);
  }
  if (
    code === "UND_ERR_INVALID_ARG" ||
    code === "UND_ERR_NOT_SUPPORTED" ||
    code === "UND_ERR_REQ_CONTENT_LENGTH_MISMATCH"
  ) {
    // The request we were asked to send is unsendable: our bug, not the backend's.
    return new OspError("InternalError", {
      source: "proxy",
      message: `Request to backend ${safeOrigin(origin)} rejected by the HTTP client (${code})`,
      cause: error,
    });
  }
  return upstream("InternalError", origin, "request failed", code, error);
};
