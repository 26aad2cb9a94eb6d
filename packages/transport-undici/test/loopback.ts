// Shared helpers of the loopback tests: servers on 127.0.0.1:0, always closed, bounded waits.
import { createServer as createHttpServer, type RequestListener, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { Body, UpstreamRequest } from "@osp/core";

export interface Loopback {
  readonly origin: string;
  readonly server: Server;
  /** TCP connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

export const listen = async (
  handler: RequestListener,
  tls?: { key: string; cert: string },
): Promise<Loopback> => {
  const server: Server = tls == null ? createHttpServer(handler) : createHttpsServer(tls, handler);
  const sockets = new Set<Socket>();
  let connections = 0;
  server.on(tls == null ? "connection" : "secureConnection", (socket: Socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `${tls == null ? "http" : "https"}://127.0.0.1:${port}`,
    server,
    connections: () => connections,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};

export const withTimeout = <T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
};

export const deferred = <T = void>() => {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => (resolve = done));
  return { promise, resolve };
};

export const request = (
  origin: string,
  overrides: Partial<UpstreamRequest> & { pathAndQuery: string },
): UpstreamRequest => ({
  method: "GET",
  origin,
  headers: [],
  body: null,
  verifyTls: true,
  signal: new AbortController().signal,
  ...overrides,
});

export const readAll = async (body: Body | null): Promise<Buffer> => {
  if (body == null) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
};

/** Settles a promise into its rejection reason, or an Error saying it resolved. */
export const rejectionOf = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => new Error("expected a rejection"),
    (error: unknown) => error,
  );

/** Polls `read` until its value stays unchanged for `quietMs`: the producer is blocked. */
export const waitUntilStable = async (
  read: () => number,
  quietMs = 200,
  limitMs = 10_000,
): Promise<number> => {
  let last = -1;
  let quietSince = Date.now();
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    const value = read();
    if (value !== last) {
      last = value;
      quietSince = Date.now();
    } else if (Date.now() - quietSince >= quietMs) {
      return value;
    }
  }
  throw new Error("the producer never blocked");
};
