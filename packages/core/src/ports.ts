// The ports of @osp/core: everything the pipeline needs from the outside world, as interfaces.
// Apps and adapter packages implement them (undici transport, IBM IAM token provider, …); the
// core itself opens no socket and reads no clock of its own.

import type { AbortSignalLike } from "@osp/creds-cache";

export type { AbortSignalLike };

/** A header list in wire order; names in any case; a name may repeat. @public */
export type HeaderList = Array<[name: string, value: string]>;

/** A streamed body. Node `Readable` and web `ReadableStream` both satisfy it. @public */
export type Body = AsyncIterable<Uint8Array>;

/**
 * An incoming client request as the listener received it. `path` and `query` are the raw wire
 * bytes (percent-encoded, never normalised): the signature is computed over them.
 * @public
 */
export interface ProxyRequest {
  readonly method: string;
  /** Raw request path, without the query. */
  readonly path: string;
  /** Raw query string without the leading `?`; `""` when there is none. */
  readonly query: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** Request body; `null` when the request has none. */
  readonly body: Body | null;
  /** The client's address, for the validator and the audit log. */
  readonly remoteAddress?: string;
  /** Request id to use (the server's); the core makes one when absent. */
  readonly requestId?: string;
  /**
   * Aborted when the client goes away: the core aborts the upstream request too. An
   * `AbortSignal`, or a lighter object with its `aborted`, `reason` and listener methods.
   */
  readonly signal?: AbortSignalLike;
  /**
   * Sends `100 Continue` to the client. The core calls it only after the request has been
   * authenticated and authorized, and only when the client sent `Expect: 100-continue`.
   */
  readonly sendContinue?: () => void;
}

/**
 * An optional fast path of a body's iterator: `readSync()` hands over what the body already
 * holds without a promise — the next piece, `{ done: true }` at the end, or `undefined` when
 * nothing is ready (then `next()` waits). It throws the body's failure as `next()` would reject.
 * Most small responses are complete by the time the listener reads them; the transport's and
 * the core's iterators implement it, and a listener should try it before `next()`.
 * @public
 */
export interface SyncReadableIterator extends AsyncIterator<Uint8Array> {
  readSync(): IteratorResult<Uint8Array> | undefined;
}

/** What the core answers; the listener writes it out. @public */
export interface ProxyResponse {
  status: number;
  headers: HeaderList;
  /** `null` for no body (HEAD, 204, 304). */
  body: Body | null;
}

/** One request to a backend, fully signed. @public */
export interface UpstreamRequest {
  readonly method: string;
  /** Scheme, host and optional port: `https://bucket.s3.example.com` or `http://127.0.0.1:7480`. */
  readonly origin: string;
  /** Path and query exactly as they must go on the wire (already encoded and signed). */
  readonly pathAndQuery: string;
  readonly headers: HeaderList;
  readonly body: Body | null;
  /** Exact body length when known; the transport sends `Content-Length` then, else chunked. */
  readonly bodyLengthBytes?: number;
  /** Verify the backend's TLS certificate (default true). */
  readonly verifyTls: boolean;
  /** The exchange's abort: an `AbortSignal` or a lighter object with the same members. */
  readonly signal: AbortSignalLike;
}

/** A backend's answer, streamed. @public */
export interface UpstreamResponse {
  readonly status: number;
  readonly headers: HeaderList;
  readonly body: Body | null;
}

/**
 * Sends requests to backends. It rejects with an `OspError` of code `ServiceUnavailable`
 * (connect, DNS, TLS failures), `SlowDown`/`RequestTimeout` (timeouts) or `InternalError`; it
 * never includes a secret or a stack in the message.
 * @public
 */
export interface Transport {
  send(request: UpstreamRequest): Promise<UpstreamResponse>;
  close?(): Promise<void>;
}

/**
 * Exchanges an API key for a bearer token (IBM Cloud IAM). Implementations cache tokens until
 * shortly before expiry and share one exchange between concurrent callers.
 * @public
 */
export interface BearerTokenProvider {
  getToken(
    apiKey: string,
    options?: { signal?: AbortSignalLike; forceRefresh?: boolean },
  ): Promise<string>;
}

/**
 * A real `AbortSignal` for an {@link AbortSignalLike}, for APIs that demand one (`fetch`,
 * `http.request`): the signal itself when it is one, else a new signal that follows it.
 * @public
 */
export const toAbortSignal = (signal: AbortSignalLike): AbortSignal => {
  if (signal instanceof AbortSignal) return signal;
  const controller = new AbortController();
  if (signal.aborted) controller.abort(signal.reason);
  else signal.addEventListener("abort", () => controller.abort(signal.reason), { once: true });
  return controller.signal;
};

/** Milliseconds since the epoch; injected so tests control time. @public */
export type Clock = () => number;
