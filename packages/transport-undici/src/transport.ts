import { OspError } from "@osp/core";
import type { Transport, UpstreamRequest, UpstreamResponse } from "@osp/core";
import { createSecureContext, rootCertificates, type SecureContext } from "node:tls";
import { Pool } from "undici";
import type { Dispatcher } from "undici";
import { Exchange } from "./exchange.ts";
import { toUndiciRequestHeaders } from "./headers.ts";
import { CallerAbortError, safeOrigin, toOspError } from "./map-error.ts";
import { RequestBodySource } from "./request-body.ts";

/** Options of `createUndiciTransport`. Every duration is in milliseconds. @public */
export interface UndiciTransportOptions {
  /** TCP + TLS connect timeout. Default 10 000 ms. */
  connectTimeoutMs?: number;
  /** Time allowed for the backend to send the response head after the request was sent; 0 disables. Default 60 000 ms. */
  headersTimeoutMs?: number;
  /** Longest silence between two response body reads (not counted while the consumer is slow); 0 disables. Default 60 000 ms. */
  bodyTimeoutMs?: number;
  /** How long an idle pooled connection is kept (a backend's `Keep-Alive: timeout` hint wins when shorter). Default 4 000 ms. */
  keepAliveTimeoutMs?: number;
  /** Maximum concurrent connections per backend origin; further requests queue. Default unlimited. */
  connectionsPerOrigin?: number;
  /** Extra trusted CA certificate(s), PEM, for backends with a private CA; added to Node's bundled public roots. */
  ca?: string | Uint8Array | ReadonlyArray<string | Uint8Array>;
  /** Negotiate HTTP/2 with TLS backends via ALPN. Default false (HTTP/1.1 only). */
  allowH2?: boolean;
  /** Response bytes buffered before the backend connection is paused for a slow consumer. Default 131 072 (128 KiB). */
  highWaterMarkBytes?: number;
}

/** A `Transport` whose `close()` is always present. @public */
export interface UndiciTransport extends Transport {
  /** Closes every pooled connection after in-flight exchanges finish; later sends reject with `ServiceUnavailable`. */
  close(): Promise<void>;
}

const DEFAULTS = {
  connectTimeoutMs: 10_000,
  headersTimeoutMs: 60_000,
  // Equal to the headers timeout: undici then re-arms one timer per connection, where two values
  // cost a new timer per response that lingers in its timer list for up to a second and so
  // reaches the old generation (measured: a third of what a small GET left for the old-space
  // collector). 60 s is also the read timeout of aws-cli and boto3, and nginx's proxy_read_timeout:
  // the client has given up by then anyway.
  bodyTimeoutMs: 60_000,
  keepAliveTimeoutMs: 4_000,
  highWaterMarkBytes: 128 * 1024,
} as const;

/** The lowest value each timeout option accepts: 0 where 0 disables that timeout. @public */
export const UNDICI_TIMEOUT_MINIMUMS_MS = {
  connectTimeoutMs: 1,
  headersTimeoutMs: 0,
  bodyTimeoutMs: 0,
  keepAliveTimeoutMs: 1,
} as const;

/** The timeout options of {@link UndiciTransportOptions}. @public */
export type UndiciTimeoutOption = keyof typeof UNDICI_TIMEOUT_MINIMUMS_MS;

const checkDuration = (name: UndiciTimeoutOption, value: number | undefined): number => {
  if (value == null) return DEFAULTS[name];
  const minimum = UNDICI_TIMEOUT_MINIMUMS_MS[name];
  if (!Number.isFinite(value) || value < minimum) {
    throw new TypeError(
      `expected options.${name} to be a finite number >= ${minimum}, got ${String(value)}`,
    );
  }
  return value;
};

const checkPositiveInteger = (name: string, value: number | undefined): number | undefined => {
  if (value == null) return undefined;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new TypeError(`expected options.${name} to be a positive integer, got ${String(value)}`);
  }
  return value;
};

/**
 * One TLS context for every connection when extra CAs are given: Node's bundled roots plus
 * them. Passing `ca` straight to each `tls.connect` would rebuild a certificate store per
 * connection and, worse, replace the public roots instead of adding to them.
 */
const toSecureContext = (ca: UndiciTransportOptions["ca"]): SecureContext | undefined => {
  if (ca == null) return undefined;
  const extra = typeof ca === "string" || ca instanceof Uint8Array ? [ca] : [...ca];
  if (extra.length === 0) return undefined;
  const pem = extra.map((entry) =>
    typeof entry === "string"
      ? entry
      : Buffer.from(entry.buffer, entry.byteOffset, entry.byteLength).toString("latin1"),
  );
  if (!pem.every((text) => text.includes("-----BEGIN CERTIFICATE-----"))) {
    // Node silently ignores text that is not PEM: a typo would quietly trust nothing extra.
    throw new TypeError(
      "expected options.ca to be PEM certificate(s) (-----BEGIN CERTIFICATE-----)",
    );
  }
  return createSecureContext({ ca: [...rootCertificates, ...pem] });
};

/**
 * Creates a `Transport` on undici: one keep-alive connection pool per (backend origin, TLS
 * verification) pair, requests sent with the low-level `dispatch` API, bodies streamed both ways
 * with backpressure, failures mapped to `OspError` (see the package README for the table).
 * @public
 */
export const createUndiciTransport = (options: UndiciTransportOptions = {}): UndiciTransport => {
  const connectTimeoutMs = checkDuration("connectTimeoutMs", options.connectTimeoutMs);
  const headersTimeoutMs = checkDuration("headersTimeoutMs", options.headersTimeoutMs);
  const bodyTimeoutMs = checkDuration("bodyTimeoutMs", options.bodyTimeoutMs);
  const keepAliveTimeoutMs = checkDuration("keepAliveTimeoutMs", options.keepAliveTimeoutMs);
  const connections = checkPositiveInteger("connectionsPerOrigin", options.connectionsPerOrigin);
  const highWaterMarkBytes =
    checkPositiveInteger("highWaterMarkBytes", options.highWaterMarkBytes) ??
    DEFAULTS.highWaterMarkBytes;
  const secureContext = toSecureContext(options.ca);
  const allowH2 = options.allowH2 === true;

  // Keyed by origin with a verification prefix: an origin reached both ways gets two pools, so a
  // connection opened without verification is never reused for a request that demands it.
  const pools = new Map<string, Pool>();
  let closed = false;

  const poolFor = (origin: string, verifyTls: boolean): Pool => {
    const key = verifyTls ? `v ${origin}` : `n ${origin}`;
    let pool = pools.get(key);
    if (pool == null) {
      pool = new Pool(origin, {
        connections: connections ?? null,
        pipelining: 1,
        allowH2,
        headersTimeout: headersTimeoutMs,
        bodyTimeout: bodyTimeoutMs,
        keepAliveTimeout: keepAliveTimeoutMs,
        keepAliveMaxTimeout: keepAliveTimeoutMs,
        strictContentLength: true,
        connect: {
          timeout: connectTimeoutMs,
          rejectUnauthorized: verifyTls,
          ...(secureContext == null ? {} : { secureContext }),
        },
      });
      pools.set(key, pool);
    }
    return pool;
  };

  const send = (request: UpstreamRequest): Promise<UpstreamResponse> => {
    if (closed) {
      return Promise.reject(
        new OspError("ServiceUnavailable", {
          source: "upstream",
          message: "The transport is closed",
        }),
      );
    }
    if (request.signal.aborted) {
      return Promise.reject(
        toOspError(new CallerAbortError(request.signal.reason), request.origin, "before-response"),
      );
    }
    let pool: Pool;
    try {
      pool = poolFor(request.origin, request.verifyTls !== false);
    } catch (error) {
      return Promise.reject(
        new OspError("InternalError", {
          source: "proxy",
          message: `Invalid backend origin ${JSON.stringify(safeOrigin(request.origin))}`,
          cause: error,
        }),
      );
    }
    let flat: string[];
    let requestBody: RequestBodySource | null;
    try {
      const outgoing = toUndiciRequestHeaders(
        request.headers,
        request.bodyLengthBytes,
        request.body != null,
      );
      flat = outgoing.flat;
      if (outgoing.contentLengthBytes != null)
        flat.push("content-length", String(outgoing.contentLengthBytes));
      requestBody = request.body == null ? null : new RequestBodySource(request.body);
    } catch (error) {
      return Promise.reject(
        new OspError("InternalError", {
          source: "proxy",
          message: "Malformed upstream request",
          cause: error,
        }),
      );
    }
    return new Promise<UpstreamResponse>((resolve, reject) => {
      const exchange = new Exchange(request, requestBody, highWaterMarkBytes, resolve, reject);
      const dispatchOptions: Dispatcher.DispatchOptions = {
        path: request.pathAndQuery,
        method: request.method as Dispatcher.HttpMethod,
        headers: flat,
        body: requestBody as unknown as Dispatcher.DispatchOptions["body"],
      };
      // dispatch() reports even synchronous validation failures through onResponseError.
      pool.dispatch(dispatchOptions, exchange);
    });
  };

  const close = async (): Promise<void> => {
    closed = true;
    const all = [...pools.values()];
    pools.clear();
    await Promise.all(all.map((pool) => pool.close()));
  };

  return { send, close };
};
