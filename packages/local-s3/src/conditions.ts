// Conditional requests (RFC 9110 §13) the way S3 evaluates them, on ETags and Last-Modified
// at one-second resolution.

/** The validators of a stored object. */
export interface Validators {
  readonly etag: string;
  readonly lastModifiedMs: number;
}

/** The four conditional headers of a read (or their `x-amz-copy-source-if-*` twins). */
export interface ConditionHeaders {
  readonly ifMatch?: string;
  readonly ifNoneMatch?: string;
  readonly ifModifiedSince?: string;
  readonly ifUnmodifiedSince?: string;
}

const unquote = (tag: string): string => {
  const trimmed = tag.trim().replace(/^W\//, "");
  return trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"')
    ? trimmed.slice(1, -1)
    : trimmed;
};

/** Whether an `If-Match`/`If-None-Match` list (or `*`) names this ETag. Quotes optional. */
export const etagListMatches = (list: string, etag: string): boolean => {
  const wanted = unquote(etag);
  return list.split(",").some((item) => {
    const tag = item.trim();
    return tag === "*" || unquote(tag) === wanted;
  });
};

/** Two ETags equal, ignoring quotes. */
export const sameEtag = (a: string, b: string): boolean => unquote(a) === unquote(b);

const parseHttpDate = (value: string | undefined): number | undefined => {
  if (value == null) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
};

/**
 * Evaluates read preconditions. `If-Match` beats `If-Unmodified-Since` and `If-None-Match`
 * beats `If-Modified-Since`; a failed If-Match/If-Unmodified-Since wins over the rest.
 */
export const evaluateConditions = (
  headers: ConditionHeaders,
  object: Validators,
): "proceed" | "precondition-failed" | "not-modified" => {
  const lastModifiedSeconds = Math.floor(object.lastModifiedMs / 1000);
  const unmodifiedSince = parseHttpDate(headers.ifUnmodifiedSince);
  if (headers.ifMatch != null) {
    if (!etagListMatches(headers.ifMatch, object.etag)) return "precondition-failed";
  } else if (unmodifiedSince != null && lastModifiedSeconds > Math.floor(unmodifiedSince / 1000)) {
    return "precondition-failed";
  }
  const modifiedSince = parseHttpDate(headers.ifModifiedSince);
  if (headers.ifNoneMatch != null) {
    if (etagListMatches(headers.ifNoneMatch, object.etag)) return "not-modified";
  } else if (modifiedSince != null && lastModifiedSeconds <= Math.floor(modifiedSince / 1000)) {
    return "not-modified";
  }
  return "proceed";
};
