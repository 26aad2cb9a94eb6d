// Phase 7, forward: the signed request goes through the transport port and the answer streams
// back with the proxy's `Server` header. Backend answers (errors included, early ones too) pass
// through unchanged. A failure after the response started makes the body iterable throw, so the
// listener destroys the connection instead of ending a truncated body cleanly.

import { OspError } from "../errors.ts";
import type {
  AbortSignalLike,
  HeaderList,
  SyncReadableIterator,
  Transport,
  UpstreamRequest,
  UpstreamResponse,
} from "../ports.ts";
import type { SafeObserver } from "../observer.ts";

// Connection-scoped response headers a listener must not repeat (RFC 9110 §7.6.1).
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "proxy-connection",
]);

/**
 * The backend's response headers for the client: hop-by-hop headers (and those `Connection`
 * names) removed, `Server` replaced by `serverName`.
 * @public
 */
export const clientResponseHeaders = (headers: HeaderList, serverName: string): HeaderList => {
  // Built only when a Connection header is present (transports usually drop it already).
  let listed: Set<string> | undefined;
  for (const [name, value] of headers) {
    if (name.length !== 10 || name.toLowerCase() !== "connection") continue;
    listed ??= new Set<string>();
    for (const token of value.split(",")) listed.add(token.trim().toLowerCase());
  }
  const kept: HeaderList = [];
  for (const pair of headers) {
    const lower = pair[0].toLowerCase();
    if (
      HOP_BY_HOP.has(lower) ||
      listed?.has(lower) === true ||
      lower === "server" ||
      lower.startsWith("proxy-")
    ) {
      continue;
    }
    kept.push(pair);
  }
  kept.push(["server", serverName]);
  return kept;
};

/** What {@link sendUpstream} needs besides the request. @public */
export interface SendContext {
  readonly requestId: string;
  readonly transport: Transport;
  readonly observer: SafeObserver;
  /** The error the proxy raised while streaming the client's body, if any. */
  readonly bodyError: () => OspError | undefined;
  /** Aborted when the client went away. */
  readonly clientSignal?: AbortSignalLike;
}

/**
 * Sends through the transport and hands the response to `onResponse` in the same reaction (each
 * `.then` between the backend's head and the client costs a microtask). A rejection caused by
 * the proxy's own body check reports that check's error (e.g. `XAmzContentSHA256Mismatch`), not
 * the transport's; `onFailure` runs before the mapped error is thrown.
 * @public
 */
export const sendUpstream = <T = UpstreamResponse>(
  request: UpstreamRequest,
  context: SendContext,
  onResponse: (response: UpstreamResponse) => T | PromiseLike<T> = (response) => response as T,
  onFailure?: () => void,
): Promise<T> => {
  const mapFailure = (error: unknown): never => {
    onFailure?.();
    const bodyError = context.bodyError();
    if (bodyError != null) throw bodyError;
    if (context.clientSignal?.aborted === true) {
      throw new OspError("RequestTimeout", {
        message: "The client closed the request.",
        cause: error,
      });
    }
    const failure = OspError.is(error)
      ? error
      : new OspError("ServiceUnavailable", {
          source: "upstream",
          message: "the backend could not be reached",
          cause: error,
        });
    context.observer.upstreamError({
      requestId: context.requestId,
      code: failure.code,
      origin: request.origin,
    });
    throw failure;
  };
  let sent: Promise<UpstreamResponse>;
  try {
    sent = context.transport.send(request);
  } catch (error) {
    sent = Promise.reject(error);
  }
  return sent.then(onResponse, mapFailure);
};

const DONE: IteratorResult<Uint8Array> = { done: true, value: undefined };

/**
 * A response body passed through to the client, counting bytes; see {@link streamResponseBody}.
 * A class, not closures: one object per response instead of eight functions.
 */
class CountedBody implements AsyncIterableIterator<Uint8Array>, SyncReadableIterator {
  readonly #source: AsyncIterable<Uint8Array>;
  readonly #onBytes: (byteLength: number) => void;
  readonly #onEnd: (failure: unknown) => void;
  #inner: (AsyncIterator<Uint8Array> & Partial<SyncReadableIterator>) | undefined;
  #ended = false;
  readonly #onResult = (result: IteratorResult<Uint8Array>): IteratorResult<Uint8Array> => {
    if (result.done === true) this.#end(undefined);
    else this.#onBytes(result.value.byteLength);
    return result;
  };
  readonly #onFailure = (error: unknown): Promise<never> => {
    this.#failed(error);
    return Promise.reject(error);
  };

  constructor(
    source: AsyncIterable<Uint8Array>,
    onBytes: (byteLength: number) => void,
    onEnd: (failure: unknown) => void,
  ) {
    this.#source = source;
    this.#onBytes = onBytes;
    this.#onEnd = onEnd;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The source failed: reported as the end, never as a clean one. */
  #failed(error: unknown): void {
    this.#end(error ?? new Error("response body failed"));
  }

  #end(failure: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#onEnd(failure);
  }

  #iterator(): AsyncIterator<Uint8Array> & Partial<SyncReadableIterator> {
    return (this.#inner ??= this.#source[Symbol.asyncIterator]());
  }

  readSync(): IteratorResult<Uint8Array> | undefined {
    if (this.#ended) return DONE;
    const inner = this.#iterator();
    if (inner.readSync === undefined) return undefined;
    let result: IteratorResult<Uint8Array> | undefined;
    try {
      result = inner.readSync();
    } catch (error) {
      this.#failed(error);
      throw error;
    }
    return result === undefined ? undefined : this.#onResult(result);
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    if (this.#ended) return Promise.resolve(DONE);
    try {
      return this.#iterator().next().then(this.#onResult, this.#onFailure);
    } catch (error) {
      return this.#onFailure(error);
    }
  }

  async return(): Promise<IteratorResult<Uint8Array>> {
    if (this.#ended) return DONE;
    // Abandoned (client gone, HEAD): release the source, then report the end.
    try {
      await this.#iterator().return?.();
    } finally {
      this.#end(undefined);
    }
    return DONE;
  }
}

/**
 * Streams a response body to the client, counting bytes; `onEnd` runs once when it finished,
 * failed or was abandoned. Errors are rethrown: the listener must destroy the connection.
 * Not an async generator: a generator costs several promises per piece, and most responses are
 * one or two pieces (which `readSync()` hands over without a promise when they are there).
 * @public
 */
export const streamResponseBody = (
  source: AsyncIterable<Uint8Array>,
  onBytes: (byteLength: number) => void,
  onEnd: (failure: unknown) => void,
): AsyncIterableIterator<Uint8Array> & SyncReadableIterator =>
  new CountedBody(source, onBytes, onEnd);
