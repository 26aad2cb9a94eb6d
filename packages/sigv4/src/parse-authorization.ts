import { canonicalHeaderValue, canonicalQueryPairs } from "./canonical.ts";
import {
  ALGORITHM,
  MAX_PRESIGN_EXPIRES_SECONDS,
  STREAMING_SIGNED_PAYLOAD,
  STREAMING_SIGNED_PAYLOAD_TRAILER,
  STREAMING_UNSIGNED_PAYLOAD_TRAILER,
  UNSIGNED_PAYLOAD,
} from "./constants.ts";
import { SigV4Error } from "./errors.ts";
import type { CredentialScope, PayloadMode, RawRequest } from "./types.ts";

/** What an `Authorization` header or a presigned query claims, before any check of the signature. @public */
export interface ParsedAuthorization {
  /** `header`: `Authorization: AWS4-HMAC-SHA256 …`; `query`: a presigned URL. */
  kind: "header" | "query";
  accessKeyId: string;
  scope: CredentialScope;
  /** Lower-case names, in the order the client listed them. */
  signedHeaders: string[];
  /** 64 hex digits, as sent. */
  signature: string;
  /** `YYYYMMDDTHHMMSSZ`: `x-amz-date`, else the `Date` header (header auth), or `X-Amz-Date`. */
  amzDate: string;
  /** `X-Amz-Expires` (query auth only). */
  expiresInSeconds?: number;
  /** `x-amz-security-token` / `X-Amz-Security-Token`. */
  sessionToken?: string;
  /** The literal payload line of the canonical request. */
  payloadHash: string;
  payloadMode: PayloadMode;
}

/** Options of {@link parseAuthorization}. @public */
export interface ParseOptions {
  /**
   * The payload hash to assume when the request states none. Default: none, which is S3's rule
   * (header auth without `x-amz-content-sha256` → `MissingSecurityHeader`; presigned →
   * `UNSIGNED-PAYLOAD`). Generic SigV4 services sign the body hash without sending it.
   */
  readonly defaultPayloadHash?: string;
}

const PAYLOAD_MODES: ReadonlyMap<string, PayloadMode> = new Map([
  [UNSIGNED_PAYLOAD, "unsigned"],
  [STREAMING_SIGNED_PAYLOAD, "streaming-signed"],
  [STREAMING_SIGNED_PAYLOAD_TRAILER, "streaming-signed-trailer"],
  [STREAMING_UNSIGNED_PAYLOAD_TRAILER, "streaming-unsigned-trailer"],
]);
const SDK_AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^\s,]+), ?SignedHeaders=([^\s,]+), ?Signature=([0-9a-fA-F]{64})$/;
const HEX_DIGIT = new Uint8Array(128);
for (const char of "0123456789abcdefABCDEF") HEX_DIGIT[char.charCodeAt(0)] = 1;

/** 64 hex digits (either case): a SHA-256 or a signature. */
const isHex64 = (text: string): boolean => {
  if (text.length !== 64) return false;
  for (let index = 0; index < 64; index++) {
    const code = text.charCodeAt(index);
    if (code >= 128 || HEX_DIGIT[code] !== 1) return false;
  }
  return true;
};
const GREGORIAN_CYCLE_MS = 146_097 * 24 * 60 * 60 * 1000;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const HTTP_DATE =
  /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;

/** Optional whitespace around the commas of the Authorization value: SP or HTAB. */
const isOws = (code: number): boolean => code === 0x20 || code === 0x09;

const headerError = (message: string): SigV4Error =>
  new SigV4Error("AuthorizationHeaderMalformed", message);
const queryError = (message: string): SigV4Error =>
  new SigV4Error("AuthorizationQueryParametersError", message);

/**
 * Epoch milliseconds of a `YYYYMMDDTHHMMSSZ` timestamp, or `undefined` when it is not one or
 * names an impossible date (`20130231…`).
 * @internal
 */
export const parseAmzDate = (amzDate: string): number | undefined => {
  if (
    amzDate.length !== 16 ||
    amzDate.charCodeAt(8) !== 0x54 /* T */ ||
    amzDate.charCodeAt(15) !== 0x5a /* Z */
  ) {
    return undefined;
  }
  return utcOrUndefined(
    digitsAt(amzDate, 0, 4),
    digitsAt(amzDate, 4, 6),
    digitsAt(amzDate, 6, 8),
    digitsAt(amzDate, 9, 11),
    digitsAt(amzDate, 11, 13),
    digitsAt(amzDate, 13, 15),
  );
};

/** The decimal number in `text[from, to)`, or -1 when a character is not a digit. */
const digitsAt = (text: string, from: number, to: number): number => {
  let value = 0;
  for (let index = from; index < to; index++) {
    const digit = text.charCodeAt(index) - 0x30;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
};

const utcOrUndefined = (
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
): number | undefined => {
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23) return undefined;
  if (minute < 0 || minute > 59 || second < 0 || second > 59) return undefined;
  // Date.UTC would roll 31 April over into May: refuse days the month does not have.
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!)) return undefined;
  // Date.UTC reads years 0–99 as 1900–1999; shift by one exact 400-year Gregorian cycle.
  if (year < 100) {
    return Date.UTC(year + 400, month - 1, day, hour, minute, second) - GREGORIAN_CYCLE_MS;
  }
  return Date.UTC(year, month - 1, day, hour, minute, second);
};

/** `YYYYMMDDTHHMMSSZ` of an IMF-fixdate `Date` header value, or undefined. */
const httpDateToAmzDate = (value: string): string | undefined => {
  const match = HTTP_DATE.exec(value);
  if (match == null) return undefined;
  const month = String(MONTHS.indexOf(match[2]!) + 1).padStart(2, "0");
  const [, day, , year, hour, minute, second] = match as unknown as string[];
  const amzDate = `${year}${month}${day}T${hour}${minute}${second}Z`;
  return parseAmzDate(amzDate) === undefined ? undefined : amzDate;
};

/** Maps an `x-amz-content-sha256` value to its mode, or throws the S3 error for a bad value. */
const payloadModeOf = (value: string, kind: "header" | "query"): PayloadMode => {
  if (isHex64(value)) return "sha256";
  const mode = PAYLOAD_MODES.get(value);
  if (mode !== undefined) return mode;
  if (value.startsWith("STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD")) {
    throw new SigV4Error("InvalidRequest", "SigV4a (ECDSA) streaming payloads are not supported.");
  }
  const message = "must be UNSIGNED-PAYLOAD, a STREAMING- value or a 64-digit hex SHA-256.";
  if (kind === "query") throw queryError(`X-Amz-Content-Sha256 ${message}`);
  throw new SigV4Error("InvalidArgument", `x-amz-content-sha256 ${message}`, {
    ArgumentName: "x-amz-content-sha256",
  });
};

/**
 * `<key>/<yyyymmdd>/<region>/<service>/aws4_request` → access key and scope. Returns an error
 * message instead of throwing so each caller raises its own code.
 */
const parseCredential = (
  credential: string,
): { accessKeyId: string; scope: CredentialScope } | string => {
  const first = credential.indexOf("/");
  const second = first < 0 ? -1 : credential.indexOf("/", first + 1);
  const third = second < 0 ? -1 : credential.indexOf("/", second + 1);
  const fourth = third < 0 ? -1 : credential.indexOf("/", third + 1);
  if (fourth < 0 || credential.indexOf("/", fourth + 1) >= 0) {
    return "The Credential must have the form <key>/<date>/<region>/<service>/aws4_request.";
  }
  const date = credential.slice(first + 1, second);
  const terminal = credential.slice(fourth + 1);
  if (first === 0) return "The Credential has an empty access key.";
  if (date.length !== 8 || parseAmzDate(`${date}T000000Z`) === undefined) {
    return `The Credential date '${date}' is not YYYYMMDD.`;
  }
  if (third === second + 1) return "The Credential has an empty region.";
  if (fourth === third + 1) return "The Credential has an empty service.";
  if (terminal !== "aws4_request") {
    return `The Credential has an incorrect terminal '${terminal}'; expected 'aws4_request'.`;
  }
  return {
    accessKeyId: credential.slice(0, first),
    scope: {
      date,
      region: credential.slice(second + 1, third),
      service: credential.slice(third + 1, fourth),
    },
  };
};

/** Lower-case RFC 9110 token characters, the only ones a signed header name may have. */
const TOKEN_CHAR = new Uint8Array(128);
for (const char of "abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+.^_`|~-") {
  TOKEN_CHAR[char.charCodeAt(0)] = 1;
}
const isLowerToken = (name: string): boolean => {
  if (name === "") return false;
  for (let index = 0; index < name.length; index++) {
    const code = name.charCodeAt(index);
    if (code >= 128 || TOKEN_CHAR[code] !== 1) return false;
  }
  return true;
};

/**
 * A client sends the same Credential and SignedHeaders strings on every request of a day, so
 * their parses are memoised. Bounded in entries and key length, so attacker-chosen strings
 * cannot grow it. Cached scopes are frozen and header lists are copied out, so no caller can alter an entry.
 */
const MEMO_LIMIT = 256;
interface Memo<T> {
  readonly entries: Map<string, T>;
  // The last hit: comparing two equal strings is cheaper than hashing a fresh one.
  lastKey: string | undefined;
  lastValue: T | undefined;
}
const createMemo = <T>(): Memo<T> => ({
  entries: new Map(),
  lastKey: undefined,
  lastValue: undefined,
});
const MEMO_MAX_KEY_LENGTH = 512;
const memoGet = <T>(memo: Memo<T>, key: string, compute: (key: string) => T): T => {
  if (key === memo.lastKey) return memo.lastValue!;
  // Real values are short; an oversized one is parsed but never retained.
  if (key.length > MEMO_MAX_KEY_LENGTH) return compute(key);
  let value = memo.entries.get(key);
  if (value === undefined) {
    value = compute(key);
    if (memo.entries.size >= MEMO_LIMIT) memo.entries.clear();
    memo.entries.set(key, value);
  }
  memo.lastKey = key;
  memo.lastValue = value;
  return value;
};
const credentialMemo = createMemo<ReturnType<typeof parseCredential>>();
const signedHeadersMemo = createMemo<ReadonlyArray<string> | string>();

const parseCredentialMemo = (credential: string) =>
  memoGet(credentialMemo, credential, (text) => {
    const parsed = parseCredential(text);
    if (typeof parsed !== "string") Object.freeze(parsed.scope);
    return parsed;
  });

const parseSignedHeadersMemo = (list: string): string[] | string => {
  const parsed = memoGet(signedHeadersMemo, list, parseSignedHeaders);
  return typeof parsed === "string" ? parsed : parsed.slice();
};

/** Splits `a;b;c` and checks each name; returns an error message on failure. */
const parseSignedHeaders = (list: string): string[] | string => {
  const names = list.split(";");
  // A Set keeps the duplicate check linear however long an attacker makes the list.
  const seen = new Set<string>();
  for (const name of names) {
    if (!isLowerToken(name)) return `SignedHeaders contains an invalid name '${name}'.`;
    if (seen.has(name)) return `SignedHeaders lists '${name}' twice.`;
    seen.add(name);
  }
  return names;
};

interface HeaderScan {
  authorization: string | undefined;
  authorizationCount: number;
  amzDate: string | undefined;
  amzDateCount: number;
  date: string | undefined;
  contentSha256: string | undefined;
  securityToken: string | undefined;
}

const joinValue = (current: string | undefined, value: string): string =>
  current === undefined ? canonicalHeaderValue(value) : `${current},${canonicalHeaderValue(value)}`;

const scanHeaders = (headers: RawRequest["headers"]): HeaderScan => {
  // Every field set up front: one object shape for every request.
  const scan: HeaderScan = {
    authorization: undefined,
    authorizationCount: 0,
    amzDate: undefined,
    amzDateCount: 0,
    date: undefined,
    contentSha256: undefined,
    securityToken: undefined,
  };
  for (let index = 0; index < headers.length; index++) {
    // Indexed, not destructured: this loop runs for every header of every request.
    const rawName = headers[index]![0];
    const value = headers[index]![1];
    // Fast reject by length: date (4), x-amz-date (10), authorization (13), x-amz-content-sha256
    // and x-amz-security-token (20). Most headers are never lower-cased.
    const length = rawName.length;
    if (length !== 4 && length !== 10 && length !== 13 && length !== 20) continue;
    switch (rawName.toLowerCase()) {
      case "authorization":
        scan.authorization = value.trim();
        scan.authorizationCount++;
        break;
      case "x-amz-date":
        scan.amzDate = value.trim();
        scan.amzDateCount++;
        break;
      case "date":
        scan.date = joinValue(scan.date, value);
        break;
      case "x-amz-content-sha256":
        scan.contentSha256 = joinValue(scan.contentSha256, value);
        break;
      case "x-amz-security-token":
        scan.securityToken = joinValue(scan.securityToken, value);
        break;
    }
  }
  return scan;
};

/** `Credential=…, SignedHeaders=…, Signature=…` in any order, each exactly once. */
const parseHeaderAuthorization = (
  value: string,
  scan: HeaderScan,
  options: ParseOptions | undefined,
): ParsedAuthorization => {
  const space = value.indexOf(" ");
  const algorithm = space < 0 ? value : value.slice(0, space);
  if (algorithm === "AWS") {
    throw new SigV4Error(
      "InvalidRequest",
      "Signature Version 2 is not supported; sign requests with AWS4-HMAC-SHA256.",
    );
  }
  if (algorithm !== ALGORITHM) {
    throw headerError(`Unsupported authorization algorithm; only ${ALGORITHM} is accepted.`);
  }
  let credential: string | undefined;
  let signedHeaderList: string | undefined;
  let signature: string | undefined;
  // Fast path: the layout every AWS SDK sends, matched (and the signature checked) in one go.
  const canonical = SDK_AUTHORIZATION.exec(value);
  if (canonical != null) {
    credential = canonical[1]!;
    signedHeaderList = canonical[2]!;
    signature = canonical[3]!;
  }
  // One pass over "Credential=…, SignedHeaders=…, Signature=…" (any order, OWS around commas).
  const length = value.length;
  let position = canonical == null ? space + 1 : length + 1;
  while (position <= length) {
    let end = value.indexOf(",", position);
    if (end < 0) end = length;
    let start = position;
    while (start < end && isOws(value.charCodeAt(start))) start++;
    let stop = end;
    while (stop > start && isOws(value.charCodeAt(stop - 1))) stop--;
    const equals = value.indexOf("=", start);
    if (equals < 0 || equals >= stop) {
      // Not echoed: the text may be a (bare) signature.
      throw headerError("The Authorization header has a component without '='.");
    }
    const partValue = value.slice(equals + 1, stop);
    const keyLength = equals - start;
    if (keyLength === 10 && credential === undefined && value.startsWith("Credential", start)) {
      credential = partValue;
    } else if (
      keyLength === 13 &&
      signedHeaderList === undefined &&
      value.startsWith("SignedHeaders", start)
    ) {
      signedHeaderList = partValue;
    } else if (keyLength === 9 && signature === undefined && value.startsWith("Signature", start)) {
      signature = partValue;
    } else {
      throw headerError(
        `The Authorization header has an unexpected or repeated '${value.slice(start, equals)}'.`,
      );
    }
    position = end + 1;
  }
  if (credential === undefined || signedHeaderList === undefined || signature === undefined) {
    throw headerError("The Authorization header requires Credential, SignedHeaders and Signature.");
  }
  const parsedCredential = parseCredentialMemo(credential);
  if (typeof parsedCredential === "string") throw headerError(parsedCredential);
  const signedHeaders = parseSignedHeadersMemo(signedHeaderList);
  if (typeof signedHeaders === "string") throw headerError(signedHeaders);
  if (canonical == null && !isHex64(signature)) {
    throw headerError("The Signature must be 64 hex digits.");
  }

  let amzDate: string | undefined;
  if (scan.amzDateCount > 1) amzDate = undefined;
  else if (scan.amzDate !== undefined) {
    amzDate = parseAmzDate(scan.amzDate) === undefined ? undefined : scan.amzDate;
  } else if (scan.date !== undefined) amzDate = httpDateToAmzDate(scan.date);
  if (amzDate === undefined) {
    throw new SigV4Error(
      "AccessDenied",
      "AWS authentication requires a valid Date or x-amz-date header.",
    );
  }
  const payloadHash = scan.contentSha256 ?? options?.defaultPayloadHash;
  if (payloadHash === undefined) {
    throw new SigV4Error(
      "MissingSecurityHeader",
      "Your request is missing the required header x-amz-content-sha256.",
      { MissingHeaderName: "x-amz-content-sha256" },
    );
  }
  const payloadMode = payloadModeOf(payloadHash, "header");
  return {
    kind: "header",
    accessKeyId: parsedCredential.accessKeyId,
    scope: parsedCredential.scope,
    signedHeaders,
    signature,
    amzDate,
    expiresInSeconds: undefined,
    sessionToken: scan.securityToken,
    payloadHash,
    payloadMode,
  };
};

const decodeParam = (name: string, encoded: string): string => {
  try {
    return decodeURIComponent(encoded);
  } catch {
    throw queryError(`The ${name} parameter is not valid UTF-8.`);
  }
};

const REQUIRED_QUERY_PARAMS = [
  "X-Amz-Algorithm",
  "X-Amz-Credential",
  "X-Amz-Date",
  "X-Amz-Expires",
  "X-Amz-SignedHeaders",
  "X-Amz-Signature",
];
const QUERY_AUTH_NAMES = new Set([
  ...REQUIRED_QUERY_PARAMS,
  "X-Amz-Security-Token",
  "X-Amz-Content-Sha256",
]);

const parseQueryAuthorization = (
  params: ReadonlyMap<string, string>,
  scan: HeaderScan,
  options: ParseOptions | undefined,
): ParsedAuthorization => {
  for (const name of REQUIRED_QUERY_PARAMS) {
    if (!params.has(name)) {
      throw queryError(
        "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
      );
    }
  }
  if (params.get("X-Amz-Algorithm") !== ALGORITHM) {
    throw queryError(`X-Amz-Algorithm only supports "${ALGORITHM}".`);
  }
  const parsedCredential = parseCredentialMemo(params.get("X-Amz-Credential")!);
  if (typeof parsedCredential === "string") {
    throw queryError(`Error parsing the X-Amz-Credential parameter. ${parsedCredential}`);
  }
  const amzDate = params.get("X-Amz-Date")!;
  if (parseAmzDate(amzDate) === undefined) {
    throw queryError("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\".");
  }
  const expiresText = params.get("X-Amz-Expires")!;
  const expiresInSeconds = /^\d{1,7}$/.test(expiresText) ? Number(expiresText) : Number.NaN;
  if (!(expiresInSeconds >= 1)) {
    throw queryError("X-Amz-Expires must be a non-negative integer of at least 1 second.");
  }
  if (expiresInSeconds > MAX_PRESIGN_EXPIRES_SECONDS) {
    throw queryError("X-Amz-Expires must be less than a week (in seconds) that is 604800.");
  }
  const signedHeaders = parseSignedHeadersMemo(params.get("X-Amz-SignedHeaders")!);
  if (typeof signedHeaders === "string") throw queryError(signedHeaders);
  const signature = params.get("X-Amz-Signature")!;
  if (!isHex64(signature)) throw queryError("X-Amz-Signature must be 64 hex digits.");

  // The payload line: the signed query parameter, else a signed header, else UNSIGNED-PAYLOAD.
  let payloadHash = params.get("X-Amz-Content-Sha256");
  if (payloadHash === undefined && scan.contentSha256 !== undefined) {
    if (signedHeaders.includes("x-amz-content-sha256")) payloadHash = scan.contentSha256;
  }
  payloadHash ??= options?.defaultPayloadHash ?? UNSIGNED_PAYLOAD;
  const payloadMode = payloadModeOf(payloadHash, "query");
  const sessionToken = params.get("X-Amz-Security-Token");
  return {
    kind: "query",
    accessKeyId: parsedCredential.accessKeyId,
    scope: parsedCredential.scope,
    signedHeaders,
    signature,
    amzDate,
    expiresInSeconds,
    sessionToken,
    payloadHash,
    payloadMode,
  };
};

/**
 * The decoded presign/SigV2 auth parameters of a raw query, or undefined when there are none.
 * Names are compared after decoding, so `X%2DAmz-Signature` counts too.
 */
const authQueryParams = (
  rawQuery: string,
): { params: Map<string, string>; sigV2: boolean } | undefined => {
  // Fast path: no auth parameter can hide in a query without these substrings.
  if (
    rawQuery === "" ||
    (!rawQuery.includes("X-Amz-") &&
      !rawQuery.includes("%") &&
      !rawQuery.includes("AWSAccessKeyId"))
  ) {
    return undefined;
  }
  const params = new Map<string, string>();
  let sigV2 = false;
  for (const pair of canonicalQueryPairs(rawQuery)) {
    if (pair.name === "AWSAccessKeyId") sigV2 = true;
    if (!QUERY_AUTH_NAMES.has(pair.name)) continue;
    if (params.has(pair.name)) throw queryError(`The ${pair.name} parameter appears twice.`);
    params.set(pair.name, decodeParam(pair.name, pair.value));
  }
  const presigned =
    params.has("X-Amz-Algorithm") ||
    params.has("X-Amz-Credential") ||
    params.has("X-Amz-Signature");
  if (!presigned && !sigV2) return undefined;
  return { params, sigV2: sigV2 && !presigned };
};

/**
 * Reads the authentication a request claims, without checking the signature.
 *
 * Returns `undefined` for an anonymous request: no `Authorization` header and none of
 * `X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Signature` in the query.
 * @throws SigV4Error `InvalidRequest` (both forms at once, Signature V2, SigV4a streaming),
 * `AuthorizationHeaderMalformed` / `AuthorizationQueryParametersError` (bad syntax, unknown
 * algorithm, bad credential, expiry outside 1…604800 s), `AccessDenied` (no valid date for
 * header auth), `MissingSecurityHeader` (header auth without `x-amz-content-sha256`),
 * `InvalidArgument` (an `x-amz-content-sha256` value S3 does not know).
 * @public
 */
export const parseAuthorization = (
  request: RawRequest,
  options?: ParseOptions,
): ParsedAuthorization | undefined => {
  const scan = scanHeaders(request.headers);
  const query = authQueryParams(request.query);
  if (scan.authorizationCount > 0) {
    if (query !== undefined) {
      throw new SigV4Error(
        "InvalidRequest",
        "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified.",
      );
    }
    if (scan.authorizationCount > 1) {
      throw headerError("The request has more than one Authorization header.");
    }
    return parseHeaderAuthorization(scan.authorization!, scan, options);
  }
  if (query === undefined) return undefined;
  if (query.sigV2) {
    throw new SigV4Error(
      "InvalidRequest",
      "Signature Version 2 is not supported; sign requests with AWS4-HMAC-SHA256.",
    );
  }
  return parseQueryAuthorization(query.params, scan, options);
};
