// Listeners: plain HTTP/1.1 (node:http) and HTTPS with HTTP/2 and HTTP/1.1 by ALPN
// (node:http2 createSecureServer with allowHTTP1), plus the bookkeeping graceful shutdown needs:
// every socket, the HTTP/1.1 requests active on each, and the HTTP/2 sessions.
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from "node:http";
import {
  createSecureServer,
  type Http2SecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type ServerHttp2Session,
} from "node:http2";
import type { AddressInfo, Socket } from "node:net";
import { pemBuffer, type TlsMaterial } from "./config.ts";

/** A bound listener's address. @public */
export interface ListenerAddress {
  host: string;
  port: number;
  url: string;
}

/** The handler shared by `request` and `checkContinue`. */
export type RequestHandler = (
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
) => void;

/** Headers must arrive within this time (slowloris guard). */
export const HEADERS_TIMEOUT_MS = 60_000;
/** Idle keep-alive connections are closed after this; above common client pool idle times. */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** A connection with no traffic at all for this long is closed (a stalled upload or client). */
export const IDLE_SOCKET_TIMEOUT_MS = 600_000;
// HTTP/2 flow-control windows: the 64 KiB default caps one stream at a few MB/s on real links.
const HTTP2_STREAM_WINDOW_BYTES = 1024 * 1024;
const HTTP2_SESSION_WINDOW_BYTES = 16 * 1024 * 1024;

/** Tracks connections so that shutdown can close idle ones and, at the deadline, all of them. */
export class ConnectionTracker {
  // Every connection: TCP sockets of the http listener, TLS sockets of the https one.
  readonly #all = new Set<Socket>();
  // Sockets that carry HTTP/1.1 requests (TCP for http, TLS for https) → requests in progress.
  readonly #http1 = new Map<Socket, number>();
  readonly #sessions = new Set<ServerHttp2Session>();
  #draining = false;

  /** A new socket (TCP or TLS). */
  addSocket(socket: Socket): void {
    this.#all.add(socket);
    socket.once("close", () => {
      this.#all.delete(socket);
      this.#http1.delete(socket);
    });
  }

  /** A new HTTP/2 session; closed gracefully (GOAWAY) when draining starts. */
  addSession(session: ServerHttp2Session): void {
    this.#sessions.add(session);
    session.once("close", () => this.#sessions.delete(session));
    if (this.#draining) session.close();
  }

  /** An HTTP/1.1 request started on `socket`. */
  requestStarted(socket: Socket): void {
    if (!this.#all.has(socket)) this.addSocket(socket);
    this.#http1.set(socket, (this.#http1.get(socket) ?? 0) + 1);
  }

  /** An HTTP/1.1 request on `socket` is done; while draining, a now idle connection is closed. */
  requestEnded(socket: Socket): void {
    const count = Math.max(0, (this.#http1.get(socket) ?? 1) - 1);
    this.#http1.set(socket, count);
    if (this.#draining && count === 0) setImmediate(() => this.#closeIfIdle(socket));
  }

  /** Starts draining: idle HTTP/1.1 connections close now, HTTP/2 sessions get GOAWAY. */
  drain(): void {
    this.#draining = true;
    for (const session of this.#sessions) session.close();
    for (const socket of this.#all) {
      // HTTP/2 connections finish their streams after GOAWAY and close themselves.
      if ((socket as Socket & { alpnProtocol?: string | false }).alpnProtocol !== "h2")
        this.#closeIfIdle(socket);
    }
  }

  /** Destroys every connection (the drain deadline passed). */
  destroyAll(): void {
    for (const session of this.#sessions) session.destroy();
    for (const socket of this.#all) socket.destroy();
  }

  /** Open sockets (TCP and TLS counted separately). */
  get socketCount(): number {
    return this.#all.size;
  }

  #closeIfIdle(socket: Socket): void {
    if ((this.#http1.get(socket) ?? 0) === 0 && !socket.destroyed) socket.destroy();
  }
}

const applyHttp1Timeouts = (server: HttpServer | Http2SecureServer): void => {
  const settings = server as unknown as {
    requestTimeout: number;
    headersTimeout: number;
    keepAliveTimeout: number;
  };
  // 0: uploads of many GiB may legitimately take longer than Node's 300 s default.
  settings.requestTimeout = 0;
  settings.headersTimeout = HEADERS_TIMEOUT_MS;
  settings.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
};

/** A plain HTTP/1.1 listener. `checkContinue` goes to the handler so that `100` waits for authentication. */
export const createHttpListener = (
  handler: RequestHandler,
  tracker: ConnectionTracker,
): HttpServer => {
  const server = createHttpServer({ noDelay: true });
  applyHttp1Timeouts(server);
  server.setTimeout(IDLE_SOCKET_TIMEOUT_MS);
  server.on("connection", (socket: Socket) => tracker.addSocket(socket));
  server.on("request", handler);
  server.on("checkContinue", handler);
  return server;
};

/** An HTTPS listener speaking HTTP/2 and HTTP/1.1 (ALPN `h2`, `http/1.1`). */
export const createHttpsListener = (
  tls: TlsMaterial,
  handler: RequestHandler,
  tracker: ConnectionTracker,
): Http2SecureServer => {
  const server = createSecureServer({
    cert: pemBuffer(tls.cert),
    key: pemBuffer(tls.key),
    allowHTTP1: true,
    settings: { initialWindowSize: HTTP2_STREAM_WINDOW_BYTES },
  });
  applyHttp1Timeouts(server);
  server.setTimeout(IDLE_SOCKET_TIMEOUT_MS);
  // TLS sockets, not the TCP ones under them: HTTP/1.1 requests arrive on these. A connection
  // still in its handshake when the process stops is cut by the TLS handshake timeout.
  server.on("secureConnection", (socket: Socket) => tracker.addSocket(socket));
  server.on("session", (session: ServerHttp2Session) => {
    tracker.addSession(session);
    session.once("connect", () => {
      try {
        session.setLocalWindowSize(HTTP2_SESSION_WINDOW_BYTES);
      } catch {
        // The session closed before it was set up; nothing to tune.
      }
    });
  });
  // The compatibility API: the same request/response shapes as node:http.
  server.on("request", handler);
  server.on("checkContinue", handler);
  // A client that fails the TLS handshake is its own problem; keep it out of the error path.
  server.on("tlsClientError", () => {});
  return server;
};

const formatHost = (host: string): string => (host.includes(":") ? `[${host}]` : host);

/** Binds `server` and reports the address. */
export const listen = (
  server: HttpServer | Http2SecureServer,
  port: number,
  host: string,
  scheme: "http" | "https",
): Promise<ListenerAddress> =>
  new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) =>
      reject(
        new Error(`cannot listen on ${formatHost(host)}:${port} (${error.code ?? error.message})`, {
          cause: error,
        }),
      );
    server.once("error", onError);
    server.listen({ port, host }, () => {
      server.off("error", onError);
      const address = server.address() as AddressInfo;
      resolve({ host, port: address.port, url: `${scheme}://${formatHost(host)}:${address.port}` });
    });
  });

/** Stops accepting; resolves when the listener is closed (its connections may still be open). */
export const stopListening = (server: HttpServer | Http2SecureServer): Promise<void> =>
  new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
  });
