// ProxyResponse → Node response: status, header list with repeated names, body streamed with
// backpressure. A body that fails after the headers went out destroys the connection (HTTP/1.1)
// or resets the stream (HTTP/2): a client must never see a clean-looking truncated response.
import type { IncomingMessage, ServerResponse } from "node:http";
import { constants as http2Constants, type Http2ServerResponse } from "node:http2";
import type { Socket } from "node:net";
import type { ProxyResponse, SyncReadableIterator } from "@osp/core";
import type { AdaptedRequest, NodeRequest, NodeResponse } from "./request-adapter.ts";

// Connection-level headers: Node writes its own framing, and HTTP/2 forbids them outright.
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "te",
  "trailer",
]);

/**
 * An unread upload larger than this (or of unknown size) is not drained to keep the connection:
 * the connection is closed after the answer instead, once the client had a moment to read it.
 */
export const DRAIN_LIMIT_BYTES = 1024 * 1024;
/** How long a connection closed after an early answer keeps reading (and discarding) the upload. */
export const LINGER_MS = 2_000;

/** Options of {@link writeProxyResponse}. */
export interface WriteResponseOptions {
  requestId: string;
  serverName: string;
  /** Add `Connection: close` (HTTP/1.1): the server is draining. */
  closeConnection: boolean;
  adapted?: AdaptedRequest;
  /**
   * Replace the answer's `x-amz-request-id` by `requestId`; the value dropped (the backend's own
   * id) is passed here, once, for the access line.
   */
  onBackendRequestId?: (value: string) => void;
}

const isHttp2 = (res: NodeResponse): res is Http2ServerResponse =>
  "stream" in res && res.stream != null;

/** Why the response stream went away before the body was written. */
class ResponseClosedError extends Error {
  constructor() {
    super("the client closed the connection");
    this.name = "ResponseClosedError";
  }
}

/** Resolves when `res` can take more data; rejects when it closes first. */
const drained = (res: NodeResponse): Promise<void> =>
  new Promise((resolve, reject) => {
    const onDrain = () => {
      cleanup();
      resolve();
    };
    const onClose = () => {
      cleanup();
      reject(new ResponseClosedError());
    };
    const cleanup = () => {
      res.off("drain", onDrain);
      res.off("close", onClose);
      res.off("error", onClose);
    };
    res.on("drain", onDrain);
    res.on("close", onClose);
    res.on("error", onClose);
  });

/**
 * Closes a socket after the response without a reset: FIN first, keep reading (the parser
 * discards the rest of the upload) until the client closes or {@link LINGER_MS} passed.
 * Closing at once while upload bytes are still arriving makes the kernel send RST, and many
 * clients then lose the answer they were about to read.
 */
const lingerOnClose = (socket: Socket): void => {
  socket.destroySoon = function lingeringClose(this: Socket) {
    this.end();
    const timer = setTimeout(() => this.destroy(), LINGER_MS);
    timer.unref();
    this.once("end", () => this.destroy());
    this.once("close", () => clearTimeout(timer));
  };
};

/** Bytes of the upload still to come, `Infinity` when unknown. */
const unreadBytes = (req: NodeRequest, adapted: AdaptedRequest): number => {
  const length = Number(req.headers["content-length"]);
  if (!Number.isFinite(length)) return Number.POSITIVE_INFINITY;
  return Math.max(0, length - (adapted.body?.bytesRead ?? 0));
};

/**
 * Decides what happens to an upload the core did not read to the end: small rests are drained
 * so the connection stays usable; large or unknown ones, and bodies the client was told to
 * hold back (`Expect: 100-continue` answered without `100`), end the connection after the answer.
 */
const uploadLeftOver = (
  req: NodeRequest,
  adapted: AdaptedRequest | undefined,
): "none" | "drain" | "close" => {
  const body = adapted?.body;
  if (adapted == null || body == null || body.state === "finished" || body.state === "reading")
    return "none";
  if ((req as IncomingMessage).complete) return "none";
  if (adapted.expectsContinue && !adapted.continueSent()) return "close";
  return unreadBytes(req, adapted) > DRAIN_LIMIT_BYTES ? "close" : "drain";
};

const discardUpload = (req: NodeRequest, res: NodeResponse, leftOver: "drain" | "close"): void => {
  const settle = () => {
    if ((req as IncomingMessage).complete) return;
    if (isHttp2(res) && leftOver === "close") {
      // RFC 9113 §8.1: a complete answer, then RST_STREAM(NO_ERROR) tells the client to stop sending.
      res.stream.close(http2Constants.NGHTTP2_NO_ERROR);
      return;
    }
    req.resume();
  };
  if (res.writableFinished) settle();
  else res.once("finish", settle);
};

/** Whether an answer's `x-amz-request-id` gives way to ours (reporting the backend's value). */
const replacedRequestId = (value: string, options: WriteResponseOptions): boolean => {
  const report = options.onBackendRequestId;
  if (report == null) return false;
  if (value !== options.requestId) report(value);
  return true;
};

/**
 * Writes the head: hop-by-hop headers dropped, request id and `Server` always present. One pass
 * builds the flat list HTTP/1.1 takes; HTTP/2 gets it as an object of lower-case names.
 */
const writeHead = (
  res: NodeResponse,
  response: ProxyResponse,
  options: WriteResponseOptions,
  close: boolean,
): void => {
  let hasRequestId = false;
  let hasServer = false;
  const flat: string[] = [];
  for (const [name, value] of response.headers) {
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) continue;
    if (lower === "x-amz-request-id") {
      if (replacedRequestId(value, options)) continue;
      hasRequestId = true;
    } else if (lower === "server") hasServer = true;
    flat.push(name, value);
  }
  if (!hasRequestId) flat.push("x-amz-request-id", options.requestId);
  if (!hasServer) flat.push("Server", options.serverName);
  if (isHttp2(res)) {
    res.writeHead(response.status, http2Headers(flat));
    return;
  }
  if (close) flat.push("Connection", "close");
  (res as ServerResponse).writeHead(response.status, flat);
};

/** A flat header list as the HTTP/2 API takes it: lower-case names, repeated ones as arrays. */
const http2Headers = (flat: ReadonlyArray<string>): Record<string, string | string[]> => {
  const headers: Record<string, string | string[]> = {};
  for (let index = 0; index < flat.length; index += 2) {
    const lower = flat[index]!.toLowerCase();
    const value = flat[index + 1]!;
    const existing = headers[lower];
    if (existing == null) headers[lower] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else headers[lower] = [existing, value];
  }
  return headers;
};

/** Writes one piece; false when `res` wants a `drain` first. Throws when `res` is gone. */
const writePiece = (res: NodeResponse, piece: Uint8Array): boolean => {
  if (res.destroyed) throw new ResponseClosedError();
  // Both response classes have write(); their overload sets just do not unify.
  return (res as unknown as { write(chunk: Uint8Array): boolean }).write(piece);
};

type BodyIterator = AsyncIterator<Uint8Array> & Partial<SyncReadableIterator>;

/** After a failed write: releases the body, then reports the write's failure. */
const abandonBody = async (iterator: BodyIterator, error: unknown): Promise<never> => {
  try {
    await iterator.return?.();
  } catch {
    // The write's failure is the one to report.
  }
  throw error;
};

/**
 * Streams the body with backpressure; `return()` reaches the core's iterator on every exit path
 * but a failure of the body itself (as `for await` does). Pieces the body already holds are taken
 * with `readSync()` when it offers it, and as long as they come that way and the socket takes
 * them, no promise is made at all: a small response is usually complete by now, and each
 * `next()` or `await` costs a promise and a microtask.
 */
const pumpBody = (res: NodeResponse, body: AsyncIterable<Uint8Array>): void | Promise<void> => {
  const iterator = body[Symbol.asyncIterator]() as BodyIterator;
  for (;;) {
    const result = iterator.readSync?.();
    if (result === undefined) return pumpBodyAsync(res, iterator);
    if (result.done === true) {
      res.end();
      return undefined;
    }
    let flowing: boolean;
    try {
      flowing = writePiece(res, result.value);
    } catch (error) {
      return abandonBody(iterator, error);
    }
    if (!flowing) {
      return drained(res).then(
        () => pumpBodyAsync(res, iterator),
        (error: unknown) => abandonBody(iterator, error),
      );
    }
  }
};

/** {@link pumpBody} once it had to wait. */
const pumpBodyAsync = async (res: NodeResponse, iterator: BodyIterator): Promise<void> => {
  for (;;) {
    const result = iterator.readSync?.() ?? (await iterator.next());
    if (result.done === true) break;
    try {
      if (!writePiece(res, result.value)) await drained(res);
    } catch (error) {
      return abandonBody(iterator, error);
    }
  }
  res.end();
};

/** A failure while the body streamed: the head is out, so only a cut tells the client. */
const bodyFailed = (res: NodeResponse, error: unknown): void => {
  if (!res.destroyed)
    res.destroy(error instanceof ResponseClosedError ? undefined : (error as Error));
};

/**
 * Writes a `ProxyResponse`, synchronously when the body is at hand and the socket takes it.
 * Throws only when the head could not be written (nothing was sent: the caller can still answer
 * with an error); a failure after the head destroys the response (and with it the HTTP/1.1
 * connection), since the client can no longer be told. A returned promise never rejects.
 */
export const writeProxyResponse = (
  req: NodeRequest,
  res: NodeResponse,
  response: ProxyResponse,
  options: WriteResponseOptions,
): void | Promise<void> => {
  const leftOver = uploadLeftOver(req, options.adapted);
  const close = !isHttp2(res) && (options.closeConnection || leftOver === "close");
  if (close && leftOver === "close" && req.socket != null) lingerOnClose(req.socket as Socket);
  const sendsBody =
    response.body != null &&
    req.method !== "HEAD" &&
    response.status !== 204 &&
    response.status !== 304;
  try {
    writeHead(res, response, options, close);
  } catch (error) {
    void discardBody(response);
    throw error;
  }
  if (leftOver !== "none") discardUpload(req, res, leftOver);
  if (!sendsBody) {
    const discarded = discardBody(response);
    if (discarded === undefined) {
      res.end();
      return undefined;
    }
    return discarded.then(() => void res.end());
  }
  let pumped: void | Promise<void>;
  try {
    pumped = pumpBody(res, response.body!);
  } catch (error) {
    bodyFailed(res, error);
    return undefined;
  }
  return pumped?.then(undefined, (error: unknown) => bodyFailed(res, error));
};

/**
 * Lets the core release a body that will not be sent (HEAD, 204, a failed head). Never rejects;
 * nothing to wait for (`undefined`) when there is no body or it was destroyed.
 */
const discardBody = (response: ProxyResponse): Promise<void> | undefined => {
  const body = response.body as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | null;
  if (body == null) return undefined;
  try {
    // A Readable frees its socket on destroy(); return() on a fresh iterator may run no cleanup.
    if (typeof body.destroy === "function") {
      body.destroy();
      return undefined;
    }
    return Promise.resolve(body[Symbol.asyncIterator]().return?.()).then(
      () => undefined,
      () => undefined,
    );
  } catch {
    // The body is being thrown away; its failure changes nothing.
    return undefined;
  }
};

/** Writes a small complete response (admin endpoints, last-resort errors). */
export const writeSimpleResponse = (
  res: NodeResponse,
  status: number,
  headers: Array<[string, string]>,
  body: string,
  options: { requestId: string; serverName: string; closeConnection: boolean; isHead: boolean },
): void => {
  const bytes = Buffer.from(body, "utf8");
  const response: ProxyResponse = {
    status,
    headers: [...headers, ["Content-Length", String(bytes.byteLength)]],
    body: null,
  };
  writeHead(res, response, { ...options }, options.closeConnection && !isHttp2(res));
  if (options.isHead) res.end();
  else res.end(bytes);
};
