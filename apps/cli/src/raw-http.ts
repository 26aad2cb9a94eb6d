// Reading a request as it went over the wire (what `osp verify` explains): an HTTP/1.1 request
// line, header lines, a blank line and an optional body; or a presigned URL.
import type { RawRequest } from "@osp/sigv4";

/** A parsed wire request: the exact path and query bytes the client signed, and the body. */
export interface WireRequest extends RawRequest {
  /** Body bytes after the blank line, cut to Content-Length when the file holds more. */
  readonly body: Uint8Array;
  /** True when the text had a body section at all (even an empty one with Content-Length: 0). */
  readonly hasBody: boolean;
  /** Notes on what was adjusted while reading (e.g. a trailing newline dropped). */
  readonly notes: string[];
}

/** Thrown for text that is not an HTTP/1.x request. */
export class RequestSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RequestSyntaxError";
  }
}

const indexOfSequence = (bytes: Uint8Array, sequence: readonly number[], from = 0): number => {
  outer: for (let index = from; index + sequence.length <= bytes.length; index += 1) {
    for (let offset = 0; offset < sequence.length; offset += 1) {
      if (bytes[index + offset] !== sequence[offset]) continue outer;
    }
    return index;
  }
  return -1;
};

const CRLF_CRLF = [13, 10, 13, 10];
const LF_LF = [10, 10];
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Splits an origin-form or absolute-form request target into raw path and raw query. */
export const splitTarget = (
  target: string,
): { path: string; query: string; authority?: string } => {
  let rest = target;
  let authority: string | undefined;
  const absolute = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(rest);
  if (absolute != null) {
    authority = absolute[1];
    rest = rest.slice(absolute[0].length) || "/";
  }
  const hash = rest.indexOf("#");
  if (hash >= 0) rest = rest.slice(0, hash);
  const question = rest.indexOf("?");
  const path = question < 0 ? rest : rest.slice(0, question);
  const query = question < 0 ? "" : rest.slice(question + 1);
  return { path: path === "" ? "/" : path, query, ...(authority != null ? { authority } : {}) };
};

/**
 * Parses a raw HTTP/1.x request. Line ends may be CRLF or LF (a request pasted into an editor).
 * Header values are kept byte for byte (latin1) apart from surrounding whitespace.
 * @throws RequestSyntaxError
 */
export const parseRawRequest = (bytes: Uint8Array): WireRequest => {
  const notes: string[] = [];
  let start = 0;
  // Blank lines before the request line are tolerated (RFC 9112 §2.2).
  while (start < bytes.length && (bytes[start] === 13 || bytes[start] === 10)) start += 1;
  let headEnd = indexOfSequence(bytes, CRLF_CRLF, start);
  let bodyStart = headEnd + 4;
  const lfEnd = indexOfSequence(bytes, LF_LF, start);
  if (lfEnd >= 0 && (headEnd < 0 || lfEnd < headEnd)) {
    headEnd = lfEnd;
    bodyStart = lfEnd + 2;
  }
  const hasBody = headEnd >= 0;
  if (!hasBody) {
    headEnd = bytes.length;
    bodyStart = bytes.length;
  }
  const head = Buffer.from(bytes.subarray(start, headEnd)).toString("latin1");
  const lines = head.split(/\r?\n/);
  const requestLine = lines.shift()?.trim() ?? "";
  const parts = requestLine.split(/\s+/);
  if (parts.length !== 3 || !TOKEN.test(parts[0]!) || !/^HTTP\/1\.[01]$/.test(parts[2]!)) {
    throw new RequestSyntaxError(
      `the first line must be a request line like "GET /bucket/key HTTP/1.1" (got "${requestLine.slice(0, 80)}")`,
    );
  }
  const [method, target] = parts as [string, string, string];
  const headers: Array<[string, string]> = [];
  for (const [index, line] of lines.entries()) {
    if (line === "") continue;
    if (/^[ \t]/.test(line)) {
      // obs-fold: a continuation of the previous header value.
      const previous = headers.at(-1);
      if (previous == null)
        throw new RequestSyntaxError(`line ${index + 2}: a continuation line before any header`);
      previous[1] = `${previous[1]} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(":");
    const name = colon > 0 ? line.slice(0, colon) : "";
    if (!TOKEN.test(name))
      throw new RequestSyntaxError(`line ${index + 2}: not a header line ("${line.slice(0, 40)}")`);
    headers.push([name, line.slice(colon + 1).trim()]);
  }
  const { path, query, authority } = splitTarget(target);
  if (authority != null && !headers.some(([name]) => name.toLowerCase() === "host")) {
    headers.push(["host", authority]);
    notes.push(`no Host header: using "${authority}" from the absolute request target`);
  }
  let body = bytes.subarray(bodyStart);
  const contentLength = headers.find(([name]) => name.toLowerCase() === "content-length")?.[1];
  if (contentLength != null && /^\d+$/.test(contentLength)) {
    const length = Number(contentLength);
    if (body.length > length) {
      if (body.subarray(length).every((byte) => byte === 10 || byte === 13)) {
        notes.push("dropped the line break(s) after the body (beyond Content-Length)");
      } else {
        notes.push(
          `the body holds ${body.length} bytes; only the first ${length} (Content-Length) are used`,
        );
      }
      body = body.subarray(0, length);
    } else if (body.length < length) {
      notes.push(`the body holds ${body.length} bytes but Content-Length says ${length}`);
    }
  } else if (body.length > 0 && body.every((byte) => byte === 10 || byte === 13)) {
    body = body.subarray(body.length);
  }
  return {
    method,
    path,
    query,
    headers,
    body,
    hasBody: hasBody && (body.length > 0 || contentLength != null),
    notes,
  };
};

/** A presigned URL as the request a client would send with it (method given, Host from the URL). */
export const requestFromUrl = (url: string, method: string): WireRequest => {
  const match = /^(https?):\/\/([^/?#]+)/i.exec(url.trim());
  if (match == null)
    throw new RequestSyntaxError(`not an absolute http(s) URL: "${url.slice(0, 80)}"`);
  const scheme = match[1]!.toLowerCase();
  const authority = match[2]!.toLowerCase();
  const defaultPort = scheme === "https" ? ":443" : ":80";
  const host = authority.endsWith(defaultPort)
    ? authority.slice(0, -defaultPort.length)
    : authority;
  const { path, query } = splitTarget(url.trim());
  return {
    method: method.toUpperCase(),
    path,
    query,
    headers: [["host", host]],
    body: new Uint8Array(),
    hasBody: false,
    notes: [],
  };
};
