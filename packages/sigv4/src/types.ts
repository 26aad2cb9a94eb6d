/**
 * A request as it arrived on the wire, before any normalisation. Verification must see exactly
 * these bytes: WHATWG `URL`/`Headers` would re-encode the path and merge repeated headers.
 * @public
 */
export interface RawRequest {
  /** HTTP method, upper case (`GET`, `PUT`, …). */
  readonly method: string;
  /** Request path exactly as on the wire (percent-encoded, not normalised), without the query. */
  readonly path: string;
  /** Query string exactly as on the wire, without the leading `?`; `""` when there is none. */
  readonly query: string;
  /** Header list in wire order. Names in any case; a name may repeat. */
  readonly headers: ReadonlyArray<readonly [name: string, value: string]>;
}

/** Access key pair, with an optional session token. @public */
export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** The credential scope: `<date>/<region>/<service>/aws4_request`. @public */
export interface CredentialScope {
  /** `YYYYMMDD`. */
  readonly date: string;
  readonly region: string;
  readonly service: string;
}

/**
 * How the payload is protected, from `x-amz-content-sha256` (header auth) or
 * `X-Amz-Content-Sha256` (presigned; presigned URLs default to `UNSIGNED-PAYLOAD`).
 * @public
 */
export type PayloadMode =
  | "unsigned" // UNSIGNED-PAYLOAD
  | "sha256" // a 64-digit hex SHA-256 of the whole body
  | "streaming-signed" // STREAMING-AWS4-HMAC-SHA256-PAYLOAD
  | "streaming-signed-trailer" // STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER
  | "streaming-unsigned-trailer"; // STREAMING-UNSIGNED-PAYLOAD-TRAILER

/** Hex digest to hex digest, or bytes to bytes: the only crypto the package needs. @public */
export interface IncrementalHash {
  update(data: Uint8Array): IncrementalHash;
  digest(): Uint8Array;
}

/**
 * Hash and HMAC primitives. The default is `@noble/hashes` (pure, runs anywhere); servers on
 * Node inject `nodeCryptoProvider` from `@osp/sigv4/node`, which is about 10× faster.
 * Every function must be synchronous.
 * @public
 */
export interface CryptoProvider {
  sha256(data: Uint8Array): Uint8Array;
  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array;
  createSha256(): IncrementalHash;
  createSha1(): IncrementalHash;
  /**
   * Optional fast path: lower-case hex SHA-256 of the UTF-8 of `text`. Must equal
   * `toHex(sha256(utf8(text)))`; lets a native provider skip the string → bytes → hex copies on
   * the verify hot path.
   */
  sha256Hex?(text: string): string;
  /** Optional fast path: lower-case hex HMAC-SHA256 of the UTF-8 of `text` under `key`. */
  hmacSha256Hex?(key: Uint8Array, text: string): string;
}
