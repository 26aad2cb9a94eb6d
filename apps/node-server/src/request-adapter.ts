// Node request → the core's ProxyRequest, keeping the wire bytes the signature covers: the raw
// request target split at the first "?" (never normalised or decoded) and the raw header list
// in wire order with repeated names kept.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { LightAbortSignal, type AbortSignalLike, type ProxyRequest } from "@osp/core";

/** A request as Node's HTTP/1.1 or HTTP/2 (compatibility API) server hands it over. @public */
export type NodeRequest = IncomingMessage | Http2ServerRequest;
/** The matching response object. @public */
export type NodeResponse = ServerResponse | Http2ServerResponse;

/**
 * Splits a raw request target into path and query at the first `?`. An absolute-form target
 * (`http://host/path`) keeps only its path. Nothing is decoded or normalised. @public
 */
export const splitRequestTarget = (target: string): { path: string; query: string } => {
  let pathAndQuery = target;
  if (!target.startsWith("/") && /^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
    const afterScheme = target.indexOf("//") + 2;
    const slash = target.slice(afterScheme).search(/[/?]/);
    pathAndQuery = slash < 0 ? "/" : target.slice(afterScheme + slash);
    if (pathAndQuery.startsWith("?")) pathAndQuery = `/${pathAndQuery}`;
  }
  const question = pathAndQuery.indexOf("?");
  if (question < 0) return { path: pathAndQuery, query: "" };
  return { path: pathAndQuery.slice(0, question), query: pathAndQuery.slice(question + 1) };
};

/**
 * The request's headers as received, in order, repeated names kept. HTTP/2 pseudo-headers are
 * dropped; `:authority` becomes `host` when the request has no `host` header. @public
 */
export const requestHeaderList = (req: NodeRequest): Array<[string, string]> => {
  const raw = req.rawHeaders;
  const headers: Array<[string, string]> = [];
  let authority: string | undefined;
  let hasHost = false;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    if (name.charCodeAt(0) === 58 /* ":" */) {
      if (name === ":authority") authority = value;
      continue;
    }
    if (!hasHost && name.length === 4 && name.toLowerCase() === "host") hasHost = true;
    headers.push([name, value]);
  }
  if (!hasHost && authority != null) headers.unshift(["host", authority]);
  return headers;
};

/**
 * Whether the request carries a body. HTTP/1.1: a `Content-Length` or `Transfer-Encoding`
 * header (RFC 9112 §6.3). HTTP/2: the HEADERS frame did not end the stream. @public
 */
export const hasRequestBody = (req: NodeRequest): boolean => {
  if ("stream" in req && req.stream != null) {
    return !(req.stream as { endAfterHeaders?: boolean }).endAfterHeaders;
  }
  return req.headers["content-length"] != null || req.headers["transfer-encoding"] != null;
};

/** Strips the IPv4-mapped IPv6 prefix so audit lines show `127.0.0.1`, not `::ffff:127.0.0.1`. */
const clientAddress = (req: NodeRequest): string | undefined => {
  const address = req.socket?.remoteAddress;
  return address?.startsWith("::ffff:") === true && address.includes(".")
    ? address.slice(7)
    : address;
};

const EXPECT_CONTINUE = /^\s*100-continue\s*$/i;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

type BodyState = "unread" | "reading" | "finished" | "abandoned" | "failed";

/**
 * The request body as the core reads it. Iterating does not destroy the socket when the reader
 * stops early (the answer still has to go out on it), and the state tells the response writer
 * whether the rest of the upload must be drained.
 */
export class RequestBody implements AsyncIterable<Uint8Array> {
  readonly #req: NodeRequest;
  #state: BodyState = "unread";
  #bytesRead = 0;

  constructor(req: NodeRequest) {
    this.#req = req;
  }

  /** `unread`, `reading`, `finished` (read to the end), `abandoned` (reader stopped), `failed`. */
  get state(): BodyState {
    return this.#state;
  }

  /** Bytes handed to the reader so far. */
  get bytesRead(): number {
    return this.#bytesRead;
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    const inner = (this.#req as IncomingMessage).iterator({
      destroyOnReturn: false,
    }) as AsyncIterator<Uint8Array>;
    this.#state = "reading";
    return {
      next: async () => {
        try {
          const result = await inner.next();
          if (result.done === true) this.#state = "finished";
          else this.#bytesRead += result.value.byteLength;
          return result;
        } catch (error) {
          this.#state = "failed";
          throw error;
        }
      },
      return: async (value?: unknown) => {
        if (this.#state === "reading") this.#state = "abandoned";
        await inner.return?.();
        return { done: true, value: value as Uint8Array };
      },
    };
  }
}

/** Options of {@link toProxyRequest}. @public */
export interface ToProxyRequestOptions {
  /** The server's request id (also sent as `x-amz-request-id`). */
  requestId?: string;
  /** Aborted when the client goes away; default: derived from `response` closing early. */
  signal?: AbortSignalLike;
  /** The response; needed for `sendContinue` (`100 Continue`) and the default `signal`. */
  response?: NodeResponse;
}

/** A converted request plus what the server needs to finish the exchange. */
export interface AdaptedRequest {
  request: ProxyRequest;
  body: RequestBody | null;
  /** The client sent `Expect: 100-continue`. */
  expectsContinue: boolean;
  /** `100 Continue` went out. */
  continueSent(): boolean;
}

/** {@link toProxyRequest} with the bookkeeping the server's response writer uses. */
export const adaptRequest = (
  req: NodeRequest,
  options: ToProxyRequestOptions = {},
): AdaptedRequest => {
  const { path, query } = splitRequestTarget(req.url ?? "/");
  const body = hasRequestBody(req) ? new RequestBody(req) : null;
  const expect = req.headers.expect;
  const expectsContinue = expect != null && EXPECT_CONTINUE.test(String(expect));
  const response = options.response;
  let signal = options.signal;
  if (signal == null && response != null) {
    const clientAbort = new LightAbortSignal();
    response.once("close", () => {
      if (!response.writableFinished)
        clientAbort.abort(new Error("the client closed the connection"));
    });
    signal = clientAbort;
  }
  let continued = false;
  const sendContinue =
    response != null && expectsContinue
      ? () => {
          if (continued || response.headersSent || response.destroyed) return;
          continued = true;
          response.writeContinue();
        }
      : undefined;
  const remoteAddress = clientAddress(req);
  // Optional fields are set one by one: absent, never `undefined` (no spread objects per request).
  const request: Mutable<ProxyRequest> = {
    method: req.method ?? "GET",
    path,
    query,
    headers: requestHeaderList(req),
    body,
  };
  if (remoteAddress != null) request.remoteAddress = remoteAddress;
  if (options.requestId != null) request.requestId = options.requestId;
  if (signal != null) request.signal = signal;
  if (sendContinue != null) request.sendContinue = sendContinue;
  return { request, body, expectsContinue, continueSent: () => continued };
};

/**
 * Converts a Node HTTP/1.1 or HTTP/2 request into the core's `ProxyRequest`, for people who
 * embed `@osp/core` in their own server. Register a `checkContinue` listener on the server (the
 * same handler as `request`) so that Node does not answer `100 Continue` before authentication;
 * pass `response` so the core can send it afterwards. @public
 */
export const toProxyRequest = (
  req: NodeRequest,
  options: ToProxyRequestOptions = {},
): ProxyRequest => adaptRequest(req, options).request;
