// Single byte ranges (RFC 9110 §14): what GetObject and UploadPartCopy need. Several ranges in
// one header are not supported by S3 either; such a header is ignored and the whole object
// served.

/** The outcome of a Range header against an object of a known size. */
export type RangeResult =
  | { readonly kind: "whole" }
  | { readonly kind: "range"; readonly start: number; readonly endInclusive: number }
  | { readonly kind: "unsatisfiable" };

const SINGLE_RANGE = /^bytes=(\d*)-(\d*)$/i;

/**
 * Interprets `Range` for an object of `sizeBytes`. A syntactically invalid or multi-range
 * header is ignored (`whole`), as HTTP requires; a valid range past the end is `unsatisfiable`.
 */
export const parseRange = (header: string | undefined, sizeBytes: number): RangeResult => {
  if (header == null) return { kind: "whole" };
  const match = SINGLE_RANGE.exec(header.trim());
  if (match == null) return { kind: "whole" };
  const [, first = "", last = ""] = match;
  if (first === "" && last === "") return { kind: "whole" };
  if (first === "") {
    const suffixLength = Number(last);
    if (suffixLength === 0 || sizeBytes === 0) return { kind: "unsatisfiable" };
    return {
      kind: "range",
      start: Math.max(0, sizeBytes - suffixLength),
      endInclusive: sizeBytes - 1,
    };
  }
  const start = Number(first);
  if (last !== "" && Number(last) < start) return { kind: "whole" };
  if (start >= sizeBytes) return { kind: "unsatisfiable" };
  const endInclusive = last === "" ? sizeBytes - 1 : Math.min(Number(last), sizeBytes - 1);
  return { kind: "range", start, endInclusive };
};

/**
 * `x-amz-copy-source-range`: only `bytes=first-last`, both given and inside the object.
 * Returns undefined when the header is not of that form or out of bounds.
 */
export const parseCopySourceRange = (
  header: string,
  sizeBytes: number,
): { start: number; endInclusive: number } | undefined => {
  const match = /^bytes=(\d+)-(\d+)$/.exec(header.trim());
  if (match == null) return undefined;
  const start = Number(match[1]);
  const endInclusive = Number(match[2]);
  if (endInclusive < start || endInclusive >= sizeBytes) return undefined;
  return { start, endInclusive };
};
