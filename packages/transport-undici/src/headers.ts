// Header hygiene at the transport boundary: hop-by-hop headers describe one connection and must
// never cross a proxy (RFC 9110 §7.6.1); `Expect` is answered by OSP itself, and undici refuses it
// outright (UND_ERR_NOT_SUPPORTED) or rejects several of the others (UND_ERR_INVALID_ARG).
import type { HeaderList } from "@osp/core";

/** Connection-scoped headers never forwarded in either direction. */
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "http2-settings",
]);

/** Request-only headers the transport owns: `Expect` (never sent) and `Content-Length` (from the body length). */
const TRANSPORT_OWNED_REQUEST: ReadonlySet<string> = new Set(["expect", "content-length"]);

/** The names a `Connection` header declares hop-by-hop, lower-cased. */
const connectionTokens = (value: string): string[] =>
  value
    .split(",")
    .map((token) => token.trim().toLowerCase())
    .filter((token) => token !== "");

/** What `toUndiciRequestHeaders` produced: a flat name/value list in wire order and the length to announce. */
export interface OutgoingHeaders {
  /** `[name, value, name, value, …]`, the shape undici accepts without re-grouping duplicates. */
  readonly flat: string[];
  /** The `Content-Length` to send; `undefined` sends the body chunked. */
  readonly contentLengthBytes: number | undefined;
}

const DECIMAL = /^\d{1,16}$/;

/**
 * Filters a request's headers for the wire: drops hop-by-hop headers (and those a `Connection`
 * header names), `Expect` and the caller's `Content-Length`, keeping order, case and repeats.
 * `bodyLengthBytes` is authoritative; a well-formed `Content-Length` header is used only when it
 * is absent and a body exists, so a caller that forgot the field still avoids a chunked upload.
 */
export const toUndiciRequestHeaders = (
  headers: HeaderList,
  bodyLengthBytes: number | undefined,
  hasBody: boolean,
): OutgoingHeaders => {
  let extraHopByHop: Set<string> | undefined;
  for (const [name, value] of headers) {
    if (name.length === 10 && name.toLowerCase() === "connection") {
      extraHopByHop ??= new Set();
      for (const token of connectionTokens(value)) extraHopByHop.add(token);
    }
  }
  const flat: string[] = [];
  let headerLength: number | undefined;
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || extraHopByHop?.has(lower) === true) continue;
    if (TRANSPORT_OWNED_REQUEST.has(lower)) {
      if (lower === "content-length" && DECIMAL.test(value.trim())) {
        headerLength = Number(value.trim());
      }
      continue;
    }
    flat.push(name, value);
  }
  const contentLengthBytes = bodyLengthBytes ?? (hasBody ? headerLength : undefined);
  return { flat, contentLengthBytes };
};

/**
 * Turns undici's raw response header list (`[name, value, …]` as bytes) into a `HeaderList` in
 * wire order, minus hop-by-hop headers. Values are decoded as latin1 so every byte survives the
 * round trip to the client (Node writes header strings back as latin1).
 */
export const fromUndiciResponseHeaders = (
  raw: ReadonlyArray<Uint8Array | string> | null | undefined,
): HeaderList => {
  const headers: HeaderList = [];
  if (raw == null) return headers;
  let extraHopByHop: Set<string> | undefined;
  for (let index = 0; index + 1 < raw.length; index += 2) {
    const name = decodeLatin1(raw[index]!);
    const value = decodeLatin1(raw[index + 1]!);
    const lower = name.toLowerCase();
    // `Connection: keep-alive` (the usual case) names nothing beyond the fixed set: no second pass.
    if (lower === "connection" && !(value.length === 10 && value.toLowerCase() === "keep-alive")) {
      for (const token of connectionTokens(value)) {
        if (!HOP_BY_HOP.has(token)) (extraHopByHop ??= new Set()).add(token);
      }
    }
    if (HOP_BY_HOP.has(lower)) continue;
    headers.push([name, value]);
  }
  return extraHopByHop == null
    ? headers
    : headers.filter(([name]) => !extraHopByHop.has(name.toLowerCase()));
};

const decodeLatin1 = (value: Uint8Array | string): string => {
  if (typeof value === "string") return value;
  // undici hands out Buffers: decode in place rather than wrapping the bytes in a new view.
  if (Buffer.isBuffer(value)) return value.toString("latin1");
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("latin1");
};
