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
 * Sends through the transport. A rejection caused by the proxy's own body check reports that
 * check's error (e.g. `XAmzContentSHA256Mismatch`), not the transport's.
 * @public
 */
export const sendUpstream = (
  request: UpstreamRequest,
  context: SendContext,
): Promise<UpstreamResponse> => {
  const mapFailure = (error: unknown): never => {
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
  // Not an async function: one promise for the mapping instead of two.
  return sent.then(undefined, mapFailure);
};

/**
 * Streams a response body to the client, counting bytes; `onEnd` runs once when it finished,
 * failed or was abandoned. Errors are rethrown: the listener must destroy the connection.
 * Written as a plain iterator, not an async generator: a generator costs several promises per
 * piece, and most responses are one or two pieces.
 * @public
 */
export const streamResponseBody = (
  source: AsyncIterable<Uint8Array>,
  onBytes: (byteLength: number) => void,
  onEnd: (failure: unknown) => void,
): AsyncIterableIterator<Uint8Array> & SyncReadableIterator => {
  let inner: (AsyncIterator<Uint8Array> & Partial<SyncReadableIterator>) | undefined;
  let ended = false;
  const end = (failure: unknown): void => {
    if (ended) return;
    ended = true;
    onEnd(failure);
  };
  const DONE: IteratorResult<Uint8Array> = { done: true, value: undefined };
  const onResult = (result: IteratorResult<Uint8Array>): IteratorResult<Uint8Array> => {
    if (result.done === true) end(undefined);
    else onBytes(result.value.byteLength);
    return result;
  };
  const onFailure = (error: unknown): Promise<never> => {
    end(error ?? new Error("response body failed"));
    return Promise.reject(error);
  };
  const iterator: AsyncIterableIterator<Uint8Array> & SyncReadableIterator = {
    [Symbol.asyncIterator]: () => iterator,
    readSync: () => {
      if (ended) return DONE;
      inner ??= source[Symbol.asyncIterator]();
      if (inner.readSync === undefined) return undefined;
      let result: IteratorResult<Uint8Array> | undefined;
      try {
        result = inner.readSync();
      } catch (error) {
        end(error ?? new Error("response body failed"));
        throw error;
      }
      return result === undefined ? undefined : onResult(result);
    },
    next: () => {
      if (ended) return Promise.resolve(DONE);
      try {
        inner ??= source[Symbol.asyncIterator]();
        return inner.next().then(onResult, onFailure);
      } catch (error) {
        return onFailure(error);
      }
    },
    return: async () => {
      if (ended) return DONE;
      // Abandoned (client gone, HEAD): release the source, then report the end.
      try {
        inner ??= source[Symbol.asyncIterator]();
        await inner.return?.();
      } finally {
        end(undefined);
      }
      return DONE;
    },
  };
  return iterator;
};
