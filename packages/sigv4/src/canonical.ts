// The pure building blocks of a SigV4 canonical request. Every stage is a public function so a
// failing signature can be traced to the stage that differs (vectors assert each one).
import { ALGORITHM } from "./constants.ts";
import { nobleCryptoProvider } from "./crypto.ts";
import { toHex, utf8 } from "./encoding.ts";
import { SigV4Error } from "./errors.ts";
import type { CredentialScope, CryptoProvider, RawRequest } from "./types.ts";

/** How the canonical URI is derived from the raw path. Both false (the default) is S3's rule. @public */
export interface UriOptions {
  /** Remove `.` and empty segments and resolve `..` (non-S3 services). Default false. */
  readonly normalize?: boolean;
  /**
   * Treat the raw path as already encoded and encode it again (non-S3 services). Default false:
   * decode once and encode once, so `/a%20b` stays `/a%20b`.
   */
  readonly doubleEncode?: boolean;
}

// "%XX" for every byte, and a flag per ASCII code for the SigV4 unreserved set A-Z a-z 0-9 - _ . ~
const PERCENT = Array.from(
  { length: 256 },
  (_, byte) => `%${byte.toString(16).toUpperCase().padStart(2, "0")}`,
);
const UNRESERVED = new Uint8Array(128);
for (let code = 0; code < 128; code++) {
  const char = String.fromCharCode(code);
  if (/[A-Za-z0-9\-_.~]/.test(char)) UNRESERVED[code] = 1;
}
const SLASH = 0x2f;
const PERCENT_SIGN = 0x25;

const hexValue = (code: number): number => {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
};

/** Appends the %XX form of the UTF-8 bytes of the code point at `text[index]`; returns the chars used. */
const encodeNonAscii = (text: string, index: number, parts: string[]): number => {
  const code = text.charCodeAt(index);
  let codePoint = code;
  let used = 1;
  if (code >= 0xd800 && code <= 0xdbff) {
    const next = text.charCodeAt(index + 1);
    if (next >= 0xdc00 && next <= 0xdfff) {
      codePoint = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
      used = 2;
    } else codePoint = -1;
  } else if (code >= 0xdc00 && code <= 0xdfff) codePoint = -1;
  // A lone surrogate has no UTF-8 form: nothing a client could have signed.
  if (codePoint < 0) throw new SigV4Error("InvalidRequest", "Text is not well-formed Unicode.");
  if (codePoint < 0x800) {
    parts.push(PERCENT[0xc0 | (codePoint >> 6)]!, PERCENT[0x80 | (codePoint & 0x3f)]!);
  } else if (codePoint < 0x10000) {
    parts.push(
      PERCENT[0xe0 | (codePoint >> 12)]!,
      PERCENT[0x80 | ((codePoint >> 6) & 0x3f)]!,
      PERCENT[0x80 | (codePoint & 0x3f)]!,
    );
  } else {
    parts.push(
      PERCENT[0xf0 | (codePoint >> 18)]!,
      PERCENT[0x80 | ((codePoint >> 12) & 0x3f)]!,
      PERCENT[0x80 | ((codePoint >> 6) & 0x3f)]!,
      PERCENT[0x80 | (codePoint & 0x3f)]!,
    );
  }
  return used;
};

/**
 * Shared encoder. `decodeFirst` decodes each `%XX` once before re-encoding, so the result is the
 * single encoding of the bytes the client meant (S3 path and every query component).
 * Returns the input itself when nothing changes, which is the common case for keys.
 */
const encode = (text: string, keepSlash: boolean, decodeFirst: boolean, what: string): string => {
  let parts: string[] | undefined;
  let runStart = 0;
  const length = text.length;
  for (let index = 0; index < length;) {
    const code = text.charCodeAt(index);
    if (code < 128 && (UNRESERVED[code] === 1 || (code === SLASH && keepSlash))) {
      index++;
      continue;
    }
    parts ??= [];
    if (runStart < index) parts.push(text.slice(runStart, index));
    if (code === PERCENT_SIGN && decodeFirst) {
      const high = hexValue(text.charCodeAt(index + 1));
      const low = hexValue(text.charCodeAt(index + 2));
      if (high < 0 || low < 0) {
        throw new SigV4Error("InvalidRequest", `The ${what} contains an invalid percent-encoding.`);
      }
      const byte = (high << 4) | low;
      parts.push(
        byte < 128 && (UNRESERVED[byte] === 1 || (byte === SLASH && keepSlash))
          ? String.fromCharCode(byte)
          : PERCENT[byte]!,
      );
      index += 3;
    } else if (code < 128) {
      parts.push(PERCENT[code]!);
      index++;
    } else {
      index += encodeNonAscii(text, index, parts);
    }
    runStart = index;
  }
  if (parts === undefined) return text;
  if (runStart < length) parts.push(text.slice(runStart));
  return parts.join("");
};

/**
 * SigV4 URI encoding of UTF-8 text: `A-Z a-z 0-9 - _ . ~` are kept, every other byte becomes
 * `%XX` with upper-case hex. `/` is encoded unless `encodeSlash` is false. `%` is data here:
 * this encodes, it never decodes.
 * @throws SigV4Error `InvalidRequest` for text that is not well-formed Unicode (lone surrogate).
 * @public
 */
export const uriEncode = (text: string, options?: { encodeSlash?: boolean }): string =>
  encode(text, options?.encodeSlash === false, false, "text");

/**
 * Decodes `%XX` escapes once and re-encodes with {@link uriEncode} rules. This is how every query
 * name and value and (with `keepSlash`) the S3 path are canonicalised; a literal `+` stays a plus.
 * @throws SigV4Error `InvalidRequest` on a `%` not followed by two hex digits.
 * @internal
 */
export const recodeComponent = (rawText: string, options?: { keepSlash?: boolean }): string =>
  encode(rawText, options?.keepSlash === true, true, "request");

const normalizePath = (encodedPath: string): string => {
  const kept: string[] = [];
  for (const segment of encodedPath.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") kept.pop();
    else kept.push(segment);
  }
  const trailingSlash = kept.length > 0 && encodedPath.endsWith("/");
  return `/${kept.join("/")}${trailingSlash ? "/" : ""}`;
};

/**
 * The canonical URI of a raw wire path.
 *
 * S3 (the default): decode once, re-encode once per segment, keep `/`, never normalise, so keys
 * with `//`, `.`, `..`, spaces, `+`, `%`, `=`, `:` or any Unicode verify exactly as the AWS SDKs
 * sign them. Other services: `doubleEncode` encodes the raw path again and `normalize` removes
 * dot and empty segments.
 * @throws SigV4Error `InvalidRequest` on an invalid percent-escape (S3 rule).
 * @public
 */
export const canonicalUri = (rawPath: string, options?: UriOptions): string => {
  if (rawPath === "") return "/";
  const encoded =
    options?.doubleEncode === true
      ? encode(rawPath, true, false, "path")
      : encode(rawPath, true, true, "path");
  return options?.normalize === true ? normalizePath(encoded) : encoded;
};

/** One query pair after decode-once/encode-once: the form used in the canonical query. @internal */
export interface CanonicalQueryPair {
  readonly name: string;
  readonly value: string;
}

/**
 * Splits a raw query into canonically encoded pairs, in wire order. Empty pieces (`a=1&&b=2`) are
 * skipped; a name without `=` has the empty value.
 * @throws SigV4Error `InvalidRequest` on an invalid percent-escape.
 * @internal
 */
export const canonicalQueryPairs = (rawQuery: string): CanonicalQueryPair[] => {
  const pairs: CanonicalQueryPair[] = [];
  if (rawQuery === "") return pairs;
  let start = 0;
  const length = rawQuery.length;
  // The next "=" at or after `start`, found once and reused across pieces: searching afresh for
  // every piece would rescan the rest of the query each time (quadratic on `?a&a&a…`).
  let nextEquals = rawQuery.indexOf("=");
  while (start <= length) {
    let end = rawQuery.indexOf("&", start);
    if (end < 0) end = length;
    if (end > start) {
      if (nextEquals >= 0 && nextEquals < start) nextEquals = rawQuery.indexOf("=", start);
      const equals = nextEquals;
      if (equals < 0 || equals > end) {
        pairs.push({ name: encode(rawQuery.slice(start, end), false, true, "query"), value: "" });
      } else {
        pairs.push({
          name: encode(rawQuery.slice(start, equals), false, true, "query"),
          value: encode(rawQuery.slice(equals + 1, end), false, true, "query"),
        });
      }
    }
    start = end + 1;
  }
  return pairs;
};

const comparePairs = (a: CanonicalQueryPair, b: CanonicalQueryPair): number => {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  if (a.value === b.value) return 0;
  return a.value < b.value ? -1 : 1;
};

/**
 * Joins canonical pairs sorted by encoded name, then encoded value (byte order: the encoded
 * forms are ASCII). `exclude` drops pairs by encoded name, e.g. `X-Amz-Signature`. Sorts
 * `pairs` in place: pass a fresh array.
 * @internal
 */
export const formatCanonicalQuery = (
  pairs: CanonicalQueryPair[],
  exclude?: ReadonlyArray<string>,
): string => {
  const kept =
    exclude === undefined || exclude.length === 0
      ? pairs
      : pairs.filter((pair) => !exclude.includes(pair.name));
  if (kept.length === 0) return "";
  if (kept.length === 1) return `${kept[0]!.name}=${kept[0]!.value}`;
  kept.sort(comparePairs);
  let out = `${kept[0]!.name}=${kept[0]!.value}`;
  for (let index = 1; index < kept.length; index++) {
    out += `&${kept[index]!.name}=${kept[index]!.value}`;
  }
  return out;
};

/**
 * The canonical query string of a raw query (no leading `?`): each name and value decoded once
 * (a literal `+` is a plus, not a space) and re-encoded, sorted by name then value; `a` becomes
 * `a=`. Names in `exclude` (compared in encoded form) are left out.
 * @throws SigV4Error `InvalidRequest` on an invalid percent-escape.
 * @public
 */
export const canonicalQuery = (
  rawQuery: string,
  options?: { exclude?: ReadonlyArray<string> },
): string => formatCanonicalQuery(canonicalQueryPairs(rawQuery), options?.exclude);

const FOLDABLE = /[\t\r\n]| {2}|^ | $/;
const WHITESPACE_RUN = /[ \t\r\n]+/g;

/** Trims a header value and folds inner whitespace runs (SP, HT, CR, LF: obs-fold) into one SP. @internal */
export const canonicalHeaderValue = (value: string): string => {
  if (!FOLDABLE.test(value)) return value;
  const folded = value.replace(WHITESPACE_RUN, " ");
  const start = folded.charCodeAt(0) === 0x20 ? 1 : 0;
  const end = folded.length > start && folded.charCodeAt(folded.length - 1) === 0x20 ? -1 : 0;
  return end === 0 ? folded.slice(start) : folded.slice(start, end);
};

/**
 * The canonical header block: one `name:value\n` line per signed header, in the order of
 * `signedHeaders` (pass them sorted when signing). Values are trimmed, inner whitespace runs are
 * folded to one space, and repeated headers are joined with `,` in wire order. A signed header
 * absent from the request gives `name:` (verification rejects that case before it gets here).
 * @public
 */
export const canonicalHeaders = (
  headers: RawRequest["headers"],
  signedHeaders: ReadonlyArray<string>,
): string => {
  const values = new Map<string, string>();
  for (const name of signedHeaders) values.set(name, "");
  const seen = new Set<string>();
  for (const [rawName, rawValue] of headers) {
    const name = rawName.toLowerCase();
    const current = values.get(name);
    if (current === undefined) continue;
    const value = canonicalHeaderValue(rawValue);
    values.set(name, seen.has(name) ? `${current},${value}` : value);
    seen.add(name);
  }
  let out = "";
  for (const name of signedHeaders) out += `${name}:${values.get(name)!}\n`;
  return out;
};

/**
 * Assembles the canonical request: method, URI, query, header block, blank line, signed header
 * list and payload hash, joined by LF.
 * @public
 */
export const canonicalRequest = (parts: {
  method: string;
  canonicalUri: string;
  canonicalQuery: string;
  canonicalHeaders: string;
  signedHeaders: ReadonlyArray<string>;
  payloadHash: string;
}): string =>
  `${parts.method}\n${parts.canonicalUri}\n${parts.canonicalQuery}\n${parts.canonicalHeaders}\n${parts.signedHeaders.join(";")}\n${parts.payloadHash}`;

/** `"20130524/us-east-1/s3/aws4_request"`. @public */
export const formatScope = (scope: CredentialScope): string =>
  `${scope.date}/${scope.region}/${scope.service}/aws4_request`;

let lastFormattedSecond = Number.NaN;
let lastFormatted = "";

/**
 * The SigV4 timestamp of an epoch time: `"20130524T000000Z"` (UTC, seconds).
 * @throws SigV4Error `InvalidArgument` for a time outside years 0–9999.
 * @public
 */
export const formatAmzDate = (epochMs: number): string => {
  // Signing happens many times a second: the text of the current second is kept.
  const second = Math.floor(epochMs / 1000);
  if (second === lastFormattedSecond) return lastFormatted;
  const date = new Date(epochMs);
  const year = date.getUTCFullYear();
  if (!Number.isFinite(epochMs) || year < 0 || year > 9999) {
    throw new SigV4Error("InvalidArgument", "The signing time is out of range.");
  }
  const iso = date.toISOString(); // 2013-05-24T00:00:00.000Z
  lastFormatted = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  lastFormattedSecond = second;
  return lastFormatted;
};

/**
 * `AWS4-HMAC-SHA256\n<amzDate>\n<scope>\n<hex sha256 of the canonical request>`.
 * @public
 */
export const stringToSign = (
  amzDate: string,
  scope: CredentialScope,
  canonicalRequestText: string,
  crypto: CryptoProvider = nobleCryptoProvider,
): string =>
  `${ALGORITHM}\n${amzDate}\n${formatScope(scope)}\n${
    crypto.sha256Hex !== undefined
      ? crypto.sha256Hex(canonicalRequestText)
      : toHex(crypto.sha256(utf8(canonicalRequestText)))
  }`;

/** Hex HMAC-SHA256 of the string to sign under the derived signing key. @public */
export const calculateSignature = (
  signingKey: Uint8Array,
  stringToSignText: string,
  crypto: CryptoProvider = nobleCryptoProvider,
): string =>
  crypto.hmacSha256Hex !== undefined
    ? crypto.hmacSha256Hex(signingKey, stringToSignText)
    : toHex(crypto.hmacSha256(signingKey, utf8(stringToSignText)));
