// The one place where IAM answers and fetch failures become S3 error codes. A rejected API key is
// our configuration, not the client's fault: InternalError from the proxy, with a clear message
// for the operator. Messages are composed here; they never include the key, the token, or text
// IAM sent back (which might echo request data).
import { OspError } from "@osp/core";

/** IAM's own error codes look like `BXNIM0415E`; anything else is not copied into a message. */
const IAM_ERROR_CODE = /^[A-Z]{3,8}\d{3,6}[A-Z]?$/;

/** Extracts IAM's `errorCode` from an error body when it has the documented shape. */
export const iamErrorCode = (bodyText: string): string | undefined => {
  try {
    const parsed = JSON.parse(bodyText) as { errorCode?: unknown } | null;
    const code = parsed?.errorCode;
    return typeof code === "string" && IAM_ERROR_CODE.test(code) ? code : undefined;
  } catch {
    return undefined;
  }
};

/**
 * Maps a non-2xx IAM answer:
 *
 * | IAM status | code | source |
 * |---|---|---|
 * | 400, 401, 403 (API key unknown, disabled or malformed) | InternalError | proxy |
 * | 429 | SlowDown | upstream |
 * | other 4xx (wrong token URL, …) | InternalError | proxy |
 * | 5xx | ServiceUnavailable | upstream |
 */
export const fromIamStatus = (status: number, bodyText: string): OspError => {
  const iamCode = iamErrorCode(bodyText);
  const suffix = iamCode == null ? `HTTP ${status}` : `HTTP ${status}, ${iamCode}`;
  if (status === 400 || status === 401 || status === 403) {
    return new OspError("InternalError", {
      source: "proxy",
      message: `IBM Cloud IAM rejected the configured API key (${suffix}); check the bucket's API key`,
    });
  }
  if (status === 429) {
    return new OspError("SlowDown", {
      source: "upstream",
      message: `IBM Cloud IAM is throttling token requests (${suffix})`,
    });
  }
  if (status >= 500) {
    return new OspError("ServiceUnavailable", {
      source: "upstream",
      message: `IBM Cloud IAM is unavailable (${suffix})`,
    });
  }
  return new OspError("InternalError", {
    source: "proxy",
    message: `IBM Cloud IAM refused the token request (${suffix}); check the token URL`,
  });
};

/** Network codes worth naming in a message (from `fetch`'s `cause`). */
const networkCode = (error: unknown): string | undefined => {
  for (let current = error, depth = 0; current != null && depth < 4; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && /^[A-Z][A-Z0-9_]{1,40}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
};

/**
 * Maps a `fetch` that threw: timeout, connection failure, DNS, TLS… all retryable 503s. The
 * original error is not attached as `cause`: an injected `fetch` could describe the request,
 * form body (and so the API key) included, and causes end up in logs.
 */
export const fromFetchFailure = (
  error: unknown,
  timedOut: boolean,
  timeoutMs: number,
): OspError => {
  if (timedOut) {
    return new OspError("ServiceUnavailable", {
      source: "upstream",
      message: `IBM Cloud IAM did not answer within ${timeoutMs} ms`,
    });
  }
  const code = networkCode(error);
  return new OspError("ServiceUnavailable", {
    source: "upstream",
    message: `IBM Cloud IAM is unreachable${code == null ? "" : ` (${code})`}`,
  });
};

/** A 2xx answer that is not a usable token. */
export const malformedAnswer = (what: string): OspError =>
  new OspError("InternalError", {
    source: "upstream",
    message: `IBM Cloud IAM answered with a malformed token response: ${what}`,
  });
