// Phase 7, forward: the signed request goes through the transport port and the answer streams
// back with the proxy's `Server` header. Backend answers (errors included, early ones too) pass
// through unchanged. A failure after the response started makes the body iterable throw, so the
// listener destroys the connection instead of ending a truncated body cleanly.

import { OspError } from "../errors.ts";
import type { HeaderList, Transport, UpstreamRequest, UpstreamResponse } from "../ports.ts";
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
  readonly clientSignal?: AbortSignal;
}

/**
 * Sends through the transport. A rejection caused by the proxy's own body check reports that
 * check's error (e.g. `XAmzContentSHA256Mismatch`), not the transport's.
 * @public
 */
export const sendUpstream = async (
  request: UpstreamRequest,
  context: SendContext,
): Promise<UpstreamResponse> => {
  try {
    return await context.transport.send(request);
  } catch (error) {
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
  }
};

/**
 * Streams a response body to the client, counting bytes; `onEnd` runs once when it finished,
 * failed or was abandoned. Errors are rethrown: the listener must destroy the connection.
 * @public
 */
export async function* streamResponseBody(
  source: AsyncIterable<Uint8Array>,
  onBytes: (byteLength: number) => void,
  onEnd: (failure: unknown) => void,
): AsyncGenerator<Uint8Array> {
  let failure: unknown;
  try {
    for await (const piece of source) {
      onBytes(piece.byteLength);
      yield piece;
    }
  } catch (error) {
    failure = error ?? new Error("response body failed");
    throw error;
  } finally {
    onEnd(failure);
  }
}
