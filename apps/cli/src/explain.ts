// `osp verify`'s analysis: every check a SigV4 verifier makes, each with its own verdict, plus
// the canonical request and string to sign the verifier expects, the way S3 explains a
// SignatureDoesNotMatch. The final verdict is @osp/sigv4's verifyRequestWithSecret; the checks
// only say which part failed and why.
import { createHash } from "node:crypto";
import {
  EMPTY_SHA256,
  MAX_CLOCK_SKEW_MS,
  MAX_PRESIGN_EXPIRES_SECONDS,
  SigV4Error,
  calculateSignature,
  canonicalHeaders,
  canonicalQuery,
  canonicalRequest,
  canonicalUri,
  deriveSigningKey,
  parseAuthorization,
  stringToSign,
  timingSafeEqual,
  verifyRequestWithSecret,
  type ParsedAuthorization,
} from "@osp/sigv4";
import { nodeCryptoProvider } from "@osp/sigv4/node";
import type { WireRequest } from "./raw-http.ts";

/** One check: passed, failed, or not applicable / not possible with what was given. */
export interface Check {
  readonly name:
    | "authorization"
    | "scope"
    | "time"
    | "signed headers"
    | "signature"
    | "payload"
    | "verifier";
  readonly result: "pass" | "fail" | "skip";
  readonly detail: string;
}

/** What `osp verify` found. Holds no secret and no calculated signature. */
export interface VerifyReport {
  readonly valid: boolean;
  /** The S3 error a server would answer with, when invalid. */
  readonly error?: { readonly code: string; readonly message: string };
  readonly parsed?: ParsedAuthorization;
  readonly checks: readonly Check[];
  readonly canonicalRequest?: string;
  readonly stringToSign?: string;
  /** Request time, epoch ms. */
  readonly requestTimeMs?: number;
  /** Server time minus request time, ms (positive: the request is older than now). */
  readonly skewMs?: number;
  readonly maxSkewMs: number;
  readonly nowMs: number;
}

/** Options of {@link explainRequest}. */
export interface ExplainOptions {
  readonly now: number;
  readonly maxSkewMs?: number;
}

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** Epoch ms of `YYYYMMDDTHHMMSSZ`, or undefined. */
export const amzDateMs = (amzDate: string): number | undefined => {
  const match = AMZ_DATE.exec(amzDate);
  if (match == null) return undefined;
  const [, year, month, day, hour, minute, second] = match.map(Number) as [number, ...number[]];
  const ms = Date.UTC(year!, month! - 1, day!, hour!, minute!, second!);
  return new Date(ms).getUTCDate() === day ? ms : undefined;
};

const seconds = (ms: number): string => {
  const abs = Math.abs(ms) / 1000;
  if (abs < 120) return `${Math.round(abs)}s`;
  if (abs < 7200) return `${Math.round(abs / 60)}m`;
  if (abs < 172_800) return `${(abs / 3600).toFixed(1)}h`;
  return `${(abs / 86_400).toFixed(1)}d`;
};

/** "5s behind", "3m ahead", "in sync". */
export const describeSkew = (skewMs: number): string =>
  Math.abs(skewMs) < 1000
    ? "in sync"
    : skewMs > 0
      ? `the request is ${seconds(skewMs)} older than now`
      : `the request is ${seconds(skewMs)} in the future`;

const headerValue = (request: WireRequest, lowerName: string): string | undefined =>
  request.headers.find(([name]) => name.toLowerCase() === lowerName)?.[1];

const timeCheck = (
  parsed: ParsedAuthorization,
  now: number,
  maxSkewMs: number,
  requestTimeMs: number | undefined,
): Check => {
  if (requestTimeMs == null) {
    return {
      name: "time",
      result: "fail",
      detail: `"${parsed.amzDate}" is not a valid YYYYMMDDTHHMMSSZ timestamp`,
    };
  }
  const skewMs = now - requestTimeMs;
  if (parsed.kind === "header") {
    return Math.abs(skewMs) <= maxSkewMs
      ? {
          name: "time",
          result: "pass",
          detail: `${describeSkew(skewMs)}; allowed ±${seconds(maxSkewMs)}`,
        }
      : {
          name: "time",
          result: "fail",
          detail: `${describeSkew(skewMs)}; S3 refuses more than ±${seconds(maxSkewMs)} (RequestTimeTooSkewed)`,
        };
  }
  const expires = parsed.expiresInSeconds;
  if (
    expires == null ||
    !Number.isInteger(expires) ||
    expires < 1 ||
    expires > MAX_PRESIGN_EXPIRES_SECONDS
  ) {
    return {
      name: "time",
      result: "fail",
      detail: `X-Amz-Expires must be 1 to ${MAX_PRESIGN_EXPIRES_SECONDS} seconds`,
    };
  }
  const expiresAt = requestTimeMs + expires * 1000;
  if (requestTimeMs - now > maxSkewMs) {
    return {
      name: "time",
      result: "fail",
      detail: `signed ${seconds(-skewMs)} in the future (RequestTimeTooSkewed)`,
    };
  }
  if (now > expiresAt) {
    return {
      name: "time",
      result: "fail",
      detail: `expired ${seconds(now - expiresAt)} ago at ${new Date(expiresAt).toISOString()} (X-Amz-Expires=${expires})`,
    };
  }
  return {
    name: "time",
    result: "pass",
    detail: `valid until ${new Date(expiresAt).toISOString()} (${seconds(expiresAt - now)} left of X-Amz-Expires=${expires})`,
  };
};

const signedHeadersCheck = (request: WireRequest, parsed: ParsedAuthorization): Check => {
  const signed = parsed.signedHeaders;
  const problems: string[] = [];
  if (!signed.includes("host")) problems.push("host is not signed");
  const present = new Set(request.headers.map(([name]) => name.toLowerCase()));
  const unsigned = [...present].filter(
    (name) =>
      name.startsWith("x-amz-") &&
      !signed.includes(name) &&
      !(parsed.kind === "query" && name === "x-amz-content-sha256"),
  );
  if (unsigned.length > 0) problems.push(`present but not signed: ${unsigned.join(", ")}`);
  const missing = signed.filter((name) => !present.has(name));
  if (missing.length > 0)
    problems.push(`signed but missing from the request: ${missing.join(", ")}`);
  return problems.length === 0
    ? {
        name: "signed headers",
        result: "pass",
        detail: `host and every x-amz-* header are signed (${signed.join(";")})`,
      }
    : { name: "signed headers", result: "fail", detail: problems.join("; ") };
};

const payloadCheck = (request: WireRequest, parsed: ParsedAuthorization): Check => {
  switch (parsed.payloadMode) {
    case "unsigned":
      return {
        name: "payload",
        result: "skip",
        detail: "UNSIGNED-PAYLOAD: the body is not covered by the signature",
      };
    case "sha256": {
      if (!request.hasBody) {
        const empty = parsed.payloadHash.toLowerCase() === EMPTY_SHA256;
        return {
          name: "payload",
          result: "skip",
          detail: empty
            ? "empty body declared; no body given"
            : "no body given: the declared hash was not checked",
        };
      }
      const actual = createHash("sha256").update(request.body).digest("hex");
      return actual === parsed.payloadHash.toLowerCase()
        ? {
            name: "payload",
            result: "pass",
            detail: `the body (${request.body.length} bytes) matches x-amz-content-sha256`,
          }
        : {
            name: "payload",
            result: "fail",
            detail: `x-amz-content-sha256 is ${parsed.payloadHash} but the body (${request.body.length} bytes) hashes to ${actual} (XAmzContentSHA256Mismatch)`,
          };
    }
    default:
      return {
        name: "payload",
        result: "skip",
        detail: `${parsed.payloadHash}: aws-chunked chunk signatures are not checked by osp verify`,
      };
  }
};

/**
 * Verifies `request` with `secret` and explains the outcome check by check.
 * Never returns the secret or a calculated signature.
 */
export const explainRequest = (
  request: WireRequest,
  secret: string,
  options: ExplainOptions,
): VerifyReport => {
  const now = options.now;
  const maxSkewMs = options.maxSkewMs ?? MAX_CLOCK_SKEW_MS;
  const base = { maxSkewMs, nowMs: now };
  let parsed: ParsedAuthorization | undefined;
  try {
    parsed = parseAuthorization(request);
  } catch (error) {
    const { code, message } = SigV4Error.is(error)
      ? error
      : { code: "InvalidRequest", message: String(error) };
    return {
      ...base,
      valid: false,
      error: { code, message },
      checks: [{ name: "authorization", result: "fail", detail: message }],
    };
  }
  if (parsed == null) {
    const message =
      "The request is not signed: no Authorization header and no X-Amz-Signature query parameter.";
    return {
      ...base,
      valid: false,
      error: { code: "AccessDenied", message },
      checks: [{ name: "authorization", result: "fail", detail: message }],
    };
  }

  const crypto = nodeCryptoProvider;
  const checks: Check[] = [];
  const scopeProblems: string[] = [];
  if (parsed.scope.service !== "s3")
    scopeProblems.push(`service is "${parsed.scope.service}", S3 expects "s3"`);
  if (parsed.scope.date !== parsed.amzDate.slice(0, 8)) {
    scopeProblems.push(
      `scope date ${parsed.scope.date} differs from the request date ${parsed.amzDate.slice(0, 8)}`,
    );
  }
  checks.push(
    scopeProblems.length === 0
      ? {
          name: "scope",
          result: "pass",
          detail: `${parsed.scope.date}/${parsed.scope.region}/${parsed.scope.service}/aws4_request`,
        }
      : { name: "scope", result: "fail", detail: scopeProblems.join("; ") },
  );
  const requestTimeMs = amzDateMs(parsed.amzDate);
  checks.push(timeCheck(parsed, now, maxSkewMs, requestTimeMs));
  checks.push(signedHeadersCheck(request, parsed));

  const expectedCanonicalRequest = canonicalRequest({
    method: request.method,
    canonicalUri: canonicalUri(request.path),
    canonicalQuery: canonicalQuery(
      request.query,
      parsed.kind === "query" ? { exclude: ["X-Amz-Signature"] } : undefined,
    ),
    canonicalHeaders: canonicalHeaders(request.headers, parsed.signedHeaders),
    signedHeaders: parsed.signedHeaders,
    payloadHash: parsed.payloadHash,
  });
  const expectedStringToSign = stringToSign(
    parsed.amzDate,
    parsed.scope,
    expectedCanonicalRequest,
    crypto,
  );
  const signature = calculateSignature(
    deriveSigningKey(secret, parsed.scope, crypto),
    expectedStringToSign,
    crypto,
  );
  const signatureMatches = timingSafeEqual(signature, parsed.signature.toLowerCase());
  checks.push(
    signatureMatches
      ? {
          name: "signature",
          result: "pass",
          detail: "the signature matches the one calculated with the secret",
        }
      : {
          name: "signature",
          result: "fail",
          detail:
            "the signature calculated with the secret differs from the one provided (SignatureDoesNotMatch)",
        },
  );
  checks.push(payloadCheck(request, parsed));

  // The library's verdict decides; the checks above only explain it.
  let error: { code: string; message: string } | undefined;
  try {
    verifyRequestWithSecret(request, secret, { now, maxSkewMs, parsed, crypto });
  } catch (failure) {
    error = SigV4Error.is(failure)
      ? { code: failure.code, message: failure.message }
      : { code: "InternalError", message: String(failure) };
    if (!checks.some((check) => check.result === "fail")) {
      checks.push({ name: "verifier", result: "fail", detail: `${error.code}: ${error.message}` });
    }
  }
  const payload = checks.find((check) => check.name === "payload");
  if (error == null && payload?.result === "fail") {
    error = {
      code: "XAmzContentSHA256Mismatch",
      message: "The provided 'x-amz-content-sha256' header does not match what was computed.",
    };
  }
  return {
    ...base,
    valid: error == null,
    ...(error != null ? { error } : {}),
    parsed,
    checks,
    canonicalRequest: expectedCanonicalRequest,
    stringToSign: expectedStringToSign,
    ...(requestTimeMs != null ? { requestTimeMs, skewMs: now - requestTimeMs } : {}),
  };
};

/** The Host header of a request, for the report. */
export const hostOf = (request: WireRequest): string | undefined => headerValue(request, "host");
