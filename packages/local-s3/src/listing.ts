// Listing logic shared by ListObjects, ListObjectsV2 and ListMultipartUploads: S3 order
// (UTF-8 byte order), prefix, delimiter → common prefixes, a marker to resume after.

/**
 * Compares strings in Unicode code point order, which is UTF-8 byte order: S3's listing
 * order. Plain `<` compares UTF-16 code units and misplaces astral characters against
 * U+E000–U+FFFF.
 */
export const compareKeys = (a: string, b: string): number => {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codeUnitRank(x) - codeUnitRank(y);
  }
  return a.length - b.length;
};

// Surrogates (astral code points) must rank above U+E000–U+FFFF.
const codeUnitRank = (unit: number): number =>
  unit >= 0xe000 ? unit - 0x800 : unit >= 0xd800 ? unit + 0x2000 : unit;

/** Index of the first key ≥ `value` (`inclusive`) or > `value` in sorted `keys`. */
export const searchSorted = (
  keys: ReadonlyArray<string>,
  value: string,
  inclusive: boolean,
): number => {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const order = compareKeys(keys[middle]!, value);
    if (order < 0 || (!inclusive && order === 0)) low = middle + 1;
    else high = middle;
  }
  return low;
};

/** What to list. */
export interface ListQuery {
  readonly prefix: string;
  readonly delimiter: string;
  /** Resume strictly after this key or common prefix. */
  readonly after?: string;
  readonly maxKeys: number;
}

/** One page: keys and common prefixes in order, and where to resume. */
export interface ListPage {
  readonly keys: string[];
  readonly commonPrefixes: string[];
  readonly isTruncated: boolean;
  /** The last key or common prefix returned: the next page starts after it. */
  readonly lastEntry?: string;
}

/**
 * Lists sorted keys. A common prefix counts as one entry; entries at or before `after` are
 * skipped, so resuming after a common prefix skips every key under it.
 */
export const listPage = (keys: ReadonlyArray<string>, query: ListQuery): ListPage => {
  const { prefix, delimiter, after, maxKeys } = query;
  const page = { keys: [] as string[], commonPrefixes: [] as string[] };
  if (maxKeys <= 0) return { ...page, isTruncated: false };
  let index = searchSorted(keys, prefix, true);
  if (after != null) index = Math.max(index, searchSorted(keys, after, false));
  let count = 0;
  let lastEntry: string | undefined;
  for (; index < keys.length; index++) {
    const key = keys[index]!;
    if (!key.startsWith(prefix)) break;
    let entry = key;
    let isCommonPrefix = false;
    if (delimiter !== "") {
      const at = key.indexOf(delimiter, prefix.length);
      if (at >= 0) {
        entry = key.slice(0, at + delimiter.length);
        isCommonPrefix = true;
        if (entry === lastEntry) continue;
        if (after != null && compareKeys(entry, after) <= 0) continue;
      }
    }
    if (count === maxKeys) return { ...page, isTruncated: true, lastEntry };
    (isCommonPrefix ? page.commonPrefixes : page.keys).push(entry);
    lastEntry = entry;
    count++;
  }
  return lastEntry == null
    ? { ...page, isTruncated: false }
    : { ...page, isTruncated: false, lastEntry };
};

/** S3's `encoding-type=url`: UTF-8 percent-encoding, "/" kept, space as "+". */
export const urlEncodeKey = (text: string): string =>
  encodeURIComponent(text)
    .replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%2F/g, "/")
    .replace(/%20/g, "+");

const TOKEN_PREFIX = "ls3:";

/** An opaque ListObjectsV2 continuation token for "resume after `entry`". */
export const encodeContinuationToken = (entry: string): string =>
  Buffer.from(TOKEN_PREFIX + entry, "utf8").toString("base64");

/** The entry a continuation token resumes after, or undefined when the token is not ours. */
export const decodeContinuationToken = (token: string): string | undefined => {
  const text = Buffer.from(token, "base64").toString("utf8");
  return text.startsWith(TOKEN_PREFIX) ? text.slice(TOKEN_PREFIX.length) : undefined;
};
