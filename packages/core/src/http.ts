// Small helpers over raw header lists and raw query strings. Inbound requests are never pushed
// through WHATWG `Headers`/`URL`: they would merge repeated headers and re-encode the path that
// the client signed.

import { OspError } from "./errors.ts";

/** The first value of header `name` (case-insensitive), or `undefined`. @internal */
export const getHeader = (
  headers: ReadonlyArray<readonly [string, string]>,
  name: string,
): string | undefined => {
  const wanted = name.toLowerCase();
  for (let index = 0; index < headers.length; index += 1) {
    const pair = headers[index]!;
    if (sameName(pair[0], wanted)) return pair[1];
  }
  return undefined;
};

/** Whether header name `name` is `lowerCaseName`, in any case (no new string for most names). */
const sameName = (name: string, lowerCaseName: string): boolean =>
  name.length === lowerCaseName.length &&
  (name === lowerCaseName || name.toLowerCase() === lowerCaseName);

/** Every value of header `name`, in order. @internal */
export const getHeaderValues = (
  headers: ReadonlyArray<readonly [string, string]>,
  name: string,
): string[] => {
  const wanted = name.toLowerCase();
  const values: string[] = [];
  for (let index = 0; index < headers.length; index += 1) {
    const pair = headers[index]!;
    if (sameName(pair[0], wanted)) values.push(pair[1]);
  }
  return values;
};

/** A parsed query parameter: raw text kept for forwarding, decoded text for decisions. @internal */
export interface QueryParam {
  /** The raw `name=value` text as on the wire. */
  readonly raw: string;
  readonly name: string;
  readonly value: string;
  readonly hasValue: boolean;
}

/** Decodes a query component once; `+` stays `+` (S3 signs it literally); bad escapes kept as is. */
const decodeComponent = (text: string): string => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
};

/** Splits a raw query into parameters in wire order. @internal */
export const parseQuery = (rawQuery: string): QueryParam[] =>
  rawQuery === ""
    ? []
    : rawQuery
        .split("&")
        .filter((part) => part !== "")
        .map((raw) => {
          const equals = raw.indexOf("=");
          const name = decodeComponent(equals === -1 ? raw : raw.slice(0, equals));
          const value = equals === -1 ? "" : decodeComponent(raw.slice(equals + 1));
          return { raw, name, value, hasValue: equals !== -1 };
        });

/** The decoded query as a record (first value of a repeated name wins). @internal */
export const queryRecord = (params: ReadonlyArray<QueryParam>): Record<string, string> => {
  const record: Record<string, string> = {};
  for (const param of params)
    if (!Object.hasOwn(record, param.name)) record[param.name] = param.value;
  return record;
};

/** Parses a decimal `Content-Length`-like header; `undefined` when absent or invalid. @internal */
export const parseLength = (value: string | undefined): number | undefined => {
  if (value == null || !/^\s*\d{1,16}\s*$/.test(value)) return undefined;
  const length = Number(value.trim());
  return Number.isSafeInteger(length) ? length : undefined;
};

/**
 * The first query parameter name that appears more than once, or `undefined`. The validator sees
 * one value per name while backends keep the first, the last or all of them, so a repeat is
 * refused rather than resolved. `x-amz-*` names compare case-insensitively (presigned URLs turn
 * them into headers); the others exactly, as S3 reads them. Names for which `ignored` holds are
 * skipped.
 * @internal
 */
export const repeatedQueryName = (
  params: ReadonlyArray<QueryParam>,
  ignored: (name: string) => boolean = () => false,
): string | undefined => {
  if (params.length < 2) return undefined;
  const seen = new Set<string>();
  for (const param of params) {
    const name = param.name;
    if (ignored(name)) continue;
    const key =
      name.length > 6 && name.slice(0, 6).toLowerCase() === "x-amz-" ? name.toLowerCase() : name;
    if (seen.has(key)) return name;
    seen.add(key);
  }
  return undefined;
};

// RFC 9110 §5.6.2 token; §5.5: CR, LF and NUL are never valid in a field value.
const HEADER_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const FORBIDDEN_IN_VALUE = /[\r\n\0]/;

/**
 * Throws `InvalidArgument` unless `name` is an HTTP token and `value` holds no CR, LF or NUL: such
 * text must never reach an upstream header (injection towards a transport that does not check).
 * @internal
 */
export const assertHeaderField = (name: string, value: string): void => {
  if (!HEADER_TOKEN.test(name)) {
    throw new OspError("InvalidArgument", { message: "A header name is not a valid HTTP token." });
  }
  if (FORBIDDEN_IN_VALUE.test(value)) {
    throw new OspError("InvalidArgument", {
      message: `The value of the header '${name}' contains CR, LF or NUL.`,
    });
  }
};
